"""Intervals that mean what they say (#13): started tasks draw remaining days, plan and prediction
blend into a spread distribution, and the demo has no zero-width interval or pinned forecast."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest

from models.planning.calendar import WorkCalendar
from models.planning.forecast import SIGMA_MAX, SIGMA_MIN, Z90, PlanPredictionDurations, blend, simulate
from models.planning.model import Plan, PlanLink, PlanTask
from models.planning.network import Network
from models.planning.portfolio import PredictedDurations, duration_model

STATUS = date(2024, 9, 23)
REPO = Path(__file__).resolve().parents[1]


def started_plan() -> Plan:
    tasks = [PlanTask("S", duration_days=10, actual_start=date(2024, 9, 2), percent_complete=80),
             PlanTask("N", duration_days=4)]
    return Plan(tasks, [PlanLink("S", "N")], start=date(2024, 9, 2), status_date=STATUS)


def test_a_started_task_samples_its_remaining_days_not_a_scaled_total() -> None:
    cn = WorkCalendar("CN")
    net = Network.from_plan(started_plan())
    predictions = PredictedDurations({"S": (300.0, 400.0)})  # a total that counts the time already spent
    predictions.remaining = {"S": (3.0, 5.0)}
    durations, used = duration_model(net, predictions)
    assert used == 1 and durations.remaining.tolist() == [True, False]
    # the simulation input for S is its remaining days: plan remaining 2 (20 % of 10) blended with 3
    median, _ = blend(np.array([2.0]), np.array([3.0]), np.array([5.0]))
    assert durations.median[0] == pytest.approx(median[0]) and durations.median[0] < 5
    fixed = PlanPredictionDurations(np.array([3.0, 4.0]), np.zeros(2), np.array([True, False]),
                                    np.array([True, False]), fallback=None)
    result = simulate(net, fixed, runs=20, seed=1, calendar=cn)
    status = cn.index_of(STATUS, "forward")
    assert np.allclose(result.finishes[0], status + 3.0)  # 3 days from the status date, unscaled
    assert np.allclose(result.finishes[1], status + 7.0)
    # without the remaining mark the same draw is a total, scaled by the planned remaining fraction
    scaled = simulate(net, np.tile([3.0, 4.0], (20, 1)), calendar=cn)
    assert np.allclose(scaled.finishes[0], status + 3.0 * 0.2)


def test_blend_is_between_plan_and_prediction_and_always_spread() -> None:
    median, sigma = blend(np.array([10.0, 10.0, 0.0, 5.0]), np.array([10.0, 90.0, 4.0, 5.0]),
                          np.array([10.0, 95.0, 8.0, 50.0]))
    assert median[0] == pytest.approx(10.0) and sigma[0] == pytest.approx(SIGMA_MIN)  # zero-width input
    assert median[1] == pytest.approx(30.0)  # geometric mean: a wild prediction moves the median halfway
    assert sigma[1] > np.log(95 / 90) / Z90
    assert median[2] == 4.0  # no plan: the prediction
    assert sigma[3] == pytest.approx(SIGMA_MAX)
    assert np.all(sigma >= SIGMA_MIN) and np.all(sigma <= SIGMA_MAX)


def test_one_wild_task_does_not_pin_the_project_to_one_day() -> None:
    cn = WorkCalendar("CN")
    tasks = [PlanTask(f"T{i}", duration_days=5) for i in range(6)]
    plan = Plan(tasks, [PlanLink(f"T{i}", f"T{i + 1}") for i in range(5)], start=STATUS, status_date=STATUS)
    net = Network.from_plan(plan)
    predictions = PredictedDurations({"T2": (62.0, 62.0)})  # the ERP-552 case: 62 days, no spread
    durations, _ = duration_model(net, predictions)
    result = simulate(net, durations, runs=2000, seed=3, calendar=cn)
    p50, p85, p95 = (result.project_finish_date(p) for p in (50, 85, 95))
    assert p50 < p85 < p95


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    path = tmp_path_factory.mktemp("iv") / "w.duckdb"
    subprocess.run([str(Path(sys.executable).parent / "lodestar"), "demo", "--warehouse", str(path)], cwd=REPO,
                   check=True, capture_output=True, timeout=600)
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()


def test_demo_has_no_zero_width_interval_and_spread_forecasts(demo) -> None:
    open_rows, zero_width, inverted = demo.execute(
        """SELECT count(*), count(*) FILTER (WHERE duration_p90_days <= duration_p50_days
                                                OR remaining_p90_days <= remaining_p50_days),
                  count(*) FILTER (WHERE duration_p90_days < duration_p50_days) FROM task_predictions""").fetchone()
    assert open_rows > 0 and zero_width == 0 and inverted == 0
    forecasts = demo.execute("SELECT project_key, finish_p50, finish_p85, finish_p95 FROM project_forecasts").fetchall()
    assert forecasts
    for key, p50, p85, p95 in forecasts:
        assert p50 < p85 < p95, key
