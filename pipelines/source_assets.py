"""Assets every source has: `<name>_raw` (fetch → raw store) and `<name>_canonical` (raw → tables).

A source that fails does not stop the others: its asset records the failure in
`sync_state` (`last_error`, `last_attempt_at`, `failing_since`), logs it in one
line and materialises with `failed` and `error` in its metadata, having changed
nothing, so the assets downstream publish the other sources' fresh rows with
this source's last good ones. `lodestar sync` prints the line and exits 1;
the `<name>_freshness` check fails while the last attempt failed.
"""


import time

import dagster as dg

from pipelines import quarantine
from pipelines.resources import WarehouseResource
from pipelines.sync import StageFailed, fetch_and_store, parse_and_load
from warehouse.db import open_writer


class FetchConfig(dg.Config):
    """`full` refetches everything and reconciles deletions (the daily run)."""

    full: bool = False


class LoadConfig(dg.Config):
    """`rebuild` re-parses every stored raw payload instead of only the new ones."""

    rebuild: bool = False


def source_node(source_name: str, suffix: str) -> str:
    """The name of a source's resource, asset or check: Dagster names allow no `-`."""
    return f"{source_name.replace('-', '_')}_{suffix}"


def client_key(source_name: str) -> str:
    return source_node(source_name, "client")


def raw_asset_name(source_name: str) -> str:
    return source_node(source_name, "raw")


def canonical_asset_name(source_name: str) -> str:
    return source_node(source_name, "canonical")


def build_source_assets(source_name: str, kind: str) -> list[dg.AssetsDefinition]:
    raw_name = raw_asset_name(source_name)
    key = client_key(source_name)

    @dg.asset(
        name=raw_name,
        group_name="sources",
        kinds={"duckdb", kind},
        required_resource_keys={key, "warehouse"},
        description=f"Payloads of source {source_name!r} ({kind}) fetched since the cursor, stored compressed.",
    )
    def raw(context: dg.AssetExecutionContext, config: FetchConfig) -> dg.MaterializeResult:
        settings = context.resources.warehouse.settings()
        source = settings.source(source_name)
        client = getattr(context.resources, key)
        with open_writer(settings) as con:
            try:
                stats = fetch_and_store(con, source_name, client, source.overlap_minutes, config.full,
                                        url=getattr(source, "url", None))
            except StageFailed as failed:
                return _failed(context, con, failed, {"full": config.full}, _stored(con, source_name))
            stored = _stored(con, source_name)
        return dg.MaterializeResult(
            metadata={
                "source": source_name,
                "full": config.full,
                "fetched": stats.fetched,
                "new": stats.new,
                "changed": stats.changed,
                "removed_at_source": stats.removed,
                "unstorable": stats.quarantined,
                "requests": stats.requests,
                "seconds": round(stats.seconds, 3),
                "cursor": stats.cursor or "",
                "dagster/row_count": stored,
            }
        )

    @dg.asset(
        name=canonical_asset_name(source_name),
        group_name="sources",
        kinds={"duckdb"},
        deps=[raw],
        description=f"Canonical rows of source {source_name!r}, upserted by key from its raw payloads.",
    )
    def canonical(context: dg.AssetExecutionContext, config: LoadConfig, warehouse: WarehouseResource) -> dg.MaterializeResult:
        settings = warehouse.settings()
        with open_writer(settings) as con:
            started = time.perf_counter()
            try:
                report = parse_and_load(con, settings, source_name, rebuild=config.rebuild)
            except StageFailed as failed:
                return _failed(context, con, failed, {"rebuild": config.rebuild}, _tasks(con, source_name))
            seconds = time.perf_counter() - started
            tasks = _tasks(con, source_name)
            records, values = quarantine.counts(con, source_name)
        metadata = {"source": source_name, "seconds": round(seconds, 3), "dagster/row_count": tasks,
                    "quarantined_records": records, "quarantined_values": values}
        metadata.update(report.as_metadata())
        return dg.MaterializeResult(metadata=metadata)

    return [raw, canonical]


def _stored(con, source_name: str) -> int:
    return con.execute("SELECT count(*) FROM raw_payloads WHERE source = ?", [source_name]).fetchall()[0][0]


def _tasks(con, source_name: str) -> int:
    return con.execute("SELECT count(*) FROM tasks WHERE source = ?", [source_name]).fetchall()[0][0]


def _failed(context: dg.AssetExecutionContext, con, failed: StageFailed, extra: dict,
            row_count: int) -> dg.MaterializeResult:
    """The materialisation of a stage that failed whole: nothing changed, the failure said in one line."""
    # Said once, in the run's log and (by `lodestar sync`) in one line of the report; the run goes on.
    context.log.info(str(failed))
    last_success = con.execute("SELECT last_success_at FROM sync_state WHERE source = ? AND scope = ?",
                               [failed.source, failed.scope]).fetchall()
    kept = last_success[0][0] if last_success and last_success[0][0] else None
    return dg.MaterializeResult(metadata={
        "source": failed.source, **extra, "failed": True, "error": failed.line,
        "kept_since": f"{kept:%Y-%m-%d %H:%M} UTC" if kept else "never synced",
        "dagster/row_count": row_count,
    })
