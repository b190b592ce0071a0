"""Pure parser for timesheet files (`timesheet_file`): CSV or XLSX bytes in, worklog rows out.

Timesheets are typed by hand, so every bad row becomes a `RowError` the user
can find in the file (row numbers as a spreadsheet shows them) instead of an
exception that would drop the whole file. Beyond its own cells a row is
checked against the file and the configuration (`TimesheetRules`): a person's
day adding up to more than `max_hours_per_day`, a date after today in the
calendar time zone or before its project's `start_date`, and a row repeating
an earlier one exactly are reported the same way.

Files come from people, so their size is not to be trusted: a file over the
source's `max_file_mb`, or an xlsx whose parts unzip to more than
`max_unzipped_mb` (summed from the zip directory before the workbook is
opened), is refused with the limit named. Rows are then streamed, from a CSV
record by record and from an xlsx through openpyxl's read-only reader, so
memory grows with the worklogs kept, not with the text or XML behind them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import chain, islice
from typing import Any
from zoneinfo import ZoneInfo

from pipelines.common_parse import identity_row, merge_identities
from warehouse.delimited import iter_csv_records
from warehouse.settings import (
    TIMESHEET_MAX_FILE_MB,
    TIMESHEET_MAX_HOURS_PER_DAY,
    TIMESHEET_MAX_UNZIPPED_MB,
    Settings,
    TimesheetSource,
)

MB = 1 << 20


@dataclass(frozen=True)
class RowError:
    """One problem, located as the user sees it: `row` 1 is the file's first row."""

    row: int | None
    column: str | None
    value: str | None
    reason: str


@dataclass
class TimesheetParse:
    """Rows for `worklogs` and `identities`, plus the problems found on the way."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {"worklogs": [], "identities": []})
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class TimesheetRules:
    """What a file and its rows must keep to beyond their own cells.

    The defaults are a timesheet source's defaults, with no future-date or
    project-start check: those need the calendar and the projects of a
    configuration, which `from_settings` brings.
    """

    max_file_mb: float = TIMESHEET_MAX_FILE_MB
    max_unzipped_mb: float = TIMESHEET_MAX_UNZIPPED_MB
    max_hours_per_day: float = TIMESHEET_MAX_HOURS_PER_DAY
    today: date | None = None
    zone: str | None = None
    project_starts: Mapping[str, tuple[str, date]] = field(default_factory=dict)
    """Project key or tool project (`source_projects`), case-folded → (project key, start date)."""

    @classmethod
    def from_settings(cls, settings: Settings, source: TimesheetSource, now: datetime | None = None) -> TimesheetRules:
        """The source's limits, today in the calendar time zone and every configured project start."""
        zone = settings.calendar.timezone
        local_now = (now or datetime.now(ZoneInfo("UTC"))).astimezone(ZoneInfo(zone))
        starts = {}
        for project in settings.projects:
            if project.start_date:
                for name in (project.key, *project.source_projects):
                    starts[name.casefold()] = (project.key, date.fromisoformat(project.start_date))
        return cls(max_file_mb=source.max_file_mb, max_unzipped_mb=source.max_unzipped_mb,
                   max_hours_per_day=source.max_hours_per_day, today=local_now.date(), zone=zone,
                   project_starts=starts)

    def file_size_problem(self, size: int) -> str | None:
        """Why a file of `size` bytes is refused, or None; checked before the file is read, where it can be."""
        if size <= self.max_file_mb * MB:
            return None
        return (f"the file is {_megabytes(size)}, over the {self.max_file_mb:g} MB limit "
                "(max_file_mb of the timesheet source)")

    def unzipped_size_problem(self, size: int) -> str | None:
        if size <= self.max_unzipped_mb * MB:
            return None
        return (f"the workbook unzips to {_megabytes(size)}, over the {self.max_unzipped_mb:g} MB limit "
                "(max_unzipped_mb of the timesheet source)")


def _megabytes(size: int) -> str:
    return f"{size / MB:.3g} MB"


HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "person": ("person", "name", "employee", "staff", "member", "姓名", "员工", "人员", "员工姓名", "成员"),
    "date": ("date", "day", "workdate", "日期", "工作日期"),
    "hours": ("hours", "hour", "hrs", "timespent", "工时", "小时", "小时数", "工时数"),
    "task": ("task", "taskkey", "taskid", "issue", "issuekey", "ticket", "任务", "任务编号", "任务号", "任务id"),
    "comment": ("comment", "comments", "note", "notes", "description", "备注", "说明", "工作内容"),
    "email": ("email", "mail", "emailaddress", "邮箱", "电子邮箱", "邮件"),
}
REQUIRED = ("person", "date", "hours")
_TOTAL_MARKERS = frozenset({"合计", "总计", "小计", "total", "sum", "subtotal"})
_HEADER_SCAN_ROWS = 20
_EXCEL_EPOCH = date(1899, 12, 30)
_DATE_HINT = "unparseable date (use e.g. 2024-01-31, 2024/1/31 or 2024年1月31日)"


