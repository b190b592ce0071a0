"""Data access and shaping for the dashboard, kept out of the pages.

Pages stay thin (layout and widgets only) so that the queries and numbers
they show can be tested without a browser. Queries are run by a `Query`
function the caller passes: on a page that is `common.page_query`, which
reads the published read-only snapshot through one cache (so the
dashboard never contends with a running sync), in tests a plain
`warehouse.db.read_frame`.

Caching: query results are cached for a minute, keyed on the snapshot's
path and file identity (mtime, inode, size). A publish replaces the file
atomically, which changes that key, so new data shows on the next rerun
instead of after the TTL.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

import polars as pl
import streamlit as st

from warehouse.settings import CONFIG_ENV, Settings, load_settings

Query = Callable[[str, Sequence[Any]], pl.DataFrame]
"""Runs bound-parameter SQL on the published warehouse: `common.page_query` on a page."""

DEFAULT_TREND_DAYS: Final = 180
ALL_PROJECTS: Final = ""
"""The "every project" choice: empty, so the queries' `$1 = ''` test reads it as no project filter."""

# Schedule and cost indices, the forecast, bug counts and the project's
# currency sit beside the mart so the page makes one round trip; projects the
# planner has not reached yet simply have NULLs there.
KPI_SQL: Final = """
WITH bugs AS (
    SELECT project_key,
           count(*) FILTER (WHERE type_category = 'bug')  AS bugs_total,
           count(*) FILTER (WHERE type_category <> 'bug') AS work_items
    FROM tasks
    WHERE NOT is_deleted
    GROUP BY project_key
)
SELECT
    k.project_key,
    coalesce(k.project_name, k.project_key) AS project_name,
    k.as_of,
    k.tasks_total,
    k.tasks_done,
    k.completion_rate,
    k.overdue_tasks,
    k.open_bugs,
    k.hours_logged_total,
    k.hours_this_month,
    k.estimate_hours_total,
    k.budget,
    k.cost_to_date,
    k.due_date,
    CASE WHEN coalesce(k.estimate_hours_total, 0) > 0
         THEN k.hours_logged_total / k.estimate_hours_total END AS hours_vs_plan,
    CASE WHEN coalesce(k.budget, 0) > 0 THEN k.cost_to_date / k.budget END AS budget_used,
    CASE WHEN coalesce(b.work_items, 0) > 0 THEN 100.0 * b.bugs_total / b.work_items END AS defect_density,
    e.spi, e.cpi,
    f.finish_p85, f.probability_on_time,
    p.currency
FROM mart_project_kpis AS k
LEFT JOIN projects AS p USING (project_key)
LEFT JOIN bugs AS b USING (project_key)
LEFT JOIN earned_value AS e USING (project_key)
LEFT JOIN project_forecasts AS f USING (project_key)
ORDER BY k.project_key
"""

# Health thresholds: amber at the first sign of trouble, red when a PM
# should act this week. Calendar days for the forecast slip.
SLIP_RED_DAYS: Final = 14
INDEX_AMBER: Final = 0.95
INDEX_RED: Final = 0.85
OVERDUE_SHARE_AMBER: Final = 0.05
BUDGET_RED: Final = 1.0

# The window ends at the latest day in the mart, not today, so a warehouse
# that has not synced for a while still shows its last half-year.
TREND_SQL: Final = """
SELECT
    d.project_key,
    coalesce(k.project_name, d.project_key) AS project_name,
    d.day,
    d.open_tasks,
    d.cumulative_resolved
FROM mart_project_daily AS d
LEFT JOIN mart_project_kpis AS k USING (project_key)
WHERE d.day > (SELECT max(day) FROM mart_project_daily) - CAST(? AS INTEGER)
ORDER BY d.project_key, d.day
"""

# The day the marts describe; ages and "overdue" are counted at it, so an old warehouse does not age by the day.
AS_OF_SQL: Final = "SELECT coalesce(max(as_of), current_date) AS as_of FROM mart_project_kpis"

