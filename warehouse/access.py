"""Who may see and do what: the one access layer every read of the warehouse goes through.

A `Principal` (a signed-in person, `lodestar query --as EMAIL`, or the operator) is resolved
against the `[[access]]` rules into a `Scope`: the roles it holds per project. What a role may
do is `PERMISSIONS`, the matrix the README documents.

Reads are filtered *physically*: a scope that may not see everything reads a **scoped
snapshot**, a DuckDB file built from the published warehouse with only the rows it may see
(projects it holds a role on; no sensitive task unless it manages the project or is PMO/admin;
every row hanging off a hidden task dropped: links, status changes, comments, worklogs, commits
and pull requests naming it, predictions, plan and schedule rows, risks linked to it; costs and
rates blanked where it may not read them; raw payloads and quarantine left out) and the KPI
marts rebuilt over those rows, so counts and charts never include a hidden row. Views over the
full file would not do: ad-hoc SQL could name the full table by its catalog. Scoped files are
cached per (published snapshot, scope) and rebuilt when either changes; readers open them
read-only with the same guards as the published file. Project-level forecast and earned-value
rows are the project's own figures (computed over all its tasks) and are shown to anyone who
may read the project; their task lists are filtered.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from warehouse.db import WarehouseError, open_reader
from warehouse.marts import MARTS, build_mart
from warehouse.settings import ROLE_ORDER, Settings

ALL = "*"

PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset({"admin", "pmo", "manager", "member", "viewer"}),
    "read_sensitive": frozenset({"admin", "pmo", "manager"}),
    "read_costs": frozenset({"admin", "pmo", "manager"}),
    "read_personal": frozenset({"admin", "pmo", "manager"}),
    "sql": frozenset({"admin", "pmo", "manager", "member"}),
    "edit_plan": frozenset({"admin", "manager"}),
    "approve_baseline": frozenset({"admin", "pmo", "manager"}),
    "edit_risk": frozenset({"admin", "manager"}),
    "create_risk": frozenset({"admin", "manager", "member"}),
    "handle_alerts": frozenset({"admin", "manager"}),
    "own_standup": frozenset({"admin", "pmo", "manager", "member"}),
    "admin": frozenset({"admin"}),
}
"""Action -> roles allowed it. Rights are per project; several rules for one person add up."""
ACTION_WORDS: dict[str, str] = {
    "read": "read", "read_sensitive": "read sensitive tasks", "read_costs": "read costs and rates",
    "read_personal": "read other people's personal reports", "sql": "run SQL queries",
    "edit_plan": "edit plans", "approve_baseline": "approve baselines", "edit_risk": "edit risks",
    "create_risk": "create risks", "handle_alerts": "handle alerts", "own_standup": "post stand-ups",
    "admin": "administer Lodestar",
}


class AccessDenied(WarehouseError, PermissionError):
    """A refused action, worded for the person refused (what they tried, and whom to ask)."""


@dataclass(frozen=True)
class Principal:
    """Who is asking. `email` None is the operator: a shell user on the machine, who sees everything."""

    email: str | None
    groups: tuple[str, ...] = ()
    verified: bool = False

    @property
    def is_operator(self) -> bool:
        return self.email is None

    @property
    def label(self) -> str:
        return self.email or "operator"


OPERATOR = Principal(None)


@dataclass(frozen=True)
class Scope:
    """The roles a principal holds: per project key, and on every project (`ALL`)."""

    principal: Principal
    roles: Mapping[str, frozenset[str]] = field(default_factory=dict)
    operator: bool = False

    def roles_on(self, project_key: str | None) -> frozenset[str]:
        if self.operator:
            return frozenset({"admin"})
        everywhere = self.roles.get(ALL, frozenset())
        return everywhere | (self.roles.get(project_key, frozenset()) if project_key else frozenset())

    def can(self, action: str, project_key: str | None = None) -> bool:
        """May do `action` on this project; with no project: on at least one project."""
        allowed = PERMISSIONS[action]
        if self.operator:
            return True
        if project_key is None:
            return any(roles & allowed for roles in self.roles.values())
        return bool(self.roles_on(project_key) & allowed)

    def require(self, action: str, project_key: str | None = None, contact: str | None = None) -> None:
        if not self.can(action, project_key):
            where = f" on project {project_key}" if project_key else ""
            ask = f"; ask {contact} for access" if contact else "; ask a Lodestar admin for access"
            held = strongest(self.roles_on(project_key) if project_key else
                             frozenset().union(*self.roles.values()) if self.roles else ())
            who = f"{self.principal.label} ({held})" if held else f"{self.principal.label} (no role)"
            raise AccessDenied(f"{who} may not {ACTION_WORDS[action]}{where}{ask}")

    @property
    def sees_nothing(self) -> bool:
        return not self.operator and not self.roles

    @property
    def sees_everything(self) -> bool:
        """Every project, sensitive tasks, costs and personal data: no scoped snapshot needed."""
        return self.operator or all(
            PERMISSIONS[action] & self.roles.get(ALL, frozenset())
            for action in ("read", "read_sensitive", "read_costs", "read_personal"))

    def projects_where(self, action: str, project_keys: Iterable[str]) -> list[str]:
        return sorted(key for key in project_keys if self.can(action, key))

    def fingerprint(self) -> str:
        canonical = json.dumps({k: sorted(v) for k, v in sorted(self.roles.items())}, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def resolve(settings: Settings, principal: Principal) -> Scope:
    """The principal's roles under `[[access]]`: rules naming its e-mail or one of its groups."""
    if principal.is_operator:
        return Scope(principal, {}, operator=True)
    email = principal.email.strip().lower()
    names = {email, *(f"group:{group}" for group in principal.groups)}
    roles: dict[str, set[str]] = {}
    for rule in settings.access:
        if rule.who in names:
            for project in rule.projects:
                roles.setdefault(project, set()).add(rule.role)
    return Scope(principal, {project: frozenset(r) for project, r in roles.items()})


