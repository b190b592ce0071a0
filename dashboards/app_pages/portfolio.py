"""Portfolio page: where every project stands, at a glance.

Layout only; queries and numbers come from `dashboards.data`, words from
`dashboards.i18n`. Problems are shown as messages, never as tracebacks.
"""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from dashboards import common, data
from dashboards.safe_text import clip, message
from dashboards.i18n import t
from warehouse.db import WarehouseError


def _project_columns() -> dict[str, object]:
    """Translated headers (hours say "h" there; money cells carry their project's currency) and number formats."""
    cc = st.column_config
    return {
        "health": cc.TextColumn(t("col.health")),
        "health_reason": cc.TextColumn(t("common.why"), width="large"),
        "spi": cc.NumberColumn(t("col.spi"), format="%.2f"),
        "cpi": cc.NumberColumn(t("col.cpi"), format="%.2f"),
        "hours_vs_plan": cc.NumberColumn(t("col.hours_vs_plan"), format="percent"),
        "budget_used": cc.ProgressColumn(t("col.budget_used"), format="percent", min_value=0.0, max_value=1.0),
        "defect_density": cc.NumberColumn(t("col.defect_density"), format="%.1f"),
        "finish_p85": cc.DateColumn(t("col.finish_p85")),
        "project_key": cc.TextColumn(t("col.project_key")),
        "project_name": cc.TextColumn(t("common.project")),
        "tasks_total": cc.NumberColumn(t("common.tasks"), format="%,d"),
        "completion_rate": cc.ProgressColumn(t("kpi.completion"), format="percent", min_value=0.0, max_value=1.0),
        "overdue_tasks": cc.NumberColumn(t("col.overdue"), format="%,d"),
        "hours_this_month": cc.NumberColumn(t("col.hours_month"), format="%,.1f"),
        "open_bugs": cc.NumberColumn(t("common.open_bugs"), format="%,d"),
        "budget": cc.TextColumn(t("common.budget")),
        "cost_to_date": cc.TextColumn(t("col.cost")),
        "due_date": cc.DateColumn(t("common.due")),
    }


def _trend_chart(trend: pl.DataFrame) -> alt.Chart:
    """Open tasks (solid) and cumulative resolved (dashed) per project over time."""
    labels = {measure: t(key) for measure, key in data.TREND_MEASURES.items()}
    long = data.trend_long(trend, labels)
    return (
        alt.Chart(long, title=t("chart.trend_title"))
        .mark_line()
        .encode(
            x=alt.X("day:T", title=t("common.date")),
            y=alt.Y("value:Q", title=t("common.tasks")),
            color=alt.Color("project_name:N", title=t("common.project")),
            strokeDash=alt.StrokeDash("measure:N", title=t("common.measure"), sort=list(labels.values())),
            tooltip=[
                alt.Tooltip("project_name:N", title=t("common.project")),
                alt.Tooltip("day:T", title=t("common.date")),
                alt.Tooltip("measure:N", title=t("common.measure")),
                alt.Tooltip("value:Q", title=t("common.tasks")),
            ],
        )
    )


def _data_health(query: data.Query) -> None:
    """A failing source or set-aside records change what the numbers below mean: say so above them."""
    try:
        health = data.data_health(query)
    except WarehouseError:
        return
    for row in health.failing_sources.iter_rows(named=True):
        st.warning(t("portfolio.source_failing", source=clip(row["source"]), error=message(row["last_error"] or ""),
                     since=common.format_date(row["failing_since"]), last=common.format_date(row["last_success_at"])))
    if health.quarantine.is_empty() and health.planning_failures.is_empty():
        return
    records = int(health.quarantine["records"].sum()) if not health.quarantine.is_empty() else 0
    fields = int(health.quarantine["fields"].sum()) if not health.quarantine.is_empty() else 0
    with st.expander(t("portfolio.data_notes", records=records, fields=fields,
                       projects=health.planning_failures["project_key"].n_unique())):
        if not health.quarantine.is_empty():
            st.caption(t("portfolio.quarantine_help"))
            st.dataframe(health.quarantine, hide_index=True, column_config={
                "source": st.column_config.TextColumn(t("portfolio.col_source")),
                "records": st.column_config.NumberColumn(t("portfolio.col_records"), format="%d"),
                "fields": st.column_config.NumberColumn(t("portfolio.col_fields"), format="%d"),
            })
        if not health.planning_failures.is_empty():
            st.dataframe(health.planning_failures, hide_index=True, column_config={
                "project_key": st.column_config.TextColumn(t("col.project_key")),
                "stage": st.column_config.TextColumn(t("portfolio.col_stage")),
                "message": st.column_config.TextColumn(t("common.why"), width="large"),
            })


def render() -> None:
    """Draw the page."""
    st.title(t("portfolio.title"))
    ctx = common.page_context()
    if ctx is None:
        return
    query = common.page_query(ctx)
    try:
        kpis = data.portfolio_kpis(query)
        trend = data.portfolio_trend(query)
    except WarehouseError as error:
        common.show_error(error)
        return

    _data_health(query)
    if kpis.is_empty():
        st.info(t("msg.no_projects"))
        return

    totals = data.portfolio_totals(kpis)
    if totals.as_of is not None:
        st.caption(t("msg.as_of", as_of=totals.as_of.isoformat()))
    metrics = data.metric_values(totals)
    for column, (label_key, value) in zip(st.columns(len(metrics)), metrics.items()):
        column.metric(t(label_key), value)

    st.subheader(t("portfolio.projects_header"))
    st.dataframe(data.project_table(kpis, t, common.format_money), column_config=_project_columns(), hide_index=True)

    st.subheader(t("portfolio.trend_header"))
    if trend.is_empty():
        st.info(t("msg.no_trend"))
        return
    shown = data.busiest_projects(kpis)
    if len(shown) < kpis.height:
        st.caption(t("portfolio.trend_capped", shown=len(shown), total=kpis.height))
        trend = trend.filter(pl.col("project_key").is_in(shown))
    st.altair_chart(_trend_chart(trend), width="stretch")


render()
