"""Loopback receivers for alert delivery: one HTTP server playing Slack, DingTalk, Feishu and a generic
webhook, and an aiosmtpd SMTP server with STARTTLS and AUTH.

Each HTTP route checks what the real platform checks and answers the way it
does, so a delivery that passes here passes there:

- Slack incoming webhook (`/slack/services/T…/B…/<token>`): a JSON body with
  `text` and/or `blocks`; every block of a known type with the fields and
  length limits Block Kit enforces, at most 50 blocks. Answers `200 ok`, or
  `400 invalid_payload` / `400 invalid_blocks` / `400 no_text` /
  `403 invalid_token` as Slack does.
- DingTalk custom robot (`/dingtalk/robot/send?access_token=…`): the
  `timestamp` (ms, within one hour) and `sign` query parameters recomputed from
  the robot's secret, an optional keyword, and a markdown message. Answers
  HTTP 200 with `{"errcode": 0, "errmsg": "ok"}` or DingTalk's errors (300001
  token, 310000 sign/timestamp/keyword). A malformed message is answered with
  errcode 40035, the code DingTalk uses for a missing or unreadable body.
- Feishu / Lark custom bot (`/feishu/open-apis/bot/v2/hook/<token>`): `timestamp`
  (seconds, within one hour) and `sign` in the body, checked with Feishu's
  algorithm (HMAC key "timestamp\\nsecret", empty message), an optional keyword,
  the 20 KB body limit and the interactive card's shape. Answers Feishu's
  success body or its errors (19001 token, 19021 sign, 19024 keyword; 9499 Bad
  Request for a malformed card).
- Generic webhook (`/webhook`): `X-Lodestar-Timestamp` within five minutes and
  `X-Lodestar-Signature: sha256=<hex>` over "timestamp.body" when a secret is
  set (401 otherwise), and Lodestar's JSON shape (400 otherwise).

What a platform's client would make live in a message it took (links, images,
mentions, raw HTML, URLs it links by itself) is read back with
`Received.live_links()` and `ReceivedMail.live_links()`, following each
platform's documented markup: Slack's mrkdwn ``<…>`` tokens and auto-linking
unless ``verbatim``, Markdown's inline and reference links, images, autolinks
and HTML for DingTalk and Feishu, ``href``/``src`` in HTML mail, and bare URLs
everywhere a client links them.

Faults are queued with `fail_next` and consumed one request at a time: 500,
502, 503, 429 (with Retry-After), `drop` (the request is read and the
connection closed without an answer), `stall` (the answer comes after
`stall_seconds`, for client timeouts), `busy` (the platform's own
rate-limit error inside HTTP 200), and `answer` (any status and body given).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.fakes.loopback import QuietHandler, QuietServer

DINGTALK_DOC = "https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq"
DINGTALK_SIGN_NOT_MATCH = {"errcode": 310000, "errmsg": f"sign not match, more: [{DINGTALK_DOC}]"}
DINGTALK_INVALID_TIMESTAMP = {"errcode": 310000, "errmsg": f"invalid timestamp, more: [{DINGTALK_DOC}]"}
DINGTALK_NO_KEYWORD = {"errcode": 310000, "errmsg": f"keywords not in content, more: [{DINGTALK_DOC}]"}
DINGTALK_BAD_TOKEN = {"errcode": 300001, "errmsg": "token is not exist"}
DINGTALK_BAD_BODY = {"errcode": 40035, "errmsg": "缺少参数 json"}
DINGTALK_TOO_FAST = {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
DINGTALK_OK = {"errcode": 0, "errmsg": "ok"}

FEISHU_OK = {"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}
FEISHU_BAD_SIGN = {"code": 19021, "data": {},
                   "msg": "sign match fail or timestamp is not within one hour from current time"}
FEISHU_BAD_TOKEN = {"code": 19001, "data": {}, "msg": "param invalid: incoming webhook access token invalid"}
FEISHU_NO_KEYWORD = {"code": 19024, "data": {}, "msg": "Key Words Not Found"}
FEISHU_BAD_REQUEST = {"code": 9499, "data": {}, "msg": "Bad Request"}
FEISHU_FREQUENCY = {"code": 11232, "data": {}, "msg": "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]"}
FEISHU_MAX_BODY_BYTES = 20 * 1024

SLACK_BLOCK_TYPES = frozenset({"header", "section", "context", "actions", "divider", "image", "rich_text"})
FEISHU_ELEMENT_TAGS = frozenset({"div", "hr", "action", "note", "markdown", "img"})
FEISHU_TEMPLATES = frozenset({"blue", "wathet", "turquoise", "green", "yellow", "orange", "red", "carmine",
                              "violet", "purple", "indigo", "grey", "default"})
FAULT_KINDS = frozenset({"500", "502", "503", "429", "drop", "stall", "busy", "answer"})
ROUTES = ("slack", "dingtalk", "feishu", "webhook")


# --------------------------------------------------------------------------- HTTP receivers


@dataclass
class Received:
    """One request as the receiver saw it, and what it made of it."""

    route: str
    method: str
    path: str
    """Path and query as requested (they hold the token: tests may look, the client must not print them)."""
    headers: dict[str, str]
    body: bytes
    payload: object | None
    status: int | None = None
    """HTTP status answered; None when the connection was dropped."""
    answer: object | None = None
    problems: list[str] = field(default_factory=list)
    """Why the platform would reject it; empty when it accepted the message."""
    fault: str | None = None

    @property
    def accepted(self) -> bool:
        return self.fault is None and self.status == 200 and not self.problems

    def live_links(self) -> list[LiveLink]:
        """What the platform's client would make live in this message (see `LiveLink`)."""
        payload = self.payload if isinstance(self.payload, dict) else {}
        if self.route == "slack":
            return slack_live_links(payload)
        if self.route == "dingtalk":
            return markdown_live_links(str((payload.get("markdown") or {}).get("text", "")))
        if self.route == "feishu":
            return feishu_live_links(payload.get("card"))
        return []


