"""Alert delivery against real loopback receivers: each platform's signature and payload shape, e-mail over
STARTTLS with AUTH, retries and backoff, and failures that come back readable and free of secrets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import urllib.parse
from dataclasses import asdict

import pytest

from pipelines.alerts.channels import (
    AlertMessage,
    DeliveryResult,
    deliver,
    dingtalk_payload,
    dingtalk_sign,
    dingtalk_signed_url,
    email_message,
    feishu_payload,
    feishu_sign,
    redact_url,
    route_messages,
    slack_payload,
    webhook_payload,
    webhook_signature,
)
from tests.fakes.alert_receivers import (
    AlertReceivers,
    TestCertificate,
    alert_receivers,
    feishu_card_problems,
    free_port,
    make_test_certificate,
    slack_block_problems,
    smtp_server,
)
from warehouse.settings import AlertChannel

LOG = "pipelines.alerts.channels"

CRITICAL_EN = AlertMessage(
    alert_id="delay_risk:ERP:ERP-12", rule="delay_risk", severity="critical", project_key="ERP",
    task_id="jira:ERP-12", task_key="ERP-12", title="Data-migration cutover will probably finish late",
    reasons=("3 of 5 predecessors finished late", "Wang Fang is loaded at 140 % for the next two weeks"),
    impact="project end 2027-03-02 → 2027-03-09", owner="Wang Fang",
    options=("Move 2 days of work from Wang Fang to Li Lei", "Start UAT in parallel with the cutover rehearsal"),
    url="http://localhost:8501/risks?project=ERP&task=ERP-12", state_note="worse: probability 0.71 → 0.86",
)
WARNING_EN = AlertMessage(
    alert_id="overdue:ERP:ERP-7", rule="overdue", severity="warning", project_key="ERP", task_key="ERP-7",
    title="Vendor contract review is 4 working days overdue", reasons=("due 2027-01-12, still in progress",),
    impact="blocks ERP-9 (go-live checklist)", owner="Li Lei", options=("Escalate to procurement",),
    url="http://localhost:8501/kanban?project=ERP&task=ERP-7",
)
CRITICAL_ZH = AlertMessage(
    alert_id="delay_risk:ERP:ERP-12", rule="delay_risk", severity="critical", project_key="ERP",
    task_key="ERP-12", title="数据迁移割接很可能延期",
    reasons=("5 个前置任务中有 3 个延期完成", "王芳未来两周负荷 140%"),
    impact="项目完工 2027-03-02 → 2027-03-09", owner="王芳",
    options=("把王芳的 2 天工作转给李雷", "UAT 与割接演练并行"),
    url="http://localhost:8501/risks?project=ERP&task=ERP-12", state_note="升级：26 小时未确认",
)


def webhook_channel(kind: str, **options) -> AlertChannel:
    secret_env = {"slack": None}.get(kind, f"{kind.upper()}_SECRET")
    return AlertChannel(name=f"{kind}-test", kind=kind, url_env=f"{kind.upper()}_URL", secret_env=secret_env,
                        **options)


def email_channel(port: int, **options) -> AlertChannel:
    data = {"name": "pmo-mail", "kind": "email", "smtp_host": "127.0.0.1", "smtp_port": port,
            "from": "Lodestar <lodestar@example.com>", "to": ["pm@example.com", "pmo@example.com"],
            "user_env": "SMTP_USER", "password_env": "SMTP_PASSWORD", "timeout_seconds": 5}
    data.update(options)
    return AlertChannel.model_validate(data)


def environment(receivers: AlertReceivers, **overrides: str) -> dict[str, str]:
    env = {
        "SLACK_URL": receivers.slack_url,
        "DINGTALK_URL": receivers.dingtalk_url, "DINGTALK_SECRET": receivers.dingtalk_secret or "",
        "FEISHU_URL": receivers.feishu_url, "FEISHU_SECRET": receivers.feishu_secret or "",
        "WEBHOOK_URL": receivers.webhook_url, "WEBHOOK_SECRET": receivers.webhook_secret or "",
    }
    env.update(overrides)
    return env


def contains_everything(text: str, message: AlertMessage) -> None:
    """What, why, impact, who, options and the link are all in what the receiver got."""
    for part in (message.title, *message.reasons, message.impact, message.owner, *message.options, message.url):
        assert part in text, part
    if message.state_note:
        assert message.state_note in text


@pytest.fixture
def receivers():
    with alert_receivers(stall_seconds=0.5) as running:
        yield running


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> TestCertificate:
    return make_test_certificate(tmp_path_factory.mktemp("tls"))


# --------------------------------------------------------------------------- signatures


def test_dingtalk_sign_follows_dingtalks_documented_algorithm():
    secret, stamp = "SEC0123456789abcdef", 1700000000000
    # printf '%s\n%s' 1700000000000 SEC0123456789abcdef \
    #   | openssl dgst -sha256 -hmac SEC0123456789abcdef -binary | base64
    assert dingtalk_sign(secret, stamp) == urllib.parse.quote_plus("TSZbRFUuvaSQaRKUpF970OPCb2/LcQAP3wOvwZIzBZk=")
    independent = base64.b64encode(hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest())
    assert dingtalk_sign(secret, stamp) == urllib.parse.quote_plus(independent)
    assert "/" not in dingtalk_sign(secret, stamp) and "=" not in dingtalk_sign(secret, stamp)


def test_dingtalk_signed_url_appends_to_an_existing_query_or_starts_one():
    sign = dingtalk_sign("s3cret", 123)
    assert dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=abc", "s3cret", 123) == \
        f"https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=123&sign={sign}"
    assert dingtalk_signed_url("https://proxy.example/robot", "s3cret", 123) == \
        f"https://proxy.example/robot?timestamp=123&sign={sign}"
    assert dingtalk_signed_url("https://proxy.example/robot?", "s3cret", 123) == \
        f"https://proxy.example/robot?timestamp=123&sign={sign}"
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(dingtalk_signed_url("https://x/y?a=1", "s3cret", 123)).query)
    assert query["sign"] == [urllib.parse.unquote_plus(sign)]


def test_feishu_sign_follows_feishus_documented_algorithm():
    secret, stamp = "feishu-secret-42", 1700000000
    # printf '' | openssl dgst -sha256 -hmac "$(printf '%s\n%s' 1700000000 feishu-secret-42)" -binary | base64
    assert feishu_sign(secret, stamp) == "INMLa6ItJbhwdRZRoTvT3OZMtlY5WjmWq4F2Jscs314="
    independent = base64.b64encode(hmac.new(f"{stamp}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()
    assert feishu_sign(secret, stamp) == independent
    dingtalk_style = base64.b64encode(hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest())
    assert feishu_sign(secret, stamp) != dingtalk_style.decode()  # the two platforms swap key and message


def test_webhook_signature_covers_timestamp_and_body():
    # printf '%s' '1700000000.{"source":"lodestar"}' | openssl dgst -sha256 -hmac whsec -hex
    expected = "sha256=a761a847fc2a0244aab0d5d76c3179051669da18e56b4448658b31d3481742c6"
    assert webhook_signature("whsec", 1700000000, b'{"source":"lodestar"}') == expected
    assert webhook_signature("whsec", 1700000000, '{"source":"lodestar"}') == expected
    assert webhook_signature("whsec", 1700000001, b'{"source":"lodestar"}') != expected


# --------------------------------------------------------------------------- rendering


def test_message_normalises_lists_and_rejects_unknown_severity():
    message = AlertMessage(alert_id="a", rule="overdue", severity="info", project_key="OPS", title="t",
                           reasons=["r"], options=["o"])  # type: ignore[arg-type]
    assert message.reasons == ("r",) and message.options == ("o",)
    hash(message)
    with pytest.raises(ValueError, match="severity"):
        AlertMessage(alert_id="a", rule="overdue", severity="fatal", project_key="OPS", title="t")


def test_slack_payload_is_block_kit_with_labels_escaping_and_a_button():
    payload = slack_payload(webhook_channel("slack", language="en"), [CRITICAL_EN], "ERP: 1 critical alert")
    assert slack_block_problems(payload["blocks"]) == []
    types = [block["type"] for block in payload["blocks"]]
    assert types == ["header", "section", "context", "actions"]
    assert payload["blocks"][0]["text"]["text"].startswith(":red_circle:")
    section = payload["blocks"][1]["text"]["text"]
    for label in ("*Critical · ERP-12*", "*What*:", "*Why*:", "*Impact*:", "*Who should act*:", "*Re-plan options*:"):
        assert label in section
    button = payload["blocks"][3]["elements"][0]
    assert button["url"] == CRITICAL_EN.url and button["text"]["text"] == "Open in Lodestar"
    assert "Critical ERP-12" in payload["text"]

    tricky = AlertMessage(alert_id="x", rule="blocked", severity="warning", project_key="DP",
                          title="Load <staging> & <!channel> tables", url="http://localhost:8501/kanban?a=1|2")
    text = slack_payload(webhook_channel("slack"), [tricky], "DP")["blocks"][1]["text"]["text"]
    assert "&lt;staging&gt; &amp; &lt;!channel&gt;" in text and "<!channel>" not in text


def test_slack_digest_stays_within_fifty_blocks_and_says_how_many_are_left_out():
    messages = [AlertMessage(alert_id=f"overdue:ERP:{i}", rule="overdue", severity="warning", project_key="ERP",
                             task_key=f"ERP-{i}", title=f"Task {i} is overdue",
                             url=f"http://localhost:8501/kanban?task={i}")
                for i in range(80)]
    payload = slack_payload(webhook_channel("slack", language="en"), messages, "ERP: daily digest")
    blocks = payload["blocks"]
    assert len(blocks) == 50 and slack_block_problems(blocks) == []
    shown = sum(1 for b in blocks if b["type"] == "section" and "Task " in b["text"]["text"])
    assert blocks[-2]["text"]["text"] == f"… and {80 - shown} more"
    # different pages per alert: each alert carries its own link, no shared button
    assert "actions" not in [b["type"] for b in blocks]
    assert "<http://localhost:8501/kanban?task=0|Open in Lodestar>" in blocks[1]["text"]["text"]


def test_slack_clips_a_huge_alert_but_keeps_its_link():
    long = AlertMessage(alert_id="x", rule="delay_risk", severity="critical", project_key="ERP", title="t",
                        reasons=tuple("reason " * 40 for _ in range(30)), url="http://localhost:8501/risks")
    other = AlertMessage(alert_id="y", rule="overdue", severity="info", project_key="ERP", title="u",
                         url="http://localhost:8501/kanban")
    payload = slack_payload(webhook_channel("slack"), [long, other], "ERP")
    assert slack_block_problems(payload["blocks"]) == []
    text = payload["blocks"][1]["text"]["text"]
    assert len(text) <= 3000 and text.endswith("<http://localhost:8501/risks|在 Lodestar 中打开>")


def test_digest_puts_the_most_severe_alert_first_and_colours_by_it():
    info = AlertMessage(alert_id="i", rule="cycle_time", severity="info", project_key="ERP", title="slow reviews")
    channel = webhook_channel("feishu", language="en")
    card = feishu_payload(channel, [info, WARNING_EN, CRITICAL_EN], "ERP digest")["card"]
    assert card["header"]["template"] == "red"
    divs = [e["text"]["content"] for e in card["elements"] if e["tag"] == "div"]
    assert CRITICAL_EN.title in divs[0] and WARNING_EN.title in divs[1] and "slow reviews" in divs[2]
    assert feishu_payload(channel, [info, WARNING_EN], "x")["card"]["header"]["template"] == "orange"
    assert feishu_payload(channel, [info], "x")["card"]["header"]["template"] == "blue"
    assert feishu_card_problems(card) == []
    assert "timestamp" not in feishu_payload(channel, [info], "x")  # no secret, no signature fields
    signed = feishu_payload(channel, [info], "x", timestamp=1700000000, secret="feishu-secret-42")
    assert signed["timestamp"] == "1700000000" and signed["sign"] == feishu_sign("feishu-secret-42", 1700000000)


def test_chat_digests_stay_under_the_platform_size_limit():
    messages = [AlertMessage(alert_id=f"a{i}", rule="overdue", severity="warning", project_key="ERP",
                             task_key=f"ERP-{i}", title=f"任务 {i} 已逾期",
                             reasons=("原因" * 80, "另一个原因" * 40), owner="李雷",
                             url=f"http://localhost:8501/kanban?task={i}") for i in range(60)]
    payloads = (dingtalk_payload(webhook_channel("dingtalk"), messages, "ERP 每日汇总"),
                feishu_payload(webhook_channel("feishu"), messages, "ERP 每日汇总"))
    for payload in payloads:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        assert len(body) <= 18_000
        assert "另有" in body.decode() and "Lodestar" in body.decode()


def test_email_has_plain_and_escaped_html_parts():
    hostile = AlertMessage(alert_id="x", rule="blocked", severity="critical", project_key="MOB",
                           title='<script>alert("x")</script> & login page', reasons=("<b>not bold</b>",),
                           url='http://localhost:8501/risks?a=1&b="2"')
    mail = email_message(email_channel(25, language="en"), [hostile, WARNING_EN], "MOB & ERP alerts")
    assert mail["Subject"] == "MOB & ERP alerts" and mail["To"] == "pm@example.com, pmo@example.com"
    assert mail.get_content_type() == "multipart/alternative"
    plain = mail.get_body(("plain",)).get_content()
    page = mail.get_body(("html",)).get_content()
    assert '<script>alert("x")</script>' in plain  # plain text is shown as is
    assert "<script>" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; login page" in page
    assert "&lt;b&gt;not bold&lt;/b&gt;" in page
    assert 'href="http://localhost:8501/risks?a=1&amp;b=&quot;2&quot;"' in page
    contains_everything(plain, WARNING_EN)


def test_webhook_payload_carries_every_field():
    payload = webhook_payload(webhook_channel("webhook"), [WARNING_EN, CRITICAL_EN], "ERP")
    assert payload == {"source": "lodestar", "heading": "ERP", "alerts": [asdict(WARNING_EN), asdict(CRITICAL_EN)]}


def test_redact_url_keeps_only_scheme_and_host():
    assert redact_url("https://oapi.dingtalk.com/robot/send?access_token=abc") == "https://oapi.dingtalk.com/…"
    assert redact_url("https://user:pw@hooks.slack.com:8443/services/T/B/xyz") == "https://hooks.slack.com:8443/…"
    assert redact_url("not a url") == "(unparsable URL)"


# --------------------------------------------------------------------------- delivery to the receivers


@pytest.mark.parametrize("language", ["en", "zh"])
def test_slack_delivery_is_accepted(receivers, language):
    message = CRITICAL_EN if language == "en" else CRITICAL_ZH
    result = deliver(webhook_channel("slack", language=language), [message], "ERP", environ=environment(receivers))
    assert (result.ok, result.attempts, result.status, result.error) == (True, 1, 200, None)
    assert result.destination == f"{receivers.url}/…"
    [got] = receivers.requests("slack")
    assert got.accepted, got.problems
    text = json.dumps(got.payload, ensure_ascii=False)
    contains_everything(text.replace("&amp;", "&"), message)
    assert ("*Why*:" if language == "en" else "*原因*：") in text


@pytest.mark.parametrize("language", ["en", "zh"])
def test_dingtalk_delivery_is_signed_and_accepted(receivers, language):
    message = CRITICAL_EN if language == "en" else CRITICAL_ZH
    result = deliver(webhook_channel("dingtalk", language=language), [message], "ERP 预警",
                     environ=environment(receivers))
    assert result.ok and result.attempts == 1, result.error
    [got] = receivers.requests("dingtalk")
    assert got.accepted and got.answer == {"errcode": 0, "errmsg": "ok"}
    assert "timestamp=" in got.path and "sign=" in got.path
    markdown = got.payload["markdown"]
    contains_everything(markdown["text"], message)
    labels = {"en": ("**Why**:", "**Impact**:", "**Who should act**:", "**Re-plan options**:", "Open in Lodestar"),
              "zh": ("**原因**：", "**影响**：", "**负责人**：", "**调整方案**：", "在 Lodestar 中打开")}[language]
    for label in labels:
        assert label in markdown["text"]
    assert markdown["title"].startswith("🔴") and got.payload["at"]["isAtAll"] is False


@pytest.mark.parametrize("language", ["en", "zh"])
def test_feishu_delivery_is_signed_and_accepted(receivers, language):
    message = CRITICAL_EN if language == "en" else CRITICAL_ZH
    result = deliver(webhook_channel("feishu", language=language), [message], "ERP alert",
                     environ=environment(receivers))
    assert result.ok and result.attempts == 1, result.error
    [got] = receivers.requests("feishu")
    assert got.accepted and got.answer["code"] == 0
    card = got.payload["card"]
    assert got.payload["msg_type"] == "interactive" and card["header"]["template"] == "red"
    [button] = [e for e in card["elements"] if e["tag"] == "action"][0]["actions"]
    assert button["url"] == message.url and button["type"] == "primary"
    contains_everything(json.dumps(card, ensure_ascii=False).replace("&amp;", "&"), message)


def test_webhook_delivery_is_signed_and_carries_the_alerts(receivers):
    result = deliver(webhook_channel("webhook"), [CRITICAL_ZH, WARNING_EN], "ERP", environ=environment(receivers))
    assert result.ok and result.status == 200
    [got] = receivers.requests("webhook")
    assert got.accepted and got.answer == {"accepted": 2}
    assert got.headers["x-lodestar-signature"].startswith("sha256=") and got.headers["x-lodestar-delivery"]
    assert got.payload["alerts"] == json.loads(json.dumps([asdict(CRITICAL_ZH), asdict(WARNING_EN)]))
    assert "数据迁移割接很可能延期".encode() in got.body  # UTF-8, not \u escapes


def test_keyword_guarded_robots_accept_lodestar_messages():
    with alert_receivers(dingtalk_keyword="Lodestar", feishu_keyword="Lodestar") as guarded:
        for kind in ("dingtalk", "feishu"):
            assert deliver(webhook_channel(kind), [CRITICAL_ZH], "ERP", environ=environment(guarded)).ok
        assert len(guarded.accepted()) == 2


def test_routing_sends_each_channel_only_what_it_covers(receivers):
    critical_erp = AlertChannel(name="erp-critical", kind="webhook", url_env="WEBHOOK_URL", secret_env="WEBHOOK_SECRET",
                                projects=["ERP"], min_severity="critical")
    everyone = AlertChannel(name="pmo", kind="webhook", url_env="WEBHOOK_URL", secret_env="WEBHOOK_SECRET")
    mobile = AlertChannel(name="mobile", kind="webhook", url_env="WEBHOOK_URL", secret_env="WEBHOOK_SECRET",
                          projects=["MOB"], min_severity="info")
    info_dp = AlertMessage(alert_id="dp", rule="cycle_time", severity="info", project_key="DP", title="slow")
    info_mob = AlertMessage(alert_id="mob", rule="cycle_time", severity="info", project_key="MOB", title="slow")
    routed = route_messages([critical_erp, everyone, mobile], [CRITICAL_EN, WARNING_EN, info_dp, info_mob])
    assert [(c.name, [m.alert_id for m in ms]) for c, ms in routed] == [
        ("erp-critical", [CRITICAL_EN.alert_id]),
        ("pmo", [CRITICAL_EN.alert_id, WARNING_EN.alert_id]),
        ("mobile", ["mob"]),
    ]
    assert not critical_erp.covers("ERP", "warning") and everyone.covers("OPS", "critical")
    for channel, messages in routed:
        assert deliver(channel, messages, channel.name, environ=environment(receivers)).ok
    assert [[a["alert_id"] for a in r.payload["alerts"]] for r in receivers.accepted("webhook")] == \
        [[CRITICAL_EN.alert_id], [CRITICAL_EN.alert_id, WARNING_EN.alert_id], ["mob"]]


# --------------------------------------------------------------------------- receiver failures


def test_server_errors_are_retried_with_exponential_backoff(receivers):
    receivers.fail_next(2, "500", route="slack")
    sleeps: list[float] = []
    result = deliver(webhook_channel("slack"), [CRITICAL_EN], "ERP", environ=environment(receivers),
                     sleep=sleeps.append)
    assert (result.ok, result.attempts, result.status) == (True, 3, 200)
    assert sleeps == [1.0, 2.0]
    assert [r.status for r in receivers.requests("slack")] == [500, 500, 200]


def test_retries_give_up_after_the_channel_limit(receivers):
    receivers.fail_next(10, "503", route="feishu")
    sleeps: list[float] = []
    result = deliver(webhook_channel("feishu", retries=3), [CRITICAL_EN], "ERP", environ=environment(receivers),
                     sleep=sleeps.append)
    assert (result.ok, result.attempts, result.status) == (False, 4, 503)
    assert sleeps == [1.0, 2.0, 4.0] and "HTTP 503" in result.error
    many = deliver(webhook_channel("feishu", retries=8), [CRITICAL_EN], "ERP", environ=environment(receivers),
                   sleep=sleeps.append)
    assert many.attempts == 7 and many.ok  # the remaining 6 faults, then success
    assert sleeps[3:] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0]  # capped at 30 s


def test_rate_limit_honours_retry_after(receivers):
    receivers.fail_next(1, "429", route="webhook", retry_after=7)
    sleeps: list[float] = []
    result = deliver(webhook_channel("webhook"), [CRITICAL_EN], "ERP", environ=environment(receivers),
                     sleep=sleeps.append)
    assert result.ok and result.attempts == 2 and sleeps == [7.0]


def test_a_very_long_retry_after_fails_now_instead_of_stalling(receivers):
    receivers.fail_next(1, "429", route="slack", retry_after=3600)
    sleeps: list[float] = []
    result = deliver(webhook_channel("slack"), [CRITICAL_EN], "ERP", environ=environment(receivers),
                     sleep=sleeps.append)
    assert not result.ok and result.attempts == 1 and result.status == 429 and sleeps == []
    assert "rate_limited" in result.error and "3600" in result.error


def test_platform_rate_limits_inside_http_200_are_retried(receivers):
    receivers.fail_next(1, "busy", route="dingtalk")
    receivers.fail_next(1, "busy", route="feishu")
    sleeps: list[float] = []
    env = environment(receivers)
    assert deliver(webhook_channel("dingtalk"), [CRITICAL_ZH], "ERP", environ=env, sleep=sleeps.append).attempts == 2
    assert deliver(webhook_channel("feishu"), [CRITICAL_ZH], "ERP", environ=env, sleep=sleeps.append).attempts == 2
    assert sleeps == [60.0, 1.0]  # DingTalk counts per minute


def test_dropped_connections_and_timeouts_are_retried(receivers):
    receivers.fail_next(1, "drop", route="webhook")
    receivers.fail_next(1, "stall", route="webhook")
    sleeps: list[float] = []
    started = time.monotonic()
    result = deliver(webhook_channel("webhook", timeout_seconds=0.2), [CRITICAL_EN], "ERP",
                     environ=environment(receivers), sleep=sleeps.append)
    assert result.ok and result.attempts == 3 and sleeps == [1.0, 2.0]
    assert time.monotonic() - started < 2


def test_a_dropped_connection_that_persists_is_reported(receivers):
    receivers.fail_next(3, "drop", route="webhook")
    result = deliver(webhook_channel("webhook", retries=2), [CRITICAL_EN], "ERP", environ=environment(receivers),
                     sleep=lambda s: None)
    assert not result.ok and result.attempts == 3 and result.status is None
    assert "closed the connection without answering" in result.error


@pytest.mark.parametrize("kind, expected", [
    ("dingtalk", "DingTalk errcode 310000: sign not match"),
    ("feishu", "Feishu code 19021: sign match fail or timestamp is not within one hour"),
    ("webhook", "HTTP 401: bad X-Lodestar-Signature"),
])
def test_a_wrong_secret_is_a_failed_delivery_with_the_platforms_message(receivers, kind, expected, caplog):
    caplog.set_level(logging.DEBUG, logger=LOG)
    wrong = "not-the-robot-secret"
    sleeps: list[float] = []
    result = deliver(webhook_channel(kind), [CRITICAL_EN], "ERP",
                     environ=environment(receivers, **{f"{kind.upper()}_SECRET": wrong}), sleep=sleeps.append)
    assert not result.ok and expected in result.error
    assert result.attempts == 1 and sleeps == []  # a rejected signature does not get better by retrying
    expected_problem = "signature does not match" if kind == "webhook" else "sign does not match"
    assert receivers.requests(kind)[0].problems == [expected_problem]
    assert wrong not in result.error and wrong not in caplog.text
    assert "delivery to" in caplog.text and "failed after 1 attempt" in caplog.text


@pytest.mark.parametrize("kind, expected", [
    ("dingtalk", "invalid timestamp"),
    ("feishu", "timestamp is not within one hour"),
])
def test_a_stale_clock_is_rejected(receivers, kind, expected):
    two_hours_ago = lambda: time.time() - 7200  # noqa: E731
    result = deliver(webhook_channel(kind), [CRITICAL_EN], "ERP", environ=environment(receivers), now=two_hours_ago)
    assert not result.ok and expected in result.error


def test_client_errors_are_not_retried_and_hide_the_token(receivers, caplog):
    caplog.set_level(logging.DEBUG, logger=LOG)
    bad_url = receivers.slack_url.replace(receivers.slack_token, "revokedToken987654321")
    result = deliver(webhook_channel("slack"), [CRITICAL_EN], "ERP",
                     environ=environment(receivers, SLACK_URL=bad_url), sleep=lambda s: pytest.fail("retried a 403"))
    assert (result.ok, result.attempts, result.status) == (False, 1, 403)
    assert result.error == "HTTP 403: invalid_token"
    assert "revokedToken987654321" not in caplog.text and "/services/" not in caplog.text


def test_a_non_ok_answer_inside_http_200_is_a_failure(receivers):
    receivers.fail_next(1, "answer", route="slack", status=200, body="invalid_payload")
    result = deliver(webhook_channel("slack"), [CRITICAL_EN], "ERP", environ=environment(receivers))
    assert not result.ok and result.status == 200 and "invalid_payload" in result.error and result.attempts == 1


def test_a_redirect_is_reported_not_followed(receivers):
    receivers.fail_next(1, "answer", route="webhook", status=301, body="moved")
    result = deliver(webhook_channel("webhook"), [CRITICAL_EN], "ERP", environ=environment(receivers))
    assert not result.ok and result.status == 301 and "redirected" in result.error
    assert len(receivers.requests("webhook")) == 1


def test_connection_refused_is_readable_and_leaks_nothing(caplog):
    caplog.set_level(logging.DEBUG, logger=LOG)
    token = "T0SECRET/B0SECRET/hookTokenAbcdef123456"
    url = f"http://127.0.0.1:{free_port()}/services/{token}"
    sleeps: list[float] = []
    result = deliver(webhook_channel("slack", retries=2), [CRITICAL_EN], "ERP", environ={"SLACK_URL": url},
                     sleep=sleeps.append)
    assert isinstance(result, DeliveryResult)
    assert (result.ok, result.attempts, result.status) == (False, 3, None) and sleeps == [1.0, 2.0]
    assert result.error == f"cannot reach {redact_url(url)}: connection refused"
    for secret_part in ("hookTokenAbcdef123456", "T0SECRET", "/services/"):
        assert secret_part not in result.error and secret_part not in caplog.text
    assert "retrying in 1.0 s" in caplog.text


def test_dingtalk_access_token_never_reaches_errors_or_logs(receivers, caplog):
    caplog.set_level(logging.DEBUG, logger=LOG)
    receivers.fail_next(5, "503", route="dingtalk")
    result = deliver(webhook_channel("dingtalk", retries=1), [CRITICAL_EN], "ERP", environ=environment(receivers),
                     sleep=lambda s: None)
    assert not result.ok
    for secret in (receivers.dingtalk_token, receivers.dingtalk_secret):
        assert secret not in result.error and secret not in caplog.text
    assert "sign=" not in caplog.text and "access_token" not in caplog.text


@pytest.mark.parametrize("kind, missing, variable", [
    ("slack", "SLACK_URL", "SLACK_URL"),
    ("dingtalk", "DINGTALK_SECRET", "DINGTALK_SECRET"),
    ("webhook", "WEBHOOK_URL", "WEBHOOK_URL"),
])
def test_a_missing_environment_variable_is_a_failed_delivery_naming_it(receivers, kind, missing, variable):
    env = environment(receivers)
    del env[missing]
    result = deliver(webhook_channel(kind), [CRITICAL_EN], "ERP", environ=env)
    assert not result.ok and result.attempts == 0 and variable in result.error and f"{kind}-test" in result.error
    assert receivers.requests() == []


# --------------------------------------------------------------------------- e-mail


def test_email_goes_over_starttls_with_auth(certificate):
    users = {"alerts@example.com": "smtp-pass-123"}
    with smtp_server(certificate, users=users) as server:
        channel = email_channel(server.port, language="zh")
        result = deliver(channel, [CRITICAL_ZH], "ERP：1 条严重预警",
                         environ={"SMTP_USER": "alerts@example.com", "SMTP_PASSWORD": "smtp-pass-123"},
                         ssl_context=certificate.client_context())
        assert (result.ok, result.attempts, result.status) == (True, 1, 250), result.error
        assert result.destination == f"smtp://127.0.0.1:{server.port}"
        [mail] = server.messages
    assert mail.tls and mail.login == "alerts@example.com"
    assert mail.rcpt_tos == ["pm@example.com", "pmo@example.com"] and mail.mail_from == "lodestar@example.com"
    message = mail.message
    assert message["Subject"] == "ERP：1 条严重预警" and message["Message-ID"] and message["Date"]
    assert message["Auto-Submitted"] == "auto-generated"
    plain = message.get_body(("plain",)).get_content()
    page = message.get_body(("html",)).get_content()
    contains_everything(plain, CRITICAL_ZH)
    contains_everything(page.replace("&amp;", "&"), CRITICAL_ZH)
    for label in ("原因", "影响", "负责人", "调整方案", "在 Lodestar 中打开"):
        assert label in plain and label in page


def test_email_wrong_password_fails_without_retry_or_leak(certificate, caplog):
    caplog.set_level(logging.DEBUG, logger=LOG)
    with smtp_server(certificate, users={"alerts@example.com": "right"}) as server:
        result = deliver(email_channel(server.port), [CRITICAL_EN], "ERP",
                         environ={"SMTP_USER": "alerts@example.com", "SMTP_PASSWORD": "wrong-pass-987"},
                         ssl_context=certificate.client_context(), sleep=lambda s: pytest.fail("retried a 535"))
        assert server.messages == []
        assert set(server.failed_logins) == {"alerts@example.com"}  # smtplib tries PLAIN, then LOGIN
    assert (result.ok, result.attempts, result.status) == (False, 1, 535)
    assert "login refused" in result.error
    assert "wrong-pass-987" not in result.error and "wrong-pass-987" not in caplog.text


def test_email_refuses_to_send_in_clear_text_when_starttls_is_missing():
    with smtp_server(None) as server:
        result = deliver(email_channel(server.port, user_env=None, password_env=None), [CRITICAL_EN], "ERP", environ={})
        assert server.messages == []
    assert not result.ok and result.attempts == 1 and "does not offer STARTTLS" in result.error


def test_email_without_starttls_when_the_channel_allows_it():
    with smtp_server(None) as server:
        result = deliver(email_channel(server.port, user_env=None, password_env=None, starttls=False),
                         [CRITICAL_EN], "ERP", environ={})
        assert result.ok and [m.tls for m in server.messages] == [False]


def test_email_untrusted_certificate_is_reported(certificate):
    with smtp_server(certificate) as server:
        result = deliver(email_channel(server.port, user_env=None, password_env=None), [CRITICAL_EN], "ERP",
                         environ={}, sleep=lambda s: pytest.fail("retried an untrusted certificate"))
        assert server.messages == []
    assert not result.ok and "certificate not trusted" in result.error


def test_email_temporary_failures_are_retried(certificate):
    with smtp_server(certificate) as server:
        server.fail_next(2)
        sleeps: list[float] = []
        result = deliver(email_channel(server.port, user_env=None, password_env=None), [CRITICAL_EN, WARNING_EN],
                         "ERP digest", environ={}, ssl_context=certificate.client_context(), sleep=sleeps.append)
        assert (result.ok, result.attempts, result.status) == (True, 3, 250) and sleeps == [1.0, 2.0]
        assert server.data_attempts == 3 and len(server.messages) == 1
        assert len({m.message["Message-ID"] for m in server.messages}) == 1


def test_email_permanent_rejection_is_not_retried(certificate):
    with smtp_server(certificate) as server:
        server.fail_next(1, "554 5.7.1 Message rejected as spam")
        result = deliver(email_channel(server.port, user_env=None, password_env=None), [CRITICAL_EN], "ERP",
                         environ={}, ssl_context=certificate.client_context(), sleep=lambda s: pytest.fail("retried"))
    assert (result.ok, result.attempts, result.status) == (False, 1, 554) and "rejected as spam" in result.error


def test_email_server_down_and_missing_password():
    port = free_port()
    down = deliver(email_channel(port, user_env=None, password_env=None, retries=1), [CRITICAL_EN], "ERP",
                   environ={}, sleep=lambda s: None)
    assert not down.ok and down.attempts == 2
    assert down.error == f"cannot reach SMTP server 127.0.0.1:{port}: connection refused"
    missing = deliver(email_channel(port), [CRITICAL_EN], "ERP", environ={"SMTP_USER": "u"})
    assert not missing.ok and missing.attempts == 0 and "SMTP_PASSWORD" in missing.error


def test_nothing_to_deliver_is_a_caller_error():
    with pytest.raises(ValueError):
        deliver(webhook_channel("slack"), [], "ERP", environ={})
    with pytest.raises(ValueError):
        slack_payload(webhook_channel("slack"), [], "ERP")


def test_receivers_reject_what_the_platforms_reject(receivers):
    """The receivers are only worth trusting if they do say no: malformed payloads are refused."""
    import urllib.request

    def post(url: str, payload: object) -> object:
        request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.read().decode()
        except urllib.error.HTTPError as error:
            return f"{error.code} {error.read().decode()}"

    assert post(receivers.slack_url, {"blocks": [{"type": "banner"}]}) == "400 invalid_blocks"
    mrkdwn_header = {"type": "header", "text": {"type": "mrkdwn", "text": "x"}}
    assert post(receivers.slack_url, {"blocks": [mrkdwn_header]}) == "400 invalid_blocks"
    markdown = {"msgtype": "markdown", "markdown": {"title": "t", "text": "x"}}
    unsigned = json.loads(post(receivers.dingtalk_url, markdown))
    assert unsigned["errcode"] == 310000
    assert json.loads(post(receivers.feishu_url, {"msg_type": "interactive", "card": {}}))["code"] == 19021
    with alert_receivers(feishu_secret=None, dingtalk_secret=None) as open_robots:
        text_msg = {"msgtype": "text", "text": {"content": "hi"}}
        assert json.loads(post(open_robots.dingtalk_url, text_msg))["errcode"] == 40035
        bad_card = {"msg_type": "interactive", "card": {"header": {"title": {"tag": "plain_text", "content": "t"}},
                                                       "elements": [{"tag": "table"}]}}
        assert json.loads(post(open_robots.feishu_url, bad_card))["code"] == 9499
    assert post(receivers.webhook_url, {"source": "lodestar"}).startswith("401")


def test_an_unexpected_error_is_a_failed_delivery_not_an_exception(receivers, monkeypatch):
    import pipelines.alerts.channels as channels

    def broken(*args, **kwargs):
        raise KeyError(f"template for {receivers.slack_token}")

    monkeypatch.setattr(channels, "slack_payload", broken)
    result = deliver(webhook_channel("slack"), [CRITICAL_EN], "ERP", environ=environment(receivers))
    assert not result.ok and "KeyError" in result.error and receivers.slack_token not in result.error
