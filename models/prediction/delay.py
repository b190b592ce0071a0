"""Delay-risk classifier: the probability that an issue will be resolved after its due date.

`DelayRiskModel` is a scikit-learn classifier over a plain feature frame (polars,
pandas or a mapping of columns): numeric columns are used as numbers, text /
categorical columns as categories. It knows nothing about Jira or the EMSE 2017
files; whoever builds the features (the EMSE evaluation, the in-product feature
builder) passes a frame and 0/1 labels.

Rows passed to `fit` must be in chronological order (oldest first). The newest
`holdout` rows are kept out of the first fit and used, in this order, to

1. pick the learner (gradient boosting or random forest) by ROC-AUC, keeping the
   simpler one (boosting) unless the forest is better by more than one standard
   error of the holdout ROC-AUC,
2. pick and fit the probability calibration (sigmoid unless isotonic regression has a
   clearly lower 5-fold cross-validated log loss on the holdout, see `_choose_calibration`;
   then fitted on all of it),
3. pick the alert threshold that maximises F1 on the calibrated holdout
   probabilities.

With `refit=False` (the default) the model stays the one fitted on the older rows,
so the calibration map is applied to exactly the learner it was fitted on; the most
recent issues still set the level of the probabilities, through the calibration
fitted on them. With `refit=True` the chosen learner is then refitted on all rows
(older and holdout) and the holdout calibration is applied to it, as
`CalibratedClassifierCV(ensemble=False)` does with its cross-validated predictions.
When delay rates drift that counts the drift twice: the refitted learner has already
moved towards the holdout's delay rate, and the calibration, fitted to move the older
learner there, moves it once more. In the rolling-origin back-test
(`models.prediction.delay_backtest`), ECE / Brier without → with the refit: demo company
seed 42 0.031 / 0.119 → 0.044 / 0.111, seed 7 0.054 / 0.125 → 0.120 / 0.158, seed 123
0.067 / 0.084 → 0.064 / 0.078, Apache Jira sample 0.18 / 0.19 → 0.26 / 0.22: the refit
buys a little sharpness where the rate is steady and costs calibration where it moves.

`explain` finds what drives one prediction by setting each feature in turn to its
typical training value (median, or most frequent category; optionally among items of
the same type) and measuring how the risk changes; `top_factors` words that with the
column names ("workload 7 (typical 2) raises the risk") for any frame, and
`models.prediction.factors` turns it into sentences in both languages for Lodestar's
own task features.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from models.prediction.metrics import best_f1_threshold, brier, roc_auc

__all__ = [
    "CALIBRATIONS",
    "CANDIDATES",
    "DelayRiskModel",
    "Factor",
    "FrameEncoder",
    "MIN_PEERS",
    "ProbabilityCalibrator",
    "as_frame",
    "auc_standard_error",
    "explain",
    "top_factors",
]

CANDIDATES = ("hgb", "rf")
"""Learners tried by `estimator="auto"`, simplest first: shallow histogram gradient boosting (200 trees of
depth 3) and a random forest (300 fully grown trees)."""

_CATEGORICAL_DTYPES = (pl.String, pl.Categorical, pl.Enum, pl.Object, pl.Null)


# --------------------------------------------------------------------------- frames


def as_frame(X: Any) -> pl.DataFrame:
    """A polars frame from a polars / pandas frame, a mapping of columns (or of scalars: one row) or a 2-D array."""
    if isinstance(X, pl.DataFrame):
        return X
    if isinstance(X, pl.LazyFrame):
        return X.collect()
    if isinstance(X, Mapping):
        if all(np.ndim(v) == 0 for v in X.values()):
            return pl.DataFrame({k: [v] for k, v in X.items()}, strict=False)
        return pl.DataFrame(dict(X), strict=False)
    if type(X).__module__.split(".")[0] == "pandas":
        return pl.from_pandas(X)
    array = np.asarray(X)
    if array.ndim != 2:
        raise ValueError(f"expected a feature frame or a 2-D array, got shape {array.shape}")
    return pl.DataFrame({f"x{i}": array[:, i] for i in range(array.shape[1])})


def _categorical_columns(frame: pl.DataFrame, declared: Sequence[str] | None) -> list[str]:
    if declared is not None:
        missing = [c for c in declared if c not in frame.columns]
        if missing:
            raise ValueError(f"categorical_features not in the frame: {missing}")
        return list(declared)
    return [c for c, dtype in frame.schema.items() if isinstance(dtype, _CATEGORICAL_DTYPES)]


class FrameEncoder(TransformerMixin, BaseEstimator):
    """Turns a feature frame into a float matrix.

    * ``mode="ordinal"``: one column per feature; categories become codes 0..k-1
      (rare and unseen categories share code k, missing stays NaN), numeric
      missing stays NaN: the input for `HistGradientBoostingClassifier`.
    * ``mode="onehot"``: numeric columns with missing values set to the training
      median (and standardised when ``scale=True``), then one indicator column per
      kept category (rare, unseen and missing categories: all zeros).

    A category is kept when it occurs at least `min_frequency` times in training,
    at most `max_categories` per column (the most frequent).
    """

    def __init__(
        self,
        categorical: Sequence[str] = (),
        mode: str = "ordinal",
        scale: bool = False,
        min_frequency: int = 5,
        max_categories: int = 50,
    ):
        self.categorical = categorical
        self.mode = mode
        self.scale = scale
        self.min_frequency = min_frequency
        self.max_categories = max_categories

    def fit(self, X: Any, y: Any = None) -> FrameEncoder:
        if self.mode not in ("ordinal", "onehot"):
            raise ValueError(f"mode must be 'ordinal' or 'onehot', got {self.mode!r}")
        frame = as_frame(X)
        self.columns_ = list(frame.columns)
        categorical = set(self.categorical)
        self.numeric_ = [c for c in self.columns_ if c not in categorical]
        self.categorical_ = [c for c in self.columns_ if c in categorical]
        self.categories_ = {}
        for col in self.categorical_:
            counts = frame[col].cast(pl.String).drop_nulls().value_counts(sort=True)
            counts = counts.filter(pl.col("count") >= self.min_frequency).sort(["count", col], descending=[True, False])
            self.categories_[col] = counts[col].head(self.max_categories).to_list()
        numeric = self._numeric(frame)
        medians = np.nanmedian(numeric, axis=0) if numeric.size else np.zeros(0)
        self.medians_ = np.where(np.isnan(medians), 0.0, medians)
        if self.mode == "onehot" and self.scale and numeric.size:
            filled = np.where(np.isnan(numeric), self.medians_, numeric)
            self.means_ = filled.mean(axis=0)
            std = filled.std(axis=0)
            self.scales_ = np.where(std > 0, std, 1.0)
        else:
            self.means_ = np.zeros(len(self.numeric_))
            self.scales_ = np.ones(len(self.numeric_))
        return self

    def _numeric(self, frame: pl.DataFrame) -> np.ndarray:
        if not self.numeric_:
            return np.zeros((frame.height, 0))
        columns = [frame[c].cast(pl.Float64, strict=False).to_numpy() for c in self.numeric_]
        return np.column_stack(columns).astype(float)

    def _codes(self, frame: pl.DataFrame, col: str) -> np.ndarray:
        index = {v: i for i, v in enumerate(self.categories_[col])}
        other = float(len(index))
        return np.array(
            [np.nan if v is None else float(index.get(v, other)) for v in frame[col].cast(pl.String).to_list()]
        )

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "columns_")
        frame = as_frame(X)
        missing = [c for c in self.columns_ if c not in frame.columns]
        if missing:
            raise ValueError(f"feature columns missing: {missing}")
        if self.mode == "ordinal":
            parts = [
                self._codes(frame, c) if c in self.categories_ else frame[c].cast(pl.Float64, strict=False).to_numpy()
                for c in self.columns_
            ]
            return np.column_stack(parts).astype(float) if parts else np.zeros((frame.height, 0))
        numeric = self._numeric(frame)
        numeric = (np.where(np.isnan(numeric), self.medians_, numeric) - self.means_) / self.scales_
        blocks = [numeric]
        for col in self.categorical_:
            codes = self._codes(frame, col)
            k = len(self.categories_[col])
            blocks.append((codes[:, None] == np.arange(k)[None, :]).astype(float))
        return np.hstack(blocks)

    def feature_names(self) -> list[str]:
        """Names of the output columns."""
        check_is_fitted(self, "columns_")
        if self.mode == "ordinal":
            return list(self.columns_)
        return self.numeric_ + [f"{c}={v}" for c in self.categorical_ for v in self.categories_[c]]


# --------------------------------------------------------------------------- calibration


_TIE_BREAK = 1e-6


class ProbabilityCalibrator:
    """Maps raw probabilities to calibrated ones: isotonic regression or a sigmoid on their log-odds (Platt).

    Both maps are strictly increasing, so calibration never changes how items are ranked (ROC-AUC).

    The sigmoid is fitted to Platt's (1999) smoothed targets, not to the bare 0/1 labels: a delayed item
    counts as (N+ + 1) / (N+ + 2) delayed and an on-time one as 1 / (N- + 2), N+ and N- the delayed and
    on-time items it is fitted on (the posterior mean of a uniform prior, Laplace's rule). On 0/1 labels
    a holdout the learner separates well (ROC-AUC 0.95 and above is common for delays, the demo company's
    holdouts reach 0.98; a small one may separate perfectly) drives the slope towards infinity and the
    probabilities to 0 and 1, which later tasks then contradict: in the rolling back-test the demo's
    tasks given 0.98 were late 90 % of the time. The smoothing costs nothing with many items (targets
    0.996 / 0.004 with 250) and bounds the slope with few.
    """

    def __init__(self, method: str):
        if method not in ("isotonic", "sigmoid"):
            raise ValueError(f"calibration must be 'isotonic' or 'sigmoid', got {method!r}")
        self.method = method

    @staticmethod
    def _logit(p: np.ndarray) -> np.ndarray:
        p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p)).reshape(-1, 1)

    def fit(self, p: np.ndarray, y: np.ndarray) -> ProbabilityCalibrator:
        if self.method == "isotonic":
            self.model_ = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, y)
        else:
            y = np.asarray(y, dtype=float).ravel()
            n_pos = float(y.sum())
            n_neg = y.size - n_pos
            target = np.where(y > 0.5, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
            # Soft targets as weighted rows: each item once as delayed (weight = its target), once as on time.
            x = self._logit(p)
            self.model_ = LogisticRegression(C=1e6, max_iter=1000).fit(
                np.vstack([x, x]), np.r_[np.ones(y.size), np.zeros(y.size)], sample_weight=np.r_[target, 1 - target]
            )
        return self

    def transform(self, p: np.ndarray) -> np.ndarray:
        if self.method == "isotonic":
            p = np.asarray(p, dtype=float)
            steps = np.clip(self.model_.predict(p), 0.0, 1.0)
            # Isotonic regression is a step function: items on one step would tie and lose the
            # ranking the learner gave them. A convex blend with a millionth of the raw probability
            # keeps that order (strictly increasing map) and changes no probability by more than 1e-6.
            return (1 - _TIE_BREAK) * steps + _TIE_BREAK * np.clip(p, 0.0, 1.0)
        return self.model_.predict_proba(self._logit(p))[:, 1]

    def __repr__(self) -> str:
        return f"ProbabilityCalibrator({self.method!r})"


def auc_standard_error(auc: float, n_pos: int, n_neg: int) -> float:
    """Hanley & McNeil (1982) standard error of a ROC-AUC estimated from `n_pos` and `n_neg` items."""
    if math.isnan(auc) or n_pos == 0 or n_neg == 0:
        return math.nan
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    return math.sqrt(max(var, 0.0))


def _one_standard_error_choice(scores: dict[str, float], y_holdout: np.ndarray) -> str:
    """The first learner (in the order tried: simplest first) whose holdout ROC-AUC is within one standard
    error of the best one — the "one-standard-error rule"; differences smaller than the noise of the
    holdout do not decide. NaN scores (single-class holdout) count as worst."""
    clean = {k: (-1.0 if math.isnan(v) else v) for k, v in scores.items()}
    best = max(clean.values())
    n_pos = int(y_holdout.sum())
    se = auc_standard_error(best, n_pos, y_holdout.size - n_pos) if best >= 0 else math.nan
    tolerance = 0.0 if math.isnan(se) else se
    return next(k for k, v in clean.items() if v >= best - tolerance)


CALIBRATIONS = ("sigmoid", "isotonic")
"""Calibration maps tried by `calibration="auto"`, smoothest first."""

_LOG_LOSS_FLOOR = 1e-6


def _log_losses(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Per-item log loss, probabilities kept within [1e-6, 1 - 1e-6]: a confident miss costs 13.8, not infinity."""
    p = np.clip(p, _LOG_LOSS_FLOOR, 1 - _LOG_LOSS_FLOOR)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def _cv_calibrated(method: str, p: np.ndarray, y: np.ndarray, random_state: int) -> np.ndarray:
    """Out-of-fold calibrated probabilities: `method` fitted and applied on disjoint folds of (p, y)."""
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=random_state)
    out = np.empty_like(p)
    for fit_idx, score_idx in folds.split(p.reshape(-1, 1), y):
        out[score_idx] = ProbabilityCalibrator(method).fit(p[fit_idx], y[fit_idx]).transform(p[score_idx])
    return out


