"""Pure parsers for GitLab REST payloads (`gitlab_issue`, `gitlab_merge_request`, `gitlab_commit`,
and the connector's per-issue `gitlab_issue_notes` / `gitlab_issue_links` wrappers).

Payload in, warehouse rows out (docs/payload-contract.md); no I/O, no clock.
"""

from __future__ import annotations

import re
from datetime import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from pipelines.common_parse import (
    Rows,
    find_task_keys,
    identity_row,
    labelled_outcome,
    link_row,
    merge_identities,
    seconds_to_hours,
    status_category_for,
    task_ids_for_keys,
    to_date,
    to_float,
    to_utc,
    type_category_for,
    unique_links,
)

_BUG_LABELS = frozenset({"bug", "缺陷", "defect"})
_WEB_PATH = re.compile(r"^https?://[^/]+/(?P<path>.+?)(?:/-)?/(?:issues|work_items|merge_requests)/(?P<iid>\d+)")
_COMMIT_WEB_PATH = re.compile(r"^https?://[^/]+/(?P<path>.+?)(?:/-)?/commit/[0-9a-fA-F]+")
# System notes GitLab writes when an issue is closed or reopened ("closed", "closed via merge request !5",
# "reopened"); other system notes (labels, assignees, moves) are activity, neither comments nor status changes.
_STATE_NOTE = re.compile(r"^\s*(?P<verb>closed|reopened)\b", re.IGNORECASE)

# "added 1h 30m of time spent at 2024-01-03": GitLab's time tracking, one system note per entry.
_TIME_NOTE = re.compile(r"^\s*added (?P<amount>(?:\d+(?:\.\d+)?\s*(?:mo|w|d|h|m)\s*)+) of time spent"
                        r"(?: at (?P<day>\d{4}-\d{2}-\d{2}))?", re.IGNORECASE)
_TIME_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(mo|w|d|h|m)")
_HOURS_PER_UNIT = {"mo": 160.0, "w": 40.0, "d": 8.0, "h": 1.0, "m": 1 / 60}
"""GitLab's default time-tracking units: a day is 8 h, a week 5 days, a month 4 weeks."""

ISSUE_NOTES_KIND = "gitlab_issue_notes"
"""Raw kind: `{"issue": "group/app#12", "issue_updated_at": ..., "notes": [/projects/:id/issues/:iid/notes items]}`."""
ISSUE_LINKS_KIND = "gitlab_issue_links"
"""Raw kind: `{"issue": "group/app#12", "issue_updated_at": ..., "links": [/projects/:id/issues/:iid/links items]}`."""
EXTRA_KINDS = frozenset({ISSUE_NOTES_KIND, ISSUE_LINKS_KIND})


def _key_from_payload(payload: Mapping[str, Any], marker: str) -> str | None:
    """`group/sub/project#iid` (or `!iid` for merge requests): references.full, else web_url."""
    full = (payload.get("references") or {}).get("full")
    if full and marker in full:
        return full
    match = _WEB_PATH.match(payload.get("web_url") or "")
    if match:
        return f"{match.group('path')}{marker}{match.group('iid')}"
    return None


def issue_key(payload: Mapping[str, Any]) -> str | None:
    """`group/app#12` of an issue payload (the `item_key` of its raw items and the task's `source_key`)."""
    return _key_from_payload(payload, "#")


def merge_request_key(payload: Mapping[str, Any]) -> str | None:
    """`group/app!5` of a merge request payload."""
    return _key_from_payload(payload, "!")


def commit_repo(payload: Mapping[str, Any], item_key: str | None = None) -> str:
    """The project path of a commit: from its `web_url`, else from the raw item key `group/app@sha`.

    Commit list items of older GitLab versions carry no `web_url` (nor any project field),
    so the connector's item key is the only place the project is known.
    """
    match = _COMMIT_WEB_PATH.match(payload.get("web_url") or "")
    if match:
        return match.group("path")
    if item_key and "@" in item_key:
        return item_key.rsplit("@", 1)[0]
    raise ValueError(f"cannot tell the project of commit {payload.get('id')!r}: no web_url and no item key")


def _user(user: Any, source: str, identities: list[dict[str, Any]]) -> str | None:
    if not isinstance(user, Mapping) or not user.get("username"):
        return None
    row = identity_row(source, user["username"], user.get("name"), user.get("email") or user.get("public_email") or None)
    identities.append(row)
    return row["identity_id"]


def _label_tail(label: str) -> str:
    """`workflow::In Progress` → `in progress`: scoped labels carry the value after `::`."""
    return label.rsplit("::", 1)[-1].strip().lower()


