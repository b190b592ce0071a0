"""Microsoft Project XML (MSPDI) in and out of the shared `Plan`.

PMOs exchange schedules as MS Project files, so Lodestar must read what a
planner saved (tasks, links, calendar, baselines, and the dates MS Project
computed, to check our CPM against) and write plans MS Project can open.

MS Project stores moments and minutes; the Plan stores working days and
calendar dates. The conversions decided here:

* **Durations** (``PT16H0M0S``) are working minutes; ``minutes / MinutesPerDay``
  gives working days (default 480, as MS Project's). Elapsed durations are
  calendar time and become ``calendar days × working weekdays / 7``.
* **Lags** (``LinkLag``) are tenths of a minute whatever ``LagFormat`` shows, so
  working-time lags become ``LinkLag / 10 / MinutesPerDay`` working days
  whether displayed as minutes, days or weeks. Elapsed lags (``ed``, ``ew`` …)
  become ``calendar days × working weekdays / 7`` (MS Project would count
  through nights and weekends; the Plan has no elapsed time). Percent lags
  (format 19/20/51/52) hold the percentage itself and become that share of the
  predecessor's duration. The raw value and format of every link are kept in
  `MspdiProject.lags`, so `write_project` writes them back unchanged.
* **Dates.** A start stands for the working day its work begins on, a finish
  for the last working day that has work (inclusive, as `warehouse_plan` counts
  durations). MS Project writes moments on day boundaries: a task that ends on
  Friday evening may be saved as ``Monday 08:00`` and a start ``Friday 17:00``
  means Monday. So a finish at or before the day's first working minute rolls
  back to the previous working day, and a start at or after the day's last
  working minute rolls on to the next one, using the task's calendar. A moment
  on a day without working time keeps its date (constraints and baselines are
  sometimes put on weekends). A zero-length task (milestone) is dated by the
  start rule, the morning it becomes true, as `cpm` dates milestones: one MS
  Project shows at Friday 17:00 is dated Monday. Spans whose finish lies
  before their start (seen in baselines) keep both dates as written.
  Start-type constraints (SNET, SNLT, MSO) follow the start rule; finish-type
  ones (FNET, FNLT, MFO) and deadlines the finish rule. The status date follows
  the start rule because the Plan reads it as the day remaining work may start
  on. Writing puts a start at the day's first working minute and a finish at
  its last, so dates survive a round trip.
* **Constraint ALAP** is not in the Plan's vocabulary: such tasks are read as
  ASAP and listed in `MspdiProject.alap_task_ids`, which `write_project`
  restores.
* **Resources:** ``MaxUnits`` is the capacity; ``days_off`` are the dates a
  resource's calendar is off while the project calendar works. A resource
  calendar's weekday pattern (night shift, part time) has no place in a
  Resource; it stays in `MspdiProject.calendars`, and `calendar_for` tells which
  calendar MS Project scheduled each task on.
* **What is left out of the Plan:** the project summary task (UID 0), blank
  rows (``IsNull``), inactive tasks (MS Project ignores them when scheduling;
  listed in `inactive_task_ids`), links from other projects, and assignments
  to no resource (``ResourceUID -65535``).

Task UIDs become ``task_id``. Plans whose ids are not positive integers (Jira
keys) are written with renumbered UIDs and the original id in the task's
``Text1`` field (alias "Lodestar ID"), which `read_mspdi` prefers, so ids
survive a round trip; resources likewise.
"""

from __future__ import annotations

import math
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import BinaryIO

from models.planning.model import Assignment, Plan, PlanLink, PlanTask, Resource

__all__ = [
    "MspdiCalendar",
    "MspdiError",
    "MspdiProject",
    "RawLag",
    "SavedTaskDates",
    "WorkWeek",
    "finish_date_of",
    "read_mspdi",
    "saved_schedule",
    "start_date_of",
    "write_mspdi",
    "write_project",
]

