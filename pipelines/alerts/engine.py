"""One alert evaluation: rules → store (what is news) → impact and options → channels → delivery log.

Shared by `lodestar alerts run`, the Dagster sensor that runs after every
sync, and the daily digest schedule, so all three behave the same.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from models.alerts.rules import Finding, evaluate_rules, evaluation_context, out_of_range_due_dates
from models.planning.bounds import MAX_DATE, MIN_DATE
from models.alerts.text import describe, say, state_note
from pipelines.alerts.channels import AlertMessage, DeliveryResult, deliver
from warehouse.alert_store import (
    FindingRecord,
    Notification,
    apply_findings,
    in_quiet_hours,
    list_alerts,
    mark_notified,
    record_deliveries,
    update_facts,
)
from warehouse.db import open_reader, utc_now
from warehouse.settings import SEVERITY_ORDER, AlertChannel, Settings

log = logging.getLogger(__name__)

# Impact and re-plan options re-run CPM a few times per alert; beyond this many
# per project and run, alerts link to the dashboard instead.
ENRICH_LIMIT_PER_PROJECT = 25
PAGE_OF_RULE = {
    "overdue": "gantt", "due_soon": "gantt", "baseline_slip": "gantt", "critical_late": "gantt",
    "delay_risk": "forecast", "cycle_time": "kanban", "blocked": "kanban", "budget_burn": "",
    "risk_overdue": "risks", "sync_health": "alerts",
}
TASK_RULES = {"overdue", "due_soon", "baseline_slip", "critical_late", "delay_risk", "blocked", "cycle_time"}


@dataclass
class ChannelReport:
    name: str
    kind: str
    raised: int = 0
    delivered: int = 0
    suppressed: int = 0
    failed: int = 0


@dataclass
class AlertRunReport:
    findings: int
    raised: int
    notified: int
    unchanged: int
    muted: int
    quiet: int
    resolved: int
    channels: list[ChannelReport] = field(default_factory=list)
    deliveries: list[DeliveryResult] = field(default_factory=list)
    skipped_due_dates: int = 0
    """Open tasks whose due date is outside 1900-2200, which the date rules skip."""
    impact_errors: dict[str, str] = field(default_factory=dict)
    """Projects whose alerts went out without impact and options, with the first error."""

    @property
    def failed(self) -> bool:
        return any(not d.ok for d in self.deliveries)


Deliver = Callable[..., DeliveryResult]


def _record(finding: Finding) -> FindingRecord:
    return FindingRecord(finding.alert_id, finding.rule, finding.project_key, finding.task_id, finding.severity,
                         finding.score, finding.facts, finding.owner_id, finding.recipients)


def _slip_days(rule: str, facts: Mapping[str, Any]) -> float:
    """How far the task is (or is predicted to be) late, in working days, for the impact calculation."""
    if rule == "overdue":
        return max(1.0, float(facts.get("workdays_late") or 1))
    if rule == "critical_late":
        return max(1.0, float(facts.get("late_workdays") or 1))
    if rule == "baseline_slip":
        return max(1.0, float(facts.get("slip_workdays") or 1))
    if rule == "delay_risk":
        p50, p90 = facts.get("remaining_p50_days") or 0.0, facts.get("remaining_p90_days") or 0.0
        return max(1.0, round(p90 - p50))
    return 2.0


def _enrich(settings: Settings, notifications: Sequence[Notification],
            now: datetime) -> tuple[dict[str, dict], dict[str, str]]:
    """Impact on milestones and the project end, and the planning engine's re-plan options, per alert.

    Also returns the projects where that failed, with the first error: such an alert goes
    out without impact, and the other alerts and projects are not affected.
    """
    from models.planning.calendar import WorkCalendar
    from models.planning.impact import replan_options, slip_impact
    from models.planning.warehouse_plan import load_plans

    wanted: dict[str, list[dict]] = defaultdict(list)
    worst_first = sorted(notifications, key=lambda n: (-SEVERITY_ORDER[n.alert["severity"]], -(n.alert["score"] or 0)))
    for note in worst_first:
        alert = note.alert
        if alert["rule"] in TASK_RULES and alert["project_key"] and alert["task_id"]:
            if len(wanted[alert["project_key"]]) < ENRICH_LIMIT_PER_PROJECT:
                wanted[alert["project_key"]].append(alert)
    if not wanted:
        return {}, {}
    calendar = WorkCalendar.from_settings(settings)
    status_date = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(settings.calendar.timezone)).date()
    enriched: dict[str, dict] = {}
    errors: dict[str, str] = {}
    try:
        with open_reader(settings, live_edits=True) as con:
            plans = load_plans(con, status_date, calendar.workdays_between, sorted(wanted))
    except Exception as error:  # impact is a nicety; the alerts go out without it
        log.exception("no plans for alert impact")
        return {}, {key: f"plans not loaded: {error}" for key in wanted}
    for project_key, alerts in wanted.items():
        plan = plans.get(project_key)
        if plan is None:
            continue
        ids = {t.task_id for t in plan.tasks if not t.is_summary}
        for alert in alerts:
            if alert["task_id"] not in ids:
                continue
            slip = _slip_days(alert["rule"], alert["facts"])
            try:
                impact = slip_impact(plan, calendar, alert["task_id"], slip)
                options = replan_options(plan, calendar, alert["task_id"], slip)
            except Exception as error:  # one task's impact never holds back the others
                log.warning("no impact for %s: %s", alert["alert_id"], error)
                errors.setdefault(project_key, f"{alert['task_id']}: {error}")
                continue
            enriched[alert["alert_id"]] = {
                "impact": {
                    "slip": slip,
                    "delay": impact.project_delay_days,
                    "old_end": impact.old_project_finish.isoformat(),
                    "new_end": impact.new_project_finish.isoformat(),
                    "milestones": [
                        {"name": m.task_id, "old": m.old_finish.isoformat(), "new": m.new_finish.isoformat()}
                        for m in impact.milestones
                    ],
                },
                "options": [_option_facts(o) for o in options],
            }
    return enriched, errors


def _option_facts(option) -> dict[str, Any]:
    helper = None
    if option.kind == "reassign":
        helper = next((c.new.split(" at ")[0] for c in option.changes if c.what == "assignment"), None)
    return {"kind": option.kind, "finish": option.project_finish.isoformat(),
            "recovered": round(option.recovered_days, 1), "helper": helper}


def _people(settings: Settings) -> dict[str, str]:
    try:
        with open_reader(settings) as con:
            return dict(con.execute("SELECT person_id, display_name FROM people").fetchall())
    except Exception as error:  # a name is a nicety; never block an alert on it
        log.warning("people unavailable for alert messages: %s", error)
        return {}


def alert_message(alert: Mapping[str, Any], lang: str, settings: Settings, people: Mapping[str, str],
                  kind: str | None = None, previous: Mapping[str, Any] | None = None) -> AlertMessage:
    """One stored alert as a channel message in `lang` (what, why, impact, who, options, link)."""
    facts = alert["facts"]
    text = describe(alert["rule"], facts, lang, alert["project_key"])
    note = None
    if kind == "worse" and previous is not None:
        note = state_note("worse", lang, before=_score_text(previous.get("notified_score")),
                          after=_score_text(alert["score"]))
    elif kind == "escalated":
        hours = settings.alerts.escalate_after_hours
        note = state_note("escalated", lang, hours=f"{hours:g}")
    elif kind == "reopened":
        note = state_note("reopened", lang)
    page = PAGE_OF_RULE.get(alert["rule"], "alerts")
    base = settings.alerts.dashboard_url.rstrip("/")
    url = f"{base}/{page}" + (f"?project={alert['project_key']}" if alert["project_key"] else "")
    owner = alert.get("owner_id")
    recipients = alert.get("recipients") or []
    who = ", ".join([people.get(owner, owner)] if owner else []) or None
    if recipients:
        who = ", ".join(filter(None, [who, *recipients]))
    return AlertMessage(
        alert_id=alert["alert_id"], rule=alert["rule"], severity=alert["severity"],
        project_key=alert["project_key"] or "", task_id=alert["task_id"], task_key=facts.get("key"),
        title=text.title, reasons=text.reasons, impact=text.impact, owner=who, options=text.options,
        url=url, state_note=note,
    )


def _score_text(score: float | None) -> str:
    if score is None:
        return "—"
    return f"{score:.0%}" if 0 <= score <= 1 else f"{score:g}"


def _deliver_grouped(
    settings: Settings,
    channel: AlertChannel,
    grouped: Mapping[str, list[tuple[dict, str | None, dict | None]]],
    heading_key: str,
    people: Mapping[str, str],
    environ: Mapping[str, str],
    deliver_fn: Deliver,
) -> list[tuple[DeliveryResult, str, list[dict]]]:
    out = []
    for project_key, items in sorted(grouped.items()):
        messages = [alert_message(a, channel.language, settings, people, kind, prev) for a, kind, prev in items]
        heading = say(heading_key, channel.language, project=project_key or "Lodestar", count=len(items))
        result = deliver_fn(channel, messages, heading, environ=environ)
        out.append((result, project_key, [a for a, _, _ in items]))
        if not result.ok:
            log.error("alert delivery to %s (%s) failed after %s attempt(s): %s",
                      channel.name, channel.kind, result.attempts, result.error)
    return out


def run_alerts(
    settings: Settings,
    now: datetime | None = None,
    environ: Mapping[str, str] | None = None,
    deliver_fn: Deliver = deliver,
) -> AlertRunReport:
    """Evaluate every rule on the published warehouse, store, send what is news, log every delivery."""
    now = now or utc_now()
    environ = os.environ if environ is None else environ
    with open_reader(settings, live_edits=True) as con:
        findings = evaluate_rules(evaluation_context(con, settings, now))
        skipped = out_of_range_due_dates(con)
    if skipped:
        log.warning("%s open task(s) have a due date outside %s..%s; the date rules skip them",
                    skipped, MIN_DATE, MAX_DATE)
    local_now = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(settings.calendar.timezone))
    quiet = in_quiet_hours(settings.alerts.quiet_hours, local_now)
    evaluation = apply_findings(settings, [_record(f) for f in findings], now, quiet=quiet)
    extra, impact_errors = _enrich(settings, evaluation.notifications, now)
    if extra:
        update_facts(settings, extra)
    notifications = [
        Notification({**n.alert, "facts": {**n.alert["facts"], **extra.get(n.alert["alert_id"], {})}},
                     n.kind, n.previous)
        for n in evaluation.notifications
    ]
    people = _people(settings)
    report = AlertRunReport(len(findings), evaluation.raised, len(notifications), evaluation.unchanged,
                            evaluation.muted, evaluation.quiet, evaluation.resolved,
                            skipped_due_dates=skipped, impact_errors=impact_errors)
    accepted: dict[str, dict] = {}
    covered_any: set[str] = set()
    log_rows: list[dict[str, Any]] = []
    for channel in settings.alerts.channels:
        row = ChannelReport(channel.name, channel.kind)
        grouped: dict[str, list] = defaultdict(list)
        for note in notifications:
            alert = note.alert
            if channel.covers(alert["project_key"], alert["severity"]):
                grouped[alert["project_key"] or ""].append((alert, note.kind, note.previous))
                covered_any.add(alert["alert_id"])
        row.raised = sum(len(items) for items in grouped.values())
        row.suppressed = sum(1 for f in findings if channel.covers(f.project_key, f.severity)) - row.raised
        row.suppressed = max(0, row.suppressed)
        for result, project_key, alerts in _deliver_grouped(settings, channel, grouped, "alert.heading", people,
                                                            environ, deliver_fn):
            report.deliveries.append(result)
            log_rows.append(_log_row(result, channel, "alert", project_key, alerts))
            if result.ok:
                row.delivered += len(alerts)
                accepted.update({a["alert_id"]: a for a in alerts})
            else:
                row.failed += len(alerts)
        report.channels.append(row)
    record_deliveries(settings, log_rows)
    # Alerts no channel takes are "handled" (they show on the dashboard); covered
    # ones count as sent only once some channel accepted them.
    handled = [n.alert for n in notifications
               if n.alert["alert_id"] in accepted or n.alert["alert_id"] not in covered_any]
    mark_notified(settings, handled, now)
    return report


def digest_due(settings: Settings, project_key: str | None, now: datetime, calendar) -> bool:
    """Is it the digest hour on a working day where this project's team is (its time zone, else the calendar's)?"""
    zone = next((p.timezone for p in settings.projects if p.key == project_key and p.timezone), None)
    local = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(zone or settings.calendar.timezone))
    return local.hour == settings.alerts.digest_hour and bool(calendar.is_workday(local.date()))


def run_digest(
    settings: Settings,
    now: datetime | None = None,
    environ: Mapping[str, str] | None = None,
    deliver_fn: Deliver = deliver,
    force: bool = False,
) -> AlertRunReport:
    """Each project's open alerts as one message per channel.

    Run hourly: a project gets its digest when it is `digest_hour` on a
    working day in its own time zone, so teams in different zones each get
    theirs at the start of their day; `force` sends every project's now.
    """
    from models.planning.calendar import WorkCalendar

    now = now or utc_now()
    environ = os.environ if environ is None else environ
    calendar = WorkCalendar.from_settings(settings)
    open_alerts = [a for a in list_alerts(settings, ["new", "acknowledged"])
                   if force or digest_due(settings, a["project_key"], now, calendar)]
    report = AlertRunReport(len(open_alerts), 0, 0, 0, 0, 0, 0)
    people = _people(settings)
    log_rows = []
    for channel in settings.alerts.channels:
        row = ChannelReport(channel.name, channel.kind)
        grouped: dict[str, list] = defaultdict(list)
        for alert in open_alerts:
            if channel.covers(alert["project_key"], alert["severity"]):
                grouped[alert["project_key"] or ""].append((alert, None, None))
        row.raised = sum(len(items) for items in grouped.values())
        for result, project_key, alerts in _deliver_grouped(settings, channel, grouped, "digest.heading", people,
                                                            environ, deliver_fn):
            report.deliveries.append(result)
            log_rows.append(_log_row(result, channel, "digest", project_key, alerts))
            if result.ok:
                row.delivered += len(alerts)
            else:
                row.failed += len(alerts)
        report.channels.append(row)
    record_deliveries(settings, log_rows)
    return report


def _log_row(result: DeliveryResult, channel: AlertChannel, kind: str, project_key: str,
             alerts: list[dict]) -> dict[str, Any]:
    sent_at = result.sent_at or utc_now()
    if sent_at.tzinfo is not None:
        sent_at = sent_at.astimezone(timezone.utc).replace(tzinfo=None)
    return {"channel": channel.name, "kind": kind, "project_key": project_key or None,
            "alert_ids": [a["alert_id"] for a in alerts], "ok": 1 if result.ok else 0,
            "attempts": result.attempts, "status": None if result.status is None else str(result.status),
            "error": result.error, "sent_at": sent_at.isoformat()}


def format_report(report: AlertRunReport) -> str:
    """The CLI's summary: totals, then one line per channel."""
    lines = [
        f"evaluated {report.findings} findings: {report.raised} raised, {report.notified} to send, "
        f"{report.unchanged} unchanged, {report.muted} muted, {report.quiet} held for quiet hours, "
        f"{report.resolved} resolved",
        f"{'channel':<24} {'kind':<9} {'raised':>7} {'delivered':>10} {'suppressed':>11} {'failed':>7}",
    ]
    for c in report.channels:
        lines.append(f"{c.name:<24} {c.kind:<9} {c.raised:>7} {c.delivered:>10} {c.suppressed:>11} {c.failed:>7}")
    if not report.channels:
        lines.append("(no [[alerts.channels]] configured: alerts are stored and shown on the dashboard only)")
    if report.skipped_due_dates:
        lines.append(f"{report.skipped_due_dates} open task(s) have a due date outside {MIN_DATE}..{MAX_DATE}: "
                     "the overdue and due-soon rules skip them")
    for project_key, error in sorted(report.impact_errors.items()):
        lines.append(f"no impact for {project_key}'s alerts: {error}")
    for d in report.deliveries:
        if not d.ok:
            lines.append(f"FAILED {d.channel}: {d.error} (after {d.attempts} attempt(s))")
    return "\n".join(lines)
