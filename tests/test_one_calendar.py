"""One working calendar (#13): CPM, levelling, the plan page and the demo count the same days, 调休 included."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

import pytest

from dashboards.logic import plan as plan_logic
from models.planning import calendar as calendar_module
from models.planning.calendar import WorkCalendar
from models.planning.cpm import schedule
from models.planning.levelling import level_plan
from models.planning.model import Assignment, Plan, PlanLink, PlanTask, Resource
from warehouse.settings import ConfigError, parse_settings

# 2026 Spring Festival (chinesecalendar 1.11): Feb 15-23 off, Saturdays Feb 14 and Feb 28 are make-up workdays.
MAKE_UP_SATURDAYS = (date(2026, 2, 14), date(2026, 2, 28))
FEB_9 = date(2026, 2, 9)  # Monday before the holiday


def settings(**calendar):
    return parse_settings({"calendar": calendar, "sources": [{"kind": "demo", "name": "demo"}]}, "test", Path("."))


def spring_festival_plan() -> Plan:
    """A chain across both make-up Saturdays and the holiday week, one person each, nothing in conflict."""
    tasks = [
        PlanTask("A", duration_days=3, assignee_id="ann"),
        PlanTask("B", duration_days=4, assignee_id="ann"),
        PlanTask("C", duration_days=5, assignee_id="bob"),
        PlanTask("D", duration_days=2, assignee_id="bob"),
        PlanTask("E", duration_days=6, assignee_id="cy"),  # in parallel, from the start
        PlanTask("M", is_milestone=True),
    ]
    links = [PlanLink("A", "B"), PlanLink("B", "C"), PlanLink("C", "D"), PlanLink("D", "M"), PlanLink("E", "M")]
    resources = [Resource("ann"), Resource("bob"), Resource("cy")]
    assignments = [Assignment(t.task_id, t.assignee_id) for t in tasks if t.assignee_id]
    return Plan(tasks, links, resources, assignments, start=FEB_9, status_date=FEB_9)


def test_the_2026_make_up_saturdays_are_working_days() -> None:
    calendar = WorkCalendar.from_settings(settings())
    assert all(calendar.is_workday(day) for day in MAKE_UP_SATURDAYS)
    assert not any(calendar.is_workday(date(2026, 2, d)) for d in range(15, 24))


def test_levelled_dates_equal_cpm_dates_across_a_tiaoxiu_weekend() -> None:
    calendar = WorkCalendar.from_settings(settings())
    plan = spring_festival_plan()
    cpm = schedule(plan, calendar)
    for method in ("cp-sat", "sgs"):
        levelled = level_plan(plan, calendar, time_limit_seconds=5, method=method)
        assert levelled.moved == [], "nobody is over-allocated"
        for task in plan.tasks:
            got = levelled.tasks[task.task_id]
            assert (got.start_date, got.finish_date) == (cpm.start_date(task.task_id), cpm.finish_date(task.task_id))
    # and those dates are the 调休 ones: B works the first make-up Saturday, C the second
    assert (cpm.start_date("B"), cpm.finish_date("B")) == (date(2026, 2, 12), date(2026, 2, 24))
    assert (cpm.start_date("C"), cpm.finish_date("C")) == (date(2026, 2, 25), date(2026, 3, 2))
    assert cpm.finish_date("E") == MAKE_UP_SATURDAYS[0]  # six working days: Monday Feb 9 to the Saturday


def test_the_plan_page_shows_levelling_on_the_same_calendar() -> None:
    calendar = WorkCalendar.from_settings(settings())
    plan = spring_festival_plan()
    crowded = Plan(plan.tasks, plan.links, plan.resources,
                   [*plan.assignments, Assignment("E", "ann")], start=FEB_9, status_date=FEB_9)
    levelled = level_plan(crowded, calendar, time_limit_seconds=5)
    outcome = plan_logic.levelling_outcome(crowded, levelled, calendar, "P", 0)
    assert outcome.rows, "ann has A, B and E at once"
    for row in outcome.rows:
        task = levelled.tasks[row["task_id"]]
        assert (row["after_start"], row["after_finish"]) == (task.start_date, task.finish_date)
        assert all(calendar.is_workday(row[k]) for k in ("before_start", "before_finish", "after_start"))
    assert outcome.levelled_end == max(t.finish_date for t in levelled.tasks.values() if t.finish > t.start)


def test_a_year_chinesecalendar_lacks_is_reported_once_and_the_config_lists_are_used(
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calendar_module, "_WARNED_YEARS", set())
    year = calendar_module._CN_DATA_YEARS[1] + 1
    with caplog.at_level(logging.WARNING, logger="models.planning.calendar"):
        for _ in range(2):
            WorkCalendar.from_settings(settings()).is_workday(date(year, 3, 1))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(year) in warnings[0] and "[calendar] holidays" in warnings[0]

    saturday = next(date(year, 2, d) for d in range(1, 29) if date(year, 2, d).weekday() == 5)
    monday = saturday + timedelta(days=2)
    monkeypatch.setattr(calendar_module, "_WARNED_YEARS", set())
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="models.planning.calendar"):
        listed = WorkCalendar.from_settings(settings(holidays=[monday.isoformat()], workdays=[saturday.isoformat()]))
        assert listed.is_workday(saturday) and not listed.is_workday(monday)
    assert not caplog.records, "a year the configuration lists is not reported"


def test_calendar_lists_are_validated() -> None:
    with pytest.raises(ConfigError, match="holidays"):
        settings(holidays=["2027-02-30"])


def test_the_demo_company_rests_at_spring_festival_and_works_make_up_saturdays() -> None:
    from pipelines.demo.generate import Ctx

    ctx = Ctx(42, date(2026, 6, 15), WorkCalendar.from_settings(settings()))
    days = {ctx.cal.date(i) for i in range(ctx.cal.index(date(2026, 2, 1)), ctx.cal.index(date(2026, 3, 10)))}
    assert set(MAKE_UP_SATURDAYS) <= days
    assert not days & {date(2026, 2, d) for d in range(15, 24)}
