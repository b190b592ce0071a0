"""What a slip does to the plan, and concrete ways to re-plan around it, each priced in end-date terms.

A project manager hearing "task X will be N days late" needs two answers: what
moves (successors, milestones, the end date) and what can be done about it. Both
come from re-running CPM on a copy of the plan, so the numbers are exactly those
the schedule would show after the change; nothing here mutates the given plan.

Re-plan options:

(a) ``accept``: take the slip; the new end date.
(b) ``overlap``: start the critical successors before the slipped task finishes (FS → SS
    with a lag of a fraction of its duration, plus FF 0 so a successor never finishes
    before its input does).
(c) ``reassign``: someone with free capacity takes part of the remaining work; the work is
    split in proportion to capacity (no ramp-up cost is modelled, so treat it as a best case).
(d) ``shift_noncritical``: re-date successors that moved but still have float; the end
    date does not change, the plan just stops showing stale dates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

import numpy as np
import polars as pl

from models.planning.calendar import WorkCalendar
from models.planning.cpm import EPS, Schedule, Violation, schedule
from models.planning.model import Assignment, Plan, PlanLink, PlanTask

OptionKind = Literal["accept", "overlap", "reassign", "shift_noncritical"]


@dataclass(frozen=True)
class TaskShift:
    """A task whose early finish moves: old and new finish date and the move in working days."""

    task_id: str
    old_finish: date
    new_finish: date
    days: float
    is_milestone: bool = False


@dataclass
class SlipImpact:
    """The effect of one task finishing ``slip_days`` working days later than planned."""

    task_id: str
    slip_days: float
    before: Schedule = field(repr=False)
    after: Schedule = field(repr=False)
    moved: list[TaskShift]
    """Every other task whose finish moves, largest move first."""
    old_project_finish: date
    new_project_finish: date
    project_delay_days: float
    new_violations: list[Violation]
    """Constraints and deadlines broken by the slip that were met before."""

    @property
    def milestones(self) -> list[TaskShift]:
        return [shift for shift in self.moved if shift.is_milestone]

    @property
    def absorbed_days(self) -> float:
        """How much of the slip the float absorbs before it reaches the end date."""
        return self.slip_days - self.project_delay_days

    @property
    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            [{"task_id": s.task_id, "old_finish": s.old_finish, "new_finish": s.new_finish,
              "delay_days": s.days, "is_milestone": s.is_milestone} for s in self.moved],
            schema={"task_id": pl.String, "old_finish": pl.Date, "new_finish": pl.Date,
                    "delay_days": pl.Float64, "is_milestone": pl.Boolean},
        )


@dataclass(frozen=True)
class Change:
    """One concrete edit an option makes, readable on its own ("link A→B: FS+0 → SS+3")."""

    task_id: str
    what: str
    old: str
    new: str


@dataclass
class Option:
    """A way to respond to the slip and what it does to the project end."""

    kind: OptionKind
    summary: str
    project_finish: date
    delay_days: float
    """Working days the end moves compared with the plan before the slip."""
    recovered_days: float
    """Working days gained compared with simply accepting the slip."""
    changes: list[Change]
    plan: Plan = field(repr=False)
    """The plan with the slip and this option applied, ready to save or schedule further."""


def _with_tasks(plan: Plan, changed: Mapping[str, PlanTask], links: list[PlanLink] | None = None,
                assignments: list[Assignment] | None = None) -> Plan:
    """A copy of the plan with some tasks (and optionally links/assignments) replaced."""
    return replace(
        plan,
        tasks=[changed.get(t.task_id, t) for t in plan.tasks],
        links=list(plan.links) if links is None else links,
        assignments=list(plan.assignments) if assignments is None else assignments,
        resources=list(plan.resources),
    )


def _work_of(task: PlanTask) -> float:
    """Working days still to do, as CPM sees them."""
    if task.actual_start is None:
        return float(task.duration_days)
    if task.remaining_days is not None:
        return float(task.remaining_days)
    return float(task.duration_days) * (1.0 - min(max(task.percent_complete, 0.0), 100.0) / 100.0)


def _set_work(task: PlanTask, work: float) -> PlanTask:
    """The task with ``work`` working days left (duration for unstarted, remaining for in-progress)."""
    if task.actual_start is None:
        return replace(task, duration_days=work)
    done = max(float(task.duration_days) - _work_of(task), 0.0)
    return replace(task, remaining_days=work, duration_days=done + work)


def slipped_plan(plan: Plan, task_id: str, slip_days: float) -> Plan:
    """The plan with ``task_id`` taking ``slip_days`` more working days (fewer when negative)."""
    task = plan.task(task_id)
    if task.is_summary:
        raise ValueError(f"{task_id} is a summary task: slip one of its tasks instead")
    if task.actual_finish is not None:
        raise ValueError(f"{task_id} is already finished")
    work = _work_of(task) + slip_days
    if work < 0:
        raise ValueError(f"{task_id} has only {_work_of(task)} working days left; cannot gain {-slip_days}")
    return _with_tasks(plan, {task_id: _set_work(task, work)})


def _moved(before: Schedule, after: Schedule, skip: str) -> list[TaskShift]:
    delta = after.early_finish - before.early_finish
    milestone = before.network.is_milestone
    shifts = [
        TaskShift(before.task_ids[i], before.finish_date(before.task_ids[i]), after.finish_date(before.task_ids[i]),
                  float(delta[i]), bool(milestone[i]))
        for i in np.flatnonzero(np.abs(delta) > EPS)
        if before.task_ids[i] != skip
    ]
    shifts.sort(key=lambda s: (-s.days, s.task_id))
    return shifts


def slip_impact(plan: Plan, calendar: WorkCalendar, task_id: str, slip_days: float) -> SlipImpact:
    """Which tasks, milestones and the end date move, and by how many working days, if ``task_id`` slips."""
    before = schedule(plan, calendar)
    after = schedule(slipped_plan(plan, task_id, slip_days), calendar)
    old = {(v.task_id, v.constraint) for v in before.violations}
    return SlipImpact(
        task_id=task_id,
        slip_days=float(slip_days),
        before=before,
        after=after,
        moved=_moved(before, after, task_id),
        old_project_finish=before.project_finish_date,
        new_project_finish=after.project_finish_date,
        project_delay_days=float(after.project_finish - before.project_finish),
        new_violations=[v for v in after.violations if (v.task_id, v.constraint) not in old],
    )


def _option(kind: OptionKind, summary: str, new_plan: Plan, calendar: WorkCalendar, base: Schedule,
            accepted: Schedule | None, changes: list[Change], result: Schedule | None = None) -> Option:
    result = result or schedule(new_plan, calendar)
    reference = accepted or result
    return Option(
        kind=kind,
        summary=summary,
        project_finish=result.project_finish_date,
        delay_days=float(result.project_finish - base.project_finish),
        recovered_days=float(reference.project_finish - result.project_finish),
        changes=changes,
        plan=new_plan,
    )


def _overlap_option(impact: SlipImpact, plan: Plan, calendar: WorkCalendar, start_after: float,
                    keep_finish_link: bool) -> Option | None:
    """FS links from the slipped task to critical successors that it drives become SS + lag (+ FF 0)."""
    after = impact.after
    net = after.network
    i = net.index[impact.task_id]
    driving = (net.pred == i) & (net.link_type == 0) & after.is_critical[net.succ] & (after.link_slack <= EPS)
    targets = {net.task_ids[s] for s in net.succ[driving]}
    if not targets:
        return None
    task = plan.task(impact.task_id)
    lag = float(math.ceil(start_after * (task.duration_days + impact.slip_days) - EPS))
    links: list[PlanLink] = []
    changes: list[Change] = []
    for link in plan.links:
        if link.predecessor_id == impact.task_id and link.successor_id in targets and link.type == "FS":
            links.append(replace(link, type="SS", lag_days=lag))
            if keep_finish_link:
                links.append(PlanLink(link.predecessor_id, link.successor_id, "FF", 0.0))
            changes.append(Change(link.successor_id, f"link {link.predecessor_id}→{link.successor_id}",
                                  f"FS{link.lag_days:+g}", f"SS{lag:+g}" + (" and FF+0" if keep_finish_link else "")))
        else:
            links.append(link)
    new_plan = replace(slipped_plan(plan, impact.task_id, impact.slip_days), links=links)
    names = ", ".join(sorted(targets))
    return _option("overlap", f"start {names} {lag:g} working days after {impact.task_id} starts instead of "
                   f"after it finishes", new_plan, calendar, impact.before, impact.after, changes)


def _free_capacity(after: Schedule, plan: Plan, task_id: str) -> dict[str, float]:
    """Each resource's capacity minus its peak load from other unfinished tasks while the slipped task runs."""
    net = after.network
    i = net.index[task_id]
    window = np.arange(math.floor(after.early_start[i] + EPS),
                       max(math.ceil(after.early_finish[i] - EPS), math.floor(after.early_start[i] + EPS) + 1))
    free: dict[str, float] = {}
    for resource in plan.resources:
        load = np.zeros(window.size)
        for a in plan.assignments:
            j = net.index.get(a.task_id)
            if a.resource_id != resource.resource_id or j is None or j == i or after.inputs.done[j]:
                continue
            busy = (window >= math.floor(after.early_start[j] + EPS)) & (window < after.early_finish[j] - EPS)
            load += busy * a.units
        free[resource.resource_id] = resource.capacity - float(load.max(initial=0.0))
    return free


