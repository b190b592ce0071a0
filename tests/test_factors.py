"""Factors in plain words: a sentence in both languages for every model feature, per-type comparisons,
both columns of `task_predictions` filled, and delay probabilities that are not collapsed onto a few values."""

from __future__ import annotations

import re
from datetime import datetime

import numpy as np
import polars as pl
import pytest

from models.planning.calendar import WorkCalendar
from models.prediction.delay import MIN_PEERS, DelayRiskModel, Factor, _choose_calibration, explain
from models.prediction.duration import DurationModel
from models.prediction.factors import SENTENCES, base_feature, sentence, sentences
from models.prediction.features import (
    CATEGORICAL_FEATURES,
    LIST_FEATURES,
    NUMERIC_FEATURES,
    TEXT_FEATURE,
    build_features,
)
from models.prediction.scoring import delay_feature_frame, score
from tests import test_duration, test_features
from tests.test_features import QUERY, WEEKENDS_ONLY, story
from warehouse.load import rows_to_arrow

warehouse = test_features.warehouse
demo_warehouse = test_features.demo_warehouse

# A value and a typical value each feature can take, to render every sentence; flags and missing values are
# rendered separately. Units: working days, hours, counts, shares, ratios, ranks, dates (days since 1970).
SAMPLES: dict[str, tuple[object, object]] = {
    "type_category": ("bug", "feature"), "priority": ("Blocker", "Major"), "status_at": ("In Review", "In Progress"),
    "status_category_at": ("todo", "in_progress"), "labels": (["api"], None), "components": (["core"], None),
    "text": ("", None), "priority_rank": (1.0, 3.0), "due_date": (20_500.0, 20_100.0), "days_to_due": (-3.0, 4.0),
    "assignee_on_time_rate": (0.5, 0.8), "reporter_delay_rate": (0.4, 0.1), "worklog_to_estimate": (1.5, 0.2),
    "age_to_p50": (3.2, 0.4), "age_to_p85": (1.6, 0.2),
}
FLAGS = ("has_assignee", "has_due_date", "is_started", "is_done")


def model_features(con) -> set[str]:
    """Every feature the two models read: the delay model's input frame and the duration model's design columns."""
    delay = set(delay_feature_frame(build_features(con, QUERY, WEEKENDS_ONLY)).columns)
    frame, y = test_duration.synthetic(150)
    duration = DurationModel(**test_duration.FAST).fit(frame, y)
    design = {base_feature(name) for name in duration.feature_names_}
    declared = {*NUMERIC_FEATURES, *CATEGORICAL_FEATURES, *LIST_FEATURES, TEXT_FEATURE}
    assert {"labels", "text", "estimate_hours"} <= design and "due_date" in delay
    return delay | design | declared


def test_every_model_feature_has_a_sentence_in_both_languages(warehouse):
    features = model_features(warehouse(story()))
    missing = sorted(f for f in features if f not in SENTENCES)
    assert missing == [], f"features without a sentence: {missing}"
    column_name = re.compile(r"[a-z]+_[a-z0-9_]+")
    for feature in sorted(features):
        template = SENTENCES[feature]
        forms = ("yes", "no") if feature in FLAGS else ("value", "missing")
        assert template.unit == "flag" if feature in FLAGS else template.unit != "flag", feature
        for lang in ("en", "zh"):
            words = getattr(template, lang)
            assert all(words.get(form) for form in forms), (feature, lang)
        value, typical = SAMPLES.get(feature, (7.0, 2.0))
        cases = [Factor(feature, 1.0, 0.0, 0.2, "type_category"), Factor(feature, 0.0, 1.0, -0.2, None)] \
            if feature in FLAGS else [Factor(feature, value, typical, 0.2, "type_category"),
                                      Factor(feature, None, typical, -0.2, None)]
        for factor in cases:
            en, zh = sentence(factor, "en"), sentence(factor, "zh")
            for text in (en, zh):
                assert text and not column_name.search(text), (feature, text)
            assert re.search(r"[\u4e00-\u9fff]", zh) and not re.search(r"[\u4e00-\u9fff]", en), (feature, en, zh)
            assert en.endswith(("raises the risk", "lowers the risk")) and zh.endswith(("推高延期风险", "降低延期风险"))


