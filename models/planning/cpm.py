"""Critical path method: early/late dates, total and free float, critical paths and violated constraints.

Time convention (the one thing to know before reading numbers out of a Schedule)
-------------------------------------------------------------------------------
Times are *working-day indices* of a ``WorkCalendar`` (floats, since durations
and lags may be fractional). A task of duration ``d`` starting at index ``s``
occupies ``[s, s + d)``: its finish index ``s + d`` is *exclusive*, the morning of
the next working day. So an FS successor with lag 0 starts at exactly the
predecessor's finish index, and lags add without ±1 corrections. Dates shown
to people are inclusive working days:

* start date  = ``date_of(floor(s))``
* finish date = ``date_of(ceil(s + d) − 1)`` for ``d > 0``, and the start date for a
  milestone (``d = 0``): a milestone after a task that ends on Friday is dated on the
  next working day, the morning it becomes true.

Link semantics with lag ``L`` (working days, negative = lead), ``S``/``F`` the start and
exclusive finish indices::

    FS: S_succ ≥ F_pred + L     SS: S_succ ≥ S_pred + L
    FF: F_succ ≥ F_pred + L     SF: F_succ ≥ S_pred + L

Progress and dates
------------------
* done (``actual_finish`` set): keeps its actual dates; not pushed by predecessors, not
  critical, zero float (it can no longer move).
* in progress (``actual_start`` set): keeps its actual start; the remaining work
  (``remaining_days``, else ``duration × (1 − percent_complete/100)``) is scheduled from
  ``max(status_date, predecessors)``. Without a status date the remaining work resumes
  right after the part already done.
* not started: no earlier than ``plan.start`` and ``plan.status_date``.
* constraints: SNET/FNET/MSO/MFO push early dates; SNLT/FNLT/MSO/MFO and ``deadline``
  bound late dates (which gives negative float upstream when they cannot be met), and
  each one the early dates break is listed in ``Schedule.violations``.

Both passes walk the network one topological level at a time; each level is a
gather over its links and a ``reduceat`` per successor (forward) or predecessor
(backward). Arrays are task-major ``(n_tasks, runs)`` so that Monte Carlo
(``forecast.simulate``) runs the very same passes over thousands of runs at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import NamedTuple

import numpy as np
import polars as pl

from models.planning.calendar import WorkCalendar
from models.planning.model import Plan
from models.planning.network import Network

EPS = 1e-9
"""Float tolerance on working-day indices: sums of fractional lags are not exact."""

_FINISH_SRC = np.array([True, False, True, False])  # FS, SS, FF, SF: does the link leave the predecessor's finish?
_FINISH_DST = np.array([False, False, True, True])  # does it bind the successor's finish?


class Violation(NamedTuple):
    """A constraint the schedule cannot meet: by how many working days the early dates overshoot it."""

    task_id: str
    constraint: str
    """SNLT, FNLT, MSO, MFO or 'deadline'."""
    date: date
    days: float


@dataclass
class ScheduleInputs:
    """What progress, the status date and constraints say about each task, as index arrays.

    Every task is scheduled through one variable ``x``: the start of the work still to do.
    Its finish is ``x + work``; its start is ``x`` unless it has already started
    (``started``), in which case the start is the fixed ``actual_start``.
    """

    work: np.ndarray
    """Working days still to schedule: duration, remaining work, or the actual span when done."""
    lower: np.ndarray
    """Earliest ``x`` from dates alone: project start/status date, SNET/MSO; the actual start when done."""
    finish_lower: np.ndarray
    """Earliest exclusive finish from FNET/MFO (``-inf`` if none); kept apart because ``x ≥ it − work``
    depends on the work, which Monte Carlo varies."""
    late_start_bound: np.ndarray
    """Latest ``x`` allowed by SNLT/MSO (``inf`` if none)."""
    late_finish_bound: np.ndarray
    """Latest exclusive finish allowed by FNLT/MFO/deadline (``inf`` if none)."""
    fixed_start: np.ndarray
    """Actual start index of started tasks (NaN otherwise)."""
    started: np.ndarray
    done: np.ndarray
    checks: list[tuple[int, str, date, float, bool]] = field(default_factory=list)
    """(task, constraint, date, bound, on finish?) to compare with the early dates afterwards."""

    def x_lower(self, work: np.ndarray) -> np.ndarray:
        """Earliest ``x`` for the given work (``(n,)`` or ``(n, runs)``)."""
        lower = self.lower if work.ndim == 1 else self.lower[:, None]
        if not np.isfinite(self.finish_lower).any():
            return lower
        finish_lower = self.finish_lower if work.ndim == 1 else self.finish_lower[:, None]
        return np.maximum(lower, finish_lower - work)

    def late_x(self, project_finish: np.ndarray | float, work: np.ndarray) -> np.ndarray:
        """Latest ``x`` before links: the project finish and the late-date constraints."""
        start_bound = self.late_start_bound if work.ndim == 1 else self.late_start_bound[:, None]
        finish_bound = self.late_finish_bound if work.ndim == 1 else self.late_finish_bound[:, None]
        return np.minimum(np.minimum(project_finish, finish_bound) - work, start_bound)


Ranks = list[tuple[np.ndarray | None, np.ndarray]]


def _rank_steps(starts: np.ndarray, size: int) -> Ranks:
    """How to reduce segments rank by rank: for rank r ≥ 1, which segments have an r-th element and where.

    ``ufunc.reduceat`` along the task axis of a ``(links, runs)`` matrix calls its inner loop once
    per segment *and run*, which is ~10× slower than a few whole-row operations per rank
    (most tasks have one to three predecessors). ``None`` means every segment takes part.
    """
    lengths = np.diff(np.append(starts, size))
    steps: Ranks = []
    for r in range(1, int(lengths.max(initial=1))):
        segments = np.flatnonzero(lengths > r)
        steps.append((None if segments.size == starts.size else segments, starts[segments] + r))
    return steps


def _segment_reduce(ufunc: np.ufunc, values: np.ndarray, starts: np.ndarray, steps: Ranks | None) -> np.ndarray:
    """``ufunc`` over consecutive row segments starting at ``starts``: reduceat for one run, ranks for many."""
    if steps is None:
        return ufunc.reduceat(values, starts, axis=0)
    best = values[starts]
    for segments, positions in steps:
        if segments is None:
            ufunc(best, values[positions], out=best)
        else:
            best[segments] = ufunc(best[segments], values[positions])
    return best


@dataclass
class _LevelArrays:
    """Per-level slices of the link arrays, permuted once per network so passes only slice."""

    f_perm: np.ndarray
    f_ptr: np.ndarray
    f_src: np.ndarray          # row of the stacked [start; finish] array each link reads
    f_fin_pos: list[np.ndarray]  # positions (within the level) of links that bind the successor's finish
    f_fin_task: list[np.ndarray]
    b_perm: np.ndarray
    b_ptr: np.ndarray
    b_succ: np.ndarray
    b_dst_pos: list[np.ndarray]  # links whose successor end is a finish (add successor work back)
    b_dst_task: list[np.ndarray]
    b_src_pos: list[np.ndarray]  # links that leave the predecessor's finish (subtract its work)
    b_src_task: list[np.ndarray]
    f_ranks: list[Ranks] | None = None  # built on the first multi-run pass
    b_ranks: list[Ranks] | None = None

    def ranks(self, net: Network, runs: int) -> tuple[list[Ranks | None], list[Ranks | None]]:
        if runs == 1:
            none: list[Ranks | None] = [None] * (self.f_ptr.size - 1)
            return none, none
        if self.f_ranks is None:
            self.f_ranks = [_rank_steps(st, int(self.f_ptr[k + 1] - self.f_ptr[k]))
                            for k, st in enumerate(net.forward.starts)]
            self.b_ranks = [_rank_steps(st, int(self.b_ptr[k + 1] - self.b_ptr[k]))
                            for k, st in enumerate(net.backward.starts)]
        return self.f_ranks, self.b_ranks


def _level_arrays(net: Network) -> _LevelArrays:
    cached = net.cache.get("cpm_levels")
    if cached is not None:
        return cached
    n = net.n_tasks
    src_fin = _FINISH_SRC[net.link_type]
    dst_fin = _FINISH_DST[net.link_type]
    fw, bw = net.forward, net.backward

    def split(ptr: np.ndarray, flags: np.ndarray, owner: np.ndarray) -> tuple[list, list]:
        positions, tasks = [], []
        for k in range(ptr.size - 1):
            pos = np.flatnonzero(flags[ptr[k]:ptr[k + 1]])
            positions.append(pos)
            tasks.append(owner[ptr[k]:ptr[k + 1]][pos])
        return positions, tasks

    f_fin_pos, f_fin_task = split(fw.ptr, dst_fin[fw.perm], net.succ[fw.perm])
    b_dst_pos, b_dst_task = split(bw.ptr, dst_fin[bw.perm], net.succ[bw.perm])
    b_src_pos, b_src_task = split(bw.ptr, src_fin[bw.perm], net.pred[bw.perm])
    arrays = _LevelArrays(
        f_perm=fw.perm, f_ptr=fw.ptr, f_src=net.pred[fw.perm] + n * src_fin[fw.perm],
        f_fin_pos=f_fin_pos, f_fin_task=f_fin_task,
        b_perm=bw.perm, b_ptr=bw.ptr, b_succ=net.succ[bw.perm],
        b_dst_pos=b_dst_pos, b_dst_task=b_dst_task, b_src_pos=b_src_pos, b_src_task=b_src_task,
    )
    net.cache["cpm_levels"] = arrays
    return arrays


def forward_pass(
    net: Network,
    work: np.ndarray,
    lower: np.ndarray,
    fixed_start: np.ndarray,
    started: np.ndarray,
    lag: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Earliest ``x`` and the stacked ``[start; finish]`` array, for ``runs`` columns at once.

    ``work`` is ``(n, runs)``, ``lower`` and ``fixed_start`` are ``(n, 1)`` or ``(n, runs)``, ``lag`` is per link in
    network order (``-inf`` switches a link off: links into done tasks). Returns ``x`` of shape
    ``(n, runs)`` and ``E`` of shape ``(2n, runs)`` with early starts in rows ``0..n-1`` and
    early (exclusive) finishes in rows ``n..2n-1``.
    """
    n = net.n_tasks
    la = _level_arrays(net)
    runs = work.shape[1]
    x = np.empty((n, runs), dtype=np.float64)
    x[:] = lower
    stacked = np.empty((2 * n, runs), dtype=np.float64)
    stacked[:n] = np.where(started[:, None], fixed_start, x)
    np.add(x, work, out=stacked[n:])
    lag_f = lag[la.f_perm][:, None]
    started_col = started[:, None]
    steps = la.ranks(net, runs)[0]
    for k in range(1, la.f_ptr.size - 1):
        a, b = la.f_ptr[k], la.f_ptr[k + 1]
        if a == b:
            continue
        vals = stacked[la.f_src[a:b]]
        vals += lag_f[a:b]
        fin = la.f_fin_pos[k]
        if fin.size:
            vals[fin] -= work[la.f_fin_task[k]]
        tasks = net.forward.tasks[k]
        best = _segment_reduce(np.maximum, vals, net.forward.starts[k], steps[k])
        np.maximum(best, x[tasks], out=best)
        x[tasks] = best
        stacked[n + tasks] = best + work[tasks]
        stacked[tasks] = np.where(started_col[tasks], fixed_start[tasks], best)
    return x, stacked


