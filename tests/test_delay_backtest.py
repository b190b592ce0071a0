"""The delay back-test's censoring rule and training windows, and the product's delay examples."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import numpy as np
import polars as pl
import pytest

from models.planning.calendar import WorkCalendar
from models.prediction.delay import ProbabilityCalibrator
from models.prediction.delay_backtest import REFIT_DAYS, label_known_at, rolling_windows, training_rows
from models.prediction.scoring import delay_known_as_of, delay_training_frame
from warehouse.db import apply_migrations
from warehouse.settings import Settings


def _tasks(rows: list[tuple[str, date | None, date | None]]) -> pl.DataFrame:
    return pl.DataFrame({"task_id": [r[0] for r in rows], "resolved": [r[1] for r in rows],
                         "due_date": [r[2] for r in rows]}, schema={"task_id": pl.String, "resolved": pl.Date,
                                                                    "due_date": pl.Date})


def test_label_known_at_open_past_due_is_known_the_day_after_the_due_date():
    tasks = _tasks([
        ("on-time", date(2026, 3, 5), date(2026, 3, 10)),
        ("late-resolved", date(2026, 4, 20), date(2026, 3, 10)),
        ("late-open", None, date(2026, 3, 10)),
        ("no-due", date(2026, 3, 5), None),
    ])
    known = label_known_at(tasks, tasks["task_id"])
    assert known[0] == np.datetime64("2026-03-05")
    assert known[1] == np.datetime64("2026-03-11")  # known late long before it was resolved
    assert known[2] == np.datetime64("2026-03-11")
    assert np.isnat(known[3])


def test_training_rows_only_started_and_known_by_the_origin():
    as_of = np.array(["2026-01-05", "2026-01-10", "2026-01-12", "2026-02-20", "2026-01-15"], dtype="datetime64[D]")
    known = np.array(["2026-01-20", "2026-03-11", "2026-02-01", "2026-02-25", "NaT"], dtype="datetime64[D]")
    rows = training_rows(as_of, known, np.datetime64("2026-02-10"))
    # 1: outcome known only after the origin; 3: started after it; 4: never known
    assert rows.tolist() == [0, 2]


def test_rolling_windows_never_train_on_anything_known_after_the_origin():
    rng = np.random.default_rng(0)
    start = np.datetime64("2026-01-01") + rng.integers(0, 300, 400).astype("timedelta64[D]")
    as_of = np.sort(start)
    known = as_of + rng.integers(1, 90, as_of.size).astype("timedelta64[D]")
    windows = list(rolling_windows(as_of, known))
    assert len(windows) >= 4
    seen_test = []
    for origin, train, test in windows:
        assert (as_of[train] < origin).all() and (known[train] <= origin).all()
        assert ((as_of[test] >= origin) & (as_of[test] < origin + np.timedelta64(REFIT_DAYS, "D"))).all()
        assert not set(train) & set(test)
        seen_test += test.tolist()
    assert len(seen_test) == len(set(seen_test)), "an example is scored by two windows"


@pytest.fixture
def tiny_warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    apply_migrations(con)
    rows = [
        # task, created, resolved, due
        ("T-ontime", datetime(2026, 3, 2, 9), datetime(2026, 3, 6, 17), date(2026, 3, 10)),
        ("T-late", datetime(2026, 3, 2, 9), datetime(2026, 3, 20, 17), date(2026, 3, 10)),
        ("T-open-past-due", datetime(2026, 3, 3, 9), None, date(2026, 3, 12)),
        ("T-open-not-due", datetime(2026, 3, 4, 9), None, date(2026, 6, 30)),
        ("T-no-due", datetime(2026, 3, 4, 9), datetime(2026, 3, 5, 9), None),
    ]
    for task_id, created, resolved, due in rows:
        con.execute(
            """INSERT INTO tasks (task_id, source, source_key, project_key, type, type_category, status,
                                  status_category, created_at, updated_at, resolved_at, due_date, is_deleted)
               VALUES (?, 'test', ?, 'P', 'Task', 'task', ?, ?, ?, ?, ?, ?, false)""",
            [task_id, task_id, "Done" if resolved else "Open", "done" if resolved else "todo", created,
             resolved or datetime(2026, 4, 1, 12), resolved, due],
        )
    return con


def test_delay_training_frame_counts_open_past_due_tasks_as_delayed(tiny_warehouse, empty_settings: Settings):
    calendar = WorkCalendar.from_settings(empty_settings)
    assert delay_known_as_of(tiny_warehouse) == date(2026, 4, 1)
    features, y = delay_training_frame(tiny_warehouse, calendar)
    labels = dict(zip(features["task_id"].to_list(), y.tolist(), strict=True))
    assert labels == {"T-ontime": 0, "T-late": 1, "T-open-past-due": 1}  # not-yet-due and no-due left out
    # judged at an earlier day, the open task was not yet past due: outcome unknown then
    features, y = delay_training_frame(tiny_warehouse, calendar, now=date(2026, 3, 11))
    assert sorted(features["task_id"].to_list()) == ["T-late", "T-ontime"]


def test_delay_training_frame_features_are_as_of_the_start(tiny_warehouse, empty_settings: Settings):
    features, _ = delay_training_frame(tiny_warehouse, WorkCalendar.from_settings(empty_settings))
    row = features.filter(pl.col("task_id") == "T-open-past-due").row(0, named=True)
    assert row["as_of"] == datetime(2026, 3, 3, 9)
    assert not row["is_done"]


def test_platt_targets_keep_a_separated_holdout_away_from_0_and_1():
    from sklearn.linear_model import LogisticRegression

    p = np.r_[np.linspace(0.01, 0.2, 10), np.linspace(0.8, 0.99, 10)]
    y = np.r_[np.zeros(10), np.ones(10)]
    calibrator = ProbabilityCalibrator("sigmoid").fit(p, y)
    q = calibrator.transform(p)
    hard = LogisticRegression(C=1e6, max_iter=1000).fit(calibrator._logit(p), y).predict_proba(calibrator._logit(p))
    assert hard[:, 1].max() > 0.9999  # 0/1 targets: a separated holdout pushes the sigmoid to certainty
    # Laplace-smoothed targets 1/12 and 11/12: the items average about those, never near-certain
    assert abs(q[y == 1].mean() - 11 / 12) < 0.03 and abs(q[y == 0].mean() - 1 / 12) < 0.03
    assert q.max() < 0.995 and q.min() > 0.005
    assert (np.diff(q) > 0).all()
