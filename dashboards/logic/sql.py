"""SQL explorer: read-only queries on the published snapshot, the schema, and saved queries.

Queries run through `warehouse.sandbox` (one checked read-only statement on a
read-only, memory-capped connection, cut at a row cap and stopped after a
timeout), the same door `lodestar query` uses.

Saved queries are shared by everyone using this warehouse: the edits store has
no table for them, so they live in a small JSON file beside it, rewritten
atomically (temp file + rename) under an advisory lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Final

import polars as pl

from dashboards.data import Query
from warehouse import sandbox
from warehouse.sandbox import QueryRefused, check_query
from warehouse.settings import Settings

DISPLAY_ROWS: Final = 10_000
MAX_NAME_LENGTH: Final = 80
SAVED_FILE_NAME: Final = "saved_queries.json"
SCHEMA_DOC: Final = Path(__file__).resolve().parents[2] / "warehouse" / "SCHEMA.md"

SCHEMA_SQL: Final = """
SELECT c.table_name, c.column_name, c.data_type, t.table_type
FROM information_schema.columns AS c
JOIN information_schema.tables AS t USING (table_catalog, table_schema, table_name)
WHERE c.table_schema = 'main' AND c.table_catalog = current_database()
ORDER BY c.table_name, c.ordinal_position
"""


# ------------------------------------------------------------------ running

run_query = sandbox.run_query


# ------------------------------------------------------------------ downloads


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    """Nested columns as JSON text and binary as hex, because CSV has only flat cells."""
    converted = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, (pl.List, pl.Array, pl.Struct, pl.Object)):
            values = [
                None if value is None else json.dumps(value, default=str, ensure_ascii=False)
                for value in frame[name].to_list()
            ]
            converted.append(pl.Series(name, values, dtype=pl.String))
        elif isinstance(dtype, pl.Binary):
            converted.append(frame[name].bin.encode("hex"))
        elif isinstance(dtype, pl.Null):
            converted.append(frame[name].cast(pl.String))
    return frame.with_columns(converted) if converted else frame


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens Chinese text correctly."""
    return _flat(frame).write_csv(include_bom=True).encode("utf-8")


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------ schema browser


def schema_columns(query: Query) -> pl.DataFrame:
    """Every table and view of the snapshot with its columns and types, plus documented meanings."""
    frame = query(SCHEMA_SQL, [])
    documented = pl.DataFrame(
        [(table, column, text) for table, columns in column_descriptions().items() for column, text in columns.items()],
        schema={"table_name": pl.String, "column_name": pl.String, "description": pl.String},
        orient="row",
    )
    return frame.join(documented, on=["table_name", "column_name"], how="left", maintain_order="left").with_columns(
        pl.col("description").fill_null("")
    )


@lru_cache(maxsize=1)
def column_descriptions() -> dict[str, dict[str, str]]:
    try:
        return parse_schema_doc(SCHEMA_DOC.read_text(encoding="utf-8"))
    except OSError:
        return {}


@lru_cache(maxsize=1)
def table_descriptions() -> dict[str, str]:
    try:
        text = SCHEMA_DOC.read_text(encoding="utf-8")
    except OSError:
        return {}
    found = {}
    for match in re.finditer(r"^###\s+(.+?)(?:\s+—\s+(.+))?$", text, flags=re.MULTILINE):
        for name in re.findall(r"`([a-z0-9_]+)`", match.group(1)):
            found[name] = (match.group(2) or "").strip()
    return found


_HEADING = re.compile(r"^###\s+`([a-z0-9_]+)`")
_TABLE_HEADER = re.compile(r"^\|\s*`([a-z0-9_]+)` column\s*\|")
_TABLE_ROW = re.compile(r"^\|\s*`([a-z0-9_]+)`\s*\|\s*([^|]*?)\s*\|\s*(.*?)\s*\|\s*$")
_INLINE_TABLE = re.compile(r"^`([a-z0-9_]+)`:")
_INLINE_COLUMN = re.compile(r"`([a-z0-9_]+)`\s+([A-Z][A-Z0-9_\[\]]*(?:\s+PK)?)(?:\s*\(([^)]*)\))?")


def parse_schema_doc(text: str) -> dict[str, dict[str, str]]:
    """Column meanings from warehouse/SCHEMA.md: its markdown tables, and the inline `col` TYPE (meaning) lists."""
    meanings: dict[str, dict[str, str]] = {}
    table: str | None = None
    for line in text.splitlines():
        if line.startswith("#"):
            heading = _HEADING.match(line)
            table = heading.group(1) if heading else None
            continue
        header = _TABLE_HEADER.match(line)
        if header:
            table = header.group(1)
            continue
        if table is None:
            continue
        row = _TABLE_ROW.match(line)
        if row:
            meanings.setdefault(table, {})[row.group(1)] = row.group(3).replace("`", "")
            continue
        inline_table = _INLINE_TABLE.match(line)
        if inline_table:
            table = inline_table.group(1)
        for column in _INLINE_COLUMN.finditer(line):
            meanings.setdefault(table, {})[column.group(1)] = (column.group(3) or "").replace("`", "")
    return meanings


def example_for(table: str) -> str:
    return f"SELECT * FROM {quote_identifier(table)} LIMIT 100"


def quote_identifier(name: str) -> str:
    if re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        return name
    return '"' + name.replace('"', '""') + '"'


