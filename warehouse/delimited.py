"""Delimited text files written by people (CSV exports from Excel, WPS, Jira): decoding and splitting.

Shared by timesheet import and WBS import so both accept the same files:
UTF-8 with or without a byte-order mark, else GB18030 (a superset of GBK, what
Chinese Excel writes), with the delimiter guessed from the first non-empty line.

Records are read one at a time (`iter_csv_records`), so a large file costs
its bytes plus one record, not a decoded copy of the whole text and a list of
every record on top of it; the encoding is settled by a decoding pass over
the bytes in chunks first, so a file that is not text fails before any
record is handed out.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

ENCODINGS = ("utf-8-sig", "gb18030")
DELIMITERS = (",", ";", "\t")
_CHUNK = 1 << 20


def text_encoding(data: bytes) -> str:
    """The first of ENCODINGS that decodes all of `data`; ValueError when none does."""
    view = memoryview(data)
    for encoding in ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for start in range(0, len(view), _CHUNK):
                decoder.decode(view[start:start + _CHUNK])
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise ValueError("not UTF-8 or GB18030 (GBK) text")


def iter_csv_records(data: bytes) -> Iterator[list[str]]:
    """The records of a delimited file, one at a time; ValueError (at once) when the bytes are not text.

    csv.Error (a field over csv.field_size_limit, say) is raised while iterating.
    """
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=text_encoding(data), newline="")
    first_line = next((line for line in stream if line.strip()), "")
    stream.seek(0)
    return csv.reader(stream, delimiter=max(DELIMITERS, key=first_line.count))


def csv_records(data: bytes) -> list[list[str]]:
    """All records of a delimited file; ValueError when the bytes are not text in a known encoding."""
    try:
        return list(iter_csv_records(data))
    except csv.Error as error:
        raise ValueError(f"not a delimited text file ({error})") from None
