"""Resource levelling: an exact CP-SAT model and a serial schedule-generation heuristic.

Both work on one internal problem shape: tasks with integer durations and
earliest starts, precedence as difference constraints ``start_j >= start_i +
delta`` (every MS Project link type with its lag reduces to that once durations
are fixed), and renewable resources with a constant capacity per period, some
periods of which may be blocked (days off). The PSPLIB benchmark and real plans
therefore exercise the same solver code; `verify` is written separately,
straight from the PSPLIB definition, so that it can catch the solver's mistakes.
"""

from __future__ import annotations

import heapq
import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
from ortools.sat.python import cp_model

from models.planning.model import Plan, PlanTask
from models.planning.psplib import PsplibInstance, parse_sm

Priority = Literal["LFT", "LST", "EST"]
Method = Literal["auto", "cp-sat", "sgs"]

_UNITS = 100
"""Plan resource units are kept in hundredths so CP-SAT can work on integers."""
_NO_DUE = np.iinfo(np.int64).max // 4
_PROOF_PARAMETERS = (
    'subsolver_params { name: "sgs_branching" search_branching: FIXED_SEARCH linearization_level: 0 } '
    'subsolvers: "no_lp" subsolvers: "sgs_branching" num_full_subsolvers: 2'
)
"""The two workers on a time-indexed model: CP-SAT's LP-free search and a search that branches
like the serial SGS (earliest start first, at its earliest time). Each proves about half of the
hard j30 instances faster than the other. The justified SGS hint is already within a few per
cent and both searches improve on it, so neither neighbourhood search nor the LP relaxation
(too weak on these models to pay for itself) gets one of the two cores."""
_FIRST_OBJECTIVE_SHARE = 0.7
"""Part of a plan's time limit for the project end; the rest goes to lateness and moves."""
_TIME_INDEXED_MAX_LITERALS = 20_000
"""Above this many task-periods the time-indexed decomposition costs more than it saves."""


@dataclass
class LevelResult:
    """A schedule of a PSPLIB instance: start period of every job, as numbered in the file."""

    makespan: int
    start: dict[int, int]
    optimal: bool
    seconds: float
    method: str
    lower_bound: int | None = None
    """Best proven lower bound on the makespan, when the method proves one."""


@dataclass
class _Problem:
    """The scheduling problem both methods solve (indices 0..n-1, periods from 0).

    ``slots[i]`` lists what task i needs while it runs: each slot is a tuple of
    candidate resources (one, unless reassignment is allowed) and the units it
    takes from whichever is chosen.
    """

    duration: np.ndarray
    release: np.ndarray
    edges: list[tuple[int, int, int]]
    capacity: np.ndarray
    slots: list[list[tuple[tuple[int, ...], int]]]
    blocked: list[tuple[int, int, int]] = field(default_factory=list)
    """(resource, period, units) taken out of a resource's capacity, e.g. a day off."""
    finish_due: np.ndarray | None = None
    start_due: np.ndarray | None = None
    fixed_end: int = 0
    """Finish of work that is already fixed (completed tasks): the project cannot end earlier."""

    @property
    def n(self) -> int:
        return int(self.duration.shape[0])


@dataclass
class _Schedule:
    start: np.ndarray
    choice: list[list[int]]
    """Per task and slot, the index of the chosen candidate resource."""
    makespan: int
    optimal: bool = False
    lower_bound: int | None = None


class _CycleError(ValueError):
    def __init__(self, members: list[int]) -> None:
        super().__init__(f"precedence links form a cycle through tasks {members[:10]}")
        self.members = members


def _topological_order(n: int, edges: Sequence[tuple[int, int, int]]) -> list[int]:
    """Kahn's order; a cycle is a data error the caller reports, so it raises."""
    indegree = [0] * n
    succ: list[list[int]] = [[] for _ in range(n)]
    for i, j, _ in edges:
        succ[i].append(j)
        indegree[j] += 1
    ready = [i for i in range(n) if indegree[i] == 0]
    order: list[int] = []
    while ready:
        i = ready.pop()
        order.append(i)
        for j in succ[i]:
            indegree[j] -= 1
            if indegree[j] == 0:
                ready.append(j)
    if len(order) != n:
        raise _CycleError(sorted(set(range(n)) - set(order)))
    return order


