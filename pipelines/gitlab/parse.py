"""Pure parsers for GitLab REST payloads (`gitlab_issue`, `gitlab_merge_request`, `gitlab_commit`).

Payload in, warehouse rows out (docs/payload-contract.md); no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pipelines.common_parse import (
    Rows,
    find_task_keys,
    identity_row,
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


def _key_from_payload(payload: Mapping[str, Any], marker: str) -> str | None:
    """`group/sub/project#iid` (or `!iid` for merge requests): references.full, else web_url."""
    full = (payload.get("references") or {}).get("full")
    if full and marker in full:
        return full
    match = _WEB_PATH.match(payload.get("web_url") or "")
    if match:
        return f"{match.group('path')}{marker}{match.group('iid')}"
    return None


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
        "labels": labels,
        "url": payload.get("web_url"),
        "is_deleted": False,
    }
    _user(payload.get("closed_by"), source, identities)
    return {"tasks": [task], "identities": merge_identities(identities)}


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
