"""Honest evaluation of the story-point model on a train/val/test CSV.

Protocol (`evaluate_effort`):

1. The CSV (``issuekey,title,description,storypoint,split_mark``) is split by
   ``split_mark``. Baselines use the *training* labels only: their mean and their
   median, predicted for every test issue.
2. Hyper-parameters are chosen on ``val`` only: for each regularisation ``C``
   of a small grid an `EffortModel` is fitted on
   ``train``; the prediction-time knobs (kNN weight, shrinkage towards the
   training label distribution) are then scanned on its validation CDFs. The
   lowest validation MAE wins; ties go to the stronger shrinkage.
3. The chosen configuration is refitted once on ``train + val`` (the splits are
   chronological, so ``val`` holds the most recent labelled issues) and scored on
   ``test``, which nothing above has looked at: test labels are read only to
   score the finished predictions (`tests/test_effort.py` changes every test
   label and checks the predictions stay byte-identical).

Alternatives tried for issue #13 and not adopted, because in a replay that uses
no test label (fit on the first 75 % of ``train``, choose on its last 25 %,
score on ``val``) none beat the median on bamboo and each lost somewhere the
current protocol does not: a prior shifted to the most recent training labels
(it chases drift: bamboo 0.721 against the median's 0.654; chosen over two
folds, clover 2.92 against 2.06), recency-weighted fitting, the title counted twice, logistic CDFs averaged
over ``C``, selection over two chronological folds, an L1 (epsilon 0) linear SVR
and absolute-error gradient boosting on SVD and length features, snapped to the
label scale, and NB-SVM features (no better validation ROC-AUC than TF-IDF
logistic).

Metrics: MAE, MdAE (median absolute error) and SA, the standardised accuracy of
Sarro et al.: ``SA = (1 - MAE / MAE_P0) * 100``, where ``MAE_P0`` is the MAE of
random guessing (each test issue gets a random training label) averaged over
1000 seeded runs.

``versus_median`` says how far the model is from the median baseline on test,
after everything was chosen: the MAE difference (negative: the model is
better), a 95 % paired bootstrap interval of that difference over the test
issues (2000 seeded resamples) and how many test issues the model predicts
something other than the training median for. On concentrated label
distributions (two thirds of bamboo's issues are 1 or 2 points) a model only
departs from the median where the text moves ``P(points <= v)`` across one half,
which weak text signal rarely does; the interval tells a tie from a win.
"""

from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from models.prediction.effort import EffortModel
from models.prediction.text import clean_text

__all__ = [
    "PUBLISHED_DEEP_SE_MAE",
    "evaluate_effort",
    "mae_p0",
    "metrics",
    "paired_difference",
    "standardised_accuracy",
]

PUBLISHED_DEEP_SE_MAE: dict[str, float] = {
    "appceleratorstudio": 1.42,
    "aptanastudio": 4.14,
    "bamboo": 0.81,
    "datamanagement": 5.86,
}
"""Deep-SE test MAE re-run without label clipping (Tawosi, Moussa & Sarro, 2023)."""

REQUIRED_COLUMNS = ("issuekey", "title", "description", "storypoint", "split_mark")
SA_RUNS = 1000
SA_SEED = 0
BOOTSTRAP_RUNS = 2000
BOOTSTRAP_SEED = 0

GRID_C = (0.3, 1.0, 3.0)
GRID_KNN_WEIGHT = (0.0, 0.5, 1.0)
GRID_SHRINKAGE = tuple(np.round(np.linspace(0.0, 1.0, 21), 2))


# ------------------------------------------------------------------ metrics
def mae_p0(y_true, y_train, *, runs: int = SA_RUNS, seed: int = SA_SEED) -> float:
    """Mean MAE of random guessing: each item predicted by a uniformly drawn training label."""
    y_true = np.asarray(y_true, dtype=float)
    y_train = np.asarray(y_train, dtype=float)
    if y_true.size == 0 or y_train.size == 0:
        raise ValueError("mae_p0 needs at least one true and one training label")
    rng = np.random.default_rng(seed)
    total = 0.0
    for _ in range(runs):
        guess = y_train[rng.integers(0, y_train.size, size=y_true.size)]
        total += float(np.abs(y_true - guess).mean())
    return total / runs


def standardised_accuracy(mae: float, p0: float) -> float:
    """SA = (1 - MAE / MAE_P0) * 100 (Sarro et al.)."""
    if p0 <= 0:
        return float("nan")
    return (1.0 - mae / p0) * 100.0


def metrics(y_true, y_pred, p0: float) -> dict[str, float]:
    err = np.abs(np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float))
    mae = float(err.mean())
    return {"MAE": mae, "MdAE": float(np.median(err)), "SA": standardised_accuracy(mae, p0)}


def paired_difference(
    y_true, y_pred, y_ref, *, runs: int = BOOTSTRAP_RUNS, seed: int = BOOTSTRAP_SEED
) -> dict[str, float | list[float]]:
    """MAE(y_pred) - MAE(y_ref) on the same items, with a 95 % paired bootstrap interval."""
    y_true = np.asarray(y_true, dtype=float)
    diff = np.abs(y_true - np.asarray(y_pred, dtype=float)) - np.abs(y_true - np.asarray(y_ref, dtype=float))
    if diff.size == 0:
        raise ValueError("paired_difference needs at least one item")
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, size=(runs, diff.size))].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return {"MAE_difference": float(diff.mean()), "ci95": [float(low), float(high)]}


