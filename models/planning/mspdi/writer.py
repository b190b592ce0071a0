"""Writing a Plan as an MSPDI document MS Project opens (`write_mspdi`, `write_project`).

MS Project rejects children out of schema order and ignores unsorted
calendar exceptions, and it reschedules automatic tasks on opening, so the
writer keeps to its schema order and writes what MS Project keeps
(constraints, links, durations, calendars) in its own units, with the
original lag formats and ids when the Plan still matches them.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, BinaryIO

from models.planning.model import Assignment, Plan, PlanLink, PlanTask
from models.planning.mspdi.calendar import MspdiCalendar, TimeRange, same_working_time
from models.planning.mspdi.codes import (
    CONSTRAINT_CODES,
    FORMAT_DAYS,
    LINK_CODES,
    LODESTAR_ID_ALIAS,
    NS,
    RESOURCE_TEXT1,
    START_CONSTRAINTS,
    TASK_TEXT1,
    ms_day,
)
from models.planning.mspdi.project import MspdiProject, RawLag

if TYPE_CHECKING:
    from models.planning.calendar import WorkCalendar

WORK_CALENDAR_LEAD_DAYS = 31
"""Days before the plan's first date that `write_mspdi(work_calendar=…)` writes exceptions for."""
WORK_CALENDAR_TRAIL_DAYS = 366
"""Days after its last date: MS Project reschedules on opening and may move work past the plan's finish."""


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
    work_calendar: WorkCalendar | None = None,
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

    `work_calendar` (the company `WorkCalendar`) makes the project calendar work
    the days it works over the plan's dates (`plan_date_range`, from
    `WORK_CALENDAR_LEAD_DAYS` before to `WORK_CALENDAR_TRAIL_DAYS` after): its
    weekend becomes the non-working weekdays (unless `calendar` is given), public
    holidays on weekdays are written as non-working exceptions and 调休 make-up
    Saturdays and Sundays as working exceptions with a normal day's hours, so MS
    Project schedules on the same working days as our CPM.
    """
    base = calendar or _standard_for(work_calendar)
    if work_calendar is not None:
        first, last = plan_date_range(plan, baselines)
        base = base.following(
            work_calendar,
            first - timedelta(days=WORK_CALENDAR_LEAD_DAYS),
            last + timedelta(days=WORK_CALENDAR_TRAIL_DAYS),
        )
    project_calendar = _project_calendar(base, calendar_exceptions or ())
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


def _standard_for(work_calendar: WorkCalendar | None) -> MspdiCalendar:
    """MS Project's Standard calendar, on the working weekdays of `work_calendar` when there is one."""
    if work_calendar is None:
        return MspdiCalendar.standard()
    return MspdiCalendar.standard(frozenset(range(7)) - frozenset(work_calendar.weekend))


def plan_date_range(
    plan: Plan,
    baselines: Mapping[int, Mapping[str, tuple[date | None, date | None, float | None]]] | None = None,
) -> tuple[date, date]:
    """The first and last date the plan (and its baselines) mention; today for a plan without dates."""
    dates = [d for d in (plan.start, plan.status_date) if d is not None]
    for task in plan.tasks:
        dates.extend(
            d for d in (task.start, task.finish, task.actual_start, task.actual_finish, task.constraint_date,
                        task.deadline)
            if d is not None
        )
    for by_task in (baselines or {}).values():
        for start, finish, _ in by_task.values():
            dates.extend(d for d in (start, finish) if d is not None)
    if not dates:
        today = date.today()
        return today, today
    return min(dates), max(dates)


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
        weekday = ms_day(day_type)
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
                if ms_day(day_type) in week.weekday_hours:
                    _write_day(writer, add(days, "WeekDay"), week.weekday_hours[ms_day(day_type)], day_type)


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
            if not same_working_time(project.calendars[uid], project.calendar)
        },
    )
