"""Kanban page: one project's work in todo / in progress / done, one sprint or one person at a time.

Layout and widgets only; queries and card text are in `dashboards.logic.kanban`.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import common, data
from dashboards.i18n import t
from dashboards.logic import kanban as logic
from warehouse.db import WarehouseError

PROJECT_KEY = "kanban_project"
GROUP_KEY = "kanban_group"
LANE_KEY = "kanban_lane"
CAP_KEY = "kanban_cap"
CAP_CHOICES = (10, 25, 50, 100)


def _lane_table(lanes: pl.DataFrame, group_by: str) -> None:
    labels = [logic.lane_name(row, group_by) for row in lanes.iter_rows(named=True)]
    table = lanes.select("todo", "in_progress", "done").with_columns(pl.Series("lane", labels)).select(
        "lane", "todo", "in_progress", "done"
    )
    cc = st.column_config
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "lane": cc.TextColumn(t("kanban.col.lane")),
            **{column: cc.NumberColumn(t(logic.COLUMN_LABELS[column]), format="%d") for column in logic.STATUS_COLUMNS},
        },
    )


def _column(board: logic.Board, column: str) -> None:
    st.subheader(t("kanban.column_header", name=t(logic.COLUMN_LABELS[column]), count=board.counts[column]))
    cards = board.cards[column]
    if cards.is_empty():
        st.caption(t("kanban.column_empty"))
        return
    for card in cards.iter_rows(named=True):
        with st.container(border=True):
            st.markdown(logic.card_markdown(card, common.format_date))
    hidden = board.hidden(column)
    if hidden:
        st.caption(t("kanban.more_done" if column == "done" else "kanban.more", count=hidden))


def render() -> None:
    """Draw the page."""
    st.title(t("kanban.title"))
    ctx = common.page_context()
    if ctx is None:
        return
    # Live edits: a plan editor's reassignment moves the card at once.
    query = common.page_query(ctx, live_edits=True)
    left, middle, right = st.columns([2, 1, 3])
    project = common.project_picker(ctx, PROJECT_KEY, where=left, with_tasks=True, empty_key="kanban.no_projects")
    if project is None:
        return
    group_by = middle.radio(
        t("kanban.group_by"), logic.GROUP_BY, key=GROUP_KEY, format_func=lambda g: t(logic.GROUP_LABELS[g])
    )
    try:
        as_of = data.as_of(query)
        lanes = logic.lanes(query, project.key, group_by, as_of)
    except (WarehouseError, ValueError) as error:
        common.show_error(error)
        return
    if lanes.is_empty():
        st.info(t("kanban.no_lanes"))
        return

    lane_rows = {row["lane_id"]: row for row in lanes.iter_rows(named=True)}
    lane_ids = list(lane_rows)
    common.keep_choice(LANE_KEY, lane_ids, logic.default_lane(lanes))
    lane_id = right.selectbox(
        t(logic.LANE_LABELS[group_by]),
        lane_ids,
        key=LANE_KEY,
        format_func=lambda lane: logic.lane_label(lane_rows[lane], group_by),
    )
    cap = st.sidebar.select_slider(
        t("kanban.card_cap"), options=CAP_CHOICES, value=logic.DEFAULT_CARD_CAP, key=CAP_KEY
    )

    try:
        board = logic.board(query, project.key, group_by, lane_id, as_of, cap)
    except (WarehouseError, ValueError) as error:
        common.show_error(error)
        return

    st.caption(
        t("kanban.caption", as_of=common.format_date(as_of), wip=board.counts["in_progress"], overdue=board.overdue)
    )
    if board.total == 0:
        st.info(t("kanban.empty_lane"))
    else:
        for column, place in zip(logic.STATUS_COLUMNS, st.columns(len(logic.STATUS_COLUMNS))):
            with place:
                _column(board, column)

    with st.expander(t("kanban.lanes_header")):
        _lane_table(lanes, group_by)


render()