def test_sentences_say_values_units_and_the_comparison():
    def both(feature, value, typical, peers="type_category", effect=0.1):
        found = [Factor(feature, value, typical, effect, peers)]
        return sentences(found, "en")[0], sentences(found, "zh")[0]

    assert both("estimate_hours", 69.0, 8.6) == (
        "estimated 69 h, 8× the typical task of this type, which raises the risk",
        "估算 69 小时，是同类任务典型值的 8 倍，推高延期风险")
    assert both("active_workdays", 148.0, 12.0) == (
        "in progress for 148 working days (similar tasks usually 12), which raises the risk",
        "已进行 148 个工作日（同类任务通常 12 天），推高延期风险")
    assert both("active_workdays", 1.0, 12.0, None, -0.1) == (
        "in progress for 1 working day (other tasks usually 12), which lowers the risk",
        "已进行 1 个工作日（其他任务通常 12 天），降低延期风险")
    assert both("estimate_hours", 10.0, 8.0)[0] == "estimated 10 h (similar tasks usually 8 h), which raises the risk"
    assert both("estimate_hours", None, 8.0)[1] == "没有估算（同类任务通常 8 小时），推高延期风险"
    assert both("days_to_due", -1.0, 4.0)[0].startswith("overdue by 1 working day (similar tasks usually due in 4")
    assert both("days_to_due", 0.0, 2.0)[1].startswith("今天截止（同类任务通常距截止还有 2 个工作日）")
    assert both("story_points", 1.0, 3.0)[0].startswith("1 story point (")
    assert both("comments_n", 2.0, 1.0)[0].startswith("2 comments (similar tasks usually 1)")
    assert both("blockers_n", 1.0, 0.0)[0].startswith("blocked by 1 task (")
    assert both("has_assignee", 0.0, 1.0)[0] == "no assignee, unlike most similar tasks, which raises the risk"
    assert both("type_category", "bug", "feature", None)[0] == (
        "it is a bug (most tasks are features), which raises the risk")
    assert both("priority_rank", 1.0, 3.0)[1].startswith("优先级等级为最高（同类任务通常为中）")
    assert both("due_date", 0.0, 1.0)[0].startswith("due on 1970-01-01 (similar tasks usually due around 1970-01-02)")
    assert sentences([Factor("not_a_feature", 1.0, 2.0, 0.1)], "en") == []
    with pytest.raises(ValueError, match="lang"):
        sentence(Factor("estimate_hours", 1.0, 2.0, 0.1), "fr")


