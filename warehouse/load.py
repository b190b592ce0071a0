"""Bulk, idempotent loading of parsed rows into canonical tables.

Rows arrive as lists of dicts (from the pure parse functions), become one Arrow
table per warehouse table, and are merged by key in set-based SQL: a row whose
content is unchanged is not rewritten, so a second sync of the same data changes
nothing and reports zero inserted/updated.

A `task_links` row (or a `parent_task_id`) may name an issue outside the
synced projects: it is loaded as it is, a reference to that issue's
`"<source>:<key>"`, and becomes an ordinary link once that project is synced.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "projects": ("project_key",),
    "tasks": ("task_id",),
    "task_links": ("from_task_id", "to_task_id", "link_type"),
    "status_changes": ("change_id",),
    "comments": ("comment_id",),
    "worklogs": ("worklog_id",),
    "commits": ("repo", "sha"),
    "pull_requests": ("source", "repo", "number"),
    "sprints": ("sprint_id",),
    "identities": ("identity_id",),
}

# Child rows that a task's payload carries in full: when the task is re-synced,
# its children missing from the new payload were deleted at the source.
TASK_CHILDREN: dict[str, tuple[str, ...]] = {
    "status_changes": ("task_id",),
    "comments": ("task_id",),
    "task_links": ("from_task_id", "to_task_id"),
    "worklogs": ("task_id",),
}
# Children of a task that its payload does not carry: a timesheet's rows belong to their file.
NOT_CARRIED: dict[str, str] = {"worklogs": "origin = 'timesheet'"}

# Columns that refer to a person; parsers fill them with identity ids.
PERSON_COLUMNS: dict[str, tuple[str, ...]] = {
    "projects": ("lead_id",),
    "tasks": ("assignee_id", "reporter_id"),
    "status_changes": ("author_id",),
    "comments": ("author_id",),
    "worklogs": ("person_id",),
    "commits": ("author_id",),
    "pull_requests": ("author_id",),
}

# Parsers may omit these; NULL would break a NOT NULL column or mean something else.
COLUMN_DEFAULTS: dict[tuple[str, str], object] = {
    ("tasks", "is_deleted"): False,
    ("task_links", "dependency"): "FS",
    ("task_links", "lag_days"): 0.0,
}

# Columns no parser fills: derived after the load (tasks.is_sensitive: warehouse/transforms/task_sensitivity.sql).
# Left out of the merge, so a re-sync neither resets nor counts them; a rewritten row gets the column default.
DERIVED_COLUMNS: dict[str, tuple[str, ...]] = {"tasks": ("is_sensitive",)}

LOAD_ORDER = [
    "identities",
    "projects",
    "sprints",
    "tasks",
    "task_links",
    "status_changes",
    "comments",
    "worklogs",
    "commits",
    "pull_requests",
]


@dataclass
class TableCounts:
    received: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    def add(self, other: "TableCounts") -> None:
        self.received += other.received
        self.inserted += other.inserted
        self.updated += other.updated
        self.deleted += other.deleted


@dataclass
class LoadReport:
    tables: dict[str, TableCounts] = field(default_factory=dict)

    def counts(self, table: str) -> TableCounts:
        return self.tables.setdefault(table, TableCounts())

    @property
    def inserted(self) -> int:
        return sum(c.inserted for c in self.tables.values())

    @property
    def updated(self) -> int:
        return sum(c.updated for c in self.tables.values())

    @property
    def deleted(self) -> int:
        return sum(c.deleted for c in self.tables.values())

    def as_metadata(self) -> dict[str, int]:
        meta = {"inserted": self.inserted, "updated": self.updated, "deleted": self.deleted}
        for table, counts in sorted(self.tables.items()):
            meta[f"{table}_received"] = counts.received
            meta[f"{table}_inserted"] = counts.inserted
            meta[f"{table}_updated"] = counts.updated
            meta[f"{table}_deleted"] = counts.deleted
        return meta


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_schema(con: duckdb.DuckDBPyConnection, table: str) -> pa.Schema:
    """The Arrow schema of a warehouse table, so incoming rows are typed once, in bulk."""
    empty = con.sql(f"SELECT * FROM {_quote(table)} LIMIT 0").to_arrow_table()
    return empty.schema


def rows_to_arrow(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Mapping]) -> pa.Table:
    schema = table_schema(con, table)
    columns = {}
    for column in schema:
        default = COLUMN_DEFAULTS.get((table, column.name))
        values = [row.get(column.name) for row in rows]
        if default is not None:
            values = [default if v is None else v for v in values]
        try:
            columns[column.name] = pa.array(values, type=column.type)
        except _NOT_CASTABLE as error:
            bad = next((v for v in values if v is not None and _not_castable(v, column.type)), None)
            raise ValueError(
                f"{table}.{column.name}: expected {column.type}, got {bad!r} ({error})"
            ) from None
    return pa.table(columns, schema=schema)


# Arrow's complaints about a value: wrong type, too big for the column, text with no UTF-8 form.
_NOT_CASTABLE = (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError, OverflowError)


def _not_castable(value, arrow_type: pa.DataType) -> bool:
    try:
        pa.array([value], type=arrow_type)
        return False
    except _NOT_CASTABLE:
        return True


def row_problems(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Mapping]) -> list[tuple[int, str]]:
    """(index, why) of the rows that would make loading `table` fail, checked before anything is written.

    A value of the wrong type, too big for its column or not storable as text, or a
    NULL in a NOT NULL column: one such row would fail the whole load, so the caller
    sets it (with the payload it came from) aside instead.
    """
    if table not in TABLE_KEYS:
        return [(index, f"no table {table!r} to load into") for index in range(len(rows))]
    required = [name for (name,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' "
        "AND NOT is_nullable AND column_default IS NULL", [table]).fetchall()
        if (table, name) not in COLUMN_DEFAULTS]
    problems = []
    for index, row in enumerate(rows):
        missing = [name for name in required if row.get(name) is None]
        if missing:
            problems.append((index, f"{table}.{missing[0]} is missing"))
    try:
        rows_to_arrow(con, table, rows)
        return problems
    except ValueError:
        pass
    missing_rows = {index for index, _ in problems}
    for index, row in enumerate(rows):
        if index in missing_rows:
            continue
        try:
            rows_to_arrow(con, table, [row])
        except ValueError as error:
            problems.append((index, str(error)))
    return sorted(problems)


def _dedupe_last(rows: Sequence[Mapping], keys: tuple[str, ...]) -> list[Mapping]:
    by_key: dict[tuple, Mapping] = {}
    for row in rows:
        by_key[tuple(row.get(k) for k in keys)] = row
    return list(by_key.values())


def upsert(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Mapping]) -> TableCounts:
    """Insert new keys, rewrite changed rows, leave identical rows untouched."""
    keys = TABLE_KEYS[table]
    rows = _dedupe_last(rows, keys)
    counts = TableCounts(received=len(rows))
    if not rows:
        return counts
    incoming = rows_to_arrow(con, table, rows)
    derived = [c for c in DERIVED_COLUMNS.get(table, ()) if c in incoming.column_names]
    if derived:
        incoming = incoming.drop_columns(derived)
    return _merge_arrow(con, table, incoming, keys, counts)


def _merge_arrow(
    con: duckdb.DuckDBPyConnection, table: str, incoming: pa.Table, keys: tuple[str, ...], counts: TableCounts
) -> TableCounts:
    con.register("_incoming", incoming)
    try:
        columns = incoming.column_names
        others = [c for c in columns if c not in keys]
        join = " AND ".join(f"i.{_quote(k)} = t.{_quote(k)}" for k in keys)
        differs = (
            f"ROW({', '.join('i.' + _quote(c) for c in others)}) IS DISTINCT FROM "
            f"ROW({', '.join('t.' + _quote(c) for c in others)})"
            if others
            else "FALSE"
        )
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _changed AS
                SELECT i.*, t.{_quote(keys[0])} IS NULL AS _is_new
                FROM _incoming i LEFT JOIN {_quote(table)} t ON {join}
                WHERE t.{_quote(keys[0])} IS NULL OR {differs}"""
        )
        counts.inserted, counts.updated = con.execute(
            "SELECT count(*) FILTER (WHERE _is_new), count(*) FILTER (WHERE NOT _is_new) FROM _changed"
        ).fetchall()[0]
        if counts.inserted or counts.updated:
            column_list = ", ".join(_quote(c) for c in columns)
            key_match = " AND ".join(f"{_quote(table)}.{_quote(k)} = c.{_quote(k)}" for k in keys)
            con.execute(
                f"DELETE FROM {_quote(table)} WHERE EXISTS (SELECT 1 FROM _changed c WHERE NOT c._is_new AND {key_match})"
            )
            con.execute(f"INSERT INTO {_quote(table)} ({column_list}) SELECT {column_list} FROM _changed")
        con.execute("DROP TABLE _changed")
    finally:
        con.unregister("_incoming")
    return counts


