"""Delay-risk model and its evaluation on the EMSE 2017 delay datasets (Choetkiertikul et al.)."""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from models.prediction.delay import DelayRiskModel, top_factors
from models.prediction.eval_delay import (
    DROPPED,
    UNVERIFIED,
    chronological_split,
    emse_features,
    emse_labels,
    evaluate_delay_emse,
    evaluate_frame,
    load_emse,
)
from models.prediction.metrics import best_f1_threshold, binary_metrics, brier, pr_auc, precision_recall_f1, roc_auc

REPO_ROOT = Path(__file__).resolve().parents[1]
EMSE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "delay-emse2017"
needs_emse = pytest.mark.skipif(
    not (EMSE / "duraspace_discussion.csv").is_file(),
    reason=f"EMSE 2017 delay data not found in {EMSE} (../shared/data/delay-emse2017 is absent)",
)


def synthetic(n: int = 500, seed: int = 3) -> pl.DataFrame:
    """An EMSE-shaped frame in shuffled order: delay driven by workload, type and the time left to the due date."""
    rng = np.random.default_rng(seed)
    start = datetime(2012, 1, 1)
    opened = [start + timedelta(days=int(d)) for d in rng.integers(0, 900, n)]
    types = rng.choice(["Bug", "Task", "Story"], n, p=[0.5, 0.3, 0.2])
    workload = rng.poisson(4, n).astype(float)
    remaining = rng.integers(1, 60, n).astype(float)
    logit = -2.0 + 0.45 * workload + 1.0 * (types == "Story") - 0.03 * remaining
    delayed = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pl.DataFrame(
        {
            "issuekey": [f"P-{i}" for i in range(n)],
            "delaydays": np.where(delayed, rng.integers(1, 50, n), 0),
            "openeddate": opened,
            "type": types,
            "priority": [None if v == "none" else str(v) for v in rng.choice(["Major", "Minor", "none"], n)],
            "workload": workload,
            "perofdelay": rng.uniform(0, 100, n),
            "repetition": rng.integers(0, 3, n).astype(float),
            "no_comment": rng.poisson(2, n).astype(float),
            "ProgressTime": rng.integers(0, 30, n).astype(float),
            "RemainingDay": remaining,
        }
    )


# --------------------------------------------------------------------------- metrics


def test_metrics_agree_with_sklearn_on_a_toy_example():
    y = np.array([0, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 0])
    s = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.35, 0.6, 0.7, 0.05, 0.5, 0.35])
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s))
    assert pr_auc(y, s) == pytest.approx(average_precision_score(y, s))
    assert brier(y, s) == pytest.approx(brier_score_loss(y, s))
    for t in (0.3, 0.35, 0.5, 0.95):
        flagged = (s >= t).astype(int)
        got = precision_recall_f1(y, s, t)
        assert got["precision"] == pytest.approx(precision_score(y, flagged, zero_division=0))
        assert got["recall"] == pytest.approx(recall_score(y, flagged))
        assert got["f1"] == pytest.approx(f1_score(y, flagged))
    # best threshold = brute force over every observed score, highest threshold among ties
    threshold, best = best_f1_threshold(y, s)
    brute = {t: f1_score(y, (s >= t).astype(int)) for t in np.unique(s)}
    assert best == pytest.approx(max(brute.values()))
    assert threshold == max(t for t, f in brute.items() if math.isclose(f, best))
    summary = binary_metrics(y, s, threshold)
    assert set(summary) == {"roc_auc", "pr_auc", "precision", "recall", "f1", "brier", "threshold"}
    assert summary["f1"] == pytest.approx(best)
    # undefined cases do not raise
    assert math.isnan(roc_auc([1, 1], [0.2, 0.3])) and math.isnan(pr_auc([0, 0], [0.2, 0.3]))
    assert best_f1_threshold([0, 0], [0.2, 0.3])[1] == 0.0
    # a constant score: ROC-AUC 0.5, PR-AUC = positive rate, threshold flags everything
    const = np.full(y.size, 0.4)
    assert roc_auc(y, const) == 0.5 and pr_auc(y, const) == pytest.approx(y.mean())
    assert best_f1_threshold(y, const)[0] == 0.4


# --------------------------------------------------------------------------- split and features


