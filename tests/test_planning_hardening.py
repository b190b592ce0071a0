"""Hardening (#12): one bad date or one project whose plan or forecast fails never stops the others.

Each test builds a small real warehouse by hand (migrations applied, rows inserted)
with the values that broke planning and alerts before: due dates of 0001-01-01 and
9999-12-31, and a project whose Monte Carlo runs past the calendar's end.
"""

from __future__ import annotations

from datetime import date, datetime

import dagster as dg
import duckdb
import numpy as np
import polars as pl
import pytest

from models.alerts.rules import evaluate_rules, evaluation_context, out_of_range_due_dates
from models.planning.bounds import MAX_DATE, MAX_TASK_WORKDAYS, MIN_DATE
from models.planning.calendar import CalendarRangeError, WorkCalendar
from models.planning.cpm import schedule
from models.planning.portfolio import duration_model, plan_portfolio, predicted_durations
from models.planning.warehouse_plan import load_plans
from models.prediction.duration import DurationModel
from warehouse.db import apply_migrations
from warehouse.settings import Settings

STATUS = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 2, 0)
FAR_PAST, FAR_FUTURE = date(1, 1, 1), date(9999, 12, 31)
# 42 tasks of 1,000 working days in a chain end in 2194 as planned; PERT draws average
# 1.06x, so the Monte Carlo runs past 2200-12-31 (the failure #12 saw in every sync).
LONG_CHAIN = 42


@pytest.fixture
def cn() -> WorkCalendar:
    return WorkCalendar("CN")


def _warehouse(settings: Settings) -> duckdb.DuckDBPyConnection:
    path = settings.warehouse.path
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    apply_migrations(con)
    return con


def _project(con, key: str, due_date: date | None = None, start_date: date | None = None) -> None:
    con.execute("INSERT INTO projects (project_key, source, due_date, start_date, hourly_rate, budget) "
                "VALUES (?, 'jira', ?, ?, 100, 100000)", [key, due_date, start_date])


