"""The risk register: queries, validation, the 5×5 heat map, change history and exports.

Kept out of the page so every rule a save goes through (score = probability ×
impact, owners and linked tasks must exist, open risks need a review date)
can be tested without a browser. Reads go through `common.cached_query` with
`live_edits=True`, so a risk saved a moment ago, here or on the stand-up page,
is already in the register, the heat map and its history.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

import polars as pl
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from dashboards import common, export
from dashboards.common import PageContext, Problem
from dashboards.i18n import t

# Statuses and their label keys; "closed" is the word the bugs page uses too.
STATUS_LABELS: Final[dict[str, str]] = {
    "open": "risks.status.open", "mitigating": "risks.status.mitigating", "closed": "common.closed",
    "occurred": "risks.status.occurred",
}
STATUSES: Final[tuple[str, ...]] = tuple(STATUS_LABELS)
# Risks still being handled: they are on the heat map and need a review date.
ACTIVE_STATUSES: Final[tuple[str, ...]] = ("open", "mitigating")
# Categories and their label keys; "budget" is the portfolio's word.
CATEGORY_LABELS: Final[dict[str, str]] = {
    "schedule": "risks.category.schedule", "technical": "risks.category.technical",
    "resource": "risks.category.resource", "scope": "risks.category.scope", "budget": "common.budget",
    "external": "risks.category.external", "quality": "risks.category.quality", "issue": "risks.category.issue",
}
CATEGORIES: Final[tuple[str, ...]] = tuple(CATEGORY_LABELS)
LEVELS: Final[tuple[int, ...]] = (1, 2, 3, 4, 5)
ZONES: Final[tuple[str, ...]] = ("green", "amber", "red")
ZONE_COLOURS: Final[tuple[str, ...]] = ("#2e7d32", "#f9a825", "#c62828")
# Usual 5×5 bands: 1–4 low, 5–12 medium, 15–25 high (no product lies in 13–14).
AMBER_FROM: Final = 5
HIGH_SCORE: Final = 15
TITLE_MAX: Final = 200
MAX_LINKED_TASKS: Final = 50
REGISTER_LIMIT: Final = 1000
# Session key naming the risk the Risks page selects on its next run: set
# after a save there, and by the stand-up page after turning a blocker into a risk.
PENDING_PICK_KEY: Final = "risks._pending_pick"

# Fields a person edits and their label keys, in the order the history lists them; bookkeeping
# columns (created/updated stamps) would only repeat the "who, when" of each entry.
FIELD_LABELS: Final[dict[str, str]] = {
    "title": "common.title", "project_key": "common.project", "category": "risks.field.category",
    "status": "common.status", "probability": "risks.field.probability", "impact": "risks.field.impact",
    "score": "risks.field.score", "owner_id": "common.owner", "due_date": "risks.field.due_date",
    "linked_task_ids": "risks.field.linked_task_ids", "mitigation": "risks.field.mitigation",
    "contingency": "risks.field.contingency",
}
HISTORY_FIELDS: Final[tuple[str, ...]] = tuple(FIELD_LABELS)
# The exported sheet's columns and headers: plain "Probability" and "Impact", since the cells say 1–5.
EXPORT_HEADERS: Final[dict[str, str]] = {
    "risk_id": "risks.col.risk_id", "project_key": "common.project", "title": "common.title",
    "category": "risks.field.category", "status": "common.status",
    "probability": "risks.axis_probability", "impact": "common.impact", "score": "risks.field.score",
    "owner_id": "risks.export.owner_id", "owner_name": "common.owner", "due_date": "risks.field.due_date",
    "linked_task_keys": "risks.field.linked_task_ids", "mitigation": "risks.field.mitigation",
    "contingency": "risks.field.contingency", "created_at": "risks.export.created_at",
    "updated_at": "risks.col.updated_at", "updated_by": "common.changed_by",
}
EXPORT_COLUMNS: Final[tuple[str, ...]] = tuple(EXPORT_HEADERS)
HISTORY_HEADERS: Final[dict[str, str]] = {
    "when": "common.when", "who": "risks.history.who", "action": "common.action", "field": "risks.history.field",
    "change": "risks.history.change",
}


@dataclass(frozen=True)
class RiskDraft:
    """What the form holds: raw user input, validated before it becomes a row."""

    risk_id: str | None
    title: str
    project_key: str | None
    category: str
    status: str
    probability: Any
    impact: Any
    owner_id: str | None
    due_date: date | None
    linked_tasks: str = ""
    mitigation: str = ""
    contingency: str = ""


@dataclass(frozen=True)
class RiskFilter:
    """Register filters; empty means everything."""

    project_key: str | None = None
    statuses: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    owner_id: str | None = None


def new_risk_id() -> str:
    """A short id people can say aloud in a meeting ("R-3FA9C2D1"), unique in practice."""
    return "R-" + uuid.uuid4().hex[:8].upper()


def local_today() -> date:
    """Today in the reader's time zone, not the server's: "overdue" must match the reader's calendar."""
    return datetime.now(common.user_timezone()).date()


