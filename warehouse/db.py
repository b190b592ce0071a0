"""The one place that opens Lodestar's databases.

Concurrency design (see SCHEMA.md, "Concurrency"): DuckDB allows one writing
process and, while it writes, no other process may open the file at all. So:

* the pipeline is the only writer of the warehouse file, serialised between
  processes by an advisory file lock;
* after each run it publishes an immutable copy (`published_path`) with an
  atomic rename; readers (dashboard, `lodestar query`) open that copy read-only
  and never contend with the writer;
* people's edits go to a small SQLite store in WAL mode (many processes may
  write it safely); the dashboard reads edits straight from it, so an edit is
  visible at once, and every sync mirrors the store into the warehouse.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import re
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import polars as pl
import pyarrow as pa

from warehouse.settings import Settings

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
EDITS_SCHEMA = Path(__file__).with_name("edits_schema.sql")
WRITER_LOCK_TIMEOUT_SECONDS = 600.0


class WarehouseError(RuntimeError):
    """A warehouse problem worded for the user (missing snapshot, lock timeout, bad SQL)."""


class EditsStoreError(WarehouseError):
    """The edits store is missing, unreadable, or no longer holds the edits the warehouse mirrored from it.

    People's edits and the audit trail live only there; mirroring or writing on
    top of a lost store would replace the warehouse's copy with nothing, so
    both stop and the warehouse mirror stays as the last good copy.
    """


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def migration_files() -> list[Path]:
    return sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql"))


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply migrations not yet recorded, each in its own transaction."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version VARCHAR PRIMARY KEY, applied_at TIMESTAMP NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for path in migration_files():
        version = path.stem
        if version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("INSERT INTO schema_migrations VALUES (?, ?)", [version, utc_now()])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


@contextlib.contextmanager
def _writer_lock(warehouse_path: Path, timeout: float) -> Iterator[None]:
    lock_path = warehouse_path.with_name(warehouse_path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise WarehouseError(
                        f"{warehouse_path}: another Lodestar sync has held the warehouse for over "
                        f"{timeout:.0f} s; try again when it finishes"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def open_writer(settings: Settings, timeout: float = WRITER_LOCK_TIMEOUT_SECONDS) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse for writing, with migrations applied."""
    path = settings.warehouse.path
    path.parent.mkdir(parents=True, exist_ok=True)
    with _writer_lock(path, timeout):
        con = duckdb.connect(str(path))
        try:
            con.execute("SET TimeZone = 'UTC'")
            apply_migrations(con)
            yield con
        finally:
            con.close()


def publish(settings: Settings) -> Path:
    """Publish an immutable read-only copy of the warehouse with an atomic rename.

    Readers that already opened the previous copy keep reading it (the old
    inode lives until they close); new readers get the new one.
    """
    source = settings.warehouse.path
    target = settings.warehouse.published_path
    with _writer_lock(source, WRITER_LOCK_TIMEOUT_SECONDS):
        con = duckdb.connect(str(source))
        try:
            apply_migrations(con)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        # A publish killed mid-copy leaves its temporary behind; under the lock no other copy is in flight.
        for stale in target.parent.glob(f".{target.name}.*.tmp"):
            stale.unlink(missing_ok=True)
        staging = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
        shutil.copyfile(source, staging)
        os.replace(staging, target)
    return target


def _open_published(settings: Settings, snapshot: Path | None = None) -> duckdb.DuckDBPyConnection:
    path = snapshot or settings.warehouse.published_path
    if not path.exists():
        raise WarehouseError(
            f"{path}: no published warehouse yet; run `lodestar sync` (or `lodestar demo`) first"
        )
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        raise WarehouseError(f"{path}: cannot open the published warehouse: {error}") from None
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET memory_limit = ?", [f"{reader_memory_bytes(settings)}B"])
    con.execute("SET threads = ?", [settings.warehouse.reader_threads])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