def _choose_calibration(
    p: np.ndarray, y: np.ndarray, random_state: int
) -> tuple[str, dict[str, float], dict[str, float]]:
    """The calibration map for holdout probabilities `p`, with the cross-validated Brier and log loss of each.

    Chosen by log loss with the one-standard-error rule, smoothest map first (`CALIBRATIONS`): isotonic
    regression is kept only when its log loss is lower than the sigmoid's by more than one standard
    error of the paired per-item difference. Why not by Brier score: on a few hundred holdout rows
    isotonic regression is a step function with a handful of steps, so most open tasks share one
    probability (212 of 407 on the demo company got 0.7818) and the outer steps claim exactly 0 or 1.
    Brier forgives those claims, log loss does not. On the later test period of 13 data sets (the 12
    EMSE 2017 files and the demo company) the sigmoid had the lower log loss on 11 and a Brier score as
    low or lower on 9, with the same ROC-AUC (both maps are increasing).
    """
    calibrated = {m: _cv_calibrated(m, p, y, random_state) for m in CALIBRATIONS}
    losses = {m: _log_losses(y, q) for m, q in calibrated.items()}
    brier_scores = {m: brier(y, q) for m, q in calibrated.items()}
    log_loss = {m: float(v.mean()) for m, v in losses.items()}
    gain = losses["sigmoid"] - losses["isotonic"]
    chosen = "isotonic" if gain.mean() > gain.std(ddof=1) / math.sqrt(gain.size) else "sigmoid"
    return chosen, brier_scores, log_loss


