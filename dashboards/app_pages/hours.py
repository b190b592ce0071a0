"""Hours and performance page: hours by person, project and week; utilisation; a monthly personal report.

Layout and widgets only; the queries and numbers are in `dashboards.logic.hours`.
"""

from __future__ import annotations

from datetime import date
from functools import partial

import altair as alt
import pandas as pd
import polars as pl
import streamlit as st

from dashboards import common, data, safe_text
from dashboards.i18n import current_lang, t
from dashboards.logic import hours as logic
from warehouse.db import WarehouseError

WINDOW_KEY = "hours_window"
PROJECTS_KEY = "hours_projects"
TEAMS_KEY = "hours_teams"
MONTH_KEY = "hours_report_month"
PERSON_KEY = "hours_report_person"
DETAIL_KEY = "hours_report_detail"
ALL_PEOPLE = ""
MAX_DETAIL_ROWS = 5_000
_FLAG_COLOURS = {
    "over": "background-color: rgba(220, 38, 38, 0.25)",
    "under": "background-color: rgba(245, 158, 11, 0.25)",
}


# ------------------------------------------------------------------ filters


def _window(first: date, last: date) -> tuple[date, date] | None:
    """The date range picker, starting on the last 12 weeks of data; a range outside a new snapshot's data is reset."""
    stored = st.session_state.get(WINDOW_KEY)
    if stored is None or any(not first <= day <= last for day in stored):
        st.session_state[WINDOW_KEY] = logic.default_window(last)
    chosen = st.date_input(
        t("hours.filter.window"), min_value=first, max_value=last, key=WINDOW_KEY, help=t("hours.filter.window_help")
    )
    if not isinstance(chosen, tuple) or len(chosen) != 2:
        st.info(t("hours.filter.pick_end"))
        return None
    return chosen[0], chosen[1]


def _filters(first: date, last: date, projects: pl.DataFrame, people: pl.DataFrame) -> logic.HoursFilter | None:
    labels = logic.project_labels(projects, t("hours.no_project"))
    # Labels are looked up in dicts built now, in this run's language: format functions may be called later.
    teams = {team: safe_text.clip(team) or t("common.no_team")
             for team in sorted(set(people["team"].to_list()) | {logic.NO_TEAM})}
    window_column, project_column, team_column = st.columns([2, 3, 2])
    with window_column:
        window = _window(first, last)
    chosen_projects = project_column.multiselect(
        t("hours.filter.projects"),
        options=[*labels],
        format_func=labels.__getitem__,
        key=PROJECTS_KEY,
        placeholder=t("common.all"),
    )
    chosen_teams = team_column.multiselect(
        t("hours.filter.teams"),
        options=list(teams),
        format_func=teams.__getitem__,
        key=TEAMS_KEY,
        placeholder=t("common.all"),
    )
    if window is None:
        return None
    return logic.HoursFilter(window[0], window[1], tuple(sorted(chosen_projects)), tuple(sorted(chosen_teams)))


# ------------------------------------------------------------------ sections