# ------------------------------------------------------------------ data
@dataclass(frozen=True)
class _Split:
    keys: list[str]
    texts: list[str]
    y: np.ndarray


def _load(csv_path: Path) -> dict[str, _Split]:
    frame = pl.read_csv(csv_path, infer_schema_length=0)  # all strings; storypoint parsed below
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{csv_path}: missing column(s) {', '.join(missing)}")
    splits: dict[str, _Split] = {}
    for name in ("train", "val", "test"):
        part = frame.filter(pl.col("split_mark").str.strip_chars().str.to_lowercase() == name)
        y = part["storypoint"].cast(pl.Float64, strict=True).to_numpy()
        if np.isnan(y).any():
            raise ValueError(f"{csv_path}: missing storypoint in the {name} split")
        keys = part["issuekey"].to_list()
        texts = [clean_text(t, d) for t, d in zip(part["title"].to_list(), part["description"].to_list())]
        splits[name] = _Split(keys, texts, y)
    if splits["train"].y.size == 0 or splits["test"].y.size == 0:
        raise ValueError(f"{csv_path}: needs non-empty train and test splits")
    return splits


# ------------------------------------------------------------------ tuning
def _tune(train: _Split, val: _Split) -> tuple[dict, float]:
    """Pick hyper-parameters by validation MAE; returns (params, best val MAE)."""
    best: tuple[float, float, dict] | None = None
    for C in GRID_C:
        model = EffortModel(C=C).fit(train.texts, train.y)
        logistic, knn, prior = model.component_cdfs(val.texts)
        for knn_weight, shrinkage in itertools.product(GRID_KNN_WEIGHT, GRID_SHRINKAGE):
            cdf = EffortModel.combine(logistic, knn, prior, knn_weight, shrinkage)
            mae = float(np.abs(val.y - model.median_of(cdf)).mean())
            # lower MAE first, then stronger shrinkage, then the earlier (simpler) grid point
            key = (round(mae, 9), shrinkage)
            if best is None or key < best[:2]:
                params = {"C": C, "knn_weight": knn_weight, "shrinkage": float(shrinkage)}
                best = (key[0], key[1], params)
    assert best is not None
    return best[2], best[0]


# ------------------------------------------------------------------ evaluation
def evaluate_effort(csv_path: Path, predictions_out: Path | None = None) -> dict:
    """Fit on train, tune on val, refit on train+val, report on test (see module docstring)."""
    csv_path = Path(csv_path)
    data = _load(csv_path)
    train, val, test = data["train"], data["val"], data["test"]
    if val.y.size == 0:
        raise ValueError(f"{csv_path}: needs a non-empty val split for tuning")

    p0 = mae_p0(test.y, train.y)
    mean_pred = np.full(test.y.size, float(train.y.mean()))
    median_pred = np.full(test.y.size, float(np.median(train.y)))

    params, val_mae = _tune(train, val)
    final_texts = train.texts + val.texts
    final_y = np.concatenate([train.y, val.y])
    model = EffortModel(
        C=params["C"], knn_weight=params["knn_weight"], shrinkage=params["shrinkage"]
    ).fit(final_texts, final_y)
    y_pred = model.predict(test.texts)

    if predictions_out is not None:
        predictions_out = Path(predictions_out)
        predictions_out.parent.mkdir(parents=True, exist_ok=True)
        with predictions_out.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["issuekey", "y_true", "y_pred"])
            for key, t, p in zip(test.keys, test.y, y_pred):
                writer.writerow([key, _num(t), _num(p)])

    name = csv_path.stem
    val_median_mae = float(np.abs(val.y - np.median(train.y)).mean())
    description = (
        "Conditional median of a story-point distribution estimated from issue text "
        "(TF-IDF char_wb 2-5 + word 1-2 n-grams of cleaned title+description): "
        f"cumulative logistic regressions (C={params['C']:g}) and a {model.n_neighbors}-NN label "
        f"distribution mixed {1 - params['knn_weight']:.2f}/{params['knn_weight']:.2f}, shrunk towards "
        f"the label distribution with model weight {params['shrinkage']:.2f}; chosen on val (val MAE {val_mae:.3f} vs train-median "
        f"{val_median_mae:.3f}), refitted on train+val, scored once on test."
    )
    train_median = float(np.median(train.y))
    versus_median = {
        **paired_difference(test.y, y_pred, median_pred),
        "issues_changed": int(np.sum(y_pred != train_median)),
    }
    return {
        "dataset": name,
        "n_train": int(train.y.size),
        "n_val": int(val.y.size),
        "n_test": int(test.y.size),
        "model": metrics(test.y, y_pred, p0),
        "baselines": {
            "mean": metrics(test.y, mean_pred, p0),
            "median": metrics(test.y, median_pred, p0),
        },
        "model_description": description,
        "versus_median": versus_median,
        "published": {"deep_se_mae": PUBLISHED_DEEP_SE_MAE.get(name)},
        "selected": {**params, "refit_on": "train+val", "val_MAE": val_mae, "val_MAE_train_median": val_median_mae},
        "mae_p0": p0,
    }


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))
