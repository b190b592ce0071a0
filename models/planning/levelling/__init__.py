"""Resource levelling, as a package.

Everything public is imported from here, so callers keep writing
`from models.planning.levelling import level_plan` while the solver, the
PSPLIB adapter and the plan adapter get modules of their own.
"""

from models.planning.levelling.solver import (
    LevelledPlan,
    LevelledTask,
    LevelResult,
    Method,
    Priority,
    Reassignment,
    TaskStatus,
    critical_path_length,
    level_plan,
    psplib_level_json,
    serial_sgs,
    solve_rcpsp,
    verify,
)

__all__ = [
    "LevelResult",
    "LevelledPlan",
    "LevelledTask",
    "Method",
    "Priority",
    "Reassignment",
    "TaskStatus",
    "critical_path_length",
    "level_plan",
    "psplib_level_json",
    "serial_sgs",
    "solve_rcpsp",
    "verify",
]
