"""`lodestar query` goes through the SQL page's door: one read-only statement, a row cap, a timeout."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import main as lodestar


def _query(config: Path, capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = lodestar(["query", *args, "--config", str(config), "--format", "csv"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(("sql", "reason"), [
    ("select 1; select 2", "2 statements; run one at a time"),
    ("CREATE TEMP TABLE x AS SELECT 1", "CREATE statements are not allowed, only queries"),
    ("COPY tasks TO '/tmp/out.csv'", "COPY statements are not allowed"),
    ("SELECT * FROM read_csv('/etc/passwd')", "files and network are not reachable"),
])
def test_writes_several_statements_and_files_are_refused(demo_company_config: Path, capsys, sql: str, reason: str):
    code, out, err = _query(demo_company_config, capsys, sql)
    assert code == 1 and out == "" and reason in err and "Traceback" not in err


def test_rows_are_capped_and_the_cap_can_be_raised(demo_company_config: Path, capsys):
    code, out, err = _query(demo_company_config, capsys, "SELECT range AS n FROM range(250000)")
    assert code == 0 and out.splitlines()[0] == "n" and len(out.splitlines()) == 100_001
    assert "result cut at 100,000 rows" in err
    code, out, err = _query(demo_company_config, capsys, "SELECT range AS n FROM range(250000)", "--max-rows", "300000")
    assert code == 0 and len(out.splitlines()) == 250_001 and err == ""


def test_a_long_query_is_stopped_at_the_timeout(demo_company_config: Path, capsys):
    code, out, err = _query(demo_company_config, capsys, "SELECT count(*) FROM range(1000000000000) a", "--timeout", "0.5")
    assert code == 1 and "stopped after 0.5 s" in err
