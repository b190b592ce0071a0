"""GitHub client resource (github.com or GitHub Enterprise) through PyGithub.

Per repository and run, the costs are: ceil(N / page size) pages of
`/issues?state=all&since=` (pull requests are listed there too and skipped),
pages of `/pulls?state=all&sort=updated&direction=desc` until a pull request
older than the cursor, pages of `/commits?since=` plus one `/commits/{sha}` per
listed commit (the list lacks `stats`), and on incremental runs one page of
`/milestones?state=all` plus one `/issues?milestone=` listing per milestone
changed since the cursor: a moved due date does not touch the issues'
`updated_at`, so they would otherwise keep the old one.

Bodies are stored exactly as the API returns them (PyGithub's raw data), never
reshaped; the token goes only into the `Authorization` header.

Known limits of the API: `/commits` lists the default branch only, and `since`
filters on the committer date, so a commit pushed long after it was committed
is missed until a full run.
"""

import logging
import math
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import dagster as dg

from pipelines.common_parse import to_utc
from pipelines.github.parse import is_pull_request, repo_full_name
from pipelines.http import LodestarRetry, RetrySettings, call_with_retries, make_retry
from pipelines.raw_store import RawItem
from pipelines.sync import FetchResult

log = logging.getLogger(__name__)


class _Count:
    """HTTP requests of one fetch: calls made plus transparent retries of them."""

    def __init__(self) -> None:
        self.calls = 0
        self.retries = 0

    @property
    def total(self) -> int:
        return self.calls + self.retries


class _CountingRetry(LodestarRetry):
    """The shared retry policy, also counting each retry it grants (urllib3 makes them unseen)."""

    count: _Count | None = None

    def new(self, **kwargs: Any) -> "_CountingRetry":
        retry = super().new(**kwargs)
        retry.count = self.count
        return retry

    def increment(self, *args: Any, **kwargs: Any) -> "_CountingRetry":
        retry = super().increment(*args, **kwargs)  # raises when no retry is left
        if self.count is not None:
            self.count.retries += 1
        return retry


def _raw(obj: Any) -> dict:
    """The JSON GitHub sent for a listed object, read without a request.

    The one place this module goes past PyGithub's public API (verified on the
    pinned PyGithub 2.10.0): the public `obj.raw_data` of a listed object first
    "completes" it with one more GET of its own URL (one per issue, pull request,
    milestone and commit listed), and PyGithub offers no public way to read a list
    item as it arrived. The base class's `raw_data` getter returns it as stored.
    tests/test_client_internals.py fails if an upgrade changes this.
    """
    from github.GithubObject import GithubObject

    return GithubObject.raw_data.fget(obj)


