"""Forecast: when a project and its milestones finish, how much gets done by a date, and which tasks will slip.

Nothing here re-implements the planning engine. The finish distribution is
`models.planning.forecast.simulate` run live on the plan `load_plans` builds
(with people's plan edits overlaid), using the same duration model, run count
and seed as the nightly planner (`models.planning.portfolio`), so on an
unedited warehouse the live P50/P85/P95 equal `project_forecasts`. "How many by
date D" is `how_many_by`, resampling the project's weekly throughput.

Choices that shape the numbers:

* The live run's status date is the published forecast's as-of day, so it
  compares with the nightly run; a project the planner has not reached uses
  today in the configured time zone.
* Projects of more than FULL_RUNS_MAX_TASKS tasks are simulated live with
  proportionally fewer runs (at least MIN_LIVE_RUNS), so a page view stays
  around a second; the page shows the run count next to the published one.
* Milestones are open epics and features (summaries: they finish when their
  last leaf does) and open zero-duration tasks. For a summary the engine's own
  milestone is used: a zero-duration task after every leaf of it, simulated
  with exactly the same draws as the project run, so its P85 is the 85th
  percentile of "last leaf done" rather than the latest of the leaves' P85s
  (which would be too early).
* Throughput history is the weekly count of resolved tasks over the chosen
  number of weeks ending at the project's last resolution (so a warehouse that
  stopped syncing does not read as a team that stopped working); the page
  states the window. Counts are capped at the open tasks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from dashboards.data import Query
from dashboards.i18n import t
from models.planning.calendar import WorkCalendar
from models.planning.cpm import display_days
from models.planning.forecast import how_many_by, simulate, when_done
from models.planning.model import Plan, PlanLink, PlanTask
from models.planning.network import CycleError, Network
from models.planning.portfolio import FORECAST_RUNS, FORECAST_SEED, duration_model, predicted_durations
from models.planning.warehouse_plan import load_plans
from warehouse.db import open_reader
from warehouse.settings import Settings

PERCENTILES: Final[tuple[int, ...]] = (50, 85, 95)
THROUGHPUT_PERCENTILES: Final[tuple[int, ...]] = (50, 85)
THROUGHPUT_RUNS: Final = 10_000
THROUGHPUT_SEED: Final = 20_240_601
DEFAULT_HISTORY_WEEKS: Final = 12
DEFAULT_RISK_ROWS: Final = 25
MAX_MILESTONES: Final = 100
TYPE_LABELS: Final[dict[str, str]] = {
    "epic": "forecast.type.epic", "feature": "forecast.type.feature", "task": "common.task",
    "subtask": "forecast.type.subtask", "bug": "forecast.type.bug",
}
"""Label keys of the task types a milestone can have; another type shows as the tool names it."""
FULL_RUNS_MAX_TASKS: Final = 2_000
"""Above this many scheduled tasks the live run uses fewer runs (never under MIN_LIVE_RUNS) to stay interactive."""
MIN_LIVE_RUNS: Final = 500
_MILESTONE_SUFFIX: Final = "\x00finish"

PUBLISHED_SQL: Final = """
SELECT project_key, as_of, method, runs, finish_p50, finish_p85, finish_p95, due_date,
       probability_on_time, critical_tasks, computed_at
