"""Alert rules: what in the warehouse deserves a project manager's attention today.

Each rule is one SQL query over the published snapshot (with people's edits
overlaid) that returns findings: which task or project, how bad (`score`,
in the rule's own unit, so "worse" can be judged), and the facts a message
needs, kept as data so the text can be written in any language later.

Every rule can be switched off, re-thresholded, re-graded or given
recipients per project through `[[alerts.rules]]`; the defaults are below.

Dates outside the calendar's span (`models.planning.bounds`, 1900-2200) are
not dates anyone planned: the rules that count working days from a due date
or a baseline skip them (`out_of_range_due_dates` counts them for the run's
report), so one such task never stops the evaluation of every project.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import duckdb

from models.planning.bounds import MAX_DATE, MIN_DATE
from warehouse.settings import Settings

RULES = (
    "overdue", "due_soon", "baseline_slip", "critical_late", "delay_risk", "cycle_time",
    "blocked", "budget_burn", "risk_overdue", "sync_health",
)


@dataclass(frozen=True)
class RuleConfig:
    """A rule's settings for one project. `threshold` and `days` mean what the rule's doc says."""

    enabled: bool = True
    severity: str = "warning"
    threshold: float | None = None
    days: float | None = None
    recipients: tuple[str, ...] = ()


DEFAULTS: dict[str, RuleConfig] = {
    # days: grace days past the due date
    "overdue": RuleConfig(severity="warning", days=0),
    # days: working days before the due date; threshold: progress (spent/estimate) below which it alerts
    "due_soon": RuleConfig(severity="warning", days=3, threshold=0.5),
    # days: working days of slip against the latest baseline that are tolerated
    "baseline_slip": RuleConfig(severity="warning", days=2),
    # days: negative float (working days) tolerated on critical-path tasks
    "critical_late": RuleConfig(severity="critical", days=0),
    # threshold: predicted delay probability
    "delay_risk": RuleConfig(severity="warning", threshold=0.8),
    # threshold: percentile of the team's cycle time an in-progress task may reach
    "cycle_time": RuleConfig(severity="info", threshold=0.85),
    # days: calendar days a task may sit in a blocked status
    "blocked": RuleConfig(severity="warning", days=2),
    # threshold: CPI below which cost burn is ahead of earned value
    "budget_burn": RuleConfig(severity="warning", threshold=0.95),
    # threshold: risk score (probability × impact) at or above which an overdue risk alerts
    "risk_overdue": RuleConfig(severity="critical", threshold=15),
    # days: hours are taken from each source's max_staleness_hours; nothing to set
    "sync_health": RuleConfig(severity="critical"),
}

BLOCKED_STATUS_PATTERN = r"(?i)block|阻塞|受阻|挂起|impediment|on hold"
BLOCKED_LABELS = ["blocked", "Blocked", "flagged", "Flagged", "impediment", "阻塞"]


def rule_config(settings: Settings, rule: str, project_key: str | None) -> RuleConfig:
    """The defaults, overridden in file order by every `[[alerts.rules]]` entry naming this project or "*"."""
    config = DEFAULTS[rule]
    for entry in settings.alerts.rules:
        if entry.rule != rule:
            continue
        if "*" not in entry.projects and (project_key is None or project_key not in entry.projects):
            continue
        changes: dict[str, Any] = {}
        for name in ("enabled", "severity", "threshold", "days"):
            value = getattr(entry, name)
            if value is not None:
                changes[name] = value
        if entry.recipients is not None:
            changes["recipients"] = tuple(entry.recipients)
        config = replace(config, **changes)
    return config


@dataclass(frozen=True)
class Finding:
    """One thing wrong, before any decision about notifying."""

    rule: str
    project_key: str | None
    task_id: str | None
    severity: str
    score: float
    facts: dict[str, Any] = field(default_factory=dict)
    owner_id: str | None = None
    recipients: tuple[str, ...] = ()

    @property
    def alert_id(self) -> str:
        """Stable identity: the same rule on the same task is the same alert, run after run."""
        return f"{self.rule}:{self.project_key or '-'}:{self.task_id or '-'}"


@dataclass(frozen=True)
class EvaluationContext:
    con: duckdb.DuckDBPyConnection
    settings: Settings
    today: date
    now: datetime
    workdays_between: Callable[[date, date], int]
    add_workdays: Callable[[date, int], date]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> list[dict[str, Any]]:
    """All rows at once on `con` itself: a cursor would be a new connection without the live-edit views."""
    result = con.execute(sql, params or [])
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, row)) for row in result.fetchall()]


OPEN_TASKS = """
SELECT t.task_id, t.project_key, t.source_key, t.title, t.type_category, t.status, t.status_category,
       coalesce(p.assignee_id, t.assignee_id) AS owner_id, t.due_date, t.started_at, t.created_at,
       coalesce(p.estimate_hours, t.estimate_hours) AS estimate_hours,
       coalesce(w.hours, t.spent_hours, 0) AS spent_hours
