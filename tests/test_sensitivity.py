"""Sensitive tasks (issue #14): Jira security levels, the is_sensitive transform, the demo's confidential work."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import duckdb
import pytest

from pipelines.jira.parse import parse_issue
from warehouse.db import apply_migrations
from warehouse.load import load_rows
from warehouse.marts import mark_sensitive
from warehouse.settings import DEMO_ACCESS_RULES, ROLE_ORDER, SensitivitySettings, default_demo_settings, load_settings

APACHE_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "jira-apache-2015"


def _recorded_issue() -> dict:
    """A real Apache issue (expand=changelog) when the shared data is there, else the same shape by hand."""
    path = APACHE_DIR / "ANY23-174_CL.json"
    if path.is_file():
        return json.loads(path.read_bytes().decode("utf-8", errors="replace"))
    return {"id": "10001", "key": "ANY23-174", "self": "https://issues.apache.org/jira/rest/api/2/issue/10001",
            "fields": {"summary": "s", "project": {"key": "ANY23"}, "status": {"name": "Open"},
                       "issuetype": {"name": "Bug"}, "created": "2015-01-02T03:04:05.000+0000"},
            "changelog": {"histories": []}}


@pytest.mark.parametrize("security, expected", [
    ({"self": "https://issues.apache.org/jira/rest/api/2/securitylevel/10220", "id": "10220",
      "description": "Only committers", "name": "Committers"}, "Committers"),
    ({"id": "10220"}, "10220"),
    ({"id": 10220, "name": " "}, "10220"),
    ({}, None),
    (None, None),
])
def test_jira_security_level_is_parsed_from_the_issue_fields(security, expected):
    issue = copy.deepcopy(_recorded_issue())
    if security is not None:
        issue["fields"]["security"] = security
    else:
        issue["fields"].pop("security", None)
    (task,) = parse_issue(issue, "apache")["tasks"]
    assert task["security_level"] == expected
    assert "is_sensitive" not in task  # derived after the load, never parsed


def _task(task_id: str, labels: list[str] | None = None, security_level: str | None = None) -> dict:
    return {"task_id": task_id, "source": "t", "source_key": task_id, "project_key": "P", "title": task_id,
            "labels": labels, "security_level": security_level}


@pytest.fixture
def con():
    con = duckdb.connect()
    apply_migrations(con)
    load_rows(con, "t", {"tasks": [
        _task("plain", ["backend"]),
        _task("upper", ["Confidential"]),
        _task("chinese", ["需求变更", "机密"]),
        _task("secured", [], "Internal"),
        _task("nolabels", None),
    ]})
    yield con
    con.close()


def _sensitive(con) -> set[str]:
    return {row[0] for row in con.execute("SELECT task_id FROM tasks WHERE is_sensitive").fetchall()}


def test_transform_marks_labels_case_insensitively_and_security_levels(con):
    assert mark_sensitive(con, SensitivitySettings()) == 3
    assert _sensitive(con) == {"upper", "chinese", "secured"}
    assert con.execute("SELECT count(*) FROM tasks WHERE is_sensitive IS NULL").fetchall()[0][0] == 0
    assert mark_sensitive(con, SensitivitySettings()) == 0  # idempotent: nothing left to write


def test_transform_unmarks_when_the_rules_change(con):
    mark_sensitive(con, SensitivitySettings())
    assert mark_sensitive(con, SensitivitySettings(labels=["CONFIDENTIAL"], jira_security_levels=False)) == 2
    assert _sensitive(con) == {"upper"}
    mark_sensitive(con, SensitivitySettings(labels=[], jira_security_levels=False))
    assert _sensitive(con) == set()
    mark_sensitive(con, SensitivitySettings(labels=["backend"]))
    assert _sensitive(con) == {"plain", "secured"}


def test_a_resync_neither_resets_nor_counts_is_sensitive(con):
    mark_sensitive(con, SensitivitySettings())
    report = load_rows(con, "t", {"tasks": [_task("upper", ["Confidential"]), _task("secured", [], "Internal")]})
    assert report.counts("tasks").updated == 0
    assert _sensitive(con) == {"upper", "chinese", "secured"}


def test_demo_warehouse_has_confidential_tasks_in_several_projects(demo_company_config):
    settings = load_settings(demo_company_config)
    con = duckdb.connect(str(settings.warehouse.published_path), read_only=True)
    try:
        rows = con.execute("""SELECT project_key, title, list_contains(labels, 'confidential'),
                                     (SELECT count(*) FROM worklogs w WHERE w.task_id = t.task_id)
                              FROM tasks t WHERE is_sensitive ORDER BY task_id""").fetchall()
        unmarked = con.execute("""SELECT count(*) FROM tasks
                                  WHERE list_contains(labels, 'confidential') AND NOT is_sensitive""").fetchall()[0][0]
    finally:
        con.close()
    assert 4 <= len(rows) <= 8
    assert all(labelled for _, _, labelled, _ in rows)
    assert len({project for project, *_ in rows}) >= 2
    assert any("安全审计" in title for _, title, _, _ in rows)
    assert any(worklogs for *_, worklogs in rows)
    assert unmarked == 0


def test_demo_settings_have_a_rule_for_every_role(tmp_path):
    settings = default_demo_settings(tmp_path)
    assert {rule.role for rule in settings.access} == set(ROLE_ORDER)
    assert len(settings.access) == len(DEMO_ACCESS_RULES)
    by_role = {rule.role: rule for rule in settings.access}
    assert by_role["admin"].projects == ["*"] and by_role["pmo"].projects == ["*"]
    assert by_role["manager"].projects == ["ERP"]
    assert set(by_role["member"].projects) == {"ERP", "DP"}
    assert by_role["viewer"].projects == ["OPS"]