def backward_pass(net: Network, work: np.ndarray, late_x: np.ndarray, lag: np.ndarray) -> np.ndarray:
    """Latest ``x`` for every task, starting from ``late_x`` (the bounds) and tightening level by level.

    ``lag`` is per link in network order; ``-inf`` switches a link off (links into done tasks,
    and links leaving the start of a task that has already started: that start cannot move).
    """
    la = _level_arrays(net)
    lx = late_x.copy()
    lag_b = lag[la.b_perm][:, None]
    steps = la.ranks(net, lx.shape[1])[1]
    for k in range(la.b_ptr.size - 2, -1, -1):
        a, b = la.b_ptr[k], la.b_ptr[k + 1]
        if a == b:
            continue
        vals = lx[la.b_succ[a:b]]
        dst = la.b_dst_pos[k]
        if dst.size:
            vals[dst] += work[la.b_dst_task[k]]
        vals -= lag_b[a:b]
        src = la.b_src_pos[k]
        if src.size:
            vals[src] -= work[la.b_src_task[k]]
        tasks = net.backward.tasks[k]
        best = _segment_reduce(np.minimum, vals, net.backward.starts[k], steps[k])
        np.minimum(best, lx[tasks], out=best)
        lx[tasks] = best
    return lx


def _project_floor(plan: Plan) -> date:
    """No task starts before this: the later of plan start and status date, or the earliest known date."""
    floors = [d for d in (plan.start, plan.status_date) if d is not None]
    if floors:
        return max(floors)
    known = [d for t in plan.tasks for d in (t.actual_start, t.start) if d is not None]
    if not known:
        raise ValueError("the plan needs a start, a status date, or at least one task date to be scheduled")
    return min(known)


