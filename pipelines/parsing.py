"""Route stored raw items to their source's pure parse function, one item at a time.

Every item's rows are held to the bounds of `pipelines.common_parse`; an item
whose parser raises comes back with its error instead of rows, for the sync to
quarantine while the other items load.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from pipelines.common_parse import Finding, enforce_bounds
from pipelines.github import parse as github_parse
from pipelines.gitlab import parse as gitlab_parse
from pipelines.jira import parse as jira_parse
from pipelines.raw_store import UnreadablePayload, decode_body
from pipelines.timesheets import parse as timesheet_parse
from warehouse.load import TABLE_KEYS

ISSUE_KINDS = frozenset({"jira_issue", "github_issue", "gitlab_issue"})
TIMESHEET_KINDS = frozenset({"timesheet_file", "timesheet_import"})
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


@dataclass
class ParsedItem:
    """One raw item's rows, held to the bounds; or, when its parser failed, the error and no rows."""

    kind: str
    key: str
    rows: dict[str, list[dict]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    """What `enforce_bounds` nulled, repaired or rejected in `rows`."""
    error: Exception | None = None


class _Parsers:
    """The parse function of each kind of one source, with what they share (the Jira field ids)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, source: Any):
        self.con = con
        self.name = source.name
        self.names = getattr(source, "custom_fields", DEFAULT_JIRA_FIELDS)
        self.overrides = getattr(source, "status_categories", {}) or {}
        self.field_ids: dict[str, str] | None = None

    def rows(self, kind: str, key: str, body: Any) -> dict[str, list[dict]]:
        name = self.name
        if kind == "jira_issue":
            if self.field_ids is None:
                self.field_ids = _jira_field_ids(self.con, name, self.names)
            return jira_parse.parse_issue(body, name, self.field_ids, self.overrides)
        if kind == "jira_project":
            return jira_parse.parse_project(body, name)
        if kind == "jira_sprint":
            return jira_parse.parse_sprint(body, name)
        if kind == "jira_fields":
            return {}
        if kind == "github_issue":
            return github_parse.parse_issue(body, name)
        if kind == "github_pull":
            return github_parse.parse_pull(body, name)
        if kind == "github_commit":
            return github_parse.parse_commit(body, name)
        if kind == "gitlab_issue":
            return gitlab_parse.parse_issue(body, name)
        if kind == "gitlab_merge_request":
            return gitlab_parse.parse_merge_request(body, name)
        if kind == "gitlab_commit":
            return gitlab_parse.parse_commit(body, name, gitlab_parse.commit_repo(body, key))
        extra = gitlab_parse.parse_extra(kind, body, name)
        if extra is None:
            raise ValueError(f"source {name!r}: raw item {key!r} has unknown kind {kind!r}")
        return extra


def _parsed(kind: str, key: str, parse: Callable[[], dict[str, list[dict]]]) -> ParsedItem:
    try:
        rows = parse()
    except Exception as error:  # noqa: BLE001 - one item's failure is that item's, reported with it
        return ParsedItem(kind, key, error=error)
    return ParsedItem(kind, key, rows, enforce_bounds(rows, TABLE_KEYS))


def parse_items(
    con: duckdb.DuckDBPyConnection,
    source: Any,
    items: Iterable[tuple[str, str, Any]],
    timesheet_rules: timesheet_parse.TimesheetRules | None = None,
) -> list[ParsedItem]:
    """Parse each raw item of one source on its own: one that fails does not stop the others.

    `timesheet_rules` are the import's row checks (day total, future dates, project
    starts), so a sync re-parsing a file judges its rows as `import-timesheet` did.
    """
    parsers = _Parsers(con, source)
    parsed: list[ParsedItem] = []
    timesheets: list[tuple[str, str, Any]] = []
    for kind, key, body in items:
        if isinstance(body, UnreadablePayload):
            parsed.append(ParsedItem(kind, key, error=body))
        elif kind in TIMESHEET_KINDS:
            timesheets.append((kind, key, body))
        else:
            parsed.append(_parsed(kind, key, lambda kind=kind, key=key, body=body: parsers.rows(kind, key, body)))
    batch = {"tasks": [row for item in parsed for row in item.rows.get("tasks", [])]}
    columns = getattr(source, "columns", None)
    for kind, key, body in timesheets:
        if kind == "timesheet_file":
            filename, data, skip_bad_rows = key, body, False
        else:
            filename, data, skip_bad_rows = body["filename"], base64.b64decode(body["data_base64"]), body["skip_bad_rows"]
        parsed.append(_parsed(kind, key, lambda f=filename, d=data, s=skip_bad_rows: _timesheet_rows(
            con, source.name, f, d, batch, columns, s, timesheet_rules)))
    return parsed


def parse_raw(con: duckdb.DuckDBPyConnection, source: Any, items: Iterable[tuple[str, str, Any]]) -> dict[str, list[dict]]:
    """Parse raw items of one source into canonical rows; the first item that fails raises its error."""
    rows: dict[str, list[dict]] = {}
    for item in parse_items(con, source, items):
        if item.error is not None:
            raise item.error
        _extend(rows, item.rows)
    return rows


def _timesheet_rows(
    con: duckdb.DuckDBPyConnection,
    source_name: str,
    filename: str,
    data: bytes,
    batch: dict[str, list[dict]],
    column_map: dict[str, str] | None,
    skip_bad_rows: bool = False,
    rules: timesheet_parse.TimesheetRules | None = None,
) -> dict[str, list[dict]]:
    parsed = timesheet_parse.parse_timesheet(data, filename, source_name, column_map or None, rules)
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
