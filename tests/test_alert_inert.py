"""Source text in alerts is inert and bounded on every channel: a hostile title arrives as literal text (no live
link, image, mention or markup of its own), and a huge one arrives clipped within each platform's size limit.

Delivered to the loopback receivers, which check signatures and payload shapes and read back what each
platform's client would make live (`tests/fakes/alert_receivers.py`)."""

from __future__ import annotations

import json
import re

import pytest

from pipelines.alerts.channels import AlertMessage, deliver, dingtalk_payload, email_message, feishu_payload, \
    slack_payload
from pipelines.alerts.channels.dingtalk import DINGTALK_ESCAPE, DINGTALK_MAX_BODY_BYTES
from pipelines.alerts.channels.email import EMAIL_MAX_PART_BYTES
from pipelines.alerts.channels.feishu import FEISHU_MAX_BODY_BYTES, LARK_ESCAPE
from pipelines.alerts.channels.messages import FIELD_MAX_CHARS, FIELD_MAX_ITEMS, WORD_JOINER, json_bytes, plain
from pipelines.alerts.channels.slack import SLACK_ESCAPE, SLACK_MAX_BLOCKS, SLACK_SECTION_MAX_CHARS
from tests.fakes.alert_receivers import (
    alert_receivers, feishu_card_problems, make_test_certificate, slack_block_problems, smtp_server)
from tests.test_alert_channels import email_channel, environment, webhook_channel

DASHBOARD = "http://localhost:8501/"
EVIL_TITLE = ("紧急](http://evil.example/a) [请立即登录](http://evil.example/phish) "
              "![t](http://evil.example/pixel.png)")
HOSTILE = AlertMessage(
    alert_id="overdue:ERP:ERP-66", rule="overdue", severity="critical", project_key="ERP",
    task_key="ERP-66](http://evil.example/k)", title=EVIL_TITLE,
    reasons=("# 标题\n> 引用 <at id=all></at>", "- [x](javascript:alert(1)) <img src=http://evil.example/i.png>",
             "*粗* _斜_ ~删~ `码` | 表 &lt;at id=all&gt; <!channel> <http://evil.example/s|点我>",
             "1. www.evil.example //evil.example/x"),
    impact="\u202egnp.exe\u202c on \x07 http://evil.example/impact", owner="[王芳](http://evil.example/o)",
    options=("![o](http://evil.example/o.png)",), url="http://localhost:8501/kanban?project=ERP&task=ERP-66",
    state_note="\n## 升级 [x](http://evil.example/n)",
)
BLOCK_MARKER = re.compile(r"\s*(?:[#>+\-=|*]|\d+[.)])")
HUGE_TITLE = ("紧急&<[x](http://evil.example/a)" * 4_000)[:100_000]


def huge(index: int = 0, reasons: int = 3) -> AlertMessage:
    return AlertMessage(alert_id=f"overdue:ERP:{index}", rule="overdue", severity="warning", project_key="ERP",
                        task_key=f"ERP-{index}", title=HUGE_TITLE, reasons=(HUGE_TITLE,) * reasons,
                        owner=HUGE_TITLE, options=(HUGE_TITLE,) * reasons, impact=HUGE_TITLE,
                        url=f"http://localhost:8501/kanban?task={index}")


@pytest.fixture
def receivers():
    with alert_receivers() as running:
        yield running


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory):
    return make_test_certificate(tmp_path_factory.mktemp("tls"))


def deliver_mail(certificate, message_list: list[AlertMessage], language: str = "zh"):
    with smtp_server(certificate) as server:
        result = deliver(email_channel(server.port, user_env=None, password_env=None, language=language),
                         message_list, "ERP 预警", environ={}, ssl_context=certificate.client_context())
        assert result.ok, result.error
        [mail] = server.messages
    return mail


def foreign(links) -> list:
    """Live things that are not our own dashboard link."""
    ours = ("link", "button", "bare")
    return [link for link in links if link.kind not in ours or not link.target.startswith(DASHBOARD)]


# --------------------------------------------------------------------------- hostile text, delivered


