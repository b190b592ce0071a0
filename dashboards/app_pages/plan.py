"""Plan editor: planned dates, owners, estimates and dependencies; baselines; levelling; exports.

Layout only; rules and writes live in `dashboards.logic.plan`. Every write
path is a form with explicit widget keys and an "I confirm" box, is
validated first (all reasons shown, nothing written if any fails), goes to
the edits store in one `save_edits` transaction with its audit entries, and
is visible on every page on the next rerun because pages read with live
edits. The bulk grid is a convenience over the same checks; the single-task
form reaches every field without it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from dashboards import common, safe_text
from dashboards.i18n import current_lang, t
from dashboards.logic import gantt as schedule_logic
from dashboards.logic import plan as logic
from warehouse.db import WarehouseError, save_edits
from warehouse.settings import ConfigError

PROJECT_KEY = "plan_project"
FLASH_KEY = "plan_flash"
LEVEL_KEY = "plan_levelled"
LOADED_KEY = "plan_task_loaded"
CONFIRM_KEYS = ("plan_task_confirm", "plan_dep_confirm", "plan_bulk_confirm", "plan_baseline_confirm",
                "plan_level_confirm")
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)

# Every dependency of the project as scheduling sees it (tool links unless edited, plus edits), summaries
# included. No bare strings at module level here: Streamlit's magic would print them on the page.
PROJECT_LINKS_SQL = """
WITH project_tasks AS (SELECT task_id FROM tasks WHERE project_key = ? AND NOT is_deleted),
edited AS (SELECT from_task_id, to_task_id, dependency, lag_days, is_deleted FROM plan_dependencies),
links AS (
    SELECT l.from_task_id, l.to_task_id, l.dependency, l.lag_days, false AS edited
    FROM task_links l
    WHERE l.link_type IN ('blocks', 'depends_on')
      AND NOT EXISTS (SELECT 1 FROM edited e WHERE e.from_task_id = l.from_task_id AND e.to_task_id = l.to_task_id)
    UNION ALL
    SELECT from_task_id, to_task_id, dependency, lag_days, true AS edited FROM edited WHERE NOT is_deleted
)
SELECT from_task_id, to_task_id, coalesce(dependency, 'FS') AS dependency, coalesce(lag_days, 0.0) AS lag_days, edited
FROM links
WHERE from_task_id IN (SELECT task_id FROM project_tasks) AND to_task_id IN (SELECT task_id FROM project_tasks)
ORDER BY from_task_id, to_task_id
"""

PLAN_EDITS_SQL = """
SELECT p.task_id, coalesce(t.source_key, p.task_id) AS task_key, t.title, p.planned_start, p.planned_finish,
       p.assignee_id, p.estimate_hours, p.updated_at, p.updated_by
FROM plan_tasks p JOIN tasks t USING (task_id)
WHERE t.project_key = ?
ORDER BY p.updated_at DESC NULLS LAST, p.task_id
LIMIT 500
"""

AUDIT_SQL = """
SELECT edited_at, actor, table_name, row_key, action, before, after
FROM audit_log
WHERE (table_name IN ('plan_tasks', 'plan_dependencies')
       AND split_part(row_key, '|', 1) IN (SELECT task_id FROM tasks WHERE project_key = ?))
   OR (table_name = 'baselines' AND starts_with(row_key, ? || ':'))
ORDER BY audit_id DESC
LIMIT 50
"""

BASELINES_SQL = """
SELECT b.baseline_id, b.name, b.created_at, b.created_by,
       (SELECT count(*) FROM baseline_tasks bt WHERE bt.baseline_id = b.baseline_id) AS tasks
