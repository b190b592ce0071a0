"""调休 make-up working days survive the MS Project (MSPDI) export and import.

The company calendar (`WorkCalendar.from_settings`) takes weekday public
holidays off and works the make-up Saturdays and Sundays the State Council
swaps for them. The exported project calendar must say both, or MS Project
schedules every task across a 调休 weekend differently from our CPM.

2026 Spring Festival (chinesecalendar data): Saturday 14 and Saturday 28
February are working days; Monday 16 to Monday 23 February are off.
2027 is not in the chinesecalendar release used here, so its days come from
the `[calendar] holidays / workdays` settings, the way a company lists a year
the package does not ship yet.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta

import pytest

from models.planning.calendar import WorkCalendar
from models.planning.cpm import schedule
from models.planning.model import Plan, PlanLink, PlanTask
from models.planning.mspdi import MspdiCalendar, read_mspdi, saved_schedule, write_mspdi
from warehouse.settings import CalendarSettings

NS = {"p": "http://schemas.microsoft.com/project"}

SPRING_2026_MAKEUP = [date(2026, 2, 14), date(2026, 2, 28)]
SPRING_2026_WEEKDAYS_OFF = [date(2026, 2, 16) + timedelta(days=k) for k in range(5)] + [date(2026, 2, 23)]

# The State Council's 2027 National Day notice shape: 1–7 October off, a Saturday before and after worked.
NATIONAL_2027_OFF = [date(2027, 10, 1) + timedelta(days=k) for k in range(7)]
NATIONAL_2027_MAKEUP = [date(2027, 9, 25), date(2027, 10, 9)]


def _plan(start: date) -> Plan:
    """A chain of tasks from `start`, with dates as our CPM computes them on the company calendar."""
    tasks = [
        PlanTask("1", "Design", duration_days=3),
        PlanTask("2", "Build", duration_days=4),
        PlanTask("3", "Test", duration_days=5),
        PlanTask("4", "Release", duration_days=0, is_milestone=True),
    ]
    links = [PlanLink("1", "2"), PlanLink("2", "3"), PlanLink("3", "4")]
    return Plan(tasks=tasks, links=links, start=start, name="调休 plan")


def _scheduled(plan: Plan, calendar: WorkCalendar) -> tuple[Plan, dict[str, tuple[date, date]]]:
    result = schedule(plan, calendar)
    dates = {t.task_id: (result.start_date(t.task_id), result.finish_date(t.task_id)) for t in plan.tasks}
    tasks = [PlanTask(**{**t.__dict__, "start": dates[t.task_id][0], "finish": dates[t.task_id][1]})
             for t in plan.tasks]
    return Plan(tasks=tasks, links=plan.links, start=plan.start, name=plan.name), dates


def _exceptions(data: bytes) -> dict[date, tuple[bool, list[tuple[str, str]]]]:
    """The project calendar's `<Exceptions>` as {date: (DayWorking, [(FromTime, ToTime)])}, ranges expanded."""
    root = ET.fromstring(data)
    calendar = next(c for c in root.findall("p:Calendars/p:Calendar", NS) if c.findtext("p:UID", None, NS) == "1")
    found: dict[date, tuple[bool, list[tuple[str, str]]]] = {}
    for exception in calendar.findall("p:Exceptions/p:Exception", NS):
        first = datetime.fromisoformat(exception.findtext("p:TimePeriod/p:FromDate", None, NS)).date()
        last = datetime.fromisoformat(exception.findtext("p:TimePeriod/p:ToDate", None, NS)).date()
        working = exception.findtext("p:DayWorking", None, NS) == "1"
        times = [(t.findtext("p:FromTime", None, NS), t.findtext("p:ToTime", None, NS))
                 for t in exception.findall("p:WorkingTimes/p:WorkingTime", NS)]
        for k in range((last - first).days + 1):
            found[first + timedelta(days=k)] = (working, times)
    return found


def _round_trip(plan: Plan, calendar: WorkCalendar, expected: dict[str, tuple[date, date]]) -> bytes:
    data = write_mspdi(plan, work_calendar=calendar, project_name="调休")
    project = read_mspdi(io.BytesIO(data))
    # The dates written read back as the same working days, on the calendar read back ...
    assert saved_schedule(project) == expected
    # ... and our CPM on the imported calendar alone (no country data) computes the same dates.
    imported = project.calendar.to_work_calendar()
    assert imported.country is None
    rescheduled = schedule(project.plan, imported)
    assert {t: (rescheduled.start_date(t), rescheduled.finish_date(t)) for t in expected} == expected
    return data


def test_company_calendar_knows_the_2026_spring_festival_swap():
    calendar = WorkCalendar.from_settings(CalendarSettings())
    assert all(calendar.is_workday(d) for d in SPRING_2026_MAKEUP)
    assert not any(calendar.is_workday(d) for d in SPRING_2026_WEEKDAYS_OFF)


