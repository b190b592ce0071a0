"""Sending a rendered alert: one HTTP POST or SMTP session per attempt, the shared retry policy around it.

Every platform's delivery ends in a `DeliveryResult`, never in an exception,
because a delivery that keeps failing must show up in the dashboard and in
Dagster instead of vanishing in a log. Webhook URLs (their path or query *is*
the credential), signing secrets and SMTP passwords are scrubbed from every
error and log line; destinations are shown as ``scheme://host/…``.
"""

from __future__ import annotations

import http.client
import json
import logging
import smtplib
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from typing import Any

from pipelines.alerts.channels.messages import clip, one_line
from pipelines.http import RetrySettings, retry_calls, retryable_status, wait_from_headers
from warehouse.settings import AlertChannel

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 30.0
MAX_HONOURED_WAIT_SECONDS = 300.0
"""A server asking for a longer pause than this gets a failed delivery now, not a stalled run."""

RESPONSE_READ_LIMIT = 64 * 1024
USER_AGENT = "Lodestar-alerts/0.1"


@dataclass(frozen=True)
class DeliveryResult:
    """What happened to one delivery, for the alert log the dashboard and Dagster show."""

    channel: str
    kind: str
    ok: bool
    attempts: int
    status: int | None
    """HTTP status of the last answer, or the SMTP reply code; None when nothing answered."""
    error: str | None
    """Readable reason for a failure (platform message included); never holds a secret or a full URL."""
    sent_at: datetime
    """When the delivery finished, successfully or not (UTC)."""
    destination: str | None = None
    """Where it went, redacted to scheme://host/… (or the SMTP host)."""


@dataclass
class Outcome:
    """One attempt's result, as the retry policy reads it."""

    ok: bool
    status: int | None = None
    error: str | None = None
    retry: bool = False
    wait: float | None = None
    """Pause the server asked for (Retry-After, platform rate limit) before the next attempt."""


# --------------------------------------------------------------------------- secrets


def redact_url(url: str | None) -> str:
    """scheme://host[:port]/… — webhook URLs carry their token in the path or query."""
    if not url:
        return "(no URL)"
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(unparsable URL)"
    if not parts.scheme or not host:
        return "(unparsable URL)"
    return f"{parts.scheme}://{host}{port}/…"


class Scrubber:
    """Removes every credential we hold from a text before it reaches an error or a log line."""

    def __init__(self, *values: str | None):
        hidden: set[str] = set()
        for value in values:
            if not value:
                continue
            hidden.add(value)
            if "://" in value:
                parts = urllib.parse.urlsplit(value)
                hidden.update((parts.path, parts.query))
                hidden.update(seg for seg in parts.path.split("/") if len(seg) >= 8)
                hidden.update(v for _, v in urllib.parse.parse_qsl(parts.query) if len(v) >= 4)
        # Fragments under four characters would mangle every error text and protect nothing.
        self._hidden = sorted((h for h in hidden if len(h) >= 4), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._hidden:
            if value in text:
                text = text.replace(value, "…")
        return text


class MissingSetting(Exception):
    pass


def setting(environ: Mapping[str, str], variable: str | None, what: str, channel: AlertChannel) -> str | None:
    """A secret read at call time, so it lives in the environment only; a named but unset variable is an error."""
    if not variable:
        return None
    value = environ.get(variable)
    if not value:
        raise MissingSetting(f"environment variable {variable} is not set ({what} of alert channel {channel.name!r})")
    return value


# --------------------------------------------------------------------------- retries


def retry_settings(channel: AlertChannel) -> RetrySettings:
    """The shared policy with the channel's retry count; no jitter, since one run sends its deliveries in turn."""
    return RetrySettings(attempts=channel.retries + 1, backoff_seconds=BACKOFF_BASE_SECONDS,
                         max_backoff_seconds=BACKOFF_CAP_SECONDS, jitter=0.0,
                         max_wait_seconds=MAX_HONOURED_WAIT_SECONDS, timeout_seconds=channel.timeout_seconds)


def send_with_retries(channel: AlertChannel, destination: str, attempt: Callable[[], Outcome],
                      sleep: Callable[[float], None], now: Callable[[], float], scrub: Scrubber) -> DeliveryResult:
    tried = retry_calls(attempt, retry_settings(channel), what=f"alert channel {channel.name} to {destination}",
                        reason=lambda failed: scrub(failed.error or "no reason given"), logger=log, sleep=sleep)
    outcome, attempts = tried.outcome, tried.attempts
    error = scrub(outcome.error) if outcome.error else None
    if outcome.ok:
        log.info("alert channel %s: delivered to %s (attempt %d)", channel.name, destination, attempts)
    else:
        if tried.refused_wait is not None:
            error = (f"{error}; the server asked to wait {tried.refused_wait:.0f} s, "
                     f"longer than {MAX_HONOURED_WAIT_SECONDS:.0f} s, so not retried")
        log.error("alert channel %s: delivery to %s failed after %d attempt(s): %s",
                  channel.name, destination, attempts, error)
    return DeliveryResult(
        channel=channel.name, kind=channel.kind, ok=outcome.ok, attempts=attempts, status=outcome.status,
        error=None if outcome.ok else error, sent_at=datetime.fromtimestamp(now(), timezone.utc),
        destination=destination,
    )


# --------------------------------------------------------------------------- HTTP


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirected POST would silently become a GET without the alert; report the redirect instead."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102
        return None


def opener(url: str, ssl_context: ssl.SSLContext | None) -> urllib.request.OpenerDirector:
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    # Environment proxies apply to real platforms; a loopback receiver must never go through one.
    loopback = host in ("127.0.0.1", "localhost", "::1")
    proxies = urllib.request.ProxyHandler({}) if loopback else urllib.request.ProxyHandler()
    handlers: list = [proxies, _NoRedirect()]
    if ssl_context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=ssl_context))
    return urllib.request.build_opener(*handlers)


