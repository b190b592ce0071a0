"""Planning assets: critical path, completion forecasts and earned value, refreshed after every sync.

A project whose schedule, forecast or earned value fails gets a `planning_errors`
row and the others are written as usual; the `planning_failures` check reports
the failed projects as a warning, so the sync still publishes.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from models.planning.calendar import WorkCalendar
from models.planning.portfolio import plan_portfolio
from pipelines.resources import WarehouseResource
from warehouse.db import open_writer
from warehouse.load import rows_to_arrow

PLANNING_TABLES = ("plan_schedule", "schedule_violations", "project_forecasts", "earned_value", "planning_errors")
FAILURES_CHECK = "planning_failures"


def _replace(con, table: str, rows: list[dict]) -> None:
    con.execute(f"DELETE FROM {table}")
    if rows:
        con.register("_planning_rows", rows_to_arrow(con, table, rows))
        con.execute(f"INSERT INTO {table} SELECT * FROM _planning_rows")
        con.unregister("_planning_rows")


def failures_check(failures: dict[str, dict[str, str]], adjusted: int) -> dg.AssetCheckResult:
    """WARN naming the projects whose planning failed (at most five in the description)."""
    names = sorted(failures)
    shown = ", ".join(f"{key} ({', '.join(failures[key])})" for key in names[:5])
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return dg.AssetCheckResult(
        asset_key="completion_forecasts", check_name=FAILURES_CHECK, passed=not failures,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"failed_projects": len(failures), "adjusted_values": adjusted},
        description=(f"planning failed for {len(names)} project(s): {shown}{more}; see planning_errors"
                     if failures else None),
    )


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
        check_specs=[
            dg.AssetCheckSpec(FAILURES_CHECK, asset="completion_forecasts",
                              description="No project's schedule, forecast or earned value failed "
                                          "(failed ones are listed in planning_errors; the others are published)."),
        ],
    )
    def planning(warehouse: WarehouseResource):
        settings = warehouse.settings()
        calendar = WorkCalendar.from_settings(settings)
        today = datetime.now(ZoneInfo(settings.calendar.timezone)).date()
        with open_writer(settings) as con:
            outputs = plan_portfolio(con, calendar, today)
            con.execute("BEGIN TRANSACTION")
            try:
                _replace(con, "plan_schedule", outputs.schedule_rows)
                _replace(con, "schedule_violations", outputs.violation_rows)
                _replace(con, "project_forecasts", outputs.forecast_rows)
                _replace(con, "earned_value", outputs.earned_value_rows)
                _replace(con, "planning_errors", outputs.error_rows)
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
        failures = outputs.failures
        failed = {f"failed_{key}": "; ".join(f"{stage}: {message}" for stage, message in stages.items())
                  for key, stages in failures.items()}
        counts = {"failed_projects": len(failures), "adjusted_values": outputs.adjusted}
        critical = sum(1 for r in outputs.schedule_rows if r["is_critical"])
        yield dg.MaterializeResult(asset_key="critical_path", metadata={
            "dagster/row_count": len(outputs.schedule_rows), "critical_tasks": critical,
            "violations": len(outputs.violation_rows), **counts, **failed})
        yield dg.MaterializeResult(asset_key="completion_forecasts", metadata={
            "dagster/row_count": len(outputs.forecast_rows), **counts,
            **{f"{r['project_key']}_p85": str(r["finish_p85"]) for r in outputs.forecast_rows}})
        yield dg.MaterializeResult(asset_key="earned_value", metadata={
            "dagster/row_count": len(outputs.earned_value_rows), **counts,
            **{f"{r['project_key']}_spi": round(r["spi"], 3) if r["spi"] is not None else -1.0
               for r in outputs.earned_value_rows}})
        yield failures_check(failures, outputs.adjusted)

    return [planning]
