"""Bugs page: counts, ageing, affected tasks and defect density match independent SQL; filters and edge cases."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest

from dashboards import data
from dashboards.i18n import t
from dashboards.logic import bugs as logic
from tests.dashboard_app import query_of, run_page
from warehouse.db import read_frame
from warehouse.settings import Settings

PAGE = "app_pages/bugs.py"
OPEN_AGE_SQL = """
SELECT (SELECT max(as_of) FROM mart_project_kpis) - created_at::DATE AS age
FROM tasks WHERE type_category = 'bug' AND NOT is_deleted AND status_category <> 'done'
"""


def _sql(settings: Settings, sql: str, params: list | None = None) -> pl.DataFrame:
    return read_frame(settings, sql, params)


def _metric(at, key: str, lang: str = "zh") -> str:
    return next(m.value for m in at.metric if m.label == t(key, lang))


def _frame_with(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _expected_buckets(settings: Settings) -> list[int]:
    ages = _sql(settings, OPEN_AGE_SQL)["age"].to_list()
    return [
        sum(1 for age in ages if low <= max(age, 0) and (high is None or max(age, 0) <= high))
        for _, low, high in logic.AGE_BUCKETS
    ]


def _person_bugs(settings: Settings, person: str, project: str | None = None) -> int:
    return int(_sql(
        settings,
        """SELECT count(DISTINCT b.task_id) AS n
           FROM tasks b, tasks o
           WHERE b.type_category = 'bug' AND NOT b.is_deleted AND (? IS NULL OR b.project_key = ?)
             AND o.assignee_id = ? AND o.type_category NOT IN ('bug', 'epic') AND NOT o.is_deleted
             AND (o.task_id = b.parent_task_id OR EXISTS (
                  SELECT 1 FROM task_links l
                  WHERE (l.from_task_id = b.task_id AND l.to_task_id = o.task_id)
                     OR (l.to_task_id = b.task_id AND l.from_task_id = o.task_id)))""",
        [project, project, person],
    )["n"][0])


def test_page_numbers_match_sql(demo_app: Settings) -> None:
    totals = _sql(
        demo_app,
        """SELECT count(*) AS bugs, count(*) FILTER (WHERE status_category <> 'done') AS open_bugs
           FROM tasks WHERE type_category = 'bug' AND NOT is_deleted""",
    ).row(0, named=True)
    at = run_page(PAGE, "zh")
    assert _metric(at, "bugs.metric.total") == f"{totals['bugs']:,}"
    assert _metric(at, "bugs.metric.open") == f"{totals['open_bugs']:,}"
    assert _frame_with(at, "label")["open_bugs"].tolist() == _expected_buckets(demo_app)
    assert len(at.get("vega_lite_chart")) == 3

    # the bug table lists the tasks each bug affects: check a listed bug's entries against its links
    table = _frame_with(at, "affected")
    listed = table[table["affected"].map(len) > 0]
    assert not listed.empty, "the demo's bugs affect other tasks"
    bug_key, affected = listed["bug_key"].iloc[0], listed["affected"].iloc[0]
    linked = _sql(
        demo_app,
        """WITH bug AS (SELECT task_id, parent_task_id FROM tasks WHERE source_key = ?),
           ends AS (
               SELECT l.to_task_id AS other, l.link_type FROM task_links l JOIN bug b ON l.from_task_id = b.task_id
               UNION SELECT l.from_task_id, l.link_type FROM task_links l JOIN bug b ON l.to_task_id = b.task_id
               UNION SELECT parent_task_id, 'parent' FROM bug WHERE parent_task_id IS NOT NULL)
           SELECT o.source_key, e.link_type FROM ends e JOIN tasks o ON o.task_id = e.other""",
        [bug_key],
    )
    assert linked.height == len(affected)
    for other_key, link_type in linked.iter_rows():
        assert any(entry.startswith(f"{other_key} ") and entry.endswith(f"[{link_type}]") for entry in affected)
    assert any(c.value == t("bugs.table_capped", "zh", total=f"{totals['bugs']:,}", shown="200") for c in at.caption)

    # by person: whose tasks the bugs were found in
    people = _frame_with(at, "person")
    top = _sql(demo_app, "SELECT person_id FROM people WHERE display_name = ?", [people["person"].iloc[0]])["person_id"][0]
    assert int(people["bugs"].iloc[0]) == _person_bugs(demo_app, top)

    # one project, then one priority
    at.selectbox(key="bugs_project").select("OPS").run()
    assert not at.exception
    module = "服务器"
    bugs, work = _sql(
        demo_app,
        """SELECT count(*) FILTER (WHERE type_category = 'bug'), count(*) FILTER (WHERE type_category <> 'bug')
           FROM tasks WHERE project_key = 'OPS' AND NOT is_deleted AND list_contains(components, ?)""",
        [module],
    ).row(0)
    modules = _frame_with(at, "module")
    row = modules[modules["module"] == module].iloc[0]
    assert int(row["bugs"]) == bugs and int(row["work_items"]) == work
    assert row["per_100_items"] == pytest.approx(100.0 * bugs / work)
    medium = _sql(
        demo_app,
        "SELECT count(*) AS n FROM tasks WHERE project_key = 'OPS' AND type_category = 'bug' AND priority = 'Medium'",
    )["n"][0]
    at.multiselect(key="bugs_priority").select("Medium").run()
    assert not at.exception
    assert _metric(at, "bugs.metric.total") == f"{medium:,}"

    # a project whose bugs link to nothing: no attribution to people, and no modules
    at.selectbox(key="bugs_project").select("acme/mobile-app").run()
    assert not at.exception
    assert at.multiselect(key="bugs_priority").value == [], "a priority the project does not use is dropped"
    assert t("bugs.density.no_links", "zh") in [i.value for i in at.info]
    assert t("bugs.no_module", "zh") in _frame_with(at, "module")["module"].tolist()

    # English last: AppTest formats translated options in the default language
    at.radio(key="lang").set_value("en").run()
    assert not at.exception
    assert [s.value for s in at.subheader] == [
        t(k, "en") for k in ("bugs.trend_header", "bugs.ageing_header", "bugs.table_header", "bugs.density_header")
    ]
    mob = _sql(demo_app, "SELECT count(*) AS n FROM tasks WHERE project_key = 'acme/mobile-app' AND type_category = 'bug'")
    assert _metric(at, "bugs.metric.total", "en") == f"{mob['n'][0]:,}"


def test_logic_on_the_demo(demo_app: Settings) -> None:
    query = query_of(demo_app)
    as_of = data.as_of(query)
    everything = logic.BugFilter()
    summary = logic.summary(query, everything, as_of)
    flow = logic.trend(query, everything, as_of)
    assert int(flow["open_bugs"][-1]) == summary.open_bugs, "the open line ends at today's open bugs"
    assert int(flow["created"].sum()) <= summary.bugs
    assert logic.ageing(query, everything, as_of)["open_bugs"].to_list() == _expected_buckets(demo_app)
    assert logic.priorities(query, "acme/mobile-app") == [logic.NO_PRIORITY]
    none_set = logic.summary(query, logic.BugFilter("acme/mobile-app", (logic.NO_PRIORITY,)), as_of)
    assert none_set.bugs == logic.summary(query, logic.BugFilter("acme/mobile-app"), as_of).bugs > 0
    erp = logic.module_density(query, logic.BugFilter("ERP"))
    assert int(erp["bugs"].sum()) == int(_sql(
        demo_app, "SELECT sum(len(components)) AS n FROM tasks WHERE project_key = 'ERP' AND type_category = 'bug'"
    )["n"][0])
    short = logic.trend(query, everything, as_of, weeks=5)
    assert short.height == 5 and short["week"].to_list() == flow["week"].tail(5).to_list()
    with pytest.raises(ValueError):
        logic.bug_table(query, everything, as_of, rows=0)


def test_ageing_buckets_on_fresh_bugs(demo_app: Settings) -> None:
    """Move open bugs' creation dates so every bucket has members, then compare with SQL."""
    con = duckdb.connect(str(demo_app.warehouse.published_path))
    ids = [row[0] for row in con.execute(
        "SELECT task_id FROM tasks WHERE type_category = 'bug' AND status_category <> 'done' ORDER BY task_id"
    ).fetchall()]
    as_of = con.execute("SELECT max(as_of) FROM mart_project_kpis").fetchall()[0][0]
    for task_id, days in zip(ids, (0, 7, 8, 30, 31, 90, 91, 400)):
        con.execute("UPDATE tasks SET created_at = ?::DATE::TIMESTAMP - INTERVAL (?) DAY WHERE task_id = ?",
                    [as_of, days, task_id])
    con.close()
    ages = logic.ageing(query_of(demo_app), logic.BugFilter(), as_of)
    assert ages["open_bugs"].to_list() == _expected_buckets(demo_app)
    assert ages["open_bugs"].to_list()[:3] == [2, 2, 2]


def test_empty_warehouse_and_empty_selection(demo_app: Settings) -> None:
    query = query_of(demo_app)
    nothing = logic.BugFilter("OPS", ("no such priority",))
    assert logic.summary(query, nothing, date(2026, 6, 1)).bugs == 0
    assert logic.ageing(query, nothing, date(2026, 6, 1))["open_bugs"].to_list() == [0, 0, 0, 0]

    con = duckdb.connect(str(demo_app.warehouse.published_path))
    con.execute("DELETE FROM tasks WHERE type_category = 'bug'")
    con.close()
    at = run_page(PAGE, "en")
    assert [i.value for i in at.info] == [t("bugs.no_bugs", "en")]

    con = duckdb.connect(str(demo_app.warehouse.published_path))
    con.execute("DELETE FROM tasks")
    con.close()
    at = run_page(PAGE, "zh")
    assert [i.value for i in at.info] == [t("bugs.no_projects", "zh")]
