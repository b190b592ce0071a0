"""The GitHub connector (PyGithub) against a loopback GitHub serving real recorded payloads.

The payloads are GitHub's own, recorded by PyGithub (its 2.10.0 sdist's
`tests/ReplayData`) and by @octokit/fixtures 23.1.2; see tests/fakes/github_server.py.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import os
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from pipelines.github import parse as github_parse
from pipelines.github.resources import GitHubClient
from tests.fakes.github_server import FakeGitHub, RecordedRepo, octokit_recorded_links, recorded_repos
from tests.registry_data import npm_package, pypi_sdist

PYGITHUB = "PyGithub/PyGithub"
OME = "openmicroscopy/ome-documentation"
OCTOKIT = "octokit-fixture-org/paginate-issues"
REPOS = [PYGITHUB, OME, OCTOKIT]
ENDPOINTS = ("issues", "pulls", "commits", "milestones")


def utc(text: str | None) -> datetime | None:
    """An API timestamp as naive UTC, computed here independently of the parsers."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc).replace(tzinfo=None)


def is_pull(issue: dict) -> bool:
    return any((issue.get("pull_request") or {}).values())


@pytest.fixture(scope="module")
def octokit() -> Path:
    return npm_package("@octokit/fixtures", "23.1.2")


@pytest.fixture(scope="module")
def recorded(octokit) -> dict[str, RecordedRepo]:
    return recorded_repos(pypi_sdist("pygithub", "2.10.0"), octokit)


@pytest.fixture
def fake(recorded):
    with FakeGitHub(copy.deepcopy(recorded)) as server:
        yield server


def client(url: str, **overrides) -> GitHubClient:
    settings = {"base_url": url, "repos": REPOS, "page_size": 5, "backoff_seconds": 0.05, "timeout_seconds": 1}
    settings.update(overrides)
    return GitHubClient(**settings)


def by_key(items) -> dict[tuple[str, str], object]:
    return {(item.kind, item.item_key): item for item in items}


def list_requests(paths: list[str]) -> list[tuple[str, str, dict]]:
    """(repo, endpoint, query) of each list request."""
    found = []
    for path in paths:
        target = urlsplit(path)
        match = re.match(r"^(?:/api/v3)?/repos/([^/]+/[^/]+)/(issues|pulls|commits|milestones)$", target.path)
        if match:
            found.append((match[1], match[2], {k: v[-1] for k, v in parse_qs(target.query).items()}))
    return found


# --------------------------------------------------------------------------- the fake itself


