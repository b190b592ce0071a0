"""Training from warehouse history and scoring of open tasks, for the `task_predictions` table.

Training examples are resolved tasks with features rebuilt as of their start
(`build_features` never reads later rows). With too little history each model
falls back to per-type baselines and says so in its version (`baseline-…`).

The riskiest tasks get the factors behind their delay probability as sentences,
English in `top_factors` and Chinese in `top_factors_zh` (`models.prediction.factors`),
each comparing the task with training tasks of its own type where there are enough.

When the duration model's raw P50 was far outside what the task's own plan says and was
held to the bound (``DurationModel`` rule 1, column ``bounded`` of its predictions),
`bound_sentence` says so in both languages as the first factor, ahead of the (at most three)
delay factors: a manager reading a held duration must know it is the plan's, not the model's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from models.planning.calendar import WorkCalendar
from models.prediction.delay import DelayRiskModel, explain
from models.prediction.duration import DurationModel, training_frame
from models.prediction.factors import baseline_sentence, sentences
from models.prediction.features import build_features
from models.prediction.registry import ModelMeta, latest, new_version, save_model

MIN_DELAY_EXAMPLES = 40
EXPLAINED_TASKS = 150
NOT_DELAY_FEATURES = ("task_id", "as_of", "text", "labels", "components", "project_key")
PEERS = "type_category"
"""Explanations compare a task with training tasks of the same type (see `models.prediction.delay.explain`)."""


@dataclass
class DelayBaseline:
    """Training delay rate per type: the visible fallback when there is too little history."""

    rate_by_type: dict[str, float]
    overall: float

    def predict(self, types: list[str | None]) -> np.ndarray:
        return np.array([self.rate_by_type.get(t or "", self.overall) for t in types], dtype=float)

    def factors(self, type_category: str | None, lang: str) -> list[str]:
        """The one factor a baseline has: the delay rate it used, and why."""
        if (type_category or "") in self.rate_by_type:
            return [baseline_sentence(type_category, self.rate_by_type[type_category or ""], lang)]
        return [baseline_sentence(None, self.overall, lang)]


def delay_feature_frame(features: pl.DataFrame) -> pl.DataFrame:
    frame = features.drop([c for c in NOT_DELAY_FEATURES if c in features.columns])
    return frame.select([c for c in frame.columns if frame[c].dtype != pl.List(pl.String)])


def delay_training_frame(
    con: duckdb.DuckDBPyConnection, calendar: WorkCalendar, now: datetime | date | None = None
) -> tuple[pl.DataFrame, np.ndarray]:
    """Tasks with a due date whose outcome is known; features as of their start, label = resolved after the due date.

    The outcome is known for a resolved task, and for a task still open after its due date: it will be
    resolved after the due date whatever happens next, so it is a delayed example (label 1). Leaving
    those out would keep only the late tasks that have finished, and the longest delays the least, so
    the model would learn too low a delay rate. Open tasks not yet past due are left out (outcome
    unknown). "Open after its due date" is judged at `now`, by default the last time the warehouse
    saw anything happen (`delay_known_as_of`), a lower bound of when it was last synced.
    """
    as_of_day = (now.date() if isinstance(now, datetime) else now) if now is not None else delay_known_as_of(con)
    examples = pl.from_arrow(con.sql(
        """SELECT task_id, coalesce(started_at, created_at) AS as_of,
                  CASE WHEN resolved_at IS NULL THEN 1 ELSE (resolved_at::DATE > due_date)::INTEGER END AS delayed
           FROM tasks
           WHERE due_date IS NOT NULL AND NOT is_deleted
             AND (resolved_at IS NOT NULL OR due_date < ?::DATE)
             AND coalesce(type_category, '') <> 'epic' AND coalesce(started_at, created_at) IS NOT NULL
           ORDER BY as_of, task_id""", params=[as_of_day]).to_arrow_table())
    if examples.height == 0:
        return pl.DataFrame(), np.zeros(0, dtype=int)
    features = build_features(con, examples.select("task_id", "as_of"), calendar)
    return features, examples["delayed"].to_numpy().astype(int)


def delay_known_as_of(con: duckdb.DuckDBPyConnection) -> date | None:
    """The day up to which the warehouse is known to be current: its latest created / updated / resolved stamp."""
    return con.execute(
        "SELECT greatest(max(created_at), max(updated_at), max(resolved_at))::DATE FROM tasks WHERE NOT is_deleted"
    ).fetchall()[0][0]


def _days(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}".rstrip("0").rstrip(".")


def bound_sentence(model_days: float, bounded_days: float, plan_days: float | None, lang: str) -> str:
    """Why a duration P50 is not the model's: the raw value, the plan it was held to, and the bound used."""
    model_text, bound_text = _days(model_days), _days(bounded_days)
    if plan_days is None or not np.isfinite(plan_days):
        if lang == "en":
            return (f"the duration model said {model_text} working days, far beyond similar tasks' actual "
                    f"durations: held at {bound_text}")
        return f"模型预测工期 {model_text} 个工作日，远超同类任务的实际工期：按 {bound_text} 个工作日计"
    times = model_days / plan_days if plan_days > 0 else float("inf")
    plan_text = _days(plan_days)
    if lang == "en":
        return (f"the duration model said {model_text} working days, {times:.1f}× the {plan_text} the "
                f"estimate implies: held at {bound_text}")
    return (f"模型预测工期 {model_text} 个工作日，是估算所示 {plan_text} 个工作日的 {times:.1f} 倍："
            f"按 {bound_text} 个工作日计")


def _fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute(
        "SELECT count(*), max(updated_at), count(*) FILTER (WHERE resolved_at IS NOT NULL) FROM tasks"
    ).fetchall()[0]
    return hashlib.sha256(repr(row).encode()).hexdigest()[:16]