def zone_of(score: int | None) -> str | None:
    if score is None:
        return None
    if score >= HIGH_SCORE:
        return "red"
    return "amber" if score >= AMBER_FROM else "green"


def category_label(category: str | None, lang: str | None = None) -> str:
    return t(CATEGORY_LABELS[category], lang) if category in CATEGORY_LABELS else (category or "—")


def status_label(status: str | None, lang: str | None = None) -> str:
    return t(STATUS_LABELS[status], lang) if status in STATUS_LABELS else (status or "—")


# ------------------------------------------------------------------ lookups


def people(ctx: PageContext) -> pl.DataFrame:
    return common.cached_query(
        ctx,
        "SELECT person_id, coalesce(display_name, person_id) AS display_name, email, team "
        "FROM people ORDER BY display_name, person_id",
    )


def person_for_actor(people: pl.DataFrame, actor: str) -> str | None:
    """The person whose id, e-mail or display name is the editor's name, if there is one."""
    wanted = actor.strip().casefold()
    if not wanted or people.is_empty():
        return None
    for row in people.iter_rows(named=True):
        if wanted in {str(row.get(c) or "").strip().casefold() for c in ("person_id", "email", "display_name")}:
            return row["person_id"]
    return None


def risk_choices(ctx: PageContext) -> pl.DataFrame:
    """Every risk's id and title for the edit picker, newest first."""
    return common.cached_query(
        ctx,
        "SELECT risk_id, title FROM risks ORDER BY created_at DESC NULLS LAST, risk_id",
        live_edits=True,
    )


def risk_by_id(ctx: PageContext, risk_id: str) -> dict[str, Any] | None:
    rows = common.cached_query(ctx, "SELECT * FROM risks WHERE risk_id = ?", [risk_id], live_edits=True)
    return rows.row(0, named=True) if rows.height else None


def parse_task_tokens(text: str | None) -> list[str]:
    """Task ids or keys typed into one field, split on commas, semicolons or spaces, without repeats."""
    tokens = [token for token in re.split(r"[\s,;，；、]+", text or "") if token]
    return list(dict.fromkeys(tokens))


def resolve_tasks(ctx: PageContext, tokens: Sequence[str]) -> dict[str, list[str]]:
    """Each token's matching task ids: an exact task_id wins, else every task with that source key."""
    if not tokens:
        return {}
    marks = ", ".join("?" for _ in tokens)
    found = common.cached_query(
        ctx,
        f"SELECT task_id, source_key FROM tasks WHERE NOT is_deleted "
        f"AND (task_id IN ({marks}) OR source_key IN ({marks})) ORDER BY task_id",
        [*tokens, *tokens],
    )
    ids = set(found["task_id"].to_list())
    by_key: dict[str, list[str]] = {}
    for task_id, source_key in found.iter_rows():
        by_key.setdefault(source_key, []).append(task_id)
    return {token: [token] if token in ids else by_key.get(token, []) for token in tokens}


def task_keys(ctx: PageContext, task_ids: Sequence[str]) -> list[str]:
    """What to show for linked tasks: the source key where it names one task, else the task id."""
    if not task_ids:
        return []
    marks = ", ".join("?" for _ in task_ids)
    found = common.cached_query(
        ctx,
        f"SELECT t.task_id, t.source_key, "
        f"(SELECT count(*) FROM tasks AS u WHERE u.source_key = t.source_key) AS same_key "
        f"FROM tasks AS t WHERE t.task_id IN ({marks})",
        list(task_ids),
    )
    shown = {task_id: key if same == 1 else task_id for task_id, key, same in found.iter_rows()}
    return [shown.get(task_id, task_id) for task_id in task_ids]


