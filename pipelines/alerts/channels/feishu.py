"""Feishu/Lark: a custom bot's interactive card, its signature, and how Feishu answers inside an HTTP 200."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Sequence

from pipelines.alerts.channels.messages import (
    EMOJI, AlertMessage, Markup, alert_markup, clip, escape_entities, fit, footer, labels_for, md_link, one_line,
    ordered, shared_url, top_severity)
from pipelines.alerts.channels.transport import Outcome, Verdict, coded_answer
from warehouse.settings import AlertChannel

_RETRYABLE = frozenset({11232})  # "frequency limited"

FEISHU_TEMPLATE = {"critical": "red", "warning": "orange", "info": "blue"}

# lark_md reads HTML entities, so the same three characters as Slack's are escaped.
LARK = Markup(escape_entities, lambda s: f"**{s}**", lambda s: f"*{s}*", md_link, "- ", "\n")


def feishu_payload(channel: AlertChannel, messages: Sequence[AlertMessage], heading: str,
                   timestamp: int | None = None, secret: str | None = None) -> dict:
    """Feishu/Lark interactive card; `timestamp` and `sign` are added only for a bot with signing enabled."""
    digest = ordered(messages)
    labels = labels_for(channel)
    shared = shared_url(digest)

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
        elements.append({"tag": "note", "elements": [{"tag": "plain_text", "content": footer(channel, digest)}]})
        card = {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": clip(one_line(heading), 100)},
                       "template": FEISHU_TEMPLATE[top_severity(digest)]},
            "elements": elements,
        }
        payload: dict = {}
        if secret:
            stamp = int(time.time()) if timestamp is None else int(timestamp)
            payload.update({"timestamp": str(stamp), "sign": feishu_sign(secret, stamp)})
        payload.update({"msg_type": "interactive", "card": card})
        return payload

    return fit(render, digest)


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
