"""The one retry policy of every source client and alert channel, and its mounting on `requests` sessions.

One policy, so that a flaky or busy server meets the same manners from a Jira
sync and from an alert delivery: a bounded number of attempts, exponential
backoff (with jitter where clients that failed together should not retry
together), waits that honour `Retry-After` (seconds or an HTTP date) and the
rate-limit reset headers GitHub and GitLab send, and one list of what is worth
another try (`retryable_status`, `TRANSIENT_ERRORS`).

It is applied in two ways:

- `mount_retries` / `make_retry` put it on a `requests` session as a urllib3
  `Retry`, for the vendor libraries (`jira`, `PyGithub`, `python-gitlab`) that
  speak through `requests` and retry each request transparently;
- `retry_calls` runs any attempt again while its outcome says it is worth it.
  `call_with_retries` is that loop for a call that raises (a page whose body
  arrived broken); the alert transport drives it with its delivery outcomes.

Every wait goes through `backoff_pause`, so a test can skip them all by patching
it here (alert deliveries read it through `pipelines.alerts.channels`, which
re-exports it and is where their tests patch it).

A server that cannot be connected to at all (connection refused, host name not
found, no route, no answer to the connection within the timeout, which the
operating system already spent re-sending) is not asked again: the call fails at
once, and `failure_line` words it in one line naming the URL. Retries are for
servers that answered.
"""

from __future__ import annotations

import errno
import json
import logging
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from itertools import takewhile
from typing import Any, Generic, Protocol, TypeVar

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, NameResolutionError
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
"""Answers of a busy, restarting or overloaded server; any other status says the request itself is wrong."""


@dataclass(frozen=True)
class RetrySettings:
    """How hard one call or request is tried; the defaults are those of the source clients."""

    attempts: int = 6
    """Most tries of one call or request, the first included."""
    backoff_seconds: float = 0.5
    """Wait before the first retry, doubled for each retry after it."""
    max_backoff_seconds: float = 60.0
    jitter: float = 0.5
    """Up to this fraction of a backoff is added at random, so clients that failed together spread out."""
    max_wait_seconds: float = 900.0
    """The longest pause a server may ask for that is waited out (see `retry_calls` and `LodestarRetry`)."""
    timeout_seconds: float = 30.0

    def backoff(self, retry: int) -> float:
        """The wait before retry number `retry` (1 for the first) when the server did not say how long."""
        wait = min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (max(1, retry) - 1))
        return wait + random.uniform(0, wait * self.jitter) if wait and self.jitter else wait


def backoff_pause(seconds: float) -> None:
    """Every wait between two tries; a module function so a test can skip the waits without touching `time`."""
    time.sleep(seconds)


def retryable_status(status: int, asked_to_wait: bool = False) -> bool:
    """Whether an answer with this status is worth another try.

    A 403 normally means "not allowed", but GitHub answers its secondary rate
    limit with a 403 that says when to come back; only that one is retried.
    """
    return status in RETRY_STATUSES or (status == 403 and asked_to_wait)


def wait_from_headers(headers, now: float | None = None) -> float | None:
    """Seconds a server asked us to wait, from whichever rate-limit header it sent."""
    if not headers:
        return None
    now = time.time() if now is None else now
    retry_after = headers.get("Retry-After")
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(retry_after).timestamp() - now)
            except (TypeError, ValueError):
                pass
    for name in ("X-RateLimit-Reset", "RateLimit-Reset"):
        value = headers.get(name)
        if not value:
            continue
        try:
            number = float(value)
        except ValueError:
            continue
        remaining = headers.get("X-RateLimit-Remaining", headers.get("RateLimit-Remaining"))
        if remaining not in (None, "") and str(remaining).strip() not in ("0", "0.0"):
            continue
        # X-RateLimit-Reset is an epoch second (GitHub, GitLab); RateLimit-Reset is
        # seconds-from-now in the IETF draft, but an epoch on some servers.
        return max(0.0, number - now) if number > 1e9 else max(0.0, number)
    return None