NS = "http://schemas.microsoft.com/project"
LINK_TYPES: dict[int, str] = {0: "FF", 1: "FS", 2: "SF", 3: "SS"}
LINK_CODES: dict[str, int] = {name: code for code, name in LINK_TYPES.items()}
CONSTRAINT_TYPES: dict[int, str] = {
    0: "ASAP", 1: "ALAP", 2: "MSO", 3: "MFO", 4: "SNET", 5: "SNLT", 6: "FNET", 7: "FNLT",
}
CONSTRAINT_CODES: dict[str, int] = {name: code for code, name in CONSTRAINT_TYPES.items()}
START_CONSTRAINTS = frozenset({"MSO", "SNET", "SNLT"})
LODESTAR_ID_ALIAS = "Lodestar ID"
TASK_TEXT1 = "188743731"
RESOURCE_TEXT1 = "205520904"
NO_RESOURCE = "-65535"
FORMAT_DAYS = 7
_ELAPSED_FORMATS = frozenset({4, 6, 8, 10, 12, 36, 38, 40, 42, 44})
_PERCENT_FORMATS = frozenset({19, 51})
_ELAPSED_PERCENT_FORMATS = frozenset({20, 52})
_MINUTES_PER_ELAPSED_DAY = 24 * 60
_DEFAULT_HOURS: tuple[tuple[time, time], ...] = ((time(8), time(12)), (time(13), time(17)))
_DURATION = re.compile(
    r"^(?P<sign>-)?P(?:(?P<y>\d+(?:\.\d+)?)Y)?(?:(?P<mo>\d+(?:\.\d+)?)M)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<mi>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_SEARCH_LIMIT_DAYS = 3660

TimeRange = tuple[time, time]
"""A working period of one day; an end of 00:00 means midnight at the end of the day."""


class MspdiError(ValueError):
    """An MSPDI document that cannot be read, naming the file and the element at fault."""


# --------------------------------------------------------------------------- calendars


def _start_minute(period: TimeRange) -> int:
    return period[0].hour * 60 + period[0].minute


def _end_minute(period: TimeRange) -> int:
    end = period[1].hour * 60 + period[1].minute
    return end if end > _start_minute(period) else 24 * 60


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
        default_factory=lambda: {d: _DEFAULT_HOURS if d < 5 else () for d in range(7)}
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
    if periods and moment.hour * 60 + moment.minute <= _start_minute(periods[0]):
        return calendar.previous_working_day(day)
    return day


# --------------------------------------------------------------------------- project


@dataclass(frozen=True)
class SavedTaskDates:
    """What MS Project computed and saved for one task, as saved (moments, not days)."""

    start: datetime | None = None
    finish: datetime | None = None
    early_start: datetime | None = None
    early_finish: datetime | None = None
    late_start: datetime | None = None
    late_finish: datetime | None = None
    total_slack_days: float | None = None
    free_slack_days: float | None = None
    critical: bool | None = None


@dataclass(frozen=True)
class RawLag:
    """A link's lag exactly as MSPDI had it, so a round trip keeps elapsed and percent lags."""

    link_lag: int
    """Tenths of a minute, or the percentage for percent formats."""
    lag_format: int
    lag_days: float
    """What it became in the Plan; a Plan edit that changes the lag makes this record stale."""


@dataclass
class MspdiProject:
    """A read MS Project file: the Plan plus what the Plan has no room for."""

    plan: Plan
    calendar: MspdiCalendar = field(default_factory=MspdiCalendar)
    """The project calendar (``CalendarUID``)."""
    calendars: dict[str, MspdiCalendar] = field(default_factory=dict)
    """Every calendar by UID, resolved against its base calendar."""
    baselines: dict[int, dict[str, tuple[date | None, date | None, float | None]]] = field(default_factory=dict)
    """{baseline number: {task_id: (start, finish, duration_days)}}; number 0 is MS Project's "Baseline"."""
    baseline_work_hours: dict[int, dict[str, float]] = field(default_factory=dict)
    saved: dict[str, SavedTaskDates] = field(default_factory=dict)
    lags: dict[tuple[str, str], RawLag] = field(default_factory=dict)
    """(predecessor_id, successor_id) → the lag as saved."""
    task_calendar_uid: dict[str, str] = field(default_factory=dict)
    """Tasks with a calendar of their own (``CalendarUID`` other than -1)."""
    resource_calendar_uid: dict[str, str] = field(default_factory=dict)
    alap_task_ids: frozenset[str] = frozenset()
    manual_task_ids: frozenset[str] = frozenset()
    inactive_task_ids: frozenset[str] = frozenset()
    name: str = ""
    """``Name``: usually the file name MS Project saved to."""
    title: str = ""
    start: datetime | None = None
    finish: datetime | None = None
    status_date: datetime | None = None
    current_date: datetime | None = None
    schedule_from_start: bool = True
    honor_constraints: bool = False
    """``HonorConstraints`` as saved."""
    _assigned_calendars: dict[str, set[str | None]] | None = field(default=None, repr=False, compare=False)
    """Calendars of each task's assigned resources, indexed on first use (the Plan as read)."""

    @property
    def minutes_per_day(self) -> int:
        return self.calendar.minutes_per_day

    @property
    def hours_per_day(self) -> float:
        return self.calendar.hours_per_day

    def calendar_for(self, task_id: str) -> MspdiCalendar:
        """The calendar MS Project scheduled a task on.

        The task's own calendar if it has one; otherwise, when every assigned
        resource works on the same calendar, that one (MS Project schedules
        resource-driven tasks on resource calendars); otherwise the project calendar.
        """
        own = self.task_calendar_uid.get(task_id)
        if own in self.calendars:
            return self.calendars[own]
        if self._assigned_calendars is None:
            assigned: dict[str, set[str | None]] = {}
            for a in self.plan.assignments:
                assigned.setdefault(a.task_id, set()).add(self.resource_calendar_uid.get(a.resource_id))
            self._assigned_calendars = assigned
        uids = self._assigned_calendars.get(task_id, set())
        if len(uids) == 1:
            uid = next(iter(uids))
            if uid in self.calendars:
                return self.calendars[uid]
        return self.calendar

    @property
    def tasks_on_other_calendars(self) -> frozenset[str]:
        """Tasks whose working time differs from the project calendar's (compare them with care)."""
        return frozenset(
            t.task_id for t in self.plan.tasks
            if not _same_working_time(self.calendar_for(t.task_id), self.calendar)
        )


def _same_working_time(a: MspdiCalendar, b: MspdiCalendar) -> bool:
    return (a is b) or (
        a.weekday_hours == b.weekday_hours and a.exceptions == b.exceptions and a.work_weeks == b.work_weeks
    )


def saved_schedule(project: MspdiProject) -> dict[str, tuple[date | None, date | None]]:
    """MS Project's own Start/Finish for every task as (first working day, last working day).

    This is the yardstick for our CPM: the same day conventions as the Plan
    (inclusive finish), converted on the calendar each task was scheduled on.
    """
    result: dict[str, tuple[date | None, date | None]] = {}
    for task in project.plan.tasks:
        saved = project.saved.get(task.task_id, SavedTaskDates())
        calendar = project.calendar_for(task.task_id)
        result[task.task_id] = _day_span(saved.start, saved.finish, calendar)
    return result


def _day_span(
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


# --------------------------------------------------------------------------- reading helpers


class _Doc:
    """Namespace-agnostic element access with errors that name the file."""

    def __init__(self, root: ET.Element, source: str) -> None:
        self.source = source
        match = re.match(r"^\{([^}]*)\}", root.tag)
        self.prefix = "{" + match.group(1) + "}" if match else ""

    def tag(self, name: str) -> str:
        return self.prefix + name

    def find(self, element: ET.Element, path: str) -> ET.Element | None:
        return element.find("/".join(self.prefix + part for part in path.split("/")))

    def findall(self, element: ET.Element, path: str) -> list[ET.Element]:
        return element.findall("/".join(self.prefix + part for part in path.split("/")))

    def text(self, element: ET.Element, name: str) -> str | None:
        child = self.find(element, name)
        if child is None or child.text is None:
            return None
        value = child.text.strip()
        return value or None

    def fail(self, where: str, name: str, value: str, problem: str) -> MspdiError:
        return MspdiError(f"{self.source}: {where}, <{name}>: {problem} (got {value!r})")

    def integer(self, element: ET.Element, name: str, where: str) -> int | None:
        value = self.text(element, name)
        if value is None:
            return None
        try:
            return int(float(value))
        except ValueError:
            raise self.fail(where, name, value, "not a number") from None

    def number(self, element: ET.Element, name: str, where: str) -> float | None:
        value = self.text(element, name)
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            raise self.fail(where, name, value, "not a number") from None

    def boolean(self, element: ET.Element, name: str) -> bool | None:
        value = self.text(element, name)
        if value is None:
            return None
        return value.lower() in ("1", "true", "yes")

    def moment(self, element: ET.Element, name: str, where: str) -> datetime | None:
        value = self.text(element, name)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise self.fail(where, name, value, "not a date-time like 2024-01-31T08:00:00") from None
        return parsed.replace(tzinfo=None)

    def clock(self, element: ET.Element, name: str, where: str) -> time | None:
        value = self.text(element, name)
        if value is None:
            return None
        try:
            return time.fromisoformat(value[:8])
        except ValueError:
            raise self.fail(where, name, value, "not a time like 08:00:00") from None

    def minutes(self, element: ET.Element, name: str, where: str) -> float | None:
        value = self.text(element, name)
        if value is None:
            return None
        parsed = _duration_minutes(value)
        if parsed is None:
            raise self.fail(where, name, value, "not an ISO 8601 duration like PT8H0M0S")
        return parsed


def _duration_minutes(value: str) -> float | None:
    """Minutes of an xsd:duration; MS Project writes hours/minutes/seconds, D/M/Y are taken as 24 h/30 d/365 d."""
    match = _DURATION.match(value.strip())
    if match is None or value.strip() in ("P", "-P", "PT", "-PT"):
        return None
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items() if k != "sign"}
    minutes = (
        parts["y"] * 365 * 1440 + parts["mo"] * 30 * 1440 + parts["d"] * 1440
        + parts["h"] * 60 + parts["mi"] + parts["s"] / 60
    )
    return -minutes if match.group("sign") else minutes


def _load(path_or_bytes: str | os.PathLike[str] | bytes | BinaryIO) -> tuple[ET.Element, str]:
    if isinstance(path_or_bytes, (bytes, bytearray)):
        data, source = bytes(path_or_bytes), "<bytes>"
    elif isinstance(path_or_bytes, (str, os.PathLike)):
        source = os.fspath(path_or_bytes)
        try:
            with open(source, "rb") as handle:
                data = handle.read()
        except OSError as error:
            raise MspdiError(f"{source}: cannot be read ({error.strerror or error})") from error
    else:
        data, source = path_or_bytes.read(), getattr(path_or_bytes, "name", "<stream>")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        raise MspdiError(f"{source}: not well-formed XML ({error})") from error
    if root.tag.rsplit("}", 1)[-1] != "Project":
        raise MspdiError(f"{source}: the root element is <{root.tag}>, not an MSPDI <Project>")
    return root, str(source)


# --------------------------------------------------------------------------- calendars in


@dataclass
class _RawCalendar:
    uid: str
    name: str
    base_uid: str | None
    weekdays: dict[int, tuple[TimeRange, ...]]
    exceptions: dict[date, tuple[TimeRange, ...]]
    work_weeks: list[WorkWeek]


def _ms_day(day_type: int) -> int:
    """MSPDI DayType 1 = Sunday … 7 = Saturday → Python's Monday = 0."""
    return (day_type + 5) % 7


def _read_times(doc: _Doc, element: ET.Element, where: str) -> tuple[TimeRange, ...]:
    periods = []
    for period in doc.findall(element, "WorkingTimes/WorkingTime"):
        start = doc.clock(period, "FromTime", where)
        finish = doc.clock(period, "ToTime", where)
        if start is not None and finish is not None:
            periods.append((start, finish))
    return tuple(sorted(periods, key=_start_minute))


def _day_times(doc: _Doc, element: ET.Element, where: str) -> tuple[TimeRange, ...]:
    if not doc.boolean(element, "DayWorking"):
        return ()
    return _read_times(doc, element, where) or _DEFAULT_HOURS


def _date_range(doc: _Doc, element: ET.Element, where: str) -> tuple[date, date] | None:
    period = doc.find(element, "TimePeriod")
    if period is None:
        return None
    start = doc.moment(period, "FromDate", where)
    finish = doc.moment(period, "ToDate", where)
    if start is None or finish is None:
        return None
    return start.date(), max(start.date(), finish.date())


def _nth_weekday(year: int, month: int, weekday: int, position: int) -> date | None:
    """The `position`-th (0-based; 4 = last) `weekday` of a month."""
    first = date(year, month, 1)
    days = [first + timedelta(days=k) for k in range(31) if (first + timedelta(days=k)).month == month]
    matches = [d for d in days if d.weekday() == weekday]
    if not matches:
        return None
    return matches[-1] if position >= 4 or position >= len(matches) else matches[position]


def _month_day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _exception_dates(doc: _Doc, element: ET.Element, where: str) -> list[date]:
    """Dates of one 2007+ calendar exception, recurrences expanded within its TimePeriod."""
    span = _date_range(doc, element, where)
    if span is None:
        return []
    first, last = span
    kind = doc.integer(element, "Type", where) or 1
    every = max(1, doc.integer(element, "Period", where) or 1)
    all_days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    if kind in (0, 1, 7):
        return all_days[::every]
    if kind == 6:
        mask = doc.integer(element, "DaysOfWeek", where) or 0
        weekdays = {_ms_day(bit + 1) for bit in range(7) if mask & (1 << bit)}
        week_zero = first - timedelta(days=first.weekday())
        dates = [
            d for d in all_days
            if d.weekday() in weekdays and ((d - week_zero).days // 7) % every == 0
        ]
    else:
        month_item = doc.integer(element, "MonthItem", where)
        weekday = _ms_day(month_item - 2) if month_item is not None and 3 <= month_item <= 9 else None
        position = doc.integer(element, "MonthPosition", where) or 0
        day_number = doc.integer(element, "MonthDay", where) or first.day
        month = (doc.integer(element, "Month", where) or 0) + 1
        candidates: list[date | None] = []
        if kind in (4, 5):
            index = first.year * 12 + first.month - 1
            while index <= last.year * 12 + last.month - 1:
                year, month0 = divmod(index, 12)
                if kind == 4:
                    candidates.append(_month_day(year, month0 + 1, day_number))
                elif weekday is not None:
                    candidates.append(_nth_weekday(year, month0 + 1, weekday, position))
                index += every
        elif kind in (2, 3):
            for year in range(first.year, last.year + 1):
                if kind == 2:
                    candidates.append(_month_day(year, month, day_number))
                elif weekday is not None:
                    candidates.append(_nth_weekday(year, month, weekday, position))
        dates = [d for d in candidates if d is not None and first <= d <= last]
    occurrences = doc.integer(element, "Occurrences", where)
    if doc.boolean(element, "EnteredByOccurrences") and occurrences:
        dates = dates[:occurrences]
    return dates


def _read_calendar(doc: _Doc, element: ET.Element) -> _RawCalendar:
    uid = doc.text(element, "UID") or ""
    where = f"calendar UID {uid}"
    weekdays: dict[int, tuple[TimeRange, ...]] = {}
    legacy: dict[date, tuple[TimeRange, ...]] = {}
    for day in doc.findall(element, "WeekDays/WeekDay"):
        day_type = doc.integer(day, "DayType", where)
        if day_type is None:
            continue
        if day_type == 0:
            span = _date_range(doc, day, where)
            if span is not None:
                times = _day_times(doc, day, where)
                for k in range((span[1] - span[0]).days + 1):
                    legacy[span[0] + timedelta(days=k)] = times
        elif 1 <= day_type <= 7:
            weekdays[_ms_day(day_type)] = _day_times(doc, day, where)
    exceptions: dict[date, tuple[TimeRange, ...]] = {}
    for exception in doc.findall(element, "Exceptions/Exception"):
        times = _day_times(doc, exception, where)
        for day in _exception_dates(doc, exception, where):
            exceptions[day] = times
    work_weeks = []
    for week in doc.findall(element, "WorkWeeks/WorkWeek"):
        span = _date_range(doc, week, where)
        if span is None:
            continue
        hours = {
            _ms_day(day_type): _day_times(doc, day, where)
            for day in doc.findall(week, "WeekDays/WeekDay")
            if (day_type := doc.integer(day, "DayType", where)) and 1 <= day_type <= 7
        }
        work_weeks.append(WorkWeek(span[0], span[1], hours))
    base = doc.text(element, "BaseCalendarUID")
    return _RawCalendar(
        uid=uid,
        name=doc.text(element, "Name") or "",
        base_uid=None if base in (None, "-1") or doc.boolean(element, "IsBaseCalendar") else base,
        weekdays=weekdays,
        exceptions=exceptions or legacy,
        work_weeks=work_weeks,
    )


def _resolve_calendars(raw: dict[str, _RawCalendar], settings: dict) -> dict[str, MspdiCalendar]:
    resolved: dict[str, MspdiCalendar] = {}

    def resolve(uid: str, seen: tuple[str, ...]) -> MspdiCalendar:
        if uid in resolved:
            return resolved[uid]
        own = raw[uid]
        base_uid = own.base_uid if own.base_uid in raw and own.base_uid not in seen else None
        base = resolve(base_uid, seen + (uid,)) if base_uid else MspdiCalendar(**settings)
        weekday_hours = dict(base.weekday_hours)
        weekday_hours.update(own.weekdays)
        exceptions = dict(base.exceptions)
        exceptions.update(own.exceptions)
        calendar = MspdiCalendar(
            uid=uid,
            name=own.name,
            weekday_hours=weekday_hours,
            exceptions=exceptions,
            work_weeks=tuple(own.work_weeks) + base.work_weeks,
            base_uid=base_uid,
            **settings,
        )
        resolved[uid] = calendar
        return calendar

    for uid in raw:
        resolve(uid, ())
    return resolved


# --------------------------------------------------------------------------- reading


def _lodestar_alias_fields(doc: _Doc, root: ET.Element) -> set[str]:
    return {
        doc.text(attribute, "FieldID") or ""
        for attribute in doc.findall(root, "ExtendedAttributes/ExtendedAttribute")
        if doc.text(attribute, "Alias") == LODESTAR_ID_ALIAS
    }


def _lodestar_id(doc: _Doc, element: ET.Element, field_id: str, aliased: set[str]) -> str | None:
    if field_id not in aliased:
        return None
    for attribute in doc.findall(element, "ExtendedAttribute"):
        if doc.text(attribute, "FieldID") == field_id:
            return doc.text(attribute, "Value")
    return None


def read_mspdi(path_or_bytes: str | os.PathLike[str] | bytes | BinaryIO) -> MspdiProject:
    """Read an MSPDI document (a path, its bytes, or a binary stream) into a Plan and its context."""
    root, source = _load(path_or_bytes)
    doc = _Doc(root, source)
    where = "project"
    minutes_per_day = doc.integer(root, "MinutesPerDay", where) or 480
    settings = {
        "minutes_per_day": minutes_per_day,
        "minutes_per_week": doc.integer(root, "MinutesPerWeek", where) or minutes_per_day * 5,
        "days_per_month": doc.integer(root, "DaysPerMonth", where) or 20,
        "default_start": doc.clock(root, "DefaultStartTime", where) or time(8),
        "default_finish": doc.clock(root, "DefaultFinishTime", where) or time(17),
    }
    raw_calendars = {c.uid: c for c in (_read_calendar(doc, e) for e in doc.findall(root, "Calendars/Calendar"))}
    calendars = _resolve_calendars(raw_calendars, settings)
    calendar_uid = doc.text(root, "CalendarUID")
    if calendar_uid not in calendars:
        calendar_uid = next((uid for uid, c in raw_calendars.items() if c.base_uid is None), None)
    project_calendar = calendars[calendar_uid] if calendar_uid else MspdiCalendar(**settings)

    aliased = _lodestar_alias_fields(doc, root)
    uid_to_id: dict[str, str] = {}
    task_calendar_uid: dict[str, str] = {}
    rows: list[tuple[int, ET.Element, PlanTask]] = []
    alap, manual, inactive = set(), set(), set()
    summary_name = ""
    for position, element in enumerate(doc.findall(root, "Tasks/Task")):
        uid = doc.text(element, "UID")
        task_where = f"task UID {uid}"
        if uid is None:
            raise MspdiError(f"{source}: task #{position + 1} has no <UID>")
        if doc.boolean(element, "IsNull"):
            continue
        level = doc.integer(element, "OutlineLevel", task_where)
        outline = doc.text(element, "OutlineNumber") or doc.text(element, "WBS")
        if level is None:
            level = outline.count(".") + 1 if outline else 1
        if uid == "0" or level == 0:
            summary_name = doc.text(element, "Name") or ""
            continue
        task_id = _lodestar_id(doc, element, TASK_TEXT1, aliased) or uid
        if doc.boolean(element, "Active") is False:
            inactive.add(task_id)
            uid_to_id[uid] = task_id
            continue
        uid_to_id[uid] = task_id
        task = PlanTask(task_id=task_id, name=doc.text(element, "Name") or "", outline_level=level,
                        wbs=doc.text(element, "WBS"))
        rows.append((doc.integer(element, "ID", task_where) or position, element, task))
        own_calendar = doc.text(element, "CalendarUID")
        if own_calendar not in (None, "-1") and own_calendar in calendars:
            task_calendar_uid[task_id] = own_calendar
        if doc.boolean(element, "Manual"):
            manual.add(task_id)
    rows.sort(key=lambda row: row[0])

    project = MspdiProject(
        plan=Plan(tasks=[]),
        calendar=project_calendar,
        calendars=calendars,
        task_calendar_uid=task_calendar_uid,
        name=doc.text(root, "Name") or "",
        title=doc.text(root, "Title") or summary_name,
        start=doc.moment(root, "StartDate", where),
        finish=doc.moment(root, "FinishDate", where),
        status_date=doc.moment(root, "StatusDate", where),
        current_date=doc.moment(root, "CurrentDate", where),
        schedule_from_start=doc.boolean(root, "ScheduleFromStart") is not False,
        honor_constraints=bool(doc.boolean(root, "HonorConstraints")),
        inactive_task_ids=frozenset(inactive),
        manual_task_ids=frozenset(manual),
    )
    resources, assignments = _read_resources(doc, root, project, aliased, uid_to_id)
    project.plan.resources = resources
    project.plan.assignments = assignments

    stack: list[PlanTask] = []
    for _, element, task in rows:
        while stack and (stack[-1].outline_level or 0) >= (task.outline_level or 1):
            stack.pop()
        task.parent_id = stack[-1].task_id if stack else None
        stack.append(task)
        if _read_task(doc, element, task, project):
            alap.add(task.task_id)
    project.alap_task_ids = frozenset(alap)
    tasks = [task for _, _, task in rows]
    project.plan.tasks = tasks
    for task in tasks:
        if task.assignee_id is None:
            task.assignee_id = next((a.resource_id for a in assignments if a.task_id == task.task_id), None)
    project.plan.links = _read_links(doc, rows, project, uid_to_id)
    project.plan.name = project.title or project.name
    if project.start is not None:
        project.plan.start = start_date_of(project.start, project_calendar)
    if project.status_date is not None:
        project.plan.status_date = start_date_of(project.status_date, project_calendar)
    return project


def _read_task(doc: _Doc, element: ET.Element, task: PlanTask, project: MspdiProject) -> bool:
    """Fill one task from its element; True when its constraint is ALAP."""
    where = f"task UID {doc.text(element, 'UID')}"
    calendar = project.calendar_for(task.task_id)
    minutes_per_day = project.minutes_per_day
    duration_format = doc.integer(element, "DurationFormat", where)
    minutes = doc.minutes(element, "Duration", where)
    if minutes is not None:
        task.duration_days = _as_days(minutes, duration_format, calendar)
    task.is_summary = bool(doc.boolean(element, "Summary"))
    task.is_milestone = bool(doc.boolean(element, "Milestone"))
    start = doc.moment(element, "Start", where)
    finish = doc.moment(element, "Finish", where)
    task.start, task.finish = _day_span(start, finish, calendar)
    actual_start = doc.moment(element, "ActualStart", where)
    actual_finish = doc.moment(element, "ActualFinish", where)
    task.actual_start, task.actual_finish = _day_span(actual_start, actual_finish, calendar)
    task.percent_complete = doc.number(element, "PercentComplete", where) or 0.0
    remaining = doc.minutes(element, "RemainingDuration", where)
    if remaining is not None and 0 < task.percent_complete < 100:
        task.remaining_days = _as_days(remaining, duration_format, calendar)
    work = doc.minutes(element, "Work", where)
    if work:
        task.estimate_hours = work / 60
    actual_work = doc.minutes(element, "ActualWork", where)
    if actual_work:
        task.actual_hours = actual_work / 60
    code = doc.integer(element, "ConstraintType", where) or 0
    if code not in CONSTRAINT_TYPES:
        raise doc.fail(where, "ConstraintType", str(code), "not an MS Project constraint type (0–7)")
    constraint = CONSTRAINT_TYPES[code]
    task.constraint_type = "ASAP" if constraint == "ALAP" else constraint  # type: ignore[assignment]
    constraint_moment = doc.moment(element, "ConstraintDate", where)
    if constraint_moment is not None and task.constraint_type != "ASAP":
        convert = start_date_of if task.constraint_type in START_CONSTRAINTS else finish_date_of
        task.constraint_date = convert(constraint_moment, calendar)
    deadline = doc.moment(element, "Deadline", where)
    if deadline is not None:
        task.deadline = finish_date_of(deadline, calendar)

    slack = doc.number(element, "TotalSlack", where)
    free = doc.number(element, "FreeSlack", where)
    project.saved[task.task_id] = SavedTaskDates(
        start=start,
        finish=finish,
        early_start=doc.moment(element, "EarlyStart", where),
        early_finish=doc.moment(element, "EarlyFinish", where),
        late_start=doc.moment(element, "LateStart", where),
        late_finish=doc.moment(element, "LateFinish", where),
        total_slack_days=None if slack is None else slack / 10 / minutes_per_day,
        free_slack_days=None if free is None else free / 10 / minutes_per_day,
        critical=doc.boolean(element, "Critical"),
    )
    for baseline in doc.findall(element, "Baseline"):
        number = doc.integer(baseline, "Number", where)
        if number is None:
            continue
        b_minutes = doc.minutes(baseline, "Duration", where)
        b_format = doc.integer(baseline, "DurationFormat", where)
        b_start = doc.moment(baseline, "Start", where)
        b_finish = doc.moment(baseline, "Finish", where)
        span = _day_span(b_start, b_finish, calendar)
        duration = None if b_minutes is None else _as_days(b_minutes, b_format, calendar)
        if span != (None, None) or duration is not None:
            project.baselines.setdefault(number, {})[task.task_id] = (span[0], span[1], duration)
        b_work = doc.minutes(baseline, "Work", where)
        if b_work is not None:
            project.baseline_work_hours.setdefault(number, {})[task.task_id] = b_work / 60
    return constraint == "ALAP"


def _as_days(minutes: float, duration_format: int | None, calendar: MspdiCalendar) -> float:
    if duration_format in _ELAPSED_FORMATS:
        return calendar.elapsed_to_working_days(minutes / _MINUTES_PER_ELAPSED_DAY)
    return minutes / calendar.minutes_per_day


def _read_links(
    doc: _Doc, rows: list[tuple[int, ET.Element, PlanTask]], project: MspdiProject, uid_to_id: dict[str, str]
) -> list[PlanLink]:
    present = {task.task_id: task for _, _, task in rows}
    links = []
    for _, element, task in rows:
        for link in doc.findall(element, "PredecessorLink"):
            where = f"task UID {doc.text(element, 'UID')}, predecessor link"
            if doc.boolean(link, "CrossProject"):
                continue
            predecessor_uid = doc.text(link, "PredecessorUID")
            predecessor_id = uid_to_id.get(predecessor_uid or "")
            if predecessor_id not in present:
                continue
            code = doc.integer(link, "Type", where)
            code = 1 if code is None else code
            if code not in LINK_TYPES:
                raise doc.fail(where, "Type", str(code), "not a link type (0 FF, 1 FS, 2 SF, 3 SS)")
            raw = doc.integer(link, "LinkLag", where) or 0
            lag_format = doc.integer(link, "LagFormat", where) or FORMAT_DAYS
            lag_days = _lag_days(raw, lag_format, present[predecessor_id], project.calendar)
            links.append(PlanLink(predecessor_id, task.task_id, LINK_TYPES[code], lag_days))  # type: ignore[arg-type]
            project.lags[(predecessor_id, task.task_id)] = RawLag(raw, lag_format, lag_days)
    return links


def _lag_days(raw: int, lag_format: int, predecessor: PlanTask, calendar: MspdiCalendar) -> float:
    if lag_format in _PERCENT_FORMATS or lag_format in _ELAPSED_PERCENT_FORMATS:
        return raw / 100 * predecessor.duration_days
    minutes = raw / 10
    if lag_format in _ELAPSED_FORMATS:
        return calendar.elapsed_to_working_days(minutes / _MINUTES_PER_ELAPSED_DAY)
    return minutes / calendar.minutes_per_day


def _read_resources(
    doc: _Doc, root: ET.Element, project: MspdiProject, aliased: set[str], uid_to_id: dict[str, str]
) -> tuple[list[Resource], list[Assignment]]:
    resources: list[Resource] = []
    resource_ids: dict[str, str] = {}
    for element in doc.findall(root, "Resources/Resource"):
        uid = doc.text(element, "UID")
        name = doc.text(element, "Name")
        if uid is None or doc.boolean(element, "IsNull") or (uid == "0" and not name):
            continue
        where = f"resource UID {uid}"
        resource_id = _lodestar_id(doc, element, RESOURCE_TEXT1, aliased) or uid
        resource_ids[uid] = resource_id
        calendar_uid = doc.text(element, "CalendarUID")
        days_off: frozenset[date] = frozenset()
        if calendar_uid in project.calendars:
            project.resource_calendar_uid[resource_id] = calendar_uid
            calendar = project.calendars[calendar_uid]
            days_off = frozenset(
                d for d, hours in calendar.exceptions.items()
                if not hours and project.calendar.is_working_day(d)
            )
        max_units = doc.number(element, "MaxUnits", where)
        resources.append(Resource(
            resource_id=resource_id,
            name=name or "",
            capacity=1.0 if max_units is None else max_units,
            days_off=days_off,
        ))
    assignments = []
    for element in doc.findall(root, "Assignments/Assignment"):
        where = f"assignment UID {doc.text(element, 'UID')}"
        task_id = uid_to_id.get(doc.text(element, "TaskUID") or "")
        resource_id = resource_ids.get(doc.text(element, "ResourceUID") or NO_RESOURCE)
        if task_id is None or resource_id is None or task_id in project.inactive_task_ids:
            continue
        units = doc.number(element, "Units", where)
        assignments.append(Assignment(task_id, resource_id, 1.0 if units is None else units))
    return resources, assignments


# --------------------------------------------------------------------------- writing


class _Writer:
    """Appends MSPDI elements in schema order (MS Project rejects out-of-order children)."""

    def __init__(self, calendar: MspdiCalendar) -> None:
        self.calendar = calendar

    @staticmethod
    def add(parent: ET.Element, name: str, value: object | None = None) -> ET.Element:
        child = ET.SubElement(parent, f"{{{NS}}}{name}")
        if value is not None:
            child.text = _text(value)
        return child

    def start_moment(self, day: date) -> datetime:
        return datetime.combine(day, self.calendar.day_start(day))

    def finish_moment(self, day: date) -> datetime:
        finish = self.calendar.day_finish(day)
        if finish == time(0):
            return datetime.combine(day + timedelta(days=1), finish)
        return datetime.combine(day, finish)

    def span(self, start: date | None, finish: date | None, zero: bool) -> tuple[datetime | None, datetime | None]:
        """Moments for a (first day, last day) span; zero-length spans sit at the start of the day."""
        if zero and start is not None and finish is not None and start == finish:
            moment = self.start_moment(start)
            return moment, moment
        return (
            None if start is None else self.start_moment(start),
            None if finish is None else self.finish_moment(finish),
        )

    def duration(self, days: float) -> str:
        return _iso_minutes(round(days * self.calendar.minutes_per_day))


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".") if not value.is_integer() else str(int(value))
    return str(value)


def _iso_minutes(minutes: int) -> str:
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(int(minutes)), 60)
    return f"{sign}PT{hours}H{rest}M0S"