@dataclass
class _Fault:
    kind: str
    route: str | None
    retry_after: float | None
    status: int | None
    body: str | None


class AlertReceivers:
    """State of the loopback platform receivers: tokens, secrets, the request log and queued faults."""

    def __init__(self, *, slack_token: str = "slackTokenXyz0123456789",
                 dingtalk_token: str = "dingAccessToken0123456789",
                 dingtalk_secret: str | None = "SECdingtalk-test-secret",
                 feishu_token: str = "feishu-hook-0123456789", feishu_secret: str | None = "feishu-test-secret",
                 webhook_secret: str | None = "webhook-test-secret", dingtalk_keyword: str | None = None,
                 feishu_keyword: str | None = None, stall_seconds: float = 1.0, clock=time.time):
        self.slack_token = slack_token
        self.dingtalk_token = dingtalk_token
        self.dingtalk_secret = dingtalk_secret
        self.feishu_token = feishu_token
        self.feishu_secret = feishu_secret
        self.webhook_secret = webhook_secret
        self.dingtalk_keyword = dingtalk_keyword
        self.feishu_keyword = feishu_keyword
        self.stall_seconds = stall_seconds
        self.clock = clock
        self.received: list[Received] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self.httpd: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> str:
        receivers = self

        class Handler(_ReceiverHandler):
            state = receivers

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                         name="fake-alert-receivers").start()
        return self.url

    def stop(self) -> None:
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def __enter__(self) -> AlertReceivers:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self.httpd is not None, "receivers not started"
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def slack_url(self) -> str:
        return f"{self.url}/slack/services/T0LODESTAR/B0ALERTS/{self.slack_token}"

    @property
    def dingtalk_url(self) -> str:
        return f"{self.url}/dingtalk/robot/send?access_token={self.dingtalk_token}"

    @property
    def feishu_url(self) -> str:
        return f"{self.url}/feishu/open-apis/bot/v2/hook/{self.feishu_token}"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/webhook"

    # ------------------------------------------------------------ test controls
    def fail_next(self, count: int, kind: str, *, route: str | None = None, retry_after: float | None = 1,
                  status: int | None = None, body: str | None = None) -> None:
        """Answer the next `count` requests (to `route`, or any) with a fault instead of the platform's answer."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {sorted(FAULT_KINDS)}")
        if route is not None and route not in ROUTES:
            raise ValueError(f"unknown route {route!r}")
        if kind == "answer" and status is None:
            raise ValueError("an 'answer' fault needs a status")
        with self._lock:
            self._faults += [_Fault(kind, route, retry_after, status, body) for _ in range(count)]

    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    def requests(self, route: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.received if route is None or r.route == route]

    def accepted(self, route: str | None = None) -> list[Received]:
        return [r for r in self.requests(route) if r.accepted]

    def _take_fault(self, route: str) -> _Fault | None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.route in (None, route):
                    return self._faults.pop(index)
        return None

    def _record(self, entry: Received) -> None:
        with self._lock:
            self.received.append(entry)

    # ------------------------------------------------------------ platform checks
    def check_slack(self, path: str, payload: object) -> tuple[int, str, list[str]]:
        token = path.rstrip("/").rsplit("/", 1)[-1]
        if token != self.slack_token:
            return 403, "invalid_token", ["unknown webhook token"]
        if not isinstance(payload, dict):
            return 400, "invalid_payload", ["body is not a JSON object"]
        if not payload.get("text") and not payload.get("blocks"):
            return 400, "no_text", ["neither text nor blocks"]
        problems = slack_block_problems(payload.get("blocks", []))
        if problems:
            return 400, "invalid_blocks", problems
        return 200, "ok", []

    def check_dingtalk(self, query: dict[str, str], payload: object) -> tuple[dict, list[str]]:
        if query.get("access_token") != self.dingtalk_token:
            return DINGTALK_BAD_TOKEN, ["unknown access_token"]
        if self.dingtalk_secret:
            stamp = query.get("timestamp", "")
            if not stamp.isdigit() or abs(self.clock() * 1000 - int(stamp)) > 3600 * 1000:
                return DINGTALK_INVALID_TIMESTAMP, [f"timestamp {stamp!r} missing or not within one hour"]
            # DingTalk's documented scheme, written out here independently of the client.
            secret = self.dingtalk_secret
            expected = base64.b64encode(hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(),
                                                 hashlib.sha256).digest()).decode()
            if not hmac.compare_digest(query.get("sign", ""), expected):
                return DINGTALK_SIGN_NOT_MATCH, ["sign does not match"]
        if not isinstance(payload, dict):
            return DINGTALK_BAD_BODY, ["body is not a JSON object"]
        problems = []
        markdown = payload.get("markdown")
        if payload.get("msgtype") != "markdown":
            problems.append(f"msgtype {payload.get('msgtype')!r}, expected 'markdown'")
        if not isinstance(markdown, dict) or not all(isinstance(markdown.get(k), str) and markdown.get(k)
                                                     for k in ("title", "text")):
            problems.append("markdown.title and markdown.text must be non-empty strings")
        at = payload.get("at", {})
        if not isinstance(at, dict) or not isinstance(at.get("isAtAll", False), bool):
            problems.append("at must be an object with a boolean isAtAll")
        if problems:
            return DINGTALK_BAD_BODY, problems
        if self.dingtalk_keyword and self.dingtalk_keyword not in markdown["title"] + markdown["text"]:
            return DINGTALK_NO_KEYWORD, [f"keyword {self.dingtalk_keyword!r} not in the message"]
        return DINGTALK_OK, []

    def check_feishu(self, path: str, body: bytes, payload: object) -> tuple[dict, list[str]]:
        token = path.rstrip("/").rsplit("/", 1)[-1]
        if token != self.feishu_token:
            return FEISHU_BAD_TOKEN, ["unknown hook token"]
        if not isinstance(payload, dict):
            return FEISHU_BAD_REQUEST, ["body is not a JSON object"]
        if self.feishu_secret:
            stamp = payload.get("timestamp")
            if not isinstance(stamp, str) or not stamp.isdigit() or abs(self.clock() - int(stamp)) > 3600:
                return FEISHU_BAD_SIGN, [f"timestamp {stamp!r} missing, not seconds as a string, or not within 1 h"]
            # Feishu's documented scheme: the string to sign is the HMAC key, the message is empty.
            expected = base64.b64encode(hmac.new(f"{stamp}\n{self.feishu_secret}".encode(), b"",
                                                 hashlib.sha256).digest()).decode()
            if not hmac.compare_digest(str(payload.get("sign", "")), expected):
                return FEISHU_BAD_SIGN, ["sign does not match"]
        problems = []
        if len(body) > FEISHU_MAX_BODY_BYTES:
            problems.append(f"body is {len(body)} bytes, over Feishu's 20 KB limit")
        if payload.get("msg_type") != "interactive":
            problems.append(f"msg_type {payload.get('msg_type')!r}, expected 'interactive'")
        problems += feishu_card_problems(payload.get("card"))
        if problems:
            return FEISHU_BAD_REQUEST, problems
        if self.feishu_keyword and self.feishu_keyword not in json.dumps(payload["card"], ensure_ascii=False):
            return FEISHU_NO_KEYWORD, [f"keyword {self.feishu_keyword!r} not in the card"]
        return FEISHU_OK, []

    def check_webhook(self, headers: dict[str, str], body: bytes, payload: object) -> tuple[int, dict, list[str]]:
        if self.webhook_secret:
            stamp = headers.get("x-lodestar-timestamp", "")
            if not stamp.isdigit() or abs(self.clock() - int(stamp)) > 300:
                return 401, {"error": "stale or missing X-Lodestar-Timestamp"}, ["timestamp missing or stale"]
            expected = "sha256=" + hmac.new(self.webhook_secret.encode(), f"{stamp}.".encode() + body,
                                            hashlib.sha256).hexdigest()
            if not hmac.compare_digest(headers.get("x-lodestar-signature", ""), expected):
                return 401, {"error": "bad X-Lodestar-Signature"}, ["signature does not match"]
        problems = []
        if not isinstance(payload, dict):
            return 400, {"error": "body is not a JSON object"}, ["body is not a JSON object"]
        if payload.get("source") != "lodestar":
            problems.append("source must be 'lodestar'")
        if not isinstance(payload.get("heading"), str):
            problems.append("heading must be a string")
        alerts = payload.get("alerts")
        if not isinstance(alerts, list) or not alerts:
            problems.append("alerts must be a non-empty list")
        else:
            for alert in alerts:
                missing = {"alert_id", "rule", "severity", "project_key", "title", "reasons", "options"} - set(alert)
                if missing:
                    problems.append(f"alert without {sorted(missing)}")
        if problems:
            return 400, {"error": "; ".join(problems)}, problems
        return 200, {"accepted": len(alerts)}, []


def slack_block_problems(blocks: object) -> list[str]:
    """What Block Kit would reject in `blocks` (types, required fields, Slack's documented length limits)."""
    if not isinstance(blocks, list):
        return ["blocks must be a list"]
    problems = []
    if len(blocks) > 50:
        problems.append(f"{len(blocks)} blocks, Slack allows 50")

    def text_object(obj: object, where: str, kinds=("plain_text", "mrkdwn"), limit: int = 3000) -> None:
        if not isinstance(obj, dict) or obj.get("type") not in kinds or not isinstance(obj.get("text"), str):
            problems.append(f"{where}: text object of type {kinds} expected")
        elif not obj["text"] or len(obj["text"]) > limit:
            problems.append(f"{where}: text length {len(obj['text'])} outside 1..{limit}")

    def button(element: object, where: str) -> None:
        if not isinstance(element, dict) or element.get("type") != "button":
            problems.append(f"{where}: only buttons are expected")
            return
        text_object(element.get("text"), f"{where}.text", ("plain_text",), 75)
        url = element.get("url")
        if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))
                                or len(url) > 3000):
            problems.append(f"{where}: bad url {url!r}")
        if element.get("style") not in (None, "primary", "danger"):
            problems.append(f"{where}: bad style {element.get('style')!r}")

    for index, block in enumerate(blocks):
        where = f"blocks[{index}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in SLACK_BLOCK_TYPES:
            problems.append(f"{where}: unknown block type {kind!r}")
            continue
        if kind == "header":
            text_object(block.get("text"), where, ("plain_text",), 150)
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"{where}: section needs text or fields")
            if "text" in block:
                text_object(block["text"], where)
            if "accessory" in block:
                button(block["accessory"], f"{where}.accessory")
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                problems.append(f"{where}: context needs 1..10 elements")
            else:
                for j, element in enumerate(elements):
                    text_object(element, f"{where}.elements[{j}]")
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
                problems.append(f"{where}: actions needs 1..25 elements")
            else:
                for j, element in enumerate(elements):
                    button(element, f"{where}.elements[{j}]")
    return problems


