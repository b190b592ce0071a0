"""Risks page: the register, its 5×5 heat map, each risk's history, and a form to create or edit one.

Layout and widgets only; queries, validation and exports are in
`dashboards.logic.risks`. Every form widget has a stable key so tests and
browser scripts can drive the same path a person does. After a save the
page reruns with the saved risk selected, so the register, heat map and
history show the edit at once.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from typing import Any, Final

import altair as alt
import polars as pl
import streamlit as st

from dashboards import common, safe_text
from dashboards.i18n import current_lang, t
from dashboards.logic import risks as logic
from warehouse.db import WarehouseError, save_edit, utc_now

NEW: Final = "__new__"
PICK_KEY: Final = "risks.pick"
PENDING_KEY: Final = logic.PENDING_PICK_KEY
LOADED_KEY: Final = "risks._loaded"
FLASH_KEY: Final = "risks._flash"
FORM_KEYS: Final[dict[str, str]] = {
    name: f"risks.f.{name}"
    for name in ("title", "project", "category", "status", "probability", "impact", "owner", "due",
                 "links", "mitigation", "contingency", "confirm")
}
NEW_RISK_REVIEW_DAYS: Final = 14
# Wider than date_input's default of ten years around today, so an old or far-off due date still loads.
DUE_RANGE: Final = (date(2000, 1, 1), date(2100, 12, 31))
OVERDUE_STYLE: Final = "background-color: rgba(198, 40, 40, 0.15)"


def _filters(ctx: common.PageContext, people: pl.DataFrame, names: dict[str, str]) -> logic.RiskFilter:
    lang = current_lang()
    columns = st.columns(4)
    project = common.project_picker(ctx, "risks.filter.project", where=columns[0], all_key="common.all",
                                    empty_key=None)
    statuses = columns[1].multiselect(
        t("common.status"), logic.STATUSES, format_func=partial(logic.status_label, lang=lang),
        placeholder=t("common.all"), key="risks.filter.status",
    )
    categories = columns[2].multiselect(
        t("risks.field.category"), logic.CATEGORIES, format_func=partial(logic.category_label, lang=lang),
        placeholder=t("common.all"), key="risks.filter.category",
    )
    owner = columns[3].selectbox(
        t("common.owner"),
        ["", *people["person_id"].to_list()],
        format_func=lambda pid: t("common.all", lang) if not pid else safe_text.clip(names.get(pid, pid)),
        key="risks.filter.owner",
    )
    project_key = project.key if project is not None else None
    return logic.RiskFilter(project_key or None, tuple(statuses), tuple(categories), owner or None)


def _register_columns() -> dict[str, Any]:
    """The register's headers: a risk's fields are called what the form calls them."""
    cc = st.column_config
    field = {name: t(key) for name, key in logic.FIELD_LABELS.items()}
    whole = partial(cc.NumberColumn, format="%d")
    return {
        "risk_id": cc.TextColumn(t("risks.col.risk_id")),
        "project_key": cc.TextColumn(field["project_key"]),
        "title": cc.TextColumn(field["title"], width="large"),
        "category": cc.TextColumn(field["category"]),
        "status": cc.TextColumn(field["status"]),
        "probability": whole(field["probability"]),
        "impact": whole(field["impact"]),
        "score": whole(field["score"]),
        "zone": cc.TextColumn(t("risks.col.zone")),
        "owner_name": cc.TextColumn(field["owner_id"]),
        "due_date": cc.DateColumn(field["due_date"]),
        "overdue": cc.TextColumn(t("common.overdue")),
        "linked": cc.TextColumn(field["linked_task_ids"]),
        "mitigation": cc.TextColumn(field["mitigation"]),
        "contingency": cc.TextColumn(field["contingency"]),
        "updated_at": cc.DatetimeColumn(t("risks.col.updated_at"), format="YYYY-MM-DD HH:mm"),
        "updated_by": cc.TextColumn(t("common.changed_by")),
    }


def _register_section(register: pl.DataFrame, filters: logic.RiskFilter, today: Any) -> None:
    st.subheader(t("risks.register"))
    lang = current_lang()
    if register.is_empty():
        unfiltered = filters == logic.RiskFilter()
        st.info(t("risks.empty_none") if unfiltered else t("risks.empty_filtered"))
        return
    overdue = logic.overdue_high(register, today)
    late = register.filter(overdue)
    if late.height:
        ids = ", ".join(f"{safe_text.markdown(rid)} {safe_text.markdown(title)}"
                        for rid, title in late.select("risk_id", "title").head(10).iter_rows())
        st.warning(t("risks.overdue_warning", count=late.height, ids=ids))
    shown = common.localize_timestamps(register).with_columns(
        pl.col("category").map_elements(partial(logic.category_label, lang=lang), return_dtype=pl.String),
        pl.col("status").map_elements(partial(logic.status_label, lang=lang), return_dtype=pl.String),
        pl.col("score").map_elements(lambda s: t(f"risks.zone.{logic.zone_of(s)}", lang), return_dtype=pl.String)
        .alias("zone"),
        pl.col("linked_task_keys").list.join(", ").alias("linked"),
        pl.when(overdue).then(pl.lit("⚠")).otherwise(pl.lit("")).alias("overdue"),
    ).select(list(_register_columns()))
    styled = shown.to_pandas().style.apply(
        lambda row: [OVERDUE_STYLE if row["overdue"] else ""] * len(row), axis=1
    )
    st.dataframe(styled, column_config=_register_columns(), hide_index=True)
    total = int(register["matching"][0])
    if total > register.height:
        st.caption(t("risks.capped", shown=register.height, total=total))

    export = logic.export_table(register, lang)
    stamp = today.isoformat()
    left, right = st.columns(2)
    left.download_button(
        t("risks.export_csv"), lambda: logic.to_csv(export), file_name=f"risks-{stamp}.csv",
        mime="text/csv", key="risks.export_csv", on_click="ignore", icon=":material/download:",
    )
    sheet = t("risks.title")
    right.download_button(
        t("risks.export_xlsx"), lambda: logic.to_excel(export, sheet), file_name=f"risks-{stamp}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="risks.export_xlsx", on_click="ignore", icon=":material/table_view:",
    )


def _heat_chart(cells: pl.DataFrame) -> alt.LayerChart:
    """Impact left to right, probability bottom to top, each cell coloured by its zone and labelled with its count."""
    zone_labels = [t(f"risks.zone.{zone}") for zone in logic.ZONES]
    frame = cells.with_columns(
        pl.col("zone").replace_strict(dict(zip(logic.ZONES, zone_labels))).alias("zone_label"),
        pl.when(pl.col("risks") > 0).then(pl.col("risks").cast(pl.String)).otherwise(pl.lit("")).alias("label"),
    )
    x = alt.X("impact:O", title=t("common.impact"), sort=list(logic.LEVELS), axis=alt.Axis(labelAngle=0))
    y = alt.Y("probability:O", title=t("risks.axis_probability"), sort="descending")
    base = alt.Chart(frame)
    cells_layer = base.mark_rect(stroke="white", strokeWidth=2).encode(
        x=x,
        y=y,
        color=alt.Color(
            "zone_label:N", title=t("risks.zone_legend"),
            scale=alt.Scale(domain=zone_labels, range=list(logic.ZONE_COLOURS)),
        ),
        tooltip=[
            alt.Tooltip("probability:O", title=t("risks.axis_probability")),
            alt.Tooltip("impact:O", title=t("common.impact")),
            alt.Tooltip("score:Q", title=t("risks.field.score")),
            alt.Tooltip("risks:Q", title=t("risks.cell_count")),
        ],
    )
    counts_layer = base.mark_text(fontSize=18, fontWeight="bold", color="white").encode(x=x, y=y, text="label:N")
    return alt.layer(cells_layer, counts_layer, title=t("risks.heat_title")).properties(height=320)


def _heat_section(cells: pl.DataFrame, register: pl.DataFrame, today: Any) -> None:
    st.subheader(t("risks.heat_header"))
    chart_column, numbers = st.columns([3, 1])
    chart_column.altair_chart(_heat_chart(cells), width="stretch")
    chart_column.caption(t("risks.heat_caption"))
    numbers.metric(t("risks.metric.active"), int(cells["risks"].sum()))
    numbers.metric(t("risks.metric.red"), int(cells.filter(pl.col("zone") == "red")["risks"].sum()))
    numbers.metric(t("risks.metric.overdue"), int(logic.overdue_high(register, today).sum()))


# ------------------------------------------------------------------ create / edit


def _load_form(ctx: common.PageContext, existing: dict[str, Any] | None, default_owner: str | None,
               default_project: str | None, today: Any) -> None:
    """Put a risk's values (or a new risk's defaults) into the form's widgets before they are drawn."""
    state = st.session_state
    row = existing or {}
    state[FORM_KEYS["title"]] = row.get("title") or ""
    state[FORM_KEYS["project"]] = (row.get("project_key") if existing is not None else default_project) or ""
    state[FORM_KEYS["category"]] = row.get("category") or "schedule"
    state[FORM_KEYS["status"]] = row.get("status") or "open"
    state[FORM_KEYS["probability"]] = int(row.get("probability") or 3)
    state[FORM_KEYS["impact"]] = int(row.get("impact") or 3)
    state[FORM_KEYS["owner"]] = row.get("owner_id") if existing is not None else default_owner
    state[FORM_KEYS["due"]] = row.get("due_date") if existing is not None else today + timedelta(
        days=NEW_RISK_REVIEW_DAYS
    )
    state[FORM_KEYS["links"]] = ", ".join(logic.task_keys(ctx, list(row.get("linked_task_ids") or [])))
    state[FORM_KEYS["mitigation"]] = row.get("mitigation") or ""
    state[FORM_KEYS["contingency"]] = row.get("contingency") or ""
    state[FORM_KEYS["confirm"]] = False


