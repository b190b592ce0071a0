"""The GitLab connector against a loopback GitLab serving perceval's recorded payloads.

python-gitlab talks real HTTP to tests/fakes/gitlab_server.py; the full-sync tests run
the whole pipeline (`run_sync`) into a temporary warehouse and compare the canonical
rows with the recorded JSON, read here independently of the parsers.
"""

from __future__ import annotations

import io
import time
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from pipelines.gitlab import parse as gitlab_parse
from pipelines.gitlab.resources import GitLabClient
from tests.fakes.gitlab_server import FakeGitLab, load_recording

PROJECT = "fdroid/fdroiddata"
TOKEN = "glpat-lodestar-test-4f9c2e"
TOKEN_ENV = "LODESTAR_TEST_GITLAB_TOKEN"
FAST = {"page_size": 2, "backoff_seconds": 0.01, "timeout_seconds": 0.5, "retry_attempts": 4}
EDITED_IID, EDIT = 2, {"updated_at": "2017-03-19T08:00:00.000Z", "labels": ["Deliverable"]}
"""The fixture's third sync sees issue 2 edited on the server like this."""
CANONICAL = ["tasks", "pull_requests", "commits", "comments", "status_changes", "task_links", "sprints",
             "identities", "people"]


@pytest.fixture(scope="module")
def recording() -> dict[str, Any]:
    return load_recording()


