"""Dagster definitions load, and the asset graph is what the pipeline promises."""

from __future__ import annotations

import dagster as dg

from pipelines.definitions import build_definitions, defs
from pipelines.schedules import FULL_SYNC_JOB, SYNC_JOB
from warehouse.settings import load_settings


def test_lazy_definitions_load_with_the_demo_configuration(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LODESTAR_CONFIG", raising=False)
    loaded = defs()
    assert isinstance(loaded, dg.Definitions)
    dg.Definitions.validate_loadable(loaded)


def test_asset_graph_schedules_and_checks(demo_config):
    definitions = build_definitions(load_settings(demo_config))
    graph = definitions.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {"demo_raw", "demo_canonical", "projects", "writeback_mirror", "mart_project_kpis",
            "mart_project_daily", "published_warehouse"} <= keys
    assert graph.get(dg.AssetKey("demo_canonical")).parent_keys == {dg.AssetKey("demo_raw")}
    assert dg.AssetKey("mart_project_kpis") in graph.get(dg.AssetKey("published_warehouse")).parent_keys
    schedules = {s.name: s for s in definitions.schedules}
    assert schedules["hourly_incremental_sync"].job_name == SYNC_JOB
    assert schedules["daily_full_reconcile"].job_name == FULL_SYNC_JOB
    check_names = {key.name for key in graph.asset_check_keys}
    assert {"demo_unique_keys", "demo_referential_integrity", "demo_non_negative_hours", "demo_freshness"} <= check_names

