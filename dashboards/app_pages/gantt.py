"""Gantt page: one project's WBS as bars, with critical path, baseline, forecasts and dependencies.

Layout only; the schedule comes from `dashboards.logic.gantt` (planning
engine on the live plan, cached per snapshot and edit), words from
`dashboards.i18n`. Big projects stay usable because the WBS opens at the
deepest level that fits about 250 rows, filters keep the summaries above
what they match, and the chart draws at most `ROW_CAP` rows and says so.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from dashboards import common, safe_text
from dashboards.i18n import t
from dashboards.logic import gantt as logic
from warehouse.db import WarehouseError
from warehouse.settings import ConfigError

ROW_PX = 22
LABEL_PX = 300
BAR_PX = 12
STATUS_COLOURS = {"todo": "#9ecae1", "in_progress": "#3182bd", "done": "#74c476", "summary": "#525252"}
STATUS_LABELS = {
    "todo": "gantt.status_todo", "in_progress": "common.in_progress", "done": "common.done",
    "summary": "gantt.status_summary",
}
CRITICAL_COLOUR = "#d62728"
PROJECT_KEY = "gantt_project"
RESET_ON_PROJECT = ("gantt_people", "gantt_phases", "gantt_collapsed", "gantt_depth", "gantt_baseline")
DEPTH_FOR_KEY = "gantt_depth_for"
# What a task row shows, in tooltip order: label key and Vega-Lite type (N text, T date, Q number).
FIELDS = {
    "task_key": ("common.key", "N"),
    "name": ("common.task", "N"),
    "wbs": ("gantt.col_wbs", "N"),
    "start": ("gantt.col_start", "T"),
    "finish": ("gantt.col_finish", "T"),
    "assignee": ("common.assignee", "N"),
    "status_label": ("common.status", "N"),
    "float_days": ("gantt.col_float", "Q"),
    "path_label": ("gantt.critical", "N"),
    "baseline_start": ("gantt.col_baseline_start", "T"),
    "baseline_finish": ("gantt.col_baseline_finish", "T"),
    "p50_finish": ("gantt.col_p50", "T"),
    "p90_finish": ("gantt.col_p90", "T"),
    "whisker_label": ("gantt.col_whisker", "N"),
}
TABLE_COLUMNS = {"name": "label", "path_label": "is_critical"}
"""Where the task table shows a field through another column of the row."""


def _reset_filters() -> None:
    """Filters name tasks and people of one project; a new project starts from its defaults."""
    for key in RESET_ON_PROJECT:
        st.session_state.pop(key, None)


def _status_labels() -> dict[str, str]:
    return {status: t(STATUS_LABELS[status]) for status in STATUS_COLOURS}


def _chart_frame(rows: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    """Chart columns: bar ends (a bar covers its finish day), translated status and path, names."""
    statuses = _status_labels()
    sources = {"model": t("gantt.source_model"), "simulation": t("gantt.source_simulation")}
    return rows.select(
        "task_id", "task_key", "wbs", "label", "is_summary", "is_milestone", "is_critical", "start", "finish",
        "baseline_start", "baseline_finish", "p50_finish", "p90_finish",
        finish_end=pl.col("finish").dt.offset_by("1d"),
        baseline_end=pl.col("baseline_finish").dt.offset_by("1d"),
        status_label=pl.when(pl.col("is_summary")).then(pl.lit(statuses["summary"]))
        .otherwise(pl.col("status_category").fill_null("todo").replace_strict(statuses, default=statuses["todo"])),
        path_label=pl.when(pl.col("is_critical")).then(pl.lit(t("gantt.critical")))
        .otherwise(pl.lit(t("gantt.not_critical"))),
        name=pl.col("name").map_elements(safe_text.clip, return_dtype=pl.String),
        assignee=pl.col("assignee_id").replace_strict(names, default=pl.col("assignee_id")),
        whisker_label=pl.col("whisker_source").replace_strict(sources, default=None),
        float_days=pl.col("total_float_days").round(1),
    )


def _critical_stroke() -> alt.Stroke:
    """Red outline on critical tasks; the legend lists only "critical" (the others have no outline)."""
    critical = t("gantt.critical")
    return alt.Stroke(
        "path_label:N",
        title=t("gantt.legend_path"),
        scale=alt.Scale(domain=[critical, t("gantt.not_critical")], range=[CRITICAL_COLOUR, "transparent"]),
        legend=alt.Legend(values=[critical], symbolFillColor="#ffffff", symbolStrokeWidth=2),
    )


def _tooltip() -> list[alt.Tooltip]:
    return [
        alt.Tooltip(f"{name}:{kind}", title=t(key), **({"format": "%Y-%m-%d"} if kind == "T" else {}))
        for name, (key, kind) in FIELDS.items()
    ]


def _gantt_chart(
    frame: pl.DataFrame,
    arrows: pl.DataFrame,
    today: date,
    title: str,
    *,
    show_baseline: bool,
    show_whiskers: bool,
) -> alt.LayerChart:
    """Bars by status with critical outline, then baseline, whiskers, milestones, arrows and today."""
    statuses = _status_labels()
    y = alt.Y(
        "label:N",
        title=t("gantt.axis_task"),
        scale=alt.Scale(domain=frame["label"].to_list(), paddingInner=0.25),
        axis=alt.Axis(
            labelLimit=LABEL_PX - 10, labelFontSize=11, labelAlign="left", labelPadding=LABEL_PX,
            titleAngle=0, titleAlign="left", titleBaseline="bottom", titleX=-LABEL_PX, titleY=-6,
        ),
    )
    x_title = t("common.date")
    base = alt.Chart(frame)
    bars = (
        base.transform_filter("!datum.is_milestone && isValid(datum.start)")
        .mark_bar(cornerRadius=2, strokeWidth=2)
        .encode(
            x=alt.X("start:T", title=x_title, axis=alt.Axis(format="%Y-%m-%d", orient="top", grid=True)),
            x2="finish_end:T",
            y=y,
            size=alt.condition("datum.is_summary", alt.value(BAR_PX // 2), alt.value(BAR_PX)),
            color=alt.Color(
                "status_label:N",
                title=t("common.status"),
                scale=alt.Scale(domain=list(statuses.values()), range=list(STATUS_COLOURS.values())),
            ),
            stroke=_critical_stroke(),
            tooltip=_tooltip(),
        )
    )
    layers: list[Any] = [bars]
    if show_baseline:
        layers.append(
            base.transform_filter("isValid(datum.baseline_start) && isValid(datum.baseline_end)")
            .mark_bar(size=4, color="#8c8c8c", opacity=0.9, yOffset=BAR_PX // 2 + 3)
            .encode(x="baseline_start:T", x2="baseline_end:T", y=y, tooltip=_tooltip())
        )
    if show_whiskers:
        whisker_rows = base.transform_filter("isValid(datum.p50_finish) && isValid(datum.p90_finish)")
        layers.append(
            whisker_rows.mark_rule(color="#111111", strokeWidth=1.5)
            .encode(x="p50_finish:T", x2="p90_finish:T", y=y, tooltip=_tooltip())
        )
        layers.append(
            whisker_rows.mark_tick(color="#111111", thickness=1.5, size=BAR_PX)
            .encode(x="p90_finish:T", y=y, tooltip=_tooltip())
        )
    layers.append(
        base.transform_filter("datum.is_milestone && isValid(datum.start)")
        .mark_point(shape="diamond", filled=True, size=140, color="#111111")
        .encode(
            x="start:T",
            y=y,
            stroke=_critical_stroke(),
            tooltip=_tooltip(),
        )
    )
    if not arrows.is_empty():
        arrow_base = alt.Chart(arrows)
        layers.append(
            arrow_base.mark_line(color="#555555", strokeWidth=1, interpolate="step-after")
            .encode(x="x:T", y=y, detail="link:N", order="point:Q")
        )
        layers.append(
            arrow_base.transform_filter("datum.point == 1")
            .mark_point(shape="triangle-right", filled=True, size=40, color="#555555")
            .encode(x="x:T", y=y)
        )
    today_frame = pl.DataFrame({"day": [today], "what": [t("gantt.today")]})
    layers.append(
        alt.Chart(today_frame)
        .mark_rule(color="#ff7f0e", strokeWidth=2, strokeDash=[6, 3])
        .encode(x="day:T", tooltip=[alt.Tooltip("what:N", title=t("gantt.today")),
                                    alt.Tooltip("day:T", title=x_title, format="%Y-%m-%d")])
    )
    height = max(160, frame.height * ROW_PX + 40)
    return alt.layer(*layers).properties(title=title, height=height)


def _table_columns() -> dict[str, Any]:
    """The tooltip's fields, so both name them alike; a table reads better with the indented label and a check box."""
    cc = st.column_config
    kinds = {"N": cc.TextColumn, "T": cc.DateColumn, "Q": partial(cc.NumberColumn, format="%.1f")}
    columns = {
        TABLE_COLUMNS.get(name, name): kinds[kind](t(key)) for name, (key, kind) in FIELDS.items()
        if name != "whisker_label"
    }
    columns["is_critical"] = cc.CheckboxColumn(t("gantt.critical"))
    return columns


