"""Helpers for dashboard tests: a published demo warehouse per test and AppTest page runs.

The demo company is built once per test session (about 10 s) and each test
gets its own copy of the published snapshot and an empty edits store, so
write-back tests cannot see each other's edits.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboards.data import Query
from warehouse.db import read_frame
from warehouse.settings import Settings, load_settings

APP = Path(__file__).resolve().parents[1] / "dashboards" / "streamlit_app.py"
TIMEOUT = 60


def build_demo(directory: Path) -> Path:
    """Run the real demo pipeline into `directory`; returns its config."""
    from pipelines.cli import main as lodestar

    config = directory / "lodestar.toml"
    config.write_text(
        '[warehouse]\npath = "w/warehouse.duckdb"\n\n'
        '[[sources]]\nkind = "demo"\nname = "demo"\nseed = 42\nas_of = "2026-06-15"\n',
        encoding="utf-8",
    )
    code = lodestar(["sync", "--config", str(config)])
    assert code == 0, f"demo sync failed with exit code {code}"
    return config


def copy_published(demo_config: Path, directory: Path) -> Path:
    """A config whose published snapshot is a private copy of the demo's, with an empty edits store."""
    source = load_settings(demo_config)
    (directory / "w").mkdir(parents=True, exist_ok=True)
    config = directory / "lodestar.toml"
    config.write_text(demo_config.read_text(encoding="utf-8"), encoding="utf-8")
    target = load_settings(config)
    shutil.copyfile(source.warehouse.published_path, target.warehouse.published_path)
    return config


def run_page(page: str | None = None, lang: str | None = None) -> AppTest:
    """Render the app, pick the language, open `page` (e.g. "app_pages/risks.py"); fail on any traceback."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    if lang is not None:
        at.radio(key="lang").set_value(lang).run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def settings_of(config: Path) -> Settings:
    return load_settings(config)


def query_of(settings: Settings, *, live_edits: bool = False) -> Query:
    """What `common.page_query` gives a page, without Streamlit's cache: logic functions are tested on it."""
    return lambda sql, params: read_frame(settings, sql, list(params), live_edits=live_edits)
