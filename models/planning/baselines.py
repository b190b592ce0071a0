"""Named baselines: a frozen copy of the plan's dates and estimates, and the slippage against it.

A schedule only says whether a project is late when compared with what was
promised. A baseline freezes, per task, the planned start, finish, duration and
estimate at one moment; `variance` compares today's plan (or a CPM schedule) with
it. Storage belongs to the warehouse (`baselines`, `baseline_tasks`), so this
module only converts to and from those rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import numpy as np
import polars as pl

from models.planning.model import Plan

__all__ = [
    "AHEAD",
    "Baseline",
    "BaselineTask",
    "LATE",
    "NOT_IN_BASELINE",
    "ON_TIME",
    "REMOVED",
    "WorkdayCalendar",
    "baseline_from_dates",
    "baseline_from_rows",
    "baseline_record",
    "baseline_rows",
    "cumulative_workdays",
    "take_baseline",
    "variance",
]

AHEAD = "ahead"
ON_TIME = "on time"
LATE = "late"
NOT_IN_BASELINE = "not in baseline"
REMOVED = "removed"

class WorkdayCalendar(Protocol):
    """What planning needs from a calendar: `workdays_between(a, b)` counts working days in [a, b]."""

    def workdays_between(self, a: date, b: date) -> float: ...


@dataclass(frozen=True)
class BaselineTask:
    task_id: str
    planned_start: date | None
    planned_finish: date | None
    duration_days: float | None
    """Working days; None when read back from the warehouse, which does not store it."""
    estimate_hours: float | None


@dataclass
class Baseline:
    name: str
    tasks: dict[str, BaselineTask]
    taken_at: datetime | None = None
    project_key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """Header fields read back from storage that this module does not interpret (e.g. created_by)."""

    def frame(self) -> pl.DataFrame:
        """The baseline as a table (task_id, planned_start, planned_finish, duration_days, estimate_hours)."""
        tasks = list(self.tasks.values())
        return pl.DataFrame(
            {
                "task_id": [t.task_id for t in tasks],
                "planned_start": [t.planned_start for t in tasks],
                "planned_finish": [t.planned_finish for t in tasks],
                "duration_days": [t.duration_days for t in tasks],
                "estimate_hours": [t.estimate_hours for t in tasks],
            },
            schema={
                "task_id": pl.String,
                "planned_start": pl.Date,
                "planned_finish": pl.Date,
                "duration_days": pl.Float64,
                "estimate_hours": pl.Float64,
            },
        )


def _as_date(value: date | datetime | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def _single_project(plan: Plan) -> str | None:
    keys = {t.project_key for t in plan.tasks}
    return next(iter(keys)) if len(keys) == 1 else None


def take_baseline(plan: Plan, name: str, taken_at: datetime | None = None) -> Baseline:
    """Freeze the plan's planned (not actual) dates, durations and estimates under `name`.

    Planned dates are what was promised; actual dates are what happened, and the
    variance is the difference between the two, so the baseline must not absorb them.
    """
    tasks = {
        t.task_id: BaselineTask(t.task_id, t.start, t.finish, t.duration_days, t.estimate_hours)
        for t in plan.tasks
    }
    return Baseline(name, tasks, taken_at or datetime.now(), _single_project(plan))


def baseline_from_dates(
    name: str,
    dates: Mapping[str, tuple[date | None, date | None, float | None]],
    work_hours: Mapping[str, float] | None = None,
    taken_at: datetime | None = None,
    project_key: str | None = None,
) -> Baseline:
    """A Baseline from {task_id: (start, finish, duration_days)} and optional work hours per task.

    That is the shape in which an MS Project file's saved baselines are read, so a
    plan imported from MS Project keeps the baselines its planner already set.
    """
    hours = work_hours or {}
    tasks = {
        task_id: BaselineTask(
            task_id, _as_date(start), _as_date(finish), duration,
            None if hours.get(task_id) is None else float(hours[task_id]),
        )
        for task_id, (start, finish, duration) in dates.items()
    }
    return Baseline(name, tasks, taken_at, project_key)


def baseline_record(baseline: Baseline, baseline_id: str, created_by: str | None = None) -> dict[str, Any]:
    """The row for the warehouse `baselines` table."""
    return {
        "baseline_id": baseline_id,
        "project_key": baseline.project_key,
        "name": baseline.name,
        "created_at": baseline.taken_at,
        "created_by": created_by,
    }


def baseline_rows(baseline: Baseline, baseline_id: str) -> list[dict[str, Any]]:
    """Rows for the warehouse `baseline_tasks` table (duration is not stored there)."""
    return [
        {
            "baseline_id": baseline_id,
            "task_id": t.task_id,
            "planned_start": t.planned_start,
            "planned_finish": t.planned_finish,
            "estimate_hours": None if t.estimate_hours is None else float(t.estimate_hours),
        }
        for t in baseline.tasks.values()
    ]


def baseline_from_rows(
    rows: Iterable[Mapping[str, Any]],
    header: Mapping[str, Any] | None = None,
) -> Baseline:
    """Rebuild a Baseline from `baseline_tasks` rows (and optionally its `baselines` row).

    Raises ValueError when the rows mix baselines, which would silently blend two
    promises into one.
    """
    rows = list(rows)
    ids = {r.get("baseline_id") for r in rows} - {None}
    if header is not None and header.get("baseline_id") is not None:
        ids.add(header["baseline_id"])
    if len(ids) > 1:
        raise ValueError(f"rows belong to several baselines: {', '.join(sorted(map(str, ids)))}")
    tasks = {
        r["task_id"]: BaselineTask(
            r["task_id"],
            _as_date(r.get("planned_start")),
            _as_date(r.get("planned_finish")),
            None,
            None if r.get("estimate_hours") is None else float(r["estimate_hours"]),
        )
        for r in rows
    }
    header = header or {}
    extra = {k: v for k, v in header.items() if k not in {"name", "created_at", "project_key"}}
    return Baseline(
        name=header.get("name") or "",
        tasks=tasks,
        taken_at=header.get("created_at"),
        project_key=header.get("project_key"),
        extra=extra,
    )


def cumulative_workdays(calendar: WorkdayCalendar, first: date, last: date) -> np.ndarray:
    """Working days in [first, d] for every d from first to last (index 0 = first).

    Built once per range so vectorised code can count working days between any two
    dates by subtraction instead of calling the calendar per task. A calendar with a
    vectorised `is_workday` (models.planning.calendar.WorkCalendar) answers in one
    call; any other is asked `workdays_between(d, d)` once per day.
    """
    days = (last - first).days + 1
    if days <= 0:
        return np.zeros(0, dtype=np.float64)
    is_workday = getattr(calendar, "is_workday", None)
    if callable(is_workday):
        span = np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)
        flags = np.asarray(is_workday(span), dtype=np.float64)
    else:
        flags = np.fromiter(
            (calendar.workdays_between(first + timedelta(i), first + timedelta(i)) for i in range(days)),
            dtype=np.float64,
            count=days,
        )
    return np.cumsum(flags)


def _current_frame(plan_or_schedule: Plan | pl.DataFrame) -> pl.DataFrame:
    """task_id, start, finish, estimate_hours of the plan or schedule being measured.

    For a Plan the actual dates win over planned ones: a task that already started
    late has slipped whatever its plan fields still say. A schedule frame may name
    its dates start/finish or early_start/early_finish (the CPM output).
    """
    if isinstance(plan_or_schedule, Plan):
        tasks = plan_or_schedule.tasks
        return pl.DataFrame(
            {
                "task_id": [t.task_id for t in tasks],
                "start": [t.actual_start or t.start for t in tasks],
                "finish": [t.actual_finish or t.finish for t in tasks],
                "estimate_hours": [t.estimate_hours for t in tasks],
            },
            schema={"task_id": pl.String, "start": pl.Date, "finish": pl.Date, "estimate_hours": pl.Float64},
        )
    frame = plan_or_schedule
    columns = set(frame.columns)
    start = "start" if "start" in columns else "early_start"
    finish = "finish" if "finish" in columns else "early_finish"
    missing = {"task_id", start, finish} - columns
    if missing:
        raise ValueError(f"schedule frame lacks columns: {', '.join(sorted(missing))}")
    estimate = pl.col("estimate_hours") if "estimate_hours" in columns else pl.lit(None)
    return frame.select(
        pl.col("task_id").cast(pl.String),
        pl.col(start).cast(pl.Date).alias("start"),
        pl.col(finish).cast(pl.Date).alias("finish"),
        estimate.cast(pl.Float64).alias("estimate_hours"),
    )


def _ordinal(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.Int64)


def variance(
    plan_or_schedule_frame: Plan | pl.DataFrame,
    baseline: Baseline,
    calendar: WorkdayCalendar | None = None,
    tolerance_days: float = 0.0,
) -> pl.DataFrame:
    """Slippage of every task against the baseline, one row per task in either.

    Columns: task_id, baseline_start, baseline_finish, start, finish,
    start_variance_days, finish_variance_days (calendar days, positive = later than
    promised), start_variance_workdays, finish_variance_workdays (working days moved,
    e.g. Friday → Monday is 1; null without a calendar), baseline_estimate_hours,
    estimate_hours, estimate_variance_hours, status.

    Status is judged on the finish (what stakeholders were promised), on the start
    when either finish is missing, and in working days when a calendar is given so
    a move across a weekend is not reported as slippage of several days: "late"
    beyond `tolerance_days`, "ahead" before −tolerance, else "on time"; null when
    the dates needed are missing. Tasks only in the plan are "not in baseline";
    tasks only in the baseline are "removed".
    """
    current = _current_frame(plan_or_schedule_frame)
    base = baseline.frame().select(
        "task_id",
        pl.col("planned_start").alias("baseline_start"),
        pl.col("planned_finish").alias("baseline_finish"),
        pl.col("estimate_hours").alias("baseline_estimate_hours"),
    )
    joined = current.with_columns(in_plan=pl.lit(True)).join(
        base.with_columns(in_baseline=pl.lit(True)), on="task_id", how="full", coalesce=True,
        maintain_order="left_right",
    ).with_columns(
        start_variance_days=(_ordinal("start") - _ordinal("baseline_start")),
        finish_variance_days=(_ordinal("finish") - _ordinal("baseline_finish")),
    )
    start_workdays = finish_workdays = pl.Series([None] * joined.height, dtype=pl.Float64)
    if calendar is not None:
        start_workdays, finish_workdays = _workday_shifts(
            joined, [("start", "baseline_start"), ("finish", "baseline_finish")], calendar
        )
    joined = joined.with_columns(start_workdays=start_workdays, finish_workdays=finish_workdays)
    if calendar is not None:
        judged_finish, judged_start = pl.col("finish_workdays"), pl.col("start_workdays")
    else:
        judged_finish, judged_start = pl.col("finish_variance_days"), pl.col("start_variance_days")
    judged = pl.coalesce(judged_finish.cast(pl.Float64), judged_start.cast(pl.Float64))
    status = (
        pl.when(pl.col("in_baseline").is_null())
        .then(pl.lit(NOT_IN_BASELINE))
        .when(pl.col("in_plan").is_null())
        .then(pl.lit(REMOVED))
        .when(judged > tolerance_days)
        .then(pl.lit(LATE))
        .when(judged < -tolerance_days)
        .then(pl.lit(AHEAD))
        .when(judged.is_not_null())
        .then(pl.lit(ON_TIME))
        .otherwise(None)
    )
    return joined.select(
        "task_id",
        "baseline_start",
        "baseline_finish",
        "start",
        "finish",
        pl.col("start_variance_days").cast(pl.Int64),
        pl.col("finish_variance_days").cast(pl.Int64),
        pl.col("start_workdays").cast(pl.Float64).alias("start_variance_workdays"),
        pl.col("finish_workdays").cast(pl.Float64).alias("finish_variance_workdays"),
        "baseline_estimate_hours",
        "estimate_hours",
        (pl.col("estimate_hours") - pl.col("baseline_estimate_hours")).alias("estimate_variance_hours"),
        status.alias("status"),
    )


def _workday_shifts(
    frame: pl.DataFrame, pairs: list[tuple[str, str]], calendar: WorkdayCalendar
) -> list[pl.Series]:
    """Working days from each `old` to `new` date column: working days in (old, new], negative when earlier.

    One working-day count over the whole date range serves every row, so the
    calendar is asked once per day rather than once per task.
    """
    epoch = date(1970, 1, 1)
    days = {
        column: frame[column].cast(pl.Int64).to_numpy(allow_copy=True).astype(np.float64)
        for pair in pairs
        for column in pair
    }
    known_values = np.concatenate([v[~np.isnan(v)] for v in days.values()])
    if not known_values.size:
        return [pl.Series([None] * frame.height, dtype=pl.Float64) for _ in pairs]
    lo, hi = int(known_values.min()), int(known_values.max())
    counts = cumulative_workdays(calendar, epoch + timedelta(lo), epoch + timedelta(hi))
    shifts = []
    for new, old in pairs:
        known = ~np.isnan(days[new]) & ~np.isnan(days[old])
        result = np.full(frame.height, np.nan)
        result[known] = (
            counts[days[new][known].astype(np.int64) - lo] - counts[days[old][known].astype(np.int64) - lo]
        )
        shifts.append(pl.Series(result, dtype=pl.Float64).fill_nan(None))
    return shifts
