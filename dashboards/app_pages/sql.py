"""SQL explorer page: a read-only editor with a schema browser, result grid, downloads and saved queries.

Layout and widgets only; checking, running, schema and the saved-query file
are in `dashboards.logic.sql`. Writes to the saved-query file happen in
widget callbacks, which run before the page is drawn, so the list of saved
queries is current on the same rerun.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import polars as pl
import streamlit as st

from dashboards import common
from dashboards.i18n import t
from dashboards.logic import sql as logic
from warehouse.db import WarehouseError
from warehouse.settings import Settings

TEXT_KEY = "sql_text"
KEPT_TEXT_KEY = "sql_text_kept"
TABLE_KEY = "sql_table"
PICK_KEY = "sql_pick"
DELETE_CONFIRM_KEY = "sql_delete_confirm"
SAVE_NAME_KEY = "sql_save_name"
SAVE_REPLACE_KEY = "sql_save_replace"
RESULT_KEY = "sql_result"
SESSION_SAVED_KEY = "sql_session_saved"
FLASH_KEY = "sql_flash"
EXAMPLE_PREFIX = "example:"
SAVED_PREFIX = "saved:"


# ------------------------------------------------------------------ messages from callbacks


def _flash(place: str, kind: str, key: str, **fmt: Any) -> None:
    st.session_state[FLASH_KEY] = {"place": place, "kind": kind, "key": key, "fmt": fmt}


def _show_flash(place: str) -> None:
    flash = st.session_state.get(FLASH_KEY)
    if not flash or flash["place"] != place:
        return
    del st.session_state[FLASH_KEY]
    getattr(st, flash["kind"])(t(flash["key"], **flash["fmt"]))


# ------------------------------------------------------------------ saved and example queries


def _session_saved() -> dict[str, logic.SavedQuery]:
    """Queries saved in this browser session: kept even if the shared file cannot be written or is lost."""
    return st.session_state.setdefault(SESSION_SAVED_KEY, {})


def _library(settings: Settings) -> dict[str, tuple[str, str]]:
    """Option id → (label, SQL): the shipped examples, then the shared saved queries, then session-only ones."""
    options = {
        EXAMPLE_PREFIX + name: (t("sql.example_label", name=t(logic.example_label(name))), sql)
        for name, sql in logic.EXAMPLES.items()
    }
    try:
        saved = logic.load_saved(logic.saved_queries_path(settings))
    except logic.QueryRefused as error:
        st.error(t(error.key, **error.fmt))
        saved = []
    for query in saved:
        saved_at = query.saved_at[:16].replace("T", " ")
        label = t("sql.saved_label", name=query.name, saved_by=query.saved_by or "—", saved_at=saved_at)
        options[SAVED_PREFIX + query.name] = (label, query.sql)
    for name, query in _session_saved().items():
        options.setdefault(SAVED_PREFIX + name, (t("sql.session_label", name=name), query.sql))
    return options


def _load(options: dict[str, tuple[str, str]]) -> None:
    picked = st.session_state.get(PICK_KEY)
    if picked in options:
        st.session_state[TEXT_KEY] = options[picked][1]


def _delete(settings: Settings) -> None:
    picked = st.session_state.get(PICK_KEY) or ""
    if not picked.startswith(SAVED_PREFIX):
        _flash("library", "warning", "sql.delete_example")
        return
    if not st.session_state.get(DELETE_CONFIRM_KEY):
        _flash("library", "warning", "sql.delete_needs_confirm")
        return
    name = picked.removeprefix(SAVED_PREFIX)
    session_only = _session_saved().pop(name, None)
    try:
        logic.delete_query(logic.saved_queries_path(settings), name)
    except logic.QueryRefused as error:
        if session_only is None:
            _flash("library", "error", error.key, **error.fmt)
            return
    except OSError as error:
        _flash("library", "error", "msg.edit_error", message=error)
        return
    st.session_state[DELETE_CONFIRM_KEY] = False
    st.session_state.pop(PICK_KEY, None)
    _flash("library", "success", "sql.deleted", name=name)


def _save(settings: Settings) -> None:
    try:
        query = logic.validate_saved(
            st.session_state.get(SAVE_NAME_KEY, ""), st.session_state.get(TEXT_KEY, ""), common.current_actor()
        )
    except logic.QueryRefused as error:
        _flash("save", "warning" if error.key == "msg.no_actor" else "error", error.key, **error.fmt)
        return
    path = logic.saved_queries_path(settings)
    replace = bool(st.session_state.get(SAVE_REPLACE_KEY))
    if query.name in _session_saved() and not replace:
        _flash("save", "error", "sql.error.name_taken", name=query.name)
        return
    try:
        logic.save_query(path, query, replace=replace)
    except logic.QueryRefused as error:
        _flash("save", "error", error.key, **error.fmt)
        return
    except OSError as error:
        _session_saved()[query.name] = query
        st.session_state[PICK_KEY] = SAVED_PREFIX + query.name
        _flash("save", "warning", "sql.saved_session_only", path=str(path), detail=error.strerror or error)
        return
    _session_saved()[query.name] = query
    st.session_state[PICK_KEY] = SAVED_PREFIX + query.name
    _flash("save", "success", "msg.saved")


def _library_panel(settings: Settings) -> None:
    options = _library(settings)
    if st.session_state.get(PICK_KEY) not in options:
        st.session_state.pop(PICK_KEY, None)
    st.selectbox(t("sql.library"), options=list(options), format_func=lambda option: options[option][0], key=PICK_KEY)
    load_column, delete_column, confirm_column = st.columns([1, 1, 4], vertical_alignment="center")
    load_column.button(t("sql.load"), key="sql_load", on_click=_load, args=(options,), icon=":material/input:")
    delete_column.button(
        t("sql.delete"), key="sql_delete", on_click=_delete, args=(settings,), icon=":material/delete:"
    )
    confirm_column.checkbox(t("sql.delete_confirm"), key=DELETE_CONFIRM_KEY)
    _show_flash("library")


def _save_panel(settings: Settings) -> None:
    with st.expander(t("sql.save_header"), expanded=False):
        with st.form("sql_save_form", clear_on_submit=False):
            st.text_input(t("common.name"), key=SAVE_NAME_KEY, max_chars=logic.MAX_NAME_LENGTH)
            st.checkbox(t("sql.save_replace"), key=SAVE_REPLACE_KEY)
            st.form_submit_button(t("common.save"), key="sql_save", on_click=_save, args=(settings,))
        st.caption(t("sql.store_note", path=logic.saved_queries_path(settings)))
    _show_flash("save")


# ------------------------------------------------------------------ schema browser


def _insert_example(table: str) -> None:
    st.session_state[TEXT_KEY] = logic.example_for(table)


def _schema_panel(ctx: common.PageContext) -> None:
    st.subheader(t("sql.schema_header"))
    try:
        schema = logic.schema_columns(common.page_query(ctx))
    except WarehouseError as error:
        common.show_error(error)
        return
    if schema.is_empty():
        st.info(t("sql.no_tables"))
        return
    tables = schema.select("table_name", "table_type").unique(maintain_order=True)
    kinds = dict(zip(tables["table_name"], tables["table_type"]))
    common.keep_choice(TABLE_KEY, kinds, "tasks" if "tasks" in kinds else next(iter(kinds)))
    labels = {name: name + (t("sql.view") if kind == "VIEW" else "") for name, kind in kinds.items()}
    table = st.selectbox(
        t("common.table"),
        options=list(kinds),
        format_func=labels.__getitem__,
        key=TABLE_KEY,
    )
    description = logic.table_descriptions().get(table)
    if description:
        st.caption(description)
    st.button(t("sql.insert_example"), key="sql_insert", on_click=_insert_example, args=(table,), icon=":material/add:")
    columns = schema.filter(pl.col("table_name") == table).select("column_name", "data_type", "description")
    cc = st.column_config
    st.dataframe(
        columns,
        hide_index=True,
        column_config={
            "column_name": cc.TextColumn(t("sql.col.column")),
            "data_type": cc.TextColumn(t("common.type")),
            "description": cc.TextColumn(t("sql.col.description")),
        },
        key="sql_columns",
    )


# ------------------------------------------------------------------ running and results


def _run(settings: Settings, sql: str) -> None:
    try:
        result = logic.run_query(settings, sql)
    except logic.QueryRefused as error:
        st.session_state[RESULT_KEY] = {"error": (error.key, error.fmt), "sql": sql}
        return
    except WarehouseError as error:
        st.session_state[RESULT_KEY] = {"error": ("msg.warehouse_error", {"message": str(error)}), "sql": sql}
        return
    st.session_state[RESULT_KEY] = {
        "sql": sql,
        "frame": result.frame,
        "truncated": result.truncated,
        "seconds": result.seconds,
        "cap": settings.warehouse.query_max_rows,
    }


def _result_panel() -> None:
    """The last result of this session; download files are built only when a button is clicked (they can be large)."""
    result = st.session_state.get(RESULT_KEY)
    if result is None:
        return
    st.subheader(t("sql.result_header"))
    if "error" in result:
        key, fmt = result["error"]
        st.error(t(key, **fmt))
        return
    frame: pl.DataFrame = result["frame"]
    seconds = f"{result['seconds']:.2f}"
    st.caption(t("sql.result_summary", rows=f"{frame.height:,}", columns=f"{frame.width:,}", seconds=seconds))
    if result["truncated"]:
        st.warning(t("sql.truncated", cap=f"{result['cap']:,}"))
    if frame.height == 0:
        st.info(t("sql.no_rows"))
    if frame.height > logic.DISPLAY_ROWS:
        st.caption(t("sql.display_capped", shown=f"{logic.DISPLAY_ROWS:,}", rows=f"{frame.height:,}"))
    if frame.width:
        st.dataframe(frame.head(logic.DISPLAY_ROWS), hide_index=True, key="sql_grid")
    downloads = (
        ("csv", "common.download_csv", logic.csv_bytes, "text/csv"),
        ("parquet", "sql.download_parquet", logic.parquet_bytes, "application/vnd.apache.parquet"),
    )
    for column, (kind, label, build, mime) in zip(st.columns(len(downloads)), downloads):
        column.download_button(
            t(label), data=partial(build, frame), file_name=f"lodestar-query.{kind}", mime=mime,
            key=f"sql_download_{kind}", on_click="ignore", icon=":material/download:",
        )
    with st.expander(t("sql.ran_sql")):
        st.code(result["sql"], language="sql")


# ------------------------------------------------------------------ page


def render() -> None:
    st.title(t("sql.title"))
    ctx = common.page_context()
    if ctx is None:
        return
    st.caption(
        t(
            "sql.intro",
            cap=f"{ctx.settings.warehouse.query_max_rows:,}",
            shown=f"{logic.DISPLAY_ROWS:,}",
            timeout=f"{ctx.settings.warehouse.query_timeout_seconds:g}",
        )
    )
    schema_column, editor_column = st.columns([1, 2], gap="large")
    with schema_column:
        _schema_panel(ctx)
    with editor_column:
        _library_panel(ctx.settings)
        # Streamlit drops a widget's state while another page is shown; the copy brings the SQL back.
        if TEXT_KEY not in st.session_state and KEPT_TEXT_KEY in st.session_state:
            st.session_state[TEXT_KEY] = st.session_state[KEPT_TEXT_KEY]
        sql = st.text_area(
            t("sql.editor"), key=TEXT_KEY, height=220, placeholder=t("sql.editor_placeholder")
        )
        st.session_state[KEPT_TEXT_KEY] = sql
        if st.button(t("sql.run"), key="sql_run", type="primary", icon=":material/play_arrow:"):
            with st.spinner():
                _run(ctx.settings, sql)
        _save_panel(ctx.settings)
    _result_panel()


render()
