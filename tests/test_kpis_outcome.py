"""mart_project_kpis counts delivered and dropped work apart (migration 0009)."""

from datetime import date, datetime

from warehouse.db import open_writer
from warehouse.load import upsert
from warehouse.marts import build_mart


def _task(key: str, category: str, outcome: str | None = None) -> dict:
    return {"task_id": f"t:{key}", "source": "t", "source_key": key, "project_key": "P", "type_category": "task",
            "status_category": category, "outcome": outcome, "created_at": datetime(2024, 1, 1)}


def test_completion_rate_is_over_delivered_work_with_dropped_excluded(empty_settings):
    with open_writer(empty_settings) as con:
        upsert(con, "projects", [{"project_key": "P", "source": "t"}, {"project_key": "Q", "source": "t"}])
        upsert(con, "tasks", [
            _task("1", "done", "delivered"), _task("2", "done", "delivered"),
            _task("3", "done", None),  # loaded before 0009: counts as delivered
            _task("4", "done", "dropped"), _task("5", "todo"), _task("6", "in_progress"),
            {**_task("7", "done", "dropped"), "project_key": "Q"},
        ])
        build_mart(con, "mart_project_kpis", date(2024, 3, 1))
        rows = con.execute("""SELECT project_key, tasks_total, tasks_done, tasks_delivered, dropped_tasks,
                                     completion_rate FROM mart_project_kpis ORDER BY 1""").fetchall()
    assert rows[0] == ("P", 6, 4, 3, 1, 3 / 5)
    assert rows[1] == ("Q", 1, 1, 0, 1, None)  # nothing left in scope
