"""Hours and performance: who logged how much, against what capacity, and a monthly personal report.

Everything is aggregated in SQL to one row per (person, week, project) for
the chosen window, so the page stays fast on a large warehouse; the chart,
the utilisation table and the person × week pivot are all shaped from that
one small frame in Python.

Choices that shape the numbers:

* A worklog's day is its UTC calendar day (`started_at::DATE`), the same rule
  as the marts, so the hours here add up to the portfolio page's hours. Weeks
  start on Monday.
* Every worklog counts towards a person's hours, including time not booked on
  a task (meetings) and time on tasks later deleted at the source: the time
  was spent either way. Hours not on a task belong to the project "" (shown
  as "not on a task").
* Capacity in a window is weekly capacity × working weeks, where working
  weeks are the window's working days (public holidays and make-up days of
  `[calendar] country` included) divided by five. People without a weekly
  capacity are assumed to have DEFAULT_WEEKLY_CAPACITY, and the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Final

import polars as pl
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from dashboards import export, safe_text
from dashboards.data import Query
from dashboards.i18n import t
from models.planning.calendar import WorkCalendar
from warehouse.settings import CalendarSettings

DEFAULT_WEEKLY_CAPACITY: Final = 40.0
DEFAULT_WEEKS: Final = 12
OVER_UTILISED: Final = 1.0
UNDER_UTILISED: Final = 0.6
MAX_CHART_PROJECTS: Final = 10
MAX_PIVOT_PEOPLE: Final = 200
NO_PROJECT: Final = ""
NO_TEAM: Final = ""

BOUNDS_SQL: Final = "SELECT min(started_at)::DATE AS first_day, max(started_at)::DATE AS last_day FROM worklogs"

PEOPLE_SQL: Final = """
SELECT person_id,
       coalesce(display_name, person_id) AS display_name,
       coalesce(team, '') AS team,
       weekly_capacity_hours
FROM people
ORDER BY display_name, person_id
"""

# $1 start day, $2 end day (inclusive), $3 project keys, $4 teams; an empty list means all.
CUBE_SQL: Final = """
SELECT w.person_id,
       date_trunc('week', w.started_at)::DATE AS week,
       coalesce(t.project_key, '') AS project_key,
       sum(w.hours) AS hours
FROM worklogs AS w
LEFT JOIN tasks AS t USING (task_id)
LEFT JOIN people AS p USING (person_id)
WHERE w.started_at >= $1::DATE::TIMESTAMP
  AND w.started_at < ($2::DATE + 1)::TIMESTAMP
  AND (len($3::VARCHAR[]) = 0 OR list_contains($3::VARCHAR[], coalesce(t.project_key, '')))
  AND (len($4::VARCHAR[]) = 0 OR list_contains($4::VARCHAR[], coalesce(p.team, '')))
GROUP BY ALL
"""

REPORT_MONTHS_SQL: Final = """
SELECT DISTINCT date_trunc('month', started_at)::DATE AS month FROM worklogs WHERE started_at IS NOT NULL
UNION
SELECT DISTINCT date_trunc('month', resolved_at)::DATE FROM tasks WHERE resolved_at IS NOT NULL
ORDER BY month DESC
"""

# $1 first day of the month, $2 first day of the next month, $3 person id or NULL for everyone.
REPORT_WORKLOGS_SQL: Final = """
SELECT w.person_id,
       coalesce(p.display_name, w.person_id) AS display_name,
       w.started_at::DATE AS day,
       coalesce(t.project_key, '') AS project_key,
       t.source_key,
       t.title,
       w.hours,
       w.comment
FROM worklogs AS w
LEFT JOIN tasks AS t USING (task_id)
LEFT JOIN people AS p USING (person_id)
WHERE w.started_at >= $1::DATE::TIMESTAMP
  AND w.started_at < $2::DATE::TIMESTAMP
  AND ($3::VARCHAR IS NULL OR w.person_id = $3::VARCHAR)
ORDER BY display_name, day, t.source_key
"""

REPORT_TASKS_SQL: Final = """
SELECT t.assignee_id AS person_id,
       coalesce(p.display_name, t.assignee_id) AS display_name,
       t.project_key,
       t.source_key,
       t.title,
       t.type_category,
       t.due_date,
       t.resolved_at::DATE AS resolved_on,
       CASE WHEN t.due_date IS NULL THEN NULL ELSE t.resolved_at::DATE <= t.due_date END AS on_time,
       date_diff('second', t.started_at, t.resolved_at) / 86400.0 AS cycle_days