def _weekly_chart(cube: pl.DataFrame, projects: pl.DataFrame) -> None:
    st.subheader(t("hours.weekly_header"))
    labels = logic.project_labels(projects, t("hours.no_project"))
    weekly = logic.weekly_by_project(cube, labels, t("hours.other_projects"))
    if cube["project_key"].n_unique() > logic.MAX_CHART_PROJECTS:
        st.caption(t("hours.chart.capped", count=logic.MAX_CHART_PROJECTS))
    weekly = weekly.with_columns(pl.col("week").cast(pl.String).alias("week"))
    chart = (
        alt.Chart(weekly, title=t("hours.chart.title"))
        .mark_bar()
        .encode(
            x=alt.X("week:O", title=t("hours.chart.week"), axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("sum(hours):Q", title=t("hours.col.hours")),
            color=alt.Color("project:N", title=t("common.project")),
            tooltip=[
                alt.Tooltip("week:O", title=t("hours.chart.week")),
                alt.Tooltip("project:N", title=t("common.project")),
                alt.Tooltip("hours:Q", title=t("hours.col.hours"), format=",.1f"),
            ],
        )
    )
    st.altair_chart(chart, width="stretch")


def _utilisation_table(utilisation: pl.DataFrame) -> None:
    st.subheader(t("hours.people_header"))
    st.caption(t("hours.people_caption"))
    flag_labels = {"over": t("hours.flag.over"), "under": t("hours.flag.under"), "": t("hours.flag.ok")}
    shown = utilisation.with_columns(
        pl.col("team").replace_strict({logic.NO_TEAM: t("common.no_team")}, default=pl.col("team")),
        (pl.col("utilisation") * 100).alias("utilisation"),
        pl.col("flag").replace_strict(flag_labels, return_dtype=pl.String).alias("status"),
    )
    frame = shown.select(*logic.UTILISATION_COLUMNS, "status", "capacity_assumed").to_pandas()
    flags = frame.pop("flag")

    def highlight(column: pd.Series) -> list[str]:
        return [_FLAG_COLOURS.get(flag, "") for flag in flags]

    formats = {"hours": "{:,.1f}", "weekly_capacity": "{:,.1f}", "capacity_hours": "{:,.1f}"}
    formats["utilisation"] = "{:,.0f} %"
    styled = frame.style.apply(highlight, subset=["utilisation", "status"]).format(formats, na_rep="—")
    cc = st.column_config
    st.dataframe(
        styled,
        hide_index=True,
        column_config={
            "display_name": cc.TextColumn(t("common.person")),
            "team": cc.TextColumn(t("common.team")),
            "hours": cc.NumberColumn(t("hours.col.hours")),
            "weekly_capacity": cc.NumberColumn(t("hours.col.weekly_capacity")),
            "capacity_hours": cc.NumberColumn(t("hours.col.capacity_hours")),
            "utilisation": cc.NumberColumn(t("hours.col.utilisation")),
            "status": cc.TextColumn(t("common.status")),
            "capacity_assumed": cc.CheckboxColumn(t("hours.col.capacity_assumed")),
        },
    )


def _pivot(cube: pl.DataFrame, people: pl.DataFrame) -> None:
    st.subheader(t("hours.pivot_header"))
    pivot, capped = logic.person_week_pivot(cube, people)
    if capped:
        st.caption(t("hours.pivot_capped", count=logic.MAX_PIVOT_PEOPLE))
    cc = st.column_config
    config: dict[str, object] = {
        "display_name": cc.TextColumn(t("common.person")),
        "total": cc.NumberColumn(t("hours.col.total"), format="%,.1f"),
    }
    for name in pivot.columns[1:-1]:
        config[name] = cc.NumberColumn(common.format_date(date.fromisoformat(name)), format="%.1f")
    st.dataframe(pivot, hide_index=True, column_config=config)


def _month_label(month: date) -> str:
    """2026年6月 in Chinese, Jun 2026 in English, like `common.format_date`."""
    return f"{month.year}年{month.month}月" if current_lang() == "zh" else f"{month:%b %Y}"


def _report_section(query: data.Query, people: pl.DataFrame) -> None:
    st.subheader(t("hours.report_header"))
    months = logic.report_months(query)
    if not months:
        st.info(t("hours.report.empty"))
        return
    if st.session_state.get(MONTH_KEY) not in months:
        st.session_state.pop(MONTH_KEY, None)
    names = dict(zip(people["person_id"], people["display_name"]))
    if st.session_state.get(PERSON_KEY, ALL_PEOPLE) not in (ALL_PEOPLE, *names):
        st.session_state.pop(PERSON_KEY, None)
    month_column, person_column = st.columns(2)
    month_labels = {month: _month_label(month) for month in months}
    person_labels = {ALL_PEOPLE: t("hours.report.all_people")}
    person_labels.update((pid, safe_text.clip(name)) for pid, name in names.items())
    month = month_column.selectbox(
        t("hours.report.month"), options=months, format_func=month_labels.__getitem__, key=MONTH_KEY
    )
    person = person_column.selectbox(
        t("common.person"), options=list(person_labels), format_func=person_labels.__getitem__, key=PERSON_KEY
    )
    person_id = person or None
    report = logic.monthly_report(query, month, person_id)
    if report.summary.is_empty():
        st.info(t("hours.report.empty"))
        return
    summary = report.summary
    hours_total = float(summary["hours"].sum())
    completed = int(summary["tasks_completed"].sum())
    with_due = report.tasks["on_time"].drop_nulls()
    on_time = f"{with_due.sum() / with_due.len():.0%}" if with_due.len() else "—"
    cycle = report.tasks["cycle_days"].drop_nulls()
    metrics = st.columns(4)
    metrics[0].metric(t("hours.kpi.month_hours"), common.format_hours(hours_total))
    metrics[1].metric(t("hours.kpi.tasks_completed"), f"{completed:,}")
    metrics[2].metric(t("hours.kpi.on_time_rate"), on_time)
    metrics[3].metric(t("hours.kpi.avg_cycle"), common.format_days(float(cycle.mean()) if cycle.len() else None))
    st.caption(t("hours.report.definitions"))

    # The workbook is built only when the button is clicked (a month of everyone can take seconds), outside
    # the script run, so the language is bound now.
    lang = current_lang()
    who = names.get(person_id) if person_id else None
    st.download_button(
        t("hours.report.download"),
        data=partial(logic.report_workbook, report, lang),
        file_name=logic.report_file_name(month, who),
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="hours_report_download",
        on_click="ignore",
        icon=":material/download:",
    )
    details = {
        "summary": t("hours.report.summary_tab"),
        "tasks": t("hours.report.tasks_tab"),
        "worklogs": t("hours.report.worklogs_tab"),
    }
    common.keep_choice(DETAIL_KEY, details, "summary")
    # One table at a time rather than tabs: tabs draw all three grids on every rerun.
    detail = st.segmented_control(
        t("hours.report.detail"), options=list(details), format_func=details.__getitem__, key=DETAIL_KEY,
        label_visibility="collapsed",
    )
    cc = st.column_config
    if detail == "tasks":
        _detail(report.tasks, logic.TASK_HEADERS, {
            "due_date": cc.DateColumn(t("hours.col.due_date")),
            "resolved_on": cc.DateColumn(t("hours.col.resolved_on")),
            "on_time": cc.CheckboxColumn(t("hours.col.on_time")),
            "cycle_days": cc.NumberColumn(t("hours.col.cycle_days"), format="%.1f"),
        })
    elif detail == "worklogs":
        _detail(report.worklogs, logic.WORKLOG_HEADERS, {
            "day": cc.DateColumn(t("common.date")),
            "hours": cc.NumberColumn(t("hours.col.hours"), format="%.1f"),
        })
    else:
        st.dataframe(
            summary.drop("person_id").with_columns(
                pl.col("team").replace_strict({logic.NO_TEAM: t("common.no_team")}, default=pl.col("team")),
                pl.col("on_time_rate") * 100,
            ),
            hide_index=True,
            column_config={
                "display_name": cc.TextColumn(t("common.person")),
                "team": cc.TextColumn(t("common.team")),
                "hours": cc.NumberColumn(t("hours.col.hours"), format="%,.1f"),
                "tasks_completed": cc.NumberColumn(t("hours.col.tasks_completed"), format="%d"),
                "on_time_rate": cc.NumberColumn(t("hours.col.on_time_rate"), format="%.0f %%"),
                "avg_cycle_days": cc.NumberColumn(t("hours.col.avg_cycle_days"), format="%.1f"),
            },
        )


def _detail(frame: pl.DataFrame, headers: dict[str, str], typed: dict[str, object]) -> None:
    if frame.height > MAX_DETAIL_ROWS:
        st.caption(t("hours.report.capped", count=f"{MAX_DETAIL_ROWS:,}"))
    config = {name: st.column_config.TextColumn(t(label)) for name, label in headers.items()}
    config.update(typed)
    st.dataframe(frame.select(list(headers)).head(MAX_DETAIL_ROWS), hide_index=True, column_config=config)


def _overview(ctx: common.PageContext, query: data.Query, window: logic.HoursFilter, people: pl.DataFrame,
              projects: pl.DataFrame) -> None:
    cube = logic.hours_cube(query, window)
    if cube.is_empty():
        st.info(t("hours.no_hours"))
        return
    country = ctx.settings.calendar.country
    weeks = logic.working_weeks(window.start, window.end, ctx.settings.calendar)
    utilisation = logic.person_utilisation(cube, people, weeks)
    hours_total = float(utilisation["hours"].sum())
    capacity_total = float(utilisation["capacity_hours"].sum())
    flags = utilisation["flag"].to_list()
    metrics = st.columns(5)
    metrics[0].metric(t("hours.kpi.hours"), t("unit.hours", value=f"{hours_total:,.0f}"))
    metrics[1].metric(t("hours.kpi.people"), f"{utilisation.height:,}")
    metrics[2].metric(t("hours.kpi.utilisation"), f"{hours_total / capacity_total:.0%}" if capacity_total else "—")
    metrics[3].metric(t("hours.kpi.over"), f"{flags.count('over'):,}")
    metrics[4].metric(t("hours.kpi.under"), f"{flags.count('under'):,}")
    st.caption(
        t(
            "hours.window_caption",
            start=common.format_date(window.start),
            end=common.format_date(window.end),
            workdays=f"{weeks * 5:.0f}",
            weeks=f"{weeks:.1f}",
            country=country,
        )
    )
    assumed = int(utilisation["capacity_assumed"].sum())
    if assumed:
        st.caption(t("hours.capacity_assumed", count=assumed, hours=f"{logic.DEFAULT_WEEKLY_CAPACITY:.0f}"))
    if window.projects:
        st.caption(t("hours.project_filter_note"))
    _weekly_chart(cube, projects)
    _utilisation_table(utilisation)
    _pivot(cube, people)


# ------------------------------------------------------------------ page


def render() -> None:
    st.title(t("page.hours"))
    ctx = common.page_context()
    if ctx is None:
        return
    query = common.page_query(ctx)
    try:
        first, last = logic.worklog_bounds(query)
        people = logic.people_frame(query)
        projects = common.projects(ctx)
    except (WarehouseError, ValueError) as error:
        common.show_error(error)
        return
    if first is None or last is None:
        st.info(t("hours.no_worklogs"))
        return

    window = _filters(first, last, projects, people)
    if window is not None:
        try:
            _overview(ctx, query, window, people, projects)
        except (WarehouseError, ValueError) as error:
            common.show_error(error)

    st.divider()
    try:
        _report_section(query, people)
    except (WarehouseError, ValueError) as error:
        common.show_error(error)


render()