@pytest.mark.parametrize("kind", ["slack", "dingtalk", "feishu"])
@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_hostile_title_arrives_as_literal_text(receivers, kind, language):
    result = deliver(webhook_channel(kind, language=language), [HOSTILE], "ERP](http://evil.example/h) 预警",
                     environ=environment(receivers))
    assert result.ok, result.error
    [got] = receivers.requests(kind)
    assert got.accepted, got.problems
    live = got.live_links()
    assert foreign(live) == [], foreign(live)
    assert [link.target for link in live] == [HOSTILE.url]  # our own link stays live, and once
    text = got.body.decode()
    assert "evil.example" in text  # shown, as text
    assert "http://evil" not in text and "www.evil" not in text and "//evil" not in text
    for word in ("紧急", "请立即登录", "王芳", "标题", "引用", "粗", "斜", "删", "码", "升级"):
        assert word in text, word
    assert "\u202e" not in text and "\\u0007" not in text
    if kind == "slack":
        assert "<http://evil" not in text and "<!channel>" not in text
        assert all(block["text"].get("verbatim") for block in got.payload["blocks"] if block["type"] == "section")
        assert got.payload["unfurl_links"] is False and got.payload["unfurl_media"] is False
    else:
        markdown = (got.payload["markdown"]["text"] if kind == "dingtalk" else "\n".join(
            e["text"]["content"] for e in got.payload["card"]["elements"] if e["tag"] == "div"))
        for sequence in ("](http://evil", "](javascript", "![", "[请立即登录]", "<at", "<img"):
            assert sequence not in markdown, sequence
        lines = markdown.split("\n")
        # headings and quotes are our own (the title line, the footer); our bullets hold no block of their own
        assert [line[:5] for line in lines if line.startswith(("#", ">"))] == (
            ["### 🔴", "> Lod"] if kind == "dingtalk" else [])
        items = [re.sub(r"^(?:- |\d+\. )", "", line) for line in lines if re.match(r"- |\d+\. ", line)]
        assert len(items) == 5 and not [item for item in items if BLOCK_MARKER.match(item)], items


def test_a_hostile_title_arrives_as_literal_text_in_both_parts_of_an_email(certificate):
    mail = deliver_mail(certificate, [HOSTILE])
    assert foreign(mail.live_links()) == []
    assert [link.target for link in mail.live_links() if link.kind == "link"] == [HOSTILE.url]
    page = mail.message.get_body(("html",)).get_content()
    assert '<a href="http://evil' not in page and "<img" not in page and "<at" not in page
    assert "紧急](http:/" in page and "&lt;img src=http:/" in page  # the text itself, escaped and inert
    plain_part = mail.message.get_body(("plain",)).get_content()
    assert "http://evil" not in plain_part and "\u202e" not in plain_part and "\x07" not in plain_part


def test_keyword_guarded_robots_still_take_a_hostile_message():
    with alert_receivers(dingtalk_keyword="Lodestar", feishu_keyword="Lodestar") as guarded:
        for kind in ("dingtalk", "feishu"):
            assert deliver(webhook_channel(kind), [HOSTILE], "ERP", environ=environment(guarded)).ok
        assert len(guarded.accepted()) == 2


def test_a_lone_surrogate_is_delivered_everywhere(receivers, certificate):
    broken = AlertMessage(alert_id="x", rule="overdue", severity="critical", project_key="ERP", task_key="ERP-1",
                          title="坏\ud800字", reasons=("r\udfff",), url="http://localhost:8501/kanban")
    for kind in ("slack", "dingtalk", "feishu", "webhook"):
        result = deliver(webhook_channel(kind), [broken], "ERP", environ=environment(receivers))
        assert result.ok, (kind, result.error)
    assert all("坏\ufffd字" in r.body.decode() for r in receivers.requests())
    assert "坏\ufffd字" in deliver_mail(certificate, [broken]).message.get_body(("plain",)).get_content()


# --------------------------------------------------------------------------- escaping, one platform at a time


