"""`lodestar import-timesheet`: validate a file first, store it raw only when it may be loaded.

A file with bad rows imports nothing (every bad row is listed with its row
number and reason) unless the user asks to skip them; then only the good rows
load and the count of skipped rows is said. A file over the source's size
limit is refused from its size on disk, before a byte of it is read. The
rows are in the warehouse, committed with the file's import marker, before
the sync that publishes them starts.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.parsing import _task_ids_by_key
from pipelines.raw_store import RawItem, store_raw
from pipelines.sync import CANONICAL_SCOPE, get_cursor, set_cursor
from pipelines.timesheets.parse import TimesheetRules, parse_timesheet
from warehouse.db import open_writer, utc_now
from warehouse.identity import manual_mapping, resolve_people
from warehouse.load import load_rows, remap_people
from warehouse.settings import Settings, TimesheetSource

DEFAULT_SOURCE = "timesheets"


class TimesheetImportError(ValueError):
    """The file cannot be imported as it is; the message lists why, row by row."""


@dataclass
class ImportOutcome:
    message: str
    source_name: str | None
    good_rows: int
    skipped_rows: int


def timesheet_source(settings: Settings, name: str | None) -> TimesheetSource:
    """The configured timesheet source to import into; an import-only one when none is configured."""
    candidates = [s for s in settings.sources if s.kind == "timesheet" and (name is None or s.name == name)]
    if candidates:
        return candidates[0]
    if name is not None and any(s.name == name for s in settings.sources):
        raise TimesheetImportError(f"source {name!r} is not a timesheet source")
    source = TimesheetSource(kind="timesheet", name=name or DEFAULT_SOURCE)
    settings.sources.append(source)
    return source


def import_timesheet(settings: Settings, path: Path, source_name: str | None, skip_bad_rows: bool) -> ImportOutcome:
    if not path.is_file():
        raise TimesheetImportError(f"{path}: file not found")
    source = timesheet_source(settings, source_name)
    rules = TimesheetRules.from_settings(settings, source)
    too_big = rules.file_size_problem(path.stat().st_size)
    if too_big:
        raise TimesheetImportError(f"{path}: {too_big}; nothing was imported")
    data = path.read_bytes()
    parsed = parse_timesheet(data, path.name, source.name, source.columns or None, rules)
    good = len(parsed.rows.get("worklogs", []))
    bad_rows = {e.row for e in parsed.errors}
    if parsed.errors and not (skip_bad_rows and good):
        lines = [f"{path}: {len(parsed.errors)} problem(s); nothing was imported"]
        for error in parsed.errors:
            where = f"row {error.row}" if error.row is not None else "file"
            column = f", column {error.column}" if error.column else ""
            value = f" (value {error.value!r})" if error.value not in (None, "") else ""
            lines.append(f"  {where}{column}: {error.reason}{value}")
        if good and not skip_bad_rows:
            lines.append(f"fix the rows above, or rerun with --skip-bad-rows to import the {good} good row(s)")
        raise TimesheetImportError("\n".join(lines))
    digest = hashlib.sha256(data).hexdigest()
    body = {
        "filename": path.name,
        "skip_bad_rows": bool(parsed.errors),
        "data_base64": base64.b64encode(data).decode("ascii"),
    }
    item = RawItem("timesheet_import", f"{path.name}@{digest[:16]}", None, body)
    with open_writer(settings) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            loaded = _stage_and_load(con, settings, source.name, item, parsed.rows)
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    skipped = len(bad_rows)
    if not loaded:
        return ImportOutcome(f"{path}: already imported ({good} row(s)); nothing to do", None, good, skipped)
    message = f"{path}: {good} row(s) imported into source {source.name!r}"
    if skipped:
        message += f"; {skipped} bad row(s) skipped"
    return ImportOutcome(message, source.name, good, skipped)


def _stage_and_load(
    con: duckdb.DuckDBPyConnection, settings: Settings, source_name: str, item: RawItem, rows: dict[str, list[dict]]
) -> bool:
    """Store the file raw and load its rows, in the caller's transaction; False when that was done before.

    The raw item is the import marker ("already imported"), so it must never
    be committed without the rows: a crash between the two would leave a
    marker that makes every re-import a no-op while the rows are missing.
    Here both commit or neither does, and a marker left without rows (by a
    crash under an older Lodestar, which committed the marker alone) counts
    as not imported: it is imported only once the source's canonical cursor,
    committed with rows, has passed it.

    The rows are loaded here rather than by the sync's canonical stage, which
    is then told they are done by moving that cursor past the marker, when no
    other raw item of the source is waiting for the stage: it parses with the
    parser's default rules, not this import's, and would read a large file twice.
    """
    loaded_up_to = _canonical_cursor(con, source_name)
    others_waiting = con.execute(
        "SELECT max(fetched_at) FROM raw_payloads WHERE source = ? AND NOT (kind = ? AND item_key = ?)",
        [source_name, item.kind, item.item_key],
    ).fetchall()[0][0]
    counts = store_raw(con, source_name, [item], utc_now())
    staged_at = con.execute(
        "SELECT fetched_at FROM raw_payloads WHERE source = ? AND kind = ? AND item_key = ?",
        [source_name, item.kind, item.item_key],
    ).fetchall()[0][0]
    if not (counts.new or counts.changed) and loaded_up_to is not None and staged_at <= loaded_up_to:
        return False
    worklogs = rows["worklogs"]
    task_of = _task_ids_by_key(con, (w["task_key"] for w in worklogs), source_name)
    for worklog in worklogs:
        worklog["task_id"] = task_of.get(worklog.pop("task_key"))
    load_rows(con, source_name, {"identities": rows["identities"]})
    person_of, _ = resolve_people(con, manual_mapping(settings.people))
    remap_people(rows, person_of)
    load_rows(con, source_name, {"worklogs": worklogs})
    if others_waiting is None or (loaded_up_to is not None and others_waiting <= loaded_up_to):
        done_up_to = max(filter(None, [staged_at, loaded_up_to]))
        set_cursor(con, source_name, CANONICAL_SCOPE, done_up_to.isoformat(), utc_now())
    return True


def _canonical_cursor(con: duckdb.DuckDBPyConnection, source_name: str) -> datetime | None:
    cursor = get_cursor(con, source_name, CANONICAL_SCOPE)
    return datetime.fromisoformat(cursor) if cursor else None
