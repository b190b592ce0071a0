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
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from ortools.sat.python import cp_model

Priority = Literal["LFT", "LST", "EST"]

NO_DUE = np.iinfo(np.int64).max // 4
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
class Problem:
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
class Schedule:
    start: np.ndarray
    choice: list[list[int]]
    """Per task and slot, the index of the chosen candidate resource."""
    makespan: int
    optimal: bool = False
    lower_bound: int | None = None


class CycleError(ValueError):
    def __init__(self, members: list[int]) -> None:
        super().__init__(f"precedence links form a cycle through tasks {members[:10]}")
        self.members = members


def topological_order(n: int, edges: Sequence[tuple[int, int, int]]) -> list[int]:
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
        raise CycleError(sorted(set(range(n)) - set(order)))
    return order


def earliest_starts(problem: Problem, order: list[int]) -> np.ndarray:
    es = problem.release.astype(np.int64).copy()
    by_pred: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for i, j, delta in problem.edges:
        by_pred[i].append((j, delta))
    for i in order:
        for j, delta in by_pred[i]:
            if es[i] + delta > es[j]:
                es[j] = es[i] + delta
    return es


def _tails(problem: Problem, order: list[int]) -> np.ndarray:
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


def _latest_starts(problem: Problem, order: list[int], horizon: int) -> np.ndarray:
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


def _demand_vector(problem: Problem, task: int, choice: list[int]) -> np.ndarray:
    demand = np.zeros(problem.capacity.shape[0], dtype=np.int64)
    for (candidates, units), k in zip(problem.slots[task], choice):
        demand[candidates[k]] += units
    return demand


class _Profile:
    """Resource usage per period, grown on demand; the SGS's only state besides the starts."""

    def __init__(self, problem: Problem, horizon: int) -> None:
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


def sgs(problem: Problem, priority: Priority = "LFT", key: np.ndarray | None = None) -> Schedule:
    """Serial SGS: take the eligible task with the best priority, put it at its earliest feasible start.

    `key` (lowest first) overrides the priority rule. With alternative
    resources a slot takes the candidate that lets the task start earliest
    (the original resource on ties), one slot at a time.
    """
    n = problem.n
    order = topological_order(n, problem.edges)
    es = earliest_starts(problem, order)
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
    return Schedule(start=start, choice=choice, makespan=makespan)


def _reversed(problem: Problem, horizon: int) -> Problem:
    """The same project read backwards in time, for the backward pass of justification."""
    duration = problem.duration
    return Problem(
        duration=duration,
        release=np.zeros(problem.n, dtype=np.int64),
        edges=[(j, i, delta + int(duration[j]) - int(duration[i])) for i, j, delta in problem.edges],
        capacity=problem.capacity,
        slots=problem.slots,
        blocked=[(r, horizon - 1 - period, units) for r, period, units in problem.blocked if 0 <= period < horizon],
    )


def justify(problem: Problem, schedule: Schedule, rounds: int = 4) -> Schedule:
    """Forward-backward improvement: right-justify the schedule, then left-justify it again.

    Each double pass keeps the task order of the last schedule and often closes
    gaps the single SGS pass left; the forward pass alone decides feasibility,
    so the result is always a valid schedule, kept only when it is shorter.
    """
    best = schedule
    for _ in range(rounds):
        finish = best.start + problem.duration
        backward = sgs(_reversed(problem, best.makespan), key=best.makespan - finish)
        backward_start = backward.makespan - (backward.start + problem.duration)
        forward = sgs(problem, key=backward_start)
        if forward.makespan >= best.makespan:
            break
        best = forward
    return best


def _symmetric_groups(problem: Problem) -> list[list[int]]:
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


def _energy_bound(problem: Problem) -> int:
    """Per resource, the work that must go on it divided by its capacity, after the earliest release."""
    bound = 0
    energy = np.zeros(problem.capacity.shape[0], dtype=np.int64)
    first_release = np.full(problem.capacity.shape[0], NO_DUE, dtype=np.int64)
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


def solve_cpsat(
    problem: Problem,
    hint: Schedule,
    time_limit_seconds: float,
    workers: int,
    secondary: bool,
    time_indexed: bool = False,
) -> Schedule:
    """Minimise the project end; with `secondary`, then lateness, reassignments and start times.

    The secondary phase keeps the end found by the first as a hard bound, so
    the order of objectives is strictly lexicographic; its last term pulls
    every task as early as it can go so that levelling moves only what it must.
    The hint (a feasible schedule) sets the horizon, so every start domain is
    [earliest start, hint end − tail] and CP-SAT starts from a solution.
    """
    deadline = time.monotonic() + time_limit_seconds
    n = problem.n
    order = topological_order(n, problem.edges)
    es = earliest_starts(problem, order)
    tail = _tails(problem, order)
    upper = int(hint.makespan)
    lower = max(int((es + tail).max(initial=0)), _energy_bound(problem), problem.fixed_end)
    hint_is_optimal = lower >= upper
    if hint_is_optimal and not secondary:
        return Schedule(hint.start.copy(), [c.copy() for c in hint.choice], upper, True, upper)

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

    def add_hints(schedule: Schedule) -> None:
        model.clear_hints()
        for i in range(n):
            model.add_hint(starts[i], int(schedule.start[i]))
        for i, task in enumerate(presences):
            for k, literals in enumerate(task):
                for c, literal in enumerate(literals):
                    model.add_hint(literal, schedule.choice[i][k] == c)

    def read(solver: cp_model.CpSolver, optimal: bool, lower_bound: int | None) -> Schedule:
        return Schedule(
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
        best = Schedule(hint.start.copy(), [c.copy() for c in hint.choice], upper, True, upper)
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
            if due[i] < NO_DUE:
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
