"""Wall time of the planning core: CPM on 100,000 tasks / 300,000 links, Monte Carlo of 10,000 runs over 2,000 tasks.

The networks are random layered DAGs (each link goes from a layer to one of the next
few layers, mixed link types, some lags and leads), i.e. deep enough that the
level-by-level passes do real work, on the Chinese calendar.

    .venv/bin/python benchmarks/planning_speed.py [--repeat 5]

Prints one JSON object: what was measured, medians, the machine's core count and the command.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from models.planning.calendar import WorkCalendar  # noqa: E402
from models.planning.cpm import schedule  # noqa: E402
from models.planning.forecast import simulate  # noqa: E402
from models.planning.model import Plan, PlanLink, PlanTask  # noqa: E402
from models.planning.network import Network  # noqa: E402

LINK_TYPES = ("FS", "SS", "FF", "SF")


def layered_plan(n_tasks: int, n_links: int, n_layers: int, seed: int = 1) -> Plan:
    """A random DAG: tasks spread over layers, each link from a layer to one of the next three."""
    rng = np.random.default_rng(seed)
    layer = np.sort(rng.integers(0, n_layers, n_tasks))
    first = np.searchsorted(layer, np.arange(n_layers + 1))
    pred_layer = rng.integers(0, n_layers - 1, n_links)
    succ_layer = np.minimum(pred_layer + rng.integers(1, 4, n_links), n_layers - 1)
    pred = first[pred_layer] + (rng.random(n_links) * (first[pred_layer + 1] - first[pred_layer])).astype(int)
    succ = first[succ_layer] + (rng.random(n_links) * (first[succ_layer + 1] - first[succ_layer])).astype(int)
    kind = rng.choice(4, n_links, p=[0.85, 0.07, 0.06, 0.02])
    lag = np.where(rng.random(n_links) < 0.1, rng.integers(-2, 4, n_links), 0).astype(float)
    duration = rng.integers(0, 15, n_tasks).astype(float)
    tasks = [PlanTask(f"T{i}", duration_days=float(d)) for i, d in enumerate(duration)]
    links = [PlanLink(f"T{p}", f"T{s}", LINK_TYPES[k], float(g))
             for p, s, k, g in zip(pred.tolist(), succ.tolist(), kind.tolist(), lag.tolist())]
    return Plan(tasks=tasks, links=links, start=date(2025, 1, 6), status_date=date(2025, 1, 6), name="bench")


def timed(action, repeat: int) -> tuple[float, list[float], object]:
    samples = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), samples, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    calendar = WorkCalendar("CN")

    big = layered_plan(100_000, 300_000, n_layers=400)
    build_s, _, net = timed(lambda: Network.from_plan(big), args.repeat)
    cpm_s, cpm_samples, sched = timed(lambda: schedule(net, calendar), args.repeat)
    full_s, _, _ = timed(lambda: schedule(big, calendar), args.repeat)

    small = layered_plan(2_000, 6_000, n_layers=60, seed=2)
    small_net = Network.from_plan(small)
    mc_s, mc_samples, mc = timed(lambda: simulate(small_net, runs=10_000, seed=7, calendar=calendar), args.repeat)

    print(json.dumps({
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "cpu_count": os.cpu_count(),
        "affinity_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpm": {
            "tasks": net.n_tasks, "links": net.n_links, "levels": net.n_levels,
            "schedule_prebuilt_network_s_median": round(cpm_s, 3),
            "schedule_prebuilt_network_s_samples": [round(s, 3) for s in cpm_samples],
            "network_build_from_plan_s_median": round(build_s, 3),
            "schedule_from_plan_s_median": round(full_s, 3),
            "critical_tasks": int(sched.is_critical.sum()),
            "project_finish": sched.project_finish_date.isoformat(),
        },
        "monte_carlo": {
            "tasks": small_net.n_tasks, "links": small_net.n_links, "levels": small_net.n_levels, "runs": mc.runs,
            "simulate_s_median": round(mc_s, 3),
            "simulate_s_samples": [round(s, 3) for s in mc_samples],
            "project_finish_p50": mc.project_finish_date(50).isoformat(),
            "project_finish_p95": mc.project_finish_date(95).isoformat(),
        },
        "repeat": args.repeat,
    }, indent=2))


if __name__ == "__main__":
    main()
