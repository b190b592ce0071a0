"""Words of the forecast page; keys start with "forecast."."""

STRINGS: dict[str, dict[str, str]] = {}
