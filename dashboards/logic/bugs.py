"""Bugs: which tasks each bug affects, the open/closed trend, how old the open ones are, and defect density.

Every figure is one SQL aggregation over the bugs that pass the filters
(project, priorities), so the page stays fast on a large warehouse.

Choices that shape the numbers:

* A bug is a task with `type_category = 'bug'`. The tasks it affects are the
  other ends of its links of any type (in either direction) plus its parent;
  a bug linked to another bug (a duplicate) lists that bug too.
* "Open" is `status_category <> 'done'`; a bug counts as resolved in the week
  of its `resolved_at` only when it is done, so the open line ends at the
  number of open bugs the ageing chart splits.
* Ages are measured at the warehouse's as-of day (the marts' as-of).
* Defect density is bugs per 100 work items (every non-bug task), as on the
  portfolio page, and bugs per 100 estimated hours of those items. By module
  a bug counts in each of its components; work without a component and bugs
  without one meet in the "no module" row. By person a bug counts against the
  assignee of each task it affects (not epics, not other bugs): it measures
  defects found in a person's work, not who fixes them, which is shown
  alongside as "bugs assigned". Priority filters the bugs, not the work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import polars as pl

from dashboards.data import ALL_PROJECTS, Query, priority_rank

NO_PRIORITY: Final = ""
NO_MODULE: Final = ""
AGE_BUCKETS: Final[tuple[tuple[str, int, int | None], ...]] = (
    ("0-7", 0, 7),
    ("8-30", 8, 30),
    ("31-90", 31, 90),
    (">90", 91, None),
)
DEFAULT_TABLE_ROWS: Final = 200
MAX_TREND_WEEKS: Final = 104
MAX_DENSITY_ROWS: Final = 50

# $1 project ('' = all).
PRIORITIES_SQL: Final = f"""
SELECT DISTINCT coalesce(priority, '') AS priority
FROM tasks
WHERE type_category = 'bug' AND NOT is_deleted AND ($1 = '' OR project_key = $1)
ORDER BY {priority_rank("priority")}, priority
"""

# Every query starts with these: $1 project ('' = all), $2 priorities (empty = all; '' = none set).
_BUGS: Final = """
bugs AS (
    SELECT *
    FROM tasks
    WHERE type_category = 'bug' AND NOT is_deleted
      AND ($1 = '' OR project_key = $1)
      AND (len($2::VARCHAR[]) = 0 OR list_contains($2::VARCHAR[], coalesce(priority, '')))
)"""

_AFFECTED: Final = """
links AS (
    SELECT b.task_id AS bug_id, l.to_task_id AS other_id, l.link_type
    FROM bugs AS b JOIN task_links AS l ON l.from_task_id = b.task_id
    UNION ALL
    SELECT b.task_id, l.from_task_id, l.link_type
    FROM bugs AS b JOIN task_links AS l ON l.to_task_id = b.task_id
    UNION ALL
    SELECT task_id, parent_task_id, 'parent' FROM bugs WHERE parent_task_id IS NOT NULL
),
affected AS (
    SELECT l.bug_id, l.other_id, string_agg(DISTINCT l.link_type, ', ' ORDER BY l.link_type) AS link_types
    FROM links AS l
    JOIN tasks AS o ON o.task_id = l.other_id AND NOT o.is_deleted
    WHERE l.other_id <> l.bug_id
    GROUP BY ALL
)"""

# $3 as-of day.
SUMMARY_SQL: Final = f"""
WITH {_BUGS}, {_AFFECTED}
SELECT count(*) AS bugs,
       count(*) FILTER (WHERE status_category <> 'done') AS open_bugs,
       count(*) FILTER (WHERE status_category = 'done') AS closed_bugs,
       count(*) FILTER (WHERE task_id IN (SELECT bug_id FROM affected)) AS linked_bugs,
       median($3::DATE - created_at::DATE) FILTER (WHERE status_category <> 'done') AS median_open_age_days