class RetryOutcome(Protocol):
    """What `retry_calls` needs to know of one try."""

    @property
    def retry(self) -> bool:
        """Failed, and worth another try."""

    @property
    def wait(self) -> float | None:
        """The pause the server asked for before the next try; None for the policy's backoff."""


O = TypeVar("O", bound=RetryOutcome)


@dataclass(frozen=True)
class Tried(Generic[O]):
    """How a run of tries ended."""

    outcome: O
    """The last try's outcome."""
    attempts: int
    refused_wait: float | None = None
    """A pause the server asked for beyond `max_wait_seconds`; not waited, so the tries ended there."""


def retry_calls(attempt: Callable[[], O], settings: RetrySettings, *, what: str, reason: Callable[[O], str],
                logger: logging.Logger = log, sleep: Callable[[float], None] | None = None) -> Tried[O]:
    """Try until an outcome is not worth retrying or the attempts are used up, waiting as the policy says.

    A server asking for a pause longer than `max_wait_seconds` ends the tries at
    once: the caller reports the failure now rather than stalling its run.
    `reason` words a failure for the log line; it must not contain a secret.
    """
    tries = max(1, settings.attempts)
    number = 1
    while True:
        outcome = attempt()
        if not outcome.retry or number == tries:
            return Tried(outcome, number)
        if outcome.wait is not None and outcome.wait > settings.max_wait_seconds:
            return Tried(outcome, number, refused_wait=outcome.wait)
        wait = settings.backoff(number) if outcome.wait is None else max(0.0, outcome.wait)
        logger.warning("%s: attempt %d failed (%s); retrying in %.1f s", what, number, reason(outcome), wait)
        (sleep or backoff_pause)(wait)
        number += 1


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    json.JSONDecodeError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
"""Dropped connections, timeouts and broken bodies: what a retry of the same call can cure,
unless the session's own retries already tried (`retried_by_session`) or no connection
could be made (`connect_failure`)."""


def _causes(error: BaseException) -> list[BaseException]:
    """`error` and everything it wraps: causes, contexts, urllib3 reasons, exceptions among its args."""
    seen: list[BaseException] = []
    pending = [error]
    while pending:
        current = pending.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        pending += [current.__cause__, current.__context__, getattr(current, "reason", None)]
        pending += [arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException)]
    return [c for c in seen if isinstance(c, BaseException)]


_UNREACHABLE_ERRNOS = {errno.ENETUNREACH: "network unreachable", errno.EHOSTUNREACH: "no route to host",
                       errno.ECONNREFUSED: "connection refused"}


def connect_failure(error: BaseException) -> str | None:
    """What kept a connection from being made ("connection refused", "host name not found", ...), or None
    when `error` is not a failure to connect (the server answered, or the connection broke later)."""
    causes = _causes(error)
    if any(isinstance(c, (NameResolutionError, socket.gaierror)) for c in causes):
        return "host name not found"
    for cause in causes:
        if isinstance(cause, OSError) and cause.errno in _UNREACHABLE_ERRNOS:
            return _UNREACHABLE_ERRNOS[cause.errno]
    if any(isinstance(c, NewConnectionError) for c in causes):
        return "cannot connect"
    if any(isinstance(c, ConnectTimeoutError) for c in causes):
        return "no answer to the connection (timed out)"
    return None


def retried_by_session(error: BaseException) -> bool:
    """Whether `error` ends the retries a session's `LodestarRetry` already made (urllib3's MaxRetryError):
    retrying the call again would only multiply the attempts."""
    return any(isinstance(c, MaxRetryError) for c in _causes(error))


