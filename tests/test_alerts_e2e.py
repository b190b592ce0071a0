"""Alerts end to end on the demo company: rules → store → every channel's real loopback receiver.

`lodestar alerts run` delivers correctly signed messages to Slack, DingTalk,
Feishu, a generic webhook and an SMTP server with STARTTLS; a second run with
nothing changed sends nothing; a receiver that keeps failing makes the run
exit 1 and shows in the delivery log, the dashboard and the Dagster check.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from datetime import datetime
from pathlib import Path

import dagster as dg
import pytest

from dashboards.i18n import t
from pipelines.alerts.assets import ALERT_ASSET, DELIVERY_CHECK, alert_evaluation, build_alert_definitions
from pipelines.alerts.engine import run_digest
from pipelines.cli import main as lodestar
from pipelines.resources import WarehouseResource
from tests.dashboard_app import run_page
from tests.markdown_text import shown
from tests.fakes.alert_receivers import alert_receivers, make_test_certificate, smtp_server
from warehouse.alert_store import list_alerts, list_deliveries
from warehouse.db import edit_rows
from warehouse.settings import CONFIG_ENV, ProjectSettings, load_settings

pytestmark = pytest.mark.slow

CHANNELS = """
[alerts]
dashboard_url = "http://lodestar.test:8501"

[[alerts.channels]]
name = "team-slack"
kind = "slack"
url_env = "SLACK_WEBHOOK"
min_severity = "critical"
language = "en"

[[alerts.channels]]
name = "team-dingtalk"
kind = "dingtalk"
url_env = "DINGTALK_WEBHOOK"
secret_env = "DINGTALK_SECRET"
projects = ["*"]
min_severity = "warning"

[[alerts.channels]]
name = "erp-feishu"
kind = "feishu"
url_env = "FEISHU_WEBHOOK"
secret_env = "FEISHU_SECRET"
projects = ["ERP"]
min_severity = "info"

[[alerts.channels]]
name = "pmo-webhook"
kind = "webhook"
url_env = "LODESTAR_WEBHOOK"
secret_env = "LODESTAR_WEBHOOK_SECRET"
min_severity = "critical"

[[alerts.channels]]
name = "pm-mail"
kind = "email"
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
from = "lodestar@example.com"
to = ["pm@example.com"]
user_env = "SMTP_USER"
password_env = "SMTP_PASSWORD"
min_severity = "critical"
language = "en"

[[alerts.rules]]
rule = "delay_risk"
projects = ["*"]
threshold = 0.9
"""


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = lodestar(list(args))
    return code, out.getvalue()


def _channel_line(output: str, name: str) -> list[int]:
    line = next(line for line in output.splitlines() if line.startswith(name))
    return [int(v) for v in line.split()[2:]]


@pytest.fixture
def alert_setup(demo_company_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The demo snapshot, five channels, their receivers on 127.0.0.1, secrets only in the environment."""
    certificate = make_test_certificate(tmp_path / "tls")
    with alert_receivers() as receivers, smtp_server(certificate, users={"bot": "pw-123"}) as smtp:
        source = load_settings(demo_company_config)
        (tmp_path / "w").mkdir()
        config = tmp_path / "lodestar.toml"
        config.write_text(demo_company_config.read_text(encoding="utf-8")
                          + CHANNELS.replace("{smtp_port}", str(smtp.port)), encoding="utf-8")
        settings = load_settings(config)
        shutil.copyfile(source.warehouse.published_path, settings.warehouse.published_path)
        environment = {
            "SLACK_WEBHOOK": receivers.slack_url, "DINGTALK_WEBHOOK": receivers.dingtalk_url,
            "DINGTALK_SECRET": receivers.dingtalk_secret, "FEISHU_WEBHOOK": receivers.feishu_url,
            "FEISHU_SECRET": receivers.feishu_secret, "LODESTAR_WEBHOOK": receivers.webhook_url,
            "LODESTAR_WEBHOOK_SECRET": receivers.webhook_secret, "SMTP_USER": "bot", "SMTP_PASSWORD": "pw-123",
            # The product uses the system trust store; here that store is the test CA.
            "SSL_CERT_FILE": str(certificate.cert_path), CONFIG_ENV: str(config),
        }
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        yield settings, receivers, smtp


