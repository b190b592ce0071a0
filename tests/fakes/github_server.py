"""A loopback GitHub REST API over real recorded payloads, with fault injection.

Nothing served here was written by the team. The items are GitHub's own JSON as
recorded by two third-party projects (fetched with `tests/registry_data.py`):

- PyGithub 2.10.0 `tests/ReplayData` (the sdist): every `GET` exchange that
  returned issues, pull requests, commits (the `/commits/{sha}` detail, with
  `stats`) or milestones of a repository, newest recording of each item kept;
- `@octokit/fixtures` 23.1.2 `paginate-issues`: 13 issues of a repository,
  recorded page by page with real `Link` headers.

The server answers the way GitHub does: `/repos/{o}/{r}/issues` (pull requests
included, `state`, `since`, `milestone`, `sort`, `direction`),
`/repos/{o}/{r}/pulls` (`state`, `sort`, `direction` with GitHub's defaults),
`/repos/{o}/{r}/commits` (`since`, `until`, newest first, list items without
`stats`/`files`), `/repos/{o}/{r}/commits/{sha}`, `/repos/{o}/{r}/milestones`;
`page`/`per_page` paging with `Link` headers on the server's own host; an
optional `/api/v3` prefix (GitHub Enterprise); and, when a token is set, 401
without it. Faults are queued per path and consumed one request at a time.
"""

from __future__ import annotations

import json
import os
import re
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.fakes.loopback import QuietHandler, QuietServer

FAULT_KINDS = frozenset({"429", "403-secondary", "500", "502", "timeout", "truncated", "reset"})

_REPO_ITEM_PATH = re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/(?P<kind>issues|pulls|commits|milestones)(?:/(?P<id>[0-9a-f]{40}|\d+))?$")


# --------------------------------------------------------------------------- recorded data


@dataclass
class RecordedRepo:
    """One repository's recorded items, each exactly as GitHub returned it."""

    full_name: str
    issues: list[dict] = field(default_factory=list)
    pulls: list[dict] = field(default_factory=list)
    commits: list[dict] = field(default_factory=list)
    """`/commits/{sha}` bodies (with `stats` and `files`)."""
    commit_list_items: dict[str, dict] = field(default_factory=dict)
    """`/commits` list items recorded for some of `commits`, by sha."""
    milestones: list[dict] = field(default_factory=list)
    empty_git: bool = False
    """GitHub answers 409 "Git Repository is empty." to `/commits` of a repository without commits."""


def _ts(value: str | None) -> datetime | None:
    """An API timestamp as an aware datetime (`Z` and `-07:00` forms both occur in the recordings)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _newest(found: dict, key, item: dict, stamp: str) -> None:
    """Keep per key the item with the newest `stamp` field (first recording wins ties)."""
    old = found.get(key)
    oldest = datetime.min.replace(tzinfo=timezone.utc)
    if old is None or (_ts(item.get(stamp)) or oldest) > (_ts(old.get(stamp)) or oldest):
        found[key] = item


def replay_exchanges(path: Path):
    """(verb, host, url, status, body text) of each exchange in a PyGithub ReplayData file.

    The format (PyGithub `tests/Framework.py`): per exchange the lines protocol,
    verb, host, port, url, request headers, request body, status, response
    headers, response body, then one empty line.
    """
    lines = path.read_text(encoding="utf-8").split("\n")
    index = 0
    while index + 10 <= len(lines):
        if not lines[index]:
            index += 1
            continue
        protocol, verb, host, _port, url, _headers, _body, status, _response_headers, body = lines[index:index + 10]
        if protocol not in ("http", "https"):
            return  # a streamed (base64, multi-line) body: nothing after it is needed here
        yield verb, host, url, status, body
        index += 11


def load_pygithub_replay(sdist: Path, repos: set[str]) -> dict[str, RecordedRepo]:
    """Items of `repos` (owner/name) recorded in PyGithub's ReplayData, newest recording of each."""
    wanted = {name.lower() for name in repos}
    issues: dict[str, dict] = {n: {} for n in wanted}
    pulls: dict[str, dict] = {n: {} for n in wanted}
    details: dict[str, dict] = {n: {} for n in wanted}
    listed: dict[str, dict] = {n: {} for n in wanted}
    milestones: dict[str, dict] = {n: {} for n in wanted}
    names: dict[str, str] = {}
    for path in sorted((sdist / "tests" / "ReplayData").glob("*.txt")):
        if "\n/repos/" not in path.read_text(encoding="utf-8"):
            continue  # no repository request recorded here
        for verb, host, url, status, body in replay_exchanges(path):
            if verb != "GET" or status != "200" or host != "api.github.com":
                continue
            match = _REPO_ITEM_PATH.match(url.split("?")[0])
            if not match or match["repo"].lower() not in wanted:
                continue
            repo, kind, ident = match["repo"].lower(), match["kind"], match["id"]
            names.setdefault(repo, match["repo"])
            decoded = json.loads(body)
            for item in decoded if isinstance(decoded, list) else [decoded]:
                if kind == "issues":
                    _newest(issues[repo], item["number"], item, "updated_at")
                elif kind == "pulls" and ident is None:  # the list shape only
                    _newest(pulls[repo], item["number"], item, "updated_at")
                elif kind == "commits" and ident is not None and "stats" in item:
                    details[repo].setdefault(item["sha"], item)
                elif kind == "commits" and ident is None:
                    listed[repo].setdefault(item["sha"], item)
                elif kind == "milestones":
                    _newest(milestones[repo], item["number"], item, "updated_at")
    result = {}
    for repo in wanted:
        if repo not in names:
            continue
        result[names[repo]] = RecordedRepo(
            full_name=names[repo],
            issues=list(issues[repo].values()),
            pulls=list(pulls[repo].values()),
            commits=list(details[repo].values()),
            commit_list_items={sha: item for sha, item in listed[repo].items() if sha in details[repo]},
            milestones=list(milestones[repo].values()),
        )
    return result


