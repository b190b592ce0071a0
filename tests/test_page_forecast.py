"""Forecast page: live Monte Carlo against the published forecast, milestones, "how many by date", delay ranking."""

from __future__ import annotations

import re
from datetime import date, timedelta

import duckdb
import polars as pl
import pytest

from dashboards.common import format_date
from dashboards.i18n import t
from dashboards.logic import forecast as logic
from tests.dashboard_app import query_of, run_page
from warehouse.db import read_frame
from warehouse.settings import Settings

PAGE = "app_pages/forecast.py"


def _sql(settings: Settings, sql: str, params: list | None = None) -> pl.DataFrame:
    return read_frame(settings, sql, params)


def _execute(settings: Settings, *statements: str) -> None:
    """Change the test's private copy of the snapshot (never the shared demo)."""
    con = duckdb.connect(str(settings.warehouse.published_path))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _count(text: str) -> int:
    return int(re.search(r"[\d,]+", text).group().replace(",", ""))


def _top_risk(settings: Settings, project: str) -> str:
    return _sql(
        settings,
        """SELECT coalesce(t.source_key, t.task_id) AS k FROM tasks t JOIN task_predictions p USING (task_id)
           WHERE t.project_key = ? AND NOT t.is_deleted AND t.status_category <> 'done'
             AND p.delay_probability IS NOT NULL
           ORDER BY p.delay_probability DESC, t.due_date NULLS LAST, t.task_id LIMIT 1""",
        [project],
    )["k"][0]


def test_page_shows_published_p85_how_many_and_top_risk(demo_app: Settings) -> None:
    project = _sql(demo_app, "SELECT min(project_key) AS k FROM tasks")["k"][0]
    published = _sql(demo_app, "SELECT * FROM project_forecasts WHERE project_key = ?", [project]).row(0, named=True)
    open_tasks = int(_sql(
        demo_app,
        "SELECT count(*) AS n FROM tasks WHERE project_key = ? AND NOT is_deleted AND status_category <> 'done'",
        [project],
    )["n"][0])

    at = run_page(PAGE, "zh")
    p85 = format_date(published["finish_p85"], "zh")
    assert _metric(at, t("forecast.metric.p85", "zh")) == p85, "the live run equals the nightly one on an unedited plan"
    assert _metric(at, t("forecast.metric.p50", "zh")) == format_date(published["finish_p50"], "zh")
    assert _metric(at, t("forecast.metric.due", "zh")) == format_date(published["due_date"], "zh")
    assert _metric(at, t("forecast.metric.on_time", "zh")) == f"{published['probability_on_time']:.0%}"
    assert any(f"P85 {p85}" in c.value for c in at.caption), "published forecast named in its caption"
    assert len(at.get("vega_lite_chart")) == 1
    assert _count(_metric(at, t("common.open_tasks", "zh"))) == open_tasks
    assert at.dataframe[-1].value["task_key"].iloc[0] == _top_risk(demo_app, project)
    factors = at.dataframe[-1].value["factors"].iloc[0]
    assert "风险" in factors and "raises the risk" not in factors

    # "how many by date D": monotone in D, never more than the open tasks
    start = logic.status_date_for(published, demo_app)
    previous = {50: -1, 85: -1}
    for days in (3, 10, 30, 90, 400):
        at.date_input(key="forecast_by_date").set_value(start + timedelta(days=days)).run()
        assert not at.exception
        counts = {p: _count(_metric(at, t(f"forecast.by_date.p{p}", "zh"))) for p in (50, 85)}
        assert counts[85] <= counts[50] <= open_tasks
        assert all(counts[p] >= previous[p] for p in counts), (days, counts, previous)
        previous = counts
    assert previous[50] == open_tasks, "a year out the whole backlog is done"

    # another project, then English
    at.selectbox(key="forecast_project").select("OPS").run()
    assert not at.exception
    ops = _sql(demo_app, "SELECT finish_p85 FROM project_forecasts WHERE project_key = 'OPS'")["finish_p85"][0]
    assert _metric(at, t("forecast.metric.p85", "zh")) == format_date(ops, "zh")
    at.radio(key="lang").set_value("en").run()
    assert not at.exception
    assert _metric(at, t("forecast.metric.p85", "en")) == format_date(ops, "en")
    assert at.dataframe[-1].value["task_key"].iloc[0] == _top_risk(demo_app, "OPS")
    assert [s.value for s in at.subheader] == [
        t(k, "en") for k in ("forecast.finish_header", "forecast.milestones_header", "forecast.by_date_header",
                             "forecast.risk_header", "forecast.accuracy_header")
    ]


