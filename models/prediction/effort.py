"""Story-point effort model: a conditional-median predictor over issue text.

Story points are a handful of discrete values, and the metric that matters is
the mean absolute error, whose optimum for each issue is the *median* of its
conditional label distribution. So instead of regressing a number, the model
estimates that distribution and reports its median:

* ``values_``: the story-point values it may predict, i.e. the training labels
  with enough support (rare values such as 21 or 34 are never predicted but
  still count in the distribution).
* cumulative logistic regressions: for every value ``v`` except the largest, a
  classifier for ``P(y <= v | text)`` on TF-IDF features (`text_vectorizer`);
  the results are made non-decreasing in ``v``, which gives a CDF per issue;
* a k-nearest-neighbour CDF: the similarity-weighted label distribution of the
  ``n_neighbors`` most similar training issues (cosine on the same features);
* the two are averaged (``knn_weight``), then mixed with the training label
  distribution (``shrinkage``: 1 = model only, 0 = always the training median),
  and the prediction is the smallest value whose CDF reaches one half.

``knn_weight`` and ``shrinkage`` are used only at prediction time, so a fitted
model can be tuned on validation data with `set_params` without refitting.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from models.prediction.text import text_vectorizer

__all__ = ["EffortModel", "weighted_median"]

_MIN_CLASS = 3
"""A threshold needs this many training issues on each side to get a classifier;
otherwise its CDF value is the training (prior) one."""
_CHUNK = 1024
"""Rows of the query-by-training similarity matrix computed at once."""
_THREADS = 1
"""OpenMP/BLAS threads while fitting and predicting. The problems are small, and on a
shared machine OpenMP workers spin-wait for busy cores: lbfgs ran ~40x slower in CPU
time with two threads than with one."""


def weighted_median(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """The smallest value at which the weighted CDF reaches one half."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        raise ValueError("weighted_median of an empty array")
    w = np.ones_like(values) if weights is None else np.asarray(weights, dtype=float)
    order = np.argsort(values, kind="stable")
    cdf = np.cumsum(w[order]) / w.sum()
    return float(values[order][np.searchsorted(cdf, 0.5 - 1e-12)])


def _as_texts(X: Iterable[str]) -> list[str]:
    if isinstance(X, (str, bytes)):
        raise ValueError("EffortModel expects an iterable of issue texts, not a single string")
    texts = ["" if t is None else str(t) for t in X]
    return texts


