"""Alert rules on the demo snapshot with people's edits overlaid: each rule fires on what it should."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from models.alerts.rules import DEFAULTS, evaluate_rules, evaluation_context, rule_config
from models.alerts.text import describe
from warehouse.db import open_reader, read_frame, save_edit
from warehouse.settings import Settings, load_settings

NOW = datetime(2026, 6, 15, 2, 0)  # 10:00 in Shanghai, the demo's as-of day


def _findings(settings: Settings, now: datetime = NOW):
    with open_reader(settings, live_edits=True) as con:
        return evaluate_rules(evaluation_context(con, settings, now))


def test_overdue_findings_match_sql_and_read_in_both_languages(demo_app: Settings) -> None:
    findings = [f for f in _findings(demo_app) if f.rule == "overdue"]
    expected = read_frame(demo_app, "SELECT task_id FROM tasks WHERE NOT is_deleted AND status_category <> 'done' "
                                    "AND project_key IS NOT NULL AND due_date < ?", [date(2026, 6, 15)])
    assert {f.task_id for f in findings} == set(expected["task_id"]) and findings
    worst = findings[0]
    assert worst.score == max(f.score for f in findings)
    zh, en = (describe(worst.rule, worst.facts, lang, worst.project_key) for lang in ("zh", "en"))
    assert "逾期" in zh.title and "overdue" in en.title and worst.facts["key"] in en.title


def test_a_risk_saved_a_moment_ago_is_seen(demo_app: Settings) -> None:
    save_edit(demo_app, "risks", {"risk_id": "R-1", "project_key": "ERP", "title": "Vendor freeze", "probability": 4,
                                  "impact": 4, "score": 16, "status": "open", "due_date": date(2026, 6, 1)}, "mei")
    [risk] = [f for f in _findings(demo_app) if f.rule == "risk_overdue"]
    assert (risk.task_id, risk.score, risk.facts["days_late"]) == ("risk:R-1", 16.0, 14)


def test_delay_risk_threshold_and_per_project_overrides(demo_app: Settings, tmp_path) -> None:
    probabilities = read_frame(demo_app, "SELECT p.delay_probability FROM task_predictions p JOIN tasks t "
                                         "USING (task_id) WHERE t.status_category <> 'done'")["delay_probability"]
    default = [f for f in _findings(demo_app) if f.rule == "delay_risk"]
    assert len(default) == int((probabilities >= DEFAULTS["delay_risk"].threshold).sum())

    config = tmp_path / "override.toml"
    config.write_text(demo_app.config_path.read_text(encoding="utf-8") + (
        '\n[[alerts.rules]]\nrule = "delay_risk"\nthreshold = 0.5\nseverity = "critical"\n'
        '\n[[alerts.rules]]\nrule = "delay_risk"\nprojects = ["ERP"]\nenabled = false\n'
        '\n[[alerts.rules]]\nrule = "overdue"\nprojects = ["DP"]\ndays = 10000\n'), encoding="utf-8")
    settings = load_settings(config)
    settings.warehouse = demo_app.warehouse
    assert rule_config(settings, "delay_risk", "ERP").enabled is False
    assert rule_config(settings, "delay_risk", "DP").threshold == 0.5
    found = _findings(settings)
    risky = [f for f in found if f.rule == "delay_risk"]
    assert risky and all(f.project_key != "ERP" and f.severity == "critical" for f in risky)
    assert not [f for f in found if f.rule == "overdue" and f.project_key == "DP"]


def test_blocked_and_sync_health(demo_app: Settings) -> None:
    assert not [f for f in _findings(demo_app) if f.rule in ("blocked", "sync_health")]
    stale = [f for f in _findings(demo_app, NOW + timedelta(days=400)) if f.rule == "sync_health"]
    assert [f.task_id for f in stale] == ["source:demo"] and stale[0].facts["hours"] > 24
    assert "not syncing" in describe("sync_health", stale[0].facts, "en").title


@pytest.mark.parametrize("rule", sorted(DEFAULTS))
def test_every_rule_has_words_in_both_languages(rule: str) -> None:
    from models.alerts.text import TEXT

    assert f"{rule}.title" in TEXT and all(set(TEXT[k]) == {"zh", "en"} for k in TEXT if k.startswith(rule))
