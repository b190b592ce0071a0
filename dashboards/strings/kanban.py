"""Words of the kanban page; keys start with "kanban."."""

STRINGS: dict[str, dict[str, str]] = {}
