"""DurationModel: quantile invariants, visible fallback, sklearn conventions, training examples."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from models.planning.calendar import WorkCalendar
from models.prediction.duration import OUTPUT_COLUMNS, DurationModel, training_frame
from models.prediction.features import NUMERIC_FEATURES
from tests import test_features
from tests.test_features import story

FAST = {"max_iter": 40, "text_components": 4}

# Shared with the feature tests: a temporary-warehouse factory and the demo company.
warehouse = test_features.warehouse
demo_warehouse = test_features.demo_warehouse


def synthetic(n: int, seed: int = 0) -> tuple[pl.DataFrame, np.ndarray]:
    """Feature rows whose duration depends on type, estimate and text, with multiplicative noise."""
    rng = np.random.default_rng(seed)
    types = rng.choice(["task", "bug", "feature"], n)
    estimate = rng.choice([2.0, 8.0, 16.0, 40.0], n)
    words = rng.choice(["修复登录错误", "new report export", "数据库迁移方案", "typo in footer"], n)
    columns = {name: rng.normal(size=n) for name in NUMERIC_FEATURES}
    columns.update({
        "task_id": [f"x:{i}" for i in range(n)],
        "type_category": types,
        "priority": rng.choice(["High", "Medium", None], n),
        "status_category_at": rng.choice(["todo", "in_progress"], n),
        "labels": [list(rng.choice(["api", "ui", "db"], rng.integers(0, 3), replace=False)) for _ in range(n)],
        "components": [["core"] if i % 2 else [] for i in range(n)],
        "text": words,
        "estimate_hours": estimate,
        "active_workdays": rng.integers(0, 4, n).astype(float),
        "is_done": np.zeros(n),
    })
    frame = pl.DataFrame(columns, schema_overrides={"labels": pl.List(pl.String), "components": pl.List(pl.String)})
    base = np.where(types == "feature", 8.0, np.where(types == "bug", 2.0, 4.0)) * (1 + estimate / 16)
    base *= np.where(np.char.find(words.astype(str), "迁移") >= 0, 3.0, 1.0)
    y = np.round(base * rng.lognormal(0.0, 0.35, n))
    return frame, y


def pinball(y: np.ndarray, q: np.ndarray, alpha: float) -> float:
    diff = y - q
    return float(np.mean(np.maximum(alpha * diff, (alpha - 1) * diff)))


def check_invariants(frame: pl.DataFrame, predictions: pl.DataFrame) -> None:
    assert predictions.columns == list(OUTPUT_COLUMNS)
    assert predictions.get_column("task_id").to_list() == frame.get_column("task_id").to_list()
    p50, p90 = predictions.get_column("duration_p50_days").to_numpy(), predictions.get_column("duration_p90_days").to_numpy()
    r50, r90 = predictions.get_column("remaining_p50_days").to_numpy(), predictions.get_column("remaining_p90_days").to_numpy()
    elapsed = frame.get_column("active_workdays").fill_null(0).to_numpy()
    done = frame.get_column("is_done").fill_null(0).to_numpy() > 0
    assert np.all(p50 >= 0) and np.all(p90 >= p50) and np.all(r90 >= r50) and np.all(r50 >= 0)
    assert np.all(p50 >= elapsed)
    np.testing.assert_allclose(r50[~done], (p50 - elapsed)[~done])
    np.testing.assert_allclose(r90[~done], (p90 - elapsed)[~done])
    assert np.all(r50[done] == 0)


def test_boosting_beats_the_type_baseline_and_keeps_quantiles_ordered():
    frame, y = synthetic(600)
    train, test = slice(0, 450), slice(450, 600)
    model = DurationModel(**FAST).fit(frame[train], y[train])
    assert not model.fallback_used_ and "quantile gradient boosting on 450 rows" in model.reason_
    assert any(name.startswith("text_svd_") for name in model.feature_names_)
    assert "labels=api" in model.feature_names_
    predictions = model.predict(frame[test])
    check_invariants(frame[test], predictions)
    baseline = DurationModel(min_train_rows=10**6).fit(frame[train], y[train]).predict(frame[test])
    for alpha, column in ((0.5, "duration_p50_days"), (0.9, "duration_p90_days")):
        assert pinball(y[test], predictions.get_column(column).to_numpy(), alpha) < \
            0.8 * pinball(y[test], baseline.get_column(column).to_numpy(), alpha)


def test_done_tasks_have_nothing_remaining_and_long_runners_are_not_cut_short():
    frame, y = synthetic(200)
    model = DurationModel(**FAST).fit(frame, y)
    probe = frame.head(3).with_columns(
        pl.Series("active_workdays", [0.0, 500.0, 3.0]), pl.Series("is_done", [0.0, 0.0, 1.0]))
    predictions = model.predict(probe)
    check_invariants(probe, predictions)
    # a task running past every bound still has a little to do: it is open
    assert predictions.get_column("duration_p50_days")[1] == 500.0 + model.min_remaining_days
    assert predictions.get_column("remaining_p50_days")[1] == model.min_remaining_days
    assert predictions.get_column("remaining_p90_days")[2] == 0.0


def test_open_intervals_are_never_zero_width_and_have_the_documented_spread():
    frame, y = synthetic(300)
    for model in (DurationModel(**FAST).fit(frame, y), DurationModel(min_train_rows=10**6).fit(frame, y)):
        probe = frame.with_columns(pl.Series("active_workdays", np.linspace(0, 400, frame.height)))
        predicted = model.predict(probe)
        r50, r90 = predicted["remaining_p50_days"].to_numpy(), predicted["remaining_p90_days"].to_numpy()
        p50, p90 = predicted["duration_p50_days"].to_numpy(), predicted["duration_p90_days"].to_numpy()
        assert np.all(r50 >= model.min_remaining_days)
        assert np.all(r90 >= r50 * (1 + model.min_spread) - 1e-9) and np.all(r90 >= r50 + 1 - 1e-9)
        assert np.all(p90 >= p50 + 1 - 1e-9)


def test_p50_is_held_within_the_plan_factor_of_the_estimate_and_says_so():
    frame, y = synthetic(300)
    model = DurationModel(**FAST).fit(frame, y)
    probe = frame.head(4).with_columns(pl.Series("estimate_hours", [8.0, 8.0, None, None]),
                                       pl.Series("story_points", [None, None, 2.0, None]),
                                       pl.Series("active_workdays", [0.0] * 4), pl.Series("is_done", [0.0] * 4))
    plan = model.plan_days(probe)
    assert np.isfinite(plan[:3]).all() and np.isnan(plan[3])
    kinds = probe["type_category"].to_list()
    assert plan[0] == pytest.approx(1.0 * model.pace_["estimate"].get(kinds[0], model.pace_["estimate"][None]))
    # the raw model says 200 days for an 8 h task: kept at plan × plan_factor, and flagged
    bounded = model._bounded(probe, np.array([200.0, 0.01, 200.0, 1e6]), np.array([400.0, 0.02, 300.0, 2e6]))
    p50 = bounded["duration_p50_days"].to_numpy()
    assert p50[0] == pytest.approx(plan[0] * model.plan_factor)
    assert p50[1] == pytest.approx(plan[1] / model.plan_factor)
    assert p50[2] == pytest.approx(plan[2] * model.plan_factor)
    similar90 = model.baseline_.get(kinds[3], model.baseline_global_)[1]
    assert p50[3] == pytest.approx(min(similar90 * model.plan_factor, 1000.0))
    assert bounded["bounded"].to_list() == [True, True, True, True]
    assert bounded["model_p50_days"][0] == 200.0
    # the model's P90/P50 ratio (2) survives the bound
    assert bounded["duration_p90_days"][0] == pytest.approx(2 * p50[0])
    inside = model._bounded(probe.head(1), np.array([plan[0]]), np.array([plan[0]]))
    assert inside["bounded"].to_list() == [False]
    assert inside["duration_p90_days"][0] >= inside["duration_p50_days"][0] + 1


def test_small_history_falls_back_visibly_to_cycle_time_by_type():
    frame, y = synthetic(30, seed=1)
    model = DurationModel(min_train_rows=50).fit(frame, y)
    assert model.fallback_used_ and "min_train_rows=50" in model.reason_
    assert not hasattr(model, "model_p50_")
    probe = pl.concat([frame.head(4), frame.head(1).with_columns(pl.lit("epic").alias("type_category"))])
    predictions = model.predict(probe)
    check_invariants(probe, predictions)
    for row, kind in enumerate(probe.get_column("type_category").to_list()):
        values = y[frame.get_column("type_category").to_numpy() == kind]
        p50, p90 = (np.quantile(values, 0.5), np.quantile(values, 0.9)) if values.size >= model.min_type_rows \
            else model.baseline_global_
        elapsed = probe.get_column("active_workdays")[row]
        assert predictions.get_column("duration_p50_days")[row] == pytest.approx(max(p50, elapsed))
        assert predictions.get_column("duration_p90_days")[row] == pytest.approx(max(p90, p50, elapsed))
    assert "epic" not in model.baseline_


def test_no_usable_history_gives_null_predictions_not_made_up_numbers():
    frame, y = synthetic(5)
    model = DurationModel().fit(frame, np.full(5, np.nan))
    assert model.fallback_used_ and "5 row(s) without a usable label" in model.reason_
    predictions = model.predict(frame)
    assert predictions.get_column("duration_p50_days").null_count() == 5


def test_sklearn_conventions():
    model = DurationModel(min_train_rows=10, max_iter=20)
    assert model.get_params()["min_train_rows"] == 10
    copy = clone(model).set_params(max_iter=30)
    assert copy.max_iter == 30 and model.max_iter == 20
    with pytest.raises(NotFittedError):
        model.predict(synthetic(3)[0])
    frame, y = synthetic(120)
    assert model.fit(frame, y) is model
    with pytest.raises(ValueError, match="119 feature rows|120 values"):
        DurationModel().fit(frame.head(119), y)
    first = DurationModel(**FAST).fit(frame, y).predict(frame)
    second = DurationModel(**FAST).fit(frame, y).predict(frame)
    assert first.equals(second)
    refitted = DurationModel(**FAST).fit(frame, y).fit(frame.head(10), y[:10])
    assert refitted.fallback_used_ and not hasattr(refitted, "model_p50_")


def test_unseen_values_and_missing_columns_are_tolerated():
    frame, y = synthetic(150)
    model = DurationModel(**FAST).fit(frame.with_columns(pl.lit(None, pl.Float64).alias("story_points")), y)
    assert "story_points" not in model.feature_names_
    odd = frame.head(2).with_columns(
        pl.lit("spike").alias("type_category"),
        pl.Series("labels", [["never-seen"], None], dtype=pl.List(pl.String)),
    ).drop("text", "priority", "story_points")
    check_invariants(odd, model.predict(odd))


def test_training_frame_labels_and_prediction_times(warehouse):
    con = warehouse(story())
    calendar = WorkCalendar(None)
    features, y = training_frame(con, calendar)
    labels = dict(zip(features.get_column("task_id").to_list(), y.tolist()))
    assert labels == {"t:T2": 5.0, "t:T3": 10.0, "t:T6": 9.0, "t:T8": 17.0}
    first = features.row(features.get_column("task_id").to_list().index("t:T3"), named=True)
    assert first["as_of"] == datetime(2024, 2, 12, 10, 0)
    assert (first["status_category_at"], first["active_workdays"], first["assignee_resolved_n"]) == ("in_progress", 1, 1)
    assert features.get_column("as_of").is_sorted()

    features, y = training_frame(con, calendar, checkpoints=(0, 3, 10))
    rows = sorted(zip(features.get_column("task_id").to_list(), features.get_column("as_of").to_list(), y.tolist()))
    assert [(task, when.date().isoformat(), label) for task, when, label in rows] == [
        ("t:T2", "2024-02-05", 5.0), ("t:T2", "2024-02-08", 5.0),
        ("t:T3", "2024-02-12", 10.0), ("t:T3", "2024-02-15", 10.0),
        ("t:T6", "2024-02-20", 9.0), ("t:T6", "2024-02-23", 9.0),
        ("t:T8", "2024-02-15", 17.0), ("t:T8", "2024-02-20", 17.0), ("t:T8", "2024-02-29", 17.0),
    ]
    model = DurationModel().fit(features, y)
    assert model.fallback_used_
    check_invariants(features, model.predict(features))


@pytest.mark.slow
def test_demo_company_model_beats_the_baseline_on_later_tasks(demo_warehouse):
    features, y = training_frame(demo_warehouse, WorkCalendar("CN"))
    assert features.height > 1000
    cut = features.get_column("as_of").sort()[int(features.height * 0.7)]
    train = (features.get_column("as_of") < cut).to_numpy()
    model = DurationModel().fit(features.filter(pl.Series(train)), y[train])
    assert not model.fallback_used_
    test = features.filter(pl.Series(~train))
    predictions = model.predict(test)
    check_invariants(test, predictions)
    baseline = DurationModel(min_train_rows=10**6).fit(features.filter(pl.Series(train)), y[train]).predict(test)
    for alpha, column in ((0.5, "duration_p50_days"), (0.9, "duration_p90_days")):
        assert pinball(y[~train], predictions.get_column(column).to_numpy(), alpha) < \
            pinball(y[~train], baseline.get_column(column).to_numpy(), alpha)