FROM project_forecasts
WHERE project_key = $1
"""

OPEN_TASKS_SQL: Final = """
SELECT count(*) AS open_tasks
FROM tasks
WHERE project_key = $1 AND NOT is_deleted AND status_category <> 'done'
"""

# $1 project, $2 weeks. Whole weeks counted back from the project's last resolution day.
THROUGHPUT_SQL: Final = """
WITH daily AS (
    SELECT day, tasks_resolved FROM mart_project_daily WHERE project_key = $1
),
last AS (
    SELECT max(day) FILTER (WHERE tasks_resolved > 0) AS end_day FROM daily
)
SELECT CAST((last.end_day - daily.day) // 7 AS INTEGER) AS weeks_back,
       min(daily.day) AS first_day,
       max(daily.day) AS last_day,
       CAST(sum(daily.tasks_resolved) AS INTEGER) AS resolved
FROM daily, last
WHERE last.end_day IS NOT NULL
  AND daily.day <= last.end_day
  AND daily.day > last.end_day - 7 * CAST($2 AS INTEGER)
GROUP BY 1
ORDER BY 1 DESC
"""

# $1 project, $2 rows. Open tasks by their latest delay prediction, riskiest first.
RISK_SQL: Final = """
WITH open AS (
    SELECT t.task_id, coalesce(t.source_key, t.task_id) AS task_key, t.title, t.url, t.status, t.due_date,
           coalesce(pt.assignee_id, t.assignee_id) AS assignee_id
    FROM tasks AS t
    LEFT JOIN plan_tasks AS pt USING (task_id)
    WHERE t.project_key = $1 AND NOT t.is_deleted AND t.status_category <> 'done'
),
latest AS (
    SELECT tp.task_id, tp.delay_probability, tp.remaining_p50_days, tp.remaining_p90_days, tp.top_factors,
           tp.top_factors_zh, tp.predicted_at
    FROM task_predictions AS tp
    JOIN open USING (task_id)
    WHERE tp.delay_probability IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY tp.task_id ORDER BY tp.predicted_at DESC) = 1
)
SELECT o.task_id, o.task_key, o.title, o.url, o.status,
       coalesce(p.display_name, o.assignee_id) AS assignee,
       o.due_date, l.delay_probability, l.remaining_p50_days, l.remaining_p90_days,
       s.finish_p85, l.top_factors, l.top_factors_zh,
       count(*) OVER () AS ranked_total
FROM open AS o
JOIN latest AS l USING (task_id)
LEFT JOIN people AS p ON p.person_id = o.assignee_id
LEFT JOIN plan_schedule AS s USING (task_id)
ORDER BY l.delay_probability DESC, o.due_date NULLS LAST, o.task_id
LIMIT $2
"""

MILESTONE_INFO_SQL: Final = """
SELECT task_id, coalesce(source_key, task_id) AS task_key, title, type_category, due_date
FROM tasks
WHERE list_contains($1::VARCHAR[], task_id)
"""


class NotSchedulable(ValueError):
    """The project's plan has a dependency loop (or another reason the engine refuses it)."""


@dataclass(frozen=True)
class ProjectSimulation:
    """The live Monte Carlo of one project: finish distribution, percentiles and milestones."""

    project_key: str
    status_date: date
    runs: int
    predicted_tasks: int
    distribution: pl.DataFrame
    """day, runs finishing that day, share of runs finished by that day."""
    finish: dict[int, date]
    due_date: date | None
    probability_on_time: float | None
    milestones: pl.DataFrame
    """task_id, task_key, title, type_category, p50 / p85 / p95 finish, due_date, probability_on_time."""


@dataclass(frozen=True)
class ThroughputForecast:
    """How many of the open tasks get done by a date, from resampled weekly throughput."""

    open_tasks: int
    start: date
    when: date
    weeks: pl.DataFrame
    """first_day, last_day, resolved per history week, oldest first."""
    done_by: dict[int, int]
    """{percentile: tasks done by `when` in at least that share of runs}, capped at `open_tasks`."""
    all_done: dict[int, date] | None
    """When every open task is done, or None when the history finished nothing."""

    def share(self, p: int) -> float | None:
        return None if self.open_tasks == 0 else self.done_by[p] / self.open_tasks

    @property
    def mean_weekly(self) -> float:
        return float(self.weeks["resolved"].mean()) if self.weeks.height else 0.0


# ------------------------------------------------------------------ queries


def published_forecast(query: Query, project_key: str) -> dict[str, Any] | None:
    """The nightly planner's row in `project_forecasts`, or None before its first run."""
    frame = query(PUBLISHED_SQL, [project_key])
    return None if frame.is_empty() else frame.row(0, named=True)


def today_in(settings: Settings) -> date:
    return datetime.now(ZoneInfo(settings.calendar.timezone)).date()


def status_date_for(published: dict[str, Any] | None, settings: Settings) -> date:
    """The nightly run's as-of day when there is one, so live and published numbers compare."""
    if published and published.get("as_of"):
        value = published["as_of"]
        return value.date() if isinstance(value, datetime) else value
    return today_in(settings)


def risk_ranking(query: Query, project_key: str, rows: int = DEFAULT_RISK_ROWS) -> pl.DataFrame:
    """Open tasks of a project, highest delay probability first, at most `rows` (ranked_total says how many exist)."""
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    return query(RISK_SQL, [project_key, int(rows)])


# ------------------------------------------------------------------ live Monte Carlo


