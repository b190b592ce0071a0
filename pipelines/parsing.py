"""Route stored raw items to their source's pure parse function and gather the rows."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

import duckdb

from pipelines.github import parse as github_parse
from pipelines.gitlab import parse as gitlab_parse
from pipelines.jira import parse as jira_parse
from pipelines.raw_store import decode_body
from pipelines.timesheets import parse as timesheet_parse

ISSUE_KINDS = frozenset({"jira_issue", "github_issue", "gitlab_issue"})
DEFAULT_JIRA_FIELDS = {
    "story_points": "Story Points",
    "sprint": "Sprint",
    "epic_link": "Epic Link",
    "start_date": "Start date",
    "target_end": "Target end",
}


class TimesheetRowsRejected(ValueError):
    """A timesheet with bad rows: nothing from it is loaded until it is fixed."""


def _extend(rows: dict[str, list[dict]], more: dict[str, list[dict]]) -> None:
    for table, table_rows in more.items():
        rows.setdefault(table, []).extend(table_rows)


def _jira_field_ids(con: duckdb.DuckDBPyConnection, source_name: str, names: dict[str, str]) -> dict[str, str]:
    rows = con.execute(
        "SELECT payload FROM raw_payloads WHERE source = ? AND kind = 'jira_fields' ORDER BY fetched_at DESC LIMIT 1",
        [source_name],
    ).fetchall()
    if not rows:
        return {}
    return jira_parse.resolve_field_ids(decode_body("jira_fields", rows[0][0]), names)


def _task_ids_by_key(con: duckdb.DuckDBPyConnection, keys: Iterable[str], source_name: str) -> dict[str, str]:
    """Resolve task keys written by people (timesheets) to task ids, preferring the same source."""
    keys = sorted({k for k in keys if k})
    if not keys:
        return {}
    found = con.execute(
        """SELECT source_key, task_id FROM tasks
           WHERE list_contains(?, source_key)
           ORDER BY (source = ?) DESC, task_id""",
        [keys, source_name],
    ).fetchall()
    resolved: dict[str, str] = {}
    for key, task_id in found:
        resolved.setdefault(key, task_id)
    return resolved


def parse_raw(con: duckdb.DuckDBPyConnection, source: Any, items: Iterable[tuple[str, str, Any]]) -> dict[str, list[dict]]:
    """Parse raw items of one source into canonical rows."""
    name = source.name
    names = getattr(source, "custom_fields", DEFAULT_JIRA_FIELDS)
    overrides = getattr(source, "status_categories", {}) or {}
    field_ids: dict[str, str] | None = None
    rows: dict[str, list[dict]] = {}
    timesheets: list[tuple[str, bytes, bool]] = []
    for kind, key, body in items:
        if kind == "jira_issue":
            if field_ids is None:
                field_ids = _jira_field_ids(con, name, names)
            _extend(rows, jira_parse.parse_issue(body, name, field_ids, overrides))
        elif kind == "jira_project":
            _extend(rows, jira_parse.parse_project(body, name))
        elif kind == "jira_sprint":
            _extend(rows, jira_parse.parse_sprint(body, name))
        elif kind == "jira_fields":
            continue
        elif kind == "github_issue":
            _extend(rows, github_parse.parse_issue(body, name))
        elif kind == "github_pull":
            _extend(rows, github_parse.parse_pull(body, name))
        elif kind == "github_commit":
            _extend(rows, github_parse.parse_commit(body, name))
        elif kind == "gitlab_issue":
            _extend(rows, gitlab_parse.parse_issue(body, name))
        elif kind == "gitlab_merge_request":
            _extend(rows, gitlab_parse.parse_merge_request(body, name))
        elif kind == "gitlab_commit":
            _extend(rows, gitlab_parse.parse_commit(body, name, gitlab_parse.commit_repo(body, key)))
        elif kind == "timesheet_file":
            timesheets.append((key, body, False))
        elif kind == "timesheet_import":
            timesheets.append((body["filename"], base64.b64decode(body["data_base64"]), body["skip_bad_rows"]))
        else:
            extra = gitlab_parse.parse_extra(kind, body, name)
            if extra is None:
                raise ValueError(f"source {name!r}: raw item {key!r} has unknown kind {kind!r}")
            _extend(rows, extra)
    for filename, data, skip_bad_rows in timesheets:
        _extend(rows, _timesheet_rows(con, name, filename, data, rows, getattr(source, "columns", None), skip_bad_rows))
    return rows


def _timesheet_rows(
    con: duckdb.DuckDBPyConnection,
    source_name: str,
    filename: str,
    data: bytes,
    batch: dict[str, list[dict]],
    column_map: dict[str, str] | None,
    skip_bad_rows: bool = False,
) -> dict[str, list[dict]]:
    parsed = timesheet_parse.parse_timesheet(data, filename, source_name, column_map or None)
    if parsed.errors and not skip_bad_rows:
        details = "; ".join(
            f"row {e.row} {e.column}={e.value!r}: {e.reason}" for e in parsed.errors[:20]
        )
        more = f" (and {len(parsed.errors) - 20} more)" if len(parsed.errors) > 20 else ""
        raise TimesheetRowsRejected(f"{filename}: {len(parsed.errors)} bad row(s): {details}{more}")
    worklogs = parsed.rows.get("worklogs", [])
    in_batch = {row["source_key"]: row["task_id"] for row in batch.get("tasks", [])}
    known = _task_ids_by_key(con, (w.get("task_key") for w in worklogs if w.get("task_key") not in in_batch), source_name)
    for worklog in worklogs:
        key = worklog.pop("task_key", None)
        if key:
            worklog["task_id"] = in_batch.get(key) or known.get(key)
    return parsed.rows
