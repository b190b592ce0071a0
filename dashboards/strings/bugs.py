"""Words of the bugs page; keys start with "bugs."."""

STRINGS: dict[str, dict[str, str]] = {}