@dataclass(frozen=True)
class Answer:
    """What a platform answered one POST."""

    status: int
    headers: Any
    text: str


@dataclass(frozen=True)
class Verdict:
    """How one platform says yes or no, for `judge`."""

    accepted: Callable[[int, str], Outcome] | None = None
    """The verdict on a 2xx answer (status, body); None when any 2xx is a success."""
    error_words: Callable[[dict], str | None] | None = None
    """The platform's own words from a JSON error body (None where it has none: the usual keys are read)."""


def post(http_opener: urllib.request.OpenerDirector, target: str, body: bytes, headers: Mapping[str, str],
         timeout: float, judge_answer: Callable[[Answer], Outcome]) -> Outcome:
    """One POST; an answer of any status goes to `judge_answer`, no answer at all is worth retrying."""
    request = urllib.request.Request(target, data=body, headers=dict(headers), method="POST")
    try:
        with http_opener.open(request, timeout=timeout) as response:
            status, answer_headers = response.status, response.headers
            text = response.read(RESPONSE_READ_LIMIT).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        status, answer_headers = error.code, error.headers
        try:
            text = error.read(RESPONSE_READ_LIMIT).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            text = ""
        finally:
            error.close()
    except urllib.error.URLError as error:
        return Outcome(ok=False, error=f"cannot reach {redact_url(target)}: {reason(error.reason)}", retry=True)
    except (OSError, http.client.HTTPException) as error:
        return Outcome(ok=False, error=f"no answer from {redact_url(target)}: {reason(error)}", retry=True)
    return judge_answer(Answer(status, answer_headers, text))


