"""The plan editor's rules: what an edit may change, how it is written, levelling, baselines and exports.

Every save goes through a validation function here that returns *all* the
reasons it is refused (finish before start, an unknown person, a negative
estimate, a dependency on an unknown or summary task, onto itself, of an
unknown type, or closing a loop), so the page can show them together and
write nothing. Accepted edits become `EditChange` rows for one
`save_edits` transaction; only the fields a person changed are written, so
the rest keeps following the tools. Plans are built by the planning engine
(`load_plans` on a live-edits connection) so levelling, baselines and
exports see an edit made a second ago.
"""

from __future__ import annotations

import math
import tempfile
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import polars as pl
from openpyxl import load_workbook

from dashboards import export
from dashboards.common import Problem
from dashboards.logic.gantt import load_project_plan, status_date_for, today
from models.planning.baseline_store import save_plan_baseline
from models.planning.calendar import WorkCalendar
from models.planning.cpm import schedule
from models.planning.levelling import LevelledPlan, level_plan
from models.planning.model import Plan, Resource
from models.planning.mspdi import write_mspdi
from models.planning.wbs import rollup
from models.planning.wbs_io import write_wbs
from warehouse.db import EditChange, WarehouseError, open_reader, utc_now
from warehouse.settings import Settings

LINK_TYPES: Final[tuple[str, ...]] = ("FS", "SS", "FF", "SF")
TASK_FIELDS: Final[tuple[str, ...]] = ("planned_start", "planned_finish", "assignee_id", "estimate_hours")
DATE_FIELDS: Final[tuple[str, ...]] = ("planned_start", "planned_finish")
BASELINE_NAME_MAX: Final = 100
MAX_LAG_DAYS: Final = 365.0
"""How far past the plan's start public holidays are written into MS Project exports."""
GRID_CAP: Final = 300
# The editor's tabs in order; a single task is called what every page calls a task.
TAB_LABELS: Final[tuple[str, ...]] = (
    "common.task", "plan.tab_dependencies", "plan.tab_bulk", "plan.tab_baselines", "plan.tab_levelling",
    "plan.tab_export", "plan.tab_history",
)
COMPARE_CAP: Final = 150


@dataclass(frozen=True)
class TaskValues:
    """The editable fields of one task, as shown (effective values: edits over tool values)."""

    task_id: str
    planned_start: date | None = None
    planned_finish: date | None = None
    assignee_id: str | None = None
    estimate_hours: float | None = None


@dataclass(frozen=True)
class DependencyEdit:
    """Add (or change) a link, or remove one."""

    from_task_id: str
    to_task_id: str
    dependency: str = "FS"
    lag_days: float = 0.0
    remove: bool = False


# ---------------------------------------------------------------- tasks


def task_values(tasks: pl.DataFrame, task_id: str) -> TaskValues | None:
    """Current effective values of one task from the schedule rows (`dashboards.logic.gantt`)."""
    found = tasks.filter(pl.col("task_id") == task_id)
    if found.is_empty():
        return None
    row = found.row(0, named=True)
    return TaskValues(
        task_id, row["planned_start"], row["planned_finish"], row["assignee_id"], row["estimate_hours"]
    )


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=0.0, abs_tol=1e-9)
    return a == b


def changed_fields(before: TaskValues, after: TaskValues) -> dict[str, Any]:
    """The fields `after` changes; an empty dict when nothing did."""
    changes = {}
    for name in TASK_FIELDS:
        old, new = getattr(before, name), getattr(after, name)
        if isinstance(new, (int, float)) and not isinstance(new, bool):
            new = float(new)
        if isinstance(old, (int, float)) and not isinstance(old, bool):
            old = float(old)
        if not _same(old, new):
            changes[name] = new
    return changes