def feishu_card_problems(card: object) -> list[str]:
    """What Feishu would reject in an interactive card built from header, div/hr/note/action elements."""
    if not isinstance(card, dict):
        return ["card must be an object"]
    problems = []
    header = card.get("header")
    title = header.get("title") if isinstance(header, dict) else None
    if not isinstance(title, dict) or title.get("tag") != "plain_text" or not title.get("content"):
        problems.append("header.title must be a non-empty plain_text")
    if isinstance(header, dict) and header.get("template", "default") not in FEISHU_TEMPLATES:
        problems.append(f"unknown header template {header.get('template')!r}")
    elements = card.get("elements")
    if not isinstance(elements, list) or not elements:
        return problems + ["elements must be a non-empty list"]
    for index, element in enumerate(elements):
        where = f"elements[{index}]"
        tag = element.get("tag") if isinstance(element, dict) else None
        if tag not in FEISHU_ELEMENT_TAGS:
            problems.append(f"{where}: unknown tag {tag!r}")
        elif tag == "div":
            text = element.get("text")
            if (not isinstance(text, dict) or text.get("tag") not in ("lark_md", "plain_text")
                    or not text.get("content")):
                problems.append(f"{where}: div needs a lark_md or plain_text text")
        elif tag == "note":
            if not isinstance(element.get("elements"), list) or not element["elements"]:
                problems.append(f"{where}: note needs elements")
        elif tag == "action":
            actions = element.get("actions")
            if not isinstance(actions, list) or not actions:
                problems.append(f"{where}: action needs actions")
                continue
            for j, action in enumerate(actions):
                text = action.get("text") if isinstance(action, dict) else None
                if (not isinstance(action, dict) or action.get("tag") != "button" or not isinstance(text, dict)
                        or text.get("tag") not in ("plain_text", "lark_md") or not text.get("content")):
                    problems.append(f"{where}.actions[{j}]: a button with a text is expected")
                    continue
                url = action.get("url")
                if url is not None and not str(url).startswith(("http://", "https://")):
                    problems.append(f"{where}.actions[{j}]: bad url {url!r}")
                if action.get("type", "default") not in ("default", "primary", "danger"):
                    problems.append(f"{where}.actions[{j}]: bad type {action.get('type')!r}")
    return problems