# Every page's project picker reads one of these two lists.
PROJECTS_SQL: Final = """
SELECT project_key, coalesce(name, project_key) AS project_name
FROM projects
ORDER BY project_key
"""
PROJECTS_WITH_TASKS_SQL: Final = """
SELECT p.project_key, coalesce(p.name, p.project_key) AS project_name
FROM projects AS p
WHERE EXISTS (SELECT 1 FROM tasks AS t WHERE t.project_key = p.project_key AND NOT t.is_deleted)
ORDER BY p.project_key
"""

# Columns of the per-project table, in display order; pages label them via i18n.
PROJECT_TABLE_COLUMNS: Final[tuple[str, ...]] = (
    "health",
    "project_key",
    "project_name",
    "tasks_total",
    "completion_rate",
    "overdue_tasks",
    "spi",
    "cpi",
    "hours_vs_plan",
    "budget_used",
    "hours_this_month",
    "open_bugs",
    "defect_density",
    "budget",
    "cost_to_date",
    "due_date",
    "finish_p85",
    "health_reason",
)

MONEY_COLUMNS: Final[tuple[str, ...]] = ("budget", "cost_to_date")

HEALTH_LIGHTS: Final[dict[str, str]] = {"green": "🟢", "amber": "🟡", "red": "🔴", "unknown": "⚪"}

TREND_MEASURES: Final[dict[str, str]] = {
    "open_tasks": "common.open_tasks",
    "cumulative_resolved": "chart.cumulative_resolved",
}
"""The trend's lines; open tasks are called what the forecast page calls them."""
# More lines than this are unreadable and slow to draw; the rest are named in a caption.
TREND_MAX_PROJECTS: Final = 12


# ------------------------------------------------------------------ settings


def get_settings() -> Settings:
    """The configuration, parsed once per (LODESTAR_CONFIG, working directory).

    Both values are read at call time and passed as the cache key, so
    pointing LODESTAR_CONFIG elsewhere (tests, a second deployment in the
    same process) is honoured instead of serving the first config forever.
    """
    return _cached_settings(os.environ.get(CONFIG_ENV), os.getcwd())


@st.cache_resource(show_spinner=False)
def _cached_settings(config_env: str | None, cwd: str) -> Settings:
    """Load settings; the arguments only key the cache, `load_settings` reads them itself."""
    return load_settings()


def snapshot_key(settings: Settings) -> str | None:
    """Identity of the published snapshot, or None when nothing is published yet.

    Used as the cache key of every cached query: a new publish is a new file
    (atomic rename), hence a new key and fresh results at once.
    """
    path = settings.warehouse.published_path
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return f"{path}|{stat.st_mtime_ns}|{stat.st_ino}|{stat.st_size}"


# ------------------------------------------------------------------ queries


def priority_rank(column: str) -> str:
    """SQL ranking the priority in `column` from 1 (highest) to 6 (unknown), so every page orders work alike.

    Tools name priorities differently (Jira "Highest", GitLab "critical",
    "P0" labels); `column` is a column name written in code, never input.
    """
    return f"""CASE
    WHEN lower({column}) IN ('highest', 'blocker', 'critical', 'urgent', 'p0') THEN 1
    WHEN lower({column}) IN ('high', 'major', 'p1') THEN 2
    WHEN lower({column}) IN ('medium', 'normal', 'p2') THEN 3
    WHEN lower({column}) IN ('low', 'minor', 'p3') THEN 4
    WHEN lower({column}) IN ('lowest', 'trivial', 'p4') THEN 5
    ELSE 6 END"""


def as_of(query: Query) -> date:
    """The day the warehouse describes (the marts' as-of), today when the marts are empty."""
    value = query(AS_OF_SQL, [])["as_of"][0]
    return value.date() if isinstance(value, datetime) else value


