"""Words of the hours page; keys start with "hours."."""

STRINGS: dict[str, dict[str, str]] = {}