# --------------------------------------------------------------------------- what a client makes live


@dataclass(frozen=True)
class LiveLink:
    """Something a client would render live: ``link``, ``image``, ``autolink``, ``reference``, ``html`` (a raw
    tag, its name in `tag`), ``mention`` (Slack's <!…>, <@…>, <#…>), ``button`` or ``bare`` (a URL linked unasked)."""

    kind: str
    target: str
    tag: str | None = None


# Markdown (CommonMark, which DingTalk's and Feishu's clients follow for these): an inline link or image, a
# reference definition, an autolink, a raw HTML tag (Feishu's <at>, <font>, <link> and DingTalk's <font> included).
_MD_INLINE = re.compile(r"(!?)\[((?:[^\[\]\\]|\\.)*)\]\(\s*<?([^\s)>]*)")
_MD_REFERENCE = re.compile(r"(?m)^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)")
_MD_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\s]*)>")
_HTML_TAG = re.compile(r"<\s*(/?[A-Za-z][\w-]*)([^<>]*)>")
_HTML_URL_ATTRIBUTE = re.compile(r"(?i)\b(?:href|src|url)\s*=\s*[\"']?([^\"'\s>]+)")
# URLs clients link by themselves: with a scheme, scheme-less //host, or www. (GFM's extended autolinks, Slack's,
# DingTalk's and Feishu's clients, Gmail and Outlook all do).
_BARE_URL = re.compile(r"(?i)(?:\b(?:https?|ftp):|(?<![\w/:]))//[^\s<>\"'）)\]］]+|\bwww\.[^\s<>\"'）)\]］]+")
_SLACK_TOKEN = re.compile(r"<([^<>|]*)(?:\|[^<>]*)?>")


