"""Alert delivery: render an alert (or a digest of one project's alerts) for each platform, sign it, send it.

Rendering is pure (channel config + messages in, payload out) so payloads can be
checked without a network, and so the dashboard can preview exactly what a
channel would receive. Sending (`deliver`) never raises for a failed delivery:
it returns a `DeliveryResult` the caller records, because a delivery that keeps
failing must show up in the dashboard and in Dagster instead of vanishing in a
log. Secrets and webhook URLs (their path or query *is* the credential) are
read from the environment at call time and never appear in an error or a log
line; destinations are shown as ``scheme://host/…``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import http.client
import json
import logging
import os
import smtplib
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from pipelines.http import RetrySettings, backoff_pause, retry_calls, retryable_status, wait_from_headers
from warehouse.settings import SEVERITY_ORDER, AlertChannel

log = logging.getLogger(__name__)

__all__ = [
    "AlertMessage",
    "DeliveryResult",
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

SEVERITIES = ("info", "warning", "critical")

BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 30.0
MAX_HONOURED_WAIT_SECONDS = 300.0
"""A server asking for a longer pause than this gets a failed delivery now, not a stalled run."""

DINGTALK_RATE_LIMIT_WAIT_SECONDS = 60.0
"""DingTalk allows a robot 20 messages a minute; backing off for 1-4 s would only hit the limit again."""

SLACK_MAX_BLOCKS = 50
SLACK_SECTION_MAX_CHARS = 3000
SLACK_HEADER_MAX_CHARS = 150
CHAT_MAX_BODY_BYTES = 18_000
"""Feishu rejects custom-bot bodies over 20 KB; DingTalk and Feishu digests are kept under this, with a margin."""

RESPONSE_READ_LIMIT = 64 * 1024
USER_AGENT = "Lodestar-alerts/0.1"

_DINGTALK_RETRYABLE = {130101}  # "send too fast, exceed 20 times per minute"
_FEISHU_RETRYABLE = {11232}  # "frequency limited"


# --------------------------------------------------------------------------- messages


@dataclass(frozen=True, kw_only=True)
class AlertMessage:
    """One alert as people read it. Texts arrive already in the channel's language; renderers only add labels.

    Keyword-only: thirteen fields, several of them optional strings, are too easy to swap by position.
    """

    alert_id: str
    rule: str
    severity: str
    project_key: str
    task_id: str | None = None
    task_key: str | None = None
    title: str
    reasons: tuple[str, ...] = ()
    impact: str | None = None
    owner: str | None = None
    options: tuple[str, ...] = ()
    url: str | None = None
    state_note: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITY_ORDER:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, got {self.severity!r}")
        # Callers build these from query rows (lists); tuples keep the message hashable and comparable.
        object.__setattr__(self, "reasons", tuple(self.reasons))
        object.__setattr__(self, "options", tuple(self.options))


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


def route_messages(channels: Iterable[AlertChannel],
                   messages: Sequence[AlertMessage]) -> list[tuple[AlertChannel, tuple[AlertMessage, ...]]]:
    """Which messages each channel takes (its projects and minimum severity); channels taking none are left out."""
    routed = []
    for channel in channels:
        taken = tuple(m for m in messages if channel.covers(m.project_key, m.severity))
        if taken:
            routed.append((channel, taken))
    return routed


# --------------------------------------------------------------------------- labels and shared text


@dataclass(frozen=True)
class _Labels:
    severity: Mapping[str, str]
    what: str
    why: str
    impact: str
    who: str
    options: str
    open: str
    more: str
    count: str


_LABELS = {
    "en": _Labels(
        severity={"critical": "Critical", "warning": "Warning", "info": "Info"},
        what="What", why="Why", impact="Impact", who="Who should act", options="Re-plan options",
        open="Open in Lodestar", more="… and {n} more", count="{n} alerts",
    ),
    "zh": _Labels(
        severity={"critical": "严重", "warning": "警告", "info": "提示"},
        what="问题", why="原因", impact="影响", who="负责人", options="调整方案",
        open="在 Lodestar 中打开", more="…… 另有 {n} 条", count="{n} 条预警",
    ),
}
_COLON = {"en": ":", "zh": "："}
_EMOJI = {"critical": "🔴", "warning": "🟠", "info": "🔵"}
_SLACK_EMOJI = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_blue_circle:"}
_FEISHU_TEMPLATE = {"critical": "red", "warning": "orange", "info": "blue"}
_EMAIL_COLOUR = {"critical": "#c62828", "warning": "#ef6c00", "info": "#1565c0"}


def _labels(channel: AlertChannel) -> _Labels:
    return _LABELS.get(channel.language, _LABELS["en"])


def _ordered(messages: Sequence[AlertMessage]) -> list[AlertMessage]:
    """Most severe first (stable otherwise): in a digest, the critical alert must not hide below the fold."""
    if not messages:
        raise ValueError("nothing to deliver: no alert messages")
    return sorted(messages, key=lambda m: -SEVERITY_ORDER[m.severity])


def _top_severity(messages: Sequence[AlertMessage]) -> str:
    return max((m.severity for m in messages), key=SEVERITY_ORDER.__getitem__)


def _shared_url(messages: Sequence[AlertMessage]) -> str | None:
    """The one dashboard link for the whole delivery, when every alert points at the same page."""
    urls = {m.url for m in messages}
    return urls.pop() if len(urls) == 1 else None


def _ref(message: AlertMessage) -> str:
    return message.task_key or message.project_key


def _footer(channel: AlertChannel, messages: Sequence[AlertMessage]) -> str:
    """Always names Lodestar: DingTalk and Feishu robots guarded by a keyword reject messages without it."""
    projects = list(dict.fromkeys(m.project_key for m in messages))
    parts = ["Lodestar", ", ".join(projects)]
    if len(messages) > 1:
        parts.append(_labels(channel).count.format(n=len(messages)))
    return " · ".join(parts)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def _one_line(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class _Markup:
    """How one chat platform spells bold, italic, links and bullets, and what it must escape."""

    escape: Callable[[str], str]
    bold: Callable[[str], str]
    italic: Callable[[str], str]
    link: Callable[[str, str], str]
    bullet: str
    separator: str


def _escape_slack(text: str) -> str:
    # Slack's mrkdwn treats these three as control characters (links, mentions).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_link(url: str, text: str) -> str:
    safe_url = url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")
    return f"<{safe_url}|{_escape_slack(text)}>"


def _md_link(url: str, text: str) -> str:
    return f"[{text}]({url.replace(')', '%29').replace(' ', '%20')})"


_SLACK = _Markup(_escape_slack, lambda s: f"*{s}*", lambda s: f"_{s}_", _slack_link, "• ", "\n")
# lark_md reads HTML entities, so the same three characters are escaped; DingTalk's markdown does not.
_LARK = _Markup(_escape_slack, lambda s: f"**{s}**", lambda s: f"*{s}*", _md_link, "- ", "\n")
# DingTalk's clients join single newlines; paragraphs need a blank line between them.
_DINGTALK = _Markup(lambda s: s, lambda s: f"**{s}**", lambda s: f"*{s}*", _md_link, "- ", "\n\n")


def _alert_markup(channel: AlertChannel, message: AlertMessage, mk: _Markup, emoji: Mapping[str, str],
                  with_link: bool) -> tuple[str, str]:
    """(body, link line) of one alert in a chat platform's markup; the link is kept apart so clipping spares it."""
    labels = _labels(channel)
    colon = _COLON.get(channel.language, ":")
    # The colon stays outside the bold: CommonMark does not close ** between punctuation and a letter
    # ("**问题：**文字" stays literal). A full-width colon carries its own space.
    gap = "" if channel.language == "zh" else " "
    esc = mk.escape
    head = f"{emoji[message.severity]} {mk.bold(esc(f'{labels.severity[message.severity]} · {_ref(message)}'))}"
    if message.state_note:
        head += f"  {mk.italic(esc(message.state_note))}"
    lines = [head, mk.bold(labels.what) + colon + gap + esc(message.title)]
    if message.reasons:
        lines.append(mk.bold(labels.why) + colon + "\n" + "\n".join(mk.bullet + esc(r) for r in message.reasons))
    if message.impact:
        lines.append(mk.bold(labels.impact) + colon + gap + esc(message.impact))
    if message.owner:
        lines.append(mk.bold(labels.who) + colon + gap + esc(message.owner))
    if message.options:
        numbered = "\n".join(f"{i}. {esc(o)}" for i, o in enumerate(message.options, 1))
        lines.append(mk.bold(labels.options) + colon + "\n" + numbered)
    link = mk.link(message.url, labels.open) if with_link and message.url else ""
    return mk.separator.join(lines), link


