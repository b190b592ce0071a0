"""The write-back schema is declared in `edits_schema.sql`; the warehouse mirrors must agree with it.

The store (SQLite) and its mirrors (DuckDB, `migrations/0002_writeback.sql`)
use different type systems, so both are written as SQL; these tests hold
them to the same tables, columns, order and keys, and check that a drift is
an error at save and at mirror time instead of a silently dropped column.
"""

from __future__ import annotations

import duckdb
import pytest

from warehouse.db import (
    EDITABLE_TABLES,
    WRITEBACK_TABLES,
    EditChange,
    WarehouseError,
    apply_migrations,
    edits_as_arrow,
    save_edits,
    store_tables,
)
from warehouse.settings import Settings

# SQLite storage class of the store → DuckDB types its mirror may use for it.
COMPATIBLE = {
    "TEXT": {"VARCHAR", "DATE", "TIMESTAMP", "VARCHAR[]"},
    "REAL": {"DOUBLE"},
    "INTEGER": {"INTEGER", "BIGINT", "BOOLEAN"},
}


@pytest.fixture(scope="module")
def mirror() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    apply_migrations(con)
    yield con
    con.close()


def _mirror_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()]


def _mirror_key(con: duckdb.DuckDBPyConnection, table: str) -> tuple[str, ...]:
    rows = con.execute(
        "SELECT constraint_column_names FROM duckdb_constraints() WHERE table_name = ? AND constraint_type = 'PRIMARY KEY'",
        [table],
    ).fetchall()
    return tuple(rows[0][0]) if rows else ()


def _store_types(table: str) -> dict[str, str]:
    import sqlite3

    from warehouse.db import EDITS_SCHEMA

    con = sqlite3.connect(":memory:")
    con.executescript(EDITS_SCHEMA.read_text(encoding="utf-8"))
    types = {row[1]: row[2] for row in con.execute(f'PRAGMA table_info("{table}")')}
    con.close()
    return types


@pytest.mark.parametrize("table", WRITEBACK_TABLES)
def test_mirror_has_the_store_columns_in_order_with_compatible_types(mirror, table):
    declared = store_tables()[table]
    columns = _mirror_columns(mirror, table)
    assert tuple(name for name, _ in columns) == declared.columns
    types = _store_types(table)
    for name, duck_type in columns:
        assert duck_type in COMPATIBLE[types[name]], f"{table}.{name}: store {types[name]} vs mirror {duck_type}"


@pytest.mark.parametrize("table", WRITEBACK_TABLES)
def test_mirror_key_is_the_store_key(mirror, table):
    assert _mirror_key(mirror, table) == store_tables()[table].key
    assert store_tables()[table].key, f"{table} has no primary key in edits_schema.sql"


def test_editable_tables_are_store_tables():
    assert set(EDITABLE_TABLES) <= set(store_tables())
    assert store_tables()["plan_dependencies"].key == ("from_task_id", "to_task_id")


def test_save_rejects_a_column_the_table_lacks(empty_settings: Settings):
    with pytest.raises(WarehouseError, match=r"risks: unknown column\(s\) 'severity'.*\(the table has risk_id, "):
        save_edits(empty_settings, [EditChange("risks", {"risk_id": "R-1", "title": "x", "severity": 3})], "ana")
    assert not empty_settings.warehouse.edits_path.exists(), "a rejected edit must not touch the store"


def test_mirror_refuses_a_drifted_schema():
    con = duckdb.connect()
    con.execute("CREATE TABLE standups (standup_id VARCHAR PRIMARY KEY, person_id VARCHAR, day DATE)")
    with pytest.raises(WarehouseError, match=r"standups: the edits store and its warehouse mirror disagree.*"
                                             r"only in the store: \['blockers', 'created_at'"):
        edits_as_arrow(con, "standups", [])
    con.close()