def bare_urls(text: str) -> list[str]:
    return _BARE_URL.findall(text)


def markdown_live_links(text: str) -> list[LiveLink]:
    links = [LiveLink("image" if bang else "link", target) for bang, _, target in _MD_INLINE.findall(text)]
    links += [LiveLink("reference", target) for target in _MD_REFERENCE.findall(text)]
    links += [LiveLink("autolink", target) for target in _MD_AUTOLINK.findall(text)]
    for name, attributes in _HTML_TAG.findall(text):
        if not _MD_AUTOLINK.fullmatch(f"<{name}{attributes}>"):
            found = _HTML_URL_ATTRIBUTE.search(attributes)
            links.append(LiveLink("html", found.group(1) if found else "", tag=name.lower()))
    # A bare URL inside a link's destination is that link, not one more.
    outside = _MD_AUTOLINK.sub(" ", _MD_INLINE.sub(" ", text))
    return links + [LiveLink("bare", url) for url in bare_urls(outside)]


def feishu_live_links(card: object) -> list[LiveLink]:
    """Every lark_md text of the card read as Markdown, plus its buttons (plain_text is shown as it is)."""
    links: list[LiveLink] = []
    for element in (card or {}).get("elements", []) if isinstance(card, dict) else []:
        text = element.get("text") if isinstance(element, dict) else None
        if isinstance(text, dict) and text.get("tag") == "lark_md":
            links += markdown_live_links(str(text.get("content", "")))
        for action in element.get("actions", []) if isinstance(element, dict) else []:
            if isinstance(action, dict) and action.get("url"):
                links.append(LiveLink("button", str(action["url"])))
    return links


