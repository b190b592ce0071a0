"""Jira parsers, on hand-made payloads for edge cases and on 501 real Apache issues."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from pipelines.jira.parse import due_date_set_times, is_issue, parse_issue, parse_project, parse_sprint, resolve_field_ids

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
APACHE_DIR = SHARED_DATA / "jira-apache-2015"

FIELDS_PAYLOAD = [
    {"id": "summary", "name": "Summary", "custom": False, "schema": {"type": "string", "system": "summary"}},
    {"id": "customfield_10016", "name": "Story Points", "custom": True,
     "schema": {"type": "number", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float", "customId": 10016}},
    {"id": "customfield_10020", "name": "冲刺", "custom": True,
     "schema": {"type": "array", "items": "json", "custom": "com.pyxis.greenhopper.jira:gh-sprint", "customId": 10020}},
    {"id": "customfield_10014", "name": "Epic Link", "custom": True,
     "schema": {"type": "any", "custom": "com.pyxis.greenhopper.jira:gh-epic-link", "customId": 10014}},
    {"id": "customfield_10015", "name": "Start date", "custom": True,
     "schema": {"type": "date", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:datepicker", "customId": 10015}},
    {"id": "customfield_10030", "name": "Target End", "custom": True,
     "schema": {"type": "date", "custom": "com.atlassian.jpo:jpo-custom-field-baseline-end", "customId": 10030}},
]
FIELD_NAMES = {
    "story_points": "story points",
    "sprint": "Sprint",
    "epic_link": "Epic Link",
    "start_date": "Start date",
    "target_end": "Target end",
}
FIELD_IDS = resolve_field_ids(FIELDS_PAYLOAD, FIELD_NAMES)


def _user(name: str, display: str, email: str | None = None) -> dict:
    return {"self": f"https://jira.example.com/rest/api/2/user?username={name}", "name": name, "key": name,
            "emailAddress": email, "displayName": display, "active": True, "timeZone": "Asia/Shanghai"}


def _item(field: str, old: str | None, new: str | None) -> dict:
    return {"field": field, "fieldtype": "jira", "from": None, "fromString": old, "to": None, "toString": new}


def _status(name: str, category_key: str) -> dict:
    return {"name": name, "id": "3", "statusCategory": {"id": 4, "key": category_key, "name": name}}


def _link(type_name: str, inward: str, outward: str, direction: str, other_key: str) -> dict:
    issue = {"id": "1", "key": other_key, "self": f"https://jira.example.com/rest/api/2/issue/{other_key}"}
    return {"id": "9", "type": {"id": "1", "name": type_name, "inward": inward, "outward": outward}, f"{direction}Issue": issue}


def _issue(**overrides) -> dict:
    """ERP-5, a story in sprints S1 then 'S2, hardening' (legacy string form)."""
    fields = {
        "summary": "Checkout page",
        "description": "Build it",
        "issuetype": {"id": "10001", "name": "Story", "subtask": False},
        "project": {"id": "10000", "key": "ERP", "name": "ERP"},
        "status": _status("In Review", "indeterminate"),
        "priority": {"name": "High", "id": "2"},
        "resolution": None,
        "assignee": _user("li.lei", "Li Lei", "li.lei@example.com"),
        "reporter": _user("han.meimei", "Han Meimei", "han@example.com"),
        "creator": _user("bot", "Import Bot"),
        "created": "2024-03-01T09:00:00.000+0800",
        "updated": "2024-03-05T18:30:00.000+0800",
        "resolutiondate": None,
        "duedate": "2024-03-20",
        "labels": ["web", "checkout"],
        "components": [{"id": "1", "name": "Frontend"}, {"id": "2", "name": "Payments"}],
        "timeoriginalestimate": 28800,
        "aggregatetimeoriginalestimate": 57600,
        "timespent": 5400,
        "customfield_10016": 5.0,
        "customfield_10014": "ERP-1",
        "customfield_10015": "2024-03-04",
        "customfield_10030": "2024-03-15",
        "customfield_10020": [
            "com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=12,rapidViewId=3,state=CLOSED,name=S1,"
            "startDate=2024-02-19T10:00:00.000+08:00,endDate=2024-03-01T18:00:00.000+08:00,"
            "completeDate=2024-03-01T19:00:00.000+08:00,sequence=12]",
            "com.atlassian.greenhopper.service.sprint.Sprint@3c4d[id=13,rapidViewId=3,state=ACTIVE,"
            "name=S2, hardening,goal=Ship it, finally,startDate=2024-03-04T10:00:00.000+08:00,"
            "endDate=2024-03-15T18:00:00.000+08:00,completeDate=<null>,sequence=13]",
        ],
        "subtasks": [{"id": "20", "key": "ERP-6", "fields": {"summary": "API"}}],
        "issuelinks": [
            _link("Blocks", "is blocked by", "blocks", "outward", "ERP-7"),
            _link("Blocks", "is blocked by", "blocks", "inward", "ERP-8"),
            _link("Dependency", "is depended on by", "depends on", "outward", "ERP-9"),
            _link("Dependency", "is depended on by", "depends on", "inward", "ERP-10"),
            _link("Relates", "relates to", "relates to", "inward", "ERP-11"),
            _link("Duplicate", "is duplicated by", "duplicates", "inward", "ERP-12"),
            _link("Cloners", "is cloned by", "clones", "outward", "ERP-13"),
        ],
        "comment": {"comments": [
            {"id": "100", "author": _user("li.lei", "Li Lei"), "body": "Started",
             "updateAuthor": _user("wang.wu", "Wang Wu"),
             "created": "2024-03-04T10:00:00.000+0800", "updated": "2024-03-04T11:00:00.000+0800"},
        ], "maxResults": 1, "total": 1, "startAt": 0},
        "worklog": {"startAt": 0, "maxResults": 20, "total": 2, "worklogs": [
            {"id": "500", "author": _user("li.lei", "Li Lei"), "comment": "pairing",
             "started": "2024-03-04T09:00:00.000+0800", "timeSpent": "1h", "timeSpentSeconds": 3600},
            {"id": "501", "author": _user("zhao.liu", "Zhao Liu"), "comment": "",
             "started": "2024-03-05T14:00:00.000+0800", "timeSpent": "30m", "timeSpentSeconds": 1800},
        ]},
    }
    fields.update(overrides.pop("fields", {}))
    issue = {
        "id": "10005",
        "key": "ERP-5",
        "self": "https://jira.example.com/jira/rest/api/2/issue/10005",
        "fields": fields,
        "changelog": {"startAt": 0, "maxResults": 3, "total": 3, "histories": [
            {"id": "7001", "author": _user("li.lei", "Li Lei"), "created": "2024-03-04T09:30:00.000+0800",
             "items": [
                 _item("assignee", None, "Li Lei"),
                 _item("status", "Open", "Selected"),
             ]},
            {"id": "7002", "author": _user("li.lei", "Li Lei"), "created": "2024-03-04T10:15:00.000+0800",
             "items": [_item("status", "Selected", "In Progress")]},
            {"id": "7003", "author": _user("han.meimei", "Han Meimei"), "created": "2024-03-05T16:00:00.000+0800",
             "items": [_item("status", "In Progress", "In Review")]},
        ]},
    }
    issue.update(overrides)
    return issue


def test_resolve_field_ids_uses_schema_for_sprint_and_names_case_insensitively():
    assert FIELD_IDS == {
        "story_points": "customfield_10016",
        "sprint": "customfield_10020",
        "epic_link": "customfield_10014",
        "start_date": "customfield_10015",
        "target_end": "customfield_10030",
    }


def test_resolve_field_ids_accepts_ids_and_omits_unknown_names():
    resolved = resolve_field_ids(FIELDS_PAYLOAD, {"story_points": "customfield_10016", "team": "Team"})
    assert resolved == {"story_points": "customfield_10016"}


def test_parse_issue_task_row():
    rows = parse_issue(_issue(), "acme", FIELD_IDS)
    assert set(rows) == {"tasks", "status_changes", "comments", "worklogs", "task_links", "identities", "sprints"}
    (task,) = rows["tasks"]
    assert task["task_id"] == "acme:ERP-5"
    assert task["source_key"] == "ERP-5"
    assert task["project_key"] == "ERP"
    assert task["type"] == "Story" and task["type_category"] == "feature"
    assert task["status"] == "In Review" and task["status_category"] == "in_progress"
    assert task["priority"] == "High"
    assert task["assignee_id"] == "acme:li.lei"
    assert task["reporter_id"] == "acme:han.meimei"
    assert task["created_at"] == datetime(2024, 3, 1, 1, 0)
    assert task["updated_at"] == datetime(2024, 3, 5, 10, 30)
    assert task["started_at"] == datetime(2024, 3, 4, 2, 15)
    assert task["resolved_at"] is None
    assert task["due_date"] == date(2024, 3, 20)
    assert task["planned_start"] == date(2024, 3, 4)
    assert task["planned_finish"] == date(2024, 3, 15)
    assert task["estimate_hours"] == 8.0
    assert task["spent_hours"] == 1.5
    assert task["story_points"] == 5.0
    assert task["parent_task_id"] == "acme:ERP-1"
    assert task["sprint_id"] == "acme:13"
    assert task["labels"] == ["web", "checkout"]
    assert task["components"] == ["Frontend", "Payments"]
    assert task["url"] == "https://jira.example.com/jira/browse/ERP-5"


def test_parse_issue_without_field_ids_leaves_custom_fields_empty():
    (task,) = parse_issue(_issue(), "acme")["tasks"]
    assert task["story_points"] is None and task["sprint_id"] is None
    assert task["parent_task_id"] is None and task["planned_start"] is None


def test_parent_field_wins_over_epic_link():
    issue = _issue(fields={"parent": {"id": "2", "key": "ERP-2"}, "issuetype": {"name": "Sub-task", "subtask": True}})
    rows = parse_issue(issue, "acme", FIELD_IDS)
    assert rows["tasks"][0]["parent_task_id"] == "acme:ERP-2"
    assert rows["tasks"][0]["type_category"] == "subtask"
    parents = [(r["from_task_id"], r["to_task_id"]) for r in rows["task_links"] if r["link_type"] == "parent"]
    assert parents == [("acme:ERP-2", "acme:ERP-5"), ("acme:ERP-5", "acme:ERP-6")]


def test_status_changes_and_started_at_follow_overrides():
    rows = parse_issue(_issue(), "acme", FIELD_IDS)
    assert [(r["change_id"], r["from_status"], r["to_status"], r["author_id"]) for r in rows["status_changes"]] == [
        ("acme:7001:1", "Open", "Selected", "acme:li.lei"),
        ("acme:7002:0", "Selected", "In Progress", "acme:li.lei"),
        ("acme:7003:0", "In Progress", "In Review", "acme:han.meimei"),
    ]
    assert rows["status_changes"][0]["changed_at"] == datetime(2024, 3, 4, 1, 30)
    overridden = parse_issue(_issue(), "acme", FIELD_IDS, status_overrides={"selected": "in_progress"})
    assert overridden["tasks"][0]["started_at"] == datetime(2024, 3, 4, 1, 30)
    as_todo = parse_issue(_issue(), "acme", FIELD_IDS, status_overrides={"In Review": "todo"})
    assert as_todo["tasks"][0]["status_category"] == "todo"


def test_issue_links_follow_contract_direction():
    links = {(r["from_task_id"], r["to_task_id"], r["link_type"]) for r in parse_issue(_issue(), "acme")["task_links"]}
    assert links == {
        ("acme:ERP-5", "acme:ERP-6", "parent"),
        ("acme:ERP-5", "acme:ERP-7", "blocks"),
        ("acme:ERP-8", "acme:ERP-5", "blocks"),
        ("acme:ERP-9", "acme:ERP-5", "depends_on"),
        ("acme:ERP-5", "acme:ERP-10", "depends_on"),
        ("acme:ERP-11", "acme:ERP-5", "relates"),
        ("acme:ERP-12", "acme:ERP-5", "duplicates"),
        ("acme:ERP-5", "acme:ERP-13", "relates"),
    }
    assert all(r["dependency"] == "FS" and r["lag_days"] == 0 for r in parse_issue(_issue(), "acme")["task_links"])


def test_sprints_from_legacy_strings_keep_commas_in_names():
    sprints = parse_issue(_issue(), "acme", FIELD_IDS)["sprints"]
    assert [(s["sprint_id"], s["name"], s["state"], s["goal"]) for s in sprints] == [
        ("acme:12", "S1", "closed", None),
        ("acme:13", "S2, hardening", "active", "Ship it, finally"),
    ]
    assert sprints[0]["start_at"] == datetime(2024, 2, 19, 2, 0)
    assert sprints[0]["completed_at"] == datetime(2024, 3, 1, 11, 0)
    assert sprints[1]["completed_at"] is None
    assert {s["project_key"] for s in sprints} == {"ERP"}


def test_sprints_from_cloud_objects():
    cloud = [{"id": 37, "name": "Sprint 7", "state": "closed", "boardId": 4, "goal": "",
              "startDate": "2024-01-01T01:00:00.000Z", "endDate": "2024-01-14T01:00:00.000Z",
              "completeDate": "2024-01-14T03:00:00.000Z"},
             {"id": 38, "name": "Sprint 8", "state": "active", "boardId": 4, "goal": "Payments",
              "startDate": "2024-01-15T01:00:00.000Z", "endDate": "2024-01-28T01:00:00.000Z"}]
    rows = parse_issue(_issue(fields={"customfield_10020": cloud}), "acme", FIELD_IDS)
    assert rows["tasks"][0]["sprint_id"] == "acme:38"
    assert [(s["sprint_id"], s["goal"], s["end_at"]) for s in rows["sprints"]] == [
        ("acme:37", None, datetime(2024, 1, 14, 1, 0)),
        ("acme:38", "Payments", datetime(2024, 1, 28, 1, 0)),
    ]


def test_comments_worklogs_and_identities():
    rows = parse_issue(_issue(), "acme", FIELD_IDS)
    (comment,) = rows["comments"]
    assert comment["comment_id"] == "acme:100" and comment["author_id"] == "acme:li.lei"
    assert comment["created_at"] == datetime(2024, 3, 4, 2, 0) and comment["body"] == "Started"
    assert [(w["worklog_id"], w["person_id"], w["hours"], w["origin"], w["comment"]) for w in rows["worklogs"]] == [
        ("acme:500", "acme:li.lei", 1.0, "jira", "pairing"),
        ("acme:501", "acme:zhao.liu", 0.5, "jira", None),
    ]
    assert rows["worklogs"][0]["started_at"] == datetime(2024, 3, 4, 1, 0)
    identities = {r["identity_id"]: r for r in rows["identities"]}
    assert set(identities) == {"acme:li.lei", "acme:han.meimei", "acme:bot", "acme:wang.wu", "acme:zhao.liu"}
    assert identities["acme:li.lei"]["email"] == "li.lei@example.com"
    assert identities["acme:zhao.liu"]["display_name"] == "Zhao Liu"


def test_cloud_users_use_account_id_and_adf_bodies_become_text():
    adf = {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Hello "}, {"type": "text", "text": "world"}]},
        {"type": "paragraph", "content": [{"type": "text", "text": "Bye"}]},
    ]}
    cloud_user = {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Mia", "emailAddress": "mia@example.com"}
    rows = parse_issue(_issue(fields={"assignee": cloud_user, "description": adf}), "cloud")
    assert rows["tasks"][0]["assignee_id"] == "cloud:5b10ac8d82e05b22cc7d4ef5"
    assert rows["tasks"][0]["description"] == "Hello world\nBye"


def test_parent_estimate_is_not_its_subtasks_aggregate():
    issue = _issue(fields={"timeoriginalestimate": None})
    assert parse_issue(issue, "acme")["tasks"][0]["estimate_hours"] is None
    leaf = _issue(fields={"timeoriginalestimate": None, "subtasks": []})
    assert parse_issue(leaf, "acme")["tasks"][0]["estimate_hours"] == 16.0


def test_parse_issue_is_deterministic():
    assert parse_issue(_issue(), "acme", FIELD_IDS) == parse_issue(_issue(), "acme", FIELD_IDS)


def test_parse_sprint_from_agile_api():
    payload = {"id": 37, "self": "https://jira.example.com/rest/agile/1.0/sprint/37", "state": "closed",
               "name": "sprint 1", "startDate": "2015-04-11T15:22:00.000+10:00",
               "endDate": "2015-04-20T01:22:00.000+10:00", "completeDate": "2015-04-20T11:04:00.000+10:00",
               "originBoardId": 5, "goal": "sprint 1 goal"}
    (row,) = parse_sprint(payload, "acme", project_key="ERP")["sprints"]
    assert row == {
        "sprint_id": "acme:37", "source": "acme", "project_key": "ERP", "name": "sprint 1", "state": "closed",
        "start_at": datetime(2015, 4, 11, 5, 22), "end_at": datetime(2015, 4, 19, 15, 22),
        "completed_at": datetime(2015, 4, 20, 1, 4), "goal": "sprint 1 goal",
    }


def test_parse_project():
    payload = {"self": "https://jira.example.com/rest/api/2/project/10000", "id": "10000", "key": "ERP",
               "description": "Enterprise resource planning", "name": "ERP Rollout",
               "lead": {"self": "https://jira.example.com/rest/api/2/user?username=fred", "name": "fred",
                        "key": "fred", "displayName": "Fred F. User", "active": True},
               "projectTypeKey": "software", "url": "https://erp.example.com"}
    rows = parse_project(payload, "acme")
    assert rows["projects"] == [{
        "project_key": "ERP", "source": "acme", "name": "ERP Rollout",
        "description": "Enterprise resource planning", "lead_id": "acme:fred",
        "url": "https://jira.example.com/browse/ERP",
    }]
    assert rows["identities"] == [{"identity_id": "acme:fred", "source": "acme", "account": "fred",
                                   "display_name": "Fred F. User", "email": None}]


def test_due_date_set_times_are_the_changelog_entries_giving_it_a_value():
    issue = {"key": "ERP-5", "fields": {}, "changelog": {"histories": [
        {"id": "3", "created": "2015-01-20T00:00:00.000+0000", "items": [{"field": "duedate", "to": "2015-02-10"}]},
        {"id": "1", "created": "2015-01-05T08:00:00.000+0800",
         "items": [_item("status", "Open", "In Progress"), {"field": "duedate", "to": "2015-02-01"}]},
        {"id": "2", "created": "2015-01-10T00:00:00.000+0000", "items": [{"field": "duedate", "to": None}]},
        {"id": "4", "created": "not a time", "items": [{"field": "duedate", "to": "2015-03-01"}]},
    ]}}
    assert due_date_set_times(issue) == [datetime(2015, 1, 5, 0, 0), datetime(2015, 1, 20, 0, 0)]
    assert due_date_set_times({"key": "ERP-6", "fields": {}}) == []


def test_is_issue_wants_key_and_fields():
    assert is_issue(_issue()) and is_issue({"key": "ERP-1", "fields": {}})
    assert not any(is_issue(v) for v in ({"hello": 1}, {"key": "ERP-1"}, [], "ERP-1", None))


# --- 501 real Apache issues (2015 export; nobody on the team wrote them) ---

def _load(path: Path) -> dict:
    # A few files in the export hold bytes mangled before export (invalid UTF-8).
    return json.loads(path.read_bytes().decode("utf-8", errors="replace"))


def _utc(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(timezone.utc).replace(tzinfo=None)


@pytest.fixture(scope="module")
def apache():
    if not APACHE_DIR.is_dir():
        pytest.skip(f"shared Apache Jira data not found at {APACHE_DIR} (expected ../shared beside the repo)")
    issues = {p.name[: -len("_CL.json")]: _load(p) for p in sorted(APACHE_DIR.glob("*_CL.json"))}
    parsed = {key: parse_issue(issue, "apache") for key, issue in issues.items()}
    return issues, parsed


def _all(parsed: dict, table: str) -> list[dict]:
    return [row for rows in parsed.values() for row in rows[table]]


def test_apache_tasks_match_the_json(apache):
    issues, parsed = apache
    tasks = {t["source_key"]: t for t in _all(parsed, "tasks")}
    assert len(issues) == 501 and len(tasks) == 501
    for key, issue in issues.items():
        fields, task = issue["fields"], tasks[key]
        assert task["task_id"] == f"apache:{key}"
        assert task["created_at"] == _utc(fields["created"])
        assert task["updated_at"] == _utc(fields["updated"])
        assert task["resolved_at"] == _utc(fields.get("resolutiondate"))
        assert task["due_date"] == (date.fromisoformat(fields["duedate"]) if fields.get("duedate") else None)
        assert task["status"] == fields["status"]["name"]
        jira_category = fields["status"]["statusCategory"]["key"]
        assert task["status_category"] == {"new": "todo", "indeterminate": "in_progress", "done": "done"}[jira_category]
        assert task["type"] == fields["issuetype"]["name"]
        assert task["project_key"] == fields["project"]["key"]
        assert task["url"] == f"https://issues.apache.org/jira/browse/{key}"
        assert task["assignee_id"] == (f"apache:{fields['assignee']['name']}" if fields["assignee"] else None)
        assert task["reporter_id"] == (f"apache:{fields['reporter']['name']}" if fields["reporter"] else None)
    assert sum(t["due_date"] is not None for t in tasks.values()) == 148
    assert sum(t["resolved_at"] is not None for t in tasks.values()) > 450
    categories = Counter(t["type_category"] for t in tasks.values())
    assert categories["subtask"] == 84 and categories["bug"] == 267 and categories["feature"] == 97


def test_apache_every_status_item_becomes_one_status_change(apache):
    issues, parsed = apache
    expected = set()
    for key, issue in issues.items():
        for history in issue["changelog"]["histories"]:
            for index, item in enumerate(history["items"]):
                if item["field"] == "status":
                    expected.add((f"apache:{history['id']}:{index}", f"apache:{key}", _utc(history["created"]),
                                  item["fromString"], item["toString"], f"apache:{history['author']['name']}"))
    rows = _all(parsed, "status_changes")
    got = {(r["change_id"], r["task_id"], r["changed_at"], r["from_status"], r["to_status"], r["author_id"]) for r in rows}
    assert len(rows) == len(expected) == 827
    assert got == expected


def test_apache_started_at_is_first_move_into_work(apache):
    issues, parsed = apache
    in_progress = {"In Progress", "Patch Available"}
    started = 0
    for key, issue in issues.items():
        moves = [_utc(h["created"]) for h in issue["changelog"]["histories"]
                 for item in h["items"] if item["field"] == "status" and item["toString"] in in_progress]
        task = parsed[key]["tasks"][0]
        assert task["started_at"] == (min(moves) if moves else None), key
        started += bool(moves)
    assert started > 100


def test_apache_links_direction_and_both_sides_agree(apache):
    issues, parsed = apache
    rows_by_task = {key: {(r["from_task_id"], r["to_task_id"], r["link_type"]) for r in rows["task_links"]}
                    for key, rows in parsed.items()}
    checked = Counter()
    for key, issue in issues.items():
        for link in issue["fields"]["issuelinks"]:
            outward = "outwardIssue" in link
            other = (link.get("outwardIssue") or link.get("inwardIssue"))["key"]
            me, them = f"apache:{key}", f"apache:{other}"
            verb = link["type"]["outward"]
            if verb == "blocks":
                expected = (me, them, "blocks") if outward else (them, me, "blocks")
            elif verb in ("depends upon", "requires"):
                expected = (them, me, "depends_on") if outward else (me, them, "depends_on")
            elif verb == "duplicates":
                expected = (me, them, "duplicates") if outward else (them, me, "duplicates")
            else:
                expected = (me, them, "relates") if outward else (them, me, "relates")
            assert expected in rows_by_task[key], (key, link["type"], outward)
            checked[expected[2]] += 1
            if other in rows_by_task:
                assert expected in rows_by_task[other], (key, other)
    assert checked["blocks"] == 23 and checked["depends_on"] == 20 and checked["duplicates"] == 44


def test_apache_parents_and_subtasks(apache):
    issues, parsed = apache
    links = {(r["from_task_id"], r["to_task_id"], r["link_type"]) for r in _all(parsed, "task_links")}
    with_parent = 0
    for key, issue in issues.items():
        parent = (issue["fields"].get("parent") or {}).get("key")
        task = parsed[key]["tasks"][0]
        assert task["parent_task_id"] == (f"apache:{parent}" if parent else None)
        if parent:
            with_parent += 1
            assert (f"apache:{parent}", f"apache:{key}", "parent") in links
        for sub in issue["fields"]["subtasks"]:
            assert (f"apache:{key}", f"apache:{sub['key']}", "parent") in links
    assert with_parent == 84


def test_apache_comments_match_comment_files(apache):
    issues, parsed = apache
    total = 0
    for key in issues:
        comment_file = APACHE_DIR / f"{key}_Comment.json"
        if not comment_file.exists():
            continue
        expected = _load(comment_file)["comments"]
        got = parsed[key]["comments"]
        assert [c["comment_id"] for c in got] == [f"apache:{c['id']}" for c in expected]
        assert [c["created_at"] for c in got] == [_utc(c["created"]) for c in expected]
        assert [c["author_id"] for c in got] == [f"apache:{c['author']['name']}" for c in expected]
        total += len(got)
    assert total == len(_all(parsed, "comments")) == 2075


def test_apache_worklogs_and_estimates(apache):
    issues, parsed = apache
    worklogs = _all(parsed, "worklogs")
    seconds = [w["timeSpentSeconds"] for i in issues.values() for w in i["fields"]["worklog"]["worklogs"]]
    assert len(worklogs) == len(seconds) == 22
    assert sum(w["hours"] for w in worklogs) == pytest.approx(sum(seconds) / 3600)
    assert all(w["origin"] == "jira" and w["person_id"].startswith("apache:") for w in worklogs)
    own_estimates = sum(i["fields"]["timeoriginalestimate"] or 0 for i in issues.values()) / 3600
    assert sum(t["estimate_hours"] or 0 for t in _all(parsed, "tasks")) == pytest.approx(own_estimates)


def test_apache_identities_cover_every_person_reference(apache):
    issues, parsed = apache
    names = {}
    for issue in issues.values():
        fields = issue["fields"]
        users = [fields["assignee"], fields["reporter"], fields["creator"]]
        users += [h["author"] for h in issue["changelog"]["histories"]]
        users += [c["author"] for c in fields["comment"]["comments"]]
        for user in users:
            if user:
                names[f"apache:{user['name']}"] = user["displayName"]
    identities = {}
    for row in _all(parsed, "identities"):
        identities.setdefault(row["identity_id"], row)
    referenced = {t[c] for t in _all(parsed, "tasks") for c in ("assignee_id", "reporter_id")}
    referenced |= {r["author_id"] for table in ("comments", "status_changes") for r in _all(parsed, table)}
    referenced |= {w["person_id"] for w in _all(parsed, "worklogs")}
    referenced.discard(None)
    assert referenced <= set(identities)
    assert set(names) <= set(identities)
    for identity_id, display_name in names.items():
        assert identities[identity_id]["display_name"] == display_name
        assert identities[identity_id]["account"] == identity_id.removeprefix("apache:")
    # The export obfuscates addresses ("x at y dot org"); they must not pose as emails.
    assert all(r["email"] is None for r in identities.values())


def test_apache_primary_keys_are_unique(apache):
    _, parsed = apache
    for table, column in (("tasks", "task_id"), ("status_changes", "change_id"),
                          ("comments", "comment_id"), ("worklogs", "worklog_id")):
        ids = [r[column] for r in _all(parsed, table)]
        assert len(ids) == len(set(ids)), table
    # A link shows on both of its issues, so link keys are unique per issue and the loader upserts.
    for rows in parsed.values():
        keys = [(r["from_task_id"], r["to_task_id"], r["link_type"]) for r in rows["task_links"]]
        assert len(keys) == len(set(keys))


def test_perceval_recorded_search_pages_parse_with_their_recorded_field_list():
    """Search pages of another real Jira (recorded in Perceval's test suite), without changelogs."""
    from datetime import datetime, timezone

    from pipelines.jira.parse import parse_issue, resolve_field_ids
    from tests.registry_data import pypi_sdist

    data = pypi_sdist("perceval", "1.6.1") / "tests" / "data" / "jira"
    field_ids = resolve_field_ids(json.loads((data / "jira_fields.json").read_text()))
    issues = [i for page in ("jira_issues_page_1.json", "jira_issues_page_2.json")
              for i in json.loads((data / page).read_text())["issues"]]
    assert len(issues) == 3
    for issue in issues:
        rows = parse_issue(issue, "perceval", field_ids)
        (task,) = rows["tasks"]
        fields = issue["fields"]
        assert task["task_id"] == f"perceval:{issue['key']}"
        assert task["created_at"] == datetime.strptime(fields["created"], "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(
            timezone.utc).replace(tzinfo=None)
        assert task["title"] == fields["summary"]
        assert task["status"] == fields["status"]["name"]
        assert rows["status_changes"] == []


def test_outcome_follows_resolution_then_status_name():
    won_t_fix = parse_issue(_issue(fields={"status": _status("Closed", "done"), "resolution": {"id": "2", "name": "Won't Fix"},
                                           "resolutiondate": "2024-03-06T10:00:00.000+0800"}), "acme", FIELD_IDS)["tasks"][0]
    assert (won_t_fix["status_category"], won_t_fix["resolution"], won_t_fix["outcome"]) == ("done", "Won't Fix", "dropped")
    fixed = parse_issue(_issue(fields={"status": _status("已拒绝", "done"), "resolution": {"id": "1", "name": "Fixed"}}),
                        "acme", FIELD_IDS)["tasks"][0]
    assert fixed["outcome"] == "delivered"  # the source's resolution wins over the status name
    rejected = parse_issue(_issue(fields={"status": _status("已拒绝", "done")}), "acme", FIELD_IDS)["tasks"][0]
    assert rejected["outcome"] == "dropped"
    assert parse_issue(_issue(), "acme", FIELD_IDS)["tasks"][0]["outcome"] is None  # not done
    # the source's category wins over name guessing: a "Duplicate" status Jira calls in progress is not done
    odd = parse_issue(_issue(fields={"status": _status("Duplicate", "indeterminate")}), "acme", FIELD_IDS)["tasks"][0]
    assert (odd["status_category"], odd["outcome"]) == ("in_progress", None)
