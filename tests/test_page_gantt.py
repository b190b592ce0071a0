"""Gantt page: WBS rows, live CPM, filters, baselines and whiskers, on a private demo snapshot.

Expected values come from SQL on the same snapshot or from the planning
engine run here independently (`load_plans` + `cpm.schedule`), not from
the page's own functions.
"""

from __future__ import annotations

import io
import json
from datetime import date

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.i18n import t
from dashboards.logic import gantt as logic
from dashboards.logic import plan as plan_logic
from models.planning.calendar import WorkCalendar
from models.planning.cpm import schedule
from models.planning.warehouse_plan import load_plans
from tests.dashboard_app import run_page
from warehouse.db import EditChange, open_reader, read_frame, save_edits
from warehouse.settings import Settings

PAGE = "app_pages/gantt.py"


def _chart(at: AppTest) -> tuple[dict, pl.DataFrame]:
    """The Gantt's spec and its bar rows (the dataset that has task ids)."""
    chart = at.get("vega_lite_chart")[0].proto
    spec = json.loads(chart.spec)
    for dataset in chart.datasets:
        frame = pl.from_arrow(pa.ipc.open_stream(dataset.data.data).read_all())
        if "task_id" in frame.columns:
            return spec, frame
    raise AssertionError("no task rows in the chart")


def _cpm_critical(settings: Settings, project: str) -> set[str]:
    """Critical tasks by the planning engine, run here on the live plan at the pipeline's status date."""
    calendar = WorkCalendar(settings.calendar.country)
    with open_reader(settings, live_edits=True) as con:
        as_of = con.execute("SELECT max(as_of) FROM project_forecasts WHERE project_key = ?", [project]).fetchall()[0][0]
        plan = load_plans(con, as_of, calendar.workdays_between, [project])[project]
    frame = schedule(plan, calendar).frame
    return set(frame.filter(pl.col("is_critical"))["task_id"].to_list())


def _leaf_counts(settings: Settings, project: str) -> pl.DataFrame:
    """Leaves (tasks without children) per assignee in one project, from SQL."""
    return read_frame(
        settings,
        """SELECT t.assignee_id, count(*) AS leaves FROM tasks t
           WHERE t.project_key = ? AND NOT t.is_deleted
             AND NOT EXISTS (SELECT 1 FROM tasks c WHERE c.parent_task_id = t.task_id AND NOT c.is_deleted
                             AND c.project_key IS NOT NULL)
           GROUP BY ALL ORDER BY leaves DESC, assignee_id""",
        [project],
    )


# ------------------------------------------------------------------ page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_gantt_shows_the_live_critical_path_in_both_languages(demo_app: Settings, lang: str) -> None:
    at = run_page(PAGE, lang)
    at.selectbox(key="gantt_project").select("DP").run()
    at.checkbox(key="gantt_critical_only").check().run()
    assert not at.exception, [e.value for e in at.exception]

    spec, rows = _chart(at)
    name = read_frame(demo_app, "SELECT name FROM projects WHERE project_key = 'DP'")["name"][0]
    assert spec["title"] == t("gantt.chart_title", lang, project=f"DP · {name}")
    layers = spec["layer"]
    assert layers[0]["encoding"]["x"]["title"] == t("common.date", lang)
    assert layers[0]["encoding"]["y"]["title"] == t("gantt.axis_task", lang)
    assert layers[0]["encoding"]["color"]["title"] == t("common.status", lang)

    expected = _cpm_critical(demo_app, "DP")
    assert expected, "the demo project should have a critical path"
    assert set(rows.filter(pl.col("is_critical"))["task_id"].to_list()) == expected
    # with "critical only" every drawn leaf is critical; summaries stay for context
    assert rows.filter(~pl.col("is_summary") & ~pl.col("is_critical")).is_empty()
    stored = read_frame(
        demo_app, "SELECT task_id FROM plan_schedule WHERE project_key = 'DP' AND is_critical"
    )
    assert set(stored["task_id"].to_list()) == expected

    total = read_frame(demo_app, "SELECT count(*) AS n FROM tasks WHERE project_key = 'DP' AND NOT is_deleted")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("common.tasks", lang)] == f"{total['n'][0]:,}"
    assert metrics[t("gantt.metric_critical", lang)] == f"{len(expected):,}"
    assert at.title[0].value == t("gantt.title", lang)


