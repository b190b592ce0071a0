"""Words of the sql page; keys start with "sql."."""

STRINGS: dict[str, dict[str, str]] = {}