def parse_timesheet(
    data: bytes,
    filename: str,
    source: str,
    column_map: Mapping[str, str] | None = None,
    rules: TimesheetRules | None = None,
) -> TimesheetParse:
    """Parse one timesheet file; never raises on bad content.

    `column_map` maps a header used in the file to a Lodestar field (person,
    date, hours, task, comment, email), as `[sources.columns]` in the config
    does, for headers the built-in English/Chinese aliases do not know; the
    reverse form (field → header) is accepted too. Worklogs carry
    `task_id=None` and the raw `task_key`, which the loader resolves.

    A problem with the file as a whole (size, encoding, a damaged workbook,
    even one found half-way through) is the one error reported, and no row is
    returned, so a partly read file can never be imported as if it were whole.
    """
    result = TimesheetParse()
    try:
        _parse_rows(data, filename, source, column_map or {}, rules or TimesheetRules(), result)
    except _FileProblem as problem:
        return TimesheetParse(errors=[RowError(problem.row, None, filename, f"{filename}: {problem}")])
    return result


def _parse_rows(
    data: bytes, filename: str, source: str, column_map: Mapping[str, str], rules: TimesheetRules,
    result: TimesheetParse,
) -> None:
    size_problem = rules.file_size_problem(len(data))
    if size_problem:
        raise _FileProblem(size_problem)
    table = _read_table(data, filename, rules)
    head = list(islice(table, _HEADER_SCAN_ROWS))
    configured = _configured_headers(column_map)
    header_row, columns = _find_header(head, configured)
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        expected = "; ".join(f"{name}: {', '.join(_expected_names(name, configured))}" for name in missing)
        result.errors.append(RowError(
            header_row, None, filename,
            f"{filename}: missing required column(s) {', '.join(missing)}; expected a header row with {expected}",
        ))
        return

    headers = {name: _text(text) or name for name, text in _header_texts(head, header_row, columns).items()}
    # Identities and days are shared between the rows naming them: one object each, not one per row.
    identities: dict[tuple[str, str, str | None], dict[str, Any]] = {}
    days: dict[datetime, datetime] = {}
    first_row_of: dict[bytes, int] = {}
    worklogs: list[dict[str, Any]] = []
    row_numbers: list[int] = []
    for row_number, cells in chain(head, table):
        if row_number <= header_row or not any(_text(c) for c in cells):
            continue
        values = {name: (cells[index] if index < len(cells) else None) for name, index in columns.items()}
        parsed = _parse_row(row_number, values, headers, source, rules, result.errors)
        if parsed is None:
            continue
        worklog, identity, content = parsed
        # The "|1" keeps the ids of worklogs imported when a repeated row was a second worklog.
        digest = hashlib.sha256(f"{json.dumps(content, ensure_ascii=False)}|1".encode()).digest()[:16]
        first = first_row_of.setdefault(digest, row_number)
        if first != row_number:
            result.errors.append(RowError(row_number, None, None,
                                          f"duplicate of row {first} (same person, date, hours, task and comment)"))
            continue
        worklog["worklog_id"] = f"{source}:timesheet:{digest.hex()}"
        identity = identities.setdefault((identity["identity_id"], identity["display_name"], identity["email"]),
                                         identity)
        worklog["person_id"] = identity["identity_id"]
        worklog["started_at"] = days.setdefault(worklog["started_at"], worklog["started_at"])
        worklogs.append(worklog)
        row_numbers.append(row_number)
    names = {key[0]: key[1] for key in identities}
    kept = _drop_long_days(worklogs, row_numbers, names, headers["hours"], rules.max_hours_per_day, result.errors)
    people = {worklog["person_id"] for worklog in kept}
    result.rows["worklogs"] = kept
    result.rows["identities"] = merge_identities(i for key, i in identities.items() if key[0] in people)
    result.errors.sort(key=lambda error: error.row or 0)


def _drop_long_days(
    worklogs: list[dict[str, Any]], row_numbers: list[int], names: Mapping[str, str], column: str,
    max_hours: float, errors: list[RowError],
) -> list[dict[str, Any]]:
    """The worklogs of person-days within `max_hours`; every row of a longer day becomes an error.

    All of the day's rows are reported, since any of them may be the mistake.
    """
    totals: defaultdict[tuple[str, datetime], float] = defaultdict(float)
    for worklog in worklogs:
        totals[worklog["person_id"], worklog["started_at"]] += worklog["hours"]
    long_days = {day for day, total in totals.items() if total > max_hours + 1e-9}
    if not long_days:
        return worklogs
    kept = []
    for worklog, row_number in zip(worklogs, row_numbers):
        day = (worklog["person_id"], worklog["started_at"])
        if day not in long_days:
            kept.append(worklog)
            continue
        errors.append(RowError(
            row_number, column, f"{worklog['hours']:g}",
            f"{names[day[0]]} has {totals[day]:g} hours on {day[1].date().isoformat()}, more than the "
            f"{max_hours:g} a person may log in one day (max_hours_per_day of the timesheet source)",
        ))
    return kept


