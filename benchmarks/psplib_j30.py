"""Resource levelling on PSPLIB j30: CP-SAT against the known optima, and one serial SGS pass for scale.

Every instance is solved in turn (CP-SAT uses both cores itself; progress goes
to stderr, the summary to stdout), every
schedule is checked by `verify`, which shares no code with the solvers, and
makespans are compared with the published optima (j30_optimum.csv, else
j30hrs.sm, beside the instance folder).

    .venv/bin/python benchmarks/psplib_j30.py [PATH] [--time-limit 5] [--limit N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from models.planning.levelling import LevelResult, serial_sgs, solve_rcpsp, verify  # noqa: E402
from models.planning.psplib import load_optimum, parse_sm  # noqa: E402

DEFAULT_PATH = REPO.parent / "shared" / "data" / "psplib" / "j30"


def _instance_key(path: Path) -> tuple[int, int]:
    """j30<parameter>_<instance> sorted numerically, as the published tables are."""
    parameter, _, instance = path.stem[3:].partition("_")
    return int(parameter), int(instance)


def _optima(folder: Path) -> dict[str, int]:
    for candidate in (folder.parent / f"{folder.name}_optimum.csv", folder.parent / f"{folder.name}hrs.sm"):
        if candidate.exists():
            return load_optimum(candidate)
    raise SystemExit(f"no {folder.name}_optimum.csv or {folder.name}hrs.sm beside {folder}")


def _summary(rows: list[dict], key: str) -> dict:
    runs = [row[key] for row in rows]
    deviations = [100.0 * (run["makespan"] - row["optimum"]) / row["optimum"] for run, row in zip(runs, rows)]
    seconds = [run["seconds"] for run in runs]
    return {
        "instances": len(rows),
        "feasible": sum(run["feasible"] for run in runs),
        "at_known_optimum": sum(run["makespan"] == row["optimum"] for run, row in zip(runs, rows)),
        "below_known_optimum": sum(run["makespan"] < row["optimum"] for run, row in zip(runs, rows)),
        "proven_optimal": sum(run["optimal"] for run in runs),
        "mean_deviation_pct": round(statistics.fmean(deviations), 3),
        "max_deviation_pct": round(max(deviations), 3),
        "mean_seconds": round(statistics.fmean(seconds), 4),
        "median_seconds": round(statistics.median(seconds), 4),
        "max_seconds": round(max(seconds), 3),
        "total_seconds": round(sum(seconds), 1),
    }


def _run(result: LevelResult, problems: list[str]) -> dict:
    return {
        "makespan": result.makespan,
        "optimal": result.optimal,
        "seconds": result.seconds,
        "feasible": not problems,
        "violations": problems[:3],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=str(DEFAULT_PATH), help="folder of j30 .sm files")
    parser.add_argument("--time-limit", type=float, default=5.0, help="CP-SAT seconds per instance (default 5)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N instances")
    parser.add_argument("--workers", type=int, default=2, help="CP-SAT workers (default 2)")
    parser.add_argument("--json", action="store_true", help="print the summary and per-instance rows as JSON")
    args = parser.parse_args(argv)

    folder = Path(args.path)
    if not folder.is_absolute() and not folder.exists():
        folder = REPO / folder
    files = sorted(folder.glob("*.sm"), key=_instance_key)
    if not files:
        raise SystemExit(f"no .sm files in {folder}")
    if args.limit is not None:
        files = files[: args.limit]
    optima = _optima(folder)

    rows: list[dict] = []
    began = time.perf_counter()
    for number, path in enumerate(files, start=1):
        instance = parse_sm(path)
        exact = solve_rcpsp(instance, time_limit_seconds=args.time_limit, workers=args.workers)
        heuristic = serial_sgs(instance, "LFT")
        row = {
            "instance": instance.name,
            "optimum": optima[instance.name],
            "cp_sat": _run(exact, verify(instance, exact.start)),
            "sgs_lft": _run(heuristic, verify(instance, heuristic.start)),
        }
        rows.append(row)
        flag = "" if exact.makespan == row["optimum"] and exact.optimal else "  <--"
        print(
            f"[{number:3d}/{len(files)}] {instance.name:10s} opt {row['optimum']:3d}  "
            f"cp-sat {exact.makespan:3d} {'proved' if exact.optimal else 'open  '} {exact.seconds:6.2f}s  "
            f"sgs {heuristic.makespan:3d}{flag}",
            file=sys.stderr,
            flush=True,
        )

    summary = {
        "folder": str(folder),
        "time_limit_seconds": args.time_limit,
        "workers": args.workers,
        "wall_seconds": round(time.perf_counter() - began, 1),
        "cp_sat": _summary(rows, "cp_sat"),
        "sgs_lft": _summary(rows, "sgs_lft"),
    }
    if args.json:
        print(json.dumps({"summary": summary, "instances": rows}, indent=2))
    else:
        for label, key in (("CP-SAT", "cp_sat"), ("serial SGS / LFT, one pass", "sgs_lft")):
            s = summary[key]
            print(
                f"{label}: {s['instances']} instances, {s['feasible']} feasible (verify), "
                f"{s['at_known_optimum']} at the known optimum, {s['proven_optimal']} proven optimal, "
                f"mean deviation {s['mean_deviation_pct']:.2f}% (max {s['max_deviation_pct']:.2f}%), "
                f"seconds mean {s['mean_seconds']:.3f} / median {s['median_seconds']:.3f} / max {s['max_seconds']:.2f}"
            )
    failed = summary["cp_sat"]["feasible"] + summary["sgs_lft"]["feasible"] != 2 * len(rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
