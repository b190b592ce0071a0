"""What a reader sees of Markdown the dashboard wrote: source values are backslash-escaped (`safe_text`).

Page tests compare messages with the words a person reads, so they read
them through `shown`, which drops the escapes Markdown would not display.
"""

from __future__ import annotations

import re

_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def shown(markdown: str) -> str:
    """`markdown` as rendered text: every backslash-escaped punctuation character as itself."""
    return _ESCAPED.sub(r"\1", markdown)
