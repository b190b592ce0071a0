"""Feishu/Lark: a custom bot's interactive card, its signature, and how Feishu answers inside an HTTP 200."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Sequence

from pipelines.alerts.channels.messages import (
    EMOJI, AlertMessage, Escaper, Markup, alert_markup, clip, escape_entities, fit, footer, fullwidth, json_bytes,
    labels_for, md_link, ordered, plain, shared_url, top_severity)
from pipelines.alerts.channels.transport import Outcome, Verdict, coded_answer
from warehouse.settings import AlertChannel

_RETRYABLE = frozenset({11232})  # "frequency limited"

FEISHU_TEMPLATE = {"critical": "red", "warning": "orange", "info": "blue"}

FEISHU_MAX_BODY_BYTES = 20 * 1024
"""A custom bot's request body may not exceed 20 KB ("请求体大小不能超过20k", Feishu's custom bot guide, under the
9499 Bad Request answer). Cards sent through the messaging API may reach 30 KB; a bot webhook has the tighter limit."""
FEISHU_FIT_BYTES = 18_000
"""What a card is fitted to (the UTF-8 JSON body as sent, signature fields included): under 20 KB read either
as 20,000 or 20,480 bytes, with a margin."""
FEISHU_HEADER_MAX_CHARS = 100
"""The card header's plain_text title (Feishu wraps it over up to four lines and gives no character count)."""

LARK_ESCAPE = Escaper(fullwidth("\\`*_~[]()!|"), entities=True, block_markers=True)
"""Feishu's lark_md: ``& < >`` as the HTML entities lark_md reads, so no tag opens (<at id=all>, <font>, <link>,
<a>). Its markdown characters (links and images ``[ ] ( ) !``, emphasis ``* _``, strike ``~``, the code backtick,
tables ``|``, the backslash) have no documented escape in lark_md, so they become their full-width forms. A value
opening with ``#``, ``>``, ``-``, ``+`` or ``1.`` gets a word joiner before it; `plain` has folded newlines and
made URLs inert."""

LARK = Markup(LARK_ESCAPE, lambda s: f"**{s}**", lambda s: f"*{s}*", md_link, "- ", "\n")


def feishu_payload(channel: AlertChannel, messages: Sequence[AlertMessage], heading: str,
                   timestamp: int | None = None, secret: str | None = None) -> dict:
    """Feishu/Lark interactive card; `timestamp` and `sign` are added only for a bot with signing enabled."""
    digest = ordered(messages)
    labels = labels_for(channel)
    shared = shared_url(digest)
    note = plain(footer(channel, digest))
    title = clip(plain(heading), FEISHU_HEADER_MAX_CHARS)

    def render(shown: list[AlertMessage], hidden: int) -> dict:
        elements: list[dict] = []
        for index, message in enumerate(shown):
            if index:
                elements.append({"tag": "hr"})
            body, link = alert_markup(channel, message, LARK, EMOJI, with_link=not shared)
            elements.append({"tag": "div", "text": {"tag": "lark_md", "content": body + ("\n" + link if link else "")}})
        if hidden:
            more = escape_entities(labels.more.format(n=hidden))
            elements.append({"tag": "div", "text": {"tag": "lark_md", "content": more}})
        if shared:
            elements.append({"tag": "action", "actions": [{
                "tag": "button", "text": {"tag": "plain_text", "content": labels.open},
                "url": shared, "type": "primary",
            }]})
        elements.append({"tag": "note", "elements": [{"tag": "plain_text", "content": note}]})
        card = {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": title},
                       "template": FEISHU_TEMPLATE[top_severity(digest)]},
            "elements": elements,
        }
        payload: dict = {}
        if secret:
            stamp = int(time.time()) if timestamp is None else int(timestamp)
            payload.update({"timestamp": str(stamp), "sign": feishu_sign(secret, stamp)})
        payload.update({"msg_type": "interactive", "card": card})
        return payload

    return fit(render, digest, lambda payload: len(json_bytes(payload)) <= FEISHU_FIT_BYTES)


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's bot signature: the HMAC *key* is "timestamp\\nsecret", the message empty (DingTalk's the other way)."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode("utf-8"), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _error_words(data: dict) -> str | None:
    if "code" not in data and "StatusCode" not in data:
        return None
    code = data.get("code", data.get("StatusCode"))
    return f"Feishu code {code}: {data.get('msg') or data.get('StatusMessage') or ''}"


def _accepted(status: int, text: str) -> Outcome:
    # Some answers carry StatusCode/StatusMessage rather than code/msg; either is read.
    return coded_answer(status, text, lambda data: data.get("code", data.get("StatusCode")), _error_words, _RETRYABLE)


FEISHU_VERDICT = Verdict(accepted=_accepted, error_words=_error_words)
