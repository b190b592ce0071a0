"""Plans built from the warehouse: tasks, dependency links and people's plan edits, per project.

Ticket systems rarely hold a full plan, so durations fall back in a fixed,
documented order: planned dates → estimate hours (8 h a working day) → story
points (one point ≈ one working day) → a default by type. Plan edits
(`plan_tasks`, `plan_dependencies`) override what the tools say.

Whatever the warehouse holds, a plan is always built: a date outside the
calendar's span (`bounds.MIN_DATE..MAX_DATE`) is ignored, and a duration or lag
beyond `bounds.MAX_TASK_WORKDAYS` is capped, each recorded on `Plan.adjustments`
with the reason.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date

import duckdb

from models.planning.bounds import MAX_TASK_WORKDAYS, as_day, date_in_range, out_of_range_reason
from models.planning.model import Adjustment, Assignment, Plan, PlanLink, PlanTask, Resource

HOURS_PER_DAY = 8.0
DEFAULT_DAYS_BY_TYPE = {"epic": 0.0, "feature": 5.0, "task": 3.0, "subtask": 1.0, "bug": 1.0}
DEPENDENCY_LINKS = ("blocks", "depends_on")


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    cursor = con.execute(sql, params)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


TASK_DATES = ("planned_start", "planned_finish", "due_date", "started_at", "resolved_at")


def _usable(value) -> bool:
    """An estimate or story-point count that can be turned into days (set, finite, above zero)."""
    return value is not None and math.isfinite(value) and value > 0


def _duration_days(row: dict, workdays_between) -> tuple[float, str]:
    """Working days of a task and where they came from (the fallback order in the module docstring)."""
    start, finish = row["planned_start"], row["planned_finish"]
    if start and finish and finish >= start:
        return float(max(1, workdays_between(start, finish))), "planned dates"
    if _usable(row["estimate_hours"]):
        return float(max(1, math.ceil(row["estimate_hours"] / HOURS_PER_DAY))), "estimate_hours"
    if _usable(row["story_points"]):
        return float(max(1, math.ceil(row["story_points"]))), "story_points"
    return DEFAULT_DAYS_BY_TYPE.get(row["type_category"] or "task", 3.0), "type default"


def _drop_bad_dates(row: dict, names: tuple[str, ...], task_id: str | None, notes: list[Adjustment]) -> set[str]:
    """Set each date outside the calendar's span to None, noting why; the names of those dropped."""
    dropped = set()
    for name in names:
        value = row[name]
        if value is not None and not date_in_range(value):
            notes.append(Adjustment(task_id, name, out_of_range_reason(name, value)))
            row[name] = None
            dropped.add(name)
    return dropped


def _capped(days: float, what: str, task_id: str, notes: list[Adjustment]) -> float:
    if math.isnan(days):
        notes.append(Adjustment(task_id, what, f"{what} is not a number: 0 used"))
        return 0.0
    if abs(days) <= MAX_TASK_WORKDAYS:
        return days
    capped = math.copysign(MAX_TASK_WORKDAYS, days)
    notes.append(Adjustment(task_id, what, f"{what} of {days:g} working days is beyond the "
                                           f"{MAX_TASK_WORKDAYS}-working-day bound: capped at {capped:g}"))
    return capped