def test_person_filter_keeps_that_persons_tasks_and_their_summaries(demo_app: Settings) -> None:
    at = run_page(PAGE, "en")
    at.selectbox(key="gantt_project").select("DP").run()
    _, before = _chart(at)
    counts = _leaf_counts(demo_app, "DP").drop_nulls("assignee_id")
    person, leaves = counts.row(0)

    at.multiselect(key="gantt_people").select(person).run()
    assert not at.exception
    _, after = _chart(at)
    assert after.height < before.height
    drawn_leaves = after.filter(~pl.col("is_summary"))
    assert drawn_leaves.height == leaves
    names = dict(read_frame(demo_app, "SELECT person_id, display_name FROM people").iter_rows())
    assert set(drawn_leaves["assignee"].to_list()) == {names[person]}

    at.checkbox(key="gantt_hide_done").check().run()
    _, open_only = _chart(at)
    done = read_frame(
        demo_app,
        "SELECT count(*) AS n FROM tasks WHERE project_key = 'DP' AND assignee_id = ? AND status_category = 'done' "
        "AND NOT EXISTS (SELECT 1 FROM tasks c WHERE c.parent_task_id = tasks.task_id)",
        [person],
    )["n"][0]
    assert open_only.filter(~pl.col("is_summary")).height == leaves - done


def test_depth_and_collapse_keep_the_chart_manageable(demo_app: Settings) -> None:
    at = run_page(PAGE, "en")
    at.selectbox(key="gantt_project").select("ERP").run()
    _, opened = _chart(at)
    depths = read_frame(
        demo_app,
        """WITH RECURSIVE tree AS (
               SELECT task_id, 0 AS depth FROM tasks WHERE project_key = 'ERP' AND parent_task_id IS NULL
               UNION ALL
               SELECT c.task_id, tree.depth + 1 FROM tasks c JOIN tree ON c.parent_task_id = tree.task_id)
           SELECT depth, count(*) AS n FROM tree GROUP BY depth ORDER BY depth""",
    )
    by_depth = dict(depths.iter_rows())
    # opens at the deepest level that fits the row target
    assert opened.height == by_depth[0] + by_depth[1] <= logic.DEFAULT_ROW_TARGET

    at.slider(key="gantt_depth").set_value(0).run()
    _, top = _chart(at)
    assert top.height == by_depth[0]
    at.slider(key="gantt_depth").set_value(1).run()
    first_phase = top["task_id"][0]
    at.multiselect(key="gantt_collapsed").select(first_phase).run()
    _, collapsed = _chart(at)
    children = read_frame(demo_app, "SELECT count(*) AS n FROM tasks WHERE parent_task_id = ?", [first_phase])
    assert collapsed.height == opened.height - children["n"][0]

    at.multiselect(key="gantt_collapsed").unselect(first_phase).run()
    at.multiselect(key="gantt_phases").select(first_phase).run()
    subtree = read_frame(
        demo_app,
        """WITH RECURSIVE tree AS (
               SELECT task_id FROM tasks WHERE task_id = ?
               UNION ALL
               SELECT c.task_id FROM tasks c JOIN tree ON c.parent_task_id = tree.task_id)
           SELECT count(*) AS n FROM tree""",
        [first_phase],
    )["n"][0]
    _, phase = _chart(at)
    assert phase.height == subtree  # a filter reopens the WBS as deep as what it kept fits
    at.multiselect(key="gantt_phases").unselect(first_phase).run()
    at.slider(key="gantt_depth").set_value(2).run()
    warnings = [w.value for w in at.warning]
    assert t("gantt.capped", "en", total=f"{sum(by_depth.values()):,}", shown=f"{logic.ROW_CAP:,}") in warnings
    assert _chart(at)[1].height == logic.ROW_CAP


