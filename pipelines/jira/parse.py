"""Pure parsers for Jira REST payloads (`jira_issue`, `jira_fields`, `jira_sprint`, `jira_project`).

Payload in, warehouse rows out (docs/payload-contract.md); no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pipelines.common_parse import (
    Rows,
    identity_row,
    link_row,
    merge_identities,
    outcome_for,
    seconds_to_hours,
    status_category_for,
    to_date,
    to_float,
    to_utc,
    type_category_for,
    unique_links,
)

DEFAULT_FIELD_NAMES: dict[str, str] = {
    "story_points": "Story Points",
    "sprint": "Sprint",
    "epic_link": "Epic Link",
    "start_date": "Start date",
    "target_end": "Target end",
}

# Custom field types that identify a field whatever it is called (names get localised).
_SCHEMA_TYPES: dict[str, str] = {
    "sprint": "com.pyxis.greenhopper.jira:gh-sprint",
    "epic_link": "com.pyxis.greenhopper.jira:gh-epic-link",
    "story_points": "com.pyxis.greenhopper.jira:jsw-story-points",
}
_SCHEMA_FIRST = frozenset({"sprint", "epic_link"})

_JIRA_CATEGORY = {"new": "todo", "indeterminate": "in_progress", "done": "done"}
_CATEGORIES = frozenset({"todo", "in_progress", "done"})

ISSUE_TABLES = ("tasks", "status_changes", "comments", "worklogs", "task_links", "identities", "sprints")


def resolve_field_ids(fields_payload: list[dict[str, Any]], names: Mapping[str, str] | None = None) -> dict[str, str]:
    """Map logical names (story_points, sprint, ...) to this instance's custom field ids.

    Sprint and epic link are found by their Jira Software schema type first,
    because their display names are translated; other fields by name
    (case-insensitive), falling back to the schema type. A configured value
    that already is a field id is accepted as is. Unresolved names are omitted.
    """
    wanted = dict(DEFAULT_FIELD_NAMES if names is None else names)
    by_name: dict[str, str] = {}
    by_schema: dict[str, str] = {}
    ids: set[str] = set()
    for field in fields_payload or []:
        field_id = field.get("id")
        if not field_id:
            continue
        ids.add(field_id)
        name = (field.get("name") or "").strip().lower()
        if name:
            by_name.setdefault(name, field_id)
        custom = ((field.get("schema") or {}).get("custom") or "").strip()
        if custom:
            by_schema.setdefault(custom, field_id)
    resolved: dict[str, str] = {}
    for logical, display in wanted.items():
        from_name = by_name.get((display or "").strip().lower())
        if from_name is None and display in ids:
            from_name = display
        from_schema = by_schema.get(_SCHEMA_TYPES.get(logical, ""))
        choice = (from_schema or from_name) if logical in _SCHEMA_FIRST else (from_name or from_schema)
        if choice:
            resolved[logical] = choice
    return resolved


def parse_issue(
    issue: dict[str, Any],
    source: str,
    field_ids: Mapping[str, str] | None = None,
    status_overrides: Mapping[str, str] | None = None,
) -> Rows:
    """Rows of every table one Jira issue (fetched with expand=changelog) feeds."""
    field_ids = field_ids or {}
    fields = issue.get("fields") or {}
    key = issue["key"]
    task_id = f"{source}:{key}"
    identities: list[dict[str, Any]] = []

    def person(user: Any) -> str | None:
        row = _user_identity(user, source)
        if row is None:
            return None
        identities.append(row)
        return row["identity_id"]

    status = fields.get("status") or {}
    categorise = _status_categoriser(status, status_overrides)
    status_changes, started_at = _status_changes(issue, source, task_id, categorise, person)
    project_key = (fields.get("project") or {}).get("key") or key.rsplit("-", 1)[0]
    sprints = _sprints_from_field(fields.get(field_ids["sprint"]) if "sprint" in field_ids else None, source, project_key)

    parent_key = (fields.get("parent") or {}).get("key")
    if not parent_key and "epic_link" in field_ids:
        epic = fields.get(field_ids["epic_link"])
        parent_key = epic.get("key") if isinstance(epic, dict) else epic
    parent_task_id = f"{source}:{parent_key}" if parent_key else None

    links = []
    if parent_task_id:
        links.append(link_row(source, parent_task_id, task_id, "parent"))
    for sub in fields.get("subtasks") or []:
        if sub.get("key"):
            links.append(link_row(source, task_id, f"{source}:{sub['key']}", "parent"))
    for link in fields.get("issuelinks") or []:
        row = _issue_link(link, key, source)
        if row:
            links.append(row)

    issue_type = fields.get("issuetype") or {}
    type_category = "subtask" if issue_type.get("subtask") else type_category_for(issue_type.get("name"))
    task = {
        "task_id": task_id,
        "source": source,
        "source_key": key,
        "project_key": project_key,
        "parent_task_id": parent_task_id,
        "title": fields.get("summary"),
        "description": _plain_text(fields.get("description")),
        "type": issue_type.get("name"),
        "type_category": type_category,
        "status": status.get("name"),
        "status_category": categorise(status.get("name")),
        "priority": (fields.get("priority") or {}).get("name"),
        "assignee_id": person(fields.get("assignee")),
        "reporter_id": person(fields.get("reporter")),
        "created_at": to_utc(fields.get("created")),
        "updated_at": to_utc(fields.get("updated")),
        "started_at": started_at,
        "resolved_at": to_utc(fields.get("resolutiondate")),
        "due_date": to_date(fields.get("duedate")),
        "planned_start": to_date(fields.get(field_ids["start_date"])) if "start_date" in field_ids else None,
        "planned_finish": to_date(fields.get(field_ids["target_end"])) if "target_end" in field_ids else None,
        "estimate_hours": _estimate_hours(fields),
        "spent_hours": _spent_hours(fields),
        "story_points": to_float(fields.get(field_ids["story_points"])) if "story_points" in field_ids else None,
        "sprint_id": sprints[-1]["sprint_id"] if sprints else None,
        "labels": list(fields.get("labels") or []),
        "url": _browse_url(issue.get("self"), key),
        "components": [c.get("name") for c in fields.get("components") or [] if c.get("name")],
        "resolution": (fields.get("resolution") or {}).get("name"),
        "is_deleted": False,
        "security_level": _security_level(fields.get("security")),
    }
    task["outcome"] = outcome_for(task["status_category"], task["resolution"], task["status"])
    person(fields.get("creator"))

    comments = []
    for comment in (fields.get("comment") or {}).get("comments") or []:
        comments.append({
            "comment_id": f"{source}:{comment['id']}",
            "task_id": task_id,
            "author_id": person(comment.get("author")),
            "created_at": to_utc(comment.get("created")),
            "updated_at": to_utc(comment.get("updated")),
            "body": _plain_text(comment.get("body")),
            "source": source,
        })
        person(comment.get("updateAuthor"))

    worklogs = []
    for worklog in (fields.get("worklog") or {}).get("worklogs") or []:
        started = to_utc(worklog.get("started"))
        hours = seconds_to_hours(worklog.get("timeSpentSeconds"))
        if started is None or hours is None:
            continue
        worklogs.append({
            "worklog_id": f"{source}:{worklog['id']}",
            "task_id": task_id,
            "person_id": person(worklog.get("author")),
            "started_at": started,
            "hours": hours,
            "source": source,
            "origin": "jira",
            "comment": _plain_text(worklog.get("comment")) or None,
        })
        person(worklog.get("updateAuthor"))

    return {
        "tasks": [task],
        "status_changes": status_changes,
        "comments": comments,
        "worklogs": worklogs,
        "task_links": unique_links(links),
        "identities": merge_identities(identities),
        "sprints": _unique_sprints(sprints),
    }


def parse_sprint(payload: dict[str, Any], source: str, project_key: str | None = None) -> Rows:
    """The `sprints` row for one sprint from /rest/agile/1.0/board/{id}/sprint."""
    row = _sprint_row(payload, source, project_key)
    return {"sprints": [row] if row else []}


def parse_project(payload: dict[str, Any], source: str) -> Rows:
    """The `projects` row (and lead identity) for /rest/api/2/project/{key}."""
    lead = _user_identity(payload.get("lead"), source)
    key = payload["key"]
    project = {
        "project_key": key,
        "source": source,
        "name": payload.get("name"),
        "description": payload.get("description") or None,
        "lead_id": lead["identity_id"] if lead else None,
        "url": _browse_url(payload.get("self"), key),
    }
    return {"projects": [project], "identities": [lead] if lead else []}


def is_issue(payload: Any) -> bool:
    """Whether a JSON value has the shape of one REST issue: an object with `key` and `fields`."""
    return isinstance(payload, Mapping) and "key" in payload and "fields" in payload


def due_date_set_times(issue: Mapping[str, Any]) -> list[datetime]:
    """When the changelog set the due date to a value (clearing it does not count), oldest first.

    The warehouse keeps only the current due date; whoever needs its history
    (the delay evaluation's prediction time) reads it here.
    """
    moments = []
    for history in (issue.get("changelog") or {}).get("histories") or []:
        changed_at = to_utc(history.get("created"))
        if changed_at is None:
            continue
        moments += [changed_at for item in history.get("items") or []
                    if item.get("field") == "duedate" and item.get("to")]
    return sorted(moments)


def _security_level(security: Any) -> str | None:
    """An issue security level (`fields.security`, {"id": .., "name": ..}): its name, else its id."""
    if not isinstance(security, Mapping):
        return None
    for value in (security.get("name"), security.get("id")):
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def _first_present(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _spent_hours(fields: Mapping[str, Any]) -> float | None:
    """Time logged on the issue itself (not its subtasks), for the same reason as estimates."""
    return seconds_to_hours(_first_present(fields.get("timespent"), (fields.get("timetracking") or {}).get("timeSpentSeconds")))


def _estimate_hours(fields: Mapping[str, Any]) -> float | None:
    """Own original estimate; the aggregate only for issues without subtasks.

    A parent's aggregate is the sum of its subtasks' estimates, so using it
    would count the same hours twice when estimates are summed per project.
    """
    own = _first_present(fields.get("timeoriginalestimate"), (fields.get("timetracking") or {}).get("originalEstimateSeconds"))
    if own is None and not fields.get("subtasks"):
        own = fields.get("aggregatetimeoriginalestimate")
    return seconds_to_hours(own)


def _user_identity(user: Any, source: str) -> dict[str, Any] | None:
    """Identity for a Jira user object: Cloud accountId, else Server username/key."""
    if not isinstance(user, Mapping):
        return None
    account = user.get("accountId") or user.get("name") or user.get("key")
    if not account:
        return None
    email = user.get("emailAddress")
    # Public instances obfuscate addresses ("jo at example dot org"); those never match a person.
    if not email or "@" not in email:
        email = None
    return identity_row(source, account, user.get("displayName"), email)


Categoriser = Callable[[str | None], str | None]
PersonRef = Callable[[Any], str | None]


def _status_categoriser(current_status: Mapping[str, Any], overrides: Mapping[str, str] | None) -> Categoriser:
    """Build name → category: configured overrides, then Jira's category for the
    current status (the only one the payload describes), then the name fallback."""
    override_map = {}
    for name, category in (overrides or {}).items():
        normalised = _JIRA_CATEGORY.get(category, category)
        if normalised in _CATEGORIES:
            override_map[name.strip().lower()] = normalised
    current_name = (current_status.get("name") or "").strip().lower()
    current_category = _JIRA_CATEGORY.get((current_status.get("statusCategory") or {}).get("key") or "")

    def categorise(name: str | None) -> str | None:
        if not name:
            return None
        lowered = name.strip().lower()
        if lowered in override_map:
            return override_map[lowered]
        if lowered == current_name and current_category:
            return current_category
        return status_category_for(name)

    return categorise


def _status_changes(
    issue: Mapping[str, Any], source: str, task_id: str, categorise: Categoriser, person: PersonRef
) -> tuple[list[dict[str, Any]], datetime | None]:
    """One row per changelog status item, and when work first entered an in-progress status."""
    rows = []
    started_at = None
    for history in (issue.get("changelog") or {}).get("histories") or []:
        changed_at = to_utc(history.get("created"))
        author_id = person(history.get("author"))
        items = history.get("items") or []
        if changed_at is None:
            continue
        for index, item in enumerate(items):
            if item.get("field") != "status":
                continue
            rows.append({
                "change_id": f"{source}:{history['id']}:{index}",
                "task_id": task_id,
                "changed_at": changed_at,
                "from_status": item.get("fromString"),
                "to_status": item.get("toString"),
                "author_id": author_id,
                "source": source,
            })
            if categorise(item.get("toString")) == "in_progress" and (started_at is None or changed_at < started_at):
                started_at = changed_at
    rows.sort(key=lambda r: (r["changed_at"], r["change_id"]))
    return rows, started_at


def _classify_link(link_type: Mapping[str, Any]) -> tuple[str, bool]:
    """(link_type, reverse): reverse means the link's destination is the `from` side.

    Read from the outward verb so renamed types still work: "A depends on B"
    makes B the predecessor, "A blocks B" keeps A first. Anything that implies
    no ordering (relates, clones, contains, supersedes) is `relates`.
    """
    text = (link_type.get("outward") or link_type.get("name") or "").strip().lower()
    passive = text.startswith("is ") or text.endswith(" by")
    if "block" in text:
        return "blocks", passive
    if "depend" in text or "require" in text:
        return "depends_on", not passive
    if "duplicat" in text:
        return "duplicates", passive
    return "relates", False


def _issue_link(link: Mapping[str, Any], key: str, source: str) -> dict[str, Any] | None:
    """A task_links row from one `fields.issuelinks` entry, in contract direction.

    Jira stores each link once (source → destination) and shows it on both
    issues: as `outwardIssue` on the source and `inwardIssue` on the
    destination, so either side yields the same row.
    """
    if link.get("outwardIssue"):
        origin, destination = key, link["outwardIssue"].get("key")
    elif link.get("inwardIssue"):
        origin, destination = link["inwardIssue"].get("key"), key
    else:
        return None
    if not origin or not destination:
        return None
    link_type, reverse = _classify_link(link.get("type") or {})
    if reverse:
        origin, destination = destination, origin
    return link_row(source, f"{source}:{origin}", f"{source}:{destination}", link_type)


_LEGACY_SPRINT = re.compile(r"\[(.*)\]\s*$", re.S)
_LEGACY_KEYS = (
    "id", "rapidViewId", "state", "name", "goal", "startDate", "endDate", "completeDate",
    "activatedDate", "sequence", "synced", "autoStartStop", "incompleteIssuesDestinationId",
)
_LEGACY_SPLIT = re.compile(r",(?=(?:" + "|".join(_LEGACY_KEYS) + r")=)")


def _parse_legacy_sprint(text: str) -> dict[str, Any] | None:
    """Parse the Jira Server `...sprint.Sprint@hash[id=1,name=...]` string form.

    Splitting only before known keys keeps commas inside sprint names and goals.
    """
    match = _LEGACY_SPRINT.search(text)
    if not match:
        return None
    values: dict[str, Any] = {}
    for part in _LEGACY_SPLIT.split(match.group(1)):
        name, sep, value = part.partition("=")
        if sep:
            values[name.strip()] = None if value == "<null>" else value
    if not values.get("id"):
        return None
    values["boardId"] = values.get("rapidViewId")
    return values


def _sprint_row(payload: Mapping[str, Any], source: str, project_key: str | None) -> dict[str, Any] | None:
    if payload.get("id") in (None, ""):
        return None
    state = payload.get("state")
    return {
        "sprint_id": f"{source}:{payload['id']}",
        "source": source,
        "project_key": project_key,
        "name": payload.get("name"),
        "state": state.lower() if isinstance(state, str) else None,
        "start_at": to_utc(payload.get("startDate")),
        "end_at": to_utc(payload.get("endDate")),
        "completed_at": to_utc(payload.get("completeDate")),
        "goal": payload.get("goal") or None,
    }


def _sprints_from_field(value: Any, source: str, project_key: str | None) -> list[dict[str, Any]]:
    """Sprint rows from the sprint custom field, in the order Jira lists them (oldest first)."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    rows = []
    for item in items:
        payload = _parse_legacy_sprint(item) if isinstance(item, str) else item if isinstance(item, Mapping) else None
        row = _sprint_row(payload, source, project_key) if payload else None
        if row:
            rows.append(row)
    return rows


def _unique_sprints(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for row in rows:
        seen.setdefault(row["sprint_id"], row)
    return list(seen.values())


def _browse_url(self_url: str | None, key: str) -> str | None:
    """Human URL of an issue or project: the REST `self` URL's base + /browse/KEY."""
    if not self_url or "/rest/" not in self_url:
        return None
    return f"{self_url.split('/rest/', 1)[0]}/browse/{key}"


def _plain_text(value: Any) -> str | None:
    """Text of a v2 string or a v3 Atlassian Document Format body."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, Mapping):
        return str(value)
    parts: list[str] = []

    def walk(node: Mapping[str, Any]) -> None:
        if node.get("type") == "text":
            parts.append(node.get("text") or "")
        elif node.get("type") == "hardBreak":
            parts.append("\n")
        for child in node.get("content") or []:
            if isinstance(child, Mapping):
                walk(child)
        if node.get("type") in ("paragraph", "heading", "listItem", "codeBlock"):
            parts.append("\n")

    walk(value)
    return "".join(parts).strip("\n")
