"""What every platform renderer shares: the alert message, the labels in each language, and chat markup.

Kept apart from the platform modules so that a digest reads the same on Slack,
DingTalk, Feishu and e-mail (same order, same labels, same footer), and apart
from the transport so that rendering stays pure and can be previewed offline.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from warehouse.settings import SEVERITY_ORDER, AlertChannel

SEVERITIES = ("info", "warning", "critical")

CHAT_MAX_BODY_BYTES = 18_000
"""Feishu rejects custom-bot bodies over 20 KB; DingTalk and Feishu digests are kept under this, with a margin."""


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
class Labels:
    severity: Mapping[str, str]
    what: str
    why: str
    impact: str
    who: str
    options: str
    open: str
    more: str
    count: str


LABELS = {
    "en": Labels(
        severity={"critical": "Critical", "warning": "Warning", "info": "Info"},
        what="What", why="Why", impact="Impact", who="Who should act", options="Re-plan options",
        open="Open in Lodestar", more="… and {n} more", count="{n} alerts",
    ),
    "zh": Labels(
        severity={"critical": "严重", "warning": "警告", "info": "提示"},
        what="问题", why="原因", impact="影响", who="负责人", options="调整方案",
        open="在 Lodestar 中打开", more="…… 另有 {n} 条", count="{n} 条预警",
    ),
}
COLON = {"en": ":", "zh": "："}
EMOJI = {"critical": "🔴", "warning": "🟠", "info": "🔵"}


def labels_for(channel: AlertChannel) -> Labels:
    return LABELS.get(channel.language, LABELS["en"])


def ordered(messages: Sequence[AlertMessage]) -> list[AlertMessage]:
    """Most severe first (stable otherwise): in a digest, the critical alert must not hide below the fold."""
    if not messages:
        raise ValueError("nothing to deliver: no alert messages")
    return sorted(messages, key=lambda m: -SEVERITY_ORDER[m.severity])


def top_severity(messages: Sequence[AlertMessage]) -> str:
    return max((m.severity for m in messages), key=SEVERITY_ORDER.__getitem__)


def shared_url(messages: Sequence[AlertMessage]) -> str | None:
    """The one dashboard link for the whole delivery, when every alert points at the same page."""
    urls = {m.url for m in messages}
    return urls.pop() if len(urls) == 1 else None


def ref(message: AlertMessage) -> str:
    return message.task_key or message.project_key


def footer(channel: AlertChannel, messages: Sequence[AlertMessage]) -> str:
    """Always names Lodestar: DingTalk and Feishu robots guarded by a keyword reject messages without it."""
    projects = list(dict.fromkeys(m.project_key for m in messages))
    parts = ["Lodestar", ", ".join(projects)]
    if len(messages) > 1:
        parts.append(labels_for(channel).count.format(n=len(messages)))
    return " · ".join(parts)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def one_line(text: str) -> str:
    return " ".join(text.split())


def json_bytes(payload: object) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --------------------------------------------------------------------------- chat markup


@dataclass(frozen=True)
class Markup:
    """How one chat platform spells bold, italic, links and bullets, and what it must escape."""

    escape: Callable[[str], str]
    bold: Callable[[str], str]
    italic: Callable[[str], str]
    link: Callable[[str, str], str]
    bullet: str
    separator: str


def escape_entities(text: str) -> str:
    """Slack's mrkdwn treats these three as control characters (links, mentions); Feishu's lark_md as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def md_link(url: str, text: str) -> str:
    return f"[{text}]({url.replace(')', '%29').replace(' ', '%20')})"


def alert_markup(channel: AlertChannel, message: AlertMessage, mk: Markup, emoji: Mapping[str, str],
                 with_link: bool) -> tuple[str, str]:
    """(body, link line) of one alert in a chat platform's markup; the link is kept apart so clipping spares it."""
    labels = labels_for(channel)
    colon = COLON.get(channel.language, ":")
    # The colon stays outside the bold: CommonMark does not close ** between punctuation and a letter
    # ("**问题：**文字" stays literal). A full-width colon carries its own space.
    gap = "" if channel.language == "zh" else " "
    esc = mk.escape
    head = f"{emoji[message.severity]} {mk.bold(esc(f'{labels.severity[message.severity]} · {ref(message)}'))}"
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


def fit(render: Callable[[list[AlertMessage], int], dict], digest: list[AlertMessage]) -> dict:
    """The largest leading part of a digest whose JSON body stays under the chat platforms' size limit."""

    def fits(count: int) -> bool:
        return len(json_bytes(render(digest[:count], len(digest) - count))) <= CHAT_MAX_BODY_BYTES

    if fits(len(digest)):
        return render(digest, 0)
    low, high = 1, len(digest) - 1  # binary search: the body grows with every alert shown
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(middle) else (low, middle - 1)
    # Even one alert over the limit is still sent (clipped by nobody): the platform's answer will say why.
    return render(digest[:low], len(digest) - low)
