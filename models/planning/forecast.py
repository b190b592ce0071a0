"""Monte Carlo forecasts: finish-date percentiles and criticality from the CPM network, and throughput forecasts.

Schedule risk analysis: draw every task's duration many times, run the CPM
forward pass on all draws at once (the same ``cpm.forward_pass``, over a
``(tasks, runs)`` matrix), and read P50/P85/P95 finishes, the project-finish
distribution and each task's *criticality index* (the share of runs in which it
has zero total float, i.e. lies on a longest path to the project end).

Duration models (each gives a ``(runs, n)`` array of *total* durations; an
in-progress task scales its draw by its remaining fraction, a done task keeps
its actual dates):

* ``PertDurations``: beta-PERT from optimistic / most likely / pessimistic, with the
  classic default O = 0.75·d, M = d, P = 1.6·d when only a duration is known;
* ``LognormalDurations``: from P50/P90 (prediction models), or fitted to historical
  cycle times per task type (``fit_lognormal``, ``LognormalDurations.by_type``);
* ``FixedDurations`` or any ``(runs, n)`` array, or a callable ``(rng, runs) -> array``;
* ``PlanPredictionDurations``: the plan and the prediction models combined (below).

A duration model with a boolean ``remaining`` attribute (``PlanPredictionDurations``)
says that, for those tasks, its draws are the working days *still to do* from the
status date: ``simulate`` uses them as they are for in-progress tasks instead of scaling
a total by the planned remaining fraction (scaling a predicted total counted the time
already spent twice: remaining ≤ 7.6 days predicted, totals of 3,223 drawn).

Plan and prediction combined (``blend``, issue #13). Each task with a prediction is a
lognormal whose

* **median** is the geometric mean of the plan and the prediction,
  ``exp((1 − w)·ln plan + w·ln P50)`` with ``w = PREDICTION_WEIGHT`` (0.5): for a task not
  started, *plan* is its planned duration and *P50* the predicted total; for a started
  task, the planned remaining days (``remaining_days``, else duration × (1 − % complete))
  and the predicted remaining P50 (the prediction alone when the plan has nothing left);
  a planned milestone (duration 0) stays 0;
* **σ** (of the log) is the model's spread, ``ln(P90/P50) / z₀.₉``, widened by half the
  log-gap between plan and prediction in quadrature, ``√(σ_model² + (½·ln(P50/plan))²)``
  (the further they disagree, the less either is trusted), clipped to
  ``[SIGMA_MIN, SIGMA_MAX]`` = ``[ln 1.25, ln 3] / z₀.₉`` (P90/P50 between 1.25 and 3).

So a wild prediction moves a task's median only halfway (in log terms) from the plan
and widens it instead, every predicted task has spread, and no single task can make a
project's P50, P85 and P95 one date. Draws are capped at ``MAX_TASK_WORKDAYS``.

Without a plan, ``when_done`` and ``how_many_by`` resample weekly throughput history.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import Protocol

import numpy as np
import polars as pl

from models.planning.bounds import MAX_TASK_WORKDAYS
from models.planning.calendar import WorkCalendar
from models.planning.cpm import (
    EPS,
    ScheduleInputs,
    backward_pass,
    display_days,
    effective_lags,
    forward_pass,
    free_inputs,
    prepare_inputs,
)
from models.planning.model import Plan
from models.planning.network import Network

Z90 = 1.2815515655446004
"""Standard normal quantile at 0.90: converts a P50/P90 pair into a lognormal sigma."""
PREDICTION_WEIGHT = 0.5
"""Weight of the prediction against the plan in the log-space median of ``blend``."""
SIGMA_MIN = math.log(1.25) / Z90
SIGMA_MAX = math.log(3.0) / Z90
"""Bounds of a blended task's σ: its P90 is 1.25x to 3x its median."""
_FRACTION_BITS = 20
CRITICAL_TOL = 1e-6
"""Total float (working days) below which a task counts as critical in a run."""


class DurationModel(Protocol):
    def sample(self, rng: np.random.Generator, runs: int) -> np.ndarray:
        """Durations of shape ``(runs, n_tasks)`` in working days."""


Durations = DurationModel | Callable[[np.random.Generator, int], np.ndarray] | np.ndarray | None