def _earliest_starts(problem: _Problem, order: list[int]) -> np.ndarray:
    es = problem.release.astype(np.int64).copy()
    by_pred: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for i, j, delta in problem.edges:
        by_pred[i].append((j, delta))
    for i in order:
        for j, delta in by_pred[i]:
            if es[i] + delta > es[j]:
                es[j] = es[i] + delta
    return es


def _tails(problem: _Problem, order: list[int]) -> np.ndarray:
    """Lower bound on (project end − start) per task: its duration or the longest chain after it."""
    tail = problem.duration.astype(np.int64).copy()
    by_pred: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for i, j, delta in problem.edges:
        by_pred[i].append((j, delta))
    for i in reversed(order):
        for j, delta in by_pred[i]:
            if delta + tail[j] > tail[i]:
                tail[i] = delta + tail[j]
    return tail


def _latest_starts(problem: _Problem, order: list[int], horizon: int) -> np.ndarray:
    """Backward pass against a horizon and any due dates: the LFT/LST priority values."""
    duration = problem.duration
    ls = horizon - duration.astype(np.int64)
    if problem.finish_due is not None:
        ls = np.minimum(ls, problem.finish_due - duration)
    if problem.start_due is not None:
        ls = np.minimum(ls, problem.start_due)
    by_pred: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for i, j, delta in problem.edges:
        by_pred[i].append((j, delta))
    for i in reversed(order):
        for j, delta in by_pred[i]:
            if ls[j] - delta < ls[i]:
                ls[i] = ls[j] - delta
    return ls


def _demand_vector(problem: _Problem, task: int, choice: list[int]) -> np.ndarray:
    demand = np.zeros(problem.capacity.shape[0], dtype=np.int64)
    for (candidates, units), k in zip(problem.slots[task], choice):
        demand[candidates[k]] += units
    return demand


class _Profile:
    """Resource usage per period, grown on demand; the SGS's only state besides the starts."""

    def __init__(self, problem: _Problem, horizon: int) -> None:
        self.capacity = problem.capacity.astype(np.int64)
        self.usage = np.zeros((self.capacity.shape[0], max(horizon, 1)), dtype=np.int64)
        self.end = 0
        """Periods from here on are entirely free."""
        for resource, period, units in problem.blocked:
            if period >= 0:
                self._ensure(period + 1)
                self.usage[resource, period] += units
                self.end = max(self.end, period + 1)

    def _ensure(self, length: int) -> None:
        current = self.usage.shape[1]
        if length > current:
            grown = np.zeros((self.usage.shape[0], max(length, 2 * current)), dtype=np.int64)
            grown[:, :current] = self.usage
            self.usage = grown

    def earliest(self, demand: np.ndarray, duration: int, not_before: int) -> int:
        """First period t ≥ not_before where `demand` fits during [t, t + duration).

        The search window ends `duration` periods past the last busy period,
        where the task always fits, so one vectorised pass suffices.
        """
        used = np.flatnonzero(demand)
        if duration <= 0 or used.size == 0:
            return not_before
        if (demand[used] > self.capacity[used]).any():
            raise ValueError("a task needs more units than its resource has")
        stop = max(not_before, self.end) + duration
        self._ensure(stop)
        window = self.usage[used, not_before:stop] + demand[used, None]
        clash = (window > self.capacity[used, None]).any(axis=0)
        running = np.concatenate(([0], np.cumsum(clash)))
        free = np.flatnonzero(running[duration:] == running[:-duration])
        return not_before + int(free[0])

    def book(self, demand: np.ndarray, duration: int, start: int) -> None:
        if duration > 0:
            self._ensure(start + duration + 1)
            self.usage[:, start : start + duration] += demand[:, None]
            self.end = max(self.end, start + duration)