def _baselines(ctx: common.PageContext, project: str) -> pl.DataFrame:
    return common.cached_query(
        ctx,
        """SELECT baseline_id, name, created_at FROM baselines
           WHERE project_key = ? ORDER BY created_at DESC, baseline_id""",
        [project],
        live_edits=True,
    )


def _baseline_dates(ctx: common.PageContext, baseline_id: str | None) -> pl.DataFrame:
    schema = {"task_id": pl.String, "baseline_start": pl.Date, "baseline_finish": pl.Date}
    if not baseline_id:
        return pl.DataFrame(schema=schema)
    frame = common.cached_query(
        ctx,
        """SELECT task_id, planned_start AS baseline_start, planned_finish AS baseline_finish
           FROM baseline_tasks WHERE baseline_id = ?""",
        [baseline_id],
        live_edits=True,
    )
    return frame.cast(schema)  # type: ignore[arg-type]


def _filters(sched: logic.ProjectSchedule, names: dict[str, str]) -> dict[str, Any]:
    """What to show: bar dates, people, phases and the task-level switches."""
    rows = sched.tasks
    phases = rows.filter(pl.col("is_summary") & (pl.col("depth") == 0))
    phase_names = logic.task_labels(phases)
    people = sorted({p for p in rows["assignee_id"].to_list() if p}, key=lambda p: names.get(p, p))
    if rows["assignee_id"].null_count():
        people.append(logic.UNASSIGNED)
    # Labels are looked up, not translated inside format_func, which may run outside the script (AppTest).
    mode_labels = {m: t(f"gantt.bars_{m}") for m in logic.BAR_MODES}
    person_labels = {p: names.get(p, p) for p in people} | {logic.UNASSIGNED: t("common.unassigned")}
    first = st.columns([2, 2, 2])
    chosen = {
        "mode": first[0].radio(
            t("gantt.bars"), logic.BAR_MODES, key="gantt_bars", horizontal=True,
            format_func=mode_labels.__getitem__, help=t("gantt.bars_help"),
        ),
        "people": first[1].multiselect(
            t("gantt.people"), people, key="gantt_people", format_func=lambda p: person_labels.get(p, p),
        ),
        "phases": first[2].multiselect(
            t("gantt.phases"), list(phase_names), key="gantt_phases",
            format_func=lambda p: phase_names.get(p, p),
        ),
    }
    switches = st.columns(4)
    chosen["critical_only"] = switches[0].checkbox(t("gantt.critical_only"), key="gantt_critical_only")
    chosen["hide_done"] = switches[1].checkbox(t("gantt.hide_done"), key="gantt_hide_done")
    chosen["links"] = switches[2].checkbox(t("gantt.show_links"), value=True, key="gantt_links")
    chosen["whiskers"] = switches[3].checkbox(t("gantt.show_whiskers"), value=True, key="gantt_whiskers")
    return chosen