FROM tasks AS t
LEFT JOIN people AS p ON p.person_id = t.assignee_id
WHERE NOT t.is_deleted
  AND t.status_category = 'done'
  AND t.assignee_id IS NOT NULL
  AND t.resolved_at >= $1::DATE::TIMESTAMP
  AND t.resolved_at < $2::DATE::TIMESTAMP
  AND ($3::VARCHAR IS NULL OR t.assignee_id = $3::VARCHAR)
ORDER BY display_name, resolved_on, t.source_key
"""

UTILISATION_COLUMNS: Final[tuple[str, ...]] = (
    "display_name",
    "team",
    "hours",
    "weekly_capacity",
    "capacity_hours",
    "utilisation",
    "flag",
)


@dataclass(frozen=True)
class HoursFilter:
    """The page's filters: an inclusive day window, and projects and teams (empty: all)."""

    start: date
    end: date
    projects: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the window ends ({self.end}) before it starts ({self.start})")

    def params(self) -> list[object]:
        return [self.start, self.end, list(self.projects), list(self.teams)]


# ------------------------------------------------------------------ window


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def default_window(last_day: date, weeks: int = DEFAULT_WEEKS) -> tuple[date, date]:
    """The last `weeks` whole Monday-weeks up to the latest worklog day (not today: old warehouses still show data)."""
    return week_start(last_day) - timedelta(weeks=weeks - 1), last_day


@lru_cache(maxsize=8)
def _calendar(country: str, holidays: tuple[date, ...], workdays: tuple[date, ...]) -> WorkCalendar:
    return WorkCalendar.from_settings(CalendarSettings(country=country, holidays=list(holidays), workdays=list(workdays)))


def working_weeks(start: date, end: date, calendar: CalendarSettings) -> float:
    """Working days in [start, end] / 5 on the company calendar, so a window with a holiday week has less capacity."""
    cached = _calendar(calendar.country, tuple(calendar.holidays), tuple(calendar.workdays))
    return cached.workdays_between(start, end) / 5.0


