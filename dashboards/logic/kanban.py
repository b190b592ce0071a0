"""Kanban: one project's tasks in three columns (todo / in progress / done), one lane at a time.

A lane is a sprint (or the "no sprint" lane) or a person (or "unassigned").
Counting and picking the cards happen in SQL, filtered to the project and the
lane, so a 100,000-task warehouse still sends at most `card_cap` cards per
column to the browser.

Choices that shape what is shown:

* The assignee is the plan editor's assignee when someone changed it there
  (`plan_tasks`, read with live edits), else the tool's: the board shows who
  is meant to do the work now.
* Sprints belong to a project through its tasks: Jira board sprints carry no
  project key, so the lanes are the sprints the project's tasks are in.
* Open cards come highest priority first, then earliest due; the done column
  shows the most recently resolved.
* Age and "overdue" are measured at the warehouse's as-of day (the day the
  marts describe), so a warehouse that has not synced for a while does not
  make every open task look older by the day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

import polars as pl

from dashboards import safe_text
from dashboards.data import Query, priority_rank
from dashboards.i18n import t

STATUS_COLUMNS: Final[tuple[str, ...]] = ("todo", "in_progress", "done")
GROUP_BY: Final[tuple[str, ...]] = ("sprint", "person")
# Label keys: "in progress", "done" and "person" are the words the other pages use.
COLUMN_LABELS: Final[dict[str, str]] = {
    "todo": "kanban.column.todo", "in_progress": "common.in_progress", "done": "common.done",
}
GROUP_LABELS: Final[dict[str, str]] = {"sprint": "kanban.group.sprint", "person": "common.by_person"}
LANE_LABELS: Final[dict[str, str]] = {"sprint": "kanban.lane.sprint", "person": "common.person"}
SPRINT_STATES: Final[tuple[str, ...]] = ("active", "future", "closed")
NO_LANE: Final = ""
"""Lane id of the "no sprint" / "unassigned" lane (SQL NULL)."""
DEFAULT_CARD_CAP: Final = 50
HIGH_DELAY_RISK: Final = 0.5

# $1 project, $2 as-of day. One row per sprint the project's tasks are in, plus the no-sprint lane;
# active sprints first, then future, then the most recent closed ones.
SPRINT_LANES_SQL: Final = """
WITH counts AS (
    SELECT coalesce(t.sprint_id, '') AS lane_id,
           count(*) FILTER (WHERE t.status_category = 'todo') AS todo,
           count(*) FILTER (WHERE t.status_category = 'in_progress') AS in_progress,
           count(*) FILTER (WHERE t.status_category = 'done') AS done,
           count(*) FILTER (WHERE t.status_category <> 'done' AND t.due_date < $2::DATE) AS overdue
    FROM tasks AS t
    WHERE t.project_key = $1 AND NOT t.is_deleted
    GROUP BY 1
)
SELECT c.lane_id, s.name AS lane_name, s.state, s.start_at, c.todo, c.in_progress, c.done, c.overdue
FROM counts AS c
LEFT JOIN sprints AS s ON s.sprint_id = c.lane_id
ORDER BY c.lane_id = '',
         CASE s.state WHEN 'active' THEN 0 WHEN 'future' THEN 1 ELSE 2 END,
         s.start_at DESC NULLS LAST,
         s.name, c.lane_id
"""

# $1 project, $2 as-of day. One row per person with tasks in the project (planned assignee first), plus unassigned.
PERSON_LANES_SQL: Final = """
WITH counts AS (
    SELECT coalesce(pt.assignee_id, t.assignee_id, '') AS lane_id,
           count(*) FILTER (WHERE t.status_category = 'todo') AS todo,
           count(*) FILTER (WHERE t.status_category = 'in_progress') AS in_progress,
           count(*) FILTER (WHERE t.status_category = 'done') AS done,
           count(*) FILTER (WHERE t.status_category <> 'done' AND t.due_date < $2::DATE) AS overdue
    FROM tasks AS t
    LEFT JOIN plan_tasks AS pt USING (task_id)
    WHERE t.project_key = $1 AND NOT t.is_deleted
    GROUP BY 1
)
SELECT c.lane_id, coalesce(p.display_name, c.lane_id) AS lane_name, NULL::VARCHAR AS state,
       NULL::TIMESTAMP AS start_at, c.todo, c.in_progress, c.done, c.overdue