def portfolio_kpis(query: Query) -> pl.DataFrame:
    """One row per project from `mart_project_kpis`."""
    return query(KPI_SQL, [])


FAILING_SOURCES_SQL: Final = """
SELECT source, min(failing_since) AS failing_since, max(last_success_at) AS last_success_at,
       any_value(last_error ORDER BY last_attempt_at DESC) AS last_error
FROM sync_state WHERE failing_since IS NOT NULL GROUP BY source ORDER BY source
"""
QUARANTINE_COUNTS_SQL: Final = """
SELECT source, count(*) FILTER (WHERE kind = 'record') AS records, count(*) FILTER (WHERE kind = 'field') AS fields
FROM quarantine GROUP BY source ORDER BY source
"""
PLANNING_FAILURES_SQL: Final = """
SELECT project_key, stage, message FROM planning_errors WHERE outcome = 'failed' ORDER BY project_key, stage
"""


@dataclass(frozen=True)
class DataHealth:
    """What the last syncs could not do: sources failing, records set aside, projects not planned."""

    failing_sources: pl.DataFrame
    quarantine: pl.DataFrame
    planning_failures: pl.DataFrame

    @property
    def empty(self) -> bool:
        return self.failing_sources.is_empty() and self.quarantine.is_empty() and self.planning_failures.is_empty()


def data_health(query: Query) -> DataHealth:
    """Read from the snapshot's own bookkeeping (sync_state, quarantine, planning_errors)."""
    return DataHealth(query(FAILING_SOURCES_SQL, []), query(QUARANTINE_COUNTS_SQL, []), query(PLANNING_FAILURES_SQL, []))


def portfolio_trend(query: Query, days: int = DEFAULT_TREND_DAYS) -> pl.DataFrame:
    """Daily open and cumulative-resolved task counts per project for the last `days` days of data."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    return query(TREND_SQL, [int(days)])


# ------------------------------------------------------------------ shaping


@dataclass(frozen=True)
class PortfolioTotals:
    """Portfolio-wide figures for the KPI row."""

    projects: int
    tasks: int
    completion: float | None
    overdue: int
    hours_this_month: float
    open_bugs: int
    as_of: date | None


def portfolio_totals(kpis: pl.DataFrame) -> PortfolioTotals:
    """Sum the per-project KPIs.

    Completion is done/total over all tasks, not the mean of project rates,
    so a small project does not weigh as much as a large one.
    """
    if kpis.is_empty():
        return PortfolioTotals(0, 0, None, 0, 0.0, 0, None)
    tasks = int(kpis["tasks_total"].sum())
    done = int(kpis["tasks_done"].sum())
    return PortfolioTotals(
        projects=kpis.height,
        tasks=tasks,
        completion=done / tasks if tasks else None,
        overdue=int(kpis["overdue_tasks"].sum()),
        hours_this_month=float(kpis["hours_this_month"].sum()),
        open_bugs=int(kpis["open_bugs"].sum()),
        as_of=kpis["as_of"].max(),
    )


def metric_values(totals: PortfolioTotals) -> dict[str, str]:
    """Formatted KPI values keyed by their i18n label key, in display order.

    Hours carry their unit here because st.metric has no unit field.
    """
    completion = "—" if totals.completion is None else f"{totals.completion:.0%}"
    return {
        "kpi.projects": f"{totals.projects:,}",
        "common.tasks": f"{totals.tasks:,}",
        "kpi.completion": completion,
        "common.overdue_tasks": f"{totals.overdue:,}",
        "kpi.hours_month": f"{totals.hours_this_month:,.1f} h",
        "common.open_bugs": f"{totals.open_bugs:,}",
    }


@dataclass(frozen=True)
class Health:
    """A project's light and the reasons for it, as (i18n key, placeholders) pairs the page translates."""

    light: str
    reasons: tuple[tuple[str, dict[str, object]], ...]