def delay_frame(n: int = 600, seed: int = 5) -> tuple[pl.DataFrame, np.ndarray]:
    """Bugs are small and features large; a task is late when it is large *for its type*."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(["bug", "feature", "task"], n, p=[0.48, 0.48, 0.04])
    typical = np.where(kind == "bug", 4.0, np.where(kind == "feature", 40.0, 10.0))
    estimate = np.round(typical * rng.lognormal(0.0, 0.5, n))
    late = rng.random(n) < 1 / (1 + np.exp(-3.0 * np.log(estimate / typical)))
    frame = pl.DataFrame({"type_category": kind, "estimate_hours": estimate, "comments_n": rng.poisson(2, n) * 1.0})
    return frame, late.astype(int)


def test_explanations_compare_with_tasks_of_the_same_type():
    X, y = delay_frame()
    model = DelayRiskModel(estimator="hgb", calibration="sigmoid").fit(X, y)
    bug_median = float(X.filter(pl.col("type_category") == "bug")["estimate_hours"].median())
    assert model.peer_reference_["type_category"]["bug"]["estimate_hours"] == bug_median
    assert "task" not in model.peer_reference_["type_category"]  # fewer than MIN_PEERS tasks
    assert (X["type_category"] == "task").sum() < MIN_PEERS
    row = pl.DataFrame({"type_category": ["bug"], "estimate_hours": [30.0], "comments_n": [2.0]})
    first = explain(model, row, k=3, peers="type_category")[0]
    assert (first.feature, first.value, first.typical) == ("estimate_hours", 30.0, bug_median)
    assert first.peers == "type_category"
    assert first.effect > 0
    large_feature = row.with_columns(pl.lit("feature").alias("type_category"), pl.lit(90.0).alias("estimate_hours"))
    overall = explain(model, large_feature, k=3)
    assert overall and all(f.peers is None and f.typical == model.reference_[f.feature] for f in overall)
    lone = explain(model, row.with_columns(pl.lit("task").alias("type_category")), k=3, peers="type_category")
    assert all(f.peers is None for f in lone)
    assert "the typical task of this type" in sentence(first, "en")


def test_auto_calibration_is_smooth_unless_isotonic_is_clearly_better():
    rng = np.random.default_rng(0)
    raw = rng.random(400)
    honest = (rng.random(400) < raw).astype(int)
    method, brier_scores, log_loss = _choose_calibration(raw, honest, 0)
    assert method == "sigmoid" and set(brier_scores) == set(log_loss) == {"sigmoid", "isotonic"}
    # Scores that map onto outcomes as a step, which no sigmoid follows: isotonic regression is clearly better.
    raw = rng.random(4000)
    step = (rng.random(4000) < np.where(raw < 0.5, 0.05, 0.95)).astype(int)
    assert _choose_calibration(raw, step, 0)[0] == "isotonic"

    X, y = delay_frame(2000, seed=11)
    model = DelayRiskModel(estimator="hgb").fit(X, y)
    losses = model.calibration_log_loss_
    assert set(losses) == set(model.calibration_scores_) == {"sigmoid", "isotonic"}
    assert model.calibration_ == "sigmoid" or losses["isotonic"] < losses["sigmoid"]
    smooth = DelayRiskModel(estimator="hgb", calibration="sigmoid").fit(X, y)
    p = smooth.predict_proba(X)[:, 1]
    assert len(np.unique(np.round(p, 4))) >= len(np.unique(np.round(smooth.raw_proba(X), 4))) - 5


def test_baseline_predictions_explain_themselves_in_both_languages(warehouse, tmp_path):
    con = warehouse(story())
    rows = score(con, tmp_path / "models", WEEKENDS_ONLY, datetime(2024, 3, 13, 12, 0))
    t1 = next(r for r in rows if r["task_id"] == "t:T1")
    assert t1["model_version"].split(";")[1].startswith("delay:baseline-")
    # T1's 1.25-day estimate holds the baseline's 9.5 working days to 3x the plan, and the first factor says so.
    assert t1["top_factors"] == [
        "the duration model said 9.5 working days, 7.6× the 1.2 the estimate implies: held at 3.8",
        "too little history for the model yet: 33% of past tasks with a due date finished late"]
    assert t1["top_factors_zh"] == [
        "模型预测工期 9.5 个工作日，是估算所示 1.2 个工作日的 7.6 倍：按 3.8 个工作日计",
        "历史数据不足，暂按历史延期比例估计：过去有截止日期的任务中 33% 延期完成"]
    table = rows_to_arrow(con, "task_predictions", rows)
    assert table.schema.field("top_factors_zh").type == table.schema.field("top_factors").type
    con.register("_rows", table)
    con.execute("INSERT INTO task_predictions SELECT * FROM _rows")
    stored = con.execute("SELECT top_factors_zh FROM task_predictions WHERE task_id = 't:T1'").fetchall()[0][0]
    assert stored == t1["top_factors_zh"]


@pytest.mark.slow
def test_demo_company_factors_are_sentences_and_probabilities_are_not_collapsed(demo_warehouse, tmp_path):
    rows = score(demo_warehouse, tmp_path / "models", WorkCalendar("CN"), datetime(2026, 6, 15, 12, 0))
    probabilities = np.array([r["delay_probability"] for r in rows if r["delay_probability"] is not None])
    assert probabilities.size > 100
    values, counts = np.unique(np.round(probabilities, 4), return_counts=True)
    assert values.size > 0.5 * probabilities.size and counts.max() < 0.1 * probabilities.size
    assert 0.0 < probabilities.min() and probabilities.max() < 1.0
    explained = [r for r in rows if r["top_factors"]]
    assert len(explained) > 50
    names = set(SENTENCES) | {"_n", "_rate", "_workdays"}
    for r in explained:
        held = r["top_factors"][0].startswith("the duration model said")
        assert held == r["top_factors_zh"][0].startswith("模型预测工期")
        assert len(r["top_factors"]) == len(r["top_factors_zh"]) <= 3 + held
        for text in r["top_factors"] + r["top_factors_zh"]:
            assert not any(name in text for name in names if "_" in name), text
    assert any("similar tasks" in text for r in explained for text in r["top_factors"])
    assert any("同类任务" in text for r in explained for text in r["top_factors_zh"])
    held = [r for r in explained if r["top_factors"][0].startswith("the duration model said")]
    assert held, "a duration held to the plan's bound says so as its first factor"
    for r in held:
        assert re.search(r"held at [0-9.]+$", r["top_factors"][0]), r["top_factors"][0]