def month_bounds(month: date) -> tuple[date, date]:
    """First day of `month` and first day of the next month."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following


# ------------------------------------------------------------------ queries


def worklog_bounds(query: Query) -> tuple[date | None, date | None]:
    row = query(BOUNDS_SQL, []).row(0)
    return row[0], row[1]


def hours_cube(query: Query, window: HoursFilter) -> pl.DataFrame:
    """Hours per (person, week, project) in the window, filtered in SQL."""
    return query(CUBE_SQL, window.params())


def people_frame(query: Query) -> pl.DataFrame:
    return query(PEOPLE_SQL, [])


def report_months(query: Query) -> list[date]:
    return query(REPORT_MONTHS_SQL, [])["month"].to_list()


# ------------------------------------------------------------------ shaping


def project_labels(projects: pl.DataFrame, no_project: str) -> dict[str, str]:
    """Project key → "KEY name" (the name alone when it holds the key), clipped; a name for hours not on a task."""
    labels = {
        key: safe_text.clip(name if name and key in name else f"{key} {name}" if name else key)
        for key, name in zip(projects["project_key"], projects["project_name"])
    }
    labels[NO_PROJECT] = no_project
    return labels


def weekly_by_project(
    cube: pl.DataFrame, labels: dict[str, str], other: str, max_projects: int = MAX_CHART_PROJECTS
) -> pl.DataFrame:
    """Hours per (week, project) for a stacked chart; projects beyond the top `max_projects` become `other`."""
    if cube.is_empty():
        return pl.DataFrame(schema={"week": pl.Date, "project": pl.String, "hours": pl.Float64})
    ranking = (
        cube.group_by("project_key").agg(pl.col("hours").sum()).sort(["hours", "project_key"], descending=[True, False])
    )
    top = set(ranking["project_key"].head(max_projects).to_list())
    return (
        cube.with_columns(
            pl.when(pl.col("project_key").is_in(list(top)))
            .then(pl.col("project_key").replace_strict(labels, default=pl.col("project_key"), return_dtype=pl.String))
            .otherwise(pl.lit(other))
            .alias("project")
        )
        .group_by("week", "project")
        .agg(pl.col("hours").sum())
        .sort("week", "project")
    )


def person_utilisation(
    cube: pl.DataFrame,
    people: pl.DataFrame,
    weeks: float,
    default_capacity: float = DEFAULT_WEEKLY_CAPACITY,
) -> pl.DataFrame:
    """One row per person who logged time in the window: hours, capacity hours, utilisation and a flag.

    `flag` is "over" above OVER_UTILISED, "under" below UNDER_UTILISED, else "".
    Sorted by utilisation, highest first, so overload is at the top.
    """
    hours = cube.group_by("person_id").agg(pl.col("hours").sum())
    joined = hours.join(people, on="person_id", how="left").with_columns(
        pl.coalesce("display_name", "person_id").alias("display_name"),
        pl.col("team").fill_null(NO_TEAM),
        pl.col("weekly_capacity_hours").is_null().alias("capacity_assumed"),
        pl.col("weekly_capacity_hours").fill_null(default_capacity).alias("weekly_capacity"),
    )
    joined = joined.with_columns((pl.col("weekly_capacity") * weeks).alias("capacity_hours"))
    joined = joined.with_columns(
        pl.when(pl.col("capacity_hours") > 0).then(pl.col("hours") / pl.col("capacity_hours")).alias("utilisation")
    )
    return joined.with_columns(
        pl.when(pl.col("utilisation") > OVER_UTILISED)
        .then(pl.lit("over"))
        .when(pl.col("utilisation") < UNDER_UTILISED)
        .then(pl.lit("under"))
        .otherwise(pl.lit(""))
        .alias("flag")
    ).select("person_id", *UTILISATION_COLUMNS, "capacity_assumed").sort(
        ["utilisation", "display_name"], descending=[True, False], nulls_last=True
    )


def person_week_pivot(
    cube: pl.DataFrame, people: pl.DataFrame, max_people: int = MAX_PIVOT_PEOPLE
) -> tuple[pl.DataFrame, bool]:
    """Person × week hours (weeks as ISO-date columns, a total column); capped to the people with most hours.

    Returns the pivot and whether people were left out.
    """
    if cube.is_empty():
        return pl.DataFrame(schema={"display_name": pl.String, "total": pl.Float64}), False
    per_week = cube.group_by("person_id", "week").agg(pl.col("hours").sum())
    totals = per_week.group_by("person_id").agg(pl.col("hours").sum().alias("total"))
    capped = totals.height > max_people
    keep = totals.sort(["total", "person_id"], descending=[True, False]).head(max_people)
    weeks = sorted(per_week["week"].unique().to_list())
    wide = (
        per_week.join(keep.select("person_id"), on="person_id")
        .with_columns(pl.col("week").cast(pl.String))
        .pivot(on="week", index="person_id", values="hours", on_columns=[w.isoformat() for w in weeks])
    )
    names = people.select("person_id", "display_name")
    wide = (
        wide.join(keep, on="person_id")
        .join(names, on="person_id", how="left")
        .with_columns(pl.coalesce("display_name", "person_id").alias("display_name"))
        .sort(["total", "display_name"], descending=[True, False])
    )
    week_columns = [w.isoformat() for w in weeks]
    return wide.select("display_name", *week_columns, "total").with_columns(pl.col(week_columns).fill_null(0.0)), capped


# ------------------------------------------------------------------ monthly report


@dataclass(frozen=True)
class MonthlyReport:
    """A month's figures per person (summary) and the rows behind them."""

    month: date
    summary: pl.DataFrame
    tasks: pl.DataFrame
    worklogs: pl.DataFrame


