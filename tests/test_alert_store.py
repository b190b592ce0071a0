"""Alert state rules: de-duplication, worse, escalation, reopening, quiet hours, mutes, audit."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from warehouse.alert_store import (
    FindingRecord,
    apply_findings,
    in_quiet_hours,
    list_alerts,
    mark_notified,
    mute_rule_for_task,
    set_alert_state,
)
from warehouse.db import WarehouseError, edit_rows
from warehouse.settings import Settings

T0 = datetime(2026, 11, 20, 9, 0)


def finding(score: float = 3.0, severity: str = "warning", task: str = "t1", rule: str = "overdue") -> FindingRecord:
    return FindingRecord(f"{rule}:P:{task}", rule, "P", task, severity, score, {"key": task, "days_late": score})


def notify_all(settings: Settings, evaluation, now: datetime) -> list[str]:
    mark_notified(settings, [n.alert for n in evaluation.notifications], now)
    return [f"{n.kind}:{n.alert['alert_id']}" for n in evaluation.notifications]


def test_same_finding_twice_notifies_once(empty_settings: Settings) -> None:
    first = apply_findings(empty_settings, [finding()], T0)
    assert notify_all(empty_settings, first, T0) == ["new:overdue:P:t1"] and first.raised == 1
    second = apply_findings(empty_settings, [finding(3.5)], T0 + timedelta(hours=1))
    assert second.notifications == [] and second.unchanged == 1 and second.raised == 0


def test_undelivered_alert_is_offered_again(empty_settings: Settings) -> None:
    apply_findings(empty_settings, [finding()], T0)
    again = apply_findings(empty_settings, [finding()], T0 + timedelta(hours=1))
    assert [n.kind for n in again.notifications] == ["new"] and again.raised == 0


def test_worse_score_or_severity_re_raises(empty_settings: Settings) -> None:
    notify_all(empty_settings, apply_findings(empty_settings, [finding(4)], T0), T0)
    small = apply_findings(empty_settings, [finding(4.9)], T0 + timedelta(hours=1))
    assert small.notifications == []
    worse = apply_findings(empty_settings, [finding(5)], T0 + timedelta(hours=2))
    assert [n.kind for n in worse.notifications] == ["worse"]
    assert worse.notifications[0].previous["notified_score"] == 4
    notify_all(empty_settings, worse, T0 + timedelta(hours=2))
    graver = apply_findings(empty_settings, [finding(5, "critical")], T0 + timedelta(hours=3))
    assert [n.kind for n in graver.notifications] == ["worse"]


def test_probability_scores_need_five_points_and_a_quarter(empty_settings: Settings) -> None:
    notify_all(empty_settings, apply_findings(empty_settings, [finding(0.6, rule="delay_risk")], T0), T0)
    assert apply_findings(empty_settings, [finding(0.7, rule="delay_risk")], T0).notifications == []
    assert [n.kind for n in apply_findings(empty_settings, [finding(0.76, rule="delay_risk")], T0).notifications] \
        == ["worse"]


def test_unacknowledged_alert_escalates_once_one_level_up(empty_settings: Settings) -> None:
    hours = empty_settings.alerts.escalate_after_hours
    notify_all(empty_settings, apply_findings(empty_settings, [finding()], T0), T0)
    before = apply_findings(empty_settings, [finding()], T0 + timedelta(hours=hours - 1))
    assert before.notifications == []
    late = T0 + timedelta(hours=hours)
    escalated = apply_findings(empty_settings, [finding()], late)
    assert [(n.kind, n.alert["severity"]) for n in escalated.notifications] == [("escalated", "critical")]
    notify_all(empty_settings, escalated, late)
    assert apply_findings(empty_settings, [finding()], late + timedelta(hours=3 * hours)).notifications == []
    assert list_alerts(empty_settings)[0]["severity"] == "critical"


def test_acknowledged_alert_does_not_escalate_but_worse_still_notifies(empty_settings: Settings) -> None:
    notify_all(empty_settings, apply_findings(empty_settings, [finding()], T0), T0)
    set_alert_state(empty_settings, "overdue:P:t1", "acknowledged", "mei")
    later = T0 + timedelta(days=5)
    assert apply_findings(empty_settings, [finding()], later).notifications == []
    assert [n.kind for n in apply_findings(empty_settings, [finding(10)], later).notifications] == ["worse"]
    assert list_alerts(empty_settings)[0]["state"] == "acknowledged"


def test_gone_findings_resolve_and_come_back_reopened(empty_settings: Settings) -> None:
    notify_all(empty_settings, apply_findings(empty_settings, [finding(), finding(task="t2")], T0), T0)
    gone = apply_findings(empty_settings, [finding()], T0 + timedelta(hours=1))
    assert gone.resolved == 1
    states = {a["alert_id"]: (a["state"], a["resolved_by"]) for a in list_alerts(empty_settings)}
    assert states["overdue:P:t2"] == ("resolved", "lodestar")
    back = apply_findings(empty_settings, [finding(), finding(task="t2")], T0 + timedelta(hours=2))
    assert [(n.kind, n.alert["alert_id"]) for n in back.notifications] == [("reopened", "overdue:P:t2")]


def test_quiet_hours_hold_all_but_critical(empty_settings: Settings) -> None:
    held = apply_findings(empty_settings, [finding(), finding(severity="critical", task="t2")], T0, quiet=True)
    assert held.quiet == 1 and [n.alert["alert_id"] for n in held.notifications] == ["overdue:P:t2"]
    notify_all(empty_settings, held, T0)
    after = apply_findings(empty_settings, [finding(), finding(severity="critical", task="t2")], T0 + timedelta(hours=9))
    assert [n.alert["alert_id"] for n in after.notifications] == ["overdue:P:t1"]


@pytest.mark.parametrize(("window", "hour", "expected"), [
    ("22:00-08:00", 23, True), ("22:00-08:00", 7, True), ("22:00-08:00", 8, False), ("22:00-08:00", 12, False),
    ("12:00-13:30", 13, True), ("12:00-13:30", 14, False), (None, 3, False),
])
def test_quiet_hours_windows(window, hour, expected) -> None:
    assert in_quiet_hours(window, datetime(2026, 11, 20, hour, 10)) is expected


def test_mute_silences_a_rule_for_one_task_and_is_audited(empty_settings: Settings) -> None:
    notify_all(empty_settings, apply_findings(empty_settings, [finding(), finding(task="t2")], T0), T0)
    mute_rule_for_task(empty_settings, "overdue", "t1", "mei", "P")
    muted = apply_findings(empty_settings, [finding(50), finding(task="t2")], T0 + timedelta(days=3))
    assert muted.muted == 1 and [n.alert["alert_id"] for n in muted.notifications] == ["overdue:P:t2"]
    assert {a["alert_id"]: a["state"] for a in list_alerts(empty_settings)}["overdue:P:t1"] == "muted"
    mute_rule_for_task(empty_settings, "overdue", "t1", "mei", "P", mute=False)
    assert {a["alert_id"]: a["state"] for a in list_alerts(empty_settings)}["overdue:P:t1"] == "new"
    audit = [(r["actor"], r["table_name"], r["action"]) for r in edit_rows(empty_settings, "audit_log")]
    assert audit == [("mei", "alert_mutes", "insert"), ("mei", "alert_mutes", "delete")]


def test_state_changes_are_validated_and_audited(empty_settings: Settings) -> None:
    apply_findings(empty_settings, [finding()], T0)
    with pytest.raises(WarehouseError, match="muted"):
        set_alert_state(empty_settings, "overdue:P:t1", "muted", "mei")
    with pytest.raises(WarehouseError, match="no alert"):
        set_alert_state(empty_settings, "nope", "resolved", "mei")
    with pytest.raises(WarehouseError, match="name"):
        set_alert_state(empty_settings, "overdue:P:t1", "resolved", " ")
    resolved = set_alert_state(empty_settings, "overdue:P:t1", "resolved", "mei")
    assert (resolved["state"], resolved["resolved_by"]) == ("resolved", "mei")
    [entry] = edit_rows(empty_settings, "audit_log")
    assert (entry["actor"], entry["row_key"], entry["action"]) == ("mei", "overdue:P:t1", "resolved")
