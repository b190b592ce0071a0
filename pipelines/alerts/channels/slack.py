"""Slack: an incoming-webhook Block Kit message, and how Slack says it took one."""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.alerts.channels.messages import (
    AlertMessage, Markup, alert_markup, clip, escape_entities, footer, labels_for, one_line, ordered, ref,
    shared_url, top_severity)
from pipelines.alerts.channels.transport import Outcome, Verdict
from warehouse.settings import AlertChannel

SLACK_MAX_BLOCKS = 50
SLACK_SECTION_MAX_CHARS = 3000
SLACK_HEADER_MAX_CHARS = 150

SLACK_EMOJI = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_blue_circle:"}


def _slack_link(url: str, text: str) -> str:
    safe_url = url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")
    return f"<{safe_url}|{escape_entities(text)}>"


SLACK = Markup(escape_entities, lambda s: f"*{s}*", lambda s: f"_{s}_", _slack_link, "• ", "\n")


def slack_payload(channel: AlertChannel, messages: Sequence[AlertMessage], heading: str) -> dict:
    """Block Kit message; within Slack's 50-block limit, a long digest ends with "… and N more"."""
    digest = ordered(messages)
    labels = labels_for(channel)
    shared = shared_url(digest)
    context = {"type": "mrkdwn", "text": escape_entities(footer(channel, digest))}
    tail: list[dict] = [{"type": "context", "elements": [context]}]
    if shared:
        tail.append({"type": "actions", "elements": [{
            "type": "button", "action_id": "lodestar-open",
            "text": {"type": "plain_text", "text": labels.open, "emoji": True},
            "url": shared, "style": "primary",
        }]})
    room = SLACK_MAX_BLOCKS - 1 - len(tail)  # the header takes one
    shown = digest if len(digest) <= room else digest[: room - 1]
    sections = []
    for message in shown:
        body, link = alert_markup(channel, message, SLACK, SLACK_EMOJI, with_link=not shared)
        limit = SLACK_SECTION_MAX_CHARS - (len(link) + 1 if link else 0)
        text = clip(body, limit) + ("\n" + link if link else "")
        sections.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    if len(shown) < len(digest):
        more = labels.more.format(n=len(digest) - len(shown))
        sections.append({"type": "section", "text": {"type": "mrkdwn", "text": escape_entities(more)}})
    header = {"type": "header", "text": {"type": "plain_text", "emoji": True,
                                          "text": clip(f"{SLACK_EMOJI[top_severity(digest)]} {one_line(heading)}",
                                                       SLACK_HEADER_MAX_CHARS)}}
    titles = "; ".join(f"{labels.severity[m.severity]} {ref(m)}: {m.title}" for m in digest)
    fallback = escape_entities(clip(f"{one_line(heading)} — {titles}", 3000))
    return {"text": fallback, "blocks": [header, *sections, *tail]}


def _accepted(status: int, text: str) -> Outcome:
    """Slack's incoming webhooks answer a plain "ok"; any other 2xx body is a refusal."""
    if text.strip() == "ok":
        return Outcome(ok=True, status=status)
    return Outcome(ok=False, status=status, error=f"Slack answered {clip(one_line(text), 200)!r}")


SLACK_VERDICT = Verdict(accepted=_accepted)