def test_summary_milestone_finishes_after_all_its_leaves(demo_app: Settings) -> None:
    query = query_of(demo_app, live_edits=True)
    published = logic.published_forecast(query, "DP")
    sim = logic.simulate_project(demo_app, "DP", logic.status_date_for(published, demo_app), published["due_date"])
    assert sim is not None and sim.runs == published["runs"]
    assert sim.finish[85] == published["finish_p85"]
    assert sim.probability_on_time == pytest.approx(published["probability_on_time"])
    assert sim.distribution["share_done"][-1] == pytest.approx(1.0)
    assert int(sim.distribution["runs"].sum()) == sim.runs
    summaries = sim.milestones.filter(pl.col("type_category").is_in(["epic", "feature"]))
    assert summaries.height > 0
    leaves = _sql(
        demo_app,
        """WITH RECURSIVE d(root, task_id) AS (
               SELECT task_id, task_id FROM tasks WHERE list_contains(?, task_id)
               UNION ALL
               SELECT d.root, c.task_id FROM tasks c JOIN d ON c.parent_task_id = d.task_id)
           SELECT d.root AS task_id, max(s.finish_p85) AS leaf_p85
           FROM d JOIN plan_schedule s USING (task_id) GROUP BY 1""",
        [summaries["task_id"].to_list()],
    )
    joined = summaries.join(leaves, on="task_id")
    assert joined.height == summaries.height
    assert (joined["p85"] >= joined["leaf_p85"]).all()
    assert (sim.milestones["p50"] <= sim.milestones["p85"]).all() and (sim.milestones["p85"] <= sim.milestones["p95"]).all()


def test_how_many_by_is_monotone_and_bounded(demo_app: Settings) -> None:
    query = query_of(demo_app, live_edits=True)
    weeks = logic.throughput_history(query, "ERP", 12)
    assert weeks.height == 12
    assert int(weeks["resolved"].sum()) == int(_sql(
        demo_app,
        """SELECT sum(tasks_resolved) AS n FROM mart_project_daily WHERE project_key = 'ERP'
           AND day > (SELECT max(day) FROM mart_project_daily WHERE project_key = 'ERP' AND tasks_resolved > 0) - 84
           AND day <= (SELECT max(day) FROM mart_project_daily WHERE project_key = 'ERP' AND tasks_resolved > 0)""",
    )["n"][0])
    open_count = logic.open_tasks(query, "ERP")
    start = date(2026, 7, 1)
    last = {50: 0, 85: 0}
    for days in range(0, 200, 9):
        result = logic.forecast_throughput(open_count, weeks, start, start + timedelta(days=days))
        for p in (50, 85):
            assert 0 <= result.done_by[p] <= open_count
            assert result.done_by[p] >= last[p]
        last = result.done_by
    assert logic.forecast_throughput(open_count, weeks, start, start).done_by == {50: 0, 85: 0}
    with pytest.raises(ValueError):
        logic.forecast_throughput(open_count, weeks.head(0), start, start + timedelta(days=30))


