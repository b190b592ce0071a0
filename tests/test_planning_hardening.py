"""Hardening (#12): one bad date never stops the plan of a project, or the alerts of every project.

Each test builds a small real warehouse by hand (migrations applied, rows inserted)
with the values that broke planning and alerts before: due dates of 0001-01-01 and
9999-12-31.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import numpy as np
import pytest

from models.alerts.rules import evaluate_rules, evaluation_context, out_of_range_due_dates
from models.planning.bounds import MAX_DATE, MAX_TASK_WORKDAYS, MIN_DATE
from models.planning.calendar import CalendarRangeError, WorkCalendar
from models.planning.cpm import schedule
from models.planning.warehouse_plan import load_plans
from warehouse.db import apply_migrations
from warehouse.settings import Settings

STATUS = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 2, 0)
FAR_PAST, FAR_FUTURE = date(1, 1, 1), date(9999, 12, 31)


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
    assert report.findings >= 1 and report.skipped_due_dates == 2
    assert "2 open task(s) have a due date outside 1900-01-01..2200-12-31" in format_report(report)