def _clipped(text: object, limit: int = 300) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def failure_line(error: BaseException, url: str | None = None) -> str:
    """One line saying why a call failed, for a person: "cannot connect to URL: connection refused", the
    status and message of an error answer, or the error's type and first words (never a traceback).

    An error answer of a vendor library (JIRAError, GithubException, GitlabError) is said by its
    status and message only: their text would add the response headers, cookies included.
    """
    reason = connect_failure(error)
    if reason is not None:
        return f"cannot connect to {url}: {reason}" if url else f"cannot connect: {reason}"
    status = next((value for name in ("status_code", "status", "response_code")
                   if isinstance(value := getattr(error, name, None), int)), None)
    if status is not None:
        message = next((value for name in ("text", "error_message", "data") if (value := getattr(error, name, None))),
                       "")
        where = getattr(error, "url", None) or url
        return f"HTTP {status}" + (f" from {where}" if where else "") + (f": {_clipped(message)}" if message else "")
    text = _clipped(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@dataclass(frozen=True)
class _Call:
    """One try of `call_with_retries`: the value, or the transient error raised instead."""

    value: Any = None
    error: BaseException | None = None
    wait: None = None

    @property
    def retry(self) -> bool:
        return self.error is not None


def call_with_retries(
    fetch: Callable[[], T],
    what: str,
    settings: RetrySettings = RetrySettings(),
    transient: tuple[type[BaseException], ...] = TRANSIENT_ERRORS,
    is_transient: Callable[[BaseException], bool] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> T:
    """Run one page fetch, retrying broken bodies and dropped connections; any other error is raised at once.

    An error the session's retries already ended (`retried_by_session`) or a failure to
    connect is not retried here either.
    """

    def attempt() -> _Call:
        try:
            return _Call(value=fetch())
        except Exception as error:  # noqa: BLE001 - classified just below
            if retried_by_session(error) or connect_failure(error) is not None:
                raise
            if isinstance(error, transient) or (is_transient is not None and is_transient(error)):
                return _Call(error=error)
            raise

    tried = retry_calls(attempt, settings, what=what, sleep=sleep,
                        reason=lambda call: f"{type(call.error).__name__}: {call.error}")
    if tried.outcome.error is not None:
        raise tried.outcome.error
    return tried.outcome.value


class LodestarRetry(Retry):
    """The policy as urllib3 applies it to each request of a `requests` session.

    Unlike `retry_calls`, a server asking for more than `max_wait_seconds` is
    waited `max_wait_seconds` and asked again: a sync has to get its data, and
    GitHub's hourly rate-limit reset is often further away than that.
    """

    settings: RetrySettings = RetrySettings()

    def new(self, **kwargs: Any) -> LodestarRetry:
        retry = super().new(**kwargs)
        retry.settings = self.settings  # urllib3 rebuilds the object for every retry from its own parameters
        return retry

    def get_retry_after(self, response) -> float | None:  # type: ignore[override]
        wait = wait_from_headers(response.headers)
        return None if wait is None else min(wait, self.settings.max_wait_seconds)

    def get_backoff_time(self) -> float:
        # Redirects followed are not failures; count only the failures since the last one.
        failures = len(list(takewhile(lambda entry: entry.redirect_location is None, reversed(self.history))))
        return self.settings.backoff(failures) if failures else 0.0

    def sleep(self, response=None) -> None:
        wait = self.get_retry_after(response) if response is not None else None
        backoff_pause(self.get_backoff_time() if wait is None else wait)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        return retryable_status(status_code, has_retry_after)


def make_retry(settings: RetrySettings = RetrySettings()) -> LodestarRetry:
    """The policy for a session: reads and busy answers retried, connections that cannot be made not (`connect=0`)."""
    retries = max(0, settings.attempts - 1)
    retry = LodestarRetry(
        total=retries,
        connect=0,
        read=retries,
        status=retries,
        backoff_factor=settings.backoff_seconds,
        backoff_max=settings.max_backoff_seconds,
        status_forcelist=sorted(RETRY_STATUSES),
        allowed_methods=None,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    retry.settings = settings
    return retry


def mount_retries(session: requests.Session, settings: RetrySettings = RetrySettings()) -> requests.Session:
    adapter = HTTPAdapter(max_retries=make_retry(settings), pool_connections=4, pool_maxsize=8)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
