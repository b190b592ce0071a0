"""Source assets materialised with swapped resources; checks called directly; failures recorded."""

from __future__ import annotations

import dagster as dg

from pipelines import sync
from pipelines.checks import build_source_checks
from pipelines.demo.resources import DemoClient
from pipelines.raw_store import RawItem
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


def test_failed_fetch_records_the_error_changes_no_rows_and_lets_the_run_go_on(demo_config):
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
    assert result.success, "a failing source must not stop the assets downstream of it"
    raw_meta = {k: v.value for k, v in result.asset_materializations_for_node("demo_raw")[0].metadata.items()}
    assert raw_meta["failed"] is True and raw_meta["error"] == "ConnectionError: connection reset by peer"
    assert result.asset_materializations_for_node("demo_canonical")
    assert _counts(settings) == before
    with open_writer(settings) as con:
        cursor, error, attempt, failing_since, success = con.execute(
            "SELECT cursor, last_error, last_attempt_at, failing_since, last_success_at FROM sync_state "
            "WHERE source = 'demo' AND scope = 'fetch'").fetchall()[0]
    assert "connection reset by peer" in error
    assert cursor is not None and failing_since == attempt > success
    freshness = build_source_checks("demo")[3](warehouse=warehouse)
    assert not freshness.passed
    assert freshness.metadata["last_error"].value.startswith("ConnectionError")
    assert "connection reset by peer" in freshness.description and "kept" in freshness.description

    dg.materialize(build_source_assets("demo", "demo"), resources={"warehouse": warehouse, "demo_client": BrokenClient()})
    with open_writer(settings) as con:
        assert con.execute("SELECT failing_since FROM sync_state WHERE source = 'demo' AND scope = 'fetch'"
                           ).fetchall()[0][0] == failing_since, "failing_since is when the failures began"
    dg.materialize(build_source_assets("demo", "demo"),
                   resources={"warehouse": warehouse, "demo_client": DemoClient(seed=11, as_of="2026-03-01")})
    with open_writer(settings) as con:
        assert con.execute("SELECT last_error, failing_since FROM sync_state WHERE source = 'demo' AND scope = 'fetch'"
                           ).fetchall()[0] == (None, None)
    assert build_source_checks("demo")[3](warehouse=warehouse).passed


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


def _commit(sha: str, additions: int) -> dict:
    return {"sha": sha, "url": f"https://api.github.com/repos/acme/web/commits/{sha}",
            "commit": {"author": {"name": "Li Na", "email": "li.na@acme.cn", "date": "2024-03-01T10:00:00Z"},
                       "message": "ERP-1 fix"},
            "stats": {"additions": additions, "deletions": 1}}


class PoisonedClient(dg.ConfigurableResource):
    """A source with one good commit, one too big for its column and one item of a kind no parser knows."""

    additions: int = 10**12

    def fetch(self, since):
        items = [RawItem("github_commit", "acme/web@a1", None, _commit("a1", 5)),
                 RawItem("github_commit", "acme/web@b2", None, _commit("b2", self.additions)),
                 RawItem("wiki_page", "Home", None, {"title": "Home"})]
        return FetchResult(items=items, cursor=None, requests=1, complete=since is None)


def _quarantine(settings) -> list[tuple]:
    with open_writer(settings) as con:
        return con.execute("SELECT item_key, kind, stage, reason FROM quarantine ORDER BY item_key").fetchall()


def test_records_that_cannot_be_parsed_or_loaded_are_quarantined_and_retried(demo_config):
    settings = load_settings(demo_config)
    warehouse = WarehouseResource.from_settings(settings)
    result = dg.materialize(build_source_assets("demo", "demo"),
                            resources={"warehouse": warehouse, "demo_client": PoisonedClient()})
    meta = result.asset_materializations_for_node("demo_canonical")[0].metadata
    assert meta["quarantined_records"].value == 2 and meta["commits_inserted"].value == 1
    (home, kind, stage, reason), (b2, *load) = _quarantine(settings)
    assert (home, kind, stage) == ("Home", "record", "parse")
    assert reason == "ValueError: source 'demo': raw item 'Home' has unknown kind 'wiki_page'"
    assert (b2, *load[:2]) == ("acme/web@b2", "record", "load")
    assert load[2].startswith("cannot be loaded: commits.additions: expected int32, got 1000000000000")
    with open_writer(settings) as con:
        assert con.execute("SELECT sha FROM commits").fetchall() == [("a1",)]

    dg.materialize(build_source_assets("demo", "demo"),
                   resources={"warehouse": warehouse, "demo_client": PoisonedClient(additions=7)})
    assert [row[0] for row in _quarantine(settings)] == ["Home"], "the fixed commit left the quarantine"
    with open_writer(settings) as con:
        assert con.execute("SELECT sha, additions FROM commits ORDER BY 1").fetchall() == [("a1", 5), ("b2", 7)]


def test_a_load_that_fails_whole_keeps_the_rows_and_lets_the_run_go_on(demo_config, monkeypatch):
    settings = load_settings(demo_config)
    warehouse = WarehouseResource.from_settings(settings)
    resources = {"warehouse": warehouse, "demo_client": PoisonedClient(additions=7)}
    dg.materialize(build_source_assets("demo", "demo"), resources=resources)
    before = _counts(settings)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(sync, "remap_projects", broken)
    result = dg.materialize(build_source_assets("demo", "demo"), resources=resources,
                            run_config=dg.RunConfig(ops={"demo_canonical": {"config": {"rebuild": True}}}))
    assert result.success
    meta = result.asset_materializations_for_node("demo_canonical")[0].metadata
    assert meta["failed"].value is True and meta["error"].value == "RuntimeError: disk full"
    assert _counts(settings) == before, "a rebuild that failed cleared nothing"
    with open_writer(settings) as con:
        assert con.execute("SELECT last_error FROM sync_state WHERE source = 'demo' AND scope = 'canonical'"
                           ).fetchall() == [("RuntimeError: disk full",)]