def _sgs(problem: _Problem, priority: Priority = "LFT", key: np.ndarray | None = None) -> _Schedule:
    """Serial SGS: take the eligible task with the best priority, put it at its earliest feasible start.

    `key` (lowest first) overrides the priority rule. With alternative
    resources a slot takes the candidate that lets the task start earliest
    (the original resource on ties), one slot at a time.
    """
    n = problem.n
    order = _topological_order(n, problem.edges)
    es = _earliest_starts(problem, order)
    horizon = int(max(int((es + problem.duration).max(initial=0)), problem.fixed_end))
    if key is None:
        if priority in ("LFT", "LST"):
            ls = _latest_starts(problem, order, horizon)
            key = ls + problem.duration if priority == "LFT" else ls
        elif priority == "EST":
            key = es
        else:
            raise ValueError(f"unknown priority rule {priority!r}; use LFT, LST or EST")

    preds: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    succs: list[list[int]] = [[] for _ in range(n)]
    for i, j, delta in problem.edges:
        preds[j].append((i, delta))
        succs[i].append(j)
    waiting = [len(p) for p in preds]
    ready = [(int(key[i]), i) for i in range(n) if waiting[i] == 0]
    heapq.heapify(ready)
    profile = _Profile(problem, horizon + 1)
    start = np.zeros(n, dtype=np.int64)
    choice: list[list[int]] = [[0] * len(slots) for slots in problem.slots]

    while ready:
        _, i = heapq.heappop(ready)
        not_before = int(problem.release[i])
        for p, delta in preds[i]:
            not_before = max(not_before, int(start[p]) + delta)
        duration = int(problem.duration[i])
        picked = choice[i]
        for k, (candidates, _) in enumerate(problem.slots[i]):
            if len(candidates) < 2:
                continue
            taken = {slot[0][c] for m, (slot, c) in enumerate(zip(problem.slots[i], picked)) if m != k}
            best_at, best_c = None, 0
            for c in range(len(candidates)):
                if c > 0 and candidates[c] in taken:
                    continue
                trial = picked.copy()
                trial[k] = c
                at = profile.earliest(_demand_vector(problem, i, trial), duration, not_before)
                if best_at is None or at < best_at:
                    best_at, best_c = at, c
            picked[k] = best_c
        demand = _demand_vector(problem, i, picked)
        at = profile.earliest(demand, duration, not_before)
        profile.book(demand, duration, at)
        start[i] = at
        for j in succs[i]:
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(ready, (int(key[j]), j))
    makespan = int(max(int((start + problem.duration).max(initial=0)), problem.fixed_end))
    return _Schedule(start=start, choice=choice, makespan=makespan)


def _reversed(problem: _Problem, horizon: int) -> _Problem:
    """The same project read backwards in time, for the backward pass of justification."""
    duration = problem.duration
    return _Problem(
        duration=duration,
        release=np.zeros(problem.n, dtype=np.int64),
        edges=[(j, i, delta + int(duration[j]) - int(duration[i])) for i, j, delta in problem.edges],
        capacity=problem.capacity,
        slots=problem.slots,
        blocked=[(r, horizon - 1 - period, units) for r, period, units in problem.blocked if 0 <= period < horizon],
    )


def _justify(problem: _Problem, schedule: _Schedule, rounds: int = 4) -> _Schedule:
    """Forward-backward improvement: right-justify the schedule, then left-justify it again.

    Each double pass keeps the task order of the last schedule and often closes
    gaps the single SGS pass left; the forward pass alone decides feasibility,
    so the result is always a valid schedule, kept only when it is shorter.
    """
    best = schedule
    for _ in range(rounds):
        finish = best.start + problem.duration
        backward = _sgs(_reversed(problem, best.makespan), key=best.makespan - finish)
        backward_start = backward.makespan - (backward.start + problem.duration)
        forward = _sgs(problem, key=backward_start)
        if forward.makespan >= best.makespan:
            break
        best = forward
    return best