def load_octokit_paginate_issues(package: Path) -> RecordedRepo:
    """The 13 issues of @octokit/fixtures' `paginate-issues` scenario (five recorded pages)."""
    scenario = package / "scenarios" / "api.github.com" / "paginate-issues" / "normalized-fixture.json"
    issues = [item for exchange in json.loads(scenario.read_text()) for item in exchange["response"]]
    return RecordedRepo(full_name="octokit-fixture-org/paginate-issues", issues=issues)


def octokit_recorded_links(package: Path) -> list[str]:
    """The `Link` header GitHub sent with each recorded page of `paginate-issues`."""
    scenario = package / "scenarios" / "api.github.com" / "paginate-issues" / "normalized-fixture.json"
    return [exchange["headers"].get("link", "") for exchange in json.loads(scenario.read_text())]


# --------------------------------------------------------------------------- the server


@dataclass
class Served:
    method: str
    path: str
    """Path and query as requested."""
    outcome: str
    """The status sent, or the fault injected."""
    at: float = field(default_factory=time.monotonic)


class FakeGitHub:
    """State of the fake server: recorded repositories, request log, queued faults."""

    def __init__(self, repos: dict[str, RecordedRepo], max_per_page: int = 100, token: str | None = None,
                 retry_after: float = 1, stall_seconds: float = 2.0):
        self.repos = {name.lower(): repo for name, repo in repos.items()}
        self.max_per_page = max_per_page
        self.token = token
        self.retry_after = retry_after
        self.stall_seconds = stall_seconds
        self.served: list[Served] = []
        self.authorizations: Counter[str] = Counter()
        self._faults: list[list] = []
        self._lock = threading.Lock()
        self.httpd: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> str:
        fake = self

        class Handler(GitHubHandler):
            state = fake

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                         name="fake-github").start()
        return self.url

    @property
    def url(self) -> str:
        assert self.httpd is not None
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def __enter__(self) -> FakeGitHub:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------ test controls
    def inject(self, path_part: str, *faults: str, skip: int = 0) -> None:
        """Queue faults for requests whose path (with query) contains `path_part`, after letting `skip` of them
        through (counted from now, whether or not another queue's fault answered them).

        Kinds: 429 (with Retry-After), 403-secondary (secondary rate limit, with
        Retry-After), 500, 502, timeout (answers only after `stall_seconds`),
        truncated (a complete HTTP answer whose JSON is cut in half), reset (the
        connection is reset half-way through the body).
        """
        unknown = set(faults) - FAULT_KINDS
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}")
        with self._lock:
            self._faults.append([path_part, skip, list(faults)])

    def pending_faults(self) -> int:
        with self._lock:
            return sum(len(f[2]) for f in self._faults)

    def reset_log(self) -> None:
        with self._lock:
            self.served.clear()
            self.authorizations.clear()

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.served)

    def paths(self) -> list[str]:
        with self._lock:
            return [s.path for s in self.served]

    def faults_served(self) -> list[Served]:
        with self._lock:
            return [s for s in self.served if s.outcome in FAULT_KINDS]

    def _take_fault(self, path: str) -> str | None:
        """The fault for this request, if one is due: every matching queue counts the request
        against its `skip`, and the first one past it answers (one fault per request)."""
        chosen = None
        with self._lock:
            for entry in self._faults:
                part, skip, queued = entry
                if not queued or part not in path:
                    continue
                if skip:
                    entry[1] -= 1
                elif chosen is None:
                    chosen = queued.pop(0)
        return chosen

    def _log(self, method: str, path: str, fault: str | None) -> Served:
        entry = Served(method, path, fault or "pending")
        with self._lock:
            self.served.append(entry)
        return entry

    # ------------------------------------------------------------ behaviour
    def answer(self, path: str, query: dict[str, str]) -> tuple[int, object, dict[str, str]]:
        """(status, JSON body, extra headers) for one GET."""
        match = _REPO_ITEM_PATH.match(path)
        repo = self.repos.get(match["repo"].lower()) if match else None
        if repo is None:
            return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, {}
        kind, ident = match["kind"], match["id"]
        if kind == "commits" and ident:
            found = next((c for c in repo.commits if c["sha"] == ident), None)
            if found is None:
                return 422, {"message": f"No commit found for SHA: {ident}"}, {}
            return 200, found, {}
        if ident:
            collection = repo.issues if kind == "issues" else repo.pulls if kind == "pulls" else repo.milestones
            found = next((i for i in collection if str(i["number"]) == ident), None)
            return (200, found, {}) if found else (404, {"message": "Not Found"}, {})
        if kind == "commits" and repo.empty_git:
            return 409, {"message": "Git Repository is empty."}, {}
        items = {"issues": self._issues, "pulls": self._pulls, "commits": self._commits,
                 "milestones": self._milestones}[kind](repo, query)
        return 200, items, {}

    @staticmethod
    def _state(items: list[dict], query: dict[str, str], default: str = "open") -> list[dict]:
        state = query.get("state", default)
        return items if state == "all" else [i for i in items if i.get("state") == state]

    def _issues(self, repo: RecordedRepo, query: dict[str, str]) -> list[dict]:
        items = self._state(repo.issues, query)
        since = _ts(query.get("since"))
        if since:
            items = [i for i in items if _ts(i["updated_at"]) >= since]
        milestone = query.get("milestone")
        if milestone == "none":
            items = [i for i in items if not i.get("milestone")]
        elif milestone == "*":
            items = [i for i in items if i.get("milestone")]
        elif milestone:
            items = [i for i in items if (i.get("milestone") or {}).get("number") == int(milestone)]
        sort = query.get("sort", "created")
        reverse = query.get("direction", "desc") == "desc"
        field_of = {"created": "created_at", "updated": "updated_at"}.get(sort)
        if field_of:
            key = lambda i: (_ts(i[field_of]), i["number"])  # noqa: E731
        else:  # comments
            key = lambda i: (i.get("comments", 0), i["number"])  # noqa: E731
        return sorted(items, key=key, reverse=reverse)

    def _pulls(self, repo: RecordedRepo, query: dict[str, str]) -> list[dict]:
        items = self._state(repo.pulls, query)
        sort = query.get("sort", "created")
        # GitHub: "Default: desc when sort is created or sort is not specified, otherwise asc."
        reverse = query.get("direction", "desc" if sort == "created" else "asc") == "desc"
        field_of = {"created": "created_at", "updated": "updated_at"}.get(sort, "updated_at")
        return sorted(items, key=lambda i: (_ts(i[field_of]), i["number"]), reverse=reverse)

    def _commits(self, repo: RecordedRepo, query: dict[str, str]) -> list[dict]:
        def date(commit: dict) -> datetime:
            return _ts(commit["commit"]["committer"]["date"])

        since, until = _ts(query.get("since")), _ts(query.get("until"))
        chosen = [c for c in repo.commits if (not since or date(c) >= since) and (not until or date(c) <= until)]
        chosen.sort(key=date, reverse=True)
        # The list endpoint leaves out `stats` and `files`; a recorded list item is served as recorded.
        return [repo.commit_list_items.get(c["sha"]) or {k: v for k, v in c.items() if k not in ("stats", "files")}
                for c in chosen]

    def _milestones(self, repo: RecordedRepo, query: dict[str, str]) -> list[dict]:
        items = self._state(repo.milestones, query)
        reverse = query.get("direction", "asc") == "desc"
        if query.get("sort", "due_on") == "completeness":
            def key(m):
                total = m.get("open_issues", 0) + m.get("closed_issues", 0)
                return (m.get("closed_issues", 0) / total if total else 0, m["number"])
        else:
            def key(m):
                return (m.get("due_on") or "9999", m["number"])
        return sorted(items, key=key, reverse=reverse)

    def page(self, items: list, query: dict[str, str], host: str, path: str) -> tuple[list, str | None]:
        """One page of `items` and the `Link` header GitHub would send with it."""
        per_page = max(1, min(int(query.get("per_page", 30)), 100, self.max_per_page))
        number = max(1, int(query.get("page", 1)))
        last = max(1, -(-len(items) // per_page))
        chunk = items[(number - 1) * per_page:number * per_page]

        def link(page: int, rel: str) -> str:
            params = {k: v for k, v in query.items() if k != "page"}
            params["page"] = str(page)
            return f'<http://{host}{path}?{urlencode(params)}>; rel="{rel}"'

        rels = []
        if number > 1:
            rels.append(link(number - 1, "prev"))
        if number < last:
            rels += [link(number + 1, "next"), link(last, "last")]
        if number > 1:
            rels.append(link(1, "first"))
        return chunk, ", ".join(rels) or None

    # ------------------------------------------------------------ recorded-data edits for scenarios
    def move_milestone(self, repo: str, number: int, due_on: str, updated_at: str) -> None:
        """The milestone's due date changes, as GitHub then shows it (also inside its issues)."""
        recorded = self.repos[repo.lower()]
        for milestone in recorded.milestones + [i["milestone"] for i in recorded.issues if i.get("milestone")]:
            if milestone["number"] == number:
                milestone["due_on"], milestone["updated_at"] = due_on, updated_at


_Server = QuietServer


class GitHubHandler(QuietHandler):
    state: FakeGitHub

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        fake = self.state
        target = urlsplit(self.path)
        path = target.path
        if path.startswith("/api/v3/"):
            path = path[len("/api/v3"):]
        query = {k: v[-1] for k, v in parse_qs(target.query, keep_blank_values=True).items()}
        authorization = self.headers.get("Authorization")
        with fake._lock:
            fake.authorizations[authorization.split(" ")[0] if authorization else "none"] += 1
        fault = fake._take_fault(self.path)
        entry = fake._log("GET", self.path, fault)
        if fault in ("429", "403-secondary"):
            message = ("API rate limit exceeded" if fault == "429"
                       else "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.")
            return self._send(entry, int(fault[:3]), {"message": message}, {"Retry-After": f"{fake.retry_after:g}"}, fault)
        if fault in ("500", "502"):
            return self._send(entry, int(fault), {"message": "Server Error"}, {}, fault)
        if fault == "timeout":
            time.sleep(fake.stall_seconds)
        if fake.token and authorization not in (f"token {fake.token}", f"Bearer {fake.token}"):
            body = {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
            return self._send(entry, 401, body, {}, fault)
        status, body, headers = fake.answer(path, query)
        if status == 200 and isinstance(body, list):
            body, link = fake.page(body, query, self.headers.get("Host", "127.0.0.1"), target.path)
            if link:
                headers["Link"] = link
        self._send(entry, status, body, headers, fault)

    def _send(self, entry: Served, status: int, body: object, headers: dict[str, str], fault: str | None) -> None:
        data = json.dumps(body).encode("utf-8")
        entry.outcome = fault or str(status)
        if fault == "truncated":
            data = data[: len(data) // 2]
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if fault == "reset":
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            self.wfile.write(data)
        except OSError:
            self.close_connection = True


def recorded_repos(pygithub_sdist: Path, octokit_package: Path) -> dict[str, RecordedRepo]:
    """The three repositories the tests sync: PyGithub/PyGithub, openmicroscopy/ome-documentation, paginate-issues."""
    repos = load_pygithub_replay(pygithub_sdist, {"PyGithub/PyGithub", "openmicroscopy/ome-documentation"})
    octokit = load_octokit_paginate_issues(octokit_package)
    repos[octokit.full_name] = octokit
    return repos


if __name__ == "__main__":  # pragma: no cover - manual exploration: serve until interrupted
    import sys

    from tests.registry_data import npm_package, pypi_sdist

    fake = FakeGitHub(recorded_repos(pypi_sdist("pygithub", "2.10.0"), npm_package("@octokit/fixtures", "23.1.2")),
                      max_per_page=int(os.environ.get("MAX_PER_PAGE", "100")))
    print(fake.start(), file=sys.stderr)
    threading.Event().wait()