class _FileProblem(Exception):
    """The file as a whole cannot be read (size, encoding, format); `row` when it was found at one."""

    def __init__(self, message: str, row: int | None = None):
        super().__init__(message)
        self.row = row


def _read_table(data: bytes, filename: str, rules: TimesheetRules) -> Iterator[tuple[int, list[Any]]]:
    lowered = filename.lower()
    if lowered.endswith(".xls"):
        raise _FileProblem("old .xls workbooks are not supported; save the file as .xlsx or .csv")
    if lowered.endswith((".xlsx", ".xlsm")) or data[:4] == b"PK\x03\x04":
        return _read_xlsx(data, rules)
    return _read_csv(data)


def _read_csv(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    try:
        records = iter_csv_records(data)
    except ValueError as error:
        raise _FileProblem(f"cannot read the file: {error}") from None
    return _numbered_records(records)


def _numbered_records(records: Iterator[list[str]]) -> Iterator[tuple[int, list[Any]]]:
    number = 0
    try:
        for number, record in enumerate(records, start=1):
            yield number, record
    except csv.Error as error:
        raise _FileProblem(f"cannot read the file at row {number + 1}: {error}", number + 1) from None


def _read_xlsx(data: bytes, rules: TimesheetRules) -> Iterator[tuple[int, list[Any]]]:
    """Rows of the first sheet, streamed; the zip directory is checked against the limit first.

    The sizes summed are the ones the zip declares, and they are binding:
    Python's zipfile stops inflating a member at its declared size and fails
    its CRC check if there was more, so a member cannot unzip to more than it says.
    """
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise _FileProblem(f"cannot read the workbook ({type(exc).__name__})") from None
    problem = rules.unzipped_size_problem(unzipped)
    if problem:
        raise _FileProblem(problem)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged files; report, never crash.
        raise _FileProblem(f"cannot read the workbook ({type(exc).__name__})") from exc
    return _sheet_rows(workbook)


def _sheet_rows(workbook: Any) -> Iterator[tuple[int, list[Any]]]:
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        for cells in sheet.iter_rows():
            number = next((cell.row for cell in cells if getattr(cell, "row", None)), None)
            if number is not None:
                yield number, [cell.value for cell in cells]
    except Exception as exc:  # damage may show only deep in the sheet XML; still one report, never a crash.
        raise _FileProblem(f"cannot read the workbook ({type(exc).__name__})") from exc
    finally:
        workbook.close()


def _normalise_header(value: Any) -> str:
    text = _text(value).lower()
    text = re.sub(r"[(（\[【].*?[)）\]】]", "", text)
    return re.sub(r"[\s_\-:：]+", "", text)


def _configured_headers(column_map: Mapping[str, str]) -> dict[str, str]:
    """Header → field from the config, whichever way round an entry is written."""
    configured = {}
    for header, field_name in column_map.items():
        if field_name in HEADER_ALIASES:
            configured[header] = field_name
        elif header in HEADER_ALIASES:
            configured[field_name] = header
    return configured


def _find_header(table: list[tuple[int, list[Any]]], configured: Mapping[str, str]) -> tuple[int | None, dict[str, int]]:
    """The first row (within the first few) naming every required column.

    Scanning past row 1 lets a title line such as "2024年1月工时表" sit above the header.
    """
    best: tuple[int | None, dict[str, int]] = (None, {})
    for row_number, cells in table[:_HEADER_SCAN_ROWS]:
        columns = _match_columns(cells, configured)
        if all(name in columns for name in REQUIRED):
            return row_number, columns
        if len(columns) > len(best[1]):
            best = (row_number, columns)
    return best


def _match_columns(cells: list[Any], configured: Mapping[str, str]) -> dict[str, int]:
    """Header cell → logical column: configured names, exact aliases, then one word of a
    bilingual header such as "姓名 Name"; each column and each logical name used once."""
    normalised = [_normalise_header(c) for c in cells]
    configured = {_normalise_header(header): name for header, name in configured.items()}
    aliases = {alias: name for name, names in HEADER_ALIASES.items() for alias in names}
    columns: dict[str, int] = {}
    for index, header in enumerate(normalised):
        name = configured.get(header)
        if name and name not in columns:
            columns[name] = index
    for index, header in enumerate(normalised):
        name = aliases.get(header)
        if name and name not in columns and index not in columns.values():
            columns[name] = index
    for index, cell in enumerate(cells):
        if index in columns.values():
            continue
        for word in re.split(r"[\s/|]+", _text(cell).lower()):
            name = aliases.get(_normalise_header(word))
            if name and name not in columns:
                columns[name] = index
                break
    return columns


def _header_texts(table: list[tuple[int, list[Any]]], header_row: int | None, columns: dict[str, int]) -> dict[str, Any]:
    cells = next((cells for number, cells in table if number == header_row), [])
    return {name: (cells[index] if index < len(cells) else name) for name, index in columns.items()}


def _expected_names(name: str, configured: Mapping[str, str]) -> list[str]:
    own = [header for header, field_name in configured.items() if field_name == name]
    return own + [alias for alias in HEADER_ALIASES[name] if alias not in own]


def _parse_row(
    row_number: int,
    values: dict[str, Any],
    headers: dict[str, str],
    source: str,
    rules: TimesheetRules,
    errors: list[RowError],
) -> tuple[dict[str, Any], dict[str, Any], list[Any]] | None:
    """(worklog, identity, content compared for repeats) for one data row, or None after recording why not."""
    person = _text(values.get("person"))
    raw_date = values.get("date")
    if person.lower() in _TOTAL_MARKERS and not _text(raw_date):
        return None
    problems = []
    if not person:
        problems.append(RowError(row_number, headers["person"], "", "missing person"))
    task_key = _text(values.get("task")) or None
    day = _parse_date(raw_date)
    date_problem = _DATE_HINT if day is None else _date_problem(day, task_key, rules)
    if date_problem:
        problems.append(RowError(row_number, headers["date"], _text(raw_date), date_problem))
    hours, reason = _parse_hours(values.get("hours"))
    if reason:
        problems.append(RowError(row_number, headers["hours"], _text(values.get("hours")), reason))
    if problems:
        errors.extend(problems)
        return None
    email = _text(values.get("email")) or None
    comment = _text(values.get("comment")) or None
    account = email.lower() if email else person
    identity = identity_row(source, account, person, email)
    worklog = {
        "worklog_id": None,
        "task_id": None,
        "task_key": task_key,
        "person_id": identity["identity_id"],
        "started_at": datetime(day.year, day.month, day.day),
        "hours": hours,
        "source": source,
        "origin": "timesheet",
        "comment": comment,
    }
    return worklog, identity, [source, person, email, day.isoformat(), task_key, round(hours, 6), comment]


_PROJECT_OF_TASK = re.compile(r"^(.+?)(?:-|#)\d+$")


def _date_problem(day: date, task_key: str | None, rules: TimesheetRules) -> str | None:
    """A date after today, or before the start of the task's project (its key's prefix: ERP-12, group/app#3)."""
    if rules.today is not None and day > rules.today:
        return f"date is in the future (today is {rules.today.isoformat()} in {rules.zone or 'the calendar zone'})"
    match = _PROJECT_OF_TASK.match(task_key or "")
    project = rules.project_starts.get(match.group(1).casefold()) if match else None
    if project and day < project[1]:
        return f"date is before project {project[0]} starts on {project[1].isoformat()} ([[projects]] start_date)"
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value).strip()


