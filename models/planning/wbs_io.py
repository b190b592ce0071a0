"""WBS spreadsheets (CSV and Excel) in and out of the shared `Plan`.

Many teams keep their plan as a spreadsheet before (or instead of) MS Project,
often with Chinese headers. This module reads such a sheet into a `Plan` and
writes a Plan back in the same shape, with the columns

    wbs, task_id, name, parent_id, duration_days, start, finish,
    predecessors, assignee, estimate_hours

Chinese headers are accepted too (任务编号, 任务名称, 工期, 开始, 完成, 前置任务,
负责人, 工时, and 父任务编号 for parent_id), as are the English headers of an MS
Project table export (ID, Name, Duration, Start, Finish, Predecessors,
Resource Names, Work).

Sheets are typed by hand, so every problem is reported with the file, the row as
the spreadsheet shows it (the header is row 1 when it is the first row) and the
field, and all problems of a file are reported at once (`WbsError.issues`).

Conventions:

* ``predecessors`` are MS Project style, ``12FS+2d;15SS-1d``: a task id, an
  optional link type (FS when omitted), an optional lag. Lags and durations
  take ``d``/``天``/``工作日``/``个工作日`` (working days, the default), ``h``/``小时``
  (÷ `hours_per_day`), ``w``/``周`` (5 working days) and ``mo``/``月`` (20), and
  lags also ``%`` of the predecessor's duration. Elapsed units (``ed``, ``ew`` …)
  are refused: a sheet has no calendar to count them on.
* Without a ``task_id`` column, task ids are row numbers (1 for the first task),
  as MS Project's ID column, so predecessors can refer to them.
* Without a ``parent_id`` column, the parent is the task whose ``wbs`` is this
  one's without its last segment (``1.2`` for ``1.2.3``).
* ``assignee`` holds one or more people (``Alice, Bob[50%]``); each becomes a
  `Resource` whose id is the text written, and an `Assignment` with the units.
* A row without a duration but with start and finish gets the working days in
  between (Monday–Friday, or the `workdays_between` given); a duration of 0
  makes a milestone; rows with children are summaries.
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl

from models.planning.model import Assignment, Plan, PlanLink, PlanTask, Resource
from warehouse.delimited import csv_records

__all__ = [
    "CHINESE_HEADERS",
    "COLUMNS",
    "WbsError",
    "WbsIssue",
    "format_predecessors",
    "parse_predecessors",
    "read_wbs",
    "write_wbs",
]

COLUMNS: tuple[str, ...] = (
    "wbs", "task_id", "name", "parent_id", "duration_days", "start", "finish",
    "predecessors", "assignee", "estimate_hours",
)
CHINESE_HEADERS: dict[str, str] = {
    "wbs": "WBS",
    "task_id": "任务编号",
    "name": "任务名称",
    "parent_id": "父任务编号",
    "duration_days": "工期",
    "start": "开始",
    "finish": "完成",
    "predecessors": "前置任务",
    "assignee": "负责人",
    "estimate_hours": "工时",
}
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "wbs": ("wbs", "wbscode", "wbs编号", "wbs码", "outlinenumber", "大纲数字", "大纲编号"),
    "task_id": ("taskid", "id", "任务编号", "编号", "任务id", "标识号", "任务号"),
    "name": ("name", "taskname", "title", "任务名称", "名称", "任务"),
    "parent_id": ("parentid", "parent", "parenttaskid", "父任务编号", "父任务", "上级任务", "上级任务编号", "父任务id"),
    "duration_days": ("durationdays", "duration", "days", "工期", "工期天", "持续时间"),
    "start": ("start", "startdate", "begin", "开始", "开始时间", "开始日期", "计划开始"),
    "finish": ("finish", "finishdate", "end", "enddate", "due", "完成", "完成时间", "完成日期", "结束", "结束日期",
               "计划完成"),
    "predecessors": ("predecessors", "predecessor", "dependencies", "前置任务", "前置", "紧前任务"),
    "assignee": ("assignee", "owner", "resourcenames", "resources", "负责人", "资源名称", "执行人", "责任人"),
    "estimate_hours": ("estimatehours", "estimate", "work", "hours", "工时", "预估工时", "工作量", "估算工时"),
}
_HEADER_SCAN_ROWS = 20
_EXCEL_EPOCH = date(1899, 12, 30)
_NORMALISE = re.compile(r"[\s_\-()（）\[\]/.:：]+")
_UNITS: dict[str, tuple[str, float]] = {}
for _names, _unit in (
    (("", "d", "day", "days", "天", "日", "工作日", "个工作日", "个工作天"), ("days", 1.0)),
    (("h", "hr", "hrs", "hour", "hours", "小时", "个小时", "工时"), ("hours", 1.0)),
    (("m", "min", "mins", "minute", "minutes", "分钟"), ("minutes", 1.0)),
    (("w", "wk", "wks", "week", "weeks", "周", "星期", "个星期"), ("days", 5.0)),
    (("mo", "mon", "month", "months", "月", "个月"), ("days", 20.0)),
    (("%",), ("percent", 1.0)),
):
    for _name in _names:
        _UNITS[_name] = _unit
_ELAPSED = re.compile(r"^e(m|min|h|hr|d|day|days|w|wk|week|weeks|mo|month|months|%)$")
_QUANTITY = re.compile(r"^(?P<number>[+-]?\s*\d+(?:[.,]\d+)?)\s*(?P<unit>[^\d\s?]*)\s*\??$")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")
_LINK_TYPES = {"FS": "FS", "SS": "SS", "FF": "FF", "SF": "SF",
               "完成-开始": "FS", "开始-开始": "SS", "完成-完成": "FF", "开始-完成": "SF"}
_TYPE_PATTERN = re.compile("|".join(re.escape(k) for k in _LINK_TYPES), re.IGNORECASE)
_LIST_SPLIT = re.compile(r"[;；,，、\n]+")
_UNITS_SUFFIX = re.compile(r"^(?P<name>.*?)\s*\[\s*(?P<units>\d+(?:[.,]\d+)?)\s*%\s*\]$")
_DATE_HINT = "not a date (use e.g. 2024-03-05, 2024/3/5 or 2024年3月5日)"


@dataclass(frozen=True)
class WbsIssue:
    """One problem in a sheet, located as the user sees it."""

    file: str
    row: int | None
    field: str | None
    value: str | None
    problem: str

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file}: row {self.row}"
        if self.field is not None:
            where += f", field '{self.field}'"
        got = "" if self.value is None else f" (got {self.value!r})"
        return f"{where}: {self.problem}{got}"


class WbsError(ValueError):
    """A sheet that cannot become a Plan; `issues` lists every problem found."""

    def __init__(self, issues: list[WbsIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


# --------------------------------------------------------------------------- values


def _text(value: Any) -> str:
    """A cell as text; Excel's 12.0 is the id "12"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


