"""Delimited text files written by people (CSV exports from Excel, WPS, Jira): decoding and splitting.

Shared by timesheet import and WBS import so both accept the same files:
UTF-8 with or without a byte-order mark, else GB18030 (a superset of GBK, what
Chinese Excel writes), with the delimiter guessed from the first non-empty line.
"""

from __future__ import annotations

import csv
import io

ENCODINGS = ("utf-8-sig", "gb18030")
DELIMITERS = (",", ";", "\t")


def csv_records(data: bytes) -> list[list[str]]:
    """All records of a delimited file; ValueError when the bytes are not text in a known encoding."""
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValueError("not UTF-8 or GB18030 (GBK) text")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(DELIMITERS, key=first_line.count)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