def _symmetric_groups(problem: _Problem) -> list[list[int]]:
    """Tasks that are interchangeable in every respect; ordering them removes equivalent solutions."""
    preds: list[list[tuple[int, int]]] = [[] for _ in range(problem.n)]
    succs: list[list[tuple[int, int]]] = [[] for _ in range(problem.n)]
    for i, j, delta in problem.edges:
        preds[j].append((i, delta))
        succs[i].append((j, delta))
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i in range(problem.n):
        if problem.duration[i] == 0 or not problem.slots[i]:
            continue
        signature = (
            int(problem.duration[i]),
            int(problem.release[i]),
            tuple(sorted(problem.slots[i])),
            tuple(sorted(preds[i])),
            tuple(sorted(succs[i])),
            None if problem.finish_due is None else int(problem.finish_due[i]),
            None if problem.start_due is None else int(problem.start_due[i]),
        )
        groups[signature].append(i)
    return [members for members in groups.values() if len(members) > 1]


def _energy_bound(problem: _Problem) -> int:
    """Per resource, the work that must go on it divided by its capacity, after the earliest release."""
    bound = 0
    energy = np.zeros(problem.capacity.shape[0], dtype=np.int64)
    first_release = np.full(problem.capacity.shape[0], _NO_DUE, dtype=np.int64)
    for i, slots in enumerate(problem.slots):
        for candidates, units in slots:
            if len(candidates) == 1 and problem.duration[i] > 0:
                r = candidates[0]
                energy[r] += units * int(problem.duration[i])
                first_release[r] = min(first_release[r], int(problem.release[i]))
    for r in range(problem.capacity.shape[0]):
        if energy[r] > 0 and problem.capacity[r] > 0:
            bound = max(bound, int(first_release[r]) + math.ceil(int(energy[r]) / int(problem.capacity[r])))
    return bound


