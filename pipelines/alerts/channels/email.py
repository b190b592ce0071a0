"""E-mail: a plain-text part every mail client reads and an HTML alternative."""

from __future__ import annotations

import html
from collections.abc import Sequence
from email.message import EmailMessage

from pipelines.alerts.channels.messages import COLON, AlertMessage, footer, labels_for, one_line, ordered, ref
from warehouse.settings import AlertChannel

EMAIL_COLOUR = {"critical": "#c62828", "warning": "#ef6c00", "info": "#1565c0"}


def email_message(channel: AlertChannel, messages: Sequence[AlertMessage], heading: str) -> EmailMessage:
    """A plain-text part for every mail client and an HTML alternative; all alert text is HTML-escaped."""
    digest = ordered(messages)
    labels = labels_for(channel)
    colon = COLON.get(channel.language, ":")
    gap = "" if channel.language == "zh" else " "  # a full-width colon carries its own space
    subject = one_line(heading)
    esc = html.escape

    def html_field(label: str, value: str) -> str:
        return f'<p style="margin:0 0 6px"><strong>{esc(label + colon)}</strong>{gap}{esc(value)}</p>'

    def html_list(label: str, tag: str, values: Sequence[str]) -> str:
        items = "".join(f"<li>{esc(v)}</li>" for v in values)
        heading_html = f'<p style="margin:0"><strong>{esc(label + colon)}</strong></p>'
        return f'{heading_html}<{tag} style="margin:0 0 6px">{items}</{tag}>'

    text_blocks = [f"{subject}\n{'=' * min(len(subject), 72)}"]
    html_blocks = []
    for message in digest:
        head = f"[{labels.severity[message.severity]}] {ref(message)}"
        head += f" — {message.state_note}" if message.state_note else ""
        lines = [head, f"{labels.what}{colon}{gap}{message.title}"]
        border = EMAIL_COLOUR[message.severity]
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
    signature = footer(channel, digest)
    text = "\n\n".join(text_blocks) + f"\n\n-- \n{signature}\n"
    lang = "zh-CN" if channel.language == "zh" else "en"
    fonts = "-apple-system,'Segoe UI',Helvetica,Arial,'PingFang SC','Microsoft YaHei',sans-serif"
    body = (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{esc(subject)}</title></head>\n'
        f'<body style="font-family:{fonts};font-size:14px;color:#222">\n'
        f'<h2 style="font-size:18px">{esc(subject)}</h2>\n' + "\n".join(html_blocks)
        + f'\n<p style="color:#888;font-size:12px">{esc(signature)}</p>\n</body></html>\n'
    )
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = channel.sender or ""
    mail["To"] = ", ".join(channel.to)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies back to the sender
    mail.set_content(text)
    mail.add_alternative(body, subtype="html")
    return mail
