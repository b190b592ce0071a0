"""Shared parse helpers: timestamps, task-key detection and category mapping."""

from datetime import date, datetime, timedelta, timezone

import pytest

from pipelines.common_parse import (
    MAX_TASK_HOURS,
    Finding,
    enforce_bounds,
    find_task_keys,
    merge_identities,
    status_category_for,
    task_ids_for_keys,
    to_date,
    to_utc,
    type_category_for,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2015-03-05T10:22:33.000+0000", datetime(2015, 3, 5, 10, 22, 33)),
        ("2024-01-02T03:04:05Z", datetime(2024, 1, 2, 3, 4, 5)),
        ("2015-01-01T10:00:00.000+08:00", datetime(2015, 1, 1, 2, 0, 0)),
        ("2015-01-01T01:30:00-0500", datetime(2015, 1, 1, 6, 30, 0)),
        ("2014-01-06 12:29:22.358", datetime(2014, 1, 6, 12, 29, 22, 358000)),
        (datetime(2024, 6, 1, 8, 0, tzinfo=timezone(timedelta(hours=8))), datetime(2024, 6, 1, 0, 0)),
        (date(2024, 6, 1), datetime(2024, 6, 1)),
        (None, None),
        ("", None),
        ("<null>", None),
        ("not a date", None),
        (12345, None),
    ],
)
def test_to_utc_returns_naive_utc(value, expected):
    result = to_utc(value)
    assert result == expected
    assert result is None or result.tzinfo is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2015-03-05", date(2015, 3, 5)),
        ("2024-01-02T03:00:00+08:00", date(2024, 1, 1)),
        ("2012-10-09T23:39:01Z", date(2012, 10, 9)),
        (datetime(2024, 1, 2, 23, 0), date(2024, 1, 2)),
        (date(2024, 2, 29), date(2024, 2, 29)),
        ("2024-02-30", None),
        (None, None),
        ("soon", None),
    ],
)
def test_to_date(value, expected):
    assert to_date(value) == expected


def test_find_task_keys_recognises_all_forms_in_order_without_duplicates():
    text = "ERP-12: fix login (#45), see acme/infra#7 and group/sub/repo#45; again ERP-12 and #45"
    assert find_task_keys(text, default_repo="acme/web") == [
        "ERP-12",
        "acme/web#45",
        "acme/infra#7",
        "group/sub/repo#45",
    ]


def test_find_task_keys_drops_bare_numbers_without_a_repo():
    assert find_task_keys("fixes #3 and OPS-9") == ["OPS-9"]


def test_find_task_keys_ignores_lookalikes():
    text = (
        "Use UTF-8 and SHA-256, patch CVE-2024-1234, HTML &#45; entity, "
        "https://github.com/o/r/issues/3#issuecomment-99 and page#12"
    )
    assert find_task_keys(text, default_repo="o/r") == []


def test_find_task_keys_restricted_to_configured_projects_is_case_insensitive():
    branch = "feature/erp-12-login ABC-3 Erp-13"
    assert find_task_keys(branch, jira_project_keys=["ERP"]) == ["ERP-12", "ERP-13"]
    assert find_task_keys("ABC-3 #4", default_repo="o/r", jira_project_keys=[]) == ["o/r#4"]


def test_find_task_keys_prefers_longest_project_key():
    assert find_task_keys("MY_PROJ-1 and PROJ-2", jira_project_keys=["PROJ", "MY_PROJ"]) == ["MY_PROJ-1", "PROJ-2"]


def test_task_ids_for_keys_give_jira_keys_the_jira_source():
    keys = ["ERP-1", "acme/web#2"]
    assert task_ids_for_keys(keys, "gh") == ["gh:ERP-1", "gh:acme/web#2"]
    assert task_ids_for_keys(keys, "gh", jira_source="jira") == ["jira:ERP-1", "gh:acme/web#2"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Epic", "epic"), ("史诗", "epic"),
        ("Story", "feature"), ("New Feature", "feature"), ("Improvement", "feature"), ("需求", "feature"),
        ("Task", "task"), ("任务", "task"), ("Question", "task"), (None, "task"),
        ("Sub-task", "subtask"), ("Subtask", "subtask"), ("子任务", "subtask"), ("Technical sub-task", "subtask"),
        ("Bug", "bug"), ("缺陷", "bug"), ("Production Bug", "bug"),
    ],
)
def test_type_category_for(name, expected):
    assert type_category_for(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Open", "todo"), ("To Do", "todo"), ("Backlog", "todo"), ("待办", "todo"), ("Reopened", "todo"),
        ("In Progress", "in_progress"), ("In Review", "in_progress"), ("Patch Available", "in_progress"),
        ("进行中", "in_progress"),
        ("Done", "done"), ("Closed", "done"), ("Resolved", "done"), ("完成", "done"), ("已关闭", "done"),
        ("Waiting for Godot", None), (None, None),
    ],
)
def test_status_category_for(name, expected):
    assert status_category_for(name) == expected


