"""Earned value and baselines: the textbook example, EVM identities, zero divisions, variance statuses."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from models.planning.baselines import (
    AHEAD,
    BaselineTask,
    LATE,
    NOT_IN_BASELINE,
    ON_TIME,
    REMOVED,
    baseline_from_dates,
    baseline_from_rows,
    baseline_record,
    baseline_rows,
    take_baseline,
    variance,
)
from models.planning.evm import EarnedValue, earned_value, earned_value_series
from models.planning.model import Plan, PlanTask

MONDAY = date(2026, 3, 2)


def day(n: int) -> date:
    return MONDAY + timedelta(days=n)


class WeekdayCalendar:
    """Monday to Friday; `workdays_between(a, b)` counts working days in [a, b] like the planning calendar."""

    def workdays_between(self, a: date, b: date) -> int:
        return sum(1 for i in range((b - a).days + 1) if (a + timedelta(days=i)).weekday() < 5)


class VectorCalendar(WeekdayCalendar):
    """The same calendar answering `is_workday` for a whole array, as WorkCalendar does."""

    def is_workday(self, days: np.ndarray) -> np.ndarray:
        return np.is_busday(days)


def textbook_plan() -> Plan:
    """One task, budget 10 h × 10 = 100, planned over ten calendar days, 40 % done after five."""
    return Plan(
        [PlanTask("T", start=day(0), finish=day(9), estimate_hours=10, actual_start=day(0), percent_complete=40,
                  actual_hours=4.5, project_key="ERP")],
        status_date=day(4),
    )


# --- earned value -----------------------------------------------------------------------------


def test_textbook_figures_from_values() -> None:
    ev = EarnedValue.from_values(bac=100, pv=50, ev=40, ac=45, status_date=day(4))
    assert ev.sv == -10 and ev.cv == -5
    assert ev.spi == pytest.approx(0.8)
    assert ev.cpi == pytest.approx(0.889, abs=1e-3)
    assert ev.eac == pytest.approx(112.5)
    assert ev.etc == pytest.approx(67.5)
    assert ev.vac == pytest.approx(-12.5)
    assert ev.tcpi == pytest.approx(60 / 55)
    assert ev.eac_atypical == pytest.approx(105.0)
    assert ev.eac_composite == pytest.approx(45 + 60 / (0.8 * 40 / 45))
    assert ev.percent_complete == pytest.approx(0.4)


def test_textbook_figures_from_a_plan() -> None:
    result = earned_value(textbook_plan(), day(4), hourly_rate=10.0, worklog_hours_to_date=4.5)
    assert (result.bac, result.pv, result.ev, result.ac) == pytest.approx((100, 50, 40, 45))
    assert result.eac == pytest.approx(112.5) and result.vac == pytest.approx(-12.5)
    assert result.project_key == "ERP"
    assert set(result.row()) == {"project_key", "status_date", "bac", "pv", "ev", "ac", "sv", "cv", "spi", "cpi",
                                 "eac", "etc", "vac"}
    from_task_hours = earned_value(textbook_plan(), day(4), hourly_rate=10.0)
    assert from_task_hours.ac == pytest.approx(45)


def test_zero_divisions_are_none() -> None:
    before_anything = earned_value(textbook_plan(), day(-1), hourly_rate=10.0, worklog_hours_to_date=0.0)
    assert (before_anything.pv, before_anything.ac) == (0.0, 0.0)
    assert before_anything.spi is None and before_anything.cpi is None
    assert before_anything.eac is None and before_anything.etc is None and before_anything.vac is None
    assert before_anything.eac_composite is None
    assert before_anything.eac_atypical == pytest.approx(100.0)

    nothing = EarnedValue.from_values(bac=0, pv=0, ev=0, ac=0, status_date=day(0))
    assert nothing.tcpi is None and nothing.percent_complete is None and nothing.spi is None

    spent_all = EarnedValue.from_values(bac=100, pv=100, ev=50, ac=100, status_date=day(0))
    assert spent_all.tcpi is None, "BAC − AC = 0: no efficiency can still meet the budget"

    no_value_yet = EarnedValue.from_values(bac=100, pv=20, ev=0, ac=10, status_date=day(0))
    assert no_value_yet.cpi == 0.0 and no_value_yet.eac is None


def test_planned_value_in_working_days_with_a_calendar() -> None:
    # Monday 2 … Wednesday 11 March holds 8 working days; by Friday 6 March, 5 of them.
    with_calendar = earned_value(textbook_plan(), day(4), 10.0, calendar=WeekdayCalendar())
    assert with_calendar.pv == pytest.approx(100 * 5 / 8)
    # Over the weekend nothing more is planned.
    assert earned_value(textbook_plan(), day(6), 10.0, calendar=WeekdayCalendar()).pv == pytest.approx(62.5)
    assert earned_value(textbook_plan(), day(6), 10.0).pv == pytest.approx(70.0)
    assert earned_value(textbook_plan(), day(4), 10.0, calendar=VectorCalendar()).pv == pytest.approx(62.5)


def test_rates_per_person_and_default() -> None:
    plan = Plan(
        [
            PlanTask("a", start=day(0), finish=day(0), estimate_hours=10, assignee_id="ann", percent_complete=100,
                     actual_finish=day(0), actual_hours=8),
            PlanTask("b", start=day(1), finish=day(1), estimate_hours=10, assignee_id="bob", actual_hours=2),
            PlanTask("c", start=day(1), finish=day(1), estimate_hours=10),
        ],
        status_date=day(1),
    )
    rates = {"ann": 100.0, "bob": 50.0}
    blended = earned_value(plan, day(1), rates)
    assert blended.bac == pytest.approx(1000 + 500 + 750), "unassigned work at the mean rate"
    assert blended.ev == pytest.approx(1000)
    assert blended.ac == pytest.approx(8 * 100 + 2 * 50)
    explicit = earned_value(plan, day(1), rates, default_rate=20.0, worklog_hours_to_date={"ann": 8, "zed": 5})
    assert explicit.bac == pytest.approx(1000 + 500 + 200)
    assert explicit.ac == pytest.approx(8 * 100 + 5 * 20)
    with pytest.raises(ValueError):
        earned_value(plan, day(1), {})


def test_budget_at_completion_scales_task_budgets() -> None:
    plan = Plan(
        [
            PlanTask("a", start=day(0), finish=day(0), estimate_hours=30, percent_complete=100, actual_finish=day(0)),
            PlanTask("b", start=day(5), finish=day(5), estimate_hours=10),
        ],
        status_date=day(1),
    )
    result = earned_value(plan, day(1), 1.0, budget_at_completion=2000.0)
    assert (result.bac, result.pv, result.ev) == pytest.approx((2000, 1500, 1500))
    no_estimates = Plan([PlanTask("a", start=day(0), finish=day(0)), PlanTask("b", start=day(3), finish=day(3))])
    assert earned_value(no_estimates, day(1), 1.0, budget_at_completion=10.0).pv == pytest.approx(5.0)


def test_done_method_earns_only_finished_work() -> None:
    result = earned_value(textbook_plan(), day(4), 10.0, method="done")
    assert result.ev == 0.0
    finished = textbook_plan()
    finished.tasks[0].actual_finish = day(3)
    assert earned_value(finished, day(4), 10.0, method="done").ev == pytest.approx(100.0)
    assert earned_value(finished, day(2), 10.0, method="done").ev == 0.0


def test_summaries_are_not_counted_twice_and_projects_filter() -> None:
    plan = Plan(
        [
            PlanTask("epic", estimate_hours=999, project_key="A"),
            PlanTask("s1", parent_id="epic", start=day(0), finish=day(0), estimate_hours=4, project_key="A"),
            PlanTask("other", start=day(0), finish=day(0), estimate_hours=6, project_key="B"),
        ]
    )
    assert earned_value(plan, day(0), 1.0).bac == pytest.approx(10.0)
    only_a = earned_value(plan, day(0), 1.0, project_key="A")
    assert only_a.bac == pytest.approx(4.0) and only_a.project_key == "A"


def test_unscheduled_budget_is_in_bac_not_pv() -> None:
    plan = Plan([PlanTask("a", start=day(0), finish=day(0), estimate_hours=1), PlanTask("b", estimate_hours=3)])
    result = earned_value(plan, day(10), 1.0)
    assert (result.bac, result.pv, result.unscheduled_budget) == pytest.approx((4.0, 1.0, 3.0))


def test_identities_hold_on_a_random_plan() -> None:
    rng = random.Random(11)
    tasks = []
    for i in range(300):
        start = day(rng.randint(0, 60))
        done = rng.random() < 0.3
        tasks.append(PlanTask(
            f"t{i}", start=start, finish=start + timedelta(days=rng.randint(0, 15)),
            estimate_hours=rng.uniform(1, 40), assignee_id=f"p{i % 7}",
            actual_start=start if rng.random() < 0.6 or done else None,
            actual_finish=start + timedelta(days=rng.randint(0, 20)) if done else None,
            percent_complete=100.0 if done else rng.choice([0.0, 25.0, 50.0]), actual_hours=rng.uniform(0, 30),
        ))
    plan = Plan(tasks, status_date=day(40))
    rates = {f"p{k}": 80.0 + 10 * k for k in range(7)}
    for status in (day(5), day(20), day(40)):
        r = earned_value(plan, status, rates, calendar=WeekdayCalendar())
        assert r.sv == pytest.approx(r.ev - r.pv) and r.cv == pytest.approx(r.ev - r.ac)
        assert r.spi == pytest.approx(r.ev / r.pv) and r.cpi == pytest.approx(r.ev / r.ac)
        assert r.eac == pytest.approx(r.bac / r.cpi) and r.etc == pytest.approx(r.eac - r.ac)
        assert r.vac == pytest.approx(r.bac - r.eac)
        assert r.eac_composite == pytest.approx(r.ac + (r.bac - r.ev) / (r.cpi * r.spi))
        assert 0 <= r.pv <= r.bac and 0 <= r.ev <= r.bac
    assert earned_value(plan, day(200), rates).pv == pytest.approx(earned_value(plan, day(200), rates).bac)

    dates = [day(k) for k in range(-5, 90, 3)]
    series = earned_value_series(plan, dates, rates, calendar=WeekdayCalendar())
    assert series["pv"].is_sorted() and series["pv"][0] == 0.0
    assert series.filter(pl.col("date") > day(40))["ev"].null_count() == series.filter(pl.col("date") > day(40)).height
    assert series.filter(pl.col("date") <= day(40))["ev"].is_sorted()
    at_status = series.filter(pl.col("date") == day(37)).row(0, named=True)
    single = earned_value(plan, day(37), rates, calendar=WeekdayCalendar())
    assert (at_status["pv"], at_status["ev"], at_status["ac"]) == pytest.approx((single.pv, single.ev, single.ac))


def test_series_from_worklogs() -> None:
    worklogs = pl.DataFrame(
        {
            "day": [day(0), day(1), day(3), day(3)],
            "hours": [1.0, 2.0, 1.5, 9.0],
            "person_id": ["ann", "ann", "bob", "ann"],
            "task_id": ["T", "T", "T", "not-in-plan"],
        }
    )
    series = earned_value_series(textbook_plan(), [day(0), day(2), day(4), day(8)], {"ann": 10.0, "bob": 20.0},
                                 default_rate=10.0, worklogs=worklogs)
    assert series["ac"].to_list()[:3] == pytest.approx([10.0, 30.0, 60.0])
    assert series["ac"][3] is None, "day 8 is after the plan's status date"
    assert series["pv"].to_list() == pytest.approx([10.0, 30.0, 50.0, 90.0])
    assert series["ev"][2] == pytest.approx(40.0)
    assert series["cpi"][2] == pytest.approx(40 / 60)
    empty = earned_value_series(textbook_plan(), [], 10.0)
    assert empty.height == 0 and empty.columns[0] == "date"


def test_planned_value_follows_the_baseline() -> None:
    plan = textbook_plan()
    promised = take_baseline(plan, "contract")
    plan.tasks[0].start, plan.tasks[0].finish = day(5), day(14)
    assert earned_value(plan, day(4), 10.0).pv == 0.0
    assert earned_value(plan, day(4), 10.0, baseline=promised).pv == pytest.approx(50.0)


# --- baselines --------------------------------------------------------------------------------


def baseline_plan() -> Plan:
    return Plan(
        [
            PlanTask("late", start=day(0), finish=day(4), estimate_hours=8.0, duration_days=5),
            PlanTask("early", start=day(0), finish=day(9)),
            PlanTask("same", start=day(2), finish=day(3)),
            PlanTask("weekend", start=day(0), finish=day(4)),
            PlanTask("dropped", start=day(1), finish=day(1)),
            PlanTask("undated"),
        ]
    )


def test_variance_statuses() -> None:
    plan = baseline_plan()
    promised = take_baseline(plan, "v1", taken_at=datetime(2026, 3, 1, 9))
    assert promised.tasks["late"].duration_days == 5
    plan.task("late").finish = day(7)
    plan.task("late").estimate_hours = 12.0
    plan.task("early").actual_finish = day(6)
    plan.task("weekend").finish = day(5)
    plan.tasks = [t for t in plan.tasks if t.task_id != "dropped"] + [PlanTask("new", start=day(3))]

    frame = variance(plan, promised)
    rows = {r["task_id"]: r for r in frame.iter_rows(named=True)}
    assert {k: r["status"] for k, r in rows.items()} == {
        "late": LATE, "early": AHEAD, "same": ON_TIME, "weekend": LATE, "undated": None,
        "new": NOT_IN_BASELINE, "dropped": REMOVED,
    }
    assert rows["late"]["finish_variance_days"] == 3 and rows["late"]["start_variance_days"] == 0
    assert rows["late"]["estimate_variance_hours"] == 4.0
    assert rows["early"]["finish_variance_days"] == -3, "the actual finish counts, not the stale plan"
    assert rows["late"]["finish_variance_workdays"] is None

    with_calendar = {r["task_id"]: r for r in variance(plan, promised, WeekdayCalendar()).iter_rows(named=True)}
    # Friday 6 → Saturday 7 March: one calendar day later but no working day lost.
    assert with_calendar["weekend"]["finish_variance_days"] == 1
    assert with_calendar["weekend"]["finish_variance_workdays"] == 0 and with_calendar["weekend"]["status"] == ON_TIME
    # Friday 6 → Monday 9 March: one working day late.
    assert with_calendar["late"]["finish_variance_workdays"] == 1
    # Wednesday 11 → Sunday 8 March: Monday 9 … Wednesday 11 gained.
    assert with_calendar["early"]["finish_variance_workdays"] == -3

    vectorised = variance(plan, promised, VectorCalendar())
    assert vectorised.equals(variance(plan, promised, WeekdayCalendar()))

    lenient = {r["task_id"]: r["status"] for r in variance(plan, promised, tolerance_days=3).iter_rows(named=True)}
    assert lenient["late"] == ON_TIME and lenient["early"] == ON_TIME


def test_variance_of_a_cpm_schedule_frame() -> None:
    promised = take_baseline(baseline_plan(), "v1")
    schedule = pl.DataFrame({"task_id": ["late", "same"], "early_start": [day(1), day(2)],
                             "early_finish": [day(5), day(3)]})
    rows = {r["task_id"]: r for r in variance(schedule, promised).iter_rows(named=True)}
    assert rows["late"]["status"] == LATE and rows["late"]["start_variance_days"] == 1
    assert rows["same"]["status"] == ON_TIME and rows["dropped"]["status"] == REMOVED
    with pytest.raises(ValueError, match="lacks columns"):
        variance(pl.DataFrame({"task_id": ["a"]}), promised)


def test_baseline_rows_round_trip() -> None:
    promised = take_baseline(baseline_plan(), "v1", taken_at=datetime(2026, 3, 1, 9))
    rows = baseline_rows(promised, "b-1")
    assert set(rows[0]) == {"baseline_id", "task_id", "planned_start", "planned_finish", "estimate_hours"}
    assert rows[0] == {"baseline_id": "b-1", "task_id": "late", "planned_start": day(0), "planned_finish": day(4),
                       "estimate_hours": 8.0}
    header = baseline_record(promised, "b-1", created_by="lead")
    assert header == {"baseline_id": "b-1", "project_key": None, "name": "v1",
                      "created_at": datetime(2026, 3, 1, 9), "created_by": "lead"}
    back = baseline_from_rows(rows, header)
    assert back.name == "v1" and back.extra["created_by"] == "lead"
    assert {k: (t.planned_start, t.planned_finish, t.estimate_hours) for k, t in back.tasks.items()} == {
        k: (t.planned_start, t.planned_finish, t.estimate_hours) for k, t in promised.tasks.items()
    }
    stored = [dict(r, planned_start=datetime.combine(r["planned_start"], datetime.min.time()))
              if r["planned_start"] else r for r in rows]
    assert baseline_from_rows(stored).tasks["late"].planned_start == day(0), "TIMESTAMP values read back as dates"
    with pytest.raises(ValueError, match="several baselines"):
        baseline_from_rows([dict(rows[0], baseline_id="b-2"), rows[1]])


def test_baseline_from_saved_dates() -> None:
    saved = baseline_from_dates("Baseline", {"a": (day(0), day(4), 5.0), "b": (None, None, None)}, {"a": 40.0})
    assert saved.tasks["a"] == BaselineTask("a", day(0), day(4), 5.0, 40.0)
    assert saved.tasks["b"].estimate_hours is None
    assert variance(Plan([PlanTask("a", start=day(0), finish=day(4))]), saved)["status"].to_list() == [ON_TIME, REMOVED]
