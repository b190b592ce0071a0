"""Asset checks on each source's canonical rows and on its freshness.

Unique keys block publishing (a duplicate would double-count every KPI).
Referential integrity warns on real breaks only (a worklog, comment or status
change whose task is missing, a link neither of whose tasks exists): a link
or parent pointing to an issue outside the synced projects is normal in Jira,
stays as a reference to that issue's key and is counted, not failed.
Freshness warns, since a late source should not hide the others; it also fails
while the source's last fetch failed (the source keeps its last good rows).
"""


from datetime import timedelta

import dagster as dg

from pipelines.resources import WarehouseResource
from pipelines.source_assets import canonical_asset_name, raw_asset_name, source_node
from warehouse.db import open_writer, utc_now

UNIQUE_KEYS = {
    "tasks": ("task_id",),
    "task_links": ("from_task_id", "to_task_id", "link_type"),
    "status_changes": ("change_id",),
    "worklogs": ("worklog_id",),
    "commits": ("repo", "sha"),
    "pull_requests": ("source", "repo", "number"),
}


def integrity_check_name(source_name: str) -> str:
    return source_node(source_name, "referential_integrity")


def freshness_check_name(source_name: str) -> str:
    return source_node(source_name, "freshness")


def _missing(column: str) -> str:
    return f"NOT EXISTS (SELECT 1 FROM tasks t WHERE t.task_id = {column})"


# Real breaks: rows that belong to a task, or name a person, the warehouse does not have.
# Each query gives one line per broken row, describing it; `$s` is the source name.
BROKEN_REFERENCES = {
    "worklogs_without_task": "SELECT 'worklog ' || w.worklog_id || ' of missing task ' || w.task_id "
    f"FROM worklogs w WHERE w.source = $s AND w.task_id IS NOT NULL AND {_missing('w.task_id')}",
    "comments_without_task": "SELECT 'comment ' || c.comment_id || ' of missing task ' || c.task_id "
    f"FROM comments c WHERE c.source = $s AND {_missing('c.task_id')}",
    "status_changes_without_task": "SELECT 'status change ' || s.change_id || ' of missing task ' || s.task_id "
    f"FROM status_changes s WHERE s.source = $s AND {_missing('s.task_id')}",
    # A link comes from the payload of one of its tasks, which may be either end (Jira shows
    # a link on both issues; it is stored in contract direction): one end must exist.
    "links_without_synced_task": "SELECT 'link ' || l.from_task_id || ' ' || l.link_type || ' ' || l.to_task_id "
    f"|| ', neither task exists' FROM task_links l WHERE l.source = $s "
    f"AND {_missing('l.from_task_id')} AND {_missing('l.to_task_id')}",
    "assignees_not_people": "SELECT 'task ' || a.task_id || ' assigned to unknown person ' || a.assignee_id "
    "FROM tasks a WHERE a.source = $s AND a.assignee_id IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM people p WHERE p.person_id = a.assignee_id)",
}

# Normal in Jira: links and parents (epics) to issues of projects that are not synced.
# They stay, naming the other issue as "<source>:<key>", and are counted, not failed.
EXTERNAL_REFERENCES = {
    "external_links": "SELECT count(*) FROM task_links l WHERE l.source = $s "
    f"AND ({_missing('l.from_task_id')}) <> ({_missing('l.to_task_id')})",
    "external_parents": "SELECT count(*) FROM tasks c WHERE c.source = $s AND c.parent_task_id IS NOT NULL "
    f"AND {_missing('c.parent_task_id')}",
}
EXAMPLES = 3


