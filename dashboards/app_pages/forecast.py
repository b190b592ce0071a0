"""Forecast page: a project's finish distribution, its milestones, "how many by date D" and the delay-risk ranking.

Layout and widgets only; the simulation, queries and wording of model
factors are in `dashboards.logic.forecast`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from dashboards import common, data, safe_text
from dashboards.i18n import current_lang, t
from dashboards.logic import forecast as logic
from warehouse.db import WarehouseError
from warehouse.settings import Settings

PROJECT_KEY = "forecast_project"
BY_DATE_KEY = "forecast_by_date"
HISTORY_KEY = "forecast_history_weeks"
RISK_ROWS_KEY = "forecast_risk_rows"
RISK_ROW_CHOICES = (10, 25, 50, 100)
DEFAULT_HORIZON_DAYS = 28
MAX_HORIZON_DAYS = 3 * 365


@st.cache_data(ttl=common.CACHE_TTL_SECONDS, show_spinner=False)
def _simulation(
    _settings: Settings, snapshot: str, edits: int, project_key: str, status_date: date, due_date: date | None
) -> logic.ProjectSimulation | None:
    """The live Monte Carlo, once per snapshot, edit and project: reruns and other widgets reuse it."""
    return logic.simulate_project(_settings, project_key, status_date, due_date)


@st.cache_data(ttl=common.CACHE_TTL_SECONDS, show_spinner=False)
def _throughput(
    snapshot: str, open_count: int, weeks: pl.DataFrame, start: date, when: date
) -> logic.ThroughputForecast:
    return logic.forecast_throughput(open_count, weeks, start, when)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


TAIL_CUT = 0.99


def _cdf_chart(sim: logic.ProjectSimulation) -> alt.LayerChart:
    """Share of runs finished by each day, with P50/P85/P95 and the due date as labelled rules."""
    day, share = t("forecast.chart.day"), t("forecast.chart.share")
    # The slowest 1 % of runs can stretch the axis by years and squash the part that matters.
    drawn = sim.distribution.filter(pl.col("share_done").shift(1, fill_value=0.0) < TAIL_CUT)
    line = (
        alt.Chart(drawn, title=t("forecast.chart.title"))
        .mark_line(interpolate="step-after", point=True)
        .encode(
            x=alt.X("day:T", title=day),
            y=alt.Y("share_done:Q", title=share, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            tooltip=[
                alt.Tooltip("day:T", title=day),
                alt.Tooltip("share_done:Q", title=share, format=".0%"),
                alt.Tooltip("runs:Q", title=t("forecast.chart.runs")),
            ],
        )
    )
    markers = [{"marker": f"P{p}", "day": sim.finish[p]} for p in logic.PERCENTILES]
    if sim.due_date is not None:
        markers.append({"marker": t("common.due"), "day": sim.due_date})
    marker_frame = pl.DataFrame(markers, schema={"marker": pl.String, "day": pl.Date})
    marker_title = t("forecast.chart.marker")
    rules = (
        alt.Chart(marker_frame)
        .mark_rule(strokeDash=[4, 3])
        .encode(
            x=alt.X("day:T", title=day),
            color=alt.Color("marker:N", title=marker_title, sort=[m["marker"] for m in markers]),
            tooltip=[alt.Tooltip("marker:N", title=marker_title), alt.Tooltip("day:T", title=day)],
        )
    )
    return alt.layer(line, rules)


def _finish_section(ctx: common.PageContext, project_key: str, published: dict[str, Any] | None) -> None:
    st.subheader(t("forecast.finish_header"))
    status_date = logic.status_date_for(published, ctx.settings)
    due_date = published["due_date"] if published else None
    try:
        sim = _simulation(ctx.settings, ctx.snapshot, ctx.edits, project_key, status_date, due_date)
    except logic.NotSchedulable as error:
        st.warning(t("forecast.not_schedulable", message=safe_text.message(error)))
        return
    except (WarehouseError, ValueError) as error:
        common.show_error(error)
        return
    if sim is None:
        st.info(t("forecast.nothing_open"))
        return

    values = [
        ("forecast.metric.p50", common.format_date(sim.finish[50]), None),
        ("forecast.metric.p85", common.format_date(sim.finish[85]), t("forecast.metric.p85_help")),
        ("forecast.metric.p95", common.format_date(sim.finish[95]), None),
        ("forecast.metric.due", common.format_date(sim.due_date), None),
        ("forecast.metric.on_time", _percent(sim.probability_on_time), None),
    ]
    # Three to a row: a date in a fifth of the page gets cut off.
    for start in range(0, len(values), 3):
        for column, (label, value, help_text) in zip(st.columns(3), values[start:start + 3]):
            column.metric(t(label), value, help=help_text)
    st.altair_chart(_cdf_chart(sim), width="stretch")
    st.caption(t("forecast.chart.tail"))
    st.caption(
        t("forecast.live_caption", runs=f"{sim.runs:,}", status_date=common.format_date(sim.status_date),
          predicted=sim.predicted_tasks)
    )
    if published:
        st.caption(
            t(
                "forecast.published_caption",
                as_of=common.format_date(published["as_of"]),
                runs=f"{published['runs']:,}" if published["runs"] is not None else "—",
                p50=common.format_date(published["finish_p50"]),
                p85=common.format_date(published["finish_p85"]),
                p95=common.format_date(published["finish_p95"]),
                on_time=_percent(published["probability_on_time"]),
            )
        )
    else:
        st.caption(t("forecast.no_published"))
    _milestones(sim.milestones)


def _milestones(milestones: pl.DataFrame) -> None:
    st.subheader(t("forecast.milestones_header"))
    st.caption(t("forecast.milestones_caption"))
    if milestones.is_empty():
        st.info(t("forecast.no_milestones"))
        return
    shown = milestones.head(logic.MAX_MILESTONES).with_columns(
        pl.col("type_category").map_elements(
            lambda kind: t(logic.TYPE_LABELS[kind]) if kind in logic.TYPE_LABELS else kind,
            return_dtype=pl.String,
        )
    )
    if milestones.height > shown.height:
        st.caption(t("forecast.milestones_capped", total=milestones.height, shown=shown.height))
    cc = st.column_config
    st.dataframe(
        shown.drop("task_id"),
        hide_index=True,
        column_config={
            "task_key": cc.TextColumn(t("common.key")),
            "title": cc.TextColumn(t("common.title")),
            "type_category": cc.TextColumn(t("common.type")),
            "p50": cc.DateColumn(t("forecast.col.p50")),
            "p85": cc.DateColumn(t("forecast.col.p85")),
            "p95": cc.DateColumn(t("forecast.col.p95")),
            "due_date": cc.DateColumn(t("forecast.col.due")),
            "probability_on_time": cc.ProgressColumn(
                t("forecast.col.on_time"), format="percent", min_value=0.0, max_value=1.0
            ),
        },
    )


def _keep_date_in_range(key: str, low: date, high: date, default: date) -> None:
    stored = st.session_state.get(key)
    if not isinstance(stored, date) or not low <= stored <= high:
        st.session_state[key] = default


def _by_date_section(ctx: common.PageContext, query: data.Query, project_key: str, start: date) -> None:
    st.subheader(t("forecast.by_date_header"))
    low, high = start + timedelta(days=1), start + timedelta(days=MAX_HORIZON_DAYS)
    _keep_date_in_range(BY_DATE_KEY, low, high, start + timedelta(days=DEFAULT_HORIZON_DAYS))
    left, right = st.columns(2)
    when = left.date_input(t("forecast.by_date"), min_value=low, max_value=high, key=BY_DATE_KEY)
    weeks = right.slider(t("forecast.history_weeks"), min_value=4, max_value=52, value=logic.DEFAULT_HISTORY_WEEKS,
                         key=HISTORY_KEY)
    try:
        history = logic.throughput_history(query, project_key, int(weeks))
        open_count = logic.open_tasks(query, project_key)
    except (WarehouseError, ValueError) as error:
        common.show_error(error)
        return
    if history.is_empty():
        st.info(t("forecast.by_date.no_history"))
        return
    result = _throughput(ctx.snapshot, open_count, history, start, when)
    columns = st.columns(3)
    columns[0].metric(t("common.open_tasks"), f"{open_count:,}")
    for column, p in zip(columns[1:], logic.THROUGHPUT_PERCENTILES):
        column.metric(
            t(f"forecast.by_date.p{p}"),
            t("forecast.by_date.value", count=f"{result.done_by[p]:,}"),
            t("forecast.by_date.share", share=_percent(result.share(p))),
            delta_color="off",
            delta_arrow="off",
        )
    if (when - start).days + 1 < 7:
        st.caption(t("forecast.by_date.too_soon", start=common.format_date(start)))
    if result.all_done is None:
        st.warning(t("forecast.by_date.stalled"))
    else:
        st.caption(
            t("forecast.by_date.all_done", open=f"{open_count:,}", p50=common.format_date(result.all_done[50]),
              p85=common.format_date(result.all_done[85]))
        )
    st.caption(
        t(
            "forecast.by_date.caption",
            runs=f"{logic.THROUGHPUT_RUNS:,}",
            weeks=history.height,
            first=common.format_date(history["first_day"].min()),
            last=common.format_date(history["last_day"].max()),
            mean=f"{result.mean_weekly:,.1f}",
            start=common.format_date(start),
        )
    )


def _risk_section(query: data.Query, project_key: str) -> None:
    st.subheader(t("forecast.risk_header"))
    rows = st.select_slider(t("common.rows_shown"), options=RISK_ROW_CHOICES, value=logic.DEFAULT_RISK_ROWS,
                            key=RISK_ROWS_KEY)
    try:
        ranking = logic.risk_ranking(query, project_key, int(rows))
    except (WarehouseError, ValueError) as error:
        common.show_error(error)
        return
    if ranking.is_empty():
        st.info(t("forecast.no_risks"))
        return
    st.caption(t("forecast.risk_caption", total=int(ranking["ranked_total"][0]), shown=ranking.height))
    lang = current_lang()
    factors = [logic.readable_factors(logic.factors_in(row, lang), lang) for row in ranking.iter_rows(named=True)]
    table = ranking.with_columns(pl.Series("factors", factors, dtype=pl.String)).select(
        "task_key", "title", "assignee", "status", "due_date", "delay_probability", "remaining_p50_days",
        "remaining_p90_days", "finish_p85", "factors", "url",
    )
    cc = st.column_config
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "task_key": cc.TextColumn(t("common.key")),
            "title": cc.TextColumn(t("common.title")),
            "assignee": cc.TextColumn(t("common.assignee")),
            "status": cc.TextColumn(t("common.status")),
            "due_date": cc.DateColumn(t("forecast.col.due")),
            "delay_probability": cc.ProgressColumn(
                t("forecast.col.delay"), format="percent", min_value=0.0, max_value=1.0
            ),
            "remaining_p50_days": cc.NumberColumn(t("forecast.col.remaining_p50"), format="%.1f"),
            "remaining_p90_days": cc.NumberColumn(t("forecast.col.remaining_p90"), format="%.1f"),
            "finish_p85": cc.DateColumn(t("forecast.col.finish_p85")),
            "factors": cc.TextColumn(t("forecast.col.factors"), width="large"),
            "url": cc.LinkColumn(t("common.link"), display_text="↗"),
        },
    )


@st.cache_data(ttl=3600, show_spinner=False)
def _accuracy(_settings, snapshot: str, project_key: str) -> dict:
    return logic.forecast_accuracy(_settings, project_key)


def _accuracy_section(ctx: common.PageContext, project_key: str) -> None:
    """Past forecasts against what happened, beside the two naive forecasts (on request: it takes seconds)."""
    st.subheader(t("forecast.accuracy_header"))
    st.caption(t("forecast.accuracy_help"))
    run_key = f"forecast_accuracy_{project_key}"
    if st.button(t("forecast.accuracy_run"), key="forecast_accuracy_run"):
        st.session_state[run_key] = True
    if not st.session_state.get(run_key):
        return
    try:
        with st.spinner(t("forecast.accuracy_running")):
            report = _accuracy(ctx.settings, ctx.snapshot, project_key)
    except (WarehouseError, ValueError) as error:
        common.show_error(error)
        return
    percent = "—" if report["coverage_p10_p90"] is None else f"{report['coverage_p10_p90']:.0%}"
    ece = "—" if report["delay_ece"] is None else f"{report['delay_ece']:.2f}"
    brier = "—" if report["delay_brier"] is None else f"{report['delay_brier']:.2f}"
    columns = st.columns(3)
    columns[0].metric(t("forecast.accuracy_coverage"), percent, help=t("forecast.accuracy_coverage_help"))
    columns[1].metric(t("forecast.accuracy_ece"), ece, help=t("forecast.accuracy_ece_help"))
    columns[2].metric(t("forecast.accuracy_brier"), brier)
    st.caption(t("forecast.accuracy_scored", scored=report["scored_status_dates"]["total"],
                 burn_in=report["burn_in"]["status_dates"]))
    _reliability_chart(report["delay_calibration"].get("reliability") or [])
    row = next((p for p in report["projects"] if p["project_key"] == project_key), None)
    if row is None:
        st.info(t("forecast.accuracy_none"))
        return
    st.dataframe(
        [{"forecast": t(f"forecast.accuracy_{name}"), "error": row[f"{name}_error_days_8w"]}
         for name in ("p50", "p85", "plan", "throughput")],
        hide_index=True,
        column_config={"forecast": st.column_config.TextColumn(t("forecast.accuracy_forecast")),
                       "error": st.column_config.NumberColumn(t("forecast.accuracy_error"), format="%.1f")},
    )


def _reliability_chart(bins: list[dict]) -> None:
    """Reliability diagram: predicted delay probability per bin against the share that was late."""
    points = [b for b in bins if b["n"]]
    if not points:
        return
    frame = pl.DataFrame({"predicted": [b["mean_predicted"] for b in points],
                          "observed": [b["observed_rate"] for b in points], "n": [b["n"] for b in points]})
    axis = alt.Scale(domain=[0, 1])
    diagonal = alt.Chart(pl.DataFrame({"x": [0.0, 1.0]})).mark_line(strokeDash=[4, 4], color="grey").encode(
        x=alt.X("x:Q", scale=axis), y=alt.Y("x:Q", scale=axis))
    dots = alt.Chart(frame).mark_circle().encode(
        x=alt.X("predicted:Q", scale=axis, title=t("forecast.accuracy_predicted")),
        y=alt.Y("observed:Q", scale=axis, title=t("forecast.accuracy_observed")),
        size=alt.Size("n:Q", title=t("common.tasks")),
        tooltip=[alt.Tooltip("predicted:Q", format=".2f", title=t("forecast.accuracy_predicted")),
                 alt.Tooltip("observed:Q", format=".2f", title=t("forecast.accuracy_observed")),
                 alt.Tooltip("n:Q", title=t("common.tasks"))])
    st.altair_chart((diagonal + dots).properties(height=260, title=t("forecast.accuracy_reliability")),
                    width="stretch")


def render() -> None:
    """Draw the page."""
    st.title(t("forecast.title"))
    ctx = common.page_context()
    if ctx is None:
        return
    project = common.project_picker(ctx, PROJECT_KEY, with_tasks=True, empty_key="forecast.no_projects")
    if project is None:
        return
    query = common.page_query(ctx, live_edits=True)
    try:
        published = logic.published_forecast(query, project.key)
    except (WarehouseError, ValueError) as error:
        common.show_error(error)
        return

    _finish_section(ctx, project.key, published)
    _by_date_section(ctx, query, project.key, logic.status_date_for(published, ctx.settings))
    _risk_section(query, project.key)
    _accuracy_section(ctx, project.key)


render()
