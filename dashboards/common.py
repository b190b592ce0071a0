"""What every page needs: the warehouse context, cached queries, who is editing, local dates and units.

A page calls `page_context()` first; when it returns None the reason (no
warehouse yet, bad config) is already on screen and the page stops. Data
problems raised later are shown by `show_error`, never as a traceback.

Queries go through `cached_query`, keyed on the published snapshot and, for
queries that see people's edits, on the edits store's latest audit id: a
sync's publish or anyone's edit changes the key, so every page shows it on
the next rerun while repeated reruns hit the cache.
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl
import streamlit as st

from dashboards import data
from dashboards.i18n import current_lang, t
from warehouse.db import WarehouseError, edits_version, read_frame
from warehouse.settings import ConfigError, Settings

CACHE_TTL_SECONDS: Final = 60
ACTOR_KEY: Final = "actor"


@dataclass(frozen=True)
class PageContext:
    """The settings and the identity of the data a page is about to show."""

    settings: Settings
    snapshot: str
    edits: int


def page_context() -> PageContext | None:
    """Settings plus snapshot and edits identity, or None after telling the user why there is no data."""
    try:
        settings = data.get_settings()
        snapshot = data.snapshot_key(settings)
        if snapshot is None:
            st.info(t("msg.no_data", path=settings.warehouse.published_path))
            return None
        return PageContext(settings, snapshot, edits_version(settings))
    except ConfigError as error:
        st.error(t("msg.config_error", message=error))
    except WarehouseError as error:
        st.error(t("msg.warehouse_error", message=error))
    return None


def show_error(error: Exception) -> None:
    """A data or validation problem as a message in the page's language."""
    if isinstance(error, ConfigError):
        st.error(t("msg.config_error", message=error))
    else:
        st.error(t("msg.warehouse_error", message=error))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _cached_query(
    _settings: Settings, snapshot: str, edits: int, sql: str, params: tuple[Any, ...] | None, live: bool
) -> pl.DataFrame:
    return read_frame(_settings, sql, list(params) if params is not None else None, live_edits=live)


def cached_query(
    ctx: PageContext,
    sql: str,
    params: Sequence[Any] | Mapping[str, Any] | None = None,
    *,
    live_edits: bool = False,
) -> pl.DataFrame:
    """A read-only query on the published warehouse, cached per snapshot (and per edit when `live_edits`).

    `live_edits` overlays the edits store on the write-back tables (risks,
    plan_tasks, standups, …) so a save shows at once. Parameters are bound,
    never formatted into the SQL.
    """
    if isinstance(params, Mapping):
        raise TypeError("cached_query takes positional parameters (a list), so they can key the cache")
    key_params = tuple(params) if params is not None else None
    return _cached_query(ctx.settings, ctx.snapshot, ctx.edits if live_edits else -1, sql, key_params, live_edits)


def current_actor() -> str:
    """Who is editing: the signed-in user's e-mail when Streamlit auth is on, else the sidebar name."""
    try:
        if st.user.is_logged_in:
            return str(st.user.get("email") or st.user.get("name"))
    except (AttributeError, KeyError, st.errors.StreamlitAPIException):
        pass
    return str(st.session_state.get(ACTOR_KEY) or "").strip()


def actor_input() -> None:
    """Sidebar field naming the editor; prefilled with the OS account of whoever runs the app."""
    if ACTOR_KEY not in st.session_state:
        try:
            st.session_state[ACTOR_KEY] = getpass.getuser()
        except (KeyError, OSError):
            st.session_state[ACTOR_KEY] = ""
    st.sidebar.text_input(t("app.actor"), key=ACTOR_KEY, help=t("app.actor_help"))


# ------------------------------------------------------------------ locale


def user_timezone() -> ZoneInfo:
    """The browser's time zone (st.context.timezone), UTC when unknown or outside a session."""
    try:
        name = st.context.timezone
    except (AttributeError, RuntimeError):
        name = None
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


def local_datetime(value: datetime | None) -> datetime | None:
    """A warehouse timestamp (naive UTC) in the user's time zone."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(user_timezone())


def localize_timestamps(frame: pl.DataFrame) -> pl.DataFrame:
    """Every naive-UTC datetime column of `frame` converted to the user's time zone, for display."""
    zone = user_timezone().key
    converted = [
        pl.col(name).dt.replace_time_zone("UTC").dt.convert_time_zone(zone)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is None
    ]
    return frame.with_columns(converted) if converted else frame


def format_date(value: date | datetime | None, lang: str | None = None) -> str:
    """A date the way the reader writes it: 2026年3月31日 in Chinese, 31 Mar 2026 in English."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = local_datetime(value) or value
    chosen = lang or current_lang()
    if chosen == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {value:%b %Y}"


def format_hours(value: float | None, lang: str | None = None) -> str:
    return "—" if value is None else t("unit.hours", lang, value=f"{value:,.1f}")


def format_days(value: float | None, lang: str | None = None) -> str:
    return "—" if value is None else t("unit.days", lang, value=f"{value:,.1f}")


def format_money(value: float | None, lang: str | None = None) -> str:
    return "—" if value is None else t("unit.money", lang, value=f"{value:,.0f}")