def strongest(roles: Iterable[str]) -> str | None:
    ordered = sorted(roles, key=ROLE_ORDER.__getitem__)
    return ordered[-1] if ordered else None


# ------------------------------------------------------------ scoped snapshots

DROPPED_TABLES = frozenset({"raw_payloads", "quarantine"})
"""Whole payloads and rejected records are not filtered row by row: only the operator reads them."""
COST_COLUMNS = {
    "projects": ("budget", "hourly_rate"),
    "mart_project_kpis": ("budget", "cost_to_date"),
    "earned_value": ("ac", "cv", "cpi", "eac", "etc", "vac"),
}
PERSON_COST_COLUMNS = {"people": ("hourly_rate",)}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _row_filter(table: str, columns: list[str]) -> str | None:
    """The WHERE clause keeping a row of `table` in the scope (over temp tables `_visible_projects`,
    `_visible_tasks`, `_hidden_tasks`), or None when the table needs no filter."""
    conditions = []
    if table == "tasks":
        return "task_id IN (SELECT task_id FROM _visible_tasks)"
    for column in columns:
        if column == "task_id" or column.endswith("_task_id") and column != "parent_task_id":
            conditions.append(f"({_quote(column)} IS NULL OR {_quote(column)} IN (SELECT task_id FROM _visible_tasks))")
        elif column in ("task_ids", "linked_task_ids"):
            conditions.append(
                f"coalesce(len(list_intersect({_quote(column)}::VARCHAR[], "
                f"(SELECT list(task_id) FROM _hidden_tasks))), 0) = 0")
    if "project_key" in columns:
        conditions.append("(project_key IS NULL OR project_key IN (SELECT project_key FROM _visible_projects))")
    if table in ("commits", "pull_requests") and "repo" in columns:
        conditions.append(
            "(len(coalesce(task_ids, [])) > 0 OR (SELECT bool_and(can_read) FROM _visible_projects_all))")
    return " AND ".join(conditions) if conditions else None


def _blank(columns: list[str], blanked: Iterable[str], condition: str) -> str:
    chosen = set(blanked)
    return ", ".join(
        f"CASE WHEN {condition} THEN {_quote(c)} END AS {_quote(c)}" if c in chosen else _quote(c) for c in columns)


def scoped_snapshot(settings: Settings, scope: Scope, as_of: date | None = None) -> Path:
    """The scoped snapshot file for `scope` over the current published warehouse (built when missing)."""
    published = settings.warehouse.published_path
    stat = published.stat()
    identity = f"{stat.st_mtime_ns}:{stat.st_ino}:{stat.st_size}:{scope.fingerprint()}"
    folder = published.parent / ".scoped"
    target = folder / f"{published.stem}.{hashlib.sha256(identity.encode()).hexdigest()[:24]}.duckdb"
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f".{target.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    try:
        _build_scoped(published, staging, scope, as_of)
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)
    for old in folder.glob(f"{published.stem}.*.duckdb"):
        if old != target and old.stat().st_mtime < stat.st_mtime:
            old.unlink(missing_ok=True)
    return target


def _columns(con: duckdb.DuckDBPyConnection, database: str, table: str) -> list[str]:
    return [row[0] for row in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND schema_name = 'main' "
        "AND table_name = ? ORDER BY column_index", [database, table]).fetchall()]