def parse_issue(payload: dict[str, Any], source: str) -> Rows:
    """A `tasks` row for one /projects/:id/issues item (requested with time_stats)."""
    key = _key_from_payload(payload, "#")
    project_path = key.rsplit("#", 1)[0] if key else None
    identities: list[dict[str, Any]] = []
    labels = [label.get("name") if isinstance(label, Mapping) else label for label in payload.get("labels") or []]
    labels = [label for label in labels if label]
    tails = {_label_tail(label) for label in labels}
    assignee = payload.get("assignee") or next(iter(payload.get("assignees") or []), None)
    assignee_id = _user(assignee, source, identities)
    for other in payload.get("assignees") or []:
        _user(other, source, identities)

    issue_type = payload.get("issue_type") or "issue"
    type_category = "bug" if issue_type == "incident" or tails & _BUG_LABELS else type_category_for(issue_type)
    state = payload.get("state")
    if state == "closed":
        status_category = "done"
    elif any(status_category_for(tail) == "in_progress" for tail in tails):
        status_category = "in_progress"
    else:
        status_category = "todo"
    time_stats = payload.get("time_stats") or {}
    milestone = payload.get("milestone") or {}
    sprint = _milestone_row(milestone, source, project_path)
    task = {
        "task_id": f"{source}:{key}",
        "source": source,
        "source_key": key,
        "project_key": project_path,
        "parent_task_id": None,
        "title": payload.get("title"),
        "description": payload.get("description"),
        "type": issue_type,
        "type_category": type_category,
        "status": state,
        "status_category": status_category,
        "priority": payload.get("severity") if payload.get("severity") not in (None, "UNKNOWN") else None,
        "assignee_id": assignee_id,
        "reporter_id": _user(payload.get("author"), source, identities),
        "created_at": to_utc(payload.get("created_at")),
        "updated_at": to_utc(payload.get("updated_at")),
        "resolved_at": to_utc(payload.get("closed_at")),
        "due_date": to_date(payload.get("due_date")) or to_date(milestone.get("due_date")),
        # GitLab reports 0 for "no estimate"; only a positive value is an estimate.
        "estimate_hours": seconds_to_hours(time_stats.get("time_estimate") or None),
        "spent_hours": seconds_to_hours(time_stats.get("total_time_spent")),
        "story_points": to_float(payload.get("weight")),
        "sprint_id": sprint["sprint_id"] if sprint else None,
        "labels": labels,
        "url": payload.get("web_url"),
        "outcome": labelled_outcome(status_category, None, labels),
        "is_deleted": False,
    }
    _user(payload.get("closed_by"), source, identities)
    return {"tasks": [task], "identities": merge_identities(identities), "sprints": [sprint] if sprint else []}


def _milestone_row(milestone: Mapping[str, Any], source: str, project_path: str | None) -> dict[str, Any] | None:
    """A `sprints` row for the milestone embedded in an issue: GitLab's timebox for planned work.

    A group milestone (no `project_id`) spans projects, so it belongs to none of them.
    """
    if not isinstance(milestone, Mapping) or milestone.get("id") in (None, ""):
        return None
    return {
        "sprint_id": f"{source}:milestone:{milestone['id']}",
        "source": source,
        "project_key": project_path if milestone.get("project_id") is not None else None,
        "name": milestone.get("title"),
        "state": milestone.get("state"),
        "start_at": to_utc(to_date(milestone.get("start_date"))),
        "end_at": to_utc(to_date(milestone.get("due_date"))),
        "completed_at": None,
        "goal": milestone.get("description") or None,
    }


_MR_STATES = {"opened": "open", "locked": "open", "closed": "closed", "merged": "merged"}


def parse_merge_request(
    payload: dict[str, Any],
    source: str,
    jira_project_keys: Iterable[str] | None = None,
    jira_source: str | None = None,
) -> Rows:
    """A `pull_requests` row for one /projects/:id/merge_requests item.

    States use GitHub's words (open/closed/merged) so both sources compare directly.
    """
    key = _key_from_payload(payload, "!")
    repo = key.rsplit("!", 1)[0] if key else None
    identities: list[dict[str, Any]] = []
    text = "\n".join(p for p in (payload.get("title"), payload.get("description"), payload.get("source_branch")) if p)
    keys = find_task_keys(text, default_repo=repo, jira_project_keys=jira_project_keys)
    merged_at = to_utc(payload.get("merged_at"))
    state = payload.get("state")
    row = {
        "source": source,
        "repo": repo,
        "number": int(payload["iid"]),
        "title": payload.get("title"),
        "state": "merged" if merged_at else _MR_STATES.get(state, state),
        "author_id": _user(payload.get("author"), source, identities),
        "created_at": to_utc(payload.get("created_at")),
        "merged_at": merged_at,
        "closed_at": to_utc(payload.get("closed_at")),
        "source_branch": payload.get("source_branch"),
        "task_ids": task_ids_for_keys(keys, source, jira_source),
    }
    return {"pull_requests": [row], "identities": merge_identities(identities)}


