"""Resource levelling: an exact CP-SAT model and a serial schedule-generation heuristic.

One solver (`solver`) serves two front ends: the PSPLIB benchmark
(`psplib_adapter`: `solve_rcpsp`, `serial_sgs`, `verify`) and real plans
(`plan_adapter`: `level_plan`), so the benchmark exercises the code that
levels plans. Everything public is imported from here.
"""

from models.planning.levelling.plan_adapter import (
    LevelledPlan,
    LevelledTask,
    Method,
    Reassignment,
    TaskStatus,
    level_plan,
)
from models.planning.levelling.psplib_adapter import (
    LevelResult,
    critical_path_length,
    psplib_level_json,
    serial_sgs,
    solve_rcpsp,
    verify,
)
from models.planning.levelling.solver import Priority

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