def _reassign_options(impact: SlipImpact, plan: Plan, calendar: WorkCalendar,
                      free_capacity: Mapping[str, float] | None, max_helpers: int) -> list[Option]:
    """Split the remaining work with the people who have the most free capacity during the task."""
    if not plan.resources:
        return []
    task = plan.task(impact.task_id)
    current = [a for a in plan.assignments if a.task_id == impact.task_id]
    if not current and task.assignee_id:
        current = [Assignment(impact.task_id, task.assignee_id)]
    assigned = {a.resource_id for a in current}
    units = sum(a.units for a in current) or 1.0
    by_id = {r.resource_id: r for r in plan.resources}
    skills = frozenset().union(*(by_id[r].skills for r in assigned if r in by_id))
    free = dict(free_capacity) if free_capacity is not None else _free_capacity(impact.after, plan, impact.task_id)
    helpers = sorted(
        ((rid, spare) for rid, spare in free.items()
         if rid not in assigned and spare > 0.05 and rid in by_id
         and (not skills or not by_id[rid].skills or skills & by_id[rid].skills)),
        key=lambda item: (-item[1], item[0]),
    )[:max_helpers]
    slipped = slipped_plan(plan, impact.task_id, impact.slip_days).task(impact.task_id)
    work = _work_of(slipped)
    options = []
    for rid, spare in helpers:
        new_work = work * units / (units + spare)
        new_task = _set_work(slipped, new_work)
        new_plan = _with_tasks(slipped_plan(plan, impact.task_id, impact.slip_days), {impact.task_id: new_task},
                               assignments=[*plan.assignments, Assignment(impact.task_id, rid, round(spare, 3))])
        changes = [
            Change(impact.task_id, "assignment", "", f"{rid} at {spare:.2f} units"),
            Change(impact.task_id, "remaining work (working days)", f"{work:g}", f"{new_work:.2f}"),
        ]
        options.append(_option("reassign", f"{rid} takes {spare:.0%} of a person's time on {impact.task_id}: "
                               f"{work:g} → {new_work:.1f} working days", new_plan, calendar, impact.before,
                               impact.after, changes))
    return options


