"""A loopback GitLab v4 API answering with real recorded payloads, with switchable faults.

The payloads are the GitLab recordings shipped in the perceval 1.6.1 sdist
(`tests/data/gitlab/`, fetched through tests/registry_data.py): one project
(`fdroid/fdroiddata`), its issues (`issue_page_1` + `issue_page_2`), merge requests
(`merge_page_1` + `merge_page_2`, with `merge_N` as the single-MR answers), commits
(`commits_1..3`) and the notes of issues 1-4 (`notes_1..4`, mapped to iids as
perceval's own tests map them). Issue links were not recorded: every issue has
none (`empty_response`). Bodies are the recorded
items, unchanged (re-serialised); what the recording lacks and GitLab adds is generated: pagination
(`page`, `per_page`, `Link`, `X-Page`, `X-Next-Page`, `X-Total`, ...) and the
`updated_after` / `since` / `order_by` / `sort` filters.

Faults (`inject`) hit the next N requests whose path contains a fragment:
`429` (Retry-After), `ratelimit` (429 with RateLimit-Reset as an epoch), `500`,
`timeout` (answers only after a delay), `truncated` (a 200 whose JSON is cut in
half), `reset` (the connection is dropped with a TCP reset, no answer).
"""

from __future__ import annotations

import copy
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

RECORDING = ("perceval", "1.6.1")
FAULT_KINDS = frozenset({"429", "ratelimit", "500", "timeout", "truncated", "reset"})


def recorded_gitlab_dir() -> Path:
    """perceval's recorded GitLab payloads (skips the test when PyPI cannot be reached)."""
    from tests.registry_data import pypi_sdist

    return pypi_sdist(*RECORDING) / "tests" / "data" / "gitlab"


def load_recording(data_dir: Path | None = None) -> dict[str, Any]:
    """The recorded payloads by what they are, as parsed JSON."""
    folder = data_dir or recorded_gitlab_dir()

    def read(name: str) -> Any:
        return json.loads((folder / name).read_text(encoding="utf-8"))

    return {
        "project": read("project"),
        "issues": read("issue_page_1") + read("issue_page_2"),
        "merge_requests": read("merge_page_1") + read("merge_page_2"),
        "merge_request": {n: read(f"merge_{n}") for n in (1, 2, 3)},
        "commits": read("commits_1") + read("commits_2") + read("commits_3"),
        "issue_notes": {n: read(f"notes_{n}") for n in (1, 2, 3, 4)},
        "merge_request_notes": {n: read(f"notes_{n}") for n in (1, 2, 3)},
        "issue_links": {},
        "empty": read("empty_response"),
    }


@dataclass
class Fault:
    kind: str
    path: str
    times: int = 1
    seconds: float = 1.0
    page: int | None = None


@dataclass
class Served:
    path: str
    query: dict[str, str]
    status: int | str
    at: float
    token: str | None = None


@dataclass
class _State:
    data: dict[str, Any]
    token: str | None = None
    faults: list[Fault] = field(default_factory=list)
    served: list[Served] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


