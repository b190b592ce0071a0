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
