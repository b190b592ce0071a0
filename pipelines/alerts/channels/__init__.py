"""Alert delivery: render an alert (or a digest of one project's alerts) for each platform, sign it, send it.

Rendering is pure (channel config + messages in, payload out) so payloads can be
checked without a network, and so the dashboard can preview exactly what a
channel would receive. Sending (`deliver`) never raises for a failed delivery:
it returns a `DeliveryResult` the caller records, because a delivery that keeps
failing must show up in the dashboard and in Dagster instead of vanishing in a
log. Secrets and webhook URLs (their path or query *is* the credential) are
read from the environment at call time and never appear in an error or a log
line; destinations are shown as ``scheme://host/…``.

One module per platform (`slack`, `dingtalk`, `feishu`, `email`, `webhook`)
renders and signs; `transport` posts or mails with the shared retry policy of
`pipelines.http`; `messages` holds the alert and the text every renderer shares.
This module picks the platform for a channel and hands its body to the
transport. `deliver` finds the renderers and `backoff_pause` here at call time,
so patching them on this package (as tests do) reaches every delivery.
"""

from __future__ import annotations

import logging
import os
import ssl
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from email.utils import formatdate, make_msgid

from pipelines.alerts.channels.dingtalk import DINGTALK_VERDICT, dingtalk_payload, dingtalk_sign, dingtalk_signed_url
from pipelines.alerts.channels.email import email_message
from pipelines.alerts.channels.feishu import FEISHU_VERDICT, feishu_payload, feishu_sign
from pipelines.alerts.channels.messages import AlertMessage, json_bytes, route_messages
from pipelines.alerts.channels.slack import SLACK_VERDICT, slack_payload
from pipelines.alerts.channels.transport import (
    USER_AGENT,
    DeliveryResult,
    MissingSetting,
    Outcome,
    Scrubber,
    Verdict,
    judge,
    opener,
    post,
    redact_url,
    send_with_retries,
    setting,
    smtp_attempt,
)
from pipelines.alerts.channels.webhook import WEBHOOK_VERDICT, webhook_headers, webhook_payload, webhook_signature
from pipelines.http import backoff_pause
from warehouse.settings import AlertChannel

log = logging.getLogger(__name__)

__all__ = [
    "AlertMessage",
    "DeliveryResult",
    "backoff_pause",
    "slack_payload",
    "dingtalk_payload",
    "feishu_payload",
    "email_message",
    "webhook_payload",
    "dingtalk_sign",
    "dingtalk_signed_url",
    "feishu_sign",
    "webhook_signature",
    "redact_url",
    "route_messages",
    "deliver",
]


def deliver(channel: AlertChannel, messages: Sequence[AlertMessage], heading: str, *,
            environ: Mapping[str, str] = os.environ, sleep: Callable[[float], None] | None = None,
            now: Callable[[], float] = time.time, ssl_context: ssl.SSLContext | None = None) -> DeliveryResult:
    """Send one delivery with retries; every failure comes back as ``ok=False`` with a readable, secret-free error."""
    if not messages:
        raise ValueError("nothing to deliver: no alert messages")
    try:
        if channel.kind == "email":
            user = setting(environ, channel.user_env, "SMTP user", channel)
            password = setting(environ, channel.password_env, "SMTP password", channel)
            url = secret = None
        else:
            url = setting(environ, channel.url_env, "webhook URL", channel)
            secret = setting(environ, channel.secret_env, "signing secret", channel)
            user = password = None
    except MissingSetting as problem:
        log.error("alert channel %s: %s", channel.name, problem)
        return DeliveryResult(channel=channel.name, kind=channel.kind, ok=False, attempts=0, status=None,
                              error=str(problem), sent_at=datetime.fromtimestamp(now(), timezone.utc))
    scrub = Scrubber(url, secret, password)
    destination = f"smtp://{channel.smtp_host}:{channel.smtp_port}" if channel.kind == "email" else redact_url(url)
    try:
        if channel.kind == "email":
            mail = email_message(channel, messages, heading)
            mail["Date"] = formatdate(now(), usegmt=True)
            domain = (channel.sender or "").rpartition("@")[2].strip(" >") or "lodestar.invalid"
            mail["Message-ID"] = make_msgid("lodestar", domain=domain)  # one id across retries lets servers dedupe
            context = ssl_context or ssl.create_default_context()
            attempt = lambda: smtp_attempt(channel, mail, user, password, context)  # noqa: E731
        else:
            assert url is not None
            http_opener = opener(url, ssl_context)
            delivery_id = uuid.uuid4().hex
            attempt = lambda: _http_attempt(channel, messages, heading, url, secret, http_opener, now,  # noqa: E731
                                            delivery_id)
        return send_with_retries(channel, destination, attempt, sleep or backoff_pause, now, scrub)
    except Exception as error:  # noqa: BLE001 - one channel's bug must not silence the other channels
        error_text = scrub(f"internal error while delivering: {type(error).__name__}: {error}")
        log.error("alert channel %s: %s", channel.name, error_text)
        return DeliveryResult(channel=channel.name, kind=channel.kind, ok=False, attempts=0, status=None,
                              error=error_text, sent_at=datetime.fromtimestamp(now(), timezone.utc),
                              destination=destination)


def _http_request(channel: AlertChannel, messages: Sequence[AlertMessage], heading: str, url: str,
                  secret: str | None, now: Callable[[], float],
                  delivery_id: str) -> tuple[str, bytes, dict[str, str], Verdict]:
    """URL, body, headers and answer reading of one attempt; signatures are made afresh so a late retry is not stale."""
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    kind = channel.kind
    if kind == "slack":
        body, verdict = json_bytes(slack_payload(channel, messages, heading)), SLACK_VERDICT
    elif kind == "dingtalk":
        body, verdict = json_bytes(dingtalk_payload(channel, messages, heading)), DINGTALK_VERDICT
        if secret:
            url = dingtalk_signed_url(url, secret, int(now() * 1000))
    elif kind == "feishu":
        body = json_bytes(feishu_payload(channel, messages, heading, timestamp=int(now()), secret=secret))
        verdict = FEISHU_VERDICT
    elif kind == "webhook":
        body, verdict = json_bytes(webhook_payload(channel, messages, heading)), WEBHOOK_VERDICT
        headers.update(webhook_headers(body, delivery_id, secret, int(now())))
    else:  # pragma: no cover - the settings model admits no other kind
        raise ValueError(f"unknown channel kind {kind!r}")
    return url, body, headers, verdict


def _http_attempt(channel: AlertChannel, messages: Sequence[AlertMessage], heading: str, url: str,
                  secret: str | None, http_opener, now: Callable[[], float], delivery_id: str) -> Outcome:
    target, body, headers, verdict = _http_request(channel, messages, heading, url, secret, now, delivery_id)
    return post(http_opener, target, body, headers, channel.timeout_seconds,
                lambda answer: judge(answer, verdict, now))