_SIZE_UNITS = {"KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
               "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def reader_memory_bytes(settings: Settings) -> int:
    """`[warehouse] reader_memory_limit` in bytes, else a tenth of the machine's memory (DuckDB would take 80 %)."""
    configured = settings.warehouse.reader_memory_limit
    if configured:
        number, unit = re.fullmatch(r"\s*([\d.]+)\s*([A-Za-z]+)\s*", configured).groups()
        return int(float(number) * _SIZE_UNITS[unit.upper()])
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return max(256 * 2**20, total // 10)


def reader_memory_limit(settings: Settings) -> str:
    """The reader limit as people write it: the configured text, else the computed default in MiB."""
    if settings.warehouse.reader_memory_limit:
        return settings.warehouse.reader_memory_limit.replace(" ", "")
    return f"{reader_memory_bytes(settings) // 2**20}MiB"


@contextlib.contextmanager
def open_reader(
    settings: Settings,
    live_edits: bool = False,
    snapshot: Path | None = None,
    store_filter: Callable[[duckdb.DuckDBPyConnection, dict[str, list[dict[str, Any]]]], Mapping[str, Sequence[Mapping[str, Any]]]] | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the published snapshot; no file access, no config changes.

    With `live_edits`, each write-back table (risks, plan_tasks, standups, …,
    audit_log) is shadowed by the current contents of the edits store, so an
    edit shows at once instead of after the next sync mirrors it. Queries keep
    their plain table names; `main.<table>` still reaches the mirror. When the
    store is missing, damaged or replaced (`live_edits_problem`), the mirror is
    shown as it is: the last good copy, not an empty store.

    `snapshot` and `store_filter` are for `warehouse.access` only: a scoped snapshot file, and
    the filter that keeps the live rows its scope may see. Everyone else reads through
    `warehouse.access.open_scoped`.
    """
    con = _open_published(settings, snapshot)
    try:
        if live_edits:
            tables, problem = store_against_snapshot(settings, con, WRITEBACK_TABLES)
            if tables is not None and problem is None and store_filter is not None:
                tables = store_filter(con, tables)
            for table, rows in (tables or {}).items() if problem is None else ():
                con.register(table, edits_as_arrow(con, table, rows))
        yield con
    finally:
        con.close()


def store_against_snapshot(
    settings: Settings, con: duckdb.DuckDBPyConnection, tables: Sequence[str]
) -> tuple[dict[str, list[dict[str, Any]]] | None, str | None]:
    """The store's tables (with its audit log) and, if the store does not continue this snapshot's mirror, why.

    `con` is a warehouse connection (the writer or a published snapshot); the
    reason covers a missing, unreadable or replaced store.
    """
    try:
        rows = edit_tables(settings, list(dict.fromkeys([*tables, "audit_log"])))
    except EditsStoreError as error:
        return None, str(error)
    return rows, store_problem(settings, last_mirrored_edit(con), rows["audit_log"] if rows is not None else None)


def edits_store_status(settings: Settings) -> str | None:
    """For pages: what is wrong with the edits store against the published snapshot, in words, or None."""
    if not settings.warehouse.published_path.exists():
        return None
    con = _open_published(settings)
    try:
        return store_against_snapshot(settings, con, ["audit_log"])[1]
    finally:
        con.close()


def read_frame(
    settings: Settings,
    sql: str,
    params: Sequence[Any] | Mapping[str, Any] | None = None,
    live_edits: bool = False,
) -> pl.DataFrame:
    """Run a read-only query against the published warehouse (with live edits overlaid if asked)."""
    with open_reader(settings, live_edits=live_edits) as con:
        try:
            return pl.from_arrow(con.sql(sql, params=params or None).to_arrow_table())
        except duckdb.Error as error:
            raise WarehouseError(f"query failed: {error}") from None


# ---------------------------------------------------------------- edits store

class StoreTable(NamedTuple):
    """A write-back table as `edits_schema.sql` declares it: the one place its columns and key are written."""

    columns: tuple[str, ...]
    key: tuple[str, ...]


@functools.cache
def store_tables() -> dict[str, StoreTable]:
    """Every table of the edits store, read from `edits_schema.sql` itself (applied to an in-memory SQLite)."""
    con = sqlite3.connect(":memory:")
    try:
        con.executescript(EDITS_SCHEMA.read_text(encoding="utf-8"))
        names = [row[0] for row in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
        )]
        tables = {}
        for name in names:
            info = con.execute(f'PRAGMA table_info("{name}")').fetchall()
            key = tuple(row[1] for row in sorted((r for r in info if r[5]), key=lambda r: r[5]))
            tables[name] = StoreTable(tuple(row[1] for row in info), key)
        return tables
    finally:
        con.close()


EDITABLE_TABLES: tuple[str, ...] = (
    "plan_tasks", "plan_dependencies", "baselines", "baseline_tasks", "risks", "standups",
)
"""Tables people edit through `save_edits`; each has a primary key in `edits_schema.sql`."""

WRITEBACK_TABLES: tuple[str, ...] = (*EDITABLE_TABLES, "audit_log")
"""Tables mirrored into the warehouse by every sync (`migrations/0002_writeback.sql` holds the mirrors)."""


# Bump when edits_schema.sql changes, so existing stores get the new tables on their next open.
_EDITS_SCHEMA_VERSION = 2


def _unreadable(path: Path, error: sqlite3.DatabaseError) -> EditsStoreError:
    return EditsStoreError(
        f"{path}: the edits store cannot be read ({error}); people's edits and the audit trail are not "
        "shown or mirrored until it is restored from a backup (the warehouse keeps its last mirrored copy)"
    )


@contextlib.contextmanager
def open_edits(settings: Settings) -> Iterator[sqlite3.Connection]:
    """The write-back store: SQLite in WAL mode so many processes can write safely.

    A damaged file (not a database, malformed pages) raises EditsStoreError
    naming it, never a bare sqlite3 error; a locked or constraint error passes
    through as it is, since callers handle those themselves.
    """
    path = settings.warehouse.edits_path
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = sqlite3.connect(path, timeout=30, isolation_level=None)
    except sqlite3.DatabaseError as error:
        raise _unreadable(path, error) from None
    try:
        con.execute("PRAGMA busy_timeout=30000")
        # Every dashboard rerun opens the store: create the tables and switch to WAL
        # (both stored in the file) only when the file's schema version says it lacks them.
        if con.execute("PRAGMA user_version").fetchall()[0][0] != _EDITS_SCHEMA_VERSION:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(EDITS_SCHEMA.read_text(encoding="utf-8"))
            con.execute(f"PRAGMA user_version = {_EDITS_SCHEMA_VERSION}")
        yield con
    except sqlite3.DatabaseError as error:
        if type(error) is not sqlite3.DatabaseError:
            raise
        raise _unreadable(path, error) from None
    finally:
        con.close()


class MirroredEdit(NamedTuple):
    """The newest audit row the warehouse mirrored: the store must still hold it, unchanged."""

    audit_id: int
    edited_at: datetime
    actor: str
    table_name: str
    row_key: str
    mirrored: int


def last_mirrored_edit(con: duckdb.DuckDBPyConnection) -> MirroredEdit | None:
    """The warehouse mirror's newest audit row (None before anyone edited anything, or before the mirror exists)."""
    try:
        row = con.execute(
            "SELECT audit_id, edited_at, actor, table_name, row_key, count(*) OVER () FROM main.audit_log "
            "ORDER BY audit_id DESC LIMIT 1"
        ).fetchone()
    except duckdb.CatalogException:
        return None
    return MirroredEdit(*row) if row else None


def store_problem(settings: Settings, mark: MirroredEdit | None, store_audit: Sequence[Mapping[str, Any]] | None) -> str | None:
    """Why the edits store does not continue what the warehouse mirrored, or None when it does.

    `store_audit` is the store's audit log (None when the store file is missing).
    The audit log only grows, so a store that lacks the mirror's newest audit row
    was deleted, replaced by an empty one, or restored from an older copy.
    """
    if mark is None:
        return None
    path = settings.warehouse.edits_path
    last = f"{mark.mirrored} audited edit(s), the last at {mark.edited_at:%Y-%m-%d %H:%M} UTC by {mark.actor}"
    if store_audit is None:
        return (f"{path}: the edits store is missing, but the warehouse holds {last}; the warehouse copy is kept "
                "and not overwritten. Restore the edits store from a backup, then sync again.")
    match = next((row for row in store_audit if row.get("audit_id") == mark.audit_id), None)
    if match is None or (match["actor"], match["table_name"], match["row_key"]) != (
            mark.actor, mark.table_name, mark.row_key) or datetime.fromisoformat(match["edited_at"]) != mark.edited_at:
        return (f"{path}: the edits store does not hold the edits the warehouse mirrored from it ({last}): it was "
                "replaced or restored from an older copy. The warehouse copy is kept and not overwritten; restore "
                "the newest backup of the edits store, then sync again.")
    return None


def _published_mark(settings: Settings) -> MirroredEdit | None:
    if not settings.warehouse.published_path.exists():
        return None
    con = _open_published(settings)
    try:
        return last_mirrored_edit(con)
    finally:
        con.close()


def require_intact_store(settings: Settings) -> None:
    """Refuse to write on a lost store: new edits there would be mirrored over the ones it lost."""
    mark = _published_mark(settings)
    if mark is None:
        return
    path = settings.warehouse.edits_path
    audit = None
    if path.exists():
        with open_edits(settings) as con:
            con.row_factory = sqlite3.Row
            audit = [dict(row) for row in con.execute(
                "SELECT audit_id, edited_at, actor, table_name, row_key FROM audit_log WHERE audit_id = ?",
                [mark.audit_id])]
    problem = store_problem(settings, mark, audit)
    if problem:
        raise EditsStoreError(problem)


def _encode(value: Any) -> Any:
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


class EditChange(NamedTuple):
    """One row to write to a write-back table: upsert it, or delete the row with its key."""

    table: str
    row: Mapping[str, Any]
    action: str = "upsert"


def _key_of(change: EditChange) -> tuple[tuple[str, ...], list[Any], str]:
    if change.table not in EDITABLE_TABLES:
        raise WarehouseError(
            f"{change.table!r} is not an editable table (editable: {', '.join(EDITABLE_TABLES)})"
        )
    if change.action not in ("upsert", "delete"):
        raise WarehouseError(f"{change.table}: unknown action {change.action!r} (expected upsert or delete)")
    table = store_tables()[change.table]
    unknown = [column for column in change.row if column not in table.columns]
    if unknown:
        raise WarehouseError(
            f"{change.table}: unknown column(s) {', '.join(map(repr, unknown))} "
            f"(the table has {', '.join(table.columns)})"
        )
    keys = table.key
    missing = [k for k in keys if change.row.get(k) in (None, "")]
    if missing:
        raise WarehouseError(f"{change.table}: missing key field(s) {', '.join(missing)}")
    return keys, [_encode(change.row[k]) for k in keys], "|".join(str(change.row[k]) for k in keys)


def save_edits(settings: Settings, changes: Sequence[EditChange], actor: str) -> list[dict[str, Any] | None]:
    """Write several rows and their audit entries in ONE transaction: all land or none do.

    A plan edit touches many tasks and links at once; half of it saved would
    be a plan nobody made. Returns each row as it was before (None if new).
    """
    if not actor or not str(actor).strip():
        raise WarehouseError("an edit needs the name of the person making it")
    prepared = [(change, *_key_of(change)) for change in changes]
    require_intact_store(settings)
    befores: list[dict[str, Any] | None] = []
    edited_at = utc_now().isoformat()
    with open_edits(settings) as con:
        con.row_factory = sqlite3.Row
        con.execute("BEGIN IMMEDIATE")
        try:
            for change, keys, key_values, row_key in prepared:
                table = change.table
                where = " AND ".join(f'"{k}" = ?' for k in keys)
                previous = con.execute(f'SELECT * FROM "{table}" WHERE {where}', key_values).fetchone()
                before = dict(previous) if previous else None
                if change.action == "delete":
                    con.execute(f'DELETE FROM "{table}" WHERE {where}', key_values)
                    after = None
                else:
                    encoded = {column: _encode(value) for column, value in change.row.items()}
                    columns = list(encoded)
                    placeholders = ", ".join("?" for _ in columns)
                    column_sql = ", ".join(f'"{c}"' for c in columns)
                    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in keys)
                    conflict = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
                    con.execute(
                        f'INSERT INTO "{table}" ({column_sql}) VALUES ({placeholders}) '
                        f'ON CONFLICT ({", ".join(keys)}) {conflict}',
                        [encoded[c] for c in columns],
                    )
                    after = dict(con.execute(f'SELECT * FROM "{table}" WHERE {where}', key_values).fetchone())
                con.execute(
                    "INSERT INTO audit_log (edited_at, actor, table_name, row_key, action, before, after) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        edited_at,
                        actor,
                        table,
                        row_key,
                        change.action,
                        json.dumps(before, ensure_ascii=False) if before else None,
                        json.dumps(after, ensure_ascii=False) if after else None,
                    ],
                )
                befores.append(before)
            con.execute("COMMIT")
        except sqlite3.IntegrityError as error:
            con.execute("ROLLBACK")
            raise WarehouseError(f"edit rejected by the store: {error}") from None
        except Exception:
            con.execute("ROLLBACK")
            raise
    return befores


def save_edit(
    settings: Settings,
    table: str,
    row: Mapping[str, Any],
    actor: str,
    action: str = "upsert",
) -> dict[str, Any] | None:
    """Insert or update (or delete) one row of a write-back table and audit it, in one transaction.

    Returns the row as it was before (None for a new row).
    """
    return save_edits(settings, [EditChange(table, row, action)], actor)[0]


def edits_version(settings: Settings) -> int:
    """The id of the latest audited edit (0 when none): a cache key that changes with every edit."""
    path = settings.warehouse.edits_path
    if not path.exists():
        return 0
    with open_edits(settings) as con:
        return int(con.execute("SELECT coalesce(max(audit_id), 0) FROM audit_log").fetchall()[0][0])


def _to_warehouse_value(value: Any, arrow_type: pa.DataType) -> Any:
    if value is None:
        return None
    if pa.types.is_date32(arrow_type):
        return date.fromisoformat(str(value)[:10])
    if pa.types.is_timestamp(arrow_type):
        return datetime.fromisoformat(str(value))
    if pa.types.is_list(arrow_type):
        return json.loads(value) if isinstance(value, str) else list(value)
    if pa.types.is_boolean(arrow_type):
        return bool(value)
    return value


def edits_as_arrow(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Rows of one write-back table, typed like its warehouse mirror `main.<table>`.

    A column the store has and the mirror lacks (or the reverse) is an error, not a
    silently dropped field: the two schemas have drifted and a migration is missing.
    """
    schema = con.sql(f"SELECT * FROM main.{table} LIMIT 0").to_arrow_table().schema
    store_columns = set(store_tables()[table].columns).union(*(row.keys() for row in rows))
    if store_columns != set(schema.names):
        raise WarehouseError(
            f"{table}: the edits store and its warehouse mirror disagree on columns "
            f"(only in the store: {sorted(store_columns - set(schema.names))}; "
            f"only in the mirror: {sorted(set(schema.names) - store_columns)}); "
            "edits_schema.sql and migrations/0002_writeback.sql must declare the same columns"
        )
    columns = {}
    for field in schema:
        values = [_to_warehouse_value(row.get(field.name), field.type) for row in rows]
        columns[field.name] = pa.array(values, type=field.type)
    return pa.table(columns, schema=schema)


def edit_tables(settings: Settings, tables: Sequence[str] = WRITEBACK_TABLES) -> dict[str, list[dict[str, Any]]] | None:
    """Several write-back tables read in one visit to the store (one consistent snapshot of it).

    None when the store file does not exist: reading must not create an empty
    store, which would look like a store whose edits were all undone.
    """
    unknown = [t for t in tables if t not in WRITEBACK_TABLES]
    if unknown:
        raise WarehouseError(f"{', '.join(map(repr, unknown))} not write-back table(s)")
    if not settings.warehouse.edits_path.exists():
        return None
    with open_edits(settings) as con:
        con.row_factory = sqlite3.Row
        con.execute("BEGIN")
        try:
            return {t: [dict(row) for row in con.execute(f'SELECT * FROM "{t}"').fetchall()] for t in tables}
        finally:
            con.execute("COMMIT")


def edit_rows(settings: Settings, table: str) -> list[dict[str, Any]]:
    """All rows of one write-back table (or the audit log), straight from the edits store."""
    if table not in WRITEBACK_TABLES:
        raise WarehouseError(f"{table!r} is not a write-back table")
    tables = edit_tables(settings, [table])
    return tables[table] if tables is not None else []


def save_baseline(settings: Settings, record: Mapping[str, Any], task_rows: Sequence[Mapping[str, Any]], actor: str) -> None:
    """A named baseline and its task rows, with one audit entry, in one transaction."""
    if not record.get("baseline_id") or not record.get("name"):
        raise WarehouseError("a baseline needs an id and a name")
    require_intact_store(settings)
    with open_edits(settings) as con:
        con.execute("BEGIN IMMEDIATE")
        try:
            if con.execute("SELECT 1 FROM baselines WHERE baseline_id = ?", [record["baseline_id"]]).fetchone():
                raise WarehouseError(f"baseline {record['baseline_id']!r} already exists")
            columns = ["baseline_id", "project_key", "name", "created_at", "created_by"]
            con.execute(
                f"INSERT INTO baselines ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                [_encode(record.get(c)) for c in columns],
            )
            task_columns = ["baseline_id", "task_id", "planned_start", "planned_finish", "estimate_hours"]
            con.executemany(
                f"INSERT INTO baseline_tasks ({', '.join(task_columns)}) VALUES ({', '.join('?' for _ in task_columns)})",
                [[_encode(row.get(c)) for c in task_columns] for row in task_rows],
            )
            con.execute(
                "INSERT INTO audit_log (edited_at, actor, table_name, row_key, action, before, after) "
                "VALUES (?, ?, 'baselines', ?, 'insert', NULL, ?)",
                [utc_now().isoformat(), actor, record["baseline_id"],
                 json.dumps({**{k: _encode(v) for k, v in record.items()}, "tasks": len(task_rows)},
                            ensure_ascii=False)],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
