"""`lodestar eval forecasts --json` on the demo company: the contract keys, types and sane ranges."""

from __future__ import annotations

import json
import subprocess
import sys

from datetime import date, timedelta

import numpy as np

from models.planning.backtest import calibrate, km_quantiles
from models.planning.calendar import WorkCalendar
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


def test_km_quantiles_without_censoring_are_the_empirical_quantiles():
    values = np.arange(1.0, 101.0)
    q = km_quantiles(values, np.array([]), (10, 50, 90))
    assert list(q) == [10.0, 50.0, 90.0]


def test_km_quantiles_count_unfinished_forecasts_as_at_least_the_time_waited():
    finished = np.arange(1.0, 51.0)
    waited = np.full(50, 60.0)   # half the forecasts are still open after 60: they end later than every finish
    q = km_quantiles(finished, waited, (10, 50, 90))
    assert q[0] == 10.0          # 10 % of all 100 end by 10, as without censoring
    assert q[1] == 50.0          # the 50 finished ones are the lower half
    assert q[2] == 60.0          # not reached: the largest value seen, a lower bound
    assert km_quantiles(np.array([]), waited, (50,)) is None


def _row(status: date, finish: date, calendar: WorkCalendar, plan_ahead=None) -> dict:
    d_ix = int(calendar.index_of(status))
    ahead = float(calendar.index_of(finish, "backward") - d_ix)
    return {"status_date": status, "actual_finish": finish, "d_ix": d_ix, "actual_ahead": ahead,
            "history_ahead": [5.0, 10.0, 14.0, 16.0], "plan_ahead": plan_ahead, "throughput_ahead": None}


def test_calibration_reads_no_outcome_after_the_status_date():
    calendar = WorkCalendar(country="CN")
    start = date(2025, 3, 3)
    rows = [_row(start + timedelta(days=7 * i), start + timedelta(days=7 * i + 30 + (i % 5) * 9), calendar)
            for i in range(40)]
    changed = [dict(r) for r in rows]
    changed[-1]["actual_finish"] = changed[-1]["actual_finish"] + timedelta(days=200)
    changed[-1]["actual_ahead"] += 140
    calibrate(rows, calendar)
    calibrate(changed, calendar)
    assert [r["p90"] for r in rows[:-1]] == [r["p90"] for r in changed[:-1]]
    assert rows[-1]["calibrated"] and not rows[0]["calibrated"]
    assert all(r["p10"] <= r["p50"] <= r["p85"] <= r["p90"] for r in rows)


def test_calibration_widens_intervals_to_the_track_record():
    """Forecasts that were always 2x too optimistic: the calibrated P50 moves to about twice the forecast."""
    calendar = WorkCalendar(country="CN")
    start = date(2025, 3, 3)
    rows = []
    for i in range(60):
        status = start + timedelta(days=7 * i)
        rows.append(_row(status, calendar.date_of(int(calendar.index_of(status)) + 21), calendar))
    calibrate(rows, calendar)
    late = rows[-10:]                         # 50+ forecasts on record outweigh the prior's 10 pseudo-rows
    assert all(r["calibrated"] for r in late)
    assert all(calendar.index_of(r["p90"]) >= calendar.index_of(r["actual_finish"]) - 1 for r in late)
    assert all(abs(calendar.index_of(r["p50"]) - calendar.index_of(r["actual_finish"])) <= 2 for r in late)
    raw_p50 = [r["d_ix"] + 10 for r in late]
    assert all(calendar.index_of(r["p50"]) - raw >= 8 for r, raw in zip(late, raw_p50, strict=True))