def _view(ctx: common.PageContext, sched: logic.ProjectSchedule, filtered: pl.DataFrame,
          signature: str) -> dict[str, Any]:
    """How much of the WBS to open, which summaries to fold, which baseline to draw.

    The depth starts at the deepest level that fits about `DEFAULT_ROW_TARGET`
    rows of what the filters kept, and starts again whenever they change, so
    "critical tasks only" opens down to the tasks rather than showing phases.
    """
    baselines = _baselines(ctx, sched.project_key)
    baseline_names = {
        row["baseline_id"]: f"{safe_text.clip(row['name'])} ({common.format_date(row['created_at'])})"
        for row in baselines.iter_rows(named=True)
    }
    if "gantt_baseline" not in st.session_state or st.session_state["gantt_baseline"] not in ["", *baseline_names]:
        st.session_state["gantt_baseline"] = next(iter(baseline_names), "")
    baseline_names[""] = t("gantt.no_baseline")
    max_depth = int(sched.tasks["depth"].max() or 0)
    if st.session_state.get(DEPTH_FOR_KEY) != signature or "gantt_depth" not in st.session_state:
        st.session_state["gantt_depth"] = logic.default_depth(filtered)
        st.session_state[DEPTH_FOR_KEY] = signature
    columns = st.columns([2, 2, 2])
    depth = max_depth
    if max_depth > 0:
        depth = columns[0].slider(t("gantt.depth"), 0, max_depth, key="gantt_depth", help=t("gantt.depth_help"))
    summaries = filtered.filter(pl.col("is_summary") & (pl.col("depth") < depth))
    summary_names = logic.task_labels(summaries)
    if any(c not in summary_names for c in st.session_state.get("gantt_collapsed", [])):
        st.session_state["gantt_collapsed"] = [c for c in st.session_state["gantt_collapsed"] if c in summary_names]
    collapsed = columns[1].multiselect(
        t("gantt.collapsed"), list(summary_names), key="gantt_collapsed",
        format_func=lambda s: summary_names.get(s, s),
    )
    baseline = columns[2].selectbox(
        t("gantt.baseline"), list(baseline_names), key="gantt_baseline",
        format_func=lambda b: baseline_names.get(b, b),
    )
    return {"depth": depth, "collapsed": collapsed, "baseline": baseline}