def validate_task_edit(
    current: TaskValues | None,
    changes: Mapping[str, Any],
    *,
    task_label: str,
    people: Iterable[str],
    summaries: Iterable[str] = (),
) -> list[Problem]:
    """Every reason the change to one task is refused (empty when it may be saved)."""
    if current is None:
        return [Problem("plan.problem.unknown_task", {"task": task_label})]
    problems: list[Problem] = []
    if current.task_id in set(summaries) and any(name in changes for name in DATE_FIELDS):
        problems.append(Problem("plan.problem.summary_dates", {"task": task_label}))
    start = changes.get("planned_start", current.planned_start)
    finish = changes.get("planned_finish", current.planned_finish)
    if any(name in changes for name in DATE_FIELDS) and start is not None and finish is not None and finish < start:
        problems.append(Problem("plan.problem.finish_before_start", {
            "task": task_label, "start": start.isoformat(), "finish": finish.isoformat()}))
    if "assignee_id" in changes:
        person = changes["assignee_id"]
        if person is not None and person not in set(people):
            problems.append(Problem("plan.problem.unknown_person", {"task": task_label, "person": person}))
    if "estimate_hours" in changes and changes["estimate_hours"] is not None:
        estimate = changes["estimate_hours"]
        if not isinstance(estimate, (int, float)) or not math.isfinite(estimate) or estimate < 0:
            problems.append(Problem("plan.problem.negative_estimate", {"task": task_label, "value": estimate}))
    return problems


def task_change(task_id: str, changes: Mapping[str, Any], actor: str, now: datetime | None = None) -> EditChange:
    """One `plan_tasks` upsert with only the changed fields, so the others keep following the tool."""
    return EditChange(
        "plan_tasks",
        {"task_id": task_id, **changes, "updated_at": now or utc_now(), "updated_by": actor},
        "upsert",
    )


def grid_edits(original: pl.DataFrame, edited: pl.DataFrame) -> list[tuple[str, dict[str, Any]]]:
    """(task_id, changed fields) for each row of a bulk-edit grid that differs from what was shown."""
    before = {row["task_id"]: row for row in original.iter_rows(named=True)}
    edits = []
    for row in edited.iter_rows(named=True):
        old = before.get(row["task_id"])
        if old is None:
            continue
        changes = changed_fields(
            TaskValues(row["task_id"], *(old.get(name) for name in TASK_FIELDS)),
            TaskValues(row["task_id"], *(_cell(row.get(name)) for name in TASK_FIELDS)),
        )
        if changes:
            edits.append((row["task_id"], changes))
    return edits


def _cell(value: Any) -> Any:
    """A grid cell as a plain value: datetimes to dates, NaN to None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime().date()
    return value


# ---------------------------------------------------------------- dependencies


def find_cycle(links: Iterable[tuple[str, str]], from_task_id: str, to_task_id: str) -> list[str] | None:
    """The loop a new link `from → to` would close, as [from, to, …, from], or None.

    It closes one exactly when `from` can already be reached from `to`.
    """
    if from_task_id == to_task_id:
        return [from_task_id, from_task_id]
    successors: dict[str, list[str]] = {}
    for pred, succ in links:
        successors.setdefault(pred, []).append(succ)
    parent: dict[str, str | None] = {to_task_id: None}
    queue = deque([to_task_id])
    while queue:
        node = queue.popleft()
        if node == from_task_id:
            path = [node]
            while parent[path[-1]] is not None:
                path.append(parent[path[-1]])  # type: ignore[arg-type]
            return [from_task_id, *reversed(path)]
        for nxt in successors.get(node, ()):
            if nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    return None


def validate_dependency(
    edit: DependencyEdit,
    *,
    tasks: Iterable[str],
    summaries: Iterable[str],
    links: Sequence[tuple[str, str]],
    labels: Mapping[str, str],
) -> list[Problem]:
    """Every reason a dependency edit is refused; `links` is the project's whole current graph (tools + edits)."""
    known = set(tasks)
    summary = set(summaries)
    label = lambda task_id: labels.get(task_id, task_id)  # noqa: E731
    problems: list[Problem] = []
    for task_id in (edit.from_task_id, edit.to_task_id):
        if task_id not in known:
            problems.append(Problem("plan.problem.unknown_dependency_task", {"task": task_id}))
        elif task_id in summary and not edit.remove:
            problems.append(Problem("plan.problem.summary_dependency", {"task": label(task_id)}))
    if edit.from_task_id == edit.to_task_id:
        problems.append(Problem("plan.problem.self_dependency", {"task": label(edit.from_task_id)}))
    if edit.dependency not in LINK_TYPES:
        problems.append(Problem("plan.problem.unknown_link_type", {
            "type": edit.dependency, "types": "/".join(LINK_TYPES)}))
    lag = edit.lag_days
    if not isinstance(lag, (int, float)) or not math.isfinite(lag) or abs(lag) > MAX_LAG_DAYS:
        problems.append(Problem("plan.problem.bad_lag", {"value": lag, "max": f"{MAX_LAG_DAYS:g}"}))
    if problems:
        return problems
    if edit.remove:
        if (edit.from_task_id, edit.to_task_id) not in set(links):
            problems.append(Problem("plan.problem.no_such_dependency", {
                "from": label(edit.from_task_id), "to": label(edit.to_task_id)}))
        return problems
    cycle = find_cycle(links, edit.from_task_id, edit.to_task_id)
    if cycle is not None:
        problems.append(Problem("plan.problem.cycle", {"path": " → ".join(label(t) for t in cycle)}))
    return problems