def _build_scoped(published: Path, staging: Path, scope: Scope, as_of: date | None) -> None:
    con = duckdb.connect(str(staging))
    try:
        own = con.execute("SELECT current_database()").fetchall()[0][0]
        con.execute("ATTACH ? AS src (READ_ONLY)", [str(published)])
        keys = [row[0] for row in con.execute("SELECT project_key FROM src.main.projects").fetchall()]
        task_projects = [row[0] for row in con.execute(
            "SELECT DISTINCT project_key FROM src.main.tasks WHERE project_key IS NOT NULL").fetchall()]
        keys = sorted(set(keys) | set(task_projects))
        readable = scope.projects_where("read", keys)
        sensitive_ok = scope.projects_where("read_sensitive", keys)
        costs_ok = scope.projects_where("read_costs", keys)
        for name, projects in (("_visible_projects", readable), ("_sensitive_ok", sensitive_ok), ("_costs_ok", costs_ok)):
            con.execute(f"CREATE TEMP TABLE {name} (project_key VARCHAR)")
            if projects:
                con.executemany(f"INSERT INTO {name} VALUES (?)", [[key] for key in projects])
        con.execute("CREATE TEMP TABLE _visible_projects_all AS SELECT ? AS can_read", [set(readable) == set(keys)])
        con.execute(
            """CREATE TEMP TABLE _visible_tasks AS SELECT task_id FROM src.main.tasks
                WHERE project_key IN (SELECT project_key FROM _visible_projects)
                  AND (NOT coalesce(is_sensitive, false) OR project_key IN (SELECT project_key FROM _sensitive_ok))""")
        con.execute(
            "CREATE TEMP TABLE _hidden_tasks AS SELECT task_id FROM src.main.tasks "
            "WHERE task_id NOT IN (SELECT task_id FROM _visible_tasks)")
        cost_condition = "project_key IN (SELECT project_key FROM _costs_ok)"
        person_cost_ok = bool(costs_ok)
        tables = [row[0] for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src' AND schema_name = 'main' "
            "ORDER BY table_name").fetchall()]
        for table in tables:
            columns = _columns(con, "src", table)
            source = f"src.main.{_quote(table)}"
            if table in DROPPED_TABLES:
                con.execute(f"CREATE TABLE main.{_quote(table)} AS SELECT * FROM {source} LIMIT 0")
                continue
            select = ", ".join(_quote(c) for c in columns)
            if table in COST_COLUMNS:
                select = _blank(columns, COST_COLUMNS[table], cost_condition)
            elif table in PERSON_COST_COLUMNS:
                select = _blank(columns, PERSON_COST_COLUMNS[table], "true" if person_cost_ok else "false")
            where = _row_filter(table, columns)
            con.execute(f"CREATE TABLE main.{_quote(table)} AS SELECT {select} FROM {source}"
                        + (f" WHERE {where}" if where else ""))
        if as_of is None:
            stamp = con.execute("SELECT max(as_of) FROM main.mart_project_kpis").fetchall()[0][0]
            as_of = stamp.date() if hasattr(stamp, "date") else stamp
        con.execute("DETACH src")
        for mart in MARTS if as_of is not None else ():
            build_mart(con, mart, as_of)
        for table in MARTS:
            blanked = [c for c in COST_COLUMNS.get(table, ()) if c in _columns(con, own, table)]
            if blanked:
                assignments = ", ".join(f"{_quote(c)} = NULL" for c in blanked)
                con.execute(f"UPDATE main.{_quote(table)} SET {assignments} WHERE NOT ({cost_condition})")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def keep_store_row(table: str, row: Mapping[str, Any], visible_tasks: frozenset[str],
                   visible_projects: frozenset[str]) -> bool:
    """Whether a live row of the edits store (risks, plan rows, alerts, …) belongs in a scope's reads."""
    for column, value in row.items():
        if value is None:
            continue
        if column == "task_id" or column.endswith("_task_id"):
            if value not in visible_tasks:
                return False
        elif column == "linked_task_ids":
            linked = json.loads(value) if isinstance(value, str) else value
            if any(task not in visible_tasks for task in linked or ()):
                return False
        elif column == "project_key" and value not in visible_projects:
            return False
    return True


def _store_filter(con: duckdb.DuckDBPyConnection, rows: Mapping[str, Sequence[Mapping[str, Any]]]
                  ) -> dict[str, list[Mapping[str, Any]]]:
    visible_tasks = frozenset(row[0] for row in con.execute("SELECT task_id FROM tasks").fetchall())
    visible_projects = frozenset(row[0] for row in con.execute("SELECT project_key FROM projects").fetchall())
    return {table: [row for row in table_rows if keep_store_row(table, row, visible_tasks, visible_projects)]
            for table, table_rows in rows.items()}


@contextlib.contextmanager
def open_scoped(settings: Settings, scope: Scope, live_edits: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection showing exactly what `scope` may see (see the module docstring)."""
    if scope.sees_nothing:
        ask = settings.auth.contact or "a Lodestar admin"
        raise AccessDenied(f"{scope.principal.label} has no access to any project; ask {ask} to add an [[access]] rule")
    if scope.sees_everything:
        with open_reader(settings, live_edits=live_edits) as con:
            yield con
        return
    path = scoped_snapshot(settings, scope)
    with open_reader(settings, live_edits=live_edits, snapshot=path, store_filter=_store_filter) as con:
        yield con