def _solve_cpsat(
    problem: _Problem,
    hint: _Schedule,
    time_limit_seconds: float,
    workers: int,
    secondary: bool,
    time_indexed: bool = False,
) -> _Schedule:
    """Minimise the project end; with `secondary`, then lateness, reassignments and start times.

    The secondary phase keeps the end found by the first as a hard bound, so
    the order of objectives is strictly lexicographic; its last term pulls
    every task as early as it can go so that levelling moves only what it must.
    The hint (a feasible schedule) sets the horizon, so every start domain is
    [earliest start, hint end − tail] and CP-SAT starts from a solution.
    """
    deadline = time.monotonic() + time_limit_seconds
    n = problem.n
    order = _topological_order(n, problem.edges)
    es = _earliest_starts(problem, order)
    tail = _tails(problem, order)
    upper = int(hint.makespan)
    lower = max(int((es + tail).max(initial=0)), _energy_bound(problem), problem.fixed_end)
    hint_is_optimal = lower >= upper
    if hint_is_optimal and not secondary:
        return _Schedule(hint.start.copy(), [c.copy() for c in hint.choice], upper, True, upper)

    model = cp_model.CpModel()
    starts = [model.new_int_var(int(es[i]), upper - int(tail[i]), f"s{i}") for i in range(n)]
    for i, j, delta in problem.edges:
        model.add(starts[j] >= starts[i] + delta)
    makespan = model.new_int_var(min(lower, upper), upper, "makespan")
    for i in range(n):
        model.add(makespan >= starts[i] + int(tail[i]))
    for members in _symmetric_groups(problem):
        for a, b in zip(members, members[1:]):
            model.add(starts[a] <= starts[b])

    mandatory: dict[int, list[tuple[int, int]]] = defaultdict(list)
    optional: dict[int, list[tuple[cp_model.IntervalVar, int]]] = defaultdict(list)
    presences: list[list[list[cp_model.IntVar]]] = []
    reassigned: list[cp_model.IntVar] = []
    for i in range(n):
        duration = int(problem.duration[i])
        task_presences: list[list[cp_model.IntVar]] = []
        for k, (candidates, units) in enumerate(problem.slots[i]):
            if duration <= 0 or units <= 0 or len(candidates) == 1:
                if duration > 0 and units > 0:
                    mandatory[candidates[0]].append((i, units))
                task_presences.append([])
                continue
            literals = []
            for c, resource in enumerate(candidates):
                present = model.new_bool_var(f"p{i}_{k}_{c}")
                interval = model.new_optional_fixed_size_interval_var(starts[i], duration, present, f"iv{i}_{k}_{c}")
                optional[resource].append((interval, units))
                literals.append(present)
            model.add_exactly_one(literals)
            reassigned.append(literals[0].Not())
            task_presences.append(literals)
        same_resource: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        for (candidates, _), literals in zip(problem.slots[i], task_presences):
            for resource, literal in zip(candidates, literals):
                same_resource[resource].append(literal)
        for literals in same_resource.values():
            if len(literals) > 1:
                model.add_at_most_one(literals)
        presences.append(task_presences)
    blocked: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for resource, period, units in problem.blocked:
        if 0 <= period < upper:
            blocked[resource][period] += units

    latest = [upper - int(tail[i]) for i in range(n)]
    indexed_size = sum(latest[i] - int(es[i]) + int(problem.duration[i]) for i in range(n) if problem.duration[i] > 0)
    running = (
        _RunningLiterals(model, starts, problem.duration, es, latest)
        if time_indexed and indexed_size <= _TIME_INDEXED_MAX_LITERALS
        else None
    )
    intervals: dict[int, cp_model.IntervalVar] = {}
    for resource in sorted(set(mandatory) | set(optional)):
        capacity = int(problem.capacity[resource])
        if running is not None and resource not in optional:
            for period in range(upper):
                terms, busy = [], blocked[resource].get(period, 0)
                for i, units in mandatory[resource]:
                    state = running.running(i, period)
                    if state is True:
                        busy += units
                    elif state is not False:
                        terms.append(units * state)
                if terms:
                    model.add(sum(terms) <= capacity - busy)
                elif busy > capacity:
                    model.add_bool_or([])
            continue
        items = list(optional[resource])
        for i, units in mandatory[resource]:
            if i not in intervals:
                intervals[i] = model.new_fixed_size_interval_var(starts[i], int(problem.duration[i]), f"iv{i}")
            items.append((intervals[i], units))
        for period, units in blocked[resource].items():
            items.append((model.new_fixed_size_interval_var(period, 1, f"off{resource}_{period}"), units))
        model.add_cumulative([iv for iv, _ in items], [u for _, u in items], capacity)

    def add_hints(schedule: _Schedule) -> None:
        model.clear_hints()
        for i in range(n):
            model.add_hint(starts[i], int(schedule.start[i]))
        for i, task in enumerate(presences):
            for k, literals in enumerate(task):
                for c, literal in enumerate(literals):
                    model.add_hint(literal, schedule.choice[i][k] == c)

    def read(solver: cp_model.CpSolver, optimal: bool, lower_bound: int | None) -> _Schedule:
        return _Schedule(
            start=np.array([solver.value(s) for s in starts], dtype=np.int64),
            choice=[
                [next((c for c, lit in enumerate(lits) if solver.boolean_value(lit)), 0) for lits in task]
                for task in presences
            ],
            makespan=int(solver.value(makespan)),
            optimal=optimal,
            lower_bound=lower_bound,
        )

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, workers)
    if running is not None:
        model.add_decision_strategy(starts, cp_model.CHOOSE_LOWEST_MIN, cp_model.SELECT_MIN_VALUE)
        solver.parameters.linearization_level = 0
        # Probing thousands of order literals costs tenths of a second and saves less.
        solver.parameters.cp_model_probing_level = 0
        if workers >= 2:
            solver.parameters.merge_text_format(_PROOF_PARAMETERS)

    if hint_is_optimal:
        best = _Schedule(hint.start.copy(), [c.copy() for c in hint.choice], upper, True, upper)
    else:
        add_hints(hint)
        model.minimize(makespan)
        # With a second objective to come, keep a share of the time for it.
        share = _FIRST_OBJECTIVE_SHARE if secondary else 1.0
        solver.parameters.max_time_in_seconds = max(0.01, share * (deadline - time.monotonic()))
        status = solver.solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return hint
        best = read(solver, status == cp_model.OPTIMAL, int(solver.best_objective_bound))
    if not secondary:
        return best

    model.add(makespan <= best.makespan)
    add_hints(best)
    lateness_terms = []
    finishes = [starts[i] + int(problem.duration[i]) for i in range(n)]
    for due, times in ((problem.finish_due, finishes), (problem.start_due, starts)):
        if due is None:
            continue
        for i in range(n):
            if due[i] < _NO_DUE:
                late = model.new_int_var(0, upper, f"late{i}")
                model.add(late >= times[i] - int(due[i]))
                lateness_terms.append(late)
    start_weight = 1
    reassign_weight = n * (upper + 1) + 1
    lateness_weight = reassign_weight * (len(reassigned) + 1)
    model.minimize(
        lateness_weight * sum(lateness_terms) + reassign_weight * sum(reassigned) + start_weight * sum(starts)
    )
    solver.parameters.max_time_in_seconds = max(0.1, deadline - time.monotonic())
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return best
    return read(solver, best.optimal and status == cp_model.OPTIMAL, best.lower_bound)


