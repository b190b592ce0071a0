"""Risks page: register, heat map, history, exports and the create/edit form, on a private demo snapshot.

Expected values come from SQL on the same snapshot (with the edits store
overlaid), not from the page's own functions.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta

import polars as pl
import pyarrow as pa
import pytest
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from dashboards import data
from dashboards.common import PageContext
from dashboards.i18n import t
from dashboards.logic import risks as logic
from tests.dashboard_app import run_page
from tests.markdown_text import shown
from warehouse.db import EditChange, edit_rows, edits_version, read_frame, save_edit, save_edits, utc_now
from warehouse.settings import Settings

PAGE = "app_pages/risks.py"


def _ctx(settings: Settings) -> PageContext:
    return PageContext(settings, data.snapshot_key(settings), edits_version(settings))


def _person(settings: Settings, offset: int = 0) -> tuple[str, str]:
    rows = read_frame(settings, "SELECT person_id, display_name FROM people ORDER BY person_id")
    return rows.row(offset)


def _task(settings: Settings) -> tuple[str, str, str]:
    """A task whose source key names only it: (task_id, source_key, project_key)."""
    rows = read_frame(
        settings,
        "SELECT task_id, source_key, project_key FROM tasks WHERE NOT is_deleted AND source_key IN "
        "(SELECT source_key FROM tasks GROUP BY source_key HAVING count(*) = 1) ORDER BY task_id LIMIT 1",
    )
    return rows.row(0)


def _risk(risk_id: str, owner: str, **values: object) -> dict[str, object]:
    now = utc_now()
    row: dict[str, object] = {
        "risk_id": risk_id, "project_key": "ERP", "title": f"Risk {risk_id}", "category": "technical",
        "probability": 3, "impact": 3, "score": 9, "owner_id": owner, "mitigation": None, "contingency": None,
        "status": "open", "due_date": date.today() + timedelta(days=30), "linked_task_ids": [], "created_at": now,
        "updated_at": now, "updated_by": "seed",
    }
    row.update(values)
    row["score"] = int(row["probability"]) * int(row["impact"])  # type: ignore[call-overload]
    return row


def _draft(**values: object) -> logic.RiskDraft:
    base: dict[str, object] = {
        "risk_id": None, "title": "Supplier late", "project_key": "ERP", "category": "schedule",
        "status": "open", "probability": 2, "impact": 4, "owner_id": "p1", "due_date": date(2026, 7, 1),
        "linked_tasks": "",
    }
    base.update(values)
    return logic.RiskDraft(**base)  # type: ignore[arg-type]


def _chart_cells(at: AppTest) -> dict[tuple[int, int], int]:
    chart = at.get("vega_lite_chart")[0].proto
    table = pa.ipc.open_stream(chart.datasets[0].data.data).read_all().to_pylist()
    return {(row["probability"], row["impact"]): row["risks"] for row in table}


# ------------------------------------------------------------------ logic


def test_validation_gives_every_reason() -> None:
    problems, _ = logic.validate_risk(
        _draft(title="  ", probability=7, impact=2.5, owner_id="ghost", project_key="NOPE", due_date=None,
               category="weather", status="pending", linked_tasks="T-1, T-2"),
        known_people={"p1"}, known_projects={"ERP"}, resolved_tasks={"T-1": [], "T-2": ["a", "b"]},
    )
    assert [p.key for p in problems] == [
        "risks.err.title_required", "risks.err.unknown_category", "risks.err.unknown_status",
        "risks.err.probability_range", "risks.err.impact_range", "risks.err.unknown_owner",
        "risks.err.unknown_project", "risks.err.unknown_task", "risks.err.ambiguous_task",
    ]
    assert problems[3].text("en") == "Probability must be a whole number from 1 to 5 (got 7)."
    assert "ghost" in problems[5].text("zh")


def test_due_date_required_only_while_the_risk_is_live() -> None:
    for status, expected in (("open", True), ("mitigating", True), ("closed", False), ("occurred", False)):
        problems, _ = logic.validate_risk(_draft(status=status, due_date=None), {"p1"}, {"ERP"}, {})
        assert ("risks.err.due_required" in [p.key for p in problems]) is expected, status


def test_valid_draft_becomes_a_row_with_computed_score_and_kept_creation_time() -> None:
    problems, linked = logic.validate_risk(
        _draft(probability=4.0, linked_tasks="K-1，demo:9; K-1"), {"p1"}, {"ERP"},
        {"K-1": ["demo:1"], "demo:9": ["demo:9"]},
    )
    assert problems == [] and linked == ["demo:1", "demo:9"]
    created = datetime(2026, 1, 2, 3, 4)
    now = datetime(2026, 6, 1, 12, 0)
    row = logic.risk_row(_draft(risk_id="R-1", probability=4.0), linked, {"created_at": created}, "alice", now)
    assert (row["probability"], row["impact"], row["score"]) == (4, 4, 16)
    assert row["created_at"] == created and row["updated_at"] == now and row["updated_by"] == "alice"
    fresh = logic.risk_row(_draft(), [], None, "alice", now)
    assert fresh["risk_id"].startswith("R-") and len(fresh["risk_id"]) == 10 and fresh["created_at"] == now
    with pytest.raises(ValueError):
        logic.risk_row(_draft(probability=0), [], None, "alice", now)


def test_zones_follow_the_usual_bands() -> None:
    assert [logic.zone_of(s) for s in (1, 4, 5, 12, 15, 25)] == ["green", "green", "amber", "amber", "red", "red"]


def test_tasks_resolve_by_id_or_key(demo_app: Settings) -> None:
    task_id, key, _ = _task(demo_app)
    resolved = logic.resolve_tasks(_ctx(demo_app), [task_id, key, "NOPE-404"])
    assert resolved == {task_id: [task_id], key: [task_id], "NOPE-404": []}
    assert logic.task_keys(_ctx(demo_app), [task_id, "gone"]) == [key, "gone"]


def test_register_filters_overdue_and_heat_map_match_sql(demo_app: Settings) -> None:
    owner, _ = _person(demo_app)
    other, _ = _person(demo_app, 1)
    past = date.today() - timedelta(days=3)
    rows = [
        _risk("R-A", owner, probability=5, impact=4, due_date=past),
        _risk("R-B", owner, probability=5, impact=4, status="mitigating"),
        _risk("R-C", other, probability=1, impact=2, project_key="DP", category="budget"),
        _risk("R-D", other, probability=5, impact=5, status="closed", due_date=past),
        _risk("R-E", owner, probability=2, impact=3, status="occurred"),
    ]
    save_edits(demo_app, [EditChange("risks", row) for row in rows], "seed")
    ctx = _ctx(demo_app)

    everything = logic.register(ctx, logic.RiskFilter())
    assert everything["risk_id"].to_list()[:2] == ["R-D", "R-A"] and everything["matching"][0] == 5
    erp_open = logic.register(ctx, logic.RiskFilter(project_key="ERP", statuses=("open",)))
    assert erp_open["risk_id"].to_list() == ["R-A"]
    assert logic.register(ctx, logic.RiskFilter(owner_id=other, categories=("budget",)))["risk_id"].to_list() == ["R-C"]
    assert logic.register(ctx, logic.RiskFilter(), limit=2).height == 2

    overdue = everything.filter(logic.overdue_high(everything, date.today()))
    assert overdue["risk_id"].to_list() == ["R-A"]

    expected = read_frame(
        demo_app,
        "SELECT probability, impact, count(*) AS n FROM risks WHERE status IN ('open', 'mitigating') "
        "GROUP BY ALL",
        live_edits=True,
    )
    cells = logic.heat_map(ctx, logic.RiskFilter())
    assert cells.height == 25
    counted = {(p, i): n for p, i, _, _, n in cells.iter_rows() if n}
    assert counted == {(p, i): n for p, i, n in expected.iter_rows()} == {(5, 4): 2, (1, 2): 1}
    assert cells.filter((pl.col("probability") == 5) & (pl.col("impact") == 4))["zone"][0] == "red"
    assert int(logic.heat_map(ctx, logic.RiskFilter(project_key="DP"))["risks"].sum()) == 1


def test_history_lists_field_changes_in_local_words(demo_app: Settings) -> None:
    owner, name = _person(demo_app)
    save_edit(demo_app, "risks", _risk("R-H", owner, probability=2, impact=5), "alice")
    save_edit(demo_app, "risks", _risk("R-H", owner, probability=4, impact=5, status="mitigating"), "bob")
    entries = logic.audit_entries(_ctx(demo_app), "R-H")
    changed = [c for c in logic.changes(entries) if c["action"] == "updated"]
    assert [(c["field"], c["old"], c["new"]) for c in changed] == [
        ("status", "open", "mitigating"), ("probability", 2, 4), ("score", 10, 20),
    ]
    table = logic.history_table(entries, {owner: name}, "en")
    assert table.row(0, named=True)["who"] == "bob"
    assert {"Open → Mitigating", "2 → 4", "10 → 20", f"— → {name}"} <= set(table["change"].to_list())


def test_exports_parse_back_to_the_register(demo_app: Settings) -> None:
    owner, name = _person(demo_app)
    task_id, key, _ = _task(demo_app)
    save_edits(demo_app, [
        EditChange("risks", _risk("R-X1", owner, title="数据迁移延期", linked_task_ids=[task_id])),
        EditChange("risks", _risk("R-X2", owner, probability=5, impact=5, mitigation="daily check")),
    ], "seed")
    register = logic.register(_ctx(demo_app), logic.RiskFilter())
    sheet = logic.export_table(register, "zh")

    parsed = pl.read_csv(io.BytesIO(logic.to_csv(sheet)), infer_schema=False)
    assert parsed.columns == sheet.columns and parsed.columns[0] == "编号"
    assert parsed.height == register.height == 2
    by_id = {row["编号"]: row for row in parsed.iter_rows(named=True)}
    assert by_id["R-X1"]["标题"] == "数据迁移延期" and by_id["R-X1"]["关联任务"] == key
    assert by_id["R-X2"]["风险值"] == "25" and by_id["R-X2"]["状态"] == "未处理"
    assert by_id["R-X2"]["负责人"] == name and by_id["R-X2"]["应对措施"] == "daily check"

    workbook = load_workbook(io.BytesIO(logic.to_excel(sheet, "风险登记册")))
    values = list(workbook["风险登记册"].values)
    assert list(values[0]) == sheet.columns
    assert [list(row) for row in values[1:]] == [list(row) for row in sheet.iter_rows()]


# ------------------------------------------------------------------ the page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_shows_register_and_heat_map_in_both_languages(demo_app: Settings, lang: str) -> None:
    owner, name = _person(demo_app)
    past = date.today() - timedelta(days=2)
    save_edits(demo_app, [
        EditChange("risks", _risk("R-P1", owner, title="Key vendor may slip", probability=4, impact=5, due_date=past)),
        EditChange("risks", _risk("R-P2", owner, title="Test rig shortage", probability=2, impact=2)),
        EditChange("risks", _risk("R-P3", owner, title="Old risk", probability=4, impact=5, status="closed",
                                  due_date=past)),
    ], "seed")
    at = run_page(PAGE, lang)

    assert at.title[0].value == t("risks.title", lang)
    table = at.dataframe[0].value
    assert table["risk_id"].tolist() == ["R-P1", "R-P3", "R-P2"]
    assert table["status"].tolist()[0] == t("risks.status.open", lang)
    assert table["owner_name"].tolist()[0] == name and table["score"].tolist() == [20, 20, 4]
    assert table["overdue"].tolist() == ["⚠", "", ""]
    assert any("R-P1" in shown(w.value) for w in at.warning)

    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert spec["title"] == t("risks.heat_title", lang)
    assert spec["layer"][0]["encoding"]["x"]["title"] == t("common.impact", lang)
    assert spec["layer"][0]["encoding"]["y"]["title"] == t("risks.axis_probability", lang)
    expected = read_frame(
        demo_app,
        "SELECT probability, impact, count(*) FROM risks WHERE status IN ('open', 'mitigating') GROUP BY ALL",
        live_edits=True,
    )
    cells = _chart_cells(at)
    assert len(cells) == 25
    assert {k: n for k, n in cells.items() if n} == {(p, i): n for p, i, n in expected.iter_rows()}
    assert [b.key for b in at.get("download_button")] == ["risks.export_csv", "risks.export_xlsx"]


def test_create_then_edit_round_trip_with_history(demo_app: Settings) -> None:
    owner, name = _person(demo_app, 2)
    task_id, key, project = _task(demo_app)
    at = run_page(PAGE, "en")
    assert at.info[0].value == t("risks.empty_none", "en")
    at.text_input(key="actor").input("alice")
    at.text_input(key="risks.f.title").input("Vendor API late")
    at.selectbox(key="risks.f.project").select(project)
    at.selectbox(key="risks.f.owner").select(owner)
    at.number_input(key="risks.f.probability").set_value(2)
    at.number_input(key="risks.f.impact").set_value(5)
    at.text_input(key="risks.f.links").input(key)
    at.checkbox(key="risks.f.confirm").check()
    at.button(key="risks.save").click().run()
    assert not at.exception and not at.error

    (row,) = edit_rows(demo_app, "risks")
    risk_id = row["risk_id"]
    assert (row["title"], row["probability"], row["impact"], row["score"]) == ("Vendor API late", 2, 5, 10)
    assert (row["owner_id"], row["project_key"], json.loads(row["linked_task_ids"])) == (owner, project, [task_id])
    assert row["updated_by"] == "alice"
    (created,) = edit_rows(demo_app, "audit_log")
    assert (created["actor"], created["row_key"], created["before"]) == ("alice", risk_id, None)
    assert at.success[0].value.startswith(t("msg.saved", "en")) and risk_id in shown(at.success[0].value)
    assert at.selectbox(key="risks.pick").value == risk_id
    assert at.dataframe[0].value["risk_id"].tolist() == [risk_id]

    at.number_input(key="risks.f.probability").set_value(4)
    at.checkbox(key="risks.f.confirm").check()
    at.button(key="risks.save").click().run()
    assert not at.exception and not at.error
    (row,) = edit_rows(demo_app, "risks")
    assert (row["probability"], row["score"]) == (4, 20)
    audit = edit_rows(demo_app, "audit_log")
    assert len(audit) == 2
    assert json.loads(audit[1]["before"])["probability"] == 2 and json.loads(audit[1]["after"])["probability"] == 4
    assert at.dataframe[0].value["score"].tolist() == [20]
    history = at.dataframe[1].value
    probability = history[history["field"] == t("risks.field.probability", "en")]
    assert probability["change"].tolist() == ["2 → 4", "— → 2"]
    assert set(history["who"]) == {"alice"}
    assert _chart_cells(at)[(4, 5)] == 1


def test_bad_input_is_refused_with_reasons_and_nothing_saved(demo_app: Settings) -> None:
    save_edit(demo_app, "risks", _risk("R-OLD", "someone.who.left@acme.cn"), "seed")
    before = edit_rows(demo_app, "audit_log")
    at = run_page(PAGE, "en")
    at.text_input(key="actor").input("alice")
    at.selectbox(key="risks.pick").select("R-OLD").run()
    assert at.text_input(key="risks.f.title").value == "Risk R-OLD"

    at.text_input(key="risks.f.title").input("")
    at.number_input(key="risks.f.probability").set_value(7)
    at.text_input(key="risks.f.links").input("NOPE-1")
    at.checkbox(key="risks.f.confirm").check()
    at.button(key="risks.save").click().run()
    assert not at.exception
    message = shown(at.error[0].value)
    for expected in (
        t("risks.err.title_required", "en"),
        t("risks.err.probability_range", "en", value=7),
        t("risks.err.unknown_owner", "en", value="someone.who.left@acme.cn"),
        t("risks.err.unknown_task", "en", value="NOPE-1"),
    ):
        assert expected in message
    assert edit_rows(demo_app, "audit_log") == before

    owner, _ = _person(demo_app)
    at.text_input(key="risks.f.title").input("Fixed title")
    at.number_input(key="risks.f.probability").set_value(3)
    at.text_input(key="risks.f.links").input("")
    at.selectbox(key="risks.f.owner").select(owner)
    at.checkbox(key="risks.f.confirm").uncheck()
    at.button(key="risks.save").click().run()
    assert [w.value for w in at.warning] == [t("risks.confirm_first", "en")]
    at.text_input(key="actor").input("")
    at.checkbox(key="risks.f.confirm").check()
    at.button(key="risks.save").click().run()
    assert t("msg.no_actor", "en") in [w.value for w in at.warning]
    assert edit_rows(demo_app, "audit_log") == before


def test_a_risk_saved_elsewhere_shows_on_the_next_rerun(demo_app: Settings) -> None:
    owner, _ = _person(demo_app)
    at = run_page(PAGE, "zh")
    assert not at.dataframe
    save_edit(demo_app, "risks", _risk("R-LIVE", owner, probability=5, impact=1), "bob")
    at.run()
    assert at.dataframe[0].value["risk_id"].tolist() == ["R-LIVE"]
    assert _chart_cells(at)[(5, 1)] == 1