def _with(options: list[str], current: str | None) -> list[str]:
    """Options plus the current value when it is not among them, so an old value still shows (and is validated)."""
    return options if current is None or current in options else [*options, current]


def _draft(risk_id: str | None) -> logic.RiskDraft:
    value = st.session_state.get
    return logic.RiskDraft(
        risk_id=risk_id,
        title=value(FORM_KEYS["title"]) or "",
        project_key=value(FORM_KEYS["project"]) or None,
        category=value(FORM_KEYS["category"]),
        status=value(FORM_KEYS["status"]),
        probability=value(FORM_KEYS["probability"]),
        impact=value(FORM_KEYS["impact"]),
        owner_id=value(FORM_KEYS["owner"]) or None,
        due_date=value(FORM_KEYS["due"]),
        linked_tasks=value(FORM_KEYS["links"]) or "",
        mitigation=value(FORM_KEYS["mitigation"]) or "",
        contingency=value(FORM_KEYS["contingency"]) or "",
    )


def _save(ctx: common.PageContext, existing: dict[str, Any] | None, people: pl.DataFrame,
          projects: pl.DataFrame) -> None:
    """Validate, ask for the confirmation, save in one transaction, then rerun with the risk selected."""
    draft = _draft(existing["risk_id"] if existing else None)
    try:
        resolved = logic.resolve_tasks(ctx, logic.parse_task_tokens(draft.linked_tasks))
        problems, linked = logic.validate_risk(
            draft, set(people["person_id"].to_list()), set(projects["project_key"].to_list()), resolved
        )
        if problems:
            st.error(safe_text.refusal(t("common.not_saved"), problems))
            return
        if not st.session_state.get(FORM_KEYS["confirm"]):
            st.warning(t("risks.confirm_first"))
            return
        actor = common.current_actor()
        if not actor:
            st.warning(t("msg.no_actor"))
            return
        row = logic.risk_row(draft, linked, existing, actor, utc_now())
        save_edit(ctx.settings, "risks", row, actor)
    except (WarehouseError, ValueError) as error:
        st.error(t("msg.edit_error", message=safe_text.message(error)))
        return
    st.session_state[FLASH_KEY] = row["risk_id"]
    st.session_state[PENDING_KEY] = row["risk_id"]
    st.rerun()