# --------------------------------------------------------------------------- renderers


def slack_payload(channel: AlertChannel, messages: Sequence[AlertMessage], heading: str) -> dict:
    """Block Kit message; within Slack's 50-block limit, a long digest ends with "… and N more"."""
    ordered = _ordered(messages)
    labels = _labels(channel)
    shared = _shared_url(ordered)
    footer = {"type": "mrkdwn", "text": _escape_slack(_footer(channel, ordered))}
    tail: list[dict] = [{"type": "context", "elements": [footer]}]
    if shared:
        tail.append({"type": "actions", "elements": [{
            "type": "button", "action_id": "lodestar-open",
            "text": {"type": "plain_text", "text": labels.open, "emoji": True},
            "url": shared, "style": "primary",
        }]})
    room = SLACK_MAX_BLOCKS - 1 - len(tail)  # the header takes one
    shown = ordered if len(ordered) <= room else ordered[: room - 1]
    sections = []
    for message in shown:
        body, link = _alert_markup(channel, message, _SLACK, _SLACK_EMOJI, with_link=not shared)
        limit = SLACK_SECTION_MAX_CHARS - (len(link) + 1 if link else 0)
        text = _clip(body, limit) + ("\n" + link if link else "")
        sections.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    if len(shown) < len(ordered):
        more = labels.more.format(n=len(ordered) - len(shown))
        sections.append({"type": "section", "text": {"type": "mrkdwn", "text": _escape_slack(more)}})
    header = {"type": "header", "text": {"type": "plain_text", "emoji": True,
                                          "text": _clip(f"{_SLACK_EMOJI[_top_severity(ordered)]} {_one_line(heading)}",
                                                        SLACK_HEADER_MAX_CHARS)}}
    titles = "; ".join(f"{labels.severity[m.severity]} {_ref(m)}: {m.title}" for m in ordered)
    fallback = _escape_slack(_clip(f"{_one_line(heading)} — {titles}", 3000))
    return {"text": fallback, "blocks": [header, *sections, *tail]}


