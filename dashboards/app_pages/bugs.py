"""Bugs page: bugs with the tasks they affect, the opened/closed trend, ageing and defect density.

Layout and widgets only; the queries are in `dashboards.logic.bugs`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from dashboards import common, data, safe_text
from dashboards.i18n import t
from dashboards.logic import bugs as logic
from warehouse.db import WarehouseError

PROJECT_KEY = "bugs_project"
PRIORITY_KEY = "bugs_priority"


def _filters(ctx: common.PageContext, query: data.Query) -> logic.BugFilter | None:
    left, right = st.columns(2)
    project = common.project_picker(
        ctx, PROJECT_KEY, where=left, with_tasks=True, all_key="bugs.all_projects", empty_key="bugs.no_projects"
    )
    if project is None:
        return None
    options = logic.priorities(query, project.key)
    stored = st.session_state.get(PRIORITY_KEY) or []
    st.session_state[PRIORITY_KEY] = [value for value in stored if value in options]
    chosen = right.multiselect(
        t("bugs.priority"),
        options,
        key=PRIORITY_KEY,
        format_func=lambda value: safe_text.clip(value) or t("bugs.no_priority"),
        help=t("bugs.priority_help"),
    )
    return logic.BugFilter(project.key, tuple(chosen))


def _metrics(summary: logic.Summary) -> None:
    linked = "—" if summary.linked_share is None else f"{summary.linked_bugs:,} ({summary.linked_share:.0%})"
    values = [
        ("bugs.metric.total", f"{summary.bugs:,}"),
        ("bugs.metric.open", f"{summary.open_bugs:,}"),
        ("common.closed", f"{summary.closed_bugs:,}"),
        ("bugs.metric.linked", linked),
        ("bugs.metric.median_age", common.format_days(summary.median_open_age_days)),
    ]
    for column, (label, value) in zip(st.columns(len(values)), values):
        column.metric(t(label), value)


def _trend(flow: pl.DataFrame) -> None:
    st.subheader(t("bugs.trend_header"))
    week, bugs = t("bugs.trend.week"), t("bugs.col.bugs")
    labels = {"created": t("bugs.trend.created"), "resolved": t("bugs.trend.resolved")}
    measure = t("common.measure")
    flow_chart = (
        alt.Chart(logic.trend_long(flow, labels), title=t("bugs.trend.flow_title"))
        .mark_line(point=True)
        .encode(
            x=alt.X("week:T", title=week),
            y=alt.Y("bugs:Q", title=bugs),
            color=alt.Color("measure:N", title=measure, sort=list(labels.values())),
            tooltip=[alt.Tooltip("week:T", title=week), alt.Tooltip("measure:N", title=measure),
                     alt.Tooltip("bugs:Q", title=bugs)],
        )
    )
    open_chart = (
        alt.Chart(flow, title=t("bugs.trend.open_title"))
        .mark_area(opacity=0.4, line=True)
        .encode(
            x=alt.X("week:T", title=week),
            y=alt.Y("open_bugs:Q", title=t("bugs.metric.open")),
            tooltip=[alt.Tooltip("week:T", title=week), alt.Tooltip("open_bugs:Q", title=t("bugs.metric.open"))],
        )
    )
    left, right = st.columns(2)
    left.altair_chart(flow_chart, width="stretch")
    right.altair_chart(open_chart, width="stretch")
    if flow.height >= logic.MAX_TREND_WEEKS:
        st.caption(t("bugs.trend.capped", weeks=logic.MAX_TREND_WEEKS))


def _ageing(ages: pl.DataFrame) -> None:
    st.subheader(t("bugs.ageing_header"))
    if int(ages["open_bugs"].sum()) == 0:
        st.info(t("bugs.ageing.none_open"))
        return
    labelled = ages.with_columns(
        pl.col("bucket").replace_strict({b: t(f"bugs.bucket.{b}") for b, _, _ in logic.AGE_BUCKETS}).alias("label")
    )
    bucket, count = t("bugs.ageing.bucket"), t("common.open_bugs")
    order = labelled["label"].to_list()
    bars = alt.Chart(labelled, title=t("bugs.ageing.title")).encode(
        x=alt.X("label:N", title=bucket, sort=order, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("open_bugs:Q", title=count),
        tooltip=[alt.Tooltip("label:N", title=bucket), alt.Tooltip("open_bugs:Q", title=count)],
    )
    chart = bars.mark_bar() + bars.mark_text(dy=-8).encode(text="open_bugs:Q")
    left, right = st.columns([2, 1])
    left.altair_chart(chart, width="stretch")
    right.dataframe(
        labelled.select("label", "open_bugs"),
        hide_index=True,
        column_config={
            "label": st.column_config.TextColumn(bucket),
            "open_bugs": st.column_config.NumberColumn(count, format="%d"),
        },
    )


def _table(table: pl.DataFrame) -> None:
    st.subheader(t("bugs.table_header"))
    st.caption(t("bugs.table_caption"))
    total = int(table["total"][0])
    if total > table.height:
        st.caption(t("bugs.table_capped", total=f"{total:,}", shown=f"{table.height:,}"))
    cc = st.column_config
    shown = common.localize_timestamps(
        table.select("bug_key", "title", "project_key", "status", "priority", "assignee", "created_at",
                     "resolved_at", "age_days", "affected_count", "affected", "url")
    )
    st.dataframe(
        shown,
        hide_index=True,
        column_config={
            "bug_key": cc.TextColumn(t("common.key")),
            "title": cc.TextColumn(t("common.title"), width="medium"),
            "project_key": cc.TextColumn(t("common.project")),
            "status": cc.TextColumn(t("common.status")),
            "priority": cc.TextColumn(t("bugs.priority")),
            "assignee": cc.TextColumn(t("common.assignee")),
            "created_at": cc.DatetimeColumn(t("bugs.col.created"), format="YYYY-MM-DD"),
            "resolved_at": cc.DatetimeColumn(t("bugs.col.resolved"), format="YYYY-MM-DD"),
            "age_days": cc.NumberColumn(t("bugs.col.age"), format="%d"),
            "affected_count": cc.NumberColumn(t("bugs.col.affected_count"), format="%d"),
            "affected": cc.ListColumn(t("bugs.col.affected"), width="large"),
            "url": cc.LinkColumn(t("common.link"), display_text="↗"),
        },
    )


def _density_columns(name_column: str, name_label: str, bugs_label: str) -> dict[str, Any]:
    cc = st.column_config
    return {
        name_column: cc.TextColumn(name_label),
        "bugs": cc.NumberColumn(bugs_label, format="%d"),
        "open_bugs": cc.NumberColumn(t("common.open_bugs"), format="%d"),
        "work_items": cc.NumberColumn(t("bugs.col.work_items"), format="%d"),
        "estimate_hours": cc.NumberColumn(t("bugs.col.estimate_hours"), format="%,.0f"),
        "per_100_items": cc.NumberColumn(t("bugs.col.per_100_items"), format="%.1f"),
        "per_100_hours": cc.NumberColumn(t("bugs.col.per_100_hours"), format="%.2f"),
        "assigned_bugs": cc.NumberColumn(t("bugs.col.assigned_bugs"), format="%d"),
        "open_assigned_bugs": cc.NumberColumn(t("bugs.col.open_assigned_bugs"), format="%d"),
    }


def _capped(frame: pl.DataFrame) -> None:
    total = int(frame["total"][0])
    if total > frame.height:
        st.caption(t("bugs.density.capped", total=total, shown=frame.height))


def _density(modules: pl.DataFrame, people: pl.DataFrame) -> None:
    st.subheader(t("bugs.density_header"))
    by_module, by_person = st.tabs([t("bugs.density.by_module"), t("common.by_person")])
    with by_module:
        st.caption(t("bugs.density.module_caption"))
        if modules.is_empty():
            st.info(t("bugs.density.none"))
        else:
            _capped(modules)
            shown = modules.with_columns(
                pl.when(pl.col("module") == logic.NO_MODULE).then(pl.lit(t("bugs.no_module")))
                .otherwise(pl.col("module")).alias("module")
            ).drop("total")
            st.dataframe(shown, hide_index=True,
                         column_config=_density_columns("module", t("bugs.col.module"), t("bugs.col.bugs")))
    with by_person:
        st.caption(t("bugs.density.person_caption"))
        if people.is_empty() or int(people["bugs"].sum()) == 0:
            st.info(t("bugs.density.no_links"))
        if not people.is_empty():
            _capped(people)
            st.dataframe(
                people.drop("person_id", "total"),
                hide_index=True,
                column_config=_density_columns("person", t("common.person"), t("bugs.col.person_bugs")),
            )


def _content(query: data.Query, where: logic.BugFilter, as_of: date) -> None:
    summary = logic.summary(query, where, as_of)
    if summary.bugs == 0:
        st.info(t("bugs.no_bugs"))
        return
    _metrics(summary)
    st.caption(t("bugs.as_of", as_of=common.format_date(as_of)))
    _trend(logic.trend(query, where, as_of))
    _ageing(logic.ageing(query, where, as_of))
    _table(logic.bug_table(query, where, as_of))
    _density(logic.module_density(query, where), logic.person_density(query, where))


def render() -> None:
    """Draw the page."""
    st.title(t("bugs.title"))
    ctx = common.page_context()
    if ctx is None:
        return
    query = common.page_query(ctx)
    try:
        where = _filters(ctx, query)
        if where is not None:
            _content(query, where, data.as_of(query))
    except (WarehouseError, ValueError) as error:
        common.show_error(error)


render()
