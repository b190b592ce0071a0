"""A sync in one process while another reads and writes back: zero errors, no edit lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from warehouse.db import edit_rows, read_frame
from warehouse.settings import load_settings

pytestmark = pytest.mark.slow
REPO_ROOT = Path(__file__).resolve().parents[1]


def _sync(config: Path, env: dict, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "sync", "--config", str(config), *extra],
        capture_output=True, text=True, env=env, cwd=REPO_ROOT,
    )


def test_sync_while_another_process_reads_and_writes_back(tmp_path):
    (tmp_path / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text())
    config = tmp_path / "lodestar.toml"
    config.write_text(
        '[warehouse]\npath = "w/warehouse.duckdb"\n\n'
        '[[sources]]\nkind = "demo"\nname = "demo"\nseed = 3\nas_of = "2026-05-01"\n'
    )
    env = dict(os.environ, DAGSTER_HOME=str(tmp_path), PYTHONPATH=str(REPO_ROOT))
    first = _sync(config, env)
    assert first.returncode == 0, first.stderr

    stop_file = tmp_path / "stop"
    clients = [
        subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "tests" / "concurrency_client.py"), str(config), str(stop_file), f"c{i}"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO_ROOT,
        )
        for i in range(2)
    ]
    try:
        full = _sync(config, env, "--full")
        incremental = _sync(config, env)
    finally:
        stop_file.touch()
        outputs = [client.communicate(timeout=120) for client in clients]
    assert full.returncode == 0, full.stderr
    assert incremental.returncode == 0, incremental.stderr

    reports = [json.loads(out) for out, _err in outputs]
    for report in reports:
        assert report["errors"] == [], report["errors"][:3]
        assert report["reads"] > 0 and report["writes"] > 0
    written = {risk for report in reports for risk in report["written"]}

    settings = load_settings(config)
    assert {row["risk_id"] for row in edit_rows(settings, "risks")} == written
    audited = [row for row in edit_rows(settings, "audit_log") if row["table_name"] == "risks"]
    assert len(audited) == len(written)

    final = _sync(config, env)
    assert final.returncode == 0, final.stderr
    mirrored = read_frame(settings, "SELECT risk_id FROM risks")["risk_id"].to_list()
    assert set(mirrored) == written
