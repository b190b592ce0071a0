"""DingTalk: a custom robot's markdown message, its signed URL, and how DingTalk answers inside an HTTP 200."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from collections.abc import Sequence

from pipelines.alerts.channels.messages import (
    EMOJI, WORD_JOINER, AlertMessage, Escaper, Markup, alert_markup, clip, fit, footer, fullwidth, json_bytes,
    labels_for, md_link, ordered, plain, top_severity)
from pipelines.alerts.channels.transport import Outcome, Verdict, coded_answer
from warehouse.settings import AlertChannel

DINGTALK_RATE_LIMIT_WAIT_SECONDS = 60.0
"""DingTalk allows a robot 20 messages a minute; backing off for 1-4 s would only hit the limit again."""

_RETRYABLE = frozenset({130101})  # "send too fast, exceed 20 times per minute"

DINGTALK_MAX_BODY_BYTES = 20_000
"""DingTalk refuses a robot message over 20,000 bytes: errcode 460101 "message too long, exceed 20000 bytes", or
"body 大小不合法 … 请保持大小在 20000bytes 以内" (its answers as quoted in timonwong/prometheus-webhook-dingtalk#30
and ZhuLinsen/daily_stock_analysis#61; the robot guide itself gives no number)."""
DINGTALK_FIT_BYTES = DINGTALK_MAX_BODY_BYTES - 2_000
"""What a digest is fitted to (the UTF-8 JSON body as sent): the limit less a margin, as DingTalk does not say
whether it counts the body or the markdown text."""
DINGTALK_TITLE_MAX_CHARS = 100
"""markdown.title, what the notification banner and the chat list show (one line; DingTalk gives no number)."""

DINGTALK_ESCAPE = Escaper({**fullwidth("\\`*_~[]()!|<>"), ord("&"): "&" + WORD_JOINER}, block_markers=True)
"""DingTalk's markdown subset (headings, quotes, bold, italic, links, images, lists; some clients also read HTML
such as <font color>) documents no escape at all, so nothing is escaped: every character that could open markup
becomes its full-width form (［ ］ （ ） ！ ＊ ＿ ～ ｀ ＼ ｜ ＜ ＞), so ``[x](url)`` and ``![x](url)`` cannot form and
no HTML tag can open; ``&`` gets a word joiner after it, so no entity can spell a bracket; a value opening with
``#``, ``>``, ``-``, ``+`` or ``1.`` gets one before it (it follows our own "- " bullets, where it would nest a
heading, quote or list). `plain` has folded newlines, so no value starts a line of its own, and made URLs inert."""

# DingTalk's clients join single newlines; paragraphs need a blank line between them.
DINGTALK = Markup(DINGTALK_ESCAPE, lambda s: f"**{s}**", lambda s: f"*{s}*", md_link, "- ", "\n\n")


def dingtalk_payload(channel: AlertChannel, messages: Sequence[AlertMessage], heading: str) -> dict:
    """DingTalk robot markdown message; the title is what the notification banner and chat list show."""
    digest = ordered(messages)
    labels = labels_for(channel)
    title = clip(f"{EMOJI[top_severity(digest)]} {plain(heading)}", DINGTALK_TITLE_MAX_CHARS)
    signature = f"> {DINGTALK_ESCAPE(footer(channel, digest))}"

    def render(shown: list[AlertMessage], hidden: int) -> dict:
        blocks = [f"### {DINGTALK_ESCAPE(title)}"]
        for message in shown:
            body, link = alert_markup(channel, message, DINGTALK, EMOJI, with_link=True)
            blocks.append(body + ("\n\n" + link if link else ""))
        if hidden:
            blocks.append(labels.more.format(n=hidden))
        blocks.append(signature)
        return {
            "msgtype": "markdown",
            "markdown": {"title": title, "text": "\n\n---\n\n".join(blocks[:-1]) + "\n\n" + blocks[-1]},
            "at": {"atMobiles": [], "atUserIds": [], "isAtAll": False},
        }

    return fit(render, digest, lambda payload: len(json_bytes(payload)) <= DINGTALK_FIT_BYTES)


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
