"""Dagster entry point: `dagster dev -m pipelines.definitions` and `lodestar sync` load this."""

from __future__ import annotations

import dagster as dg

from pipelines.alerts.assets import build_alert_definitions
from pipelines.checks import build_source_checks
from pipelines.resources import WarehouseResource
from pipelines.schedules import build_jobs_and_schedules
from pipelines.source_assets import build_source_assets, client_key, raw_asset_name
from pipelines.sources import client_for
from pipelines.warehouse_assets import build_warehouse_assets, build_warehouse_checks
from warehouse.settings import Settings, load_settings


def build_definitions(settings: Settings) -> dg.Definitions:
    """Assets, checks, jobs and schedules for the sources a configuration lists."""
    enabled = [s for s in settings.sources if s.enabled]
    source_assets: list[dg.AssetsDefinition] = []
    checks: list[dg.AssetChecksDefinition] = []
    resources: dict[str, object] = {"warehouse": WarehouseResource.from_settings(settings)}
    for source in enabled:
        raw, canonical = build_source_assets(source.name, source.kind)
        source_assets += [raw, canonical]
        checks += build_source_checks(source.name)
        resources[client_key(source.name)] = client_for(source)
    canonical_assets = source_assets[1::2]
    jobs, schedules = build_jobs_and_schedules(
        [raw_asset_name(s.name) for s in enabled], settings.calendar.timezone
    )
    alert_assets, alert_jobs, alert_sensors, alert_schedules = build_alert_definitions(jobs[:2])
    return dg.Definitions(
        assets=[*source_assets, *build_warehouse_assets(canonical_assets), *alert_assets],
        asset_checks=[*checks, *build_warehouse_checks()],
        jobs=[*jobs, *alert_jobs],
        schedules=[*schedules, *alert_schedules],
        sensors=alert_sensors,
        resources=resources,
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    """Loaded lazily, so importing this module reads no configuration."""
    return build_definitions(load_settings())
