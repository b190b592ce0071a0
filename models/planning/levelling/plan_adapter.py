"""Levelling a real Plan: working days, task status, links, dates and resources into the solver and back.

A plan is not a PSPLIB instance: it has calendar dates and days off, done and
in-progress tasks, four link types with lags, summary tasks, constraint dates
and deadlines, fractional units and skills. This module turns all of that
into the solver's problem (whole working days from an origin) and its
schedule back into dated tasks, with what moved and why.

Working days are those of the ``WorkCalendar`` the caller passes (the company
calendar CPM and the Gantt use, 调休 make-up days included), so a levelled task
without resource conflicts gets exactly its CPM dates.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

import numpy as np

from models.planning.calendar import WorkCalendar
from models.planning.levelling.solver import (
    NO_DUE,
    CycleError,
    Problem,
    Schedule,
    earliest_starts,
    justify,
    sgs,
    solve_cpsat,
    topological_order,
)
from models.planning.model import Plan, PlanTask

Method = Literal["auto", "cp-sat", "sgs"]

_UNITS = 100
"""Plan resource units are kept in hundredths so CP-SAT can work on integers."""


TaskStatus = Literal["done", "in_progress", "planned"]


@dataclass(frozen=True)
class LevelledTask:
    """Where levelling puts one task, in working days from `LevelledPlan.origin`.

    `start`/`finish` are half-open offsets (finish = start + duration) of the
    work still to do: for an in-progress task that is its remaining work, for
    a done task its actual dates. `early_start` is where the same links and
    dates would put it without resource limits, so `delay` is the levelling
    delay MS Project shows.
    """

    task_id: str
    start: int
    finish: int
    early_start: int
    status: TaskStatus
    resource_ids: tuple[str, ...]
    lateness: int
    """Working days past its deadline (or finish-no-later-than / start-no-later-than date)."""
    start_date: date | None = None
    finish_date: date | None = None

    @property
    def delay(self) -> int:
        return self.start - self.early_start


@dataclass(frozen=True)
class Reassignment:
    task_id: str
    from_resource: str
    to_resource: str


@dataclass
class LevelledPlan:
    """The levelled schedule, its objective values and what changed against the unlevelled one."""

    tasks: dict[str, LevelledTask]
    origin: date | None
    """Working day 0; None when the plan carries no dates at all."""
    project_end: int
    total_lateness: int
    unlevelled_end: int
    moved: list[str]
    """Tasks that levelling starts later than their resource-free early start, in plan order."""
    reassignments: list[Reassignment]
    method: str
    optimal: bool
    seconds: float
    warnings: list[str] = field(default_factory=list)

    @property
    def objective(self) -> dict[str, int]:
        """The lexicographic objective: project end first, then total lateness."""
        return {"project_end": self.project_end, "total_lateness": self.total_lateness}


class _DayOffsets:
    """A ``WorkCalendar``'s working-day indices counted from the plan's origin (offset 0 = its first working day)."""

    def __init__(self, calendar: WorkCalendar, origin: date) -> None:
        self.calendar = calendar
        self.zero = int(calendar.index_of(origin, "forward"))

    def offset(self, day: date) -> int:
        """Working days in [origin, day): a day off maps to the next working day's offset."""
        return int(self.calendar.index_of(day, "forward")) - self.zero

    def end_offset(self, last_day: date) -> int:
        """Exclusive offset just after an inclusive finish date."""
        return int(self.calendar.index_of(last_day, "backward")) + 1 - self.zero

    def is_working(self, day: date) -> bool:
        return bool(self.calendar.is_workday(day))

    def day(self, offset: int) -> date:
        return self.calendar.date_of(self.zero + int(offset))


def _whole_days(value: float) -> int:
    """Durations and lags round up to whole working days; the epsilon absorbs float noise."""
    return int(math.ceil(value - 1e-9))


def _plan_origin(plan: Plan) -> date | None:
    if plan.start is not None:
        return plan.start
    if plan.status_date is not None:
        return plan.status_date
    dates = [d for t in plan.tasks for d in (t.actual_start, t.start, t.actual_finish, t.finish) if d is not None]
    return min(dates) if dates else None


