"""Back-testing of the completion forecast and the delay probability (`lodestar eval forecasts`).

Method (everything is reconstructed from the warehouse as it was on each past status date):

* **Units.** Every project, and every milestone: an epic (a task with ``type_category = 'epic'``,
  with all tasks below it), or for a task under no epic its GitLab milestone (a ``sprints`` row the
  GitLab parser names ``…:milestone:…``). Epics themselves are containers, never work items.
* **Status dates.** Every 2 weeks from a unit's first activity (first task created) to its last
  resolution. At status date D the *cohort* is the unit's work items open at D: created ≤ D and not
  resolved by D. Its observed finish is the last ``resolved_at`` of the cohort; a (unit, D) counts
  only when every task of the cohort is resolved in the warehouse (a finish that has not happened
  cannot be scored).
* **Monte Carlo at D** (``RUNS`` runs): each open task's remaining duration is drawn from
  the lead times (created → resolved, working days) of the unit's project tasks resolved before D, of
  the same type where there are ``MIN_HISTORY`` of them, conditioned on the task's age at D (only
  lead times longer than its age, minus the age: a task open for 30 days is not a new one). The
  tasks run in parallel (the ``simulate`` network with no links), and the team cannot finish faster
  than its throughput: each run's finish is the later of the slowest task and the weeks the
  project's weekly throughput of the 26 weeks before D (resampled) needs for the cohort.
* **Forecast at D.** The point forecast (working days ahead) is the geometric mean of the Monte
  Carlo P50, the plan and the throughput P50 (``combined_center``; each naive forecast joins only
  where it points ahead). Its P10/P50/P85/P90 come from the company's *track record* as known at D
  (``calibrate``): the log-ratio of actual to forecast of every earlier (unit, status date) of every
  project, finished ones as observed, unfinished ones right-censored at the time waited so far,
  read through Kaplan–Meier quantiles (``km_quantiles``) and mixed with ``PRIOR_WEIGHT`` pseudo-rows
  of the Monte Carlo's own spread. So the intervals are as wide as the company's forecasts have
  actually been wrong, and no outcome after D is read. Until ``MIN_TRACK`` forecasts have
  finished, nothing can be calibrated: those status dates are reported apart (``burn_in``) and are
  not in the scores.
* **Naive forecasts at D**, for comparison: *plan* — the latest ``planned_finish`` of the cohort,
  else its latest ``due_date``, else the project's due date (the warehouse keeps current planned
  and due dates only, so this baseline knows the plan as it is now: if anything it is favoured);
  *throughput* — ``models.planning.forecast.when_done`` P85 on the cohort size and the same weekly
  throughput history, no per-task information.
* **Scores.** Errors are absolute, in working days of the company calendar
  (``WorkCalendar.from_settings``). ``coverage_p10_p90`` is the share of calibrated (unit, D) whose
  finish fell inside P10–P90. ``*_error_days_8w`` is the error at the status date closest to
  8 weeks before the finish (within 2 weeks); for a project that never finished in the warehouse
  it is the mean over its finished milestones (``basis`` says which).
* **Delay calibration.** ``models.prediction.delay_backtest`` (rolling origin, see there).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from datetime import date, timedelta

import duckdb
import numpy as np
import polars as pl

from models.planning.calendar import WorkCalendar
from models.prediction.delay_backtest import delay_calibration

RUNS = 2000
MIN_HISTORY = 20
STEP_DAYS = 14
HORIZON_WEEKS = 8
THROUGHPUT_WEEKS = 26

_TASKS_SQL = """
SELECT task_id, project_key, parent_task_id, coalesce(type_category, type, '') AS kind,
       coalesce(type_category, '') = 'epic' AS is_epic,
       created_at::DATE AS created, resolved_at::DATE AS resolved, resolved_at,
       due_date, planned_finish,
       CASE WHEN sprint_id LIKE '%:milestone:%' THEN sprint_id END AS timebox_milestone