def _shift_option(impact: SlipImpact, plan: Plan, calendar: WorkCalendar) -> Option | None:
    """Successors that moved but keep float: new dates for them, same end date as accepting."""
    after = impact.after
    changes = []
    for shift in impact.moved:
        j = after.network.index[shift.task_id]
        if after.is_critical[j]:
            continue
        changes.append(Change(shift.task_id, "dates",
                              f"{impact.before.start_date(shift.task_id)}..{shift.old_finish}",
                              f"{after.start_date(shift.task_id)}..{shift.new_finish} "
                              f"(float left {after.total_float[j]:g} d)"))
    if not changes:
        return None
    slipped = slipped_plan(plan, impact.task_id, impact.slip_days)
    new_plan = _with_tasks(slipped, {
        c.task_id: replace(slipped.task(c.task_id), start=after.start_date(c.task_id),
                           finish=after.finish_date(c.task_id))
        for c in changes
    })
    return _option("shift_noncritical", f"re-date {len(changes)} successor(s) within their float",
                   new_plan, calendar, impact.before, impact.after, changes, result=after)


def replan_options(
    plan: Plan,
    calendar: WorkCalendar,
    task_id: str,
    slip_days: float,
    free_capacity: Mapping[str, float] | None = None,
    start_after_fraction: float = 0.5,
    keep_finish_link: bool = True,
    max_helpers: int = 3,
) -> list[Option]:
    """Concrete responses to a slip, each with its end date: accept, overlap, reassign, re-date.

    ``free_capacity`` (resource id → spare units per working day) overrides what is derived from
    the plan's assignments; ``start_after_fraction`` sets the SS lag of the overlap option as a
    share of the slipped task's duration.
    """
    impact = slip_impact(plan, calendar, task_id, slip_days)
    slipped = slipped_plan(plan, task_id, slip_days)
    delay = impact.project_delay_days
    options = [_option("accept", f"accept the slip: the end moves {delay:g} working days "
                       f"({impact.old_project_finish} → {impact.new_project_finish})",
                       slipped, calendar, impact.before, impact.after, [
                           Change(task_id, "remaining work (working days)", f"{_work_of(plan.task(task_id)):g}",
                                  f"{_work_of(slipped.task(task_id)):g}")], result=impact.after)]
    overlap = _overlap_option(impact, plan, calendar, start_after_fraction, keep_finish_link)
    if overlap is not None:
        options.append(overlap)
    options.extend(_reassign_options(impact, plan, calendar, free_capacity, max_helpers))
    shift = _shift_option(impact, plan, calendar)
    if shift is not None:
        options.append(shift)
    return options
