"""Plan editor: task and dependency edits, validation, baselines, levelling and exports, on a private demo snapshot.

Each write goes through the page's widgets (AppTest cannot edit data_editor
cells, so the single-task form is the path under test), then is checked in
the edits store, the audit log and, in a new app session, on the Gantt page.
"""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import polars as pl
import pytest
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from dashboards.i18n import t
from dashboards.logic import gantt as schedule_logic
from dashboards.logic import plan as logic
from models.planning.calendar import WorkCalendar
from models.planning.mspdi import read_mspdi
from tests.dashboard_app import run_page
from tests.markdown_text import shown
from warehouse.db import EditChange, edit_rows, read_frame, save_edits
from warehouse.settings import Settings

PAGE = "app_pages/plan.py"
GANTT = "app_pages/gantt.py"
ACTOR = "alice@acme.cn"


def _flat_project(settings: Settings) -> str:
    """The project whose tasks have no WBS parents, so every task is a row on the Gantt."""
    return read_frame(
        settings,
        "SELECT project_key FROM tasks GROUP BY 1 HAVING count(parent_task_id) = 0 ORDER BY 1 LIMIT 1",
    )["project_key"][0]


def _todo_task(settings: Settings, project: str) -> dict:
    return read_frame(
        settings,
        """SELECT task_id, source_key, title, planned_start, planned_finish, assignee_id, estimate_hours
           FROM tasks WHERE project_key = ? AND status_category = 'todo' AND NOT is_deleted
             AND NOT EXISTS (SELECT 1 FROM tasks c WHERE c.parent_task_id = tasks.task_id)
           ORDER BY task_id LIMIT 1""",
        [project],
    ).row(0, named=True)


def _leaf_link(settings: Settings) -> tuple[str, str, str]:
    """(project, predecessor, successor) of a tool dependency between two leaf tasks."""
    return read_frame(
        settings,
        """SELECT t.project_key, l.from_task_id, l.to_task_id FROM task_links l JOIN tasks t ON t.task_id = l.from_task_id
           WHERE l.link_type IN ('blocks', 'depends_on')
             AND l.from_task_id NOT IN (SELECT parent_task_id FROM tasks WHERE parent_task_id IS NOT NULL)
             AND l.to_task_id NOT IN (SELECT parent_task_id FROM tasks WHERE parent_task_id IS NOT NULL)
           ORDER BY 1, 2, 3 LIMIT 1""",
    ).row(0)


def _label(settings: Settings, task_id: str) -> str:
    key, title = read_frame(settings, "SELECT source_key, title FROM tasks WHERE task_id = ?", [task_id]).row(0)
    return f"{key} {title}"


def _person(settings: Settings, not_this: str | None) -> str:
    return read_frame(
        settings, "SELECT person_id FROM people WHERE person_id IS DISTINCT FROM ? ORDER BY person_id LIMIT 1",
        [not_this],
    )["person_id"][0]


def _open(project: str, lang: str = "en") -> AppTest:
    at = run_page(PAGE, lang)
    at.sidebar.text_input(key="actor").input(ACTOR).run()
    at.selectbox(key="plan_project").select(project).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _errors(at: AppTest) -> str:
    return "\n".join(shown(e.value) for e in at.error)


# ------------------------------------------------------------------ page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_plan_page_renders_in_both_languages(demo_app: Settings, lang: str) -> None:
    at = run_page(PAGE, lang)
    at.selectbox(key="plan_project").select("ERP").run()
    assert not at.exception
    assert at.title[0].value == t("plan.title", lang)
    assert [tab.label for tab in at.tabs] == [t(key, lang) for key in logic.TAB_LABELS]
    leaves = read_frame(
        demo_app,
        """SELECT count(*) AS n FROM tasks t WHERE project_key = 'ERP' AND NOT is_deleted
             AND NOT EXISTS (SELECT 1 FROM tasks c WHERE c.parent_task_id = t.task_id AND NOT c.is_deleted)""",
    )["n"][0]
    assert len(at.selectbox(key="plan_task").options) == leaves
    links = read_frame(
        demo_app,
        """SELECT count(*) AS n FROM task_links l
           WHERE l.link_type IN ('blocks', 'depends_on')
             AND l.from_task_id IN (SELECT task_id FROM tasks WHERE project_key = 'ERP')
             AND l.to_task_id IN (SELECT task_id FROM tasks WHERE project_key = 'ERP')""",
    )["n"][0]
    tables = [d.value for d in at.dataframe]
    dependency_table = next(f for f in tables if t("plan.dep_from", lang) in f.columns or "from_label" in f.columns)
    assert len(dependency_table) == links
    assert len(at.get("download_button")) == 3