def _form(ctx: common.PageContext, existing: dict[str, Any] | None, people: pl.DataFrame,
          projects: pl.DataFrame, names: dict[str, str]) -> None:
    state = st.session_state
    lang = current_lang()
    project_names = dict(projects.select("project_key", "project_name").iter_rows())
    with st.form("risks.form"):
        st.text_input(t("common.title"), key=FORM_KEYS["title"])
        first = st.columns(3)
        first[0].selectbox(
            t("common.project"), _with(["", *project_names], state[FORM_KEYS["project"]] or None),
            format_func=lambda key: safe_text.clip(common.project_label(key, project_names.get(key))) if key
            else t("risks.none", lang),
            key=FORM_KEYS["project"],
        )
        first[1].selectbox(
            t("risks.field.category"), _with(list(logic.CATEGORIES), state[FORM_KEYS["category"]]),
            format_func=partial(logic.category_label, lang=lang), key=FORM_KEYS["category"],
        )
        first[2].selectbox(
            t("common.status"), _with(list(logic.STATUSES), state[FORM_KEYS["status"]]),
            format_func=partial(logic.status_label, lang=lang), key=FORM_KEYS["status"],
        )
        second = st.columns(3)
        # Unbounded on purpose: a bounded number_input silently resets 7 to the
        # default, while the validation says why 7 is refused.
        second[0].number_input(t("risks.field.probability"), step=1, format="%d", key=FORM_KEYS["probability"])
        second[1].number_input(t("risks.field.impact"), step=1, format="%d", key=FORM_KEYS["impact"])
        second[2].selectbox(
            t("common.owner"), _with(people["person_id"].to_list(), state[FORM_KEYS["owner"]]),
            format_func=lambda pid: safe_text.clip(names.get(pid, pid)), key=FORM_KEYS["owner"],
        )
        third = st.columns([1, 2])
        third[0].date_input(t("risks.field.due_date"), min_value=DUE_RANGE[0], max_value=DUE_RANGE[1],
                            key=FORM_KEYS["due"], help=t("risks.due_help"))
        third[1].text_input(t("risks.field.linked_task_ids"), key=FORM_KEYS["links"], help=t("risks.links_help"))
        st.text_area(t("risks.field.mitigation"), key=FORM_KEYS["mitigation"], height=80)
        st.text_area(t("risks.field.contingency"), key=FORM_KEYS["contingency"], height=80)
        st.checkbox(t("risks.confirm"), key=FORM_KEYS["confirm"])
        submitted = st.form_submit_button(t("risks.save"), key="risks.save", type="primary")
    if submitted:
        _save(ctx, existing, people, projects)


