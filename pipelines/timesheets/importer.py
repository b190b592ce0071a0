"""`lodestar import-timesheet`: validate a file first, store it raw only when it may be loaded.

A file with bad rows imports nothing (every bad row is listed with its row
number and reason) unless the user asks to skip them; then only the good rows
load and the count of skipped rows is said. A file over the source's size
limit is refused from its size on disk, before a byte of it is read.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

from pipelines.raw_store import RawItem, store_raw
from pipelines.timesheets.parse import TimesheetRules, parse_timesheet
from warehouse.db import open_writer, utc_now
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
    with open_writer(settings) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            counts = store_raw(con, source.name, [RawItem("timesheet_import", f"{path.name}@{digest[:16]}", None, body)],
                               utc_now())
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    skipped = len(bad_rows)
    if counts.new == 0:
        return ImportOutcome(f"{path}: already imported ({good} row(s)); nothing to do", None, good, skipped)
    message = f"{path}: {good} row(s) to import into source {source.name!r}"
    if skipped:
        message += f"; {skipped} bad row(s) skipped"
    return ImportOutcome(message, source.name, good, skipped)
