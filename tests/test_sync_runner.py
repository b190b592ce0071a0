"""Where the command line keeps its Dagster instance, and the dagster.yaml it writes there."""

from __future__ import annotations

import os

import yaml

from pipelines.sync_runner import INSTANCE_YAML, dagster_home, prepare_dagster_home


def test_instance_is_dagster_home_if_set_else_per_user(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert dagster_home() == tmp_path / "user" / ".lodestar" / "dagster"
    assert not dagster_home().exists(), "resolving the folder (for --help) creates nothing"

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "mine"))
    assert dagster_home() == tmp_path / "mine"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", "relative")
    assert dagster_home() == tmp_path / "relative", "Dagster wants an absolute path"


def test_prepare_writes_a_quiet_dagster_yaml_once_and_keeps_the_users(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = prepare_dagster_home()
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    assert config["telemetry"] == {"enabled": False} and config["nux"] == {"enabled": False}
    assert "storage" not in config, "Dagster's defaults keep everything inside the instance folder"
    assert yaml.safe_load(INSTANCE_YAML) == config
    assert os.environ["DAGSTER_HOME"] == str(home)

    own = tmp_path / "own"
    own.mkdir()
    (own / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(own))
    assert prepare_dagster_home() == own
    assert (own / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"
    assert [p.name for p in own.iterdir()] == ["dagster.yaml"]