def test_fake_pages_like_the_recorded_github(octokit, recorded):
    """With octokit's recorded request (per_page=3), the fake sends the Link relations GitHub sent."""
    def relations(header: str) -> dict[str, str]:
        return {rel: parse_qs(urlsplit(url).query)["page"][0]
                for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', header)}

    fake = FakeGitHub({OCTOKIT: recorded[OCTOKIT]})
    recorded_links = octokit_recorded_links(octokit)
    issues = fake._issues(fake.repos[OCTOKIT.lower()], {"per_page": "3"})
    for number, expected in enumerate(recorded_links, start=1):
        chunk, link = fake.page(issues, {"per_page": "3", "page": str(number)}, "127.0.0.1:1", "/x")
        assert len(chunk) == (3 if number < 5 else 1)
        assert relations(link or "") == relations(expected)
        assert all(url.startswith("http://127.0.0.1:1/x?") for url, _ in re.findall(r'<([^>]+)>; rel="(\w+)"', link))
    assert len(recorded_links) == 5


# --------------------------------------------------------------------------- fetch


def test_full_fetch_returns_every_item_exactly_as_recorded(fake, recorded):
    result = client(fake.url).fetch(None)
    items = by_key(result.items)

    expected = {}
    for repo in recorded.values():
        for issue in repo.issues:
            if not is_pull(issue):
                expected[("github_issue", f"{repo.full_name}#{issue['number']}")] = issue
        for pull in repo.pulls:
            expected[("github_pull", f"{repo.full_name}#{pull['number']}")] = pull
        for commit in repo.commits:
            expected[("github_commit", f"{repo.full_name}@{commit['sha']}")] = commit
    assert set(items) == set(expected)
    for key, body in expected.items():
        assert items[key].body == body, key  # the detail with stats for commits, untouched
    # Issues from 2012 carry a `pull_request` object with null URLs; they are issues.
    assert ("github_issue", f"{PYGITHUB}#2") in items
    assert sum(1 for i in recorded[PYGITHUB].issues if "pull_request" in i and not is_pull(i)) >= 20
    assert not any(is_pull(i.body) for i in result.items if i.kind == "github_issue")
    assert len(result.items) == len(expected) and len(result.items) > 100

    assert result.complete and result.scope == "repos"
    newest = max(i.updated_at for i in result.items)
    assert result.cursor == newest.isoformat()
    assert items[("github_commit", f"{PYGITHUB}@8a4f306d4b223682dd19410d4a9150636ebe4206")].updated_at == datetime(2012, 5, 27, 9, 7, 47)
    # Every page and commit detail, counted by the client as by the server; no object "completed" itself.
    assert result.requests == fake.request_count
    lists = list_requests(fake.paths())
    assert {(repo, endpoint) for repo, endpoint, _ in lists} == {(r, e) for r in REPOS for e in ENDPOINTS[:3]}
    assert sum(1 for _, endpoint, q in lists if endpoint == "issues" and q.get("page")) >= 14  # 5 a page
    assert fake.request_count == len(lists) + sum(len(r.commits) for r in recorded.values())
    assert all(q["state"] == "all" and "since" not in q for _, e, q in lists if e in ("issues", "pulls"))


def test_incremental_fetch_asks_only_for_what_changed_since_the_cursor(fake, recorded):
    full = client(fake.url).fetch(None)
    fake.reset_log()
    since = datetime.fromisoformat(full.cursor) - timedelta(minutes=10)
    result = client(fake.url).fetch(since)

    assert not result.complete
    in_window = [c for r in recorded.values() for c in r.commits if utc(c["commit"]["committer"]["date"]) >= since]
    assert len(in_window) == 1  # the newest commit is the cursor: the overlap window holds it
    lists = list_requests(fake.paths())
    assert sorted((repo, endpoint) for repo, endpoint, _ in lists) == sorted((r, e) for r in REPOS for e in ENDPOINTS)
    assert fake.request_count == len(REPOS) * len(ENDPOINTS) + len(in_window) == result.requests
    stamp = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert all(q["since"] == stamp for _, e, q in lists if e in ("issues", "commits"))
    assert {i.kind for i in result.items} == {"github_commit"}
    assert result.cursor == full.cursor


def test_a_moved_milestone_brings_its_issues_with_the_new_due_date(fake, recorded):
    full = client(fake.url).fetch(None)
    since = datetime.fromisoformat(full.cursor) - timedelta(minutes=10)
    moved_at = (since + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fake.move_milestone(PYGITHUB, 3, due_on="2012-04-02T07:00:00Z", updated_at=moved_at)
    fake.reset_log()

    result = client(fake.url).fetch(since)
    refetched = {i.item_key: i.body for i in result.items if i.kind == "github_issue"}
    expected = {f"{PYGITHUB}#{i['number']}" for i in recorded[PYGITHUB].issues
                if (i.get("milestone") or {}).get("number") == 3 and not is_pull(i)}
    assert set(refetched) == expected and len(expected) == 3
    for body in refetched.values():
        (task,) = github_parse.parse_issue(body, "gh")["tasks"]
        assert task["due_date"] == date(2012, 4, 2)
    assert any(q.get("milestone") == "3" for _, e, q in list_requests(fake.paths()) if e == "issues")


def test_a_commit_dated_in_the_future_does_not_move_the_cursor(recorded):
    """Commit dates come from the committer's clock; the cursor must not run ahead of the server."""
    repo = copy.deepcopy(recorded[PYGITHUB])
    ahead = (datetime.now(timezone.utc) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    repo.commits[0]["commit"]["committer"]["date"] = ahead
    with FakeGitHub({PYGITHUB: repo}) as server:
        result = client(server.url, repos=[PYGITHUB]).fetch(None)
    assert len([i for i in result.items if i.kind == "github_commit"]) == len(repo.commits)
    assert result.cursor == max(i.updated_at for i in result.items if utc(ahead) != i.updated_at).isoformat()


def test_github_enterprise_base_url(fake):
    result = client(fake.url + "/api/v3", repos=[OCTOKIT]).fetch(None)
    assert len(result.items) == 13
    assert all(p.startswith("/api/v3/repos/") for p in fake.paths())


def test_empty_repository_has_no_commits(recorded):
    empty = RecordedRepo(full_name="octokit-fixture-org/empty", issues=[], empty_git=True)
    with FakeGitHub({empty.full_name: empty}) as server:
        result = client(server.url, repos=[empty.full_name]).fetch(None)
    assert result.items == [] and result.cursor is None


# --------------------------------------------------------------------------- failures


def test_retry_after_is_honoured(fake):
    fake.inject(f"/repos/{OCTOKIT}/issues", "429")
    result = client(fake.url, repos=[OCTOKIT]).fetch(None)
    assert len(result.items) == 13
    limited, retried = fake.served[0], fake.served[1]
    assert limited.outcome == "429" and retried.outcome == "200" and retried.path == limited.path
    waited = retried.at - limited.at
    assert 0.95 <= waited < 2.5, waited  # Retry-After: 1
    assert result.requests == fake.request_count == 1 + 3 + 1 + 1  # the 429, 3 issue pages, pulls, commits


@pytest.mark.slow
def test_timeouts_server_errors_and_broken_bodies_are_retried(recorded):
    with FakeGitHub(copy.deepcopy(recorded)) as clean_server:
        clean = client(clean_server.url).fetch(None)
        clean_count = clean_server.request_count
    with FakeGitHub(copy.deepcopy(recorded), stall_seconds=1.6) as server:
        server.inject(f"/repos/{PYGITHUB}/issues", "truncated", skip=3)  # page 4 arrives cut in half
        server.inject(f"/repos/{OME}/pulls", "500", "502", skip=1)
        server.inject("/commits/e359b83a", "timeout")  # answers after the 1 s client timeout
        server.inject("/commits/0791cc7b", "reset")  # connection reset half-way through the body
        server.inject(f"/repos/{OCTOKIT}/issues", "403-secondary")
        result = client(server.url).fetch(None)
        assert server.pending_faults() == 0
        assert sorted(f.outcome for f in server.faults_served()) == sorted(
            ["truncated", "500", "502", "timeout", "reset", "403-secondary"])
        # Each fault costs exactly one more request: a broken page is fetched again, not the whole list.
        assert server.request_count == clean_count + 6 == result.requests
    assert {k: i.body for k, i in by_key(result.items).items()} == {k: i.body for k, i in by_key(clean.items).items()}
    assert result.cursor == clean.cursor


def test_token_is_sent_and_never_stored_or_logged(recorded, caplog, monkeypatch):
    import dagster as dg

    secret = "ghp_" + "S3cr3t" * 6
    monkeypatch.setenv("LODESTAR_TEST_GITHUB_TOKEN", secret)
    with FakeGitHub({OCTOKIT: copy.deepcopy(recorded[OCTOKIT])}, token=secret) as server:
        # The token as pipelines/sources.py hands it over: a reference to the environment.
        resource = client(server.url, repos=[OCTOKIT], token=dg.EnvVar("LODESTAR_TEST_GITHUB_TOKEN"))
        with caplog.at_level(logging.DEBUG), dg.build_resources({"github": resource}) as resources:
            result = resources.github.fetch(None)
        assert len(result.items) == 13
        assert server.authorizations == {"token": server.request_count}
        assert secret not in caplog.text
        assert not any(secret in json.dumps(item.body) for item in result.items)
        assert secret not in repr(result.items) + str(result.cursor)

        from github import GithubException

        with pytest.raises(GithubException) as refused:
            client(server.url, repos=[OCTOKIT]).fetch(None)
        assert refused.value.status == 401


def test_commit_repository_comes_from_the_api_url_when_html_url_is_missing(recorded):
    """GitHub's 2012 commit payloads had no `html_url`; the API `url` names the repository."""
    (old,) = [c for c in recorded[PYGITHUB].commits if "html_url" not in c]
    (row,) = github_parse.parse_commit(old, "gh")["commits"]
    assert row["repo"] == PYGITHUB
    assert row["authored_at"] == datetime(2012, 5, 27, 9, 7, 47)  # 02:07:47-07:00
    assert (row["additions"], row["deletions"]) == (old["stats"]["additions"], old["stats"]["deletions"])


# --------------------------------------------------------------------------- the whole pipeline

CANONICAL_TABLES = [
    "projects", "tasks", "task_links", "status_changes", "comments", "worklogs", "commits", "pull_requests",
    "sprints", "identities", "people", "mart_project_kpis", "mart_project_daily",
]


def _snapshot(settings) -> dict[str, list[dict]]:
    """Every canonical table, plus what of raw_payloads and sync_state does not depend on the clock."""
    from warehouse.db import open_reader

    queries = {t: f"SELECT * FROM {t} ORDER BY ALL" for t in CANONICAL_TABLES}
    queries["raw_payloads"] = "SELECT source, kind, item_key, content_sha256 FROM raw_payloads ORDER BY ALL"
    queries["sync_state"] = "SELECT source, scope, cursor FROM sync_state WHERE scope = 'fetch' ORDER BY ALL"
    tables = {}
    with open_reader(settings) as con:
        for table, sql in queries.items():
            result = con.execute(sql)
            columns = [d[0] for d in result.description]
            tables[table] = [dict(zip(columns, row)) for row in result.fetchall()]
    return tables


def _sync(home: Path, url: str) -> tuple[object, str]:
    from pipelines.cli import run_sync
    from warehouse.settings import load_settings

    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text((Path(__file__).resolve().parents[1] / "dagster.yaml").read_text())
    config = home / "lodestar.toml"
    config.write_text(
        '[warehouse]\npath = "w/warehouse.duckdb"\n\n'
        f'[[sources]]\nkind = "github"\nname = "gh"\nurl = "{url}"\nrepos = {json.dumps(REPOS)}\n'
    )
    settings = load_settings(config)
    out = io.StringIO()
    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        assert run_sync(settings, None, full=False, out=out) == 0, out.getvalue()
    finally:
        if previous is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous
    return settings, out.getvalue()


@pytest.fixture(scope="module")
def synced(recorded, tmp_path_factory):
    """A clean full sync and a second sync against one server; a full sync with faults against another."""
    repos = recorded
    home = tmp_path_factory.mktemp("github-clean")
    with FakeGitHub(copy.deepcopy(repos), max_per_page=20) as server:
        settings, first_out = _sync(home, server.url)
        first, first_requests = _snapshot(settings), server.request_count
        server.reset_log()
        _, second_out = _sync(home, server.url)
        second, second_paths = _snapshot(settings), server.paths()

    with FakeGitHub(copy.deepcopy(repos), max_per_page=20) as server:
        server.inject(f"/repos/{PYGITHUB}/issues", "429")
        server.inject(f"/repos/{PYGITHUB}/issues", "truncated", skip=2)
        server.inject(f"/repos/{OME}/pulls", "500", skip=1)
        server.inject(f"/repos/{OME}/pulls", "403-secondary", skip=1)
        server.inject(f"/repos/{PYGITHUB}/commits/", "reset", skip=2)
        faulted_settings, _ = _sync(tmp_path_factory.mktemp("github-faults"), server.url)
        faulted = _snapshot(faulted_settings)
        faults = [f.outcome for f in server.faults_served()]
        pending = server.pending_faults()
    return {"repos": repos, "first": first, "second": second, "first_requests": first_requests,
            "second_paths": second_paths, "second_out": second_out, "first_out": first_out,
            "faulted": faulted, "faults": faults, "pending": pending}


@pytest.mark.slow
def test_sync_lands_the_recorded_values(synced):
    repos = synced["repos"]
    tasks = {t["task_id"]: t for t in synced["first"]["tasks"]}
    issues = [(r.full_name, i) for r in repos.values() for i in r.issues if not is_pull(i)]
    assert len(tasks) == len(issues)
    for repo, issue in issues:
        task = tasks[f"gh:{repo}#{issue['number']}"]
        assert task["created_at"] == utc(issue["created_at"])
        assert task["updated_at"] == utc(issue["updated_at"])
        assert task["resolved_at"] == utc(issue["closed_at"])
        assert task["status_category"] == ("done" if issue["state"] == "closed" else "todo")
        assert task["labels"] == [label["name"] for label in issue["labels"]]
        due = (issue.get("milestone") or {}).get("due_on")
        assert task["due_date"] == (utc(due).date() if due else None)
        assert task["project_key"] == repo and task["title"] == issue["title"]
    assert tasks[f"gh:{PYGITHUB}#28"]["due_date"] == date(2012, 8, 5)
    assert tasks[f"gh:{PYGITHUB}#28"]["resolved_at"] == datetime(2012, 5, 26, 14, 59, 33)
    assert tasks[f"gh:{PYGITHUB}#28"]["labels"] == ["bug", "question"]

    pulls = {(p["repo"], p["number"]): p for p in synced["first"]["pull_requests"]}
    recorded_pulls = [(r.full_name, p) for r in repos.values() for p in r.pulls]
    assert len(pulls) == len(recorded_pulls) == 33
    for repo, pull in recorded_pulls:
        row = pulls[(repo, pull["number"])]
        assert row["merged_at"] == utc(pull["merged_at"])
        assert row["closed_at"] == utc(pull["closed_at"])
        assert row["created_at"] == utc(pull["created_at"])
        assert row["state"] == ("merged" if pull["merged_at"] else pull["state"])
        assert row["source_branch"] == pull["head"]["ref"]
    assert sum(1 for p in pulls.values() if p["merged_at"] is None and p["state"] == "closed") >= 1

    commits = {c["sha"]: c for c in synced["first"]["commits"]}
    assert set(commits) == {c["sha"] for c in repos[PYGITHUB].commits}
    for commit in repos[PYGITHUB].commits:
        row = commits[commit["sha"]]
        assert row["authored_at"] == utc(commit["commit"]["author"]["date"])
        assert (row["additions"], row["deletions"]) == (commit["stats"]["additions"], commit["stats"]["deletions"])
        assert row["repo"] == PYGITHUB and row["message"] == commit["commit"]["message"]
    # "Use default type if known type is not supported (#3365)\n\nFixes #3364."
    assert sorted(commits["f5f9756a1dd52a53820cc54927abb34725377987"]["task_ids"]) == [
        f"gh:{PYGITHUB}#3364", f"gh:{PYGITHUB}#3365"]
    assert f"gh:{PYGITHUB}#3364" in tasks


@pytest.mark.slow
def test_second_sync_changes_nothing_and_asks_only_from_the_cursor(synced):
    assert synced["second"] == synced["first"]
    line = next(line for line in synced["second_out"].splitlines() if line.startswith("gh"))
    _, _fetched, inserted, updated, deleted, _seconds = line.split()
    assert (inserted, updated, deleted) == ("0", "0", "0"), synced["second_out"]
    lists = list_requests(synced["second_paths"])
    ((cursor),) = [row["cursor"] for row in synced["first"]["sync_state"]]
    window_start = datetime.fromisoformat(cursor) - timedelta(minutes=10)
    # One list request per endpoint and repository, plus the detail of commits inside the
    # overlap window (the list endpoint has no stats); nothing else.
    in_window = [c for r in synced["repos"].values() for c in r.commits
                 if utc(c["commit"]["committer"]["date"]) >= window_start]
    assert sorted((r, e) for r, e, _ in lists) == sorted((r, e) for r in REPOS for e in ENDPOINTS)
    assert len(synced["second_paths"]) == len(REPOS) * len(ENDPOINTS) + len(in_window)
    assert len(in_window) <= 1
    pages = lambda count: max(1, -(-count // 20))  # noqa: E731 - the server's page cap in `synced`
    first = sum(pages(len(r.issues)) + pages(len(r.pulls)) + pages(len(r.commits)) + len(r.commits)
                for r in synced["repos"].values())
    assert synced["first_requests"] == first
    since = window_start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert all(q["since"] == since for _, e, q in lists if e in ("issues", "commits"))


@pytest.mark.slow
def test_faults_leave_the_same_warehouse_as_a_clean_run(synced):
    assert synced["pending"] == 0
    assert sorted(synced["faults"]) == sorted(["429", "truncated", "500", "403-secondary", "reset"])
    for table, rows in synced["first"].items():
        assert synced["faulted"][table] == rows, table
