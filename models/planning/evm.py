"""Earned value management: planned value, earned value and actual cost of a plan at a date.

EVM turns "how late and how over budget" into money on one scale. Each leaf task
(a task with no children, so summaries are not counted twice) has a budget:
estimate hours × the hourly rate of its assignee, scaled to the project budget when
one is given. Then, at a status date:

* PV (planned value) — budget of the work scheduled by that date. A task's budget is
  spread evenly over its planned start…finish, both days included, over working days
  when a calendar is given (else calendar days); by the end of the status date that
  share is planned.
* EV (earned value) — budget × percent complete (method "percent"), or the whole
  budget of done tasks only (method "done", the 0/100 rule). A task is done with an
  actual finish or at 100 %.
* AC (actual cost) — hours worked × rate.

and the usual indices: SV = EV − PV, CV = EV − AC, SPI = EV / PV, CPI = EV / AC,
EAC = BAC / CPI (the remaining work costs what the work so far did), ETC = EAC − AC,
VAC = BAC − EAC, TCPI = (BAC − EV) / (BAC − AC) (the efficiency needed on the rest
to land on budget). Two EAC variants are reported too: AC + (BAC − EV), when the
overrun so far was a one-off, and AC + (BAC − EV) / (CPI · SPI), when schedule
pressure will also drive cost. Any ratio with a zero denominator is None, never inf.

Dates before the data's as-of date are reconstructed: done work is spread over its
actual start…finish, work in progress over actual start…as-of, and (without
worklogs) hours the same way. That is what an S-curve needs when only today's
snapshot of the tracker exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np
import polars as pl

from models.planning.baselines import Baseline, WorkdayCalendar, cumulative_workdays
from models.planning.model import Plan

__all__ = ["EarnedValue", "earned_value", "earned_value_series"]

HourlyRate = float | Mapping[str, float]
EarnedMethod = Literal["percent", "done"]

_EPOCH = date(1970, 1, 1)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


@dataclass(frozen=True)
class EarnedValue:
    """EVM figures of one project at one status date, in money (hours × rate)."""

    project_key: str | None
    status_date: date
    bac: float
    """Budget at completion."""
    pv: float
    ev: float
    ac: float
    sv: float
    """EV − PV; negative = behind schedule."""
    cv: float
    """EV − AC; negative = over budget."""
    spi: float | None
    """EV / PV."""
    cpi: float | None
    """EV / AC."""
    eac: float | None
    """BAC / CPI."""
    etc: float | None
    """EAC − AC."""
    vac: float | None
    """BAC − EAC."""
    tcpi: float | None
    """(BAC − EV) / (BAC − AC)."""
    eac_atypical: float
    """AC + (BAC − EV): the remaining work goes as budgeted."""
    eac_composite: float | None
    """AC + (BAC − EV) / (CPI · SPI)."""
    percent_complete: float | None
    """EV / BAC."""
    unscheduled_budget: float = 0.0
    """Budget of tasks with no planned dates: part of BAC, never of PV, so SPI reads high while it is > 0."""

    @classmethod
    def from_values(
        cls,
        bac: float,
        pv: float,
        ev: float,
        ac: float,
        status_date: date,
        project_key: str | None = None,
        unscheduled_budget: float = 0.0,
    ) -> EarnedValue:
        """Derive every index from the four base figures."""
        spi = _ratio(ev, pv)
        cpi = _ratio(ev, ac)
        eac = _ratio(bac, cpi)
        etc = None if eac is None else eac - ac
        vac = None if eac is None else bac - eac
        efficiency = None if cpi is None or spi is None else cpi * spi
        composite = _ratio(bac - ev, efficiency)
        return cls(
            project_key=project_key,
            status_date=status_date,
            bac=bac,
            pv=pv,
            ev=ev,
            ac=ac,
            sv=ev - pv,
            cv=ev - ac,
            spi=spi,
            cpi=cpi,
            eac=eac,
            etc=etc,
            vac=vac,
            tcpi=_ratio(bac - ev, bac - ac),
            eac_atypical=ac + (bac - ev),
            eac_composite=None if composite is None else ac + composite,
            percent_complete=_ratio(ev, bac),
            unscheduled_budget=unscheduled_budget,
        )

    def row(self) -> dict[str, object]:
        """The columns of the warehouse `earned_value` table (the caller adds computed_at)."""
        values = asdict(self)
        columns = ("project_key", "status_date", "bac", "pv", "ev", "ac", "sv", "cv", "spi", "cpi", "eac", "etc", "vac")
        return {column: values[column] for column in columns}


def _rates(hourly_rate: HourlyRate, default_rate: float | None) -> tuple[Mapping[str, float], float]:
    """Per-person rates and the rate for anyone not listed (unassigned work, a new joiner).

    Without an explicit default the mean of the listed rates is used: a blended rate
    is a better guess for unassigned work than zero, which would hide its cost.
    """
    if isinstance(hourly_rate, Mapping):
        rates = {str(k): float(v) for k, v in hourly_rate.items()}
        if default_rate is not None:
            return rates, float(default_rate)
        if not rates:
            raise ValueError("hourly_rate is an empty mapping and no default_rate was given")
        return rates, sum(rates.values()) / len(rates)
    return {}, float(hourly_rate)


def _rate_of(column: str, rates: Mapping[str, float], default: float) -> pl.Expr:
    if not rates:
        return pl.lit(default, dtype=pl.Float64)
    return pl.col(column).replace_strict(dict(rates), default=default, return_dtype=pl.Float64)


def _leaves(plan: Plan, project_key: str | None, baseline: Baseline | None) -> pl.DataFrame:
    """Leaf tasks (in the project when one is named), with baseline dates and estimates when given.

    With a baseline, PV follows the promised schedule and budget (the performance
    measurement baseline) rather than a plan that has been re-dated since.
    """
    tasks = [t for t in plan.tasks if project_key is None or t.project_key == project_key]
    parents = {t.parent_id for t in tasks if t.parent_id is not None}
    tasks = [t for t in tasks if t.task_id not in parents]
    frame = pl.DataFrame(
        {
            "task_id": [t.task_id for t in tasks],
            "assignee_id": [t.assignee_id for t in tasks],
            "estimate_hours": [t.estimate_hours for t in tasks],
            "actual_hours": [t.actual_hours for t in tasks],
            "start": [t.start for t in tasks],
            "finish": [t.finish for t in tasks],
            "actual_start": [t.actual_start for t in tasks],
            "actual_finish": [t.actual_finish for t in tasks],
            "percent_complete": [t.percent_complete for t in tasks],
        },
        schema={
            "task_id": pl.String,
            "assignee_id": pl.String,
            "estimate_hours": pl.Float64,
            "actual_hours": pl.Float64,
            "start": pl.Date,
            "finish": pl.Date,
            "actual_start": pl.Date,
            "actual_finish": pl.Date,
            "percent_complete": pl.Float64,
        },
    )
    if baseline is not None:
        promised = baseline.frame().select(
            "task_id",
            pl.col("planned_start").alias("b_start"),
            pl.col("planned_finish").alias("b_finish"),
            pl.col("estimate_hours").alias("b_estimate"),
        )
        frame = frame.join(promised, on="task_id", how="left", maintain_order="left").with_columns(
            start=pl.coalesce("b_start", "start"),
            finish=pl.coalesce("b_finish", "finish"),
            estimate_hours=pl.coalesce("b_estimate", "estimate_hours"),
        )
    return frame


def _days(series: pl.Series) -> np.ndarray:
    """Days since 1970-01-01 as float, NaN for a missing date."""
    return series.cast(pl.Int64).to_numpy(allow_copy=True).astype(np.float64)


class _Axis:
    """Every day from the earliest to the latest date involved, with its working-day weight.

    Values are accumulated per day with bincount and cumsum, so any number of tasks
    and dates costs one pass over tasks plus one over days.
    """

    def __init__(self, lo: int, hi: int, calendar: WorkdayCalendar | None) -> None:
        self.lo = lo
        self.length = hi - lo + 1
        if calendar is None:
            self.weight = np.ones(self.length)
        else:
            counts = cumulative_workdays(calendar, _EPOCH + timedelta(lo), _EPOCH + timedelta(hi))
            self.weight = np.diff(counts, prepend=0.0)
        self.cumulative_weight = np.concatenate([[0.0], np.cumsum(self.weight)])

    def spread(self, amount: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
        """Cumulative total by the end of each day of `amount` spread evenly over [first, last].

        A span with no weight (no working day, or last before first) lands whole on
        `last`, so no amount is ever lost.
        """
        first_i = (first - self.lo).astype(np.int64)
        last_i = (last - self.lo).astype(np.int64)
        span = np.where(last_i >= first_i, self.cumulative_weight[last_i + 1] - self.cumulative_weight[first_i], 0.0)
        ramp = span > 0
        per_day = np.zeros_like(amount)
        per_day[ramp] = amount[ramp] / span[ramp]
        change = np.bincount(first_i[ramp], weights=per_day[ramp], minlength=self.length + 1)
        change -= np.bincount(last_i[ramp] + 1, weights=per_day[ramp], minlength=self.length + 1)
        daily = np.cumsum(change)[: self.length] * self.weight
        daily += np.bincount(last_i[~ramp], weights=amount[~ramp], minlength=self.length)
        return np.cumsum(daily)

    def at(self, cumulative: np.ndarray, days: np.ndarray) -> np.ndarray:
        return cumulative[(days - self.lo).astype(np.int64)]


def _worklog_frame(worklogs: pl.DataFrame, task_ids: pl.Series | None) -> pl.DataFrame:
    """day, hours and person_id of worklogs, restricted to the plan's tasks when they name one."""
    missing = {"day", "hours"} - set(worklogs.columns)
    if missing:
        raise ValueError(f"worklogs lack columns: {', '.join(sorted(missing))}")
    frame = worklogs
    if task_ids is not None and "task_id" in worklogs.columns:
        frame = frame.filter(pl.col("task_id").is_in(task_ids.implode()))
    person = pl.col("person_id").cast(pl.String) if "person_id" in frame.columns else pl.lit(None, dtype=pl.String)
    return frame.select(
        pl.col("day").cast(pl.Date), pl.col("hours").cast(pl.Float64).fill_null(0.0), person.alias("person_id")
    ).filter(pl.col("day").is_not_null())


