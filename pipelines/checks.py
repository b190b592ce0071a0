"""Asset checks on each source's canonical rows and on its freshness.

Unique keys block publishing (a duplicate would double-count every KPI);
references and freshness warn, since a link to an issue outside the synced
projects is normal and a late source should not hide the others.
"""


from datetime import timedelta

import dagster as dg

from pipelines.resources import WarehouseResource
from pipelines.source_assets import canonical_asset_name, raw_asset_name
from warehouse.db import open_writer, utc_now

UNIQUE_KEYS = {
    "tasks": ("task_id",),
    "task_links": ("from_task_id", "to_task_id", "link_type"),
    "status_changes": ("change_id",),
    "worklogs": ("worklog_id",),
    "commits": ("repo", "sha"),
    "pull_requests": ("source", "repo", "number"),
}

ORPHAN_QUERIES = {
    "worklogs_without_task": "SELECT count(*) FROM worklogs w WHERE w.source = ? AND w.task_id IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.task_id = w.task_id)",
    "links_to_unknown_tasks": "SELECT count(*) FROM task_links l WHERE l.source = ? AND NOT EXISTS "
    "(SELECT 1 FROM tasks t WHERE t.task_id = l.from_task_id) OR (l.source = ? AND NOT EXISTS "
    "(SELECT 1 FROM tasks t WHERE t.task_id = l.to_task_id))",
    "parents_unknown": "SELECT count(*) FROM tasks c WHERE c.source = ? AND c.parent_task_id IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM tasks p WHERE p.task_id = c.parent_task_id)",
    "status_changes_without_task": "SELECT count(*) FROM status_changes s WHERE s.source = ? "
    "AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.task_id = s.task_id)",
    "assignees_not_people": "SELECT count(*) FROM tasks t WHERE t.source = ? AND t.assignee_id IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM people p WHERE p.person_id = t.assignee_id)",
}


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

    @dg.asset_check(asset=canonical, name=f"{prefix}_referential_integrity")
    def referential_integrity(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with open_writer(warehouse.settings()) as con:
            orphans = {
                name: con.execute(sql, [source_name] * sql.count("?")).fetchall()[0][0]
                for name, sql in ORPHAN_QUERIES.items()
            }
        return dg.AssetCheckResult(
            passed=not any(orphans.values()), severity=dg.AssetCheckSeverity.WARN, metadata=orphans
        )

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

    @dg.asset_check(asset=raw, name=f"{prefix}_freshness")
    def freshness(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        settings = warehouse.settings()
        window = timedelta(hours=settings.source(source_name).max_staleness_hours)
        with open_writer(settings) as con:
            rows = con.execute(
                "SELECT last_success_at, last_error FROM sync_state WHERE source = ? AND scope = 'fetch'",
                [source_name],
            ).fetchall()
        last_success, last_error = rows[0] if rows else (None, None)
        age_hours = (utc_now() - last_success).total_seconds() / 3600 if last_success else None
        return dg.AssetCheckResult(
            passed=last_success is not None and utc_now() - last_success <= window,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "last_success_at": str(last_success) if last_success else "never",
                "age_hours": round(age_hours, 2) if age_hours is not None else -1,
                "window_hours": window.total_seconds() / 3600,
                "last_error": last_error or "",
            },
        )

    return [unique_keys, referential_integrity, non_negative_hours, freshness]
