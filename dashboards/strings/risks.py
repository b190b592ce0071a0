"""Words of the risks page; keys start with "risks."."""

STRINGS: dict[str, dict[str, str]] = {}
