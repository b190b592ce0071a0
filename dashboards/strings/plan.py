"""Words of the plan page; keys start with "plan."."""

STRINGS: dict[str, dict[str, str]] = {}