# ------------------------------------------------------------------ examples

EXAMPLES: Final[dict[str, str]] = {
    "hours_by_person": """-- Hours per person in the latest month that has worklogs
SELECT coalesce(p.display_name, w.person_id) AS person,
       round(sum(w.hours), 1) AS hours
FROM worklogs AS w
LEFT JOIN people AS p USING (person_id)
WHERE date_trunc('month', w.started_at) = (SELECT date_trunc('month', max(started_at)) FROM worklogs)
GROUP BY ALL
ORDER BY hours DESC""",
    "overdue_tasks": """-- Open tasks past their due date, as of the portfolio's day
SELECT t.project_key, t.source_key, t.title, t.status, p.display_name AS assignee, t.due_date,
       (SELECT max(as_of) FROM mart_project_kpis) - t.due_date AS days_late
FROM tasks AS t
LEFT JOIN people AS p ON p.person_id = t.assignee_id
WHERE NOT t.is_deleted
  AND t.status_category <> 'done'
  AND t.due_date < (SELECT max(as_of) FROM mart_project_kpis)
ORDER BY days_late DESC
LIMIT 500""",
    "critical_path": """-- Critical path of one project (change the key), in schedule order
SELECT s.task_id, t.source_key, t.title, s.early_start, s.early_finish,
       s.total_float_days, s.criticality_index
FROM plan_schedule AS s
JOIN tasks AS t USING (task_id)
WHERE s.is_critical
  AND s.project_key = (SELECT min(project_key) FROM plan_schedule)
ORDER BY s.early_start, s.early_finish""",
    "forecasts": """-- When each project will finish, against its due date
SELECT project_key, due_date, finish_p50, finish_p85, finish_p95,
       round(probability_on_time * 100) AS on_time_pct, method
FROM project_forecasts
ORDER BY project_key""",
    "open_bugs": """-- Open bugs per project and priority
SELECT project_key, priority, count(*) AS open_bugs
FROM tasks
WHERE type_category = 'bug' AND status_category <> 'done' AND NOT is_deleted
GROUP BY ALL
ORDER BY project_key, open_bugs DESC""",
    "recent_edits": """-- The latest edits people made in the dashboard
SELECT edited_at, actor, table_name, row_key, action
FROM audit_log
ORDER BY edited_at DESC
LIMIT 100""",
}


def example_label(name: str) -> str:
    """The i18n key naming a shipped example; "Overdue tasks" is the portfolio's word for the same list."""
    return "common.overdue_tasks" if name == "overdue_tasks" else f"sql.example.{name}"


# ------------------------------------------------------------------ saved queries


@dataclass(frozen=True)
class SavedQuery:
    name: str
    sql: str
    saved_by: str
    saved_at: str = field(default_factory=lambda: datetime.now(timezone.utc).replace(microsecond=0).isoformat())


def saved_queries_path(settings: Settings) -> Path:
    return settings.warehouse.edits_path.with_name(SAVED_FILE_NAME)


def load_saved(path: Path) -> list[SavedQuery]:
    """The saved queries, oldest first; a missing file is an empty list, a damaged one an error saying so."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as error:
        raise QueryRefused("sql.error.store", f"{path}: {error}", path=str(path), detail=str(error)) from None
    try:
        rows = json.loads(text)
        return [
            SavedQuery(str(row["name"]), str(row["sql"]), str(row.get("saved_by", "")), str(row.get("saved_at", "")))
            for row in rows
        ]
    except (ValueError, TypeError, KeyError) as error:
        message = f"{path}: not a saved-queries file: {error}"
        raise QueryRefused("sql.error.store", message, path=str(path), detail=str(error)) from None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write(path: Path, queries: list[SavedQuery]) -> None:
    descriptor, staging = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump([asdict(query) for query in queries], handle, ensure_ascii=False, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staging, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staging)
        raise


def validate_saved(name: str, sql: str, actor: str) -> SavedQuery:
    """A query ready to save, or QueryRefused naming what is wrong (empty name, too long, not read-only)."""
    name = name.strip()
    if not name:
        raise QueryRefused("sql.error.name_empty", "give the query a name")
    if len(name) > MAX_NAME_LENGTH:
        limit = MAX_NAME_LENGTH
        raise QueryRefused("sql.error.name_long", f"names are at most {limit} characters", limit=limit)
    if not actor.strip():
        raise QueryRefused("msg.no_actor", "who is saving is unknown")
    check_query(sql)
    return SavedQuery(name, sql.strip(), actor.strip())


def save_query(path: Path, query: SavedQuery, replace: bool = False) -> list[SavedQuery]:
    """Add `query` to the shared file (replacing one of the same name only when `replace`); returns the new list."""
    with _locked(path):
        queries = load_saved(path)
        exists = any(saved.name == query.name for saved in queries)
        if exists and not replace:
            raise QueryRefused("sql.error.name_taken", f"a saved query named {query.name!r} exists", name=query.name)
        queries = [saved for saved in queries if saved.name != query.name] + [query]
        _write(path, queries)
    return queries


def delete_query(path: Path, name: str) -> list[SavedQuery]:
    with _locked(path):
        queries = load_saved(path)
        remaining = [saved for saved in queries if saved.name != name]
        if len(remaining) == len(queries):
            raise QueryRefused("sql.error.not_saved", f"no saved query named {name!r}", name=name)
        _write(path, remaining)
    return remaining