def _fit(render: Callable[[list[AlertMessage], int], dict], ordered: list[AlertMessage]) -> dict:
    """The largest leading part of a digest whose JSON body stays under the chat platforms' size limit."""

    def fits(count: int) -> bool:
        return len(_json_bytes(render(ordered[:count], len(ordered) - count))) <= CHAT_MAX_BODY_BYTES

    if fits(len(ordered)):
        return render(ordered, 0)
    low, high = 1, len(ordered) - 1  # binary search: the body grows with every alert shown
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(middle) else (low, middle - 1)
    # Even one alert over the limit is still sent (clipped by nobody): the platform's answer will say why.
    return render(ordered[:low], len(ordered) - low)


def dingtalk_payload(channel: AlertChannel, messages: Sequence[AlertMessage], heading: str) -> dict:
    """DingTalk robot markdown message; the title is what the notification banner and chat list show."""
    ordered = _ordered(messages)
    labels = _labels(channel)
    title = _clip(f"{_EMOJI[_top_severity(ordered)]} {_one_line(heading)}", 100)

    def render(shown: list[AlertMessage], hidden: int) -> dict:
        blocks = [f"### {title}"]
        for message in shown:
            body, link = _alert_markup(channel, message, _DINGTALK, _EMOJI, with_link=True)
            blocks.append(body + ("\n\n" + link if link else ""))
        if hidden:
            blocks.append(labels.more.format(n=hidden))
        blocks.append(f"> {_footer(channel, ordered)}")
        return {
            "msgtype": "markdown",
            "markdown": {"title": title, "text": "\n\n---\n\n".join(blocks[:-1]) + "\n\n" + blocks[-1]},
            "at": {"atMobiles": [], "atUserIds": [], "isAtAll": False},
        }

    return _fit(render, ordered)


