"""The planning engine run over every project in the warehouse: CPM, Monte Carlo, earned value.

Each function reads plans from an open warehouse connection and returns rows
for one output table; the pipeline writes them. Every stage of every project
(``schedule``, ``forecast``, ``earned_value``) runs on its own: when one fails
(a dependency cycle, a forecast running past the calendar's end, anything else)
that project gets a ``planning_errors`` row with outcome ``failed`` naming the
stage and the error, and every other project and stage goes on. Source values
the engine had to drop or cap (``models.planning.bounds``) are rows with outcome
``adjusted``: the project was planned without them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import duckdb
import numpy as np

from models.planning.bounds import MAX_TASK_WORKDAYS, date_in_range, out_of_range_reason
from models.planning.calendar import WorkCalendar
from models.planning.cpm import schedule
from models.planning.evm import earned_value
from models.planning.forecast import PertDurations, PlanPredictionDurations, blend, simulate
from models.planning.model import Plan
from models.planning.network import Network
from models.planning.warehouse_plan import load_plans

log = logging.getLogger(__name__)
FORECAST_RUNS = 2_000
FORECAST_SEED = 20_240_601


@dataclass
class PlanningOutputs:
    schedule_rows: list[dict] = field(default_factory=list)
    violation_rows: list[dict] = field(default_factory=list)
    forecast_rows: list[dict] = field(default_factory=list)
    earned_value_rows: list[dict] = field(default_factory=list)
    error_rows: list[dict] = field(default_factory=list)
    """Rows for `planning_errors`: a stage that failed for a project, or a value dropped or capped."""

    @property
    def failures(self) -> dict[str, dict[str, str]]:
        """Failed stages per project: ``{project_key: {stage: error message}}``."""
        failed: dict[str, dict[str, str]] = {}
        for row in self.error_rows:
            if row["outcome"] == "failed":
                failed.setdefault(row["project_key"], {})[row["stage"]] = row["message"]
        return failed

    @property
    def adjusted(self) -> int:
        return sum(1 for row in self.error_rows if row["outcome"] == "adjusted")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _schedulable(plan: Plan) -> bool:
    return any(not t.is_summary and t.actual_finish is None for t in plan.tasks)


class PredictedDurations(dict):
    """``{task_id: (P50, P90)}`` of predicted *total* working days, and in ``remaining`` the
    ``{task_id: (P50, P90)}`` of predicted working days still to do (for started tasks)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.remaining: dict[str, tuple[float, float]] = {}


def _pair(p50, p90) -> tuple[float, float] | None:
    if p50 is None or p90 is None or not (math.isfinite(p50) and math.isfinite(p90)):
        return None
    p50 = min(max(float(p50), 0.0), MAX_TASK_WORKDAYS)
    return p50, min(max(float(p90), p50), MAX_TASK_WORKDAYS)


def predicted_durations(con: duckdb.DuckDBPyConnection) -> PredictedDurations:
    """Total-duration P50/P90 per open task from the prediction models (empty before the first scoring),
    with the remaining-days P50/P90 in ``.remaining``.

    Non-finite values are skipped (the task falls back to PERT), and all are bounded by
    ``MAX_TASK_WORKDAYS`` whatever the table holds, so a stale prediction cannot push a
    forecast past the calendar.
    """
    predictions = PredictedDurations()
    for task_id, p50, p90, r50, r90 in con.execute(
        """SELECT task_id, duration_p50_days, duration_p90_days, remaining_p50_days, remaining_p90_days
           FROM task_predictions
           WHERE duration_p50_days IS NOT NULL AND duration_p90_days IS NOT NULL"""
    ).fetchall():
        total = _pair(p50, p90)
        if total is not None:
            predictions[task_id] = total
            remaining = _pair(r50, r90)
            if remaining is not None:
                predictions.remaining[task_id] = remaining
    return predictions


def _planned_remaining(task) -> float:
    """Working days a started task still has by the plan (``cpm.prepare_inputs``' rule)."""
    if task.remaining_days is not None:
        return max(float(task.remaining_days), 0.0)
    return max(float(task.duration_days or 0.0) * (1.0 - min(max(task.percent_complete, 0.0), 100.0) / 100.0), 0.0)