def _leaf_descendants(plan: Plan) -> dict[str, list[str]]:
    children: dict[str, list[str]] = defaultdict(list)
    for task in plan.tasks:
        if task.parent_id is not None:
            children[task.parent_id].append(task.task_id)
    summaries = {t.task_id for t in plan.tasks if t.is_summary}
    leaves: dict[str, list[str]] = {}

    def collect(task_id: str, seen: frozenset[str]) -> list[str]:
        if task_id in leaves:
            return leaves[task_id]
        found: list[str] = []
        for child in children.get(task_id, []):
            if child in seen:
                continue
            found.extend(collect(child, seen | {child}) if child in summaries else [child])
        leaves[task_id] = found
        return found

    for summary in summaries:
        collect(summary, frozenset({summary}))
    return leaves


@dataclass
class _PlanProblem:
    """A plan translated into the internal problem, with what is needed to translate back."""

    problem: Problem
    leaves: list[PlanTask]
    variable: list[PlanTask]
    """Tasks still to schedule, in problem index order."""
    index: dict[str, int]
    status: dict[str, TaskStatus]
    fixed: dict[str, tuple[int, int]]
    """Done tasks: their actual (start, exclusive finish) offsets."""
    started_at: dict[str, int]
    resource_ids: list[str]
    calendar: _DayOffsets | None
    warnings: list[str]


def _plan_tasks(plan: Plan, calendar: _DayOffsets | None, into: _PlanProblem) -> np.ndarray:
    """Sort leaf tasks into done / in progress / planned and return the durations still to schedule."""
    durations: list[int] = []
    for task in into.leaves:
        if task.actual_finish is not None:
            into.status[task.task_id] = "done"
            finish = calendar.end_offset(task.actual_finish) if calendar is not None else 0
            begun = calendar.offset(task.actual_start) if calendar is not None and task.actual_start else None
            if begun is None:
                begun = finish - _whole_days(task.duration_days)
            into.fixed[task.task_id] = (begun, finish)
            continue
        if task.actual_start is not None:
            into.status[task.task_id] = "in_progress"
            remaining = task.remaining_days
            if remaining is None:
                remaining = task.duration_days * (1.0 - min(max(task.percent_complete, 0.0), 100.0) / 100.0)
            into.started_at[task.task_id] = calendar.offset(task.actual_start) if calendar is not None else 0
        else:
            into.status[task.task_id] = "planned"
            remaining = task.duration_days
        durations.append(0 if task.is_milestone else max(0, _whole_days(remaining)))
        into.index[task.task_id] = len(into.variable)
        into.variable.append(task)
    return np.array(durations, dtype=np.int64)


