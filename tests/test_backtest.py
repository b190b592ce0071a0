"""`lodestar eval forecasts --json` on the demo company: the contract keys, types and sane ranges."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from models.prediction.delay_backtest import reliability
from tests.conftest import REPO_ROOT


def test_reliability_bins_and_ece():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.05, 0.05, 0.95, 0.95])
    ece, bins = reliability(y, p)
    assert abs(ece - 0.05) < 1e-9 and len(bins) == 10
    assert bins[0]["n"] == 2 and bins[9]["n"] == 2 and bins[5]["n"] == 0


def test_eval_forecasts_contract_on_the_demo(demo_company_config):
    result = subprocess.run([sys.executable, "-m", "pipelines.cli", "eval", "forecasts", "--config",
                             str(demo_company_config), "--json"], capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for key in ("coverage_p10_p90", "delay_ece", "delay_brier"):
        assert isinstance(report[key], float), key
    assert 0.0 <= report["coverage_p10_p90"] <= 1.0
    assert 0.0 <= report["delay_ece"] <= 1.0 and 0.0 <= report["delay_brier"] <= 1.0
    assert report["projects"], "no demo project could be back-tested"
    for project in report["projects"]:
        assert isinstance(project["project_key"], str)
        for key in ("p85_error_days_8w", "plan_error_days_8w", "throughput_error_days_8w"):
            assert isinstance(project[key], float) and project[key] >= 0, (project["project_key"], key)
    bins = report["delay_calibration"]["reliability"]
    assert len(bins) == 10 and sum(b["n"] for b in bins) == report["delay_calibration"]["n"]
