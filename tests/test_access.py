"""The access layer (warehouse/access.py): what each role reads, through every read path that exists so far.

Paths checked here: `open_scoped` (what pages and exports read), `run_query` (the SQL page) and
`lodestar query --as` (the CLI), including live rows of the edits store. A real published demo
snapshot is used, with a few tasks marked sensitive the way the [sensitivity] transform marks them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from tests.dashboard_app import copy_published
from warehouse.access import OPERATOR, AccessDenied, Principal, open_scoped, resolve
from warehouse.db import EditChange, save_edits
from warehouse.sandbox import run_query
from warehouse.settings import load_settings

RULES = """
[auth]
contact = "pmo-office@acme.example"

[[access]]
who = "member@acme.example"
role = "member"
projects = ["ERP", "DP"]

[[access]]
who = "manager@acme.example"
role = "manager"
projects = ["ERP"]

[[access]]
who = "viewer@acme.example"
role = "viewer"
projects = ["OPS"]

[[access]]
who = "group:pmo"
role = "pmo"
"""
TASK_TABLES = {"comments": "task_id", "worklogs": "task_id", "status_changes": "task_id",
               "task_predictions": "task_id", "plan_schedule": "task_id"}


@pytest.fixture(scope="module")
def access_config(demo_company_config: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = copy_published(demo_company_config, tmp_path_factory.mktemp("access"))
    config.write_text(config.read_text(encoding="utf-8") + RULES, encoding="utf-8")
    settings = load_settings(config)
    con = duckdb.connect(str(settings.warehouse.published_path))
    # Two sensitive ERP tasks with comments and worklogs, one DP task: as the sensitivity transform marks them.
    con.execute("""UPDATE tasks SET is_sensitive = true WHERE task_id IN (
        (SELECT min(task_id) FROM tasks WHERE project_key = 'ERP' AND task_id IN (SELECT task_id FROM worklogs)),
        (SELECT max(task_id) FROM tasks WHERE project_key = 'ERP' AND task_id IN (SELECT task_id FROM comments)),
        (SELECT min(task_id) FROM tasks WHERE project_key = 'DP'))""")
    con.execute("UPDATE projects SET budget = 3900000, hourly_rate = 450 WHERE project_key IN ('ERP', 'DP')")
    con.execute("UPDATE people SET hourly_rate = 500")
    con.close()
    return config


def _sensitive(settings) -> set[str]:
    with open_scoped(settings, resolve(settings, OPERATOR)) as con:
        return {row[0] for row in con.execute("SELECT task_id FROM tasks WHERE is_sensitive").fetchall()}


def test_member_never_reads_a_sensitive_task_or_another_project(access_config):
    settings = load_settings(access_config)
    hidden = _sensitive(settings)
    assert len(hidden) >= 3 and any(":DP-" in t for t in hidden) and any(":ERP-" in t for t in hidden)
    member = resolve(settings, Principal("Member@acme.example"))
    with open_scoped(settings, member, live_edits=True) as con:
        projects = {r[0] for r in con.execute("SELECT DISTINCT project_key FROM tasks").fetchall()}
        assert projects == {"ERP", "DP"}
        visible = {r[0] for r in con.execute("SELECT task_id FROM tasks").fetchall()}
        assert not visible & hidden
        for table, column in TASK_TABLES.items():
            ids = {r[0] for r in con.execute(f"SELECT DISTINCT {column} FROM {table}").fetchall()}
            assert ids - {None} <= visible, table
        links = con.execute("SELECT from_task_id, to_task_id FROM task_links").fetchall()
        assert all(a in visible and b in visible for a, b in links)
        for table in ("commits", "pull_requests"):
            named = {t for r in con.execute(f"SELECT task_ids FROM {table}").fetchall() for t in (r[0] or [])}
            assert not named & hidden, table
        # Aggregates are over what the member sees: the rebuilt mart counts only visible tasks.
        marts = dict(con.execute("SELECT project_key, tasks_total FROM mart_project_kpis").fetchall())
        counted = dict(con.execute("SELECT project_key, count(*) FROM tasks WHERE NOT is_deleted GROUP BY 1").fetchall())
        assert marts == counted
        assert con.execute("SELECT count(*) FROM mart_project_kpis WHERE budget IS NOT NULL "
                           "OR cost_to_date IS NOT NULL").fetchall()[0][0] == 0
        assert con.execute("SELECT count(*) FROM people WHERE hourly_rate IS NOT NULL").fetchall()[0][0] == 0
        assert con.execute("SELECT count(*) FROM raw_payloads").fetchall()[0][0] == 0


def test_manager_reads_the_sensitive_tasks_of_the_project_they_manage_and_its_costs(access_config):
    settings = load_settings(access_config)
    hidden = _sensitive(settings)
    manager = resolve(settings, Principal("manager@acme.example"))
    with open_scoped(settings, manager) as con:
        visible = {r[0] for r in con.execute("SELECT task_id FROM tasks").fetchall()}
        assert {t for t in hidden if ":ERP-" in t} <= visible and not {t for t in hidden if ":DP-" in t} & visible
        assert con.execute("SELECT budget FROM mart_project_kpis WHERE project_key = 'ERP'").fetchall()[0][0]
    pmo = resolve(settings, Principal("someone@acme.example", ("pmo",)))
    assert pmo.sees_everything
    with open_scoped(settings, pmo) as con:
        assert hidden <= {r[0] for r in con.execute("SELECT task_id FROM tasks").fetchall()}


def test_live_edits_of_hidden_tasks_stay_hidden(access_config):
    settings = load_settings(access_config)
    hidden = sorted(t for t in _sensitive(settings) if ":ERP-" in t)
    save_edits(settings, [EditChange("risks", {
        "risk_id": "r-secret", "project_key": "ERP", "title": "vendor may walk away", "probability": 3, "impact": 4,
        "score": 12, "status": "open", "linked_task_ids": json.dumps([hidden[0]])})], "manager@acme.example")
    member = resolve(settings, Principal("member@acme.example"))
    with open_scoped(settings, member, live_edits=True) as con:
        assert con.execute("SELECT count(*) FROM risks WHERE risk_id = 'r-secret'").fetchall()[0][0] == 0
    manager = resolve(settings, Principal("manager@acme.example"))
    with open_scoped(settings, manager, live_edits=True) as con:
        assert con.execute("SELECT count(*) FROM risks WHERE risk_id = 'r-secret'").fetchall()[0][0] == 1


def test_sql_page_and_cli_agree_with_the_access_layer(access_config, capsys):
    settings = load_settings(access_config)
    member = resolve(settings, Principal("member@acme.example"))
    sql = "SELECT task_id FROM tasks ORDER BY task_id"
    page_rows = run_query(settings, sql, scope=member).frame["task_id"].to_list()
    with open_scoped(settings, member) as con:
        assert page_rows == [r[0] for r in con.execute(sql).fetchall()]
    assert main(["query", sql, "--config", str(access_config), "--as", "member@acme.example", "--format", "csv"]) == 0
    printed = capsys.readouterr().out.split()
    assert printed[1:] == page_rows
    # Naming the full file's catalog does not get around the scope: the scoped file holds no hidden row.
    hidden = sorted(_sensitive(settings))
    attached = run_query(settings, "SELECT path FROM duckdb_databases() WHERE path IS NOT NULL",
                         scope=member).frame["path"].to_list()
    assert attached and str(settings.warehouse.published_path) not in attached
    assert not set(hidden) & set(page_rows)


def test_viewer_and_stranger_are_refused_with_whom_to_ask(access_config, capsys):
    settings = load_settings(access_config)
    viewer = resolve(settings, Principal("viewer@acme.example"))
    with pytest.raises(AccessDenied, match=r"viewer@acme.example \(viewer\) may not run SQL queries.*pmo-office"):
        run_query(settings, "SELECT 1", scope=viewer)
    assert main(["query", "SELECT 1", "--config", str(access_config), "--as", "viewer@acme.example"]) == 1
    assert "may not run SQL queries" in capsys.readouterr().err
    with open_scoped(settings, viewer) as con:
        assert {r[0] for r in con.execute("SELECT DISTINCT project_key FROM tasks").fetchall()} == {"OPS"}
    stranger = resolve(settings, Principal("stranger@acme.example"))
    with pytest.raises(AccessDenied, match="no access to any project; ask pmo-office@acme.example"):
        with open_scoped(settings, stranger):
            pass


def test_access_check_prints_the_role_per_project(access_config, capsys):
    assert main(["access", "check", "manager@acme.example", "--config", str(access_config), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    roles = {line.split(",")[0]: line.split(",")[1] for line in lines[1:]}
    assert roles.pop("ERP") == "manager" and {"DP", "OPS"} <= set(roles) and set(roles.values()) == {"none"}


def test_scoped_snapshot_is_rebuilt_when_a_new_snapshot_is_published(access_config, tmp_path):
    settings = load_settings(access_config)
    member = resolve(settings, Principal("member@acme.example"))
    with open_scoped(settings, member) as con:
        before = con.execute("SELECT count(*) FROM tasks").fetchall()[0][0]
    published = settings.warehouse.published_path
    staged = tmp_path / "next.duckdb"
    shutil.copyfile(published, staged)
    con = duckdb.connect(str(staged))
    con.execute("UPDATE tasks SET is_sensitive = true WHERE task_id = (SELECT min(task_id) FROM tasks "
                "WHERE project_key = 'DP' AND NOT is_sensitive)")
    con.close()
    staged.replace(published)
    with open_scoped(settings, member) as con:
        assert con.execute("SELECT count(*) FROM tasks").fetchall()[0][0] == before - 1
