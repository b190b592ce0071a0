"""Saving a project's current schedule as a named baseline in the write-back store."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import date, datetime, timezone

from models.planning.model import Plan

from models.planning.baselines import baseline_record, baseline_rows, take_baseline
from models.planning.calendar import WorkCalendar
from models.planning.cpm import schedule
from models.planning.warehouse_plan import load_plans
from warehouse.db import WarehouseError, open_reader, save_baseline, utc_now
from warehouse.settings import Settings


def save_project_baseline(settings: Settings, project_key: str, name: str, actor: str,
                          status_date: date | None = None) -> tuple[str, int]:
    """Baseline = planned dates where the plan has them, else the dates CPM schedules today.

    Read with people's unsynced edits, so a baseline saved right after an
    edit includes it.
    """
    calendar = WorkCalendar.from_settings(settings)
    status_date = status_date or datetime.now(timezone.utc).date()
    with open_reader(settings, live_edits=True) as con:
        plans = load_plans(con, status_date, calendar.workdays_between, [project_key])
    if project_key not in plans:
        raise WarehouseError(f"no tasks for project {project_key!r} in the published warehouse")
    plan = plans[project_key]
    frame = schedule(plan, calendar).frame
    scheduled = {r["task_id"]: (r["early_start"], r["early_finish"]) for r in frame.iter_rows(named=True)}
    plan = replace(plan, tasks=[
        replace(t, start=t.start or scheduled.get(t.task_id, (None, None))[0],
                finish=t.finish or scheduled.get(t.task_id, (None, None))[1])
        for t in plan.tasks
    ])
    return save_plan_baseline(settings, project_key, plan, name, actor)


def save_plan_baseline(settings: Settings, project_key: str, plan: Plan, name: str, actor: str) -> tuple[str, int]:
    """Store `plan`'s planned dates as baseline `name` in one audited transaction; returns (id, task rows)."""
    baseline = take_baseline(plan, name, taken_at=utc_now())
    slug = re.sub(r"[^0-9A-Za-z_-]+", "-", name).strip("-").lower() or "baseline"
    baseline_id = f"{project_key}:{slug}:{uuid.uuid4().hex[:8]}"
    record = baseline_record(baseline, baseline_id, actor)
    record["project_key"] = project_key
    rows = baseline_rows(baseline, baseline_id)
    save_baseline(settings, record, rows, actor)
    return baseline_id, len(rows)