class EffortModel(RegressorMixin, BaseEstimator):
    """Predict story points from issue text (one string per issue, see `clean_text`).

    Parameters
    ----------
    C : inverse L2 regularisation of the cumulative logistic regressions.
    n_neighbors : neighbours in the kNN label distribution.
    knn_weight : weight of the kNN CDF against the logistic one (0..1).
    shrinkage : weight of the model CDF against the training label CDF (0..1).
    min_support : a label is a predictable value if at least
        ``max(min_support, 1% of the training issues)`` carry it.
    max_features : per-analyser vocabulary cap of the TF-IDF features.
    """

    def __init__(
        self,
        C: float = 1.0,
        n_neighbors: int = 30,
        knn_weight: float = 0.5,
        shrinkage: float = 1.0,
        min_support: int = 5,
        max_features: int | None = 50_000,
    ):
        self.C = C
        self.n_neighbors = n_neighbors
        self.knn_weight = knn_weight
        self.shrinkage = shrinkage
        self.min_support = min_support
        self.max_features = max_features

    # ------------------------------------------------------------------ fit
    def fit(self, X: Iterable[str], y, sample_weight=None) -> EffortModel:
        with threadpool_limits(limits=_THREADS):
            return self._fit(X, y, sample_weight)

    def _fit(self, X: Iterable[str], y, sample_weight) -> EffortModel:
        texts = _as_texts(X)
        y = np.asarray(y, dtype=float).ravel()
        if len(texts) != y.size:
            raise ValueError(f"X has {len(texts)} texts but y has {y.size} labels")
        if y.size == 0:
            raise ValueError("cannot fit EffortModel on zero issues")
        if not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinite story points")
        w = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, dtype=float).ravel()
        if w.size != y.size or np.any(w < 0) or w.sum() <= 0:
            raise ValueError("sample_weight must be non-negative, one per issue, not all zero")
        if not 0.0 <= self.knn_weight <= 1.0 or not 0.0 <= self.shrinkage <= 1.0:
            raise ValueError("knn_weight and shrinkage must lie in [0, 1]")

        labels, counts = np.unique(y, return_counts=True)
        need = max(int(self.min_support), math.ceil(0.01 * y.size))
        keep = counts >= need
        keep[labels == weighted_median(y, w)] = True  # the prior median is always predictable
        self.values_ = labels[keep]
        self.prior_cdf_ = np.array([w[y <= v].sum() for v in self.values_]) / w.sum()
        self.prior_cdf_[-1] = 1.0  # labels above the largest kept value fold into it

        self.vectorizer_ = text_vectorizer(max_features=self.max_features)
        features = sparse.csr_matrix(self.vectorizer_.fit_transform(texts))

        self.classifiers_: list[LogisticRegression | None] = []
        for v in self.values_[:-1]:
            below = y <= v
            if below.sum() < _MIN_CLASS or (~below).sum() < _MIN_CLASS:
                self.classifiers_.append(None)
                continue
            clf = LogisticRegression(C=self.C, solver="lbfgs", max_iter=1000)
            clf.fit(features, below, sample_weight=w)
            self.classifiers_.append(clf)

        self.train_features_ = features
        self.train_labels_ = y
        self.train_weights_ = w
        return self

    # -------------------------------------------------------------- predict
    def component_cdfs(self, X: Iterable[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(logistic CDF, kNN CDF, prior CDF), each of shape (n_issues, len(values_))."""
        check_is_fitted(self, "classifiers_")
        with threadpool_limits(limits=_THREADS):
            return self._component_cdfs(X)

    def _component_cdfs(self, X: Iterable[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        features = sparse.csr_matrix(self.vectorizer_.transform(_as_texts(X)))
        n, k = features.shape[0], self.values_.size
        prior = np.broadcast_to(self.prior_cdf_, (n, k)).copy()

        logistic = prior.copy()
        for j, clf in enumerate(self.classifiers_):
            if clf is not None:
                logistic[:, j] = clf.predict_proba(features)[:, list(clf.classes_).index(True)]
        logistic = np.maximum.accumulate(logistic, axis=1)
        logistic[:, -1] = 1.0

        knn = np.empty((n, k))
        n_nb = max(1, min(int(self.n_neighbors), self.train_labels_.size))
        below = self.train_labels_[:, None] <= self.values_[None, :]  # (n_train, k)
        below[:, -1] = True
        for start in range(0, n, _CHUNK):
            sim = (features[start : start + _CHUNK] @ self.train_features_.T).toarray()
            sim = np.clip(sim, 0.0, None) * self.train_weights_[None, :]
            idx = np.argpartition(-sim, n_nb - 1, axis=1)[:, :n_nb]
            wts = np.take_along_axis(sim, idx, axis=1) + 1e-9
            knn[start : start + _CHUNK] = np.einsum("ij,ijk->ik", wts, below[idx]) / wts.sum(1, keepdims=True)
        return logistic, knn, prior

    @staticmethod
    def combine(logistic, knn, prior, knn_weight: float, shrinkage: float) -> np.ndarray:
        """The predicted CDF: (logistic, kNN) mixed by ``knn_weight``, then shrunk to the prior."""
        if not 0.0 <= knn_weight <= 1.0 or not 0.0 <= shrinkage <= 1.0:
            raise ValueError("knn_weight and shrinkage must lie in [0, 1]")
        model = (1.0 - knn_weight) * logistic + knn_weight * knn
        return shrinkage * model + (1.0 - shrinkage) * prior

    def median_of(self, cdf: np.ndarray) -> np.ndarray:
        """The predicted value for each row of a CDF over ``values_``."""
        return self.values_[np.argmax(cdf >= 0.5 - 1e-12, axis=1)]

    def predict_cdf(self, X: Iterable[str]) -> np.ndarray:
        """P(story points <= values_[j] | text) for each issue and value."""
        return self.combine(*self.component_cdfs(X), self.knn_weight, self.shrinkage)

    def predict(self, X: Iterable[str]) -> np.ndarray:
        return self.median_of(self.predict_cdf(X)).astype(float)
