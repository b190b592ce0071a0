"""Merge tool accounts into people: by email, then username, then display name.

A manual mapping in the configuration wins over every automatic match. A
person's id is the lower-cased email when any account has one, so ids stay
stable as accounts are added.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import duckdb
import pyarrow as pa

from warehouse.load import PERSON_COLUMNS, TableCounts, _merge_arrow, rows_to_arrow


def _norm(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(str(value).split()).lower()
    return value or None


class _UnionFind:
    def __init__(self, items: Iterable[str]) -> None:
        self.parent = {item: item for item in items}

    def find(self, item: str) -> str:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def assign_people(
    identities: Sequence[Mapping], manual: Mapping[str, str] | None = None
) -> dict[str, str]:
    """identity_id → person_id for every identity given."""
    manual = manual or {}
    ids = [row["identity_id"] for row in identities]
    groups = _UnionFind(ids)
    for attribute in ("email", "account", "display_name"):
        first_with: dict[str, str] = {}
        for row in identities:
            if row["identity_id"] in manual:
                continue
            value = _norm(row.get(attribute))
            if attribute == "account" and value and "@" in value:
                value = value.split("@", 1)[0]
            if not value:
                continue
            if value in first_with:
                groups.union(first_with[value], row["identity_id"])
            else:
                first_with[value] = row["identity_id"]
    members: dict[str, list[Mapping]] = {}
    for row in identities:
        members.setdefault(groups.find(row["identity_id"]), []).append(row)
    person_of: dict[str, str] = {}
    for rows in members.values():
        emails = sorted(e for e in (_norm(r.get("email")) for r in rows) if e)
        names = sorted(n for n in (_norm(r.get("display_name")) for r in rows) if n)
        if emails:
            person = emails[0]
        elif names:
            person = "name:" + names[0]
        else:
            person = "account:" + sorted(r["identity_id"] for r in rows)[0]
        for row in rows:
            person_of[row["identity_id"]] = manual.get(row["identity_id"], person)
    return person_of


def resolve_people(con: duckdb.DuckDBPyConnection, manual: Mapping[str, str] | None = None) -> tuple[dict[str, str], TableCounts]:
    """Recompute person ids over all identities, rewrite references that moved, refresh `people`."""
    cursor = con.execute("SELECT identity_id, source, account, display_name, email, person_id FROM identities")
    columns = [d[0] for d in cursor.description]
    identities = [dict(zip(columns, row)) for row in cursor.fetchall()]
    person_of = assign_people(identities, manual)
    moved = {
        row["person_id"]: person_of[row["identity_id"]]
        for row in identities
        if row["person_id"] is not None and row["person_id"] != person_of[row["identity_id"]]
    }
    changed = [
        {"identity_id": r["identity_id"], "person_id": person_of[r["identity_id"]]}
        for r in identities
        if r["person_id"] != person_of[r["identity_id"]]
    ]
    if changed:
        con.register("_person_map", pa.table({
            "identity_id": [c["identity_id"] for c in changed],
            "person_id": [c["person_id"] for c in changed],
        }))
        con.execute(
            "UPDATE identities SET person_id = m.person_id FROM _person_map m WHERE identities.identity_id = m.identity_id"
        )
        con.unregister("_person_map")
    if moved:
        con.register("_moved", pa.table({"old": list(moved), "new": list(moved.values())}))
        for table, person_columns in PERSON_COLUMNS.items():
            for column in person_columns:
                con.execute(f'UPDATE {table} SET "{column}" = m.new FROM _moved m WHERE {table}."{column}" = m.old')
        con.unregister("_moved")
    people_rows = _people_rows(identities, person_of)
    counts = TableCounts(received=len(people_rows))
    if people_rows:
        incoming = rows_to_arrow(con, "people", people_rows)
        counts = _merge_arrow(con, "people", _preserve_people_extras(con, incoming), ("person_id",), counts)
    gone = con.execute(
        "SELECT count(*) FROM people WHERE person_id NOT IN (SELECT person_id FROM identities WHERE person_id IS NOT NULL)"
    ).fetchall()[0][0]
    if gone:
        con.execute("DELETE FROM people WHERE person_id NOT IN (SELECT person_id FROM identities WHERE person_id IS NOT NULL)")
        counts.deleted = gone
    return person_of, counts


def _people_rows(identities: Sequence[Mapping], person_of: Mapping[str, str]) -> list[dict]:
    by_person: dict[str, dict] = {}
    for row in sorted(identities, key=lambda r: r["identity_id"]):
        person = person_of[row["identity_id"]]
        entry = by_person.setdefault(person, {"person_id": person, "display_name": None, "email": None})
        entry["display_name"] = entry["display_name"] or row.get("display_name") or row.get("account")
        entry["email"] = entry["email"] or _norm(row.get("email"))
    return list(by_person.values())


def _preserve_people_extras(con: duckdb.DuckDBPyConnection, incoming: pa.Table) -> pa.Table:
    """Keep team, capacity and rate that were set on existing people."""
    con.register("_people_in", incoming)
    try:
        merged = con.sql(
            """SELECT i.person_id, i.display_name, i.email,
                      coalesce(i.team, p.team) AS team,
                      coalesce(i.weekly_capacity_hours, p.weekly_capacity_hours) AS weekly_capacity_hours,
                      coalesce(i.hourly_rate, p.hourly_rate) AS hourly_rate
               FROM _people_in i LEFT JOIN people p USING (person_id)"""
        ).to_arrow_table()
    finally:
        con.unregister("_people_in")
    return merged.cast(incoming.schema)


def manual_mapping(people_settings: Iterable) -> dict[str, str]:
    return {account: mapping.person for mapping in people_settings for account in mapping.accounts}
