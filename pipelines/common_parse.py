"""Helpers shared by every source's pure parse functions (see docs/payload-contract.md).

Everything here is deterministic and free of I/O so that rebuilding the
warehouse from `raw_payloads` always yields the same rows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from warehouse import vocabulary

Rows = dict[str, list[dict[str, Any]]]

_NULL_TEXT = {"", "<null>", "null", "none"}


def to_utc(value: Any) -> datetime | None:
    """Convert an API timestamp to naive UTC, the only form TIMESTAMP columns hold.

    Naive inputs are taken to be UTC already; anything unparseable becomes None
    rather than raising, because one odd value must not sink a whole sync.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if text.lower() in _NULL_TEXT:
            return None
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
        except OverflowError:
            # 0001-01-01 east of UTC, 9999-12-31 west of it: outside the bounds either way,
            # so keep the wall time for `enforce_bounds` to reject with the value named.
            parsed = parsed.replace(tzinfo=None)
    return parsed


def to_date(value: Any) -> date | None:
    """Convert an API date (or timestamp, taken as its UTC day) to `datetime.date`."""
    if value is None:
        return None
    if isinstance(value, datetime):
        converted = to_utc(value)
        return converted.date() if converted else None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in _NULL_TEXT:
            return None
        if len(text) == 10:
            try:
                return date.fromisoformat(text)
            except ValueError:
                return None
        converted = to_utc(text)
        return converted.date() if converted else None
    return None


def seconds_to_hours(value: Any) -> float | None:
    """Vendor APIs count time in seconds; the warehouse counts hours."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value) / 3600.0
    except (TypeError, ValueError):
        return None


def to_float(value: Any) -> float | None:
    """Story points and similar custom fields arrive as numbers or numeric strings."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def identity_row(source: str, account: str, display_name: str | None = None, email: str | None = None) -> dict[str, Any]:
    """One `identities` row; every person column elsewhere refers to its identity_id."""
    return {
        "identity_id": f"{source}:{account}",
        "source": source,
        "account": account,
        "display_name": display_name,
        "email": email,
    }


