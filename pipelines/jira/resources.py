"""Jira client resource: Server/Data Center and Cloud through the `jira` library.

Costs: per run one `serverInfo` and ceil(N / page size) search pages for the N
issues changed since the cursor; per-issue requests only where Jira truncated
the embedded changelog, comments or worklogs. The field list, projects, boards
and sprints are fetched on full runs (incremental runs parse custom fields with
the stored field list), sprints also when a changed issue is in a sprint.
"""

import logging
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
from pydantic import PrivateAttr

from pipelines.common_parse import to_utc
from pipelines.http import RetrySettings, call_with_retries, mount_retries
from pipelines.raw_store import RawItem
from pipelines.sync import FetchResult

log = logging.getLogger(__name__)

SEARCH_PAGE_REQUEST = 1000
"""Ask for the most; Jira answers with its own cap (`maxResults` in the reply), which paging follows."""

REST_API_VERSION = "2"


def _jira_session(client):
    """The `requests` session a `jira.JIRA` client sends every request through.

    The one place this module goes past the `jira` library's public API (verified
    on the pinned jira 3.10.5): `JIRA` neither takes a session nor exposes its own
    (`_session`), and Lodestar needs it to mount the shared retry policy, to count
    requests and to page the search itself (see `_get_json`).
    tests/test_client_internals.py fails if an upgrade changes this.
    """
    return client._session


def _get_json(client, path: str, params: dict[str, Any]) -> Any:
    """GET `/rest/api/2/{path}` through the client's session; Jira's error replies raise `JIRAError`.

    The library's public `search_issues` / `enhanced_search_issues` would first GET
    /field (to translate JQL field names we never use) and add parameters of their
    own; this asks exactly once per page.
    """
    from jira.utils import json_loads

    url = f"{client.server_url}/rest/api/{REST_API_VERSION}/{path}"
    return json_loads(_jira_session(client).get(url, params=params))


def jql_for(projects: list[str], since_local: datetime | None) -> str:
    """Stable order: by creation then key, so an issue updated mid-sync cannot shift the pages."""
    quoted = ", ".join('"' + p.replace('"', '\\"') + '"' for p in projects)
    clauses = [f"project in ({quoted})"]
    if since_local is not None:
        clauses.append(f'updated >= "{since_local:%Y/%m/%d %H:%M}"')
    return " AND ".join(clauses) + " ORDER BY created ASC, key ASC"


def _offset_zone(server_time: str | None) -> timezone:
    """The zone of a Jira timestamp such as 2015-06-01T10:00:00.000+0800."""
    try:
        offset = datetime.fromisoformat(server_time).utcoffset() if server_time else None
    except ValueError:
        offset = None
    return timezone(offset) if offset is not None else timezone.utc


def _sprint_field_in(issue: dict) -> str | None:
    """Without the field list, recognise the Sprint field by its values (Agile's sprint objects or strings)."""
    for name, value in issue["fields"].items():
        if name.startswith("customfield_") and isinstance(value, list) and value:
            first = value[0]
            if (isinstance(first, dict) and {"id", "state", "name"} <= set(first)) or (
                isinstance(first, str) and "greenhopper.service.sprint.Sprint@" in first
            ):
                return name
    return None