def test_baseline_and_whiskers_are_drawn_beside_the_bars(demo_app: Settings) -> None:
    task = read_frame(
        demo_app,
        "SELECT task_id FROM tasks WHERE project_key = 'OPS' AND parent_task_id IS NULL ORDER BY task_id LIMIT 1",
    )["task_id"][0]
    save_edits(demo_app, [
        EditChange("baselines", {"baseline_id": "OPS:b1", "project_key": "OPS", "name": "Plan v1",
                                 "created_at": "2026-01-05T08:00:00", "created_by": "lead"}),
        EditChange("baseline_tasks", {"baseline_id": "OPS:b1", "task_id": task, "planned_start": date(2026, 1, 5),
                                      "planned_finish": date(2026, 1, 9)}),
    ], "lead")
    at = run_page(PAGE, "en")
    at.selectbox(key="gantt_project").select("OPS").run()
    assert at.selectbox(key="gantt_baseline").value == "OPS:b1"
    spec, rows = _chart(at)
    row = rows.filter(pl.col("task_id") == task).row(0, named=True)
    assert (row["baseline_start"], row["baseline_finish"]) == (date(2026, 1, 5), date(2026, 1, 9))
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks.count("bar") == 2 and "rule" in marks

    predicted = read_frame(
        demo_app,
        """SELECT p.task_id FROM task_predictions p JOIN tasks t USING (task_id)
           WHERE t.project_key = 'OPS' AND p.remaining_p90_days IS NOT NULL""",
    )["task_id"].to_list()
    whiskers = rows.filter(pl.col("p90_finish").is_not_null())
    assert set(whiskers["task_id"].to_list()) <= set(predicted) | set(
        read_frame(demo_app, "SELECT task_id FROM plan_schedule WHERE project_key = 'OPS'")["task_id"].to_list()
    )
    assert (whiskers["p90_finish"] >= whiskers["p50_finish"]).all()

    at.selectbox(key="gantt_baseline").select("").run()
    assert [layer["mark"]["type"] for layer in _chart(at)[0]["layer"]].count("bar") == 1


def test_project_without_tasks_says_so(demo_app: Settings) -> None:
    with duckdb.connect(str(demo_app.warehouse.published_path)) as con:
        con.execute("INSERT INTO projects (project_key, source, name) VALUES ('AAA', 'demo', 'Empty project')")
    at = run_page(PAGE, "en")
    assert at.selectbox(key="gantt_project").value == "AAA"
    assert [i.value for i in at.info] == [t("gantt.no_tasks", "en", project="AAA")]
    assert not at.get("vega_lite_chart")


def test_a_dependency_loop_from_a_sync_is_a_warning_not_a_traceback(demo_app: Settings) -> None:
    project, first, second = read_frame(
        demo_app,
        """SELECT t.project_key, l.from_task_id, l.to_task_id FROM task_links l JOIN tasks t ON t.task_id = l.from_task_id
           WHERE l.link_type IN ('blocks', 'depends_on')
             AND l.from_task_id NOT IN (SELECT parent_task_id FROM tasks WHERE parent_task_id IS NOT NULL)
             AND l.to_task_id NOT IN (SELECT parent_task_id FROM tasks WHERE parent_task_id IS NOT NULL)
           ORDER BY 1, 2, 3 LIMIT 1""",
    ).row(0)
    # written straight to the store, as a bad import could; the plan editor would refuse it
    save_edits(demo_app, [EditChange("plan_dependencies", {"from_task_id": second, "to_task_id": first})], "import")
    at = run_page(PAGE, "en")
    at.selectbox(key="gantt_project").select(project).run()
    assert not at.exception
    assert any(w.value.startswith("The critical path cannot be computed (dependency cycle") for w in at.warning)
    assert not _chart(at)[1].filter(pl.col("is_critical")).height
    plan_page = run_page("app_pages/plan.py", "en")
    plan_page.selectbox(key="plan_project").select(project).run()
    assert not plan_page.exception
    assert any(w.value.startswith("The current plan cannot be scheduled") for w in plan_page.warning)
    exported = pl.read_csv(io.BytesIO(plan_logic.export_bytes(demo_app, project, "csv")), infer_schema_length=0)
    assert first in exported["task_id"].to_list()


