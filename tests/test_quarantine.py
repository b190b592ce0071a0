"""One bad record, or one bad source, never stops the rest (issue #12, "One bad thing stops everything").

A loopback Jira serves the shared Apache issues with poisoned copies of a few of
them: the sync quarantines what it cannot store, parse or load, publishes every
other record, lists the quarantined ones, tries them again after a fix, and
publishes the other sources when one of them cannot be reached.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from pipelines import cli
from pipelines.jira import parse as jira_parse
from tests.conftest import REPO_ROOT
from tests.test_jira_connector import APACHE, _config, _run, _sync, fake_jira, jira_fields  # noqa: F401
from warehouse.db import open_reader
from warehouse.settings import load_settings

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not APACHE.is_dir(), reason=f"shared data not found at {APACHE}")]

PROJECTS = ["CLIMATE", "TWILL"]
HOUR = 3600


def _issues(settings, sql: str = "SELECT source_key, title, due_date, created_at, spent_hours FROM tasks"):
    with open_reader(settings) as con:
        return {row[0]: row[1:] for row in con.execute(sql).fetchall()}


def _worklogs(settings) -> dict[str, float]:
    with open_reader(settings) as con:
        return dict(con.execute("SELECT worklog_id, hours FROM worklogs").fetchall())


def _quarantine_list(config: Path, capsys, *args: str) -> list[dict]:
    capsys.readouterr()
    assert cli.main(["quarantine", "list", "--config", str(config), "--format", "json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def _bump(issue: dict, stamp: str = "2015-06-01T09:00:00.000+0800") -> None:
    issue["fields"]["updated"] = stamp


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_poisoned_records_are_quarantined_listed_and_everything_else_publishes(fake_jira, tmp_path, capsys,
                                                                              monkeypatch):
    issues = fake_jira.issues
    expected = {k for k, i in issues.items() if i["fields"]["project"]["key"] in PROJECTS}
    issues["CLIMATE-3"]["fields"]["summary"] = "Crash on \ud800 input"
    negative = issues["CLIMATE-263"]["fields"]["worklog"]["worklogs"][0]
    negative["timeSpentSeconds"] = -5 * HOUR
    absurd = issues["CLIMATE-381"]["fields"]["worklog"]["worklogs"][0]
    absurd["timeSpentSeconds"] = 10**12
    issues["CLIMATE-264"]["fields"].update(duedate="0001-01-01", created="9999-12-31T23:00:00.000-0500",
                                           timespent=-HOUR)
    del issues["CLIMATE-53"]["fields"]["worklog"]["worklogs"][0]["id"]  # the parser cannot read it
    real_parse = jira_parse.parse_issue

    def mapping_bug(issue, *args, **kwargs):
        if issue["key"] == "CLIMATE-6":
            raise ValueError("no mapping for this issue type")
        return real_parse(issue, *args, **kwargs)

    monkeypatch.setattr(jira_parse, "parse_issue", mapping_bug)
    config = _config(tmp_path, fake_jira.url, PROJECTS)
    code, out, err = _run(config)
    assert code == 0, out + err
    assert "apache: 4 record(s) quarantined; `lodestar quarantine list`" in out
    assert "apache: 4 value(s) out of bounds nulled or repaired; `lodestar quarantine list`" in out
    assert "non_negative_hours" not in out and "Traceback" not in err

    settings = load_settings(config)
    tasks = _issues(settings)
    assert set(tasks) == expected - {"CLIMATE-53", "CLIMATE-6"}, "only the unreadable records are left out"
    assert tasks["CLIMATE-3"][0] == "Crash on \ufffd input"
    assert tasks["CLIMATE-264"][1:] == (None, None, None)
    hours = _worklogs(settings)
    assert f"apache:{negative['id']}" not in hours and f"apache:{absurd['id']}" not in hours
    assert hours and all(0 <= h <= 168 for h in hours.values())
    with open_reader(settings) as con:
        stored = con.execute("SELECT payload FROM raw_payloads WHERE item_key = 'CLIMATE-3'").fetchall()[0][0]
    assert json.loads(zlib.decompress(stored))["fields"]["summary"] == "Crash on \ud800 input", \
        "the raw store keeps the payload as Jira sent it"

    listed = {(e["item_key"], e["kind"], e["field"], e["row_id"]): e for e in _quarantine_list(config, capsys)}
    assert set(listed) == {
        ("CLIMATE-263", "record", "worklogs.hours", f"apache:{negative['id']}"),
        ("CLIMATE-381", "record", "worklogs.hours", f"apache:{absurd['id']}"),
        ("CLIMATE-53", "record", "", ""),
        ("CLIMATE-6", "record", "", ""),
        ("CLIMATE-3", "field", "tasks.title", "apache:CLIMATE-3"),
        ("CLIMATE-264", "field", "tasks.due_date", "apache:CLIMATE-264"),
        ("CLIMATE-264", "field", "tasks.created_at", "apache:CLIMATE-264"),
        ("CLIMATE-264", "field", "tasks.spent_hours", "apache:CLIMATE-264"),
    }
    assert listed[("CLIMATE-263", "record", "worklogs.hours", f"apache:{negative['id']}")]["reason"] == \
        "row rejected: -5 h is below 0"
    assert "over the bound of 168 h" in listed[("CLIMATE-381", "record", "worklogs.hours",
                                                f"apache:{absurd['id']}")]["reason"]
    assert listed[("CLIMATE-53", "record", "", "")]["reason"] == "KeyError: 'id'"
    assert listed[("CLIMATE-6", "record", "", "")]["stage"] == "parse"
    assert "0001-01-01 is before 1900-01-01" in listed[("CLIMATE-264", "field", "tasks.due_date",
                                                        "apache:CLIMATE-264")]["reason"]
    assert all(e["item_kind"] == "jira_issue" and e["first_seen_at"] == e["last_seen_at"] for e in listed.values())
    assert len(_quarantine_list(config, capsys, "--source", "apache")) == len(listed)
    capsys.readouterr()
    assert cli.main(["quarantine", "list", "--config", str(config), "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("source,kind,stage,item_kind,item_key,field,row_id")
    assert cli.main(["quarantine", "list", "--config", str(config)]) == 0
    table = capsys.readouterr()
    assert table.out.split()[:8] == ["source", "kind", "stage", "item", "field", "row", "since", "reason"]
    assert any(line.split()[:5] == ["apache", "record", "parse", "jira_issue", "CLIMATE-263"]
               and line.endswith("row rejected: -5 h is below 0") for line in table.out.splitlines())
    assert "4 record(s) quarantined, 4 value(s) nulled or repaired" in table.err

    # The mapping is fixed, and Jira fixes the unreadable worklog: the next sync, which fetches
    # nothing else, loads both; the worklog rejections stay until Jira changes them.
    monkeypatch.setattr(jira_parse, "parse_issue", real_parse)
    issues["CLIMATE-53"]["fields"]["worklog"]["worklogs"][0]["id"] = "99053"
    _bump(issues["CLIMATE-53"])
    code, out, err = _run(config)
    assert code == 0, out + err
    assert "apache: 2 record(s) quarantined" in out
    assert {"CLIMATE-6", "CLIMATE-53"} <= set(_issues(settings))
    after = _quarantine_list(config, capsys)
    assert {e["item_key"] for e in after if e["kind"] == "record"} == {"CLIMATE-263", "CLIMATE-381"}
    assert all(e["first_seen_at"] < e["last_seen_at"] for e in after if e["item_key"] == "CLIMATE-263"), \
        "a record tried again keeps when it was first quarantined"

    code, out, err = _run(config, rebuild=True)
    assert code == 0, out + err
    assert {(e["item_key"], e["field"]) for e in _quarantine_list(config, capsys)} == {
        (e["item_key"], e["field"]) for e in after}
    assert set(_issues(settings)) == expected


def test_a_worklog_deleted_in_jira_is_deleted_by_the_next_full_sync(fake_jira, tmp_path):
    config = _config(tmp_path, fake_jira.url, PROJECTS)
    _sync(config)
    settings = load_settings(config)
    before = _worklogs(settings)
    logged = fake_jira.issues["CLIMATE-263"]["fields"]["worklog"]
    gone = logged["worklogs"].pop(0)
    logged["total"] -= 1
    assert f"apache:{gone['id']}" in before

    _sync(config)
    assert _worklogs(settings) == before, "an incremental sync does not see an unchanged issue"
    output = _sync(config, full=True)
    after = _worklogs(settings)
    assert set(before) - set(after) == {f"apache:{gone['id']}"}
    assert {k: before[k] for k in after} == after
    deleted = next(line for line in output.splitlines() if line.startswith("apache")).split()[4]
    assert deleted == "1"


def test_an_unreachable_source_fails_at_once_in_one_line_and_the_others_publish(fake_jira, tmp_path):
    (tmp_path / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text())
    config = tmp_path / "lodestar.toml"
    sources = {"apache": (fake_jira.url, "CLIMATE"), "mirror": (fake_jira.url, "TWILL")}

    def write(mirror_url: str) -> None:
        sources["mirror"] = (mirror_url, "TWILL")
        config.write_text('[warehouse]\npath = "w/warehouse.duckdb"\n' + "".join(
            f'\n[[sources]]\nkind = "jira"\nname = "{name}"\nurl = "{url}"\nprojects = ["{project}"]\n'
            for name, (url, project) in sources.items()))

    write(fake_jira.url)
    _sync(config)
    settings = load_settings(config)
    twill = _issues(settings, "SELECT source_key, title FROM tasks WHERE source = 'mirror'")
    assert len(twill) == 8

    down = f"http://127.0.0.1:{_closed_port()}"
    write(down)
    fake_jira.issues["CLIMATE-3"]["fields"]["summary"] = "Renamed while the mirror is down"
    _bump(fake_jira.issues["CLIMATE-3"])
    env = dict(os.environ, DAGSTER_HOME=str(tmp_path), PYTHONPATH=str(REPO_ROOT))
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pipelines.cli", "sync", "--config", str(config)],
                            capture_output=True, text=True, env=env, cwd=tmp_path)
    seconds = time.perf_counter() - started
    assert result.returncode == 1
    said = [line for line in (result.stdout + result.stderr).splitlines() if down in line or "failed" in line]
    assert said == [line for line in result.stderr.splitlines() if line.startswith("mirror: fetch failed")], \
        "said once, on stderr: " + result.stdout + result.stderr
    assert said[0].startswith(f"mirror: fetch failed: cannot connect to {down}: connection refused; "
                              "kept its rows of the last good sync ("), said
    assert said[0].endswith("; the other sources were published")
    mirror_row = next(line for line in result.stdout.splitlines() if line.startswith("mirror "))
    assert mirror_row.split()[1] == "-"
    assert "Traceback" not in result.stdout + result.stderr
    assert seconds < 60, f"the whole sync, failing source included, took {seconds:.0f} s"

    assert _issues(settings, "SELECT source_key, title FROM tasks WHERE source = 'mirror'") == twill
    assert _issues(settings, "SELECT source_key, title FROM tasks WHERE source_key = 'CLIMATE-3'") == {
        "CLIMATE-3": ("Renamed while the mirror is down",)}, "the reachable source was published"
    with open_reader(settings) as con:
        error, failing_since, attempt = con.execute(
            "SELECT last_error, failing_since, last_attempt_at FROM sync_state "
            "WHERE source = 'mirror' AND scope = 'fetch'").fetchall()[0]
    assert error == f"cannot connect to {down}: connection refused" and failing_since == attempt