def test_sync_then_alerts_reach_every_receiver_signed_and_once(alert_setup) -> None:
    settings, receivers, smtp = alert_setup
    code, output = _run("alerts", "run", "--config", str(settings.config_path))
    assert code == 0, output

    alerts = list_alerts(settings)
    assert alerts and all(a["notified_at"] for a in alerts)
    critical = [a for a in alerts if a["severity"] == "critical"]
    erp = [a for a in alerts if a["project_key"] == "ERP"]
    warning_or_worse = [a for a in alerts if a["severity"] in ("warning", "critical")]
    assert critical and erp

    routes = {route: receivers.requests(route) for route in ("slack", "dingtalk", "feishu", "webhook")}
    for route, requests in routes.items():
        assert requests, route
        assert all(r.accepted for r in requests), [(route, r.problems, r.answer) for r in requests]
    # one message per project per channel; each carries exactly the alerts routed to it
    assert _channel_line(output, "team-slack")[:2] == [len(critical), len(critical)]
    assert _channel_line(output, "team-dingtalk")[:2] == [len(warning_or_worse)] * 2
    assert _channel_line(output, "erp-feishu")[:2] == [len(erp), len(erp)]
    assert len(routes["feishu"]) == 1 and len(routes["dingtalk"]) == len({a["project_key"] for a in warning_or_worse})
    webhook_ids = {alert["alert_id"] for r in routes["webhook"] for alert in r.payload["alerts"]}
    assert webhook_ids == {a["alert_id"] for a in critical}

    slack_text = json.dumps([r.payload for r in routes["slack"]], ensure_ascii=False)
    assert "http://lodestar.test:8501/" in slack_text and "Critical-path task" in slack_text
    dingtalk_text = json.dumps([r.payload for r in routes["dingtalk"]], ensure_ascii=False)
    assert "逾期" in dingtalk_text or "关键路径" in dingtalk_text

    assert len(smtp.messages) == len({a["project_key"] for a in critical})
    for mail in smtp.messages:
        assert mail.tls and mail.login == "bot" and mail.rcpt_tos == ["pm@example.com"]
        parts = {part.get_content_type() for part in mail.message.walk()}
        assert {"text/plain", "text/html"} <= parts

    deliveries = list_deliveries(settings)
    assert deliveries and all(d["ok"] for d in deliveries)
    stored = json.dumps(deliveries) + json.dumps(alerts, default=str)
    for secret in (receivers.dingtalk_secret, receivers.feishu_secret, receivers.slack_token, "pw-123"):
        assert secret not in stored and secret not in output

    before = len(receivers.requests()), len(smtp.messages)
    code, output = _run("alerts", "run", "--config", str(settings.config_path))
    assert code == 0 and (len(receivers.requests()), len(smtp.messages)) == before
    assert "0 raised, 0 to send" in output
    assert all(_channel_line(output, name)[1] == 0 for name in ("team-slack", "team-dingtalk", "erp-feishu"))

    code, listed = _run("alerts", "list", "--config", str(settings.config_path), "--format", "json", "--lang", "en")
    rows = json.loads(listed)
    assert code == 0 and {r["alert_id"] for r in rows} == {a["alert_id"] for a in alerts}


def test_a_receiver_that_keeps_failing_is_loud(alert_setup, monkeypatch: pytest.MonkeyPatch) -> None:
    settings, receivers, smtp = alert_setup
    monkeypatch.setattr("pipelines.alerts.channels.backoff_pause", lambda seconds: None)
    receivers.fail_next(4, "500", route="feishu")  # the first try and all three retries
    code, output = _run("alerts", "run", "--config", str(settings.config_path))
    assert code == 1 and "FAILED erp-feishu" in output
    failed = [d for d in list_deliveries(settings) if not d["ok"]]
    assert [d["channel"] for d in failed] == ["erp-feishu"] and failed[0]["attempts"] == 4
    erp_only = [a for a in list_alerts(settings) if a["project_key"] == "ERP" and a["severity"] == "info"]
    assert erp_only and not any(a["notified_at"] for a in erp_only), "undelivered alerts must be retried"

    at = run_page("app_pages/alerts.py", "en")
    banners = [shown(e.value) for e in at.error]
    assert any("failed after their retries" in b and "erp-feishu" in b for b in banners), banners

    receivers_before = len(receivers.requests("feishu"))
    code, output = _run("alerts", "run", "--config", str(settings.config_path))
    assert code == 0, output
    assert len(receivers.requests("feishu")) == receivers_before + 1
    assert all(a["notified_at"] for a in list_alerts(settings) if a["project_key"] == "ERP")


