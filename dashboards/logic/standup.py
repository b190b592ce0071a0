"""Daily stand-up: check-ins, the team view of a day, and blockers turned into risks or issues.

One check-in per person per day: its id is "<person_id>:<day>", so
submitting again updates the same row instead of adding a second one.
Work in progress comes from `tasks` with the plan editor's reassignments
(`plan_tasks.assignee_id`) applied, so what people say they did is shown
next to what the trackers say they are doing.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

import polars as pl

from dashboards import common
from dashboards.common import PageContext, Problem
from dashboards.i18n import t
from dashboards.logic.risks import TITLE_MAX

FIELDS: Final[tuple[str, ...]] = ("yesterday", "today", "blockers")
TEXT_MAX: Final = 4000
WIP_LIMIT: Final = 20
TEAM_LIMIT: Final = 500
WIP_KEYS_SHOWN: Final = 5
BLOCKER_KINDS: Final[tuple[str, ...]] = ("risk", "issue")
# A blocker turned into a risk threatens the dates of the work it blocks; an
# issue is already happening (probability 5) and is reviewed sooner.
BLOCKER_DEFAULTS: Final[dict[str, dict[str, Any]]] = {
    "risk": {"category": "schedule", "probability": 3, "impact": 3, "review_days": 7},
    "issue": {"category": "issue", "probability": 5, "impact": 3, "review_days": 2},
}
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d+[.)、])\s*")


@dataclass(frozen=True)
class CheckIn:
    person_id: str | None
    day: date | None
    yesterday: str = ""
    today: str = ""
    blockers: str = ""


def standup_id(person_id: str, day: date) -> str:
    return f"{person_id}:{day.isoformat()}"


# ------------------------------------------------------------------ queries

WIP_CTE: Final = """
wip AS (
    SELECT coalesce(pt.assignee_id, t.assignee_id) AS person_id, t.task_id, t.source_key, t.title,
           t.project_key, t.status, t.url, t.updated_at
    FROM tasks AS t LEFT JOIN plan_tasks AS pt USING (task_id)
    WHERE t.status_category = 'in_progress' AND NOT t.is_deleted
)
"""

TEAM_DAY_SQL: Final = f"""
WITH {WIP_CTE},
wip_by_person AS (
    SELECT person_id, count(*) AS wip_count,
           list(source_key ORDER BY updated_at DESC NULLS LAST, source_key)[1:{WIP_KEYS_SHOWN}] AS wip_keys
    FROM wip GROUP BY person_id
)
SELECT
    p.person_id, coalesce(p.display_name, p.person_id) AS display_name, p.team,
    s.standup_id, s.day, s.yesterday, s.today, s.blockers, s.updated_at,
    s.standup_id IS NOT NULL AS checked_in,
    coalesce(w.wip_count, 0) AS wip_count, coalesce(w.wip_keys, []) AS wip_keys,
    count(*) OVER () AS people_total
FROM people AS p
LEFT JOIN standups AS s ON s.person_id = p.person_id AND s.day = ?
LEFT JOIN wip_by_person AS w ON w.person_id = p.person_id
ORDER BY p.team NULLS LAST, display_name, p.person_id
LIMIT ?
"""


def people(ctx: PageContext) -> pl.DataFrame:
    return common.cached_query(
        ctx,
        "SELECT person_id, coalesce(display_name, person_id) AS display_name, email, team "
        "FROM people ORDER BY display_name, person_id",
    )


def team_day(ctx: PageContext, day: date, limit: int = TEAM_LIMIT) -> pl.DataFrame:
    """Everyone (at most `limit`, `people_total` has the count) with their check-in of `day`, if any."""
    return common.cached_query(ctx, TEAM_DAY_SQL, [day, limit], live_edits=True)


def checkin(ctx: PageContext, person_id: str, day: date) -> dict[str, Any] | None:
    rows = common.cached_query(
        ctx, "SELECT * FROM standups WHERE standup_id = ?", [standup_id(person_id, day)], live_edits=True
    )
    return rows.row(0, named=True) if rows.height else None


def in_progress(ctx: PageContext, person_id: str, limit: int = WIP_LIMIT) -> pl.DataFrame:
    """The person's tasks in progress, most recently touched first (`wip_total` has the full count)."""
    return common.cached_query(
        ctx,
        f"WITH {WIP_CTE} SELECT task_id, source_key, title, project_key, status, url, "
        f"count(*) OVER () AS wip_total FROM wip WHERE person_id = ? "
        f"ORDER BY updated_at DESC NULLS LAST, task_id LIMIT ?",
        [person_id, limit],
        live_edits=True,
    )