@dataclass(frozen=True)
class _Curves:
    bac: float
    unscheduled_budget: float
    pv: np.ndarray
    ev: np.ndarray
    ac: np.ndarray


def _curves(
    plan: Plan,
    days: np.ndarray,
    as_of: date,
    hourly_rate: HourlyRate,
    budget_at_completion: float | None,
    calendar: WorkdayCalendar | None,
    method: EarnedMethod,
    default_rate: float | None,
    project_key: str | None,
    baseline: Baseline | None,
    worklogs: pl.DataFrame | None,
    all_tasks: pl.Series,
) -> _Curves:
    """PV, EV and AC at each of `days` (days since 1970-01-01), with AC from worklogs or task hours."""
    if method not in ("percent", "done"):
        raise ValueError(f"unknown earned value method {method!r}; use 'percent' or 'done'")
    rates, default = _rates(hourly_rate, default_rate)
    leaves = _leaves(plan, project_key, baseline).with_columns(rate=_rate_of("assignee_id", rates, default))
    budget = leaves.select(pl.col("estimate_hours").fill_null(0.0) * pl.col("rate")).to_series().to_numpy().copy()
    total = float(budget.sum())
    if budget_at_completion is not None:
        bac = float(budget_at_completion)
        if total > 0:
            budget *= bac / total
        elif budget.size:
            budget[:] = bac / budget.size
    else:
        bac = total

    start, finish = _days(leaves["start"]), _days(leaves["finish"])
    start, finish = np.where(np.isnan(start), finish, start), np.where(np.isnan(finish), start, finish)
    scheduled = ~np.isnan(start)
    actual_start, actual_finish = _days(leaves["actual_start"]), _days(leaves["actual_finish"])
    as_of_day = float((as_of - _EPOCH).days)
    done = ~np.isnan(actual_finish) | (leaves["percent_complete"].to_numpy() >= 100.0)
    work_end = np.where(np.isnan(actual_finish), as_of_day, actual_finish)
    work_start = np.where(np.isnan(actual_start), work_end, actual_start)

    logs = None
    if worklogs is not None:
        logs = _worklog_frame(worklogs, all_tasks).with_columns(rate=_rate_of("person_id", rates, default))
    known = [days, [as_of_day], start[scheduled], finish[scheduled], work_start, work_end]
    if logs is not None and logs.height:
        known.append(_days(logs["day"]))
    everything = np.concatenate([np.asarray(k, dtype=np.float64) for k in known])
    axis = _Axis(int(everything.min()), int(everything.max()), calendar)

    pv = axis.at(axis.spread(budget[scheduled], start[scheduled], finish[scheduled]), days)
    if method == "percent":
        fraction = np.where(done, 1.0, np.clip(leaves["percent_complete"].to_numpy() / 100.0, 0.0, 1.0))
        earned = axis.spread(budget * fraction, work_start, work_end)
    else:
        earned = axis.spread(np.where(done, budget, 0.0), work_end, work_end)
    ev = axis.at(earned, days)
    if logs is not None:
        log_days = _days(logs["day"])
        cost = axis.spread((logs["hours"] * logs["rate"]).to_numpy(), log_days, log_days)
    else:
        hours = leaves.select(pl.col("actual_hours").fill_null(0.0) * pl.col("rate")).to_series().to_numpy()
        cost = axis.spread(hours, work_start, work_end)
    ac = axis.at(cost, days)
    return _Curves(bac, float(budget[~scheduled].sum()), pv, ev, ac)


