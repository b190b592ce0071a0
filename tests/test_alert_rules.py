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


# ----------------------------------------------------- rules that fire, one test each


def _calendar(settings: Settings):
    from models.planning.calendar import WorkCalendar

    return WorkCalendar(settings.calendar.country or None)


def test_due_soon_fires_on_open_tasks_due_within_three_working_days_and_behind(demo_app: Settings) -> None:
    today = date(2026, 6, 15)  # NOW in the calendar's time zone (Shanghai)
    rows = read_frame(demo_app, """
        SELECT t.task_id, t.due_date, t.status_category, t.estimate_hours,
               coalesce(w.hours, t.spent_hours, 0) AS spent
        FROM tasks t LEFT JOIN (SELECT task_id, sum(hours) AS hours FROM worklogs GROUP BY task_id) w USING (task_id)
        WHERE NOT t.is_deleted AND t.status_category <> 'done' AND t.project_key IS NOT NULL AND t.due_date >= ?""",
                      [today])
    calendar = _calendar(demo_app)
    expected = set()
    for row in rows.iter_rows(named=True):
        if calendar.workdays_between(today, row["due_date"]) - 1 > DEFAULTS["due_soon"].days:
            continue
        estimate = row["estimate_hours"] or 0
        progress = min(1.0, row["spent"] / estimate) if estimate > 0 else (
            0.0 if row["status_category"] == "todo" else None)
        if progress is not None and progress < DEFAULTS["due_soon"].threshold:
            expected.add(row["task_id"])
    found = [f for f in _findings(demo_app) if f.rule == "due_soon"]
    assert expected and {f.task_id for f in found} == expected
    assert all(0 <= f.facts["workdays_left"] <= 3 and f.facts["progress"] < 0.5 for f in found)
    assert "due" in describe("due_soon", found[0].facts, "en").title.lower()


def test_baseline_slip_fires_past_the_tolerated_working_days(demo_app: Settings) -> None:
    from warehouse.db import save_baseline

    open_tasks = read_frame(demo_app, """
        SELECT s.task_id, t.project_key, s.early_finish FROM plan_schedule s JOIN tasks t USING (task_id)
        WHERE NOT t.is_deleted AND t.status_category <> 'done' AND s.early_finish IS NOT NULL
        ORDER BY s.task_id LIMIT 2""")
    (slipped, slipped_finish), (held, held_finish) = (
        (r["task_id"], r["early_finish"]) for r in open_tasks.iter_rows(named=True))
    project = open_tasks["project_key"][0]
    assert open_tasks["project_key"][1] == project
    calendar = _calendar(demo_app)
    save_baseline(demo_app, {"baseline_id": "B-1", "project_key": project, "name": "Kick-off",
                             "created_at": datetime(2026, 6, 1), "created_by": "mei"},
                  [{"baseline_id": "B-1", "task_id": slipped, "planned_finish": calendar.add_workdays(slipped_finish, -5)},
                   {"baseline_id": "B-1", "task_id": held, "planned_finish": calendar.add_workdays(held_finish, -2)}],
                  "mei")
    [finding] = [f for f in _findings(demo_app) if f.rule == "baseline_slip"]
    assert (finding.task_id, finding.score, finding.facts["baseline"]) == (slipped, 5.0, "Kick-off")
    assert finding.facts["current_finish"] == slipped_finish.isoformat()


def test_critical_late_fires_on_every_open_critical_task_with_negative_float(demo_app: Settings) -> None:
    expected = read_frame(demo_app, """
        SELECT s.task_id, -s.total_float_days AS late FROM plan_schedule s JOIN tasks t USING (task_id)
        WHERE s.is_critical AND NOT t.is_deleted AND t.status_category <> 'done' AND s.total_float_days < 0""")
    found = {f.task_id: f for f in _findings(demo_app) if f.rule == "critical_late"}
    assert expected.height and set(found) == set(expected["task_id"])
    for row in expected.iter_rows(named=True):
        assert found[row["task_id"]].score == pytest.approx(row["late"])
        assert found[row["task_id"]].severity == "critical"