FROM counts AS c
LEFT JOIN people AS p ON p.person_id = c.lane_id
ORDER BY c.lane_id = '', lane_name, c.lane_id
"""

_LANE_FILTER: Final[dict[str, str]] = {
    "sprint": "coalesce(t.sprint_id, '') = $2",
    "person": "coalesce(pt.assignee_id, t.assignee_id, '') = $2",
}

# $1 project, $2 lane id ('' = none), $3 as-of day, $4 cards per column.
_CARDS_SQL: Final = """
WITH lane AS (
    SELECT t.task_id, t.source_key, t.title, t.url, t.priority, t.status, t.status_category,
           t.created_at, t.resolved_at, t.due_date,
           coalesce(pt.assignee_id, t.assignee_id) AS assignee_id,
           {priority_rank} AS priority_rank
    FROM tasks AS t
    LEFT JOIN plan_tasks AS pt USING (task_id)
    WHERE t.project_key = $1 AND NOT t.is_deleted AND {lane_filter}
),
cards AS (
    SELECT *
    FROM lane
    QUALIFY row_number() OVER (
        PARTITION BY status_category
        ORDER BY CASE WHEN status_category = 'done' THEN resolved_at END DESC NULLS LAST,
                 priority_rank, due_date NULLS LAST, created_at, task_id
    ) <= $4
),
predictions AS (
    SELECT tp.task_id, tp.delay_probability
    FROM task_predictions AS tp
    JOIN cards USING (task_id)
    QUALIFY row_number() OVER (PARTITION BY tp.task_id ORDER BY tp.predicted_at DESC) = 1
)
SELECT c.task_id,
       coalesce(c.source_key, c.task_id) AS task_key,
       c.title,
       c.url,
       c.priority,
       c.status,
       c.status_category,
       coalesce(p.display_name, c.assignee_id) AS assignee,
       c.created_at,
       c.resolved_at,
       c.due_date,
       CASE WHEN c.status_category <> 'done' THEN $3::DATE - c.created_at::DATE END AS age_days,
       c.status_category <> 'done' AND c.due_date < $3::DATE AS overdue,
       pr.delay_probability
FROM cards AS c
LEFT JOIN people AS p ON p.person_id = c.assignee_id
LEFT JOIN predictions AS pr USING (task_id)
ORDER BY CASE c.status_category WHEN 'todo' THEN 0 WHEN 'in_progress' THEN 1 ELSE 2 END,
         CASE WHEN c.status_category = 'done' THEN c.resolved_at END DESC NULLS LAST,
         c.priority_rank, c.due_date NULLS LAST, c.created_at, c.task_id
