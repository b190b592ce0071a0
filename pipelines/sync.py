"""The two stages every source goes through: fetch → raw store, raw store → canonical tables.

Each stage commits in one transaction together with its cursor, so a crash
leaves the previous consistent state and the next run resumes from the last
committed cursor. A stage that fails records why in `sync_state` and changes
nothing else: the source keeps its last good rows.

Within a stage each record stands alone: one that cannot be stored, parsed or
loaded is quarantined (`pipelines.quarantine`) and the others go on; quarantined
records are tried again by every later run, and leave once they load.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import duckdb

from pipelines import quarantine
from pipelines.http import failure_line
from pipelines.parsing import ISSUE_KINDS, ParsedItem, parse_items
from pipelines.raw_store import RawItem, iter_raw, latest_fetched_at, store_raw
from pipelines.timesheets.parse import TimesheetRules
from warehouse.db import utc_now
from warehouse.identity import manual_mapping, resolve_people
from warehouse.load import LoadReport, load_rows, remap_people, remap_projects, row_problems
from warehouse.marts import mark_sensitive
from warehouse.settings import Settings, TimesheetSource

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
    quarantined: int = 0
    """Items that could not be stored (see `pipelines.raw_store`)."""


def get_cursor(con: duckdb.DuckDBPyConnection, source: str, scope: str) -> str | None:
    rows = con.execute("SELECT cursor FROM sync_state WHERE source = ? AND scope = ?", [source, scope]).fetchall()
    return rows[0][0] if rows else None


def set_cursor(con: duckdb.DuckDBPyConnection, source: str, scope: str, cursor: str | None, at: datetime) -> None:
    con.execute(
        """INSERT INTO sync_state (source, scope, cursor, last_success_at, last_attempt_at, last_error, failing_since)
           VALUES (?, ?, ?, ?, ?, NULL, NULL)
           ON CONFLICT (source, scope) DO UPDATE SET cursor = excluded.cursor,
               last_success_at = excluded.last_success_at, last_attempt_at = excluded.last_attempt_at,
               last_error = NULL, failing_since = NULL""",
        [source, scope, cursor, at, at],
    )


def record_failure(con: duckdb.DuckDBPyConnection, source: str, scope: str, error: str, at: datetime) -> None:
    """The stage failed at `at` with `error` (one line); its cursor and last success stay as they were."""
    con.execute(
        """INSERT INTO sync_state (source, scope, cursor, last_success_at, last_attempt_at, last_error, failing_since)
           VALUES (?, ?, NULL, NULL, ?, ?, ?)
           ON CONFLICT (source, scope) DO UPDATE SET last_attempt_at = excluded.last_attempt_at,
               last_error = excluded.last_error,
               failing_since = coalesce(sync_state.failing_since, excluded.failing_since)""",
        [source, scope, at, error[:2000], at],
    )


def since_from_cursor(cursor: str | None, overlap_minutes: int) -> datetime | None:
    if not cursor:
        return None
    return datetime.fromisoformat(cursor) - timedelta(minutes=overlap_minutes)


class StageFailed(Exception):
    """A stage of one source failed as a whole and changed nothing; `line` (recorded in sync_state) says why."""

    def __init__(self, source: str, scope: str, line: str):
        super().__init__(f"{source}: {line}")
        self.source, self.scope, self.line = source, scope, line


def _failed(con: duckdb.DuckDBPyConnection, source: str, scope: str, error: Exception, at: datetime,
            url: str | None = None) -> StageFailed:
    line = failure_line(error, url)
    record_failure(con, source, scope, line, at)
    return StageFailed(source, scope, line)


def fetch_and_store(
    con: duckdb.DuckDBPyConnection, source_name: str, fetcher: Fetcher, overlap_minutes: int, full: bool,
    url: str | None = None,
) -> FetchStats:
    """Fetch what changed since the cursor (everything when `full`) and store it raw.

    Any failure is recorded in sync_state (naming `url`, the source's address, when no
    connection could be made) and raised as StageFailed, with nothing stored.
    """
    started = time.perf_counter()
    scope_cursor = None if full else get_cursor(con, source_name, "fetch")
    since = since_from_cursor(scope_cursor, overlap_minutes)
    at = utc_now()
    try:
        result = fetcher.fetch(since)
        con.execute("BEGIN TRANSACTION")
        try:
            counts = store_raw(con, source_name, result.items, at)
            removed = _remove_vanished(con, source_name, result, at) if result.complete else 0
            cursor = max(filter(None, [result.cursor, scope_cursor]), default=None)
            set_cursor(con, source_name, "fetch", cursor, at)
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    except Exception as error:
        raise _failed(con, source_name, "fetch", error, at, url) from error
    return FetchStats(
        fetched=len(result.items),
        new=counts.new,
        changed=counts.changed,
        removed=removed,
        requests=result.requests,
        seconds=time.perf_counter() - started,
        cursor=cursor,
        quarantined=len(counts.quarantined),
    )


def _remove_vanished(con: duckdb.DuckDBPyConnection, source_name: str, result: FetchResult, at: datetime) -> int:
    """After a complete fetch, drop raw issue items the source no longer has, and the unstorable items it
    no longer sends from the quarantine."""
    seen = sorted({item.item_key for item in result.items if item.kind in ISSUE_KINDS})
    condition = "source = ? AND list_contains(?, kind) AND NOT list_contains(?, item_key)"
    params = [source_name, sorted(ISSUE_KINDS), seen]
    removed = con.execute(f"SELECT count(*) FROM raw_payloads WHERE {condition}", params).fetchall()[0][0]
    if removed:
        con.execute(f"DELETE FROM raw_payloads WHERE {condition}", params)
    sent = {(item.kind, item.item_key) for item in result.items}
    unstorable = con.execute("SELECT item_kind, item_key FROM quarantine WHERE source = ? AND stage = ?",
                             [source_name, quarantine.STORE]).fetchall()
    quarantine.replace(con, source_name, [quarantine.STORE], [k for k in unstorable if tuple(k) not in sent], [], at)
    return removed


def parse_and_load(
    con: duckdb.DuckDBPyConnection, settings: Settings, source_name: str, rebuild: bool = False
) -> LoadReport:
    """Parse raw items stored since the last canonical run (and those in quarantine) and merge them into
    canonical tables; an item that cannot be parsed or loaded is quarantined and the others load."""
    source = settings.source(source_name)
    watermark_text = None if rebuild else get_cursor(con, source_name, CANONICAL_SCOPE)
    watermark = datetime.fromisoformat(watermark_text) if watermark_text else None
    high_water = latest_fetched_at(con, source_name)
    at = utc_now()
    con.execute("BEGIN TRANSACTION")
    try:
        cleared = _clear_source(con, source_name) if rebuild else {}
        retried = quarantine.retried_items(con, source_name) if watermark is not None else []
        rules = TimesheetRules.from_settings(settings, source) if isinstance(source, TimesheetSource) else None
        parsed = parse_items(con, source, iter_raw(con, source_name, since=watermark, also=retried), rules)
        rows, entries = _loadable(con, parsed)
        quarantine.replace(con, source_name, [quarantine.PARSE, quarantine.LOAD],
                           [(item.kind, item.key) for item in parsed], entries, at)
        quarantine.forget_vanished(con, source_name)
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
        mark_sensitive(con, settings.sensitivity)
        for table, count in cleared.items():
            report.counts(table).deleted += count
        set_cursor(
            con, source_name, CANONICAL_SCOPE,
            (high_water or watermark).isoformat() if (high_water or watermark) else None, utc_now(),
        )
        con.execute("COMMIT")
    except Exception as error:
        con.execute("ROLLBACK")
        raise _failed(con, source_name, CANONICAL_SCOPE, error, at) from error
    return report


def _loadable(
    con: duckdb.DuckDBPyConnection, parsed: list[ParsedItem]
) -> tuple[dict[str, list[dict]], list[quarantine.Entry]]:
    """The rows of the items that parsed and will load, and the quarantine entries of every item.

    An item whose parser raised, or one of whose rows would fail the load (checked
    before anything is written), is left out whole, so its tables keep the rows of
    its last good version.
    """
    entries: dict[int, list[quarantine.Entry]] = {}
    for index, item in enumerate(parsed):
        if item.error is not None:
            entries[index] = [quarantine.Entry(item.kind, item.key, quarantine.RECORD, quarantine.PARSE,
                                               quarantine.one_line(f"{type(item.error).__name__}: {item.error}"))]
        else:
            entries[index] = [quarantine.Entry(item.kind, item.key, f.kind, quarantine.PARSE, f.reason, f.field,
                                               f.row_id) for f in item.findings]
    loaded = [index for index, item in enumerate(parsed) if item.error is None]
    rows, owners = _gather(parsed, loaded)
    unloadable: dict[int, str] = {}
    for table, table_rows in rows.items():
        for row, why in row_problems(con, table, table_rows):
            unloadable.setdefault(owners[table][row], why)
    if unloadable:
        for index, why in unloadable.items():
            item = parsed[index]
            entries[index] = [quarantine.Entry(item.kind, item.key, quarantine.RECORD, quarantine.LOAD,
                                               quarantine.one_line(f"cannot be loaded: {why}"))]
        rows, _ = _gather(parsed, [index for index in loaded if index not in unloadable])
    return rows, [entry for item_entries in entries.values() for entry in item_entries]


def _gather(parsed: list[ParsedItem], indices: list[int]) -> tuple[dict[str, list[dict]], dict[str, list[int]]]:
    """The rows of `parsed[i]` for i in `indices`, by table, and for each row the index of its item."""
    rows: dict[str, list[dict]] = {}
    owners: dict[str, list[int]] = {}
    for index in indices:
        for table, table_rows in parsed[index].rows.items():
            rows.setdefault(table, []).extend(table_rows)
            owners.setdefault(table, []).extend([index] * len(table_rows))
    return rows, owners


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
