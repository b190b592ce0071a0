"""Assets every source has: `<name>_raw` (fetch → raw store) and `<name>_canonical` (raw → tables)."""


import time

import dagster as dg

from pipelines.resources import WarehouseResource
from pipelines.sync import fetch_and_store, parse_and_load
from warehouse.db import open_writer


class FetchConfig(dg.Config):
    """`full` refetches everything and reconciles deletions (the daily run)."""

    full: bool = False


class LoadConfig(dg.Config):
    """`rebuild` re-parses every stored raw payload instead of only the new ones."""

    rebuild: bool = False


def client_key(source_name: str) -> str:
    return f"{source_name.replace('-', '_')}_client"


def raw_asset_name(source_name: str) -> str:
    return f"{source_name.replace('-', '_')}_raw"


def canonical_asset_name(source_name: str) -> str:
    return f"{source_name.replace('-', '_')}_canonical"


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
            stats = fetch_and_store(con, source_name, client, source.overlap_minutes, config.full)
            stored = con.execute("SELECT count(*) FROM raw_payloads WHERE source = ?", [source_name]).fetchall()[0][0]
        return dg.MaterializeResult(
            metadata={
                "source": source_name,
                "full": config.full,
                "fetched": stats.fetched,
                "new": stats.new,
                "changed": stats.changed,
                "removed_at_source": stats.removed,
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
            report = parse_and_load(con, settings, source_name, rebuild=config.rebuild)
            seconds = time.perf_counter() - started
            tasks = con.execute("SELECT count(*) FROM tasks WHERE source = ?", [source_name]).fetchall()[0][0]
        metadata = {"source": source_name, "seconds": round(seconds, 3), "dagster/row_count": tasks}
        metadata.update(report.as_metadata())
        return dg.MaterializeResult(metadata=metadata)

    return [raw, canonical]