FROM tasks t
LEFT JOIN plan_tasks p USING (task_id)
LEFT JOIN (SELECT task_id, sum(hours) AS hours FROM worklogs GROUP BY task_id) w USING (task_id)
WHERE NOT t.is_deleted AND t.status_category <> 'done' AND t.project_key IS NOT NULL
"""


IN_SPAN = f"BETWEEN DATE '{MIN_DATE.isoformat()}' AND DATE '{MAX_DATE.isoformat()}'"
"""SQL condition for a date the working calendar can count with."""


def out_of_range_due_dates(con: duckdb.DuckDBPyConnection) -> int:
    """Open tasks whose due date the overdue and due-soon rules skip (outside 1900-2200)."""
    return _rows(con, f"SELECT count(*) AS n FROM ({OPEN_TASKS}) WHERE due_date NOT {IN_SPAN}")[0]["n"]


def _task_facts(row: dict[str, Any]) -> dict[str, Any]:
    return {"key": row.get("source_key") or row["task_id"], "title": row.get("title") or ""}


def _overdue(ctx: EvaluationContext, config_of) -> Iterable[Finding]:
    for row in _rows(ctx.con, OPEN_TASKS + f" AND t.due_date < ? AND t.due_date {IN_SPAN}", [ctx.today]):
        config = config_of(row["project_key"])
        late = (ctx.today - row["due_date"]).days
        if late <= (config.days or 0):
            continue
        yield Finding("overdue", row["project_key"], row["task_id"], config.severity, float(late),
                      {**_task_facts(row), "due": row["due_date"].isoformat(), "days_late": late,
                       "workdays_late": ctx.workdays_between(row["due_date"], ctx.today) - 1},
                      row["owner_id"], config.recipients)


def _due_soon(ctx: EvaluationContext, config_of) -> Iterable[Finding]:
    horizon = ctx.add_workdays(ctx.today, 10)
    for row in _rows(ctx.con, OPEN_TASKS + " AND t.due_date >= ? AND t.due_date <= ?", [ctx.today, horizon]):
        config = config_of(row["project_key"])
        workdays_left = ctx.workdays_between(ctx.today, row["due_date"]) - 1
        if workdays_left > (config.days or 0):
            continue
        estimate = row["estimate_hours"] or 0.0
        progress = min(1.0, row["spent_hours"] / estimate) if estimate > 0 else (
            0.0 if row["status_category"] == "todo" else None)
        if progress is None or progress >= (config.threshold or 0.0):
            continue
        yield Finding("due_soon", row["project_key"], row["task_id"], config.severity,
                      round(1.0 - progress, 3),
                      {**_task_facts(row), "due": row["due_date"].isoformat(), "workdays_left": workdays_left,
                       "progress": round(progress, 3), "status": row["status"]},
                      row["owner_id"], config.recipients)


def _baseline_slip(ctx: EvaluationContext, config_of) -> Iterable[Finding]:
    sql = f"""
    WITH latest AS (
        SELECT project_key, arg_max(baseline_id, created_at) AS baseline_id, arg_max(name, created_at) AS name
        FROM baselines GROUP BY project_key)
    SELECT t.task_id, t.project_key, t.source_key, t.title, coalesce(p.assignee_id, t.assignee_id) AS owner_id,
           b.planned_finish AS baseline_finish, l.name AS baseline_name,
           coalesce(s.early_finish, p.planned_finish, t.planned_finish) AS current_finish
    FROM latest l
    JOIN baseline_tasks b USING (baseline_id)
    JOIN tasks t ON t.task_id = b.task_id AND t.project_key = l.project_key
    LEFT JOIN plan_tasks p ON p.task_id = t.task_id
    LEFT JOIN plan_schedule s ON s.task_id = t.task_id
    WHERE NOT t.is_deleted AND t.status_category <> 'done' AND b.planned_finish {IN_SPAN}
    """
    for row in _rows(ctx.con, sql):
        current = row["current_finish"]
        if current is None or current <= row["baseline_finish"] or current > MAX_DATE:
            continue
        config = config_of(row["project_key"])
        slip = ctx.workdays_between(row["baseline_finish"], current) - 1
        if slip <= (config.days or 0):
            continue
        yield Finding("baseline_slip", row["project_key"], row["task_id"], config.severity, float(slip),
                      {**_task_facts(row), "baseline": row["baseline_name"],
                       "baseline_finish": row["baseline_finish"].isoformat(), "current_finish": current.isoformat(),
                       "slip_workdays": slip}, row["owner_id"], config.recipients)


def _critical_late(ctx: EvaluationContext, config_of) -> Iterable[Finding]:
    sql = """
    SELECT t.task_id, t.project_key, t.source_key, t.title, coalesce(p.assignee_id, t.assignee_id) AS owner_id,
           s.early_finish, s.late_finish, s.total_float_days, f.finish_p85, f.due_date AS project_due
    FROM plan_schedule s
    JOIN tasks t USING (task_id)
    LEFT JOIN plan_tasks p USING (task_id)
    LEFT JOIN project_forecasts f ON f.project_key = s.project_key
    WHERE s.is_critical AND NOT t.is_deleted AND t.status_category <> 'done' AND s.total_float_days < 0
    """
    for row in _rows(ctx.con, sql):
        config = config_of(row["project_key"])
        late = -float(row["total_float_days"])
        if late <= (config.days or 0):
            continue
        yield Finding("critical_late", row["project_key"], row["task_id"], config.severity, late,
                      {**_task_facts(row), "late_workdays": int(late) if late.is_integer() else round(late, 1),
                       "early_finish": _iso(row["early_finish"]), "late_finish": _iso(row["late_finish"]),
                       "project_p85": _iso(row["finish_p85"]), "project_due": _iso(row["project_due"])},
                      row["owner_id"], config.recipients)


def _delay_risk(ctx: EvaluationContext, config_of) -> Iterable[Finding]:
    sql = OPEN_TASKS.replace("FROM tasks t", ", pr.delay_probability, pr.top_factors, pr.top_factors_zh, "
                             "pr.remaining_p50_days, "
                             "pr.remaining_p90_days FROM tasks t JOIN task_predictions pr USING (task_id)")
    for row in _rows(ctx.con, sql + " AND pr.delay_probability IS NOT NULL"):
        config = config_of(row["project_key"])
        probability = float(row["delay_probability"])
        if probability < (config.threshold if config.threshold is not None else 1.1):
            continue
        yield Finding("delay_risk", row["project_key"], row["task_id"], config.severity, round(probability, 3),
                      {**_task_facts(row), "probability": round(probability, 3),
                       "factors": list(row["top_factors"] or []), "factors_zh": list(row["top_factors_zh"] or []),
                       "due": _iso(row["due_date"]),
                       "remaining_p50_days": row["remaining_p50_days"], "remaining_p90_days": row["remaining_p90_days"]},
                      row["owner_id"], config.recipients)


def _cycle_time(ctx: EvaluationContext, config_of) -> Iterable[Finding]:
    """Teams differ, so the bar is each team's own history (the project's when a task has no team)."""
    sql = """
    WITH done AS (
        SELECT coalesce(pe.team, t.project_key) AS team_key, t.project_key,
               date_diff('hour', t.started_at, t.resolved_at) / 24.0 AS days
        FROM tasks t LEFT JOIN people pe ON pe.person_id = t.assignee_id
        WHERE NOT t.is_deleted AND t.status_category = 'done' AND t.started_at IS NOT NULL
          AND t.outcome IS DISTINCT FROM 'dropped'
          AND t.resolved_at > t.started_at AND t.type_category <> 'epic'),
    teams AS (SELECT team_key, quantile_cont(days, ?) AS limit_days, count(*) AS n FROM done GROUP BY team_key)
    SELECT t.task_id, t.project_key, t.source_key, t.title, t.assignee_id AS owner_id, t.started_at,
           coalesce(pe.team, t.project_key) AS team_key, m.limit_days, m.n
    FROM tasks t LEFT JOIN people pe ON pe.person_id = t.assignee_id
    JOIN teams m ON m.team_key = coalesce(pe.team, t.project_key)
    WHERE NOT t.is_deleted AND t.status_category = 'in_progress' AND t.started_at IS NOT NULL
      AND t.type_category <> 'epic' AND m.n >= 5
    """
    percentile = DEFAULTS["cycle_time"].threshold
    for row in _rows(ctx.con, sql, [percentile]):
        config = config_of(row["project_key"])
        age = (ctx.now - row["started_at"]).total_seconds() / 86400
        if age <= row["limit_days"]:
            continue
        yield Finding("cycle_time", row["project_key"], row["task_id"], config.severity, round(age, 1),
                      {**_task_facts(row), "age_days": round(age, 1), "limit_days": round(row["limit_days"], 1),
                       "team": row["team_key"], "percentile": round(percentile * 100)},
                      row["owner_id"], config.recipients)


def _blocked(ctx: EvaluationContext, config_of) -> Iterable[Finding]:
    sql = """
    SELECT t.task_id, t.project_key, t.source_key, t.title, t.status, t.assignee_id AS owner_id,
           coalesce((SELECT max(c.changed_at) FROM status_changes c WHERE c.task_id = t.task_id
                     AND c.to_status = t.status), t.updated_at) AS blocked_since
    FROM tasks t
    WHERE NOT t.is_deleted AND t.status_category <> 'done'
      AND (regexp_matches(t.status, ?) OR list_has_any(coalesce(t.labels, []), ?))
    """
    for row in _rows(ctx.con, sql, [BLOCKED_STATUS_PATTERN, BLOCKED_LABELS]):
        config = config_of(row["project_key"])
        since = row["blocked_since"]
        days = (ctx.now - since).total_seconds() / 86400 if since else 0.0
        if days <= (config.days or 0):
            continue
        yield Finding("blocked", row["project_key"], row["task_id"], config.severity, round(days, 1),
                      {**_task_facts(row), "status": row["status"], "days": round(days, 1),
                       "since": _iso(since)}, row["owner_id"], config.recipients)


def _budget_burn(ctx: EvaluationContext, config_of) -> Iterable[Finding]:
    sql = """SELECT e.project_key, e.cpi, e.ac, e.ev, e.bac, e.eac, e.vac, e.status_date, pr.lead_id, pr.currency
             FROM earned_value e LEFT JOIN projects pr USING (project_key) WHERE e.cpi IS NOT NULL"""
    for row in _rows(ctx.con, sql):
        config = config_of(row["project_key"])
        if row["cpi"] >= (config.threshold or 0.0):
            continue
        yield Finding("budget_burn", row["project_key"], None, config.severity, round(1.0 - row["cpi"], 3),
                      {"cpi": round(row["cpi"], 3), "ac": row["ac"], "ev": row["ev"], "bac": row["bac"],
                       "currency": row["currency"] or "CNY",
                       "eac": row["eac"], "vac": row["vac"], "status_date": _iso(row["status_date"])},
                      row["lead_id"], config.recipients)


def _risk_overdue(ctx: EvaluationContext, config_of) -> Iterable[Finding]:
    sql = """SELECT risk_id, project_key, title, score, owner_id, due_date, status FROM risks
             WHERE due_date < ? AND coalesce(status, 'open') NOT IN ('closed', 'occurred')"""
    for row in _rows(ctx.con, sql, [ctx.today]):
        config = config_of(row["project_key"])
        score = row["score"] or 0
        if score < (config.threshold or 0):
            continue
        yield Finding("risk_overdue", row["project_key"], f"risk:{row['risk_id']}", config.severity, float(score),
                      {"key": row["risk_id"], "title": row["title"], "score": score, "due": _iso(row["due_date"]),
                       "days_late": (ctx.today - row["due_date"]).days}, row["owner_id"], config.recipients)


def _sync_health(ctx: EvaluationContext, config_of) -> Iterable[Finding]:
    """A source that failed, or whose last success is older than its own staleness window."""
    config = config_of(None)
    windows = {source.name: source.max_staleness_hours for source in ctx.settings.sources if source.enabled}
    state = {row["source"]: row for row in _rows(
        ctx.con, "SELECT source, max(last_success_at) AS last_success_at, max(last_attempt_at) AS last_attempt_at, "
                 "any_value(last_error ORDER BY last_attempt_at DESC) AS last_error FROM sync_state GROUP BY source")}
    for source, window in sorted(windows.items()):
        row = state.get(source)
        last = row["last_success_at"] if row else None
        hours = (ctx.now - last).total_seconds() / 3600 if last else None
        failed = bool(row and row["last_error"] and (last is None or row["last_attempt_at"] > last))
        if not failed and hours is not None and hours <= window:
            continue
        yield Finding("sync_health", None, f"source:{source}", config.severity,
                      round(hours, 1) if hours is not None else 1e6,
                      {"key": source, "source": source, "hours": None if hours is None else round(hours, 1),
                       "window_hours": window, "error": (row or {}).get("last_error"), "failed": failed},
                      None, config.recipients)


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


RULE_FUNCTIONS = {
    "overdue": _overdue, "due_soon": _due_soon, "baseline_slip": _baseline_slip, "critical_late": _critical_late,
    "delay_risk": _delay_risk, "cycle_time": _cycle_time, "blocked": _blocked, "budget_burn": _budget_burn,
    "risk_overdue": _risk_overdue, "sync_health": _sync_health,
}


def evaluate_rules(ctx: EvaluationContext) -> list[Finding]:
    """Every enabled rule's findings for every project, worst first within a rule."""
    findings: list[Finding] = []
    for rule in RULES:
        cache: dict[str | None, RuleConfig] = {}

        def config_of(project_key: str | None, rule: str = rule, cache: dict = cache) -> RuleConfig:
            if project_key not in cache:
                cache[project_key] = rule_config(ctx.settings, rule, project_key)
            return cache[project_key]

        found = [f for f in RULE_FUNCTIONS[rule](ctx, config_of) if config_of(f.project_key).enabled]
        findings.extend(sorted(found, key=lambda f: (-f.score, f.alert_id)))
    return findings


def evaluation_context(con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime) -> EvaluationContext:
    """`now` is naive UTC like every warehouse timestamp; `today` is the calendar time zone's date."""
    from zoneinfo import ZoneInfo

    from models.planning.calendar import WorkCalendar

    calendar = WorkCalendar.from_settings(settings)
    local_today = (now.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(settings.calendar.timezone))).date()
    return EvaluationContext(
        con=con, settings=settings, today=local_today, now=now,
        workdays_between=lambda a, b: int(calendar.workdays_between(a, b)),
        add_workdays=lambda start, n: calendar.add_workdays(start, n),
    )