def test_task_edit_round_trip_reaches_the_gantt(demo_app: Settings) -> None:
    project = _flat_project(demo_app)
    task = _todo_task(demo_app, project)
    owner = _person(demo_app, task["assignee_id"])
    at = _open(project)
    at.selectbox(key="plan_task").select(task["task_id"]).run()
    assert at.date_input(key="plan_start").value == task["planned_start"]
    assert at.selectbox(key="plan_owner").value == (task["assignee_id"] or "")

    at.date_input(key="plan_start").set_value(date(2027, 3, 1))
    at.date_input(key="plan_finish").set_value(date(2027, 3, 12))
    at.selectbox(key="plan_owner").select(owner)
    at.number_input(key="plan_estimate").set_value(30.0)
    at.checkbox(key="plan_task_confirm").check()
    at.button(key="plan_task_save").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [t("plan.saved_tasks", "en", count=1)]
    assert at.checkbox(key="plan_task_confirm").value is False

    rows = edit_rows(demo_app, "plan_tasks")
    assert len(rows) == 1
    assert rows[0] | {"updated_at": None} == {
        "task_id": task["task_id"], "planned_start": "2027-03-01", "planned_finish": "2027-03-12",
        "assignee_id": owner, "estimate_hours": 30.0, "updated_at": None, "updated_by": ACTOR,
    }
    audit = edit_rows(demo_app, "audit_log")
    assert [(a["actor"], a["table_name"], a["row_key"], a["before"]) for a in audit] == [
        (ACTOR, "plan_tasks", task["task_id"], None)
    ]
    assert json.loads(audit[0]["after"])["planned_start"] == "2027-03-01"

    # a second edit records what it replaced
    at.number_input(key="plan_estimate").set_value(36.0)
    at.checkbox(key="plan_task_confirm").check()
    at.button(key="plan_task_save").click().run()
    audit = edit_rows(demo_app, "audit_log")
    assert len(audit) == 2
    assert json.loads(audit[1]["before"])["estimate_hours"] == 30.0
    assert json.loads(audit[1]["after"])["estimate_hours"] == 36.0
    history = next(d.value for d in at.dataframe if "task_key" in d.value.columns and "updated_by" in d.value.columns)
    assert task["source_key"] in list(history["task_key"])

    gantt = run_page(GANTT, "en")
    gantt.selectbox(key="gantt_project").select(project).run()
    from tests.test_page_gantt import _chart

    _, bars = _chart(gantt)
    row = bars.filter(pl.col("task_id") == task["task_id"]).row(0, named=True)
    assert (row["start"], row["finish"]) == (date(2027, 3, 1), date(2027, 3, 12))
    names = dict(read_frame(demo_app, "SELECT person_id, display_name FROM people").iter_rows())
    assert row["assignee"] == names[owner]


def test_bad_task_edits_are_refused_with_every_reason_and_nothing_saved(demo_app: Settings) -> None:
    project = _flat_project(demo_app)
    task = _todo_task(demo_app, project)
    at = _open(project)
    at.selectbox(key="plan_task").select(task["task_id"]).run()
    at.date_input(key="plan_start").set_value(date(2027, 3, 10))
    at.date_input(key="plan_finish").set_value(date(2027, 3, 1))
    at.number_input(key="plan_estimate").set_value(-4.0)
    at.button(key="plan_task_save").click().run()
    assert [w.value for w in at.warning] == [t("plan.confirm_needed", "en")]

    at.checkbox(key="plan_task_confirm").check()
    at.button(key="plan_task_save").click().run()
    label = f"{task['source_key']} {task['title']}"
    errors = _errors(at)
    assert t("plan.problem.finish_before_start", "en", task=label, start="2027-03-10", finish="2027-03-01") in errors
    assert t("plan.problem.negative_estimate", "en", task=label, value=-4.0) in errors

    at.sidebar.text_input(key="actor").input("").run()
    at.checkbox(key="plan_task_confirm").check()
    at.button(key="plan_task_save").click().run()
    assert t("msg.no_actor", "en") in [w.value for w in at.warning]
    assert edit_rows(demo_app, "plan_tasks") == []
    assert edit_rows(demo_app, "audit_log") == []


