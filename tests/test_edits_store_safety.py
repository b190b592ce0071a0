"""A lost, damaged or replaced edits store never empties the warehouse's copy of people's edits.

One demo company synced through `lodestar sync`; a risk saved and mirrored; then
the store is deleted, corrupted and replaced by an empty one in turn. Every
time, the sync still publishes, the mirror keeps the risk and its audit rows,
the sync names the problem, reads fall back to the mirror with the reason, and
a new edit is refused instead of being mirrored over the lost ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import main as lodestar
from warehouse.db import (
    EditsStoreError,
    edits_store_status,
    open_edits,
    open_reader,
    publish,
    read_frame,
    save_edit,
)
from warehouse.settings import Settings, load_settings

pytestmark = pytest.mark.slow

RISK = {"risk_id": "R-7", "project_key": "ERP", "title": "Vendor freeze", "probability": 3, "impact": 4,
        "score": 12, "status": "open"}


def _sync(config: Path, capsys: pytest.CaptureFixture | None = None) -> tuple[int, str]:
    code = lodestar(["sync", "--config", str(config)])
    return code, capsys.readouterr().out if capsys else ""


def _mirror(settings: Settings) -> tuple[list[str], int]:
    risks = read_frame(settings, "SELECT risk_id FROM main.risks")["risk_id"].to_list()
    audit = read_frame(settings, "SELECT count(*) AS n FROM main.audit_log")["n"][0]
    return risks, audit


def _live_risks(settings: Settings) -> list[str]:
    with open_reader(settings, live_edits=True) as con:
        return [row[0] for row in con.execute("SELECT risk_id FROM risks").fetchall()]


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import write_config

    config = write_config(tmp_path_factory.mktemp("store-safety"), (
        '[warehouse]\npath = "w/warehouse.duckdb"\n\n'
        '[[sources]]\nkind = "demo"\nname = "demo"\nseed = 7\nas_of = "2026-06-15"\n'))
    assert _sync(config)[0] == 0
    settings = load_settings(config)
    save_edit(settings, "risks", RISK, "mei")
    code, output = _sync(config)
    assert code == 0, output
    assert _mirror(settings) == (["R-7"], 1)
    return config


def _assert_kept(config: Path, expected_words: str, capsys: pytest.CaptureFixture) -> None:
    settings = load_settings(config)
    capsys.readouterr()
    code, output = _sync(config, capsys)
    assert code == 1, output
    assert "check edits_store_intact (ERROR): failed" in output and expected_words in output
    assert _mirror(settings) == (["R-7"], 1), "the mirror must keep the last good copy"
    assert settings.warehouse.published_path.exists()
    assert _live_risks(settings) == ["R-7"], "reads fall back to the mirror"
    status = edits_store_status(settings)
    assert status and expected_words in status and str(settings.warehouse.edits_path) in status
    with pytest.raises(EditsStoreError, match=expected_words):
        save_edit(settings, "risks", {**RISK, "risk_id": "R-8", "title": "New one"}, "mei")


def test_a_deleted_store_keeps_the_mirror_and_refuses_new_edits(synced: Path, capsys: pytest.CaptureFixture) -> None:
    settings = load_settings(synced)
    settings.warehouse.edits_path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{settings.warehouse.edits_path}{suffix}").unlink(missing_ok=True)
    _assert_kept(synced, "the edits store is missing", capsys)
    assert not settings.warehouse.edits_path.exists(), "reading must not create an empty store"


def test_a_corrupted_store_keeps_the_mirror_with_a_clear_message(synced: Path, capsys: pytest.CaptureFixture) -> None:
    settings = load_settings(synced)
    settings.warehouse.edits_path.write_bytes(b"this is not a database" * 200)
    _assert_kept(synced, "the edits store cannot be read", capsys)


def test_an_empty_replacement_store_keeps_the_mirror(synced: Path, capsys: pytest.CaptureFixture) -> None:
    settings = load_settings(synced)
    settings.warehouse.edits_path.unlink()
    with open_edits(settings):
        pass
    _assert_kept(synced, "does not hold the edits the warehouse mirrored", capsys)


def test_a_publish_cleans_temporaries_left_by_a_killed_one(empty_settings: Settings) -> None:
    import duckdb

    empty_settings.warehouse.path.parent.mkdir(parents=True)
    duckdb.connect(str(empty_settings.warehouse.path)).close()
    target = empty_settings.warehouse.published_path
    stale = target.with_name(f".{target.name}.4242.deadbeef.tmp")
    stale.write_bytes(b"half a copy")
    publish(empty_settings)
    assert not stale.exists() and target.exists()
    assert [p.name for p in target.parent.iterdir() if p.name.endswith(".tmp")] == []