def dependency_change(edit: DependencyEdit, actor: str, now: datetime | None = None) -> EditChange:
    """A `plan_dependencies` upsert; a removal is kept as `is_deleted` so it also hides a tool's link."""
    return EditChange(
        "plan_dependencies",
        {
            "from_task_id": edit.from_task_id,
            "to_task_id": edit.to_task_id,
            "dependency": edit.dependency,
            "lag_days": float(edit.lag_days),
            "is_deleted": edit.remove,
            "updated_at": now or utc_now(),
            "updated_by": actor,
        },
        "upsert",
    )


def dependency_table(links: pl.DataFrame, edited: pl.DataFrame, labels: Mapping[str, str]) -> pl.DataFrame:
    """The project's links with readable ends and whether a person set them (vs. the tool)."""
    edited_pairs = set(zip(edited["from_task_id"], edited["to_task_id"])) if not edited.is_empty() else set()
    return links.with_columns(
        from_label=pl.col("from_task_id").replace_strict(labels, default=pl.col("from_task_id")),
        to_label=pl.col("to_task_id").replace_strict(labels, default=pl.col("to_task_id")),
        edited=pl.Series(
            [(a, b) in edited_pairs for a, b in zip(links["from_task_id"], links["to_task_id"])], dtype=pl.Boolean
        ),
    )


# ---------------------------------------------------------------- plans from the warehouse


def live_plan(settings: Settings, project_key: str) -> tuple[Plan, WorkCalendar, date]:
    """The project's Plan with everyone's edits, the calendar it is scheduled on and its status date."""
    calendar = WorkCalendar.from_settings(settings)
    with open_reader(settings, live_edits=True) as con:
        status_date = status_date_for(con, project_key, today(settings))
        plan = load_project_plan(con, project_key, status_date, calendar)
    if plan is None:
        raise WarehouseError(f"no tasks for project {project_key!r} in the published warehouse")
    return plan, calendar, status_date


def dated_plan(plan: Plan, calendar: WorkCalendar) -> Plan:
    """The plan with CPM dates where it has none (tools without planned dates), as the baseline store does.

    A plan CPM cannot schedule (a tool's dependency loop) keeps the dates it has.
    """
    try:
        frame = schedule(plan, calendar).frame
    except ValueError:
        return plan
    scheduled = {r["task_id"]: (r["early_start"], r["early_finish"]) for r in frame.iter_rows(named=True)}
    summaries = _summary_spans(plan, scheduled)
    return replace(plan, tasks=[
        replace(
            task,
            start=task.start or scheduled.get(task.task_id, summaries.get(task.task_id, (None, None)))[0],
            finish=task.finish or scheduled.get(task.task_id, summaries.get(task.task_id, (None, None)))[1],
        )
        for task in plan.tasks
    ])


def _summary_spans(plan: Plan, scheduled: Mapping[str, tuple[date, date]]) -> dict[str, tuple[date, date]]:
    children: dict[str, list[str]] = {}
    for task in plan.tasks:
        if task.parent_id:
            children.setdefault(task.parent_id, []).append(task.task_id)
    spans: dict[str, tuple[date, date]] = {}

    def span(task_id: str, seen: frozenset[str]) -> tuple[date, date] | None:
        if task_id in scheduled:
            return scheduled[task_id]
        if task_id in spans:
            return spans[task_id]
        parts = [s for c in children.get(task_id, []) if c not in seen and (s := span(c, seen | {c})) is not None]
        if not parts:
            return None
        spans[task_id] = (min(p[0] for p in parts), max(p[1] for p in parts))
        return spans[task_id]

    for task in plan.tasks:
        if task.is_summary:
            span(task.task_id, frozenset({task.task_id}))
    return spans


