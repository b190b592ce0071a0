"""The MSPDI codes and field ids that the reader and the writer must agree on.

MS Project numbers link types, constraint types, duration formats and
weekdays in its own way, and Lodestar keeps ids that are not positive
integers in an aliased Text1 field; one table for both directions keeps a
round trip lossless.
"""

from __future__ import annotations

NS = "http://schemas.microsoft.com/project"
LINK_TYPES: dict[int, str] = {0: "FF", 1: "FS", 2: "SF", 3: "SS"}
LINK_CODES: dict[str, int] = {name: code for code, name in LINK_TYPES.items()}
CONSTRAINT_TYPES: dict[int, str] = {
    0: "ASAP", 1: "ALAP", 2: "MSO", 3: "MFO", 4: "SNET", 5: "SNLT", 6: "FNET", 7: "FNLT",
}
CONSTRAINT_CODES: dict[str, int] = {name: code for code, name in CONSTRAINT_TYPES.items()}
START_CONSTRAINTS = frozenset({"MSO", "SNET", "SNLT"})
LODESTAR_ID_ALIAS = "Lodestar ID"
TASK_TEXT1 = "188743731"
RESOURCE_TEXT1 = "205520904"
FORMAT_DAYS = 7


def ms_day(day_type: int) -> int:
    """MSPDI DayType 1 = Sunday … 7 = Saturday → Python's Monday = 0."""
    return (day_type + 5) % 7