FROM bugs
"""

# $3 as-of day, $4 weeks shown. Open count runs over the whole history, then the window is cut.
TREND_SQL: Final = f"""
WITH {_BUGS},
created AS (
    SELECT date_trunc('week', created_at)::DATE AS week, count(*) AS n FROM bugs GROUP BY 1
),
resolved AS (
    SELECT date_trunc('week', resolved_at)::DATE AS week, count(*) AS n
    FROM bugs WHERE status_category = 'done' AND resolved_at IS NOT NULL GROUP BY 1
),
weeks AS (
    SELECT CAST(unnest(generate_series(
               (SELECT min(week) FROM (SELECT week FROM created UNION ALL SELECT week FROM resolved)),
               greatest(date_trunc('week', $3::DATE)::DATE,
                        (SELECT max(week) FROM (SELECT week FROM created UNION ALL SELECT week FROM resolved))),
               INTERVAL 7 DAY)) AS DATE) AS week
),
flow AS (
    SELECT w.week,
           coalesce(c.n, 0) AS created,
           coalesce(r.n, 0) AS resolved,
           CAST(sum(coalesce(c.n, 0) - coalesce(r.n, 0)) OVER (ORDER BY w.week) AS BIGINT) AS open_bugs
    FROM weeks AS w
    LEFT JOIN created AS c USING (week)
    LEFT JOIN resolved AS r USING (week)
)
SELECT week, created, resolved, open_bugs
FROM flow
QUALIFY row_number() OVER (ORDER BY week DESC) <= $4
ORDER BY week
"""

_BUCKET_ROWS: Final = ", ".join(
    f"('{name}', {low}, {'NULL' if high is None else high}, {i})" for i, (name, low, high) in enumerate(AGE_BUCKETS)
)
# $3 as-of day.
AGEING_SQL: Final = f"""
WITH {_BUGS},
buckets(bucket, low, high, position) AS (
    VALUES {_BUCKET_ROWS}
),
ages AS (
    SELECT greatest($3::DATE - created_at::DATE, 0) AS age FROM bugs WHERE status_category <> 'done'
)
SELECT b.bucket, count(a.age) AS open_bugs
FROM buckets AS b
LEFT JOIN ages AS a ON a.age >= b.low AND (b.high IS NULL OR a.age <= b.high)
GROUP BY b.bucket, b.position
ORDER BY b.position
"""

# $3 as-of day, $4 rows. Open bugs first (highest priority, oldest), then the most recently resolved.
TABLE_SQL: Final = f"""
WITH {_BUGS}, {_AFFECTED},
affected_list AS (
    SELECT a.bug_id,
           list(coalesce(o.source_key, o.task_id) || ' ' || coalesce(o.title, '') || ' [' || a.link_types || ']'
                ORDER BY coalesce(o.source_key, o.task_id)) AS affected,
           count(*) AS affected_count
    FROM affected AS a JOIN tasks AS o ON o.task_id = a.other_id
    GROUP BY a.bug_id
)
SELECT b.task_id,
       coalesce(b.source_key, b.task_id) AS bug_key,
       b.title,
       b.project_key,
       b.status,
       b.status_category,
       b.priority,
       coalesce(p.display_name, b.assignee_id) AS assignee,
       b.created_at,
       b.resolved_at,
       CASE WHEN b.status_category <> 'done' THEN $3::DATE - b.created_at::DATE END AS age_days,
       coalesce(al.affected_count, 0) AS affected_count,
       coalesce(al.affected, []::VARCHAR[]) AS affected,
       b.url,
       count(*) OVER () AS total
FROM bugs AS b
LEFT JOIN affected_list AS al ON al.bug_id = b.task_id
LEFT JOIN people AS p ON p.person_id = b.assignee_id
ORDER BY b.status_category = 'done',
         CASE WHEN b.status_category <> 'done' THEN {priority_rank("b.priority")} END,
         CASE WHEN b.status_category <> 'done' THEN b.created_at END,
         b.resolved_at DESC NULLS LAST,
         b.task_id
LIMIT $4
"""


def _per_work(bugs: str) -> str:
    """The density columns both breakdowns show: the work `w` of a module or person and `bugs` per 100 of it."""
    return f"""coalesce(w.work_items, 0) AS work_items,
       w.estimate_hours,
       CASE WHEN coalesce(w.work_items, 0) > 0 THEN 100.0 * {bugs} / w.work_items END AS per_100_items,
       CASE WHEN coalesce(w.estimate_hours, 0) > 0 THEN 100.0 * {bugs} / w.estimate_hours END
           AS per_100_hours"""


# $3 rows.
MODULE_DENSITY_SQL: Final = f"""
WITH {_BUGS},
work AS (
    SELECT components, estimate_hours
    FROM tasks
    WHERE type_category <> 'bug' AND NOT is_deleted AND ($1 = '' OR project_key = $1)
),
work_modules AS (
    SELECT module, count(*) AS work_items, sum(estimate_hours) AS estimate_hours
    FROM (SELECT unnest(CASE WHEN len(coalesce(components, [])) = 0 THEN [''] ELSE components END) AS module,
                 estimate_hours
          FROM work)
    GROUP BY module
),
bug_modules AS (
    SELECT module, count(*) AS bugs, count(*) FILTER (WHERE status_category <> 'done') AS open_bugs
    FROM (SELECT unnest(CASE WHEN len(coalesce(components, [])) = 0 THEN [''] ELSE components END) AS module,
                 status_category
          FROM bugs)
    GROUP BY module
)
SELECT coalesce(b.module, w.module) AS module,
       coalesce(b.bugs, 0) AS bugs,
       coalesce(b.open_bugs, 0) AS open_bugs,
       {_per_work("coalesce(b.bugs, 0)")},
       count(*) OVER () AS total
