"""What a read MS Project file holds besides its Plan.

The Plan has no room for MS Project's calendars, baselines, saved dates, lag
formats or ALAP constraints. `MspdiProject` carries them from `read_mspdi` to
`write_project`, so that a round trip keeps them, and to the comparison of our
CPM with the dates MS Project saved (`saved_schedule`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from models.planning.model import Plan
from models.planning.mspdi.calendar import MspdiCalendar, day_span, same_working_time


@dataclass(frozen=True)
class SavedTaskDates:
    """What MS Project computed and saved for one task, as saved (moments, not days)."""

    start: datetime | None = None
    finish: datetime | None = None
    early_start: datetime | None = None
    early_finish: datetime | None = None
    late_start: datetime | None = None
    late_finish: datetime | None = None
    total_slack_days: float | None = None
    free_slack_days: float | None = None
    critical: bool | None = None


@dataclass(frozen=True)
class RawLag:
    """A link's lag exactly as MSPDI had it, so a round trip keeps elapsed and percent lags."""

    link_lag: int
    """Tenths of a minute, or the percentage for percent formats."""
    lag_format: int
    lag_days: float
    """What it became in the Plan; a Plan edit that changes the lag makes this record stale."""


@dataclass
class MspdiProject:
    """A read MS Project file: the Plan plus what the Plan has no room for."""

    plan: Plan
    calendar: MspdiCalendar = field(default_factory=MspdiCalendar)
    """The project calendar (``CalendarUID``)."""
    calendars: dict[str, MspdiCalendar] = field(default_factory=dict)
    """Every calendar by UID, resolved against its base calendar."""
    baselines: dict[int, dict[str, tuple[date | None, date | None, float | None]]] = field(default_factory=dict)
    """{baseline number: {task_id: (start, finish, duration_days)}}; number 0 is MS Project's "Baseline"."""
    baseline_work_hours: dict[int, dict[str, float]] = field(default_factory=dict)
    saved: dict[str, SavedTaskDates] = field(default_factory=dict)
    lags: dict[tuple[str, str], RawLag] = field(default_factory=dict)
    """(predecessor_id, successor_id) → the lag as saved."""
    task_calendar_uid: dict[str, str] = field(default_factory=dict)
    """Tasks with a calendar of their own (``CalendarUID`` other than -1)."""
    resource_calendar_uid: dict[str, str] = field(default_factory=dict)
    alap_task_ids: frozenset[str] = frozenset()
    manual_task_ids: frozenset[str] = frozenset()
    inactive_task_ids: frozenset[str] = frozenset()
    name: str = ""
    """``Name``: usually the file name MS Project saved to."""
    title: str = ""
    start: datetime | None = None
    finish: datetime | None = None
    status_date: datetime | None = None
    current_date: datetime | None = None
    schedule_from_start: bool = True
    honor_constraints: bool = False
    """``HonorConstraints`` as saved."""
    _assigned_calendars: dict[str, set[str | None]] | None = field(default=None, repr=False, compare=False)
    """Calendars of each task's assigned resources, indexed on first use (the Plan as read)."""

    @property
    def minutes_per_day(self) -> int:
        return self.calendar.minutes_per_day

    @property
    def hours_per_day(self) -> float:
        return self.calendar.hours_per_day

    def calendar_for(self, task_id: str) -> MspdiCalendar:
        """The calendar MS Project scheduled a task on.

        The task's own calendar if it has one; otherwise, when every assigned
        resource works on the same calendar, that one (MS Project schedules
        resource-driven tasks on resource calendars); otherwise the project calendar.
        """
        own = self.task_calendar_uid.get(task_id)
        if own in self.calendars:
            return self.calendars[own]
        if self._assigned_calendars is None:
            assigned: dict[str, set[str | None]] = {}
            for a in self.plan.assignments:
                assigned.setdefault(a.task_id, set()).add(self.resource_calendar_uid.get(a.resource_id))
            self._assigned_calendars = assigned
        uids = self._assigned_calendars.get(task_id, set())
        if len(uids) == 1:
            uid = next(iter(uids))
            if uid in self.calendars:
                return self.calendars[uid]
        return self.calendar

    @property
    def tasks_on_other_calendars(self) -> frozenset[str]:
        """Tasks whose working time differs from the project calendar's (compare them with care)."""
        return frozenset(
            t.task_id for t in self.plan.tasks
            if not same_working_time(self.calendar_for(t.task_id), self.calendar)
        )


def saved_schedule(project: MspdiProject) -> dict[str, tuple[date | None, date | None]]:
    """MS Project's own Start/Finish for every task as (first working day, last working day).

    This is the yardstick for our CPM: the same day conventions as the Plan
    (inclusive finish), converted on the calendar each task was scheduled on.
    """
    result: dict[str, tuple[date | None, date | None]] = {}
    for task in project.plan.tasks:
        saved = project.saved.get(task.task_id, SavedTaskDates())
        calendar = project.calendar_for(task.task_id)
        result[task.task_id] = day_span(saved.start, saved.finish, calendar)
    return result