def _outline_order(tasks: list[PlanTask]) -> list[tuple[PlanTask, int, str]]:
    """Tasks parent-first with children contiguous (MS Project's outline), with level and outline number."""
    ids = {t.task_id for t in tasks}
    children: dict[str | None, list[PlanTask]] = {}
    for task in tasks:
        parent = task.parent_id if task.parent_id in ids and task.parent_id != task.task_id else None
        children.setdefault(parent, []).append(task)
    ordered: list[tuple[PlanTask, int, str]] = []
    visited: set[str] = set()

    def walk(parent: str | None, level: int, prefix: str) -> None:
        for number, task in enumerate(children.get(parent, []), start=1):
            if task.task_id in visited:
                continue
            visited.add(task.task_id)
            outline = f"{prefix}{number}"
            ordered.append((task, level, outline))
            walk(task.task_id, level + 1, outline + ".")

    walk(None, 1, "")
    for task in tasks:
        if task.task_id not in visited:
            visited.add(task.task_id)
            ordered.append((task, 1, str(len(ordered) + 1)))
    return ordered


def _numeric_uids(ids: list[str]) -> dict[str, int] | None:
    """Keep ids as UIDs when they all are distinct positive integers; None means renumber."""
    try:
        numbers = [int(i) for i in ids]
    except ValueError:
        return None
    if len(set(numbers)) != len(numbers) or any(n <= 0 or str(n) != i for n, i in zip(numbers, ids)):
        return None
    return dict(zip(ids, numbers))