def project_health(row: dict) -> Health:
    """Traffic light from forecast slip, SPI, CPI, budget burn and overdue share, with every reason.

    The light is the worst signal, so one bad number is never averaged away
    by good ones; green only when there is evidence (a forecast or EV), else
    the light stays unknown rather than reassuring.
    """
    reasons: list[tuple[str, str, dict[str, object]]] = []
    due, p85 = row.get("due_date"), row.get("finish_p85")
    if due is not None and p85 is not None and p85 > due:
        slip = (p85 - due).days
        level = "red" if slip > SLIP_RED_DAYS else "amber"
        reasons.append((level, "health.slip", {"p85": p85.isoformat(), "due": due.isoformat(), "days": slip}))
    for index in ("spi", "cpi"):
        value = row.get(index)
        if value is not None and value < INDEX_AMBER:
            level = "red" if value < INDEX_RED else "amber"
            reasons.append((level, f"health.{index}", {"value": f"{value:.2f}", "threshold": f"{INDEX_AMBER:.2f}"}))
    used = row.get("budget_used")
    if used is not None and used > BUDGET_RED:
        reasons.append(("red", "health.budget", {"used": f"{used:.0%}"}))
    total, overdue = row.get("tasks_total") or 0, row.get("overdue_tasks") or 0
    if total and overdue / total > OVERDUE_SHARE_AMBER:
        reasons.append(("amber", "health.overdue", {"count": overdue, "share": f"{overdue / total:.0%}"}))
    if reasons:
        light = "red" if any(level == "red" for level, _, _ in reasons) else "amber"
        return Health(light, tuple((key, fmt) for _, key, fmt in reasons))
    evidence = any(row.get(name) is not None for name in ("finish_p85", "spi", "cpi"))
    return Health("green" if evidence else "unknown", (("health.ok" if evidence else "health.no_evidence", {}),))


def project_table(kpis: pl.DataFrame, translate, money) -> pl.DataFrame:
    """The per-project table in display order, with its health light, the translated reasons and money as text.

    `translate(key, **placeholders)` renders a reason in the reader's
    language; `money(value, currency)` writes budget and cost in each
    project's own currency, since one column can hold yuan and dollars.
    """
    shown: dict[str, list[str]] = {name: [] for name in ("health", "health_reason", *MONEY_COLUMNS)}
    for row in kpis.iter_rows(named=True):
        health = project_health(row)
        shown["health"].append(f"{HEALTH_LIGHTS[health.light]} {translate('health.' + health.light)}")
        shown["health_reason"].append("; ".join(translate(key, **fmt) for key, fmt in health.reasons))
        for name in MONEY_COLUMNS:
            shown[name].append(money(row[name], row.get("currency")))
    return kpis.with_columns(
        pl.Series(name, values, dtype=pl.String) for name, values in shown.items()
    ).select(PROJECT_TABLE_COLUMNS)


def busiest_projects(kpis: pl.DataFrame, limit: int = TREND_MAX_PROJECTS) -> list[str]:
    """The projects with the most open work, for a trend chart that stays legible with hundreds of projects."""
    open_work = kpis.with_columns((pl.col("tasks_total") - pl.col("tasks_done")).alias("open_work"))
    return open_work.sort(["open_work", "project_key"], descending=[True, False]).head(limit)["project_key"].to_list()


def trend_long(trend: pl.DataFrame, measure_labels: dict[str, str]) -> pl.DataFrame:
    """Reshape the trend to one row per (project, day, measure) for a single Altair chart.

    `measure_labels` maps each of TREND_MEASURES to its translated name,
    which becomes the legend entry.
    """
    return trend.unpivot(
        on=list(TREND_MEASURES),
        index=["project_key", "project_name", "day"],
        variable_name="measure",
        value_name="value",
    ).with_columns(pl.col("measure").replace_strict(measure_labels, return_dtype=pl.String))