def _plan_dates(
    plan: Plan, calendar: _DayOffsets | None, into: _PlanProblem, duration: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Earliest starts (status date, constraints) and the soft finish and start due offsets."""
    n = len(into.variable)
    release = np.zeros(n, dtype=np.int64)
    finish_due = np.full(n, NO_DUE, dtype=np.int64)
    start_due = np.full(n, NO_DUE, dtype=np.int64)
    status_offset = calendar.offset(plan.status_date) if calendar is not None and plan.status_date else None
    for i, task in enumerate(into.variable):
        floor = 0
        if status_offset is not None:
            floor = max(floor, status_offset)
        elif task.task_id in into.started_at:
            floor = max(floor, into.started_at[task.task_id])
        kind, when = task.constraint_type, task.constraint_date
        if when is not None and calendar is not None:
            if kind in ("SNET", "MSO"):
                floor = max(floor, calendar.offset(when))
            if kind in ("FNET", "MFO"):
                floor = max(floor, calendar.end_offset(when) - int(duration[i]))
            if kind in ("FNLT", "MFO"):
                finish_due[i] = min(finish_due[i], calendar.end_offset(when))
            if kind in ("SNLT", "MSO"):
                start_due[i] = min(start_due[i], calendar.offset(when))
        if task.deadline is not None and calendar is not None:
            finish_due[i] = min(finish_due[i], calendar.end_offset(task.deadline))
        release[i] = floor
    return release, finish_due, start_due


def _plan_links(
    plan: Plan, into: _PlanProblem, duration: np.ndarray, release: np.ndarray
) -> list[tuple[int, int, int]]:
    """Links as ``start_j >= start_i + delta``; links from fixed history become earliest starts.

    A link reads the predecessor's finish (FS, FF) or start (SS, SF) and the
    successor's start (FS, SS) or finish (FF, SF). A summary task stands for
    all its subtasks where that is exact (its finish as a predecessor, its
    start as a successor); the started side of an in-progress task is history.
    """
    known = {t.task_id for t in plan.tasks}
    summaries = {t.task_id for t in plan.tasks if t.is_summary}
    descendants = _leaf_descendants(plan)
    edges: dict[tuple[int, int], int] = {}
    for link in plan.links:
        if link.predecessor_id not in known or link.successor_id not in known:
            into.warnings.append(f"link {link.predecessor_id}->{link.successor_id} names an unknown task; ignored")
            continue
        pred_uses_finish = link.type in ("FS", "FF")
        succ_uses_start = link.type in ("FS", "SS")
        if (link.predecessor_id in summaries and not pred_uses_finish) or (
            link.successor_id in summaries and not succ_uses_start
        ):
            into.warnings.append(
                f"{link.type} link {link.predecessor_id}->{link.successor_id} on a summary task cannot be "
                "expressed on its subtasks; ignored"
            )
            continue
        preds = descendants.get(link.predecessor_id, []) if link.predecessor_id in summaries else [link.predecessor_id]
        succs = descendants.get(link.successor_id, []) if link.successor_id in summaries else [link.successor_id]
        lag = _whole_days(link.lag_days)
        for pred in preds:
            for succ in succs:
                if succ not in into.index or (succ in into.started_at and succ_uses_start):
                    continue
                j = into.index[succ]
                succ_shift = 0 if succ_uses_start else int(duration[j])
                if pred in into.fixed:
                    anchor = into.fixed[pred][1] if pred_uses_finish else into.fixed[pred][0]
                    release[j] = max(release[j], anchor + lag - succ_shift)
                elif pred in into.started_at and not pred_uses_finish:
                    release[j] = max(release[j], into.started_at[pred] + lag - succ_shift)
                else:
                    i = into.index[pred]
                    delta = (int(duration[i]) if pred_uses_finish else 0) + lag - succ_shift
                    edges[(i, j)] = max(edges.get((i, j), delta), delta)
    return [(i, j, delta) for (i, j), delta in edges.items()]


def _plan_resources(
    plan: Plan, calendar: _DayOffsets | None, into: _PlanProblem, allow_reassign: bool
) -> tuple[np.ndarray, list[list[tuple[tuple[int, ...], int]]], list[tuple[int, int, int]]]:
    """Capacities in hundredths of a unit, each task's slots (with skill-matched alternatives) and days off."""
    resource_index = {r.resource_id: k for k, r in enumerate(plan.resources)}
    capacity = np.array([max(0, round(r.capacity * _UNITS)) for r in plan.resources], dtype=np.int64)
    blocked: list[tuple[int, int, int]] = []
    if calendar is not None:
        for k, resource in enumerate(plan.resources):
            for day in sorted(resource.days_off):
                if calendar.is_working(day) and calendar.offset(day) >= 0:
                    blocked.append((k, calendar.offset(day), int(capacity[k])))

    by_task: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for assignment in plan.assignments:
        by_task[assignment.task_id].append((assignment.resource_id, assignment.units))
    for task in into.variable:
        if task.task_id not in by_task and task.assignee_id is not None:
            by_task[task.task_id].append((task.assignee_id, 1.0))

    slots: list[list[tuple[tuple[int, ...], int]]] = []
    for task in into.variable:
        task_slots: list[tuple[tuple[int, ...], int]] = []
        own = {resource_index[r] for r, _ in by_task.get(task.task_id, []) if r in resource_index}
        for resource_id, units in by_task.get(task.task_id, []):
            if resource_id not in resource_index:
                into.warnings.append(f"task {task.task_id}: resource {resource_id!r} is not in plan.resources; ignored")
                continue
            k = resource_index[resource_id]
            demand = round(units * _UNITS)
            if demand > capacity[k]:
                into.warnings.append(
                    f"task {task.task_id}: {units:g} units of {resource_id} exceed its capacity "
                    f"{plan.resources[k].capacity:g}; levelled at full capacity"
                )
                demand = int(capacity[k])
            if demand <= 0:
                continue
            candidates = [k]
            skills = plan.resources[k].skills
            if allow_reassign and skills:
                candidates += [
                    other
                    for other, resource in enumerate(plan.resources)
                    if other not in own and skills <= resource.skills and capacity[other] >= demand
                ]
            task_slots.append((tuple(candidates), demand))
        slots.append(task_slots)
    return capacity, slots, blocked


def _plan_problem(plan: Plan, calendar: _DayOffsets | None, allow_reassign: bool) -> _PlanProblem:
    into = _PlanProblem(
        problem=Problem(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), [], np.zeros(0, dtype=np.int64), []),
        leaves=[t for t in plan.tasks if not t.is_summary],
        variable=[],
        index={},
        status={},
        fixed={},
        started_at={},
        resource_ids=[r.resource_id for r in plan.resources],
        calendar=calendar,
        warnings=[],
    )
    duration = _plan_tasks(plan, calendar, into)
    release, finish_due, start_due = _plan_dates(plan, calendar, into, duration)
    edges = _plan_links(plan, into, duration, release)
    capacity, slots, blocked = _plan_resources(plan, calendar, into, allow_reassign)
    into.problem = Problem(
        duration=duration,
        release=release,
        edges=edges,
        capacity=capacity,
        slots=slots,
        blocked=blocked,
        finish_due=finish_due,
        start_due=start_due,
        fixed_end=max((finish for _, finish in into.fixed.values()), default=0),
    )
    return into