def test_merge_identities_keeps_first_non_empty_values():
    rows = [
        {"identity_id": "s:a", "source": "s", "account": "a", "display_name": "A", "email": None},
        {"identity_id": "s:a", "source": "s", "account": "a", "display_name": "Other", "email": "a@x.org"},
        {"identity_id": "s:b", "source": "s", "account": "b", "display_name": None, "email": None},
    ]
    merged = merge_identities(rows)
    assert [r["identity_id"] for r in merged] == ["s:a", "s:b"]
    assert merged[0]["display_name"] == "A"
    assert merged[0]["email"] == "a@x.org"


# --- Bounds (SCHEMA.md, "Quarantine") ---

KEYS = {"tasks": ("task_id",), "worklogs": ("worklog_id",), "status_changes": ("change_id",)}


def _rows() -> dict:
    return {
        "tasks": [{"task_id": "s:P-1", "title": "ok", "due_date": date(2024, 1, 2), "story_points": 3.0,
                   "estimate_hours": 8.0, "labels": ["a"], "created_at": datetime(2024, 1, 1)}],
        "worklogs": [{"worklog_id": "s:1", "started_at": datetime(2024, 1, 1), "hours": 2.5},
                     {"worklog_id": "s:2", "started_at": datetime(2024, 1, 1), "hours": 168.0},
                     {"worklog_id": "s:3", "started_at": datetime(2024, 1, 1), "hours": 0.0}],
    }


def test_values_within_bounds_pass_untouched():
    rows = _rows()
    assert enforce_bounds(rows, KEYS) == []
    assert rows == _rows()


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("due_date", date(1, 1, 1), "value nulled: 0001-01-01 is before 1900-01-01"),
        ("created_at", datetime(9999, 12, 31, 23, 0), "value nulled: 9999-12-31 is after 2200-12-31"),
        ("story_points", 1e9, "value nulled: 1,000,000,000 points is over the bound of 1,000 points"),
        ("story_points", -1.0, "value nulled: -1 points is below 0"),
        ("estimate_hours", float("nan"), "value nulled: nan is not a number"),
        ("spent_hours", MAX_TASK_HOURS + 1, "value nulled: 100,001 h is over the bound of 100,000 h"),
    ],
)
def test_a_task_value_out_of_bounds_is_nulled_with_the_reason(column, value, reason):
    rows = _rows()
    rows["tasks"][0][column] = value
    assert enforce_bounds(rows, KEYS) == [Finding("field", f"tasks.{column}", "s:P-1", reason)]
    assert rows["tasks"][0][column] is None and rows["tasks"][0]["title"] == "ok"


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("hours", -5.0, "row rejected: -5 h is below 0"),
        ("hours", 10**12 / 3600, "row rejected: 277,777,778 h is over the bound of 168 h"),
        ("hours", float("inf"), "row rejected: inf is not a number"),
        ("started_at", datetime(1, 1, 1), "row rejected: 0001-01-01 is before 1900-01-01"),
    ],
)
def test_a_worklog_out_of_bounds_is_rejected_alone(column, value, reason):
    rows = _rows()
    rows["worklogs"][1][column] = value
    assert enforce_bounds(rows, KEYS) == [Finding("record", f"worklogs.{column}", "s:2", reason)]
    assert [w["worklog_id"] for w in rows["worklogs"]] == ["s:1", "s:3"]
    assert len(rows["tasks"]) == 1


def test_lone_surrogates_in_text_and_lists_are_replaced():
    rows = _rows()
    rows["tasks"][0].update(title="bad \ud800 title", labels=["ok", "x\udfff"], description="中文 fine")
    findings = enforce_bounds(rows, KEYS)
    assert [(f.kind, f.field) for f in findings] == [("field", "tasks.title"), ("field", "tasks.labels")]
    assert rows["tasks"][0]["title"] == "bad \ufffd title" and rows["tasks"][0]["labels"] == ["ok", "x\ufffd"]
    assert rows["tasks"][0]["description"] == "中文 fine"
    "".join(rows["tasks"][0]["labels"]).encode("utf-8")


def test_timestamps_beyond_what_utc_conversion_can_reach_are_kept_to_be_rejected():
    assert to_utc("0001-01-01T00:00:00.000+0800") == datetime(1, 1, 1)
    assert to_utc("9999-12-31T23:00:00.000-0500") == datetime(9999, 12, 31, 23, 0)
    rows = {"tasks": [{"task_id": "s:P-1", "created_at": to_utc("0001-01-01T00:00:00+08:00")}]}
    assert enforce_bounds(rows, KEYS)[0].reason == "value nulled: 0001-01-01 is before 1900-01-01"
