"""Slack: an incoming-webhook Block Kit message, and how Slack says it took one."""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.alerts.channels.messages import (
    AlertMessage, Escaper, Markup, alert_markup, clip, clip_markup, escape_entities, footer, fullwidth, labels_for,
    one_line, ordered, plain, ref, shared_url, top_severity, trimmed)
from pipelines.alerts.channels.transport import Outcome, Verdict
from warehouse.settings import AlertChannel

# Block Kit's documented limits (docs.slack.dev/reference/block-kit: blocks, and composition-objects/text-object).
SLACK_MAX_BLOCKS = 50
"""A message carries at most 50 blocks (Block Kit reference, "blocks" of a message payload)."""
SLACK_SECTION_MAX_CHARS = 3000
"""A section's text object holds at most 3,000 characters (Block Kit section block, `text`)."""
SLACK_HEADER_MAX_CHARS = 150
"""A header block's plain_text holds at most 150 characters (Block Kit header block, `text`)."""
SLACK_FALLBACK_MAX_CHARS = 3000
"""The top-level `text` (notifications, and clients without blocks): Slack truncates it past 40,000 characters and
advises staying under 4,000 (chat.postMessage, "Truncating content"); ours is a one-line summary, 3,000 at most."""

SLACK_EMOJI = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_blue_circle:"}

SLACK_ESCAPE = Escaper(fullwidth("*_~`"), entities=True)
"""Slack's mrkdwn: ``& < >`` as the entities Slack documents ("Escaping text": the only three it decodes), which
also kills ``<http://…|…>`` links and ``<!channel>`` mentions. Slack has no escape for ``* _ ~ ` `` (bold, italic,
strike, code), so those become their full-width forms ＊ ＿ ～ ｀. Every mrkdwn text is also sent with
``verbatim: true``, so Slack does not link URLs, channel names or mentions it finds in it by itself."""


def _slack_link(url: str, text: str) -> str:
    safe_url = url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")
    return f"<{safe_url}|{escape_entities(text)}>"


def _mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


SLACK = Markup(SLACK_ESCAPE, lambda s: f"*{s}*", lambda s: f"_{s}_", _slack_link, "• ", "\n")


def slack_payload(channel: AlertChannel, messages: Sequence[AlertMessage], heading: str) -> dict:
    """Block Kit message; within Slack's 50-block limit, a long digest ends with "… and N more"."""
    digest = [trimmed(m) for m in ordered(messages)]
    labels = labels_for(channel)
    shared = shared_url(digest)
    context = _mrkdwn(SLACK_ESCAPE(footer(channel, digest)))
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
        text = clip_markup(body, limit) + ("\n" + link if link else "")
        sections.append({"type": "section", "text": _mrkdwn(text)})
    if len(shown) < len(digest):
        more = labels.more.format(n=len(digest) - len(shown))
        sections.append({"type": "section", "text": _mrkdwn(escape_entities(more))})
    header = {"type": "header", "text": {"type": "plain_text", "emoji": True,
                                          "text": clip(f"{SLACK_EMOJI[top_severity(digest)]} {plain(heading)}",
                                                       SLACK_HEADER_MAX_CHARS)}}
    titles = "; ".join(f"{labels.severity[m.severity]} {SLACK_ESCAPE(ref(m))}: {SLACK_ESCAPE(m.title)}"
                       for m in digest)
    fallback = clip_markup(f"{SLACK_ESCAPE(heading)} — {titles}", SLACK_FALLBACK_MAX_CHARS)
    # No unfurling: Slack would fetch a preview of every link in the message, a source's included.
    return {"text": fallback, "blocks": [header, *sections, *tail], "unfurl_links": False, "unfurl_media": False}


def _accepted(status: int, text: str) -> Outcome:
    """Slack's incoming webhooks answer a plain "ok"; any other 2xx body is a refusal."""
    if text.strip() == "ok":
        return Outcome(ok=True, status=status)
    return Outcome(ok=False, status=status, error=f"Slack answered {clip(one_line(text), 200)!r}")


SLACK_VERDICT = Verdict(accepted=_accepted)