@pytest.mark.parametrize("escape, expected", [
    (SLACK_ESCAPE, "a ＊b＊ ＿c＿ ～d～ ｀e｀ &lt;http:/\u2060/x|y&gt; &amp;amp; [f](g) # h"),
    (DINGTALK_ESCAPE, "a ＊b＊ ＿c＿ ～d～ ｀e｀ ＜http:/\u2060/x｜y＞ &\u2060amp; ［f］（g） # h"),
    (LARK_ESCAPE, "a ＊b＊ ＿c＿ ～d～ ｀e｀ &lt;http:/\u2060/x｜y&gt; &amp;amp; ［f］（g） # h"),
])
def test_each_platform_escapes_its_own_markup(escape, expected):
    assert escape("a *b* _c_ ~d~ `e` <http://x|y> &amp; [f](g)\n# h") == expected


@pytest.mark.parametrize("escape", [DINGTALK_ESCAPE, LARK_ESCAPE])
@pytest.mark.parametrize("opening", ["# x", "> x", "- x", "+ x", "= x", "| x", "1. x", "12) x", "--- x", "\n# x"])
def test_markdown_values_never_open_a_block(escape, opening):
    """A value follows our own "- " bullet or "1. " number, where CommonMark would read a block marker in it."""
    escaped = escape(opening)
    assert not BLOCK_MARKER.match(escaped), escaped
    assert escaped.lstrip(WORD_JOINER)[-1] == "x"


def test_plain_text_keeps_what_people_read():
    assert plain("  Data-migration cutover\n\t(ERP-12) — 王芳 140 %  ") == "Data-migration cutover (ERP-12) — 王芳 140 %"
    assert plain("a\u202eb\u2066c\x00d\x1be\ufefff") == "abcdef"
    assert plain("see https://jira.example/browse/ERP-1 or www.example.com") == \
        f"see https:/{WORD_JOINER}/jira.example/browse/ERP-1 or www{WORD_JOINER}.example.com"
    assert plain("a///b") == f"a/{WORD_JOINER}/{WORD_JOINER}/b"
    assert json_bytes({"t": "x\ud800"}) == '{"t":"x\ufffd"}'.encode()


def test_our_own_link_stays_live_and_well_formed():
    message = AlertMessage(alert_id="x", rule="overdue", severity="info", project_key="ERP", title="t",
                           url="http://localhost:8501/kanban?project=ERP (old)&task=ERP-1")
    other = AlertMessage(alert_id="y", rule="overdue", severity="info", project_key="ERP", title="u",
                         url="http://localhost:8501/risks")
    text = dingtalk_payload(webhook_channel("dingtalk"), [message, other], "ERP")["markdown"]["text"]
    assert "(http://localhost:8501/kanban?project=ERP%20%28old%29&task=ERP-1)" in text
    card = feishu_payload(webhook_channel("feishu"), [message, other], "ERP")["card"]
    assert "(http://localhost:8501/risks)" in json.dumps(card)


# --------------------------------------------------------------------------- size limits


def what_line(text: str, label: str) -> str:
    [line] = [line for line in text.split("\n") if line.startswith(label)]
    return line


def test_a_huge_title_is_clipped_on_every_chat_platform(receivers):
    env = environment(receivers)
    for kind in ("slack", "dingtalk", "feishu"):
        assert deliver(webhook_channel(kind, language="en"), [huge()], "ERP", environ=env).ok, kind
    [slack], [dingtalk], [feishu] = (receivers.requests(k) for k in ("slack", "dingtalk", "feishu"))
    assert all(r.accepted for r in (slack, dingtalk, feishu)), [r.problems for r in (slack, dingtalk, feishu)]
    section = slack.payload["blocks"][1]["text"]["text"]
    assert len(section) <= SLACK_SECTION_MAX_CHARS and what_line(section, "*What*:").endswith("…")
    assert len(slack.payload["text"]) <= 3000 and not re.search(r"&[#a-z]{0,6}…", slack.payload["text"])
    assert len(dingtalk.body) <= DINGTALK_MAX_BODY_BYTES
    assert what_line(dingtalk.payload["markdown"]["text"], "**What**:").endswith("…")
    assert len(feishu.body) <= FEISHU_MAX_BODY_BYTES
    content = [e for e in feishu.payload["card"]["elements"] if e["tag"] == "div"][0]["text"]["content"]
    assert what_line(content, "**What**:").endswith("…")
    for request, label in ((slack, "*What*:"), (dingtalk, "**What**:"), (feishu, "**What**:")):
        assert foreign(request.live_links()) == []
        # FIELD_MAX_CHARS of the 100,000 characters given, one repeat of the pattern in 30 characters
        text = request.payload["blocks"][1]["text"]["text"] if request is slack else (
            dingtalk.payload["markdown"]["text"] if request is dingtalk else content)
        assert what_line(text, label).count("紧急") == FIELD_MAX_CHARS // 30 + 1