def slack_live_links(payload: dict) -> list[LiveLink]:
    """Slack's mrkdwn: ``<url|text>`` and ``<url>`` are links, ``<!…>``, ``<@…>`` and ``<#…>`` mentions; a text object
    without ``verbatim: true`` (and the top-level text) also gets its bare URLs linked (Block Kit text object)."""
    texts: list[tuple[str, bool]] = [(str(payload.get("text", "")), False)] if payload.get("text") else []
    buttons: list[LiveLink] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                texts.append((node["text"], node.get("verbatim") is True))
            if node.get("type") == "button" and node.get("url"):
                buttons.append(LiveLink("button", str(node["url"])))
            if node.get("type") == "image":
                buttons.append(LiveLink("image", str(node.get("image_url", ""))))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(payload.get("blocks", []))
    links: list[LiveLink] = []
    for text, verbatim in texts:
        for token in _SLACK_TOKEN.findall(text):
            links.append(LiveLink("mention" if token[:1] in "!@#" else "link", token))
        if not verbatim:
            links += [LiveLink("bare", url) for url in bare_urls(_SLACK_TOKEN.sub(" ", text))]
    return links + buttons


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[LiveLink] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src", "background", "srcset") and value:
                self.links.append(LiveLink("image" if tag == "img" else "link", value, tag=tag))

    def handle_data(self, data: str) -> None:
        self.links += [LiveLink("bare", url) for url in bare_urls(data)]