def test_spring_festival_2026_makeup_saturdays_are_exported_as_working_exceptions():
    calendar = WorkCalendar.from_settings(CalendarSettings())
    plan, dates = _scheduled(_plan(date(2026, 2, 11)), calendar)
    # The chain works both make-up Saturdays and skips the whole holiday week.
    assert dates["1"] == (date(2026, 2, 11), date(2026, 2, 13))
    assert dates["2"] == (date(2026, 2, 14), date(2026, 2, 26))
    assert dates["3"] == (date(2026, 2, 27), date(2026, 3, 4))
    assert dates["4"] == (date(2026, 3, 5), date(2026, 3, 5))

    data = _round_trip(plan, calendar, dates)
    exceptions = _exceptions(data)
    standard_day = [("08:00:00", "12:00:00"), ("13:00:00", "17:00:00")]
    for day in SPRING_2026_MAKEUP:
        assert exceptions[day] == (True, standard_day), day
    for day in SPRING_2026_WEEKDAYS_OFF:
        assert exceptions[day] == (False, []), day
    # Ordinary weekends and working weekdays are no exceptions; the weekday pattern covers them.
    assert date(2026, 2, 21) not in exceptions and date(2026, 3, 7) not in exceptions
    assert date(2026, 2, 24) not in exceptions
    # Exceptions are sorted (MS Project ignores unsorted ones) and cover the plan's range.
    root = ET.fromstring(data)
    starts = [e.findtext("p:TimePeriod/p:FromDate", None, NS)
              for e in root.findall("p:Calendars/p:Calendar/p:Exceptions/p:Exception", NS)]
    assert starts == sorted(starts)
    assert date(2026, 4, 6) in exceptions  # Qingming, within the year after the plan's finish


def test_settings_listed_days_of_a_year_chinesecalendar_lacks_export_the_same_way():
    settings = CalendarSettings(
        holidays=[d.isoformat() for d in NATIONAL_2027_OFF],
        workdays=[d.isoformat() for d in NATIONAL_2027_MAKEUP],
    )
    calendar = WorkCalendar.from_settings(settings)
    plan, dates = _scheduled(_plan(date(2027, 9, 22)), calendar)
    assert dates["1"] == (date(2027, 9, 22), date(2027, 9, 24))
    assert dates["2"] == (date(2027, 9, 25), date(2027, 9, 29))  # Saturday 25 September works
    assert dates["3"] == (date(2027, 9, 30), date(2027, 10, 12))  # 1–7 October off, Saturday 9 October works

    exceptions = _exceptions(_round_trip(plan, calendar, dates))
    for day in NATIONAL_2027_MAKEUP:
        assert exceptions[day][0] is True, day
    for day in NATIONAL_2027_OFF:
        if day.weekday() < 5:
            assert exceptions[day] == (False, []), day
        else:
            assert day not in exceptions, day


def test_reader_honours_working_exceptions_and_the_calendar_converts_both_ways():
    calendar = WorkCalendar.from_settings(CalendarSettings())
    mspdi = MspdiCalendar.from_work_calendar(calendar, date(2026, 2, 1), date(2026, 3, 31))
    assert mspdi.extra_working_dates == frozenset(SPRING_2026_MAKEUP)
    assert set(SPRING_2026_WEEKDAYS_OFF) <= mspdi.non_working_dates
    plan = Plan(tasks=[PlanTask("1", "Only", duration_days=1, start=date(2026, 2, 14), finish=date(2026, 2, 14))])
    read = read_mspdi(io.BytesIO(write_mspdi(plan, calendar=mspdi))).calendar
    assert read.extra_working_dates == mspdi.extra_working_dates
    assert read.non_working_dates == mspdi.non_working_dates
    assert read.is_working_day(date(2026, 2, 14)) and not read.is_working_day(date(2026, 2, 16))
    back = read.to_work_calendar()
    day = date(2026, 2, 1)
    while day <= date(2026, 3, 31):
        assert back.is_workday(day) == calendar.is_workday(day), day
        day += timedelta(days=1)


def test_without_a_work_calendar_the_export_is_unchanged():
    plan = _plan(date(2026, 2, 11))
    assert write_mspdi(plan) == write_mspdi(plan, calendar=MspdiCalendar.standard())
    assert _exceptions(write_mspdi(plan)) == {}
    holiday = date(2026, 2, 16)
    assert _exceptions(write_mspdi(plan, calendar_exceptions=[holiday])) == {holiday: (False, [])}


@pytest.mark.parametrize("weekend", [(5, 6), (4, 5)])
def test_the_work_calendars_weekend_becomes_the_weekday_pattern(weekend):
    calendar = WorkCalendar(None, weekend=weekend, extra_workdays=[date(2026, 2, 13)])
    plan, dates = _scheduled(_plan(date(2026, 2, 9)), calendar)
    project = read_mspdi(io.BytesIO(write_mspdi(plan, work_calendar=calendar)))
    assert project.calendar.weekend == frozenset(weekend)
    assert saved_schedule(project) == dates