# --------------------------------------------------------------------------- the model


def _learner(
    name: str | BaseEstimator, frame: pl.DataFrame, categorical: list[str], random_state: int | None, n_jobs: int | None
) -> Pipeline:
    """Encoder + classifier for a learner name (see `CANDIDATES`) or any scikit-learn classifier."""
    if name == "hgb":
        mask = [c in set(categorical) for c in frame.columns]
        clf = HistGradientBoostingClassifier(
            learning_rate=0.05,
            max_iter=200,
            max_depth=3,
            min_samples_leaf=30,
            l2_regularization=1.0,
            early_stopping=False,
            categorical_features=mask if any(mask) else None,
            random_state=random_state,
        )
        return Pipeline([("encode", FrameEncoder(categorical, mode="ordinal")), ("classify", clf)])
    if name == "rf":
        clf = RandomForestClassifier(
            n_estimators=300, min_samples_leaf=2, max_features="sqrt", n_jobs=n_jobs, random_state=random_state
        )
        return Pipeline([("encode", FrameEncoder(categorical, mode="onehot")), ("classify", clf)])
    if name == "logistic":
        clf = LogisticRegression(C=1.0, max_iter=5000)
        return Pipeline([("encode", FrameEncoder(categorical, mode="onehot", scale=True)), ("classify", clf)])
    if isinstance(name, BaseEstimator):
        return Pipeline([("encode", FrameEncoder(categorical, mode="onehot")), ("classify", clone(name))])
    raise ValueError(f"estimator must be 'auto', 'hgb', 'rf', 'logistic' or a scikit-learn classifier, got {name!r}")


