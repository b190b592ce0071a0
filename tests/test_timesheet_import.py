"""`import-timesheet` against a real warehouse file: row checks gate the import, and the rows commit with their marker."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.timesheets.importer import TimesheetImportError, import_timesheet
from tests.conftest import write_config
from warehouse.settings import Settings, load_settings

CHECKED = (
    "姓名,日期,工时,任务\n"
    "张伟,2024-03-04,8,ERP-1\n"
    "张伟,2024-03-04,8,ERP-1\n"
    "李娜,2024-03-04,9,ERP-2\n"
    "李娜,2024-03-04,9,ERP-3\n"
    "王芳,2099-01-01,1,ERP-4\n"
    "王芳,2024-01-05,2,ERP-5\n"
    "王芳,2024-03-05,3,\n"
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(write_config(
        tmp_path,
        '[warehouse]\npath = "w/warehouse.duckdb"\n[[sources]]\nkind = "timesheet"\nname = "sheets"\n'
        '[[projects]]\nkey = "ERP"\nstart_date = "2024-02-01"\n',
    ))


def test_row_checks_list_every_bad_row_and_import_nothing_unless_skipped(settings, tmp_path):
    sheet = tmp_path / "march.csv"
    sheet.write_text(CHECKED, encoding="utf-8")
    with pytest.raises(TimesheetImportError) as error:
        import_timesheet(settings, sheet, None, skip_bad_rows=False)
    lines = str(error.value).splitlines()
    assert lines[0] == f"{sheet}: 5 problem(s); nothing was imported"
    assert lines[1] == "  row 3: duplicate of row 2 (same person, date, hours, task and comment)"
    assert lines[2].startswith("  row 4, column 工时: 李娜 has 18 hours on 2024-03-04, more than the 16")
    assert lines[3].startswith("  row 5, column 工时: 李娜 has 18 hours")
    assert lines[4].startswith("  row 6, column 日期: date is in the future (today is ")
    assert lines[5] == ("  row 7, column 日期: date is before project ERP starts on 2024-02-01 ([[projects]] start_date)"
                        " (value '2024-01-05')")
    assert lines[6] == "fix the rows above, or rerun with --skip-bad-rows to import the 2 good row(s)"
    assert not settings.warehouse.path.exists()

    outcome = import_timesheet(settings, sheet, None, skip_bad_rows=True)
    assert (outcome.good_rows, outcome.skipped_rows) == (2, 5)
    assert "5 bad row(s) skipped" in outcome.message


GOOD = "姓名,日期,工时,任务\n张伟,2024-03-04,8,ERP-1\n李娜,2024-03-04,6,\n王芳,2024-03-05,3,ERP-2\n"


def _counts(settings: Settings) -> tuple[int, int]:
    """(import markers, worklogs) of source `sheets`, read from the warehouse file itself."""
    import duckdb

    with duckdb.connect(str(settings.warehouse.path), read_only=True) as con:
        markers = con.execute("SELECT count(*) FROM raw_payloads WHERE source = 'sheets'").fetchall()[0][0]
        worklogs = con.execute("SELECT count(*) FROM worklogs WHERE source = 'sheets'").fetchall()[0][0]
    return markers, worklogs


def test_a_crash_inside_the_load_leaves_neither_marker_nor_rows_and_a_reimport_imports(settings, tmp_path,
                                                                                       monkeypatch):
    import pipelines.timesheets.importer as importer

    sheet = tmp_path / "march.csv"
    sheet.write_text(GOOD, encoding="utf-8")
    real_load_rows = importer.load_rows

    def load_then_crash(con, source, rows):
        report = real_load_rows(con, source, rows)
        if rows.get("worklogs"):
            assert con.execute("SELECT count(*) FROM worklogs").fetchall()[0][0] == 3  # staged in the transaction
            raise RuntimeError("killed after the rows were staged")
        return report

    monkeypatch.setattr(importer, "load_rows", load_then_crash)
    with pytest.raises(RuntimeError, match="killed"):
        import_timesheet(settings, sheet, None, skip_bad_rows=False)
    assert _counts(settings) == (0, 0)

    monkeypatch.setattr(importer, "load_rows", real_load_rows)
    outcome = import_timesheet(settings, sheet, None, skip_bad_rows=False)
    assert outcome.message == f"{sheet}: 3 row(s) imported into source 'sheets'"
    assert _counts(settings) == (1, 3)
    again = import_timesheet(settings, sheet, None, skip_bad_rows=False)
    assert (again.message, again.source_name) == (f"{sheet}: already imported (3 row(s)); nothing to do", None)
    assert _counts(settings) == (1, 3)


def test_a_kill_9_inside_the_load_leaves_neither_marker_nor_rows(settings, tmp_path):
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    sheet = tmp_path / "march.csv"
    sheet.write_text(GOOD, encoding="utf-8")
    script = f"""
