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


JIRA = '[[sources]]\nkind = "jira"\nname = "apache"\nurl = "https://issues.apache.org/jira"\nprojects = ["DRILL"]\n'


@pytest.mark.parametrize(
    ("body", "key", "expected"),
    [
        ('[calendar]\ntimezone = "Mars/Olympus"\n', "calendar.timezone", "IANA time zone"),
        ('[[projects]]\nkey = "ERP"\ntimezone = "Mars/Olympus"\n', "projects.0.timezone", "IANA time zone"),
        ('[calendar]\ncountry = "XX"\n', "calendar.country", "country code"),
        ('[[projects]]\nkey = "ERP"\nstart_date = "2015-13-45"\n', "projects.0.start_date", "month must be in 1..12"),
        ('[[projects]]\nkey = "ERP"\ndue_date = "31.12.2025"\n', "projects.0.due_date", "YYYY-MM-DD"),
        ('[[projects]]\nkey = "ERP"\ndue_date = "0001-01-01"\n', "projects.0.due_date", "1900-2200"),
        ('[[projects]]\nkey = "ERP"\nstart_date = "2025-06-01"\ndue_date = "2025-01-31"\n', "projects.0",
         "before start_date"),
        ('[alerts]\nquiet_hours = "25:00-99:00"\n', "alerts.quiet_hours", "25:00 is not a time of day"),
        ('[alerts]\nquiet_hours = "22:00-08:60"\n', "alerts.quiet_hours", "08:60 is not a time of day"),
        (JIRA.replace("https://issues.apache.org/jira", "ftp://issues.apache.org/jira"), "sources.0.jira.url",
         "http:// or https://"),
        ('[[sources]]\nkind = "gitlab"\nname = "gl"\nurl = "file:///etc"\nprojects = ["a/b"]\n',
         "sources.0.gitlab.url", "http:// or https://"),
        ('[[sources]]\nkind = "demo"\nname = "d"\nas_of = "2026-02-30"\n', "sources.0.demo.as_of", "day is out of range"),
    ],
)
def test_values_that_would_fail_at_run_time_fail_at_load_naming_the_key(tmp_path, body, key, expected):
    path = write_config(tmp_path, body)
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    message = str(error.value)
    assert message.startswith(f"{path}: invalid configuration\n")
    line = next(line for line in message.splitlines() if line.strip().startswith(f"{key}:"))
    assert expected in line


def test_valid_zones_countries_dates_and_windows_load(tmp_path):
    path = write_config(tmp_path, '[calendar]\ncountry = "de"\ntimezone = "Europe/Berlin"\n'
                                  '[[projects]]\nkey = "ERP"\nstart_date = "2025-01-06"\ndue_date = "2025-12-19"\n'
                                  'timezone = "UTC"\n[alerts]\nquiet_hours = "22:00-08:00"\n' + JIRA)
    settings = load_settings(path)
    assert (settings.calendar.country, settings.projects[0].due_date) == ("DE", "2025-12-19")


def test_a_file_that_is_not_utf8_is_named_with_the_byte_offset(tmp_path):
    path = tmp_path / "lodestar.toml"
    path.write_bytes('[calendar]\ncountry = "CN"  # 中国\n'.encode("gbk"))
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    offset = len(b'[calendar]\ncountry = "CN"  # ')
    assert str(error.value).startswith(f"{path}: not UTF-8 text: byte {offset} is 0xd6")


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "lodestar.toml"
    path.write_bytes(b"\xef\xbb\xbf" + '[calendar]\ncountry = "CN"\n'.encode())
    assert load_settings(path).calendar.country == "CN"


def test_unset_secrets_of_enabled_sources_and_channels_fail_with_key_and_variable(tmp_path, monkeypatch):
    body = (JIRA + 'token_env = "LODESTAR_TEST_JIRA_TOKEN"\nuser_env = "LODESTAR_TEST_JIRA_USER"\n'
            '[[sources]]\nkind = "github"\nname = "gh"\nrepos = ["a/b"]\nenabled = false\n'
            'token_env = "LODESTAR_TEST_UNUSED"\n'
            '[[alerts.channels]]\nname = "team"\nkind = "dingtalk"\nurl_env = "LODESTAR_TEST_HOOK"\n'
            'secret_env = "LODESTAR_TEST_SECRET"\n')
    path = write_config(tmp_path, body)
    for name in ("LODESTAR_TEST_JIRA_TOKEN", "LODESTAR_TEST_UNUSED", "LODESTAR_TEST_HOOK", "LODESTAR_TEST_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LODESTAR_TEST_JIRA_USER", "ada")
    monkeypatch.setenv("LODESTAR_TEST_SECRET", "")
    assert load_settings(path).sources[0].token_env == "LODESTAR_TEST_JIRA_TOKEN"
    with pytest.raises(ConfigError) as error:
        load_settings(path, environment=True)
    assert str(error.value).splitlines() == [
        f"{path}: invalid configuration",
        "  sources.0.jira.token_env: environment variable LODESTAR_TEST_JIRA_TOKEN is not set",
        "  alerts.channels.0.url_env: environment variable LODESTAR_TEST_HOOK is not set",
        "  alerts.channels.0.secret_env: environment variable LODESTAR_TEST_SECRET is empty",
    ]
    monkeypatch.setenv("LODESTAR_TEST_JIRA_TOKEN", "t")
    monkeypatch.setenv("LODESTAR_TEST_HOOK", "https://example.com/hook")
    monkeypatch.setenv("LODESTAR_TEST_SECRET", "s")
    assert load_settings(path, environment=True).sources[0].name == "apache"


def test_a_warehouse_folder_that_cannot_be_created_is_named(tmp_path):
    (tmp_path / "taken").write_text("a file where the folder should be")
    path = write_config(tmp_path, '[warehouse]\npath = "taken/data/w.duckdb"\n')
    assert load_settings(path).warehouse.path == tmp_path / "taken" / "data" / "w.duckdb"
    with pytest.raises(ConfigError) as error:
        load_settings(path, environment=True)
    lines = str(error.value).splitlines()
    assert lines[1] == (f"  warehouse.path: {tmp_path / 'taken/data/w.duckdb'} cannot be written: "
                        f"{tmp_path / 'taken'} is a file, not a folder")
    assert not (tmp_path / "taken" / "data").exists()


def test_the_environment_check_passes_for_the_demo_without_configuration(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LODESTAR_CONFIG", raising=False)
    settings = load_settings(environment=True)
    assert [s.kind for s in settings.sources] == ["demo"]
    assert not (tmp_path / "data").exists()