def test_factors_read_in_the_page_language() -> None:
    row = {"top_factors": ["due in 3 working days (similar tasks usually due in 4 working days), which raises the risk"],
           "top_factors_zh": ["距截止还有 3 个工作日（同类任务通常 4 个工作日），推高延期风险"]}
    assert logic.readable_factors(logic.factors_in(row, "zh"), "zh") == row["top_factors_zh"][0]
    assert logic.readable_factors(logic.factors_in(row, "en"), "en") == row["top_factors"][0]
    scored_before_zh = {"top_factors": ["a", "b"], "top_factors_zh": None}
    assert logic.readable_factors(logic.factors_in(scored_before_zh, "zh"), "zh") == "a；b"
    assert logic.readable_factors(None, "en") == ""


def test_edge_cases_show_messages(demo_app: Settings) -> None:
    a, b = "demo:DP-133", "demo:DP-134"
    _execute(
        demo_app,
        f"INSERT INTO task_links VALUES ('{a}', '{b}', 'blocks', 'FS', 0, 'demo'), ('{b}', '{a}', 'blocks', 'FS', 0, 'demo')",
        "UPDATE tasks SET status_category = 'done', resolved_at = coalesce(resolved_at, TIMESTAMP '2026-06-01') "
        "WHERE project_key = 'OPS'",
        "DELETE FROM task_predictions",
        "UPDATE mart_project_daily SET tasks_resolved = 0 WHERE project_key = 'ERP'",
    )
    query = query_of(demo_app, live_edits=True)
    with pytest.raises(logic.NotSchedulable, match="cycle"):
        logic.simulate_project(demo_app, "DP", date(2026, 11, 27), None)
    assert logic.simulate_project(demo_app, "OPS", date(2026, 11, 27), None) is None
    assert logic.risk_ranking(query, "DP").is_empty()

    at = run_page(PAGE, "zh")
    assert [w.value.split("：")[0] for w in at.warning] == [t("forecast.not_schedulable", "zh", message="x").split("：")[0]]
    assert t("forecast.no_risks", "zh") in [i.value for i in at.info]
    at.selectbox(key="forecast_project").select("OPS").run()
    assert not at.exception
    infos = [i.value for i in at.info]
    assert t("forecast.nothing_open", "zh") in infos and t("forecast.no_risks", "zh") in infos
    assert _count(_metric(at, t("forecast.by_date.p50", "zh"))) == 0
    at.selectbox(key="forecast_project").select("ERP").run()
    assert not at.exception
    assert t("forecast.by_date.no_history", "zh") in [i.value for i in at.info]

    _execute(demo_app, "DELETE FROM tasks")
    at = run_page(PAGE, "en")
    assert [i.value for i in at.info] == [t("forecast.no_projects", "en")]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_forecast_accuracy_runs_on_request_and_matches_the_cli_report(demo_app: Settings, lang: str) -> None:
    at = run_page(PAGE, lang)
    project = at.selectbox(key="forecast_project").value
    assert not [m for m in at.metric if m.label == t("forecast.accuracy_coverage", lang)], "not run until asked"
    at.button(key="forecast_accuracy_run").click().run()
    assert not at.exception and not at.error
    report = logic.forecast_accuracy(demo_app, project)
    coverage = next(m for m in at.metric if m.label == t("forecast.accuracy_coverage", lang))
    assert coverage.value == f"{report['coverage_p10_p90']:.0%}"
    row = next((p for p in report["projects"] if p["project_key"] == project), None)
    if row is None:
        assert t("forecast.accuracy_none", lang) in [i.value for i in at.info]
    else:
        errors = at.dataframe[-1].value["error"].tolist()
        assert errors == [row["p50_error_days_8w"], row["p85_error_days_8w"], row["plan_error_days_8w"],
                          row["throughput_error_days_8w"]]
    scored = t("forecast.accuracy_scored", lang, scored=report["scored_status_dates"]["total"],
               burn_in=report["burn_in"]["status_dates"])
    assert scored in [c.value for c in at.caption]
