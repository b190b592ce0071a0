"""Reading an MSPDI document into a Plan and the context kept beside it (`read_mspdi`).

Planners save MS Project files from many versions: with or without the XML
namespace, with 2003-style or 2007+ calendar exceptions, with recurrences and
work weeks. The reader accepts what MS Project itself accepts and converts
moments and minutes to the Plan's working days on each task's calendar; what
it cannot read raises `MspdiError` naming the file and the element at fault.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import BinaryIO

from models.planning.model import Assignment, Plan, PlanLink, PlanTask, Resource
from models.planning.mspdi.calendar import (
    DEFAULT_HOURS,
    MspdiCalendar,
    TimeRange,
    WorkWeek,
    day_span,
    finish_date_of,
    start_date_of,
    start_minute,
)
from models.planning.mspdi.codes import (
    CONSTRAINT_TYPES,
    FORMAT_DAYS,
    LINK_TYPES,
    LODESTAR_ID_ALIAS,
    RESOURCE_TEXT1,
    START_CONSTRAINTS,
    TASK_TEXT1,
    ms_day,
)
from models.planning.mspdi.project import MspdiProject, RawLag, SavedTaskDates

NO_RESOURCE = "-65535"
_ELAPSED_FORMATS = frozenset({4, 6, 8, 10, 12, 36, 38, 40, 42, 44})
_PERCENT_FORMATS = frozenset({19, 51})
_ELAPSED_PERCENT_FORMATS = frozenset({20, 52})
_MINUTES_PER_ELAPSED_DAY = 24 * 60
_DURATION = re.compile(
    r"^(?P<sign>-)?P(?:(?P<y>\d+(?:\.\d+)?)Y)?(?:(?P<mo>\d+(?:\.\d+)?)M)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<mi>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


class MspdiError(ValueError):
    """An MSPDI document that cannot be read, naming the file and the element at fault."""


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


def _read_times(doc: _Doc, element: ET.Element, where: str) -> tuple[TimeRange, ...]:
    periods = []
    for period in doc.findall(element, "WorkingTimes/WorkingTime"):
        start = doc.clock(period, "FromTime", where)
        finish = doc.clock(period, "ToTime", where)
        if start is not None and finish is not None:
            periods.append((start, finish))
    return tuple(sorted(periods, key=start_minute))


def _day_times(doc: _Doc, element: ET.Element, where: str) -> tuple[TimeRange, ...]:
    if not doc.boolean(element, "DayWorking"):
        return ()
    return _read_times(doc, element, where) or DEFAULT_HOURS


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
        weekdays = {ms_day(bit + 1) for bit in range(7) if mask & (1 << bit)}
        week_zero = first - timedelta(days=first.weekday())
        dates = [
            d for d in all_days
            if d.weekday() in weekdays and ((d - week_zero).days // 7) % every == 0
        ]
    else:
        month_item = doc.integer(element, "MonthItem", where)
        weekday = ms_day(month_item - 2) if month_item is not None and 3 <= month_item <= 9 else None
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
            weekdays[ms_day(day_type)] = _day_times(doc, day, where)
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
            ms_day(day_type): _day_times(doc, day, where)
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
    task.start, task.finish = day_span(start, finish, calendar)
    actual_start = doc.moment(element, "ActualStart", where)
    actual_finish = doc.moment(element, "ActualFinish", where)
    task.actual_start, task.actual_finish = day_span(actual_start, actual_finish, calendar)
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
        span = day_span(b_start, b_finish, calendar)
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
