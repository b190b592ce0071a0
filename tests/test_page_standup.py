"""Stand-up page: check-ins, the team view and blockers turned into risks, on a private demo snapshot.

Expected values come from SQL on the same snapshot (with the edits store
overlaid), not from the page's own functions.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import data
from dashboards.common import PageContext
from dashboards.i18n import t
from dashboards.logic import standup as logic
from tests.dashboard_app import APP, TIMEOUT, run_page
from warehouse.db import edit_rows, edits_version, read_frame, save_edit
from warehouse.settings import Settings

PAGE = "app_pages/standup.py"


def _ctx(settings: Settings) -> PageContext:
    return PageContext(settings, data.snapshot_key(settings), edits_version(settings))


def _today() -> date:
    """The page's default day: today in the browser's zone, which AppTest leaves at UTC."""
    return datetime.now(timezone.utc).date()


def _busiest(settings: Settings) -> tuple[str, str, list[str]]:
    """The person with the most tasks in progress: (person_id, display_name, their in-progress task ids)."""
    busiest = read_frame(
        settings,
        "SELECT p.person_id, p.display_name, list(t.task_id ORDER BY t.task_id) AS tasks "
        "FROM people AS p JOIN tasks AS t ON t.assignee_id = p.person_id "
        "WHERE t.status_category = 'in_progress' AND NOT t.is_deleted "
        "GROUP BY ALL ORDER BY len(tasks) DESC, p.person_id LIMIT 1",
    )
    person_id, name, tasks = busiest.row(0)
    return person_id, name, tasks


def _people_count(settings: Settings) -> int:
    return int(read_frame(settings, "SELECT count(*) FROM people").item())


# ------------------------------------------------------------------ logic


def test_checkin_validation_and_rows() -> None:
    today = date(2026, 6, 15)
    tomorrow = today + timedelta(days=1)
    problems = logic.validate_checkin(logic.CheckIn("ghost", tomorrow), {"p1"}, today)
    assert [p.key for p in problems] == ["standup.err.unknown_person", "standup.err.future_day", "standup.err.empty"]
    problems = logic.validate_checkin(logic.CheckIn("p1", today, blockers="x" * 5000), {"p1"}, today)
    assert [p.key for p in problems] == ["standup.err.too_long"]
    entry = logic.CheckIn("p1", today, " did A ", "", "")
    assert logic.validate_checkin(entry, {"p1"}, today) == []
    created = datetime(2026, 6, 15, 1, 0)
    row = logic.checkin_row(entry, {"created_at": created}, datetime(2026, 6, 15, 2, 0))
    assert row["standup_id"] == "p1:2026-06-15" == logic.standup_id("p1", today)
    assert (row["yesterday"], row["today"], row["blockers"], row["created_at"]) == ("did A", None, None, created)


def test_blockers_split_per_line_and_become_rows_with_defaults() -> None:
    assert logic.split_blockers("- DBA access\n\n2) test env down\n• DBA access\n") == ["DBA access", "test env down"]
    wip = pl.DataFrame({"task_id": ["a", "b", "c"], "project_key": ["DP", "ERP", "DP"]})
    standup = {"standup_id": "p1:2026-06-15", "person_id": "p1", "day": "2026-06-15"}
    now = datetime(2026, 6, 15, 9, 0)
    risk = logic.blocker_risk_row("risk", standup, "DBA access", wip, "lead", now)
    issue = logic.blocker_risk_row("issue", standup, "DBA access", wip.clear(), "lead", now)
    assert (risk["category"], risk["probability"], risk["impact"], risk["score"]) == ("schedule", 3, 3, 9)
    assert (issue["category"], issue["probability"], issue["score"]) == ("issue", 5, 15)
    assert (risk["owner_id"], risk["project_key"], risk["linked_task_ids"]) == ("p1", "DP", ["a", "b", "c"])
    assert (issue["project_key"], issue["linked_task_ids"], issue["status"]) == (None, [], "open")
    assert risk["due_date"] == date(2026, 6, 22) and issue["due_date"] == date(2026, 6, 17)
    assert risk["risk_id"] == logic.blocker_risk_id("p1:2026-06-15", "DBA access", "risk") != issue["risk_id"]
    assert len(logic.blocker_title("x" * 500)) == 200
    with pytest.raises(ValueError):
        logic.blocker_risk_row("rumour", standup, "x", wip, "lead", now)


def test_team_day_counts_people_and_work_in_progress(demo_app: Settings) -> None:
    person, _, tasks = _busiest(demo_app)
    day = date(2026, 6, 15)
    save_edit(demo_app, "standups", {"standup_id": logic.standup_id(person, day), "person_id": person, "day": day,
                                     "blockers": "VPN down"}, "seed")
    team = logic.team_day(_ctx(demo_app), day)
    assert team.height == _people_count(demo_app) == team["people_total"][0]
    mine = team.filter(pl.col("person_id") == person).row(0, named=True)
    assert mine["checked_in"] and mine["blockers"] == "VPN down" and mine["wip_count"] == len(tasks)
    (summary,) = logic.team_summaries(team)
    assert (summary.team, summary.checked_in, summary.blockers, summary.total) == (None, 1, 1, team.height)
    assert len(summary.missing) == team.height - 1
    assert sorted(logic.in_progress(_ctx(demo_app), person, limit=100)["task_id"].to_list()) == tasks
    assert logic.team_day(_ctx(demo_app), day - timedelta(days=1))["checked_in"].sum() == 0


# ------------------------------------------------------------------ the page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_renders_the_team_view_in_both_languages(demo_app: Settings, lang: str) -> None:
    person, name, tasks = _busiest(demo_app)
    today = _today()
    save_edit(demo_app, "standups", {"standup_id": logic.standup_id(person, today), "person_id": person,
                                     "day": today, "yesterday": "fixed login", "blockers": "waiting for DBA"}, "seed")
    at = run_page(PAGE, lang)
    total = _people_count(demo_app)
    assert at.title[0].value == t("standup.title", lang)
    assert [m.value for m in at.metric] == [f"1 / {total}", str(total - 1), "1"]
    assert [m.label for m in at.metric] == [t(k, lang) for k in
                                            ("standup.col.checked_in", "standup.metric.missing",
                                             "standup.metric.blockers")]
    team = at.dataframe[-1].value
    assert team.shape[0] == total
    row = team[team["display_name"] == name].iloc[0]
    assert bool(row["checked_in"]) and row["blockers"] == "waiting for DBA" and row["wip_count"] == len(tasks)
    assert any(name in w.value and "waiting for DBA" in w.value for w in at.warning)
    assert [b.label for b in at.button if b.key and b.key.startswith("standup.to_")] == [
        t("standup.to_risk", lang), t("standup.to_issue", lang),
    ]


def test_checkin_round_trip_then_blocker_to_risk_and_issue(demo_app: Settings) -> None:
    person, name, tasks = _busiest(demo_app)
    today = _today()
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["actor"] = name
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.selectbox(key="standup.person").value == person
    assert at.date_input(key="standup.day").value == today
    assert 0 < len(tasks) <= logic.WIP_LIMIT
    assert at.dataframe[0].value["source_key"].tolist()
    assert len(at.dataframe[0].value) == len(tasks)

    at.button(key="standup.save").click().run()
    assert t("standup.err.empty", "zh") in at.error[0].value
    assert edit_rows(demo_app, "standups") == []

    at.text_area(key="standup.f.yesterday").input("接口联调")
    at.text_area(key="standup.f.today").input("修复登录")
    at.text_area(key="standup.f.blockers").input("- 等待 DBA 开通权限\n- 测试环境宕机")
    at.button(key="standup.save").click().run()
    assert [w.value for w in at.warning] == [t("standup.confirm_first", "zh")]
    assert edit_rows(demo_app, "standups") == []

    at.checkbox(key="standup.f.confirm").check()
    at.button(key="standup.save").click().run()
    assert not at.exception and not at.error
    (row,) = edit_rows(demo_app, "standups")
    standup = logic.standup_id(person, today)
    assert (row["standup_id"], row["person_id"], row["day"]) == (standup, person, today.isoformat())
    assert (row["yesterday"], row["today"]) == ("接口联调", "修复登录")
    (entry,) = edit_rows(demo_app, "audit_log")
    assert (entry["actor"], entry["table_name"], entry["row_key"], entry["before"]) == (
        name, "standups", standup, None)
    assert at.success[0].value.startswith(t("msg.saved", "zh"))
    team = at.dataframe[-1].value
    assert bool(team[team["display_name"] == name].iloc[0]["checked_in"])
    assert at.metric[0].value == f"1 / {_people_count(demo_app)}"

    at.text_area(key="standup.f.today").input("修复登录并发布")
    at.checkbox(key="standup.f.confirm").check()
    at.button(key="standup.save").click().run()
    (row,) = edit_rows(demo_app, "standups")
    assert row["today"] == "修复登录并发布"
    update = edit_rows(demo_app, "audit_log")[-1]
    assert json.loads(update["before"])["today"] == "修复登录"
    assert json.loads(update["after"])["today"] == "修复登录并发布"

    risk_id = logic.blocker_risk_id(standup, "等待 DBA 开通权限", "risk")
    at.button(key=f"standup.to_risk.{risk_id}").click().run()
    assert not at.exception and not at.error
    (risk,) = edit_rows(demo_app, "risks")
    assert (risk["risk_id"], risk["category"], risk["owner_id"], risk["title"]) == (
        risk_id, "schedule", person, "等待 DBA 开通权限")
    assert sorted(json.loads(risk["linked_task_ids"])) == tasks
    assert risk["updated_by"] == name
    assert risk_id in at.success[0].value
    assert at.get("page_link")
    assert f"standup.to_risk.{risk_id}" not in [b.key for b in at.button]

    issue_id = logic.blocker_risk_id(standup, "测试环境宕机", "issue")
    at.button(key=f"standup.to_issue.{issue_id}").click().run()
    issue = next(r for r in edit_rows(demo_app, "risks") if r["risk_id"] == issue_id)
    assert (issue["category"], issue["probability"], issue["status"]) == ("issue", 5, "open")
    assert len(edit_rows(demo_app, "audit_log")) == 4

    at.switch_page("app_pages/risks.py").run()
    assert not at.exception
    assert at.selectbox(key="risks.pick").value == issue_id
    assert at.text_input(key="risks.f.title").value == "测试环境宕机"
    at.switch_page(PAGE).run()
    assert at.text_area(key="standup.f.today").value == "修复登录并发布"

    risks_page = run_page("app_pages/risks.py", "en")
    register = risks_page.dataframe[0].value
    assert set(register["risk_id"]) == {risk_id, issue_id}
    kinds = dict(zip(register["risk_id"], register["category"]))
    assert kinds == {risk_id: t("risks.category.schedule", "en"), issue_id: t("risks.category.issue", "en")}
