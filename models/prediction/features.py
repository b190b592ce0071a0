"""Task features as they could have been known at a prediction time (``as_of``), without leakage.

A model trained on features that peek past the prediction time looks excellent in
back-tests and fails in production, so every feature here is rebuilt only from rows
stamped at or before ``as_of``: ``status_changes.changed_at``, ``comments.created_at``,
``worklogs.started_at`` and ``tasks.created_at`` (plus ``tasks.started_at`` /
``tasks.resolved_at`` only through the *earliest* time they prove, see below). The
task's current ``status``, ``status_category``, ``updated_at`` and ``spent_hours`` are
never read; ``resolution`` only as the outcome of the first resolution (below).

How the past is reconstructed:

* **Status at as_of** is the target of the last status change at or before ``as_of``.
  Without one (an item whose tool keeps no history, such as a GitHub issue, or a task
  still in its initial status) it is ``done`` if the task's *resolution event* is at or
  before ``as_of``, ``in_progress`` if its *start event* is, else ``todo``.
* The **start event** of a task is the earliest of its first change into an in-progress
  status and ``tasks.started_at``; the **resolution event** is the earliest of its first
  change into a done status and ``tasks.resolved_at``. Earliest stamps are used on
  purpose: rows added later can only be later, so "event ≤ as_of" can never flip
  because of data from after ``as_of`` (a later reopen-and-resolve does not move an
  earlier resolution; ``tasks.resolved_at`` alone would).
* Aggregates over other tasks (assignee workload and on-time rate, reporter history,
  project cycle-time percentiles) are cumulative window aggregates over those events,
  ordered by the event time, read with an ``ASOF`` join at ``as_of``. Ties are included
  (``RANGE`` frames), sums are over integers (hours as whole seconds), so a value is a
  function of the events at or before ``as_of`` only, bit for bit, however many later
  events exist.

* A resolution is **dropped** (Won't Do, Duplicate, 不修复 …; ``warehouse/vocabulary.py``) when
  the status of the first change into a done status says so and that change is the resolution
  event, or when ``tasks.resolution`` says so and ``tasks.resolved_at`` lies within a minute after
  the resolution event (the resolution describes that event). A dropped task is neither on time
  nor late (it leaves the assignee's on-time and the reporter's delay rates) and has no cycle
  time (it leaves the team's cycle percentiles and ``team_resolved_n``); it still counts as
  resolved for ``assignee_resolved_n`` / ``reporter_resolved_n`` and ends work in progress.

Choices worth knowing:

* *Team* means project: cycle-time P50 / P85 are over the project's non-epic tasks
  resolved by ``as_of`` (cycle = working days from start, or creation if never
  started, to the first resolution). An epic's span is its children's schedule.
* *Workload* counts a task from its first start to its first resolution, so work on
  a reopened task is not counted a second time; the price of the leak-proof rule.
* *Sprint scope churn* cannot be measured: the warehouse keeps only each task's last
  sprint. ``reopen_n`` (done → not done transitions) and ``comments_n`` up to
  ``as_of`` stand in for it.
* Blockers / blocked tasks (``blocks`` and ``depends_on`` links) and sub-tasks count
  only tasks created by ``as_of``; links themselves carry no timestamp (snapshot).

Everything is set-based SQL plus one calendar lookup table: 20,000 (task, as_of) pairs
over a 100k-task warehouse take a few seconds, with no per-task Python.

Fields the warehouse keeps no history of are read as they are now; see
``SNAPSHOT_FIELDS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from models.planning.calendar import WorkCalendar
from warehouse import vocabulary

__all__ = [
    "CATEGORICAL_FEATURES",
    "LIST_FEATURES",
    "NUMERIC_FEATURES",
    "SNAPSHOT_FIELDS",
    "TEXT_FEATURE",
    "build_features",
    "status_category_map",
]

SNAPSHOT_FIELDS: dict[str, str] = {
    "project_key": "moving a task between projects is not tracked; rare, and mostly before work starts",
    "type_category": "a task re-typed later (story → bug) shows its final type; rare",
    "priority": "priority is often raised once a task is late or lowered once it is parked, so the current "
                "value can carry the outcome; the strongest residual leak here",
    "labels": "labels such as 'regression', 'blocked' or 'wontfix' may be added late and reflect the outcome",
    "components": "usually set at creation; low risk",
    "title": "text (in `text`) can be edited after as_of, e.g. '[DONE]' prefixes; moderate risk",
    "description": "text (in `text`) can grow with findings made during the work; moderate risk",
    "due_date": "allowed by design: a due date moved later hides lateness, so on-time rates look better than "
                "what was promised at as_of",
    "estimate_hours": "the original estimate is meant to be fixed, but may be re-estimated after work started",
    "story_points": "may be re-pointed after the fact",
    "assignee_id": "the current assignee: workload and on-time rate are those of whoever ended up with the "
                   "task, who may not be who held it at as_of",
    "reporter_id": "the reporter does not change in practice; low risk",
    "parent_task_id": "sub-task counts use the current parent of each task created by as_of",
    "task_links": "links carry no timestamps: blocker / blocked counts use links as they are now (only to "
                  "tasks created by as_of), so a blocker linked after as_of is already counted",
    "status name → category": "which category a status *name* belongs to comes from the tasks' current "
                              "(status, status_category) pairs, a workflow setting rather than task history",
    "resolution": "read only while tasks.resolved_at is within a minute of the first resolution, as that "
                  "resolution's outcome (dropped or delivered); a task reopened and resolved again after "
                  "as_of loses this evidence (its first done status name still counts)",
}
"""Fields read as they are *now* because the warehouse keeps no history of them, with the residual
leakage risk of each. A model evaluated on back-tests may look slightly better than it will be
live by as much as these fields changed after ``as_of``; none of them is an outcome by itself."""

TEXT_FEATURE = "text"
"""Raw title + description; the model vectorises it (character n-gram TF-IDF)."""

CATEGORICAL_FEATURES: tuple[str, ...] = ("type_category", "priority", "status_category_at")
LIST_FEATURES: tuple[str, ...] = ("labels", "components")
NUMERIC_FEATURES: tuple[str, ...] = (
    "priority_rank",
    "n_labels",
    "n_components",
    "has_assignee",
    "estimate_hours",
    "story_points",
    "has_due_date",
    "days_to_due",
    "is_started",
    "is_done",
    "age_workdays",
    "active_workdays",
    "status_workdays",
    "status_changes_n",
    "reopen_n",
    "comments_n",
    "worklog_hours",
    "worklog_to_estimate",
    "assignee_wip",
    "assignee_resolved_n",
    "assignee_on_time_rate",
    "reporter_reported_n",
    "reporter_resolved_n",
    "reporter_delay_rate",
    "blockers_n",
    "blockers_open_n",
    "blocking_n",
    "subtasks_n",
    "subtasks_open_n",
    "team_resolved_n",
    "team_cycle_p50",
    "team_cycle_p85",
    "age_to_p50",
    "age_to_p85",
)

_CATEGORIES = ("todo", "in_progress", "done")
_PRIORITY_RANK = {
    1: ("blocker", "highest", "critical", "urgent", "p0", "紧急", "最高", "严重"),
    2: ("high", "major", "p1", "高"),
    3: ("medium", "normal", "p2", "中"),
    4: ("low", "minor", "p3", "低"),
    5: ("lowest", "trivial", "p4", "最低"),
}
# Calendar indices exist for 1900..2200; keep a margin so lookups never hit the edge.
_CAL_MIN, _CAL_MAX = date(1901, 1, 1), date(2198, 12, 31)
_Q, _CAL, _SMAP = "_lodestar_feat_q", "_lodestar_feat_cal", "_lodestar_feat_smap"


def _keyword_category(name: str) -> str:
    """The shared vocabulary's category; a name it does not know is an intermediate workflow step
    ("代码评审", "QA"), i.e. work being done."""
    return vocabulary.status_category_for(name) or "in_progress"


def status_category_map(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Status name → todo / in_progress / done for every name the warehouse mentions.

    Names some task currently has take the category the pipeline gave them (the most
    common one if tools disagree); names known only from history fall back to keywords.
    """
    known = con.execute(
        """SELECT status, status_category FROM (
               SELECT status, status_category, count(*) AS n FROM tasks
               WHERE status IS NOT NULL AND status_category IN ('todo', 'in_progress', 'done')
               GROUP BY ALL)
           QUALIFY row_number() OVER (PARTITION BY status ORDER BY n DESC, status_category) = 1"""
    ).fetchall()
    mapping = {name: category for name, category in known}
    names = con.execute(
        "SELECT DISTINCT to_status FROM status_changes WHERE to_status IS NOT NULL"
    ).fetchall()
    for (name,) in names:
        mapping.setdefault(name, _keyword_category(name))
    return mapping


