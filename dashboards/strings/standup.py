"""Words of the standup page; keys start with "standup."."""

STRINGS: dict[str, dict[str, str]] = {}
