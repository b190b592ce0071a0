"""Monte Carlo over the CPM network, duration models, and throughput forecasts."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from models.planning.calendar import WorkCalendar
from models.planning.cpm import schedule
from models.planning.forecast import (
    FixedDurations,
    LognormalDurations,
    PertDurations,
    fit_lognormal,
    how_many_by,
    simulate,
    when_done,
)
from models.planning.model import Plan, PlanLink, PlanTask
from models.planning.network import Network

START = date(2024, 9, 23)


@pytest.fixture(scope="module")
def cn() -> WorkCalendar:
    return WorkCalendar("CN")


def mixed_plan() -> Plan:
    durations = {"A": 3, "B": 2, "C": 4, "D": 1, "E": 3, "G": 2, "M": 0}
    links = [PlanLink("A", "B"), PlanLink("A", "C", "SS", 1), PlanLink("B", "D"), PlanLink("C", "E", "FF", 1),
             PlanLink("D", "E"), PlanLink("B", "G", "SF", 2), PlanLink("E", "M")]
    tasks = [PlanTask(t, duration_days=d, is_milestone=d == 0) for t, d in durations.items()]
    return Plan(tasks, links, start=START, status_date=START)


def test_zero_variance_equals_cpm(cn) -> None:
    plan = mixed_plan()
    net = Network.from_plan(plan)
    sched = schedule(net, cn)
    result = simulate(net, FixedDurations(net.duration), runs=50, seed=1, calendar=cn)
    assert np.allclose(result.finishes, sched.early_finish[:, None])
    assert np.allclose(result.project_finish, sched.project_finish)
    assert np.array_equal(result.criticality, sched.is_critical.astype(float))
    for p in (50, 85, 95):
        assert result.finish_date("E", p) == sched.finish_date("E")
        assert result.project_finish_date(p) == sched.project_finish_date
    assert result.milestone_finishes() == {"M": {p: sched.finish_date("M") for p in (50, 85, 95)}}
    assert result.probability_finish_by(sched.project_finish_date) == 1.0
    assert result.probability_finish_by(sched.project_finish_date - timedelta(days=1)) == 0.0


def test_explicit_duration_arrays_set_the_runs(cn) -> None:
    net = Network.from_plan(mixed_plan())
    draws = np.tile(net.duration, (7, 1))
    draws[3] *= 2
    result = simulate(net, draws, calendar=cn)
    assert result.runs == 7
    assert result.project_finish.argmax() == 3


def test_single_chain_is_always_critical() -> None:
    plan = Plan([PlanTask(t, duration_days=5) for t in "ABCD"],
                [PlanLink("A", "B"), PlanLink("B", "C"), PlanLink("C", "D")], start=START)
    result = simulate(plan, runs=2_000, seed=3)
    assert np.array_equal(result.criticality, np.ones(4))


def test_two_equal_parallel_paths_split_criticality() -> None:
    plan = Plan([PlanTask(t, duration_days=d) for t, d in [("S", 2), ("P", 10), ("Q", 10), ("E", 2)]],
                [PlanLink("S", "P"), PlanLink("S", "Q"), PlanLink("P", "E"), PlanLink("Q", "E")], start=START)
    result = simulate(plan, runs=10_000, seed=11)
    crit = dict(zip(result.network.task_ids, result.criticality))
    assert crit["S"] == crit["E"] == 1.0
    assert crit["P"] == pytest.approx(0.5, abs=0.03)
    assert crit["P"] + crit["Q"] == pytest.approx(1.0, abs=1e-9)  # ties have probability zero


def test_percentiles_are_monotone_and_beyond_the_deterministic_plan(cn) -> None:
    plan = mixed_plan()
    sched = schedule(plan, cn)
    result = simulate(plan, runs=4_000, seed=5, calendar=cn)
    frame = result.frame
    assert (frame["p50_finish_index"] <= frame["p85_finish_index"]).all()
    assert (frame["p85_finish_index"] <= frame["p95_finish_index"]).all()
    assert (frame["p50_finish"] <= frame["p95_finish"]).all()
    assert result.project_finish_date(50) <= result.project_finish_date(85) <= result.project_finish_date(95)
    # default PERT (0.75d, d, 1.6d) has mean 1.058d: the median project lands at or after the plan
    assert result.project_finish_index(50) >= sched.project_finish - 1
    assert result.project_finish_index(95) > sched.project_finish


def test_progress_is_respected(cn) -> None:
    plan = Plan(
        [PlanTask("A", duration_days=5, actual_start=START, actual_finish=date(2024, 9, 27)),
         PlanTask("B", duration_days=4, actual_start=date(2024, 9, 29), remaining_days=2),
         PlanTask("C", duration_days=3)],
        [PlanLink("A", "B"), PlanLink("B", "C")], start=START, status_date=date(2024, 9, 30),
    )
    result = simulate(plan, runs=2_000, seed=2, calendar=cn)
    origin = cn.index_of(START)
    a, b, c = (result.network.index[t] for t in "ABC")
    assert np.all(result.finishes[a] == origin + 5)               # done: fixed
    assert result.criticality[a] == 0.0
    b_left = result.finishes[b] - (origin + 6)                    # remaining 2 days from the status date
    assert b_left.min() >= 2 * 0.75 - 1e-4 and b_left.max() <= 2 * 1.6 + 1e-4


def test_pert_sampler_moments_and_bounds() -> None:
    pert = PertDurations([2.0, 0.0, 1.0], [4.0, 0.0, 1.0], [12.0, 0.0, 1.0])
    draws = pert.sample(np.random.default_rng(0), 100_000)
    assert draws.shape == (100_000, 3)
    assert draws[:, 0].min() >= 2.0 and draws[:, 0].max() <= 12.0
    assert draws[:, 0].mean() == pytest.approx((2 + 4 * 4 + 12) / 6, rel=0.01)
    assert np.all(draws[:, 1] == 0.0) and np.allclose(draws[:, 2], 1.0)
    default = PertDurations.from_durations(np.array([10.0]))
    assert (default.optimistic[0], default.most_likely[0], default.pessimistic[0]) == (7.5, 10.0, 16.0)
    with pytest.raises(ValueError):
        PertDurations([3.0], [2.0], [4.0])


def test_lognormal_from_p50_p90_and_fit_from_history() -> None:
    model = LognormalDurations.from_p50_p90(np.array([5.0, 0.0]), np.array([9.0, 0.0]))
    draws = model.sample(np.random.default_rng(1), 200_000)
    assert np.median(draws[:, 0]) == pytest.approx(5.0, rel=0.02)
    assert np.percentile(draws[:, 0], 90) == pytest.approx(9.0, rel=0.02)
    assert np.all(draws[:, 1] == 0.0)

    history = np.random.default_rng(2).lognormal(np.log(3.0), 0.6, 5_000)
    fit = fit_lognormal(np.concatenate([history, [0.0, -1.0]]))  # non-positive cycle times are ignored
    assert fit.median == pytest.approx(3.0, rel=0.05)
    assert fit.sigma == pytest.approx(0.6, rel=0.05)
    by_type = LognormalDurations.by_type(["bug", "story", "bug"], {"bug": fit},
                                         default=fit_lognormal([8, 10, 12]), zero=[False, False, True])
    assert by_type.median[0] == pytest.approx(3.0, rel=0.05) and by_type.median[2] == 0.0
    with pytest.raises(KeyError):
        LognormalDurations.by_type(["epic"], {"bug": fit})


def test_when_done_and_how_many_with_constant_throughput() -> None:
    start = date(2026, 1, 5)
    assert when_done(20, [5, 5, 5], runs=100, seed=0, start=start) == {p: date(2026, 2, 1) for p in (50, 85, 95)}
    assert how_many_by(date(2026, 2, 1), [5, 5], runs=100, seed=0, start=start) == {50: 20, 85: 20, 95: 20}
    assert when_done(0, [5], start=start) == {50: start, 85: start, 95: start}


def test_throughput_percentiles_are_monotone() -> None:
    history = [0, 3, 7, 2, 9, 4, 4, 1, 6, 5]
    start = date(2026, 1, 5)
    done = when_done(60, history, runs=5_000, seed=4, start=start)
    assert start < done[50] <= done[85] <= done[95]
    assert done[50] < done[95]
    count = how_many_by(date(2026, 4, 26), history, runs=5_000, seed=4, start=start)
    assert count[50] >= count[85] >= count[95] > 0
    assert count[50] > count[95]
    with pytest.raises(ValueError):
        when_done(10, [0, 0], start=start)


def test_each_run_matches_a_cpm_of_its_own_durations(cn) -> None:
    """The multi-run passes (rank-wise segment reductions) agree with one-run CPM, run by run."""
    rng = np.random.default_rng(8)
    n = 60
    tasks = [PlanTask(f"T{i}", duration_days=float(rng.integers(0, 6))) for i in range(n)]
    links = []
    for _ in range(150):
        p, s = sorted(rng.choice(n, 2, replace=False))
        links.append(PlanLink(f"T{p}", f"T{s}", ["FS", "SS", "FF", "SF"][rng.integers(4)], float(rng.integers(-1, 3))))
    plan = Plan(tasks, links, start=START)
    draws = rng.uniform(0.5, 6.0, (12, n)) * (np.array([t.duration_days for t in tasks]) > 0)
    result = simulate(plan, draws, calendar=cn)
    critical_runs = np.zeros(n)
    finishes = []
    for run, row in enumerate(draws):
        sched = schedule(Plan([PlanTask(t.task_id, duration_days=float(d)) for t, d in zip(tasks, row)], links,
                              start=START), cn)
        assert result.project_finish[run] == pytest.approx(sched.project_finish)
        critical_runs += sched.is_critical
        finishes.append(sched.early_finish)
    assert np.allclose(result.finishes, np.sort(np.array(finishes), axis=0).T, atol=1e-3)  # stored as float32
    assert np.allclose(result.criticality, critical_runs / len(draws))
    assert 0 < result.criticality.mean() < 1
