"""Words of the alerts page; keys start with "alerts."."""

STRINGS: dict[str, dict[str, str]] = {}