def write_mspdi(
    plan: Plan,
    target: str | os.PathLike[str] | BinaryIO | None = None,
    baselines: Mapping[int, Mapping[str, tuple[date | None, date | None, float | None]]] | None = None,
    calendar_exceptions: Iterable[date] | None = None,
    project_name: str | None = None,
    *,
    calendar: MspdiCalendar | None = None,
    baseline_work_hours: Mapping[int, Mapping[str, float]] | None = None,
    lags: Mapping[tuple[str, str], RawLag] | None = None,
    alap_task_ids: Iterable[str] = (),
    current_date: datetime | None = None,
    task_calendars: Mapping[str, MspdiCalendar] | None = None,
    resource_calendars: Mapping[str, MspdiCalendar] | None = None,
) -> bytes:
    """Write a Plan as an MSPDI document MS Project opens; returns the bytes (and writes them to `target`).

    `calendar_exceptions` are non-working dates added to the project calendar
    (default: MS Project's Standard calendar, Monday–Friday 8 hours). MS Project
    reschedules automatic tasks when it opens the file, so the dates written are
    a starting point; constraints, links and durations are what it keeps.
    `lags` (from `MspdiProject.lags`) restores a link's original lag format when
    the Plan's lag still matches it. `task_calendars` and `resource_calendars`
    (by id) are written as calendars derived from the project calendar; a
    resource's `days_off` become exceptions of its calendar.
    """
    project_calendar = _project_calendar(calendar or MspdiCalendar.standard(), calendar_exceptions or ())
    writer = _Writer(project_calendar)
    name = project_name or plan.name or "Lodestar plan"
    ordered = _outline_order(plan.tasks)
    task_uids = _numeric_uids([t.task_id for t, _, _ in ordered])
    keep_task_ids = task_uids is None
    if task_uids is None:
        task_uids = {t.task_id: n for n, (t, _, _) in enumerate(ordered, start=1)}
    resource_uids = _numeric_uids([r.resource_id for r in plan.resources])
    keep_resource_ids = resource_uids is None
    if resource_uids is None:
        resource_uids = {r.resource_id: n for n, r in enumerate(plan.resources, start=1)}

    root = ET.Element(f"{{{NS}}}Project")
    _write_header(writer, root, plan, name, current_date, keep_task_ids, keep_resource_ids)
    calendars = writer.add(root, "Calendars")
    _write_calendar(writer, calendars, project_calendar, uid=1, base_uid=None)
    task_calendar, resource_calendar = _write_other_calendars(
        writer, calendars, plan, task_calendars or {}, resource_calendars or {}
    )

    task_ids = {t.task_id for t in plan.tasks}
    incoming: dict[str, list[PlanLink]] = {}
    for link in plan.links:
        if link.predecessor_id in task_ids and link.successor_id in task_ids:
            incoming.setdefault(link.successor_id, []).append(link)
    alap = frozenset(alap_task_ids)
    tasks_element = writer.add(root, "Tasks")
    summary = writer.add(tasks_element, "Task")
    for field_name, value in (("UID", 0), ("ID", 0), ("Name", name), ("OutlineNumber", 0), ("OutlineLevel", 0),
                              ("Summary", True)):
        writer.add(summary, field_name, value)
    for position, (task, level, outline) in enumerate(ordered, start=1):
        _write_task(
            writer, tasks_element, task, task_uids, position, level, outline,
            incoming.get(task.task_id, []), lags or {}, task.task_id in alap, keep_task_ids,
            baselines or {}, baseline_work_hours or {}, task_calendar.get(task.task_id),
        )
    _write_resources(writer, root, plan, resource_uids, resource_calendar, keep_resource_ids)
    _write_assignments(writer, root, plan, task_uids, resource_uids)

    ET.indent(root, space="  ")
    data = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + ET.tostring(
        root, encoding="utf-8", xml_declaration=False, default_namespace=NS
    )
    if isinstance(target, (str, os.PathLike)):
        with open(target, "wb") as handle:
            handle.write(data)
    elif target is not None:
        target.write(data)
    return data