class _RunningLiterals:
    """Literals for "task i is in progress in period t", built on order literals [start_i <= t].

    Summing them per period gives the time-indexed decomposition of the
    cumulative constraint. On small horizons CP-SAT learns far better
    explanations from it than from the global constraint: the hardest j30
    instances prove optimal two to three times faster.
    """

    def __init__(
        self,
        model: cp_model.CpModel,
        starts: list[cp_model.IntVar],
        durations: np.ndarray,
        earliest: np.ndarray,
        latest: list[int],
    ) -> None:
        self.model = model
        self.starts = starts
        self.durations = durations
        self.earliest = earliest
        self.latest = latest
        self._order: dict[tuple[int, int], cp_model.IntVar] = {}
        self._running: dict[tuple[int, int], cp_model.IntVar | bool] = {}

    def _at_most(self, i: int, t: int) -> cp_model.IntVar | bool:
        """[start_i <= t] as a constant where the domain decides it, else a (cached) literal."""
        if t < self.earliest[i]:
            return False
        if t >= self.latest[i]:
            return True
        key = (i, t)
        if key not in self._order:
            literal = self.model.new_bool_var(f"le{i}_{t}")
            self.model.add(self.starts[i] <= t).only_enforce_if(literal)
            self.model.add(self.starts[i] > t).only_enforce_if(~literal)
            self._order[key] = literal
        return self._order[key]

    def running(self, i: int, t: int) -> cp_model.IntVar | bool:
        """start_i <= t < start_i + duration_i."""
        key = (i, t)
        if key in self._running:
            return self._running[key]
        started = self._at_most(i, t)
        finished = self._at_most(i, t - int(self.durations[i]))
        if started is False or finished is True:
            value: cp_model.IntVar | bool = False
        elif started is True and finished is False:
            value = True
        else:
            conditions = []
            if started is not True:
                conditions.append(started)
            if finished is not False:
                conditions.append(~finished)
            value = self.model.new_bool_var(f"run{i}_{t}")
            self.model.add_bool_and(conditions).only_enforce_if(value)
            self.model.add_bool_or([~c for c in conditions] + [value])
        self._running[key] = value
        return value


def _psplib_problem(instance: PsplibInstance) -> _Problem:
    index = {job: i for i, job in enumerate(instance.jobs)}
    duration = np.array([instance.durations[job] for job in instance.jobs], dtype=np.int64)
    edges = [
        (index[job], index[succ], instance.durations[job])
        for job in instance.jobs
        for succ in instance.successors[job]
    ]
    slots = [
        [((r,), units) for r, units in enumerate(instance.requests[job]) if units > 0]
        for job in instance.jobs
    ]
    return _Problem(
        duration=duration,
        release=np.zeros(len(instance.jobs), dtype=np.int64),
        edges=edges,
        capacity=np.array(instance.capacities, dtype=np.int64),
        slots=slots,
    )


def _check_requests_fit(instance: PsplibInstance) -> None:
    for job in instance.jobs:
        for r, units in enumerate(instance.requests[job]):
            if units > instance.capacities[r]:
                raise ValueError(
                    f"{instance.name}: job {job} needs {units} of resource {r + 1}, capacity {instance.capacities[r]}"
                )


def critical_path_length(instance: PsplibInstance) -> int:
    """Resource-free project length (CPM forward pass): PSPLIB's `MPM-Time` and a makespan lower bound."""
    problem = _psplib_problem(instance)
    order = _topological_order(problem.n, problem.edges)
    return int((_earliest_starts(problem, order) + problem.duration).max(initial=0))


