"""How long a task will take: P50 / P90 of total and remaining working days.

The model learns *quantiles* rather than a mean because planners need a likely date
and a safe date, and task durations are heavy-tailed: a mean is dragged by the few
tasks that stall for months. Two ``HistGradientBoostingRegressor(loss="quantile")``
models (0.5 and 0.9) are fitted on ``log1p(total working days)``; quantiles commute
with monotone transforms, so ``expm1`` of a predicted quantile is the quantile in days,
and the log scale keeps the trees from spending their splits on the tail.

Inputs are the leak-free features of ``models.prediction.features`` (numeric columns
as they are, categoricals as native HGB categories, the top labels / components
multi-hot, and title + description as character n-gram TF-IDF reduced by truncated
SVD: character n-grams work for Chinese titles, which have no spaces to split words on).

With too little history (``min_train_rows``) gradient boosting would fit noise, so the
model falls back, visibly (``fallback_used_``, ``reason_``), to the median and 90th
percentile of the training cycle times by type.

Totals and remaining days are consistent by construction: ``total ≥ elapsed`` (a task
cannot finish before the time it has already taken), ``P90 ≥ P50 ≥ 0``, and
``remaining = total − elapsed`` where *elapsed* is ``active_workdays`` at ``as_of``
(working days since the start, as-of day included). So ``remaining`` counts working
days after the as-of day: the expected finish is ``calendar.add_workdays(as_of, remaining)``.
Remaining days never exceed ``models.planning.bounds.MAX_TASK_WORKDAYS`` (see there why):
a ticket open for a decade is predicted to take at most that much longer.

Intervals that mean what they say (issue #13). The raw quantile models are post-processed
in ``predict`` by these documented rules, in this order:

1. **Bounded by the task's own data.** The *plan-implied* duration is the estimate in
   working days, ``max(1, estimate_hours / hours_per_day)`` (``hours_per_day`` = 8, the
   planning engine's rule in ``models.planning.warehouse_plan``), else the story points,
   times the team's *pace* ``pace_``: the median of actual working days / estimate days
   (or / points) of resolved training tasks of the same type (overall with fewer than
   ``min_type_rows`` of the type, 1 with fewer overall), since estimates count effort
   while durations count calendar working days (the demo's tasks took a median 1.5× their
   estimate). With one, P50 is clipped into ``[plan / plan_factor, plan × plan_factor]``
   (``plan_factor`` = 3). Without one, P50 is capped at
   ``plan_factor`` × the P90 of similar tasks' actual durations (same type, ``baseline_``).
   A raw P50 outside the bounds is *kept bounded and said so*: ``bounded`` is true and
   ``model_p50_days`` / ``plan_days`` / ``bounded_p50_days`` hold the raw value, the plan it was held to and the bound
   (``scoring`` turns that into a factor sentence).
2. **Spread.** The model's own P90/P50 ratio is kept, clipped to
   ``[1 + min_spread, max_spread]`` (0.25 and 4), and applied to the bounded P50.
3. **Monotone, never zero-width.** An open task has at least ``min_remaining_days``
   (0.5) still to do, and ``remaining P90 ≥ remaining P50 × (1 + min_spread)`` and
   ``≥ remaining P50 + 1`` working day; totals are ``elapsed + remaining``, so
   ``duration P90 ≥ duration P50 + 1`` too (the relative spread applies to the work still
   to do: days already spent are known). Only a done task, or one whose P50 already sits
   at the ``MAX_TASK_WORKDAYS`` bound, can have P50 = P90.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import duckdb
import numpy as np
import polars as pl
from sklearn.base import BaseEstimator
from sklearn.decomposition import TruncatedSVD
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from models.planning.bounds import MAX_TASK_WORKDAYS
from models.planning.calendar import WorkCalendar
from models.prediction.features import (
    CATEGORICAL_FEATURES,
    LIST_FEATURES,
    NUMERIC_FEATURES,
    TEXT_FEATURE,
    build_features,
)

__all__ = ["DurationModel", "OUTPUT_COLUMNS", "training_frame"]

log = logging.getLogger(__name__)

OUTPUT_COLUMNS = ("task_id", "duration_p50_days", "duration_p90_days", "remaining_p50_days", "remaining_p90_days",
                  "model_p50_days", "plan_days", "bounded", "bounded_p50_days")
_MAX_CATEGORIES = 50  # HGB allows up to 255; rarer values are lumped with "unknown"
_BOOSTING_ATTRIBUTES = ("numeric_features_", "categories_", "tags_", "tfidf_", "svd_", "feature_names_",
                        "categorical_mask_", "model_p50_", "model_p90_")


class DurationModel(BaseEstimator):
    """Quantile gradient boosting for P50 / P90 total and remaining working days of a task.

    Follows scikit-learn conventions (parameters stored untouched by ``__init__``,
    ``fit`` returns ``self``, fitted attributes end with ``_``), so ``clone`` and
    ``get_params`` work, but ``predict`` takes and returns polars frames because rows
    are tasks, not anonymous vectors.

    ``n_threads`` caps OpenMP threads while fitting and predicting (HGB is OpenMP
    parallel; on two shared cores, unbounded threads made fitting 3-5x slower).

    Fitted attributes: ``fallback_used_`` and ``reason_`` (why the baseline is used,
    or what was fitted), ``n_train_rows_``, ``pace_``, ``baseline_`` (type → (P50, P90) cycle
    time, always fitted, also the fallback), ``baseline_global_``, and when boosting is
    used ``feature_names_``, ``numeric_features_``, ``categories_``, ``tags_``,
    ``tfidf_``, ``svd_``, ``categorical_mask_``, ``model_p50_``, ``model_p90_``.
    """

    def __init__(
        self,
        *,
        min_train_rows: int = 50,
        max_iter: int = 150,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 20,
        l2_regularization: float = 1.0,
        text_components: int = 16,
        text_ngram_range: tuple[int, int] = (2, 3),
        text_max_features: int = 20000,
        top_k_tags: int = 20,
        min_type_rows: int = 5,
        n_threads: int = 1,
        random_state: int = 0,
        hours_per_day: float = 8.0,
        plan_factor: float = 3.0,
        min_spread: float = 0.25,
        max_spread: float = 4.0,
        min_remaining_days: float = 0.5,
    ) -> None:
        self.min_train_rows = min_train_rows
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.text_components = text_components
        self.text_ngram_range = text_ngram_range
        self.text_max_features = text_max_features
        self.top_k_tags = top_k_tags
        self.min_type_rows = min_type_rows
        self.n_threads = n_threads
        self.random_state = random_state
        self.hours_per_day = hours_per_day
        self.plan_factor = plan_factor
        self.min_spread = min_spread
        self.max_spread = max_spread
        self.min_remaining_days = min_remaining_days

    # ------------------------------------------------------------------ fitting

    def fit(self, features: pl.DataFrame, y_total_days: Sequence[float] | np.ndarray | pl.Series) -> DurationModel:
        """Learn from feature rows and their total working days (start to resolution).

        Rows with a missing or negative label are ignored (counted in ``reason_``).
        """
        y = np.asarray(y_total_days.to_numpy() if isinstance(y_total_days, pl.Series) else y_total_days,
                       dtype=np.float64)
        if y.shape != (features.height,):
            raise ValueError(f"y_total_days has {y.size} values for {features.height} feature rows")
        usable = np.isfinite(y) & (y >= 0)
        dropped = int((~usable).sum())
        frame = features.filter(pl.Series(usable)) if dropped else features
        y = y[usable]
        self.n_train_rows_ = int(y.size)
        self._fit_baseline(frame, y)
        note = f"; {dropped} row(s) without a usable label ignored" if dropped else ""
        if y.size < self.min_train_rows:
            for stale in _BOOSTING_ATTRIBUTES:  # from an earlier fit on more history
                self.__dict__.pop(stale, None)
            self.fallback_used_ = True
            self.reason_ = (
                f"only {y.size} training row(s), fewer than min_train_rows={self.min_train_rows}: "
                f"predicting the median and 90th percentile of cycle time by type{note}"
            )
            log.warning("DurationModel falls back to baselines: %s", self.reason_)
            return self
        self.fallback_used_ = False
        with threadpool_limits(limits=self.n_threads):
            X = self._design(frame, fit=True)
            target = np.log1p(y)
            self.model_p50_ = self._booster(0.5).fit(X, target)
            self.model_p90_ = self._booster(0.9).fit(X, target)
        text = f", text projected on {self.svd_.n_components} SVD components" if self.svd_ is not None else ""
        self.reason_ = f"quantile gradient boosting on {y.size} rows and {X.shape[1]} features{text}{note}"
        return self

    def _booster(self, quantile: float) -> HistGradientBoostingRegressor:
        return HistGradientBoostingRegressor(
            loss="quantile",
            quantile=quantile,
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            categorical_features=self.categorical_mask_,
            random_state=self.random_state,
        )

    def _fit_baseline(self, frame: pl.DataFrame, y: np.ndarray) -> None:
        """Median and P90 of cycle time per type (types with < ``min_type_rows`` use the overall values)."""
        types = (frame.get_column("type_category").cast(pl.String).to_list() if "type_category" in frame.columns
                 else [None] * frame.height)
        plan = self._raw_plan_days(frame)
        self.pace_ = {source: self._pace(types, days, y) for source, days in plan.items()}
        if y.size == 0:
            self.baseline_global_ = (float("nan"), float("nan"))
            self.baseline_ = {}
            return
        self.baseline_global_ = (float(np.quantile(y, 0.5)), float(np.quantile(y, 0.9)))
        types = (frame.get_column("type_category") if "type_category" in frame.columns
                 else pl.Series([None] * frame.height, dtype=pl.String))
        by_type = pl.DataFrame({"type": types.cast(pl.String), "y": y}).group_by("type").agg(
            pl.len().alias("n"),
            pl.col("y").quantile(0.5, interpolation="linear").alias("p50"),
            pl.col("y").quantile(0.9, interpolation="linear").alias("p90"),
        )
        self.baseline_ = {
            row["type"]: (float(row["p50"]), float(row["p90"]))
            for row in by_type.iter_rows(named=True)
            if row["n"] >= self.min_type_rows and row["type"] is not None
        }

    def _pace(self, types: list, plan: np.ndarray, y: np.ndarray) -> dict[str | None, float]:
        """Median actual / plan-implied working days per type (key None: overall; 1 without enough rows)."""
        usable = np.isfinite(plan) & (plan > 0) & (y > 0)
        pace: dict[str | None, float] = {None: float(np.median(y[usable] / plan[usable]))
                                         if usable.sum() >= self.min_type_rows else 1.0}
        kinds = np.array(["" if t is None else t for t in types], dtype=object)
        for kind in set(kinds[usable].tolist()) - {""}:
            rows = usable & (kinds == kind)
            if rows.sum() >= self.min_type_rows:
                pace[kind] = float(np.median(y[rows] / plan[rows]))
        return pace

    def _raw_plan_days(self, frame: pl.DataFrame) -> dict[str, np.ndarray]:
        hours = _column(frame, "estimate_hours", np.nan)
        points = _column(frame, "story_points", np.nan)
        with np.errstate(invalid="ignore"):
            return {"estimate": np.where(hours > 0, np.maximum(1.0, hours / self.hours_per_day), np.nan),
                    "points": np.where(points > 0, points, np.nan)}

    # ------------------------------------------------------------ design matrix

    def _design(self, frame: pl.DataFrame, fit: bool) -> np.ndarray:
        """Numeric, categorical codes, tag multi-hot and text SVD columns, as one float matrix.

        Vocabularies (categories, top tags, TF-IDF terms) are learned here at fit time,
        from training rows only, so nothing about the rows being predicted leaks in.
        """
        if fit:
            # a column with no value at all carries nothing (and HGB's binning rejects it)
            self.numeric_features_ = [
                c for c in NUMERIC_FEATURES
                if c in frame.columns and frame.get_column(c).cast(pl.Float64).fill_nan(None).null_count() < frame.height
            ]
            self.categories_ = {
                column: _top_values(frame.get_column(column), _MAX_CATEGORIES)
                for column in CATEGORICAL_FEATURES if column in frame.columns
            }
            self.tags_ = {
                column: _top_values(frame.get_column(column).explode(), self.top_k_tags)
                for column in LIST_FEATURES if column in frame.columns
            }
        blocks: list[np.ndarray] = []
        names: list[str] = []
        categorical: list[bool] = []
        if self.numeric_features_:
            numeric = frame.select(
                [(pl.col(c).cast(pl.Float64) if c in frame.columns else pl.lit(None, pl.Float64)).alias(c)
                 for c in self.numeric_features_]
            ).to_numpy().astype(np.float64)
            blocks.append(numeric)
            names += self.numeric_features_
            categorical += [False] * len(self.numeric_features_)
        for column, values in self.categories_.items():
            codes = {value: float(i) for i, value in enumerate(values)}
            source = frame.get_column(column).to_list() if column in frame.columns else [None] * frame.height
            blocks.append(np.array([codes.get(v, np.nan) for v in source], dtype=np.float64).reshape(-1, 1))
            names.append(column)
            categorical.append(True)
        for column, values in self.tags_.items():
            if not values:
                continue
            lists = frame.get_column(column).to_list() if column in frame.columns else [None] * frame.height
            index = {value: i for i, value in enumerate(values)}
            hot = np.zeros((frame.height, len(values)), dtype=np.float64)
            for row, items in enumerate(lists):
                for item in items or ():
                    if item in index:
                        hot[row, index[item]] = 1.0
            blocks.append(hot)
            names += [f"{column}={value}" for value in values]
            categorical += [False] * len(values)
        text = _text(frame)
        if fit:
            self.tfidf_, self.svd_ = self._fit_text(text)
        if self.svd_ is not None:
            projected = self.svd_.transform(self.tfidf_.transform(text))
            blocks.append(projected)
            names += [f"text_svd_{i}" for i in range(projected.shape[1])]
            categorical += [False] * projected.shape[1]
        if fit:
            self.feature_names_ = names
            self.categorical_mask_ = np.array(categorical, dtype=bool)
        return np.hstack(blocks) if blocks else np.zeros((frame.height, 0))

    def _fit_text(self, text: list[str]) -> tuple[TfidfVectorizer | None, TruncatedSVD | None]:
        if self.text_components < 1 or not any(t.strip() for t in text):
            return None, None
        tfidf = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=tuple(self.text_ngram_range),
            max_features=self.text_max_features,
            min_df=2,
            sublinear_tf=True,
            dtype=np.float64,
        )
        try:
            matrix = tfidf.fit_transform(text)
        except ValueError:  # every n-gram occurs once: nothing generalises
            return None, None
        components = min(self.text_components, matrix.shape[1] - 1, matrix.shape[0] - 1)
        if components < 1:
            return None, None
        svd = TruncatedSVD(n_components=components, random_state=self.random_state)
        svd.fit(matrix)
        return tfidf, svd

    # --------------------------------------------------------------- prediction

    def predict(self, frame: pl.DataFrame) -> pl.DataFrame:
        """P50 / P90 total and remaining working days per feature row, in input order.

        ``P90 ≥ P50 ≥ 0``, ``total ≥ elapsed`` and ``remaining ≤ MAX_TASK_WORKDAYS`` always
        hold, and the bounds and minimum spread of the module docstring apply (``bounded``,
        ``model_p50_days``, ``plan_days`` say when the plan held the model back); a task
        already done at ``as_of`` has nothing remaining. Predictions are null
        only when the model was fitted on no usable rows at all (there is nothing to base a
        baseline on).
        """
        check_is_fitted(self, "fallback_used_")
        if self.fallback_used_:
            p50, p90 = self._baseline_predict(frame)
        else:
            with threadpool_limits(limits=self.n_threads):
                X = self._design(frame, fit=False)
                p50 = np.expm1(self.model_p50_.predict(X))
                p90 = np.expm1(self.model_p90_.predict(X))
        return self._bounded(frame, p50, p90)

    def plan_days(self, frame: pl.DataFrame) -> np.ndarray:
        """Plan-implied working days per row (rule 1): estimate days, else story points, at the team's pace."""
        check_is_fitted(self, "pace_")
        types = (frame.get_column("type_category").cast(pl.String).to_list() if "type_category" in frame.columns
                 else [None] * frame.height)
        raw = self._raw_plan_days(frame)
        implied = {}
        for source, days in raw.items():
            pace = self.pace_[source]
            implied[source] = days * np.array([pace.get(t, pace[None]) for t in types], dtype=np.float64)
        return np.where(np.isfinite(implied["estimate"]), implied["estimate"], implied["points"])

    def _bounded(self, frame: pl.DataFrame, p50: np.ndarray, p90: np.ndarray) -> pl.DataFrame:
        """Rules 1-3 of the module docstring on raw P50 / P90 totals."""
        raw50 = np.maximum(np.asarray(p50, dtype=np.float64), 0.0)
        raw90 = np.maximum(np.asarray(p90, dtype=np.float64), raw50)
        plan = self.plan_days(frame)
        types = (frame.get_column("type_category").to_list() if "type_category" in frame.columns
                 else [None] * frame.height)
        similar90 = np.array([self.baseline_.get(t, self.baseline_global_)[1] for t in types], dtype=np.float64)
        has_plan = np.isfinite(plan)
        high = np.where(has_plan, plan * self.plan_factor, similar90 * self.plan_factor)
        low = np.where(has_plan, plan / self.plan_factor, 0.0)
        high = np.where(np.isfinite(high), high, np.inf)
        bounded50 = np.clip(raw50, low, high)
        bounded = np.isfinite(raw50) & ((raw50 > high * (1 + 1e-9)) | (raw50 < low * (1 - 1e-9)))
        ratio = np.divide(raw90, raw50, out=np.full_like(raw50, self.max_spread), where=raw50 > 0)
        ratio = np.clip(np.nan_to_num(ratio, nan=1.0 + self.min_spread), 1.0 + self.min_spread, self.max_spread)
        bounded90 = bounded50 * ratio

        elapsed = _column(frame, "active_workdays", 0.0)
        done = _column(frame, "is_done", 0.0) > 0
        remaining50 = np.maximum(bounded50 - elapsed, self.min_remaining_days)
        remaining50 = np.minimum(remaining50, MAX_TASK_WORKDAYS)
        remaining90 = np.maximum.reduce([bounded90 - elapsed, remaining50 * (1.0 + self.min_spread),
                                         remaining50 + 1.0])
        remaining90 = np.minimum(remaining90, MAX_TASK_WORKDAYS)
        done_total50 = np.minimum(np.maximum(bounded50, elapsed), elapsed + MAX_TASK_WORKDAYS)
        done_total90 = np.minimum(np.maximum(bounded90, done_total50), elapsed + MAX_TASK_WORKDAYS)
        total50 = np.where(done, done_total50, elapsed + remaining50)
        total90 = np.where(done, done_total90, elapsed + remaining90)
        return pl.DataFrame({
            "task_id": frame.get_column("task_id").cast(pl.String),
            "duration_p50_days": total50,
            "duration_p90_days": total90,
            "remaining_p50_days": np.where(done, 0.0, remaining50),
            "remaining_p90_days": np.where(done, 0.0, remaining90),
            "model_p50_days": raw50,
            "plan_days": plan,
            "bounded": bounded,
            "bounded_p50_days": bounded50,
        }).fill_nan(None)

    def _baseline_predict(self, frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        types = (frame.get_column("type_category").to_list() if "type_category" in frame.columns
                 else [None] * frame.height)
        values = np.array([self.baseline_.get(t, self.baseline_global_) for t in types], dtype=np.float64)
        values = values.reshape(frame.height, 2)
        return values[:, 0], values[:, 1]


def _top_values(series: pl.Series, k: int) -> list[str]:
    """The ``k`` most frequent non-null values, most frequent first (ties by value, for determinism)."""
    counts = (series.cast(pl.String).drop_nulls().value_counts(name="n")
              .sort(["n", series.name], descending=[True, False]).head(k))
    return counts.get_column(series.name).to_list()


def _text(frame: pl.DataFrame) -> list[str]:
    if TEXT_FEATURE not in frame.columns:
        return [""] * frame.height
    return frame.get_column(TEXT_FEATURE).cast(pl.String).fill_null("").to_list()


def _column(frame: pl.DataFrame, name: str, default: float) -> np.ndarray:
    if name not in frame.columns:
        return np.full(frame.height, default)
    return frame.get_column(name).cast(pl.Float64).fill_null(default).to_numpy()


# ------------------------------------------------------------------ training data

def training_frame(
    con: duckdb.DuckDBPyConnection,
    calendar: WorkCalendar | None = None,
    *,
    checkpoints: Sequence[int] = (0,),
    exclude_types: Sequence[str] = ("epic",),
) -> tuple[pl.DataFrame, np.ndarray]:
    """Training examples from resolved tasks: features as of the start, label = total working days.

    The prediction time of an example is the task's ``started_at`` (``created_at`` when
    it never entered an in-progress status) plus each of ``checkpoints`` working days;
    a checkpoint at or after the resolution is skipped, since the task was no longer
    open. The label is ``workdays_between(start, resolved_at)``, the same for every
    checkpoint of a task. Checkpoints beyond 0 teach the model how the total changes
    once a task has already run for a while, which is what ``remaining`` needs.

    Epics are excluded by default: their span is the schedule of their children, not
    work of their own. Deleted tasks are excluded (they are not outcomes). Returns
    ``(features, y_total_days)`` with features in ``build_features`` form, ordered by
    prediction time.
    """
    calendar = calendar or WorkCalendar.from_settings()
    tasks = pl.from_arrow(con.sql(
        """SELECT task_id, coalesce(started_at, created_at) AS start_at, resolved_at
           FROM tasks
           WHERE resolved_at IS NOT NULL AND coalesce(started_at, created_at) IS NOT NULL
             AND resolved_at >= coalesce(started_at, created_at)
             AND NOT is_deleted
             AND NOT list_contains($exclude, coalesce(type_category, ''))
           ORDER BY start_at, task_id""",
        params={"exclude": list(exclude_types)},
    ).to_arrow_table())
    if tasks.height == 0:
        empty = build_features(con, pl.DataFrame(schema={"task_id": pl.String, "as_of": pl.Datetime("us")}), calendar)
        return empty, np.zeros(0)
    start = tasks.get_column("start_at").to_numpy().astype("datetime64[us]")
    resolved = tasks.get_column("resolved_at").to_numpy().astype("datetime64[us]")
    total = np.asarray(calendar.workdays_between(start.astype("datetime64[D]"), resolved.astype("datetime64[D]")),
                       dtype=np.float64)
    start_index = np.asarray(calendar.index_of(start.astype("datetime64[D]"), "forward"))
    time_of_day = start - start.astype("datetime64[D]")
    ids, as_of, labels = [], [], []
    for k in sorted(set(int(c) for c in checkpoints)):
        if k < 0:
            raise ValueError(f"checkpoints are working days after the start, not {k}")
        when = start if k == 0 else (
            np.asarray(calendar.date_of(start_index + k)).astype("datetime64[us]") + time_of_day)
        keep = (when < resolved) | (k == 0)
        ids.append(tasks.get_column("task_id").filter(pl.Series(keep)))
        as_of.append(when[keep])
        labels.append(total[keep])
    pairs = pl.DataFrame({
        "task_id": pl.concat(ids),
        "as_of": pl.Series(np.concatenate(as_of)).cast(pl.Datetime("us")),
        "y": np.concatenate(labels),
    }).with_row_index("order").sort(["as_of", "order"])
    features = build_features(con, pairs.select("task_id", "as_of"), calendar)
    return features, pairs.get_column("y").to_numpy()