FROM bug_modules AS b
FULL OUTER JOIN work_modules AS w USING (module)
ORDER BY bugs DESC, per_100_items DESC NULLS LAST, module
LIMIT $3
"""

# $3 rows.
PERSON_DENSITY_SQL: Final = f"""
WITH {_BUGS}, {_AFFECTED},
caused AS (
    SELECT o.assignee_id AS person_id, count(DISTINCT a.bug_id) AS bugs
    FROM affected AS a
    JOIN tasks AS o ON o.task_id = a.other_id
    WHERE o.type_category NOT IN ('bug', 'epic') AND o.assignee_id IS NOT NULL
    GROUP BY 1
),
work AS (
    SELECT assignee_id AS person_id, count(*) AS work_items, sum(estimate_hours) AS estimate_hours
    FROM tasks
    WHERE type_category <> 'bug' AND NOT is_deleted AND assignee_id IS NOT NULL
      AND ($1 = '' OR project_key = $1)
    GROUP BY 1
),
fixing AS (
    SELECT assignee_id AS person_id, count(*) AS assigned_bugs,
           count(*) FILTER (WHERE status_category <> 'done') AS open_assigned_bugs
    FROM bugs WHERE assignee_id IS NOT NULL GROUP BY 1
),
people_ids AS (
    SELECT person_id FROM caused UNION SELECT person_id FROM fixing
)
SELECT i.person_id,
       coalesce(p.display_name, i.person_id) AS person,
       coalesce(c.bugs, 0) AS bugs,
       {_per_work("coalesce(c.bugs, 0)")},
       coalesce(f.assigned_bugs, 0) AS assigned_bugs,
       coalesce(f.open_assigned_bugs, 0) AS open_assigned_bugs,
       count(*) OVER () AS total
FROM people_ids AS i
LEFT JOIN caused AS c USING (person_id)
LEFT JOIN work AS w USING (person_id)
LEFT JOIN fixing AS f USING (person_id)
LEFT JOIN people AS p ON p.person_id = i.person_id
ORDER BY bugs DESC, per_100_items DESC NULLS LAST, assigned_bugs DESC, person
LIMIT $3
"""


@dataclass(frozen=True)
class BugFilter:
    """Which bugs the page looks at: one project or all (''), and priorities (empty = all; '' = none set)."""

    project_key: str = ALL_PROJECTS
    priorities: tuple[str, ...] = ()

    def params(self) -> list[Any]:
        return [self.project_key, list(self.priorities)]


@dataclass(frozen=True)
class Summary:
    bugs: int
    open_bugs: int
    closed_bugs: int
    linked_bugs: int
    median_open_age_days: float | None

    @property
    def linked_share(self) -> float | None:
        return self.linked_bugs / self.bugs if self.bugs else None


def priorities(query: Query, project_key: str = ALL_PROJECTS) -> list[str]:
    """Priorities the bugs of the project use, most urgent first; '' stands for "none set"."""
    return query(PRIORITIES_SQL, [project_key])["priority"].to_list()


def summary(query: Query, where: BugFilter, as_of_day: date) -> Summary:
    row = query(SUMMARY_SQL, [*where.params(), as_of_day]).row(0, named=True)
    return Summary(
        bugs=int(row["bugs"]),
        open_bugs=int(row["open_bugs"] or 0),
        closed_bugs=int(row["closed_bugs"] or 0),
        linked_bugs=int(row["linked_bugs"] or 0),
        median_open_age_days=None if row["median_open_age_days"] is None else float(row["median_open_age_days"]),
    )


def trend(query: Query, where: BugFilter, as_of_day: date, weeks: int = MAX_TREND_WEEKS) -> pl.DataFrame:
    """Per week (Monday): bugs created, bugs resolved, bugs open at the week's end; the last `weeks` weeks."""
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, got {weeks}")
    return query(TREND_SQL, [*where.params(), as_of_day, int(weeks)])


def ageing(query: Query, where: BugFilter, as_of_day: date) -> pl.DataFrame:
    """Open bugs per age bucket (days since created), every bucket present even when empty."""
    return query(AGEING_SQL, [*where.params(), as_of_day])


def bug_table(query: Query, where: BugFilter, as_of_day: date, rows: int = DEFAULT_TABLE_ROWS) -> pl.DataFrame:
    """Bugs with the tasks they affect, open first; at most `rows` (the `total` column says how many match)."""
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    return query(TABLE_SQL, [*where.params(), as_of_day, int(rows)])


def module_density(query: Query, where: BugFilter, rows: int = MAX_DENSITY_ROWS) -> pl.DataFrame:
    """Bugs, work items and defect density per module (component); NO_MODULE collects items without one."""
    return query(MODULE_DENSITY_SQL, [*where.params(), int(rows)])


def person_density(query: Query, where: BugFilter, rows: int = MAX_DENSITY_ROWS) -> pl.DataFrame:
    """Per person: bugs found in the tasks they were assigned, density over their work, and bugs they are assigned."""
    return query(PERSON_DENSITY_SQL, [*where.params(), int(rows)])


def trend_long(flow: pl.DataFrame, labels: dict[str, str]) -> pl.DataFrame:
    """Created and resolved per week as one row per (week, measure) for a single Altair chart."""
    long = flow.unpivot(on=["created", "resolved"], index="week", variable_name="measure", value_name="bugs")
    return long.with_columns(pl.col("measure").replace_strict(labels, return_dtype=pl.String))