def test_dependency_cycle_is_refused_and_links_can_be_added_and_removed(demo_app: Settings) -> None:
    project, first, second = _leaf_link(demo_app)
    at = _open(project)
    at.selectbox(key="plan_dep_from").select(second)
    at.selectbox(key="plan_dep_to").select(first)
    at.checkbox(key="plan_dep_confirm").check()
    at.button(key="plan_dep_save").click().run()
    path = " → ".join(_label(demo_app, x) for x in (second, first, second))
    assert t("plan.problem.cycle", "en", path=path) in _errors(at)

    at.selectbox(key="plan_dep_to").select(second)
    at.checkbox(key="plan_dep_confirm").check()
    at.button(key="plan_dep_save").click().run()
    assert t("plan.problem.self_dependency", "en", task=_label(demo_app, second)) in _errors(at)
    assert edit_rows(demo_app, "plan_dependencies") == []

    # a new SS link with a lag, then the tool's link removed
    other = read_frame(
        demo_app,
        """SELECT task_id FROM tasks t WHERE project_key = ? AND task_id NOT IN (?, ?)
             AND NOT EXISTS (SELECT 1 FROM tasks c WHERE c.parent_task_id = t.task_id)
           ORDER BY task_id LIMIT 1""",
        [project, first, second],
    )["task_id"][0]
    at.selectbox(key="plan_dep_from").select(second)
    at.selectbox(key="plan_dep_to").select(other)
    at.selectbox(key="plan_dep_type").select("SS")
    at.number_input(key="plan_dep_lag").set_value(2.0)
    at.checkbox(key="plan_dep_confirm").check()
    at.button(key="plan_dep_save").click().run()
    assert [s.value for s in at.success] == [t("plan.dep_saved", "en")]

    at.selectbox(key="plan_dep_from").select(first)
    at.selectbox(key="plan_dep_to").select(second)
    at.radio(key="plan_dep_action").set_value("remove")
    at.checkbox(key="plan_dep_confirm").check()
    at.button(key="plan_dep_save").click().run()
    assert not _errors(at)
    stored = {(r["from_task_id"], r["to_task_id"]): r for r in edit_rows(demo_app, "plan_dependencies")}
    assert (stored[(second, other)]["dependency"], stored[(second, other)]["lag_days"],
            stored[(second, other)]["is_deleted"]) == ("SS", 2.0, 0)
    assert stored[(first, second)]["is_deleted"] == 1
    assert {a["actor"] for a in edit_rows(demo_app, "audit_log")} == {ACTOR}

    links = schedule_logic.load_project_schedule(demo_app, project).links
    pairs = set(zip(links["from_task_id"], links["to_task_id"]))
    assert (second, other) in pairs and (first, second) not in pairs

    at.radio(key="plan_dep_action").set_value("remove")
    at.checkbox(key="plan_dep_confirm").check()
    at.button(key="plan_dep_save").click().run()
    assert t("plan.problem.no_such_dependency", "en", **{"from": _label(demo_app, first),
                                                           "to": _label(demo_app, second)}) in _errors(at)