def test_chronological_split_orders_by_date_then_key():
    frame = synthetic(10).with_columns(pl.lit(datetime(2020, 1, 1)).alias("openeddate"))
    frame = frame.with_columns(
        pl.when(pl.col("issuekey").is_in(["P-7", "P-2"]))
        .then(pl.lit(datetime(2019, 1, 1)))
        .otherwise("openeddate")
        .alias("openeddate")
    )
    train, val, test = chronological_split(frame)
    assert (train.height, val.height, test.height) == (6, 2, 2)
    # the two oldest first, then the rest by key (lexicographic), stable
    assert train["issuekey"].to_list() == ["P-2", "P-7", "P-0", "P-1", "P-3", "P-4"]
    assert val["issuekey"].to_list() == ["P-5", "P-6"] and test["issuekey"].to_list() == ["P-8", "P-9"]


def test_chronological_split_of_a_shuffled_frame():
    frame = synthetic(503).sample(fraction=1.0, shuffle=True, seed=1)
    train, val, test = chronological_split(frame)
    assert (train.height, val.height, test.height) == (301, 101, 101)
    assert train["openeddate"].max() <= val["openeddate"].min()
    assert val["openeddate"].max() <= test["openeddate"].min()
    keys = train["issuekey"].to_list() + val["issuekey"].to_list() + test["issuekey"].to_list()
    assert sorted(keys) == sorted(frame["issuekey"].to_list())


@needs_emse
def test_chronological_split_of_the_real_files():
    for path in sorted(EMSE.glob("*_discussion.csv")):
        train, val, test = chronological_split(load_emse(path))
        n = train.height + val.height + test.height
        assert train.height == int(n * 0.6) and train.height + val.height == int(n * 0.8)
        # no test item is older than any train item (nor validation)
        assert test["openeddate"].min() >= train["openeddate"].max(), path.name
        assert test["openeddate"].min() >= val["openeddate"].max() >= train["openeddate"].max()


def test_no_outcome_column_among_the_features():
    frame = synthetic(200)
    features = emse_features(frame)
    for column in ("delaydays", "issuekey", "openeddate"):
        assert column in DROPPED and column not in features.columns
    assert "delaydays" not in emse_features(frame, UNVERIFIED).columns
    assert not set(UNVERIFIED) & set(emse_features(frame, UNVERIFIED).columns)
    result = evaluate_frame(frame, "synthetic", sensitivity=False)
    assert "delaydays" not in result["features"]["used"]
    assert result["features"]["used"] == features.columns


@needs_emse
def test_no_outcome_column_among_the_features_of_a_real_file():
    frame = load_emse(EMSE / "jira_discussion.csv")
    used = emse_features(frame).columns
    assert "delaydays" not in used and "issuekey" not in used and "openeddate" not in used
    assert set(used) == set(frame.columns) - set(DROPPED)


# --------------------------------------------------------------------------- threshold, predictions


def test_threshold_is_chosen_on_validation_only(tmp_path: Path):
    frame = synthetic(500)
    first = evaluate_frame(frame, "synthetic", tmp_path / "a.csv", sensitivity=False)
    # Flip every test label: a threshold (or a model choice) that looked at the test rows would move.
    _, _, test = chronological_split(frame)
    flipped = frame.with_columns(
        pl.when(pl.col("issuekey").is_in(test["issuekey"].implode()))
        .then(pl.when(pl.col("delaydays") > 0).then(0).otherwise(5))
        .otherwise(pl.col("delaydays"))
        .alias("delaydays")
    )
    second = evaluate_frame(flipped, "synthetic", tmp_path / "b.csv", sensitivity=False)
    assert second["model"]["threshold"] == first["model"]["threshold"]
    assert second["selection"] == first["selection"]
    for name in ("training_rate", "logistic_regression"):
        assert second["baselines"][name]["threshold"] == first["baselines"][name]["threshold"]
    assert second["model"]["roc_auc"] == pytest.approx(1 - first["model"]["roc_auc"])
    # predictions of the test rows are unchanged (the test labels were not used), only y_true flips
    a, b = pl.read_csv(tmp_path / "a.csv"), pl.read_csv(tmp_path / "b.csv")
    assert a["probability"].to_list() == b["probability"].to_list()
    assert (a["y_true"] + b["y_true"] == 1).all()


def test_predictions_csv_has_one_row_per_test_item(tmp_path: Path):
    frame = synthetic(300)
    out = tmp_path / "nested" / "predictions.csv"
    result = evaluate_frame(frame, "synthetic", out, sensitivity=False)
    with out.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["issuekey", "y_true", "probability"]
    _, _, test = chronological_split(frame)
    assert [r[0] for r in rows[1:]] == test["issuekey"].to_list()
    assert len(rows) - 1 == result["split"]["test"]["n"]
    assert {r[1] for r in rows[1:]} <= {"0", "1"}
    assert all(0.0 <= float(r[2]) <= 1.0 for r in rows[1:])
    assert [int(r[1]) for r in rows[1:]] == emse_labels(test).tolist()