def _number(text: str) -> float:
    return float(text.replace(" ", "").replace(",", "."))


def _quantity(text: str, hours_per_day: float, *, allow_percent: bool) -> tuple[float, str]:
    """A duration or lag as (amount, "days" | "percent"); raises ValueError with a reason."""
    cleaned = text.strip().replace("＋", "+").replace("－", "-")
    match = _QUANTITY.match(cleaned)
    if match is None:
        raise ValueError("not a duration (use e.g. 5, 5d, 5天, 40h or 2w)")
    unit = match.group("unit").strip().lower()
    if _ELAPSED.match(unit):
        raise ValueError(f"elapsed unit '{unit}' is not supported; give working days")
    if unit not in _UNITS:
        raise ValueError(f"unknown unit '{unit}' (use d, h, w, mo, 天, 工作日, 小时 or 周)")
    kind, factor = _UNITS[unit]
    amount = _number(match.group("number")) * factor
    if kind == "hours":
        return amount / hours_per_day, "days"
    if kind == "minutes":
        return amount / (hours_per_day * 60), "days"
    if kind == "percent" and not allow_percent:
        raise ValueError("a percentage is only allowed for lags")
    return amount, kind


def _duration(value: Any, hours_per_day: float) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        days = float(value)
    else:
        days, _ = _quantity(_text(value), hours_per_day, allow_percent=False)
    if days < 0 or math.isnan(days):
        raise ValueError("a duration cannot be negative")
    return days