def delete_missing_children(
    con: duckdb.DuckDBPyConnection,
    table: str,
    source: str,
    task_ids: Sequence[str],
    rows: Sequence[Mapping],
) -> int:
    """Delete child rows of re-synced tasks that their new payload no longer carries."""
    if not task_ids:
        return 0
    keys = TABLE_KEYS[table]
    parent_columns = TASK_CHILDREN[table]
    kept = pa.table({k: pa.array([str(row.get(k)) for row in rows], type=pa.string()) for k in keys}) if rows else None
    con.register("_parents", pa.table({"task_id": pa.array(list(task_ids), type=pa.string())}))
    try:
        touches = " OR ".join(f"{_quote(table)}.{_quote(c)} IN (SELECT task_id FROM _parents)" for c in parent_columns)
        if table == "task_links":
            # A parent link is carried by the child's payload; the parent's may not list it.
            # A child outside the synced projects has no payload here: its parent's is the one.
            touches = f"""(link_type <> 'parent' AND ({touches})) OR (link_type = 'parent' AND (
                to_task_id IN (SELECT task_id FROM _parents) OR (from_task_id IN (SELECT task_id FROM _parents)
                AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.task_id = task_links.to_task_id))))"""
        condition = f"source = ? AND ({touches})"
        if table in NOT_CARRIED:
            condition += f" AND NOT ({NOT_CARRIED[table]})"
        if kept is not None:
            con.register("_kept", kept)
            key_match = " AND ".join(f"CAST({_quote(table)}.{_quote(k)} AS VARCHAR) = k.{_quote(k)}" for k in keys)
            condition += f" AND NOT EXISTS (SELECT 1 FROM _kept k WHERE {key_match})"
        deleted = con.execute(f"SELECT count(*) FROM {_quote(table)} WHERE {condition}", [source]).fetchall()[0][0]
        if deleted:
            con.execute(f"DELETE FROM {_quote(table)} WHERE {condition}", [source])
        if kept is not None:
            con.unregister("_kept")
    finally:
        con.unregister("_parents")
    return deleted


