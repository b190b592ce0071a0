"""Alert state: which alerts exist, who saw them, what was sent, in the write-back store.

Alerts live beside people's edits (SQLite, WAL) because both the pipeline
(raising, resolving) and the dashboard (acknowledging, muting) write them.
The rules decide what is wrong; this module decides what is *news*:

* an alert is identified by rule + project + task, so re-evaluating the
  same warehouse raises nothing new (de-duplication);
* it is sent again only when it gets worse (higher severity, or its score
  grows by a quarter and at least one unit), when it comes back after being
  resolved, or once when nobody acknowledged it within
  `escalate_after_hours` (then one severity level up);
* an alert is "notified" only after some channel accepted it, so a failed
  delivery is retried by the next evaluation instead of being forgotten;
* during quiet hours only critical alerts go out; the rest wait;
* alerts no longer found are resolved; muted (rule, task) pairs never notify.
Human actions (acknowledge, resolve, mute) are audited like every other edit.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from warehouse.db import WarehouseError, open_edits, utc_now
from warehouse.settings import SEVERITY_ORDER, Settings

STATES = ("new", "acknowledged", "resolved", "muted")
ACTIVE_STATES = ("new", "acknowledged", "muted")
SEVERITIES = tuple(SEVERITY_ORDER)
WORSE_RATIO = 1.25
SYSTEM_ACTOR = "lodestar"


@dataclass(frozen=True)
class FindingRecord:
    """What the rules found, in the shape the store keeps (facts as plain JSON-able data)."""

    alert_id: str
    rule: str
    project_key: str | None
    task_id: str | None
    severity: str
    score: float
    facts: dict[str, Any]
    owner_id: str | None = None
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True)
class Notification:
    """An alert to send now, and why now: new, worse, escalated or reopened."""

    alert: dict[str, Any]
    kind: str
    previous: dict[str, Any] | None = None


@dataclass
class Evaluation:
    notifications: list[Notification] = field(default_factory=list)
    unchanged: int = 0
    muted: int = 0
    quiet: int = 0
    resolved: int = 0
    raised: int = 0


def _row(con: sqlite3.Connection, alert_id: str) -> dict[str, Any] | None:
    con.row_factory = sqlite3.Row
    found = con.execute("SELECT * FROM alerts WHERE alert_id = ?", [alert_id]).fetchone()
    return _decode(dict(found)) if found else None


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    row["facts"] = json.loads(row["facts"]) if row.get("facts") else {}
    row["recipients"] = json.loads(row["recipients"]) if row.get("recipients") else []
    return row


def _bump(severity: str) -> str:
    return SEVERITIES[min(len(SEVERITIES) - 1, SEVERITY_ORDER[severity] + 1)]


def _worse(finding: FindingRecord, alert: dict[str, Any]) -> bool:
    notified_severity = alert.get("notified_severity") or alert["severity"]
    if SEVERITY_ORDER[finding.severity] > SEVERITY_ORDER[notified_severity]:
        return True
    before = alert.get("notified_score")
    if before is None:
        return False
    unit = 0.05 if max(abs(before), abs(finding.score)) <= 1.0 else 1.0
    return finding.score >= before * WORSE_RATIO and finding.score - before >= unit


def in_quiet_hours(quiet_hours: str | None, local_now: datetime) -> bool:
    """`HH:MM-HH:MM` in local time; a window past midnight (22:00-08:00) wraps."""
    if not quiet_hours:
        return False
    start_text, end_text = quiet_hours.split("-")
    start = int(start_text[:2]) * 60 + int(start_text[3:])
    end = int(end_text[:2]) * 60 + int(end_text[3:])
    minute = local_now.hour * 60 + local_now.minute
    return start <= minute < end if start <= end else minute >= start or minute < end


def apply_findings(
    settings: Settings,
    findings: Sequence[FindingRecord],
    now: datetime,
    quiet: bool = False,
) -> Evaluation:
    """Merge one evaluation's findings into the store, in one transaction; returns what to send."""
    result = Evaluation()
    stamp = now.isoformat()
    escalate_after = timedelta(hours=settings.alerts.escalate_after_hours)
    seen: set[str] = set()
    with open_edits(settings) as con:
        con.execute("BEGIN IMMEDIATE")
        try:
            mutes = {(r, t) for r, t in con.execute("SELECT rule, task_id FROM alert_mutes").fetchall()}
            for finding in findings:
                if finding.alert_id in seen:
                    continue
                seen.add(finding.alert_id)
                alert = _row(con, finding.alert_id)
                muted = (finding.rule, finding.task_id or "-") in mutes
                values = {
                    "rule": finding.rule, "project_key": finding.project_key, "task_id": finding.task_id,
                    "score": finding.score, "facts": json.dumps(finding.facts, ensure_ascii=False, default=str),
                    "owner_id": finding.owner_id, "recipients": json.dumps(list(finding.recipients)),
                    "last_seen_at": stamp, "updated_at": stamp,
                }
                kind: str | None = None
                if alert is None:
                    result.raised += 1
                    state, severity, kind = ("muted" if muted else "new"), finding.severity, "new"
                    con.execute(
                        "INSERT INTO alerts (alert_id, severity, state, first_raised_at, " + ", ".join(values)
                        + ") VALUES (?, ?, ?, ?, " + ", ".join("?" for _ in values) + ")",
                        [finding.alert_id, severity, state, stamp, *values.values()],
                    )
                else:
                    severity = alert["severity"] if alert.get("escalated_at") and alert["state"] != "resolved" \
                        else finding.severity
                    if SEVERITY_ORDER[finding.severity] > SEVERITY_ORDER[severity]:
                        severity = finding.severity
                    state = alert["state"]
                    if state == "resolved":
                        state, kind, severity = "new", "reopened", finding.severity
                        result.raised += 1
                        values.update(escalated_at=None, acknowledged_at=None, acknowledged_by=None,
                                      resolved_at=None, resolved_by=None, notified_at=None,
                                      notified_score=None, notified_severity=None)
                    elif alert.get("notified_at") is None:
                        kind = "new"
                    elif _worse(finding, alert):
                        kind = "worse"
                        result.raised += 1
                    elif (state == "new" and not alert.get("escalated_at")
                          and now - datetime.fromisoformat(alert["notified_at"]) >= escalate_after):
                        kind, severity = "escalated", _bump(severity)
                        values["escalated_at"] = stamp
                        result.raised += 1
                    if muted:
                        state = "muted"
                    elif state == "muted":
                        state = "new"
                    sets = {**values, "severity": severity, "state": state}
                    con.execute(
                        "UPDATE alerts SET " + ", ".join(f"{k} = ?" for k in sets) + " WHERE alert_id = ?",
                        [*sets.values(), finding.alert_id],
                    )
                current = _row(con, finding.alert_id)
                if muted:
                    result.muted += 1
                elif kind is None:
                    result.unchanged += 1
                elif quiet and current["severity"] != "critical":
                    result.quiet += 1
                else:
                    result.notifications.append(Notification(current, kind, alert))
            stale = [row[0] for row in con.execute(
                f"SELECT alert_id FROM alerts WHERE state IN ({', '.join('?' for _ in ACTIVE_STATES)})",
                list(ACTIVE_STATES)).fetchall() if row[0] not in seen]
            for alert_id in stale:
                con.execute("UPDATE alerts SET state = 'resolved', resolved_at = ?, resolved_by = ?, updated_at = ? "
                            "WHERE alert_id = ?", [stamp, SYSTEM_ACTOR, stamp, alert_id])
            result.resolved = len(stale)
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    return result


