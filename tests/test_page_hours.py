"""Hours and performance page: numbers checked against independent SQL on the demo snapshot, the Excel report, the page in both languages."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta

import chinese_calendar
import duckdb
import pytest
from openpyxl import load_workbook
from streamlit.runtime.media_file_manager import MediaFileManager

from dashboards import data
from dashboards.i18n import t
from dashboards.logic import hours as logic
from tests.dashboard_app import query_of, run_page
from warehouse.settings import Settings

PAGE = "app_pages/hours.py"


def _sql(settings: Settings, query: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse.published_path), read_only=True)
    try:
        return con.execute(query, params or []).fetchall()
    finally:
        con.close()


def _last_day(settings: Settings) -> date:
    return _sql(settings, "SELECT max(started_at)::DATE FROM worklogs")[0][0]


def _default_window(settings: Settings) -> tuple[date, date]:
    last = _last_day(settings)
    return last - timedelta(days=last.weekday()) - timedelta(weeks=11), last


def _hours(settings: Settings, start: date, end: date, where: str = "TRUE", params: list | None = None) -> float:
    query = f"""SELECT coalesce(sum(w.hours), 0) FROM worklogs w LEFT JOIN tasks t USING (task_id)
                WHERE w.started_at::DATE BETWEEN ? AND ? AND {where}"""
    return float(_sql(settings, query, [start, end, *(params or [])])[0][0])


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, Callable[[], bytes]]:
    """Deferred download callables registered by the page, by file name."""
    found: dict[str, Callable[[], bytes]] = {}
    original = MediaFileManager.add_deferred

    def capture(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        found[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", capture)
    return found


# ------------------------------------------------------------------ logic


def test_default_window_ends_at_latest_worklog_and_starts_on_monday(demo_app: Settings) -> None:
    first, last = logic.worklog_bounds(query_of(demo_app))
    assert last == _last_day(demo_app)
    start, end = logic.default_window(last)
    assert end == last
    assert start.weekday() == 0
    assert (end - start).days < 12 * 7 and (end - start).days >= 11 * 7
    assert logic.week_start(date(2026, 6, 14)) == date(2026, 6, 8)
    with pytest.raises(ValueError, match="before it starts"):
        logic.HoursFilter(end, start)


def test_utilisation_of_one_person_matches_independent_sql(demo_app: Settings) -> None:
    start, end = _default_window(demo_app)
    cube = logic.hours_cube(query_of(demo_app), logic.HoursFilter(start, end))
    people = logic.people_frame(query_of(demo_app))
    weeks = logic.working_weeks(start, end, demo_app.calendar)
    table = logic.person_utilisation(cube, people, weeks)

    person, hours, capacity = _sql(
        demo_app,
        """SELECT w.person_id, sum(w.hours), any_value(coalesce(p.weekly_capacity_hours, 40))
           FROM worklogs w LEFT JOIN people p USING (person_id)
           WHERE w.started_at::DATE BETWEEN ? AND ? GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1""",
        [start, end],
    )[0]
    workdays = sum(chinese_calendar.is_workday(start + timedelta(days=n)) for n in range((end - start).days + 1))
    expected = hours / (capacity * workdays / 5)

    row = table.filter(table["person_id"] == person).row(0, named=True)
    assert row["hours"] == pytest.approx(hours)
    assert row["capacity_hours"] == pytest.approx(capacity * workdays / 5)
    assert row["utilisation"] == pytest.approx(expected)
    assert row["flag"] == ("over" if expected > 1 else "under" if expected < 0.6 else "")
    assert table["hours"].sum() == pytest.approx(_hours(demo_app, start, end))

    labels = logic.project_labels(query_of(demo_app)(data.PROJECTS_SQL, []), "none")
    weekly = logic.weekly_by_project(cube, labels, "other", max_projects=2)
    assert weekly["hours"].sum() == pytest.approx(table["hours"].sum())
    assert set(weekly["project"]) <= set(labels.values()) | {"other"}
    assert weekly["week"].dt.weekday().unique().to_list() == [1]
    pivot, capped = logic.person_week_pivot(cube, people)
    assert not capped
    assert pivot["total"].sum() == pytest.approx(table["hours"].sum())
    _, capped = logic.person_week_pivot(cube, people, max_people=3)
    assert capped


def test_project_filter_is_applied_in_sql(demo_app: Settings) -> None:
    start, end = _default_window(demo_app)
    cube = logic.hours_cube(query_of(demo_app), logic.HoursFilter(start, end, ("ERP",)))
    assert set(cube["project_key"]) == {"ERP"}
    assert cube["hours"].sum() == pytest.approx(_hours(demo_app, start, end, "t.project_key = ?", ["ERP"]))
    off_task = logic.hours_cube(query_of(demo_app), logic.HoursFilter(start, end, (logic.NO_PROJECT,)))
    assert off_task["hours"].sum() == pytest.approx(_hours(demo_app, start, end, "w.task_id IS NULL"))
    assert logic.hours_cube(query_of(demo_app), logic.HoursFilter(start, end, teams=("no such team",))).is_empty()


def test_excel_report_loads_back_and_matches_sql(demo_app: Settings) -> None:
    month = logic.report_months(query_of(demo_app))[1]
    first, following = logic.month_bounds(month)
    report = logic.monthly_report(query_of(demo_app), month, None)
    book = load_workbook(io.BytesIO(logic.report_workbook(report, "en")))
    assert book.sheetnames == ["Summary", "Tasks completed", "Worklogs"]
    summary = list(book["Summary"].values)
    assert summary[0] == ("Person", "Team", "Hours (h)", "Tasks completed", "On-time rate (%)", "Average cycle time (d)")
    sql_hours, sql_logs = _sql(
        demo_app, "SELECT sum(hours), count(*) FROM worklogs WHERE started_at >= ? AND started_at < ?", [first, following]
    )[0]
    sql_done, sql_due, sql_on_time = _sql(
        demo_app,
        """SELECT count(*), count(due_date), count(*) FILTER (WHERE resolved_at::DATE <= due_date) FROM tasks
           WHERE NOT is_deleted AND status_category = 'done' AND assignee_id IS NOT NULL
             AND resolved_at >= ? AND resolved_at < ?""",
        [first, following],
    )[0]
    assert sum(row[2] for row in summary[1:]) == pytest.approx(sql_hours)
    assert sum(row[3] for row in summary[1:]) == sql_done
    assert book["Worklogs"].max_row - 1 == sql_logs
    assert book["Tasks completed"].max_row - 1 == sql_done
    on_time = [row[7] for row in list(book["Tasks completed"].values)[1:]]
    assert on_time.count("Yes") == sql_on_time
    assert on_time.count("Yes") + on_time.count("No") == sql_due

    zh = load_workbook(io.BytesIO(logic.report_workbook(report, "zh")))
    assert zh.sheetnames == ["汇总", "完成的任务", "工时明细"]
    assert next(zh["汇总"].values)[2] == "工时 (h)"

    person = report.summary["person_id"][0]
    one = logic.monthly_report(query_of(demo_app), month, person)
    assert one.summary.height == 1
    assert one.summary["hours"][0] == pytest.approx(report.summary["hours"][0])
    rate = one.summary["on_time_rate"][0]
    due = one.tasks["on_time"].drop_nulls()
    assert rate == (pytest.approx(due.sum() / due.len()) if due.len() else None)
    assert logic.report_file_name(month, "陈 静") == f"lodestar-hours-{month:%Y-%m}-陈_静.xlsx"


def test_empty_month_gives_an_empty_report(demo_app: Settings) -> None:
    report = logic.monthly_report(query_of(demo_app), date(1999, 1, 1), None)
    assert report.summary.is_empty() and report.tasks.is_empty() and report.worklogs.is_empty()
    book = load_workbook(io.BytesIO(logic.report_workbook(report, "zh")))
    assert book["汇总"].max_row == 1


# ------------------------------------------------------------------ page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_shows_hours_utilisation_and_report(
    demo_app: Settings, lang: str, downloads: dict[str, Callable[[], bytes]]
) -> None:
    at = run_page(PAGE, lang)
    assert at.title[0].value == t("page.hours", lang)
    start, end = _default_window(demo_app)
    total = _hours(demo_app, start, end)
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics[t("hours.kpi.hours", lang)] == t("unit.hours", lang, value=f"{total:,.0f}")
    assert not at.error

    people_table = at.dataframe[0].value
    person, hours = _sql(
        demo_app,
        """SELECT coalesce(p.display_name, w.person_id), sum(w.hours) FROM worklogs w LEFT JOIN people p USING (person_id)
           WHERE w.started_at::DATE BETWEEN ? AND ? GROUP BY 1 ORDER BY 2 DESC LIMIT 1""",
        [start, end],
    )[0]
    assert people_table.loc[people_table["display_name"] == person, "hours"].iloc[0] == pytest.approx(hours)
    assert set(people_table["status"]) <= {t(f"hours.flag.{flag}", lang) for flag in ("over", "under", "ok")}
    pivot = at.dataframe[1].value
    assert pivot["total"].sum() == pytest.approx(total)

    month = logic.report_months(query_of(demo_app))[0]
    first, following = logic.month_bounds(month)
    month_hours = _sql(demo_app, "SELECT sum(hours) FROM worklogs WHERE started_at >= ? AND started_at < ?", [first, following])[0][0]
    assert metrics[t("hours.kpi.month_hours", lang)] == t("unit.hours", lang, value=f"{month_hours:,.1f}")
    name = f"lodestar-hours-{month:%Y-%m}-all.xlsx"
    book = load_workbook(io.BytesIO(downloads[name]()))
    assert book.sheetnames[0] == t("hours.report.summary_tab", lang)
    assert sum(row[2] for row in list(book.worksheets[0].values)[1:]) == pytest.approx(month_hours)


def test_filters_and_personal_report_through_widgets(demo_app: Settings, downloads: dict[str, Callable[[], bytes]]) -> None:
    at = run_page(PAGE, "en")
    start, end = _default_window(demo_app)
    at.multiselect(key="hours_projects").set_value(["ERP"]).run()
    assert not at.exception
    metrics = {metric.label: metric.value for metric in at.metric}
    erp = _hours(demo_app, start, end, "t.project_key = ?", ["ERP"])
    assert metrics["Hours logged"] == f"{erp:,.0f} h"
    assert any("Filtered by project" in caption.value for caption in at.caption)

    narrow = (end - timedelta(days=6), end)
    at.multiselect(key="hours_projects").set_value([]).run()
    at.date_input(key="hours_window").set_value(narrow).run()
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Hours logged"] == f"{_hours(demo_app, *narrow):,.0f} h"

    month = logic.report_months(query_of(demo_app))[1]
    first, following = logic.month_bounds(month)
    person, name, hours = _sql(
        demo_app,
        """SELECT w.person_id, p.display_name, sum(w.hours) FROM worklogs w JOIN people p USING (person_id)
           WHERE started_at >= ? AND started_at < ? GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 1""",
        [first, following],
    )[0]
    at.selectbox(key="hours_report_month").select(month).run()
    at.selectbox(key="hours_report_person").select(person).run()
    assert not at.exception
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Tasks completed"] == str(
        _sql(
            demo_app,
            """SELECT count(*) FROM tasks WHERE NOT is_deleted AND status_category = 'done' AND assignee_id = ?
               AND resolved_at >= ? AND resolved_at < ?""",
            [person, first, following],
        )[0][0]
    )
    assert metrics["Hours in month"] == f"{hours:,.1f} h"
    at.segmented_control(key="hours_report_detail").set_value("worklogs").run()
    worklogs = at.dataframe[-1].value
    assert worklogs["hours"].sum() == pytest.approx(hours) and set(worklogs["display_name"]) == {name}
    book = load_workbook(io.BytesIO(downloads[logic.report_file_name(month, name)]()))
    rows = list(book["Summary"].values)
    assert len(rows) == 2 and rows[1][0] == name and rows[1][2] == pytest.approx(hours)


def test_warehouse_without_worklogs_says_so(demo_app: Settings) -> None:
    con = duckdb.connect(str(demo_app.warehouse.published_path))
    try:
        con.execute("DELETE FROM worklogs")
    finally:
        con.close()
    at = run_page(PAGE, "en")
    assert [info.value for info in at.info] == [t("hours.no_worklogs", "en")]