def _beta_quantile_table(alpha: float, beta: float, bins: int) -> np.ndarray:
    """Quantiles of Beta(alpha, beta) at probabilities 0, 1/bins, …, 1 (``bins + 1`` values).

    Sampling is then inverse-CDF by linear interpolation in this table, ~5× faster than
    ``Generator.beta`` (two gamma variates per draw), which matters at 20 million draws. With
    α, β ≥ 1 (always so for PERT) the density is bounded, so an 8,193-point trapezoid CDF
    inverted by interpolation is accurate to well under a thousandth of the range.
    """
    grid = np.linspace(0.0, 1.0, 8193)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pdf = (alpha - 1.0) * np.log(grid) + (beta - 1.0) * np.log1p(-grid)
    pdf = np.exp(np.nan_to_num(log_pdf, nan=-np.inf, neginf=-np.inf))
    cdf = np.concatenate(([0.0], np.cumsum((pdf[1:] + pdf[:-1]) * 0.5)))
    cdf /= cdf[-1]
    keep = np.concatenate(([True], np.diff(cdf) > 0))
    return np.interp(np.linspace(0.0, 1.0, bins + 1), cdf[keep], grid[keep])


@dataclass
class PertDurations:
    """Beta-PERT per task: α = 1 + 4(M−O)/(P−O), β = 1 + 4(P−M)/(P−O), mean (O + 4M + P)/6."""

    optimistic: np.ndarray
    most_likely: np.ndarray
    pessimistic: np.ndarray
    bins: int = 4096

    def __post_init__(self) -> None:
        self.optimistic = np.asarray(self.optimistic, dtype=np.float64)
        self.most_likely = np.asarray(self.most_likely, dtype=np.float64)
        self.pessimistic = np.asarray(self.pessimistic, dtype=np.float64)
        if np.any(self.optimistic > self.most_likely) or np.any(self.most_likely > self.pessimistic):
            raise ValueError("PERT needs optimistic ≤ most likely ≤ pessimistic for every task")

    @classmethod
    def from_durations(cls, duration: np.ndarray, low: float = 0.75, high: float = 1.6) -> PertDurations:
        """The default when only a duration is known: O = low·d, M = d, P = high·d (right-skewed, as work is)."""
        d = np.asarray(duration, dtype=np.float64)
        return cls(low * d, d, high * d)

    @cached_property
    def _tables(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Quantile tables of the distinct (α, β) shapes, flattened, and each task's offset into them."""
        spread = self.pessimistic - self.optimistic
        safe = np.where(spread > 0, spread, 1.0)
        alpha = np.round(1.0 + 4.0 * (self.most_likely - self.optimistic) / safe, 6)
        beta = np.round(1.0 + 4.0 * (self.pessimistic - self.most_likely) / safe, 6)
        alpha[spread <= 0] = beta[spread <= 0] = 3.0  # any shape: the range is zero
        shapes, shape_of_task = np.unique(np.stack([alpha, beta], axis=1), axis=0, return_inverse=True)
        tables = np.concatenate([_beta_quantile_table(a, b, self.bins) for a, b in shapes])
        offset = None if len(shapes) == 1 else (shape_of_task.ravel() * (self.bins + 1)).astype(np.int64)
        return tables, offset

    def sample(self, rng: np.random.Generator, runs: int) -> np.ndarray:
        """One 52-bit random integer per draw: the high bits pick the table bin, the low 20 bits
        the position inside it, so draws are continuous (no ties between tasks or runs)."""
        tables, offset = self._tables
        draw = rng.integers(0, self.bins << _FRACTION_BITS, size=(runs, self.optimistic.size), dtype=np.int64)
        fraction = (draw & ((1 << _FRACTION_BITS) - 1)) * (1.0 / (1 << _FRACTION_BITS))
        draw >>= _FRACTION_BITS
        if offset is not None:
            draw += offset
        quantile = tables[draw]
        draw += 1
        fraction *= tables[draw] - quantile
        quantile += fraction
        quantile *= self.pessimistic - self.optimistic
        quantile += self.optimistic
        return quantile


@dataclass(frozen=True)
class LognormalFit:
    """A lognormal by its median (= exp μ) and σ of the log."""

    median: float
    sigma: float

    @property
    def p90(self) -> float:
        return self.median * math.exp(Z90 * self.sigma)


def fit_lognormal(durations: Sequence[float] | np.ndarray) -> LognormalFit:
    """Maximum-likelihood lognormal of historical cycle times (working days); non-positive values are dropped.

    Cycle times are skewed (most things take about as long as expected, a few take far
    longer), which a lognormal captures with two numbers.
    """
    values = np.asarray(durations, dtype=np.float64)
    values = values[np.isfinite(values) & (values > 0)]
    if values.size < 2:
        raise ValueError("need at least two positive durations to fit a lognormal")
    logs = np.log(values)
    return LognormalFit(median=float(np.exp(logs.mean())), sigma=float(logs.std(ddof=1)))


@dataclass
class LognormalDurations:
    """Independent lognormal durations per task; a median of 0 (milestones) always samples 0."""

    median: np.ndarray
    sigma: np.ndarray

    def __post_init__(self) -> None:
        self.median = np.asarray(self.median, dtype=np.float64)
        self.sigma = np.broadcast_to(np.asarray(self.sigma, dtype=np.float64), self.median.shape).copy()

    @classmethod
    def from_p50_p90(cls, p50: np.ndarray, p90: np.ndarray) -> LognormalDurations:
        """From a prediction model's P50 and P90 per task: σ = ln(P90/P50) / z₀.₉."""
        p50 = np.asarray(p50, dtype=np.float64)
        p90 = np.asarray(p90, dtype=np.float64)
        if np.any(p90 < p50):
            raise ValueError("P90 must not be below P50")
        ratio = np.divide(p90, p50, out=np.ones_like(p50), where=p50 > 0)
        return cls(p50, np.log(ratio) / Z90)

    @classmethod
    def by_type(cls, task_types: Sequence[str], fits: Mapping[str, LognormalFit],
                default: LognormalFit | None = None, zero: np.ndarray | None = None) -> LognormalDurations:
        """Each task drawn from its type's historical fit (``fit_lognormal`` per type).

        ``zero`` marks tasks that must stay at 0 (milestones); a type without a fit uses
        ``default`` or raises, so a missing history is never silently a zero duration.
        """
        median = np.empty(len(task_types))
        sigma = np.empty(len(task_types))
        for i, kind in enumerate(task_types):
            fit = fits.get(kind, default)
            if fit is None:
                raise KeyError(f"no cycle-time fit for task type {kind!r} and no default")
            median[i], sigma[i] = fit.median, fit.sigma
        if zero is not None:
            median[np.asarray(zero, dtype=bool)] = 0.0
        return cls(median, sigma)

    def sample(self, rng: np.random.Generator, runs: int) -> np.ndarray:
        z = rng.standard_normal((runs, self.median.size))
        z *= self.sigma
        np.exp(z, out=z)
        z *= self.median
        return z


@dataclass
class FixedDurations:
    """The same durations in every run (tests, and "what the plan says" as a degenerate distribution)."""

    duration: np.ndarray

    def sample(self, rng: np.random.Generator, runs: int) -> np.ndarray:
        return np.broadcast_to(np.asarray(self.duration, dtype=np.float64), (runs, np.size(self.duration)))


def blend(plan: np.ndarray, p50: np.ndarray, p90: np.ndarray,
          weight: float = PREDICTION_WEIGHT) -> tuple[np.ndarray, np.ndarray]:
    """Median and σ of the lognormal combining plan and prediction (rule in the module docstring)."""
    plan = np.asarray(plan, dtype=np.float64)
    p50 = np.asarray(p50, dtype=np.float64)
    p90 = np.maximum(np.asarray(p90, dtype=np.float64), p50)
    has_plan, has_p50 = plan > 0, p50 > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        log_plan = np.log(np.where(has_plan, plan, 1.0))
        log_p50 = np.log(np.where(has_p50, p50, 1.0))
        sigma_model = np.where(has_p50, (np.log(np.where(has_p50, p90, 1.0)) - log_p50) / Z90, SIGMA_MAX)
    both = has_plan & has_p50
    median = np.where(both, np.exp((1.0 - weight) * log_plan + weight * log_p50), np.where(has_plan, plan, p50))
    gap = np.where(both, 0.5 * (log_p50 - log_plan), 0.0)
    sigma = np.clip(np.sqrt(sigma_model ** 2 + gap ** 2), SIGMA_MIN, SIGMA_MAX)
    return median, sigma


@dataclass
class PlanPredictionDurations:
    """Blended lognormals (``blend``) where ``predicted``, ``fallback`` draws elsewhere.

    ``remaining`` marks tasks whose draws are remaining working days (started tasks):
    ``simulate`` does not scale them by the planned remaining fraction.
    """

    median: np.ndarray
    sigma: np.ndarray
    predicted: np.ndarray
    remaining: np.ndarray
    fallback: DurationModel | None = None
    cap: float = float(MAX_TASK_WORKDAYS)

    def __post_init__(self) -> None:
        self.predicted = np.asarray(self.predicted, dtype=bool)
        self.remaining = np.asarray(self.remaining, dtype=bool) & self.predicted
        self._lognormal = LognormalDurations(self.median, self.sigma)

    def sample(self, rng: np.random.Generator, runs: int) -> np.ndarray:
        draws = self._lognormal.sample(rng, runs)
        np.minimum(draws, self.cap, out=draws)
        if self.fallback is None or self.predicted.all():
            return draws
        return np.where(self.predicted, draws, self.fallback.sample(rng, runs))

    __call__ = sample
    """Callable like a ``(rng, runs) -> array`` sampler too (earlier callers used one)."""


def _percentile_rows(sorted_rows: np.ndarray, q: float) -> np.ndarray:
    """Inverted-CDF percentile of each row (rows already sorted): a value some run actually reached."""
    runs = sorted_rows.shape[-1]
    k = min(max(math.ceil(q / 100.0 * runs) - 1, 0), runs - 1)
    return sorted_rows[..., k]


@dataclass
class MonteCarloResult:
    """Distributions from ``simulate``. Finish indices are exclusive, as in ``cpm`` (finish day = index − 1)."""

    network: Network
    calendar: WorkCalendar | None
    runs: int
    percentiles: tuple[int, ...]
    finishes: np.ndarray = field(repr=False)
    """Early finish index of every task in every run, ``(n_tasks, runs)``, float32, each row sorted."""
    project_finish: np.ndarray = field(repr=False)
    """Project finish index per run (exclusive, in run order)."""
    project_finish_day: np.ndarray = field(repr=False)
    """Index of the project's last finish date per run: the latest finish date any task shows,
    so a closing milestone counts on its own date exactly as in ``Schedule.project_finish_date``."""
    criticality: np.ndarray = field(repr=False)
    """Share of runs in which each task had zero total float."""

    def _task(self, task_id: str) -> int:
        return self.network.index[task_id]

    def finish_index(self, task_id: str, p: float = 85) -> float:
        """Exclusive finish index reached in ``p`` % of runs."""
        return float(_percentile_rows(self.finishes[self._task(task_id)], p))

    def _finish_day(self, finish: np.ndarray, rows: np.ndarray) -> np.ndarray:
        duration = self.network.duration[rows]
        return display_days(finish - duration, finish, duration)[1]

    def _date(self, day: int) -> date:
        if self.calendar is None:
            raise ValueError("simulate() was run without a calendar, so there are only working-day indices")
        return self.calendar.date_of(int(day))

    def finish_date(self, task_id: str, p: float = 85) -> date:
        """Finish date of a task in ``p`` % of runs (needs the calendar given to ``simulate``)."""
        i = self._task(task_id)
        return self._date(int(self._finish_day(np.array([self.finish_index(task_id, p)]), np.array([i]))[0]))

    def project_finish_index(self, p: float = 85) -> float:
        """Exclusive project finish index reached in ``p`` % of runs."""
        return float(_percentile_rows(np.sort(self.project_finish), p))

    def project_finish_date(self, p: float = 85) -> date:
        """The project's finish date in ``p`` % of runs."""
        return self._date(int(_percentile_rows(np.sort(self.project_finish_day), p)))

    def probability_finish_by(self, when: date) -> float:
        """Share of runs in which the project's finish date is on or before ``when``."""
        if self.calendar is None:
            raise ValueError("simulate() was run without a calendar")
        return float(np.mean(self.project_finish_day <= self.calendar.index_of(when, "backward")))

    def milestone_finishes(self) -> dict[str, dict[int, date | float]]:
        """P-finish of every milestone: dates with a calendar, exclusive indices without."""
        result: dict[str, dict[int, date | float]] = {}
        for i in np.flatnonzero(self.network.is_milestone):
            task_id = self.network.task_ids[i]
            result[task_id] = {p: (self.finish_date(task_id, p) if self.calendar else self.finish_index(task_id, p))
                               for p in self.percentiles}
        return result

    @cached_property
    def frame(self) -> pl.DataFrame:
        """Per task: P-finish indices (exclusive) and, with a calendar, dates; plus the criticality index."""
        rows = np.arange(self.network.n_tasks)
        columns: dict[str, object] = {"task_id": self.network.task_ids}
        for p in self.percentiles:
            finish = _percentile_rows(self.finishes, p).astype(np.float64)
            columns[f"p{p}_finish_index"] = finish
            if self.calendar is not None:
                columns[f"p{p}_finish"] = self.calendar.date_of(self._finish_day(finish, rows))
        columns["criticality_index"] = self.criticality
        return pl.DataFrame(columns)


def _duration_source(durations: Durations, net: Network, runs: int) -> tuple[Callable, int]:
    """A ``(rng, offset, count) -> (count, n)`` draw function and the number of runs it provides."""
    n = net.n_tasks
    if durations is None:
        durations = PertDurations.from_durations(net.duration)
    if isinstance(durations, np.ndarray):
        if durations.ndim != 2 or durations.shape[1] != n:
            raise ValueError(f"duration array must be (runs, {n}), got {durations.shape}")
        array = durations
        return (lambda rng, offset, count: array[offset:offset + count]), array.shape[0]
    draw = durations.sample if hasattr(durations, "sample") else durations
    return (lambda rng, offset, count: np.asarray(draw(rng, count))), runs


def simulate(
    network: Network | Plan,
    durations: Durations = None,
    runs: int = 10_000,
    seed: int | None = None,
    calendar: WorkCalendar | None = None,
    percentiles: Sequence[int] = (50, 85, 95),
    chunk: int = 1024,
) -> MonteCarloResult:
    """Monte Carlo of the whole network: ``runs`` CPM forward passes, ``chunk`` runs per vectorised pass.

    With a ``calendar`` the plan's start, status date, progress and early-date constraints
    apply as in ``cpm.schedule`` and results have dates; without one every task starts from
    index 0 with no progress (pure network arithmetic). A ``(runs, n)`` array of durations
    sets ``runs`` itself. Criticality ignores deadlines and late-date constraints: it answers
    "how often does this task drive the end", not "how often is it late".
    """
    net = network if isinstance(network, Network) else Network.from_plan(network)
    n = net.n_tasks
    inputs: ScheduleInputs = prepare_inputs(net, calendar) if calendar is not None else free_inputs(net)
    draw, runs = _duration_source(durations, net, runs)
    if runs < 1:
        raise ValueError("runs must be at least 1")
    rng = np.random.default_rng(seed)
    lag_forward, lag_backward = effective_lags(net, inputs)

    in_progress = inputs.started & ~inputs.done
    constant = inputs.done | (in_progress & (net.duration <= 0))
    ratio = np.divide(inputs.work, net.duration, out=np.ones(n), where=in_progress & (net.duration > 0))
    remaining = getattr(durations, "remaining", None)
    if remaining is not None:  # these draws already are the days still to do: no scaling, no fixed work
        sampled_remaining = np.asarray(remaining, dtype=bool) & in_progress
        ratio[sampled_remaining] = 1.0
        constant &= ~sampled_remaining
    fixed_start = inputs.fixed_start[:, None]
    finishes = np.empty((n, runs), dtype=np.float32)
    project_finish = np.empty(runs, dtype=np.float64)
    project_day = np.empty(runs, dtype=np.int64)
    critical_runs = np.zeros(n, dtype=np.int64)

    for offset in range(0, runs, chunk):
        count = min(chunk, runs - offset)
        sample = np.asarray(draw(rng, offset, count), dtype=np.float64)
        work = np.ascontiguousarray(sample.T)
        np.maximum(work, 0.0, out=work)
        if in_progress.any():
            work *= ratio[:, None]
        if constant.any():
            work[constant] = inputs.work[constant, None]
        x, stacked = forward_pass(net, work, inputs.x_lower(work), fixed_start, inputs.started, lag_forward)
        early_finish = stacked[n:]
        end = early_finish.max(axis=0) if n else np.zeros(count)
        latest_start = stacked[:n].max(axis=0) if n else np.zeros(count)
        late_x = backward_pass(net, work, end[None, :] - work, lag_backward)
        critical_runs += ((late_x - x) <= CRITICAL_TOL).sum(axis=1)
        finishes[:, offset:offset + count] = early_finish
        project_finish[offset:offset + count] = end
        # max over tasks of the displayed finish day, max(ceil(F) − 1, floor(S)), is the same
        # expression on the column maxima (milestones have S = F), so no per-task day matrix
        project_day[offset:offset + count] = np.maximum(np.ceil(end - EPS) - 1, np.floor(latest_start + EPS))

    finishes.sort(axis=1)
    critical_runs[inputs.done] = 0
    return MonteCarloResult(
        network=net,
        calendar=calendar,
        runs=runs,
        percentiles=tuple(int(p) for p in percentiles),
        finishes=finishes,
        project_finish=project_finish,
        project_finish_day=project_day,
        criticality=critical_runs / runs,
    )


# ------------------------------------------------------------------ throughput forecasts (no plan)


def _history(weekly_throughput_history: Sequence[float] | np.ndarray) -> np.ndarray:
    history = np.asarray(weekly_throughput_history, dtype=np.float64)
    history = history[np.isfinite(history)]
    if history.size == 0 or np.any(history < 0):
        raise ValueError("weekly throughput history must be non-empty and non-negative")
    return history


def when_done(
    n_items: int,
    weekly_throughput_history: Sequence[float] | np.ndarray,
    runs: int = 10_000,
    seed: int | None = None,
    start: date | None = None,
    percentiles: Sequence[int] = (50, 85, 95),
    chunk: int = 2048,
) -> dict[int, date]:
    """When ``n_items`` are done, resampling past weeks' throughput: ``{p: date}`` with ``p`` % confidence.

    Each run draws weeks from the history (with replacement) until the backlog is done; the
    date is the last day of that week counted from ``start`` (default today). Holidays need
    no special handling: they are already in the weeks being resampled.
    """
    history = _history(weekly_throughput_history)
    start = start or date.today()
    if n_items <= 0:
        return {int(p): start for p in percentiles}
    if history.max() <= 0:
        raise ValueError("no week in the history finished anything, so the backlog never ends")
    rng = np.random.default_rng(seed)
    mean = history.mean()
    weeks = np.empty(runs, dtype=np.int64)
    for offset in range(0, runs, chunk):
        count = min(chunk, runs - offset)
        horizon = int(math.ceil(n_items / mean * 1.5)) + 4
        pending = np.arange(count)
        while pending.size:
            totals = np.cumsum(rng.choice(history, size=(pending.size, horizon)), axis=1)
            reached = totals[:, -1] >= n_items
            weeks[offset + pending[reached]] = np.argmax(totals[reached] >= n_items, axis=1) + 1
            pending = pending[~reached]
            horizon *= 2
    weeks.sort()
    return {int(p): start + timedelta(days=7 * int(_percentile_rows(weeks, p)) - 1) for p in percentiles}


def how_many_by(
    when: date,
    weekly_throughput_history: Sequence[float] | np.ndarray,
    runs: int = 10_000,
    seed: int | None = None,
    start: date | None = None,
    percentiles: Sequence[int] = (50, 85, 95),
) -> dict[int, int]:
    """How many items will be done by ``when``: ``{p: items}`` reached in at least ``p`` % of runs.

    Confidence runs the other way from ``when_done``: the P85 count is the 15th percentile of
    the simulated totals, so P50 ≥ P85 ≥ P95. Whole weeks from ``start`` (default today) to ``when``.
    """
    history = _history(weekly_throughput_history)
    start = start or date.today()
    n_weeks = max(((when - start).days + 1) // 7, 0)
    rng = np.random.default_rng(seed)
    if n_weeks == 0:
        return {int(p): 0 for p in percentiles}
    totals = np.sort(rng.choice(history, size=(runs, n_weeks)).sum(axis=1))
    result: dict[int, int] = {}
    for p in percentiles:
        k = min(max(math.ceil((100 - p) / 100.0 * runs) - 1, 0), runs - 1)
        result[int(p)] = int(math.floor(totals[k] + 1e-9))
    return result
