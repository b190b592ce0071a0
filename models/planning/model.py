"""The plan as the planning engine sees it: tasks, dependency links, resources, assignments.

One in-memory shape shared by the warehouse loader, MS Project interchange,
CPM, Monte Carlo and levelling, so each of them is tested on the same objects.
Durations and lags are in working days of the plan's calendar; dates are
calendar dates (`datetime.date`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

LinkType = Literal["FS", "SS", "FF", "SF"]
ConstraintType = Literal[
    "ASAP",  # as soon as possible (none)
    "SNET",  # start no earlier than
    "SNLT",  # start no later than
    "FNET",  # finish no earlier than
    "FNLT",  # finish no later than (must finish by)
    "MSO",   # must start on
    "MFO",   # must finish on
]


@dataclass
class PlanTask:
    task_id: str
    name: str = ""
    parent_id: str | None = None
    duration_days: float = 0.0
    """Working days of work in total (0 for a milestone)."""
    remaining_days: float | None = None
    """Working days still to do for an in-progress task; None = duration × (1 − percent complete)."""
    start: date | None = None
    finish: date | None = None
    actual_start: date | None = None
    actual_finish: date | None = None
    percent_complete: float = 0.0
    is_milestone: bool = False
    is_summary: bool = False
    constraint_type: ConstraintType = "ASAP"
    constraint_date: date | None = None
    deadline: date | None = None
    estimate_hours: float | None = None
    actual_hours: float | None = None
    assignee_id: str | None = None
    project_key: str | None = None
    outline_level: int | None = None
    wbs: str | None = None


@dataclass
class PlanLink:
    predecessor_id: str
    successor_id: str
    type: LinkType = "FS"
    lag_days: float = 0.0
    """Lag in working days; negative is a lead."""


@dataclass
class Resource:
    resource_id: str
    name: str = ""
    capacity: float = 1.0
    """Units available per working day (1.0 = one full-time person)."""
    skills: frozenset[str] = frozenset()
    days_off: frozenset[date] = frozenset()


@dataclass
class Assignment:
    task_id: str
    resource_id: str
    units: float = 1.0


@dataclass(frozen=True)
class Adjustment:
    """A source value the planning engine could not use as it stands, and what it did instead."""

    task_id: str | None
    """The task it belongs to; None for a project-level value (the project's start or due date)."""
    field: str
    message: str
    """What was wrong and what was done ("due_date 0001-01-01 is outside 1900-01-01..2200-12-31: ignored")."""


@dataclass
class Plan:
    tasks: list[PlanTask]
    links: list[PlanLink] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    start: date | None = None
    """Project start: no task is scheduled before it."""
    status_date: date | None = None
    """'Today' for scheduling: remaining work of unfinished tasks starts no earlier than this."""
    name: str = ""
    adjustments: list[Adjustment] = field(default_factory=list)
    """Values dropped or capped while the plan was built from source data (``models.planning.bounds``)."""

    def task(self, task_id: str) -> PlanTask:
        for task in self.tasks:
            if task.task_id == task_id:
                return task
        raise KeyError(task_id)