def serial_sgs(instance: PsplibInstance, priority: Priority = "LFT") -> LevelResult:
    """One pass of the serial SGS: a feasible schedule in milliseconds for plans too large to solve."""
    began = time.perf_counter()
    _check_requests_fit(instance)
    schedule = _sgs(_psplib_problem(instance), priority)
    return LevelResult(
        makespan=schedule.makespan,
        start={job: int(schedule.start[i]) for i, job in enumerate(instance.jobs)},
        optimal=False,
        seconds=time.perf_counter() - began,
        method=f"serial-sgs/{priority}",
    )


def solve_rcpsp(instance: PsplibInstance, time_limit_seconds: float = 5.0, workers: int = 2) -> LevelResult:
    """Minimum-makespan schedule by CP-SAT, started from the best of two justified SGS passes.

    The model is time-indexed when the horizon is short (as in PSPLIB), which
    proves the hard j30 instances optimal several times faster than the
    cumulative constraint. Returns the best schedule found; `optimal` says
    whether CP-SAT proved it within the time limit (or the heuristic already
    met the lower bound).
    """
    began = time.perf_counter()
    _check_requests_fit(instance)
    problem = _psplib_problem(instance)
    hint = min((_justify(problem, _sgs(problem, rule)) for rule in ("LFT", "LST")), key=lambda s: s.makespan)
    remaining = max(0.01, time_limit_seconds - (time.perf_counter() - began))
    schedule = _solve_cpsat(problem, hint, remaining, workers, secondary=False, time_indexed=True)
    return LevelResult(
        makespan=schedule.makespan,
        start={job: int(schedule.start[i]) for i, job in enumerate(instance.jobs)},
        optimal=schedule.optimal,
        seconds=time.perf_counter() - began,
        method="cp-sat",
        lower_bound=schedule.lower_bound,
    )


def verify(instance: PsplibInstance, start: dict[int, int]) -> list[str]:
    """Every broken rule of a PSPLIB schedule, checked period by period from the file's data alone."""
    problems: list[str] = []
    for job in instance.jobs:
        if job not in start:
            problems.append(f"job {job} has no start")
        elif start[job] < 0:
            problems.append(f"job {job} starts at {start[job]} < 0")
    unknown = sorted(set(start) - set(instance.jobs))
    if unknown:
        problems.append(f"unknown jobs {unknown}")
    if problems:
        return problems
    for job in instance.jobs:
        finish = start[job] + instance.durations[job]
        for succ in instance.successors[job]:
            if start[succ] < finish:
                problems.append(
                    f"precedence {job}->{succ}: job {job} finishes at {finish}, job {succ} starts at {start[succ]}"
                )
    end = max(start[job] + instance.durations[job] for job in instance.jobs)
    for period in range(end):
        running = [job for job in instance.jobs if start[job] <= period < start[job] + instance.durations[job]]
        for r, capacity in enumerate(instance.capacities):
            used = sum(instance.requests[job][r] for job in running)
            if used > capacity:
                problems.append(f"resource {r + 1} in period {period}: {used} used > capacity {capacity}")
    return problems


def psplib_level_json(path: str | Path, time_limit_seconds: float = 5.0) -> dict:
    """What `lodestar plan level --psplib FILE.sm --json` prints: makespan and start per job."""
    result = solve_rcpsp(parse_sm(path), time_limit_seconds=time_limit_seconds)
    return {"makespan": int(result.makespan), "start": {str(job): int(s) for job, s in sorted(result.start.items())}}


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