def prepare_inputs(net: Network, calendar: WorkCalendar) -> ScheduleInputs:
    """Turn progress, status date and constraints into index arrays (the only date handling of CPM)."""
    plan = net.plan
    n = net.n_tasks
    duration = net.duration
    floor_index = float(calendar.index_of(_project_floor(plan)))
    status_index = None if plan.status_date is None else float(calendar.index_of(plan.status_date))
    work = duration.copy()
    lower = np.full(n, floor_index)
    finish_lower = np.full(n, -np.inf)
    late_start = np.full(n, np.inf)
    late_finish = np.full(n, np.inf)
    fixed_start = np.full(n, np.nan)
    started = np.zeros(n, dtype=bool)
    done = np.zeros(n, dtype=bool)
    finish_offset = (duration > 0).astype(np.float64)  # exclusive finish = finish day + 1, but not for milestones
    checks: list[tuple[int, str, date, float, bool]] = []

    progressed = [i for i, t in enumerate(net.tasks) if t.actual_start is not None or t.actual_finish is not None]
    for i in progressed:
        task = net.tasks[i]
        if task.actual_finish is not None:
            finish = calendar.index_of(task.actual_finish, "backward") + finish_offset[i]
            if duration[i] == 0:
                finish = calendar.index_of(task.actual_finish, "forward")
            start = (calendar.index_of(task.actual_start, "forward") if task.actual_start is not None
                     else finish - duration[i])
            start = min(start, finish)
            done[i] = started[i] = True
            fixed_start[i] = lower[i] = start
            work[i] = finish - start
            continue
        start = float(calendar.index_of(task.actual_start, "forward"))
        remaining = task.remaining_days
        if remaining is None:
            remaining = duration[i] * (1.0 - min(max(task.percent_complete, 0.0), 100.0) / 100.0)
        remaining = max(float(remaining), 0.0)
        started[i] = True
        fixed_start[i] = start
        work[i] = remaining
        lower[i] = max(status_index, start) if status_index is not None \
            else start + max(duration[i] - remaining, 0.0)

    for i, task in enumerate(net.tasks):
        if done[i] or (task.constraint_type == "ASAP" and task.deadline is None):
            continue
        kind, when = task.constraint_type, task.constraint_date
        if kind != "ASAP" and when is not None:
            if kind in ("SNET", "MSO") and not started[i]:
                lower[i] = max(lower[i], calendar.index_of(when, "forward"))
            if kind in ("FNET", "MFO"):
                finish_lower[i] = max(finish_lower[i], calendar.index_of(when, "forward") + finish_offset[i])
            if kind in ("SNLT", "MSO") and not started[i]:
                bound = float(calendar.index_of(when, "forward" if kind == "MSO" else "backward"))
                late_start[i] = min(late_start[i], bound)
                checks.append((i, kind, when, bound, False))
            if kind in ("FNLT", "MFO"):
                bound = calendar.index_of(when, "forward" if kind == "MFO" else "backward") + finish_offset[i]
                late_finish[i] = min(late_finish[i], bound)
                checks.append((i, kind, when, float(bound), True))
        if task.deadline is not None:
            bound = calendar.index_of(task.deadline, "backward") + finish_offset[i]
            late_finish[i] = min(late_finish[i], bound)
            checks.append((i, "deadline", task.deadline, float(bound), True))
    return ScheduleInputs(work=work, lower=lower, finish_lower=finish_lower, late_start_bound=late_start,
                          late_finish_bound=late_finish, fixed_start=fixed_start, started=started, done=done,
                          checks=checks)