def html_live_links(page: str) -> list[LiveLink]:
    collector = _LinkCollector()
    collector.feed(page)
    collector.close()
    return collector.links


_Server = QuietServer


class _ReceiverHandler(QuietHandler):
    state: AlertReceivers

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        receivers = self.state
        target = urlsplit(self.path)
        route = target.path.strip("/").split("/", 1)[0]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            payload = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, ValueError):
            payload = None
        headers = {k.lower(): v for k, v in self.headers.items()}
        entry = Received(route, "POST", self.path, headers, body, payload)
        receivers._record(entry)
        if route not in ROUTES:
            entry.problems.append("unknown route")
            return self._send(entry, 404, {"error": "not found"})
        fault = receivers._take_fault(route)
        if fault is not None:
            entry.fault = fault.kind
            return self._fault(entry, route, fault)
        query = {k: v[-1] for k, v in parse_qs(target.query, keep_blank_values=True).items()}
        if route == "slack":
            status, text, entry.problems = receivers.check_slack(target.path, payload)
            return self._send(entry, status, text)
        if route == "dingtalk":
            answer, entry.problems = receivers.check_dingtalk(query, payload)
            return self._send(entry, 200, answer)
        if route == "feishu":
            answer, entry.problems = receivers.check_feishu(target.path, body, payload)
            return self._send(entry, 200, answer)
        status, answer, entry.problems = receivers.check_webhook(headers, body, payload)
        return self._send(entry, status, answer)

    def _fault(self, entry: Received, route: str, fault: _Fault) -> None:
        if fault.kind == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if fault.kind == "stall":
            time.sleep(self.state.stall_seconds)
            return self._send(entry, 503, {"error": "stalled"})
        if fault.kind == "429":
            slack_like = "rate_limited" if route == "slack" else {"error": "rate limited"}
            extra = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            return self._send(entry, 429, slack_like, extra)
        if fault.kind == "busy":
            answer = {"dingtalk": DINGTALK_TOO_FAST, "feishu": FEISHU_FREQUENCY}.get(route, "rate_limited")
            return self._send(entry, 200, answer)
        if fault.kind == "answer":
            return self._send(entry, int(fault.status or 200), fault.body or "")
        answer = "internal_error" if route == "slack" else {"error": "Internal Server Error"}
        return self._send(entry, int(fault.kind), answer)

    def _send(self, entry: Received, status: int, answer: object, headers: dict[str, str] | None = None) -> None:
        entry.status, entry.answer = status, answer
        if isinstance(answer, str):
            data, content_type = answer.encode("utf-8"), "text/html; charset=utf-8"
        else:
            data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
            content_type = "application/json; charset=utf-8"
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True


@contextmanager
def alert_receivers(**options) -> Iterator[AlertReceivers]:
    """The HTTP receivers running on 127.0.0.1 for the duration of a `with` block."""
    receivers = AlertReceivers(**options)
    with receivers:
        yield receivers