def feishu_payload(channel: AlertChannel, messages: Sequence[AlertMessage], heading: str,
                   timestamp: int | None = None, secret: str | None = None) -> dict:
    """Feishu/Lark interactive card; `timestamp` and `sign` are added only for a bot with signing enabled."""
    ordered = _ordered(messages)
    labels = _labels(channel)
    shared = _shared_url(ordered)

    def render(shown: list[AlertMessage], hidden: int) -> dict:
        elements: list[dict] = []
        for index, message in enumerate(shown):
            if index:
                elements.append({"tag": "hr"})
            body, link = _alert_markup(channel, message, _LARK, _EMOJI, with_link=not shared)
            elements.append({"tag": "div", "text": {"tag": "lark_md", "content": body + ("\n" + link if link else "")}})
        if hidden:
            more = _escape_slack(labels.more.format(n=hidden))
            elements.append({"tag": "div", "text": {"tag": "lark_md", "content": more}})
        if shared:
            elements.append({"tag": "action", "actions": [{
                "tag": "button", "text": {"tag": "plain_text", "content": labels.open},
                "url": shared, "type": "primary",
            }]})
        elements.append({"tag": "note", "elements": [{"tag": "plain_text", "content": _footer(channel, ordered)}]})
        card = {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": _clip(_one_line(heading), 100)},
                       "template": _FEISHU_TEMPLATE[_top_severity(ordered)]},
            "elements": elements,
        }
        payload: dict = {}
        if secret:
            stamp = int(time.time()) if timestamp is None else int(timestamp)
            payload.update({"timestamp": str(stamp), "sign": feishu_sign(secret, stamp)})
        payload.update({"msg_type": "interactive", "card": card})
        return payload

    return _fit(render, ordered)


