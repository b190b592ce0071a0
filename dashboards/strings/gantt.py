"""Words of the gantt page; keys start with "gantt."."""

STRINGS: dict[str, dict[str, str]] = {}