class JiraClient(dg.ConfigurableResource):
    """Fetches issues (with changelog, comments, worklogs, links), fields, sprints and projects."""

    url: str
    projects: list[str]
    user: str | None = None
    token: str | None = None
    timeout_seconds: float = 30.0
    retry_attempts: int = 6
    backoff_seconds: float = 0.5

    _requests: int = PrivateAttr(default=0)

    def _retry(self) -> RetrySettings:
        return RetrySettings(
            attempts=self.retry_attempts, backoff_seconds=self.backoff_seconds, timeout_seconds=self.timeout_seconds
        )

    def _count(self, response, *args, **kwargs):
        self._requests += 1
        return response

    def _connect(self):
        from jira import JIRA

        auth: dict[str, Any] = {}
        if self.user and self.token:
            auth["basic_auth"] = (self.user, self.token)
        elif self.token:
            auth["token_auth"] = self.token

        def connect():
            client = JIRA(
                server=self.url.rstrip("/"),
                options={"rest_api_version": REST_API_VERSION, "check_update": False},
                timeout=self.timeout_seconds,
                max_retries=0,
                get_server_info=False,
                **auth,
            )
            session = _jira_session(client)
            mount_retries(session, self._retry())
            session.hooks["response"].append(self._count)
            info = client.server_info()
            client.deploymentType = info.get("deploymentType")
            return client, info

        return call_with_retries(connect, f"Jira {self.url}: serverInfo", self._retry())

    def _user_zone(self, client, server_info: dict) -> timezone | ZoneInfo:
        """JQL dates are read in the searching user's zone: theirs when signed in, the server's otherwise."""
        if self.user or self.token:
            zone = (client.myself() or {}).get("timeZone")
            if zone:
                return ZoneInfo(zone)
        return _offset_zone(server_info.get("serverTime"))

    def fetch(self, since: datetime | None) -> FetchResult:
        self._requests = 0
        client, server_info = self._connect()
        retry = self._retry()
        items: list[RawItem] = []
        fields: list[dict] = []
        if since is None:
            fields = call_with_retries(client.fields, "Jira /field", retry)
            items.append(RawItem("jira_fields", "fields", None, fields))
        since_local = None
        if since is not None:
            zone = self._user_zone(client, server_info)
            since_local = since.replace(tzinfo=timezone.utc).astimezone(zone) - timedelta(minutes=1)
        jql = jql_for(self.projects, since_local)
        issues = self._search(client, jql, retry)
        newest: datetime | None = None
        sprint_ids: set[str] = set()
        sprint_field = next((f["id"] for f in fields if (f.get("schema") or {}).get("custom", "").endswith("gh-sprint")), None)
        for issue in issues:
            if sprint_field is None and since is not None:
                sprint_field = _sprint_field_in(issue)
            self._complete_issue(client, issue, retry)
            updated = to_utc(issue["fields"].get("updated"))
            newest = max(filter(None, [newest, updated]), default=None)
            items.append(RawItem("jira_issue", issue["key"], updated, issue))
            for sprint in (issue["fields"].get(sprint_field) or []) if sprint_field else []:
                sprint_ids.add(str(sprint.get("id") if isinstance(sprint, dict) else sprint))
        if since is None or sprint_ids:
            items += self._sprints_and_projects(client, retry)
        return FetchResult(
            items=items,
            cursor=newest.isoformat() if newest else None,
            requests=self._requests,
            scope="issues",
            complete=since is None,
        )

    def _search(self, client, jql: str, retry: RetrySettings) -> list[dict]:
        """Page through the search with the library's session (its search helpers would
        first fetch /field to translate names we never use; see `_get_json`)."""
        issues: list[dict] = []
        params = {"jql": jql, "fields": "*all", "expand": "changelog", "maxResults": SEARCH_PAGE_REQUEST}
        if client.deploymentType == "Cloud":
            token = None
            while True:
                page = call_with_retries(
                    lambda: _get_json(client, "search/jql", {**params, "nextPageToken": token} if token else params),
                    f"Jira search page after {len(issues)}", retry,
                )
                issues += page.get("issues", [])
                token = page.get("nextPageToken")
                if not token or page.get("isLast", False):
                    return issues
        start = 0
        while True:
            page = call_with_retries(
                lambda: _get_json(client, "search", {**params, "startAt": start}),
                f"Jira search page at {start}", retry,
            )
            batch = page.get("issues", [])
            issues += batch
            start += len(batch)
            if not batch or start >= int(page.get("total", 0)):
                return issues

    def _complete_issue(self, client, issue: dict, retry: RetrySettings) -> None:
        """Fetch what Jira truncated inside the search result, and only that."""
        key = issue["key"]
        changelog = issue.get("changelog") or {}
        if changelog.get("total", 0) > len(changelog.get("histories", [])):
            full = call_with_retries(lambda: client.issue(key, fields="created", expand="changelog").raw,
                                     f"Jira changelog of {key}", retry)
            issue["changelog"] = full["changelog"]
        fields = issue["fields"]
        comment = fields.get("comment") or {}
        if comment.get("total", 0) > len(comment.get("comments", [])):
            comments = call_with_retries(lambda: [c.raw for c in client.comments(key)], f"Jira comments of {key}", retry)
            fields["comment"] = {"startAt": 0, "maxResults": len(comments), "total": len(comments), "comments": comments}
        worklog = fields.get("worklog") or {}
        if worklog.get("total", 0) > len(worklog.get("worklogs", [])):
            worklogs = call_with_retries(lambda: [w.raw for w in client.worklogs(key)], f"Jira worklogs of {key}", retry)
            fields["worklog"] = {"startAt": 0, "maxResults": len(worklogs), "total": len(worklogs), "worklogs": worklogs}

    def _sprints_and_projects(self, client, retry: RetrySettings) -> list[RawItem]:
        from jira.exceptions import JIRAError

        items: list[RawItem] = []
        for key in self.projects:
            try:
                project = call_with_retries(lambda: client.project(key).raw, f"Jira project {key}", retry)
                items.append(RawItem("jira_project", key, None, project))
            except JIRAError as error:
                if error.status_code != 404:
                    raise
                log.warning("Jira project %s not found", key)
            try:
                boards = call_with_retries(lambda: client.boards(projectKeyOrID=key, maxResults=False),
                                           f"Jira boards of {key}", retry)
            except JIRAError as error:
                if error.status_code not in (400, 404):
                    raise
                log.info("Jira %s: no Agile boards (%s)", key, error.status_code)
                continue
            for board in boards:
                sprints = call_with_retries(lambda: client.sprints(board.id, maxResults=False),
                                            f"Jira sprints of board {board.id}", retry)
                for sprint in sprints:
                    body = dict(sprint.raw)
                    body.setdefault("originBoardId", board.id)
                    items.append(RawItem("jira_sprint", str(body["id"]), None, body))
        return items