def _with_summary_milestones(plan: Plan) -> tuple[Plan, dict[str, str]]:
    """The plan plus a zero-duration task after each open summary; returns it and milestone id → summary id."""
    extra: list[PlanTask] = []
    links: list[PlanLink] = []
    owner: dict[str, str] = {}
    for task in plan.tasks:
        if task.is_summary and task.actual_finish is None:
            milestone_id = task.task_id + _MILESTONE_SUFFIX
            extra.append(PlanTask(task_id=milestone_id, name=task.name, duration_days=0.0, is_milestone=True,
                                  project_key=task.project_key))
            links.append(PlanLink(task.task_id, milestone_id, "FS", 0.0))
            owner[milestone_id] = task.task_id
    return replace(plan, tasks=[*plan.tasks, *extra], links=[*plan.links, *links]), owner


class _Padded:
    """The same draws as `durations` (same random stream), with `extra` zero-duration columns appended.

    It keeps `remaining` (which draws already are days still to do), padded with False for the
    milestone columns, so `simulate` treats started tasks as the unpadded model says.
    """

    def __init__(self, durations: Any, extra: int) -> None:
        self._draw = durations.sample if hasattr(durations, "sample") else durations
        self._extra = extra
        remaining = getattr(durations, "remaining", None)
        if remaining is not None:
            self.remaining = np.concatenate([np.asarray(remaining, dtype=bool), np.zeros(extra, dtype=bool)])

    def __call__(self, rng: np.random.Generator, runs: int) -> np.ndarray:
        base = np.asarray(self._draw(rng, runs), dtype=np.float64)
        return np.hstack([base, np.zeros((base.shape[0], self._extra))])


def _probability_by(finishes: np.ndarray, calendar: WorkCalendar, due: date | None) -> float | None:
    """Share of runs whose (milestone) finish day is on or before `due`."""
    if due is None:
        return None
    days = display_days(finishes, finishes, np.zeros_like(finishes))[1]
    return float(np.mean(days <= calendar.index_of(due, "backward")))


def _distribution(days: np.ndarray, calendar: WorkCalendar) -> pl.DataFrame:
    values, counts = np.unique(days, return_counts=True)
    dates = calendar.date_of(values).astype("datetime64[D]")
    return pl.DataFrame({"day": dates, "runs": counts.astype(np.int64)}).with_columns(
        pl.col("day").cast(pl.Date), (pl.col("runs").cum_sum() / int(counts.sum())).alias("share_done")
    )