# ------------------------------------------------------------------ validation and rows


def _level(value: Any) -> int | None:
    """1–5 as an int, or None when the value is not a whole number in range."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not number.is_integer() or not 1 <= number <= 5:
        return None
    return int(number)


def validate_risk(
    draft: RiskDraft,
    known_people: Collection[str],
    known_projects: Collection[str],
    resolved_tasks: Mapping[str, Sequence[str]],
) -> tuple[list[Problem], list[str]]:
    """Every reason the draft cannot be saved (empty when it can), and the linked task ids it names.

    An open or mitigating risk needs a due date: a risk nobody has to look at
    again by a given day is the one that gets forgotten. Closed or occurred
    risks need none.
    """
    problems: list[Problem] = []
    title = (draft.title or "").strip()
    if not title:
        problems.append(Problem("risks.err.title_required"))
    elif len(title) > TITLE_MAX:
        problems.append(Problem("risks.err.title_too_long", {"limit": TITLE_MAX}))
    if draft.category not in CATEGORIES:
        problems.append(Problem("risks.err.unknown_category", {"value": draft.category}))
    if draft.status not in STATUSES:
        problems.append(Problem("risks.err.unknown_status", {"value": draft.status}))
    if _level(draft.probability) is None:
        problems.append(Problem("risks.err.probability_range", {"value": draft.probability}))
    if _level(draft.impact) is None:
        problems.append(Problem("risks.err.impact_range", {"value": draft.impact}))
    if not draft.owner_id:
        problems.append(Problem("risks.err.owner_required"))
    elif draft.owner_id not in known_people:
        problems.append(Problem("risks.err.unknown_owner", {"value": draft.owner_id}))
    if draft.project_key and draft.project_key not in known_projects:
        problems.append(Problem("risks.err.unknown_project", {"value": draft.project_key}))
    if draft.status in ACTIVE_STATUSES and draft.due_date is None:
        problems.append(Problem("risks.err.due_required"))

    tokens = parse_task_tokens(draft.linked_tasks)
    if len(tokens) > MAX_LINKED_TASKS:
        problems.append(Problem("risks.err.too_many_tasks", {"limit": MAX_LINKED_TASKS}))
    linked: list[str] = []
    for token in tokens:
        matches = list(resolved_tasks.get(token, ()))
        if not matches:
            problems.append(Problem("risks.err.unknown_task", {"value": token}))
        elif len(matches) > 1:
            problems.append(Problem("risks.err.ambiguous_task", {"value": token}))
        elif matches[0] not in linked:
            linked.append(matches[0])
    return problems, linked


def risk_row(
    draft: RiskDraft,
    linked_task_ids: Sequence[str],
    existing: Mapping[str, Any] | None,
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    """The row to store; the score is computed here so nobody can save a score that disagrees with it."""
    probability = _level(draft.probability)
    impact = _level(draft.impact)
    if probability is None or impact is None:
        raise ValueError("probability and impact must be whole numbers 1–5")
    return {
        "risk_id": draft.risk_id or new_risk_id(),
        "project_key": draft.project_key or None,
        "title": draft.title.strip(),
        "category": draft.category,
        "probability": probability,
        "impact": impact,
        "score": probability * impact,
        "owner_id": draft.owner_id,
        "mitigation": (draft.mitigation or "").strip() or None,
        "contingency": (draft.contingency or "").strip() or None,
        "status": draft.status,
        "due_date": draft.due_date,
        "linked_task_ids": list(linked_task_ids),
        "created_at": (existing or {}).get("created_at") or now,
        "updated_at": now,
        "updated_by": actor,
    }


# ------------------------------------------------------------------ register and heat map


def _where(filters: RiskFilter, *, with_status: bool = True) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if filters.project_key:
        clauses.append("r.project_key = ?")
        params.append(filters.project_key)
    if with_status and filters.statuses:
        clauses.append(f"r.status IN ({', '.join('?' for _ in filters.statuses)})")
        params.extend(filters.statuses)
    if filters.categories:
        clauses.append(f"r.category IN ({', '.join('?' for _ in filters.categories)})")
        params.extend(filters.categories)
    if filters.owner_id:
        clauses.append("r.owner_id = ?")
        params.append(filters.owner_id)
    return (" AND ".join(clauses) or "TRUE"), params


REGISTER_SQL: Final = """
WITH linked AS (
    SELECT r.risk_id, l.task_id, l.position
    FROM risks AS r, unnest(r.linked_task_ids) WITH ORDINALITY AS l(task_id, position)
),
linked_keys AS (
    SELECT l.risk_id, list(coalesce(t.source_key, l.task_id) ORDER BY l.position) AS linked_task_keys
    FROM linked AS l LEFT JOIN tasks AS t USING (task_id)
    GROUP BY l.risk_id
)
SELECT
    r.risk_id, r.project_key, r.title, r.category, r.status, r.probability, r.impact, r.score,
    r.owner_id, coalesce(p.display_name, r.owner_id) AS owner_name, r.due_date,
    coalesce(r.linked_task_ids, []) AS linked_task_ids,
    coalesce(k.linked_task_keys, []) AS linked_task_keys,
    r.mitigation, r.contingency, r.created_at, r.updated_at, r.updated_by,
    count(*) OVER () AS matching