FROM tasks
WHERE NOT is_deleted AND created_at IS NOT NULL AND project_key IS NOT NULL
"""


def _milestone_of(tasks: pl.DataFrame) -> list[str | None]:
    """The epic above each task (walking parents), None when there is none."""
    parent = dict(zip(tasks["task_id"], tasks["parent_task_id"], strict=True))
    epic = set(tasks.filter(pl.col("is_epic"))["task_id"])
    out: list[str | None] = []
    for task_id in tasks["task_id"]:
        seen, node, found = set(), parent.get(task_id), None
        while node is not None and node not in seen:
            if node in epic:
                found = node
                break
            seen.add(node)
            node = parent.get(node)
        out.append(found)
    return out


def _days(values) -> np.ndarray:
    return np.asarray(values, dtype="datetime64[D]")


class _History:
    """Lead times and weekly throughput of one project, queried as of any status date."""

    def __init__(self, items: pl.DataFrame, calendar: WorkCalendar):
        done = items.filter(pl.col("resolved").is_not_null())
        self.first = np.datetime64(items["created"].min(), "D")
        self.resolved = _days(done["resolved"].to_numpy())
        self.kind = done["kind"].to_numpy()
        created_ix = calendar.index_of(_days(done["created"].to_numpy()))
        resolved_ix = calendar.index_of(self.resolved, "backward")
        self.lead = np.maximum(resolved_ix - created_ix + 1, 1).astype(np.float64)

    def lead_times(self, d: np.datetime64, kind: str) -> np.ndarray:
        before = self.resolved <= d
        same = before & (self.kind == kind)
        pool = self.lead[same] if same.sum() >= MIN_HISTORY else self.lead[before]
        return np.sort(pool)

    def weekly(self, d: np.datetime64) -> np.ndarray:
        """Tasks resolved in each of the (at most 26) whole weeks before D since the first activity."""
        n_weeks = int(min(THROUGHPUT_WEEKS, (d - self.first).astype(np.int64) // 7))
        if n_weeks < 4:
            return np.zeros(1)
        start = d - np.timedelta64(7 * n_weeks, "D")
        window = self.resolved[(self.resolved > start) & (self.resolved <= d)]
        weeks = ((d - window).astype(np.int64) // 7).clip(0, n_weeks - 1)
        return np.bincount(weeks, minlength=n_weeks).astype(np.float64)


def _remaining(pool: np.ndarray, ages: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(RUNS, n) remaining working days: lead times longer than each task's age, minus the age."""
    n = pool.size
    k = np.searchsorted(pool, ages, side="right")          # lead times ≤ age are impossible now
    tail = n - k
    u = rng.random((RUNS, ages.size))
    # with no longer lead time in the history, the task needs about as long again as typical
    idx = np.where(tail > 0, k + np.floor(u * np.maximum(tail, 1)).astype(np.int64), np.floor(u * n).astype(np.int64))
    idx = np.minimum(idx, n - 1)
    base = np.where(tail > 0, ages, 0.0)
    return np.maximum(pool[idx] - base, 1.0)