# ---------------------------------------------------------------- levelling


@dataclass(frozen=True)
class LevellingOutcome:
    """Levelling's answer in dates, ready to show side by side and to accept."""

    project_key: str
    edits: int
    """Edits version the plan was read at: accepting after someone else's edit would undo it."""
    rows: list[dict[str, Any]]
    """One per moved task: task_id, status, before_start, before_finish, after_start, after_finish, delay_days."""
    unlevelled_end: date | None
    levelled_end: date | None
    moved: int
    method: str
    optimal: bool
    seconds: float
    warnings: list[str]


def levelling_outcome(plan: Plan, levelled: LevelledPlan, calendar: WorkCalendar, project_key: str,
                      edits: int) -> LevellingOutcome:
    """Before (resource-free early dates) and after dates of every moved task, on the calendar it was levelled on."""
    rows: list[dict[str, Any]] = []
    unlevelled_end = levelled_end = None
    if levelled.origin is not None:
        zero = int(calendar.index_of(levelled.origin, "forward"))

        def day(offset: int) -> date:
            return calendar.date_of(zero + int(offset))

        for task_id in levelled.moved:
            task = levelled.tasks[task_id]
            length = task.finish - task.start
            before_start = day(task.early_start)
            before_finish = day(task.early_start + length - 1) if length > 0 else before_start
            rows.append({
                "task_id": task_id,
                "status": task.status,
                "before_start": before_start,
                "before_finish": before_finish,
                "after_start": task.start_date,
                "after_finish": task.finish_date,
                "delay_days": int(task.delay),
            })
        unlevelled_end = day(max(levelled.unlevelled_end - 1, 0))
        levelled_end = day(max(levelled.project_end - 1, 0))
    return LevellingOutcome(
        project_key=project_key, edits=edits, rows=rows, unlevelled_end=unlevelled_end, levelled_end=levelled_end,
        moved=len(levelled.moved), method=levelled.method, optimal=levelled.optimal, seconds=levelled.seconds,
        warnings=list(levelled.warnings),
    )


def run_levelling(settings: Settings, project_key: str, edits: int, time_limit_seconds: float) -> LevellingOutcome:
    """Level the live plan: nobody above capacity, links kept, the end as early as possible."""
    plan, calendar, _ = live_plan(settings, project_key)
    levelled = level_plan(plan, calendar, time_limit_seconds=time_limit_seconds)
    return levelling_outcome(plan, levelled, calendar, project_key, edits)


def levelling_changes(outcome: LevellingOutcome, actor: str, now: datetime | None = None) -> list[EditChange]:
    """Planned dates of the moved tasks; a task already under way keeps its start and gets only a new finish."""
    stamp = now or utc_now()
    changes = []
    for row in outcome.rows:
        fields: dict[str, Any] = {"planned_finish": row["after_finish"]}
        if row["status"] == "planned":
            fields["planned_start"] = row["after_start"]
        changes.append(task_change(row["task_id"], fields, actor, stamp))
    return changes


def comparison_frame(outcome: LevellingOutcome, labels: Mapping[str, str], before: str, after: str,
                     cap: int = COMPARE_CAP) -> pl.DataFrame:
    """Two bars per moved task (before and after), the most delayed first, at most `cap` tasks."""
    rows = sorted(outcome.rows, key=lambda r: (-r["delay_days"], r["task_id"]))[:cap]
    long = []
    for row in rows:
        label = labels.get(row["task_id"], row["task_id"])
        long.append({"label": label, "version": before, "start": row["before_start"],
                     "end": row["before_finish"] + timedelta(days=1), "delay_days": row["delay_days"]})
        long.append({"label": label, "version": after, "start": row["after_start"],
                     "end": row["after_finish"] + timedelta(days=1), "delay_days": row["delay_days"]})
    return pl.DataFrame(long, schema={"label": pl.String, "version": pl.String, "start": pl.Date, "end": pl.Date,
                                      "delay_days": pl.Int64})


# ---------------------------------------------------------------- baselines