def email_message(channel: AlertChannel, messages: Sequence[AlertMessage], heading: str) -> EmailMessage:
    """A plain-text part for every mail client and an HTML alternative; all alert text is HTML-escaped."""
    ordered = _ordered(messages)
    labels = _labels(channel)
    colon = _COLON.get(channel.language, ":")
    gap = "" if channel.language == "zh" else " "  # a full-width colon carries its own space
    subject = _one_line(heading)
    esc = html.escape

    def html_field(label: str, value: str) -> str:
        return f'<p style="margin:0 0 6px"><strong>{esc(label + colon)}</strong>{gap}{esc(value)}</p>'

    def html_list(label: str, tag: str, values: Sequence[str]) -> str:
        items = "".join(f"<li>{esc(v)}</li>" for v in values)
        heading_html = f'<p style="margin:0"><strong>{esc(label + colon)}</strong></p>'
        return f'{heading_html}<{tag} style="margin:0 0 6px">{items}</{tag}>'

    text_blocks = [f"{subject}\n{'=' * min(len(subject), 72)}"]
    html_blocks = []
    for message in ordered:
        head = f"[{labels.severity[message.severity]}] {_ref(message)}"
        head += f" — {message.state_note}" if message.state_note else ""
        lines = [head, f"{labels.what}{colon}{gap}{message.title}"]
        border = _EMAIL_COLOUR[message.severity]
        items = [f'<div style="border-left:4px solid {border};padding:4px 12px;margin:12px 0">',
                 f'<p style="margin:0 0 6px"><strong>{esc(head)}</strong></p>', html_field(labels.what, message.title)]
        if message.reasons:
            lines += [f"{labels.why}{colon}", *(f"  - {reason}" for reason in message.reasons)]
            items.append(html_list(labels.why, "ul", message.reasons))
        if message.impact:
            lines.append(f"{labels.impact}{colon}{gap}{message.impact}")
            items.append(html_field(labels.impact, message.impact))
        if message.owner:
            lines.append(f"{labels.who}{colon}{gap}{message.owner}")
            items.append(html_field(labels.who, message.owner))
        if message.options:
            lines += [f"{labels.options}{colon}", *(f"  {i}. {o}" for i, o in enumerate(message.options, 1))]
            items.append(html_list(labels.options, "ol", message.options))
        if message.url:
            lines.append(f"{labels.open}{colon}{gap}{message.url}")
            items.append(f'<p style="margin:0"><a href="{esc(message.url, quote=True)}">{esc(labels.open)}</a></p>')
        items.append("</div>")
        text_blocks.append("\n".join(lines))
        html_blocks.append("\n".join(items))
    footer = _footer(channel, ordered)
    text = "\n\n".join(text_blocks) + f"\n\n-- \n{footer}\n"
    lang = "zh-CN" if channel.language == "zh" else "en"
    fonts = "-apple-system,'Segoe UI',Helvetica,Arial,'PingFang SC','Microsoft YaHei',sans-serif"
    body = (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{esc(subject)}</title></head>\n'
        f'<body style="font-family:{fonts};font-size:14px;color:#222">\n'
        f'<h2 style="font-size:18px">{esc(subject)}</h2>\n' + "\n".join(html_blocks)
        + f'\n<p style="color:#888;font-size:12px">{esc(footer)}</p>\n</body></html>\n'
    )
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = channel.sender or ""
    mail["To"] = ", ".join(channel.to)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies back to the sender
    mail.set_content(text)
    mail.add_alternative(body, subtype="html")
    return mail


def webhook_payload(channel: AlertChannel, messages: Sequence[AlertMessage], heading: str) -> dict:
    """Machine-readable: every field of every alert, in the caller's order."""
    if not messages:
        raise ValueError("nothing to deliver: no alert messages")
    return {"source": "lodestar", "heading": heading, "alerts": [asdict(m) for m in messages]}


# --------------------------------------------------------------------------- signing


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's robot signature, already URL-encoded for the query string as DingTalk's example does."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    separator = "&" if urllib.parse.urlsplit(url).query else ("" if url.endswith("?") else "?")
    return f"{url}{separator}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's bot signature: the HMAC *key* is "timestamp\\nsecret", the message empty (DingTalk's the other way)."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode("utf-8"), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def webhook_signature(secret: str, timestamp: int, body: bytes | str) -> str:
    """Signs timestamp and body together so a receiver can reject both forged and replayed deliveries."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + raw, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


# --------------------------------------------------------------------------- sending: shared


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


class _Scrubber:
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


@dataclass
class _Outcome:
    ok: bool
    status: int | None = None
    error: str | None = None
    retry: bool = False
    wait: float | None = None
    """Pause the server asked for (Retry-After, platform rate limit) before the next attempt."""


def retry_settings(channel: AlertChannel) -> RetrySettings:
    """The shared policy with the channel's retry count; no jitter, since one run sends its deliveries in turn."""
    return RetrySettings(attempts=channel.retries + 1, backoff_seconds=BACKOFF_BASE_SECONDS,
                         max_backoff_seconds=BACKOFF_CAP_SECONDS, jitter=0.0,
                         max_wait_seconds=MAX_HONOURED_WAIT_SECONDS, timeout_seconds=channel.timeout_seconds)


def _with_retries(channel: AlertChannel, destination: str, attempt: Callable[[], _Outcome],
                  sleep: Callable[[float], None], now: Callable[[], float],
                  scrub: _Scrubber) -> DeliveryResult:
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