def free_inputs(net: Network) -> ScheduleInputs:
    """Inputs without dates: every task unstarted, no earlier than index 0, no constraints."""
    n = net.n_tasks
    return ScheduleInputs(work=net.duration.copy(), lower=np.zeros(n), finish_lower=np.full(n, -np.inf),
                          late_start_bound=np.full(n, np.inf), late_finish_bound=np.full(n, np.inf),
                          fixed_start=np.full(n, np.nan), started=np.zeros(n, dtype=bool),
                          done=np.zeros(n, dtype=bool))


def effective_lags(net: Network, inputs: ScheduleInputs) -> tuple[np.ndarray, np.ndarray]:
    """Link lags for the forward and the backward pass, with ``-inf`` where progress makes a link moot.

    Forward: a done task is where it is, whatever its predecessors say. Backward: additionally,
    a link from the start of a task that has already started cannot move that start.
    """
    forward = np.where(inputs.done[net.succ], -np.inf, net.lag)
    moot = inputs.done[net.pred] | (inputs.started[net.pred] & ~_FINISH_SRC[net.link_type])
    backward = np.where(moot, -np.inf, forward)
    return forward, backward


def display_days(start: np.ndarray, finish: np.ndarray, duration: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inclusive start and finish *day* indices for people: see the module's time convention."""
    start_day = np.floor(start + EPS)
    finish_day = np.where(duration > 0, np.maximum(np.ceil(finish - EPS) - 1, start_day), np.floor(finish + EPS))
    return start_day.astype(np.int64), finish_day.astype(np.int64)


@dataclass
class Schedule:
    """CPM result. Index arrays follow ``network.task_ids``; finishes are exclusive indices (module doc)."""

    network: Network
    calendar: WorkCalendar
    inputs: ScheduleInputs = field(repr=False)
    early_start: np.ndarray = field(repr=False)
    early_finish: np.ndarray = field(repr=False)
    late_start: np.ndarray = field(repr=False)
    late_finish: np.ndarray = field(repr=False)
    total_float: np.ndarray = field(repr=False)
    free_float: np.ndarray = field(repr=False)
    is_critical: np.ndarray = field(repr=False)
    project_finish: float
    """Exclusive finish index of the whole project (the latest early finish)."""
    violations: list[Violation]
    link_slack: np.ndarray = field(repr=False)
    """Per link (network order): how far the successor is beyond what the link requires; 0 = driving."""

    @property
    def task_ids(self) -> list[str]:
        return self.network.task_ids

    def _i(self, task_id: str) -> int:
        return self.network.index[task_id]

    @cached_property
    def _early_days(self) -> tuple[np.ndarray, np.ndarray]:
        return display_days(self.early_start, self.early_finish, self.network.duration)

    @cached_property
    def _late_days(self) -> tuple[np.ndarray, np.ndarray]:
        return display_days(self.late_start, self.late_finish, self.network.duration)

    def start_date(self, task_id: str, late: bool = False) -> date:
        days = self._late_days if late else self._early_days
        return self.calendar.date_of(int(days[0][self._i(task_id)]))

    def finish_date(self, task_id: str, late: bool = False) -> date:
        days = self._late_days if late else self._early_days
        return self.calendar.date_of(int(days[1][self._i(task_id)]))

    def float_days(self, task_id: str) -> float:
        return float(self.total_float[self._i(task_id)])

    @property
    def project_finish_date(self) -> date:
        """Last working day of the project (the latest finish date of any task)."""
        if not self.task_ids:
            raise ValueError("empty plan")
        return self.calendar.date_of(int(self._early_days[1].max()))

    @property
    def project_start_date(self) -> date:
        if not self.task_ids:
            raise ValueError("empty plan")
        return self.calendar.date_of(int(self._early_days[0].min()))

    @cached_property
    def frame(self) -> pl.DataFrame:
        """One row per scheduled task with dates, float (working days) and the critical flag."""
        es, ef = self._early_days
        ls, lf = self._late_days
        to_date = self.calendar.date_of
        return pl.DataFrame({
            "task_id": self.task_ids,
            "early_start": to_date(es),
            "early_finish": to_date(ef),
            "late_start": to_date(ls),
            "late_finish": to_date(lf),
            "total_float_days": self.total_float,
            "free_float_days": self.free_float,
            "is_critical": self.is_critical,
        })

    @cached_property
    def driving_links(self) -> np.ndarray:
        """Links (network order) that set their successor's early date and join two critical tasks."""
        net = self.network
        return ((self.link_slack <= EPS) & self.is_critical[net.pred] & self.is_critical[net.succ])

    def critical_paths(self, max_paths: int = 20) -> list[list[str]]:
        """Chains of critical tasks linked by driving links, longest first, at most ``max_paths``.

        Parallel equal chains are all critical, so there can be several; they are enumerated
        depth-first from critical tasks that no driving critical link enters.
        """
        net = self.network
        mask = self.driving_links
        pred, succ = net.pred[mask], net.succ[mask]
        nexts: dict[int, list[int]] = {}
        for p, s in zip(pred.tolist(), succ.tolist()):
            nexts.setdefault(p, []).append(s)
        for targets in nexts.values():
            targets.sort(key=lambda t: (self.early_start[t], t))
        entered = set(succ.tolist())
        heads = [int(i) for i in np.flatnonzero(self.is_critical) if int(i) not in entered]
        heads.sort(key=lambda t: (self.early_start[t], t))
        paths: list[list[int]] = []
        stack: list[list[int]] = [[h] for h in reversed(heads)]
        while stack and len(paths) < max_paths:
            path = stack.pop()
            following = nexts.get(path[-1])
            if not following:
                paths.append(path)
                continue
            stack.extend(path + [s] for s in reversed(following))
        paths.sort(key=len, reverse=True)
        return [[net.task_ids[i] for i in path] for path in paths]

    @property
    def critical_path(self) -> list[str]:
        """The longest critical chain (empty when nothing is critical)."""
        paths = self.critical_paths(max_paths=20)
        return paths[0] if paths else []


def schedule(plan: Plan | Network, calendar: WorkCalendar) -> Schedule:
    """Early and late dates, floats, critical tasks and violated constraints of a plan.

    Pass a ``Network`` instead of a ``Plan`` to reuse its arrays when scheduling the same
    structure again (what-if analysis, benchmarks).
    """
    net = plan if isinstance(plan, Network) else Network.from_plan(plan)
    inputs = prepare_inputs(net, calendar)
    return schedule_with(net, calendar, inputs)


def schedule_with(net: Network, calendar: WorkCalendar, inputs: ScheduleInputs) -> Schedule:
    """CPM from prepared inputs (used by ``schedule`` and by what-if code that edits the inputs)."""
    n = net.n_tasks
    work = inputs.work[:, None]
    lag_forward, lag_backward = effective_lags(net, inputs)
    x, stacked = forward_pass(net, work, inputs.x_lower(work), inputs.fixed_start[:, None],
                              inputs.started, lag_forward)
    x = x[:, 0]
    early_start = stacked[:n, 0].copy()
    early_finish = stacked[n:, 0].copy()
    project_finish = float(early_finish.max()) if n else 0.0

    late_x = backward_pass(net, work, inputs.late_x(project_finish, work), lag_backward)[:, 0]
    late_x = np.where(inputs.done, x, late_x)
    late_finish = late_x + inputs.work
    late_start = np.where(inputs.started, early_start, late_x)
    total_float = np.where(inputs.done, 0.0, late_x - x)

    # free float: slack of each link against what it requires; end tasks measure against the project finish
    src_fin = _FINISH_SRC[net.link_type]
    dst_fin = _FINISH_DST[net.link_type]
    required = np.where(src_fin, early_finish[net.pred], early_start[net.pred]) + lag_forward
    link_slack = x[net.succ] + dst_fin * inputs.work[net.succ] - required
    link_slack = np.where(np.isfinite(lag_backward), link_slack, np.inf)
    free = np.full(n, np.inf)
    np.minimum.at(free, net.pred, link_slack)
    free = np.where(np.isinf(free), project_finish - early_finish, free)
    free = np.minimum(np.maximum(free, 0.0), np.maximum(total_float, 0.0))
    free = np.where(inputs.done, 0.0, free)

    violations: list[Violation] = []
    for i, kind, when, bound, on_finish in inputs.checks:
        actual = early_finish[i] if on_finish else early_start[i]
        if actual - bound > EPS:
            violations.append(Violation(net.task_ids[i], kind, when, float(actual - bound)))

    return Schedule(
        network=net,
        calendar=calendar,
        inputs=inputs,
        early_start=early_start,
        early_finish=early_finish,
        late_start=late_start,
        late_finish=late_finish,
        total_float=total_float,
        free_float=free,
        is_critical=(total_float <= EPS) & ~inputs.done,
        project_finish=project_finish,
        violations=violations,
        link_slack=link_slack,
    )
