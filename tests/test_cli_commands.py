"""import-timesheet, people and rebuild, run as a user runs them, on the demo company.

Every command runs outside the repository with $DAGSTER_HOME unset and HOME in a
temporary folder, so Lodestar's own Dagster instance under ~/.lodestar/dagster is used.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from warehouse.db import read_frame
from warehouse.settings import load_settings

pytestmark = pytest.mark.slow


def _lodestar(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(HOME=str(home / "user"), PYTHONPATH=str(REPO_ROOT))
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True,
                          env=env, cwd=home)


@pytest.fixture(scope="module")
def first_sync(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    home = tmp_path_factory.mktemp("cli")
    (home / "user").mkdir()
    (home / "lodestar.toml").write_text(
        '[warehouse]\npath = "w/warehouse.duckdb"\n\n'
        '[[sources]]\nkind = "demo"\nname = "demo"\nseed = 5\nas_of = "2026-04-20"\n\n'
        '[[sources]]\nkind = "timesheet"\nname = "sheets"\n'
    )
    result = _lodestar("sync", home=home)
    assert result.returncode == 0, result.stderr
    return home, result


@pytest.fixture(scope="module")
def demo_home(first_sync) -> Path:
    return first_sync[0]


def test_sync_outside_the_repository_uses_its_own_quiet_instance(first_sync):
    home, result = first_sync
    instance = home / "user" / ".lodestar" / "dagster"
    config = (instance / "dagster.yaml").read_text()
    assert "telemetry:\n  enabled: false" in config and "nux:\n  enabled: false" in config
    assert (instance / "storage").is_dir() and not (home / ".dagster").exists()
    assert not (home / "user" / ".dagster").exists()
    for output in (result.stdout, result.stderr):
        assert "Telemetry" not in output and "Welcome to Dagster" not in output
        assert "No dagster instance configuration file" not in output
    assert result.stdout.splitlines()[0].split() == ["source", "fetched", "inserted", "updated", "deleted", "seconds"]

    help_text = _lodestar("--help", home=home).stdout
    assert str(instance) in "".join(help_text.split()), help_text


def test_timesheet_with_bad_rows_imports_nothing_until_fixed(demo_home):
    sheet = demo_home / "bad.csv"
    sheet.write_text("姓名,日期,工时,任务,备注\n张伟,2026-04-01,3,ERP-1,开发\n李娜,2026/04/02,abc,,\n,2026-04-03,2,,会议\n",
                     encoding="utf-8")
    result = _lodestar("import-timesheet", str(sheet), home=demo_home)
    assert result.returncode == 1
    assert "row 3" in result.stderr and "工时" in result.stderr
    assert "row 4" in result.stderr and "person" in result.stderr
    assert "Traceback" not in result.stderr
    settings = load_settings(demo_home / "lodestar.toml")
    assert read_frame(settings, "SELECT count(*) AS n FROM worklogs WHERE source = 'sheets'")["n"][0] == 0

    skipped = _lodestar("import-timesheet", str(sheet), "--skip-bad-rows", home=demo_home)
    assert skipped.returncode == 0, skipped.stderr
    assert "2 bad row(s) skipped" in skipped.stdout
    rows = read_frame(settings, "SELECT person_id, hours, task_id FROM worklogs WHERE source = 'sheets'")
    assert rows.rows() == [("zhangwei@acme.cn", 3.0, "demo:ERP-1")]

    again = _lodestar("import-timesheet", str(sheet), "--skip-bad-rows", home=demo_home)
    assert "already imported" in again.stdout
    assert read_frame(settings, "SELECT count(*) AS n FROM worklogs WHERE source = 'sheets'")["n"][0] == 1


def test_excel_timesheet_with_chinese_headers(demo_home):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "日期", "工时", "任务", "备注"])
    sheet.append(["王芳", "2026-04-08", 6.5, "OPS-2", "值班"])
    sheet.append(["王芳", "2026-04-09", 2, None, "周会"])
    path = demo_home / "april.xlsx"
    book.save(path)
    result = _lodestar("import-timesheet", str(path), home=demo_home)
    assert result.returncode == 0, result.stderr
    settings = load_settings(demo_home / "lodestar.toml")
    frame = read_frame(settings, "SELECT hours, task_id FROM worklogs WHERE source = 'sheets' AND "
                                 "person_id = 'wangfang@acme.cn' ORDER BY started_at")
    assert frame.rows() == [(6.5, "demo:OPS-2"), (2.0, None)]


def test_rebuild_rederives_the_same_tables_without_fetching(demo_home):
    settings = load_settings(demo_home / "lodestar.toml")
    tables = ["tasks", "task_links", "status_changes", "comments", "worklogs", "commits", "pull_requests", "people"]
    before = {t: read_frame(settings, f"SELECT * FROM {t} ORDER BY ALL").rows() for t in tables}
    result = _lodestar("rebuild", "--source", "demo", home=demo_home)
    assert result.returncode == 0, result.stderr
    demo_line = next(line for line in result.stdout.splitlines() if line.startswith("demo"))
    assert demo_line.split()[1] == "-"
    assert {t: read_frame(settings, f"SELECT * FROM {t} ORDER BY ALL").rows() for t in tables} == before


def test_people_unmatched_lists_accounts_nobody_could_match(demo_home):
    sheet = demo_home / "stranger.csv"
    sheet.write_text("姓名,日期,工时\n神秘人,2026-04-01,1\n", encoding="utf-8")
    assert _lodestar("import-timesheet", str(sheet), home=demo_home).returncode == 0
    result = _lodestar("people", "--unmatched", "--format", "csv", home=demo_home)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("identity_id,")
    assert [line.split(",")[0] for line in lines[1:]] == ["sheets:神秘人"]


def test_quarantine_list_of_a_clean_sync_is_empty_and_says_so(demo_home):
    result = _lodestar("quarantine", "list", home=demo_home)
    assert result.returncode == 0, result.stderr
    assert "0 record(s) quarantined, 0 value(s) nulled or repaired" in result.stderr
    csv = _lodestar("quarantine", "list", "--source", "demo", "--format", "csv", home=demo_home)
    assert csv.stdout.splitlines() == [
        "source,kind,stage,item_kind,item_key,field,row_id,reason,first_seen_at,last_seen_at"]
    unknown = _lodestar("quarantine", "list", "--source", "nope", home=demo_home)
    assert unknown.returncode == 2 and "nope" in unknown.stderr and "Traceback" not in unknown.stderr
