"""Source assets materialised with swapped resources; checks called directly; failures recorded."""

from __future__ import annotations

import dagster as dg

from pipelines.checks import build_source_checks
from pipelines.demo.resources import DemoClient
from pipelines.resources import WarehouseResource
from pipelines.source_assets import build_source_assets
from pipelines.sync import FetchResult
from warehouse.db import open_writer
from warehouse.settings import load_settings


class BrokenClient(dg.ConfigurableResource):
    """A source whose API is down."""

    def fetch(self, since):
        raise ConnectionError("connection reset by peer")


def _counts(settings) -> dict[str, int]:
    with open_writer(settings) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                for t in ("raw_payloads", "tasks", "worklogs", "status_changes")}


def test_materialize_demo_source_then_call_its_checks(demo_config):
    settings = load_settings(demo_config)
    warehouse = WarehouseResource.from_settings(settings)
    assets = build_source_assets("demo", "demo")
    result = dg.materialize(
        assets,
        resources={"warehouse": warehouse, "demo_client": DemoClient(seed=11, as_of="2026-03-01")},
    )
    assert result.success
    raw_meta = result.asset_materializations_for_node("demo_raw")[0].metadata
    canonical_meta = result.asset_materializations_for_node("demo_canonical")[0].metadata
    assert raw_meta["fetched"].value == raw_meta["new"].value > 0
    assert canonical_meta["tasks_inserted"].value >= 1500
    counts = _counts(settings)
    assert counts["tasks"] == canonical_meta["tasks_inserted"].value

    unique_keys, integrity, hours, freshness = build_source_checks("demo")
    for check in (unique_keys, integrity, hours, freshness):
        outcome = check(warehouse=warehouse)
        assert outcome.passed, (check.check_key.name, outcome.metadata)


def test_failed_fetch_records_the_error_and_changes_no_rows(demo_config):
    settings = load_settings(demo_config)
    warehouse = WarehouseResource.from_settings(settings)
    dg.materialize(build_source_assets("demo", "demo"),
                   resources={"warehouse": warehouse, "demo_client": DemoClient(seed=11, as_of="2026-03-01")})
    before = _counts(settings)
    result = dg.materialize(
        build_source_assets("demo", "demo"),
        resources={"warehouse": warehouse, "demo_client": BrokenClient()},
        raise_on_error=False,
    )
    assert not result.success
    assert _counts(settings) == before
    with open_writer(settings) as con:
        cursor, error = con.execute(
            "SELECT cursor, last_error FROM sync_state WHERE source = 'demo' AND scope = 'fetch'").fetchall()[0]
    assert "connection reset by peer" in error
    assert cursor is not None
    freshness = build_source_checks("demo")[3](warehouse=warehouse)
    assert freshness.metadata["last_error"].value.startswith("ConnectionError")


def test_full_fetch_flags_tasks_gone_at_the_source(demo_config):
    settings = load_settings(demo_config)
    warehouse = WarehouseResource.from_settings(settings)
    full = dg.RunConfig(ops={"demo_raw": {"config": {"full": True}}})
    dg.materialize(build_source_assets("demo", "demo"), run_config=full,
                   resources={"warehouse": warehouse, "demo_client": DemoClient(seed=11, as_of="2026-03-01")})

    class ShrunkClient(dg.ConfigurableResource):
        def fetch(self, since):
            result = DemoClient(seed=11, as_of="2026-03-01").fetch(since)
            kept = [i for i in result.items if not (i.kind == "jira_issue" and i.item_key in {"OPS-1", "OPS-2"})]
            return FetchResult(items=kept, cursor=result.cursor, requests=1, complete=since is None)

    result = dg.materialize(build_source_assets("demo", "demo"), run_config=full,
                            resources={"warehouse": warehouse, "demo_client": ShrunkClient()})
    assert result.asset_materializations_for_node("demo_canonical")[0].metadata["tasks_deleted"].value == 2
    with open_writer(settings) as con:
        flagged = con.execute("SELECT source_key FROM tasks WHERE is_deleted ORDER BY 1").fetchall()
        total = con.execute("SELECT count(*) FROM tasks").fetchall()[0][0]
    assert flagged == [("OPS-1",), ("OPS-2",)]
    assert total >= 1500
