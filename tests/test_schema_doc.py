"""Migrations apply cleanly, and SCHEMA.md documents every table and column they create."""

import re
from pathlib import Path

from warehouse.db import apply_migrations, migration_files, open_writer

CONTRACT = {
    "tasks": ["task_id", "source", "source_key", "project_key", "parent_task_id", "title", "description", "type",
              "type_category", "status", "status_category", "priority", "assignee_id", "reporter_id", "created_at",
              "updated_at", "started_at", "resolved_at", "due_date", "planned_start", "planned_finish",
              "estimate_hours", "spent_hours", "story_points", "sprint_id", "labels", "url"],
    "task_links": ["from_task_id", "to_task_id", "link_type", "dependency", "lag_days"],
    "status_changes": ["task_id", "changed_at", "from_status", "to_status", "author_id"],
    "worklogs": ["worklog_id", "task_id", "person_id", "started_at", "hours", "source"],
    "commits": ["sha", "repo", "author_id", "authored_at", "message", "additions", "deletions", "task_ids"],
    "pull_requests": ["source", "repo", "number", "state", "author_id", "created_at", "merged_at", "closed_at",
                      "task_ids"],
    "sync_state": ["source", "scope", "cursor", "last_success_at"],
    "comments": [], "sprints": [], "projects": ["budget"], "people": [], "identities": [],
    "risks": [], "standups": [], "baselines": [], "audit_log": [],
}


def _columns(con) -> dict[str, list[str]]:
    rows = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
    ).fetchall()
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        tables.setdefault(table, []).append(column)
    return tables


def test_contract_tables_and_columns_exist(empty_settings):
    with open_writer(empty_settings) as con:
        tables = _columns(con)
    for table, columns in CONTRACT.items():
        assert table in tables, table
        assert set(columns) <= set(tables[table]), (table, set(columns) - set(tables[table]))


def test_migrations_are_recorded_and_not_reapplied(empty_settings):
    with open_writer(empty_settings) as con:
        assert apply_migrations(con) == []
        versions = [r[0] for r in con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()]
    assert versions == [p.stem for p in migration_files()]


def test_schema_doc_names_every_column(empty_settings):
    doc = (Path(__file__).resolve().parents[1] / "warehouse" / "SCHEMA.md").read_text(encoding="utf-8")
    with open_writer(empty_settings) as con:
        tables = _columns(con)
    missing = []
    for table, columns in tables.items():
        section = re.search(rf"^(###|`schema_migrations`)[^\n]*`{table}`.*?(?=\n### |\n## |\Z)", doc, re.S | re.M)
        if not section:
            missing.append(table)
            continue
        missing += [f"{table}.{c}" for c in columns if f"`{c}`" not in section.group(0)]
    assert missing == []