def _utc(text: str | None) -> datetime | None:
    """GitLab's `2017-03-18T14:44:19.566Z`, read without the parsers' helpers."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ") if text else None


def _issue_key(issue: dict) -> str:
    # The recording predates `references`; the key comes from the web URL (…/issues/639).
    return f"{PROJECT}#{issue['web_url'].rsplit('/', 1)[1]}"


def _client(server: FakeGitLab, **overrides: Any) -> GitLabClient:
    return GitLabClient(base_url=server.url, projects=[PROJECT], **{**FAST, **overrides})


# --- parsers on the recorded notes (no server) ---------------------------------------------------

def test_parse_extra_makes_comments_and_status_changes_from_recorded_notes(recording):
    notes = recording["issue_notes"][1]  # a system "moved to" note and a user comment
    rows = gitlab_parse.parse_extra(
        "gitlab_issue_notes", {"issue": f"{PROJECT}#639", "issue_updated_at": None, "notes": notes}, "gl")
    (comment,) = rows["comments"]
    user_note = next(n for n in notes if not n["system"])
    assert comment == {
        "comment_id": f"gl:{PROJECT}#639:note:{user_note['id']}", "task_id": f"gl:{PROJECT}#639",
        "author_id": f"gl:{user_note['author']['username']}", "created_at": _utc(user_note["created_at"]),
        "updated_at": _utc(user_note["updated_at"]), "body": user_note["body"], "source": "gl",
    }
    assert rows["status_changes"] == []  # "moved to …" is activity, not a state change
    closing = recording["issue_notes"][3]
    (change,) = gitlab_parse.parse_extra(
        "gitlab_issue_notes", {"issue": f"{PROJECT}#642", "notes": closing}, "gl")["status_changes"]
    assert (change["from_status"], change["to_status"], change["changed_at"]) == (
        "opened", "closed", _utc(closing[0]["created_at"]))


def test_parse_extra_links_and_unknown_kinds(recording):
    rows = gitlab_parse.parse_extra("gitlab_issue_links", {"issue": f"{PROJECT}#639", "links": recording["empty"]}, "gl")
    assert rows == {"task_links": []}
    assert gitlab_parse.parse_extra("gitlab_issue", recording["issues"][0], "gl") is None


def test_commit_repo_from_web_url_else_item_key(recording):
    commit = recording["commits"][0]  # recorded before GitLab added web_url to commits
    assert gitlab_parse.commit_repo(commit, f"{PROJECT}@{commit['id']}") == PROJECT
    with_url = dict(commit, web_url=f"https://gitlab.example.com/group/sub/app/-/commit/{commit['id']}")
    assert gitlab_parse.commit_repo(with_url, f"{PROJECT}@{commit['id']}") == "group/sub/app"
    with pytest.raises(ValueError):
        gitlab_parse.commit_repo(commit)


# --- the client against the loopback server ---------------------------------------------------------

@pytest.mark.slow
def test_full_fetch_returns_the_recorded_items_as_served(recording):
    with FakeGitLab() as server:
        result = _client(server).fetch(None)
        served = server.served
    by_kind: dict[str, dict[str, Any]] = {}
    for item in result.items:
        by_kind.setdefault(item.kind, {})[item.item_key] = item.body
    assert by_kind["gitlab_issue"] == {_issue_key(i): i for i in recording["issues"]}
    assert by_kind["gitlab_merge_request"] == {f"{PROJECT}!{m['iid']}": m for m in recording["merge_requests"]}
    assert by_kind["gitlab_commit"] == {f"{PROJECT}@{c['id']}": c for c in recording["commits"]}
    for issue in recording["issues"]:
        key = _issue_key(issue)
        notes = sorted(recording["issue_notes"][issue["iid"]], key=lambda n: n["created_at"])  # asked oldest first
        assert by_kind["gitlab_issue_notes"][key] == {"issue": key, "issue_updated_at": issue["updated_at"], "notes": notes}
        assert by_kind["gitlab_issue_links"][key]["links"] == []
    assert result.cursor == max(_utc(i["updated_at"]) for i in recording["issues"]).isoformat()
    assert result.complete is True
    # 4 issues, 3 MRs, 4 commits at 2 per page: 2 + 2 + 2 pages; notes and links: 4 + 4.
    assert result.requests == len(served) == 14
    listing = {s.path.rsplit("/", 1)[-1]: s.query for s in served if s.query.get("page") is None}
    assert listing["issues"] == {"order_by": "updated_at", "sort": "asc", "scope": "all", "per_page": "2"}
    assert listing["merge_requests"] == listing["issues"]
    assert listing["commits"] == {"with_stats": "true", "per_page": "2"}


@pytest.mark.slow
def test_incremental_fetch_asks_for_changes_since_the_cursor_only(recording):
    since = datetime(2017, 3, 18, 23, 0)
    with FakeGitLab() as server:
        result = _client(server).fetch(since)
        served = server.served
    newest = max(recording["issues"], key=lambda i: i["updated_at"])
    assert {(i.kind, i.item_key) for i in result.items} == {
        (kind, _issue_key(newest)) for kind in ("gitlab_issue", "gitlab_issue_notes", "gitlab_issue_links")}
    assert result.complete is False
    assert result.requests == len(served) == 5  # three listings + the one changed issue's notes and links
    queries = {s.path.rsplit("/", 1)[-1]: s.query for s in served}
    assert queries["issues"]["updated_after"] == queries["merge_requests"]["updated_after"] == "2017-03-18T23:00:00Z"
    assert queries["commits"]["since"] == "2017-03-11T23:00:00Z"  # a week of look-back for merged branches


@pytest.fixture(scope="module")
def clean_items() -> list[tuple]:
    with FakeGitLab() as server:
        return sorted(((i.kind, i.item_key, i.body) for i in _client(server).fetch(None).items), key=repr)


@pytest.mark.slow
@pytest.mark.parametrize("kind, path, times, page", [
    ("429", "/issues", 1, None),
    ("ratelimit", "/merge_requests", 1, None),
    ("500", "/repository/commits", 3, None),
    ("timeout", "/issues/2/notes", 1, None),
    ("truncated", "/issues", 1, 2),
    ("truncated", "/repository/commits", 2, 1),
    ("reset", "/issues/3/links", 2, None),
])
def test_a_fault_leaves_the_fetch_identical(clean_items, kind, path, times, page):
    with FakeGitLab() as server:
        server.inject(kind, path, times=times, seconds=1.0 if kind == "timeout" else 0, page=page)
        result = _client(server).fetch(None)
        assert server.pending_faults() == []
        assert server.requests > 14
    assert sorted(((i.kind, i.item_key, i.body) for i in result.items), key=repr) == clean_items


@pytest.mark.slow
def test_a_broken_page_resumes_the_listing_after_the_last_item_received(clean_items):
    with FakeGitLab() as server:
        server.inject("truncated", "/issues", page=2)
        result = _client(server).fetch(None)
        listings = [s for s in server.served if s.path.endswith("/issues")]
    assert [s.status for s in listings[:3]] == [200, "truncated", 200]
    last_of_first_page = sorted(i["updated_at"] for i in load_recording()["issues"])[1]
    assert listings[2].query.get("updated_after") == last_of_first_page and "page" not in listings[2].query
    assert sorted(((i.kind, i.item_key, i.body) for i in result.items), key=repr) == clean_items


@pytest.mark.slow
def test_retry_after_and_ratelimit_reset_are_honoured():
    with FakeGitLab() as server:
        server.inject("429", "/issues", seconds=1)
        server.inject("ratelimit", "/merge_requests", seconds=1)
        _client(server).fetch(None)
        served = server.served
    for fault, path in (("429", "/issues"), ("ratelimit", "/merge_requests")):
        index = next(n for n, s in enumerate(served) if s.status == fault)
        retry = next(s for s in served[index + 1:] if s.path == served[index].path)
        assert retry.at - served[index].at >= 0.95, fault


@pytest.mark.slow
def test_token_is_sent_and_never_kept():
    with FakeGitLab(token=TOKEN) as server:
        result = _client(server, token=TOKEN).fetch(None)
        assert {s.token for s in server.served} == {TOKEN}
        import gitlab

        with pytest.raises(gitlab.exceptions.GitlabAuthenticationError) as refused:
            _client(server).fetch(None)
    assert TOKEN not in repr(result) and TOKEN not in str(refused.value)


# --- whole pipeline into a temporary warehouse -----------------------------------------------------

def _snapshot(settings) -> dict[str, list[tuple]]:
    from warehouse.db import open_reader

    with open_reader(settings) as con:
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in CANONICAL}


def _sync(settings) -> str:
    from pipelines.cli import run_sync

    out = io.StringIO()
    assert run_sync(settings, None, full=False, out=out) == 0, out.getvalue()
    return out.getvalue()


def _counts(output: str) -> tuple[str, str, str]:
    _, _fetched, inserted, updated, deleted, _seconds = next(
        line for line in output.splitlines() if line.startswith("gl ")).split()
    return inserted, updated, deleted


def _home(base: Path) -> Path:
    """A Dagster home whose storage stays inside `base` (so the token scan sees all of it)."""
    base.mkdir(parents=True, exist_ok=True)
    template = (Path(__file__).resolve().parents[1] / "dagster.yaml").read_text()
    (base / "dagster.yaml").write_text(template.replace(".dagster/", f"{base.as_posix()}/.dagster/"))
    return base


def _settings(base: Path, server: FakeGitLab):
    from warehouse.settings import load_settings

    config = base / "lodestar.toml"
    config.write_text(
        '[warehouse]\npath = "w/warehouse.duckdb"\n\n'
        f'[[sources]]\nkind = "gitlab"\nname = "gl"\nurl = "{server.url}"\n'
        f'projects = ["{PROJECT}"]\ntoken_env = "{TOKEN_ENV}"\n'
    )
    return load_settings(config)


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    """A clean server synced three times (then an edited issue), and a faulty one synced once."""
    import pipelines.definitions
    import pipelines.sync

    original_client_for = pipelines.definitions.client_for

    def client_for(source):
        if source.kind != "gitlab":
            return original_client_for(source)
        return GitLabClient(base_url=source.url, projects=list(source.projects),
                            token=dg.EnvVar(source.token_env), **FAST)

    home = _home(tmp_path_factory.mktemp("gitlab-home"))
    found: dict[str, Any] = {"home": home}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(home))
        patch.setenv(TOKEN_ENV, TOKEN)
        patch.setattr(pipelines.definitions, "client_for", client_for)

        with FakeGitLab(token=TOKEN) as server:
            settings = _settings(_home(home / "clean"), server)
            found["settings"] = settings
            for run in ("first", "second"):
                server.reset_log()
                found[f"{run}_out"] = _sync(settings)
                found[f"{run}_served"] = server.served
                found[run] = _snapshot(settings)
            server.update_issue(EDITED_IID, **EDIT)
            server.reset_log()
            found["edited_out"] = _sync(settings)
            found["edited_served"] = server.served
            found["edited"] = _snapshot(settings)

        with FakeGitLab(token=TOKEN) as faulty:
            faulty.inject("429", "/issues", seconds=1)
            faulty.inject("ratelimit", "/merge_requests", seconds=1)
            faulty.inject("500", "/repository/commits", times=2)
            faulty.inject("timeout", "/issues/2/notes", seconds=1.0)
            faulty.inject("truncated", "/issues", page=2)
            faulty.inject("reset", "/issues/3/links", times=2)
            faulty_settings = _settings(_home(home / "faulty"), faulty)
            started = time.monotonic()
            found["faulty_out"] = _sync(faulty_settings)
            found["faulty_seconds"] = time.monotonic() - started
            found["faulty_pending"] = faulty.pending_faults()
            found["faulty_served"] = faulty.served
            found["faulty"] = _snapshot(faulty_settings)
            found["faulty_settings"] = faulty_settings
    return found


def _rows(settings, sql: str) -> list[dict[str, Any]]:
    from warehouse.db import open_reader

    with open_reader(settings) as con:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def _accounts(settings, table: str, key: str, person_column: str) -> dict[Any, set[str]]:
    rows = _rows(settings, f"""SELECT x.{key} AS k, i.account FROM {table} x
                              JOIN identities i ON i.person_id = x.{person_column}""")
    accounts: dict[Any, set[str]] = {}
    for row in rows:
        accounts.setdefault(row["k"], set()).add(row["account"])
    return accounts


@pytest.mark.slow
def test_tasks_are_the_recorded_issues(synced, recording):
    settings = synced["settings"]
    got = {r["task_id"]: r for r in _rows(settings, """
        SELECT task_id, source_key, project_key, title, description, status, status_category, created_at,
               updated_at, resolved_at, estimate_hours, spent_hours, story_points, labels, url, sprint_id
        FROM tasks""")}
    expected = {}
    for issue in recording["issues"]:
        issue = {**issue, **EDIT} if issue["iid"] == EDITED_IID else issue  # the warehouse after the last sync
        key = _issue_key(issue)
        stats = issue["time_stats"]
        expected[f"gl:{key}"] = {
            "task_id": f"gl:{key}", "source_key": key, "project_key": PROJECT, "title": issue["title"],
            "description": issue["description"], "status": issue["state"],
            "status_category": "done" if issue["state"] == "closed" else "todo",
            "created_at": _utc(issue["created_at"]), "updated_at": _utc(issue["updated_at"]),
            "resolved_at": _utc(issue["closed_at"]),
            "estimate_hours": stats["time_estimate"] / 3600 if stats["time_estimate"] else None,
            "spent_hours": stats["total_time_spent"] / 3600, "story_points": issue["weight"],
            "labels": issue["labels"], "url": issue["web_url"],
            "sprint_id": f"gl:milestone:{issue['milestone']['id']}" if issue["milestone"] else None,
        }
    assert got == expected
    assignees = _accounts(settings, "tasks", "task_id", "assignee_id")
    for issue in recording["issues"]:
        if issue["assignee"]:
            assert issue["assignee"]["username"] in assignees[f"gl:{_issue_key(issue)}"]
    (sprint,) = _rows(settings, "SELECT sprint_id, name, state, start_at, end_at FROM sprints")
    milestone = next(i["milestone"] for i in recording["issues"] if i["milestone"])
    assert sprint == {"sprint_id": f"gl:milestone:{milestone['id']}", "name": milestone["title"],
                      "state": milestone["state"], "start_at": datetime.fromisoformat(milestone["start_date"]),
                      "end_at": datetime.fromisoformat(milestone["due_date"])}


@pytest.mark.slow
def test_merge_requests_commits_and_comments_are_the_recorded_ones(synced, recording):
    settings = synced["settings"]
    pulls = _rows(settings, "SELECT repo, number, title, state, created_at, merged_at, closed_at FROM pull_requests")
    assert sorted(pulls, key=lambda r: r["number"]) == [
        {"repo": PROJECT, "number": m["iid"], "title": m["title"], "state": m["state"],
         "created_at": _utc(m["created_at"]), "merged_at": _utc(m.get("merged_at")), "closed_at": _utc(m.get("closed_at"))}
        for m in sorted(recording["merge_requests"], key=lambda m: m["iid"])
    ]
    commits = {r["sha"]: r for r in _rows(settings, "SELECT sha, repo, authored_at, message, additions, deletions FROM commits")}
    assert commits == {
        c["id"]: {"sha": c["id"], "repo": PROJECT, "authored_at": _utc(c["authored_date"]), "message": c["message"],
                  "additions": (c.get("stats") or {}).get("additions"), "deletions": (c.get("stats") or {}).get("deletions")}
        for c in recording["commits"]
    }
    authors = _accounts(settings, "commits", "sha", "author_id")
    assert all(c["author_email"].lower() in authors[c["id"]] for c in recording["commits"])

    comments = {r["comment_id"]: r for r in _rows(settings, "SELECT comment_id, task_id, body, created_at, updated_at FROM comments")}
    expected, closes = {}, set()
    for issue in recording["issues"]:
        task_id = f"gl:{_issue_key(issue)}"
        for note in recording["issue_notes"][issue["iid"]]:
            if note["system"]:
                if note["body"] == "closed":
                    closes.add((task_id, _utc(note["created_at"])))
                continue
            expected[f"{task_id}:note:{note['id']}"] = {
                "comment_id": f"{task_id}:note:{note['id']}", "task_id": task_id, "body": note["body"],
                "created_at": _utc(note["created_at"]), "updated_at": _utc(note["updated_at"])}
    assert comments == expected and len(expected) == 2
    changes = _rows(settings, "SELECT task_id, changed_at, to_status FROM status_changes")
    assert {(r["task_id"], r["changed_at"]) for r in changes} == closes and {r["to_status"] for r in changes} == {"closed"}


@pytest.mark.slow
def test_second_sync_changes_nothing_and_asks_only_from_the_cursor(synced):
    assert synced["first"] == synced["second"]
    assert _counts(synced["second_out"]) == ("0", "0", "0"), synced["second_out"]
    assert len(synced["first_served"]) == 14
    # The three listings from the cursor (minus the 10-minute overlap), plus notes and links of the
    # one issue updated inside that overlap window.
    served = synced["second_served"]
    assert sorted(s.path.split("fdroiddata/", 1)[1] for s in served) == [
        "issues", "issues/4/links", "issues/4/notes", "merge_requests", "repository/commits"]
    assert all("updated_after" in s.query for s in served if s.path.endswith(("/issues", "/merge_requests")))


@pytest.mark.slow
def test_an_edited_issue_is_refetched_with_its_comments_kept(synced):
    before, after = synced["second"], synced["edited"]
    assert {t: before[t] for t in CANONICAL if t != "tasks"} == {t: after[t] for t in CANONICAL if t != "tasks"}
    changed = [row for row in after["tasks"] if row not in before["tasks"]]
    assert len(changed) == 1 and changed[0][0] == f"gl:{PROJECT}#641"
    (task,) = _rows(synced["settings"], f"SELECT labels, updated_at FROM tasks WHERE task_id = 'gl:{PROJECT}#641'")
    assert task == {"labels": EDIT["labels"], "updated_at": _utc(EDIT["updated_at"])}
    assert {s.path.split("fdroiddata/", 1)[1] for s in synced["edited_served"]} >= {
        f"issues/{EDITED_IID}/notes", f"issues/{EDITED_IID}/links"}


@pytest.mark.slow
def test_faults_during_a_sync_leave_the_warehouse_identical(synced):
    assert synced["faulty_pending"] == []
    assert synced["faulty"] == synced["first"]
    assert len(synced["faulty_served"]) > len(synced["first_served"])
    assert synced["faulty_seconds"] >= 1.0  # Retry-After / RateLimit-Reset were waited out


@pytest.mark.slow
def test_the_token_is_not_stored_or_logged(synced):
    from warehouse.db import open_reader

    assert all(s.token == TOKEN for s in synced["first_served"])
    needle = TOKEN.encode()
    for path in synced["home"].rglob("*"):
        if path.is_file():
            assert needle not in path.read_bytes(), path
    with open_reader(synced["settings"]) as con:
        for (payload,) in con.execute("SELECT payload FROM raw_payloads").fetchall():
            assert needle not in zlib.decompress(payload)
    for key in ("first_out", "second_out", "edited_out", "faulty_out"):
        assert TOKEN not in synced[key]