def _project_key(plan: Plan, project_key: str | None) -> str | None:
    if project_key is not None:
        return project_key
    keys = {t.project_key for t in plan.tasks}
    return next(iter(keys)) if len(keys) == 1 else None


def _plan_task_ids(plan: Plan, project_key: str | None) -> pl.Series:
    return pl.Series(
        "task_id", [t.task_id for t in plan.tasks if project_key is None or t.project_key == project_key],
        dtype=pl.String,
    )


def earned_value(
    plan: Plan,
    status_date: date,
    hourly_rate: HourlyRate,
    worklog_hours_to_date: float | Mapping[str, float] | None = None,
    budget_at_completion: float | None = None,
    calendar: WorkdayCalendar | None = None,
    *,
    method: EarnedMethod = "percent",
    default_rate: float | None = None,
    project_key: str | None = None,
    baseline: Baseline | None = None,
    worklogs: pl.DataFrame | None = None,
) -> EarnedValue:
    """EVM figures of the plan (or of one project in it) at the end of `status_date`.

    `hourly_rate` is one rate or a rate per person (assignee id); people not listed,
    and unassigned tasks, cost `default_rate`, else the mean listed rate.
    `budget_at_completion` overrides the summed task budgets: tasks keep their share
    of it (equal shares when no task has an estimate). AC comes from, in order:
    `worklog_hours_to_date` (hours per person, or a total costed at `hourly_rate` when
    that is one rate, else at the default rate), `worklogs` (a frame
    with day, hours and optionally person_id and task_id; rows up to the status date
    count), or the leaves' `actual_hours`. The percent complete and actual dates in
    the plan are as of `plan.status_date` (else `status_date`); an earlier status
    date gets the reconstruction described in the module docstring.
    """
    as_of = plan.status_date or status_date
    day = np.array([float((status_date - _EPOCH).days)])
    curves = _curves(
        plan, day, as_of, hourly_rate, budget_at_completion, calendar, method, default_rate,
        project_key, baseline, worklogs, _plan_task_ids(plan, project_key),
    )
    ac = float(curves.ac[0])
    if worklog_hours_to_date is not None:
        rates, default = _rates(hourly_rate, default_rate)
        if isinstance(worklog_hours_to_date, Mapping):
            ac = sum(float(h) * rates.get(str(p), default) for p, h in worklog_hours_to_date.items())
        else:
            ac = float(worklog_hours_to_date) * default
    return EarnedValue.from_values(
        curves.bac, float(curves.pv[0]), float(curves.ev[0]), ac, status_date,
        _project_key(plan, project_key), curves.unscheduled_budget,
    )


