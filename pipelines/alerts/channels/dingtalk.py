"""DingTalk: a custom robot's markdown message, its signed URL, and how DingTalk answers inside an HTTP 200."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from collections.abc import Sequence

from pipelines.alerts.channels.messages import (
    EMOJI, AlertMessage, Markup, alert_markup, clip, fit, footer, labels_for, md_link, one_line, ordered,
    top_severity)
from pipelines.alerts.channels.transport import Outcome, Verdict, coded_answer
from warehouse.settings import AlertChannel

DINGTALK_RATE_LIMIT_WAIT_SECONDS = 60.0
"""DingTalk allows a robot 20 messages a minute; backing off for 1-4 s would only hit the limit again."""

_RETRYABLE = frozenset({130101})  # "send too fast, exceed 20 times per minute"

# DingTalk's clients join single newlines; paragraphs need a blank line between them. Its markdown
# reads no HTML entities, so nothing is escaped.
DINGTALK = Markup(lambda s: s, lambda s: f"**{s}**", lambda s: f"*{s}*", md_link, "- ", "\n\n")


def dingtalk_payload(channel: AlertChannel, messages: Sequence[AlertMessage], heading: str) -> dict:
    """DingTalk robot markdown message; the title is what the notification banner and chat list show."""
    digest = ordered(messages)
    labels = labels_for(channel)
    title = clip(f"{EMOJI[top_severity(digest)]} {one_line(heading)}", 100)

    def render(shown: list[AlertMessage], hidden: int) -> dict:
        blocks = [f"### {title}"]
        for message in shown:
            body, link = alert_markup(channel, message, DINGTALK, EMOJI, with_link=True)
            blocks.append(body + ("\n\n" + link if link else ""))
        if hidden:
            blocks.append(labels.more.format(n=hidden))
        blocks.append(f"> {footer(channel, digest)}")
        return {
            "msgtype": "markdown",
            "markdown": {"title": title, "text": "\n\n---\n\n".join(blocks[:-1]) + "\n\n" + blocks[-1]},
            "at": {"atMobiles": [], "atUserIds": [], "isAtAll": False},
        }

    return fit(render, digest)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's robot signature, already URL-encoded for the query string as DingTalk's example does."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    separator = "&" if urllib.parse.urlsplit(url).query else ("" if url.endswith("?") else "?")
    return f"{url}{separator}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


def _error_words(data: dict) -> str | None:
    if "errcode" not in data:
        return None
    return f"DingTalk errcode {data.get('errcode')}: {data.get('errmsg', '')}"


def _accepted(status: int, text: str) -> Outcome:
    return coded_answer(status, text, lambda data: data.get("errcode"), _error_words, _RETRYABLE,
                        wait=DINGTALK_RATE_LIMIT_WAIT_SECONDS)


DINGTALK_VERDICT = Verdict(accepted=_accepted, error_words=_error_words)
