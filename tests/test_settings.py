from pathlib import Path

import pytest

from tests.conftest import write_config
from warehouse.settings import ConfigError, load_settings


def test_without_config_the_demo_is_used(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LODESTAR_CONFIG", raising=False)
    settings = load_settings()
    assert [s.kind for s in settings.sources] == ["demo"]
    assert settings.warehouse.path == tmp_path / "data" / "warehouse.duckdb"
    assert settings.warehouse.published_path.name == "warehouse.published.duckdb"
    assert {p.key for p in settings.projects} >= {"ERP", "MOB", "DP", "OPS"}


def test_lookup_order_explicit_then_env_then_local(tmp_path, monkeypatch):
    local = write_config(tmp_path, '[warehouse]\npath = "local.duckdb"\n')
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    from_env = write_config(env_dir, '[warehouse]\npath = "env.duckdb"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LODESTAR_CONFIG", raising=False)
    assert load_settings().warehouse.path.name == "local.duckdb"
    monkeypatch.setenv("LODESTAR_CONFIG", str(from_env))
    assert load_settings().warehouse.path.name == "env.duckdb"
    assert load_settings(local).warehouse.path.name == "local.duckdb"


def test_jira_source_validates_and_paths_resolve_beside_the_file(tmp_path):
    path = write_config(
        tmp_path,
        '[warehouse]\npath = "data/w.duckdb"\n[calendar]\ncountry = "CN"\n'
        '[[sources]]\nkind = "jira"\nname = "apache"\nurl = "https://issues.apache.org/jira"\n'
        'projects = ["DRILL", "TEZ"]\ntoken_env = "JIRA_TOKEN"\n',
    )
    settings = load_settings(path)
    assert settings.sources[0].projects == ["DRILL", "TEZ"]
    assert settings.warehouse.path == tmp_path / "data" / "w.duckdb"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('[[sources]]\nkind = "jira"\nname = "a"\nurl = "x"\nprojects = "DRILL"\n', "sources.0.jira.projects"),
        ('[[sources]]\nkind = "svn"\nname = "a"\n', "sources.0"),
        ('[warehouse]\npth = "x"\n', "warehouse.pth"),
        ('[[sources]]\nkind = "demo"\nname = "Bad Name"\n', "sources.0.demo.name"),
    ],
)
def test_errors_name_the_key(tmp_path, body, expected):
    path = write_config(tmp_path, body)
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert str(path) in str(error.value)
    assert expected in str(error.value)


def test_duplicate_source_names_rejected(tmp_path):
    path = write_config(tmp_path, '[[sources]]\nkind = "demo"\nname = "d"\n[[sources]]\nkind = "demo"\nname = "d"\n')
    with pytest.raises(ConfigError, match="repeated: d"):
        load_settings(path)


def test_missing_explicit_file_is_reported(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_example_config_is_valid():
    example = Path(__file__).resolve().parents[1] / "lodestar.example.toml"
    settings = load_settings(example)
    assert {s.kind for s in settings.sources} >= {"jira", "github", "gitlab", "timesheet"}