class _WorkingDays:
    """Dates ↔ working-day offsets from an origin, on a weekly mask plus holidays."""

    def __init__(self, origin: date, weekmask: str, holidays: Sequence[date]) -> None:
        self.origin = origin
        self.calendar = np.busdaycalendar(weekmask=weekmask, holidays=list(holidays))

    def offset(self, day: date) -> int:
        """Working days in [origin, day): a day off maps to the next working day's offset."""
        return int(np.busday_count(self.origin, day, busdaycal=self.calendar))

    def end_offset(self, last_day: date) -> int:
        """Exclusive offset just after an inclusive finish date."""
        return self.offset(last_day + timedelta(days=1))

    def is_working(self, day: date) -> bool:
        return bool(np.is_busday(day, busdaycal=self.calendar))

    def day(self, offset: int) -> date:
        return np.busday_offset(self.origin, offset, roll="forward", busdaycal=self.calendar).astype(date)


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

    problem: _Problem
    leaves: list[PlanTask]
    variable: list[PlanTask]
    """Tasks still to schedule, in problem index order."""
    index: dict[str, int]
    status: dict[str, TaskStatus]
    fixed: dict[str, tuple[int, int]]
    """Done tasks: their actual (start, exclusive finish) offsets."""
    started_at: dict[str, int]
    resource_ids: list[str]
    calendar: _WorkingDays | None
    warnings: list[str]


def _plan_tasks(plan: Plan, calendar: _WorkingDays | None, into: _PlanProblem) -> np.ndarray:
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
    plan: Plan, calendar: _WorkingDays | None, into: _PlanProblem, duration: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Earliest starts (status date, constraints) and the soft finish and start due offsets."""
    n = len(into.variable)
    release = np.zeros(n, dtype=np.int64)
    finish_due = np.full(n, _NO_DUE, dtype=np.int64)
    start_due = np.full(n, _NO_DUE, dtype=np.int64)
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
    plan: Plan, calendar: _WorkingDays | None, into: _PlanProblem, allow_reassign: bool
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


def _plan_problem(plan: Plan, calendar: _WorkingDays | None, allow_reassign: bool) -> _PlanProblem:
    into = _PlanProblem(
        problem=_Problem(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), [], np.zeros(0, dtype=np.int64), []),
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
    into.problem = _Problem(
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
    time_limit_seconds: float = 10.0,
    method: Method = "auto",
    *,
    allow_reassign: bool = False,
    workers: int = 2,
    cpsat_max_tasks: int = 1000,
    weekmask: str = "1111100",
    holidays: Sequence[date] = (),
) -> LevelledPlan:
    """Level a real plan: nobody works above capacity, links and dates hold, the end comes first.

    Durations are whole working days (rounded up) on `weekmask`/`holidays`.
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
    calendar = _WorkingDays(origin, weekmask, holidays) if origin is not None else None
    built = _plan_problem(plan, calendar, allow_reassign)
    problem = built.problem
    n = problem.n
    try:
        order = _topological_order(n, problem.edges)
    except _CycleError as exc:
        ids = [built.variable[i].task_id for i in exc.members]
        raise ValueError(f"precedence links form a cycle through (or behind) tasks {ids[:10]}") from None
    early = _earliest_starts(problem, order)

    candidates = [_sgs(problem, "LFT")]
    candidates.append(_justify(problem, candidates[0]))
    if allow_reassign:
        kept = replace(problem, slots=[[(c[:1], units) for c, units in slots] for slots in problem.slots])
        candidates.append(_sgs(kept, "LFT"))
    heuristic = min(candidates, key=lambda schedule: _plan_score(problem, schedule))
    if n and (method == "cp-sat" or (method == "auto" and n <= cpsat_max_tasks)):
        remaining = max(0.5, time_limit_seconds - (time.perf_counter() - began))
        schedule = _solve_cpsat(problem, heuristic, remaining, workers, secondary=True)
        used = "cp-sat"
    else:
        schedule, used = heuristic, "serial-sgs/LFT"
    return _levelled_plan(built, schedule, early, used, time.perf_counter() - began)


def _levelled_plan(
    built: _PlanProblem, schedule: _Schedule, early: np.ndarray, method: str, seconds: float
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


def _plan_score(problem: _Problem, schedule: _Schedule) -> tuple[int, int]:
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
    calendar: _WorkingDays | None,
) -> LevelledTask:
    start_date = finish_date = None
    if calendar is not None:
        start_date = calendar.day(start)
        finish_date = calendar.day(finish - 1) if finish > start else start_date
    return LevelledTask(task_id, start, finish, early_start, status, resource_ids, lateness, start_date, finish_date)