def _task(con, task_id: str, project: str, *, status: str = "todo", hours: float = 16.0, **dates) -> None:
    columns = {"task_id": task_id, "source": "jira", "source_key": task_id, "project_key": project,
               "title": task_id, "type_category": "task", "status_category": status, "estimate_hours": hours,
               "created_at": datetime(2026, 1, 5), **dates}
    con.execute(f"INSERT INTO tasks ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                list(columns.values()))


def _chain(con, project: str, ids: list[str]) -> None:
    for before, after in zip(ids, ids[1:]):
        con.execute("INSERT INTO task_links (from_task_id, to_task_id, link_type, source) "
                    "VALUES (?, ?, 'blocks', 'jira')", [before, after])


def _good_and_bad(con) -> None:
    """GOOD: three tasks in a chain. BAD: a chain whose forecast cannot fit in the calendar."""
    _project(con, "GOOD", due_date=date(2026, 9, 30))
    good = [f"GOOD-{i}" for i in range(3)]
    for task_id in good:
        _task(con, task_id, "GOOD")
    _chain(con, "GOOD", good)
    _project(con, "BAD")
    bad = [f"BAD-{i}" for i in range(LONG_CHAIN)]
    for task_id in bad:
        _task(con, task_id, "BAD", hours=MAX_TASK_WORKDAYS * 8.0)
    _chain(con, "BAD", bad)


# ------------------------------------------------------------------ the calendar


def test_the_calendar_never_raises_for_a_date_outside_its_span(cn: WorkCalendar) -> None:
    days = np.array([FAR_PAST, date(2026, 6, 15), FAR_FUTURE], dtype="datetime64[D]")
    first, last = cn.index_of(MIN_DATE), cn.index_of(MAX_DATE, "backward")
    assert cn.index_of(days).tolist() == [first, cn.index_of(date(2026, 6, 15)), last + 1]
    assert cn.index_of(days, "backward").tolist() == [first - 1, cn.index_of(date(2026, 6, 15)), last]
    assert cn.is_workday(days).tolist() == [False, True, False]
    assert cn.workdays_between(date(2200, 12, 1), FAR_FUTURE) == cn.workdays_between(date(2200, 12, 1), MAX_DATE)
    # only a *result* beyond the span raises, and as a ValueError the planner reports per project
    with pytest.raises(CalendarRangeError, match="2200-12-31"):
        cn.date_of(last + 1)
    assert issubclass(CalendarRangeError, ValueError)


# ------------------------------------------------------------------ plans from the warehouse


def test_dates_outside_1900_2200_are_dropped_from_plans_with_a_reason(empty_settings: Settings, cn) -> None:
    con = _warehouse(empty_settings)
    _project(con, "ODD", start_date=FAR_PAST)
    _task(con, "ODD-1", "ODD", due_date=FAR_PAST)
    _task(con, "ODD-2", "ODD", due_date=FAR_FUTURE, planned_start=FAR_PAST, planned_finish=date(2026, 7, 1))
    _task(con, "ODD-3", "ODD", status="done", started_at=datetime(2026, 2, 2), resolved_at=datetime(9999, 12, 31))
    _task(con, "ODD-4", "ODD", hours=1e12)
    plan = load_plans(con, STATUS, cn.workdays_between)["ODD"]
    con.close()
    assert [t.deadline for t in plan.tasks[:2]] == [None, None]
    assert plan.task("ODD-2").start is None and plan.task("ODD-2").duration_days == 2.0  # 16 h, not the dates
    assert plan.task("ODD-3").actual_finish == STATUS  # done, by today at the latest
    assert plan.task("ODD-4").duration_days == MAX_TASK_WORKDAYS
    assert plan.start == date(2026, 2, 2)  # the earliest actual start, not year 1
    notes = {(n.task_id, n.field): n.message for n in plan.adjustments}
    assert set(notes) == {(None, "project_start"), ("ODD-1", "due_date"), ("ODD-2", "due_date"),
                          ("ODD-2", "planned_start"), ("ODD-3", "resolved_at"),
                          ("ODD-4", "duration from estimate_hours")}
    assert notes[("ODD-1", "due_date")] == "due_date 0001-01-01 is outside 1900-01-01..2200-12-31: ignored"
    assert "capped at 1000" in notes[("ODD-4", "duration from estimate_hours")]
    assert schedule(plan, cn).project_finish_date < MAX_DATE


# ------------------------------------------------------------------ the portfolio


def test_a_project_whose_forecast_fails_gets_an_error_row_and_the_others_proceed(empty_settings, cn) -> None:
    con = _warehouse(empty_settings)
    _good_and_bad(con)
    _project(con, "ODD", due_date=FAR_FUTURE)
    _task(con, "ODD-1", "ODD", due_date=FAR_FUTURE)
    outputs = plan_portfolio(con, cn, STATUS, runs=200)
    con.close()
    assert {r["project_key"] for r in outputs.forecast_rows} == {"GOOD", "ODD"}
    [good] = [r for r in outputs.forecast_rows if r["project_key"] == "GOOD"]
    assert good["finish_p50"] > STATUS and 0.0 <= good["probability_on_time"] <= 1.0
    assert outputs.failures.keys() == {"BAD"} and outputs.failures["BAD"].keys() == {"forecast"}
    assert "2200-12-31" in outputs.failures["BAD"]["forecast"]
    # the stages that did not fail are kept for the failed project too
    assert sum(r["project_key"] == "BAD" for r in outputs.schedule_rows) == LONG_CHAIN
    assert all(r["finish_p85"] is None for r in outputs.schedule_rows if r["project_key"] == "BAD")
    assert {r["project_key"] for r in outputs.earned_value_rows} == {"GOOD", "BAD", "ODD"}
    # 9999-12-31 no longer makes a project unschedulable: the date is dropped and said so
    [odd] = [r for r in outputs.forecast_rows if r["project_key"] == "ODD"]
    assert odd["due_date"] is None
    adjusted = [(r["project_key"], r["stage"], r["task_id"], r["message"]) for r in outputs.error_rows
                if r["outcome"] == "adjusted"]
    assert adjusted == [
        ("ODD", "plan", "ODD-1", "due_date 9999-12-31 is outside 1900-01-01..2200-12-31: ignored"),
        ("ODD", "plan", None, "project due_date 9999-12-31 is outside 1900-01-01..2200-12-31: ignored"),
    ]


def test_predicted_durations_are_bounded_in_the_table_and_in_the_simulation(empty_settings, cn) -> None:
    con = _warehouse(empty_settings)
    _good_and_bad(con)
    con.execute("""INSERT INTO task_predictions (task_id, predicted_at, model_version, duration_p50_days,
                   duration_p90_days) VALUES ('GOOD-0', ?, 'm', 3222, 9000), ('GOOD-1', ?, 'm', 'NaN', 5),
                   ('GOOD-2', ?, 'm', 1, 900)""", [NOW, NOW, NOW])
    predictions = predicted_durations(con)
    plan = load_plans(con, STATUS, cn.workdays_between)["GOOD"]
    con.close()
    assert predictions == {"GOOD-0": (MAX_TASK_WORKDAYS, MAX_TASK_WORKDAYS), "GOOD-2": (1.0, 900.0)}
    from models.planning.network import Network

    sample, used = duration_model(Network.from_plan(plan), predictions)
    draws = sample(np.random.default_rng(1), 5000)
    assert used == 2 and draws.max() <= MAX_TASK_WORKDAYS and np.median(draws[:, 2]) < 5


def test_the_duration_model_never_predicts_more_than_the_bound_still_to_come() -> None:
    train = pl.DataFrame({"task_id": ["a", "b", "c"], "type_category": ["task"] * 3})
    model = DurationModel().fit(train, [4000.0, 5000.0, 9000.0])  # a history of decade-long tickets
    frame = pl.DataFrame({"task_id": ["new", "old"], "type_category": ["task", "task"],
                          "active_workdays": [0.0, 3222.0], "is_done": [0, 0]})
    predicted = model.predict(frame)
    assert predicted["remaining_p50_days"].to_list() == [MAX_TASK_WORKDAYS, MAX_TASK_WORKDAYS]
    assert predicted["remaining_p90_days"].max() <= MAX_TASK_WORKDAYS
    assert predicted["duration_p90_days"].to_list() == [MAX_TASK_WORKDAYS, 3222.0 + MAX_TASK_WORKDAYS]


def test_the_planning_asset_writes_the_error_row_and_warns_without_failing(empty_settings) -> None:
    from pipelines.planning_assets import FAILURES_CHECK, build_planning_assets
    from pipelines.resources import WarehouseResource

    con = _warehouse(empty_settings)
    _good_and_bad(con)
    con.close()
    result = dg.materialize(build_planning_assets([]),
                            resources={"warehouse": WarehouseResource.from_settings(empty_settings)})
    assert result.success
    [check] = result.get_asset_check_evaluations()
    assert (check.check_name, check.passed, check.severity) == (FAILURES_CHECK, False, dg.AssetCheckSeverity.WARN)
    assert "BAD (forecast)" in check.description
    forecasts = result.asset_materializations_for_node("planning")
    assert {m.metadata["failed_projects"].value for m in forecasts} == {1}
    with duckdb.connect(str(empty_settings.warehouse.path), read_only=True) as con:
        errors = con.execute("SELECT project_key, stage, outcome, task_id FROM planning_errors").fetchall()
        published = con.execute("SELECT project_key FROM project_forecasts").fetchall()
    assert errors == [("BAD", "forecast", "failed", None)] and published == [("GOOD",)]


# ------------------------------------------------------------------ alerts


def test_alerts_run_survives_due_dates_outside_the_calendar(empty_settings: Settings) -> None:
    from pipelines.alerts.engine import format_report, run_alerts
    from warehouse.db import publish

    con = _warehouse(empty_settings)
    _project(con, "ODD")
    _task(con, "ODD-1", "ODD", due_date=FAR_PAST)
    _task(con, "ODD-2", "ODD", due_date=FAR_FUTURE)
    _task(con, "ODD-3", "ODD", due_date=date(2026, 6, 1))
    findings = evaluate_rules(evaluation_context(con, empty_settings, NOW))
    assert [f.task_id for f in findings if f.rule == "overdue"] == ["ODD-3"]
    assert out_of_range_due_dates(con) == 2
    con.close()
    publish(empty_settings)
    report = run_alerts(empty_settings, now=NOW, environ={})
    assert report.findings >= 1 and report.skipped_due_dates == 2 and not report.impact_errors
    assert "2 open task(s) have a due date outside 1900-01-01..2200-12-31" in format_report(report)


def test_a_project_whose_impact_fails_still_gets_its_alerts_and_the_others_their_impact(
        empty_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import models.planning.impact as impact
    from pipelines.alerts.engine import format_report, run_alerts
    from warehouse.alert_store import list_alerts
    from warehouse.db import publish

    con = _warehouse(empty_settings)
    for key in ("GOOD", "BAD"):
        _project(con, key)
        _task(con, f"{key}-1", key, due_date=date(2026, 6, 1))
    con.close()
    publish(empty_settings)
    real = impact.slip_impact

    def slip_impact(plan, calendar, task_id, slip_days):
        if plan.name == "BAD":
            raise RuntimeError("boom")
        return real(plan, calendar, task_id, slip_days)

    monkeypatch.setattr(impact, "slip_impact", slip_impact)
    report = run_alerts(empty_settings, now=NOW, environ={})
    assert report.impact_errors == {"BAD": "BAD-1: boom"}
    assert "no impact for BAD's alerts: BAD-1: boom" in format_report(report)
    facts = {a["project_key"]: a["facts"] for a in list_alerts(empty_settings, ["new"]) if a["rule"] == "overdue"}
    assert "impact" in facts["GOOD"] and "impact" not in facts["BAD"]
