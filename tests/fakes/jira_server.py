"""A loopback Jira Server (REST v2) over real recorded issues, with fault injection.

Serves `../shared/data/jira-apache-2015` (501 real Apache issues with changelogs
and comments) the way Jira does: `/search` honours the JQL project list, the
`updated >=` bound (read in the server's time zone, as Jira reads it for an
anonymous user), `ORDER BY`, `startAt` and `maxResults` capped at the server's
maximum. Faults are queued per endpoint and consumed one request at a time.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import Counter, deque
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

SERVER_ZONE = timezone(timedelta(hours=8))


def load_issues(data_dir: Path) -> dict[str, dict]:
    """Issues with changelog, decoded as the tests decode them (five files hold invalid UTF-8)."""
    issues = {}
    for path in sorted(data_dir.glob("*_CL.json")):
        issue = json.loads(path.read_bytes().decode("utf-8", errors="replace"))
        issues[issue["key"]] = issue
    return issues


def load_comments(data_dir: Path) -> dict[str, dict]:
    pages = {}
    for path in sorted(data_dir.glob("*_Comment.json")):
        pages[path.name.removesuffix("_Comment.json")] = json.loads(path.read_bytes().decode("utf-8", errors="replace"))
    return pages


def _jira_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


class FakeJira:
    """State of the fake server: data, request log, queued faults."""

    def __init__(self, data_dir: Path, fields: list[dict], page_cap: int = 50, truncate_embedded: bool = False,
                 cloud: bool = False):
        self.issues = load_issues(data_dir)
        self.issues_by_id = {issue["id"]: issue for issue in self.issues.values()}
        self.comments = load_comments(data_dir)
        self.fields = fields
        self.page_cap = page_cap
        self.truncate_embedded = truncate_embedded
        self.cloud = cloud
        self.authorizations: list[str | None] = []
        self.requests: list[str] = []
        self.by_endpoint: Counter[str] = Counter()
        self.faults: dict[str, deque[str]] = {}
        self.fault_log: list[tuple[str, str]] = []
        self.server_time = "2015-06-01T08:00:00.000+0800"
        self._lock = threading.Lock()
        self.httpd: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> str:
        fake = self

        class Handler(JiraHandler):
            state = fake

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()

    def inject(self, endpoint: str, *faults: str) -> None:
        """Queue faults (429, 500, timeout, truncated, reset, ratelimit) for the next requests to an endpoint."""
        self.faults.setdefault(endpoint, deque()).extend(faults)

    def reset_counts(self) -> None:
        self.requests.clear()
        self.by_endpoint.clear()

    # ------------------------------------------------------------ behaviour
    def search(self, params: dict[str, str]) -> dict:
        jql = params.get("jql", "")
        projects = re.search(r"project\s+in\s*\(([^)]*)\)", jql, re.I)
        single = re.search(r'project\s*=\s*"?([A-Z0-9_]+)"?', jql, re.I)
        wanted = (
            {p.strip().strip('"') for p in projects.group(1).split(",")} if projects
            else {single.group(1)} if single else None
        )
        since, strict = None, False
        bound = re.search(r'updated\s*>=\s*"(\d{4}/\d{2}/\d{2} \d{2}:\d{2})"', jql, re.I)
        if bound:
            since = datetime.strptime(bound.group(1), "%Y/%m/%d %H:%M").replace(tzinfo=SERVER_ZONE)
        millis = re.search(r"updated\s*>\s*(\d{10,})", jql, re.I)
        if millis:
            since, strict = datetime.fromtimestamp(int(millis.group(1)) / 1000, tz=timezone.utc), True
        selected = [
            issue for issue in self.issues.values()
            if (wanted is None or issue["fields"]["project"]["key"] in wanted)
            and (since is None or _jira_time(issue["fields"]["updated"]) > since
                 or (not strict and _jira_time(issue["fields"]["updated"]) == since))
        ]
        order = re.search(r"ORDER BY (.*)$", jql, re.I)
        # Perceval pages with startAt over `updated` order (no tie-break); keep ties stable by key.
        selected.sort(key=lambda i: i["key"])
        for term in reversed(order.group(1).split(",") if order else []):
            name, _, direction = term.strip().partition(" ")
            reverse = direction.strip().upper() == "DESC"
            if name == "key":
                selected.sort(key=lambda i: (i["key"].split("-")[0], int(i["key"].split("-")[1])), reverse=reverse)
            else:
                selected.sort(key=lambda i, n=name: _jira_time(i["fields"][n]), reverse=reverse)
        start = int(params.get("startAt", 0))
        size = min(int(params.get("maxResults", 50)), self.page_cap)
        page = [self._embedded(issue) for issue in selected[start:start + size]]
        return {"expand": "schema,names", "startAt": start, "maxResults": size, "total": len(selected), "issues": page}

    def _embedded(self, issue: dict) -> dict:
        """As search returns it: optionally with the changelog and comments cut, as Jira cuts long ones."""
        if not self.truncate_embedded:
            return issue
        issue = json.loads(json.dumps(issue))
        histories = issue["changelog"]["histories"]
        issue["changelog"].update(histories=histories[:2], maxResults=2, total=len(histories))
        comment = issue["fields"].get("comment")
        if comment:
            comment.update(comments=comment["comments"][:1], maxResults=1)
        return issue

    def project(self, key: str) -> dict | None:
        for issue in self.issues.values():
            project = issue["fields"]["project"]
            if project["key"] == key:
                return dict(project, description="", lead=issue["fields"].get("reporter"))
        return None


class JiraHandler(BaseHTTPRequestHandler):
    state: FakeJira
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        return

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without NODELAY each request waits ~40 ms for a delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, status: int, body, headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _fault(self, endpoint: str, body) -> bool:
        with self.state._lock:
            queue = self.state.faults.get(endpoint)
            fault = queue.popleft() if queue else None
        if fault is None:
            return False
        self.state.fault_log.append((endpoint, fault))
        if fault == "429":
            self._send(429, {"errorMessages": ["Rate limit exceeded"]}, {"Retry-After": "1"})
        elif fault == "ratelimit":
            self._send(429, {"errorMessages": ["Rate limit"]},
                       {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 1)})
        elif fault == "500":
            self._send(500, {"errorMessages": ["Internal server error"]})
        elif fault == "timeout":
            time.sleep(3)
            self._send(200, body)
        elif fault == "truncated":
            data = json.dumps(body).encode("utf-8")
            self._send(200, None, raw=data[: len(data) // 2])
        elif fault == "reset":
            self.close_connection = True
            self.connection.shutdown(2)
        return True

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        url = urlparse(self.path)
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        path = url.path
        state = self.state
        state.requests.append(self.path)
        state.authorizations.append(self.headers.get("Authorization"))
        endpoint, status, body = self._route(path, params)
        state.by_endpoint[endpoint] += 1
        if status == 200 and self._fault(endpoint, body):
            return
        self._send(status, body)

    def _route(self, path: str, params: dict[str, str]):
        state = self.state
        if path == "/rest/api/2/serverInfo":
            return "serverInfo", 200, {
                "baseUrl": f"http://{self.headers.get('Host')}", "version": "6.3.4", "versionNumbers": [6, 3, 4],
                "deploymentType": "Cloud" if state.cloud else "Server", "buildNumber": 6332,
                "serverTime": state.server_time,
                "serverTitle": "Loopback Apache JIRA",
            }
        if path == "/rest/api/2/field":
            return "field", 200, state.fields
        if path == "/rest/api/2/myself":
            return "myself", 401, {"errorMessages": ["You are not authenticated."]}
        if path in ("/rest/api/2/search", "/rest/api/2/search/") and not state.cloud:
            return "search", 200, state.search(params)
        if path == "/rest/api/2/search/jql" and state.cloud:
            start = int(params.get("nextPageToken") or 0)
            page = state.search(dict(params, startAt=start))
            after = start + len(page["issues"])
            body = {"issues": page["issues"], "isLast": after >= page["total"]}
            if after < page["total"]:
                body["nextPageToken"] = str(after)
            return "search", 200, body
        match = re.fullmatch(r"/rest/api/2/issue/([A-Z0-9]+-\d+|\d+)(/comment|/worklog)?", path)
        if match:
            key, sub = match.groups()
            issue = state.issues.get(key) or state.issues_by_id.get(key)
            key = issue["key"] if issue else key
            if issue is None:
                return "issue", 404, {"errorMessages": ["Issue Does Not Exist"]}
            if sub == "/comment":
                return "comment", 200, state.comments.get(key, issue["fields"].get("comment") or {"comments": []})
            if sub == "/worklog":
                return "worklog", 200, issue["fields"].get("worklog") or {"worklogs": []}
            return "issue", 200, issue
        match = re.fullmatch(r"/rest/api/2/project/([A-Z0-9]+)", path)
        if match:
            project = state.project(match.group(1))
            return ("project", 200, project) if project else ("project", 404, {"errorMessages": ["No project"]})
        if path == "/rest/agile/1.0/board":
            return "board", 200, {"maxResults": 50, "startAt": 0, "total": 0, "isLast": True, "values": []}
        return "unknown", 404, {"errorMessages": [f"no route {path}"]}