# ------------------------------------------------------------------ logic


def test_schedule_rows_are_in_wbs_order_with_summaries_spanning_their_leaves(demo_app: Settings) -> None:
    sched = logic.load_project_schedule(demo_app, "DP")
    rows = sched.tasks
    total = read_frame(demo_app, "SELECT count(*) AS n FROM tasks WHERE project_key = 'DP'")["n"][0]
    assert rows.height == total == sched.task_count
    position = {task_id: i for i, task_id in enumerate(rows["task_id"])}
    depth = dict(zip(rows["task_id"], rows["depth"]))
    for task_id, parent in zip(rows["task_id"], rows["parent_id"]):
        if parent is not None:
            assert position[parent] < position[task_id]
            assert depth[task_id] == depth[parent] + 1
    pairs = sched.ancestors.join(rows.select("task_id", "plan_start", "plan_finish", "is_summary"), on="task_id")
    spans = pairs.filter(~pl.col("is_summary")).group_by("ancestor_id").agg(
        first=pl.col("plan_start").min(), last=pl.col("plan_finish").max()
    )
    checked = rows.join(spans, left_on="task_id", right_on="ancestor_id")
    assert checked.height == rows["is_summary"].sum()
    assert (checked["plan_start"] == checked["first"]).all() and (checked["plan_finish"] == checked["last"]).all()
    assert set(rows.filter(pl.col("is_critical"))["task_id"]) == _cpm_critical(demo_app, "DP")


def test_plan_bars_use_edited_dates_at_once(demo_app: Settings) -> None:
    project, task = read_frame(
        demo_app,
        """SELECT project_key, min(task_id) FROM tasks WHERE NOT is_deleted AND status_category = 'todo'
             AND project_key IN (SELECT project_key FROM tasks GROUP BY 1 HAVING count(parent_task_id) = 0)
           GROUP BY 1 ORDER BY 1 LIMIT 1""",
    ).row(0)
    before = logic.load_project_schedule(demo_app, project).tasks.filter(pl.col("task_id") == task)
    assert before["planned_start"][0] is None and before["plan_start"][0] == before["early_start"][0]
    save_edits(demo_app, [EditChange("plan_tasks", {"task_id": task, "planned_start": date(2027, 2, 1),
                                                    "planned_finish": date(2027, 2, 12)})], "planner")
    after = logic.bar_dates(logic.load_project_schedule(demo_app, project).tasks, "plan")
    row = after.filter(pl.col("task_id") == task).row(0, named=True)
    assert (row["start"], row["finish"]) == (date(2027, 2, 1), date(2027, 2, 12))