def remap_projects(rows: dict[str, list[dict]], project_of: Mapping[str, str]) -> None:
    """Rewrite tool project keys (a GitLab path, say) to the configured project key, in place."""
    if not project_of:
        return
    for table in ("tasks", "sprints", "projects"):
        for row in rows.get(table, ()):
            key = row.get("project_key")
            if key in project_of:
                row["project_key"] = project_of[key]


def remap_people(rows: dict[str, list[dict]], person_of: Mapping[str, str]) -> None:
    """Rewrite identity ids in person columns to person ids, in place."""
    for table, columns in PERSON_COLUMNS.items():
        for row in rows.get(table, ()):
            for column in columns:
                value = row.get(column)
                if value is not None:
                    row[column] = person_of.get(value, value)


def load_rows(con: duckdb.DuckDBPyConnection, source: str, rows: dict[str, list[dict]]) -> LoadReport:
    """Upsert every table of a parsed batch; the caller owns the transaction."""
    report = LoadReport()
    unknown = set(rows) - set(TABLE_KEYS)
    if unknown:
        raise ValueError(f"parsed rows for unknown table(s): {', '.join(sorted(unknown))}")
    if rows.get("identities"):
        rows = dict(rows, identities=_complete_identities(con, rows["identities"]))
    synced_tasks = [row["task_id"] for row in rows.get("tasks", ())]
    for table in LOAD_ORDER:
        table_rows = rows.get(table, [])
        counts = upsert(con, table, table_rows)
        if table in TASK_CHILDREN:
            counts.deleted += delete_missing_children(con, table, source, synced_tasks, table_rows)
        report.counts(table).add(counts)
    return report


def _complete_identities(con: duckdb.DuckDBPyConnection, rows: Sequence[Mapping]) -> list[dict]:
    """One row per account, each attribute taken from whichever sighting has it.

    A GitHub login appears with an e-mail on commits and without one on pull
    requests; the e-mail must not be lost to whichever payload came last.
    """
    merged: dict[str, dict] = {}
    for row in rows:
        entry = merged.setdefault(row["identity_id"], dict(row))
        for column, value in row.items():
            if value is not None:
                entry[column] = value
    keys = pa.table({"identity_id": pa.array(list(merged), type=pa.string())})
    con.register("_identity_keys", keys)
    try:
        known = con.execute(
            """SELECT identity_id, display_name, email, person_id FROM identities
               WHERE identity_id IN (SELECT identity_id FROM _identity_keys)"""
        ).fetchall()
    finally:
        con.unregister("_identity_keys")
    for identity_id, display_name, email, person_id in known:
        entry = merged[identity_id]
        entry["display_name"] = entry.get("display_name") or display_name
        entry["email"] = entry.get("email") or email
        entry.setdefault("person_id", person_id)
    return list(merged.values())


def json_default(value):
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def dumps(payload) -> str:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, default=json_default)