def level_plan(
    plan: Plan,
    calendar: WorkCalendar,
    time_limit_seconds: float = 10.0,
    method: Method = "auto",
    *,
    allow_reassign: bool = False,
    workers: int = 2,
    cpsat_max_tasks: int = 1000,
) -> LevelledPlan:
    """Level a real plan: nobody works above capacity, links and dates hold, the end comes first.

    Durations are whole working days (rounded up) of `calendar`, the company's
    `WorkCalendar.from_settings` that CPM schedules on, so dates agree with CPM's.
    All four link types with lags become start-to-start difference
    constraints. Done tasks (actual finish set) stay where they were and use no
    capacity, since history cannot be levelled; in-progress tasks schedule
    their remaining work no earlier than the status date, as do unstarted
    tasks. Start-/finish-no-earlier-than and must-start/finish-on dates are
    earliest starts; deadlines and the no-later-than halves are soft, counted
    as lateness. The objective is lexicographic: project end, then total
    lateness, then (with `allow_reassign`) the number of reassignments, then
    the sum of starts so that nothing moves without need.

    With `allow_reassign`, an assignment may go to another resource whose
    skills include every skill of the assigned one (a resource without skills
    is never swapped, for want of anything to match on). A resource's days
    off block its whole capacity on those days; tasks are not split around
    them. `method="auto"` uses CP-SAT up to `cpsat_max_tasks` tasks to
    schedule and the serial SGS with deadline-aware LFT priorities beyond.
    Summary tasks are not scheduled themselves; links on them apply to their
    subtasks where that is exact.
    """
    if method not in ("auto", "cp-sat", "sgs"):
        raise ValueError(f"unknown method {method!r}; use auto, cp-sat or sgs")
    began = time.perf_counter()
    origin = _plan_origin(plan)
    offsets = _DayOffsets(calendar, origin) if origin is not None else None
    built = _plan_problem(plan, offsets, allow_reassign)
    problem = built.problem
    n = problem.n
    try:
        order = topological_order(n, problem.edges)
    except CycleError as exc:
        ids = [built.variable[i].task_id for i in exc.members]
        raise ValueError(f"precedence links form a cycle through (or behind) tasks {ids[:10]}") from None
    early = earliest_starts(problem, order)

    candidates = [sgs(problem, "LFT")]
    candidates.append(justify(problem, candidates[0]))
    if allow_reassign:
        kept = replace(problem, slots=[[(c[:1], units) for c, units in slots] for slots in problem.slots])
        candidates.append(sgs(kept, "LFT"))
    heuristic = min(candidates, key=lambda schedule: _plan_score(problem, schedule))
    if n and (method == "cp-sat" or (method == "auto" and n <= cpsat_max_tasks)):
        remaining = max(0.5, time_limit_seconds - (time.perf_counter() - began))
        schedule = solve_cpsat(problem, heuristic, remaining, workers, secondary=True)
        used = "cp-sat"
    else:
        schedule, used = heuristic, "serial-sgs/LFT"
    return _levelled_plan(built, schedule, early, used, time.perf_counter() - began)


