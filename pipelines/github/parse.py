"""Pure parsers for GitHub REST payloads (`github_issue`, `github_pull`, `github_commit`).

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
    labelled_outcome,
    merge_identities,
    task_ids_for_keys,
    to_date,
    to_utc,
    type_category_for,
)

_BUG_LABELS = frozenset({"bug", "缺陷", "type: bug", "kind/bug", "type/bug"})
_IN_PROGRESS_LABELS = frozenset({"in progress", "in-progress", "in_progress", "doing", "wip", "进行中", "status: in progress"})
_REPO_FROM_API_URL = re.compile(r"/repos/([^/]+/[^/]+)")
_REPO_FROM_HTML_URL = re.compile(r"^https?://[^/]+/([^/]+/[^/]+)")


def repo_full_name(payload: Mapping[str, Any]) -> str | None:
    """`owner/repo` of an issue, pull request or commit, from the fields the API always sends."""
    base_repo = ((payload.get("base") or {}).get("repo") or {}).get("full_name")
    if base_repo:
        return base_repo
    for url_field, pattern in (
        ("repository_url", _REPO_FROM_API_URL),
        ("url", _REPO_FROM_API_URL),
        ("html_url", _REPO_FROM_HTML_URL),
    ):
        match = pattern.search(payload.get(url_field) or "")
        if match:
            return match.group(1)
    return None


def is_pull_request(payload: Mapping[str, Any]) -> bool:
    """Whether an `/issues` item is really a pull request.

    The issues endpoint lists pull requests too, marked by a `pull_request`
    object with their URLs. Until 2012 GitHub sent that object on every issue,
    with null URLs for plain issues, so its presence alone is not enough.
    """
    marker = payload.get("pull_request")
    if isinstance(marker, Mapping):
        return any(marker.get(name) for name in ("url", "html_url", "diff_url", "patch_url"))
    return bool(marker)


def _user(user: Any, source: str, identities: list[dict[str, Any]]) -> str | None:
    if not isinstance(user, Mapping) or not user.get("login"):
        return None
    # A PR's user object has no name; the login must not pose as one, or it
    # overwrites the real name seen on commits and breaks matching by name.
    row = identity_row(source, user["login"], user.get("name"), user.get("email"))
    identities.append(row)
    return row["identity_id"]


def _label_names(payload: Mapping[str, Any]) -> list[str]:
    return [
        (label.get("name") if isinstance(label, Mapping) else label)
        for label in payload.get("labels") or []
        if (label.get("name") if isinstance(label, Mapping) else label)
    ]


def parse_issue(payload: dict[str, Any], source: str) -> Rows:
    """A `tasks` row for one /repos/{o}/{r}/issues item; pull requests yield nothing
    because the issues endpoint lists them too and they are parsed by `parse_pull`."""
    if is_pull_request(payload):
        return {"tasks": [], "identities": []}
    repo = repo_full_name(payload)
    key = f"{repo}#{payload['number']}"
    identities: list[dict[str, Any]] = []
    labels = _label_names(payload)
    lowered = {label.strip().lower() for label in labels}
    assignee = payload.get("assignee") or next(iter(payload.get("assignees") or []), None)
    assignee_id = _user(assignee, source, identities)
    for other in payload.get("assignees") or []:
        _user(other, source, identities)

    issue_type = (payload.get("type") or {}).get("name") if isinstance(payload.get("type"), Mapping) else None
    if lowered & _BUG_LABELS:
        type_category = "bug"
    elif issue_type:
        type_category = type_category_for(issue_type)
    else:
        type_category = "task"

    state = payload.get("state")
    if state == "closed":
        status_category = "done"
    elif assignee_id and lowered & _IN_PROGRESS_LABELS:
        status_category = "in_progress"
    else:
        status_category = "todo"
    milestone = payload.get("milestone") or {}
    task = {
        "task_id": f"{source}:{key}",
        "source": source,
        "source_key": key,
        "project_key": repo,
        "parent_task_id": None,
        "title": payload.get("title"),
        "description": payload.get("body"),
        "type": issue_type or ("Bug" if type_category == "bug" else "Issue"),
        "type_category": type_category,
        "status": state,
        "status_category": status_category,
        "priority": None,
        "assignee_id": assignee_id,
        "reporter_id": _user(payload.get("user"), source, identities),
        "created_at": to_utc(payload.get("created_at")),
        "updated_at": to_utc(payload.get("updated_at")),
        "resolved_at": to_utc(payload.get("closed_at")),
        "due_date": to_date(milestone.get("due_on")),
        "labels": labels,
        "url": payload.get("html_url"),
        "resolution": payload.get("state_reason") if state == "closed" else None,
        "is_deleted": False,
    }
    task["outcome"] = labelled_outcome(status_category, task["resolution"], labels)
    _user(payload.get("closed_by"), source, identities)
    return {"tasks": [task], "identities": merge_identities(identities)}


def parse_pull(
    payload: dict[str, Any],
    source: str,
    jira_project_keys: Iterable[str] | None = None,
    jira_source: str | None = None,
) -> Rows:
    """A `pull_requests` row for one /repos/{o}/{r}/pulls item.

    Task keys are looked for in title, body and head branch; Jira keys get
    `jira_source` as their source when given (they are the Jira source's tasks).
    """
    repo = repo_full_name(payload)
    identities: list[dict[str, Any]] = []
    head = payload.get("head") or {}
    text = "\n".join(part for part in (payload.get("title"), payload.get("body"), head.get("ref")) if part)
    keys = find_task_keys(text, default_repo=repo, jira_project_keys=jira_project_keys)
    merged_at = to_utc(payload.get("merged_at"))
    row = {
        "source": source,
        "repo": repo,
        "number": int(payload["number"]),
        "title": payload.get("title"),
        "state": "merged" if merged_at else payload.get("state"),
        "author_id": _user(payload.get("user"), source, identities),
        "created_at": to_utc(payload.get("created_at")),
        "merged_at": merged_at,
        "closed_at": to_utc(payload.get("closed_at")),
        "source_branch": head.get("ref"),
        "task_ids": task_ids_for_keys(keys, source, jira_source),
    }
    return {"pull_requests": [row], "identities": merge_identities(identities)}


def parse_commit(
    payload: dict[str, Any],
    source: str,
    repo: str | None = None,
    jira_project_keys: Iterable[str] | None = None,
    jira_source: str | None = None,
) -> Rows:
    """A `commits` row for one /repos/{o}/{r}/commits/{sha} item.

    `repo` defaults to the one named by the payload's API `url` (always sent;
    `html_url` was not sent before 2013).
    The author is the GitHub login when GitHub matched the commit email to an
    account, else the raw commit email, so unmatched commits still resolve by email.
    """
    repo = repo or repo_full_name(payload)
    commit = payload.get("commit") or {}
    git_author = commit.get("author") or {}
    identities: list[dict[str, Any]] = []
    login = (payload.get("author") or {}).get("login")
    email = git_author.get("email")
    if login:
        row = identity_row(source, login, git_author.get("name") or login, email)
    elif email:
        row = identity_row(source, email.lower(), git_author.get("name"), email)
    else:
        row = None
    if row:
        identities.append(row)
    message = commit.get("message")
    stats = payload.get("stats") or {}
    keys = find_task_keys(message, default_repo=repo, jira_project_keys=jira_project_keys)
    commit_row = {
        "sha": payload["sha"],
        "repo": repo,
        "author_id": row["identity_id"] if row else None,
        "authored_at": to_utc(git_author.get("date")),
        "message": message,
        "additions": stats.get("additions"),
        "deletions": stats.get("deletions"),
        "task_ids": task_ids_for_keys(keys, source, jira_source),
        "source": source,
    }
    return {"commits": [commit_row], "identities": identities}