def test_levelling_accept_writes_the_moved_tasks_and_discard_writes_nothing(demo_app: Settings) -> None:
    at = _open("OPS")
    at.number_input(key="plan_level_seconds").set_value(1)
    at.button(key="plan_level_run").click().run()
    assert not at.exception
    outcome: logic.LevellingOutcome = at.session_state["plan_levelled"]
    assert outcome.project_key == "OPS" and outcome.moved == len(outcome.rows) > 0
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("plan.level_moved", "en")] == str(outcome.moved)
    assert len(at.get("vega_lite_chart")) == 1

    at.button(key="plan_level_discard").click().run()
    assert "plan_levelled" not in at.session_state
    assert [s.value for s in at.success] == [t("plan.level_discarded", "en")]
    assert edit_rows(demo_app, "plan_tasks") == []

    at.button(key="plan_level_run").click().run()
    outcome = at.session_state["plan_levelled"]
    at.button(key="plan_level_accept").click().run()
    assert t("plan.confirm_needed", "en") in [w.value for w in at.warning]
    at.checkbox(key="plan_level_confirm").check()
    at.button(key="plan_level_accept").click().run()
    assert [s.value for s in at.success] == [t("plan.level_accepted", "en", count=outcome.moved)]
    written = {r["task_id"]: r for r in edit_rows(demo_app, "plan_tasks")}
    assert set(written) == {r["task_id"] for r in outcome.rows}
    for row in outcome.rows:
        assert written[row["task_id"]]["planned_finish"] == row["after_finish"].isoformat()
        expected_start = row["after_start"].isoformat() if row["status"] == "planned" else None
        assert written[row["task_id"]]["planned_start"] == expected_start
    assert len(edit_rows(demo_app, "audit_log")) == outcome.moved


def test_baseline_save_round_trip_includes_unsynced_edits(demo_app: Settings) -> None:
    task = read_frame(
        demo_app,
        """SELECT task_id FROM tasks t WHERE project_key = 'OPS' AND NOT is_deleted
             AND NOT EXISTS (SELECT 1 FROM tasks c WHERE c.parent_task_id = t.task_id) ORDER BY task_id LIMIT 1""",
    )["task_id"][0]
    save_edits(demo_app, [EditChange("plan_tasks", {"task_id": task, "planned_start": date(2027, 1, 4),
                                                    "planned_finish": date(2027, 1, 8)})], "planner")
    at = _open("OPS")
    at.button(key="plan_baseline_save").click().run()
    assert t("plan.confirm_needed", "en") in [w.value for w in at.warning]
    at.checkbox(key="plan_baseline_confirm").check()
    at.button(key="plan_baseline_save").click().run()
    assert t("plan.problem.baseline_name_missing", "en") in _errors(at)
    assert edit_rows(demo_app, "baselines") == []

    at.text_input(key="plan_baseline_name").input("Sign-off 签字")
    at.checkbox(key="plan_baseline_confirm").check()
    at.button(key="plan_baseline_save").click().run()
    tasks = read_frame(demo_app, "SELECT count(*) AS n FROM tasks WHERE project_key = 'OPS' AND NOT is_deleted")["n"][0]
    assert [shown(s.value) for s in at.success] == [t("plan.baseline_saved", "en", name="Sign-off 签字", count=tasks)]
    (baseline,) = edit_rows(demo_app, "baselines")
    assert (baseline["project_key"], baseline["name"], baseline["created_by"]) == ("OPS", "Sign-off 签字", ACTOR)
    rows = {r["task_id"]: r for r in edit_rows(demo_app, "baseline_tasks")}
    assert len(rows) == tasks
    assert (rows[task]["planned_start"], rows[task]["planned_finish"]) == ("2027-01-04", "2027-01-08")
    assert all(r["planned_start"] and r["planned_finish"] for r in rows.values())
    assert [a["table_name"] for a in edit_rows(demo_app, "audit_log")][-1] == "baselines"
    listed = next(d.value for d in at.dataframe if "name" in d.value.columns and "tasks" in d.value.columns)
    assert list(listed["name"]) == ["Sign-off 签字"] and list(listed["tasks"]) == [tasks]

    gantt = run_page(GANTT, "en")
    gantt.selectbox(key="gantt_project").select("OPS").run()
    assert gantt.selectbox(key="gantt_baseline").value == baseline["baseline_id"]


# ------------------------------------------------------------------ logic