def _project_calendar(base: MspdiCalendar, extra_days_off: Iterable[date]) -> MspdiCalendar:
    """The project calendar as written: UID 1, with the extra days off as exceptions."""
    return replace(
        base,
        uid="1",
        name=base.name or "Standard",
        weekday_hours=dict(base.weekday_hours),
        exceptions={**base.exceptions, **{d: () for d in extra_days_off}},
        base_uid=None,
    )


def _write_header(
    writer: _Writer,
    root: ET.Element,
    plan: Plan,
    name: str,
    current_date: datetime | None,
    keep_task_ids: bool,
    keep_resource_ids: bool,
) -> None:
    add, calendar = writer.add, writer.calendar
    add(root, "SaveVersion", 14)
    add(root, "Name", name if name.lower().endswith(".xml") else f"{name}.xml")
    add(root, "Title", name)
    add(root, "ScheduleFromStart", True)
    starts = [t.start for t in plan.tasks if t.start is not None]
    project_start = plan.start or (min(starts) if starts else None)
    if project_start is not None:
        add(root, "StartDate", writer.start_moment(project_start))
    finishes = [t.finish for t in plan.tasks if t.finish is not None]
    if finishes:
        add(root, "FinishDate", writer.finish_moment(max(finishes)))
    add(root, "CalendarUID", 1)
    add(root, "DefaultStartTime", calendar.default_start)
    add(root, "DefaultFinishTime", calendar.default_finish)
    add(root, "MinutesPerDay", calendar.minutes_per_day)
    add(root, "MinutesPerWeek", calendar.minutes_per_week)
    add(root, "DaysPerMonth", calendar.days_per_month)
    add(root, "DurationFormat", FORMAT_DAYS)
    add(root, "WorkFormat", 2)
    add(root, "NewTasksEffortDriven", False)
    add(root, "NewTasksEstimated", False)
    add(root, "WeekStartDay", 1)
    if plan.status_date is not None:
        add(root, "StatusDate", writer.start_moment(plan.status_date))
    if current_date is not None:
        add(root, "CurrentDate", current_date)
    add(root, "NewTasksAreManual", False)
    if keep_task_ids or keep_resource_ids:
        attributes = add(root, "ExtendedAttributes")
        for field_id, wanted in ((TASK_TEXT1, keep_task_ids), (RESOURCE_TEXT1, keep_resource_ids)):
            if wanted:
                attribute = add(attributes, "ExtendedAttribute")
                add(attribute, "FieldID", field_id)
                add(attribute, "FieldName", "Text1")
                add(attribute, "Alias", LODESTAR_ID_ALIAS)


