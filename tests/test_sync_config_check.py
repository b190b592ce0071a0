"""`lodestar sync` checks what the configuration needs of this machine before any work starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import main as lodestar
from tests.conftest import write_config


def test_an_unset_token_variable_stops_the_sync_in_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("LODESTAR_TEST_UNSET_TOKEN", raising=False)
    config = write_config(tmp_path, (
        '[warehouse]\npath = "w/warehouse.duckdb"\n\n'
        '[[sources]]\nkind = "jira"\nname = "corp"\nurl = "http://127.0.0.1:9"\nprojects = ["ERP"]\n'
        'token_env = "LODESTAR_TEST_UNSET_TOKEN"\n'))
    code = lodestar(["sync", "--config", str(config)])
    err = capsys.readouterr().err
    assert code != 0
    assert "token_env" in err and "LODESTAR_TEST_UNSET_TOKEN" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 3
    assert not (tmp_path / "w" / "warehouse.duckdb").exists(), "nothing was started"
