"""Source text on the pages: shown as the literal text it is, on one line, clipped to a length a page can draw.

Titles, names, keys, sprint and team names, priorities, risk and stand-up
text and error messages come from trackers, timesheets and forms, so none of
them may become markup. Streamlit renders Markdown (with its own extensions:
``:red[…]`` colours, ``:material/…:`` icons, ``$…$`` maths, bare-URL links)
in `st.markdown`, `st.caption`, headers, alerts (`st.info`, `st.warning`, …),
metric, button, checkbox, expander and tab labels and radio options: a
display name ``[x](http://evil.example) ![i](http://evil.example/p.png)``
there is a live link and an image the browser fetches. Our own formatting
(bold headings, badges, links to the trackers) stays Markdown; every source
string put into it goes through `markdown`, links through `markdown_link`.

Where text is shown, and how long it may be there (one rule, `DISPLAY_MAX`):

* Cards, captions, messages, headers, select-box and multiselect labels and
  chart tooltips show at most `DISPLAY_MAX` characters on one line, the rest
  replaced by "…" (`clip`): a 100 KB title made a 100 KB Kanban card.
* Tables (`st.dataframe`, `st.data_editor`) keep the whole text: the grid
  already cuts a cell to its column's width and shows all of it on hover,
  so the table is where a long title is read in full. Tables render text as
  text, so they need no escaping either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, urlsplit

from dashboards.i18n import t

if TYPE_CHECKING:  # common imports this module for its messages; the type is all needed here
    from dashboards.common import Problem

DISPLAY_MAX: Final = 200
"""Characters of one source string shown outside a table."""
MESSAGE_MAX: Final = 1000
"""Characters of an error message shown: long enough for a database error, short of a page of SQL."""
ELLIPSIS: Final = "…"
LINK_SCHEMES: Final[tuple[str, ...]] = ("http", "https")
# Line breaks, C0/C1 controls, the Unicode line and paragraph separators and the bidi embeddings,
# overrides and isolates (which can make text read backwards): all shown as a space.
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# Every ASCII punctuation character: CommonMark lets each be backslash-escaped and then shows it as
# itself, so escaping them all covers Markdown, GFM and Streamlit's extensions, and `<` and `&` make
# HTML tags and entities plain text.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Kept unescaped in a link target; everything else (spaces, parentheses, quotes, <, >, \) is percent-encoded.
_URL_SAFE: Final = ":/?#@!$&'*+,;=%~"


def clip(text: Any, limit: int = DISPLAY_MAX) -> str:
    """`text` on one line (breaks and control characters as spaces, runs of spaces as one), at most `limit` long.

    None is the empty string; a longer text ends in "…" within the limit.
    """
    if text is None:
        return ""
    line = " ".join(_NOT_ONE_LINE.sub(" ", str(text)).split())
    return line if len(line) <= limit else line[: limit - 1] + ELLIPSIS


def escape_markdown(text: str) -> str:
    """`text` that Markdown shows literally: titles like "[WIP] fix *all*" or "<img src=x>" stay as typed."""
    return _PUNCTUATION.sub(r"\\\1", text)


def markdown(text: Any, limit: int = DISPLAY_MAX) -> str:
    """A source string for a Markdown context: clipped (`clip`), then escaped (`escape_markdown`)."""
    return escape_markdown(clip(text, limit))


def message(error: BaseException | str) -> str:
    """An error's message for a Markdown context: it may quote source values, and may be long."""
    return markdown(error, MESSAGE_MAX)


def link_target(url: Any) -> str | None:
    """`url` made safe as a Markdown link target, or None when it is not an http(s) URL with a host."""
    if not url:
        return None
    text = clip(url, MESSAGE_MAX)
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in LINK_SCHEMES or not parts.netloc:
        return None
    return quote(text, safe=_URL_SAFE)


def markdown_link(label: Any, url: Any) -> str:
    """`[label](url)` with both made inert, or the escaped label alone when the URL is not a web address."""
    text = markdown(label)
    target = link_target(url)
    return f"[{text}]({target})" if target else text


def refusal(heading: str, problems: Iterable[Problem]) -> str:
    """Why a save was refused, as Markdown: `heading`, then one bullet per problem.

    The problems' values (a task's name, a person id someone typed) are
    escaped; the sentences around them are ours.
    """
    items = [f"- {t(p.key, **{name: markdown(value) for name, value in p.fmt.items()})}" for p in problems]
    return "\n\n".join([heading, "\n".join(items)])
