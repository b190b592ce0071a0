"""What every platform renderer shares: the alert message, the labels in each language, chat markup, and making
source-provided text inert and bounded.

Kept apart from the platform modules so that a digest reads the same on Slack,
DingTalk, Feishu and e-mail (same order, same labels, same footer), and apart
from the transport so that rendering stays pure and can be previewed offline.

Every string that comes from a source (titles, keys, names, reasons, notes)
goes through `plain` and then the platform's `Escaper` before it is put into
markup, so it renders as the literal text it is: no link, image, mention,
heading or emphasis of its own, and no URL a client would turn into a link.
Only our own markup (labels, bullets, the dashboard link) stays live. Each
text is clipped (`FIELD_MAX_CHARS` and friends, "…" marking the cut) and each
whole message fits its platform's size limit (`fit`).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from warehouse.settings import SEVERITY_ORDER, AlertChannel

SEVERITIES = ("info", "warning", "critical")

# What one alert may take of a message. The platforms' own limits, each with its source, are in their modules;
# these are our bounds, so that one huge title (a 100 KB one was seen) cannot crowd out everything else.
FIELD_MAX_CHARS = 1_000
"""One title, reason, impact, owner, option or state note as shown, "…" included: a third of a Slack section
(3,000 characters), so that a long title still leaves room for the why, the who and the link."""
FIELD_MAX_ITEMS = 10
"""Reasons and re-plan options shown per alert; more end in a "…" item. The rules write three at the most."""
KEY_MAX_CHARS = 100
"""A project or task key as shown (Jira allows 255 characters for a project key; real ones are under 20)."""
URL_MAX_CHARS = 2_000
"""Our dashboard link is left out rather than cut above this (a cut URL leads nowhere); Slack buttons take 3,000."""
ALERT_MAX_CHARS = 4_000
"""All the texts of one alert together, before escaping. Where a platform's body limit is tighter still, `fit`
gives a lone alert a smaller budget until it fits."""


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
    return clip(" · ".join(parts), FIELD_MAX_CHARS)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


_PARTIAL_ENTITY = re.compile(r"&[#A-Za-z0-9]{0,8}$")


def clip_markup(text: str, limit: int) -> str:
    """`clip` for escaped markup: a cut never leaves half an entity (``&am…``) behind."""
    if len(text) <= limit:
        return text
    return _PARTIAL_ENTITY.sub("", text[: max(0, limit - 1)]) + "…"


def one_line(text: str) -> str:
    return " ".join(text.split())


_SURROGATE = re.compile("[\ud800-\udfff]")


def json_bytes(payload: object) -> bytes:
    """The body as sent; a lone surrogate (seen in a Jira summary) becomes U+FFFD instead of failing the encoding."""
    return _SURROGATE.sub("\ufffd", json.dumps(payload, ensure_ascii=False, separators=(",", ":"))).encode("utf-8")


# --------------------------------------------------------------------------- inert source text

WORD_JOINER = "\u2060"
"""Invisible, zero-width and not a space. Put between two characters it keeps them from being read as one token
(the ``//`` of a URL, ``www.``, the ``&`` of an entity, a block marker opening a line) while people see the same
text. Used where a platform documents no escape for a character (DingTalk none at all)."""

# C0/C1 controls other than whitespace (`one_line` folds that), and the bidirectional embeddings, overrides and
# isolates (U+202A-U+202E, U+2066-U+2069) that can make a title display in another order than it reads.
_INVISIBLE = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")
_DOUBLE_SLASH = re.compile("/(?=/)")
_WWW = re.compile(r"(?i)(www)\.")


def inert_urls(text: str) -> str:
    """Source text with no URL a client would link by itself: a word joiner between the slashes of ``://`` (and of a
    scheme-less ``//host``) and after ``www``. Slack, DingTalk, Feishu and mail clients all link such URLs
    unasked; the URL stays readable, but following it takes retyping. (A bare domain like ``evil.example/a``
    may still be linked by some clients, showing its true address: only dots could stop that.)"""
    return _WWW.sub(r"\1" + WORD_JOINER + ".", _DOUBLE_SLASH.sub("/" + WORD_JOINER, text))


def plain(text: str) -> str:
    """A source string as one line of plain text: no newline (which would open a new heading, quote, list or a
    made-up field), no control or bidi-override character, no lone surrogate, no self-linking URL."""
    return inert_urls(one_line(_INVISIBLE.sub("", _SURROGATE.sub("\ufffd", text))))


def fullwidth(characters: str) -> dict[int, str]:
    """Each ASCII punctuation character to its full-width form (U+FF01-U+FF5E, i.e. + 0xFEE0): the same glyph,
    wider, and no markup character on any platform. For characters a platform offers no escape for."""
    return {ord(c): chr(ord(c) + 0xFEE0) for c in characters}


# A block marker at the start of a line: heading, quote, list item, setext underline, table row, ordered item.
_BLOCK_MARKER = re.compile(r"[#>+\-=|]|\d+[.)]")


@dataclass(frozen=True)
class Escaper:
    """Makes a source string literal text in one platform's markup: `plain` first, then `table` (characters
    replaced), then an invisible word joiner before a block marker (values follow our own "- " bullets, where
    ``# x`` or ``> x`` would become a heading or a quote), then ``& < >`` as entities where the platform reads them."""

    table: Mapping[int, str]
    entities: bool = False
    block_markers: bool = False

    def __call__(self, text: str) -> str:
        text = plain(text).translate(self.table)
        if self.block_markers and _BLOCK_MARKER.match(text):
            text = WORD_JOINER + text
        return escape_entities(text) if self.entities else text


def escape_entities(text: str) -> str:
    """Slack's mrkdwn treats these three as control characters (links, mentions); Feishu's lark_md as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def trimmed(message: AlertMessage, budget: int = ALERT_MAX_CHARS) -> AlertMessage:
    """The alert with every text clipped to its bound and all of them together to `budget` characters, spent in
    reading order (the title first); a link too long to be whole is dropped."""
    left = budget

    def take(text: str) -> str:
        nonlocal left
        shown = clip(text, max(0, min(FIELD_MAX_CHARS, left)))
        left -= len(shown)
        return shown

    def items(values: tuple[str, ...]) -> tuple[str, ...]:
        kept: list[str] = []
        for value in values[:FIELD_MAX_ITEMS]:
            if left <= 0:
                break
            kept.append(take(value))
        return tuple(kept + ["…"] * (len(kept) < len(values)))  # one "…" item says some were left out

    def optional(text: str | None) -> str | None:
        return None if text is None else take(text)

    return replace(
        message, title=take(message.title), state_note=optional(message.state_note), reasons=items(message.reasons),
        impact=optional(message.impact), owner=optional(message.owner), options=items(message.options),
        project_key=clip(message.project_key, KEY_MAX_CHARS),
        task_key=None if message.task_key is None else clip(message.task_key, KEY_MAX_CHARS),
        url=message.url if message.url and len(message.url) <= URL_MAX_CHARS else None,
    )


# --------------------------------------------------------------------------- chat markup


@dataclass(frozen=True)
class Markup:
    """How one chat platform spells bold, italic, links and bullets, and how it makes source text literal."""

    escape: Callable[[str], str]
    bold: Callable[[str], str]
    italic: Callable[[str], str]
    link: Callable[[str, str], str]
    bullet: str
    separator: str


def safe_url(url: str) -> str:
    """Our link, percent-encoded where markup would end or break it (parentheses, angle brackets, spaces, quotes)."""
    return urllib.parse.quote(url, safe="/:?#[]@!$&'*+,;=%~-._")


def md_link(url: str, text: str) -> str:
    return f"[{text}]({safe_url(url)})"


def alert_markup(channel: AlertChannel, message: AlertMessage, mk: Markup, emoji: Mapping[str, str],
                 with_link: bool) -> tuple[str, str]:
    """(body, link line) of one alert in a chat platform's markup; the link is kept apart so clipping spares it."""
    labels = labels_for(channel)
    colon = COLON.get(channel.language, ":")
    # The colon stays outside the bold: CommonMark does not close ** between punctuation and a letter
    # ("**问题：**文字" stays literal). A full-width colon carries its own space.
    gap = "" if channel.language == "zh" else " "
    esc = mk.escape
    head = f"{emoji[message.severity]} {mk.bold(labels.severity[message.severity] + ' · ' + esc(ref(message)))}"
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


Rendered = TypeVar("Rendered")


def fit(render: Callable[[list[AlertMessage], int], Rendered], digest: Sequence[AlertMessage],
        fits: Callable[[Rendered], bool]) -> Rendered:
    """The rendering of the largest leading part of an (ordered) digest that `fits`, the rest counted as hidden.

    Every alert is `trimmed` first. When not even the first alert fits, it is cut shorter (a smaller budget) until
    it does, so a message is never over its platform's limit however long the texts it was given.
    """
    messages = [trimmed(m) for m in digest]
    total = len(messages)
    count = _largest(1, total, lambda n: fits(render(messages[:n], total - n)))
    if count is not None:
        return render(messages[:count], total - count)
    budget = _largest(0, ALERT_MAX_CHARS, lambda b: fits(render([trimmed(digest[0], b)], total - 1))) or 0
    return render([trimmed(digest[0], budget)], total - 1)


def _largest(low: int, high: int, ok: Callable[[int], bool]) -> int | None:
    """The largest n in low..high with ok(n), for an `ok` true up to some n and false above; None if not even low."""
    if ok(high):
        return high
    if low >= high or not ok(low):
        return None
    while high - low > 1:  # ok(low) and not ok(high); each rendering grows with n, so halve the gap
        middle = (low + high) // 2
        low, high = (middle, high) if ok(middle) else (low, middle)
    return low
