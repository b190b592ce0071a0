"""Every page on a warehouse that is missing or empty: a message, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st

from dashboards.i18n import LANGS
from dashboards.navigation import PAGES as NAVIGATION
from tests.dashboard_app import run_page
from warehouse.db import open_writer, publish
from warehouse.settings import CONFIG_ENV, load_settings

PAGES = [spec.path for spec in NAVIGATION]


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "lodestar.toml"
    path.write_text(f'[warehouse]\npath = "{(tmp_path / "w.duckdb").as_posix()}"\n', encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(path))
    st.cache_data.clear()
    st.cache_resource.clear()
    return path


@pytest.mark.parametrize("page", PAGES)
def test_no_warehouse_yet_is_a_message(config: Path, page: str) -> None:
    at = run_page(page)
    assert any("make demo" in info.value for info in at.info), [i.value for i in at.info]
    assert not at.error


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("page", PAGES)
def test_empty_warehouse_renders_without_traceback(config: Path, page: str, lang: str) -> None:
    settings = load_settings(config)
    with open_writer(settings):
        pass
    publish(settings)
    run_page(page, lang)