def earned_value_series(
    plan: Plan,
    dates: Iterable[date],
    hourly_rate: HourlyRate,
    budget_at_completion: float | None = None,
    calendar: WorkdayCalendar | None = None,
    *,
    method: EarnedMethod = "percent",
    default_rate: float | None = None,
    project_key: str | None = None,
    baseline: Baseline | None = None,
    worklogs: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """PV, EV and AC by date for S-curves: columns date, bac, pv, ev, ac, sv, cv, spi, cpi.

    One row per distinct date, ascending. EV and AC (and the indices built on them)
    are null after the as-of date (`plan.status_date`, else the last date): the future
    has a plan but no progress yet. Arguments are those of `earned_value`; AC comes
    from `worklogs` when given, else from the leaves' actual hours spread over their
    actual dates.
    """
    wanted = sorted(set(dates))
    if not wanted:
        return pl.DataFrame(
            schema={c: (pl.Date if c == "date" else pl.Float64) for c in
                    ("date", "bac", "pv", "ev", "ac", "sv", "cv", "spi", "cpi")}
        )
    as_of = plan.status_date or wanted[-1]
    days = np.array([float((d - _EPOCH).days) for d in wanted])
    curves = _curves(
        plan, days, as_of, hourly_rate, budget_at_completion, calendar, method, default_rate,
        project_key, baseline, worklogs, _plan_task_ids(plan, project_key),
    )
    known = pl.col("date") <= as_of
    return pl.DataFrame(
        {"date": wanted, "pv": curves.pv, "ev": curves.ev, "ac": curves.ac},
        schema={"date": pl.Date, "pv": pl.Float64, "ev": pl.Float64, "ac": pl.Float64},
    ).select(
        "date",
        pl.lit(curves.bac, dtype=pl.Float64).alias("bac"),
        "pv",
        pl.when(known).then(pl.col("ev")).alias("ev"),
        pl.when(known).then(pl.col("ac")).alias("ac"),
    ).with_columns(
        sv=pl.col("ev") - pl.col("pv"),
        cv=pl.col("ev") - pl.col("ac"),
        spi=pl.when(pl.col("pv") != 0).then(pl.col("ev") / pl.col("pv")),
        cpi=pl.when(pl.col("ac") != 0).then(pl.col("ev") / pl.col("ac")),
    )
