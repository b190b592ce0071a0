"""`lodestar eval delay --jira-dir` and `--emse2017` as a user runs them: JSON contract and predictions CSV."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from pipelines.evaluation import JiraDirError, due_date_set_at, parsed_tasks, read_issue_files
from pipelines.jira.parse import due_date_set_times
from tests.conftest import REPO_ROOT, SHARED_DATA

APACHE = SHARED_DATA / "jira-apache-2015"
EMSE = SHARED_DATA / "delay-emse2017"


def _lodestar(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True, cwd=REPO_ROOT)


def test_due_date_time_is_the_last_change_setting_it_before_resolution():
    issue = {"key": "ERP-5",
             "fields": {"created": "2015-01-01T00:00:00.000+0000", "resolutiondate": "2015-03-01T00:00:00.000+0000"},
             "changelog": {"histories": [
                 {"id": "1", "created": "2015-01-05T08:00:00.000+0800", "items": [{"field": "duedate", "to": "2015-02-01"}]},
                 {"id": "2", "created": "2015-01-20T00:00:00.000+0000", "items": [{"field": "duedate", "to": "2015-02-10"}]},
                 {"id": "3", "created": "2015-04-01T00:00:00.000+0000", "items": [{"field": "duedate", "to": "2015-05-01"}]},
             ]}}
    [task] = parsed_tasks([issue])
    assert due_date_set_at(task, due_date_set_times(issue)).isoformat() == "2015-01-20T00:00:00"
    assert due_date_set_at(task, []).isoformat() == "2015-01-01T00:00:00"
    assert due_date_set_at({**task, "resolved_at": None}, due_date_set_times(issue)).isoformat() == "2015-04-01T00:00:00"


def test_a_folder_without_issues_is_a_clear_error(tmp_path):
    (tmp_path / "notes.json").write_text('{"hello": 1}')
    with pytest.raises(JiraDirError, match="expected a Jira issue object"):
        read_issue_files(tmp_path)
    result = _lodestar("eval", "delay", "--jira-dir", str(tmp_path), "--json")
    assert result.returncode == 1 and "Traceback" not in result.stderr


@pytest.mark.slow
@pytest.mark.skipif(not APACHE.is_dir(), reason=f"shared data not found at {APACHE}")
def test_eval_delay_on_raw_jira_through_the_product_path(tmp_path):
    out = tmp_path / "predictions.csv"
    result = _lodestar("eval", "delay", "--jira-dir", str(APACHE), "--json", "--predictions-out", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["items"] == 148 and report["issues_read"] == 501
    assert set(report["baselines"]) == {"training_rate", "logistic_regression"}
    for block in (report["model"], *report["baselines"].values()):
        assert {"roc_auc", "pr_auc", "precision", "recall", "f1", "brier"} <= set(block)
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["issuekey", "y_true", "probability"]
    assert len(rows) == report["split"]["test"]["n"]


@pytest.mark.skipif(not EMSE.is_dir(), reason=f"shared data not found at {EMSE}")
def test_eval_delay_emse_json_contract(tmp_path):
    out = tmp_path / "p.csv"
    result = _lodestar("eval", "delay", "--emse2017", str(EMSE / "duraspace_discussion.csv"), "--json",
                       "--predictions-out", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["model"]["roc_auc"] > report["baselines"]["training_rate"]["roc_auc"]
    assert report["published"]["roc_auc"] == 0.99
    assert out.read_text().splitlines()[0] == "issuekey,y_true,probability"


PSPLIB = SHARED_DATA / "psplib" / "j30"


@pytest.mark.skipif(not PSPLIB.is_dir(), reason=f"shared data not found at {PSPLIB}")
def test_plan_level_psplib_json_contract():
    from models.planning.levelling import verify
    from models.planning.psplib import parse_sm

    instance_path = PSPLIB / "j301_1.sm"
    result = _lodestar("plan", "level", "--psplib", str(instance_path), "--time-limit", "5", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {"makespan", "start"}
    instance = parse_sm(instance_path)
    starts = {int(job): start for job, start in report["start"].items()}
    assert verify(instance, starts) == []
    assert report["makespan"] == max(starts[j] + d for j, d in instance.durations.items())


STORYPOINTS = SHARED_DATA / "storypoints"


@pytest.mark.skipif(not STORYPOINTS.is_dir(), reason=f"shared data not found at {STORYPOINTS}")
def test_eval_effort_json_contract(tmp_path):
    out = tmp_path / "effort.csv"
    result = _lodestar("eval", "effort", "--storypoints", str(STORYPOINTS / "clover.csv"), "--json",
                       "--predictions-out", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for block in (report["model"], report["baselines"]["mean"], report["baselines"]["median"]):
        assert set(block) >= {"MAE", "MdAE", "SA"}
    assert report["model"]["MAE"] < report["baselines"]["mean"]["MAE"]
    lines = out.read_text().splitlines()
    assert lines[0] == "issuekey,y_true,y_pred" and len(lines) == report["n_test"] + 1
