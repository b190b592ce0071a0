"""Plans built from the warehouse: tasks, dependency links and people's plan edits, per project.

Ticket systems rarely hold a full plan, so durations fall back in a fixed,
documented order: planned dates → estimate hours (8 h a working day) → story
points (one point ≈ one working day) → a default by type. Plan edits
(`plan_tasks`, `plan_dependencies`) override what the tools say.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime

import duckdb

from models.planning.model import Assignment, Plan, PlanLink, PlanTask, Resource

HOURS_PER_DAY = 8.0
DEFAULT_DAYS_BY_TYPE = {"epic": 0.0, "feature": 5.0, "task": 3.0, "subtask": 1.0, "bug": 1.0}
DEPENDENCY_LINKS = ("blocks", "depends_on")


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    cursor = con.execute(sql, params)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def _as_date(value) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


def _duration_days(row: dict, workdays_between) -> float:
    start, finish = row["planned_start"], row["planned_finish"]
    if start and finish and finish >= start:
        return float(max(1, workdays_between(start, finish)))
    if row["estimate_hours"]:
        return float(max(1, math.ceil(row["estimate_hours"] / HOURS_PER_DAY)))
    if row["story_points"]:
        return float(max(1, math.ceil(row["story_points"])))
    return DEFAULT_DAYS_BY_TYPE.get(row["type_category"] or "task", 3.0)


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
    for row in tasks:
        done = row["status_category"] == "done"
        is_summary = row["task_id"] in has_children
        duration = 0.0 if is_summary else _duration_days(row, workdays_between)
        actual_start = _as_date(row["started_at"])
        actual_finish = _as_date(row["resolved_at"]) if done else None
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
            PlanLink(l["from_task_id"], l["to_task_id"], l["dependency"] or "FS", float(l["lag_days"] or 0.0))
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
        )
    return plans
