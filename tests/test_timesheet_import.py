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