def _hours(value: Any, hours_per_day: float) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        hours = float(value)
    else:
        text = _text(value)
        match = _QUANTITY.match(text.replace("＋", "+"))
        unit = match.group("unit").strip().lower() if match else None
        if match is not None and unit in ("", "h", "hr", "hrs", "hour", "hours", "小时", "个小时", "工时"):
            hours = _number(match.group("number"))
        else:
            hours = _quantity(text, hours_per_day, allow_percent=False)[0] * hours_per_day
    if hours < 0 or math.isnan(hours):
        raise ValueError("hours cannot be negative")
    return hours


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value < 2958466:
            return _EXCEL_EPOCH + timedelta(days=int(value))
        raise ValueError(_DATE_HINT)
    match = _DATE.match(_text(value))
    if match is None:
        raise ValueError(_DATE_HINT)
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise ValueError("not a calendar date") from None


def parse_predecessors(
    text: str, task_ids: Iterable[str], hours_per_day: float = 8.0
) -> list[tuple[str, str, float, str]]:
    """``12FS+2d;15SS-1d`` as (predecessor id, type, lag, "days" | "percent"); raises ValueError with a reason.

    Ids are matched against the known task ids, so ids containing letters or
    dashes (``ERP-12SS+1d``) are read correctly.
    """
    known = set(task_ids)
    links = []
    for token in (t.strip() for t in _LIST_SPLIT.split(text)):
        if not token:
            continue
        links.append(_predecessor(token, known, hours_per_day))
    return links


def _predecessor(token: str, known: set[str], hours_per_day: float) -> tuple[str, str, float, str]:
    if token in known:
        return token, "FS", 0.0, "days"
    candidates: list[tuple[str, str, str]] = []
    for match in _TYPE_PATTERN.finditer(token):
        candidates.append((token[:match.start()].strip(), _LINK_TYPES[match.group(0).upper()], token[match.end():]))
    for match in re.finditer(r"[+\-＋－]", token):
        candidates.append((token[:match.start()].strip(), "FS", token[match.start():]))
    reason = f"unknown task id in '{token}'"
    for task_id, link_type, rest in candidates:
        if task_id not in known:
            continue
        rest = rest.strip()
        if not rest:
            return task_id, link_type, 0.0, "days"
        if rest[0] not in "+-＋－":
            reason = f"cannot read '{token}' (write e.g. 12FS+2d)"
            continue
        try:
            lag, kind = _quantity(rest, hours_per_day, allow_percent=True)
        except ValueError as error:
            reason = f"lag of '{token}': {error}"
            continue
        return task_id, link_type, lag, kind
    raise ValueError(reason)