def _write_other_calendars(
    writer: _Writer,
    calendars: ET.Element,
    plan: Plan,
    task_calendars: Mapping[str, MspdiCalendar],
    resource_calendars: Mapping[str, MspdiCalendar],
) -> tuple[dict[str, int], dict[str, int]]:
    """Task and resource calendars, derived from the project calendar; returns their UIDs by task and resource."""
    written: dict[int, int] = {}

    def uid_of(own: MspdiCalendar, label: str) -> int:
        if id(own) not in written:
            written[id(own)] = len(written) + 2
            _write_calendar(writer, calendars, replace(own, name=own.name or label), uid=written[id(own)], base_uid=1)
        return written[id(own)]

    by_resource: dict[str, int] = {}
    for resource in plan.resources:
        own = resource_calendars.get(resource.resource_id)
        if resource.days_off:
            own = MspdiCalendar(
                name=own.name if own else "",
                weekday_hours=dict(own.weekday_hours) if own else {},
                exceptions={**(own.exceptions if own else {}), **{d: () for d in resource.days_off}},
                work_weeks=own.work_weeks if own else (),
            )
        if own is not None:
            by_resource[resource.resource_id] = uid_of(own, resource.name or resource.resource_id)
    task_ids = {t.task_id for t in plan.tasks}
    by_task = {
        task_id: uid_of(own, f"Task {task_id}") for task_id, own in task_calendars.items() if task_id in task_ids
    }
    return by_task, by_resource


