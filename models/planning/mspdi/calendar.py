"""The MS Project calendar model: working hours per weekday, dated exceptions, work weeks.

MS Project saves moments and working minutes; the Plan counts working days
and calendar dates. Reading and writing must turn one into the other by the
same rules, so the calendar is kept here as MS Project has it, together with
the rules that say which working day a saved start or finish stands for
(`start_date_of`, `finish_date_of`, `day_span`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models.planning.calendar import WorkCalendar

DEFAULT_HOURS: tuple[tuple[time, time], ...] = ((time(8), time(12)), (time(13), time(17)))
_SEARCH_LIMIT_DAYS = 3660

TimeRange = tuple[time, time]
"""A working period of one day; an end of 00:00 means midnight at the end of the day."""


def start_minute(period: TimeRange) -> int:
    return period[0].hour * 60 + period[0].minute


def _end_minute(period: TimeRange) -> int:
    end = period[1].hour * 60 + period[1].minute
    return end if end > start_minute(period) else 24 * 60


@dataclass(frozen=True)
class WorkWeek:
    """An MS Project "work week": different weekday hours for a range of dates (e.g. summer hours)."""

    start: date
    finish: date
    weekday_hours: Mapping[int, tuple[TimeRange, ...]]
    """Monday = 0; only the weekdays the work week redefines."""


@dataclass
class MspdiCalendar:
    """One resolved MS Project calendar: base calendar inheritance and recurring exceptions already applied.

    Kept as MS Project has it (hours per weekday, dated exceptions) rather than as a
    list of working days so that saved time-stamps can be turned into working days
    exactly, and so the CPM calendar can be built from `weekend`,
    `non_working_dates` and `extra_working_dates`.
    """

    uid: str = "1"
    name: str = "Standard"
    weekday_hours: dict[int, tuple[TimeRange, ...]] = field(
        default_factory=lambda: {d: DEFAULT_HOURS if d < 5 else () for d in range(7)}
    )
    """Monday = 0 … Sunday = 6; an empty tuple is a non-working weekday."""
    exceptions: dict[date, tuple[TimeRange, ...]] = field(default_factory=dict)
    """Dated exceptions, recurrences expanded; an empty tuple is a day off."""
    work_weeks: tuple[WorkWeek, ...] = ()
    base_uid: str | None = None
    minutes_per_day: int = 480
    minutes_per_week: int = 2400
    days_per_month: int = 20
    default_start: time = time(8)
    default_finish: time = time(17)

    @classmethod
    def standard(
        cls,
        working_weekdays: Iterable[int] = (0, 1, 2, 3, 4),
        *,
        minutes_per_day: int = 480,
        non_working_dates: Iterable[date] = (),
        extra_working_dates: Iterable[date] = (),
    ) -> MspdiCalendar:
        """MS Project's Standard calendar shape: 08:00–12:00 and 13:00 onwards, `minutes_per_day` a day."""
        hours = _day_hours(minutes_per_day)
        weekdays = frozenset(working_weekdays)
        exceptions: dict[date, tuple[TimeRange, ...]] = {d: hours for d in extra_working_dates}
        exceptions.update({d: () for d in non_working_dates})
        return cls(
            weekday_hours={d: hours if d in weekdays else () for d in range(7)},
            exceptions=exceptions,
            minutes_per_day=minutes_per_day,
            minutes_per_week=minutes_per_day * len(weekdays),
            default_start=hours[0][0],
            default_finish=hours[-1][1],
        )

    @classmethod
    def from_work_calendar(
        cls, work_calendar: WorkCalendar, first: date, last: date, *, minutes_per_day: int = 480
    ) -> MspdiCalendar:
        """A Standard-shaped calendar working the days `work_calendar` works from `first` to `last`.

        Its weekdays are the complement of the WorkCalendar's weekend; every date
        in the range where the two disagree becomes an exception: a public holiday
        on a weekday a day off, a 调休 make-up Saturday or Sunday a working day.
        """
        weekdays = frozenset(range(7)) - frozenset(work_calendar.weekend)
        return cls.standard(weekdays, minutes_per_day=minutes_per_day).following(work_calendar, first, last)

    def following(self, work_calendar: WorkCalendar, first: date, last: date) -> MspdiCalendar:
        """This calendar with exceptions wherever `work_calendar` works differently from `first` to `last`.

        Days the WorkCalendar takes off become days off; days it works although
        this calendar does not (调休 make-up weekend days) become working days
        with the hours of a normal working day. Dates outside the range are left as they are.
        """
        if last < first:
            return self
        days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
        working = [bool(w) for w in work_calendar.is_workday(days)]
        hours = self.normal_day_hours
        exceptions = dict(self.exceptions)
        for day, works in zip(days, working):
            if works != self.is_working_day(day):
                exceptions[day] = hours if works else ()
        return replace(self, exceptions=exceptions)

    def to_work_calendar(self) -> WorkCalendar:
        """The working days of this calendar as a CPM calendar (no country: MS Project's days only)."""
        from models.planning.calendar import WorkCalendar

        return WorkCalendar(
            None,
            weekend=self.weekend,
            extra_days_off=self.non_working_dates,
            extra_workdays=self.extra_working_dates,
        )

    @property
    def normal_day_hours(self) -> tuple[TimeRange, ...]:
        """The hours of the first working weekday (Monday first), or a Standard day of `minutes_per_day`."""
        for weekday in range(7):
            if self.weekday_hours.get(weekday):
                return self.weekday_hours[weekday]
        return _day_hours(self.minutes_per_day)

    def working_times(self, day: date) -> tuple[TimeRange, ...]:
        """The working periods of one date: exception first, then a work week, then the weekday."""
        if day in self.exceptions:
            return self.exceptions[day]
        weekday = day.weekday()
        for week in self.work_weeks:
            if week.start <= day <= week.finish and weekday in week.weekday_hours:
                return week.weekday_hours[weekday]
        return self.weekday_hours.get(weekday, ())

    def is_working_day(self, day: date) -> bool:
        return bool(self.working_times(day))

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day` (`day` itself if the calendar never works)."""
        for offset in range(1, _SEARCH_LIMIT_DAYS):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        return day

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before `day` (`day` itself if the calendar never works)."""
        for offset in range(1, _SEARCH_LIMIT_DAYS):
            candidate = day - timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        return day

    @property
    def working_weekdays(self) -> frozenset[int]:
        """Weekdays that work in a normal week (Monday = 0)."""
        return frozenset(d for d, hours in self.weekday_hours.items() if hours)

    @property
    def weekend(self) -> frozenset[int]:
        """Weekdays off in a normal week, in the form `calendar.WorkCalendar(weekend=…)` takes."""
        return frozenset(range(7)) - self.working_weekdays

    @property
    def hours_per_day(self) -> float:
        """Hours in one working day of durations and lags (MinutesPerDay / 60)."""
        return self.minutes_per_day / 60

    def _irregular_dates(self) -> set[date]:
        dates = set(self.exceptions)
        for week in self.work_weeks:
            dates.update(week.start + timedelta(days=k) for k in range((week.finish - week.start).days + 1))
        return dates

    @property
    def non_working_dates(self) -> frozenset[date]:
        """Dates off although their weekday normally works (holidays, shutdowns, work-week days off)."""
        normal = self.working_weekdays
        return frozenset(d for d in self._irregular_dates() if d.weekday() in normal and not self.is_working_day(d))

    @property
    def extra_working_dates(self) -> frozenset[date]:
        """Dates that work although their weekday normally does not (a working Saturday, 调休)."""
        normal = self.working_weekdays
        return frozenset(d for d in self._irregular_dates() if d.weekday() not in normal and self.is_working_day(d))

    def day_start(self, day: date) -> time:
        periods = self.working_times(day)
        return periods[0][0] if periods else self.default_start

    def day_finish(self, day: date) -> time:
        periods = self.working_times(day)
        return periods[-1][1] if periods else self.default_finish

    def elapsed_to_working_days(self, calendar_days: float) -> float:
        """Calendar days as working days at this calendar's weekly rate (elapsed lags and durations)."""
        return calendar_days * len(self.working_weekdays) / 7


def _day_hours(minutes_per_day: int) -> tuple[TimeRange, ...]:
    """08:00–12:00 then 13:00 onwards for the rest of the day's minutes, as MS Project's Standard calendar."""
    minutes = max(1, min(int(minutes_per_day), 22 * 60))
    morning = min(minutes, 240)
    periods = [(time(8), _clock(8 * 60 + morning))]
    if minutes > morning:
        periods.append((time(13), _clock(13 * 60 + minutes - morning)))
    return tuple(periods)


def _clock(minute: int) -> time:
    minute %= 24 * 60
    return time(minute // 60, minute % 60)


def start_date_of(moment: datetime, calendar: MspdiCalendar) -> date:
    """The working day a saved start stands for: at or after the day's last working minute, the next one."""
    day = moment.date()
    periods = calendar.working_times(day)
    if periods and moment.hour * 60 + moment.minute >= _end_minute(periods[-1]):
        return calendar.next_working_day(day)
    return day


def finish_date_of(moment: datetime, calendar: MspdiCalendar) -> date:
    """The last working day a saved finish stands for: at or before the day's first working minute, the previous one."""
    day = moment.date()
    periods = calendar.working_times(day)
    if periods and moment.hour * 60 + moment.minute <= start_minute(periods[0]):
        return calendar.previous_working_day(day)
    return day


def same_working_time(a: MspdiCalendar, b: MspdiCalendar) -> bool:
    return (a is b) or (
        a.weekday_hours == b.weekday_hours and a.exceptions == b.exceptions and a.work_weeks == b.work_weeks
    )


def day_span(
    start: datetime | None, finish: datetime | None, calendar: MspdiCalendar
) -> tuple[date | None, date | None]:
    if start is not None and finish is not None and finish < start:
        return start.date(), finish.date()
    if start is not None and finish is not None and finish == start:
        day = start_date_of(start, calendar)
        return day, day
    return (
        None if start is None else start_date_of(start, calendar),
        None if finish is None else finish_date_of(finish, calendar),
    )
