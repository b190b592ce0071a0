"""Kanban page: columns and cards match the warehouse, lanes by sprint and by person, caps and edge cases."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import polars as pl
import pytest

from dashboards.common import format_date
from dashboards import data, safe_text
from dashboards.i18n import t
from dashboards.logic import kanban as logic
from tests.dashboard_app import query_of, run_page
from warehouse.db import read_frame
from warehouse.settings import Settings

PAGE = "app_pages/kanban.py"


def _sql(settings: Settings, sql: str, params: list | None = None) -> pl.DataFrame:
    return read_frame(settings, sql, params)


def _as_of(settings: Settings) -> date:
    return _sql(settings, "SELECT max(as_of) AS d FROM mart_project_kpis")["d"][0]


def _counts(settings: Settings, where: str, params: list) -> dict[str, int]:
    frame = _sql(
        settings,
        f"SELECT status_category, count(*) AS n FROM tasks WHERE NOT is_deleted AND {where} GROUP BY 1",
        params,
    )
    counts = dict(zip(frame["status_category"], frame["n"]))
    return {column: int(counts.get(column, 0)) for column in logic.STATUS_COLUMNS}


def _headers(at, lang: str) -> dict[str, str]:
    return {column: t(logic.COLUMN_LABELS[column], lang) for column in logic.STATUS_COLUMNS}


def _column_counts(at, lang: str) -> dict[str, int]:
    """Parse "To do · 38" subheaders back into counts."""
    names = _headers(at, lang)
    found: dict[str, int] = {}
    for header in at.subheader:
        for column, name in names.items():
            if header.value.startswith(f"{name} · "):
                found[column] = int(header.value.split(" · ")[1])
    return found


def _active_sprint(settings: Settings, project: str) -> str:
    return _sql(
        settings,
        """SELECT DISTINCT s.sprint_id FROM tasks t JOIN sprints s USING (sprint_id)
           WHERE t.project_key = ? AND s.state = 'active' ORDER BY s.start_at DESC LIMIT 1""",
        [project],
    )["sprint_id"][0]


def test_board_by_sprint_and_person_matches_sql(demo_app: Settings) -> None:
    first_project = _sql(demo_app, "SELECT min(project_key) AS k FROM tasks")["k"][0]
    sprint = _active_sprint(demo_app, first_project)
    expected = _counts(demo_app, "project_key = ? AND sprint_id = ?", [first_project, sprint])
    assert sum(expected.values()) > 0

    at = run_page(PAGE, "zh")
    assert at.selectbox(key="kanban_project").value == first_project
    assert at.selectbox(key="kanban_lane").value == sprint, "the active sprint opens first"
    assert _column_counts(at, "zh") == expected
    cards = [m.value for m in at.markdown if m.value.startswith("**")]
    assert len(cards) == sum(min(n, logic.DEFAULT_CARD_CAP) for n in expected.values())
    as_of = _as_of(demo_app)
    overdue = _sql(
        demo_app,
        """SELECT coalesce(source_key, task_id) AS k FROM tasks WHERE project_key = ? AND sprint_id = ?
           AND status_category <> 'done' AND due_date < ? ORDER BY task_id LIMIT 1""",
        [first_project, sprint, as_of],
    )["k"][0]
    card = next(c for c in cards if f"[{safe_text.escape_markdown(overdue)}]" in c)
    assert t("kanban.card.overdue", "zh") in card
    assert any(t("kanban.card.delay", "zh", share="").rstrip() in c for c in cards), "delay risk shown on cards"
    wip = expected["in_progress"]
    assert any(f"进行中（WIP）{wip} 个" in c.value for c in at.caption)

    # by person: the busiest assignee of another project (the board shows the tool's assignee: no plan edits yet)
    person = _sql(
        demo_app,
        """SELECT assignee_id FROM tasks WHERE project_key = 'ERP' AND assignee_id IS NOT NULL
           GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1""",
    )["assignee_id"][0]
    at.selectbox(key="kanban_project").select("ERP").run()
    at.radio(key="kanban_group").set_value("person").run()
    at.selectbox(key="kanban_lane").select(person).run()
    assert not at.exception
    assert _column_counts(at, "zh") == _counts(demo_app, "project_key = 'ERP' AND assignee_id = ?", [person])

    # unassigned lane, and a small cap that hides cards and says so
    at.selectbox(key="kanban_lane").select(logic.NO_LANE).run()
    unassigned = _counts(demo_app, "project_key = 'ERP' AND assignee_id IS NULL", [])
    assert _column_counts(at, "zh") == unassigned
    at.select_slider(key="kanban_cap").set_value(10).run()
    assert not at.exception
    hidden = unassigned["todo"] - 10
    assert hidden > 0
    assert any(c.value == t("kanban.more", "zh", count=hidden) for c in at.caption)

    # English last: AppTest formats translated options in the default language, so no widget is driven after this
    at.radio(key="lang").set_value("en").run()
    assert not at.exception
    assert _column_counts(at, "en") == unassigned
    assert any(c.value == t("kanban.more", "en", count=hidden) for c in at.caption)


def test_done_column_shows_most_recent_first(demo_app: Settings) -> None:
    query = query_of(demo_app, live_edits=True)
    as_of = data.as_of(query)
    board = logic.board(query, "ERP", "sprint", logic.NO_LANE, as_of, cap=5)
    expected = _sql(
        demo_app,
        """SELECT task_id FROM tasks WHERE project_key = 'ERP' AND sprint_id IS NULL AND NOT is_deleted
           AND status_category = 'done' ORDER BY resolved_at DESC, task_id LIMIT 5""",
    )["task_id"].to_list()
    assert board.cards["done"]["task_id"].to_list() == expected
    assert board.hidden("done") == board.counts["done"] - len(expected)
    todo = board.cards["todo"]
    assert todo["age_days"].min() >= 0
    assert all(o == (d is not None and d < as_of) for o, d in zip(todo["overdue"], todo["due_date"]))


def test_lanes_cover_every_task_of_the_project(demo_app: Settings) -> None:
    query = query_of(demo_app, live_edits=True)
    as_of = data.as_of(query)
    total = _counts(demo_app, "project_key = 'DP'", [])
    for group_by in logic.GROUP_BY:
        lanes = logic.lanes(query, "DP", group_by, as_of)
        assert {c: int(lanes[c].sum()) for c in logic.STATUS_COLUMNS} == total
        assert lanes["lane_id"].n_unique() == lanes.height
    with pytest.raises(ValueError):
        logic.lanes(query, "DP", "team", as_of)
    with pytest.raises(ValueError):
        logic.board(query, "DP", "sprint", logic.NO_LANE, as_of, cap=0)


def test_plan_editor_reassignment_moves_the_card(demo_app: Settings) -> None:
    from warehouse.db import save_edit

    task_id, person = _sql(
        demo_app,
        """SELECT t.task_id, p.person_id FROM tasks t, people p
           WHERE t.project_key = 'OPS' AND t.status_category = 'todo' AND p.person_id <> coalesce(t.assignee_id, '')
           ORDER BY t.task_id, p.person_id LIMIT 1""",
    ).row(0)
    save_edit(demo_app, "plan_tasks", {"task_id": task_id, "assignee_id": person}, "tester", "upsert")
    query = query_of(demo_app, live_edits=True)
    as_of = data.as_of(query)
    board = logic.board(query, "OPS", "person", person, as_of, cap=100)
    assert task_id in board.cards["todo"]["task_id"].to_list()


def test_card_text_is_escaped_and_translated() -> None:
    card = {
        "task_key": "ERP-1", "url": None, "title": "[WIP] fix *all* :red[x]", "assignee": None, "priority": "High",
        "status_category": "todo", "age_days": 3, "due_date": date(2026, 1, 2), "overdue": True,
        "delay_probability": 0.8, "resolved_at": None,
    }
    zh = logic.card_markdown(card, lambda d: format_date(d, "zh"), "zh")
    assert "\\[WIP\\] fix \\*all\\* \\:red\\[x\\]" in zh
    assert "未分配" in zh and "已创建 3 天" in zh and "2026年1月2日" in zh and "已逾期" in zh and "80%" in zh
    done = dict(card, status_category="done", overdue=False, resolved_at=datetime(2026, 1, 5, 10, 0))
    en = logic.card_markdown(done, lambda d: format_date(d, "en"), "en")
    assert "done 5 Jan 2026" in en and "Overdue" not in en and "Delay risk" not in en and "d old" not in en


def test_empty_warehouse_shows_a_message(demo_app: Settings) -> None:
    con = duckdb.connect(str(demo_app.warehouse.published_path))
    con.execute("DELETE FROM tasks")
    con.close()
    at = run_page(PAGE, "en")
    assert [i.value for i in at.info] == [t("kanban.no_projects", "en")]