_DATE_FORMS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def _parse_date(value: Any) -> date | None:
    """Dates as people type them, plus Excel date cells and serial day numbers."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000 <= value <= 80000:
            return _EXCEL_EPOCH + timedelta(days=int(value))
        return None
    text = _text(value)
    for pattern in _DATE_FORMS:
        match = pattern.match(text)
        if match:
            try:
                return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                return None
    return None


_HOUR_UNITS = re.compile(r"\s*(小时|工时|时|hours|hour|hrs|hr|h)$", re.I)


def _parse_hours(value: Any) -> tuple[float, str | None]:
    """Hours as a number, "7,5", "7.5h", "7:30" or an Excel time cell; 0–24 per row."""
    if isinstance(value, bool):
        return 0.0, "hours is not a number"
    if isinstance(value, (int, float)):
        hours = float(value)
    elif isinstance(value, time):
        hours = value.hour + value.minute / 60 + value.second / 3600
    elif isinstance(value, timedelta):
        hours = value.total_seconds() / 3600
    else:
        text = _HOUR_UNITS.sub("", _text(value))
        clock = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
        if clock:
            hours = int(clock.group(1)) + int(clock.group(2)) / 60
        else:
            if text.count(",") == 1 and "." not in text:
                text = text.replace(",", ".")
            try:
                hours = float(text)
            except ValueError:
                return 0.0, "hours is not a number" if text else "missing hours"
    if not math.isfinite(hours):
        return 0.0, "hours is not a number"
    if hours < 0:
        return hours, "hours is negative"
    if hours > 24:
        return hours, "hours is more than 24 in one day"
    return hours, None
