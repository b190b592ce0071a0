"""Timesheet files that could exhaust the machine are refused by size, with the limit named, before being read."""

from __future__ import annotations

import io
import struct
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from pipelines.timesheets.importer import TimesheetImportError, import_timesheet
from pipelines.timesheets.parse import TimesheetRules, parse_timesheet
from pipelines.timesheets.resources import TimesheetFolder
from tests.conftest import write_config
from warehouse.settings import load_settings

SHEET = "xl/worksheets/sheet1.xml"


def _workbook(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _declare_size(data: bytes, member: str, size: int) -> bytes:
    """The same zip with `member`'s uncompressed size rewritten in its local and central headers: a zip bomb's
    directory, without the gigabyte of inflating it would take to build a real one."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        offset = archive.getinfo(member).header_offset
    patched = bytearray(data)
    patched[offset + 22:offset + 26] = struct.pack("<I", size)
    name = member.encode()
    central = data.index(b"PK\x01\x02")
    while struct.unpack("<H", data[central + 28:central + 30])[0] != len(name) or \
            data[central + 46:central + 46 + len(name)] != name:
        central = data.index(b"PK\x01\x02", central + 4)
    patched[central + 24:central + 28] = struct.pack("<I", size)
    return bytes(patched)


def _real_bomb(sheet_bytes: int) -> bytes:
    """A workbook whose one sheet really inflates to about `sheet_bytes` of repetitive XML."""
    row = '<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>x</t></is></c></row>'
    buffer = io.BytesIO()
    base = _workbook([["Name", "Date", "Hours"]])
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            if info.filename != SHEET:
                bomb.writestr(info, source.read(info.filename))
                continue
            with bomb.open(SHEET, "w") as sheet:
                sheet.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
                n, written = 1, 0
                while written < sheet_bytes:
                    chunk = "".join(row.format(n=n + i) for i in range(1000)).encode()
                    sheet.write(chunk)
                    n, written = n + 1000, written + len(chunk)
                sheet.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


def test_an_xlsx_declaring_a_huge_sheet_is_refused_before_it_is_opened():
    data = _declare_size(_workbook([["Name", "Date", "Hours"], ["Ann", "2024-01-02", 8]]), SHEET, 900 * 2**20)
    assert len(data) < 10_000
    started = time.perf_counter()
    result = parse_timesheet(data, "bomb.xlsx", "ts")
    assert time.perf_counter() - started < 1
    (error,) = result.errors
    assert result.rows["worklogs"] == [] and error.row is None
    assert error.reason.startswith("bomb.xlsx: the workbook unzips to 900 MB, over the 200 MB limit")
    assert "max_unzipped_mb" in error.reason


def test_a_real_zip_bomb_is_refused_under_a_small_limit_and_read_when_within_it():
    data = _real_bomb(3 * 2**20)
    assert len(data) < 400_000
    (error,) = parse_timesheet(data, "bomb.xlsx", "ts", rules=TimesheetRules(max_unzipped_mb=1)).errors
    assert "over the 1 MB limit (max_unzipped_mb" in error.reason
    (opened,) = parse_timesheet(data, "bomb.xlsx", "ts", rules=TimesheetRules(max_unzipped_mb=5)).errors
    assert "missing required column" in opened.reason


def test_an_oversized_csv_is_refused_by_its_size_on_disk_with_the_configured_limit(tmp_path):
    config = write_config(tmp_path, '[warehouse]\npath = "w/warehouse.duckdb"\n'
                                    '[[sources]]\nkind = "timesheet"\nname = "sheets"\nmax_file_mb = 0.01\n')
    settings = load_settings(config)
    sheet = tmp_path / "big.csv"
    sheet.write_text("Name,Date,Hours\n" + "Ann,2024-01-02,1\n" * 1000, encoding="utf-8")
    with pytest.raises(TimesheetImportError) as error:
        import_timesheet(settings, sheet, None, skip_bad_rows=False)
    assert str(error.value) == (f"{sheet}: the file is 0.0162 MB, over the 0.01 MB limit "
                                "(max_file_mb of the timesheet source); nothing was imported")
    assert not settings.warehouse.path.exists()
    (problem,) = parse_timesheet(sheet.read_bytes(), "big.csv", "sheets", rules=TimesheetRules(max_file_mb=0.01)).errors
    assert "over the 0.01 MB limit" in problem.reason


def test_a_folder_source_refuses_an_oversized_file_naming_it(tmp_path: Path):
    (tmp_path / "small.csv").write_text("Name,Date,Hours\nAnn,2024-01-02,1\n", encoding="utf-8")
    big = tmp_path / "big.csv"
    big.write_bytes(b"Name,Date,Hours\n" + b"Ann,2024-01-02,1\n" * 1000)
    with pytest.raises(ValueError, match=rf"timesheet file {big}: the file is .* over the 0.01 MB limit"):
        TimesheetFolder(paths=[str(tmp_path)], max_file_mb=0.01).fetch(None)
    assert len(TimesheetFolder(paths=[str(tmp_path)]).fetch(None).items) == 2


def test_a_csv_that_breaks_half_way_is_one_error_and_no_rows():
    data = ("Name,Date,Hours\nAnn,2024-01-02,1\nBob,2024-01-02,\"" + "x" * 200_000 + "\"\nCy,2024-01-02,2\n").encode()
    result = parse_timesheet(data, "long.csv", "ts")
    (error,) = result.errors
    assert result.rows["worklogs"] == []
    assert error.row == 3 and "long.csv: cannot read the file at row 3" in error.reason