def validate_baseline_name(name: str) -> list[Problem]:
    text = (name or "").strip()
    if not text:
        return [Problem("plan.problem.baseline_name_missing")]
    if len(text) > BASELINE_NAME_MAX:
        return [Problem("plan.problem.baseline_name_long", {"max": BASELINE_NAME_MAX})]
    return []


def save_live_baseline(settings: Settings, project_key: str, name: str, actor: str) -> tuple[str, int]:
    """`baseline_store.save_project_baseline`, but of the plan *with* unsynced edits (what the editor shows).

    Planned dates where the plan has them, else the dates CPM schedules at
    the status date; one transaction with its audit entry.
    """
    plan, calendar, _ = live_plan(settings, project_key)
    return save_plan_baseline(settings, project_key, dated_plan(plan, calendar), name.strip(), actor)


# ---------------------------------------------------------------- exports


def export_plan(settings: Settings, project_key: str) -> tuple[Plan, WorkCalendar]:
    """The live plan dressed for a file: dates everywhere, WBS codes, people's names on resources."""
    plan, calendar, _ = live_plan(settings, project_key)
    plan = dated_plan(plan, calendar)
    codes = dict(rollup(plan).select("task_id", "wbs").iter_rows())
    with open_reader(settings) as con:
        names = dict(con.execute("SELECT person_id, display_name FROM people").fetchall())
    resources = [Resource(r.resource_id, names.get(r.resource_id) or r.resource_id, r.capacity, r.skills, r.days_off)
                 for r in plan.resources]
    plan = replace(plan, tasks=[replace(task, wbs=codes.get(task.task_id)) for task in plan.tasks],
                   resources=resources)
    return plan, calendar


def inert_plan(plan: Plan, *, csv: bool) -> Plan:
    """The plan with every text field (ids, names, WBS codes) through `export.inert_value`.

    The planning engine's writers put these strings into cells and XML as
    they are; cleaning them here keeps the writers shared with the CLI.
    Ids change the same way wherever they occur, so links, parents and
    assignments still match.
    """
    def clean(item: Any) -> Any:
        texts = {f.name: export.inert_value(value, csv=csv) for f in fields(item)
                 if isinstance(value := getattr(item, f.name), str)}
        return replace(item, **texts)

    return replace(
        plan, name=export.inert_value(plan.name, csv=csv), tasks=[clean(task) for task in plan.tasks],
        links=[clean(link) for link in plan.links], resources=[clean(r) for r in plan.resources],
        assignments=[clean(a) for a in plan.assignments],
    )


def wbs_bytes(plan: Plan, suffix: str, chinese: bool) -> bytes:
    """The plan as an inert WBS sheet (`.csv` or `.xlsx`) via the planning engine's writer.

    CSV text that a spreadsheet would evaluate is quoted; the workbook is
    read back and saved by `export.inert_workbook`, so a name like
    "=HYPERLINK(…)" is a string cell rather than the formula openpyxl makes.
    """
    csv = suffix == ".csv"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"plan{suffix}"
        write_wbs(inert_plan(plan, csv=csv), path, chinese=chinese)
        return path.read_bytes() if csv else export.inert_workbook(load_workbook(path))


def mspdi_bytes(plan: Plan, calendar: WorkCalendar, project_name: str) -> bytes:
    """The plan as MS Project XML with the company calendar's holidays and 调休 make-up workdays as exceptions.

    Text is stripped of characters XML cannot carry (a NUL in a title made a
    file that does not parse).
    """
    return write_mspdi(inert_plan(plan, csv=False), work_calendar=calendar,
                       project_name=export.inert_value(project_name, csv=False))


def export_bytes(settings: Settings, project_key: str, kind: str, chinese: bool = False,
                 project_name: str | None = None) -> bytes:
    """One export file of the project's current plan: kind is "csv", "xlsx" or "xml" (MSPDI)."""
    plan, calendar = export_plan(settings, project_key)
    if kind == "csv":
        return wbs_bytes(plan, ".csv", chinese)
    if kind == "xlsx":
        return wbs_bytes(plan, ".xlsx", chinese)
    if kind == "xml":
        return mspdi_bytes(plan, calendar, project_name or project_key)
    raise ValueError(f"unknown export kind {kind!r}")
