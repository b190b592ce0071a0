"""Lodestar's CPM against the dates Microsoft Project saved in real MSPDI files.

Every task is compared except those whose saved dates come from something the
engine does not model, each named with its reason: tasks on a resource
calendar of their own (a night shift) and one task whose saved dates
contradict its own duration. baselines.xml is not compared: its one task has
450-minute days on an 8-hour calendar, so MS Project ends it at 08:30 the next day.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from models.planning.calendar import WorkCalendar
from models.planning.cpm import schedule
from models.planning.mspdi import read_mspdi, saved_schedule

MSPDI = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mspdi"
pytestmark = pytest.mark.skipif(not MSPDI.is_dir(), reason=f"shared MS Project files not found at {MSPDI}")

KNOWN_DIFFERENCES = {
    ("sample.xml", "2"): "saved dates span 50 days for a task of 800 h (100 days)",
    ("sample1.xml", "2"): "saved dates span 50 days for a task of 800 h (100 days)",
}


def _calendar(project) -> WorkCalendar:
    cal = project.calendar
    return WorkCalendar(
        country=None,
        weekend=cal.weekend,
        extra_days_off=cal.non_working_dates,
        extra_workdays=cal.extra_working_dates,
    )


@pytest.mark.parametrize("name", ["mspdirelations.xml", "task-links-project2019-mspdi.xml", "sample.xml",
                                  "sample1.xml"])
def test_cpm_dates_equal_the_dates_ms_project_saved(name):
    project = read_mspdi(MSPDI / name)
    result = schedule(project.plan, _calendar(project))
    saved = saved_schedule(project)
    skipped = set(project.tasks_on_other_calendars)
    skipped |= {task for (file, task), _ in KNOWN_DIFFERENCES.items() if file == name}
    compared, mismatches = 0, []
    summaries = {t.task_id for t in project.plan.tasks if t.is_summary}
    for task_id, (start, finish) in saved.items():
        if task_id in skipped or task_id in summaries:
            continue
        compared += 1
        ours = (result.start_date(task_id), result.finish_date(task_id))
        if ours != (start, finish):
            mismatches.append((task_id, ours, (start, finish)))
    assert mismatches == []
    assert compared >= 5