def test_task_validation_names_every_problem() -> None:
    current = logic.TaskValues("t1", date(2026, 5, 4), date(2026, 5, 8), "p1", 16.0)
    ok = logic.validate_task_edit(current, {"planned_finish": date(2026, 5, 11)}, task_label="T-1", people={"p1"})
    assert ok == []
    problems = logic.validate_task_edit(
        current, {"planned_start": date(2026, 5, 12), "assignee_id": "ghost", "estimate_hours": -1.0},
        task_label="T-1", people={"p1", "p2"},
    )
    assert [p.key for p in problems] == [
        "plan.problem.finish_before_start", "plan.problem.unknown_person", "plan.problem.negative_estimate",
    ]
    assert problems[1].text("en") == "T-1: unknown person ghost (must be someone in the people table)"
    assert logic.validate_task_edit(None, {}, task_label="T-9", people=[])[0].key == "plan.problem.unknown_task"
    summary = logic.validate_task_edit(current, {"planned_start": date(2026, 5, 5)}, task_label="T-1",
                                       people=["p1"], summaries=["t1"])
    assert [p.key for p in summary] == ["plan.problem.summary_dates"]
    # an owner nobody changed is not re-validated, and nobody (None) is allowed
    stale = logic.TaskValues("t2", None, None, "left-the-company", None)
    assert logic.validate_task_edit(stale, {"estimate_hours": 3.0}, task_label="T-2", people=["p1"]) == []
    assert logic.validate_task_edit(stale, {"assignee_id": None}, task_label="T-2", people=["p1"]) == []


def test_changed_fields_and_grid_edits_keep_only_real_changes() -> None:
    before = logic.TaskValues("t1", date(2026, 5, 4), None, "p1", 16)
    after = logic.TaskValues("t1", date(2026, 5, 4), date(2026, 5, 8), "p1", 16.0)
    assert logic.changed_fields(before, after) == {"planned_finish": date(2026, 5, 8)}
    shown = pl.DataFrame({
        "task_id": ["a", "b"], "planned_start": [date(2026, 5, 4), None], "planned_finish": [None, None],
        "assignee_id": ["p1", None], "estimate_hours": [8.0, None],
    })
    edited = shown.with_columns(
        pl.when(pl.col("task_id") == "b").then(pl.lit("p2")).otherwise(pl.col("assignee_id")).alias("assignee_id")
    )
    assert logic.grid_edits(shown, edited) == [("b", {"assignee_id": "p2"})]
    change = logic.task_change("b", {"assignee_id": "p2"}, "me")
    assert change.table == "plan_tasks" and set(change.row) == {"task_id", "assignee_id", "updated_at", "updated_by"}


def test_dependency_validation_and_cycles() -> None:
    links = [("a", "b"), ("b", "c"), ("c", "d")]
    kwargs = {"tasks": ["a", "b", "c", "d", "S"], "summaries": ["S"], "links": links, "labels": {"a": "A-1"}}
    assert logic.find_cycle(links, "d", "a") == ["d", "a", "b", "c", "d"]
    assert logic.find_cycle(links, "a", "d") is None
    assert logic.validate_dependency(logic.DependencyEdit("a", "d", "FF", -1.5), **kwargs) == []
    cycle = logic.validate_dependency(logic.DependencyEdit("c", "a"), **kwargs)
    assert [p.text("en") for p in cycle] == ["this dependency would create a cycle: c → A-1 → b → c"]
    keys = lambda edit: [p.key for p in logic.validate_dependency(edit, **kwargs)]  # noqa: E731
    assert keys(logic.DependencyEdit("a", "a")) == ["plan.problem.self_dependency"]
    assert keys(logic.DependencyEdit("a", "zz")) == ["plan.problem.unknown_dependency_task"]
    assert keys(logic.DependencyEdit("a", "b", "XF")) == ["plan.problem.unknown_link_type"]
    assert keys(logic.DependencyEdit("S", "b")) == ["plan.problem.summary_dependency"]
    assert keys(logic.DependencyEdit("a", "b", lag_days=float("nan"))) == ["plan.problem.bad_lag"]
    assert keys(logic.DependencyEdit("a", "c", remove=True)) == ["plan.problem.no_such_dependency"]
    assert keys(logic.DependencyEdit("a", "b", remove=True)) == []
    change = logic.dependency_change(logic.DependencyEdit("a", "b", remove=True), "me")
    assert (change.table, change.row["is_deleted"]) == ("plan_dependencies", True)


