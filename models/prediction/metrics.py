"""Metrics for a binary risk score (e.g. "will this issue miss its due date?").

Thin, tested wrappers over scikit-learn so every evaluation in Lodestar computes
ROC-AUC, PR-AUC, Brier score and the F1-maximising threshold the same way.
Conventions:

* `y_true` is 0/1 (or bool) with 1 the class at risk; `y_score` is its
  probability (or any score that orders items by risk).
* An item is flagged when `y_score >= threshold`.
* Ranking metrics on a single-class sample are undefined and return `nan`
  (never raise), so a thin validation window does not crash an evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

__all__ = [
    "binary_metrics",
    "best_f1_threshold",
    "brier",
    "pr_auc",
    "precision_recall_f1",
    "roc_auc",
]

ArrayLike = Sequence[float] | np.ndarray


def _arrays(y_true: ArrayLike, y_score: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true).astype(float).ravel()
    s = np.asarray(y_score, dtype=float).ravel()
    if y.shape != s.shape:
        raise ValueError(f"y_true has {y.size} items but y_score has {s.size}")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y_true must hold only 0/1 (or False/True)")
    if np.isnan(s).any():
        raise ValueError("y_score contains NaN")
    return y.astype(int), s


def _one_class(y: np.ndarray) -> bool:
    return y.size == 0 or y.min() == y.max()


def roc_auc(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Area under the ROC curve for the positive class; `nan` when only one class is present."""
    y, s = _arrays(y_true, y_score)
    return math.nan if _one_class(y) else float(roc_auc_score(y, s))


def pr_auc(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Area under the precision-recall curve as average precision (sklearn's step-wise sum, no interpolation).

    A constant score gives the positive rate. `nan` when there is no positive item.
    """
    y, s = _arrays(y_true, y_score)
    return math.nan if y.size == 0 or y.sum() == 0 else float(average_precision_score(y, s))


def brier(y_true: ArrayLike, y_prob: ArrayLike) -> float:
    """Mean squared error of the probability of the positive class (lower is better)."""
    y, p = _arrays(y_true, y_prob)
    if y.size == 0:
        return math.nan
    if p.min() < 0 or p.max() > 1:
        raise ValueError("brier needs probabilities in [0, 1]")
    return float(brier_score_loss(y, p, pos_label=1))


def precision_recall_f1(y_true: ArrayLike, y_score: ArrayLike, threshold: float) -> dict[str, float]:
    """Precision, recall and F1 of flagging `y_score >= threshold`.

    Precision is 0 when nothing is flagged (sklearn's `zero_division=0`).
    """
    y, s = _arrays(y_true, y_score)
    flagged = s >= threshold
    tp = int(np.sum(flagged & (y == 1)))
    fp = int(np.sum(flagged & (y == 0)))
    fn = int(np.sum(~flagged & (y == 1)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def best_f1_threshold(y_true: ArrayLike, y_score: ArrayLike) -> tuple[float, float]:
    """The threshold (one of the observed scores) that maximises F1 of `y_score >= threshold`, and that F1.

    Ties go to the highest threshold (fewest flagged items). Without any
    positive item F1 is 0 everywhere; the threshold is then just above the
    highest score (flag nothing).
    """
    y, s = _arrays(y_true, y_score)
    if y.size == 0:
        raise ValueError("best_f1_threshold needs at least one item")
    positives = int(y.sum())
    if positives == 0:
        return float(np.nextafter(s.max(), np.inf)), 0.0
    # Sort by score descending; flagging every item with score >= s_k flags a prefix ending at
    # the last item tied with s_k.
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    tp = np.cumsum(y_sorted)
    flagged = np.arange(1, y.size + 1)
    last_of_tie = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    tp, flagged, cut = tp[last_of_tie], flagged[last_of_tie], s_sorted[last_of_tie]
    f1 = 2 * tp / (flagged + positives)
    best = int(np.argmax(f1))  # first maximum = highest threshold among ties
    return float(cut[best]), float(f1[best])


def binary_metrics(y_true: ArrayLike, y_prob: ArrayLike, threshold: float) -> dict[str, float]:
    """ROC-AUC, PR-AUC, precision, recall, F1 (at `threshold`), Brier score and the threshold itself."""
    out = {"roc_auc": roc_auc(y_true, y_prob), "pr_auc": pr_auc(y_true, y_prob)}
    out.update(precision_recall_f1(y_true, y_prob, threshold))
    out["brier"] = brier(y_true, y_prob)
    out["threshold"] = float(threshold)
    return out
