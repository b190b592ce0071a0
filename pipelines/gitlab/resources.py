"""GitLab as a source: issues (with their notes and links), merge requests and commits of each project.

Talks to GitLab.com or a self-hosted instance through python-gitlab, on a
`requests` session carrying the shared retry policy (pipelines/http.py). Each
raw body is one item exactly as the v4 API returned it; only the per-issue
notes and links lists are wrapped, with the issue's key and `updated_at`, so
that a changed issue always brings its notes and links into the same load
batch (the loader drops children of a re-synced task that the batch lacks).

No `from __future__ import annotations` here: Dagster reads the resource's
field annotations at run time.
"""

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import dagster as dg
import gitlab
import requests
from gitlab.exceptions import GitlabListError, GitlabParsingError

from pipelines.common_parse import to_utc
from pipelines.gitlab.parse import ISSUE_LINKS_KIND, ISSUE_NOTES_KIND, issue_key, merge_request_key
from pipelines.http import RetrySettings, call_with_retries, mount_retries
from pipelines.raw_store import RawItem
from pipelines.sync import FetchResult

log = logging.getLogger(__name__)

# A page whose body broke after the transport succeeded: the stream is resumed (see `_list`).
_BROKEN_PAGE_ERRORS: tuple[type[BaseException], ...] = (
    GitlabParsingError,
    json.JSONDecodeError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
# python-gitlab's own retries sit on top of the session's urllib3 retries (which already
# honour Retry-After / RateLimit-Reset and back off); a couple more only cover broken bodies.
_LIBRARY_RETRIES = 2


class _RequestCounter:
    """`requests` response hook: one count per HTTP response the session hands back."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        self.count += 1
        return response


def _query_time(moment: datetime) -> str:
    """Naive UTC → the ISO 8601 form GitLab's `updated_after` / `since` expect."""
    return moment.replace(tzinfo=None).isoformat() + "Z"


class GitLabClient(dg.ConfigurableResource):
    """Fetches issues, merge requests and commits changed since the cursor from GitLab projects."""

    base_url: str = "https://gitlab.com"
    projects: list[str]
    token: str | None = None
    timeout_seconds: float = 30
    retry_attempts: int = 6
    backoff_seconds: float = 0.5
    page_size: int = 100
    commit_lookback_days: float = 7
    """Commits are listed from `since` minus this: a merged branch brings commits dated before the cursor."""

    def _retry_settings(self) -> RetrySettings:
        return RetrySettings(
            attempts=self.retry_attempts, backoff_seconds=self.backoff_seconds, timeout_seconds=self.timeout_seconds
        )

    def _api_root(self) -> str:
        url = self.base_url.rstrip("/")
        return url[: -len("/api/v4")] if url.endswith("/api/v4") else url

    def fetch(self, since: datetime | None) -> FetchResult:
        started = datetime.now(timezone.utc).replace(tzinfo=None)
        settings = self._retry_settings()
        session = mount_retries(requests.Session(), settings)
        counter = _RequestCounter()
        session.hooks["response"].append(counter)
        client = gitlab.Gitlab(
            self._api_root(),
            private_token=self.token or None,
            timeout=self.timeout_seconds,
            session=session,
            retry_transient_errors=True,
            per_page=self.page_size,
            keep_base_url=True,
        )
        items: list[RawItem] = []
        try:
            for path in self.projects:
                items.extend(self._fetch_project(client, path, since, settings))
        finally:
            session.close()
        moments = [
            min(item.updated_at, started) if item.kind == "gitlab_commit" else item.updated_at
            for item in items
            if item.updated_at is not None
        ]
        cursor = max(moments).isoformat() if moments else None
        log.info("gitlab %s: %d items in %d requests", self._api_root(), len(items), counter.count)
        return FetchResult(items=items, cursor=cursor, requests=counter.count, complete=since is None)

    def _fetch_project(
        self, client: gitlab.Gitlab, path: str, since: datetime | None, settings: RetrySettings
    ) -> list[RawItem]:
        project = client.projects.get(path, lazy=True)
        changed = {"order_by": "updated_at", "sort": "asc", "scope": "all"}
        if since is not None:
            changed["updated_after"] = _query_time(since)
        items: list[RawItem] = []

        for body in self._list(f"{path} issues", project.issues.list, changed, settings, resume=True):
            key = issue_key(body) or f"{path}#{body['iid']}"
            updated = to_utc(body.get("updated_at"))
            items.append(RawItem("gitlab_issue", key, updated, body))
            issue = project.issues.get(body["iid"], lazy=True)
            notes = self._list(
                f"{key} notes", issue.notes.list, {"order_by": "created_at", "sort": "asc"}, settings
            )
            items.append(RawItem(ISSUE_NOTES_KIND, key, updated, {
                "issue": key, "issue_updated_at": body.get("updated_at"), "notes": notes,
            }))
            items.append(RawItem(ISSUE_LINKS_KIND, key, updated, {
                "issue": key, "issue_updated_at": body.get("updated_at"),
                "links": self._issue_links(issue, key, settings),
            }))

        for body in self._list(f"{path} merge requests", project.mergerequests.list, changed, settings, resume=True):
            key = merge_request_key(body) or f"{path}!{body['iid']}"
            items.append(RawItem("gitlab_merge_request", key, to_utc(body.get("updated_at")), body))

        commit_filter: dict[str, Any] = {"with_stats": "true"}
        if since is not None:
            commit_filter["since"] = _query_time(since - timedelta(days=self.commit_lookback_days))
        for body in self._list(f"{path} commits", project.commits.list, commit_filter, settings):
            updated = to_utc(body.get("committed_date") or body.get("created_at"))
            items.append(RawItem("gitlab_commit", f"{path}@{body['id']}", updated, body))
        return items

    def _issue_links(self, issue: Any, key: str, settings: RetrySettings) -> list[dict[str, Any]]:
        try:
            return self._list(f"{key} links", issue.links.list, {}, settings)
        except GitlabListError as error:
            if error.response_code in (403, 404):
                # Instances or plans without issue links answer 404/403: no links, not a failed sync.
                log.warning("gitlab %s: issue links unavailable (%s)", key, error.response_code)
                return []
            raise

    @staticmethod
    def _list(
        what: str,
        list_call: Callable[..., Any],
        params: dict[str, Any],
        settings: RetrySettings,
        resume: bool = False,
    ) -> list[dict[str, Any]]:
        """Every item of one paginated listing, as the JSON the API returned.

        A page that arrives broken (cut-off JSON, dropped mid-body) fails the iterator
        after it has already moved on, so the listing is restarted: from the last item's
        `updated_at` for listings sorted by it (`resume`), else from the top. Items are
        kept by id, so the overlap is not duplicated.
        """
        found: dict[Any, dict[str, Any]] = {}
        resume_from: dict[str, str] = {}

        def run() -> None:
            query = {**params, **resume_from}
            for obj in list_call(iterator=True, max_retries=_LIBRARY_RETRIES, **query):
                # asdict(): the JSON as returned; `.attributes` would add python-gitlab's parent ids.
                body = obj.asdict()
                found.pop(body.get("id"), None)
                found[body.get("id")] = body
                if resume and body.get("updated_at"):
                    resume_from["updated_after"] = body["updated_at"]

        call_with_retries(run, what, settings, transient=_BROKEN_PAGE_ERRORS)
        return list(found.values())