def _query_frame(tasks: pl.DataFrame) -> pa.Table:
    missing = {"task_id", "as_of"} - set(tasks.columns)
    if missing:
        raise ValueError(f"tasks needs columns task_id and as_of (missing: {', '.join(sorted(missing))})")
    as_of = tasks.get_column("as_of")
    if not isinstance(as_of.dtype, pl.Datetime):
        raise ValueError(f"as_of must be a datetime column, not {as_of.dtype}")
    if as_of.dtype.time_zone is not None:
        as_of = as_of.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    if as_of.null_count():
        raise ValueError("as_of has missing values; every row needs a prediction time")
    frame = pl.DataFrame({
        "qid": pl.int_range(tasks.height, dtype=pl.Int64, eager=True),
        "task_id": tasks.get_column("task_id").cast(pl.String),
        "as_of": as_of.cast(pl.Datetime("us")),
    })
    return frame.to_arrow()


def _calendar_table(con: duckdb.DuckDBPyConnection, calendar: WorkCalendar) -> pa.Table:
    """Working-day index of every calendar day the query can touch (forward and backward roll).

    ``workdays_between(a, b)`` becomes ``bwd(b) - fwd(a) + 1`` in SQL, so durations of
    hundreds of thousands of rows are two joins instead of Python calls.
    """
    lo, hi = con.execute(
        f"""SELECT least(
                   (SELECT min(least(created_at, started_at, resolved_at))::DATE FROM tasks),
                   (SELECT min(changed_at)::DATE FROM status_changes),
                   (SELECT min(as_of)::DATE FROM {_Q})),
               greatest(
                   (SELECT max(greatest(created_at, started_at, resolved_at))::DATE FROM tasks),
                   (SELECT max(due_date) FROM tasks),
                   (SELECT max(changed_at)::DATE FROM status_changes),
                   (SELECT max(as_of)::DATE FROM {_Q}))"""
    ).fetchall()[0]
    lo = max(lo or _CAL_MIN, _CAL_MIN)
    hi = min(hi or _CAL_MIN, _CAL_MAX)
    if hi < lo:
        hi = lo
    days = np.arange(np.datetime64(lo, "D"), np.datetime64(hi, "D") + 1)
    return pa.table({
        "day": pa.array(days.astype("datetime64[D]"), type=pa.date32()),
        "fwd": pa.array(np.asarray(calendar.index_of(days, "forward"), dtype=np.int64)),
        "bwd": pa.array(np.asarray(calendar.index_of(days, "backward"), dtype=np.int64)),
    })


