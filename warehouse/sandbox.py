"""Ad-hoc SQL from people (the SQL page, `lodestar query`): one checked, bounded, read-only query.

Safety has two layers. The real guard is the connection: `open_reader` opens
the snapshot read-only with external (file, network) access disabled, memory
and threads capped (`[warehouse] reader_memory_limit`, `reader_threads`) and
the configuration locked, so nothing a query says can write or read files or
take the server's memory. On top, `check_query` accepts exactly one query
statement (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE) or EXPLAIN,
so a write, COPY, ATTACH, SET, PRAGMA or PIVOT (which creates types) is refused
with a plain reason before it runs, instead of as a database error.

Results are streamed and cut at a row cap, and a timer interrupts a query that
runs too long. Every failure, whatever raised it (DuckDB, Arrow, the OS), comes
back as one `QueryRefused` with a message key for the dashboard's languages.
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass
from typing import Final

import duckdb
import polars as pl
import pyarrow as pa

from warehouse.access import OPERATOR, Scope, open_scoped, resolve
from warehouse.db import WarehouseError, reader_memory_bytes, reader_memory_limit
from warehouse.settings import Settings

_BATCH_ROWS: Final = 10_000
_ALLOWED: Final = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})


class QueryRefused(WarehouseError):
    """A refusal or failure worded for the user: `key` names the translated message, `fmt` fills it."""

    def __init__(self, key: str, message: str, **fmt: object) -> None:
        super().__init__(message)
        self.key = key
        self.fmt = fmt


def check_query(sql: str) -> str:
    """The one read-only statement in `sql`, or QueryRefused saying why it is refused."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryRefused("sql.error.syntax", f"syntax error: {error}", detail=_first_line(error)) from None
    if not statements:
        raise QueryRefused("sql.error.empty", "no SQL to run")
    if len(statements) > 1:
        count = len(statements)
        raise QueryRefused("sql.error.several", f"{count} statements; run one at a time", count=count)
    statement = statements[0]
    if statement.type not in _ALLOWED:
        kind = statement.type.name
        raise QueryRefused("sql.error.not_read_only", f"{kind} statements are not allowed, only queries", kind=kind)
    return sql.strip()


@dataclass(frozen=True)
class QueryResult:
    table: pa.Table
    truncated: bool
    seconds: float

    @functools.cached_property
    def frame(self) -> pl.DataFrame:
        """The result as polars for showing and saving (names made unique, unimportable types as text)."""
        return to_polars(self.table)


def run_query(settings: Settings, sql: str, row_cap: int | None = None, timeout: float | None = None,
              scope: Scope | None = None) -> QueryResult:
    """One checked read-only statement, with write-back edits visible; at most `row_cap` rows and `timeout` s.

    The limits default to `[warehouse] query_max_rows` and `query_timeout_seconds`. The query sees
    what `scope` may see (`warehouse.access`); without one it runs as the operator, who sees all.
    A scope without the SQL right (viewers) is refused before anything runs.
    """
    scope = scope or resolve(settings, OPERATOR)
    scope.require("sql", contact=settings.auth.contact)
    row_cap = row_cap or settings.warehouse.query_max_rows
    timeout = timeout or settings.warehouse.query_timeout_seconds
    statement = check_query(sql)
    started = time.perf_counter()
    with open_scoped(settings, scope, live_edits=True) as con:
        timed_out = threading.Event()

        def interrupt() -> None:
            timed_out.set()
            con.interrupt()

        timer = threading.Timer(timeout, interrupt)
        timer.daemon = True
        timer.start()
        try:
            table, truncated = _fetch(con, statement, row_cap, reader_memory_bytes(settings))
        except Exception as error:  # noqa: BLE001 — every failure of a person's query is a message, never a traceback
            raise _refusal(error, timed_out.is_set(), timeout, settings) from None
        finally:
            timer.cancel()
    return QueryResult(table, truncated, time.perf_counter() - started)


def _refusal(error: Exception, timed_out: bool, timeout: float, settings: Settings) -> QueryRefused:
    if timed_out:
        seconds = f"{timeout:g}"
        return QueryRefused("sql.error.timeout", f"stopped after {seconds} s", seconds=seconds)
    if isinstance(error, duckdb.PermissionException):
        return QueryRefused("sql.error.file_access", f"files and network are not reachable from here: {error}")
    if isinstance(error, (duckdb.OutOfMemoryException, MemoryError)):
        limit = reader_memory_limit(settings)
        return QueryRefused("sql.error.memory", f"the query needs more than the {limit} a query may use", limit=limit)
    if isinstance(error, duckdb.Error):
        detail = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
        return QueryRefused("sql.error.failed", f"query failed: {detail}", detail=detail)
    # Arrow and OS errors carry server paths and C++ frames: name the kind of problem only.
    detail = f"{type(error).__name__} while reading the result (too wide or too large a row?)"
    return QueryRefused("sql.error.failed", f"query failed: {detail}", detail=detail)


def _fetch(con: duckdb.DuckDBPyConnection, statement: str, row_cap: int, byte_cap: int) -> tuple[pa.Table, bool]:
    """At most `row_cap` rows and about `byte_cap` bytes: the Arrow copy lives outside DuckDB's memory limit."""
    relation = con.sql(statement)
    if relation is None:
        return pa.table({}), False
    reader = relation.to_arrow_reader(_BATCH_ROWS)
    batches: list[pa.RecordBatch] = []
    rows = size = 0
    truncated = False
    for batch in reader:
        if rows + batch.num_rows > row_cap:
            batches.append(batch.slice(0, row_cap - rows))
            truncated = True
            break
        batches.append(batch)
        rows += batch.num_rows
        size += batch.nbytes
        if size > byte_cap:
            truncated = True
            break
    return pa.Table.from_batches(batches, schema=reader.schema), truncated


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _unique_names(names: list[str]) -> list[str]:
    """Column names made unique (a, a → a, a_2) because a frame cannot hold two columns of one name."""
    taken: set[str] = set()
    unique = []
    for name in names:
        base = name or "column"
        candidate, number = base, 1
        while candidate in taken:
            number += 1
            candidate = f"{base}_{number}"
        taken.add(candidate)
        unique.append(candidate)
    return unique


def to_polars(table: pa.Table) -> pl.DataFrame:
    """Arrow to polars; a column polars cannot import (e.g. INTERVAL) is shown as text rather than failing the query."""
    table = table.rename_columns(_unique_names(table.column_names))
    try:
        return pl.from_arrow(table) if table.num_columns else pl.DataFrame()
    except (pl.exceptions.PolarsError, pa.ArrowException, TypeError, ValueError):
        columns = []
        for name, column in zip(table.column_names, table.columns):
            try:
                columns.append(pl.from_arrow(column).alias(name))
            except (pl.exceptions.PolarsError, pa.ArrowException, TypeError, ValueError):
                values = [None if value is None else str(value) for value in column.to_pylist()]
                columns.append(pl.Series(name, values, dtype=pl.String))
        return pl.DataFrame(columns)