class GitHubClient(dg.ConfigurableResource):
    """Fetches issues, pull requests, commits (with stats) and milestone changes of the configured repositories."""

    base_url: str = "https://api.github.com"
    """github.com's API, or `https://HOST/api/v3` for GitHub Enterprise."""
    repos: list[str]
    token: str | None = None
    timeout_seconds: float = 30
    retry_attempts: int = 6
    backoff_seconds: float = 0.5
    page_size: int = 100
    seconds_between_requests: float = 0.0
    """PyGithub's pause between requests. Requests here are serial GETs and rate-limit
    answers are waited out (`Retry-After`), so none is needed by default."""

    def _retry_settings(self) -> RetrySettings:
        return RetrySettings(
            attempts=self.retry_attempts, backoff_seconds=self.backoff_seconds, timeout_seconds=self.timeout_seconds
        )

    def _connect(self, count: _Count):
        from github import Auth, Github

        retry = make_retry(self._retry_settings())
        retry.__class__ = _CountingRetry  # same policy; see _CountingRetry
        retry.count = count
        client = Github(
            base_url=self.base_url.rstrip("/"),
            auth=Auth.Token(self.token) if self.token else None,
            # PyGithub takes whole seconds only.
            timeout=max(1, math.ceil(self.timeout_seconds)),
            retry=retry,
            per_page=max(1, min(int(self.page_size), 100)),
            seconds_between_requests=self.seconds_between_requests or None,
            lazy=True,  # `get_repo` etc. make no request of their own
        )
        requester = client.requester
        request = requester.requestJsonAndCheck

        def counted(*args: Any, **kwargs: Any):
            count.calls += 1
            return request(*args, **kwargs)

        requester.requestJsonAndCheck = counted  # every GET below goes through it
        return client

    def _retrying(self, fetch, what: str):
        # A dropped connection or timeout while reading a body, which urllib3 cannot retry, and a
        # broken body; not what the session's retries already ended (see pipelines/http.py).
        return call_with_retries(fetch, what, self._retry_settings())

    def _listed(self, listing, what: str) -> Iterator[Any]:
        """The objects of a PyGithub paginated list, page by page, each page retried on its own.

        Iterating the list directly, one broken page would end the whole listing.
        Indexing it (`listing[i]`, public: it fetches pages up to item i, following
        the next-page links) keeps the place across a retry: the list keeps a page
        and moves to its next link only once the page has been read whole, so a
        retried index asks for the same page again and an index on a page already
        read costs no request.
        """
        index = 0
        while True:
            try:
                item = self._retrying(lambda index=index: listing[index], f"GitHub {what} from item {index + 1}")
            except IndexError:  # no page left
                return
            yield item
            index += 1

    def fetch(self, since: datetime | None) -> FetchResult:
        count = _Count()
        client = self._connect(count)
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        found: dict[tuple[str, str], RawItem] = {}
        stamps: list[datetime] = []
        commit_dates: list[datetime] = []
        try:
            for name in self.repos:
                repo = client.get_repo(name)
                for item in self._issues(repo, name, since):
                    found[(item.kind, item.item_key)] = item
                    stamps.append(item.updated_at)
                for item in self._pulls(repo, name, since):
                    found[(item.kind, item.item_key)] = item
                    stamps.append(item.updated_at)
                for item in self._commits(repo, name, since):
                    found[(item.kind, item.item_key)] = item
                    commit_dates.append(item.updated_at)
                if since is not None:
                    for item, milestone_updated in self._milestone_changes(repo, name, since):
                        if item is not None:
                            found[(item.kind, item.item_key)] = item
                        stamps.append(milestone_updated)
        finally:
            client.close()
        # Issue, pull request and milestone times are the server's clock. Commit dates
        # are the committer's; one from a clock running ahead must not move the cursor
        # past changes not yet made.
        seen = [s for s in stamps if s] + [d for d in commit_dates if d and d <= now]
        newest = max(seen, default=None)
        return FetchResult(
            items=list(found.values()),
            cursor=newest.isoformat() if newest else None,
            requests=count.total,
            scope="repos",
            complete=since is None,
        )

    def _issues(self, repo, name: str, since: datetime | None, milestone=None) -> Iterator[RawItem]:
        # Creation order keeps pages stable: an issue updated mid-sync keeps its place
        # (ordered by update time it would jump to the end and shift one unseen issue
        # back onto a page already read).
        params: dict[str, Any] = {"state": "all", "sort": "created", "direction": "asc"}
        if since is not None:
            params["since"] = since
        if milestone is not None:
            params["milestone"] = milestone
        what = f"{name} issues" + (f" of milestone {milestone.number}" if milestone is not None else "")
        for issue in self._listed(repo.get_issues(**params), what):
            body = _raw(issue)
            if is_pull_request(body):
                continue  # the pulls endpoint has them, with merge data
            yield RawItem("github_issue", f"{repo_full_name(body)}#{body['number']}", to_utc(body.get("updated_at")), body)

    def _pulls(self, repo, name: str, since: datetime | None) -> Iterator[RawItem]:
        listing = repo.get_pulls(state="all", sort="updated", direction="desc")
        for pull in self._listed(listing, f"{name} pulls"):
            body = _raw(pull)
            updated = to_utc(body.get("updated_at"))
            if since is not None and updated is not None and updated < since:
                return  # newest first: the rest is older still
            yield RawItem("github_pull", f"{repo_full_name(body)}#{body['number']}", updated, body)

    def _commits(self, repo, name: str, since: datetime | None) -> Iterator[RawItem]:
        from github import GithubException

        listing = repo.get_commits(since=since) if since is not None else repo.get_commits()
        try:
            shas = [_raw(commit)["sha"] for commit in self._listed(listing, f"{name} commits")]
        except GithubException as error:
            if error.status == 409:  # "Git Repository is empty."
                return
            raise
        for sha in shas:
            body = self._retrying(lambda sha=sha: repo.get_commit(sha).raw_data, f"GitHub {name} commit {sha}")
            committed = to_utc(((body.get("commit") or {}).get("committer") or {}).get("date"))
            yield RawItem("github_commit", f"{repo_full_name(body)}@{body['sha']}", committed, body)

    def _milestone_changes(self, repo, name: str, since: datetime) -> Iterator[tuple[RawItem | None, datetime | None]]:
        """Issues of milestones changed since the cursor, refetched so they carry the new due date."""
        for milestone in self._listed(repo.get_milestones(state="all"), f"{name} milestones"):
            updated = to_utc(_raw(milestone).get("updated_at"))
            yield None, updated
            if updated is None or updated < since:
                continue
            log.info("GitHub %s: milestone %s changed; refetching its issues", name, milestone.number)
            for item in self._issues(repo, name, None, milestone=milestone):
                yield item, None