def train(con: duckdb.DuckDBPyConnection, registry: Path, calendar: WorkCalendar, now: datetime) -> dict[str, ModelMeta]:
    """Train both models on the warehouse's history and store them in the registry."""
    version = new_version(now)
    fingerprint = _fingerprint(con)
    window = con.execute("SELECT min(created_at)::VARCHAR, max(resolved_at)::VARCHAR FROM tasks").fetchall()[0]
    training_window = {"from": window[0], "to": window[1]}
    metas: dict[str, ModelMeta] = {}

    features, y_days = training_frame(con, calendar)
    duration = DurationModel().fit(features, y_days)
    metas["duration"] = ModelMeta(
        "duration", ("baseline-" if duration.fallback_used_ else "") + version, now.isoformat(), training_window,
        {"training_rows": int(len(y_days))}, fingerprint, bool(duration.fallback_used_), duration.reason_ or "",
    )
    save_model(registry, duration, metas["duration"])

    delay_features, y_delay = delay_training_frame(con, calendar)
    enough = len(y_delay) >= MIN_DELAY_EXAMPLES and 0 < y_delay.sum() < len(y_delay)
    notes = f"only {len(y_delay)} resolved tasks with due dates (need {MIN_DELAY_EXAMPLES} with both outcomes)"
    if enough:
        try:
            delay: DelayRiskModel | DelayBaseline = DelayRiskModel().fit(delay_feature_frame(delay_features), y_delay)
            notes = f"{len(y_delay)} resolved tasks with due dates; {delay.calibration_} calibration"
        except ValueError as error:
            enough, notes = False, f"model not trainable on this history ({error}); per-type baseline used"
    if not enough:
        types = delay_features["type_category"].to_list() if delay_features.height else []
        rates: dict[str, list[int]] = {}
        for kind, label in zip(types, y_delay):
            rates.setdefault(kind or "", []).append(int(label))
        overall = float(y_delay.mean()) if len(y_delay) else 0.0
        delay = DelayBaseline({k: float(np.mean(v)) for k, v in rates.items()}, overall)
    metas["delay"] = ModelMeta(
        "delay", ("" if enough else "baseline-") + version, now.isoformat(), training_window,
        {"training_rows": int(len(y_delay)), "delay_rate": float(y_delay.mean()) if len(y_delay) else None,
         **({"calibration": delay.calibration_, "calibration_cv_log_loss": delay.calibration_log_loss_,
             "calibration_cv_brier": delay.calibration_scores_} if isinstance(delay, DelayRiskModel) else {})},
        fingerprint, not enough, notes,
    )
    save_model(registry, delay, metas["delay"])
    return metas


def score(con: duckdb.DuckDBPyConnection, registry: Path, calendar: WorkCalendar, now: datetime) -> list[dict]:
    """Rows for `task_predictions`: every open task, scored as of `now`."""
    duration_entry, delay_entry = latest(registry, "duration"), latest(registry, "delay")
    if duration_entry is None or delay_entry is None:
        train(con, registry, calendar, now)
        duration_entry, delay_entry = latest(registry, "duration"), latest(registry, "delay")
    (duration, duration_meta), (delay, delay_meta) = duration_entry, delay_entry
    open_tasks = pl.from_arrow(con.sql(
        """SELECT task_id, due_date FROM tasks
           WHERE NOT is_deleted AND status_category <> 'done' AND coalesce(type_category, '') <> 'epic'
           ORDER BY task_id""").to_arrow_table())
    if open_tasks.height == 0:
        return []
    as_of = now.replace(tzinfo=None)
    features = build_features(con, open_tasks.select("task_id").with_columns(pl.lit(as_of).alias("as_of")), calendar)
    durations = {r["task_id"]: r for r in duration.predict(features).iter_rows(named=True)}
    has_due = open_tasks["due_date"].is_not_null().to_numpy()
    if isinstance(delay, DelayBaseline):
        probability = delay.predict(features["type_category"].to_list())
    else:
        probability = delay.predict_proba(delay_feature_frame(features))[:, 1]
    probability = np.where(has_due, probability, np.nan)
    explained = set(np.argsort(-np.nan_to_num(probability, nan=-1.0))[:EXPLAINED_TASKS].tolist())
    delay_frame = None if isinstance(delay, DelayBaseline) else delay_feature_frame(features)
    version = f"duration:{duration_meta.version};delay:{delay_meta.version}"
    types = features["type_category"].to_list()
    rows = []
    for i, task_id in enumerate(open_tasks["task_id"].to_list()):
        predicted = durations.get(task_id, {})
        factors: dict[str, list[str]] = {"en": [], "zh": []}
        if has_due[i] and i in explained:
            if delay_frame is not None:
                found = explain(delay, delay_frame.slice(i, 1), k=3, peers=PEERS)
                factors = {lang: sentences(found, lang) for lang in factors}
            else:
                factors = {lang: delay.factors(types[i], lang) for lang in factors}
        if predicted.get("bounded"):
            plan_days = predicted.get("plan_days")
            for lang in factors:
                factors[lang] = [bound_sentence(predicted["model_p50_days"], predicted["bounded_p50_days"],
                                                plan_days, lang), *factors[lang]]
        rows.append({
            "task_id": task_id,
            "predicted_at": as_of,
            "model_version": version,
            "duration_p50_days": predicted.get("duration_p50_days"),
            "duration_p90_days": predicted.get("duration_p90_days"),
            "remaining_p50_days": predicted.get("remaining_p50_days"),
            "remaining_p90_days": predicted.get("remaining_p90_days"),
            "delay_probability": None if np.isnan(probability[i]) else float(probability[i]),
            "top_factors": factors["en"],
            "top_factors_zh": factors["zh"],
        })
    return rows
