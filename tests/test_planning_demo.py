"""The planning API on the demo company's real plan: roll-up, baseline, slip impact, levelling, MS Project export."""

from __future__ import annotations

import io
import os
from datetime import date

import pytest

from models.planning.baselines import take_baseline, variance
from models.planning.calendar import WorkCalendar
from models.planning.cpm import schedule
from models.planning.impact import replan_options, slip_impact
from models.planning.levelling import level_plan
from models.planning.mspdi import read_mspdi, write_mspdi
from models.planning.warehouse_plan import load_plans
from models.planning.wbs import rollup
from pipelines.cli import run_sync
from tests.conftest import REPO_ROOT
from warehouse.db import open_reader
from warehouse.settings import load_settings

pytestmark = pytest.mark.slow
STATUS = date(2026, 6, 15)


@pytest.fixture(scope="module")
def erp(tmp_path_factory):
    home = tmp_path_factory.mktemp("planning-demo")
    (home / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text())
    config = home / "lodestar.toml"
    config.write_text('[warehouse]\npath = "w/warehouse.duckdb"\n\n'
                      '[[sources]]\nkind = "demo"\nname = "demo"\nseed = 7\nas_of = "2026-06-15"\n')
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        assert run_sync(load_settings(config), None, full=False, out=io.StringIO()) == 0
    finally:
        os.environ.pop("DAGSTER_HOME", None)
    calendar = WorkCalendar.from_settings(load_settings(config))
    with open_reader(load_settings(config)) as con:
        plans = load_plans(con, STATUS, calendar.workdays_between)
    return plans["ERP"], calendar, load_settings(config)


def test_saving_a_named_baseline_of_the_demo_plan(erp):
    from models.planning.baseline_store import save_project_baseline
    from warehouse.db import edit_rows

    plan, _calendar, settings = erp
    baseline_id, count = save_project_baseline(settings, "ERP", "Kick-off 基线", "pm@acme.cn", STATUS)
    assert count == len(plan.tasks)
    rows = [r for r in edit_rows(settings, "baseline_tasks") if r["baseline_id"] == baseline_id]
    assert len(rows) == count and all(r["planned_finish"] for r in rows)
    audit = [r for r in edit_rows(settings, "audit_log") if r["row_key"] == baseline_id]
    assert len(audit) == 1 and audit[0]["actor"] == "pm@acme.cn"


def test_wbs_rollup_and_baseline_variance_on_the_erp_plan(erp):
    plan, calendar, _settings = erp
    rolled = rollup(plan, hourly_rate=450)
    assert rolled.height == len(plan.tasks)
    roots = rolled.filter(rolled["depth"] == 0)
    assert roots["leaves"].sum() == rolled.filter(rolled["is_leaf"]).height
    assert all(0.0 <= p <= 1.0 for p in rolled["progress_count"].drop_nulls())
    baseline = take_baseline(plan, "kick-off")
    assert set(variance(plan, baseline, calendar)["status"].drop_nulls()) <= {"ahead", "on time", "late"}


def test_slip_of_a_critical_task_moves_the_end_and_options_recover_some(erp):
    plan, calendar, _settings = erp
    frame = schedule(plan, calendar).frame
    # The unfinished task that finishes last drives the project end.
    open_rows = [r for r in frame.iter_rows(named=True) if plan.task(r["task_id"]).actual_finish is None]
    last = max(open_rows, key=lambda r: (r["early_finish"], r["task_id"]))
    critical = [last["task_id"]]
    impact = slip_impact(plan, calendar, critical[0], 5)
    assert impact.project_delay_days > 0
    options = replan_options(plan, calendar, critical[0], 5)
    assert options and min(o.delay_days for o in options) <= impact.project_delay_days


def test_levelling_the_erp_plan_leaves_nobody_over_allocated(erp):
    plan, _calendar, _settings = erp
    levelled = level_plan(plan, _calendar, time_limit_seconds=10, method="sgs")
    assert levelled.project_end >= levelled.unlevelled_end
    by_person: dict[tuple[str, int], int] = {}
    for task in levelled.tasks.values():
        if task.status == "done":
            continue
        for person in task.resource_ids:
            for day in range(task.start, task.finish):
                by_person[(person, day)] = by_person.get((person, day), 0) + 1
    assert max(by_person.values(), default=0) <= 1


def test_erp_plan_round_trips_through_ms_project_xml(erp):
    plan, _calendar, _settings = erp
    buffer = io.BytesIO()
    write_mspdi(plan, buffer, project_name="ERP")
    again = read_mspdi(buffer.getvalue()).plan
    assert len([t for t in again.tasks]) == len(plan.tasks)
    assert sorted((l.type, l.lag_days) for l in again.links) == sorted((l.type, l.lag_days) for l in plan.links)