class _MissingSetting(Exception):
    pass


def _env(environ: Mapping[str, str], variable: str | None, what: str, channel: AlertChannel) -> str | None:
    if not variable:
        return None
    value = environ.get(variable)
    if not value:
        raise _MissingSetting(f"environment variable {variable} is not set ({what} of alert channel {channel.name!r})")
    return value


def _json_bytes(payload: object) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def deliver(channel: AlertChannel, messages: Sequence[AlertMessage], heading: str, *,
            environ: Mapping[str, str] = os.environ, sleep: Callable[[float], None] | None = None,
            now: Callable[[], float] = time.time, ssl_context: ssl.SSLContext | None = None) -> DeliveryResult:
    """Send one delivery with retries; every failure comes back as ``ok=False`` with a readable, secret-free error."""
    if not messages:
        raise ValueError("nothing to deliver: no alert messages")
    try:
        if channel.kind == "email":
            user = _env(environ, channel.user_env, "SMTP user", channel)
            password = _env(environ, channel.password_env, "SMTP password", channel)
            url = secret = None
        else:
            url = _env(environ, channel.url_env, "webhook URL", channel)
            secret = _env(environ, channel.secret_env, "signing secret", channel)
            user = password = None
    except _MissingSetting as problem:
        log.error("alert channel %s: %s", channel.name, problem)
        return DeliveryResult(channel=channel.name, kind=channel.kind, ok=False, attempts=0, status=None,
                              error=str(problem), sent_at=datetime.fromtimestamp(now(), timezone.utc))
    scrub = _Scrubber(url, secret, password)
    destination = f"smtp://{channel.smtp_host}:{channel.smtp_port}" if channel.kind == "email" else redact_url(url)
    try:
        if channel.kind == "email":
            mail = email_message(channel, messages, heading)
            mail["Date"] = formatdate(now(), usegmt=True)
            domain = (channel.sender or "").rpartition("@")[2].strip(" >") or "lodestar.invalid"
            mail["Message-ID"] = make_msgid("lodestar", domain=domain)  # one id across retries lets servers dedupe
            context = ssl_context or ssl.create_default_context()
            attempt = lambda: _smtp_attempt(channel, mail, user, password, context)  # noqa: E731
        else:
            assert url is not None
            opener = _opener(url, ssl_context)
            delivery_id = uuid.uuid4().hex
            attempt = lambda: _http_attempt(channel, messages, heading, url, secret, opener, now, delivery_id)  # noqa: E731
        return _with_retries(channel, destination, attempt, sleep or backoff_pause, now, scrub)
    except Exception as error:  # noqa: BLE001 - one channel's bug must not silence the other channels
        error_text = scrub(f"internal error while delivering: {type(error).__name__}: {error}")
        log.error("alert channel %s: %s", channel.name, error_text)
        return DeliveryResult(channel=channel.name, kind=channel.kind, ok=False, attempts=0, status=None,
                              error=error_text, sent_at=datetime.fromtimestamp(now(), timezone.utc),
                              destination=destination)


# --------------------------------------------------------------------------- sending: HTTP


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirected POST would silently become a GET without the alert; report the redirect instead."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102
        return None


def _opener(url: str, ssl_context: ssl.SSLContext | None) -> urllib.request.OpenerDirector:
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    # Environment proxies apply to real platforms; a loopback receiver must never go through one.
    loopback = host in ("127.0.0.1", "localhost", "::1")
    proxies = urllib.request.ProxyHandler({}) if loopback else urllib.request.ProxyHandler()
    handlers: list = [proxies, _NoRedirect()]
    if ssl_context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=ssl_context))
    return urllib.request.build_opener(*handlers)