def load_plans(
    con: duckdb.DuckDBPyConnection,
    status_date: date,
    workdays_between,
    project_keys: list[str] | None = None,
) -> dict[str, Plan]:
    """One Plan per project; `workdays_between(a, b)` counts working days from a to b inclusive."""
    tasks = _rows(
        con,
        """SELECT t.task_id, t.project_key, t.parent_task_id, t.title, t.type_category, t.status_category,
                  t.started_at, t.resolved_at, t.due_date, t.story_points, t.spent_hours,
                  coalesce(p.planned_start, t.planned_start) AS planned_start,
                  coalesce(p.planned_finish, t.planned_finish) AS planned_finish,
                  coalesce(p.estimate_hours, t.estimate_hours) AS estimate_hours,
                  coalesce(p.assignee_id, t.assignee_id) AS assignee_id,
                  pr.start_date AS project_start
           FROM tasks t
           LEFT JOIN plan_tasks p USING (task_id)
           LEFT JOIN projects pr ON pr.project_key = t.project_key
           WHERE NOT t.is_deleted AND t.project_key IS NOT NULL
             AND (? IS NULL OR list_contains(?, t.project_key))
           ORDER BY t.project_key, t.task_id""",
        [project_keys, project_keys],
    )
    hours = {
        task_id: spent
        for task_id, spent in con.execute(
            "SELECT task_id, sum(hours) FROM worklogs WHERE task_id IS NOT NULL GROUP BY task_id"
        ).fetchall()
    }
    links = _rows(
        con,
        """WITH tool_links AS (
               SELECT from_task_id, to_task_id, dependency, lag_days FROM task_links
               WHERE link_type IN ('blocks', 'depends_on')),
           edited AS (SELECT from_task_id, to_task_id, dependency, lag_days, is_deleted FROM plan_dependencies)
           SELECT l.from_task_id, l.to_task_id, l.dependency, l.lag_days FROM tool_links l
           WHERE NOT EXISTS (SELECT 1 FROM edited e WHERE e.from_task_id = l.from_task_id
                             AND e.to_task_id = l.to_task_id)
           UNION ALL
           SELECT from_task_id, to_task_id, dependency, lag_days FROM edited WHERE NOT is_deleted""",
        [],
    )
    has_children = {row["parent_task_id"] for row in tasks if row["parent_task_id"]}
    by_project: dict[str, list[PlanTask]] = defaultdict(list)
    project_of: dict[str, str] = {}
    project_start: dict[str, date | None] = {}
    notes: dict[str, list[Adjustment]] = defaultdict(list)
    for row in tasks:
        project_notes = notes[row["project_key"]]
        if row["project_key"] not in project_start:
            _drop_bad_dates(row, ("project_start",), None, project_notes)
        dropped = _drop_bad_dates(row, TASK_DATES, row["task_id"], project_notes)
        done = row["status_category"] == "done"
        is_summary = row["task_id"] in has_children
        duration = 0.0
        if not is_summary:
            duration, source = _duration_days(row, workdays_between)
            duration = _capped(duration, f"duration from {source}", row["task_id"], project_notes)
        actual_start = as_day(row["started_at"])
        actual_finish = as_day(row["resolved_at"]) if done else None
        if done and "resolved_at" in dropped:
            # done, but the resolution date is unusable: it finished by today at the latest
            actual_finish = status_date
        if actual_finish and not actual_start:
            actual_start = actual_finish
        task = PlanTask(
            task_id=row["task_id"],
            name=row["title"] or row["task_id"],
            parent_id=row["parent_task_id"],
            duration_days=duration,
            start=row["planned_start"],
            finish=row["planned_finish"],
            actual_start=actual_start,
            actual_finish=actual_finish,
            percent_complete=100.0 if done else 0.0,
            is_summary=is_summary,
            deadline=row["due_date"],
            estimate_hours=row["estimate_hours"],
            actual_hours=hours.get(row["task_id"]),
            assignee_id=row["assignee_id"],
            project_key=row["project_key"],
        )
        by_project[row["project_key"]].append(task)
        project_of[row["task_id"]] = row["project_key"]
        project_start.setdefault(row["project_key"], row["project_start"])
    plans: dict[str, Plan] = {}
    for project_key, project_tasks in by_project.items():
        ids = {t.task_id for t in project_tasks}
        summaries = {t.task_id for t in project_tasks if t.is_summary}
        project_links = [
            PlanLink(l["from_task_id"], l["to_task_id"], l["dependency"] or "FS",
                     _capped(float(l["lag_days"] or 0.0), "link lag", l["to_task_id"], notes[project_key]))
            for l in links
            if l["from_task_id"] in ids and l["to_task_id"] in ids
            and l["from_task_id"] not in summaries and l["to_task_id"] not in summaries
        ]
        people = sorted({t.assignee_id for t in project_tasks if t.assignee_id})
        plans[project_key] = Plan(
            tasks=project_tasks,
            links=project_links,
            resources=[Resource(person) for person in people],
            assignments=[Assignment(t.task_id, t.assignee_id) for t in project_tasks if t.assignee_id and not t.is_summary],
            start=project_start.get(project_key) or min(
                (t.actual_start for t in project_tasks if t.actual_start), default=status_date),
            status_date=status_date,
            name=project_key,
            adjustments=notes[project_key],
        )
    return plans