FROM risks AS r
LEFT JOIN people AS p ON p.person_id = r.owner_id
LEFT JOIN linked_keys AS k USING (risk_id)
WHERE {where}
ORDER BY r.score DESC NULLS LAST, r.due_date NULLS LAST, r.risk_id
LIMIT ?
"""


def register(ctx: PageContext, filters: RiskFilter, limit: int = REGISTER_LIMIT) -> pl.DataFrame:
    """The filtered register, highest score first, at most `limit` rows (column `matching` has the total)."""
    where, params = _where(filters)
    return common.cached_query(ctx, REGISTER_SQL.format(where=where), [*params, limit], live_edits=True)


def overdue_high(frame: pl.DataFrame, today: date) -> pl.Series:
    """Which rows are high-score risks past their due date and not closed: the ones to chase first."""
    if frame.is_empty():
        return pl.Series("overdue", [], dtype=pl.Boolean)
    return frame.select(
        (
            (pl.col("score") >= HIGH_SCORE)
            & pl.col("due_date").is_not_null()
            & (pl.col("due_date") < today)
            & (pl.col("status") != "closed")
        ).fill_null(False).alias("overdue")
    ).to_series()


def heat_map(ctx: PageContext, filters: RiskFilter) -> pl.DataFrame:
    """All 25 cells (probability, impact, score, zone, risks): counts of open and mitigating risks.

    The status filter does not apply: the map is about what is still live.
    """
    where, params = _where(filters, with_status=False)
    counted = common.cached_query(
        ctx,
        f"SELECT r.probability, r.impact, count(*) AS risks FROM risks AS r "
        f"WHERE r.status IN ({', '.join('?' for _ in ACTIVE_STATUSES)}) AND {where} "
        f"AND r.probability BETWEEN 1 AND 5 AND r.impact BETWEEN 1 AND 5 "
        f"GROUP BY r.probability, r.impact",
        [*ACTIVE_STATUSES, *params],
        live_edits=True,
    )
    counts = {(p, i): n for p, i, n in counted.iter_rows()}
    cells = [
        {
            "probability": p,
            "impact": i,
            "score": p * i,
            "zone": zone_of(p * i),
            "risks": int(counts.get((p, i), 0)),
        }
        for p in LEVELS
        for i in LEVELS
    ]
    return pl.DataFrame(cells, schema={"probability": pl.Int64, "impact": pl.Int64, "score": pl.Int64,
                                       "zone": pl.String, "risks": pl.Int64})


# ------------------------------------------------------------------ history


def audit_entries(ctx: PageContext, risk_id: str) -> pl.DataFrame:
    return common.cached_query(
        ctx,
        "SELECT audit_id, edited_at, actor, action, before, after FROM audit_log "
        "WHERE table_name = 'risks' AND row_key = ? ORDER BY audit_id",
        [risk_id],
        live_edits=True,
    )


def _loads(text: str | None) -> dict[str, Any] | None:
    return json.loads(text) if text else None


def _plain(value: Any) -> Any:
    """A stored value as compared: JSON list text decoded, blanks as None."""
    if isinstance(value, str) and value.startswith("["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return None if value in ("", []) else value


def changes(entries: pl.DataFrame) -> list[dict[str, Any]]:
    """The audit entries of one risk as field-level changes (edited_at, actor, action, field, old, new).

    A creation lists the fields it set; an update only the fields that
    changed; a deletion one line without a field.
    """
    out: list[dict[str, Any]] = []
    for entry in entries.iter_rows(named=True):
        before, after = _loads(entry["before"]), _loads(entry["after"])
        base = {"audit_id": entry["audit_id"], "edited_at": entry["edited_at"], "actor": entry["actor"]}
        if after is None:
            out.append({**base, "action": "deleted", "field": None, "old": None, "new": None})
            continue
        action = "created" if before is None else "updated"
        for name in HISTORY_FIELDS:
            old = _plain((before or {}).get(name))
            new = _plain(after.get(name))
            if old != new:
                out.append({**base, "action": action, "field": name, "old": old, "new": new})
    return out


def describe(name: str | None, value: Any, names: Mapping[str, str], lang: str | None = None) -> str:
    """One stored value the way a reader says it: labels translated, people by name, dates local."""
    if value is None or value == "" or value == []:
        return "—"
    if name == "category":
        return category_label(str(value), lang)
    if name == "status":
        return status_label(str(value), lang)
    if name == "owner_id":
        return names.get(str(value), str(value))
    if name == "due_date":
        try:
            return common.format_date(date.fromisoformat(str(value)[:10]), lang)
        except ValueError:
            return str(value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def format_timestamp(value: datetime | None, lang: str | None = None) -> str:
    """A stored UTC timestamp as the reader's local date and time."""
    local = common.local_datetime(value)
    return "—" if local is None else f"{common.format_date(local, lang)} {local:%H:%M}"