FROM baselines b WHERE b.project_key = ?
ORDER BY b.created_at DESC, b.baseline_id
"""


# ---------------------------------------------------------------- helpers


def _flash(message: str, *, reload_task: bool = False) -> None:
    """Show `message` after a rerun that picks up the new edit, with every confirm box cleared."""
    st.session_state[FLASH_KEY] = message
    if reload_task:
        st.session_state.pop(LOADED_KEY, None)
    st.rerun()


def _show_flash() -> None:
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        for key in CONFIRM_KEYS:
            st.session_state[key] = False
        st.success(message)


def _show_problems(problems: list[common.Problem]) -> None:
    st.error(safe_text.refusal(t("plan.not_saved"), problems))


def _ready_to_save(confirmed: bool) -> str | None:
    """The actor, or None after saying why the save cannot go ahead."""
    actor = common.current_actor()
    if not actor:
        st.warning(t("msg.no_actor"))
        return None
    if not confirmed:
        st.warning(t("plan.confirm_needed"))
        return None
    return actor


def _save(ctx: common.PageContext, changes: list, actor: str, message: str, *, reload_task: bool = False) -> None:
    try:
        save_edits(ctx.settings, changes, actor)
    except (WarehouseError, ValueError) as error:
        st.error(t("msg.edit_error", message=safe_text.message(error)))
        return
    _flash(message, reload_task=reload_task)


# ---------------------------------------------------------------- one task


def _task_tab(ctx: common.PageContext, sched: schedule_logic.ProjectSchedule, labels: dict[str, str],
              people: dict[str, str]) -> None:
    leaves = sched.tasks.filter(~pl.col("is_summary"))
    task_id = st.selectbox(t("common.task"), leaves["task_id"].to_list(), key="plan_task",
                           format_func=lambda task: labels.get(task, task))
    current = logic.task_values(sched.tasks, task_id)
    if current is None:
        return
    marker = f"{sched.project_key}|{task_id}"
    if st.session_state.get(LOADED_KEY) != marker:
        st.session_state["plan_start"] = current.planned_start
        st.session_state["plan_finish"] = current.planned_finish
        st.session_state["plan_owner"] = current.assignee_id or ""
        st.session_state["plan_estimate"] = current.estimate_hours
        st.session_state[LOADED_KEY] = marker
    row = leaves.filter(pl.col("task_id") == task_id).row(0, named=True)
    st.caption(t(
        "plan.task_caption",
        start=common.format_date(row["tool_start"]), finish=common.format_date(row["tool_finish"]),
        early_start=common.format_date(row["early_start"]), early_finish=common.format_date(row["early_finish"]),
    ))
    owners = ["", *people]
    if current.assignee_id and current.assignee_id not in people:
        owners.append(current.assignee_id)
    owner_labels = {"": t("common.unassigned"), **people}
    with st.form("plan_task_form"):
        columns = st.columns(4)
        start = columns[0].date_input(t("plan.planned_start"), key="plan_start",
                                      min_value=MIN_DATE, max_value=MAX_DATE)
        finish = columns[1].date_input(t("plan.planned_finish"), key="plan_finish",
                                       min_value=MIN_DATE, max_value=MAX_DATE)
        owner = columns[2].selectbox(t("common.owner"), owners, key="plan_owner",
                                     format_func=lambda p: owner_labels.get(p, p))
        estimate = columns[3].number_input(t("plan.estimate"), key="plan_estimate", step=1.0, format="%.1f")
        confirmed = st.checkbox(t("plan.confirm"), key="plan_task_confirm")
        submitted = st.form_submit_button(t("common.save"), key="plan_task_save", type="primary")
    if not submitted:
        return
    after = logic.TaskValues(task_id, start, finish, owner or None, estimate)
    changes = logic.changed_fields(current, after)
    actor = _ready_to_save(confirmed)
    if actor is None:
        return
    if not changes:
        st.info(t("plan.nothing_changed"))
        return
    summaries = sched.tasks.filter(pl.col("is_summary"))["task_id"].to_list()
    problems = logic.validate_task_edit(current, changes, task_label=labels.get(task_id, task_id),
                                        people=people, summaries=summaries)
    if problems:
        _show_problems(problems)
        return
    _save(ctx, [logic.task_change(task_id, changes, actor)], actor, t("plan.saved_tasks", count=1),
          reload_task=True)


# ---------------------------------------------------------------- dependencies


def _dependency_tab(ctx: common.PageContext, sched: schedule_logic.ProjectSchedule, labels: dict[str, str],
                    links: pl.DataFrame) -> None:
    task_ids = sched.tasks["task_id"].to_list()
    type_labels = {kind: t(f"plan.dep_type_{kind}") for kind in logic.LINK_TYPES}
    action_labels = {"add": t("plan.dep_add"), "remove": t("plan.dep_remove")}
    with st.form("plan_dep_form"):
        ends = st.columns(2)
        from_id = ends[0].selectbox(t("plan.dep_from"), task_ids, key="plan_dep_from",
                                    format_func=lambda task: labels.get(task, task))
        to_id = ends[1].selectbox(t("plan.dep_to"), task_ids, key="plan_dep_to", index=min(1, len(task_ids) - 1),
                                  format_func=lambda task: labels.get(task, task))
        details = st.columns(3)
        kind = details[0].selectbox(t("plan.dep_type"), logic.LINK_TYPES, key="plan_dep_type",
                                    format_func=type_labels.__getitem__)
        lag = details[1].number_input(t("plan.dep_lag"), value=0.0, step=1.0, key="plan_dep_lag")
        action = details[2].radio(t("common.action"), list(action_labels), key="plan_dep_action",
                                  format_func=action_labels.__getitem__, horizontal=True)
        confirmed = st.checkbox(t("plan.confirm"), key="plan_dep_confirm")
        submitted = st.form_submit_button(t("common.save"), key="plan_dep_save", type="primary")
    if submitted:
        edit = logic.DependencyEdit(from_id, to_id, kind, float(lag if lag is not None else 0.0),
                                    remove=action == "remove")
        actor = _ready_to_save(confirmed)
        if actor is not None:
            problems = logic.validate_dependency(
                edit, tasks=task_ids, summaries=sched.tasks.filter(pl.col("is_summary"))["task_id"].to_list(),
                links=list(zip(links["from_task_id"], links["to_task_id"])), labels=labels,
            )
            if problems:
                _show_problems(problems)
            else:
                _save(ctx, [logic.dependency_change(edit, actor)], actor, t("plan.dep_saved"))
    st.subheader(t("plan.dep_current"))
    if links.is_empty():
        st.info(t("plan.dep_none"))
        return
    table = logic.dependency_table(links, links.filter(pl.col("edited")), labels)
    cc = st.column_config
    st.dataframe(
        table.select("from_label", "to_label", "dependency", "lag_days", "edited"),
        column_config={
            "from_label": cc.TextColumn(t("plan.dep_from")),
            "to_label": cc.TextColumn(t("plan.dep_to")),
            "dependency": cc.TextColumn(t("common.type")),
            "lag_days": cc.NumberColumn(t("plan.col_lag"), format="%.1f"),
            "edited": cc.CheckboxColumn(t("plan.col_edited")),
        },
        hide_index=True,
    )


# ---------------------------------------------------------------- bulk grid


def _bulk_tab(ctx: common.PageContext, sched: schedule_logic.ProjectSchedule, labels: dict[str, str],
              people: dict[str, str]) -> None:
    st.caption(t("plan.bulk_help"))
    phases = sched.tasks.filter(pl.col("is_summary") & (pl.col("depth") == 0))
    phase_labels = {"": t("plan.bulk_all"), **{p: labels.get(p, p) for p in phases["task_id"]}}
    phase = st.selectbox(t("plan.bulk_phase"), list(phase_labels), key="plan_bulk_phase",
                         format_func=lambda p: phase_labels.get(p, p))
    leaves = sched.tasks.filter(~pl.col("is_summary"))
    if phase:
        leaves = leaves.filter(pl.col("phase_id") == phase)
    if leaves.height > logic.GRID_CAP:
        st.caption(t("plan.bulk_capped", total=f"{leaves.height:,}", shown=f"{logic.GRID_CAP:,}"))
    grid = leaves.head(logic.GRID_CAP).select("task_id", "task_key", "name", *logic.TASK_FIELDS)
    cc = st.column_config
    with st.form("plan_bulk_form"):
        edited = st.data_editor(
            grid,
            key="plan_bulk_grid",
            hide_index=True,
            disabled=["task_id", "task_key", "name"],
            column_config={
                "task_id": None,
                "task_key": cc.TextColumn(t("common.key")),
                "name": cc.TextColumn(t("common.task")),
                "planned_start": cc.DateColumn(t("plan.planned_start"), min_value=MIN_DATE, max_value=MAX_DATE),
                "planned_finish": cc.DateColumn(t("plan.planned_finish"), min_value=MIN_DATE, max_value=MAX_DATE),
                "assignee_id": cc.SelectboxColumn(t("common.owner"), options=list(people),
                                                  format_func=lambda p: people.get(p, p)),
                "estimate_hours": cc.NumberColumn(t("plan.estimate"), format="%.1f"),
            },
        )
        confirmed = st.checkbox(t("plan.confirm"), key="plan_bulk_confirm")
        submitted = st.form_submit_button(t("common.save"), key="plan_bulk_save", type="primary")
    if not submitted:
        return
    if not isinstance(edited, pl.DataFrame):
        edited = pl.from_pandas(edited)
    edits = logic.grid_edits(grid, edited)
    actor = _ready_to_save(confirmed)
    if actor is None:
        return
    if not edits:
        st.info(t("plan.nothing_changed"))
        return
    summaries = sched.tasks.filter(pl.col("is_summary"))["task_id"].to_list()
    problems = [
        problem
        for task_id, changes in edits
        for problem in logic.validate_task_edit(
            logic.task_values(sched.tasks, task_id), changes, task_label=labels.get(task_id, task_id),
            people=people, summaries=summaries,
        )
    ]
    if problems:
        _show_problems(problems)
        return
    _save(ctx, [logic.task_change(task_id, changes, actor) for task_id, changes in edits], actor,
          t("plan.saved_tasks", count=len(edits)), reload_task=True)


# ---------------------------------------------------------------- baselines


def _baseline_tab(ctx: common.PageContext, project: str) -> None:
    st.caption(t("plan.baseline_help"))
    with st.form("plan_baseline_form"):
        name = st.text_input(t("plan.baseline_name"), key="plan_baseline_name", max_chars=logic.BASELINE_NAME_MAX)
        confirmed = st.checkbox(t("plan.confirm"), key="plan_baseline_confirm")
        submitted = st.form_submit_button(t("plan.baseline_save"), key="plan_baseline_save", type="primary")
    if submitted:
        actor = _ready_to_save(confirmed)
        if actor is not None:
            problems = logic.validate_baseline_name(name)
            if problems:
                _show_problems(problems)
            else:
                try:
                    _, count = logic.save_live_baseline(ctx.settings, project, name, actor)
                except (WarehouseError, ValueError) as error:
                    st.error(t("msg.edit_error", message=safe_text.message(error)))
                else:
                    _flash(t("plan.baseline_saved", name=safe_text.markdown(name), count=count))
    st.subheader(t("plan.baseline_list"))
    baselines = common.cached_query(ctx, BASELINES_SQL, [project], live_edits=True)
    if baselines.is_empty():
        st.info(t("plan.baseline_none"))
        return
    cc = st.column_config
    st.dataframe(
        common.localize_timestamps(baselines.drop("baseline_id")),
        column_config={
            "name": cc.TextColumn(t("common.name")),
            "created_at": cc.DatetimeColumn(t("plan.col_created_at"), format="YYYY-MM-DD HH:mm"),
            "created_by": cc.TextColumn(t("plan.col_created_by")),
            "tasks": cc.NumberColumn(t("common.tasks"), format="%d"),
        },
        hide_index=True,
    )


# ---------------------------------------------------------------- levelling


def _comparison_chart(frame: pl.DataFrame) -> alt.Chart:
    before, after = t("plan.level_before"), t("plan.level_after")
    labels = list(dict.fromkeys(frame["label"].to_list()))
    return (
        alt.Chart(frame, title=t("plan.level_chart_title"))
        .mark_bar(cornerRadius=2)
        .encode(
            x=alt.X("start:T", title=t("common.date"), axis=alt.Axis(format="%Y-%m-%d", orient="top")),
            x2="end:T",
            y=alt.Y("label:N", title=t("common.task"), scale=alt.Scale(domain=labels),
                    axis=alt.Axis(labelLimit=300)),
            yOffset=alt.YOffset("version:N", scale=alt.Scale(domain=[before, after])),
            color=alt.Color("version:N", title=t("plan.level_version"),
                            scale=alt.Scale(domain=[before, after], range=["#bdbdbd", "#3182bd"])),
            tooltip=[
                alt.Tooltip("label:N", title=t("common.task")),
                alt.Tooltip("version:N", title=t("plan.level_version")),
                alt.Tooltip("start:T", title=t("plan.planned_start"), format="%Y-%m-%d"),
                alt.Tooltip("end:T", title=t("plan.planned_finish"), format="%Y-%m-%d"),
                alt.Tooltip("delay_days:Q", title=t("plan.level_delay")),
            ],
        )
        .properties(height=max(120, len(labels) * 28 + 40))
    )


def _levelling_tab(ctx: common.PageContext, project: str, labels: dict[str, str]) -> None:
    st.caption(t("plan.level_help"))
    columns = st.columns([1, 1, 2])
    seconds = columns[0].number_input(t("plan.level_seconds"), min_value=1, max_value=60, value=5, step=1,
                                      key="plan_level_seconds")
    if columns[1].button(t("plan.level_run"), key="plan_level_run"):
        try:
            with st.spinner(t("plan.level_running")):
                st.session_state[LEVEL_KEY] = logic.run_levelling(ctx.settings, project, ctx.edits, float(seconds))
        except (WarehouseError, ValueError) as error:
            st.error(t("plan.level_failed", message=safe_text.message(error)))
            return
    outcome: logic.LevellingOutcome | None = st.session_state.get(LEVEL_KEY)
    if outcome is None or outcome.project_key != project:
        return
    metrics = st.columns(3)
    metrics[0].metric(t("plan.level_before_end"), common.format_date(outcome.unlevelled_end))
    metrics[1].metric(t("plan.level_after_end"), common.format_date(outcome.levelled_end))
    metrics[2].metric(t("plan.level_moved"), f"{outcome.moved:,}")
    st.caption(t("plan.level_method", method=outcome.method, seconds=f"{outcome.seconds:.1f}",
                 optimal=t("plan.level_optimal") if outcome.optimal else ""))
    for warning in outcome.warnings[:5]:
        st.caption(safe_text.message(warning))
    if not outcome.rows:
        st.info(t("plan.level_nothing"))
    else:
        frame = logic.comparison_frame(outcome, labels, t("plan.level_before"), t("plan.level_after"))
        if outcome.moved > frame.height // 2:
            st.caption(t("plan.level_capped", shown=frame.height // 2, total=outcome.moved))
        st.altair_chart(_comparison_chart(frame), width="stretch")
    stale = outcome.edits != ctx.edits
    if stale:
        st.warning(t("plan.level_stale"))
    confirmed = st.checkbox(t("plan.level_confirm"), key="plan_level_confirm", disabled=stale or not outcome.rows)
    buttons = st.columns([1, 1, 4])
    accept = buttons[0].button(t("plan.level_accept"), key="plan_level_accept", type="primary",
                               disabled=stale or not outcome.rows)
    if buttons[1].button(t("plan.level_discard"), key="plan_level_discard"):
        st.session_state.pop(LEVEL_KEY, None)
        _flash(t("plan.level_discarded"))
    if accept:
        actor = _ready_to_save(confirmed)
        if actor is not None:
            changes = logic.levelling_changes(outcome, actor)
            st.session_state.pop(LEVEL_KEY, None)
            _save(ctx, changes, actor, t("plan.level_accepted", count=len(changes)), reload_task=True)


# ---------------------------------------------------------------- exports and history


def _export_tab(ctx: common.PageContext, project: str, project_name: str) -> None:
    st.caption(t("plan.export_help"))
    settings, chinese = ctx.settings, current_lang() == "zh"

    def make(kind: str):
        # Built when clicked, on Streamlit's download thread: no st.* calls in here.
        return lambda: logic.export_bytes(settings, project, kind, chinese=chinese, project_name=project_name)

    columns = st.columns(3)
    columns[0].download_button(t("common.download_csv"), make("csv"), file_name=f"{project}-plan.csv",
                               mime="text/csv", key="plan_export_csv")
    columns[1].download_button(
        t("plan.export_xlsx"), make("xlsx"), file_name=f"{project}-plan.xlsx", key="plan_export_xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    columns[2].download_button(t("plan.export_xml"), make("xml"), file_name=f"{project}-plan.xml",
                               mime="application/xml", key="plan_export_xml")


def _history_tab(ctx: common.PageContext, project: str, people: dict[str, str]) -> None:
    cc = st.column_config
    st.subheader(t("plan.history_edits"))
    edits = common.cached_query(ctx, PLAN_EDITS_SQL, [project], live_edits=True)
    if edits.is_empty():
        st.info(t("plan.history_none"))
    else:
        edits = common.localize_timestamps(edits).with_columns(
            pl.col("assignee_id").replace_strict(people, default=pl.col("assignee_id"))
        )
        st.dataframe(
            edits.drop("task_id"),
            column_config={
                "task_key": cc.TextColumn(t("common.key")),
                "title": cc.TextColumn(t("common.task")),
                "planned_start": cc.DateColumn(t("plan.planned_start")),
                "planned_finish": cc.DateColumn(t("plan.planned_finish")),
                "assignee_id": cc.TextColumn(t("common.owner")),
                "estimate_hours": cc.NumberColumn(t("plan.estimate"), format="%.1f"),
                "updated_at": cc.DatetimeColumn(t("plan.col_updated_at"), format="YYYY-MM-DD HH:mm"),
                "updated_by": cc.TextColumn(t("common.changed_by")),
            },
            hide_index=True,
        )
    st.subheader(t("plan.history_audit"))
    audit = common.cached_query(ctx, AUDIT_SQL, [project, project], live_edits=True)
    if audit.is_empty():
        st.info(t("plan.history_none"))
        return
    st.dataframe(
        common.localize_timestamps(audit),
        column_config={
            "edited_at": cc.DatetimeColumn(t("common.when"), format="YYYY-MM-DD HH:mm:ss"),
            "actor": cc.TextColumn(t("plan.col_actor")),
            "table_name": cc.TextColumn(t("common.table")),
            "row_key": cc.TextColumn(t("plan.col_row")),
            "action": cc.TextColumn(t("common.action")),
            "before": cc.TextColumn(t("plan.col_before")),
            "after": cc.TextColumn(t("plan.col_after")),
        },
        hide_index=True,
    )


def render() -> None:
    """Draw the page."""
    st.title(t("plan.title"))
    _show_flash()
    ctx = common.page_context()
    if ctx is None:
        return
    project = common.project_picker(ctx, PROJECT_KEY)
    if project is None:
        return
    try:
        sched = schedule_logic.cached_project_schedule(ctx.settings, ctx.snapshot, ctx.edits, project.key)
        people_frame = common.cached_query(
            ctx, "SELECT person_id, coalesce(display_name, person_id) AS name FROM people ORDER BY name, person_id"
        )
        links = common.cached_query(ctx, PROJECT_LINKS_SQL, [project.key], live_edits=True)
    except (WarehouseError, ConfigError, ValueError) as error:
        common.show_error(error)
        return
    st.caption(t("plan.intro"))
    if sched.is_empty or sched.tasks.filter(~pl.col("is_summary")).is_empty():
        st.info(t("plan.no_tasks", project=safe_text.markdown(project.key)))
        return
    if sched.problem:
        st.warning(t("plan.cpm_problem", message=safe_text.message(sched.problem)))
    # Names and task labels are shown in select boxes, messages and the levelling chart: clipped once here.
    people = {pid: safe_text.clip(name) for pid, name in zip(people_frame["person_id"], people_frame["name"])}
    labels = schedule_logic.task_labels(sched.tasks)
    tabs = st.tabs([t(key) for key in logic.TAB_LABELS])
    sections: list[Any] = [
        lambda: _task_tab(ctx, sched, labels, people),
        lambda: _dependency_tab(ctx, sched, labels, links),
        lambda: _bulk_tab(ctx, sched, labels, people),
        lambda: _baseline_tab(ctx, project.key),
        lambda: _levelling_tab(ctx, project.key, labels),
        lambda: _export_tab(ctx, project.key, project.name),
        lambda: _history_tab(ctx, project.key, people),
    ]
    for tab, section in zip(tabs, sections):
        with tab:
            try:
                section()
            except (WarehouseError, ValueError) as error:
                common.show_error(error)


render()
