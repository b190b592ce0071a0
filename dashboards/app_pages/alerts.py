"""Alerts page: the inbox of what Lodestar raised, with acknowledge / resolve / mute, and the delivery log.

Layout only; data and wording come from `dashboards.logic.alerts`, state
changes from `warehouse.alert_store` (audited). A failed delivery shows as a
banner at the top so a broken channel is never silent.
"""

from __future__ import annotations

from functools import partial
from typing import Final

import streamlit as st

from dashboards import common, safe_text
from dashboards.i18n import current_lang, t
from dashboards.logic import alerts as logic
from warehouse.alert_store import mute_rule_for_task, set_alert_state
from warehouse.db import WarehouseError, utc_now
from warehouse.settings import ConfigError

ACTIONS: Final = ("acknowledge", "resolve", "mute", "unmute")
FLASH_KEY: Final = "alerts._flash"


def _label(prefix: str, value: str, lang: str) -> str:
    return t(logic.label_key(prefix, value), lang)


def _filters(lang: str, projects: dict[str, str]) -> logic.AlertFilter:
    project_labels = {key: safe_text.clip(common.project_label(key, name)) for key, name in projects.items()}
    columns = st.columns(4)
    states = columns[0].multiselect(t("alerts.col.state"), logic.STATES, default=list(logic.ACTIVE),
                                    format_func=partial(_label, "state", lang=lang), key="alerts.filter.state")
    severities = columns[1].multiselect(t("alerts.col.severity"), logic.SEVERITIES, placeholder=t("common.all"),
                                        format_func=partial(_label, "severity", lang=lang),
                                        key="alerts.filter.severity")
    project_keys = columns[2].multiselect(t("common.project"), list(projects), placeholder=t("common.all"),
                                          format_func=project_labels.__getitem__,
                                          key="alerts.filter.project")
    rules = columns[3].multiselect(t("alerts.col.rule"), logic.rule_choices(), placeholder=t("common.all"),
                                   format_func=partial(_label, "rule", lang=lang), key="alerts.filter.rule")
    return logic.AlertFilter(tuple(states), tuple(severities), tuple(project_keys), tuple(rules))


def _columns() -> dict[str, object]:
    cc = st.column_config
    return {
        "severity": cc.TextColumn(t("alerts.col.severity")),
        "state": cc.TextColumn(t("alerts.col.state")),
        "project_key": cc.TextColumn(t("common.project")),
        "rule": cc.TextColumn(t("alerts.col.rule")),
        "title": cc.TextColumn(t("alerts.col.title"), width="large"),
        "why": cc.TextColumn(t("common.why"), width="large"),
        "impact": cc.TextColumn(t("common.impact"), width="medium"),
        "options": cc.TextColumn(t("alerts.col.options"), width="medium"),
        "owner_id": cc.TextColumn(t("alerts.col.owner")),
        "first_raised_at": cc.DatetimeColumn(t("alerts.col.first_raised"), format="YYYY-MM-DD HH:mm"),
        "notified_at": cc.DatetimeColumn(t("alerts.col.notified"), format="YYYY-MM-DD HH:mm"),
        "alert_id": None,
        "task_id": None,
    }


def _act(settings, frame, lang: str) -> None:
    st.subheader(t("alerts.act.header"))
    if FLASH_KEY in st.session_state:
        st.success(st.session_state.pop(FLASH_KEY))
    if frame.is_empty():
        return
    titles = {alert_id: safe_text.clip(title) for alert_id, title in zip(frame["alert_id"], frame["title"])}
    with st.form("alerts.act", clear_on_submit=False):
        alert_id = st.selectbox(t("alerts.act.pick"), list(titles), format_func=titles.__getitem__,
                                key="alerts.act.pick")
        action = st.radio(t("common.action"), ACTIONS, format_func=lambda a: t(f"alerts.act.{a}", lang),
                          horizontal=True, key="alerts.act.action")
        confirmed = st.checkbox(t("alerts.act.confirm"), key="alerts.act.confirm")
        submitted = st.form_submit_button(t("alerts.act.submit"), key="alerts.act.submit")
    if not submitted:
        return
    actor = common.current_actor()
    if not actor:
        st.warning(t("msg.no_actor"))
        return
    if not confirmed:
        st.warning(t("alerts.act.need_confirm"))
        return
    row = frame.filter(frame["alert_id"] == alert_id).row(0, named=True)
    try:
        if action == "acknowledge":
            set_alert_state(settings, alert_id, "acknowledged", actor)
        elif action == "resolve":
            set_alert_state(settings, alert_id, "resolved", actor)
        else:
            mute_rule_for_task(settings, row["rule"], row["task_id"] or "-", actor, row["project_key"],
                               mute=action == "mute")
    except WarehouseError as error:
        st.error(t("msg.edit_error", message=safe_text.message(error)))
        return
    st.session_state[FLASH_KEY] = t("alerts.act.done", alert=safe_text.markdown(titles[alert_id]))
    st.rerun()


def render() -> None:
    st.title(t("alerts.title"))
    st.caption(t("alerts.caption"))
    ctx = common.page_context()
    if ctx is None:
        return
    lang = current_lang()
    try:
        deliveries = logic.delivery_frame(ctx.settings)
        failures = logic.recent_failures(deliveries, utc_now())
        counts = logic.counts(ctx.settings)
        projects = common.projects(ctx)
        chosen = _filters(lang, dict(zip(projects["project_key"], projects["project_name"])))
        frame = logic.alert_frame(ctx.settings, lang, chosen)
    except (WarehouseError, ConfigError) as error:
        common.show_error(error)
        return
    if not failures.is_empty():
        latest = failures.row(0, named=True)
        st.error(t("alerts.failed_banner", count=failures.height, channel=safe_text.markdown(latest["channel"]),
                   error=safe_text.message(latest["error"] or latest["status"] or "—")))
    metrics = {"alerts.metric.new": counts["new"], "alerts.state.acknowledged": counts["acknowledged"],
               "alerts.metric.critical": counts["critical"], "alerts.metric.failed": failures.height}
    for column, (key, value) in zip(st.columns(len(metrics)), metrics.items()):
        column.metric(t(key), f"{value:,}")
    if frame.is_empty():
        st.info(t("alerts.none"))
    else:
        shown = common.localize_timestamps(frame).with_columns(
            *(frame[column].map_elements(partial(_label, column, lang=lang), return_dtype=str)
              for column in ("severity", "state", "rule")),
        )
        st.dataframe(shown, column_config=_columns(), hide_index=True, key="alerts.table")
    _act(ctx.settings, frame, lang)
    st.subheader(t("alerts.deliveries"))
    if deliveries.is_empty():
        st.caption(t("alerts.no_deliveries"))
    else:
        cc = st.column_config
        st.dataframe(common.localize_timestamps(deliveries), hide_index=True, column_config={
            "sent_at": cc.DatetimeColumn(t("alerts.col.sent_at"), format="YYYY-MM-DD HH:mm:ss"),
            "channel": cc.TextColumn(t("alerts.col.channel")), "kind": cc.TextColumn(t("alerts.col.kind")),
            "project_key": cc.TextColumn(t("common.project")),
            "alerts": cc.NumberColumn(t("alerts.col.alerts")), "ok": cc.CheckboxColumn(t("alerts.col.ok")),
            "attempts": cc.NumberColumn(t("alerts.col.attempts")), "status": None,
            "error": cc.TextColumn(t("alerts.col.error"), width="large"),
        })


render()