def referential_integrity_result(con, source_name: str) -> dg.AssetCheckResult:
    """Fails on rows whose task or person is missing; counts references to issues outside the sync."""
    params = {"s": source_name}
    broken = {name: con.execute(f"SELECT count(*) FROM ({sql})", params).fetchall()[0][0]
              for name, sql in BROKEN_REFERENCES.items()}
    examples = [
        line for name, sql in BROKEN_REFERENCES.items() if broken[name]
        for (line,) in con.execute(f"SELECT * FROM ({sql}) ORDER BY 1 LIMIT {EXAMPLES}", params).fetchall()
    ][:EXAMPLES]
    external = {name: con.execute(sql, params).fetchall()[0][0] for name, sql in EXTERNAL_REFERENCES.items()}
    total = sum(broken.values())
    if total:
        description = f"{total} row(s) refer to a task or person that does not exist, e.g. " + "; ".join(examples)
    else:
        description = (f"{external['external_links']} link(s) and {external['external_parents']} parent(s) "
                       "point to issues outside the synced projects")
    return dg.AssetCheckResult(
        passed=total == 0,
        severity=dg.AssetCheckSeverity.WARN,
        description=description,
        metadata={"broken_rows": total, **broken, **external, "examples": dg.MetadataValue.json(examples)},
    )


def build_source_checks(source_name: str) -> list[dg.AssetChecksDefinition]:
    canonical = dg.AssetKey(canonical_asset_name(source_name))
    raw = dg.AssetKey(raw_asset_name(source_name))
    prefix = source_name.replace("-", "_")

    @dg.asset_check(asset=canonical, name=f"{prefix}_unique_keys", blocking=True)
    def unique_keys(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        duplicates = {}
        with open_writer(warehouse.settings()) as con:
            for table, keys in UNIQUE_KEYS.items():
                key_list = ", ".join(keys)
                duplicates[table] = con.execute(
                    f"SELECT count(*) FROM (SELECT {key_list} FROM {table} GROUP BY {key_list} HAVING count(*) > 1)"
                ).fetchall()[0][0]
        return dg.AssetCheckResult(passed=not any(duplicates.values()), metadata=duplicates)

    @dg.asset_check(asset=canonical, name=integrity_check_name(source_name))
    def referential_integrity(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with open_writer(warehouse.settings()) as con:
            return referential_integrity_result(con, source_name)

    @dg.asset_check(asset=canonical, name=f"{prefix}_non_negative_hours", blocking=True)
    def non_negative_hours(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with open_writer(warehouse.settings()) as con:
            negative_worklogs, negative_tasks = con.execute(
                """SELECT (SELECT count(*) FROM worklogs WHERE source = $s AND hours < 0),
                          (SELECT count(*) FROM tasks WHERE source = $s
                             AND (estimate_hours < 0 OR spent_hours < 0 OR story_points < 0))""",
                {"s": source_name},
            ).fetchall()[0]
        return dg.AssetCheckResult(
            passed=negative_worklogs == 0 and negative_tasks == 0,
            metadata={"negative_worklogs": negative_worklogs, "negative_task_hours": negative_tasks},
        )

    @dg.asset_check(asset=raw, name=freshness_check_name(source_name))
    def freshness(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        settings = warehouse.settings()
        window = timedelta(hours=settings.source(source_name).max_staleness_hours)
        with open_writer(settings) as con:
            rows = con.execute(
                "SELECT last_success_at, last_error, failing_since FROM sync_state "
                "WHERE source = ? AND scope = 'fetch'",
                [source_name],
            ).fetchall()
        last_success, last_error, failing_since = rows[0] if rows else (None, None, None)
        age_hours = (utc_now() - last_success).total_seconds() / 3600 if last_success else None
        description = None
        if last_error:
            kept = f"rows of the last good fetch ({last_success:%Y-%m-%d %H:%M} UTC) kept" if last_success \
                else "never fetched"
            since = f"failing since {failing_since:%Y-%m-%d %H:%M} UTC" if failing_since else "last fetch failed"
            description = f"{since}: {last_error}; {kept}"
        return dg.AssetCheckResult(
            passed=last_error is None and last_success is not None and utc_now() - last_success <= window,
            severity=dg.AssetCheckSeverity.WARN,
            description=description,
            metadata={
                "last_success_at": str(last_success) if last_success else "never",
                "age_hours": round(age_hours, 2) if age_hours is not None else -1,
                "window_hours": window.total_seconds() / 3600,
                "last_error": last_error or "",
                "failing_since": str(failing_since) if failing_since else "",
            },
        )

    return [unique_keys, referential_integrity, non_negative_hours, freshness]