def reason(error: object) -> str:
    if isinstance(error, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(error, ConnectionResetError):
        return "connection reset"
    if isinstance(error, socket.gaierror):
        return f"host name not resolved ({error.strerror or error})"
    if isinstance(error, ssl.SSLError):
        return f"TLS error ({getattr(error, 'reason', None) or error})"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def platform_words(text: str, error_words: Callable[[dict], str | None] | None) -> str:
    """The platform's own words for an error answer, whatever shape the body has."""
    try:
        data = json.loads(text)
    except ValueError:
        return clip(one_line(text), 300) or "(empty body)"
    if isinstance(data, dict):
        words = error_words(data) if error_words else None
        if words is not None:
            return words
        for key in ("error", "message", "msg", "errmsg"):
            if isinstance(data.get(key), str):
                return clip(data[key], 300)
    return clip(one_line(text), 300)


def coded_answer(status: int, text: str, code_of: Callable[[dict], object],
                 error_words: Callable[[dict], str | None], retryable_codes: frozenset[int],
                 wait: float | None = None) -> Outcome:
    """The verdict on a 2xx answer whose JSON body carries the platform's result code, 0 for success.

    DingTalk and Feishu report errors, rate limits included, inside an HTTP 200;
    a rate-limit code is retried after `wait` (the policy's backoff when None).
    """
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return Outcome(ok=False, status=status, retry=True,
                       error=f"HTTP {status} with an unreadable body: {clip(one_line(text), 200)!r}")
    code = code_of(data)
    if code in (0, "0"):
        return Outcome(ok=True, status=status)
    retry = code in retryable_codes
    return Outcome(ok=False, status=status, error=platform_words(text, error_words), retry=retry,
                   wait=wait if retry else None)


def judge(answer: Answer, verdict: Verdict, now: Callable[[], float]) -> Outcome:
    """Success only when both HTTP and the platform say so."""
    status = answer.status
    if 200 <= status < 300:
        return verdict.accepted(status, answer.text) if verdict.accepted else Outcome(ok=True, status=status)
    if 300 <= status < 400:
        return Outcome(ok=False, status=status, error=f"HTTP {status}: redirected, not followed (check the URL)")
    message = f"HTTP {status}: {platform_words(answer.text, verdict.error_words)}"
    wait = wait_from_headers(answer.headers, now())
    if retryable_status(status, wait is not None):
        return Outcome(ok=False, status=status, error=message, retry=True, wait=wait)
    return Outcome(ok=False, status=status, error=message)


# --------------------------------------------------------------------------- SMTP


def _smtp_text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return clip(one_line(text), 300)


def smtp_attempt(channel: AlertChannel, mail: EmailMessage, user: str | None, password: str | None,
                 context: ssl.SSLContext) -> Outcome:
    """One SMTP session. A 4xx reply or a dropped connection is worth retrying; a 5xx reply is final."""
    where = f"{channel.smtp_host}:{channel.smtp_port}"
    connection: smtplib.SMTP | None = None
    try:
        connection = smtplib.SMTP(channel.smtp_host or "", channel.smtp_port, timeout=channel.timeout_seconds)
        connection.ehlo()
        if channel.starttls:
            if not connection.has_extn("starttls"):
                # Never fall back to clear text: the password and the alert would cross the network readable.
                return Outcome(ok=False,
                               error=f"SMTP server {where} does not offer STARTTLS (the channel requires it)")
            connection.starttls(context=context)
            connection.ehlo()
        if user:
            connection.login(user, password or "")
        refused = connection.send_message(mail)
    except smtplib.SMTPAuthenticationError as error:
        return Outcome(ok=False, status=error.smtp_code,
                       error=f"SMTP {error.smtp_code}: login refused by {where}: {_smtp_text(error.smtp_error)}")
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        detail = "; ".join(f"{rcpt} ({code} {_smtp_text(msg)})" for rcpt, (code, msg) in error.recipients.items())
        return Outcome(ok=False, status=codes[0] if codes else None, error=f"SMTP: all recipients refused: {detail}",
                       retry=bool(codes) and all(400 <= code < 500 for code in codes))
    except smtplib.SMTPResponseException as error:
        return Outcome(ok=False, status=error.smtp_code, retry=400 <= error.smtp_code < 500,
                       error=f"SMTP {error.smtp_code} from {where}: {_smtp_text(error.smtp_error)}")
    except smtplib.SMTPNotSupportedError as error:
        return Outcome(ok=False, error=f"SMTP server {where}: {error}")
    except ssl.SSLCertVerificationError as error:
        return Outcome(ok=False, error=f"SMTP server {where}: TLS certificate not trusted ({error.verify_message})")
    except ssl.SSLError as error:
        return Outcome(ok=False, error=f"SMTP server {where}: TLS failed ({error.reason or error})", retry=True)
    except smtplib.SMTPServerDisconnected as error:
        return Outcome(ok=False, error=f"SMTP server {where} disconnected: {error or 'no reason given'}", retry=True)
    except smtplib.SMTPException as error:
        return Outcome(ok=False, error=f"SMTP error from {where}: {error}", retry=True)
    except (OSError, http.client.HTTPException) as error:
        return Outcome(ok=False, error=f"cannot reach SMTP server {where}: {reason(error)}", retry=True)
    finally:
        if connection is not None:
            try:
                connection.quit()  # a failed QUIT after an accepted message must not turn into a resend
            except (smtplib.SMTPException, OSError):
                connection.close()
    if refused:
        detail = "; ".join(f"{rcpt} ({code} {_smtp_text(msg)})" for rcpt, (code, msg) in refused.items())
        # Not retried: the accepted recipients would get the alert twice.
        return Outcome(ok=False, status=250, error=f"SMTP: delivered, but these recipients were refused: {detail}")
    return Outcome(ok=True, status=250)
