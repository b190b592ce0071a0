"""Build a large warehouse (≈100,000 tasks) from the demo company, for dashboard speed benchmarks.

The demo is copied `copies` times with suffixed ids ("ERP-7", "task~7"), so
every table keeps its shape and its joins: WBS parents, links, status
history, worklogs, sprints, planning outputs and predictions. The first
`big_project_copies` copies of ERP stay in project ERP, which makes one
project of several thousand tasks for the Gantt; the rest become projects of
their own. Marts are rebuilt by the product's own SQL, then published.

    .venv/bin/python benchmarks/big_warehouse.py --demo-config lodestar.toml --out /tmp/big --copies 60
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from warehouse.db import open_writer, publish
from warehouse.marts import MARTS, build_mart
from warehouse.settings import Settings, load_settings

# Tables copied once per copy, with their id columns suffixed; the rest are copied once.
REPLICATED = (
    "tasks", "task_links", "status_changes", "comments", "worklogs", "sprints", "plan_schedule",
    "task_predictions", "schedule_violations", "projects", "earned_value", "project_forecasts",
)
COPIED_ONCE = ("people", "identities", "commits", "pull_requests", "sync_state")
# One row per project in these: copies folded into the big project would duplicate it.
PER_PROJECT = ("projects", "earned_value", "project_forecasts")
ID_COLUMNS = {
    "task_id", "parent_task_id", "from_task_id", "to_task_id", "change_id", "comment_id", "worklog_id",
    "source_key", "sprint_id",
}
BIG_PROJECT = "ERP"


def _column_expr(name: str) -> str:
    if name in ID_COLUMNS:
        return f"CASE WHEN r.i = 0 THEN s.{name} ELSE s.{name} || '~' || r.i END AS {name}"
    if name == "project_key":
        return (
            f"CASE WHEN r.i = 0 OR (s.project_key = '{BIG_PROJECT}' AND r.i < $big) THEN s.project_key "
            "ELSE s.project_key || '-' || r.i END AS project_key"
        )
    return f"s.{name}"


def build(demo: Settings, target: Settings, copies: int, big_project_copies: int) -> dict[str, int]:
    """Fill `target`'s warehouse from `demo`'s published snapshot and publish it; returns row counts."""
    counts: dict[str, int] = {}
    with open_writer(target) as con:
        con.execute("ATTACH ? AS src (READ_ONLY)", [str(demo.warehouse.published_path)])
        for table in (*REPLICATED, *COPIED_ONCE):
            columns = [row[0] for row in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'src' "
                "AND table_name = ? ORDER BY ordinal_position", [table]).fetchall()]
            con.execute(f"DELETE FROM main.{table}")
            if table in COPIED_ONCE:
                con.execute(f"INSERT INTO main.{table} SELECT * FROM src.{table}")
            else:
                where = (f"WHERE NOT (s.project_key = '{BIG_PROJECT}' AND r.i BETWEEN 1 AND $big - 1)"
                         if table in PER_PROJECT else "")
                select = ", ".join(_column_expr(c) for c in columns)
                con.execute(
                    f"INSERT INTO main.{table} SELECT {select} FROM src.{table} AS s, "
                    f"range($copies) AS r(i) {where}",
                    {"copies": copies, "big": big_project_copies} if "$big" in select + where
                    else {"copies": copies},
                )
            counts[table] = con.execute(f"SELECT count(*) FROM main.{table}").fetchall()[0][0]
        as_of = con.execute("SELECT max(as_of) FROM src.mart_project_kpis").fetchall()[0][0] or date.today()
        con.execute("DETACH src")
        for mart in MARTS:
            counts[mart] = build_mart(con, mart, as_of)
    publish(target)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-config", required=True, help="config of a synced, published demo warehouse")
    parser.add_argument("--out", required=True, help="folder for the big warehouse and its lodestar.toml")
    parser.add_argument("--copies", type=int, default=60)
    parser.add_argument("--big-project-copies", type=int, default=10)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config = out / "lodestar.toml"
    config.write_text('[warehouse]\npath = "warehouse.duckdb"\n', encoding="utf-8")
    began = time.perf_counter()
    counts = build(load_settings(args.demo_config), load_settings(config), args.copies, args.big_project_copies)
    print(f"built {config} in {time.perf_counter() - began:.1f} s: " +
          ", ".join(f"{table} {n:,}" for table, n in counts.items()))


if __name__ == "__main__":
    main()