def test_cycle_time_fires_on_in_progress_tasks_older_than_their_teams_85th_percentile(demo_app: Settings) -> None:
    import polars as pl

    done = read_frame(demo_app, """
        SELECT coalesce(pe.team, t.project_key) AS team, date_diff('hour', t.started_at, t.resolved_at) / 24.0 AS days
        FROM tasks t LEFT JOIN people pe ON pe.person_id = t.assignee_id
        WHERE NOT t.is_deleted AND t.status_category = 'done' AND t.started_at IS NOT NULL
          AND t.outcome IS DISTINCT FROM 'dropped'
          AND t.resolved_at > t.started_at AND t.type_category <> 'epic'""")
    limits = done.group_by("team").agg(pl.col("days").quantile(0.85, "linear").alias("limit"), pl.len().alias("n"))
    active = read_frame(demo_app, """
        SELECT t.task_id, coalesce(pe.team, t.project_key) AS team, t.started_at
        FROM tasks t LEFT JOIN people pe ON pe.person_id = t.assignee_id
        WHERE NOT t.is_deleted AND t.status_category = 'in_progress' AND t.started_at IS NOT NULL
          AND t.type_category <> 'epic'""").join(limits.filter(pl.col("n") >= 5), on="team")
    expected = {row["task_id"] for row in active.iter_rows(named=True)
                if (NOW - row["started_at"]).total_seconds() / 86400 > row["limit"]}
    found = [f for f in _findings(demo_app) if f.rule == "cycle_time"]
    assert expected and {f.task_id for f in found} == expected
    assert all(f.facts["age_days"] > f.facts["limit_days"] and f.facts["percentile"] == 85 for f in found)


def test_budget_burn_fires_below_the_cpi_threshold(empty_settings: Settings) -> None:
    import duckdb

    from warehouse.db import apply_migrations

    path = empty_settings.warehouse.path
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    apply_migrations(con)
    con.execute("INSERT INTO projects (project_key, source, lead_id, currency) VALUES ('OVER', 'jira', 'p1', 'USD'), "
                "('FINE', 'jira', 'p2', NULL), ('NOCOST', 'jira', NULL, NULL)")
    con.execute("""INSERT INTO earned_value (project_key, status_date, bac, ev, ac, cpi, eac, vac, computed_at) VALUES
        ('OVER', '2026-06-12', 1000, 400, 500, 0.8, 1250, -250, '2026-06-15'),
        ('FINE', '2026-06-12', 1000, 400, 380, 1.05, 952, 48, '2026-06-15'),
        ('NOCOST', '2026-06-12', 1000, 400, NULL, NULL, NULL, NULL, '2026-06-15')""")
    findings = [f for f in evaluate_rules(evaluation_context(con, empty_settings, NOW)) if f.rule == "budget_burn"]
    con.close()
    [finding] = findings
    assert (finding.project_key, finding.owner_id, finding.score, finding.facts["cpi"]) == ("OVER", "p1", 0.2, 0.8)
    zh, en = (describe("budget_burn", finding.facts, lang, "OVER") for lang in ("zh", "en"))
    assert "CPI 0.8" in zh.title and "CPI 0.8" in en.title and "OVER" in en.title
    assert "$500" in en.reasons[0] and "¥" not in en.reasons[0], "money in the project's currency"


def test_delay_risk_reasons_use_the_factors_of_the_message_language() -> None:
    facts = {"key": "ERP-1", "title": "x", "probability": 0.9, "due": "2026-06-20",
             "factors": ["open for 148 working days (similar tasks usually 12), which raises the risk"],
             "factors_zh": ["创建至今 148 个工作日（同类任务通常 12 天），推高延期风险"]}
    zh, en = (" ".join(describe("delay_risk", facts, lang, "ERP").reasons) for lang in ("zh", "en"))
    assert "创建至今 148 个工作日" in zh and "open for" not in zh
    assert "open for 148 working days" in en
    older = {k: v for k, v in facts.items() if k != "factors_zh"}
    assert "open for 148" in " ".join(describe("delay_risk", older, "zh", "ERP").reasons), "stored before zh existed"