def _write_resources(
    writer: _Writer,
    root: ET.Element,
    plan: Plan,
    uids: Mapping[str, int],
    calendar_uids: Mapping[str, int],
    keep_ids: bool,
) -> None:
    add = writer.add
    resources = add(root, "Resources")
    for position, resource in enumerate(plan.resources, start=1):
        element = add(resources, "Resource")
        add(element, "UID", uids[resource.resource_id])
        add(element, "ID", position)
        add(element, "Name", resource.name or resource.resource_id)
        add(element, "Type", 1)
        add(element, "IsNull", False)
        add(element, "MaxUnits", float(resource.capacity))
        if resource.resource_id in calendar_uids:
            add(element, "CalendarUID", calendar_uids[resource.resource_id])
        if keep_ids:
            attribute = add(element, "ExtendedAttribute")
            add(attribute, "FieldID", RESOURCE_TEXT1)
            add(attribute, "Value", resource.resource_id)


def _write_assignments(
    writer: _Writer, root: ET.Element, plan: Plan, task_uids: Mapping[str, int], resource_uids: Mapping[str, int]
) -> None:
    """Plan assignments, plus one full-time assignment for an assignee that has none."""
    assignments = [a for a in plan.assignments if a.task_id in task_uids and a.resource_id in resource_uids]
    assigned = {a.task_id for a in assignments}
    for task in plan.tasks:
        if task.assignee_id in resource_uids and task.task_id not in assigned:
            assignments.append(Assignment(task.task_id, task.assignee_id, 1.0))
    element = writer.add(root, "Assignments")
    for uid, assignment in enumerate(assignments, start=1):
        row = writer.add(element, "Assignment")
        writer.add(row, "UID", uid)
        writer.add(row, "TaskUID", task_uids[assignment.task_id])
        writer.add(row, "ResourceUID", resource_uids[assignment.resource_id])
        writer.add(row, "Units", float(assignment.units))


def _write_calendar(
    writer: _Writer, parent: ET.Element, calendar: MspdiCalendar, *, uid: int, base_uid: int | None
) -> None:
    add = writer.add
    element = add(parent, "Calendar")
    add(element, "UID", uid)
    add(element, "Name", calendar.name)
    add(element, "IsBaseCalendar", base_uid is None)
    add(element, "IsBaselineCalendar", False)
    add(element, "BaseCalendarUID", -1 if base_uid is None else base_uid)
    week_days = add(element, "WeekDays")
    for day_type in range(1, 8):
        weekday = _ms_day(day_type)
        if weekday not in calendar.weekday_hours:
            continue
        _write_day(writer, add(week_days, "WeekDay"), calendar.weekday_hours[weekday], day_type=day_type)
    runs = _exception_runs(calendar.exceptions)
    for first, last, hours in runs:
        day = add(week_days, "WeekDay")
        add(day, "DayType", 0)
        add(day, "DayWorking", bool(hours))
        period = add(day, "TimePeriod")
        add(period, "FromDate", datetime.combine(first, time(0)))
        add(period, "ToDate", datetime.combine(last, time(23, 59)))
        _write_times(writer, day, hours)
    if not len(week_days):
        element.remove(week_days)
    if runs:
        exceptions = add(element, "Exceptions")
        for first, last, hours in runs:
            exception = add(exceptions, "Exception")
            add(exception, "EnteredByOccurrences", False)
            period = add(exception, "TimePeriod")
            add(period, "FromDate", datetime.combine(first, time(0)))
            add(period, "ToDate", datetime.combine(last, time(23, 59)))
            add(exception, "Occurrences", 1)
            add(exception, "Name", "Working day" if hours else "Day off")
            add(exception, "Type", 1)
            add(exception, "DayWorking", bool(hours))
            _write_times(writer, exception, hours)
    if calendar.work_weeks:
        weeks = add(element, "WorkWeeks")
        for week in calendar.work_weeks:
            week_element = add(weeks, "WorkWeek")
            period = add(week_element, "TimePeriod")
            add(period, "FromDate", datetime.combine(week.start, time(0)))
            add(period, "ToDate", datetime.combine(week.finish, time(23, 59)))
            days = add(week_element, "WeekDays")
            for day_type in range(1, 8):
                if _ms_day(day_type) in week.weekday_hours:
                    _write_day(writer, add(days, "WeekDay"), week.weekday_hours[_ms_day(day_type)], day_type)


