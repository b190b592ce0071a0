"""Every page on a warehouse that is missing or empty: the message saying so, in the page's language, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st

from dashboards.i18n import LANGS, t
from dashboards.navigation import PAGES as NAVIGATION
from tests.dashboard_app import run_page
from warehouse.db import open_writer, publish
from warehouse.settings import CONFIG_ENV, load_settings

PAGES = [spec.path for spec in NAVIGATION]

# What each page says on a published warehouse with no data in it (all st.info).
EMPTY_MESSAGES: dict[str, tuple[str, ...]] = {
    "app_pages/portfolio.py": ("msg.no_projects",),
    "app_pages/gantt.py": ("common.no_projects",),
    "app_pages/kanban.py": ("kanban.no_projects",),
    "app_pages/forecast.py": ("forecast.no_projects",),
    "app_pages/risks.py": ("risks.empty_none", "risks.no_people"),
    "app_pages/plan.py": ("common.no_projects",),
    "app_pages/bugs.py": ("bugs.no_projects",),
    "app_pages/hours.py": ("hours.no_worklogs",),
    "app_pages/standup.py": ("standup.no_people",),
    "app_pages/alerts.py": ("alerts.none",),
}
# Empty tables are still tables: the SQL page has nothing to warn about and shows its schema browser.
SQL_PAGE = "app_pages/sql.py"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "lodestar.toml"
    path.write_text(f'[warehouse]\npath = "{(tmp_path / "w.duckdb").as_posix()}"\n', encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(path))
    st.cache_data.clear()
    st.cache_resource.clear()
    return path


def test_every_page_declares_its_empty_message() -> None:
    assert set(EMPTY_MESSAGES) | {SQL_PAGE} == set(PAGES)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("page", PAGES)
def test_no_warehouse_yet_is_a_message(config: Path, page: str, lang: str) -> None:
    at = run_page(page, lang)
    expected = t("msg.no_data", lang, path=load_settings(config).warehouse.published_path)
    assert [info.value for info in at.info] == [expected]
    assert not at.error and not at.warning


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("page", PAGES)
def test_empty_warehouse_says_so(config: Path, page: str, lang: str) -> None:
    settings = load_settings(config)
    with open_writer(settings):
        pass
    publish(settings)
    at = run_page(page, lang)
    assert not at.error and not at.warning, [m.value for m in (*at.error, *at.warning)]
    if page == SQL_PAGE:
        assert not at.info
        assert t("sql.schema_header", lang) in [header.value for header in at.subheader]
        assert at.selectbox(key="sql_table").value == "tasks"
    else:
        assert [info.value for info in at.info] == [t(key, lang) for key in EMPTY_MESSAGES[page]]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("page", PAGES)
def test_a_damaged_edits_store_is_a_warning_and_the_page_still_renders(demo_app, page: str, lang: str) -> None:
    """Three pages used to show sqlite3.DatabaseError tracebacks; now every page says what happened."""
    demo_app.warehouse.edits_path.write_bytes(b"not a database" * 500)
    at = run_page(page, lang)
    from tests.markdown_text import shown

    [warning] = [shown(w.value) for w in at.warning if t("msg.edits_store_problem", lang, message="") in w.value]
    assert str(demo_app.warehouse.edits_path) in warning and "cannot be read" in warning
    assert not at.exception
