"""The two stages every source goes through: fetch → raw store, raw store → canonical tables.

Each stage commits in one transaction together with its cursor, so a crash
leaves the previous consistent state and the next run resumes from the last
committed cursor.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import duckdb

from pipelines.parsing import ISSUE_KINDS, parse_raw
from pipelines.raw_store import RawItem, iter_raw, latest_fetched_at, store_raw
from warehouse.db import utc_now
from warehouse.identity import manual_mapping, resolve_people
from warehouse.load import LoadReport, load_rows, remap_people, remap_projects
from warehouse.settings import Settings

CANONICAL_SCOPE = "canonical"


@dataclass
class FetchResult:
    items: list[RawItem]
    cursor: str | None
    requests: int = 0
    scope: str = "items"
    complete: bool = False
    """True when `items` is everything the source has (a full fetch), so items not in it are gone."""


class Fetcher(Protocol):
    def fetch(self, since: datetime | None) -> FetchResult: ...


@dataclass
class FetchStats:
    fetched: int
    new: int
    changed: int
    removed: int
    requests: int
    seconds: float
    cursor: str | None
    metadata: dict = field(default_factory=dict)


def get_cursor(con: duckdb.DuckDBPyConnection, source: str, scope: str) -> str | None:
    rows = con.execute("SELECT cursor FROM sync_state WHERE source = ? AND scope = ?", [source, scope]).fetchall()
    return rows[0][0] if rows else None


def set_cursor(con: duckdb.DuckDBPyConnection, source: str, scope: str, cursor: str | None, at: datetime) -> None:
    con.execute(
        """INSERT INTO sync_state (source, scope, cursor, last_success_at, last_attempt_at, last_error)
           VALUES (?, ?, ?, ?, ?, NULL)
           ON CONFLICT (source, scope) DO UPDATE SET cursor = excluded.cursor,
               last_success_at = excluded.last_success_at, last_attempt_at = excluded.last_attempt_at,
               last_error = NULL""",
        [source, scope, cursor, at, at],
    )


def record_failure(con: duckdb.DuckDBPyConnection, source: str, scope: str, error: str, at: datetime) -> None:
    con.execute(
        """INSERT INTO sync_state (source, scope, cursor, last_success_at, last_attempt_at, last_error)
           VALUES (?, ?, NULL, NULL, ?, ?)
           ON CONFLICT (source, scope) DO UPDATE SET last_attempt_at = excluded.last_attempt_at,
               last_error = excluded.last_error""",
        [source, scope, at, error[:2000]],
    )


def since_from_cursor(cursor: str | None, overlap_minutes: int) -> datetime | None:
    if not cursor:
        return None
    return datetime.fromisoformat(cursor) - timedelta(minutes=overlap_minutes)


def fetch_and_store(
    con: duckdb.DuckDBPyConnection, source_name: str, fetcher: Fetcher, overlap_minutes: int, full: bool
) -> FetchStats:
    """Fetch what changed since the cursor (everything when `full`) and store it raw."""
    started = time.perf_counter()
    scope_cursor = None if full else get_cursor(con, source_name, "fetch")
    since = since_from_cursor(scope_cursor, overlap_minutes)
    at = utc_now()
    try:
        result = fetcher.fetch(since)
    except Exception as error:
        record_failure(con, source_name, "fetch", f"{type(error).__name__}: {error}", at)
        raise
    con.execute("BEGIN TRANSACTION")
    try:
        counts = store_raw(con, source_name, result.items, at)
        removed = _remove_vanished(con, source_name, result) if result.complete else 0
        cursor = max(filter(None, [result.cursor, scope_cursor]), default=None)
        set_cursor(con, source_name, "fetch", cursor, at)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return FetchStats(
        fetched=len(result.items),
        new=counts.new,
        changed=counts.changed,
        removed=removed,
        requests=result.requests,
        seconds=time.perf_counter() - started,
        cursor=cursor,
    )


def _remove_vanished(con: duckdb.DuckDBPyConnection, source_name: str, result: FetchResult) -> int:
    """After a complete fetch, drop raw issue items the source no longer has."""
    seen = sorted({item.item_key for item in result.items if item.kind in ISSUE_KINDS})
    condition = "source = ? AND list_contains(?, kind) AND NOT list_contains(?, item_key)"
    params = [source_name, sorted(ISSUE_KINDS), seen]
    removed = con.execute(f"SELECT count(*) FROM raw_payloads WHERE {condition}", params).fetchall()[0][0]
    if removed:
        con.execute(f"DELETE FROM raw_payloads WHERE {condition}", params)
    return removed


def parse_and_load(
    con: duckdb.DuckDBPyConnection, settings: Settings, source_name: str, rebuild: bool = False
) -> LoadReport:
    """Parse raw items stored since the last canonical run and merge them into canonical tables."""
    source = settings.source(source_name)
    watermark_text = None if rebuild else get_cursor(con, source_name, CANONICAL_SCOPE)
    watermark = datetime.fromisoformat(watermark_text) if watermark_text else None
    high_water = latest_fetched_at(con, source_name)
    con.execute("BEGIN TRANSACTION")
    try:
        cleared = _clear_source(con, source_name) if rebuild else {}
        rows = parse_raw(con, source, iter_raw(con, source_name, since=watermark))
        report = LoadReport()
        identity_counts = load_rows(con, source_name, {"identities": rows.pop("identities", [])})
        person_of, people_counts = resolve_people(con, manual_mapping(settings.people))
        remap_people(rows, person_of)
        remap_projects(rows, {alias: p.key for p in settings.projects for alias in p.source_projects})
        report.tables.update(identity_counts.tables)
        report.counts("people").add(people_counts)
        for table, counts in load_rows(con, source_name, rows).tables.items():
            report.counts(table).add(counts)
        report.counts("tasks").deleted += _flag_deleted_tasks(con, source_name)
        for table, count in cleared.items():
            report.counts(table).deleted += count
        set_cursor(
            con, source_name, CANONICAL_SCOPE,
            (high_water or watermark).isoformat() if (high_water or watermark) else None, utc_now(),
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return report


REBUILT_TABLES = ("tasks", "task_links", "status_changes", "comments", "worklogs", "commits", "pull_requests",
                  "sprints", "identities")


def _clear_source(con: duckdb.DuckDBPyConnection, source_name: str) -> dict[str, int]:
    """Drop one source's canonical rows before re-deriving them from its raw payloads."""
    cleared = {}
    for table in REBUILT_TABLES:
        cleared[table] = con.execute(f"SELECT count(*) FROM {table} WHERE source = ?", [source_name]).fetchall()[0][0]
        con.execute(f"DELETE FROM {table} WHERE source = ?", [source_name])
    return cleared


def _flag_deleted_tasks(con: duckdb.DuckDBPyConnection, source_name: str) -> int:
    """Tasks whose raw item is gone (removed by a full reconcile) are flagged, not dropped."""
    condition = """source = ? AND NOT is_deleted AND source_key NOT IN (
        SELECT item_key FROM raw_payloads WHERE source = ? AND list_contains(?, kind))"""
    params = [source_name, source_name, sorted(ISSUE_KINDS)]
    count = con.execute(f"SELECT count(*) FROM tasks WHERE {condition}", params).fetchall()[0][0]
    if count:
        con.execute(f"UPDATE tasks SET is_deleted = TRUE WHERE {condition}", params)
    return count