def _write_day(writer: _Writer, day: ET.Element, hours: tuple[TimeRange, ...], day_type: int) -> None:
    writer.add(day, "DayType", day_type)
    writer.add(day, "DayWorking", bool(hours))
    _write_times(writer, day, hours)


def _write_times(writer: _Writer, parent: ET.Element, hours: tuple[TimeRange, ...]) -> None:
    if not hours:
        return
    times = writer.add(parent, "WorkingTimes")
    for start, finish in hours:
        period = writer.add(times, "WorkingTime")
        writer.add(period, "FromTime", start)
        writer.add(period, "ToTime", finish)


def _exception_runs(
    exceptions: Mapping[date, tuple[TimeRange, ...]],
) -> list[tuple[date, date, tuple[TimeRange, ...]]]:
    """Consecutive dates with the same hours as one sorted exception each (MS Project ignores unsorted ones)."""
    runs: list[tuple[date, date, tuple[TimeRange, ...]]] = []
    for day in sorted(exceptions):
        hours = exceptions[day]
        if runs and runs[-1][1] + timedelta(days=1) == day and runs[-1][2] == hours:
            runs[-1] = (runs[-1][0], day, hours)
        else:
            runs.append((day, day, hours))
    return runs


def _write_task(
    writer: _Writer,
    parent: ET.Element,
    task: PlanTask,
    uids: Mapping[str, int],
    position: int,
    level: int,
    outline: str,
    links: list[PlanLink],
    lags: Mapping[tuple[str, str], RawLag],
    alap: bool,
    keep_id: bool,
    baselines: Mapping[int, Mapping[str, tuple[date | None, date | None, float | None]]],
    baseline_work: Mapping[int, Mapping[str, float]],
    calendar_uid: int | None,
) -> None:
    add = writer.add
    element = add(parent, "Task")
    add(element, "UID", uids[task.task_id])
    add(element, "ID", position)
    add(element, "Name", task.name)
    add(element, "IsNull", False)
    if task.wbs:
        add(element, "WBS", task.wbs)
    add(element, "OutlineNumber", outline)
    add(element, "OutlineLevel", level)
    zero = task.is_milestone or task.duration_days == 0
    start, finish = writer.span(task.start, task.finish, zero)
    if start is not None:
        add(element, "Start", start)
    if finish is not None:
        add(element, "Finish", finish)
    add(element, "Duration", writer.duration(task.duration_days))
    add(element, "DurationFormat", FORMAT_DAYS)
    if task.estimate_hours is not None:
        add(element, "Work", _iso_minutes(round(task.estimate_hours * 60)))
    add(element, "Estimated", False)
    add(element, "Milestone", task.is_milestone)
    add(element, "Summary", task.is_summary)
    add(element, "PercentComplete", int(round(task.percent_complete)))
    actual_start, actual_finish = writer.span(task.actual_start, task.actual_finish, zero)
    if actual_start is not None:
        add(element, "ActualStart", actual_start)
    if actual_finish is not None:
        add(element, "ActualFinish", actual_finish)
    if task.actual_hours is not None:
        add(element, "ActualWork", _iso_minutes(round(task.actual_hours * 60)))
    if task.remaining_days is not None:
        add(element, "RemainingDuration", writer.duration(task.remaining_days))
    constraint = "ALAP" if alap and task.constraint_type == "ASAP" else task.constraint_type
    add(element, "ConstraintType", CONSTRAINT_CODES[constraint])
    if calendar_uid is not None:
        add(element, "CalendarUID", calendar_uid)
    if task.constraint_date is not None and constraint not in ("ASAP", "ALAP"):
        to_moment = writer.start_moment if constraint in START_CONSTRAINTS else writer.finish_moment
        add(element, "ConstraintDate", to_moment(task.constraint_date))
    if task.deadline is not None:
        add(element, "Deadline", writer.finish_moment(task.deadline))
    for link in links:
        link_element = add(element, "PredecessorLink")
        add(link_element, "PredecessorUID", uids[link.predecessor_id])
        add(link_element, "Type", LINK_CODES[link.type])
        add(link_element, "CrossProject", False)
        raw = lags.get((link.predecessor_id, link.successor_id))
        if raw is not None and math.isclose(raw.lag_days, link.lag_days, abs_tol=1e-9):
            add(link_element, "LinkLag", raw.link_lag)
            add(link_element, "LagFormat", raw.lag_format)
        else:
            add(link_element, "LinkLag", round(link.lag_days * writer.calendar.minutes_per_day * 10))
            add(link_element, "LagFormat", FORMAT_DAYS)
    if keep_id:
        attribute = add(element, "ExtendedAttribute")
        add(attribute, "FieldID", TASK_TEXT1)
        add(attribute, "Value", task.task_id)
    for number in sorted(set(baselines) | set(baseline_work)):
        values = baselines.get(number, {}).get(task.task_id)
        work = baseline_work.get(number, {}).get(task.task_id)
        if values is None and work is None:
            continue
        baseline = add(element, "Baseline")
        add(baseline, "Number", number)
        if values is not None:
            b_start, b_finish, b_days = values
            zero_baseline = b_days == 0
            b_start_moment, b_finish_moment = writer.span(b_start, b_finish, zero_baseline)
            if b_start_moment is not None:
                add(baseline, "Start", b_start_moment)
            if b_finish_moment is not None:
                add(baseline, "Finish", b_finish_moment)
            if b_days is not None:
                add(baseline, "Duration", writer.duration(b_days))
                add(baseline, "DurationFormat", FORMAT_DAYS)
        if work is not None:
            add(baseline, "Work", _iso_minutes(round(work * 60)))


def write_project(project: MspdiProject, target: str | os.PathLike[str] | BinaryIO | None = None) -> bytes:
    """Write a read project back with everything kept beside its Plan (calendar, baselines, lag formats, ALAP)."""
    return write_mspdi(
        project.plan,
        target,
        baselines=project.baselines,
        project_name=project.title or project.plan.name or project.name,
        calendar=project.calendar,
        baseline_work_hours=project.baseline_work_hours,
        lags=project.lags,
        alap_task_ids=project.alap_task_ids,
        current_date=project.current_date,
        task_calendars={t: project.calendars[uid] for t, uid in project.task_calendar_uid.items()},
        resource_calendars={
            r: project.calendars[uid]
            for r, uid in project.resource_calendar_uid.items()
            if not _same_working_time(project.calendars[uid], project.calendar)
        },
    )