def duration_model(network: Network, predictions: dict[str, tuple[float, float]]):
    """Per-task distributions: plan and prediction blended where there is a prediction, PERT elsewhere.

    The rule is ``models.planning.forecast.blend`` (documented in that module): a lognormal
    around the geometric mean of the planned and predicted duration, as wide as the model's
    P90/P50 and the disagreement make it. A started task (actual start, no actual finish)
    with a remaining-days prediction (``PredictedDurations.remaining``) draws its
    *remaining* days, blended with the plan's remaining days, and ``simulate`` uses them as
    they are. Draws are capped at ``MAX_TASK_WORKDAYS``. Returns the sampler and how many
    tasks use predictions (reported as the forecast method).
    """
    used = [i for i, task_id in enumerate(network.task_ids) if task_id in predictions]
    pert = PertDurations.from_durations(network.duration)
    if not used:
        return pert, 0
    remaining_predictions = getattr(predictions, "remaining", {})
    n = len(network.task_ids)
    plan = network.duration.astype(float).copy()
    p50, p90 = plan.copy(), plan.copy()
    mask = np.zeros(n, dtype=bool)
    remaining = np.zeros(n, dtype=bool)
    for i in used:
        task_id, task = network.task_ids[i], network.tasks[i]
        mask[i] = True
        started = task.actual_start is not None and task.actual_finish is None
        if started and task_id in remaining_predictions:
            remaining[i] = True
            plan[i] = _planned_remaining(task)
            p50[i], p90[i] = remaining_predictions[task_id]
        else:
            p50[i], p90[i] = predictions[task_id]
    milestone = (network.duration <= 0) & ~remaining
    median, sigma = blend(plan, p50, p90)
    median[milestone] = 0.0
    return PlanPredictionDurations(median, sigma, mask, remaining, fallback=pert), len(used)


def project_due_dates(con: duckdb.DuckDBPyConnection) -> dict[str, date | None]:
    return dict(con.execute("SELECT project_key, due_date FROM projects").fetchall())


def _error_row(project_key: str, stage: str, outcome: str, message: str, computed_at: datetime,
               task_id: str | None = None) -> dict:
    return {"project_key": project_key, "stage": stage, "outcome": outcome, "task_id": task_id,
            "message": message, "computed_at": computed_at}


def _attempt(outputs: PlanningOutputs, project_key: str, stage: str, computed_at: datetime, work: Callable,
             *args):
    """``work(*args)`` as one stage of one project; on any error record a `failed` row and return None."""
    try:
        return work(*args)
    except Exception as error:  # one project's failure must never stop the others
        message = str(error) if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"
        if isinstance(error, ValueError):
            log.warning("planning %s failed for project %s: %s", stage, project_key, message)
        else:
            log.exception("planning %s failed for project %s", stage, project_key)
        outputs.error_rows.append(_error_row(project_key, stage, "failed", message or type(error).__name__,
                                             computed_at))
        return None


def _schedule(plan: Plan, calendar: WorkCalendar):
    network = Network.from_plan(plan)
    cpm = schedule(network, calendar)
    rows = list(cpm.frame.iter_rows(named=True))
    return network, cpm, rows


def _forecast(network: Network, predictions, calendar: WorkCalendar, runs: int, due_date: date | None):
    """Per-task forecast columns and the project's forecast row (without the bookkeeping keys)."""
    durations, predicted = duration_model(network, predictions)
    mc = simulate(network, durations=durations, runs=runs, seed=FORECAST_SEED, calendar=calendar)
    per_task = {row["task_id"]: row for row in mc.frame.iter_rows(named=True)}
    row = {
        "method": f"network ({predicted} predicted durations, PERT elsewhere)" if predicted else "network (PERT)",
        "runs": runs,
        "finish_p50": mc.project_finish_date(50),
        "finish_p85": mc.project_finish_date(85),
        "finish_p95": mc.project_finish_date(95),
        "due_date": due_date,
        "probability_on_time": mc.probability_finish_by(due_date) if due_date else None,
    }
    return per_task, row