def _priority_case(column: str) -> str:
    whens = " ".join(
        f"WHEN lower(trim({column})) IN ({', '.join(repr(n) for n in names)}) THEN {rank}"
        for rank, names in _PRIORITY_RANK.items()
    )
    return f"CASE {whens} END"


def _wd(a: str, b: str) -> str:
    """SQL for inclusive working days from calendar row ``a`` to ``b`` (WorkCalendar.workdays_between)."""
    return f"greatest({b}.bwd - {a}.fwd + 1, 0)"


_CUMULATIVE = "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"

FEATURES_SQL = f"""
WITH
q AS (SELECT qid, task_id, as_of FROM {_Q}),
sc AS (
    SELECT s.task_id, s.changed_at, s.change_id, s.to_status, m.category AS cat, m.dropped
    FROM status_changes s JOIN {_SMAP} m ON m.name = s.to_status
),
sc_seq AS (
    SELECT *,
           lag(cat) OVER (PARTITION BY task_id ORDER BY changed_at, change_id) AS prev_cat,
           row_number() OVER (PARTITION BY task_id ORDER BY changed_at, change_id) AS rn
    FROM sc
),
-- one row per (task, instant): simultaneous changes end in the last one's status
sc_instant AS (
    SELECT task_id, changed_at,
           arg_max(cat, rn) AS cat,
           arg_max(to_status, rn) AS status,
           count(*) AS changes_k,
           count(*) FILTER (WHERE prev_cat = 'done' AND cat <> 'done') AS reopen_k
    FROM sc_seq GROUP BY task_id, changed_at
),
sc_cum AS (
    SELECT task_id, changed_at, cat, status,
           (sum(changes_k) OVER w)::BIGINT AS changes_n,
           (sum(reopen_k) OVER w)::BIGINT AS reopen_n
    FROM sc_instant
    WINDOW w AS (PARTITION BY task_id ORDER BY changed_at {_CUMULATIVE})
),
sc_first AS (
    SELECT task_id,
           min(changed_at) FILTER (WHERE cat = 'in_progress') AS first_ip_at,
           min(changed_at) FILTER (WHERE cat = 'done') AS first_done_at
    FROM sc GROUP BY task_id
),
sc_first_drop AS (
    SELECT f.task_id, bool_or(s.dropped) AS first_done_dropped
    FROM sc_first f JOIN sc s ON s.task_id = f.task_id AND s.changed_at = f.first_done_at AND s.cat = 'done'
    GROUP BY f.task_id
),
-- per task: the earliest stamp proving work started / the task was resolved
ev AS (
    SELECT t.task_id, t.project_key, t.type_category, t.assignee_id, t.reporter_id,
           t.parent_task_id, t.due_date, t.created_at,
           least(f.first_ip_at, t.started_at) AS start_at,
           least(f.first_done_at, t.resolved_at) AS end_at,
           coalesce(f.first_done_at <= t.resolved_at OR t.resolved_at IS NULL, TRUE)
               AND coalesce(fd.first_done_dropped, FALSE)
           OR coalesce(t.resolved_at <= least(f.first_done_at, t.resolved_at) + INTERVAL 1 MINUTE
                       AND list_contains($dropped_resolutions, t.resolution), FALSE) AS dropped
    FROM tasks t LEFT JOIN sc_first f USING (task_id) LEFT JOIN sc_first_drop fd USING (task_id)
),
res AS (
    SELECT e.task_id, e.project_key, e.type_category, e.assignee_id, e.reporter_id, e.end_at,
           {_wd('c0', 'c1')} AS cycle_days,
           CASE WHEN NOT e.dropped THEN e.end_at::DATE <= e.due_date END AS on_time,
           e.dropped
    FROM ev e
    LEFT JOIN {_CAL} c0 ON c0.day = (CASE WHEN e.start_at <= e.end_at THEN e.start_at ELSE e.created_at END)::DATE
    LEFT JOIN {_CAL} c1 ON c1.day = e.end_at::DATE
    WHERE e.end_at IS NOT NULL
),
team_w AS (
    SELECT project_key, end_at AS t,
           count(*) OVER w AS team_resolved_n,
           quantile_cont(cycle_days, 0.5) OVER w AS team_cycle_p50,
           quantile_cont(cycle_days, 0.85) OVER w AS team_cycle_p85
    FROM res
    WHERE project_key IS NOT NULL AND cycle_days IS NOT NULL AND type_category IS DISTINCT FROM 'epic'
          AND NOT dropped
    WINDOW w AS (PARTITION BY project_key ORDER BY end_at {_CUMULATIVE})
),
assignee_w AS (
    SELECT assignee_id, end_at AS t,
           count(*) OVER w AS resolved_n,
           (sum(CASE WHEN on_time THEN 1 ELSE 0 END) OVER w)::BIGINT AS on_time_n,
           count(on_time) OVER w AS with_due_n
    FROM res WHERE assignee_id IS NOT NULL
    WINDOW w AS (PARTITION BY assignee_id ORDER BY end_at {_CUMULATIVE})
),
reporter_res_w AS (
    SELECT reporter_id, end_at AS t,
           count(*) OVER w AS resolved_n,
           (sum(CASE WHEN NOT on_time THEN 1 ELSE 0 END) OVER w)::BIGINT AS late_n,
           count(on_time) OVER w AS with_due_n
    FROM res WHERE reporter_id IS NOT NULL
    WINDOW w AS (PARTITION BY reporter_id ORDER BY end_at {_CUMULATIVE})
),
reporter_new_w AS (
    SELECT reporter_id, created_at AS t, count(*) OVER w AS reported_n
    FROM ev WHERE reporter_id IS NOT NULL AND created_at IS NOT NULL
    WINDOW w AS (PARTITION BY reporter_id ORDER BY created_at {_CUMULATIVE})
),
-- a task is in the assignee's work in progress on [start, end); end before start: never
wip_ev AS (
    SELECT assignee_id, start_at AS t, 1 AS d FROM ev
    WHERE assignee_id IS NOT NULL AND start_at IS NOT NULL AND (end_at IS NULL OR end_at >= start_at)
    UNION ALL
    SELECT assignee_id, end_at AS t, -1 AS d FROM ev
    WHERE assignee_id IS NOT NULL AND start_at IS NOT NULL AND end_at >= start_at
),
wip_w AS (
    SELECT assignee_id, t, (sum(d) OVER (PARTITION BY assignee_id ORDER BY t {_CUMULATIVE}))::BIGINT AS wip
    FROM wip_ev
),
comments_w AS (
    SELECT task_id, created_at AS t, count(*) OVER w AS comments_n
    FROM comments WHERE created_at IS NOT NULL
    WINDOW w AS (PARTITION BY task_id ORDER BY created_at {_CUMULATIVE})
),
worklogs_w AS (
    SELECT task_id, started_at AS t,
           (sum(round(hours * 3600)::BIGINT) OVER w)::BIGINT AS worklog_seconds
    FROM worklogs WHERE task_id IS NOT NULL
    WINDOW w AS (PARTITION BY task_id ORDER BY started_at {_CUMULATIVE})
),
base AS (
    SELECT q.qid, q.task_id, q.as_of,
           e.project_key, e.assignee_id, e.reporter_id, e.created_at, e.due_date,
           CASE WHEN e.start_at <= q.as_of THEN e.start_at END AS start_at,
           CASE WHEN e.end_at <= q.as_of THEN e.end_at END AS end_at,
           e.end_at <= q.as_of AS resolved
    FROM q LEFT JOIN ev e USING (task_id)
),
own AS (
    SELECT b.qid,
           coalesce(s.cat, CASE WHEN b.resolved THEN 'done' WHEN b.start_at IS NOT NULL THEN 'in_progress'
                                WHEN b.created_at IS NOT NULL THEN 'todo' END) AS status_category_at,
           s.status AS status_at,
           coalesce(s.changed_at, CASE WHEN b.resolved THEN b.end_at WHEN b.start_at IS NOT NULL THEN b.start_at
                                       ELSE b.created_at END) AS status_since,
           coalesce(s.changes_n, 0) AS status_changes_n,
           coalesce(s.reopen_n, 0) AS reopen_n
    FROM base b
    ASOF LEFT JOIN sc_cum s ON s.task_id = b.task_id AND s.changed_at <= b.as_of
),
team AS (
    SELECT b.qid, w.team_resolved_n, w.team_cycle_p50, w.team_cycle_p85
    FROM base b ASOF LEFT JOIN team_w w ON w.project_key = b.project_key AND w.t <= b.as_of
),
assignee AS (
    SELECT b.qid, w.resolved_n, w.on_time_n, w.with_due_n
    FROM base b ASOF LEFT JOIN assignee_w w ON w.assignee_id = b.assignee_id AND w.t <= b.as_of
),
wip AS (
    SELECT b.qid, w.wip
    FROM base b ASOF LEFT JOIN wip_w w ON w.assignee_id = b.assignee_id AND w.t <= b.as_of
),
reporter_res AS (
    SELECT b.qid, w.resolved_n, w.late_n, w.with_due_n
    FROM base b ASOF LEFT JOIN reporter_res_w w ON w.reporter_id = b.reporter_id AND w.t <= b.as_of
),
reporter_new AS (
    SELECT b.qid, w.reported_n
    FROM base b ASOF LEFT JOIN reporter_new_w w ON w.reporter_id = b.reporter_id AND w.t <= b.as_of
),
cmt AS (
    SELECT b.qid, w.comments_n
    FROM base b ASOF LEFT JOIN comments_w w ON w.task_id = b.task_id AND w.t <= b.as_of
),
wkl AS (
    SELECT b.qid, w.worklog_seconds
    FROM base b ASOF LEFT JOIN worklogs_w w ON w.task_id = b.task_id AND w.t <= b.as_of
),
blockers AS (
    SELECT b.qid, count(DISTINCT e.task_id) AS blockers_n,
           count(DISTINCT e.task_id) FILTER (WHERE e.end_at IS NULL OR e.end_at > b.as_of) AS blockers_open_n
    FROM base b
    JOIN task_links l ON l.to_task_id = b.task_id AND l.link_type IN ('blocks', 'depends_on')
    JOIN ev e ON e.task_id = l.from_task_id AND e.created_at <= b.as_of
    GROUP BY b.qid
),
blocking AS (
    SELECT b.qid, count(DISTINCT e.task_id) AS blocking_n
    FROM base b
    JOIN task_links l ON l.from_task_id = b.task_id AND l.link_type IN ('blocks', 'depends_on')
    JOIN ev e ON e.task_id = l.to_task_id AND e.created_at <= b.as_of
    GROUP BY b.qid
),
subtasks AS (
    SELECT b.qid, count(*) AS subtasks_n,
           count(*) FILTER (WHERE e.end_at IS NULL OR e.end_at > b.as_of) AS subtasks_open_n
    FROM base b JOIN ev e ON e.parent_task_id = b.task_id AND e.created_at <= b.as_of
    GROUP BY b.qid
)
SELECT
    b.task_id,
    b.as_of,
    t.project_key,
    t.type_category,
    t.priority,
    {_priority_case('t.priority')} AS priority_rank,
    coalesce(t.labels, []::VARCHAR[]) AS labels,
    coalesce(t.components, []::VARCHAR[]) AS components,
    coalesce(len(t.labels), 0) AS n_labels,
    coalesce(len(t.components), 0) AS n_components,
    concat_ws(E'\\n', t.title, t.description) AS text,
    (t.assignee_id IS NOT NULL)::INTEGER AS has_assignee,
    t.estimate_hours,
    t.story_points,
    t.due_date,
    (t.due_date IS NOT NULL)::INTEGER AS has_due_date,
    c_due.bwd - c_now.bwd AS days_to_due,
    o.status_at,
    o.status_category_at,
    (b.start_at IS NOT NULL)::INTEGER AS is_started,
    (o.status_category_at = 'done')::INTEGER AS is_done,
    {_wd('c_new', 'c_now')} AS age_workdays,
    CASE WHEN b.start_at IS NOT NULL THEN {_wd('c_start', 'c_now')} ELSE 0 END AS active_workdays,
    {_wd('c_since', 'c_now')} AS status_workdays,
    o.status_changes_n,
    o.reopen_n,
    coalesce(cmt.comments_n, 0) AS comments_n,
    coalesce(wkl.worklog_seconds, 0) / 3600.0 AS worklog_hours,
    coalesce(wkl.worklog_seconds, 0) / 3600.0 / nullif(t.estimate_hours, 0) AS worklog_to_estimate,
    CASE WHEN t.assignee_id IS NOT NULL
         THEN coalesce(wip.wip, 0) - (b.start_at IS NOT NULL AND NOT coalesce(b.resolved, FALSE))::INTEGER
    END AS assignee_wip,
    CASE WHEN t.assignee_id IS NOT NULL THEN coalesce(a.resolved_n, 0) END AS assignee_resolved_n,
    a.on_time_n / nullif(a.with_due_n, 0) AS assignee_on_time_rate,
    CASE WHEN t.reporter_id IS NOT NULL THEN coalesce(rn.reported_n, 0) END AS reporter_reported_n,
    CASE WHEN t.reporter_id IS NOT NULL THEN coalesce(rr.resolved_n, 0) END AS reporter_resolved_n,
    rr.late_n / nullif(rr.with_due_n, 0) AS reporter_delay_rate,
    coalesce(bl.blockers_n, 0) AS blockers_n,
    coalesce(bl.blockers_open_n, 0) AS blockers_open_n,
    coalesce(bg.blocking_n, 0) AS blocking_n,
    coalesce(st.subtasks_n, 0) AS subtasks_n,
    coalesce(st.subtasks_open_n, 0) AS subtasks_open_n,
    coalesce(tm.team_resolved_n, 0) AS team_resolved_n,
    tm.team_cycle_p50,
    tm.team_cycle_p85,
    CASE WHEN b.start_at IS NOT NULL THEN {_wd('c_start', 'c_now')} ELSE 0 END
        / nullif(tm.team_cycle_p50, 0) AS age_to_p50,
    CASE WHEN b.start_at IS NOT NULL THEN {_wd('c_start', 'c_now')} ELSE 0 END
        / nullif(tm.team_cycle_p85, 0) AS age_to_p85
FROM base b
LEFT JOIN tasks t ON t.task_id = b.task_id
LEFT JOIN own o ON o.qid = b.qid
LEFT JOIN team tm ON tm.qid = b.qid
LEFT JOIN assignee a ON a.qid = b.qid
LEFT JOIN wip ON wip.qid = b.qid
LEFT JOIN reporter_res rr ON rr.qid = b.qid
LEFT JOIN reporter_new rn ON rn.qid = b.qid
LEFT JOIN cmt ON cmt.qid = b.qid
LEFT JOIN wkl ON wkl.qid = b.qid
LEFT JOIN blockers bl ON bl.qid = b.qid
LEFT JOIN blocking bg ON bg.qid = b.qid
LEFT JOIN subtasks st ON st.qid = b.qid
LEFT JOIN {_CAL} c_now ON c_now.day = b.as_of::DATE
LEFT JOIN {_CAL} c_new ON c_new.day = b.created_at::DATE
LEFT JOIN {_CAL} c_start ON c_start.day = b.start_at::DATE
LEFT JOIN {_CAL} c_since ON c_since.day = o.status_since::DATE
LEFT JOIN {_CAL} c_due ON c_due.day = t.due_date
ORDER BY b.qid
"""