def _limits(n_jobs: int | None):
    return threadpool_limits(limits=n_jobs if n_jobs and n_jobs > 0 else None)


def _labels(y: Any) -> np.ndarray:
    values = np.asarray(y.to_numpy() if isinstance(y, pl.Series) else y).ravel()
    if values.dtype == bool:
        return values.astype(int)
    if not np.isin(values, (0, 1)).all():
        raise ValueError("y must be 0/1 or bool (1 = delayed)")
    return values.astype(int)


class DelayRiskModel(ClassifierMixin, BaseEstimator):
    """Probability that an issue misses its due date, from a numeric/categorical feature frame.

    Parameters
    ----------
    estimator : "auto", "hgb", "rf", "logistic" or a scikit-learn classifier
        "auto" tries `CANDIDATES` and keeps the first whose holdout ROC-AUC is within one standard
        error (Hanley & McNeil) of the best.
    calibration : "auto", "isotonic", "sigmoid" or None
        "auto": the sigmoid (Platt) unless isotonic regression has a lower cross-validated log loss on
        the holdout by more than one standard error (see `_choose_calibration` for why not Brier).
    holdout : float in (0, 1) or int
        The newest rows (fraction or count) used for selection, calibration and the threshold.
        Rows must be in chronological order. 0 means none: then `estimator` must be named,
        `calibration` must be None and the threshold is 0.5.
    refit : bool
        Refit the chosen learner on all rows after the holdout decisions (see the module notes for why
        the default is not to).
    categorical_features : list of column names or None
        None: text / categorical columns of the frame.
    random_state, n_jobs : as in scikit-learn; `n_jobs` also caps the OpenMP threads of gradient boosting.

    Fitted attributes: `estimator_` (pipeline used for predictions), `estimator_name_`,
    `calibrator_` (or None), `calibration_`, `threshold_`, `holdout_scores_` (validation ROC-AUC per
    learner), `calibration_scores_` (cross-validated Brier per method), `calibration_log_loss_` (cross-validated
    log loss per method, which decides), `holdout_size_`, `holdout_f1_`,
    `feature_names_in_`, `n_features_in_`, `categorical_features_`, `reference_` (typical training
    value per feature), `peer_reference_` (the same per category of each categorical feature, see
    `explain`), `base_rate_`, `classes_`.
    """

    def __init__(
        self,
        estimator: str | BaseEstimator = "auto",
        calibration: str | None = "auto",
        holdout: float | int = 0.25,
        refit: bool = False,
        categorical_features: Sequence[str] | None = None,
        random_state: int | None = 0,
        n_jobs: int | None = 1,
    ):
        self.estimator = estimator
        self.calibration = calibration
        self.holdout = holdout
        self.refit = refit
        self.categorical_features = categorical_features
        self.random_state = random_state
        self.n_jobs = n_jobs

    # ---------------------------------------------------------------- fit

    def _holdout_size(self, n: int) -> int:
        h = self.holdout
        if isinstance(h, (int, np.integer)) and not isinstance(h, bool):
            size = int(h)
        elif isinstance(h, float) and 0 <= h < 1:
            size = int(math.ceil(h * n))
        else:
            raise ValueError(f"holdout must be a fraction in [0, 1) or a row count, got {h!r}")
        if size < 0 or size >= n:
            raise ValueError(f"holdout of {size} rows leaves nothing to fit on ({n} rows)")
        return size

    def fit(self, X: Any, y: Any) -> DelayRiskModel:
        frame = as_frame(X)
        target = _labels(y)
        if frame.height != target.size:
            raise ValueError(f"X has {frame.height} rows but y has {target.size}")
        if target.min() == target.max():
            raise ValueError("y holds a single class; a delay model needs delayed and on-time issues")
        # A column with fewer than two distinct values in the rows the learners are first fitted
        # on carries nothing there, and scikit-learn 1.9's histogram binning fails on it.
        older = frame.slice(0, frame.height - self._holdout_size(frame.height))
        frame = frame.select([c for c in frame.columns if older[c].drop_nulls().n_unique() >= 2])
        if frame.width == 0:
            raise ValueError("no feature varies across the training rows")
        self.feature_names_in_ = np.array(frame.columns, dtype=object)
        self.n_features_in_ = frame.width
        self.categorical_features_ = _categorical_columns(frame, self.categorical_features)
        self.classes_ = np.array([0, 1])
        self.base_rate_ = float(target.mean())
        self.reference_ = _typical_values(frame, self.categorical_features_)
        self.peer_reference_ = _peer_values(frame, self.categorical_features_)

        n_hold = self._holdout_size(frame.height)
        self.holdout_size_ = n_hold
        names = list(CANDIDATES) if self.estimator == "auto" else [self.estimator]

        def make(name: str | BaseEstimator) -> Pipeline:
            return _learner(name, frame, self.categorical_features_, self.random_state, self.n_jobs)

        with _limits(self.n_jobs):
            if n_hold == 0:
                if self.estimator == "auto" or self.calibration is not None:
                    raise ValueError("holdout=0 needs a named estimator and calibration=None")
                self.estimator_name_ = names[0] if isinstance(names[0], str) else type(names[0]).__name__
                self.estimator_ = make(names[0]).fit(frame, target)
                self.holdout_scores_, self.calibration_scores_, self.calibration_log_loss_ = {}, {}, {}
                self.calibration_, self.calibrator_, self.threshold_, self.holdout_f1_ = None, None, 0.5, math.nan
                return self

            cut = frame.height - n_hold
            older, recent = frame.slice(0, cut), frame.slice(cut)
            y_older, y_recent = target[:cut], target[cut:]
            if y_older.min() == y_older.max():
                raise ValueError("the rows before the holdout hold a single class")

            fitted: dict[str, tuple[Pipeline, np.ndarray]] = {}
            self.holdout_scores_ = {}
            for name in names:
                label = name if isinstance(name, str) else type(name).__name__
                pipe = make(name).fit(older, y_older)
                raw = pipe.predict_proba(recent)[:, 1]
                fitted[label] = (pipe, raw)
                self.holdout_scores_[label] = roc_auc(y_recent, raw)
            self.estimator_name_ = _one_standard_error_choice(self.holdout_scores_, y_recent)
            chosen = names[list(fitted).index(self.estimator_name_)]
            pipe, raw = fitted[self.estimator_name_]

            self.calibration_scores_, self.calibration_log_loss_ = {}, {}
            if self.calibration is None:
                self.calibration_, self.calibrator_ = None, None
                calibrated = raw
            else:
                enough = min(int(y_recent.sum()), int((1 - y_recent).sum())) >= 5
                if self.calibration == "auto" and enough:
                    self.calibration_, self.calibration_scores_, self.calibration_log_loss_ = _choose_calibration(
                        raw, y_recent, self.random_state or 0
                    )
                else:
                    self.calibration_ = CALIBRATIONS[0] if self.calibration == "auto" else self.calibration
                if y_recent.min() == y_recent.max():
                    raise ValueError("the holdout holds a single class; cannot calibrate on it")
                self.calibrator_ = ProbabilityCalibrator(self.calibration_).fit(raw, y_recent)
                calibrated = self.calibrator_.transform(raw)
            self.threshold_, self.holdout_f1_ = best_f1_threshold(y_recent, calibrated)

            if self.refit:
                pipe = make(chosen).fit(frame, target)
            self.estimator_ = pipe
        return self

    # ---------------------------------------------------------------- predict

    def _frame(self, X: Any) -> pl.DataFrame:
        check_is_fitted(self, "estimator_")
        frame = as_frame(X)
        missing = [c for c in self.feature_names_in_ if c not in frame.columns]
        if missing:
            raise ValueError(f"feature columns missing: {missing}")
        return frame.select(list(self.feature_names_in_))

    def raw_proba(self, X: Any) -> np.ndarray:
        """Probability of delay before calibration (the learner's own output)."""
        frame = self._frame(X)
        with _limits(self.n_jobs):
            return self.estimator_.predict_proba(frame)[:, 1]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Columns: P(on time), P(delayed)."""
        p = self.raw_proba(X)
        if self.calibrator_ is not None:
            p = self.calibrator_.transform(p)
        return np.column_stack([1 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """1 (delayed) when the calibrated probability reaches `threshold_`."""
        return (self.predict_proba(X)[:, 1] >= self.threshold_).astype(int)


# --------------------------------------------------------------------------- explanations

MIN_PEERS = 20
"""Training rows a category needs before its own typical values are used in explanations: with fewer,
a "typical" value of that kind would be one or two tasks, so the overall typical value is used instead."""


def _typical_values(frame: pl.DataFrame, categorical: Sequence[str]) -> dict[str, Any]:
    typical: dict[str, Any] = {}
    for col in frame.columns:
        series = frame[col]
        if col in categorical:
            values = series.cast(pl.String).drop_nulls()
            typical[col] = values.mode().sort().first() if values.len() else None
        else:
            values = series.cast(pl.Float64, strict=False).drop_nulls().drop_nans()
            typical[col] = float(values.median()) if values.len() else None
    return typical


def _peer_values(frame: pl.DataFrame, categorical: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """Typical values among the training rows of each category (column → category → feature → value).

    An item is best explained against items of its own kind: 69 estimated hours are a lot for a bug and
    ordinary for a feature. Only categories with at least `MIN_PEERS` rows are kept.
    """
    peers: dict[str, dict[str, dict[str, Any]]] = {}
    for col in categorical:
        keys = frame[col].cast(pl.String)
        counts = keys.drop_nulls().value_counts()
        kept = counts.filter(pl.col("count") >= MIN_PEERS)[col].to_list()
        peers[col] = {key: _typical_values(frame.filter(keys == key), categorical) for key in kept}
    return peers


@dataclass(frozen=True)
class Factor:
    """How much one feature moves one prediction, and what it was compared with.

    `value` and `typical` are as the model reads them (numbers as floats, dates as days since
    1970-01-01, categories as text, None when missing); `effect` is the learner's probability minus
    its probability with `typical` in place of `value` (positive: the feature raises the risk);
    `peers` names the column whose category `typical` was taken among (the item's own type, say),
    None when it is the typical value over all training rows.
    """

    feature: str
    value: Any
    typical: Any
    effect: float
    peers: str | None = None


def explain(model: DelayRiskModel, X_row: Any, k: int = 3, peers: str | None = None) -> list[Factor]:
    """The `k` features that move this item's delay risk most, largest effect first.

    Each feature is set in turn to its typical training value (median; most frequent category) with
    the others unchanged; the change in the learner's probability is that feature's effect. With
    `peers` (a categorical column such as the task type) the typical value is the one among training
    items of the same category as this item, when there were at least `MIN_PEERS` of them; the `peers`
    column itself is compared with all items. Features already at their typical value are skipped.
    """
    check_is_fitted(model, "estimator_")
    row = model._frame(X_row)
    if row.height != 1:
        raise ValueError(f"explain takes one row, got {row.height}")
    row = row.with_columns(
        [
            pl.col(c).cast(pl.String) if c in model.categorical_features_ else pl.col(c).cast(pl.Float64, strict=False)
            for c in row.columns
        ]
    )
    group: dict[str, Any] = {}
    if peers is not None and peers in row.columns:
        key = row[peers][0]
        group = getattr(model, "peer_reference_", {}).get(peers, {}).get(None if key is None else str(key), {})
    base = float(model.raw_proba(row)[0])
    variants, candidates = [], []
    for col in row.columns:
        own = col != peers and group.get(col) is not None
        typical, value = (group[col] if own else model.reference_.get(col)), row[col][0]
        if typical is None:
            continue
        if col in model.categorical_features_:
            current = None if value is None else str(value)
            if current == typical:
                continue
            variants.append(row.with_columns(pl.lit(typical, dtype=pl.String).alias(col)))
        else:
            current = None if value is None or math.isnan(value) else float(value)
            if current is not None and math.isclose(current, typical):
                continue
            variants.append(row.with_columns(pl.lit(typical, dtype=pl.Float64).alias(col)))
        candidates.append((col, current, typical, peers if own else None))
    if not variants:
        return []
    effects = base - model.raw_proba(pl.concat(variants))
    order = np.argsort(-np.abs(effects), kind="stable")
    out = []
    for i in order:
        if abs(effects[i]) < 1e-6 or len(out) >= k:
            break
        col, value, typical, source = candidates[i]
        out.append(Factor(col, value, typical, float(effects[i]), source))
    return out


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not set"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if v.is_integer():
            return str(int(v))
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(value)


def top_factors(
    model: DelayRiskModel, X_row: Any, k: int = 3, labels: Mapping[str, str] | None = None
) -> list[str]:
    """`explain` in one line per factor, with the column names, for any feature frame (the EMSE evaluation).

    Returns e.g. ``["workload 7 (typical 2) raises the risk", "priority Blocker (typical Major) raises
    the risk"]``; `labels` maps column names to the words to show. Lodestar's own task features have
    sentences in both languages instead (`models.prediction.factors`).
    """
    labels = labels or {}
    return [
        f"{labels.get(f.feature, f.feature)} {_fmt(f.value)} (typical {_fmt(f.typical)}) "
        f"{'raises' if f.effect > 0 else 'lowers'} the risk"
        for f in explain(model, X_row, k)
    ]