def mark_notified(settings: Settings, alerts: Iterable[dict[str, Any]], now: datetime) -> None:
    """Remember what was sent (score and severity), so only a worse state is sent again."""
    rows = [(now.isoformat(), a["score"], a["severity"], a["alert_id"]) for a in alerts]
    if not rows:
        return
    with open_edits(settings) as con:
        con.execute("BEGIN IMMEDIATE")
        con.executemany("UPDATE alerts SET notified_at = ?, notified_score = ?, notified_severity = ? "
                        "WHERE alert_id = ?", rows)
        con.execute("COMMIT")


def update_facts(settings: Settings, extra: dict[str, dict[str, Any]]) -> None:
    """Add computed facts (impact, re-plan options) to alerts, so the dashboard shows what was sent."""
    with open_edits(settings) as con:
        con.execute("BEGIN IMMEDIATE")
        try:
            for alert_id, facts in extra.items():
                current = _row(con, alert_id)
                if current is None:
                    continue
                merged = {**current["facts"], **facts}
                con.execute("UPDATE alerts SET facts = ? WHERE alert_id = ?",
                            [json.dumps(merged, ensure_ascii=False, default=str), alert_id])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise


def record_deliveries(settings: Settings, deliveries: Sequence[dict[str, Any]]) -> None:
    """Every delivery attempt's outcome, kept so failures show in the dashboard."""
    if not deliveries:
        return
    columns = ("channel", "kind", "project_key", "alert_ids", "ok", "attempts", "status", "error", "sent_at")
    with open_edits(settings) as con:
        con.execute("BEGIN IMMEDIATE")
        con.executemany(
            f"INSERT INTO alert_deliveries ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
            [[json.dumps(d[c]) if c == "alert_ids" else d.get(c) for c in columns] for d in deliveries],
        )
        con.execute("COMMIT")