def test_dagster_asset_check_fails_when_a_delivery_fails(alert_setup, monkeypatch: pytest.MonkeyPatch) -> None:
    settings, receivers, _ = alert_setup
    monkeypatch.setattr("pipelines.alerts.channels.backoff_pause", lambda seconds: None)
    receivers.fail_next(50, "500", route="slack")
    result = dg.materialize([alert_evaluation], resources={"warehouse": WarehouseResource.from_settings(settings)},
                            raise_on_error=False)
    [check] = result.get_asset_check_evaluations()
    assert check.check_name == DELIVERY_CHECK and not check.passed
    assert "team-slack" in check.metadata["failures"].value
    [materialization] = result.asset_materializations_for_node(ALERT_ASSET)
    failed = [d for d in list_deliveries(settings) if not d["ok"]]
    assert {d["channel"] for d in failed} == {"team-slack"}
    assert materialization.metadata["failed_deliveries"].value == len(failed)


def test_alerts_page_acknowledge_round_trip(alert_setup) -> None:
    settings, _, _ = alert_setup
    assert _run("alerts", "run", "--config", str(settings.config_path))[0] == 0
    for lang in ("zh", "en"):
        at = run_page("app_pages/alerts.py", lang)
        assert at.title[0].value == t("alerts.title", lang) and not at.error
        assert at.metric[0].value == f"{sum(a['state'] == 'new' for a in list_alerts(settings)):,}"
    first = at.selectbox(key="alerts.act.pick").value
    at.checkbox(key="alerts.act.confirm").check()
    at.button(key="alerts.act.submit").click().run()
    assert not at.exception
    assert {a["alert_id"]: a["state"] for a in list_alerts(settings)}[first] == "acknowledged"
    audit = [r for r in edit_rows(settings, "audit_log") if r["table_name"] == "alerts"]
    assert [(r["row_key"], r["action"]) for r in audit] == [(first, "acknowledged")] and audit[0]["actor"]
    assert any(t("alerts.act.done", "en", alert="") in s.value for s in at.success)


def test_sensor_requests_an_alert_run_after_a_sync() -> None:
    sync_job = dg.define_asset_job("lodestar_sync", selection=dg.AssetSelection.all())
    _, jobs, [sensor], [schedule] = build_alert_definitions([sync_job])
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name, dagster_instance=dg.DagsterInstance.ephemeral(),
        dagster_run=dg.DagsterRun(job_name="lodestar_sync", run_id="abc123"),
        dagster_event=dg.DagsterEvent(event_type_value="PIPELINE_SUCCESS", job_name="lodestar_sync"),
    )
    request = sensor(context)
    assert isinstance(request, dg.RunRequest) and request.run_key == "after-abc123"
    assert {job.name for job in jobs} == {"lodestar_alerts", "lodestar_alert_digest"}
    assert schedule.cron_schedule == "0 * * * *"


def test_digest_goes_out_at_the_digest_hour_of_each_projects_working_day(alert_setup) -> None:
    settings, receivers, smtp = alert_setup
    assert _run("alerts", "run", "--config", str(settings.config_path))[0] == 0
    settings.projects.append(ProjectSettings(key="ERP", timezone="Europe/Berlin"))
    sent = len(receivers.requests("dingtalk"))

    def digest(utc: datetime) -> set[str]:
        report = run_digest(settings, now=utc)
        assert not report.failed
        return {d["project_key"] for d in list_deliveries(settings)[:len(report.deliveries)]
                if d["channel"] == "team-dingtalk"} if report.deliveries else set()

    others = {a["project_key"] for a in list_alerts(settings, ["new"]) if a["project_key"] != "ERP"
              and a["severity"] != "info"}
    assert digest(datetime(2026, 11, 26, 1, 0)) == others          # 09:00 in Shanghai, a Thursday
    assert digest(datetime(2026, 11, 26, 8, 0)) == {"ERP"}         # 09:00 in Berlin
    assert digest(datetime(2026, 11, 26, 2, 0)) == set()           # 10:00 in Shanghai
    assert digest(datetime(2026, 10, 1, 1, 0)) == set()            # National Day: no digest in China
    assert digest(datetime(2026, 10, 10, 1, 0)) == others          # Saturday made a working day (调休)
    assert len(receivers.requests("dingtalk")) > sent
    assert all(r.accepted for r in receivers.requests("dingtalk"))
