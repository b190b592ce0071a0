"""HTTP resilience shared by every vendor client: one retry policy, mounted on their sessions.

The vendor libraries (`jira`, `PyGithub`, `python-gitlab`) all speak through
`requests`; mounting the same urllib3 retry on their sessions gives them one
behaviour: exponential backoff with jitter on 5xx, timeouts and dropped
connections, and waits that honour `Retry-After`, `X-RateLimit-Reset` and
`RateLimit-Reset`. A page whose body is broken (truncated JSON) is retried by
`call_with_retries` around the page fetch.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_HONOURED_WAIT_SECONDS = 900.0


@dataclass(frozen=True)
class RetrySettings:
    attempts: int = 6
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 60.0
    timeout_seconds: float = 30.0


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
            from email.utils import parsedate_to_datetime

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


class LodestarRetry(Retry):
    """urllib3 retry that also understands X-RateLimit-Reset / RateLimit-Reset and adds jitter."""

    def get_retry_after(self, response) -> float | None:  # type: ignore[override]
        wait = wait_from_headers(response.headers)
        if wait is None:
            return None
        return min(wait, MAX_HONOURED_WAIT_SECONDS)

    def get_backoff_time(self) -> float:
        base = super().get_backoff_time()
        return base + random.uniform(0, base / 2) if base else 0.0

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 403 and has_retry_after:
            return True
        return super().is_retry(method, status_code, has_retry_after)


def make_retry(settings: RetrySettings = RetrySettings()) -> LodestarRetry:
    return LodestarRetry(
        total=settings.attempts,
        connect=settings.attempts,
        read=settings.attempts,
        status=settings.attempts,
        backoff_factor=settings.backoff_seconds,
        backoff_max=settings.max_backoff_seconds,
        status_forcelist=sorted(RETRY_STATUSES),
        allowed_methods=None,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def mount_retries(session: requests.Session, settings: RetrySettings = RetrySettings()) -> requests.Session:
    adapter = HTTPAdapter(max_retries=make_retry(settings), pool_connections=4, pool_maxsize=8)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    json.JSONDecodeError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def call_with_retries(
    fetch: Callable[[], T],
    what: str,
    settings: RetrySettings = RetrySettings(),
    transient: tuple[type[BaseException], ...] = TRANSIENT_ERRORS,
    is_transient: Callable[[BaseException], bool] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run one page fetch, retrying broken bodies and dropped connections with backoff and jitter."""
    for attempt in range(1, settings.attempts + 1):
        try:
            return fetch()
        except Exception as error:  # noqa: BLE001 - classified just below
            retryable = isinstance(error, transient) or (is_transient is not None and is_transient(error))
            if not retryable or attempt == settings.attempts:
                raise
            wait = min(settings.max_backoff_seconds, settings.backoff_seconds * 2 ** (attempt - 1))
            wait += random.uniform(0, wait / 2)
            log.warning("%s failed (%s: %s); retry %d in %.1fs", what, type(error).__name__, error, attempt, wait)
            sleep(wait)
    raise AssertionError("unreachable")