def list_alerts(settings: Settings, states: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Alerts, worst and newest first; all states unless `states` narrows them."""
    chosen = list(states) if states else list(STATES)
    unknown = [s for s in chosen if s not in STATES]
    if unknown:
        raise WarehouseError(f"unknown alert state(s) {', '.join(unknown)}; expected {', '.join(STATES)}")
    with open_edits(settings) as con:
        con.row_factory = sqlite3.Row
        rows = con.execute(
            f"SELECT * FROM alerts WHERE state IN ({', '.join('?' for _ in chosen)}) "
            "ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, "
            "last_seen_at DESC, alert_id", chosen).fetchall()
    return [_decode(dict(row)) for row in rows]


def list_deliveries(settings: Settings, limit: int = 200) -> list[dict[str, Any]]:
    with open_edits(settings) as con:
        con.row_factory = sqlite3.Row
        rows = con.execute("SELECT * FROM alert_deliveries ORDER BY delivery_id DESC LIMIT ?", [limit]).fetchall()
    return [{**dict(row), "alert_ids": json.loads(row["alert_ids"] or "[]")} for row in rows]


def list_mutes(settings: Settings) -> list[dict[str, Any]]:
    with open_edits(settings) as con:
        con.row_factory = sqlite3.Row
        return [dict(row) for row in con.execute("SELECT * FROM alert_mutes ORDER BY muted_at DESC").fetchall()]


def _audit(con: sqlite3.Connection, actor: str, table: str, key: str, action: str,
           before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    con.execute(
        "INSERT INTO audit_log (edited_at, actor, table_name, row_key, action, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [utc_now().isoformat(), actor, table, key, action,
         json.dumps(before, ensure_ascii=False, default=str) if before else None,
         json.dumps(after, ensure_ascii=False, default=str) if after else None],
    )


def set_alert_state(settings: Settings, alert_id: str, state: str, actor: str) -> dict[str, Any]:
    """Acknowledge or resolve (or reopen) an alert by hand; audited. Returns the updated alert."""
    if state not in ("acknowledged", "resolved", "new"):
        raise WarehouseError(f"an alert can be set to acknowledged, resolved or new, not {state!r}")
    if not actor.strip():
        raise WarehouseError("an edit needs the name of the person making it")
    stamp = utc_now().isoformat()
    with open_edits(settings) as con:
        con.execute("BEGIN IMMEDIATE")
        try:
            before = _row(con, alert_id)
            if before is None:
                raise WarehouseError(f"no alert {alert_id!r}")
            extra = {"acknowledged": {"acknowledged_at": stamp, "acknowledged_by": actor},
                     "resolved": {"resolved_at": stamp, "resolved_by": actor},
                     "new": {}}[state]
            sets = {"state": state, "updated_at": stamp, **extra}
            con.execute("UPDATE alerts SET " + ", ".join(f"{k} = ?" for k in sets) + " WHERE alert_id = ?",
                        [*sets.values(), alert_id])
            after = _row(con, alert_id)
            _audit(con, actor, "alerts", alert_id, state,
                   {"state": before["state"]}, {"state": after["state"], **extra})
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    return after


def mute_rule_for_task(settings: Settings, rule: str, task_id: str, actor: str,
                       project_key: str | None = None, mute: bool = True) -> None:
    """Silence (or un-silence) one rule for one task; its alert turns muted at once; audited."""
    if not actor.strip():
        raise WarehouseError("an edit needs the name of the person making it")
    stamp = utc_now().isoformat()
    key = f"{rule}|{task_id}"
    with open_edits(settings) as con:
        con.execute("BEGIN IMMEDIATE")
        try:
            if mute:
                con.execute("INSERT OR REPLACE INTO alert_mutes VALUES (?, ?, ?, ?, ?)",
                            [rule, task_id, project_key, actor, stamp])
                con.execute("UPDATE alerts SET state = 'muted', updated_at = ? WHERE rule = ? "
                            "AND coalesce(task_id, '-') = ? AND state <> 'resolved'", [stamp, rule, task_id])
                _audit(con, actor, "alert_mutes", key, "insert", None, {"rule": rule, "task_id": task_id})
            else:
                con.execute("DELETE FROM alert_mutes WHERE rule = ? AND task_id = ?", [rule, task_id])
                con.execute("UPDATE alerts SET state = 'new', updated_at = ? WHERE rule = ? "
                            "AND coalesce(task_id, '-') = ? AND state = 'muted'", [stamp, rule, task_id])
                _audit(con, actor, "alert_mutes", key, "delete", {"rule": rule, "task_id": task_id}, None)
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
