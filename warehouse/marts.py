"""Derived tables: the project register, mirrors of people's edits, and the KPI marts."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from warehouse.db import WRITEBACK_TABLES, EditsStoreError, edits_as_arrow, store_against_snapshot
from warehouse.load import TableCounts, upsert
from warehouse.settings import ProjectSettings, SensitivitySettings, Settings

TRANSFORMS_DIR = Path(__file__).with_name("transforms")
MARTS = ("mart_project_kpis", "mart_project_daily")


def _replace_table(con: duckdb.DuckDBPyConnection, table: str, select_sql: str, params: dict[str, Any] | None = None) -> int:
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM {table}")
        con.execute(f"INSERT INTO {table} {select_sql}", params or {})
        count = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return count


def build_mart(con: duckdb.DuckDBPyConnection, name: str, as_of: date) -> int:
    """Rebuild one mart whole from its .sql file; returns its row count."""
    if name not in MARTS:
        raise ValueError(f"unknown mart {name!r}")
    sql = (TRANSFORMS_DIR / f"{name}.sql").read_text(encoding="utf-8")
    return _replace_table(con, name, sql, {"as_of": as_of})


def mark_sensitive(con: duckdb.DuckDBPyConnection, sensitivity: SensitivitySettings) -> int:
    """Recompute `tasks.is_sensitive` from the `[sensitivity]` rules; returns how many tasks changed."""
    sql = (TRANSFORMS_DIR / "task_sensitivity.sql").read_text(encoding="utf-8")
    params = {"labels": list(sensitivity.labels), "jira_security_levels": sensitivity.jira_security_levels}
    return con.execute(sql, params).fetchall()[0][0]


def refresh_projects(con: duckdb.DuckDBPyConnection, configured: list[ProjectSettings]) -> TableCounts:
    """One row per project seen in tasks or configured; PMO facts from the config win."""
    cursor = con.execute(
        """WITH seen AS (
               SELECT project_key, any_value(source) AS source, max(due_date) AS latest_due,
                      min(created_at)::DATE AS first_day
               FROM tasks WHERE project_key IS NOT NULL AND NOT is_deleted GROUP BY project_key)
           SELECT coalesce(p.project_key, s.project_key) AS project_key,
                  coalesce(p.source, s.source) AS source, p.name, p.description, p.lead_id,
                  p.budget, p.currency, p.hourly_rate, coalesce(p.start_date, s.first_day) AS start_date,
                  coalesce(p.due_date, s.latest_due) AS due_date, p.url
           FROM projects p FULL OUTER JOIN seen s USING (project_key)"""
    )
    columns = [d[0] for d in cursor.description]
    rows = {row[0]: dict(zip(columns, row)) for row in cursor.fetchall()}
    for project in configured:
        row = rows.setdefault(project.key, {"project_key": project.key, "source": "config"})
        row["name"] = project.name or row.get("name") or project.key
        row["currency"] = project.currency
        for attribute in ("budget", "hourly_rate"):
            value = getattr(project, attribute)
            if value is not None:
                row[attribute] = value
        for attribute in ("start_date", "due_date"):
            value = getattr(project, attribute)
            if value:
                row[attribute] = date.fromisoformat(value)
    for row in rows.values():
        row["name"] = row.get("name") or row["project_key"]
    return upsert(con, "projects", list(rows.values()))


def mirror_edits(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, int]:
    """Copy the edits store into the warehouse mirrors (the store stays the source of truth).

    Refuses, leaving the mirrors as they are, when the store is missing, unreadable
    or no longer holds what was mirrored last time: replacing the mirrors then
    would empty every edit and the audit trail.
    """
    tables, problem = store_against_snapshot(settings, con, WRITEBACK_TABLES)
    if problem:
        raise EditsStoreError(problem)
    counts: dict[str, int] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for table in WRITEBACK_TABLES:
            incoming = edits_as_arrow(con, table, tables[table] if tables is not None else [])
            con.execute(f"DELETE FROM {table}")
            if incoming.num_rows:
                con.register("_mirror", incoming)
                con.execute(f"INSERT INTO {table} SELECT * FROM _mirror")
                con.unregister("_mirror")
            counts[table] = incoming.num_rows
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return counts
