"""One project's schedule shaped for a Gantt chart: WBS rows, bar dates, critical tasks, baselines, whiskers.

The plan comes from the planning engine (`load_plans` on a live-edits
connection, so a date changed in the plan editor a moment ago is already in
it), and the critical path is recomputed here with `cpm.schedule` rather than
read from `plan_schedule`, which only changes when a sync runs. Everything
after that is plain polars over one row per task, so filters, collapsing and
the row cap are cheap enough to rerun on every widget change.

Bar dates: "plan" bars use the planned dates (people's edits first, then the
tool's), and fall back to the CPM dates for tasks the tools never dated;
"schedule" bars are the CPM early dates. Summary rows span their leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import streamlit as st

from dashboards import safe_text
from models.planning.calendar import WorkCalendar
from models.planning.cpm import schedule
from models.planning.model import Plan
from models.planning.network import CycleError
from models.planning.warehouse_plan import load_plans
from models.planning.wbs import ancestors, rollup
from warehouse.db import open_reader
from warehouse.settings import Settings

CACHE_TTL_SECONDS: Final = 60
ROW_CAP: Final = 400
"""Rows drawn at most: a taller chart is slow in the browser and unreadable anyway."""
DEFAULT_ROW_TARGET: Final = 250
"""The opening WBS depth is the deepest one that shows no more rows than this."""
LINK_CAP: Final = 300
BAR_MODES: Final[tuple[str, ...]] = ("plan", "schedule")
UNASSIGNED: Final = ""
"""Stands for "nobody" in the person filter (assignee_id is null)."""
INDENT: Final = "·\u2002"
"""Marks one WBS level; Vega drops leading spaces, so plain indentation would not show."""

TASK_SCHEMA: Final[dict[str, pl.DataType]] = {
    "task_id": pl.String,
    "task_key": pl.String,
    "name": pl.String,
    "parent_id": pl.String,
    "wbs": pl.String,
    "depth": pl.Int64,
    "is_summary": pl.Boolean,
    "is_milestone": pl.Boolean,
    "type_category": pl.String,
    "status_category": pl.String,
    "assignee_id": pl.String,
    "estimate_hours": pl.Float64,
    "duration_days": pl.Float64,
    "tool_start": pl.Date,
    "tool_finish": pl.Date,
    "planned_start": pl.Date,
    "planned_finish": pl.Date,
    "early_start": pl.Date,
    "early_finish": pl.Date,
    "late_finish": pl.Date,
    "total_float_days": pl.Float64,
    "is_critical": pl.Boolean,
    "plan_start": pl.Date,
    "plan_finish": pl.Date,
    "phase_id": pl.String,
    "p50_finish": pl.Date,
    "p90_finish": pl.Date,
    "whisker_source": pl.String,
}
LINK_SCHEMA: Final[dict[str, pl.DataType]] = {
    "from_task_id": pl.String,
    "to_task_id": pl.String,
    "dependency": pl.String,
    "lag_days": pl.Float64,
}
ANCESTOR_SCHEMA: Final[dict[str, pl.DataType]] = {"task_id": pl.String, "ancestor_id": pl.String, "distance": pl.Int64}


@dataclass(frozen=True)
class ProjectSchedule:
    """A project's tasks in WBS order with everything the Gantt and the plan editor draw."""

    project_key: str
    status_date: date
    tasks: pl.DataFrame
    links: pl.DataFrame
    ancestors: pl.DataFrame
    finish: date | None = None
    critical_count: int = 0
    problem: str | None = None
    """Why the CPM could not run (a dependency cycle from a tool); bars then use planned dates only."""
    task_count: int = 0

    @property
    def is_empty(self) -> bool:
        return self.tasks.is_empty()


def work_calendar(settings: Settings) -> WorkCalendar:
    """The company's working days, as the pipeline schedules with them."""
    return WorkCalendar.from_settings(settings)


def today(settings: Settings) -> date:
    return datetime.now(ZoneInfo(settings.calendar.timezone)).date()


def status_date_for(con, project_key: str, fallback: date) -> date:
    """The status date the last planning run used for the project, so live CPM agrees with `plan_schedule`."""
    rows = con.execute("SELECT max(as_of) FROM project_forecasts WHERE project_key = ?", [project_key]).fetchall()
    value = rows[0][0] if rows else None
    return value if isinstance(value, date) else fallback