def _weeks_needed(n_items: int, weekly: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    if weekly.max() <= 0:
        return None
    horizon = int(math.ceil(n_items / max(weekly.mean(), 1e-9) * 2)) + 4
    totals = np.cumsum(rng.choice(weekly, size=(RUNS, horizon)), axis=1)
    reached = totals[:, -1] >= n_items
    weeks = np.where(reached, np.argmax(totals >= n_items, axis=1) + 1, horizon * 2)
    return weeks.astype(np.float64)


def _status_dates(first: date, last: date) -> list[date]:
    out, d = [], first + timedelta(days=STEP_DAYS)
    while d < last:
        out.append(d)
        d += timedelta(days=STEP_DAYS)
    return out


def _backtest_unit(unit: pl.DataFrame, history: _History, project_due: date | None, calendar: WorkCalendar,
                   rng: np.random.Generator) -> list[dict]:
    items = unit.filter(~pl.col("is_epic"))
    if items.height == 0 or items["resolved"].null_count() == items.height:
        return []
    created = _days(items["created"].to_numpy())
    resolved = _days(items["resolved"].fill_null(date(9999, 12, 31)).to_numpy())
    kinds = items["kind"].to_numpy()
    planned = np.array(items["planned_finish"].to_list(), dtype=object)
    due = np.array(items["due_date"].to_list(), dtype=object)
    rows = []
    for d_py in _status_dates(items["created"].min(), items["resolved"].max()):
        d = np.datetime64(d_py, "D")
        open_ = (created <= d) & (resolved > d)
        if not open_.any() or (resolved[open_] == np.datetime64("9999-12-31")).any():
            continue
        actual = resolved[open_].max()
        d_ix = calendar.index_of(d)
        ages = (d_ix - calendar.index_of(created[open_]) + 1).astype(np.float64)
        finish = np.zeros(RUNS)
        ok = True
        for kind in np.unique(kinds[open_]):
            pool = history.lead_times(d, kind)
            if pool.size < 5:
                ok = False
                break
            sel = open_ & (kinds == kind)
            finish = np.maximum(finish, _remaining(pool, ages[sel[open_]], rng).max(axis=1))
        if not ok:
            continue
        weekly = history.weekly(d)
        weeks = _weeks_needed(int(open_.sum()), weekly, rng)
        if weeks is not None:
            finish = np.maximum(finish, weeks * 5.0)        # a week is five working days
        q = np.percentile(finish, [10, 50, 85, 90])
        plan_candidates = [v for v in planned[open_] if v is not None] or [v for v in due[open_] if v is not None]
        plan = max(plan_candidates) if plan_candidates else project_due
        # A naive forecast that has nothing to go on says "done at the status date": its error is
        # then the whole remaining time, which keeps the comparison (and the contract's floats) honest.
        plan_basis = "plan" if plan is not None else "status date (no planned or due date known)"
        plan = plan if plan is not None else d_py
        throughput = throughput_p50 = None
        if weeks is not None:
            from models.planning.forecast import when_done

            thr = when_done(int(open_.sum()), weekly, runs=RUNS, seed=int(rng.integers(1 << 31)),
                            start=d_py + timedelta(days=1), percentiles=(50, 85))
            throughput, throughput_p50 = thr[85], thr[50]
        actual_py = actual.astype(date)
        a_ix = calendar.index_of(actual_py, "backward")

        def err(day):
            return None if day is None else float(abs(calendar.index_of(day, "backward") - a_ix))

        def ahead(day):
            return None if day is None else float(calendar.index_of(day, "backward") - d_ix)

        rows.append({
            "status_date": d_py, "actual_finish": actual_py, "open_tasks": int(open_.sum()),
            "d_ix": int(d_ix), "actual_ahead": float(a_ix - d_ix), "history_ahead": [float(v) for v in q],
            "plan_ahead": ahead(plan) if plan_basis == "plan" else None,
            "throughput_ahead": None if throughput is None else ahead(throughput_p50),
            "plan": plan, "throughput_p85": throughput,
            "plan_error_days": err(plan), "plan_basis": plan_basis,
            "throughput_error_days": err(throughput if throughput is not None else d_py),
            "throughput_basis": "throughput" if throughput is not None else "status date (no throughput history)",
        })
    return rows


def _at_8_weeks(rows: list[dict]) -> dict | None:
    """The status date whose cohort finished closest to 8 weeks later (within 2 weeks), else None."""
    def gap(r):
        return abs((r["actual_finish"] - r["status_date"]).days - 7 * HORIZON_WEEKS)
    best = min(rows, key=gap, default=None)
    return best if best is not None and gap(best) <= STEP_DAYS else None


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


# --------------------------------------------------------------------------- the report


QUANTILES = (10, 50, 85, 90)
MIN_TRACK = 20
"""Finished forecasts the company needs on record before its intervals count as calibrated."""
PRIOR_WEIGHT = 10
"""Pseudo-rows of the Monte Carlo's own spread mixed into the track record's quantiles."""
MAX_AHEAD = 2600
"""Ten years of working days: a forecast further out says only "not in sight"."""


def combined_center(row: dict) -> float:
    """Working days ahead: the geometric mean of the Monte Carlo P50, the plan and the throughput P50.

    The plan and the throughput forecast join only where they point at least a working day ahead
    (a plan already passed says nothing about when the work ends).
    """
    parts = [max(row["history_ahead"][1], 1.0)]
    for name in ("plan_ahead", "throughput_ahead"):
        if row[name] is not None and row[name] >= 1:
            parts.append(row[name])
    return float(np.exp(np.mean(np.log(parts))))


def km_quantiles(events: np.ndarray, censored: np.ndarray, quantiles: Sequence[float]) -> np.ndarray | None:
    """Quantiles of a distribution seen through right-censored values (Kaplan–Meier).

    A quantile the curve never reaches (too much censored mass above the last event) is the largest
    value seen, a lower bound, rather than nothing.
    """
    if events.size == 0:
        return None
    values = np.concatenate([events, censored])
    is_event = np.concatenate([np.ones(events.size, bool), np.zeros(censored.size, bool)])
    order = np.lexsort((~is_event, values))          # at ties, events before censorings
    values, is_event = values[order], is_event[order]
    at_risk = values.size - np.arange(values.size)
    survival = np.cumprod(np.where(is_event, 1.0 - 1.0 / at_risk, 1.0))
    cdf = 1.0 - survival
    out = []
    for q in quantiles:
        hit = np.flatnonzero(cdf >= q / 100.0)
        out.append(values[hit[0]] if hit.size else values[-1])
    return np.array(out)


def calibrate(rows: list[dict], calendar: WorkCalendar) -> None:
    """Scale each forecast by the company's track record as known on its status date (in place).

    The track record is the log-ratio ``ln((actual + 1) / (center + 1))`` of every earlier forecast
    (all projects and milestones): finished ones as observed values, unfinished ones as censored at
    the days waited so far (leaving them out would keep only the quick finishes). Its Kaplan–Meier
    quantiles, mixed with ``PRIOR_WEIGHT`` pseudo-rows of the Monte Carlo's own spread, set
    P10/P50/P85/P90 around ``combined_center``. Nothing later than the status date is read.
    """
    ordered = sorted(rows, key=lambda r: r["status_date"])
    status = np.array([r["status_date"] for r in ordered], dtype="datetime64[D]")
    finish = np.array([r["actual_finish"] for r in ordered], dtype="datetime64[D]")
    centers = np.array([combined_center(r) for r in ordered])
    d_ixs = np.array([r["d_ix"] for r in ordered], dtype=np.float64)
    z_final = np.log((np.array([r["actual_ahead"] for r in ordered]) + 1) / (centers + 1))
    for i, row in enumerate(ordered):
        d = status[i]
        before = np.flatnonzero(status[:i] < d)
        done = before[finish[before] <= d]
        still_open = before[finish[before] > d]
        waited = np.log((d_ixs[i] - d_ixs[still_open] + 1) / (centers[still_open] + 1))
        prior = np.log((np.maximum(row["history_ahead"], 0.0) + 1) / (row["history_ahead"][1] + 1))
        track = km_quantiles(z_final[done], waited, QUANTILES)
        n = done.size + still_open.size
        offsets = prior if track is None else (n * track + PRIOR_WEIGHT * prior) / (n + PRIOR_WEIGHT)
        ahead = np.maximum.accumulate(np.clip(np.exp(np.log(centers[i] + 1) + offsets) - 1, 0.0, MAX_AHEAD))
        d_ix = row["d_ix"]
        p10, p50, p85, p90 = (calendar.date_of(d_ix + int(round(v))) for v in ahead)
        a_ix = d_ix + row["actual_ahead"]
        row.update({"p10": p10, "p50": p50, "p85": p85, "p90": p90, "track_record": int(done.size),
                    "calibrated": bool(done.size >= MIN_TRACK),
                    "inside_p10_p90": bool(p10 <= row["actual_finish"] <= p90),
                    "p50_error_days": float(abs(calendar.index_of(p50, "backward") - a_ix)),
                    "p85_error_days": float(abs(calendar.index_of(p85, "backward") - a_ix))})


def backtest_rows(con: duckdb.DuckDBPyConnection, calendar: WorkCalendar, seed: int = 0) -> tuple[pl.DataFrame, list[dict]]:
    """Every scored (project or milestone, status date) of the warehouse, calibrated; and the tasks read."""
    tasks = pl.from_arrow(con.sql(_TASKS_SQL).to_arrow_table())
    tasks = tasks.with_columns(pl.coalesce(pl.Series("milestone", _milestone_of(tasks), dtype=pl.String),
                                           pl.col("timebox_milestone")).alias("milestone"))
    project_due = dict(con.execute("SELECT project_key, due_date FROM projects").fetchall())
    rng = np.random.default_rng(seed)
    rows: list[dict] = []
    for key in sorted(tasks["project_key"].unique()):
        ptasks = tasks.filter(pl.col("project_key") == key)
        history = _History(ptasks.filter(~pl.col("is_epic")), calendar)
        rows += [{**r, "unit": "project", "project_key": key, "milestone": None}
                 for r in _backtest_unit(ptasks, history, project_due.get(key), calendar, rng)]
        for epic in sorted(ptasks["milestone"].drop_nulls().unique()):
            rows += [{**r, "unit": "milestone", "project_key": key, "milestone": epic}
                     for r in _backtest_unit(ptasks.filter(pl.col("milestone") == epic), history,
                                             project_due.get(key), calendar, rng)]
    calibrate(rows, calendar)
    return tasks, rows


def _coverage(rows: list[dict]) -> float | None:
    return _mean([float(r["inside_p10_p90"]) for r in rows])


def evaluate_forecasts(con: duckdb.DuckDBPyConnection, calendar: WorkCalendar, project: str | None = None,
                       seed: int = 0) -> dict:
    """The back-test report; the contract keys first (see the module docstring for the method)."""
    started = time.perf_counter()
    tasks, all_rows = backtest_rows(con, calendar, seed)
    if project is not None:
        if tasks.filter(pl.col("project_key") == project).height == 0:
            raise ValueError(f"project {project!r} has no tasks in the warehouse")
        all_rows = [r for r in all_rows if r["project_key"] == project]
    projects = []
    for key in sorted({r["project_key"] for r in all_rows}):
        prows = [r for r in all_rows if r["project_key"] == key]
        scored = [r for r in prows if r["calibrated"]] or prows
        point = _at_8_weeks([r for r in scored if r["unit"] == "project"])
        milestone_points = [p for p in (_at_8_weeks([r for r in scored if r["milestone"] == m])
                                        for m in sorted({r["milestone"] for r in scored if r["milestone"]}))
                            if p is not None]
        points, basis = ([point], "project") if point is not None else (milestone_points, "milestones")
        if not points:
            continue
        entry = {"project_key": key}
        for name in ("p85", "plan", "throughput"):
            value = _mean([p[f"{name}_error_days"] for p in points])
            entry[f"{name}_error_days_8w"] = round(value, 2)
        entry.update({"naive_bases": sorted({p[key] for p in points for key in ("plan_basis", "throughput_basis")}),
                      "p50_error_days_8w": round(_mean([p["p50_error_days"] for p in points]), 2),
                      "basis": basis, "points_8w": len(points), "status_dates_scored": len(prows),
                      "calibrated_8w": all(p["calibrated"] for p in points),
                      "coverage_p10_p90": _coverage([r for r in prows if r["calibrated"]])})
        projects.append(entry)
    delay = delay_calibration(con, tasks if project is None else tasks.filter(pl.col("project_key") == project),
                              calendar)
    calibrated = [r for r in all_rows if r["calibrated"]]
    coverage = _coverage(calibrated)
    burn_in = [r for r in all_rows if not r["calibrated"]]
    return {
        "coverage_p10_p90": None if coverage is None else round(coverage, 4),
        "delay_ece": None if delay.get("ece") is None else round(delay["ece"], 4),
        "delay_brier": None if delay.get("brier") is None else round(delay["brier"], 4),
        "projects": projects,
        "scored_status_dates": {"total": len(calibrated),
                                "projects": sum(1 for r in calibrated if r["unit"] == "project"),
                                "milestones": sum(1 for r in calibrated if r["unit"] == "milestone")},
        "burn_in": {"status_dates": len(burn_in), "coverage_p10_p90": _coverage(burn_in),
                    "why": f"forecasts made before the company had {MIN_TRACK} finished forecasts on record "
                           "cannot be calibrated, so they are not in the scores above"},
        "below_p10": _mean([float(r["actual_finish"] < r["p10"]) for r in calibrated]),
        "above_p90": _mean([float(r["actual_finish"] > r["p90"]) for r in calibrated]),
        "p50_error_days_mean": _mean([r["p50_error_days"] for r in calibrated]),
        "p85_error_days_mean": _mean([r["p85_error_days"] for r in calibrated]),
        "delay_calibration": delay,
        "method": {"status_date_step_days": STEP_DAYS, "runs": RUNS, "horizon_weeks": HORIZON_WEEKS,
                   "min_track_record": MIN_TRACK,
                   "errors": "absolute, working days of the company calendar"},
        "seconds": round(time.perf_counter() - started, 1),
    }
