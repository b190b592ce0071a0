"""Stand-up page: each person's daily check-in, the team's day, and blockers turned into risks in one click.

Layout and widgets only; queries and rules are in `dashboards.logic.standup`.
A check-in is written with its audit entry in one transaction; the page then
reruns so the team view shows it at once. A blocker becomes a risk (or an
issue) owned by its person and linked to their work in progress; the Risks
page opens with it selected.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final

import polars as pl
import streamlit as st

from dashboards import common, safe_text
from dashboards.i18n import current_lang, t
from dashboards.logic import risks as risks_logic
from dashboards.logic import standup as logic
from warehouse.db import EditChange, WarehouseError, save_edit, save_edits, utc_now

DAY_KEY: Final = "standup.day"
PERSON_KEY: Final = "standup.person"
LOADED_KEY: Final = "standup._loaded"
FLASH_KEY: Final = "standup._flash"
FORM_KEYS: Final[dict[str, str]] = {name: f"standup.f.{name}" for name in (*logic.FIELDS, "confirm")}
BLOCKERS_SHOWN: Final = 50
MISSING_NAMES_SHOWN: Final = 30
BLOCKER_STYLE: Final = "background-color: rgba(249, 168, 37, 0.25)"


def _flash() -> None:
    """The outcome of the last save, kept across the rerun that made it visible everywhere."""
    flash = st.session_state.pop(FLASH_KEY, None)
    if not flash:
        return
    if flash["what"] == "checkin":
        detail = t("standup.saved_detail", name=safe_text.markdown(flash["name"]), day=flash["day"])
        st.success(f"{t('msg.saved')} {detail}")
        return
    kind = t(f"standup.kind.{flash['kind']}")
    if flash["what"] == "converted":
        st.success(f"{t('msg.saved')} {t('standup.converted', kind=kind, id=flash['risk_id'])}")
    else:
        st.info(t("standup.already_converted", kind=kind, id=flash["risk_id"]))
    st.page_link("app_pages/risks.py", label=t("standup.open_risks", id=flash["risk_id"]),
                 icon=":material/warning:")


def _pickers(people: pl.DataFrame, names: dict[str, str], today: date) -> tuple[date | None, str]:
    state = st.session_state
    ids = people["person_id"].to_list()
    if DAY_KEY not in state:
        state[DAY_KEY] = today
    if state.get(PERSON_KEY) not in ids:
        state[PERSON_KEY] = risks_logic.person_for_actor(people, common.current_actor()) or ids[0]
    left, right = st.columns(2)
    day = left.date_input(t("standup.day"), key=DAY_KEY, max_value=today)
    labels = {pid: safe_text.clip(names.get(pid, pid)) for pid in ids}
    person = right.selectbox(t("standup.person"), ids, format_func=labels.__getitem__, key=PERSON_KEY)
    return day, person


def _load_form(existing: dict[str, Any] | None) -> None:
    for name in logic.FIELDS:
        st.session_state[FORM_KEYS[name]] = (existing or {}).get(name) or ""
    st.session_state[FORM_KEYS["confirm"]] = False


def _save_checkin(ctx: common.PageContext, person: str, day: date, existing: dict[str, Any] | None,
                  people: pl.DataFrame, names: dict[str, str], today: date) -> None:
    entry = logic.CheckIn(person, day, *(st.session_state.get(FORM_KEYS[name]) or "" for name in logic.FIELDS))
    problems = logic.validate_checkin(entry, set(people["person_id"].to_list()), today)
    if problems:
        st.error(safe_text.refusal(t("common.not_saved"), problems))
        return
    if not st.session_state.get(FORM_KEYS["confirm"]):
        st.warning(t("standup.confirm_first"))
        return
    actor = common.current_actor()
    if not actor:
        st.warning(t("msg.no_actor"))
        return
    try:
        save_edit(ctx.settings, "standups", logic.checkin_row(entry, existing, utc_now()), actor)
    except (WarehouseError, ValueError) as error:
        st.error(t("msg.edit_error", message=safe_text.message(error)))
        return
    st.session_state[FLASH_KEY] = {"what": "checkin", "name": names.get(person, person),
                                   "day": common.format_date(day, current_lang())}
    st.session_state.pop(LOADED_KEY, None)
    st.rerun()


def _checkin_form(ctx: common.PageContext, person: str, day: date, people: pl.DataFrame,
                  names: dict[str, str], today: date) -> None:
    existing = logic.checkin(ctx, person, day)
    state = st.session_state
    # Reload when the person or day changes, and when Streamlit dropped the
    # form's state because another page was open in between.
    if state.get(LOADED_KEY) != (person, day.isoformat()) or FORM_KEYS["yesterday"] not in state:
        _load_form(existing)
        state[LOADED_KEY] = (person, day.isoformat())
    form_column, work_column = st.columns([3, 2])
    with form_column, st.form("standup.form"):
        name = safe_text.markdown(names.get(person, person))
        st.markdown(f"**{t('standup.form_header', name=name, day=common.format_date(day))}**")
        st.text_area(t("standup.field.yesterday"), key=FORM_KEYS["yesterday"], height=90)
        st.text_area(t("standup.field.today"), key=FORM_KEYS["today"], height=90)
        st.text_area(t("standup.field.blockers"), key=FORM_KEYS["blockers"], height=70,
                     help=t("standup.blockers_help"))
        st.checkbox(t("standup.confirm"), key=FORM_KEYS["confirm"])
        submitted = st.form_submit_button(
            t("standup.update") if existing else t("standup.save"), key="standup.save", type="primary"
        )
    with work_column:
        _work_in_progress(ctx, person)
    if submitted:
        _save_checkin(ctx, person, day, existing, people, names, today)


def _work_in_progress(ctx: common.PageContext, person: str) -> None:
    st.markdown(f"**{t('standup.wip_header')}**")
    wip = logic.in_progress(ctx, person)
    if wip.is_empty():
        st.caption(t("standup.wip_none"))
        return
    cc = st.column_config
    st.dataframe(
        wip.select("source_key", "title", "project_key", "status"),
        hide_index=True,
        column_config={
            "source_key": cc.TextColumn(t("common.task")),
            "title": cc.TextColumn(t("common.title")),
            "project_key": cc.TextColumn(t("col.project_key")),
            "status": cc.TextColumn(t("common.status")),
        },
    )
    total = int(wip["wip_total"][0])
    if total > wip.height:
        st.caption(t("standup.wip_capped", shown=wip.height, total=total))


# ------------------------------------------------------------------ team view


def _convert(ctx: common.PageContext, kind: str, checkin: dict[str, Any], blocker: str) -> None:
    """One blocker to one risk (or issue) in one transaction; a second click finds it instead of adding another."""
    actor = common.current_actor()
    if not actor:
        st.warning(t("msg.no_actor"))
        return
    try:
        wip = logic.in_progress(ctx, checkin["person_id"])
        row = logic.blocker_risk_row(kind, checkin, blocker, wip, actor, utc_now())
        if logic.existing_risks(ctx, [row["risk_id"]]):
            outcome = "exists"
        else:
            save_edits(ctx.settings, [EditChange("risks", row)], actor)
            outcome = "converted"
    except (WarehouseError, ValueError) as error:
        st.error(t("msg.edit_error", message=safe_text.message(error)))
        return
    st.session_state[FLASH_KEY] = {"what": outcome, "kind": kind, "risk_id": row["risk_id"]}
    st.session_state[risks_logic.PENDING_PICK_KEY] = row["risk_id"]
    st.rerun()


def _blockers(ctx: common.PageContext, team: pl.DataFrame) -> None:
    st.markdown(f"**{t('standup.field.blockers')}**")
    with_blockers = team.filter(pl.col("checked_in") & (pl.col("blockers").fill_null("").str.strip_chars() != ""))
    items = [
        (row, blocker)
        for row in with_blockers.iter_rows(named=True)
        for blocker in logic.split_blockers(row["blockers"])
    ]
    if not items:
        st.caption(t("standup.no_blockers"))
        return
    shown = items[:BLOCKERS_SHOWN]
    candidates = {
        logic.blocker_risk_id(row["standup_id"], blocker, kind)
        for row, blocker in shown
        for kind in logic.BLOCKER_KINDS
    }
    done = logic.existing_risks(ctx, candidates)
    for row, blocker in shown:
        with st.container(border=True):
            text, *buttons = st.columns([6, 1, 1], vertical_alignment="center")
            text.warning(f"**{safe_text.markdown(row['display_name'])}** · {safe_text.markdown(blocker)}",
                         icon=":material/block:")
            for column, kind in zip(buttons, logic.BLOCKER_KINDS):
                risk_id = logic.blocker_risk_id(row["standup_id"], blocker, kind)
                if risk_id in done:
                    column.caption(t("standup.already_short", id=risk_id))
                elif column.button(t(f"standup.to_{kind}"), key=f"standup.to_{kind}.{risk_id}",
                                   help=t(f"standup.to_{kind}_help")):
                    _convert(ctx, kind, row, blocker)
    if len(items) > len(shown):
        st.caption(t("standup.blockers_capped", shown=len(shown), total=len(items)))


def _team_table(team: pl.DataFrame) -> None:
    cc = st.column_config
    columns = {
        "display_name": cc.TextColumn(t("standup.person")),
        "team": cc.TextColumn(t("common.team")),
        "checked_in": cc.CheckboxColumn(t("standup.col.checked_in")),
        "yesterday": cc.TextColumn(t("standup.field.yesterday"), width="medium"),
        "today": cc.TextColumn(t("standup.field.today"), width="medium"),
        "blockers": cc.TextColumn(t("standup.field.blockers"), width="medium"),
        "wip_count": cc.NumberColumn(t("standup.col.wip_count"), format="%d"),
        "wip_keys": cc.ListColumn(t("standup.col.wip_keys")),
        "updated_at": cc.DatetimeColumn(t("standup.col.updated_at"), format="HH:mm"),
    }
    shown = common.localize_timestamps(team).with_columns(
        pl.col("team").fill_null(t("common.no_team"))
    ).select(list(columns))
    styled = shown.to_pandas().style.apply(
        lambda col: [BLOCKER_STYLE if isinstance(v, str) and v.strip() else "" for v in col], subset=["blockers"]
    )
    st.dataframe(styled, column_config=columns, hide_index=True)


def _team_view(ctx: common.PageContext, day: date) -> None:
    st.subheader(t("standup.team_header", day=common.format_date(day)))
    team = logic.team_day(ctx, day)
    if team.is_empty():
        st.info(t("standup.no_people"))
        return
    summaries = logic.team_summaries(team)
    checked = sum(s.checked_in for s in summaries)
    total = sum(s.total for s in summaries)
    metrics = st.columns(3)
    metrics[0].metric(t("standup.col.checked_in"), f"{checked} / {total}")
    metrics[1].metric(t("standup.metric.missing"), total - checked)
    metrics[2].metric(t("standup.metric.blockers"), sum(s.blockers for s in summaries))
    for summary in summaries:
        name = safe_text.markdown(summary.team) or t("common.no_team")
        missing = ", ".join(safe_text.markdown(person) for person in summary.missing[:MISSING_NAMES_SHOWN])
        if len(summary.missing) > MISSING_NAMES_SHOWN:
            missing += " …"
        line = t("standup.team_line", team=name, checked=summary.checked_in, total=summary.total)
        st.markdown(f"**{line}**" + (f" — {t('standup.missing', names=missing)}" if missing else ""))
    _blockers(ctx, team)
    _team_table(team)
    people_total = int(team["people_total"][0])
    if people_total > team.height:
        st.caption(t("standup.team_capped", shown=team.height, total=people_total))


def render() -> None:
    """Draw the page."""
    st.title(t("standup.title"))
    st.caption(t("standup.caption"))
    ctx = common.page_context()
    if ctx is None:
        return
    try:
        people = logic.people(ctx)
        if people.is_empty():
            st.info(t("standup.no_people"))
            return
        names = dict(people.select("person_id", "display_name").iter_rows())
        today = risks_logic.local_today()
        _flash()
        day, person = _pickers(people, names, today)
        if day is None:
            st.info(t("standup.pick_day"))
            return
        _checkin_form(ctx, person, day, people, names, today)
        _team_view(ctx, day)
    except (WarehouseError, ValueError) as error:
        common.show_error(error)


render()