def load_project_plan(con, project_key: str, status_date: date, calendar: WorkCalendar) -> Plan | None:
    return load_plans(con, status_date, calendar.workdays_between, [project_key]).get(project_key)


def _plan_frame(plan: Plan) -> pl.DataFrame:
    tasks = plan.tasks
    return pl.DataFrame(
        {
            "task_id": [t.task_id for t in tasks],
            "name": [t.name for t in tasks],
            "parent_id": [t.parent_id for t in tasks],
            "is_summary": [t.is_summary for t in tasks],
            "is_milestone": [not t.is_summary and (t.is_milestone or t.duration_days == 0) for t in tasks],
            "assignee_id": [t.assignee_id for t in tasks],
            "estimate_hours": [t.estimate_hours for t in tasks],
            "duration_days": [float(t.duration_days) for t in tasks],
            "planned_start": [t.start for t in tasks],
            "planned_finish": [t.finish for t in tasks],
            "done": [t.actual_finish is not None for t in tasks],
        },
        schema={
            "task_id": pl.String, "name": pl.String, "parent_id": pl.String, "is_summary": pl.Boolean,
            "is_milestone": pl.Boolean, "assignee_id": pl.String, "estimate_hours": pl.Float64,
            "duration_days": pl.Float64, "planned_start": pl.Date, "planned_finish": pl.Date, "done": pl.Boolean,
        },
    )


def _cpm_frame(plan: Plan, calendar: WorkCalendar) -> tuple[pl.DataFrame, date | None, str | None]:
    """Early/late dates and the critical flag per leaf, the project finish, or the reason CPM failed."""
    empty = pl.DataFrame(schema={
        "task_id": pl.String, "early_start": pl.Date, "early_finish": pl.Date, "late_finish": pl.Date,
        "total_float_days": pl.Float64, "is_critical": pl.Boolean,
    })
    if not any(not t.is_summary for t in plan.tasks):
        return empty, None, None
    try:
        result = schedule(plan, calendar)
        frame = result.frame.select(
            "task_id", "early_start", "early_finish", "late_finish", "total_float_days", "is_critical"
        )
        return frame, result.project_finish_date, None
    except (CycleError, ValueError) as error:
        return empty, None, str(error)


def whisker_dates(
    predictions: pl.DataFrame, calendar: WorkCalendar, status_date: date
) -> pl.DataFrame:
    """P50/P90 finish dates from the models' remaining working days, counted from the status date.

    The duration model defines remaining days as working days after its as-of
    day, so the finish is `add_workdays(status_date, ceil(remaining))`.
    """
    schema = {"task_id": pl.String, "model_p50": pl.Date, "model_p90": pl.Date}
    if predictions.is_empty():
        return pl.DataFrame(schema=schema)
    base = int(calendar.index_of(status_date))
    p50 = np.ceil(predictions["remaining_p50_days"].fill_null(0.0).to_numpy().clip(min=0.0)).astype(np.int64)
    p90 = np.ceil(predictions["remaining_p90_days"].fill_null(0.0).to_numpy().clip(min=0.0)).astype(np.int64)
    p90 = np.maximum(p90, p50)
    return pl.DataFrame(
        {
            "task_id": predictions["task_id"],
            "model_p50": pl.Series(np.asarray(calendar.date_of(base + p50), dtype="datetime64[D]")).cast(pl.Date),
            "model_p90": pl.Series(np.asarray(calendar.date_of(base + p90), dtype="datetime64[D]")).cast(pl.Date),
        },
        schema=schema,
    )