# --------------------------------------------------------------------------- the real data


@needs_emse
def test_real_run_on_duraspace_discussion_beats_the_training_rate(tmp_path: Path):
    out = tmp_path / "predictions.csv"
    result = evaluate_delay_emse(EMSE / "duraspace_discussion.csv", out, sensitivity=False)
    assert result["dataset"] == "duraspace_discussion" and result["label"] == "delaydays > 0"
    assert set(result["model"]) == {"roc_auc", "pr_auc", "precision", "recall", "f1", "brier", "threshold"}
    assert result["baselines"]["training_rate"]["roc_auc"] == 0.5
    assert result["model"]["roc_auc"] > 0.9 > result["baselines"]["training_rate"]["roc_auc"]
    assert result["model"]["roc_auc"] > result["baselines"]["logistic_regression"]["roc_auc"]
    assert result["model"]["brier"] < result["baselines"]["training_rate"]["brier"]
    assert result["published"]["roc_auc"] == 0.99 and result["published"]["precision"] is None
    assert "paper" in result["published"] and "split" in result["notes"]
    split = result["split"]
    assert split["train"]["to"] <= split["validation"]["from"] and split["validation"]["to"] <= split["test"]["from"]
    predictions = pl.read_csv(out)
    assert predictions.columns == ["issuekey", "y_true", "probability"]
    assert predictions.height == split["test"]["n"] == 736


# --------------------------------------------------------------------------- the estimator


def test_delay_risk_model_follows_sklearn_conventions():
    frame = synthetic(400).sort("openeddate")
    X, y = emse_features(frame), emse_labels(frame)
    model = DelayRiskModel(estimator="hgb", holdout=0.25)
    assert clone(model).get_params() == model.get_params()
    assert set(model.get_params()) == {
        "estimator", "calibration", "holdout", "refit", "categorical_features", "random_state", "n_jobs"
    }
    with pytest.raises(NotFittedError):
        model.predict_proba(X)
    assert model.fit(X, y) is model
    assert model.classes_.tolist() == [0, 1] and model.n_features_in_ == X.width
    assert model.categorical_features_ == ["type", "priority"]
    assert model.holdout_size_ == 100 and model.calibration_ in ("isotonic", "sigmoid")
    proba = model.predict_proba(X)
    assert proba.shape == (400, 2) and np.allclose(proba.sum(axis=1), 1)
    assert set(model.predict(X)) <= {0, 1}
    assert roc_auc(y, proba[:, 1]) > 0.7
    # pandas, a mapping of columns and extra columns give the same answer
    assert np.allclose(model.predict_proba(X.to_pandas())[:, 1], proba[:, 1])
    as_mapping = X.with_columns(pl.lit(1).alias("extra")).to_dict(as_series=False)
    assert np.allclose(model.predict_proba(as_mapping)[:, 1], proba[:, 1])
    with pytest.raises(ValueError, match="workload"):
        model.predict_proba(X.drop("workload"))


def test_top_factors_are_plain_words():
    frame = synthetic(600).sort("openeddate")
    X, y = emse_features(frame), emse_labels(frame)
    model = DelayRiskModel(estimator="hgb", calibration="sigmoid", holdout=0.25).fit(X, y)
    row = X.head(1).with_columns(pl.lit(14.0).alias("workload"), pl.lit("Story").alias("type"))
    factors = top_factors(model, row, k=3)
    assert 1 <= len(factors) <= 3 and all(isinstance(f, str) for f in factors)
    assert factors[0] == "workload 14 (typical 4) raises the risk"
    assert any(f.startswith("type Story (typical Bug) raises the risk") for f in factors)
    assert top_factors(model, row, k=1, labels={"workload": "open issues of the assignee"}) == [
        "open issues of the assignee 14 (typical 4) raises the risk"
    ]
    typical = {c: model.reference_[c] for c in X.columns}
    assert top_factors(model, typical) == []


def test_models_do_not_import_pipelines_or_dashboards():
    code = (
        "import sys, models.prediction.eval_delay, models.prediction.delay, models.prediction.metrics; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pipelines', 'dashboards')))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
