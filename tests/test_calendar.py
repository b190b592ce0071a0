"""Working-day calendar: Chinese holidays and 调休 make-up days, fallbacks, days off, vectorised conversion."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from models.planning.calendar import WorkCalendar

D = date.fromisoformat


@pytest.fixture(scope="module")
def cn() -> WorkCalendar:
    return WorkCalendar("CN")


@pytest.mark.parametrize("day", ["2024-02-04", "2024-02-18", "2024-09-29", "2024-10-12"])
def test_make_up_weekend_days_are_working_days_in_china(cn: WorkCalendar, day: str) -> None:
    assert D(day).weekday() >= 5
    assert cn.is_workday(D(day))


def test_national_day_week_is_off(cn: WorkCalendar) -> None:
    assert not any(cn.is_workday(date(2024, 10, d)) for d in range(1, 8))
    assert cn.is_workday(date(2024, 10, 8))
    assert not cn.is_workday(date(2024, 9, 28))  # an ordinary Saturday


def test_working_days_across_national_day(cn: WorkCalendar) -> None:
    assert cn.workdays(D("2024-09-26"), D("2024-10-14")) == [
        D("2024-09-26"), D("2024-09-27"), D("2024-09-29"), D("2024-09-30"), D("2024-10-08"),
        D("2024-10-09"), D("2024-10-10"), D("2024-10-11"), D("2024-10-12"), D("2024-10-14"),
    ]


def test_rolling_a_holiday_forward_and_backward(cn: WorkCalendar) -> None:
    assert cn.index_of(D("2024-10-03")) == cn.index_of(D("2024-10-08"))
    assert cn.index_of(D("2024-10-03"), roll="backward") == cn.index_of(D("2024-09-30"))
    assert cn.index_of(D("2024-10-08")) - cn.index_of(D("2024-09-30")) == 1
    with pytest.raises(ValueError):
        cn.index_of(D("2024-10-03"), roll="sideways")


def test_add_and_count_workdays(cn: WorkCalendar) -> None:
    assert cn.add_workdays(D("2024-09-30"), 1) == D("2024-10-08")
    assert cn.add_workdays(D("2024-10-08"), -1) == D("2024-09-30")
    assert cn.add_workdays(D("2024-10-05"), 0) == D("2024-10-08")
    assert cn.add_workdays(D("2024-10-05"), 0, roll="backward") == D("2024-09-30")
    assert cn.workdays_between(D("2024-09-27"), D("2024-10-08")) == 4  # 27, 29, 30 Sept, 8 Oct
    assert cn.workdays_between(D("2024-10-01"), D("2024-10-07")) == 0
    assert cn.workdays_between(D("2024-10-08"), D("2024-09-27")) == 0


def test_vectorised_round_trip(cn: WorkCalendar) -> None:
    days = np.arange(np.datetime64("2024-01-01"), np.datetime64("2025-01-01"))
    working = cn.is_workday(days)
    assert working.sum() == 262 - 19 + 8  # weekdays − holidays on weekdays + 调休 Saturdays/Sundays
    idx = cn.index_of(days[working])
    assert np.array_equal(np.diff(idx), np.ones(idx.size - 1, dtype=idx.dtype))
    assert np.array_equal(cn.date_of(idx), days[working])
    fwd, bwd = cn.index_of(days, "forward"), cn.index_of(days, "backward")
    assert np.all((fwd == bwd) == working)
    assert np.all(fwd[~working] == bwd[~working] + 1)


def test_indices_stay_valid_when_the_range_grows() -> None:
    calendar = WorkCalendar("CN")
    before = calendar.index_of(D("2024-10-08"))
    assert calendar.is_workday(D("2009-10-09"))  # grows the range back 15 years
    assert calendar.date_of(calendar.index_of(D("2031-03-03"))) == D("2031-03-03")  # and forward
    assert calendar.index_of(D("2024-10-08")) == before
    assert calendar.date_of(before) == D("2024-10-08")


def test_outside_chinesecalendar_years_falls_back_to_holidays_package(cn: WorkCalendar) -> None:
    assert not cn.is_workday(D("2030-10-01"))   # National Day from `holidays`
    assert not cn.is_workday(D("2030-10-05"))   # Saturday
    assert cn.is_workday(D("2030-10-08"))


def test_other_countries_use_holidays_and_monday_to_friday() -> None:
    us = WorkCalendar("US")
    assert not us.is_workday(D("2024-07-04"))
    assert us.is_workday(D("2024-07-05"))
    assert not us.is_workday(D("2024-02-04"))  # a Sunday is a Sunday outside China
    assert us.workdays_between(D("2024-07-01"), D("2024-07-07")) == 4


def test_extra_days_and_personal_calendar(cn: WorkCalendar) -> None:
    company = WorkCalendar("CN", extra_days_off=[D("2024-10-09")], extra_workdays=[D("2024-10-05")])
    assert company.is_workday(D("2024-10-05"))
    assert not company.is_workday(D("2024-10-09"))
    person = company.for_person([D("2024-10-10"), D("2024-10-05")])
    assert not person.is_workday(D("2024-10-10"))
    assert not person.is_workday(D("2024-10-05"))  # days off win over extra working days
    assert person.workdays_between(D("2024-10-08"), D("2024-10-12")) == 3  # 8, 11 and 12 Oct
    assert company.is_workday(D("2024-10-10"))  # the company calendar is untouched


def test_scalar_index_of_matches_the_vectorised_path() -> None:
    """The scalar fast path must agree with the array path on every day, holidays and 调休 included."""
    import numpy as np

    from models.planning.calendar import WorkCalendar

    calendar = WorkCalendar("CN", extra_days_off=[date(2026, 5, 6)], extra_workdays=[date(2026, 5, 9)])
    days = [date(2025, 12, 1) + timedelta(days=k) for k in range(800)]
    for roll in ("forward", "backward"):
        vectorised = calendar.index_of(np.array(days, dtype="datetime64[D]"), roll)
        assert [calendar.index_of(d, roll) for d in days] == vectorised.tolist()
