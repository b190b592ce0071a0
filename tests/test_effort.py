"""Story-point effort model: metrics, baselines, estimator conventions, a real evaluation."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from models.prediction.effort import EffortModel, weighted_median
from models.prediction.eval_effort import (
    evaluate_effort,
    mae_p0,
    metrics,
    paired_difference,
    standardised_accuracy,
)
from models.prediction.text import clean_text, text_vectorizer

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
STORYPOINTS = SHARED_DATA / "storypoints"

FIELDS = ["issuekey", "title", "description", "storypoint", "split_mark"]
_SMALL_TOPICS = {
    1: ("typo in label", "fix spelling of the button label"),
    3: ("add export option", "add a csv export option to the report page"),
    8: ("redesign storage layer", "rewrite the persistence layer with migrations and caching"),
}


def _issues(n_per: int, split: str, start: int, rng: np.random.Generator) -> list[dict]:
    rows = []
    for points, (title, body) in _SMALL_TOPICS.items():
        for i in range(n_per):
            rows.append(
                {
                    "issuekey": f"T-{start + len(rows)}",
                    "title": f"{title} {rng.integers(1000)}",
                    "description": f"<p>{body}</p> {{code}}x = {i}{{code}}",
                    "storypoint": points,
                    "split_mark": split,
                }
            )
    return rows


def _write(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def synthetic_rows() -> list[dict]:
    rng = np.random.default_rng(7)
    return _issues(12, "train", 0, rng) + _issues(4, "val", 100, rng) + _issues(4, "test", 200, rng)


# ---------------------------------------------------------------- metrics
def test_sa_hand_example():
    # Training labels {1, 3}; one test item with label 2: every random guess is off by 1.
    p0 = mae_p0([2.0], [1.0, 3.0], runs=50, seed=1)
    assert p0 == pytest.approx(1.0)
    assert standardised_accuracy(0.0, p0) == pytest.approx(100.0)
    assert standardised_accuracy(0.5, p0) == pytest.approx(50.0)
    assert standardised_accuracy(1.0, p0) == pytest.approx(0.0)
    assert standardised_accuracy(2.0, p0) == pytest.approx(-100.0)
    m = metrics([2.0, 4.0, 10.0], [2.0, 5.0, 7.0], p0=2.0)
    assert m == pytest.approx({"MAE": 4 / 3, "MdAE": 1.0, "SA": (1 - (4 / 3) / 2.0) * 100})


def test_paired_difference_hand_example():
    y_true = [1.0, 2.0, 3.0, 5.0]
    same = paired_difference(y_true, [2.0] * 4, [2.0] * 4)
    assert same == {"MAE_difference": 0.0, "ci95": [0.0, 0.0]}
    # The model is right on every item, the reference off by 1, 0, 1, 3: difference -5/4.
    better = paired_difference(y_true, y_true, [2.0] * 4, runs=500, seed=3)
    assert better["MAE_difference"] == pytest.approx(-1.25)
    low, high = better["ci95"]
    assert low <= -1.25 <= high <= 0.0
    assert better == paired_difference(y_true, y_true, [2.0] * 4, runs=500, seed=3)
    with pytest.raises(ValueError):
        paired_difference([], [], [])


def test_mae_p0_is_seeded_and_close_to_expectation():
    y_train = np.array([1, 2, 3, 5, 8], dtype=float)
    y_test = np.array([1, 3, 13], dtype=float)
    exact = np.abs(y_test[:, None] - y_train[None, :]).mean()
    assert mae_p0(y_test, y_train, runs=1000, seed=0) == mae_p0(y_test, y_train, runs=1000, seed=0)
    assert mae_p0(y_test, y_train, runs=1000, seed=0) == pytest.approx(exact, rel=0.03)


# ---------------------------------------------------------------- baselines and output
def test_baselines_come_from_train_labels_only(tmp_path, synthetic_rows):
    first = evaluate_effort(_write(tmp_path / "a.csv", synthetic_rows), predictions_out=tmp_path / "a.out")
    changed = [dict(r, storypoint=40) if r["split_mark"] == "test" else r for r in synthetic_rows]
    second = evaluate_effort(_write(tmp_path / "b.csv", changed), predictions_out=tmp_path / "b.out")

    y_train = np.array([r["storypoint"] for r in synthetic_rows if r["split_mark"] == "train"], float)
    # Baseline predictions are train mean/median: with every test label at 40 the errors are 40 - that.
    assert second["baselines"]["mean"]["MAE"] == pytest.approx(40 - y_train.mean())
    assert second["baselines"]["median"]["MAE"] == pytest.approx(40 - np.median(y_train))
    assert second["baselines"]["median"]["MdAE"] == pytest.approx(40 - np.median(y_train))
    # ... and the model, fitted without test labels, makes the same predictions either way.
    def y_pred(name):
        with (tmp_path / name).open(encoding="utf-8") as fh:
            return [row["y_pred"] for row in csv.DictReader(fh)]

    assert first["model_description"] == second["model_description"]
    assert first["versus_median"]["issues_changed"] == second["versus_median"]["issues_changed"]
    assert y_pred("a.out") == y_pred("b.out")
    assert first["baselines"]["median"]["MAE"] != second["baselines"]["median"]["MAE"]
    assert first["n_train"] == second["n_train"] == 36
    assert (first["n_val"], first["n_test"]) == (12, 12)


def test_predictions_csv_and_result_shape(tmp_path, synthetic_rows):
    out = tmp_path / "sub" / "pred.csv"
    result = evaluate_effort(_write(tmp_path / "toy.csv", synthetic_rows), predictions_out=out)

    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    test_rows = [r for r in synthetic_rows if r["split_mark"] == "test"]
    assert list(rows[0].keys()) == ["issuekey", "y_true", "y_pred"]
    assert [r["issuekey"] for r in rows] == [r["issuekey"] for r in test_rows]
    assert [float(r["y_true"]) for r in rows] == [float(r["storypoint"]) for r in test_rows]
    y_pred = np.array([float(r["y_pred"]) for r in rows])
    assert np.isfinite(y_pred).all()
    y_true = np.array([float(r["y_true"]) for r in rows])
    assert result["model"]["MAE"] == pytest.approx(np.abs(y_true - y_pred).mean())

    assert result["dataset"] == "toy"
    assert set(result) >= {"dataset", "n_train", "n_val", "n_test", "model", "baselines",
                           "model_description", "published"}
    assert set(result["baselines"]) == {"mean", "median"}
    for block in (result["model"], result["baselines"]["mean"], result["baselines"]["median"]):
        assert set(block) == {"MAE", "MdAE", "SA"}
    assert result["published"] == {"deep_se_mae": None}
    versus = result["versus_median"]
    assert versus["MAE_difference"] == pytest.approx(result["model"]["MAE"] - result["baselines"]["median"]["MAE"])
    low, high = versus["ci95"]
    assert low <= versus["MAE_difference"] <= high
    assert versus["issues_changed"] == int(np.sum(y_pred != np.median([r["storypoint"] for r in synthetic_rows
                                                                          if r["split_mark"] == "train"])))
    # The separable toy topics are learnt: far better than guessing the median.
    assert result["model"]["MAE"] < result["baselines"]["median"]["MAE"]


def test_missing_column_is_reported(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("issuekey,title,storypoint,split_mark\nA-1,x,1,train\n", encoding="utf-8")
    with pytest.raises(ValueError, match="description"):
        evaluate_effort(path)


# ---------------------------------------------------------------- estimator conventions
def test_estimator_conventions(synthetic_rows):
    texts = [clean_text(r["title"], r["description"]) for r in synthetic_rows]
    y = np.array([r["storypoint"] for r in synthetic_rows], float)

    model = EffortModel(C=2.0, shrinkage=0.8)
    assert model.get_params()["C"] == 2.0 and model.get_params()["shrinkage"] == 0.8
    with pytest.raises(NotFittedError):
        model.predict(texts)
    assert not any(k.endswith("_") for k in vars(model))

    assert model.fit(texts, y) is model
    assert {"values_", "prior_cdf_", "classifiers_", "vectorizer_"} <= set(vars(model))
    pred = model.predict(texts)
    assert pred.shape == (len(texts),)
    assert set(pred) <= set(model.values_)
    cdf = model.predict_cdf(texts)
    assert np.all(np.diff(cdf, axis=1) >= -1e-12) and np.allclose(cdf[:, -1], 1.0)

    fresh = clone(model)
    assert fresh.get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        fresh.predict(texts)
    # shrinkage 0 means "always the training median"
    assert np.all(model.set_params(shrinkage=0.0).predict(texts) == weighted_median(y))
    with pytest.raises(ValueError):
        EffortModel().fit("one string", [1.0])


def test_clean_text_and_vectorizer():
    text = clean_text("Fix <b>login</b>", "{code:java}int x;{code} see [docs|http://x.y/z] &amp; {color:red}now{color}")
    assert text == "Fix login. int x; see docs & now"
    assert clean_text(None, float("nan")) == ""
    assert clean_text("title", "x" * 10_000, max_chars=100).startswith("title. x")
    features = text_vectorizer(min_df=1).fit_transform(["修复登录问题", "登录页面", "export report"])
    assert features.shape[0] == 3 and features[0].multiply(features[1]).sum() > 0  # shared CJK n-grams


# ---------------------------------------------------------------- a real dataset
def test_real_smallest_dataset_beats_mean_baseline(tmp_path):
    path = STORYPOINTS / "jirasoftware.csv"
    if not path.exists():
        pytest.skip(f"shared story-point data not found at {path} (sibling checkout ../shared absent)")
    result = evaluate_effort(path, predictions_out=tmp_path / "pred.csv")
    assert result["dataset"] == "jirasoftware"
    assert result["n_test"] == sum(1 for _ in (tmp_path / "pred.csv").open(encoding="utf-8")) - 1
    assert result["model"]["MAE"] < result["baselines"]["mean"]["MAE"]