def build_features(
    con: duckdb.DuckDBPyConnection,
    tasks: pl.DataFrame,
    calendar: WorkCalendar | None = None,
    *,
    status_categories: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """One feature row per input (task_id, as_of) row, in input order, from data stamped ≤ as_of.

    ``as_of`` is naive UTC (aware datetimes are converted). ``calendar`` counts working
    days (default: ``WorkCalendar.from_settings()``, the default settings' calendar). A task missing
    from the warehouse still gets its row, with empty features. ``status_categories``
    overrides entries of the status-name → category dictionary read from the warehouse
    (for custom workflow states the keywords get wrong).

    Columns: ``task_id``, ``as_of``, ``project_key``, ``due_date``, ``status_at`` (the
    status name at as_of, when history records it), the model inputs in
    ``CATEGORICAL_FEATURES``, ``LIST_FEATURES``, ``TEXT_FEATURE`` and
    ``NUMERIC_FEATURES``. Durations are in working days, inclusive like
    ``WorkCalendar.workdays_between`` (a task started today has ``active_workdays`` 1);
    ``days_to_due`` is working days from as_of to the due date, negative when overdue.
    """
    calendar = calendar or WorkCalendar.from_settings()
    mapping = status_category_map(con)
    mapping.update(status_categories or {})
    smap = pa.table({
        "name": pa.array(list(mapping), type=pa.string()),
        "category": pa.array([c if c in _CATEGORIES else "in_progress" for c in mapping.values()], type=pa.string()),
        "dropped": pa.array([vocabulary.resolution_outcome(n) == "dropped" for n in mapping], type=pa.bool_()),
    })
    resolutions = [r for (r,) in con.execute("SELECT DISTINCT resolution FROM tasks WHERE resolution IS NOT NULL")
                   .fetchall() if vocabulary.resolution_outcome(r) == "dropped"]
    con.register(_Q, _query_frame(tasks))
    con.register(_SMAP, smap)
    try:
        con.register(_CAL, _calendar_table(con, calendar))
        try:
            frame = pl.from_arrow(con.sql(FEATURES_SQL, params={"dropped_resolutions": resolutions})
                                 .to_arrow_table())
        finally:
            con.unregister(_CAL)
    finally:
        con.unregister(_SMAP)
        con.unregister(_Q)
    return frame