def existing_risks(ctx: PageContext, risk_ids: Collection[str]) -> set[str]:
    if not risk_ids:
        return set()
    ids = sorted(risk_ids)
    found = common.cached_query(
        ctx, f"SELECT risk_id FROM risks WHERE risk_id IN ({', '.join('?' for _ in ids)})", ids, live_edits=True
    )
    return set(found["risk_id"].to_list())


# ------------------------------------------------------------------ check-ins


def validate_checkin(entry: CheckIn, known_people: Collection[str], today: date) -> list[Problem]:
    """Reasons the check-in cannot be saved; empty when it can."""
    problems: list[Problem] = []
    if not entry.person_id:
        problems.append(Problem("standup.err.person_required"))
    elif entry.person_id not in known_people:
        problems.append(Problem("standup.err.unknown_person", {"value": entry.person_id}))
    if entry.day is None:
        problems.append(Problem("standup.pick_day"))
    elif entry.day > today:
        problems.append(Problem("standup.err.future_day", {"day": entry.day.isoformat()}))
    texts = {name: (getattr(entry, name) or "").strip() for name in FIELDS}
    if not any(texts.values()):
        problems.append(Problem("standup.err.empty"))
    for name, text in texts.items():
        if len(text) > TEXT_MAX:
            problems.append(Problem("standup.err.too_long", {"field": t(f"standup.field.{name}"), "limit": TEXT_MAX}))
    return problems


def checkin_row(entry: CheckIn, existing: Mapping[str, Any] | None, now: datetime) -> dict[str, Any]:
    if entry.person_id is None or entry.day is None:
        raise ValueError("a check-in needs a person and a day")
    return {
        "standup_id": standup_id(entry.person_id, entry.day),
        "person_id": entry.person_id,
        "day": entry.day,
        **{name: (getattr(entry, name) or "").strip() or None for name in FIELDS},
        "created_at": (existing or {}).get("created_at") or now,
        "updated_at": now,
    }


@dataclass(frozen=True)
class TeamSummary:
    team: str | None
    total: int
    checked_in: int
    blockers: int
    missing: tuple[str, ...]


def team_summaries(team: pl.DataFrame) -> list[TeamSummary]:
    """Per team (people without a team last): how many checked in, how many have blockers, who is missing."""
    summaries: list[TeamSummary] = []
    if team.is_empty():
        return summaries
    for (name,), group in team.group_by(["team"], maintain_order=True):
        checked = group.filter(pl.col("checked_in"))
        summaries.append(
            TeamSummary(
                team=name,
                total=group.height,
                checked_in=checked.height,
                blockers=checked.filter(pl.col("blockers").fill_null("").str.strip_chars() != "").height,
                missing=tuple(group.filter(~pl.col("checked_in"))["display_name"].to_list()),
            )
        )
    return summaries


# ------------------------------------------------------------------ blockers


def split_blockers(text: str | None) -> list[str]:
    """One blocker per line, list bullets removed, so each can become its own risk."""
    lines = [_BULLET.sub("", line).strip() for line in (text or "").splitlines()]
    return list(dict.fromkeys(line for line in lines if line))


def blocker_risk_id(standup: str, blocker: str, kind: str) -> str:
    """The same blocker turned into the same kind twice is the same risk, so a double click adds nothing."""
    digest = hashlib.sha1(f"{standup}\n{kind}\n{blocker}".encode()).hexdigest()
    return "R-" + digest[:8].upper()


def blocker_title(blocker: str) -> str:
    text = " ".join(blocker.split())
    return text if len(text) <= TITLE_MAX else text[: TITLE_MAX - 1] + "…"


def blocker_risk_row(
    kind: str,
    standup: Mapping[str, Any],
    blocker: str,
    wip: pl.DataFrame,
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    """A risks row for one blocker: owned by the person, linked to what they have in progress."""
    if kind not in BLOCKER_DEFAULTS:
        raise ValueError(f"unknown blocker kind {kind!r} (expected {', '.join(BLOCKER_KINDS)})")
    defaults = BLOCKER_DEFAULTS[kind]
    projects = Counter(key for key in (wip["project_key"].to_list() if wip.height else []) if key)
    day = standup["day"] if isinstance(standup["day"], date) else date.fromisoformat(str(standup["day"]))
    return {
        "risk_id": blocker_risk_id(standup["standup_id"], blocker, kind),
        "project_key": projects.most_common(1)[0][0] if projects else None,
        "title": blocker_title(blocker),
        "category": defaults["category"],
        "probability": defaults["probability"],
        "impact": defaults["impact"],
        "score": defaults["probability"] * defaults["impact"],
        "owner_id": standup["person_id"],
        "mitigation": None,
        "contingency": None,
        "status": "open",
        "due_date": day + timedelta(days=defaults["review_days"]),
        "linked_task_ids": wip["task_id"].to_list() if wip.height else [],
        "created_at": now,
        "updated_at": now,
        "updated_by": actor,
    }