class FakeGitLab:
    """`with FakeGitLab() as server:` serves the recording on `server.url` until the block ends."""

    def __init__(self, data_dir: Path | None = None, token: str | None = None) -> None:
        self.state = _State(data=load_recording(data_dir), token=token)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> "FakeGitLab":
        handler = type("Handler", (_Handler,), {"state": self.state})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-gitlab", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeGitLab":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # --- what the tests steer and read ---------------------------------------------------
    @property
    def data(self) -> dict[str, Any]:
        return self.state.data

    @property
    def requests(self) -> int:
        with self.state.lock:
            return len(self.state.served)

    @property
    def served(self) -> list[Served]:
        with self.state.lock:
            return list(self.state.served)

    def reset_log(self) -> None:
        with self.state.lock:
            self.state.served.clear()

    def inject(self, kind: str, path: str = "", times: int = 1, seconds: float = 1.0, page: int | None = None) -> None:
        """Make the next `times` requests whose path contains `path` (and ask for `page`) fail with `kind`.

        `seconds` is the Retry-After / RateLimit-Reset wait, or how late a `timeout` answers.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {sorted(FAULT_KINDS)}")
        with self.state.lock:
            self.state.faults.append(Fault(kind, path, times, seconds, page))

    def pending_faults(self) -> list[Fault]:
        with self.state.lock:
            return [f for f in self.state.faults if f.times > 0]

    def update_issue(self, iid: int, **changes: Any) -> None:
        """Change a served issue in place, as if someone edited it on GitLab."""
        with self.state.lock:
            issue = next(i for i in self.state.data["issues"] if i["iid"] == iid)
            issue.update(copy.deepcopy(changes))


class _Handler(BaseHTTPRequestHandler):
    state: _State
    protocol_version = "HTTP/1.1"
    server_version = "FakeGitLab/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    # --- request handling --------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        token = self.headers.get("PRIVATE-TOKEN")
        fault = self._take_fault(parts.path, query)
        self._record(parts.path, query, fault.kind if fault else None, token)

        if fault is not None and fault.kind == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        if fault is not None and fault.kind == "timeout":
            time.sleep(fault.seconds)
        if fault is not None and fault.kind in ("429", "ratelimit"):
            headers = {"Retry-After": str(int(fault.seconds))} if fault.kind == "429" else {
                "RateLimit-Limit": "600", "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(int(time.time() + fault.seconds) + 1),
            }
            return self._send(429, {"message": "429 Too Many Requests"}, headers)
        if fault is not None and fault.kind == "500":
            return self._send(500, {"message": "500 Internal Server Error"})
        if self.state.token is not None and token != self.state.token:
            return self._send(401, {"message": "401 Unauthorized"})

        status, body, headers = self._route(parts.path, query)
        self._send(status, body, headers, truncate=fault is not None and fault.kind == "truncated")

    def _take_fault(self, path: str, query: dict[str, str]) -> Fault | None:
        with self.state.lock:
            for fault in self.state.faults:
                wanted_page = fault.page is None or int(query.get("page") or 1) == fault.page
                if fault.times > 0 and fault.path in path and wanted_page:
                    fault.times -= 1
                    return fault
        return None

    def _record(self, path: str, query: dict[str, str], fault: str | None, token: str | None) -> None:
        with self.state.lock:
            self.state.served.append(Served(path, query, fault or 200, time.monotonic(), token))

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None, truncate: bool = False) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        if truncate:
            payload = payload[: len(payload) // 2]
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout fault): nothing to answer

    # --- the API -----------------------------------------------------------------------
    def _route(self, path: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        segments = path.strip("/").split("/")
        if segments[:3] != ["api", "v4", "projects"] or len(segments) < 4:
            return 404, {"message": "404 Not Found"}, {}
        data = self.state.data
        project = data["project"]
        if unquote(segments[3]) not in (project["path_with_namespace"], str(project["id"])):
            return 404, {"message": "404 Project Not Found"}, {}
        rest = segments[4:]
        if not rest:
            return 200, project, {}
        if rest == ["issues"]:
            return self._page(path, query, self._changed(data["issues"], query))
        if rest[0] == "issues" and len(rest) >= 2 and rest[1].isdigit():
            iid = int(rest[1])
            issue = next((i for i in data["issues"] if i["iid"] == iid), None)
            if issue is None:
                return 404, {"message": "404 Not found"}, {}
            if len(rest) == 2:
                return 200, issue, {}
            if rest[2:] == ["notes"]:
                return self._page(path, query, self._ordered(data["issue_notes"].get(iid, data["empty"]), query))
            if rest[2:] == ["links"]:
                return 200, data["issue_links"].get(iid, data["empty"]), {}
        if rest == ["merge_requests"]:
            return self._page(path, query, self._changed(data["merge_requests"], query))
        if rest[0] == "merge_requests" and len(rest) >= 2 and rest[1].isdigit():
            iid = int(rest[1])
            if len(rest) == 2 and iid in data["merge_request"]:
                return 200, data["merge_request"][iid], {}
            if rest[2:] == ["notes"]:
                notes = data["merge_request_notes"].get(iid, data["empty"])
                return self._page(path, query, self._ordered(notes, query))
        if rest == ["repository", "commits"]:
            return self._page(path, query, self._commits(data["commits"], query))
        return 404, {"message": "404 Not Found"}, {}

    @staticmethod
    def _ordered(items: list[dict], query: dict[str, str], default_order: str = "created_at") -> list[dict]:
        order_by = query.get("order_by", default_order)
        ordered = sorted(items, key=lambda item: (_when(item.get(order_by)) or datetime.min, item.get("id")))
        return ordered if query.get("sort", "desc") == "asc" else ordered[::-1]

    def _changed(self, items: list[dict], query: dict[str, str]) -> list[dict]:
        """`updated_after` / `updated_before` / `created_after` (inclusive, as GitLab), then order."""
        bounds = [
            ("updated_at", _when(query.get("updated_after")), 1),
            ("updated_at", _when(query.get("updated_before")), -1),
            ("created_at", _when(query.get("created_after")), 1),
        ]
        kept = [
            item for item in items
            if all(
                limit is None or (sign > 0 and _when(item[name]) >= limit) or (sign < 0 and _when(item[name]) <= limit)
                for name, limit, sign in bounds
            )
        ]
        return self._ordered(kept, query)

    @staticmethod
    def _commits(items: list[dict], query: dict[str, str]) -> list[dict]:
        """`since` / `until` on the committed date, newest first, as GitLab lists a branch."""
        since, until = _when(query.get("since")), _when(query.get("until"))
        kept = [
            item for item in items
            if (since is None or _when(item["committed_date"]) >= since)
            and (until is None or _when(item["committed_date"]) <= until)
        ]
        return sorted(kept, key=lambda item: _when(item["committed_date"]), reverse=True)

    def _page(self, path: str, query: dict[str, str], items: list[dict]) -> tuple[int, Any, dict[str, str]]:
        per_page = max(1, min(100, int(query.get("per_page") or 20)))
        page = max(1, int(query.get("page") or 1))
        total_pages = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page: page * per_page]
        base = f"http://{self.headers.get('Host')}{path}"

        def link(number: int) -> str:
            return f"{base}?{urlencode(dict(query, page=str(number), per_page=str(per_page)))}"

        rels = [(1, "first"), (total_pages, "last")]
        if page > 1:
            rels.insert(0, (page - 1, "prev"))
        if page < total_pages:
            rels.insert(0, (page + 1, "next"))
        headers = {
            "Link": ", ".join(f'<{link(number)}>; rel="{rel}"' for number, rel in rels),
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Total": str(len(items)),
            "X-Total-Pages": str(total_pages),
            "X-Next-Page": str(page + 1) if page < total_pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
        }
        return 200, chunk, headers
