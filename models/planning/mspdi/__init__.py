"""Microsoft Project XML (MSPDI) in and out of the shared `Plan`.

PMOs exchange schedules as MS Project files, so Lodestar must read what a
planner saved (tasks, links, calendar, baselines, and the dates MS Project
computed, to check our CPM against) and write plans MS Project can open.

MS Project stores moments and minutes; the Plan stores working days and
calendar dates. The conversions decided here:

* **Durations** (``PT16H0M0S``) are working minutes; ``minutes / MinutesPerDay``
  gives working days (default 480, as MS Project's). Elapsed durations are
  calendar time and become ``calendar days × working weekdays / 7``.
* **Lags** (``LinkLag``) are tenths of a minute whatever ``LagFormat`` shows, so
  working-time lags become ``LinkLag / 10 / MinutesPerDay`` working days
  whether displayed as minutes, days or weeks. Elapsed lags (``ed``, ``ew`` …)
  become ``calendar days × working weekdays / 7`` (MS Project would count
  through nights and weekends; the Plan has no elapsed time). Percent lags
  (format 19/20/51/52) hold the percentage itself and become that share of the
  predecessor's duration. The raw value and format of every link are kept in
  `MspdiProject.lags`, so `write_project` writes them back unchanged.
* **Dates.** A start stands for the working day its work begins on, a finish
  for the last working day that has work (inclusive, as `warehouse_plan` counts
  durations). MS Project writes moments on day boundaries: a task that ends on
  Friday evening may be saved as ``Monday 08:00`` and a start ``Friday 17:00``
  means Monday. So a finish at or before the day's first working minute rolls
  back to the previous working day, and a start at or after the day's last
  working minute rolls on to the next one, using the task's calendar. A moment
  on a day without working time keeps its date (constraints and baselines are
  sometimes put on weekends). A zero-length task (milestone) is dated by the
  start rule, the morning it becomes true, as `cpm` dates milestones: one MS
  Project shows at Friday 17:00 is dated Monday. Spans whose finish lies
  before their start (seen in baselines) keep both dates as written.
  Start-type constraints (SNET, SNLT, MSO) follow the start rule; finish-type
  ones (FNET, FNLT, MFO) and deadlines the finish rule. The status date follows
  the start rule because the Plan reads it as the day remaining work may start
  on. Writing puts a start at the day's first working minute and a finish at
  its last, so dates survive a round trip.
* **Calendars.** `write_mspdi(work_calendar=…)` writes the company
  `WorkCalendar` over the plan's dates: its weekend as the non-working
  weekdays, weekday public holidays as non-working exceptions
  (``DayWorking 0``) and 调休 make-up Saturdays and Sundays as working
  exceptions (``DayWorking 1`` with a normal day's ``WorkingTimes``), so MS
  Project schedules on our CPM's working days. Reading keeps both kinds
  (`MspdiCalendar.non_working_dates`, `extra_working_dates`), and
  `MspdiCalendar.to_work_calendar` gives the CPM calendar of a read file.
* **Constraint ALAP** is not in the Plan's vocabulary: such tasks are read as
  ASAP and listed in `MspdiProject.alap_task_ids`, which `write_project`
  restores.
* **Resources:** ``MaxUnits`` is the capacity; ``days_off`` are the dates a
  resource's calendar is off while the project calendar works. A resource
  calendar's weekday pattern (night shift, part time) has no place in a
  Resource; it stays in `MspdiProject.calendars`, and `calendar_for` tells which
  calendar MS Project scheduled each task on.
* **What is left out of the Plan:** the project summary task (UID 0), blank
  rows (``IsNull``), inactive tasks (MS Project ignores them when scheduling;
  listed in `inactive_task_ids`), links from other projects, and assignments
  to no resource (``ResourceUID -65535``).

Task UIDs become ``task_id``. Plans whose ids are not positive integers (Jira
keys) are written with renumbered UIDs and the original id in the task's
``Text1`` field (alias "Lodestar ID"), which `read_mspdi` prefers, so ids
survive a round trip; resources likewise.

The package holds one concern per module: `calendar` (the MS Project calendar
model and the date rules above), `codes` (what reader and writer must agree
on), `project` (what a read file keeps beside its Plan), `reader` and
`writer`. Everything public is imported from here.
"""

from models.planning.mspdi.calendar import MspdiCalendar, WorkWeek, finish_date_of, start_date_of
from models.planning.mspdi.project import MspdiProject, RawLag, SavedTaskDates, saved_schedule
from models.planning.mspdi.reader import MspdiError, read_mspdi
from models.planning.mspdi.writer import write_mspdi, write_project

__all__ = [
    "MspdiCalendar",
    "MspdiError",
    "MspdiProject",
    "RawLag",
    "SavedTaskDates",
    "WorkWeek",
    "finish_date_of",
    "read_mspdi",
    "saved_schedule",
    "start_date_of",
    "write_mspdi",
    "write_project",
]
