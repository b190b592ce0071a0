"""The Jira connector against a loopback Jira serving 501 real Apache issues, through the real `jira` library."""

from __future__ import annotations

import io
import json
import math
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pipelines.cli import run_sync
from pipelines.jira.resources import JiraClient, jql_for
from tests.conftest import REPO_ROOT, SHARED_DATA
from tests.fakes.jira_server import FakeJira
from tests.registry_data import pypi_sdist
from warehouse.db import open_reader
from warehouse.settings import load_settings

APACHE = SHARED_DATA / "jira-apache-2015"
CANONICAL = ["tasks", "task_links", "status_changes", "comments", "worklogs", "sprints", "projects", "people",
             "identities"]
pytestmark = pytest.mark.skipif(not APACHE.is_dir(), reason=f"shared data not found at {APACHE}")


@pytest.fixture(scope="module")
def jira_fields() -> list[dict]:
    """The field list of a real Jira, recorded in Perceval's test suite."""
    perceval = pypi_sdist("perceval", "1.6.1")
    return json.loads((perceval / "tests" / "data" / "jira" / "jira_fields.json").read_text())


@pytest.fixture
def fake_jira(jira_fields):
    fake = FakeJira(APACHE, jira_fields)
    url = fake.start()
    fake.url = url
    yield fake
    fake.stop()


def _config(directory: Path, url: str, projects: list[str]) -> Path:
    (directory / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text())
    config = directory / "lodestar.toml"
    quoted = ", ".join(f'"{p}"' for p in projects)
    config.write_text(
        f'[warehouse]\npath = "w/warehouse.duckdb"\n\n[[sources]]\nkind = "jira"\nname = "apache"\n'
        f'url = "{url}"\nprojects = [{quoted}]\n'
    )
    return config


def _run(config: Path, *, full: bool = False, rebuild: bool = False) -> tuple[int, str, str]:
    """`lodestar sync` (or `rebuild`) of `config`: exit code, report, error lines."""
    out, err = io.StringIO(), io.StringIO()
    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(config.parent)
    try:
        code = run_sync(load_settings(config), None, full=full, out=out, err=err, rebuild=rebuild)
    finally:
        if previous is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous
    return code, out.getvalue(), err.getvalue()


def _sync(config: Path, *, full: bool = False) -> str:
    code, out, err = _run(config, full=full)
    assert code == 0, out + err
    return out


def _snapshot(config: Path) -> dict[str, list[tuple]]:
    with open_reader(load_settings(config)) as con:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in CANONICAL}


def _utc(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value).astimezone(timezone.utc).replace(tzinfo=None)


def _projects(fake: FakeJira) -> list[str]:
    return sorted({i["fields"]["project"]["key"] for i in fake.issues.values()})


def test_jql_is_bounded_and_stably_ordered():
    jql = jql_for(["DRILL", "TEZ"], datetime(2015, 3, 1, 18, 5))
    assert jql == 'project in ("DRILL", "TEZ") AND updated >= "2015/03/01 18:05" ORDER BY created ASC, key ASC'


def test_full_fetch_costs_one_request_per_page_plus_a_constant(fake_jira):
    projects = _projects(fake_jira)
    client = JiraClient(url=fake_jira.url, projects=projects, timeout_seconds=5)
    result = client.fetch(None)
    issues = [i for i in result.items if i.kind == "jira_issue"]
    assert len(issues) == len(fake_jira.issues) == 501
    pages = math.ceil(501 / fake_jira.page_cap)
    assert fake_jira.by_endpoint["search"] == pages
    assert fake_jira.by_endpoint["comment"] == fake_jira.by_endpoint["issue"] == 0
    per_project = fake_jira.by_endpoint["project"] + fake_jira.by_endpoint["board"]
    assert per_project == 2 * len(projects)
    assert fake_jira.by_endpoint["serverInfo"] == fake_jira.by_endpoint["field"] == 1
    assert result.requests == len(fake_jira.requests) == pages + 2 + per_project


def test_truncated_changelogs_and_comments_are_completed_per_issue(jira_fields):
    fake = FakeJira(APACHE, jira_fields, truncate_embedded=True)
    url = fake.start()
    try:
        result = JiraClient(url=url, projects=_projects(fake), timeout_seconds=5).fetch(None)
    finally:
        fake.stop()
    by_key = {i.item_key: i.body for i in result.items if i.kind == "jira_issue"}
    long_changelogs = [k for k, i in fake.issues.items() if len(i["changelog"]["histories"]) > 2]
    assert fake.by_endpoint["issue"] == len(long_changelogs) > 0
    for key in long_changelogs:
        assert by_key[key]["changelog"]["histories"] == fake.issues[key]["changelog"]["histories"]
    long_comments = [k for k, i in fake.issues.items() if len((i["fields"].get("comment") or {}).get("comments", [])) > 1]
    assert fake.by_endpoint["comment"] == len(long_comments) > 0
    for key in long_comments:
        assert len(by_key[key]["fields"]["comment"]["comments"]) == len(fake.comments[key]["comments"])