def test_a_huge_title_is_clipped_in_an_email(certificate):
    mail = deliver_mail(certificate, [huge()], language="en")
    plain_part = mail.message.get_body(("plain",)).get_content()
    page = mail.message.get_body(("html",)).get_content()
    assert len(plain_part.encode()) <= EMAIL_MAX_PART_BYTES and len(page.encode()) <= EMAIL_MAX_PART_BYTES
    assert what_line(plain_part, "What:").endswith("…")
    assert re.search(r"<strong>What:</strong> [^<]*…</p>", page)
    assert foreign(mail.live_links()) == []


def test_a_digest_of_huge_alerts_fits_every_limit_and_counts_the_rest():
    digest = [huge(i) for i in range(60)]
    slack = slack_payload(webhook_channel("slack", language="en"), digest, "ERP")
    assert len(slack["blocks"]) <= SLACK_MAX_BLOCKS and slack_block_problems(slack["blocks"]) == []
    for payload, limit in ((dingtalk_payload(webhook_channel("dingtalk", language="en"), digest, "ERP"),
                            DINGTALK_MAX_BODY_BYTES),
                           (feishu_payload(webhook_channel("feishu", language="en"), digest, "ERP",
                                           timestamp=1700000000, secret="s"), FEISHU_MAX_BODY_BYTES)):
        body = json_bytes(payload)
        assert len(body) <= limit and re.search(r"… and \d+ more", body.decode())
    mail = email_message(email_channel(25, language="en"), digest, "ERP")
    for part in ("plain", "html"):
        content = mail.get_body((part,)).get_content()
        assert len(content.encode()) <= EMAIL_MAX_PART_BYTES and re.search(r"… and \d+ more", content)


def test_one_alert_too_big_for_the_platform_is_cut_until_it_fits():
    """Escaping grows text (``&`` takes five bytes as ``&amp;``); a lone alert gets a smaller budget until it fits."""
    ampersands = AlertMessage(alert_id="a", rule="overdue", severity="info", project_key="ERP", title="&" * 100_000,
                              reasons=("&🔴" * 50_000,) * 20, impact="&" * 100_000, owner="&" * 100_000,
                              url="http://localhost:8501/kanban")
    card = feishu_payload(webhook_channel("feishu"), [ampersands], "ERP")
    assert len(json_bytes(card)) <= FEISHU_MAX_BODY_BYTES and feishu_card_problems(card["card"]) == []
    content = card["card"]["elements"][0]["text"]["content"]
    assert "&amp;" * 100 in content and content.count("\n- ") <= FIELD_MAX_ITEMS + 1
    markdown = dingtalk_payload(webhook_channel("dingtalk"), [ampersands], "ERP")
    assert len(json_bytes(markdown)) <= DINGTALK_MAX_BODY_BYTES and "Lodestar" in markdown["markdown"]["text"]

    many_reasons = huge(reasons=500)
    for payload, limit in ((dingtalk_payload(webhook_channel("dingtalk"), [many_reasons], "ERP"),
                            DINGTALK_MAX_BODY_BYTES),
                           (feishu_payload(webhook_channel("feishu"), [many_reasons], "ERP"), FEISHU_MAX_BODY_BYTES)):
        body = json_bytes(payload).decode()
        assert len(body.encode()) <= limit and "Lodestar" in body and many_reasons.url in body
        assert body.count("\\n- ") <= 11  # ten reasons and a "…" at the most
    section = slack_payload(webhook_channel("slack"), [many_reasons], "ERP")["blocks"][1]["text"]["text"]
    assert len(section) <= SLACK_SECTION_MAX_CHARS