def merge_identities(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Deduplicate identities by id, keeping the first non-empty value of each column.

    One payload mentions the same account many times (reporter, commenter, ...);
    emitting it once keeps loader upserts cheap and deterministic.
    """
    merged: dict[str, dict[str, Any]] = {}
    for row in rows:
        current = merged.get(row["identity_id"])
        if current is None:
            merged[row["identity_id"]] = dict(row)
            continue
        for column, value in row.items():
            if current.get(column) in (None, "") and value not in (None, ""):
                current[column] = value
    return list(merged.values())


def unique_links(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop task_links rows repeating the primary key (from, to, link_type)."""
    seen: set[tuple[str, str, str]] = set()
    result = []
    for row in rows:
        key = (row["from_task_id"], row["to_task_id"], row["link_type"])
        if key in seen or row["from_task_id"] == row["to_task_id"]:
            continue
        seen.add(key)
        result.append(row)
    return result


def link_row(source: str, from_task_id: str, to_task_id: str, link_type: str) -> dict[str, Any]:
    """A `task_links` row with the contract's defaults (FS, no lag)."""
    return {
        "from_task_id": from_task_id,
        "to_task_id": to_task_id,
        "link_type": link_type,
        "dependency": "FS",
        "lag_days": 0.0,
        "source": source,
    }


# Upper-case tokens that look like Jira keys in prose but never are.
_NOT_PROJECT_KEYS = frozenset({"UTF", "ISO", "SHA", "RFC", "CVE", "HTTP", "TLS", "SSL", "MD", "GB", "PEP", "IPV", "X"})

_REPO_REF = r"(?<![\w./-])(?P<repo>[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+)#(?P<repo_num>\d+)(?!\w)"
_BARE_REF = r"(?<![\w/#&])#(?P<bare_num>\d+)(?!\w)"
_JIRA_REF = r"(?<![A-Za-z0-9])(?P<jira>[A-Z][A-Z0-9_]+)-(?P<jira_num>\d+)(?![A-Za-z0-9])"
_DEFAULT_PATTERN = re.compile(f"{_REPO_REF}|{_BARE_REF}|{_JIRA_REF}")


def _pattern_for(jira_project_keys: Iterable[str] | None) -> re.Pattern[str]:
    if jira_project_keys is None:
        return _DEFAULT_PATTERN
    keys = sorted({k.strip().upper() for k in jira_project_keys if k and k.strip()}, key=lambda k: (-len(k), k))
    if not keys:
        return re.compile(f"{_REPO_REF}|{_BARE_REF}")
    alternatives = "|".join(re.escape(k) for k in keys)
    jira = rf"(?<![A-Za-z0-9])(?P<jira>(?i:{alternatives}))-(?P<jira_num>\d+)(?![A-Za-z0-9])"
    return re.compile(f"{_REPO_REF}|{_BARE_REF}|{jira}")


def find_task_keys(
    text: str | None,
    default_repo: str | None = None,
    jira_project_keys: Iterable[str] | None = None,
) -> list[str]:
    """Task keys mentioned in commit messages, PR titles and branch names, in order of appearance.

    `PROJ-123` stays a Jira key; `#45` becomes `default_repo#45` (dropped when no
    repo is known); `group/sub/repo#45` is kept whole. With `jira_project_keys`
    only those projects count (matched case-insensitively, as branch names are
    often lower case), which avoids false hits such as `UTF-8`.
    """
    if not text:
        return []
    found: list[str] = []
    for match in _pattern_for(jira_project_keys).finditer(text):
        if match.group("repo"):
            key = f"{match.group('repo')}#{int(match.group('repo_num'))}"
        elif match.group("bare_num"):
            if not default_repo:
                continue
            key = f"{default_repo}#{int(match.group('bare_num'))}"
        else:
            project = match.group("jira").upper()
            if jira_project_keys is None and project in _NOT_PROJECT_KEYS:
                continue
            key = f"{project}-{int(match.group('jira_num'))}"
        if key not in found:
            found.append(key)
    return found


def task_ids_for_keys(keys: Iterable[str], source: str, jira_source: str | None = None) -> list[str]:
    """Turn keys from `find_task_keys` into task_ids.

    Repository keys (`owner/repo#N`) belong to the git source itself; Jira keys
    belong to the Jira source, which a git parser only knows if told.
    """
    result = []
    for key in keys:
        owner = source if "#" in key else (jira_source or source)
        task_id = f"{owner}:{key}"
        if task_id not in result:
            result.append(task_id)
    return result


def _normalise_name(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


_TYPE_CATEGORIES = {
    "epic": "epic", "史诗": "epic", "史诗故事": "epic", "initiative": "epic",
    "story": "feature", "userstory": "feature", "newfeature": "feature", "feature": "feature",
    "improvement": "feature", "enhancement": "feature", "需求": "feature", "故事": "feature",
    "用户故事": "feature", "新功能": "feature", "改进": "feature", "优化": "feature",
    "task": "task", "任务": "task", "spike": "task", "chore": "task", "test": "task",
    "subtask": "subtask", "technicalsubtask": "subtask", "子任务": "subtask",
    "bug": "bug", "defect": "bug", "缺陷": "bug", "故障": "bug", "incident": "bug", "事件": "bug",
}


def type_category_for(type_name: str | None) -> str:
    """Map a tool's issue type name onto epic|feature|task|subtask|bug.

    Unknown types (Question, Wish, ...) count as `task`: every task needs a
    category for roll-ups, and plain work is the least surprising guess.
    """
    if not type_name:
        return "task"
    name = _normalise_name(type_name)
    if name in _TYPE_CATEGORIES:
        return _TYPE_CATEGORIES[name]
    if ("sub" in name and "task" in name) or "子任务" in name:
        return "subtask"
    if any(word in name for word in ("bug", "defect", "缺陷", "故障")):
        return "bug"
    if "epic" in name or "史诗" in name:
        return "epic"
    if any(word in name for word in ("story", "feature", "需求", "improvement", "enhancement")):
        return "feature"
    return "task"


# Status names: one vocabulary for parsers, features, KPIs and alerts (warehouse/vocabulary.py).
status_category_for = vocabulary.status_category_for
outcome_for = vocabulary.outcome_for


def labelled_outcome(status_category: str | None, resolution: str | None, labels: Iterable[str]) -> str | None:
    """`outcome_for` for trackers whose status is only open/closed (GitHub, GitLab).

    The tracker's own resolution (GitHub `state_reason`) wins when it is a known word; else a
    closed item with a dropped label (`wontfix`, `duplicate`, `resolution::invalid`, `不修复`)
    is dropped; else delivered.
    """
    if status_category != "done" or vocabulary.resolution_outcome(resolution):
        return outcome_for(status_category, resolution)
    tails = (label.rsplit("::", 1)[-1] for label in labels if label)
    return "dropped" if any(vocabulary.resolution_outcome(t) == "dropped" for t in tails) else "delivered"


# --- Bounds: what a parsed value may be; see warehouse/SCHEMA.md, "Quarantine" -------------------------

EARLIEST = datetime(1900, 1, 1)
LATEST = datetime(2200, 12, 31, 23, 59, 59, 999999)
"""Every date and timestamp of every table lies within these (the planning calendar spans no more)."""

MAX_WORKLOG_HOURS = 168.0
"""One worklog entry: a week around the clock. Jira and GitLab let people log "1w" (40 h) or
GitLab's "1mo" (160 h) in one entry; anything above is no one's time."""
MAX_TASK_HOURS = 100_000.0
"""A task's estimate or time spent: some fifty person-years."""
MAX_STORY_POINTS = 1_000.0

NUMBER_BOUNDS: dict[tuple[str, str], tuple[float, float, str]] = {
    ("worklogs", "hours"): (0.0, MAX_WORKLOG_HOURS, "h"),
    ("tasks", "estimate_hours"): (0.0, MAX_TASK_HOURS, "h"),
    ("tasks", "spent_hours"): (0.0, MAX_TASK_HOURS, "h"),
    ("tasks", "story_points"): (0.0, MAX_STORY_POINTS, "points"),
}
"""(lowest, highest, unit) of numeric columns; every other number only has to be finite."""

ROW_COLUMNS: frozenset[tuple[str, str]] = frozenset({
    ("worklogs", "started_at"), ("worklogs", "hours"), ("status_changes", "changed_at"),
})
"""A value out of bounds here rejects its whole row (the worklog, the status change): the row means
nothing without it. Anywhere else the value is nulled and the row kept."""

LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


@dataclass(frozen=True)
class Finding:
    """Something `enforce_bounds` (or the sync, for a whole item) did not let through as it was."""

    kind: str
    """`record`: the row (or, with no row_id, the whole item) was not loaded; `field`: one value was
    nulled or repaired and the row loaded."""
    field: str
    """`<table>.<column>`; empty for a whole item."""
    row_id: str
    """The row's key (`apache:10234`); empty for a whole item."""
    reason: str


def _out_of_bounds(table: str, column: str, value: Any) -> str | None:
    """Why `value` may not stand in `table.column`, or None."""
    if isinstance(value, (datetime, date)):
        day = value.date() if isinstance(value, datetime) else value
        if day < EARLIEST.date():
            return f"{day.isoformat()} is before {EARLIEST:%Y-%m-%d}"
        if day > LATEST.date():
            return f"{day.isoformat()} is after {LATEST:%Y-%m-%d}"
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a number"
    bound = NUMBER_BOUNDS.get((table, column))
    if bound is None:
        return None
    low, high, unit = bound
    if value < low:
        return f"{_number(value)} {unit} is below {_number(low)}"
    if value > high:
        return f"{_number(value)} {unit} is over the bound of {_number(high)} {unit}"
    return None


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"


def _repaired_text(value: Any) -> Any:
    """`value` with lone surrogates (text no database can store) replaced by U+FFFD; None if it has none."""
    if isinstance(value, str):
        return LONE_SURROGATE.sub(REPLACEMENT, value) if not value.isascii() and LONE_SURROGATE.search(value) else None
    if isinstance(value, list) and any(isinstance(v, str) and _repaired_text(v) is not None for v in value):
        return [_repaired_text(v) or v if isinstance(v, str) else v for v in value]
    return None


def enforce_bounds(rows: Rows, keys: Mapping[str, tuple[str, ...]]) -> list[Finding]:
    """Hold every parsed row to the bounds above, in place, and say what was done and why.

    Dates outside 1900-2200, numbers outside `NUMBER_BOUNDS` and NaN/infinity are
    nulled (a `field` finding), or reject their row when it is meaningless without
    them (`ROW_COLUMNS`, a `record` finding). Lone surrogates in text are replaced by
    U+FFFD (a `field` finding). `keys` names each table's key columns, for row_id.
    """
    findings: list[Finding] = []
    for table, table_rows in rows.items():
        key_columns = keys.get(table, ())
        kept = []
        for row in table_rows:
            row_id = LONE_SURROGATE.sub(REPLACEMENT, "|".join(str(row.get(k)) for k in key_columns))
            rejected = False
            for column, value in list(row.items()):
                repaired = _repaired_text(value)
                if repaired is not None:
                    row[column] = repaired
                    findings.append(Finding("field", f"{table}.{column}", row_id,
                                            "lone surrogate(s) in the text replaced by U+FFFD"))
                    continue
                reason = _out_of_bounds(table, column, value)
                if reason is None:
                    continue
                if (table, column) in ROW_COLUMNS:
                    findings.append(Finding("record", f"{table}.{column}", row_id, f"row rejected: {reason}"))
                    rejected = True
                    break
                row[column] = None
                findings.append(Finding("field", f"{table}.{column}", row_id, f"value nulled: {reason}"))
            if not rejected:
                kept.append(row)
        table_rows[:] = kept
    return findings
