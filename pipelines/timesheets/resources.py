"""Timesheet folders as a source: every CSV/XLSX file under the configured paths is one raw item."""

from datetime import datetime, timezone
from pathlib import Path

import dagster as dg

from pipelines.raw_store import RawItem
from pipelines.sync import FetchResult
from pipelines.timesheets.parse import TimesheetRules
from warehouse.settings import TIMESHEET_MAX_FILE_MB

TIMESHEET_SUFFIXES = (".csv", ".xlsx")


def timesheet_files(paths: list[str]) -> list[Path]:
    """Files named directly, and timesheet files inside named folders, in a stable order."""
    found: list[Path] = []
    for entry in map(Path, paths):
        if entry.is_dir():
            found += [p for p in sorted(entry.rglob("*")) if p.suffix.lower() in TIMESHEET_SUFFIXES and p.is_file()]
        elif entry.is_file():
            found.append(entry)
        else:
            raise FileNotFoundError(f"timesheet path {entry} does not exist")
    return found


class TimesheetFolder(dg.ConfigurableResource):
    """Reads timesheet files changed since the cursor (by modification time).

    A file over `max_file_mb` stops the fetch with the file and the limit
    named, before it is read: storing it would only move the problem to the
    parse, and reading it is what the limit is there to prevent.
    """

    paths: list[str] = []
    max_file_mb: float = TIMESHEET_MAX_FILE_MB

    def fetch(self, since: datetime | None) -> FetchResult:
        items: list[RawItem] = []
        newest: datetime | None = None
        rules = TimesheetRules(max_file_mb=self.max_file_mb)
        for path in timesheet_files(self.paths):
            status = path.stat()
            modified = datetime.fromtimestamp(status.st_mtime, tz=timezone.utc).replace(tzinfo=None)
            newest = max(filter(None, [newest, modified]), default=None)
            if since is None or modified >= since:
                too_big = rules.file_size_problem(status.st_size)
                if too_big:
                    raise ValueError(f"timesheet file {path}: {too_big}")
                items.append(RawItem("timesheet_file", str(path.resolve()), modified, path.read_bytes()))
        return FetchResult(items=items, cursor=newest.isoformat() if newest else None, requests=0,
                           scope="files", complete=False)
