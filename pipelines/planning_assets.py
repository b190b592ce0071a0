"""Planning assets: critical path, completion forecasts and earned value, refreshed after every sync."""

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from models.planning.calendar import WorkCalendar
from models.planning.portfolio import plan_portfolio
from pipelines.resources import WarehouseResource
from warehouse.db import open_writer
from warehouse.load import rows_to_arrow

PLANNING_TABLES = ("plan_schedule", "schedule_violations", "project_forecasts", "earned_value")


def _replace(con, table: str, rows: list[dict]) -> None:
    con.execute(f"DELETE FROM {table}")
    if rows:
        con.register("_planning_rows", rows_to_arrow(con, table, rows))
        con.execute(f"INSERT INTO {table} SELECT * FROM _planning_rows")
        con.unregister("_planning_rows")


def build_planning_assets(upstream: list[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    @dg.multi_asset(
        specs=[
            dg.AssetSpec("critical_path", group_name="planning", kinds={"duckdb"}, deps=upstream,
                         description="CPM per project: early/late dates, float, critical tasks, violated constraints."),
            dg.AssetSpec("completion_forecasts", group_name="planning", kinds={"duckdb"}, deps=upstream,
                         description="Monte Carlo P50/P85/P95 finish per task and project, criticality index."),
            dg.AssetSpec("earned_value", group_name="planning", kinds={"duckdb"}, deps=upstream,
                         description="PV, EV, AC, SPI, CPI, EAC and VAC per project at today's date."),
        ],
    )
    def planning(warehouse: WarehouseResource):
        settings = warehouse.settings()
        calendar = WorkCalendar(settings.calendar.country)
        today = datetime.now(ZoneInfo(settings.calendar.timezone)).date()
        with open_writer(settings) as con:
            outputs = plan_portfolio(con, calendar, today)
            con.execute("BEGIN TRANSACTION")
            try:
                _replace(con, "plan_schedule", outputs.schedule_rows)
                _replace(con, "schedule_violations", outputs.violation_rows)
                _replace(con, "project_forecasts", outputs.forecast_rows)
                _replace(con, "earned_value", outputs.earned_value_rows)
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
        problems = {f"unschedulable_{k}": v for k, v in outputs.problems.items()}
        critical = sum(1 for r in outputs.schedule_rows if r["is_critical"])
        yield dg.MaterializeResult(asset_key="critical_path", metadata={
            "dagster/row_count": len(outputs.schedule_rows), "critical_tasks": critical,
            "violations": len(outputs.violation_rows), **problems})
        yield dg.MaterializeResult(asset_key="completion_forecasts", metadata={
            "dagster/row_count": len(outputs.forecast_rows),
            **{f"{r['project_key']}_p85": str(r["finish_p85"]) for r in outputs.forecast_rows}})
        yield dg.MaterializeResult(asset_key="earned_value", metadata={
            "dagster/row_count": len(outputs.earned_value_rows),
            **{f"{r['project_key']}_spi": round(r["spi"], 3) if r["spi"] is not None else -1.0
               for r in outputs.earned_value_rows}})

    return [planning]