"""


@dataclass(frozen=True)
class Board:
    """One lane of the board: every column's full count and its first `cap` cards."""

    counts: dict[str, int]
    overdue: int
    cards: dict[str, pl.DataFrame]
    cap: int

    def hidden(self, column: str) -> int:
        """Cards of `column` not shown because of the cap."""
        return max(self.counts[column] - self.cards[column].height, 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def lanes(query: Query, project_key: str, group_by: str, as_of_day: date) -> pl.DataFrame:
    """Lanes of a project with their todo / in-progress / done / overdue counts, in display order."""
    if group_by not in GROUP_BY:
        raise ValueError(f"group_by must be one of {GROUP_BY}, got {group_by!r}")
    sql = SPRINT_LANES_SQL if group_by == "sprint" else PERSON_LANES_SQL
    return query(sql, [project_key, as_of_day])


def default_lane(lane_frame: pl.DataFrame) -> str | None:
    """The lane to open first: the first in display order (an active sprint when there is one)."""
    return None if lane_frame.is_empty() else lane_frame["lane_id"][0]


def board(
    query: Query, project_key: str, group_by: str, lane_id: str, as_of_day: date, cap: int = DEFAULT_CARD_CAP
) -> Board:
    """The cards of one lane; counts come from the lane table, so they cover the cards beyond the cap."""
    if group_by not in GROUP_BY:
        raise ValueError(f"group_by must be one of {GROUP_BY}, got {group_by!r}")
    if cap < 1:
        raise ValueError(f"the card cap must be at least 1, got {cap}")
    lane_frame = lanes(query, project_key, group_by, as_of_day).filter(pl.col("lane_id") == lane_id)
    counts = {column: int(lane_frame[column].sum()) if lane_frame.height else 0 for column in STATUS_COLUMNS}
    overdue = int(lane_frame["overdue"].sum()) if lane_frame.height else 0
    sql = _CARDS_SQL.format(lane_filter=_LANE_FILTER[group_by], priority_rank=priority_rank("t.priority"))
    cards = query(sql, [project_key, lane_id, as_of_day, int(cap)])
    return Board(
        counts=counts,
        overdue=overdue,
        cards={column: cards.filter(pl.col("status_category") == column) for column in STATUS_COLUMNS},
        cap=cap,
    )


def lane_name(row: dict[str, Any], group_by: str, lang: str | None = None) -> str:
    """A lane's name, clipped for the picker: sprint name and state, person, or the no-sprint / unassigned lane."""
    if row["lane_id"] == NO_LANE:
        return t("kanban.no_sprint" if group_by == "sprint" else "kanban.unassigned", lang)
    name = safe_text.clip(row["lane_name"] or row["lane_id"])
    state = row.get("state")
    if state:
        state_name = t(f"kanban.state.{state}", lang) if state in SPRINT_STATES else state
        name = f"{name} · {state_name}"
    return name


def lane_label(row: dict[str, Any], group_by: str, lang: str | None = None) -> str:
    """Lane name for the picker, with its open and total counts."""
    total = int(row["todo"]) + int(row["in_progress"]) + int(row["done"])
    return t(
        "kanban.lane_label",
        lang,
        name=lane_name(row, group_by, lang),
        open=int(row["todo"]) + int(row["in_progress"]),
        total=total,
    )


def card_markdown(
    card: dict[str, Any], format_date: Callable[[date | datetime | None], str], lang: str | None = None
) -> str:
    """One card as markdown: key (linked) and title, then who, priority, age or done day (local), due, risk.

    Every source value is inert and clipped (`safe_text`): a title is text
    however it is written, and a 100 KB title is a card of one line.
    """
    head = safe_text.markdown_link(card["task_key"], card.get("url"))
    title = safe_text.markdown(card.get("title"))
    who = safe_text.markdown(card["assignee"]) if card.get("assignee") else t("kanban.unassigned", lang)
    facts = [f":material/person: {who}"]
    if card.get("priority"):
        facts.append(f":material/flag: {safe_text.markdown(card['priority'])}")
    if card["status_category"] == "done":
        facts.append(t("kanban.card.done_on", lang, day=format_date(card.get("resolved_at"))))
    elif card.get("age_days") is not None:
        facts.append(t("kanban.card.age", lang, days=int(card["age_days"])))
    if card.get("due_date") is not None:
        facts.append(t("kanban.card.due", lang, day=format_date(card["due_date"])))
    badges = []
    if card.get("overdue"):
        badges.append(f":red-badge[{t('kanban.card.overdue', lang)}]")
    probability = card.get("delay_probability")
    if probability is not None and card["status_category"] != "done":
        colour = "orange" if probability >= HIGH_DELAY_RISK else "gray"
        badges.append(f":{colour}-badge[{t('kanban.card.delay', lang, share=f'{probability:.0%}')}]")
    lines = [f"**{head}** {title}", " · ".join(facts)]
    if badges:
        lines.append(" ".join(badges))
    return "  \n".join(lines)