import os, signal
from pathlib import Path
import pipelines.timesheets.importer as importer
from warehouse.settings import load_settings
real = importer.load_rows
def load_then_die(con, source, rows):
    real(con, source, rows)
    if rows.get("worklogs"):
        os.kill(os.getpid(), signal.SIGKILL)
importer.load_rows = load_then_die
importer.import_timesheet(load_settings({str(settings.config_path)!r}), Path({str(sheet)!r}), None, False)
"""
    killed = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True)
    assert killed.returncode == -9, killed.stderr
    assert _counts(settings) == (0, 0)
    assert import_timesheet(settings, sheet, None, skip_bad_rows=False).good_rows == 3
    assert _counts(settings) == (1, 3)


def test_a_marker_left_without_rows_by_an_older_import_is_not_taken_for_an_import(settings, tmp_path):
    import base64
    import hashlib

    from pipelines.raw_store import RawItem, store_raw
    from warehouse.db import open_writer, utc_now

    sheet = tmp_path / "march.csv"
    sheet.write_text(GOOD, encoding="utf-8")
    data = sheet.read_bytes()
    body = {"filename": sheet.name, "skip_bad_rows": False, "data_base64": base64.b64encode(data).decode()}
    key = f"{sheet.name}@{hashlib.sha256(data).hexdigest()[:16]}"
    with open_writer(settings) as con:
        store_raw(con, "sheets", [RawItem("timesheet_import", key, None, body)], utc_now())
    assert _counts(settings) == (1, 0)
    outcome = import_timesheet(settings, sheet, None, skip_bad_rows=False)
    assert outcome.source_name == "sheets" and "3 row(s) imported" in outcome.message
    assert _counts(settings) == (1, 3)


def test_the_sync_after_an_import_does_not_parse_the_file_again_unless_other_items_wait(settings, tmp_path):
    from pipelines.raw_store import RawItem, store_raw
    from pipelines.sync import parse_and_load
    from warehouse.db import open_writer, utc_now

    sheet = tmp_path / "march.csv"
    sheet.write_text(GOOD, encoding="utf-8")
    import_timesheet(settings, sheet, None, skip_bad_rows=False)
    with open_writer(settings) as con:
        assert parse_and_load(con, settings, "sheets").counts("worklogs").received == 0
        folder_file = "姓名,日期,工时\n赵磊,2024-03-06,2\n".encode()
        store_raw(con, "sheets", [RawItem("timesheet_file", "/sheets/april.csv", None, folder_file)], utc_now())
    other = tmp_path / "other.csv"
    other.write_text("姓名,日期,工时\n周杰,2024-03-07,4\n", encoding="utf-8")
    assert import_timesheet(settings, other, None, skip_bad_rows=False).good_rows == 1
    with open_writer(settings) as con:
        assert parse_and_load(con, settings, "sheets").counts("worklogs").received == 2
    assert _counts(settings) == (3, 5)
