"""E-mail: a plain-text part every mail client reads and an HTML alternative."""

from __future__ import annotations

import html
from collections.abc import Sequence
from email.message import EmailMessage

from pipelines.alerts.channels.messages import (
    COLON, AlertMessage, clip, fit, footer, labels_for, ordered, plain, ref)
from warehouse.settings import AlertChannel

EMAIL_COLOUR = {"critical": "#c62828", "warning": "#ef6c00", "info": "#1565c0"}

EMAIL_MAX_PART_BYTES = 100_000
"""Each part (plain text, HTML) stays under this many UTF-8 bytes; later alerts of a digest give way to
"… and N more". Gmail clips a message whose HTML is over 102 KB behind "[Message clipped] View entire message",
which would hide our footer and the alerts below the cut; no standard sets a smaller bound."""
EMAIL_SUBJECT_MAX_CHARS = 200
"""RFC 5322 §2.1.1 limits a header line to 998 characters (78 recommended; longer subjects are folded) and clients
show far less; ours is 200."""


def email_message(channel: AlertChannel, messages: Sequence[AlertMessage], heading: str) -> EmailMessage:
    """A plain-text part for every mail client and an HTML alternative.

    Every source text is `plain` (one line, URLs inert, since mail clients link bare URLs in both parts) and, in
    the HTML part, escaped with ``html.escape``; only our own dashboard link is an ``<a href>``.
    """
    digest = ordered(messages)
    subject = clip(plain(heading), EMAIL_SUBJECT_MAX_CHARS)
    signature = plain(footer(channel, digest))

    def render(shown: list[AlertMessage], hidden: int) -> tuple[str, str]:
        return _parts(channel, shown, hidden, subject, signature)

    text, body = fit(render, digest, lambda parts: all(len(p.encode("utf-8")) <= EMAIL_MAX_PART_BYTES for p in parts))
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = channel.sender or ""
    mail["To"] = ", ".join(channel.to)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies back to the sender
    mail.set_content(text)
    mail.add_alternative(body, subtype="html")
    return mail


def _parts(channel: AlertChannel, shown: list[AlertMessage], hidden: int, subject: str,
           signature: str) -> tuple[str, str]:
    """(plain text, HTML) of the alerts shown, with "… and N more" for the hidden ones."""
    labels = labels_for(channel)
    colon = COLON.get(channel.language, ":")
    gap = "" if channel.language == "zh" else " "  # a full-width colon carries its own space
    esc = html.escape

    def html_field(label: str, value: str) -> str:
        return f'<p style="margin:0 0 6px"><strong>{esc(label + colon)}</strong>{gap}{esc(value)}</p>'

    def html_list(label: str, tag: str, values: Sequence[str]) -> str:
        items = "".join(f"<li>{esc(v)}</li>" for v in values)
        heading_html = f'<p style="margin:0"><strong>{esc(label + colon)}</strong></p>'
        return f'{heading_html}<{tag} style="margin:0 0 6px">{items}</{tag}>'

    text_blocks = [f"{subject}\n{'=' * min(len(subject), 72)}"]
    html_blocks = []
    for message in shown:
        reasons, options = [plain(r) for r in message.reasons], [plain(o) for o in message.options]
        head = f"[{labels.severity[message.severity]}] {plain(ref(message))}"
        head += f" — {plain(message.state_note)}" if message.state_note else ""
        title = plain(message.title)
        lines = [head, f"{labels.what}{colon}{gap}{title}"]
        border = EMAIL_COLOUR[message.severity]
        items = [f'<div style="border-left:4px solid {border};padding:4px 12px;margin:12px 0">',
                 f'<p style="margin:0 0 6px"><strong>{esc(head)}</strong></p>', html_field(labels.what, title)]
        if reasons:
            lines += [f"{labels.why}{colon}", *(f"  - {reason}" for reason in reasons)]
            items.append(html_list(labels.why, "ul", reasons))
        for label, value in ((labels.impact, message.impact), (labels.who, message.owner)):
            if value:
                lines.append(f"{label}{colon}{gap}{plain(value)}")
                items.append(html_field(label, plain(value)))
        if options:
            lines += [f"{labels.options}{colon}", *(f"  {i}. {o}" for i, o in enumerate(options, 1))]
            items.append(html_list(labels.options, "ol", options))
        if message.url:
            lines.append(f"{labels.open}{colon}{gap}{message.url}")
            items.append(f'<p style="margin:0"><a href="{esc(message.url, quote=True)}">{esc(labels.open)}</a></p>')
        items.append("</div>")
        text_blocks.append("\n".join(lines))
        html_blocks.append("\n".join(items))
    if hidden:
        more = labels.more.format(n=hidden)
        text_blocks.append(more)
        html_blocks.append(f"<p>{esc(more)}</p>")
    text = "\n\n".join(text_blocks) + f"\n\n-- \n{signature}\n"
    lang = "zh-CN" if channel.language == "zh" else "en"
    fonts = "-apple-system,'Segoe UI',Helvetica,Arial,'PingFang SC','Microsoft YaHei',sans-serif"
    body = (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{esc(subject)}</title></head>\n'
        f'<body style="font-family:{fonts};font-size:14px;color:#222">\n'
        f'<h2 style="font-size:18px">{esc(subject)}</h2>\n' + "\n".join(html_blocks)
        + f'\n<p style="color:#888;font-size:12px">{esc(signature)}</p>\n</body></html>\n'
    )
    return text, body
