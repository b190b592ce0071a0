"""Quarantine: the records a sync could not store, parse or load, and the values it nulled or repaired.

One bad record never stops the others: it is set aside here with the reason,
its payload stays in `raw_payloads` (or, when it could not be stored there,
in the quarantine row itself), and it is tried again on every sync and
`lodestar rebuild`, so after a mapping fix it loads and leaves the
quarantine. Values the parsers' bounds rejected (`pipelines.common_parse`,
"Bounds") are listed too, as `field` rows, for as long as the payload that
carried them is the current one. See warehouse/SCHEMA.md, "Quarantine".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

RECORD, FIELD = "record", "field"
STORE, PARSE, LOAD = "store", "parse", "load"
_IDENTITY = ("source", "stage", "item_kind", "item_key", "field", "row_id")
_TYPES = {"first_seen_at": pa.timestamp("us"), "last_seen_at": pa.timestamp("us"), "payload": pa.binary()}


@dataclass(frozen=True)
class Entry:
    """One quarantine row before it is written: what was set aside, where, and why."""

    item_kind: str
    """The raw payload's kind (`jira_issue`), as in `raw_payloads`."""
    item_key: str
    kind: str
    """RECORD (not loaded) or FIELD (loaded with one value nulled or repaired)."""
    stage: str
    reason: str
    field: str = ""
    row_id: str = ""
    payload: bytes | None = None
    """zlib-compressed body, only when `raw_payloads` could not take it."""


def one_line(text: str, limit: int = 1000) -> str:
    """An error message as one line of at most `limit` characters (a reason, a sync_state error)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def replace(
    con: duckdb.DuckDBPyConnection,
    source: str,
    stages: Sequence[str],
    items: Iterable[tuple[str, str]],
    entries: Sequence[Entry],
    at: datetime,
) -> None:
    """The quarantine rows of `items` at `stages` become `entries` (the caller owns the transaction).

    An entry naming the same stage, item, field and row as one already there keeps
    its `first_seen_at`; rows of those items the entries no longer name are gone.
    """
    keys = sorted(set(items) | {(e.item_kind, e.item_key) for e in entries})
    if not keys:
        return
    con.register("_q_items", pa.table({"item_kind": [k for k, _ in keys], "item_key": [k for _, k in keys]}))
    try:
        first_seen = {
            row[:6]: row[6] for row in con.execute(
                f"""SELECT {', '.join(_IDENTITY)}, first_seen_at FROM quarantine q
                    WHERE source = ? AND list_contains(?, stage)
                      AND EXISTS (SELECT 1 FROM _q_items i WHERE i.item_kind = q.item_kind AND i.item_key = q.item_key)""",
                [source, list(stages)]).fetchall()
        }
        con.execute(
            """DELETE FROM quarantine q WHERE source = ? AND list_contains(?, stage)
               AND EXISTS (SELECT 1 FROM _q_items i WHERE i.item_kind = q.item_kind AND i.item_key = q.item_key)""",
            [source, list(stages)],
        )
    finally:
        con.unregister("_q_items")
    unique = {(source, e.stage, e.item_kind, e.item_key, e.field, e.row_id): e for e in entries}
    if not unique:
        return
    columns = [*_IDENTITY, "kind", "reason", "first_seen_at", "last_seen_at", "payload"]
    rows = [(*identity, entry.kind, entry.reason, first_seen.get(identity, at), at, entry.payload)
            for identity, entry in unique.items()]
    incoming = pa.table({name: pa.array([row[i] for row in rows], type=_TYPES.get(name, pa.string()))
                         for i, name in enumerate(columns)})
    con.register("_q_in", incoming)
    try:
        con.execute(f"INSERT INTO quarantine ({', '.join(columns)}) SELECT {', '.join(columns)} FROM _q_in")
    finally:
        con.unregister("_q_in")


def retried_items(con: duckdb.DuckDBPyConnection, source: str) -> list[tuple[str, str]]:
    """(kind, key) of stored items with a record (or a row of one) quarantined at parse or load: every sync
    parses them again, so a fixed mapping loads them."""
    return [tuple(row) for row in con.execute(
        "SELECT DISTINCT item_kind, item_key FROM quarantine WHERE source = ? AND kind = ? "
        "AND list_contains(?, stage) ORDER BY 1, 2", [source, RECORD, [PARSE, LOAD]]).fetchall()]


def forget_vanished(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Parse and load entries of items no longer in `raw_payloads` (gone at the source) are gone too."""
    con.execute(
        """DELETE FROM quarantine q WHERE source = ? AND stage <> ? AND NOT EXISTS (
               SELECT 1 FROM raw_payloads r
               WHERE r.source = q.source AND r.kind = q.item_kind AND r.item_key = q.item_key)""",
        [source, STORE],
    )


def counts(con: duckdb.DuckDBPyConnection, source: str) -> tuple[int, int]:
    """(records quarantined, values nulled or repaired) of one source, as they stand."""
    return tuple(con.execute(
        "SELECT count(*) FILTER (WHERE kind = ?), count(*) FILTER (WHERE kind = ?) FROM quarantine WHERE source = ?",
        [RECORD, FIELD, source]).fetchall()[0])


LIST_SQL = """
    SELECT source, kind, stage, item_kind, item_key, field, row_id, reason, first_seen_at, last_seen_at
    FROM quarantine {where}
    ORDER BY source, kind DESC, item_kind, item_key, field, row_id"""