def _history(ctx: common.PageContext, risk_id: str, names: dict[str, str]) -> None:
    st.markdown(f"**{t('risks.history_header', id=safe_text.markdown(risk_id))}**")
    table = logic.history_table(logic.audit_entries(ctx, risk_id), names, current_lang())
    if table.is_empty():
        st.caption(t("risks.history_empty"))
        return
    cc = st.column_config
    st.dataframe(
        table,
        hide_index=True,
        column_config={name: cc.TextColumn(t(key)) for name, key in logic.HISTORY_HEADERS.items()},
    )


def _edit_section(ctx: common.PageContext, people: pl.DataFrame, projects: pl.DataFrame,
                  names: dict[str, str], filters: logic.RiskFilter, today: Any) -> None:
    st.subheader(t("risks.edit_header"))
    state = st.session_state
    lang = current_lang()
    saved = state.pop(FLASH_KEY, None)
    if saved:
        st.success(f"{t('msg.saved')} {t('risks.saved_detail', id=safe_text.markdown(saved))}")
    if people.is_empty():
        st.info(t("risks.no_people"))
        return
    choices = logic.risk_choices(ctx)
    titles = dict(choices.iter_rows())
    pending = state.pop(PENDING_KEY, None)
    if pending in titles:
        state[PICK_KEY] = pending
        state.pop(LOADED_KEY, None)
    if state.get(PICK_KEY) not in (NEW, *titles):
        state[PICK_KEY] = NEW
    labels = {rid: safe_text.clip(f"{rid} · {title or ''}") for rid, title in titles.items()}
    pick = st.selectbox(
        t("risks.pick"), [NEW, *titles],
        format_func=lambda rid: t("risks.pick_new", lang) if rid == NEW else labels.get(rid, rid),
        key=PICK_KEY,
    )
    existing = logic.risk_by_id(ctx, pick) if pick != NEW else None
    # Streamlit drops a widget's state when its page is left, so a form
    # loaded earlier may be empty again on return: reload it then too.
    if state.get(LOADED_KEY) != pick or FORM_KEYS["title"] not in state:
        default_owner = logic.person_for_actor(people, common.current_actor()) or people["person_id"][0]
        _load_form(ctx, existing, default_owner, filters.project_key, today)
        state[LOADED_KEY] = pick
    _form(ctx, existing, people, projects, names)
    if existing is not None:
        _history(ctx, pick, names)


def render() -> None:
    """Draw the page."""
    st.title(t("risks.title"))
    st.caption(t("risks.caption"))
    ctx = common.page_context()
    if ctx is None:
        return
    today = logic.local_today()
    try:
        people = logic.people(ctx)
        projects = common.projects(ctx)
        names = dict(people.select("person_id", "display_name").iter_rows())
        filters = _filters(ctx, people, names)
        register = logic.register(ctx, filters)
        cells = logic.heat_map(ctx, filters)
        _register_section(register, filters, today)
        _heat_section(cells, register, today)
        _edit_section(ctx, people, projects, names, filters, today)
    except (WarehouseError, ValueError) as error:
        common.show_error(error)


render()
