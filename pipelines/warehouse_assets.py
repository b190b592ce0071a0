"""Assets shared by all sources: project register, edit mirrors, KPI marts, the published snapshot."""


from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.planning_assets import build_planning_assets
from pipelines.prediction_assets import build_prediction_assets
from pipelines.resources import WarehouseResource
from warehouse.db import EditsStoreError, open_writer, publish, store_against_snapshot
from warehouse.marts import build_mart, mirror_edits, refresh_projects
from warehouse.settings import Settings


def today_in(settings: Settings):
    """KPIs describe the organisation's own calendar day, not the server's."""
    return datetime.now(ZoneInfo(settings.calendar.timezone)).date()


def build_warehouse_assets(canonical_assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    @dg.asset(
        group_name="warehouse",
        kinds={"duckdb"},
        deps=list(canonical_assets),
        description="One row per project seen in any source or configured; budgets and rates from the config.",
    )
    def projects(warehouse: WarehouseResource) -> dg.MaterializeResult:
        settings = warehouse.settings()
        with open_writer(settings) as con:
            counts = refresh_projects(con, settings.projects)
            total = con.execute("SELECT count(*) FROM projects").fetchall()[0][0]
        return dg.MaterializeResult(
            metadata={"inserted": counts.inserted, "updated": counts.updated, "dagster/row_count": total}
        )

    @dg.asset(
        group_name="warehouse",
        kinds={"duckdb", "sqlite"},
        description="Warehouse mirrors of the write-back store (plans, baselines, risks, stand-ups, audit log).",
    )
    def writeback_mirror(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        """A lost or damaged edits store leaves the mirrors as they were; the check below reports it."""
        settings = warehouse.settings()
        with open_writer(settings) as con:
            try:
                counts = mirror_edits(con, settings)
            except EditsStoreError as error:
                context.log.error(str(error))
                return dg.MaterializeResult(metadata={"edits_store_problem": str(error)})
        return dg.MaterializeResult(
            metadata={**{f"{t}_rows": n for t, n in counts.items()}, "dagster/row_count": sum(counts.values())}
        )

    @dg.asset(group_name="marts", kinds={"duckdb"}, deps=[projects], description="Per-project KPIs as of today.")
    def mart_project_kpis(warehouse: WarehouseResource) -> dg.MaterializeResult:
        settings = warehouse.settings()
        with open_writer(settings) as con:
            rows = build_mart(con, "mart_project_kpis", today_in(settings))
        return dg.MaterializeResult(metadata={"dagster/row_count": rows})

    @dg.asset(group_name="marts", kinds={"duckdb"}, deps=[projects], description="Per-project daily flow and hours.")
    def mart_project_daily(warehouse: WarehouseResource) -> dg.MaterializeResult:
        settings = warehouse.settings()
        with open_writer(settings) as con:
            rows = build_mart(con, "mart_project_daily", today_in(settings))
        return dg.MaterializeResult(metadata={"dagster/row_count": rows})

    prediction_assets = build_prediction_assets([projects])
    # Forecasts sample the prediction models' durations, so planning runs after scoring.
    planning_assets = build_planning_assets([projects, writeback_mirror, prediction_assets[1]])

    @dg.asset(
        group_name="warehouse",
        kinds={"duckdb"},
        deps=[mart_project_kpis, mart_project_daily, writeback_mirror,
              dg.AssetKey("critical_path"), dg.AssetKey("completion_forecasts"), dg.AssetKey("earned_value"),
              dg.AssetKey("task_predictions")],
        description="Immutable read-only copy of the warehouse that the dashboard and `lodestar query` open.",
    )
    def published_warehouse(warehouse: WarehouseResource) -> dg.MaterializeResult:
        settings = warehouse.settings()
        path = publish(settings)
        return dg.MaterializeResult(metadata={"path": str(path), "bytes": path.stat().st_size})

    return [projects, writeback_mirror, mart_project_kpis, mart_project_daily, *planning_assets, *prediction_assets,
            published_warehouse]


@dg.asset_check(asset="writeback_mirror", name="edits_store_intact",
                description="The edits store exists, is readable and still holds every edit mirrored from it.")
def edits_store_intact(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    settings = warehouse.settings()
    with open_writer(settings) as con:
        problem = store_against_snapshot(settings, con, ["audit_log"])[1]
    return dg.AssetCheckResult(
        passed=problem is None, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"problem": problem or "none"}, description=problem,
    )


def build_warehouse_checks() -> list[dg.AssetChecksDefinition]:
    return [edits_store_intact]