def _http_request(channel: AlertChannel, messages: Sequence[AlertMessage], heading: str, url: str,
                  secret: str | None, now: Callable[[], float], delivery_id: str) -> tuple[str, bytes, dict[str, str]]:
    """URL, body and headers of one attempt; signatures are made afresh so a late retry is not stale."""
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    kind = channel.kind
    if kind == "slack":
        body = _json_bytes(slack_payload(channel, messages, heading))
    elif kind == "dingtalk":
        body = _json_bytes(dingtalk_payload(channel, messages, heading))
        if secret:
            url = dingtalk_signed_url(url, secret, int(now() * 1000))
    elif kind == "feishu":
        body = _json_bytes(feishu_payload(channel, messages, heading, timestamp=int(now()), secret=secret))
    elif kind == "webhook":
        body = _json_bytes(webhook_payload(channel, messages, heading))
        headers["X-Lodestar-Delivery"] = delivery_id
        if secret:
            stamp = int(now())
            headers["X-Lodestar-Timestamp"] = str(stamp)
            headers["X-Lodestar-Signature"] = webhook_signature(secret, stamp, body)
    else:  # pragma: no cover - the settings model admits no other kind
        raise ValueError(f"unknown channel kind {kind!r}")
    return url, body, headers


def _http_attempt(channel: AlertChannel, messages: Sequence[AlertMessage], heading: str, url: str,
                  secret: str | None, opener: urllib.request.OpenerDirector, now: Callable[[], float],
                  delivery_id: str) -> _Outcome:
    target, body, headers = _http_request(channel, messages, heading, url, secret, now, delivery_id)
    request = urllib.request.Request(target, data=body, headers=headers, method="POST")
    try:
        with opener.open(request, timeout=channel.timeout_seconds) as response:
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
        return _Outcome(ok=False, error=f"cannot reach {redact_url(url)}: {_reason(error.reason)}", retry=True)
    except (OSError, http.client.HTTPException) as error:
        return _Outcome(ok=False, error=f"no answer from {redact_url(url)}: {_reason(error)}", retry=True)
    return _judge(channel.kind, status, answer_headers, text, now)


def _reason(error: object) -> str:
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


def _platform_message(kind: str, text: str) -> str:
    """The platform's own words for an error answer, whatever shape the body has."""
    try:
        data = json.loads(text)
    except ValueError:
        return _clip(_one_line(text), 300) or "(empty body)"
    if isinstance(data, dict):
        if kind == "dingtalk" and "errcode" in data:
            return f"DingTalk errcode {data.get('errcode')}: {data.get('errmsg', '')}"
        if kind == "feishu" and ("code" in data or "StatusCode" in data):
            code = data.get("code", data.get("StatusCode"))
            return f"Feishu code {code}: {data.get('msg') or data.get('StatusMessage') or ''}"
        for key in ("error", "message", "msg", "errmsg"):
            if isinstance(data.get(key), str):
                return _clip(data[key], 300)
    return _clip(_one_line(text), 300)


def _judge(kind: str, status: int, headers, text: str, now: Callable[[], float]) -> _Outcome:
    """Success only when both HTTP and the platform say so: DingTalk and Feishu report errors inside a 200."""
    if 200 <= status < 300:
        if kind == "slack":
            if text.strip() == "ok":
                return _Outcome(ok=True, status=status)
            return _Outcome(ok=False, status=status, error=f"Slack answered {_clip(_one_line(text), 200)!r}")
        if kind in ("dingtalk", "feishu"):
            try:
                data = json.loads(text)
            except ValueError:
                data = None
            if not isinstance(data, dict):
                return _Outcome(ok=False, status=status, retry=True,
                                error=f"HTTP {status} with an unreadable body: {_clip(_one_line(text), 200)!r}")
            code_key = "errcode" if kind == "dingtalk" else ("code" if "code" in data else "StatusCode")
            code = data.get(code_key)
            if code in (0, "0"):
                return _Outcome(ok=True, status=status)
            message = _platform_message(kind, text)
            if kind == "dingtalk" and code in _DINGTALK_RETRYABLE:
                return _Outcome(ok=False, status=status, error=message, retry=True,
                                wait=DINGTALK_RATE_LIMIT_WAIT_SECONDS)
            retry = kind == "feishu" and code in _FEISHU_RETRYABLE
            return _Outcome(ok=False, status=status, error=message, retry=retry)
        return _Outcome(ok=True, status=status)
    message = f"HTTP {status}: {_platform_message(kind, text)}"
    if 300 <= status < 400:
        return _Outcome(ok=False, status=status, error=f"HTTP {status}: redirected, not followed (check the URL)")
    wait = wait_from_headers(headers, now())
    if retryable_status(status, wait is not None):
        return _Outcome(ok=False, status=status, error=message, retry=True, wait=wait)
    return _Outcome(ok=False, status=status, error=message)


