"""Raw payload store: vendor responses kept compressed so canonical tables can be rebuilt offline.

Only response bodies are stored, never request headers, so credentials cannot
leak into the warehouse. An item whose content is unchanged is not rewritten
and keeps its `fetched_at`, so the canonical stage does not re-parse it.

A body is stored as the API sent it, lone surrogates included (a JSON
`"\\ud800"` decodes to one, and it has no UTF-8 form): they are written back as
that same JSON escape. An item that still cannot be stored (a key that is not
text) goes to the quarantine with its payload, and the others are stored.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from pipelines import quarantine
from pipelines.common_parse import LONE_SURROGATE
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
    quarantined: list[quarantine.Entry] = field(default_factory=list)


def encode_body(body: Any) -> bytes:
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    text = dumps(body)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Only inside JSON strings can a lone surrogate be; its escape is what the API sent.
        return LONE_SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text).encode("utf-8")


def _unstorable(item: RawItem, error: Exception) -> quarantine.Entry:
    """The quarantine entry of an item `raw_payloads` cannot take: its payload kept as best it can be."""
    key = item.item_key.encode("utf-8", "backslashreplace").decode("utf-8") if isinstance(item.item_key, str) \
        else repr(item.item_key)
    try:
        payload = encode_body(item.body)
    except Exception:  # noqa: BLE001 - whatever it is, keep something readable
        payload = repr(item.body).encode("utf-8", "backslashreplace")
    return quarantine.Entry(item.kind, key, quarantine.RECORD, quarantine.STORE,
                            quarantine.one_line(f"cannot be stored: {type(error).__name__}: {error}"),
                            payload=zlib.compress(payload, 6))


class UnreadablePayload(ValueError):
    """What `iter_raw` yields as the body of a stored payload that cannot be decoded (damaged)."""


def decode_body(kind: str, payload: bytes) -> Any:
    raw = zlib.decompress(payload)
    if kind.endswith("_file"):
        return raw
    return json.loads(raw)


def store_raw(con: duckdb.DuckDBPyConnection, source: str, items: Sequence[RawItem], fetched_at: datetime) -> StoreCounts:
    """Upsert raw items by (source, kind, item_key) in one set-based statement (the caller owns the transaction).

    An item that cannot be stored is quarantined instead (`StoreCounts.quarantined`);
    one stored again leaves the quarantine.
    """
    latest: dict[tuple[str, str], bytes] = {}
    rejected: dict[tuple[str, str], quarantine.Entry] = {}
    for item in items:
        try:
            item.item_key.encode("utf-8")
            latest[(item.kind, item.item_key)] = encode_body(item.body)
        except Exception as error:  # noqa: BLE001 - one item must not stop the others
            entry = _unstorable(item, error)
            rejected[(entry.item_kind, entry.item_key)] = entry
    counts = StoreCounts(received=len(latest) + len(rejected), quarantined=list(rejected.values()))
    quarantine.replace(con, source, [quarantine.STORE], latest, counts.quarantined, fetched_at)
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
    con: duckdb.DuckDBPyConnection, source: str, since: datetime | None = None, kinds: Sequence[str] | None = None,
    also: Sequence[tuple[str, str]] = (),
) -> Iterator[tuple[str, str, Any]]:
    """(kind, item_key, body) of stored items fetched after `since` (all when None), in stable order.

    `also` adds the items with these (kind, item_key) whenever they were fetched. A payload
    that cannot be decoded comes with an UnreadablePayload as its body, and the others follow.
    """
    sql = "SELECT kind, item_key, payload FROM raw_payloads WHERE source = ?"
    params: list[Any] = [source]
    if since is not None:
        sql += " AND (fetched_at > ?"
        params.append(since)
        if also:
            sql += """ OR EXISTS (SELECT 1 FROM (SELECT unnest(?::VARCHAR[]) AS k, unnest(?::VARCHAR[]) AS i) a
                                  WHERE a.k = kind AND a.i = item_key)"""
            params += [[k for k, _ in also], [i for _, i in also]]
        sql += ")"
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
                try:
                    body = decode_body(kind, payload)
                except (zlib.error, ValueError) as error:
                    body = UnreadablePayload(f"stored payload cannot be read: {type(error).__name__}: {error}")
                yield kind, key, body
    finally:
        reader.close()


def latest_fetched_at(con: duckdb.DuckDBPyConnection, source: str) -> datetime | None:
    return con.execute("SELECT max(fetched_at) FROM raw_payloads WHERE source = ?", [source]).fetchall()[0][0]