def report_summary(worklogs: pl.DataFrame, tasks: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    """Per person: hours, tasks completed, on-time rate (among those with a due date), mean cycle time in days."""
    logged = worklogs.group_by("person_id").agg(pl.col("hours").sum())
    done = tasks.group_by("person_id").agg(
        pl.len().alias("tasks_completed"),
        pl.col("on_time").drop_nulls().len().alias("with_due_date"),
        pl.col("on_time").sum().alias("on_time_count"),
        pl.col("cycle_days").mean().alias("avg_cycle_days"),
    )
    ids = pl.concat([logged.select("person_id"), done.select("person_id")]).unique()
    summary = (
        ids.join(logged, on="person_id", how="left")
        .join(done, on="person_id", how="left")
        .join(people.select("person_id", "display_name", "team"), on="person_id", how="left")
        .with_columns(
            pl.coalesce("display_name", "person_id").alias("display_name"),
            pl.col("team").fill_null(NO_TEAM),
            pl.col("hours").fill_null(0.0),
            pl.col("tasks_completed").fill_null(0).cast(pl.Int64),
            pl.col("with_due_date").fill_null(0).cast(pl.Int64),
            pl.col("on_time_count").fill_null(0).cast(pl.Int64),
        )
        .with_columns(
            pl.when(pl.col("with_due_date") > 0)
            .then(pl.col("on_time_count") / pl.col("with_due_date"))
            .alias("on_time_rate")
        )
    )
    return summary.select(
        "person_id", "display_name", "team", "hours", "tasks_completed", "on_time_rate", "avg_cycle_days"
    ).sort(["hours", "display_name"], descending=[True, False])


def monthly_report(query: Query, month: date, person_id: str | None) -> MonthlyReport:
    """The report for one month and one person (None: everyone who logged time or finished a task)."""
    first, following = month_bounds(month)
    params = [first, following, person_id]
    worklogs = query(REPORT_WORKLOGS_SQL, params)
    tasks = query(REPORT_TASKS_SQL, params)
    return MonthlyReport(first, report_summary(worklogs, tasks, people_frame(query)), tasks, worklogs)


SUMMARY_HEADERS: Final[dict[str, str]] = {
    "display_name": "common.person",
    "team": "common.team",
    "hours": "hours.col.hours",
    "tasks_completed": "hours.col.tasks_completed",
    "on_time_rate": "hours.col.on_time_rate",
    "avg_cycle_days": "hours.col.avg_cycle_days",
}
TASK_HEADERS: Final[dict[str, str]] = {
    "display_name": "common.person",
    "project_key": "common.project",
    "source_key": "hours.col.task_key",
    "title": "common.title",
    "type_category": "common.type",
    "due_date": "hours.col.due_date",
    "resolved_on": "hours.col.resolved_on",
    "on_time": "hours.col.on_time",
    "cycle_days": "hours.col.cycle_days",
}
WORKLOG_HEADERS: Final[dict[str, str]] = {
    "display_name": "common.person",
    "day": "common.date",
    "project_key": "common.project",
    "source_key": "hours.col.task_key",
    "title": "common.title",
    "hours": "hours.col.hours",
    "comment": "hours.col.comment",
}
_NUMBER_FORMATS: Final[dict[str, str]] = {
    "hours": "0.0",
    "on_time_rate": "0.0%",
    "avg_cycle_days": "0.0",
    "cycle_days": "0.0",
    "due_date": "yyyy-mm-dd",
    "resolved_on": "yyyy-mm-dd",
    "day": "yyyy-mm-dd",
}


def _write_sheet(sheet, frame: pl.DataFrame, headers: dict[str, str], lang: str) -> None:
    columns = list(headers)
    sheet.append([t(headers[name], lang) for name in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    yes, no = t("hours.yes", lang), t("hours.no", lang)
    for row in frame.select(columns).iter_rows():
        values = []
        for value in row:
            if isinstance(value, bool):
                value = yes if value else no
            values.append(export.inert_value(value, csv=False))
        sheet.append(values)
    for index, name in enumerate(columns, start=1):
        letter = get_column_letter(index)
        number_format = _NUMBER_FORMATS.get(name)
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = number_format
        width = max(len(str(sheet.cell(row=1, column=index).value)) * 2, 12)
        sheet.column_dimensions[letter].width = min(width, 60 if name in ("title", "comment") else 24)
    sheet.freeze_panes = "A2"


def report_workbook(report: MonthlyReport, lang: str) -> bytes:
    """The report as an .xlsx: a summary sheet, then one row per completed task and per worklog; headers in `lang`.

    Titles and comments come from the trackers and timesheets, so the
    workbook goes through `export.inert_workbook`: text cells are string
    cells, never formulas.
    """
    book = Workbook()
    summary = book.active
    summary.title = t("hours.report.summary_tab", lang)
    _write_sheet(summary, report.summary, SUMMARY_HEADERS, lang)
    _write_sheet(book.create_sheet(t("hours.report.tasks_tab", lang)), report.tasks, TASK_HEADERS, lang)
    _write_sheet(book.create_sheet(t("hours.report.worklogs_tab", lang)), report.worklogs, WORKLOG_HEADERS, lang)
    return export.inert_workbook(book)


def report_file_name(month: date, person_name: str | None) -> str:
    who = "".join(ch if ch.isalnum() else "_" for ch in person_name) if person_name else "all"
    return f"lodestar-hours-{month:%Y-%m}-{who}.xlsx"
