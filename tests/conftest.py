"""Shared fixtures: a Lodestar configuration pointing at a temporary warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest

from warehouse.settings import Settings, load_settings

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def write_config(directory: Path, body: str) -> Path:
    path = directory / "lodestar.toml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture
def empty_settings(tmp_path: Path) -> Settings:
    """A configuration with no sources and a warehouse in a temporary folder."""
    return load_settings(write_config(tmp_path, '[warehouse]\npath = "w/warehouse.duckdb"\n'))


@pytest.fixture
def demo_config(tmp_path: Path) -> Path:
    """The demo company in a temporary folder, fixed to one day so runs are comparable."""
    return write_config(
        tmp_path,
        '[warehouse]\npath = "w/warehouse.duckdb"\n\n'
        '[[sources]]\nkind = "demo"\nname = "demo"\nseed = 7\nas_of = "2026-06-15"\n\n'
        '[[projects]]\nkey = "ERP"\nbudget = 2400000\nhourly_rate = 260\n',
    )


@pytest.fixture(scope="session")
def demo_company_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo company synced and published once per test session (read it, do not edit it)."""
    from tests.dashboard_app import build_demo

    return build_demo(tmp_path_factory.mktemp("demo-company"))


@pytest.fixture
def demo_app(demo_company_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The dashboard pointed at a private copy of the demo snapshot with an empty edits store."""
    import streamlit as st

    from tests.dashboard_app import copy_published
    from warehouse.settings import CONFIG_ENV

    config = copy_published(demo_company_config, tmp_path / "app")
    monkeypatch.setenv(CONFIG_ENV, str(config))
    st.cache_data.clear()
    st.cache_resource.clear()
    return load_settings(config)
