"""The whole demo pipeline into a temporary warehouse: contract, idempotency, publishing, CLI."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.cli import run_sync
from tests.test_schema_doc import CONTRACT
from warehouse.db import open_reader, read_frame
from warehouse.settings import load_settings

pytestmark = pytest.mark.slow

COUNTED_TABLES = [
    "tasks", "task_links", "status_changes", "comments", "worklogs", "commits", "pull_requests", "sprints",
    "projects", "people", "identities", "sync_state", "raw_payloads", "mart_project_kpis", "mart_project_daily",
]


def _counts(settings) -> dict[str, int]:
    with open_reader(settings) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in COUNTED_TABLES}


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    """Two syncs of the demo company; yields settings and the row counts after each."""
    home = tmp_path_factory.mktemp("lodestar")
    (home / "dagster.yaml").write_text((Path(__file__).resolve().parents[1] / "dagster.yaml").read_text())
    config = home / "lodestar.toml"
    config.write_text(
        '[warehouse]\npath = "w/warehouse.duckdb"\n\n'
        '[[sources]]\nkind = "demo"\nname = "demo"\nseed = 7\nas_of = "2026-06-15"\n\n'
        '[[projects]]\nkey = "ERP"\nbudget = 2400000\nhourly_rate = 260\n'
    )
    previous_home = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        settings = load_settings(config)
        first_out, second_out = io.StringIO(), io.StringIO()
        assert run_sync(settings, None, full=False, out=first_out) == 0, first_out.getvalue()
        first = _counts(settings)
        assert run_sync(settings, None, full=False, out=second_out) == 0, second_out.getvalue()
        second = _counts(settings)
    finally:
        if previous_home is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous_home
    yield {"settings": settings, "config": config, "home": home, "first": first, "second": second,
           "first_out": first_out.getvalue(), "second_out": second_out.getvalue()}


def test_table_contract_after_a_real_run(synced):
    with open_reader(synced["settings"]) as con:
        for table, columns in CONTRACT.items():
            present = {r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]).fetchall()}
            assert set(columns) <= present, table


def test_demo_company_is_big_and_linked(synced):
    counts = synced["first"]
    assert counts["tasks"] >= 1500
    assert counts["projects"] >= 4
    assert counts["people"] >= 25
    for table in ("task_links", "status_changes", "worklogs", "commits", "pull_requests", "sprints", "comments"):
        assert counts[table] > 0, table
    frame = read_frame(synced["settings"], """
        SELECT
          (SELECT count(*) FROM tasks WHERE parent_task_id IS NOT NULL) AS with_parent,
          (SELECT count(*) FROM commits WHERE len(task_ids) > 0) AS commits_linked,
          (SELECT count(*) FROM worklogs w WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p.person_id = w.person_id)) AS orphans,
          (SELECT count(DISTINCT origin) FROM worklogs) AS origins,
          (SELECT count(*) FROM tasks WHERE status_category NOT IN ('todo', 'in_progress', 'done')) AS bad_status
    """)
    row = frame.row(0, named=True)
    assert row["with_parent"] > 1000
    assert row["commits_linked"] > 0
    assert row["orphans"] == 0
    assert row["origins"] >= 2
    assert row["bad_status"] == 0


def test_second_sync_changes_no_row_count_and_reports_nothing_new(synced):
    assert synced["first"] == synced["second"]
    demo_line = next(line for line in synced["second_out"].splitlines() if line.startswith("demo"))
    _, fetched, inserted, updated, deleted, _seconds = demo_line.split()
    assert (inserted, updated, deleted) == ("0", "0", "0"), synced["second_out"]


def test_marts_match_the_canonical_tables(synced):
    frame = read_frame(synced["settings"], """
        SELECT k.project_key, k.tasks_total,
               (SELECT count(*) FROM tasks t WHERE t.project_key = k.project_key AND NOT t.is_deleted) AS recount,
               k.budget
        FROM mart_project_kpis k ORDER BY k.project_key""")
    assert frame["tasks_total"].to_list() == frame["recount"].to_list()
    assert frame.filter(frame["project_key"] == "ERP")["budget"].item() == 2_400_000


def test_query_cli_reads_the_published_warehouse(synced):
    env = dict(os.environ, LODESTAR_CONFIG=str(synced["config"]))
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "query", "select count(*) as n from tasks", "--format", "csv"],
        capture_output=True, text=True, env=env, check=True,
    )
    assert result.stdout.splitlines()[0] == "n"
    assert int(result.stdout.splitlines()[1]) == synced["second"]["tasks"]
    as_json = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "query", "select project_key from projects order by 1", "--format", "json"],
        capture_output=True, text=True, env=env, check=True,
    )
    assert [r["project_key"] for r in json.loads(as_json.stdout)] == sorted(
        r["project_key"] for r in json.loads(as_json.stdout))


def test_query_cli_refuses_writes(synced):
    env = dict(os.environ, LODESTAR_CONFIG=str(synced["config"]))
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "query", "delete from tasks"],
        capture_output=True, text=True, env=env,
    )
    assert result.returncode != 0
    assert "DELETE statements are not allowed, only queries" in result.stderr  # warehouse/sandbox.py
    assert "Traceback" not in result.stderr


def test_planning_outputs_for_every_demo_project(synced):
    settings = synced["settings"]
    forecasts = read_frame(settings, "SELECT * FROM project_forecasts ORDER BY project_key")
    assert forecasts["project_key"].to_list() == read_frame(
        settings, "SELECT project_key FROM projects ORDER BY 1")["project_key"].to_list()
    for row in forecasts.iter_rows(named=True):
        assert row["finish_p50"] <= row["finish_p85"] <= row["finish_p95"]
        assert 0.0 <= row["probability_on_time"] <= 1.0
        assert row["critical_tasks"] > 0
    schedule = read_frame(settings, """
        SELECT count(*) AS n, count(*) FILTER (WHERE is_critical) AS critical,
               count(*) FILTER (WHERE total_float_days < -1e-9 AND NOT is_critical) AS inconsistent
        FROM plan_schedule""").row(0, named=True)
    assert schedule["n"] > 1000 and schedule["critical"] > 0
    assert schedule["inconsistent"] == 0
    value = read_frame(settings, "SELECT * FROM earned_value")
    assert value.height == forecasts.height
    for row in value.iter_rows(named=True):
        assert abs(row["sv"] - (row["ev"] - row["pv"])) < 1e-6
        assert abs(row["cv"] - (row["ev"] - row["ac"])) < 1e-6


def test_open_tasks_are_scored_with_a_registered_model(synced):
    settings = synced["settings"]
    row = read_frame(settings, """
        SELECT (SELECT count(*) FROM tasks WHERE NOT is_deleted AND status_category <> 'done'
                  AND coalesce(type_category, '') <> 'epic') AS open_tasks,
               count(*) AS scored,
               count(*) FILTER (WHERE duration_p90_days >= duration_p50_days) AS ordered,
               count(*) FILTER (WHERE delay_probability BETWEEN 0 AND 1) AS with_probability,
               count(*) FILTER (WHERE len(top_factors) > 0) AS explained,
               min(model_version) AS version
        FROM task_predictions""").row(0, named=True)
    assert row["scored"] == row["open_tasks"] > 0
    assert row["ordered"] == row["scored"]
    assert row["with_probability"] > 0 and row["explained"] > 0
    assert row["version"].startswith("duration:")
    registry = settings.warehouse.path.parent / "models"
    assert (registry / "duration").is_dir() and (registry / "delay").is_dir()
