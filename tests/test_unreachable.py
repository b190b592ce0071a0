"""A server that cannot be connected to fails the fetch at once, in one line naming its URL (issue #12).

Before: an unreachable Jira took 258 s (six tries of serverInfo, each six tries of the
connection, with backoff) and 278 lines of stack trace. A refused connection or an
unknown host name is not worth another try; retries are for servers that answered.
"""

from __future__ import annotations

import socket
import time

import pytest

from pipelines import http
from pipelines.github.resources import GitHubClient
from pipelines.gitlab.resources import GitLabClient
from pipelines.http import connect_failure, failure_line
from pipelines.jira.resources import JiraClient


def _closed_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


CLIENTS = {
    "jira": lambda url: JiraClient(url=url, projects=["DRILL"]),
    "github": lambda url: GitHubClient(base_url=url, repos=["acme/web"]),
    "gitlab": lambda url: GitLabClient(base_url=url, projects=["acme/web"]),
}


@pytest.fixture
def no_waits(monkeypatch):
    """Any retry would pause first: fail the test instead of waiting."""
    def pause(seconds):
        raise AssertionError(f"retried after a failure to connect (would wait {seconds:.1f} s)")

    monkeypatch.setattr(http, "backoff_pause", pause)


@pytest.mark.parametrize("kind", sorted(CLIENTS))
def test_a_refused_connection_fails_the_fetch_at_once(kind, no_waits):
    url = _closed_url()
    started = time.perf_counter()
    with pytest.raises(Exception) as raised:
        CLIENTS[kind](url).fetch(None)
    assert time.perf_counter() - started < 5
    assert failure_line(raised.value, url) == f"cannot connect to {url}: connection refused"


@pytest.mark.parametrize("kind", sorted(CLIENTS))
def test_an_unknown_host_name_fails_the_fetch_at_once(kind, no_waits, monkeypatch):
    def unknown(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unknown)
    url = "https://tracker.example.invalid"
    with pytest.raises(Exception) as raised:
        CLIENTS[kind](url).fetch(None)
    assert failure_line(raised.value, url) == f"cannot connect to {url}: host name not found"


def test_failure_lines_are_one_line_and_only_connect_failures_say_cannot_connect():
    assert connect_failure(ValueError("bad page")) is None
    assert failure_line(ValueError("bad\n  page\n")) == "ValueError: bad page"
    assert failure_line(RuntimeError("x" * 1000)).endswith("…") and len(failure_line(RuntimeError("x" * 1000))) < 320
    refused = ConnectionRefusedError(111, "Connection refused")
    assert failure_line(OSError("wrapped"), "http://j") == "OSError: wrapped"
    wrapper = OSError("wrapped")
    wrapper.__cause__ = refused
    assert failure_line(wrapper, "http://j") == "cannot connect to http://j: connection refused"


def test_an_error_answer_is_said_by_status_and_message_without_its_headers():
    from github import GithubException
    from gitlab.exceptions import GitlabListError
    from jira.exceptions import JIRAError

    jira = JIRAError(status_code=401, text="You are not authenticated", url="https://j/rest/api/2/serverInfo",
                     headers={"Set-Cookie": "JSESSIONID=secret"})
    assert failure_line(jira, "https://j") == \
        "HTTP 401 from https://j/rest/api/2/serverInfo: You are not authenticated"
    github = GithubException(401, {"message": "Bad credentials"}, {"set-cookie": "secret"})
    assert failure_line(github, "https://api.github.com") == \
        "HTTP 401 from https://api.github.com: {'message': 'Bad credentials'}"
    assert failure_line(GitlabListError("403 Forbidden", 403, b"{}"), "https://gl") == "HTTP 403 from https://gl: 403 Forbidden"
