"""The alerts inbox: stored alerts worded in the reader's language, filters, and the delivery log.

Alerts are read straight from the write-back store (not the snapshot), so an
acknowledgement or a new evaluation shows on the next rerun.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from models.alerts.rules import RULES
from models.alerts.text import describe
from warehouse.alert_store import list_alerts, list_deliveries
from warehouse.settings import Settings

SEVERITIES = ("critical", "warning", "info")
STATES = ("new", "acknowledged", "muted", "resolved")
ACTIVE = ("new", "acknowledged")
ALERT_COLUMNS = ("alert_id", "severity", "state", "project_key", "rule", "title", "why", "impact", "options",
                 "owner_id", "first_raised_at", "notified_at", "task_id")


@dataclass(frozen=True)
class AlertFilter:
    states: tuple[str, ...] = ACTIVE
    severities: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()


def _timestamp(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def alert_frame(settings: Settings, lang: str, chosen: AlertFilter) -> pl.DataFrame:
    """Alerts matching the filter, one row each, with what/why/impact/options in `lang`."""
    rows: list[dict[str, Any]] = []
    for alert in list_alerts(settings, list(chosen.states) or None):
        if chosen.severities and alert["severity"] not in chosen.severities:
            continue
        if chosen.projects and alert["project_key"] not in chosen.projects:
            continue
        if chosen.rules and alert["rule"] not in chosen.rules:
            continue
        text = describe(alert["rule"], alert["facts"], lang, alert["project_key"])
        rows.append({
            "alert_id": alert["alert_id"], "severity": alert["severity"], "state": alert["state"],
            "project_key": alert["project_key"], "rule": alert["rule"], "title": text.title,
            "why": "; ".join(text.reasons), "impact": text.impact, "options": "; ".join(text.options) or None,
            "owner_id": alert["owner_id"], "first_raised_at": _timestamp(alert["first_raised_at"]),
            "notified_at": _timestamp(alert["notified_at"]), "task_id": alert["task_id"],
        })
    schema = {c: pl.String for c in ALERT_COLUMNS} | {"first_raised_at": pl.Datetime("us"),
                                                       "notified_at": pl.Datetime("us")}
    return pl.DataFrame(rows, schema=schema)


def counts(settings: Settings) -> dict[str, int]:
    """Open alerts by state and severity, for the metric row."""
    alerts = list_alerts(settings, list(ACTIVE))
    return {
        "new": sum(a["state"] == "new" for a in alerts),
        "acknowledged": sum(a["state"] == "acknowledged" for a in alerts),
        "critical": sum(a["severity"] == "critical" for a in alerts),
    }


def delivery_frame(settings: Settings, limit: int = 200) -> pl.DataFrame:
    rows = [{**d, "alerts": len(d["alert_ids"]), "ok": bool(d["ok"]), "sent_at": _timestamp(d["sent_at"])}
            for d in list_deliveries(settings, limit)]
    schema = {"sent_at": pl.Datetime("us"), "channel": pl.String, "kind": pl.String, "project_key": pl.String,
              "alerts": pl.Int64, "ok": pl.Boolean, "attempts": pl.Int64, "status": pl.String, "error": pl.String}
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)


def recent_failures(deliveries: pl.DataFrame, now: datetime, hours: float = 24) -> pl.DataFrame:
    """Failed deliveries of the last `hours`: shown as a banner so a broken channel is never silent."""
    return deliveries.filter(~pl.col("ok") & (pl.col("sent_at") >= now - timedelta(hours=hours)))


def rule_choices() -> Sequence[str]:
    return RULES


def label_key(kind: str, value: str) -> str:
    """The i18n key naming a severity, state or rule; the overdue rule says "Overdue" like the risk register."""
    return "common.overdue" if (kind, value) == ("rule", "overdue") else f"alerts.{kind}.{value}"