def parse_commit(
    payload: dict[str, Any],
    source: str,
    repo: str,
    jira_project_keys: Iterable[str] | None = None,
    jira_source: str | None = None,
) -> Rows:
    """A `commits` row for one /projects/:id/repository/commits item (with_stats=true).

    GitLab commits carry no username, so the author identity is the commit email.
    """
    identities: list[dict[str, Any]] = []
    email = payload.get("author_email")
    author_id = None
    if email:
        row = identity_row(source, email.lower(), payload.get("author_name"), email)
        identities.append(row)
        author_id = row["identity_id"]
    message = payload.get("message") or payload.get("title")
    stats = payload.get("stats") or {}
    keys = find_task_keys(message, default_repo=repo, jira_project_keys=jira_project_keys)
    commit = {
        "sha": payload["id"],
        "repo": repo,
        "author_id": author_id,
        "authored_at": to_utc(payload.get("authored_date") or payload.get("created_at")),
        "message": message,
        "additions": stats.get("additions"),
        "deletions": stats.get("deletions"),
        "task_ids": task_ids_for_keys(keys, source, jira_source),
        "source": source,
    }
    return {"commits": [commit], "identities": identities}


def parse_issue_links(payload_list: list[dict[str, Any]], source: str, from_key: str) -> Rows:
    """`task_links` rows for /projects/:id/issues/:iid/links of the issue `from_key`.

    `X blocks Y` → (X, Y); `X is_blocked_by Y` → (Y, X). `relates_to` has no
    direction, so the pair is sorted: both issues' link lists then give one row.
    """
    rows = []
    for item in payload_list or []:
        other = _key_from_payload(item, "#")
        if not other:
            continue
        link_type = item.get("link_type") or "relates_to"
        this_id, other_id = f"{source}:{from_key}", f"{source}:{other}"
        if link_type == "blocks":
            rows.append(link_row(source, this_id, other_id, "blocks"))
        elif link_type == "is_blocked_by":
            rows.append(link_row(source, other_id, this_id, "blocks"))
        else:
            first, second = sorted((this_id, other_id))
            rows.append(link_row(source, first, second, "relates"))
    return {"task_links": unique_links(rows)}


def parse_issue_notes(payload: Mapping[str, Any], source: str) -> Rows:
    """`comments` (and close/reopen `status_changes`) for a `gitlab_issue_notes` item.

    User notes become comments; system notes are GitLab's own activity log, of which only
    "closed"/"reopened" are kept, as status changes. Note ids are scoped by the issue so the
    ids stay unique whatever the instance numbers them.
    """
    key = payload["issue"]
    task_id = f"{source}:{key}"
    identities: list[dict[str, Any]] = []
    comments, changes, worklogs = [], [], []
    for note in payload.get("notes") or []:
        author_id = _user(note.get("author"), source, identities)
        row_id = f"{task_id}:note:{note['id']}"
        if not note.get("system"):
            comments.append({
                "comment_id": row_id,
                "task_id": task_id,
                "author_id": author_id,
                "created_at": to_utc(note.get("created_at")),
                "updated_at": to_utc(note.get("updated_at")),
                "body": note.get("body"),
                "source": source,
            })
            continue
        spent = _TIME_NOTE.match(note.get("body") or "")
        if spent:
            hours = sum(float(n) * _HOURS_PER_UNIT[u.lower()] for n, u in _TIME_PART.findall(spent.group("amount")))
            day = spent.group("day")
            worklogs.append({
                "worklog_id": row_id,
                "task_id": task_id,
                "person_id": author_id,
                "started_at": datetime.fromisoformat(day) if day else to_utc(note.get("created_at")),
                "hours": round(hours, 4),
                "source": source,
                "origin": "gitlab",
                "comment": None,
            })
            continue
        match = _STATE_NOTE.match(note.get("body") or "")
        changed_at = to_utc(note.get("created_at"))
        if match and changed_at is not None:
            closed = match.group("verb").lower() == "closed"
            changes.append({
                "change_id": row_id,
                "task_id": task_id,
                "changed_at": changed_at,
                "from_status": "opened" if closed else "closed",
                "to_status": "closed" if closed else "opened",
                "author_id": author_id,
                "source": source,
            })
    changes.sort(key=lambda r: (r["changed_at"], r["change_id"]))
    return {"comments": comments, "status_changes": changes, "worklogs": worklogs,
            "identities": merge_identities(identities)}


def parse_extra(kind: str, body: Any, source: str) -> Rows | None:
    """Rows for the connector's own GitLab kinds; None for a kind this module does not add.

    `pipelines/parsing.py` calls it for kinds it has no branch of its own for.
    """
    if kind == ISSUE_NOTES_KIND:
        return parse_issue_notes(body, source)
    if kind == ISSUE_LINKS_KIND:
        return parse_issue_links(body.get("links") or [], source, body["issue"])
    return None
