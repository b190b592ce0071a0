"""The planning engine run over every project in the warehouse: CPM, Monte Carlo, earned value.

Each function reads plans from an open warehouse connection and returns rows
for one output table; the pipeline writes them. A project whose plan cannot
be scheduled (a dependency cycle) is reported, not allowed to stop the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import duckdb
import numpy as np

from models.planning.calendar import WorkCalendar
from models.planning.cpm import schedule
from models.planning.evm import earned_value
from models.planning.forecast import LognormalDurations, PertDurations, simulate
from models.planning.model import Plan
from models.planning.network import CycleError, Network
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
    problems: dict[str, str] = field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _schedulable(plan: Plan) -> bool:
    return any(not t.is_summary and t.actual_finish is None for t in plan.tasks)


def predicted_durations(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[float, float]]:
    """Total-duration P50/P90 per open task from the prediction models (empty before the first scoring)."""
    return {
        task_id: (float(p50), float(p90))
        for task_id, p50, p90 in con.execute(
            """SELECT task_id, duration_p50_days, duration_p90_days FROM task_predictions
               WHERE duration_p50_days IS NOT NULL AND duration_p90_days IS NOT NULL"""
        ).fetchall()
    }


def duration_model(network: Network, predictions: dict[str, tuple[float, float]]):
    """Per-task distributions: the prediction models' P50/P90 where present, three-point PERT elsewhere.

    Returns the sampler and how many tasks use predictions (reported as the forecast method).
    """
    used = [i for i, task_id in enumerate(network.task_ids) if task_id in predictions]
    if not used:
        return PertDurations.from_durations(network.duration), 0
    pert = PertDurations.from_durations(network.duration)
    p50 = network.duration.astype(float).copy()
    p90 = p50.copy()
    for i in used:
        p50[i], p90[i] = predictions[network.task_ids[i]]
        p90[i] = max(p90[i], p50[i])
    lognormal = LognormalDurations.from_p50_p90(p50, p90)
    mask = np.zeros(len(network.task_ids), dtype=bool)
    mask[used] = True

    def sample(rng, runs):
        return np.where(mask, lognormal.sample(rng, runs), pert.sample(rng, runs))

    return sample, len(used)


def project_due_dates(con: duckdb.DuckDBPyConnection) -> dict[str, date | None]:
    return dict(con.execute("SELECT project_key, due_date FROM projects").fetchall())


def plan_portfolio(
    con: duckdb.DuckDBPyConnection,
    calendar: WorkCalendar,
    status_date: date,
    runs: int = FORECAST_RUNS,
) -> PlanningOutputs:
    """Critical path, finish forecast and earned value for every project."""
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
        try:
            network = Network.from_plan(plan)
            cpm = schedule(plan, calendar)
        except (CycleError, ValueError) as error:
            outputs.problems[project_key] = str(error)
            log.warning("project %s cannot be scheduled: %s", project_key, error)
            continue
        durations, predicted = duration_model(network, predictions)
        mc = simulate(network, durations=durations, runs=runs, seed=FORECAST_SEED, calendar=calendar)
        mc_frame = {row["task_id"]: row for row in mc.frame.iter_rows(named=True)}
        early_dates = {r["task_id"]: (r["early_start"], r["early_finish"]) for r in cpm.frame.iter_rows(named=True)}
        for row in cpm.frame.iter_rows(named=True):
            forecast = mc_frame.get(row["task_id"], {})
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
                "criticality_index": forecast.get("criticality_index"),
                "finish_p50": forecast.get("p50_finish"),
                "finish_p85": forecast.get("p85_finish"),
                "finish_p95": forecast.get("p95_finish"),
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
        due_date = due.get(project_key)
        outputs.forecast_rows.append({
            "project_key": project_key,
            "as_of": status_date,
            "method": f"network ({predicted} predicted durations, PERT elsewhere)" if predicted else "network (PERT)",
            "runs": runs,
            "finish_p50": mc.project_finish_date(50),
            "finish_p85": mc.project_finish_date(85),
            "finish_p95": mc.project_finish_date(95),
            "due_date": due_date,
            "probability_on_time": mc.probability_finish_by(due_date) if due_date else None,
            "critical_tasks": int(sum(1 for r in cpm.frame["is_critical"] if r)),
            "computed_at": computed_at,
        })
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
            plan, status_date, hourly_rate=rates.get(project_key) or 0.0,
            worklog_hours_to_date=float(hours_to_date), budget_at_completion=budgets.get(project_key),
            calendar=calendar, project_key=project_key,
        )
        outputs.earned_value_rows.append(dict(value.row(), project_key=project_key, computed_at=computed_at))
    return outputs