def _levelled_plan(
    built: _PlanProblem, schedule: Schedule, early: np.ndarray, method: str, seconds: float
) -> LevelledPlan:
    problem, calendar = built.problem, built.calendar
    tasks: dict[str, LevelledTask] = {}
    reassignments: list[Reassignment] = []
    moved: list[str] = []
    total_lateness = 0
    for task in built.leaves:
        task_id = task.task_id
        if task_id in built.fixed:
            start, finish = built.fixed[task_id]
            due = calendar.end_offset(task.deadline) if calendar is not None and task.deadline else None
            lateness = max(0, finish - due) if due is not None else 0
            tasks[task_id] = _levelled(task_id, start, finish, start, "done", (), lateness, calendar)
            total_lateness += lateness
            continue
        i = built.index[task_id]
        start = int(schedule.start[i])
        finish = start + int(problem.duration[i])
        lateness = max(0, finish - int(problem.finish_due[i]), start - int(problem.start_due[i]))
        total_lateness += lateness
        chosen = []
        for (candidates, _), c in zip(problem.slots[i], schedule.choice[i]):
            chosen.append(built.resource_ids[candidates[c]])
            if c != 0:
                reassignments.append(
                    Reassignment(task_id, built.resource_ids[candidates[0]], built.resource_ids[candidates[c]])
                )
        if start != int(early[i]):
            moved.append(task_id)
        tasks[task_id] = _levelled(
            task_id, start, finish, int(early[i]), built.status[task_id], tuple(chosen), lateness, calendar
        )
    return LevelledPlan(
        tasks=tasks,
        origin=calendar.day(0) if calendar is not None else None,
        project_end=int(max(schedule.makespan if problem.n else 0, problem.fixed_end)),
        total_lateness=total_lateness,
        unlevelled_end=int(max(int((early + problem.duration).max(initial=0)), problem.fixed_end)),
        moved=moved,
        reassignments=reassignments,
        method=method,
        optimal=bool(schedule.optimal) and method == "cp-sat",
        seconds=seconds,
        warnings=built.warnings,
    )


def _plan_score(problem: Problem, schedule: Schedule) -> tuple[int, int]:
    """(end, lateness) of a heuristic schedule, to keep justification only when it helps both ways."""
    finish = schedule.start + problem.duration
    late = 0
    if problem.finish_due is not None:
        late += int(np.maximum(0, finish - problem.finish_due).sum())
    if problem.start_due is not None:
        late += int(np.maximum(0, schedule.start - problem.start_due).sum())
    return schedule.makespan, late


def _levelled(
    task_id: str,
    start: int,
    finish: int,
    early_start: int,
    status: TaskStatus,
    resource_ids: tuple[str, ...],
    lateness: int,
    calendar: _DayOffsets | None,
) -> LevelledTask:
    start_date = finish_date = None
    if calendar is not None:
        start_date = calendar.day(start)
        finish_date = calendar.day(finish - 1) if finish > start else start_date
    return LevelledTask(task_id, start, finish, early_start, status, resource_ids, lateness, start_date, finish_date)
