"""The loader merges by key: unchanged rows are not rewritten, children follow their task."""

from datetime import datetime

import pytest

from warehouse.db import open_writer
from warehouse.identity import assign_people, resolve_people
from warehouse.load import load_rows, row_problems, upsert


def _task(key: str, title: str = "t", **extra) -> dict:
    row = {"task_id": f"s:{key}", "source": "s", "source_key": key, "project_key": "P", "title": title}
    row.update(extra)
    return row


def test_upsert_counts_inserted_updated_and_leaves_identical_rows(empty_settings):
    with open_writer(empty_settings) as con:
        first = upsert(con, "tasks", [_task("P-1"), _task("P-2", labels=["a", "b"])])
        assert (first.inserted, first.updated) == (2, 0)
        again = upsert(con, "tasks", [_task("P-1"), _task("P-2", labels=["a", "b"])])
        assert (again.inserted, again.updated) == (0, 0)
        changed = upsert(con, "tasks", [_task("P-1", title="new"), _task("P-3")])
        assert (changed.inserted, changed.updated) == (1, 1)
        assert con.execute("SELECT title FROM tasks WHERE task_id = 's:P-1'").fetchone()[0] == "new"
        assert con.execute("SELECT count(*) FROM tasks").fetchone()[0] == 3


def test_duplicate_keys_in_one_batch_keep_the_last(empty_settings):
    with open_writer(empty_settings) as con:
        counts = upsert(con, "tasks", [_task("P-1", title="old"), _task("P-1", title="last")])
        assert counts.received == 1
        assert con.execute("SELECT title FROM tasks").fetchall() == [("last",)]


def test_wrong_type_names_table_column_and_value(empty_settings):
    with open_writer(empty_settings) as con, pytest.raises(ValueError, match=r"tasks\.estimate_hours.*'lots'"):
        upsert(con, "tasks", [_task("P-1", estimate_hours="lots")])


def test_resynced_task_drops_children_its_payload_no_longer_has(empty_settings):
    change = {"task_id": "s:P-1", "changed_at": datetime(2024, 1, 1), "source": "s", "to_status": "Done"}
    with open_writer(empty_settings) as con:
        load_rows(con, "s", {
            "tasks": [_task("P-1"), _task("P-2")],
            "status_changes": [dict(change, change_id="c1"), dict(change, change_id="c2")],
            "task_links": [{"from_task_id": "s:P-1", "to_task_id": "s:P-2", "link_type": "blocks", "source": "s"}],
        })
        report = load_rows(con, "s", {"tasks": [_task("P-1")], "status_changes": [dict(change, change_id="c1")]})
        assert report.tables["status_changes"].deleted == 1
        assert report.tables["task_links"].deleted == 1
        assert report.tables["tasks"].inserted == report.tables["tasks"].updated == 0
        assert con.execute("SELECT change_id FROM status_changes").fetchall() == [("c1",)]


def test_people_merge_by_email_then_username_then_display_name():
    identities = [
        {"identity_id": "jira:zwei", "account": "zwei", "display_name": "张伟", "email": "Zhang.Wei@acme.cn"},
        {"identity_id": "github:zw", "account": "zw", "display_name": "Zhang Wei", "email": "zhang.wei@acme.cn"},
        {"identity_id": "gitlab:zwei", "account": "zwei", "display_name": None, "email": None},
        {"identity_id": "sheet:张伟", "account": "张伟", "display_name": "张伟", "email": None},
        {"identity_id": "jira:li", "account": "li", "display_name": "Li Na", "email": None},
    ]
    person_of = assign_people(identities)
    assert {person_of[i] for i in ("jira:zwei", "github:zw", "gitlab:zwei", "sheet:张伟")} == {"zhang.wei@acme.cn"}
    assert person_of["jira:li"] == "name:li na"
    manual = assign_people(identities, {"gitlab:zwei": "someone.else@acme.cn"})
    assert manual["gitlab:zwei"] == "someone.else@acme.cn"


def test_resolving_people_rewrites_references_when_accounts_merge(empty_settings):
    with open_writer(empty_settings) as con:
        upsert(con, "identities", [{"identity_id": "s:li", "source": "s", "account": "li", "display_name": "Li Na"}])
        person_of, _ = resolve_people(con)
        upsert(con, "tasks", [_task("P-1", assignee_id=person_of["s:li"])])
        upsert(con, "identities", [
            {"identity_id": "g:lina", "source": "g", "account": "lina", "display_name": "Li Na", "email": "li.na@acme.cn"}
        ])
        resolve_people(con)
        assert con.execute("SELECT assignee_id FROM tasks").fetchone()[0] == "li.na@acme.cn"
        assert con.execute("SELECT person_id FROM people").fetchall() == [("li.na@acme.cn",)]


def _worklog(worklog_id: str, task: str = "s:P-1", origin: str = "jira", hours: float = 1.0) -> dict:
    return {"worklog_id": worklog_id, "task_id": task, "started_at": datetime(2024, 1, 2), "hours": hours,
            "source": "s", "origin": origin}


def test_resynced_task_drops_worklogs_its_payload_no_longer_has_but_not_timesheet_rows(empty_settings):
    with open_writer(empty_settings) as con:
        load_rows(con, "s", {"tasks": [_task("P-1"), _task("P-2")],
                             "worklogs": [_worklog("w1"), _worklog("w2"), _worklog("w3", task="s:P-2"),
                                          _worklog("t1", origin="timesheet")]})
        report = load_rows(con, "s", {"tasks": [_task("P-1")], "worklogs": [_worklog("w1")]})
        assert report.tables["worklogs"].deleted == 1
        assert [r[0] for r in con.execute("SELECT worklog_id FROM worklogs ORDER BY 1").fetchall()] == ["t1", "w1", "w3"]


def test_row_problems_name_the_rows_a_load_would_fail_on(empty_settings):
    rows = [_worklog("w1"), _worklog("w2", hours="lots"), {**_worklog("w3"), "started_at": None},
            {**_worklog("w4"), "comment": "bad \ud800"}]
    with open_writer(empty_settings) as con:
        problems = dict(row_problems(con, "worklogs", rows))
        assert sorted(problems) == [1, 2, 3]
        assert problems[1].startswith("worklogs.hours: expected double, got 'lots'")
        assert problems[2] == "worklogs.started_at is missing"
        assert problems[3].startswith("worklogs.comment: expected string")
        assert row_problems(con, "worklogs", rows[:1]) == []
        assert row_problems(con, "nonsense", rows[:1]) == [(0, "no table 'nonsense' to load into")]
        assert row_problems(con, "tasks", [_task("P-1")]) == [], "defaults (is_deleted) are not required"