def free_port() -> int:
    """A loopback port nothing listens on (for connection-refused tests)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --------------------------------------------------------------------------- TLS material


@dataclass(frozen=True)
class TestCertificate:
    """A self-signed certificate for 127.0.0.1 and localhost; clients trust exactly this one."""

    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Full verification (chain and host name) against this certificate only, as a real client would do."""
        return ssl.create_default_context(cafile=str(self.cert_path))


TestCertificate.__test__ = False  # not a pytest test class


def make_test_certificate(directory: Path) -> TestCertificate:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lodestar-test-smtp")])
    now = dt.datetime.now(dt.timezone.utc)
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return TestCertificate(cert_path, key_path)


# --------------------------------------------------------------------------- SMTP receiver


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    """The session had switched to TLS (STARTTLS) before the message was sent."""
    login: str | None
    """The user the session authenticated as, if it did."""

    def live_links(self) -> list[LiveLink]:
        """Links and images of the HTML part, and URLs a mail client links by itself in either part."""
        page = self.message.get_body(("html",))
        plain = self.message.get_body(("plain",))
        return (html_live_links(page.get_content() if page else "")
                + [LiveLink("bare", url) for url in bare_urls(plain.get_content() if plain else "")])


class FakeSMTP:
    """An aiosmtpd server on 127.0.0.1 with optional STARTTLS and AUTH; records every message it accepts."""

    def __init__(self, certificate: TestCertificate | None = None, *, users: dict[str, str] | None = None,
                 require_starttls: bool = True):
        self.certificate = certificate
        self.users = dict(users or {})
        self.require_starttls = require_starttls and certificate is not None
        self.messages: list[ReceivedMail] = []
        self.failed_logins: list[str] = []
        self.data_attempts = 0
        self._faults: list[str] = []
        self._lock = threading.Lock()
        self._controller = None

    def start(self) -> int:
        from aiosmtpd.controller import Controller

        fake = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
                return fake._data(session, envelope)

        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))

        class _BoundController(Controller):
            """Listens on a socket bound beforehand, so the port is known without a race."""

            def _create_server(self):
                return self.loop.create_server(self._factory_invoker, sock=sock, ssl=self.ssl_context)

        options: dict = {"server_hostname": "smtp.lodestar.test", "ready_timeout": 5.0}
        if self.certificate is not None:
            options.update(tls_context=self.certificate.server_context(), require_starttls=self.require_starttls)
        if self.users:
            options.update(authenticator=self._authenticate, auth_required=True, auth_require_tls=True)
        self._controller = _BoundController(Handler(), hostname="127.0.0.1", port=sock.getsockname()[1], **options)
        self._controller.start()
        return self.port

    @property
    def port(self) -> int:
        assert self._controller is not None, "SMTP server not started"
        return self._controller.port

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> FakeSMTP:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def fail_next(self, count: int, reply: str = "451 4.3.0 Temporary failure, try again later") -> None:
        """Answer the next `count` DATA commands with `reply` instead of accepting the message."""
        with self._lock:
            self._faults += [reply] * count

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if self.users.get(login) == password:
                return AuthResult(success=True, auth_data=auth_data)
            with self._lock:
                self.failed_logins.append(login)
        return AuthResult(success=False, handled=False)

    def _data(self, session, envelope) -> str:
        with self._lock:
            self.data_attempts += 1
            if self._faults:
                return self._faults.pop(0)
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content or envelope.content)
        login = session.auth_data.login.decode() if session.authenticated and session.auth_data else None
        with self._lock:
            self.messages.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message,
                                              tls=session.ssl is not None, login=login))
        return "250 2.0.0 OK: queued as LODESTAR"


@contextmanager
def smtp_server(certificate: TestCertificate | None = None, **options) -> Iterator[FakeSMTP]:
    """The SMTP receiver running on 127.0.0.1 for the duration of a `with` block."""
    server = FakeSMTP(certificate, **options)
    with server:
        yield server
