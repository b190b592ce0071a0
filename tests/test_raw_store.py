"""The raw store keeps every payload as the API sent it; one it cannot take is quarantined, not fatal."""

from __future__ import annotations

import json
import zlib
from datetime import datetime

from pipelines.raw_store import RawItem, UnreadablePayload, decode_body, encode_body, iter_raw, store_raw
from warehouse.db import open_writer


def test_a_lone_surrogate_is_stored_as_the_json_escape_the_api_sent():
    body = {"fields": {"summary": "Crash on \ud800 input", "description": "中文 and 😀"}}
    encoded = encode_body(body)
    encoded.decode("utf-8")  # valid UTF-8, storable
    assert b"\\ud800" in encoded and "中文 and 😀".encode("utf-8") in encoded
    assert decode_body("jira_issue", zlib.compress(encoded)) == body
    assert encode_body({"a": "中文"}) == json.dumps({"a": "中文"}, ensure_ascii=False).encode("utf-8"), \
        "payloads without lone surrogates are stored as before (same content hash)"


def test_an_item_that_cannot_be_stored_is_quarantined_and_the_others_are_stored(empty_settings):
    at = datetime(2024, 5, 1, 8, 0)
    good = RawItem("jira_issue", "P-1", None, {"key": "P-1", "fields": {"summary": "fine \ud800"}})
    bad = RawItem("jira_issue", "P-\udc80", None, {"key": "P-\udc80", "fields": {}})
    with open_writer(empty_settings) as con:
        counts = store_raw(con, "s", [good, bad], at)
        assert (counts.received, counts.new, len(counts.quarantined)) == (2, 1, 1)
        assert [(k, b["fields"]["summary"]) for _, k, b in iter_raw(con, "s")] == [("P-1", "fine \ud800")]
        (row,) = con.execute("SELECT kind, stage, item_kind, item_key, reason, payload FROM quarantine").fetchall()
        assert row[:4] == ("record", "store", "jira_issue", "P-\\udc80")
        assert row[4].startswith("cannot be stored: UnicodeEncodeError")
        assert json.loads(zlib.decompress(row[5]))["key"] == "P-\udc80"

        again = store_raw(con, "s", [bad], datetime(2024, 5, 2))
        assert len(again.quarantined) == 1
        first, last = con.execute("SELECT first_seen_at, last_seen_at FROM quarantine").fetchall()[0]
        assert (first, last) == (at, datetime(2024, 5, 2))


def test_iter_raw_adds_the_items_asked_for_whenever_they_were_fetched(empty_settings):
    with open_writer(empty_settings) as con:
        store_raw(con, "s", [RawItem("jira_issue", k, None, {"key": k}) for k in ("P-1", "P-2")], datetime(2024, 1, 1))
        store_raw(con, "s", [RawItem("jira_issue", "P-3", None, {"key": "P-3"})], datetime(2024, 2, 1))
        since = datetime(2024, 1, 15)
        assert [k for _, k, _ in iter_raw(con, "s", since=since)] == ["P-3"]
        assert [k for _, k, _ in iter_raw(con, "s", since=since, also=[("jira_issue", "P-1")])] == ["P-1", "P-3"]


def test_a_damaged_payload_is_yielded_as_unreadable_and_the_others_follow(empty_settings):
    with open_writer(empty_settings) as con:
        store_raw(con, "s", [RawItem("jira_issue", k, None, {"key": k}) for k in ("P-1", "P-2")], datetime(2024, 1, 1))
        con.execute("UPDATE raw_payloads SET payload = 'not zlib'::BLOB WHERE item_key = 'P-1'")
        (_, first, body), (_, second, good) = iter_raw(con, "s")
        assert (first, second, good) == ("P-1", "P-2", {"key": "P-2"})
        assert isinstance(body, UnreadablePayload) and "cannot be read: error" in str(body)