def live_runs(n_tasks: int, runs: int = FORECAST_RUNS) -> int:
    """The nightly run count for ordinary projects, fewer for very large ones (cost grows with tasks × runs)."""
    if n_tasks <= FULL_RUNS_MAX_TASKS:
        return runs
    return max(MIN_LIVE_RUNS, runs * FULL_RUNS_MAX_TASKS // n_tasks)


def simulate_project(
    settings: Settings,
    project_key: str,
    status_date: date,
    due_date: date | None,
    runs: int | None = None,
    seed: int = FORECAST_SEED,
) -> ProjectSimulation | None:
    """Monte Carlo of one project's plan as it stands now (edits included); None when nothing is left to schedule.

    `runs` defaults to `live_runs` of the project's size.

    Raises NotSchedulable for a dependency loop, with the engine's message naming the tasks.
    """
    calendar = WorkCalendar.from_settings(settings)
    with open_reader(settings, live_edits=True) as con:
        plan = load_plans(con, status_date, calendar.workdays_between, [project_key]).get(project_key)
        if plan is None or not any(not t.is_summary and t.actual_finish is None for t in plan.tasks):
            return None
        predictions = predicted_durations(con)
        try:
            network = Network.from_plan(plan)
            runs = runs or live_runs(network.n_tasks)
            durations, predicted = duration_model(network, predictions)
            result = simulate(network, durations=durations, runs=runs, seed=seed, calendar=calendar,
                              percentiles=PERCENTILES)
            augmented, owner = _with_summary_milestones(plan)
            open_leaf_milestones = [
                task.task_id for task in plan.tasks
                if not task.is_summary and task.actual_finish is None and task.duration_days == 0
            ]
            milestone_rows: list[dict[str, Any]] = []
            if owner or open_leaf_milestones:
                aug_network = Network.from_plan(augmented)
                aug = simulate(aug_network, durations=_Padded(durations, len(owner)), runs=runs, seed=seed,
                               calendar=calendar, percentiles=PERCENTILES)
                due_of = {task.task_id: task.deadline for task in plan.tasks}
                for milestone_id in [*owner, *open_leaf_milestones]:
                    task_id = owner.get(milestone_id, milestone_id)
                    row: dict[str, Any] = {"task_id": task_id}
                    for p in PERCENTILES:
                        row[f"p{p}"] = aug.finish_date(milestone_id, p)
                    finishes = aug.finishes[aug_network.index[milestone_id]].astype(np.float64)
                    row["probability_on_time"] = _probability_by(finishes, calendar, due_of.get(task_id))
                    milestone_rows.append(row)
        except CycleError as error:
            raise NotSchedulable(str(error)) from None
        info = pl.from_arrow(
            con.sql(MILESTONE_INFO_SQL, params=[[row["task_id"] for row in milestone_rows]]).to_arrow_table()
        )
    milestones = _milestone_frame(milestone_rows, info)
    return ProjectSimulation(
        project_key=project_key,
        status_date=status_date,
        runs=result.runs,
        predicted_tasks=predicted,
        distribution=_distribution(result.project_finish_day, calendar),
        finish={p: result.project_finish_date(p) for p in PERCENTILES},
        due_date=due_date,
        probability_on_time=result.probability_finish_by(due_date) if due_date else None,
        milestones=milestones,
    )


def _milestone_frame(rows: list[dict[str, Any]], info: pl.DataFrame) -> pl.DataFrame:
    schema = {"task_id": pl.String, **{f"p{p}": pl.Date for p in PERCENTILES}, "probability_on_time": pl.Float64}
    frame = pl.DataFrame(rows, schema=schema)
    return (
        frame.join(info, on="task_id", how="left")
        .select("task_id", "task_key", "title", "type_category", *[f"p{p}" for p in PERCENTILES], "due_date",
                "probability_on_time")
        .sort("p85", "p50", "task_key")
    )


# ------------------------------------------------------------------ throughput


def throughput_history(query: Query, project_key: str, weeks: int = DEFAULT_HISTORY_WEEKS) -> pl.DataFrame:
    """Resolved tasks per week over `weeks` weeks ending at the project's last resolution, oldest first."""
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, got {weeks}")
    return query(THROUGHPUT_SQL, [project_key, int(weeks)])


def open_tasks(query: Query, project_key: str) -> int:
    return int(query(OPEN_TASKS_SQL, [project_key])["open_tasks"][0])


def forecast_throughput(open_count: int, weeks: pl.DataFrame, start: date, when: date) -> ThroughputForecast:
    """`how_many_by` on the weekly history, capped at the open tasks; `when_done` for all of them.

    Raises ValueError when there is no history at all (the page says so).
    """
    history = weeks["resolved"].to_numpy().astype(np.float64) if weeks.height else np.zeros(0)
    if history.size == 0:
        raise ValueError("no resolved tasks in this project's history")
    raw = how_many_by(when, history, runs=THROUGHPUT_RUNS, seed=THROUGHPUT_SEED, start=start,
                      percentiles=THROUGHPUT_PERCENTILES)
    done_by = {p: min(int(count), open_count) for p, count in raw.items()}
    all_done = None
    if history.max() > 0:
        all_done = when_done(open_count, history, runs=THROUGHPUT_RUNS, seed=THROUGHPUT_SEED, start=start,
                             percentiles=THROUGHPUT_PERCENTILES)
    return ThroughputForecast(open_count, start, when, weeks.select("first_day", "last_day", "resolved"),
                              done_by, all_done)


# ------------------------------------------------------------------ readable factors


def readable_factors(factors: Sequence[str] | None, lang: str | None = None) -> str:
    """All factors of one task on one line, strongest first (the model writes each as a sentence per language)."""
    return t("forecast.factor.separator", lang).join(factors or [])


def factors_in(row: Mapping[str, Any], lang: str) -> Sequence[str] | None:
    """The task's factors in `lang`: Chinese from `top_factors_zh`, English (or rows scored before it existed)."""
    return (row.get("top_factors_zh") if lang == "zh" else None) or row.get("top_factors")


# ------------------------------------------------------------------ forecast accuracy (back-test)


def forecast_accuracy(settings: Settings, project_key: str) -> dict[str, Any]:
    """`lodestar eval forecasts --project KEY` on the published snapshot: how right past forecasts were.

    It replays a forecast every 2 weeks of the project's history (seconds, not milliseconds), so
    the page runs it on request and caches it per snapshot.
    """
    from models.planning.backtest import evaluate_forecasts

    with open_reader(settings) as con:
        return evaluate_forecasts(con, WorkCalendar.from_settings(settings), project_key)