def _earned_value(con, plan: Plan, project_key: str, status_date: date, calendar: WorkCalendar,
                  early_dates: dict, rate: float | None, budget: float | None) -> dict:
    for task in plan.tasks:
        # Tools without planned dates (GitLab, GitHub) get the CPM dates as the plan PV is measured against.
        if task.start is None and task.finish is None and task.task_id in early_dates:
            task.start, task.finish = early_dates[task.task_id]
    hours_to_date = con.execute(
        """SELECT coalesce(sum(w.hours), 0) FROM worklogs w JOIN tasks t USING (task_id)
           WHERE t.project_key = ? AND w.started_at::DATE <= ?""",
        [project_key, status_date],
    ).fetchall()[0][0]
    value = earned_value(
        plan, status_date, hourly_rate=rate or 0.0, worklog_hours_to_date=float(hours_to_date),
        budget_at_completion=budget, calendar=calendar, project_key=project_key,
    )
    return value.row()


def plan_portfolio(
    con: duckdb.DuckDBPyConnection,
    calendar: WorkCalendar,
    status_date: date,
    runs: int = FORECAST_RUNS,
) -> PlanningOutputs:
    """Critical path, finish forecast and earned value for every project, each stage failing on its own."""
    plans = load_plans(con, status_date, calendar.workdays_between)
    due = project_due_dates(con)
    predictions = predicted_durations(con)
    rates = dict(con.execute("SELECT project_key, hourly_rate FROM projects").fetchall())
    budgets = dict(con.execute("SELECT project_key, budget FROM projects").fetchall())
    outputs = PlanningOutputs()
    computed_at = _now()
    for project_key, plan in sorted(plans.items()):
        if not _schedulable(plan):
            continue
        for note in plan.adjustments:
            outputs.error_rows.append(_error_row(project_key, "plan", "adjusted", note.message, computed_at,
                                                 note.task_id))
        due_date = due.get(project_key)
        if not date_in_range(due_date):
            outputs.error_rows.append(_error_row(project_key, "plan", "adjusted",
                                                 out_of_range_reason("project due_date", due_date), computed_at))
            due_date = None
        scheduled = _attempt(outputs, project_key, "schedule", computed_at, _schedule, plan, calendar)
        if scheduled is None:
            continue
        network, cpm, cpm_rows = scheduled
        forecast = _attempt(outputs, project_key, "forecast", computed_at, _forecast,
                            network, predictions, calendar, runs, due_date)
        per_task, forecast_row = forecast if forecast is not None else ({}, None)
        for row in cpm_rows:
            task_forecast = per_task.get(row["task_id"], {})
            outputs.schedule_rows.append({
                "project_key": project_key,
                "task_id": row["task_id"],
                "early_start": row["early_start"],
                "early_finish": row["early_finish"],
                "late_start": row["late_start"],
                "late_finish": row["late_finish"],
                "total_float_days": row["total_float_days"],
                "free_float_days": row["free_float_days"],
                "is_critical": row["is_critical"],
                "criticality_index": task_forecast.get("criticality_index"),
                "finish_p50": task_forecast.get("p50_finish"),
                "finish_p85": task_forecast.get("p85_finish"),
                "finish_p95": task_forecast.get("p95_finish"),
                "computed_at": computed_at,
            })
        for violation in cpm.violations:
            outputs.violation_rows.append({
                "project_key": project_key,
                "task_id": violation.task_id,
                "constraint_kind": violation.constraint,
                "constraint_date": violation.date,
                "late_by_days": float(violation.days),
                "computed_at": computed_at,
            })
        if forecast_row is not None:
            outputs.forecast_rows.append({
                "project_key": project_key, "as_of": status_date, **forecast_row,
                "critical_tasks": int(sum(1 for r in cpm_rows if r["is_critical"])), "computed_at": computed_at,
            })
        early_dates = {r["task_id"]: (r["early_start"], r["early_finish"]) for r in cpm_rows}
        value = _attempt(outputs, project_key, "earned_value", computed_at, _earned_value,
                         con, plan, project_key, status_date, calendar, early_dates, rates.get(project_key),
                         budgets.get(project_key))
        if value is not None:
            outputs.earned_value_rows.append(dict(value, project_key=project_key, computed_at=computed_at))
    return outputs
