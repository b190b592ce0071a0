"""What the source clients take from their vendor libraries beyond the public API, checked on the installed versions.

Each `resources.py` goes past its library's public API in at most one small
function, whose docstring names the library version it was verified on and why
(jira: `_jira_session`; PyGithub: `_raw`; python-gitlab: none). A library
upgrade that changes what such a function relies on fails here, naming the
pinned version, instead of failing a sync later; and a new private use anywhere
else in those files fails the first test.
"""

from __future__ import annotations

import ast
import json
import re
import threading
from importlib.metadata import version
from urllib.parse import urlsplit

import pytest
import requests

from pipelines.github import resources as github_resources
from pipelines.jira import resources as jira_resources
from tests.conftest import REPO_ROOT
from tests.fakes.loopback import QuietHandler, QuietServer

# The one function per library allowed to touch private attributes (`obj._name`, not `self._name`).
PRIVATE_USE_ALLOWED = {
    "pipelines/jira/resources.py": {"_jira_session"},
    "pipelines/github/resources.py": set(),
    "pipelines/gitlab/resources.py": set(),
}


def _pinned(distribution: str) -> str:
    """The exact version pyproject.toml pins the library to."""
    text = (REPO_ROOT / "pyproject.toml").read_text()
    match = re.search(rf'"{re.escape(distribution)}==([^"]+)"', text)
    assert match, f"pyproject.toml does not pin {distribution} to one version"
    return match.group(1)


def _upgrade_hint(distribution: str, where: str) -> str:
    return (f"{where} was verified on {distribution} {_pinned(distribution)} (the pinned version); "
            f"installed {distribution} {version(distribution)} changed what it relies on: "
            f"see its docstring, re-check and adapt it")


def _private_uses(path: str) -> list[tuple[int, str, str | None]]:
    """(line, expression, enclosing function) of every `x._name` whose `x` is not `self` or `cls`."""
    tree = ast.parse((REPO_ROOT / path).read_text())
    uses = []

    def visit(node: ast.AST, function: str | None) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))):
            uses.append((node.lineno, ast.unparse(node), function))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree, None)
    return uses


@pytest.mark.parametrize("path", sorted(PRIVATE_USE_ALLOWED))
def test_library_private_attributes_are_used_in_one_isolated_function_only(path):
    stray = [use for use in _private_uses(path) if use[2] not in PRIVATE_USE_ALLOWED[path]]
    assert not stray, f"{path}: private library attributes outside {PRIVATE_USE_ALLOWED[path] or 'any function'}: {stray}"


class _Served:
    """A loopback server answering GETs from a path → (status, JSON) table, recording each request."""

    def __init__(self, answers: dict[str, tuple[int, object]]) -> None:
        self.answers = answers
        self.requests: list[str] = []
        served = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 - the base class's name
                served.requests.append(self.path)
                status, body = served.answers.get(urlsplit(self.path).path, (404, {"errorMessages": ["not here"]}))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> _Served:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_jira_session_is_the_session_every_jira_request_goes_through():
    from jira import JIRA
    from jira.exceptions import JIRAError

    hint = _upgrade_hint("jira", "pipelines/jira/resources.py:_jira_session")
    assert f"jira {_pinned('jira')}" in jira_resources._jira_session.__doc__, hint
    answers = {"/rest/api/2/serverInfo": (200, {"deploymentType": "Server"}),
               "/rest/api/2/search": (200, {"startAt": 0, "total": 0, "issues": []})}
    with _Served(answers) as served:
        client = JIRA(server=served.url, options={"rest_api_version": jira_resources.REST_API_VERSION,
                                                  "check_update": False},
                      get_server_info=False, max_retries=0, timeout=5)
        try:
            session = jira_resources._jira_session(client)
        except AttributeError as error:
            pytest.fail(f"{hint}: {error}")
        assert isinstance(session, requests.Session), hint
        hooked: list[str] = []
        session.hooks["response"].append(lambda response, *args, **kwargs: hooked.append(urlsplit(response.url).path))
        assert client.server_info() == {"deploymentType": "Server"}  # the library's own call
        assert jira_resources._get_json(client, "search", {"jql": "project = X", "startAt": 0}) == answers[
            "/rest/api/2/search"][1]
        with pytest.raises(JIRAError):
            jira_resources._get_json(client, "nowhere", {})
    assert hooked == ["/rest/api/2/serverInfo", "/rest/api/2/search", "/rest/api/2/nowhere"], hint
    assert served.requests[1] == "/rest/api/2/search?jql=project+%3D+X&startAt=0"


def test_github_raw_reads_a_listed_object_as_sent_without_a_request():
    from github import Github

    hint = _upgrade_hint("PyGithub", "pipelines/github/resources.py:_raw")
    assert f"PyGithub {_pinned('PyGithub')}" in github_resources._raw.__doc__, hint
    with _Served({}) as served:
        listed = {"url": f"{served.url}/repos/o/r/issues/1", "number": 1, "title": "As listed"}
        served.answers["/repos/o/r/issues"] = (200, [listed])
        served.answers["/repos/o/r/issues/1"] = (200, {**listed, "title": "As completed", "body": "more"})
        client = Github(base_url=served.url, lazy=True, retry=None)
        issue = client.get_repo("o/r").get_issues(state="all")[0]
        assert served.requests == ["/repos/o/r/issues?state=all"]
        assert github_resources._raw(issue) == listed, hint
        assert len(served.requests) == 1, f"{hint}: reading the listed JSON made a request"
        # Why `_raw` exists: the public property completes the object with one more GET.
        # Should this stop, `raw_data` is the public way and `_raw` can go.
        assert issue.raw_data["title"] == "As completed" and len(served.requests) == 2, (
            f"{hint}: the public raw_data no longer completes a listed object; use it instead of _raw")
        client.close()
