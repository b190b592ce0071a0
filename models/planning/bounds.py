"""The limits the planning engine works within: the calendar's date range and the longest task it believes.

Source data can hold anything: a due date typed as 0001-01-01, a "someday" of
9999-12-31, a prediction that a ticket left open for twelve years takes another
twelve. None of these may stop the plan of a whole project (or of every project),
so the model layer checks each value against these bounds before it reaches the
working calendar and drops or caps it, saying why (`Adjustment` rows that end up
in the `planning_errors` table with outcome ``adjusted``).
"""

from __future__ import annotations

from datetime import date, datetime

MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2200, 12, 31)
"""The working calendar covers 1900-01-01..2200-12-31: holiday data (``holidays``,
``chinesecalendar``) make no sense outside it, and a plan date outside it is a typing
slip or a placeholder ("no date"), not a plan."""

MAX_TASK_WORKDAYS = 1_000
"""The longest single task, in working days (about four working years), that the
planning engine accepts from estimates, story points, planned dates or the duration
model. Anything longer is a stale ticket or a unit mistake (hours typed as days),
not work anyone plans: predicted durations of tickets left open for a decade reached
3,222 working days, and a chain of such draws ran the Monte Carlo past the end of the
calendar (2200) for the whole portfolio. With the cap, a chain of 20 tasks at the cap,
each drawn at PERT's pessimistic 1.6x, still ends inside the calendar (about 128 years
from today); a project whose chains run longer gets a ``forecast`` error row of its own."""


def as_day(value: date | datetime | None) -> date | None:
    """The calendar day of a date or timestamp (None stays None)."""
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


def date_in_range(value: date | datetime | None) -> bool:
    """Whether a date (or timestamp) is missing or inside MIN_DATE..MAX_DATE."""
    day = as_day(value)
    return day is None or MIN_DATE <= day <= MAX_DATE


def out_of_range_reason(what: str, value: date | datetime) -> str:
    """The one wording every dropped date uses, so pages and logs read alike."""
    return f"{what} {as_day(value).isoformat()} is outside {MIN_DATE.isoformat()}..{MAX_DATE.isoformat()}: ignored"