def _format_number(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_predecessors(links: Iterable[PlanLink]) -> str:
    """Links into a successor as MS Project writes them: ``12;15SS-1d;17FF+0.5d``."""
    parts = []
    for link in links:
        part = link.predecessor_id
        if link.type != "FS" or link.lag_days:
            part += link.type
        if link.lag_days:
            part += ("+" if link.lag_days > 0 else "-") + _format_number(abs(link.lag_days)) + "d"
        parts.append(part)
    return ";".join(parts)


# --------------------------------------------------------------------------- reading


def _normalise_header(value: Any) -> str:
    return _NORMALISE.sub("", _text(value).lstrip("\ufeff").lower())


_ALIAS_LOOKUP: dict[str, str] = {}
for _field in COLUMNS:
    _ALIAS_LOOKUP.setdefault(_normalise_header(_field), _field)
    _ALIAS_LOOKUP.setdefault(_normalise_header(CHINESE_HEADERS[_field]), _field)
for _field, _aliases in HEADER_ALIASES.items():
    for _alias in _aliases:
        _ALIAS_LOOKUP.setdefault(_normalise_header(_alias), _field)


def _match_columns(cells: list[Any]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        field = _ALIAS_LOOKUP.get(_normalise_header(cell))
        if field is not None and field not in columns:
            columns[field] = index
    return columns


def _rows_csv(path: Path) -> Iterator[tuple[int, list[Any]]]:
    try:
        records = csv_records(path.read_bytes())
    except ValueError as error:
        raise WbsError([WbsIssue(str(path), None, None, None, str(error))]) from None
    yield from enumerate(records, start=1)


def _rows_xlsx(path: Path, sheet: str | None) -> Iterator[tuple[int, list[Any]]]:
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:
        raise WbsError([WbsIssue(str(path), None, None, None, f"not a readable .xlsx workbook ({error})")]) from error
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise WbsError([WbsIssue(str(path), None, None, sheet, f"no such sheet; sheets are {workbook.sheetnames}")])
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
            yield number, list(row)
    finally:
        workbook.close()


def _table(path: Path, sheet: str | None) -> list[tuple[int, list[Any]]]:
    if not path.exists():
        raise WbsError([WbsIssue(str(path), None, None, None, "file not found")])
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return list(_rows_csv(path))
    if suffix in (".xlsx", ".xlsm"):
        return list(_rows_xlsx(path, sheet))
    raise WbsError([WbsIssue(str(path), None, None, suffix, "unsupported file type (use .csv or .xlsx)")])


@dataclass
class _Row:
    number: int
    cells: dict[str, Any]
    task: PlanTask
    duration_given: bool


def read_wbs(
    path: str | os.PathLike[str],
    *,
    sheet: str | None = None,
    hours_per_day: float = 8.0,
    workdays_between: Callable[[date, date], int] | None = None,
    name: str | None = None,
) -> Plan:
    """Read a WBS sheet (.csv or .xlsx) into a Plan; raises `WbsError` listing every problem."""
    source = Path(path)
    file = str(path)
    table = _table(source, sheet)
    header_row, columns = None, {}
    for number, cells in table[:_HEADER_SCAN_ROWS]:
        found = _match_columns(cells)
        if len(found) >= 2 and ("task_id" in found or "name" in found):
            header_row, columns = number, found
            break
    if header_row is None:
        expected = ", ".join(f"{c} ({CHINESE_HEADERS[c]})" for c in COLUMNS)
        raise WbsError([WbsIssue(file, None, None, None, f"no header row found; expected columns like {expected}")])

    issues: list[WbsIssue] = []

    def problem(row: int, field: str, value: Any, reason: str) -> None:
        issues.append(WbsIssue(file, row, field, _text(value), reason))

    rows: list[_Row] = []
    seen: dict[str, int] = {}
    for number, cells in table:
        if number <= header_row:
            continue
        values = {f: cells[i] if i < len(cells) else None for f, i in columns.items()}
        if all(_text(v) == "" for v in values.values()):
            continue
        task_id = _text(values.get("task_id")) if "task_id" in columns else str(len(rows) + 1)
        if not task_id:
            problem(number, "task_id", None, "missing task id")
            continue
        if task_id in seen:
            problem(number, "task_id", task_id, f"duplicate task id (first on row {seen[task_id]})")
            continue
        seen[task_id] = number
        task = PlanTask(task_id=task_id, name=_text(values.get("name")), wbs=_text(values.get("wbs")) or None)
        row = _Row(number, values, task, duration_given=_text(values.get("duration_days")) != "")
        for field, parse, attribute in (
            ("start", _date, "start"),
            ("finish", _date, "finish"),
        ):
            if _text(values.get(field)):
                try:
                    setattr(task, attribute, parse(values[field]))
                except ValueError as error:
                    problem(number, field, values[field], str(error))
        if row.duration_given:
            try:
                task.duration_days = _duration(values["duration_days"], hours_per_day)
            except ValueError as error:
                problem(number, "duration_days", values["duration_days"], str(error))
        elif task.start is not None and task.finish is not None and task.finish >= task.start:
            task.duration_days = float((workdays_between or _weekdays_between)(task.start, task.finish))
        if task.start is not None and task.finish is not None and task.finish < task.start:
            problem(number, "finish", values.get("finish"), f"finish is before start {task.start.isoformat()}")
        if _text(values.get("estimate_hours")):
            try:
                task.estimate_hours = _hours(values["estimate_hours"], hours_per_day)
            except ValueError as error:
                problem(number, "estimate_hours", values["estimate_hours"], str(error))
        rows.append(row)

    by_id = {row.task.task_id: row for row in rows}
    _resolve_parents(rows, by_id, "parent_id" in columns, problem)
    links = _resolve_links(rows, by_id, hours_per_day, problem)
    resources, assignments = _resolve_assignees(rows, problem)
    if issues:
        raise WbsError(sorted(issues, key=lambda i: (i.row or 0, COLUMNS.index(i.field) if i.field in COLUMNS else 99)))
    parents = {row.task.parent_id for row in rows if row.task.parent_id}
    for row in rows:
        task = row.task
        task.is_summary = task.task_id in parents
        task.is_milestone = row.duration_given and task.duration_days == 0 and not task.is_summary
        task.outline_level = _depth(task, by_id)
    return Plan(
        tasks=[row.task for row in rows],
        links=links,
        resources=resources,
        assignments=assignments,
        start=min((row.task.start for row in rows if row.task.start), default=None),
        name=name or source.stem,
    )


def _weekdays_between(first: date, last: date) -> int:
    """Monday–Friday days from `first` to `last`, both included (a sheet carries no calendar)."""
    days = (last - first).days + 1
    weeks, rest = divmod(days, 7)
    extra = sum(1 for k in range(rest) if (first.weekday() + k) % 7 < 5)
    return weeks * 5 + extra


def _depth(task: PlanTask, by_id: dict[str, _Row]) -> int:
    depth, current, seen = 1, task, {task.task_id}
    while current.parent_id and current.parent_id in by_id and current.parent_id not in seen:
        seen.add(current.parent_id)
        current = by_id[current.parent_id].task
        depth += 1
    return depth


def _resolve_parents(
    rows: list[_Row], by_id: dict[str, _Row], has_parent_column: bool, problem: Callable[..., None]
) -> None:
    by_wbs = {row.task.wbs: row.task.task_id for row in rows if row.task.wbs}
    for row in rows:
        task = row.task
        if has_parent_column:
            parent = _text(row.cells.get("parent_id"))
            if not parent:
                continue
            if parent == task.task_id:
                problem(row.number, "parent_id", parent, "a task cannot be its own parent")
            elif parent not in by_id:
                problem(row.number, "parent_id", parent, "unknown parent task id")
            else:
                task.parent_id = parent
        elif task.wbs and "." in task.wbs:
            parent_wbs = task.wbs.rsplit(".", 1)[0]
            if parent_wbs in by_wbs:
                task.parent_id = by_wbs[parent_wbs]
            else:
                problem(row.number, "wbs", task.wbs, f"no task with the parent WBS {parent_wbs}")
    for row in rows:
        seen = {row.task.task_id}
        current = row.task
        while current.parent_id and current.parent_id in by_id:
            if current.parent_id in seen:
                problem(row.number, "parent_id", row.task.parent_id, "the parent chain loops back to this task")
                row.task.parent_id = None
                break
            seen.add(current.parent_id)
            current = by_id[current.parent_id].task


def _resolve_links(
    rows: list[_Row], by_id: dict[str, _Row], hours_per_day: float, problem: Callable[..., None]
) -> list[PlanLink]:
    links = []
    for row in rows:
        text = _text(row.cells.get("predecessors"))
        if not text:
            continue
        try:
            parsed = parse_predecessors(text, by_id, hours_per_day)
        except ValueError as error:
            problem(row.number, "predecessors", text, str(error))
            continue
        for predecessor, link_type, lag, kind in parsed:
            if predecessor == row.task.task_id:
                problem(row.number, "predecessors", text, "a task cannot precede itself")
                continue
            if kind == "percent":
                lag = lag / 100 * by_id[predecessor].task.duration_days
            links.append(PlanLink(predecessor, row.task.task_id, link_type, lag))  # type: ignore[arg-type]
    return links


def _resolve_assignees(rows: list[_Row], problem: Callable[..., None]) -> tuple[list[Resource], list[Assignment]]:
    resources: dict[str, Resource] = {}
    assignments = []
    for row in rows:
        text = _text(row.cells.get("assignee"))
        if not text:
            continue
        for part in (p.strip() for p in _LIST_SPLIT.split(text)):
            if not part:
                continue
            units = 1.0
            match = _UNITS_SUFFIX.match(part)
            if match is not None:
                part, units = match.group("name").strip(), _number(match.group("units")) / 100
            if not part or "[" in part or "]" in part:
                problem(row.number, "assignee", text, "cannot read a person (write e.g. Alice or Alice[50%])")
                continue
            resources.setdefault(part, Resource(resource_id=part, name=part))
            assignments.append(Assignment(row.task.task_id, part, units))
            if row.task.assignee_id is None:
                row.task.assignee_id = part
    return list(resources.values()), assignments


# --------------------------------------------------------------------------- writing


def _assignee_text(plan: Plan, task: PlanTask) -> str:
    names = {r.resource_id: r.name or r.resource_id for r in plan.resources}
    if len(set(names.values())) != len(names):
        names = {r.resource_id: r.resource_id for r in plan.resources}
    parts = []
    for assignment in plan.assignments:
        if assignment.task_id != task.task_id:
            continue
        part = names.get(assignment.resource_id, assignment.resource_id)
        if not math.isclose(assignment.units, 1.0):
            part += f"[{_format_number(assignment.units * 100)}%]"
        parts.append(part)
    if not parts and task.assignee_id:
        parts.append(names.get(task.assignee_id, task.assignee_id))
    return ", ".join(parts)


def _records(plan: Plan) -> Iterator[dict[str, Any]]:
    incoming: dict[str, list[PlanLink]] = {}
    for link in plan.links:
        incoming.setdefault(link.successor_id, []).append(link)
    for task in plan.tasks:
        yield {
            "wbs": task.wbs or "",
            "task_id": task.task_id,
            "name": task.name,
            "parent_id": task.parent_id or "",
            "duration_days": task.duration_days,
            "start": task.start,
            "finish": task.finish,
            "predecessors": format_predecessors(incoming.get(task.task_id, [])),
            "assignee": _assignee_text(plan, task),
            "estimate_hours": task.estimate_hours,
        }


def write_wbs(plan: Plan, path: str | os.PathLike[str], *, chinese: bool = False) -> None:
    """Write a Plan as a WBS sheet; the format follows the suffix (.csv or .xlsx).

    CSV is written as UTF-8 with a byte-order mark so Excel shows Chinese text
    correctly; dates are ISO (2024-03-05) in CSV and date cells in Excel.
    """
    target = Path(path)
    headers = [CHINESE_HEADERS[c] if chinese else c for c in COLUMNS]
    suffix = target.suffix.lower()
    if suffix == ".csv":
        with target.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(headers)
            for record in _records(plan):
                writer.writerow([_csv_cell(record[c]) for c in COLUMNS])
    elif suffix in (".xlsx", ".xlsm"):
        workbook = openpyxl.Workbook()
        worksheet = workbook.active
        worksheet.title = "WBS"
        worksheet.append(headers)
        for record in _records(plan):
            worksheet.append([_xlsx_cell(record[c]) for c in COLUMNS])
        for column in ("F", "G"):
            for cell in worksheet[column][1:]:
                cell.number_format = "yyyy-mm-dd"
        worksheet.freeze_panes = "A2"
        workbook.save(target)
    else:
        raise WbsError([WbsIssue(str(path), None, None, suffix, "unsupported file type (use .csv or .xlsx)")])


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return _format_number(value)
    return str(value)


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == "":
        return None
    return value