def test_levelling_keeps_the_start_of_work_under_way() -> None:
    rows = [
        {"task_id": "a", "status": "planned", "before_start": date(2026, 6, 1), "before_finish": date(2026, 6, 2),
         "after_start": date(2026, 6, 8), "after_finish": date(2026, 6, 9), "delay_days": 5},
        {"task_id": "b", "status": "in_progress", "before_start": date(2026, 6, 1),
         "before_finish": date(2026, 6, 3), "after_start": date(2026, 6, 4), "after_finish": date(2026, 6, 8),
         "delay_days": 3},
    ]
    outcome = logic.LevellingOutcome("P", 0, rows, date(2026, 6, 3), date(2026, 6, 9), 2, "cp-sat", True, 0.1, [])
    changes = {c.row["task_id"]: c.row for c in logic.levelling_changes(outcome, "me")}
    assert changes["a"]["planned_start"] == date(2026, 6, 8) and changes["a"]["planned_finish"] == date(2026, 6, 9)
    assert "planned_start" not in changes["b"] and changes["b"]["planned_finish"] == date(2026, 6, 8)
    frame = logic.comparison_frame(outcome, {"a": "A"}, "before", "after", cap=1)
    assert frame.rows() == [("A", "before", date(2026, 6, 1), date(2026, 6, 3), 5),
                            ("A", "after", date(2026, 6, 8), date(2026, 6, 10), 5)]


def test_exports_parse_back_with_the_edits(demo_app: Settings) -> None:
    project = _flat_project(demo_app)
    task = _todo_task(demo_app, project)["task_id"]
    save_edits(demo_app, [EditChange("plan_tasks", {"task_id": task, "planned_start": date(2027, 4, 5),
                                                    "planned_finish": date(2027, 4, 9)})], "planner")
    tasks = read_frame(demo_app, "SELECT count(*) AS n FROM tasks WHERE project_key = ? AND NOT is_deleted",
                       [project])["n"][0]

    csv = pl.read_csv(io.BytesIO(logic.export_bytes(demo_app, project, "csv")), infer_schema_length=0)
    assert csv.height == tasks
    row = csv.filter(pl.col("task_id") == task).row(0, named=True)
    assert (row["start"], row["finish"]) == ("2027-04-05", "2027-04-09")
    assert csv["start"].null_count() == 0

    chinese = pl.read_csv(io.BytesIO(logic.export_bytes(demo_app, project, "csv", chinese=True)),
                          infer_schema_length=0)
    assert "任务编号" in chinese.columns

    sheet = load_workbook(io.BytesIO(logic.export_bytes(demo_app, project, "xlsx"))).active
    assert sheet.max_row == tasks + 1

    read = read_mspdi(logic.export_bytes(demo_app, "ERP", "xml", project_name="ERP plan"))
    erp = read_frame(demo_app, "SELECT count(*) AS n FROM tasks WHERE project_key = 'ERP' AND NOT is_deleted")
    assert len(read.plan.tasks) == erp["n"][0]
    assert read.title == "ERP plan" or read.name == "ERP plan"
    links = schedule_logic.load_project_schedule(demo_app, "ERP").links
    assert len(read.plan.links) == links.height
    company = WorkCalendar.from_settings(demo_app)
    starts = [t.start for t in read.plan.tasks if t.start] + [t.finish for t in read.plan.tasks if t.finish]
    span = [min(starts) + timedelta(days=i) for i in range((max(starts) - min(starts)).days + 1)]
    assert [d for d in span if read.calendar.is_working_day(d) != bool(company.is_workday(d))] == []
    assert any(d.weekday() >= 5 and read.calendar.is_working_day(d) for d in span), "no 调休 make-up day exported"
    with pytest.raises(ValueError):
        logic.export_bytes(demo_app, project, "pdf")