def _metrics(ctx: common.PageContext, sched: logic.ProjectSchedule, shown_rows: int) -> None:
    forecast = common.cached_query(
        ctx, "SELECT finish_p50, finish_p85 FROM project_forecasts WHERE project_key = ?", [sched.project_key]
    )
    p50 = forecast["finish_p50"][0] if forecast.height else None
    p85 = forecast["finish_p85"][0] if forecast.height else None
    counts = st.columns(3)
    counts[0].metric(t("common.tasks"), f"{sched.task_count:,}")
    counts[1].metric(t("gantt.metric_critical"), f"{sched.critical_count:,}")
    counts[2].metric(t("common.rows_shown"), f"{shown_rows:,}")
    dates = st.columns(3)
    dates[0].metric(t("gantt.metric_finish"), common.format_date(sched.finish))
    dates[1].metric(t("gantt.metric_p50"), common.format_date(p50))
    dates[2].metric(t("gantt.metric_p85"), common.format_date(p85))


def render() -> None:
    """Draw the page."""
    st.title(t("gantt.title"))
    ctx = common.page_context()
    if ctx is None:
        return
    project = common.project_picker(ctx, PROJECT_KEY, on_change=_reset_filters)
    if project is None:
        return
    try:
        sched = logic.cached_project_schedule(ctx.settings, ctx.snapshot, ctx.edits, project.key)
        people = common.cached_query(ctx, "SELECT person_id, display_name FROM people")
    except (WarehouseError, ConfigError, ValueError) as error:
        common.show_error(error)
        return
    if sched.is_empty:
        st.info(t("gantt.no_tasks", project=safe_text.markdown(project.key)))
        return
    st.caption(t("gantt.status_date", date=common.format_date(sched.status_date)))
    if sched.problem:
        st.warning(t("gantt.cpm_problem", message=safe_text.message(sched.problem)))
    # Clipped once: the names are picker labels and tooltip text.
    names = {pid: safe_text.clip(name or pid) for pid, name in zip(people["person_id"], people["display_name"])}
    try:
        chosen = _filters(sched, names)
        filtered = logic.filter_rows(
            sched.tasks, sched.ancestors, people=chosen["people"], phases=chosen["phases"],
            critical_only=chosen["critical_only"], hide_done=chosen["hide_done"],
        )
        signature = repr((project.key, chosen["people"], chosen["phases"], chosen["critical_only"],
                          chosen["hide_done"]))
        view = _view(ctx, sched, filtered, signature)
        baseline = _baseline_dates(ctx, view["baseline"])
    except (WarehouseError, ValueError) as error:
        common.show_error(error)
        return

    visible = logic.visible_rows(filtered, sched.ancestors, view["depth"], view["collapsed"])
    shown, total = logic.cap_rows(visible)
    _metrics(ctx, sched, shown.height)
    if shown.is_empty():
        st.info(t("gantt.no_rows"))
        return
    if total > shown.height:
        st.warning(t("gantt.capped", total=f"{total:,}", shown=f"{shown.height:,}"))

    shown = logic.row_labels(logic.bar_dates(shown, chosen["mode"]))
    shown = shown.join(baseline, on="task_id", how="left", maintain_order="left")
    frame = _chart_frame(shown, names)
    arrows, link_total = (
        logic.link_segments(shown, sched.links) if chosen["links"] else (pl.DataFrame(), 0)
    )
    if link_total > arrows.height // 2 and chosen["links"]:
        st.caption(t("gantt.links_capped", total=f"{link_total:,}", shown=f"{arrows.height // 2:,}"))
    chart = _gantt_chart(
        frame, arrows, logic.today(ctx.settings),
        t("gantt.chart_title", project=safe_text.clip(common.project_label(project.key, project.name))),
        show_baseline=bool(view["baseline"]), show_whiskers=chosen["whiskers"],
    )
    st.altair_chart(chart, width="stretch")
    st.caption(t("gantt.legend_note"))
    with st.expander(t("gantt.table")):
        st.dataframe(
            frame.select(list(_table_columns())), column_config=_table_columns(), hide_index=True,
        )


render()