def test_filters_keep_ancestors_and_collapse_hides_descendants() -> None:
    rows = pl.DataFrame({
        "task_id": ["E", "F", "a", "b", "G", "c"],
        "parent_id": [None, "E", "F", "F", None, "G"],
        "depth": [0, 1, 2, 2, 0, 1],
        "is_summary": [True, True, False, False, True, False],
        "assignee_id": [None, None, "p1", "p2", None, None],
        "phase_id": ["E", "E", "E", "E", "G", "G"],
        "is_critical": [False, False, True, False, False, False],
        "status_category": ["todo", "todo", "done", "todo", "todo", "todo"],
    })
    pairs = pl.DataFrame({
        "task_id": ["F", "a", "a", "b", "b", "c"],
        "ancestor_id": ["E", "F", "E", "F", "E", "G"],
        "distance": [1, 1, 2, 1, 2, 1],
    })
    assert logic.filter_rows(rows, pairs)["task_id"].to_list() == ["E", "F", "a", "b", "G", "c"]
    assert logic.filter_rows(rows, pairs, people=["p1"])["task_id"].to_list() == ["E", "F", "a"]
    assert logic.filter_rows(rows, pairs, people=[logic.UNASSIGNED])["task_id"].to_list() == ["G", "c"]
    assert logic.filter_rows(rows, pairs, phases=["G"])["task_id"].to_list() == ["G", "c"]
    assert logic.filter_rows(rows, pairs, critical_only=True)["task_id"].to_list() == ["E", "F", "a"]
    assert logic.filter_rows(rows, pairs, hide_done=True)["task_id"].to_list() == ["E", "F", "b", "G", "c"]
    assert logic.visible_rows(rows, pairs, 1)["task_id"].to_list() == ["E", "F", "G", "c"]
    assert logic.visible_rows(rows, pairs, 2, ["F"])["task_id"].to_list() == ["E", "F", "G", "c"]
    assert logic.default_depth(rows, target=4) == 1
    assert logic.default_depth(rows, target=1) == 0
    labelled = logic.row_labels(rows.with_columns(task_key=pl.col("task_id"), name=pl.lit("x")))
    assert labelled["label"].to_list()[2] == f"{logic.INDENT * 2}a x"
    assert labelled["label"].n_unique() == labelled.height


def test_arrows_leave_and_enter_the_side_each_link_type_reads() -> None:
    shown = pl.DataFrame({
        "task_id": ["a", "b", "c"],
        "label": ["A", "B", "C"],
        "start": [date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)],
        "finish": [date(2026, 3, 6), date(2026, 3, 13), date(2026, 3, 20)],
    })
    links = pl.DataFrame({
        "from_task_id": ["a", "a", "b", "x"],
        "to_task_id": ["b", "c", "c", "a"],
        "dependency": ["FS", "SS", "FF", "FS"],
        "lag_days": [0.0, 0.0, 0.0, 0.0],
    })
    arrows, total = logic.link_segments(shown, links)
    assert total == 3  # the link from a task not shown is left out
    assert arrows.height == 6
    by_link = arrows.group_by("link", maintain_order=True).agg(pl.col("x"), pl.col("label"))
    fs, ss, ff = by_link.sort("link").rows()
    assert fs[1] == [date(2026, 3, 7), date(2026, 3, 9)]   # a's finish (next morning) → b's start
    assert ss[1] == [date(2026, 3, 2), date(2026, 3, 16)]  # a's start → c's start
    assert ff[1] == [date(2026, 3, 14), date(2026, 3, 21)]  # b's finish → c's finish
    capped, total = logic.link_segments(shown, links, cap=1)
    assert (capped.height, total) == (2, 3)


def test_whiskers_count_remaining_working_days_from_the_status_date() -> None:
    calendar = WorkCalendar("CN")
    predictions = pl.DataFrame({
        "task_id": ["a", "b"],
        "remaining_p50_days": [0.0, 2.2],
        "remaining_p90_days": [1.0, 1.0],
    })
    whiskers = logic.whisker_dates(predictions, calendar, date(2026, 9, 30))
    rows = {row["task_id"]: row for row in whiskers.iter_rows(named=True)}
    assert rows["a"]["model_p50"] == date(2026, 9, 30)
    assert rows["a"]["model_p90"] == calendar.add_workdays(date(2026, 9, 30), 1)  # after the National Day week
    assert rows["b"]["model_p50"] == calendar.add_workdays(date(2026, 9, 30), 3)
    assert rows["b"]["model_p90"] == rows["b"]["model_p50"]  # P90 never before P50
    assert logic.whisker_dates(predictions.clear(), calendar, date(2026, 9, 30)).is_empty()
