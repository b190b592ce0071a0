"""What every page needs: the warehouse context, cached queries, who is editing, local dates and units.

A page calls `page_context()` first; when it returns None the reason (no
warehouse yet, bad config) is already on screen and the page stops. Data
problems raised later are shown by `show_error`, never as a traceback.
`project_picker` is every page's project choice, so the list, its labels
and what happens when a project disappears are the same everywhere.

Queries go through `cached_query` (or `page_query`, the same bound to one
page run for the logic modules), keyed on the published snapshot and, for
queries that see people's edits, on the edits store's latest audit id: a
sync's publish or anyone's edit changes the key, so every page shows it on
the next rerun while repeated reruns hit the cache.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Final, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl
import streamlit as st
from babel.numbers import format_currency

from dashboards import data
from dashboards.i18n import current_lang, t
from dashboards.safe_text import clip, message
from warehouse.db import EditsStoreError, WarehouseError, edits_store_status, edits_version, read_frame
from warehouse.settings import ConfigError, Settings

CACHE_TTL_SECONDS: Final = 60
ACTOR_KEY: Final = "actor"
DEFAULT_CURRENCY: Final = "CNY"
BABEL_LOCALES: Final[dict[str, str]] = {"zh": "zh_CN", "en": "en"}
"""Babel's locale for each dashboard language: currency symbols and grouping follow it."""


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
        edits, problem = _edits_identity(settings, snapshot)
        if problem:
            st.warning(t("msg.edits_store_problem", message=message(problem)))
        return PageContext(settings, snapshot, edits)
    except (ConfigError, WarehouseError) as error:
        show_error(error)
    return None


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _store_status(_settings: Settings, snapshot: str, edits: int, store_exists: bool) -> str | None:
    return edits_store_status(_settings)


def _edits_identity(settings: Settings, snapshot: str) -> tuple[int, str | None]:
    """The edits cache key, and why the store cannot be shown (missing, unreadable, replaced) if so.

    Pages then show the warehouse's mirror, the copy from the last sync, with
    the reason on screen instead of a traceback or an empty register.
    """
    try:
        edits = edits_version(settings)
    except EditsStoreError as error:
        return -2, str(error)
    return edits, _store_status(settings, snapshot, edits, settings.warehouse.edits_path.exists())


def show_error(error: Exception) -> None:
    """A data or validation problem as a message in the page's language; it may quote source values, so escaped."""
    st.error(t("msg.config_error" if isinstance(error, ConfigError) else "msg.warehouse_error", message=message(error)))


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


def page_query(ctx: PageContext, *, live_edits: bool = False) -> data.Query:
    """`cached_query` as the plain function the logic modules take, so they can be tested without Streamlit."""

    def run(sql: str, params: Sequence[Any]) -> pl.DataFrame:
        return cached_query(ctx, sql, list(params), live_edits=live_edits)

    return run


def keep_choice(key: str, options: Collection[Any], default: Any) -> bool:
    """Reset a widget whose stored choice is not offered any more (another project, a new snapshot).

    Done before the widget is drawn, so the page's default replaces the
    stale value rather than whatever Streamlit would fall back to. True
    when it was reset.
    """
    if st.session_state.get(key) in options:
        return False
    st.session_state[key] = default
    return True


# ------------------------------------------------------------------ projects


class Project(NamedTuple):
    """The picked project; `key` is data.ALL_PROJECTS for the "every project" choice."""

    key: str
    name: str


def project_label(key: str, name: str | None) -> str:
    """How a project is named in pickers and titles: "ERP · ERP 系统上线" (a source's name, so clipped)."""
    return clip(f"{key} · {name or key}")


def projects(ctx: PageContext, *, with_tasks: bool = False) -> pl.DataFrame:
    """What every project picker and filter offers: all projects, or only those with tasks for pages about tasks."""
    return cached_query(ctx, data.PROJECTS_WITH_TASKS_SQL if with_tasks else data.PROJECTS_SQL)


def project_picker(
    ctx: PageContext,
    key: str,
    *,
    where: Any = st,
    with_tasks: bool = False,
    all_key: str | None = None,
    empty_key: str | None = "common.no_projects",
    on_change: Callable[[], None] | None = None,
) -> Project | None:
    """The page's project select box (in `where`: a column, the sidebar), or None after saying why there is none.

    A stored choice the list no longer offers (another snapshot, a removed
    project) falls back to the first option and counts as a change, so
    `on_change` clears whatever depended on the old project. `all_key` adds
    an "every project" first option; `empty_key` is the message for an empty
    list, None when the page works without projects.
    """
    try:
        frame = projects(ctx, with_tasks=with_tasks)
    except WarehouseError as error:
        show_error(error)
        return None
    if frame.is_empty() and empty_key is not None:
        st.info(t(empty_key))
        return None
    names = dict(zip(frame["project_key"], frame["project_name"]))
    if all_key is not None:
        names = {data.ALL_PROJECTS: t(all_key), **names}
    if not names:
        return None
    labels = {option: name if option == data.ALL_PROJECTS else project_label(option, name)
              for option, name in names.items()}
    had_choice = key in st.session_state
    if keep_choice(key, names, next(iter(names))) and had_choice and on_change is not None:
        on_change()
    chosen = where.selectbox(
        t("common.project"), list(names), key=key, on_change=on_change, format_func=labels.__getitem__
    )
    return Project(chosen, names[chosen])


@dataclass(frozen=True)
class Problem:
    """One reason a save was refused: a translation key and its placeholders, shown in the reader's language."""

    key: str
    fmt: Mapping[str, Any] = field(default_factory=dict)

    def text(self, lang: str | None = None) -> str:
        return t(self.key, lang, **self.fmt)


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


def format_money(value: float | None, currency: str | None = None, lang: str | None = None) -> str:
    """An amount in its project's currency, written the reader's way: ¥2,400,000, US$900,000, $900,000.

    Whole units, as budgets are planned; the currency is the ISO code the
    project carries (`[[projects]] currency`), CNY when it has none.
    """
    if value is None:
        return "—"
    code = (currency or "").strip().upper() or DEFAULT_CURRENCY
    locale = BABEL_LOCALES[lang or current_lang()]
    return format_currency(value, code, format="¤#,##0", locale=locale, currency_digits=False)
