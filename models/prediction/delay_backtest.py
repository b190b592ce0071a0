"""Rolling-origin calibration of the delay probability, for `lodestar eval forecasts`.

Examples are the product's own (``scoring.delay_training_frame``): every work item with a due date
whose outcome is known, features as of its start, label 1 when it is resolved after the due date. That
includes items still open past their due date: they are late whatever happens next.

Every ``REFIT_DAYS`` (8 weeks) from 8 weeks after the first start, a ``DelayRiskModel`` is trained on
the examples that had started before that origin *and whose label was known by then*
(`label_known_at`): an item resolved on time is known on its resolution day, a late one on the day
after its due date, resolved or not. Counting late items only once resolved (the earlier rule) kept
the longest delays out of every training set and made the model under-predict: on the demo company it
said 0.03 for tasks that were late 22 % of the time. No label, feature or calibration step uses
anything after the origin; the model's own holdout (its calibration and threshold) is the newest part
of that training set. The model then scores the examples that start in the next 8 weeks; their labels
are the ones known at the end of the data (open items not yet due are not scored: no outcome yet).

Reported over all scored examples together: Brier score, ECE (10 equal-width bins, weighted by count)
and the reliability-diagram bins (`reliability`). With few examples the ECE is noisy: even perfectly
calibrated probabilities show an ECE of a few hundredths on 100 items.

The due date used is the one the warehouse holds now (it keeps no history of due dates), as in the
labels the product trains on.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import numpy as np
import polars as pl

from models.planning.calendar import WorkCalendar

REFIT_DAYS = 56
ECE_BINS = 10
MIN_DELAY_TRAIN = 40
MAX_DELAY_TRAIN = 5000


def _days(values) -> np.ndarray:
    return np.asarray(values, dtype="datetime64[D]")


def label_known_at(tasks: pl.DataFrame, task_ids) -> np.ndarray:
    """The day each task's delay label became known: its resolution day when resolved on time, else the day
    after its due date (open past the due date means delayed, whenever it is resolved). NaT without a due date."""
    resolved = dict(zip(tasks["task_id"], tasks["resolved"], strict=True))
    due = dict(zip(tasks["task_id"], tasks["due_date"], strict=True))
    ids = list(task_ids)
    done = _days([resolved.get(t) for t in ids])
    late = _days([due.get(t) for t in ids]) + np.timedelta64(1, "D")
    return np.where(np.isnat(done), late, np.minimum(done, late))


def training_rows(as_of: np.ndarray, known: np.ndarray, origin: np.datetime64) -> np.ndarray:
    """Examples a model trained at `origin` may use: started before it, outcome known by then."""
    return np.flatnonzero((as_of < origin) & ~np.isnat(known) & (known <= origin))


def rolling_windows(as_of: np.ndarray, known: np.ndarray) -> Iterator[tuple[np.datetime64, np.ndarray, np.ndarray]]:
    """(origin, training rows, test rows) every `REFIT_DAYS` from `REFIT_DAYS` after the first start to the
    last day a label became known; windows without test rows are skipped. Rows are indices into `as_of`
    (each example's prediction time, its start) and `known` (`label_known_at`), in their order."""
    step = np.timedelta64(REFIT_DAYS, "D")
    if as_of.size == 0 or np.isnat(known).all():
        return
    origin, last = as_of.min() + step, known[~np.isnat(known)].max()
    while origin <= last:
        test = np.flatnonzero((as_of >= origin) & (as_of < origin + step))
        if test.size:
            yield origin, training_rows(as_of, known, origin), test
        origin += step


def reliability(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> tuple[float, list[dict]]:
    """ECE over ``bins`` equal-width bins (weighted by count) and the reliability-diagram bins."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    ece, table = 0.0, []
    for b in range(bins):
        mask = which == b
        n = int(mask.sum())
        row = {"low": float(edges[b]), "high": float(edges[b + 1]), "n": n,
               "mean_predicted": float(p[mask].mean()) if n else None,
               "observed_rate": float(y[mask].mean()) if n else None}
        if n:
            ece += n / y.size * abs(row["mean_predicted"] - row["observed_rate"])
        table.append(row)
    return float(ece), table


def delay_calibration(con: duckdb.DuckDBPyConnection, tasks: pl.DataFrame, calendar: WorkCalendar) -> dict:
    from models.prediction.delay import DelayRiskModel
    from models.prediction.scoring import delay_feature_frame, delay_training_frame

    keys = tasks["project_key"].unique().to_list()
    features, y = delay_training_frame(con, calendar)
    if features.height == 0:
        return {"n": 0}
    keep = features["project_key"].is_in(keys).to_numpy()
    features, y = features.filter(pl.Series(keep)), y[keep]
    known = label_known_at(tasks, features["task_id"])
    as_of = features["as_of"].to_numpy().astype("datetime64[D]")
    frame = delay_feature_frame(features)
    probs, labels, windows = [], [], 0
    for _origin, train, test in rolling_windows(as_of, known):
        if train.size < MIN_DELAY_TRAIN or y[train].min() == y[train].max():
            continue
        train = train[-MAX_DELAY_TRAIN:]
        try:
            model = DelayRiskModel().fit(frame[train], y[train])
        except ValueError:
            continue
        probs.append(model.predict_proba(frame[test])[:, 1])
        labels.append(y[test])
        windows += 1
    if not probs:
        return {"n": 0}
    p, yy = np.concatenate(probs), np.concatenate(labels)
    ece, bins = reliability(yy, p)
    return {"n": int(yy.size), "windows": windows, "delay_rate": float(yy.mean()),
            "brier": float(np.mean((p - yy) ** 2)), "ece": ece, "reliability": bins}