@pytest.mark.slow
def test_sync_loads_all_issues_then_a_second_sync_only_asks_for_changes(fake_jira, tmp_path):
    config = _config(tmp_path, fake_jira.url, _projects(fake_jira))
    _sync(config)
    settings = load_settings(config)
    with open_reader(settings) as con:
        rows = {r[0]: r[1:] for r in con.execute(
            "SELECT source_key, created_at, resolved_at, due_date, status_category FROM tasks").fetchall()}
        transitions = con.execute("SELECT count(*) FROM status_changes").fetchall()[0][0]
        links = set(con.execute("SELECT from_task_id, to_task_id, link_type FROM task_links WHERE link_type <> 'parent'").fetchall())
        cursor = con.execute("SELECT cursor FROM sync_state WHERE source = 'apache' AND scope = 'fetch'").fetchall()[0][0]
    assert len(rows) == 501
    expected_transitions = 0
    for key, issue in fake_jira.issues.items():
        fields = issue["fields"]
        created, resolved, due, category = rows[key]
        assert created == _utc(fields["created"])
        assert resolved == _utc(fields.get("resolutiondate"))
        assert (due.isoformat() if due else None) == fields.get("duedate")
        assert category == {"new": "todo", "indeterminate": "in_progress", "done": "done"}[
            fields["status"]["statusCategory"]["key"]]
        expected_transitions += sum(
            1 for h in issue["changelog"]["histories"] for item in h["items"] if item["field"] == "status")
        for link in fields.get("issuelinks", []):
            if link["type"]["name"] == "Blocker" and "outwardIssue" in link:
                assert (f"apache:{key}", f"apache:{link['outwardIssue']['key']}", "blocks") in links
    assert transitions == expected_transitions > 0
    newest = max(_utc(i["fields"]["updated"]) for i in fake_jira.issues.values())
    assert datetime.fromisoformat(cursor) == newest

    before = _snapshot(config)
    fake_jira.reset_counts()
    output = _sync(config)
    assert _snapshot(config) == before
    assert "apache" in output and output.split("apache")[1].split()[1:4] == ["0", "0", "0"]
    assert dict(fake_jira.by_endpoint) == {"serverInfo": 1, "search": 1}
    assert fake_jira.by_endpoint["search"] == 1


@pytest.mark.slow
def test_faults_injected_end_identical_to_the_clean_run(fake_jira, tmp_path, jira_fields):
    projects = _projects(fake_jira)
    (tmp_path / "clean").mkdir()
    clean = _config(tmp_path / "clean", fake_jira.url, projects)
    _sync(clean)

    faulty = FakeJira(APACHE, jira_fields)
    url = faulty.start()
    try:
        faulty.inject("search", "429", "500", "truncated", "reset", "ratelimit", "timeout")
        faulty.inject("field", "500")
        (tmp_path / "faulty").mkdir()
        config = _config(tmp_path / "faulty", url, projects)
        text = config.read_text().replace('projects = [', 'timeout_seconds = 2\nprojects = [')
        config.write_text(text)
        _sync(config)
    finally:
        faulty.stop()
    assert {fault for _, fault in faulty.fault_log} == {"429", "500", "truncated", "reset", "ratelimit", "timeout"}
    assert _snapshot(config) == _snapshot(clean)


def test_cloud_pages_with_next_page_token_and_sends_credentials_without_keeping_them(jira_fields):
    fake = FakeJira(APACHE, jira_fields, cloud=True)
    url = fake.start()
    try:
        client = JiraClient(url=url, projects=["CB"], user="bot@acme.cn", token="s3cret-token", timeout_seconds=5)
        result = client.fetch(None)
    finally:
        fake.stop()
    cb = [k for k, i in fake.issues.items() if i["fields"]["project"]["key"] == "CB"]
    assert sorted(i.item_key for i in result.items if i.kind == "jira_issue") == sorted(cb)
    searches = [r for r in fake.requests if r.startswith("/rest/api/2/search/jql")]
    assert len(searches) == math.ceil(len(cb) / fake.page_cap) and "nextPageToken=50" in searches[1]
    assert all(a and a.startswith("Basic ") for a in fake.authorizations)
    assert "s3cret-token" not in json.dumps([i.body for i in result.items], default=str)
