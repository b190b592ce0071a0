"""Raw payload store: vendor responses kept compressed so canonical tables can be rebuilt offline.

Only response bodies are stored, never request headers, so credentials cannot
leak into the warehouse. An item whose content is unchanged is not rewritten
and keeps its `fetched_at`, so the canonical stage does not re-parse it.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from warehouse.load import dumps


@dataclass(frozen=True)
class RawItem:
    kind: str
    item_key: str
    updated_at: datetime | None
    body: Any


@dataclass
class StoreCounts:
    received: int = 0
    new: int = 0
    changed: int = 0


def encode_body(body: Any) -> bytes:
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    return dumps(body).encode("utf-8")


def decode_body(kind: str, payload: bytes) -> Any:
    raw = zlib.decompress(payload)
    if kind.endswith("_file"):
        return raw
    return json.loads(raw)


def store_raw(con: duckdb.DuckDBPyConnection, source: str, items: Sequence[RawItem], fetched_at: datetime) -> StoreCounts:
    """Upsert raw items by (source, kind, item_key) in one set-based statement."""
    latest: dict[tuple[str, str], bytes] = {}
    for item in items:
        latest[(item.kind, item.item_key)] = encode_body(item.body)
    counts = StoreCounts(received=len(latest))
    if not latest:
        return counts
    kinds, keys, shas, payloads = [], [], [], []
    for (kind, key), encoded in latest.items():
        kinds.append(kind)
        keys.append(key)
        shas.append(hashlib.sha256(encoded).hexdigest())
        payloads.append(zlib.compress(encoded, 6))
    incoming = pa.table({
        "source": pa.array([source] * len(kinds), pa.string()),
        "kind": pa.array(kinds, pa.string()),
        "item_key": pa.array(keys, pa.string()),
        "fetched_at": pa.array([fetched_at] * len(kinds), pa.timestamp("us")),
        "content_sha256": pa.array(shas, pa.string()),
        "payload": pa.array(payloads, pa.binary()),
    })
    con.register("_raw_in", incoming)
    try:
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _raw_changed AS
               SELECT i.*, r.item_key IS NULL AS _is_new
               FROM _raw_in i LEFT JOIN raw_payloads r USING (source, kind, item_key)
               WHERE r.item_key IS NULL OR r.content_sha256 <> i.content_sha256"""
        )
        counts.new, counts.changed = con.execute(
            "SELECT count(*) FILTER (WHERE _is_new), count(*) FILTER (WHERE NOT _is_new) FROM _raw_changed"
        ).fetchall()[0]
        con.execute(
            """DELETE FROM raw_payloads r USING _raw_changed c
               WHERE NOT c._is_new AND r.source = c.source AND r.kind = c.kind AND r.item_key = c.item_key"""
        )
        con.execute(
            """INSERT INTO raw_payloads (source, kind, item_key, fetched_at, content_sha256, payload)
               SELECT source, kind, item_key, fetched_at, content_sha256, payload FROM _raw_changed"""
        )
        con.execute("DROP TABLE _raw_changed")
    finally:
        con.unregister("_raw_in")
    return counts


def iter_raw(
    con: duckdb.DuckDBPyConnection, source: str, since: datetime | None = None, kinds: Sequence[str] | None = None
) -> Iterator[tuple[str, str, Any]]:
    """(kind, item_key, body) of stored items fetched after `since` (all when None), in stable order."""
    sql = "SELECT kind, item_key, payload FROM raw_payloads WHERE source = ?"
    params: list[Any] = [source]
    if since is not None:
        sql += " AND fetched_at > ?"
        params.append(since)
    if kinds:
        sql += " AND list_contains(?, kind)"
        params.append(list(kinds))
    sql += " ORDER BY kind, item_key"
    # A separate cursor: the caller queries `con` while iterating, which would end this result early.
    reader = con.cursor()
    try:
        result = reader.execute(sql, params)
        while batch := result.fetchmany(2000):
            for kind, key, payload in batch:
                yield kind, key, decode_body(kind, payload)
    finally:
        reader.close()


def latest_fetched_at(con: duckdb.DuckDBPyConnection, source: str) -> datetime | None:
    return con.execute("SELECT max(fetched_at) FROM raw_payloads WHERE source = ?", [source]).fetchall()[0][0]