# --------------------------------------------------------------------------- sending: e-mail


def _smtp_text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return _clip(_one_line(text), 300)


def _smtp_attempt(channel: AlertChannel, mail: EmailMessage, user: str | None, password: str | None,
                  context: ssl.SSLContext) -> _Outcome:
    """One SMTP session. A 4xx reply or a dropped connection is worth retrying; a 5xx reply is final."""
    where = f"{channel.smtp_host}:{channel.smtp_port}"
    connection: smtplib.SMTP | None = None
    try:
        connection = smtplib.SMTP(channel.smtp_host or "", channel.smtp_port, timeout=channel.timeout_seconds)
        connection.ehlo()
        if channel.starttls:
            if not connection.has_extn("starttls"):
                # Never fall back to clear text: the password and the alert would cross the network readable.
                return _Outcome(ok=False,
                                error=f"SMTP server {where} does not offer STARTTLS (the channel requires it)")
            connection.starttls(context=context)
            connection.ehlo()
        if user:
            connection.login(user, password or "")
        refused = connection.send_message(mail)
    except smtplib.SMTPAuthenticationError as error:
        return _Outcome(ok=False, status=error.smtp_code,
                        error=f"SMTP {error.smtp_code}: login refused by {where}: {_smtp_text(error.smtp_error)}")
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        detail = "; ".join(f"{rcpt} ({code} {_smtp_text(msg)})" for rcpt, (code, msg) in error.recipients.items())
        return _Outcome(ok=False, status=codes[0] if codes else None, error=f"SMTP: all recipients refused: {detail}",
                        retry=bool(codes) and all(400 <= code < 500 for code in codes))
    except smtplib.SMTPResponseException as error:
        return _Outcome(ok=False, status=error.smtp_code, retry=400 <= error.smtp_code < 500,
                        error=f"SMTP {error.smtp_code} from {where}: {_smtp_text(error.smtp_error)}")
    except smtplib.SMTPNotSupportedError as error:
        return _Outcome(ok=False, error=f"SMTP server {where}: {error}")
    except ssl.SSLCertVerificationError as error:
        return _Outcome(ok=False, error=f"SMTP server {where}: TLS certificate not trusted ({error.verify_message})")
    except ssl.SSLError as error:
        return _Outcome(ok=False, error=f"SMTP server {where}: TLS failed ({error.reason or error})", retry=True)
    except smtplib.SMTPServerDisconnected as error:
        return _Outcome(ok=False, error=f"SMTP server {where} disconnected: {error or 'no reason given'}", retry=True)
    except smtplib.SMTPException as error:
        return _Outcome(ok=False, error=f"SMTP error from {where}: {error}", retry=True)
    except (OSError, http.client.HTTPException) as error:
        return _Outcome(ok=False, error=f"cannot reach SMTP server {where}: {_reason(error)}", retry=True)
    finally:
        if connection is not None:
            try:
                connection.quit()  # a failed QUIT after an accepted message must not turn into a resend
            except (smtplib.SMTPException, OSError):
                connection.close()
    if refused:
        detail = "; ".join(f"{rcpt} ({code} {_smtp_text(msg)})" for rcpt, (code, msg) in refused.items())
        # Not retried: the accepted recipients would get the alert twice.
        return _Outcome(ok=False, status=250, error=f"SMTP: delivered, but these recipients were refused: {detail}")
    return _Outcome(ok=True, status=250)