def task_rows(
    plan: Plan,
    cpm: pl.DataFrame,
    info: pl.DataFrame,
    whiskers: pl.DataFrame,
    simulated: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One row per task in WBS (outline) order, and the (task, ancestor) pairs used for roll-ups and filters.

    `info` has task_id, task_key, type_category, status_category; `whiskers`
    the model's P50/P90 finish; `simulated` the pipeline's Monte Carlo
    finish_p50/finish_p95 per task, used where the model has no prediction.
    """
    outline = rollup(plan).select("task_id", "wbs", "depth").with_row_index("row")
    pairs = ancestors(plan).cast(ANCESTOR_SCHEMA)  # type: ignore[arg-type]
    frame = (
        outline.join(_plan_frame(plan), on="task_id", how="left")
        .join(info, on="task_id", how="left")
        .join(cpm, on="task_id", how="left")
        .with_columns(
            plan_start=pl.coalesce("planned_start", "early_start"),
            plan_finish=pl.coalesce("planned_finish", "early_finish"),
            is_critical=pl.col("is_critical").fill_null(False) & ~pl.col("is_summary"),
        )
        .with_columns(plan_finish=pl.max_horizontal("plan_start", "plan_finish"))
    )
    leaf_dates = frame.filter(~pl.col("is_summary")).select(
        "task_id", "plan_start", "plan_finish", "early_start", "early_finish"
    )
    spans = (
        pairs.join(leaf_dates, on="task_id")
        .group_by("ancestor_id")
        .agg(
            span_plan_start=pl.col("plan_start").min(),
            span_plan_finish=pl.col("plan_finish").max(),
            span_early_start=pl.col("early_start").min(),
            span_early_finish=pl.col("early_finish").max(),
        )
        .rename({"ancestor_id": "task_id"})
    )
    roots = (
        pairs.sort("distance", descending=True)
        .group_by("task_id", maintain_order=True)
        .agg(root_id=pl.col("ancestor_id").first())
    )
    frame = (
        frame.join(spans, on="task_id", how="left")
        .join(roots, on="task_id", how="left")
        .with_columns(
            plan_start=pl.when(pl.col("is_summary")).then(pl.coalesce("span_plan_start", "plan_start"))
            .otherwise("plan_start"),
            plan_finish=pl.when(pl.col("is_summary")).then(pl.coalesce("span_plan_finish", "plan_finish"))
            .otherwise("plan_finish"),
            early_start=pl.when(pl.col("is_summary")).then("span_early_start").otherwise("early_start"),
            early_finish=pl.when(pl.col("is_summary")).then("span_early_finish").otherwise("early_finish"),
            phase_id=pl.coalesce(
                "root_id", pl.when(pl.col("is_summary")).then("task_id").otherwise(None)
            ),
        )
        .join(whiskers, on="task_id", how="left")
        .join(simulated, on="task_id", how="left")
    )
    open_leaf = ~pl.col("is_summary") & ~pl.col("done")
    has_model = pl.col("model_p50").is_not_null()
    has_sim = pl.col("finish_p50").is_not_null()
    frame = frame.with_columns(
        tool_start=pl.col("planned_start"),
        tool_finish=pl.col("planned_finish"),
        task_key=pl.coalesce("task_key", "task_id"),
        p50_finish=pl.when(open_leaf & has_model).then("model_p50")
        .when(open_leaf & has_sim).then("finish_p50"),
        p90_finish=pl.when(open_leaf & has_model).then("model_p90")
        .when(open_leaf & has_sim).then(pl.max_horizontal("finish_p50", "finish_p95")),
        whisker_source=pl.when(open_leaf & has_model).then(pl.lit("model"))
        .when(open_leaf & has_sim).then(pl.lit("simulation")),
    )
    return frame.sort("row").select(list(TASK_SCHEMA)).cast(TASK_SCHEMA), pairs  # type: ignore[arg-type]


def project_schedule(con, project_key: str, calendar: WorkCalendar, status_date: date) -> ProjectSchedule:
    """The project's plan (with live edits when `con` overlays them), its CPM and its forecasts, as rows."""
    plan = load_project_plan(con, project_key, status_date, calendar)
    if plan is None:
        return ProjectSchedule(
            project_key, status_date, pl.DataFrame(schema=TASK_SCHEMA), pl.DataFrame(schema=LINK_SCHEMA),
            pl.DataFrame(schema=ANCESTOR_SCHEMA),
        )
    cpm, finish, problem = _cpm_frame(plan, calendar)
    info = pl.from_arrow(con.sql(
        """SELECT task_id, source_key AS task_key, type_category, status_category
           FROM tasks WHERE project_key = ? AND NOT is_deleted""",
        params=[project_key],
    ).to_arrow_table())
    predictions = pl.from_arrow(con.sql(
        """SELECT p.task_id, p.remaining_p50_days, p.remaining_p90_days
           FROM task_predictions p JOIN tasks t USING (task_id)
           WHERE t.project_key = ?
           QUALIFY row_number() OVER (PARTITION BY p.task_id ORDER BY p.predicted_at DESC) = 1""",
        params=[project_key],
    ).to_arrow_table())
    simulated = pl.from_arrow(con.sql(
        "SELECT task_id, finish_p50, finish_p95 FROM plan_schedule WHERE project_key = ?",
        params=[project_key],
    ).to_arrow_table()).cast({"task_id": pl.String, "finish_p50": pl.Date, "finish_p95": pl.Date})
    rows, pairs = task_rows(
        plan, cpm, info.cast({c: pl.String for c in info.columns}),  # type: ignore[arg-type]
        whisker_dates(predictions, calendar, status_date), simulated,
    )
    links = pl.DataFrame(
        {
            "from_task_id": [link.predecessor_id for link in plan.links],
            "to_task_id": [link.successor_id for link in plan.links],
            "dependency": [link.type for link in plan.links],
            "lag_days": [float(link.lag_days) for link in plan.links],
        },
        schema=LINK_SCHEMA,
    )
    return ProjectSchedule(
        project_key=project_key,
        status_date=status_date,
        tasks=rows,
        links=links,
        ancestors=pairs,
        finish=finish,
        critical_count=int(rows["is_critical"].sum()),
        problem=problem,
        task_count=rows.height,
    )


def load_project_schedule(settings: Settings, project_key: str) -> ProjectSchedule:
    """`project_schedule` on the published snapshot with everyone's edits overlaid."""
    calendar = work_calendar(settings)
    with open_reader(settings, live_edits=True) as con:
        status_date = status_date_for(con, project_key, today(settings))
        return project_schedule(con, project_key, calendar, status_date)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def cached_project_schedule(_settings: Settings, snapshot: str, edits: int, project_key: str) -> ProjectSchedule:
    """Cached per snapshot and edit, so the CPM reruns only when the data or someone's plan changes."""
    return load_project_schedule(_settings, project_key)


# ---------------------------------------------------------------- shaping for the chart


def bar_dates(rows: pl.DataFrame, mode: str) -> pl.DataFrame:
    """`start`/`finish` columns for the bars: planned dates or CPM early dates."""
    if mode not in BAR_MODES:
        raise ValueError(f"unknown bar mode {mode!r}")
    if mode == "plan":
        return rows.with_columns(start=pl.col("plan_start"), finish=pl.col("plan_finish"))
    return rows.with_columns(
        start=pl.coalesce("early_start", "plan_start"), finish=pl.coalesce("early_finish", "plan_finish")
    )


def descendants_of(pairs: pl.DataFrame, task_ids: list[str]) -> set[str]:
    if not task_ids:
        return set()
    return set(pairs.filter(pl.col("ancestor_id").is_in(task_ids))["task_id"].to_list())


def filter_rows(
    rows: pl.DataFrame,
    pairs: pl.DataFrame,
    *,
    people: list[str] | None = None,
    phases: list[str] | None = None,
    critical_only: bool = False,
    hide_done: bool = False,
) -> pl.DataFrame:
    """Leaves that pass every filter, plus the summaries above them so the WBS stays readable.

    A person filter of `UNASSIGNED` matches tasks nobody is assigned to.
    """
    conditions: list[pl.Expr] = []
    if people:
        named = [p for p in people if p != UNASSIGNED]
        condition = pl.col("assignee_id").is_in(named)
        if UNASSIGNED in people:
            condition = condition | pl.col("assignee_id").is_null()
        conditions.append(condition.fill_null(False))
    if phases:
        conditions.append(pl.col("phase_id").is_in(phases).fill_null(False))
    if critical_only:
        conditions.append(pl.col("is_critical"))
    if hide_done:
        conditions.append(pl.col("status_category").fill_null("todo") != "done")
    if not conditions:
        return rows
    leaves = rows.filter(~pl.col("is_summary") & pl.all_horizontal(conditions))["task_id"].to_list()
    above = pairs.filter(pl.col("task_id").is_in(leaves))["ancestor_id"].to_list()
    keep = set(leaves) | set(above)
    return rows.filter(pl.col("task_id").is_in(list(keep)))


def visible_rows(rows: pl.DataFrame, pairs: pl.DataFrame, max_depth: int, collapsed: list[str] | None = None) -> pl.DataFrame:
    """Rows down to `max_depth`, without anything under a collapsed summary."""
    hidden = descendants_of(pairs, list(collapsed or []))
    shown = rows.filter(pl.col("depth") <= max_depth)
    return shown.filter(~pl.col("task_id").is_in(list(hidden))) if hidden else shown


def default_depth(rows: pl.DataFrame, target: int = DEFAULT_ROW_TARGET) -> int:
    """The deepest WBS level whose rows (with everything above) fit in `target`; 0 at least."""
    if rows.is_empty():
        return 0
    counts = rows.group_by("depth").len().sort("depth")
    total, best = 0, 0
    for depth, count in counts.iter_rows():
        total += count
        if total > target:
            break
        best = depth
    return int(best)


def task_labels(rows: pl.DataFrame) -> dict[str, str]:
    """Each task's key and name on one clipped line (`safe_text.clip`), by task id: what pickers and messages show."""
    return {task_id: safe_text.clip(f"{key} {name or ''}")
            for task_id, key, name in zip(rows["task_id"], rows["task_key"], rows["name"])}


def row_labels(rows: pl.DataFrame, width: int = 36) -> pl.DataFrame:
    """A unique `label` per row: the key and title (clipped to `width`), indented by WBS depth."""
    labels = [
        f"{INDENT * int(depth)}{safe_text.clip(key)} {safe_text.clip(name, width)}"
        for depth, key, name in zip(rows["depth"], rows["task_key"], rows["name"])
    ]
    seen: set[str] = set()
    unique = []
    for label, task_id in zip(labels, rows["task_id"]):
        if label in seen:
            label = f"{label} ({task_id})"
        seen.add(label)
        unique.append(label)
    return rows.with_columns(label=pl.Series(unique, dtype=pl.String))


def cap_rows(rows: pl.DataFrame, cap: int = ROW_CAP) -> tuple[pl.DataFrame, int]:
    """At most `cap` rows in WBS order, and how many there were."""
    return rows.head(cap), rows.height


def link_segments(shown: pl.DataFrame, links: pl.DataFrame, cap: int = LINK_CAP) -> tuple[pl.DataFrame, int]:
    """One arrow per link between two shown bars: from the side of the predecessor the link reads
    (finish for FS/FF, start for SS/SF) to the side of the successor it binds.

    `shown` needs task_id, label, start and finish (inclusive). Bars end the
    day after their finish date, so the arrow leaves from there. Returns the
    arrows (two points each, `point` 0 and 1) and how many links qualified.
    """
    schema = {"link": pl.Int64, "point": pl.Int64, "label": pl.String, "x": pl.Date, "dependency": pl.String}
    if shown.is_empty() or links.is_empty():
        return pl.DataFrame(schema=schema), 0
    ends = shown.select("task_id", "label", "start", "finish")
    joined = (
        links.join(ends.rename({"task_id": "from_task_id", "label": "from_label", "start": "from_start",
                                "finish": "from_finish"}), on="from_task_id")
        .join(ends.rename({"task_id": "to_task_id", "label": "to_label", "start": "to_start",
                           "finish": "to_finish"}), on="to_task_id")
        .drop_nulls(["from_start", "from_finish", "to_start", "to_finish"])
    )
    total = joined.height
    joined = joined.head(cap).with_row_index("link").with_columns(pl.col("link").cast(pl.Int64))
    one_day = pl.duration(days=1)
    from_x = pl.when(pl.col("dependency").is_in(["FS", "FF"])).then(pl.col("from_finish") + one_day) \
        .otherwise(pl.col("from_start"))
    to_x = pl.when(pl.col("dependency").is_in(["FS", "SS"])).then(pl.col("to_start")) \
        .otherwise(pl.col("to_finish") + one_day)
    first = joined.select("link", point=pl.lit(0, pl.Int64), label="from_label", x=from_x, dependency="dependency")
    second = joined.select("link", point=pl.lit(1, pl.Int64), label="to_label", x=to_x, dependency="dependency")
    return pl.concat([first, second]).sort("link", "point").cast(schema), total  # type: ignore[arg-type]