def history_table(entries: pl.DataFrame, names: Mapping[str, str], lang: str | None = None) -> pl.DataFrame:
    """The readable change list, newest edit first: when (local), who, what happened, field, "old → new"."""
    rows = [
        {
            "when": format_timestamp(change["edited_at"], lang),
            "who": change["actor"],
            "action": t(f"risks.action.{change['action']}", lang),
            "field": t(FIELD_LABELS[change["field"]], lang) if change["field"] else "—",
            "change": f"{describe(change['field'], change['old'], names, lang)} → "
            f"{describe(change['field'], change['new'], names, lang)}",
        }
        for change in sorted(changes(entries), key=lambda change: -change["audit_id"])
    ]
    return pl.DataFrame(rows, schema={c: pl.String for c in HISTORY_HEADERS})


# ------------------------------------------------------------------ export


def export_table(frame: pl.DataFrame, lang: str | None = None) -> pl.DataFrame:
    """The register as a sheet a reader can open: translated headers and labels, local times, plain text lists."""
    if frame.is_empty():
        return pl.DataFrame(schema={t(key, lang): pl.String for key in EXPORT_HEADERS.values()})
    local = common.localize_timestamps(frame.select(EXPORT_COLUMNS))
    shaped = local.with_columns(
        pl.col("category").map_elements(lambda v: category_label(v, lang), return_dtype=pl.String),
        pl.col("status").map_elements(lambda v: status_label(v, lang), return_dtype=pl.String),
        pl.when(pl.col("linked_task_keys").list.len() > 0).then(pl.col("linked_task_keys").list.join(", ")),
        pl.col("due_date").cast(pl.String),
        pl.col("created_at").dt.strftime("%Y-%m-%d %H:%M"),
        pl.col("updated_at").dt.strftime("%Y-%m-%d %H:%M"),
    )
    return shaped.rename({column: t(key, lang) for column, key in EXPORT_HEADERS.items()})


def to_csv(frame: pl.DataFrame) -> bytes:
    """The sheet as an inert CSV (`export.csv_bytes`): a title like "=HYPERLINK(…)" is text in Excel."""
    return export.csv_bytes(frame)


def to_excel(frame: pl.DataFrame, sheet: str) -> bytes:
    """The sheet as an inert .xlsx (`export.inert_workbook`): text cells are string cells, numbers stay numbers."""
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = sheet[:31]
    worksheet.append(frame.columns)
    for row in frame.iter_rows():
        worksheet.append([export.inert_value(value, csv=False) for value in row])
    for index, name in enumerate(frame.columns, start=1):
        longest = max([len(str(name)), *(len(str(v)) for v in frame.get_column(name).head(200) if v is not None)])
        worksheet.column_dimensions[get_column_letter(index)].width = min(60, max(8, longest + 2))
    worksheet.freeze_panes = "A2"
    return export.inert_workbook(workbook)
