"""Synthetic "Acme" IT department emitted as vendor-shaped payloads.

Why vendor shapes: the demo has to run through exactly the same parse code as
real Jira / GitHub / GitLab / timesheet sources (docs/payload-contract.md), so
every body is what the vendor REST API returns for that item.

Why a simulation instead of random rows: the delay model needs real signal.
Work is planned from estimates (due dates), then actual durations are inflated
by assignee overload, blockers, scope churn, task size and bug type, and slips
propagate along dependency chains and sub-task sequences.  Everything derives
from one ``numpy.random.default_rng(seed)`` and dates relative to ``as_of``;
the clock is read only for the default ``as_of`` at the call boundary.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterator

import numpy as np

_JIRA = "https://jira.acme.cn"
_GITLAB = "https://gitlab.acme.cn"
_MOB_PATH = "acme/mobile-app"
_MOB_ID = 42
_CST = timedelta(hours=8)
_HOLIDAYS = ((1, 1), (5, 1), (5, 2), (5, 3), *((10, d) for d in range(1, 8)))


@dataclass(frozen=True)
class DemoPayload:
    """One raw vendor item, as a connector would have fetched and stored it."""

    kind: str
    item_key: str
    updated_at: datetime
    body: dict | list | bytes


# display name, Jira username (email local part), GitHub login, GitLab username
_PEOPLE: tuple[tuple[str, str, str, str | None], ...] = (
    ("张伟", "zhangwei", "zhangwei-acme", None), ("李娜", "lina", "lina-ba", None),
    ("王芳", "wangfang", "fang-wang", None), ("刘洋", "liuyang", "liuyang-fe", None),
    ("Emily Chen", "emily.chen", "emilychen", None), ("陈静", "chenjing", "chenjing92", None),
    ("杨磊", "yanglei", "yanglei-dev", None), ("David Li", "david.li", "dli-acme", "david.li"),
    ("赵敏", "zhaomin", "zhaomin-be", None), ("黄勇", "huangyong", "huangyong", None),
    ("周杰", "zhoujie", "zhoujie-qa", None), ("吴婷", "wuting", "wuting-qa", None),
    ("徐强", "xuqiang", "xuqiang-ops", None), ("Kevin Wang", "kevin.wang", "kevinwang-acme", None),
    ("孙丽", "sunli", "sunli-data", None), ("马超", "machao", "machao-de", None),
    ("Grace Zhou", "grace.zhou", "gracezhou", None), ("朱琳", "zhulin", "zhulin-etl", None),
    ("胡斌", "hubin", "hubin-dba", None), ("郭娟", "guojuan", "guojuan-qa", None),
    ("Jason Liu", "jason.liu", "jasonliu-acme", "jason.liu"), ("何鹏", "hepeng", "hepeng-ios", "hepeng"),
    ("林峰", "linfeng", "linfeng-android", "linfeng"), ("Sophie Xu", "sophie.xu", "sophiexu", "sophie.xu"),
    ("高翔", "gaoxiang", "gaoxiang-app", "gaoxiang"), ("罗敏", "luomin", "luomin-qa", "luomin"),
    ("梁雪", "liangxue", "liangxue-ux", "liangxue"), ("郑浩", "zhenghao", "zhenghao-ops", None),
    ("Michael Zhang", "michael.zhang", "mzhang-ops", None), ("Tony Huang", "tony.huang", "tonyhuang", None),
)
# Jira hides these addresses (user privacy setting): identity merging must fall back to names.
_NO_EMAIL = ("hubin", "tony.huang")
_TEAMS: dict[str, dict[str, tuple[str, ...]]] = {
    "ERP": {"pm": ("zhangwei",), "ba": ("lina", "wangfang"), "fe": ("liuyang", "emily.chen", "chenjing"),
            "be": ("yanglei", "david.li", "zhaomin", "huangyong"), "qa": ("zhoujie", "wuting"), "ops": ("xuqiang",)},
    "DP": {"pm": ("kevin.wang",), "ba": ("sunli",), "de": ("machao", "grace.zhou", "zhulin", "hubin", "sunli"),
           "qa": ("guojuan",), "ops": ("hubin",)},
    "MOB": {"pm": ("jason.liu",), "ux": ("liangxue",), "app": ("hepeng", "linfeng", "sophie.xu", "gaoxiang"),
            "api": ("david.li",), "qa": ("luomin",)},
    "OPS": {"pm": ("zhenghao",), "ops": ("zhenghao", "xuqiang", "michael.zhang", "tony.huang", "hubin", "david.li"),
            "qa": ("zhenghao", "lina", "jason.liu", "zhoujie", "sunli")},
}


@dataclass(frozen=True)
class _Phase:
    """A WBS phase (Jira epic / GitLab milestone); begin/end are shares of the project span."""

    name: str
    slug: str
    begin: float
    end: float
    roles: tuple[str, ...]
    actions: tuple[tuple[str, str], ...]
    code: bool  # work lands in a repository, so commits and PRs reference it


@dataclass(frozen=True)
class _Spec:
    """Shape of one demo project; start/due are calendar days relative to as_of."""

    key: str
    name: str
    budget: float
    hourly_rate: float
    start: int
    due: int
    phases: tuple[_Phase, ...]
    objects: tuple[tuple[str, str, str], ...]  # zh, slug, component
    symptoms: tuple[tuple[str, str], ...]
    lanes: int
    per_lane: int
    sub_share: float
    bugs: int
    chain: float  # P(consecutive lane items carry a "Blocks" link)
    cross: float  # P(a lane is blocked by an item of the previous phase)
    churn: float  # mean description edits per work item
    repo: str | None


_P = _Phase
_SPECS: tuple[_Spec, ...] = (
    _Spec("ERP", "ERP 系统实施", 3_800_000, 450, -262, 85, (
        _P("需求调研", "requirements", 0.0, 0.14, ("ba", "pm"), (("需求访谈", "interview"), ("业务流程梳理", "process-map"), ("需求规格说明书", "srs")), False),
        _P("原型设计", "prototype", 0.12, 0.26, ("ba", "fe"), (("页面原型设计", "wireframe"), ("交互评审", "ux-review"), ("数据模型设计", "data-model")), False),
        _P("前端开发", "frontend", 0.24, 0.48, ("fe",), (("列表页开发", "list-page"), ("表单页开发", "form-page"), ("审批流页面", "approval-ui")), True),
        _P("后端开发", "backend", 0.44, 0.66, ("be",), (("接口开发", "api"), ("审批流引擎集成", "workflow"), ("数据导入", "import"), ("报表查询", "report")), True),
        _P("测试验证", "testing", 0.62, 0.86, ("qa",), (("功能测试", "functional-test"), ("集成测试", "integration-test"), ("性能测试", "perf-test"), ("UAT 用户验收", "uat")), False),
        _P("部署上线", "go-live", 0.84, 1.0, ("be", "ops"), (("生产环境部署", "deploy"), ("历史数据迁移", "data-migration"), ("用户培训", "training"), ("上线切换演练", "cutover-drill")), True),
    ), (("总账凭证", "voucher", "财务"), ("应付账款", "payables", "财务"), ("应收账款", "receivables", "财务"),
        ("采购订单", "purchase-order", "采购"), ("供应商档案", "supplier", "采购"), ("入库单", "inbound", "库存"),
        ("出库单", "outbound", "库存"), ("库存盘点", "stocktake", "库存"), ("销售订单", "sales-order", "销售"),
        ("客户档案", "customer", "销售"), ("报价单", "quotation", "销售"), ("员工档案", "employee", "人事"),
        ("考勤", "attendance", "人事"), ("薪资核算", "payroll", "人事"), ("物料主数据", "material", "生产"),
        ("生产工单", "work-order", "生产")),
        (("保存失败", "save-fails"), ("金额计算错误", "amount-error"), ("页面加载超时", "timeout"),
         ("导出 Excel 乱码", "export-encoding"), ("权限校验缺失", "permission"), ("分页数据重复", "pagination")),
        6, 4, 0.75, 95, 0.75, 0.7, 0.5, "acme/erp-backend"),
    _Spec("DP", "数据平台迁移", 3_000_000, 480, -222, 110, (
        _P("数据盘点", "inventory", 0.0, 0.12, ("ba", "de"), (("源系统盘点", "source-survey"), ("数据质量评估", "dq-assess")), False),
        _P("数仓模型设计", "modeling", 0.10, 0.26, ("ba", "de"), (("维度模型设计", "dim-model"), ("指标口径定义", "metric-def"), ("分层规范", "layering")), False),
        _P("数据接入开发", "ingestion", 0.22, 0.48, ("de",), (("CDC 接入", "cdc"), ("Kafka 接入", "kafka"), ("批量抽取", "batch-extract")), True),
        _P("ETL开发", "etl", 0.40, 0.70, ("de",), (("ETL 作业开发", "etl-job"), ("调度配置", "schedule"), ("数据质量校验", "dq-check")), True),
        _P("数据迁移与对账", "migration", 0.66, 0.88, ("de", "qa"), (("历史数据迁移", "backfill"), ("对账脚本", "reconcile"), ("差异排查", "diff")), True),
        _P("切换上线", "cutover", 0.86, 1.0, ("de", "ops"), (("切换演练", "cutover-drill"), ("报表切换", "report-switch"), ("旧平台下线", "decommission")), True),
    ), (("订单明细", "orders", "交易域"), ("客户主数据", "customer-master", "主数据"), ("财务凭证", "ledger", "财务域"),
        ("库存快照", "stock-snapshot", "供应链域"), ("App 埋点日志", "events", "行为域"), ("用户画像", "user-profile", "行为域"),
        ("销售日报", "sales-daily", "交易域"), ("供应链指标", "supply-kpi", "供应链域"), ("Oracle 源库", "oracle-source", "基础设施"),
        ("HR 数据", "hr-data", "主数据"), ("支付流水", "payments", "交易域"), ("商品维表", "product-dim", "主数据")),
        (("数据重复", "duplicates"), ("字段精度丢失", "precision"), ("作业超时", "job-timeout"), ("对账差异", "reconcile-diff")),
        5, 4, 0.7, 55, 0.6, 0.6, 0.4, "acme/data-platform"),
    _Spec("MOB", "移动办公 App", 2_000_000, 400, -200, 70, (
        _P("M1 需求与设计", "design", 0.0, 0.20, ("ux", "pm"), (("交互设计", "ux"), ("视觉稿", "visual"), ("需求评审", "review")), False),
        _P("M2 核心功能开发", "core", 0.18, 0.55, ("app", "api"), (("页面开发", "page"), ("接口对接", "api"), ("离线缓存", "offline"), ("消息通知", "notify")), True),
        _P("M3 功能完善与联调", "polish", 0.50, 0.80, ("app", "api"), (("iOS 适配", "ios"), ("Android 适配", "android"), ("埋点接入", "tracking"), ("性能优化", "perf")), True),
        _P("M4 测试与发布", "release", 0.78, 1.0, ("qa", "app"), (("回归测试", "regression"), ("应用商店上架", "store-release"), ("灰度发布", "canary")), True),
    ), tuple((zh, slug, "app") for zh, slug in (
        ("登录", "login"), ("首页", "home"), ("审批中心", "approvals"), ("消息推送", "push"), ("通讯录", "contacts"),
        ("考勤打卡", "clock-in"), ("报销", "expense"), ("个人中心", "profile"), ("设置", "settings"), ("扫一扫", "scan"),
        ("日程", "calendar"), ("公告", "notice"), ("请假", "leave"), ("会议室预订", "room-booking"))),
        (("闪退", "crash"), ("白屏", "blank-screen"), ("推送收不到", "push-missing"), ("布局错乱", "layout")),
        8, 7, 0.0, 85, 0.0, 0.0, 0.4, _MOB_PATH),
    _Spec("OPS", "IT 运维支持", 600_000, 300, -330, 35, tuple(
        _P(zh, slug, 0.0, 1.0, ("ops",), (("SSL 证书更新", "cert-renewal"), ("安全补丁升级", "patching"), ("磁盘扩容", "disk-expansion"),
                                          ("账号开通", "account"), ("权限调整", "permission"), ("备份恢复演练", "restore-drill"),
                                          ("配置变更", "config-change")), False)
        for zh, slug in (("日常运维", "routine"), ("安全加固", "security"), ("监控告警", "alerting"), ("性能优化", "performance"))),
        tuple((zh, slug, comp) for zh, slug, comp in (
            ("OA 系统", "oa", "应用支持"), ("邮件服务器", "mail", "服务器"), ("VPN 网关", "vpn", "网络"), ("核心交换机", "core-switch", "网络"),
            ("生产数据库", "prod-db", "数据库"), ("备份系统", "backup", "服务器"), ("域控", "ad", "服务器"), ("监控平台", "monitoring", "应用支持"),
            ("堡垒机", "bastion", "网络"), ("文件服务器", "fileserver", "服务器"), ("ERP 测试环境", "erp-test-env", "应用支持"), ("K8s 集群", "k8s", "服务器"))),
        (("无法访问", "unreachable"), ("CPU 持续 90% 告警", "cpu-alert"), ("数据同步失败", "sync-failure"),
         ("登录超时", "login-timeout"), ("磁盘空间不足", "disk-full")),
        1, 340, 0.25, 0, 0.07, 0.0, 0.15, None),
)
_SPEC_BY_KEY = {s.key: s for s in _SPECS}
_CODE_STEPS = (("技术设计", "design"), ("编码实现", "impl"), ("单元测试", "unit-test"), ("联调", "integration"), ("文档", "docs"))
_DOC_STEPS = (("资料收集", "collect"), ("访谈与评审", "review"), ("文档编写", "doc"), ("确认签字", "signoff"), ("归档", "archive"))
_PRIORITIES = ("Highest", "High", "Medium", "Low")
_SLA_DAYS = {"Highest": 1, "High": 3, "Medium": 7, "Low": 15}
_STATUS = {"todo": ("10000", "待办", "To Do", 2, "new", "blue-gray", "待办"),
           "doing": ("3", "进行中", "In Progress", 4, "indeterminate", "yellow", "处理中"),
           "review": ("10101", "代码评审", "In Review", 4, "indeterminate", "yellow", "处理中"),
           "done": ("10001", "已完成", "Done", 3, "done", "green", "完成")}
_ISSUE_TYPES = {"epic": ("10000", "Epic"), "story": ("10001", "Story"), "task": ("10002", "Task"),
                "subtask": ("10003", "Sub-task"), "bug": ("10004", "Bug")}
_LINK_TYPES = {"Blocks": ("10000", "is blocked by", "blocks"), "Relates": ("10003", "relates to", "relates to"),
               "Duplicate": ("10002", "is duplicated by", "duplicates")}
_CHANGES = ("业务方要求增加导出功能", "审批流程新增财务总监节点", "字段口径调整，需与财务对齐", "Scope changed: support multi-currency",
            "新增移动端适配要求", "Acceptance criteria updated after UAT feedback")
_COMMENTS = ("已开始处理，预计本周完成。", "需求有变更，已与业务方确认新口径。", "依赖的接口还没提供，先用 mock 数据联调。",
             "Blocked by environment issue, waiting for ops to fix the test server.", "PR submitted, please review.",
             "测试环境已部署，请验证。", "Found an edge case with historical data, need one more day.", "已修复，回归通过。",
             "Moved to next sprint due to capacity.", "和业务方确认过，按方案二实现。", "LGTM, closing.")
_WORK_NOTES = ("开发", "联调", "修复测试问题", "code review", "写单元测试", "文档整理", "")


@dataclass(slots=True)
class _Item:
    """One simulated work item; every day is a business-day index into _Calendar."""

    proj: str
    kind: str  # epic | story | task | subtask | bug
    summary: str
    slug: str
    phase: int
    assignee: int
    reporter: int
    ps: int  # planned start
    due: int
    pdays: int  # planned working days
    est_h: float
    created: int
    topic: str = ""
    component: str = ""
    parent: int | None = None
    epic: int | None = None
    subs: list[int] = field(default_factory=list)
    blockers: list[int] = field(default_factory=list)
    relates: int | None = None
    duplicate_of: int | None = None
    priority: str = "Medium"
    churn: int = 0
    code: bool = False
    review: bool = True
    jit: float = 0.5  # per-item minute jitter so timestamps are not all on the hour
    start: int = 0
    finish: int = 0
    review_day: int = 0
    first_done: int | None = None  # first "done" of an item that was reopened
    factor: float = 1.0
    load: float = 1.0
    hide_assignee: bool = False
    key: str = ""
    num: int = 0


class _Calendar:
    """Business days (Mon-Fri minus fixed-date PRC holidays) indexed 0..n, so plans are integer maths."""

    def __init__(self, first: date, last: date) -> None:
        days = np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)
        hol = [np.datetime64(date(y, m, d)) for y in range(first.year, last.year + 1) for m, d in _HOLIDAYS]
        self._days = days[np.is_busday(days, holidays=hol)]
        self._dates: list[date] = self._days.astype(object).tolist()

    def index(self, d: date) -> int:
        return int(np.searchsorted(self._days, np.datetime64(d, "D")))

    def date(self, i: int) -> date:
        return self._dates[min(i, len(self._dates) - 1)]

    def at(self, i: int, hour: float) -> datetime:
        """Naive Asia/Shanghai wall time of business day i."""
        return datetime.combine(self.date(i), time()) + timedelta(seconds=int(hour * 3600))


class _Ctx:
    """Shared state of one generate_demo call (rng, calendar, items, people)."""

    def __init__(self, seed: int, as_of: date) -> None:
        self.seed, self.as_of, self.rng = seed, as_of, np.random.default_rng(seed)
        self.cal = _Calendar(as_of - timedelta(days=400), as_of + timedelta(days=900))
        self.cut = self.cal.index(as_of)  # events happen strictly before this business day
        self.items: list[_Item] = []
        self.pidx = {p[1]: i for i, p in enumerate(_PEOPLE)}
        self.speed = self.rng.lognormal(0.0, 0.12, len(_PEOPLE))
        self.logs: dict[int, list[tuple[int, float]]] = {}  # item -> worklog (day, hours)

    def add(self, item: _Item) -> int:
        self.items.append(item)
        return len(self.items) - 1

    def team(self, key: str, role: str) -> list[int]:
        return [self.pidx[a] for a in _TEAMS[key][role]]

    def pick(self, seq: list[int] | tuple) -> int:
        return seq[int(self.rng.integers(len(seq)))]

    def bounds(self, spec: _Spec) -> tuple[int, int]:
        return (self.cal.index(self.as_of + timedelta(days=spec.start)),
                self.cal.index(self.as_of + timedelta(days=spec.due)))


def demo_projects(as_of: date) -> list[dict]:
    """Project master data (budget, rate, dates) the demo config loads alongside the payloads."""
    return [{"key": s.key, "name": s.name, "budget": float(s.budget), "currency": "CNY",
             "hourly_rate": float(s.hourly_rate), "start_date": as_of + timedelta(days=s.start),
             "due_date": as_of + timedelta(days=s.due), "tool": "gitlab" if s.key == "MOB" else "jira",
             "source_project": _MOB_PATH if s.key == "MOB" else s.key, "repo": s.repo,
             "lead": _TEAMS[s.key]["pm"][0] + "@acme.cn"} for s in _SPECS]


DEMO_PROJECTS: list[dict] = demo_projects(datetime.now(timezone.utc).date())


def generate_demo(seed: int = 42, as_of: date | None = None) -> list[DemoPayload]:
    """All payloads of the demo company as seen on ``as_of`` (nothing dated on/after it)."""
    if as_of is None:
        as_of = datetime.now(timezone.utc).date()
    elif isinstance(as_of, datetime):
        as_of = as_of.date()
    ctx = _Ctx(seed, as_of)
    for spec in _SPECS:
        (_plan_stream if spec.key == "OPS" else _plan_phased)(spec, ctx)
    _simulate(ctx)
    _assign_keys(ctx)
    ctx.logs = {i: _worklog_days(ctx, it) for i, it in enumerate(ctx.items) if it.key}
    return [*_jira_payloads(ctx), *_github_payloads(ctx), *_gitlab_payloads(ctx), *_timesheet_payloads(ctx)]


# --- planning -----------------------------------------------------------------

def _combos(spec: _Spec, ph: _Phase, n: int, rng: np.random.Generator) -> list[tuple[tuple, tuple]]:
    """Distinct object x action pairs for a phase, cycling with a suffix only if they run out."""
    base = [(o, a) for o in spec.objects for a in ph.actions]
    order = rng.permutation(len(base))
    out = []
    for k in range(n):
        (zh, slug, comp), act = base[int(order[k % len(base)])]
        zh = zh if k < len(base) else f"{zh}（二期）"
        out.append(((zh, slug, comp), act))
    return out


def _add_subtasks(ctx: _Ctx, u: int, k: int, people: list[int], steps: tuple) -> None:
    """Split a story's estimate into k sequential sub-tasks (design, build, test ...)."""
    rng, story = ctx.rng, ctx.items[u]
    hours = np.maximum(2.0, np.rint(story.est_h * rng.dirichlet(np.full(k, 3.0))))
    day = story.ps
    for h, (zh, slug) in zip(hours.tolist(), steps[:k]):
        who = story.assignee if rng.random() < 0.6 else ctx.pick(people)
        pdays = math.ceil(h / 6)
        s = ctx.add(_Item(story.proj, "subtask", f"{story.summary} - {zh}", f"{story.slug}-{slug}", story.phase,
                          who, story.assignee, day, day + pdays - 1, pdays, h, story.created, topic=story.topic,
                          component=story.component, parent=u, code=story.code, review=story.review,
                          jit=float(rng.random()), priority=story.priority))
        story.subs.append(s)
        day += pdays
    story.est_h, story.due, story.pdays = float(hours.sum()), day - 1, day - story.ps


def _plan_phased(spec: _Spec, ctx: _Ctx) -> None:
    """Phases as epics chained in time; lanes of stories per phase; bugs against code work."""
    rng, items = ctx.rng, ctx.items
    origin, end = ctx.bounds(spec)
    lead, qa = ctx.team(spec.key, "pm")[0], ctx.team(spec.key, "qa")
    prev_epic, prev_units, code_units = None, [], []
    for ph_i, ph in enumerate(spec.phases):
        b, e = origin + int((end - origin) * ph.begin), origin + int((end - origin) * ph.end)
        epic = ctx.add(_Item(spec.key, "epic", ph.name, ph.slug, ph_i, lead, lead, b, e, e - b + 1, 0.0,
                             origin + ph_i, review=False, jit=float(rng.random())))
        if prev_epic is not None:
            items[epic].blockers.append(prev_epic)
        prev_epic, units = epic, []
        people = [p for r in ph.roles for p in ctx.team(spec.key, r)]
        names = _combos(spec, ph, spec.lanes * spec.per_lane, rng)
        slot = (e - b + 1) / spec.per_lane
        for lane in range(spec.lanes):
            owner, day, pred = people[(lane + ph_i) % len(people)], b + int(rng.integers(0, 4)), None
            if prev_units and rng.random() < spec.cross:
                cands = [u for u in prev_units if items[u].due < day]
                pred = ctx.pick(cands) if cands else None
            for j in range(spec.per_lane):
                (obj, oslug, comp), (act, aslug) = names[lane * spec.per_lane + j]
                hours = float(max(4, round(slot * 6 * rng.uniform(0.5, 0.9))))
                subs = hours >= 16 and rng.random() < spec.sub_share
                pdays = math.ceil(hours / 6)
                u = ctx.add(_Item(spec.key, "story" if subs else "task", f"{obj}{act}", f"{oslug}-{aslug}", ph_i,
                                  owner, lead, day, day + pdays - 1, pdays, hours,
                                  origin + int((day - origin) * rng.uniform(0.0, 0.5)), topic=obj, component=comp,
                                  epic=epic, churn=int(rng.poisson(spec.churn)), code=ph.code,
                                  review=ph.code or rng.random() < 0.4, jit=float(rng.random()),
                                  priority=_PRIORITIES[int(rng.choice(4, p=[0.05, 0.25, 0.6, 0.1]))]))
                if subs:
                    _add_subtasks(ctx, u, int(rng.integers(2, 6)), people, _CODE_STEPS if ph.code else _DOC_STEPS)
                if pred is not None and (j == 0 or rng.random() < spec.chain):
                    items[u].blockers.append(pred)
                pred, day = u, items[u].due + 1 + int(rng.integers(0, 2))
                units.append(u)
                if ph.code:
                    code_units.append(u)
        prev_units = units
    bugs: list[int] = []
    for _ in range(spec.bugs):
        rel = ctx.pick(code_units)
        r = items[rel]
        ps = max(r.ps + 1, r.due + int(rng.integers(-3, 25)))
        prio = _PRIORITIES[int(rng.choice(4, p=[0.08, 0.3, 0.5, 0.12]))]
        est = float(np.clip(round(rng.lognormal(np.log(4), 0.6)), 1, 16))
        sym, sslug = spec.symptoms[int(rng.integers(len(spec.symptoms)))]
        dup = bugs[-1] if bugs and rng.random() < 0.06 else None
        summary = items[dup].summary if dup is not None else f"【{r.component}】{r.topic}{sym}"
        pdays = math.ceil(est / 6)
        bug = ctx.add(_Item(spec.key, "bug", summary, f"{r.slug}-{sslug}", r.phase, r.assignee, ctx.pick(qa), ps,
                            ps + pdays - 1 + _SLA_DAYS[prio], pdays, 1.0 if dup is not None else est, ps,
                            topic=r.topic, component=r.component, epic=r.epic, relates=rel,
                            duplicate_of=dup, priority=prio, code=True, review=rng.random() < 0.5,
                            jit=float(rng.random())))
        bugs.append(bug)


def _plan_stream(spec: _Spec, ctx: _Ctx) -> None:
    """Maintenance: a continuous stream of small tasks and bugs with priority-based SLAs."""
    rng, items = ctx.rng, ctx.items
    origin, end = ctx.bounds(spec)
    lead, people, reporters = ctx.team(spec.key, "pm")[0], ctx.team(spec.key, "ops"), ctx.team(spec.key, "qa")
    epics = [ctx.add(_Item(spec.key, "epic", ph.name, ph.slug, i, lead, lead, origin, end, end - origin + 1, 0.0,
                           origin, review=False, jit=float(rng.random()))) for i, ph in enumerate(spec.phases)]
    tasks: list[int] = []
    for c in np.sort(rng.integers(origin, end, spec.per_lane)).tolist():
        is_bug = rng.random() < 0.55
        prio = _PRIORITIES[int(rng.choice(4, p=[0.05, 0.2, 0.5, 0.25]))]
        est = float(np.clip(round(rng.lognormal(np.log(3 if is_bug else 5), 0.7)), 1, 40))
        sysz, sslug, comp = spec.objects[int(rng.integers(len(spec.objects)))]
        act, aslug = (spec.symptoms if is_bug else spec.phases[0].actions)[
            int(rng.integers(len(spec.symptoms if is_bug else spec.phases[0].actions)))]
        ps, pdays = c + int(rng.integers(0, 2 if prio in ("Highest", "High") else 4)), math.ceil(est / 6)
        epic = epics[int(rng.choice(4, p=[0.5, 0.2, 0.2, 0.1]))]
        u = ctx.add(_Item(spec.key, "bug" if is_bug else "task", f"{sysz}{act}", f"{sslug}-{aslug}",
                          items[epic].phase, ctx.pick(people), ctx.pick(reporters), ps, c + max(_SLA_DAYS[prio], pdays),
                          pdays, est, c, topic=sysz, component=comp, epic=epic, priority=prio,
                          churn=int(rng.poisson(spec.churn)), review=rng.random() < 0.2, jit=float(rng.random())))
        recent = [t for t in tasks[-25:] if items[t].due < ps]
        if not is_bug and recent and rng.random() < spec.chain:
            items[u].blockers.append(ctx.pick(recent))
        elif is_bug and tasks and rng.random() < 0.35:
            items[u].relates = ctx.pick(tasks[-40:])
        if not is_bug:
            tasks.append(u)
            if est >= 12 and rng.random() < spec.sub_share:
                _add_subtasks(ctx, u, int(rng.integers(2, 4)), people, _CODE_STEPS)


# --- simulation ---------------------------------------------------------------

def _simulate(ctx: _Ctx) -> None:
    """Turn the plan into actual start/finish days with slips that have causes."""
    rng, items = ctx.rng, ctx.items
    n = len(items)
    leaves = np.array([i for i, it in enumerate(items) if it.kind != "epic" and not it.subs])
    who = np.array([items[i].assignee for i in leaves])
    ps = np.array([items[i].ps for i in leaves])
    pe = np.array([max(items[i].due, items[i].ps + items[i].pdays - 1) for i in leaves])
    load = np.ones(len(leaves))
    for p in np.unique(who):  # concurrent planned work of the same person, across projects
        m = who == p
        load[m] = np.searchsorted(np.sort(ps[m]), ps[m], "right") - np.searchsorted(np.sort(pe[m]), ps[m], "left")
    roots = [items[i].parent if items[i].parent is not None else i for i in leaves]
    blockers = np.array([len(items[r].blockers) for r in roots])
    churn = np.array([items[r].churn for r in roots])
    est = np.array([items[i].est_h for i in leaves])
    bug = np.array([items[i].kind == "bug" for i in leaves])
    factor = (rng.lognormal(0.0, 0.2, len(leaves)) * ctx.speed[who] * (1 + 0.22 * (load - 1))
              * (1 + 0.15 * blockers) * (1 + 0.18 * churn) * np.clip(1 + 0.12 * np.log2(est / 8), 0.85, 1.5)
              * np.where(bug, 1.3, 1.0))
    adays = np.ones(n, dtype=int)
    adays[leaves] = np.maximum(1, np.rint(np.array([items[i].pdays for i in leaves]) * factor)).astype(int)
    for i, f, lo in zip(leaves.tolist(), factor.tolist(), load.tolist()):
        items[i].factor, items[i].load = f, lo
    jitter, gap = rng.integers(-1, 3, n), rng.random(n) < 0.7
    reopen, extra, rdays = rng.random(n) < 0.07, rng.integers(2, 5, n), rng.integers(0, 3, n)
    hide = rng.random(n) < 0.15
    units = sorted((i for i, it in enumerate(items) if it.kind != "epic" and it.parent is None),
                   key=lambda i: (items[i].ps, i))
    for u in units:
        it = items[u]
        day = max([it.ps + int(jitter[u]), it.created] + [items[b].finish + 1 for b in it.blockers])
        for leaf in it.subs or [u]:
            lf = items[leaf]
            lf.start, lf.finish = day, day + int(adays[leaf]) - 1
            if reopen[leaf]:
                lf.first_done, lf.finish = lf.finish, lf.finish + int(extra[leaf])
            day = lf.finish + int(gap[leaf])
        if it.subs:
            it.start, it.finish = items[it.subs[0]].start, items[it.subs[-1]].finish + int(gap[u])
    for i, it in enumerate(items):
        if it.kind == "epic":
            kids = [items[u] for u in units if items[u].epic == i]
            it.start, it.finish = min(k.start for k in kids), max(k.finish for k in kids)
        it.review_day = max(it.start, it.finish - int(rdays[i]))
        it.hide_assignee = bool(hide[i]) and it.start >= ctx.cut and it.kind != "epic"


def _transitions(it: _Item) -> list[tuple[int, float, str]]:
    """Status path (day, hour, state) including review and the odd reopen."""
    if it.kind == "epic":
        return [(it.start, 9.2, "doing"), (it.finish, 18.6, "done")]
    out = [(it.start, 9.3 + it.jit, "doing")]
    if it.first_done is not None:
        if it.review:
            out.append((max(it.start, it.first_done - 1), 14.0 + it.jit, "review"))
        out += [(it.first_done, 16.2 + it.jit, "done"), (it.first_done + 1, 10.5 + it.jit, "doing")]
    if it.review:
        out.append((max(out[-1][0], it.review_day), 14.0 + it.jit, "review"))
    out.append((it.finish, 16.2 + it.jit * 1.5, "done"))
    return out


def _state(it: _Item, cut: int) -> str:
    return ([s for d, _, s in _transitions(it) if d < cut] or ["todo"])[-1]


def _assign_keys(ctx: _Ctx) -> None:
    """Keys and ids follow creation order, as the trackers assign them."""
    counters: dict[str, int] = {}
    order = sorted((i for i, it in enumerate(ctx.items) if it.created < ctx.cut),
                   key=lambda i: (ctx.items[i].created, ctx.items[i].parent is not None, i))
    for i in order:
        it = ctx.items[i]
        counters[it.proj] = counters.get(it.proj, 0) + 1
        it.num = counters[it.proj]
        it.key = f"{_MOB_PATH}#{it.num}" if it.proj == "MOB" else f"{it.proj}-{it.num}"


def _active_days(it: _Item, cut: int) -> list[int]:
    return list(range(it.start, min(it.finish, cut - 1) + 1)) if it.start < cut else []


def _worklog_days(ctx: _Ctx, it: _Item) -> list[tuple[int, float]]:
    """Daily hours by the assignee while in progress; overload thins the hours per task."""
    days = _active_days(it, ctx.cut)
    if not days or it.subs or it.kind == "epic":
        return []
    mean = np.clip(it.est_h * it.factor ** 0.7 / (it.finish - it.start + 1), 0.5, 7.0)
    hours = np.clip(np.rint(ctx.rng.normal(mean, 1.0, len(days)) * 2) / 2, 0.5, 8.0)
    keep = ctx.rng.random(len(days)) < 0.85
    keep[0] = True
    return [(d, float(h)) for d, h, k in zip(days, hours.tolist(), keep.tolist()) if k]


# --- Jira -----------------------------------------------------------------------

def _jts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000+0800")


def _jira_user(p: int | None) -> dict | None:
    if p is None:
        return None
    name, acct = _PEOPLE[p][0], _PEOPLE[p][1]
    user = {"self": f"{_JIRA}/rest/api/2/user?username={acct}", "name": acct, "key": acct,
            "emailAddress": f"{acct}@acme.cn", "displayName": name, "active": True, "timeZone": "Asia/Shanghai"}
    if acct in _NO_EMAIL:
        del user["emailAddress"]
    return user


def _jira_status(proj: str, state: str) -> dict:
    sid, zh, en, cid, ckey, color, czh = _STATUS[state]
    english = proj == "OPS"  # the OPS project still runs the default English workflow
    cname = {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}[ckey] if english else czh
    return {"self": f"{_JIRA}/rest/api/2/status/{sid}", "id": sid, "name": en if english else zh, "description": "",
            "statusCategory": {"self": f"{_JIRA}/rest/api/2/statuscategory/{cid}", "id": cid, "key": ckey,
                               "colorName": color, "name": cname}}


def _jira_ref(ctx: _Ctx, it: _Item) -> dict:
    tid, tname = _ISSUE_TYPES[it.kind]
    num = 10000 * (_order(it.proj) + 1) + it.num
    return {"id": str(num), "key": it.key, "self": f"{_JIRA}/rest/api/2/issue/{num}",
            "fields": {"summary": it.summary, "status": _jira_status(it.proj, _state(it, ctx.cut)),
                       "priority": {"self": f"{_JIRA}/rest/api/2/priority/{_PRIORITIES.index(it.priority) + 1}",
                                    "name": it.priority, "id": str(_PRIORITIES.index(it.priority) + 1)},
                       "issuetype": {"self": f"{_JIRA}/rest/api/2/issuetype/{tid}", "id": tid, "name": tname,
                                     "subtask": it.kind == "subtask"}}}


def _order(proj: str) -> int:
    return [s.key for s in _SPECS].index(proj)


def _sprints(ctx: _Ctx, spec: _Spec, board: int, first_id: int) -> list[dict]:
    """Two-week sprints from the first Monday of the project until its due date."""
    start, due = ctx.as_of + timedelta(days=spec.start), ctx.as_of + timedelta(days=spec.due)
    monday, out = start + timedelta(days=(7 - start.weekday()) % 7), []
    origin, end = ctx.bounds(spec)
    while monday <= due:
        fri = monday + timedelta(days=11)
        s, e = ctx.cal.index(monday), ctx.cal.index(fri + timedelta(days=1)) - 1
        state = "closed" if e < ctx.cut else "active" if s < ctx.cut else "future"
        frac = (s - origin) / max(1, end - origin)
        ph = [p for p in spec.phases if p.begin <= frac][-1] if frac >= 0 else spec.phases[0]
        out.append({"id": first_id + len(out), "name": f"{spec.key} Sprint {len(out) + 1}", "state": state,
                    "boardId": board, "goal": f"{ph.name}：完成本迭代承诺的任务" if spec.key != "OPS" else "SLA 达标，清理积压工单",
                    "startDate": datetime.combine(monday, time(9, 30)).strftime("%Y-%m-%dT%H:%M:%S.000+08:00"),
                    "endDate": datetime.combine(fri, time(18)).strftime("%Y-%m-%dT%H:%M:%S.000+08:00"),
                    "_s": s, "_e": e, "_start": datetime.combine(monday, time(9, 30)),
                    "_end": datetime.combine(fri, time(18, 30))})
        if state == "closed":
            out[-1]["completeDate"] = datetime.combine(fri, time(18, 30)).strftime("%Y-%m-%dT%H:%M:%S.000+08:00")
        monday += timedelta(days=14)
    return out


def _issue_sprints(ctx: _Ctx, it: _Item, sprints: list[dict]) -> list[dict]:
    """Sprints an issue sat in: planned sprint, then every sprint it was carried over into."""
    ref = ctx.items[it.parent] if it.parent is not None else it
    if it.kind == "epic":
        return []
    if ref.start >= ctx.cut:
        return [s for s in sprints if s["_s"] <= ref.ps <= s["_e"] and s["_s"] < ctx.cut + 10]
    lo, hi = max(min(ref.ps, ref.start), ref.start - 10), min(ref.finish, ctx.cut - 1)
    return [s for s in sprints if s["_s"] <= hi and s["_e"] >= lo and s["_s"] < ctx.cut]


def _public(sprint: dict) -> dict:
    return {k: v for k, v in sprint.items() if not k.startswith("_")}


def _histories(ctx: _Ctx, it: _Item, sprints: list[dict], desc: list[str]) -> list[tuple]:
    """Changelog events (when, author, items): sprint moves, scope edits, status transitions."""
    rng, cal, cut, out = ctx.rng, ctx.cal, ctx.cut, []
    created = cal.at(it.created, 9.0 + it.jit * 8)
    lead = ctx.pidx[_TEAMS[it.proj]["pm"][0]]
    for k, s in enumerate(sprints):
        planned = s["_start"] if s["_s"] < cut else cal.at(cut - 1, 17.5)  # next sprint planned before it starts
        when = max(planned, created + timedelta(minutes=5))
        out.append((when, lead, [{"field": "Sprint", "fieldtype": "custom", "fieldId": "customfield_10020",
                                  "from": ", ".join(str(x["id"]) for x in sprints[:k]) or None,
                                  "fromString": ", ".join(x["name"] for x in sprints[:k]) or None,
                                  "to": ", ".join(str(x["id"]) for x in sprints[:k + 1]),
                                  "toString": ", ".join(x["name"] for x in sprints[:k + 1])}]))
    points = _story_points(it.est_h)
    for c in range(it.churn if it.kind != "subtask" else 0):
        day = it.created + 1 + int(rng.integers(0, max(1, it.finish - it.created)))
        if day >= cut:
            continue
        new = desc[-1] + f"\n\n【变更{c + 1}】{_CHANGES[int(rng.integers(len(_CHANGES)))]}"
        items = [{"field": "description", "fieldtype": "jira", "from": None, "fromString": desc[-1],
                  "to": None, "toString": new}]
        desc.append(new)
        if it.kind == "story":
            bigger = _FIB[min(_FIB.index(points) + 1, len(_FIB) - 1)]
            items.append({"field": "Story Points", "fieldtype": "custom", "fieldId": "customfield_10002",
                          "from": None, "fromString": f"{points:g}", "to": None, "toString": f"{bigger:g}"})
            points = bigger
        out.append((cal.at(day, 11.0 + rng.random() * 5), it.reporter, items))
    prev = "todo"
    names = {s: _jira_status(it.proj, s) for s in _STATUS}
    who = it.assignee if it.kind != "epic" else lead
    for day, hour, state in _transitions(it):
        if day >= cut:
            break
        items = [{"field": "status", "fieldtype": "jira", "from": names[prev]["id"], "fromString": names[prev]["name"],
                  "to": names[state]["id"], "toString": names[state]["name"]}]
        if state == "done" or prev == "done":
            res = "Done" if it.proj == "OPS" else "完成"
            res = ("Duplicate" if it.proj == "OPS" else "重复") if it.duplicate_of is not None else res
            items.append({"field": "resolution", "fieldtype": "jira", "from": None if state == "done" else "10000",
                          "fromString": None if state == "done" else res, "to": "10000" if state == "done" else None,
                          "toString": res if state == "done" else None})
        out.append((cal.at(day, hour), who, items))
        prev = state
    out.sort(key=lambda e: e[0])
    return out


_FIB = (1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0)


def _story_points(hours: float) -> float:
    return _FIB[int(np.searchsorted((4, 8, 16, 28, 48, 80), hours))]


def _jira_issue(ctx: _Ctx, i: int, sprints: list[dict], links: dict[int, list[dict]]) -> dict:
    """One issue exactly as /rest/api/2/search?expand=changelog returns it."""
    it, cal, rng, cut = ctx.items[i], ctx.cal, ctx.rng, ctx.cut
    ref = _jira_ref(ctx, it)
    spec = _SPEC_BY_KEY[it.proj]
    ph = spec.phases[it.phase]
    desc = [f"背景：{spec.name} - {ph.name}阶段。\n目标：{it.summary}。\n\n验收标准：\n# 功能符合需求说明\n# 通过评审与测试"]
    in_sprints = _issue_sprints(ctx, it, sprints)
    hist = _histories(ctx, it, in_sprints, desc)
    state = _state(it, cut)
    logs = ctx.logs.get(i, [])
    worklogs = [{"self": f"{ref['self']}/worklog/{i * 100 + k}", "id": str(i * 100 + k), "issueId": ref["id"],
                 "author": _jira_user(it.assignee), "updateAuthor": _jira_user(it.assignee),
                 "comment": _WORK_NOTES[(i + k) % len(_WORK_NOTES)], "started": _jts(cal.at(d, 9.0 + it.jit)),
                 "created": _jts(cal.at(d, 18.5 + it.jit)), "updated": _jts(cal.at(d, 18.5 + it.jit)),
                 "timeSpent": f"{h:g}h", "timeSpentSeconds": int(h * 3600)} for k, (d, h) in enumerate(logs)]
    span = _active_days(it, cut) or [it.created]
    notes = sorted((cal.at(span[int(rng.integers(len(span)))], 10.0 + rng.random() * 8),
                    ctx.pick([it.assignee, it.reporter]), _COMMENTS[int(rng.integers(len(_COMMENTS)))])
                   for _ in range(int(rng.poisson(1.2)) if it.start < cut else int(rng.random() < 0.2)))
    comments = [{"self": f"{ref['self']}/comment/{i * 100 + k}", "id": str(i * 100 + k), "author": _jira_user(a),
                 "updateAuthor": _jira_user(a), "body": text, "created": _jts(w), "updated": _jts(w)}
                for k, (w, a, text) in enumerate(notes)]
    spent = sum(w["timeSpentSeconds"] for w in worklogs)
    est = None if it.subs or it.kind == "epic" else int(it.est_h * 3600)
    sub_spent = spent + sum(int(h * 3600) for s in it.subs for _, h in ctx.logs.get(s, []))
    done_at = [e[0] for e in hist if any(x["field"] == "status" for x in e[2])]
    created = cal.at(it.created, 9.0 + it.jit * 8)
    updated = max([created] + [e[0] for e in hist] + [cal.at(d, 18.5 + it.jit) for d, _ in logs] + [n[0] for n in notes])
    points = _story_points(it.est_h)
    for e in hist:
        for x in e[2]:
            if x["field"] == "Story Points":
                points = float(x["toString"])
    dup = it.duplicate_of is not None
    res_name = ("Duplicate" if it.proj == "OPS" else "重复") if dup else ("Done" if it.proj == "OPS" else "完成")
    fields = {
        "summary": it.summary, "description": desc[-1], "issuetype": ref["fields"]["issuetype"],
        "status": ref["fields"]["status"], "priority": ref["fields"]["priority"],
        "assignee": None if it.hide_assignee else _jira_user(it.assignee), "reporter": _jira_user(it.reporter),
        "creator": _jira_user(it.reporter), "created": _jts(created), "updated": _jts(updated),
        "resolutiondate": _jts(done_at[-1]) if state == "done" else None,
        "resolution": {"self": f"{_JIRA}/rest/api/2/resolution/10000", "id": "10000", "name": res_name}
        if state == "done" else None,
        "duedate": cal.date(it.due).isoformat(), "timeoriginalestimate": est,
        "timeestimate": None if est is None else (0 if state == "done" else max(0, est - spent)),
        "timespent": spent or None, "aggregatetimespent": sub_spent or None,
        "aggregatetimeoriginalestimate": int(it.est_h * 3600) if it.kind != "epic" else None,
        "labels": [name for name, on in (("需求变更", len(desc) > 1), ("regression", it.kind == "bug" and it.code),
                                         ("sla", it.proj == "OPS" and it.priority == "Highest")) if on],
        "components": [{"self": f"{_JIRA}/rest/api/2/component/{_hash_int(it.component) % 90000}",
                        "id": str(_hash_int(it.component) % 90000), "name": it.component}] if it.component else [],
        "project": {"self": f"{_JIRA}/rest/api/2/project/{10100 + _order(it.proj)}", "id": str(10100 + _order(it.proj)),
                    "key": it.proj, "name": spec.name, "projectTypeKey": "software"},
        "subtasks": [_jira_ref(ctx, ctx.items[s]) for s in it.subs if ctx.items[s].key],
        "issuelinks": links.get(i, []),
        "worklog": {"startAt": 0, "maxResults": max(20, len(worklogs)), "total": len(worklogs), "worklogs": worklogs},
        "comment": {"comments": comments, "maxResults": len(comments), "total": len(comments), "startAt": 0},
        "customfield_10002": points if it.kind in ("story", "task") else None,
        "customfield_10020": [_public(s) for s in in_sprints] or None,
        "customfield_10014": ctx.items[it.epic].key if it.epic is not None else None,
        "customfield_10011": it.summary if it.kind == "epic" else None,
        "customfield_10015": cal.date(it.ps).isoformat(), "customfield_10016": cal.date(it.due).isoformat(),
        "fixVersions": [], "versions": [],
    }
    if it.parent is not None:
        fields["parent"] = _jira_ref(ctx, ctx.items[it.parent])
    histories = [{"id": str(i * 1000 + k), "author": _jira_user(a), "created": _jts(w), "items": x}
                 for k, (w, a, x) in enumerate(hist)]
    return {"expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields", "id": ref["id"],
            "self": ref["self"], "key": it.key, "fields": fields,
            "changelog": {"startAt": 0, "maxResults": len(histories), "total": len(histories), "histories": histories}}


def _hash_int(text: str) -> int:
    """Stable small integer for ids derived from names (Python's hash() is salted per process)."""
    return int(hashlib.sha1(text.encode()).hexdigest()[:8], 16)


def _jira_links(ctx: _Ctx) -> dict[int, list[dict]]:
    """Every link on both issues: outwardIssue on the source side, inwardIssue on the target side."""
    out: dict[int, list[dict]] = {}
    pairs = []
    for i, it in enumerate(ctx.items):
        pairs += [("Blocks", b, i) for b in it.blockers]
        if it.relates is not None:
            pairs.append(("Relates", i, it.relates))
        if it.duplicate_of is not None:
            pairs.append(("Duplicate", i, it.duplicate_of))
    for n, (name, a, b) in enumerate(pairs):
        ia, ib = ctx.items[a], ctx.items[b]
        if not (ia.key and ib.key) or ia.proj == "MOB":
            continue
        tid, inward, outward = _LINK_TYPES[name]
        ltype = {"id": tid, "name": name, "inward": inward, "outward": outward,
                 "self": f"{_JIRA}/rest/api/2/issueLinkType/{tid}"}
        lid = str(20000 + n)
        out.setdefault(a, []).append({"id": lid, "self": f"{_JIRA}/rest/api/2/issueLink/{lid}", "type": ltype,
                                      "outwardIssue": _jira_ref(ctx, ib)})
        out.setdefault(b, []).append({"id": lid, "self": f"{_JIRA}/rest/api/2/issueLink/{lid}", "type": ltype,
                                      "inwardIssue": _jira_ref(ctx, ia)})
    return out


_FIELDS = (("customfield_10002", "Story Points", "number", "com.atlassian.jira.plugin.system.customfieldtypes:float"),
           ("customfield_10020", "Sprint", "array", "com.pyxis.greenhopper.jira:gh-sprint"),
           ("customfield_10014", "Epic Link", "any", "com.pyxis.greenhopper.jira:gh-epic-link"),
           ("customfield_10011", "Epic Name", "string", "com.pyxis.greenhopper.jira:gh-epic-label"),
           ("customfield_10015", "Start date", "date", "com.atlassian.jira.plugin.system.customfieldtypes:datepicker"),
           ("customfield_10016", "Target end", "date", "com.atlassian.jira.plugin.system.customfieldtypes:datepicker"))
_SYSTEM_FIELDS = (("summary", "Summary", "string"), ("status", "Status", "status"), ("assignee", "Assignee", "user"),
                  ("duedate", "Due Date", "date"), ("timeoriginalestimate", "Original Estimate", "number"),
                  ("timespent", "Time Spent", "number"), ("issuelinks", "Linked Issues", "array"))


def _jira_payloads(ctx: _Ctx) -> Iterator[DemoPayload]:
    """Field list, projects, sprints and issues of the three Jira projects."""
    first = ctx.cal.at(ctx.bounds(_SPECS[-1])[0], 9.0) - _CST
    fields = [{"id": f, "key": f, "name": n, "custom": False, "orderable": True, "navigable": True, "searchable": True,
               "clauseNames": [f], "schema": {"type": t, "system": f}} for f, n, t in _SYSTEM_FIELDS]
    fields += [{"id": f, "key": f, "name": n, "custom": True, "orderable": True, "navigable": True, "searchable": True,
                "clauseNames": [f"cf[{f[12:]}]", n], "schema": {"type": t, "custom": c, "customId": int(f[12:]),
                                                                  **({"items": "string"} if t == "array" else {})}}
               for f, n, t, c in _FIELDS]
    yield DemoPayload("jira_fields", "fields", first, fields)
    links, sprint_id = _jira_links(ctx), 101
    for board, spec in enumerate(s for s in _SPECS if s.key != "MOB"):
        start = ctx.cal.at(ctx.bounds(spec)[0], 9.0) - _CST
        lead = _jira_user(ctx.pidx[_TEAMS[spec.key]["pm"][0]])
        yield DemoPayload("jira_project", spec.key, start, {
            "expand": "description,lead,url,projectKeys", "self": f"{_JIRA}/rest/api/2/project/{10100 + _order(spec.key)}",
            "id": str(10100 + _order(spec.key)), "key": spec.key, "name": spec.name, "description": spec.name,
            "lead": lead, "projectTypeKey": "software", "assigneeType": "UNASSIGNED", "url": f"{_JIRA}/browse/{spec.key}",
            "components": [{"self": f"{_JIRA}/rest/api/2/component/{_hash_int(c) % 90000}", "id": str(_hash_int(c) % 90000),
                            "name": c} for c in sorted({o[2] for o in spec.objects})],
            "issueTypes": [{"self": f"{_JIRA}/rest/api/2/issuetype/{t}", "id": t, "name": n, "subtask": n == "Sub-task"}
                           for t, n in _ISSUE_TYPES.values()], "versions": [], "projectKeys": [spec.key]})
        sprints = _sprints(ctx, spec, board + 1, sprint_id)
        sprint_id += len(sprints)
        for s in sprints:
            body = {"id": s["id"], "self": f"{_JIRA}/rest/agile/1.0/sprint/{s['id']}", "state": s["state"],
                    "name": s["name"], "startDate": s["startDate"], "endDate": s["endDate"],
                    "originBoardId": s["boardId"], "goal": s["goal"]}
            if "completeDate" in s:
                body["completeDate"] = s["completeDate"]
            touched = s["_end"] if s["state"] == "closed" else s["_start"] if s["state"] == "active" else start
            yield DemoPayload("jira_sprint", str(s["id"]), touched - _CST, body)
        idx = sorted((i for i, it in enumerate(ctx.items) if it.proj == spec.key and it.key),
                     key=lambda i: ctx.items[i].num)
        for i in idx:
            body = _jira_issue(ctx, i, sprints, links)
            upd = datetime.strptime(body["fields"]["updated"][:19], "%Y-%m-%dT%H:%M:%S") - _CST
            yield DemoPayload("jira_issue", ctx.items[i].key, upd, body)


# --- GitHub ---------------------------------------------------------------------

def _sha(*parts: object) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()


def _gh_user(p: int) -> dict:
    login = _PEOPLE[p][2]
    return {"login": login, "id": 1_000_000 + p * 7919, "type": "User", "html_url": f"https://github.com/{login}"}


def _gh_ts(dt: datetime) -> str:
    return (dt - _CST).strftime("%Y-%m-%dT%H:%M:%SZ")


def _code_commits(ctx: _Ctx, it: _Item) -> list[tuple[datetime, int, int]]:
    """(local time, additions, deletions) of commits made while a code leaf was in progress."""
    days = _active_days(it, ctx.cut)
    if not it.code or it.subs or not days:
        return []
    rng = ctx.rng
    n = 1 + min(int(rng.poisson(len(days) / 3)), 5)
    picks = np.sort(rng.integers(0, len(days), n))
    adds = np.rint(rng.lognormal(3.5, 1.0, n)).astype(int) + 1
    return [(ctx.cal.at(days[int(k)], 10.0 + rng.random() * 12.5), int(a), int(a * rng.random() * 0.6))
            for k, a in zip(picks, adds)]


def _github_payloads(ctx: _Ctx) -> Iterator[DemoPayload]:
    """Commits mentioning Jira keys and one PR per code work item, per repository."""
    for spec in (s for s in _SPECS if s.repo and s.key != "MOB"):
        repo, pulls, commits = spec.repo, [], []
        for i, it in enumerate(ctx.items):
            if it.proj != spec.key or not it.key:
                continue
            for k, (when, a, d) in enumerate(_code_commits(ctx, it)):
                verb = "修复" if it.kind == "bug" else ""
                msg = f"{it.key} {verb}{it.summary}" if k % 3 != 2 else f"{it.key} add unit tests for {it.slug}"
                commits.append((when, it.assignee, msg, a, d, _sha(repo, it.key, k, ctx.seed)))
            if it.code and it.parent is None and it.kind != "epic" and it.start < ctx.cut:
                opened = it.review_day if it.review else it.finish
                if opened < ctx.cut:
                    pulls.append((ctx.cal.at(opened, 13.0 + it.jit), i))
        numbered = sorted(pulls)
        for n, (opened, i) in enumerate(numbered, start=1):
            it = ctx.items[i]
            branch = f"{'bugfix' if it.kind == 'bug' else 'feature'}/{it.key}-{it.slug}"
            merged = ctx.cal.at(it.finish, 15.5 + it.jit) if it.finish < ctx.cut else None
            abandoned = merged is not None and _hash_int(it.key) % 20 == 0
            lead = ctx.pidx[_TEAMS[spec.key]["pm"][0]]
            if merged is not None and not abandoned:
                commits.append((merged, lead, f"Merge pull request #{n} from {repo.split('/')[0]}/{branch}\n\n{it.key} {it.summary}",
                                0, 0, _sha(repo, "merge", n, ctx.seed)))
            closed = merged
            body = {"url": f"https://api.github.com/repos/{repo}/pulls/{n}", "id": 900_000 + n * 31 + _order(spec.key),
                    "html_url": f"https://github.com/{repo}/pull/{n}", "number": n,
                    "state": "closed" if closed else "open", "title": f"{it.key} {it.summary}",
                    "body": f"关联任务: {_JIRA}/browse/{it.key}\n\n{it.summary}\n\n- [x] 单元测试\n- [x] 自测通过",
                    "user": _gh_user(it.assignee), "created_at": _gh_ts(opened),
                    "updated_at": _gh_ts(closed or max(opened, ctx.cal.at(min(it.finish, ctx.cut - 1), 18.0))),
                    "closed_at": _gh_ts(closed) if closed else None,
                    "merged_at": _gh_ts(merged) if merged and not abandoned else None,
                    "merge_commit_sha": _sha(repo, "merge", n, ctx.seed) if merged and not abandoned else None,
                    "draft": False, "head": {"ref": branch, "sha": _sha(repo, branch), "repo": {"full_name": repo}},
                    "base": {"ref": "main", "sha": _sha(repo, "main", n), "repo": {"full_name": repo}}}
            yield DemoPayload("github_pull", f"{repo}#{n}",
                              datetime.strptime(body["updated_at"], "%Y-%m-%dT%H:%M:%SZ"), body)
        for when, who, msg, a, d, sha in sorted(commits, key=lambda c: (c[0], c[5])):
            git = {"name": _PEOPLE[who][0], "email": f"{_PEOPLE[who][1]}@acme.cn", "date": _gh_ts(when)}
            yield DemoPayload("github_commit", sha, when - _CST, {
                "sha": sha, "node_id": f"C_{sha[:20]}", "url": f"https://api.github.com/repos/{repo}/commits/{sha}",
                "html_url": f"https://github.com/{repo}/commit/{sha}",
                "commit": {"author": git, "committer": dict(git), "message": msg, "comment_count": 0,
                           "tree": {"sha": _sha(sha, "tree")}},
                "author": _gh_user(who), "committer": _gh_user(who), "parents": [{"sha": _sha(sha, "parent")}],
                "stats": {"additions": a, "deletions": d, "total": a + d}})


# --- GitLab and timesheets --------------------------------------------------------

def _gl_user(p: int) -> dict:
    name, _, _, user = _PEOPLE[p]
    return {"id": 200 + p, "username": user, "name": name, "state": "active",
            "avatar_url": None, "web_url": f"{_GITLAB}/{user}"}


def _gl_ts(dt: datetime) -> str:
    return (dt - _CST).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _human(seconds: int) -> str | None:
    """GitLab's human duration (1w = 5d, 1d = 8h)."""
    if not seconds:
        return None
    parts, rest = [], seconds // 60
    for unit, size in (("w", 5 * 8 * 60), ("d", 8 * 60), ("h", 60), ("m", 1)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return " ".join(parts)


def _gitlab_payloads(ctx: _Ctx) -> Iterator[DemoPayload]:
    """acme/mobile-app issues (time_stats fed by the timesheets), merge requests and commits."""
    spec, cal, cut = _SPEC_BY_KEY["MOB"], ctx.cal, ctx.cut
    origin = ctx.bounds(spec)[0]
    idx = sorted((i for i, it in enumerate(ctx.items) if it.proj == "MOB" and it.key and it.kind != "epic"),
                 key=lambda i: ctx.items[i].num)
    milestones = {}
    for ph_i, ph in enumerate(spec.phases):
        e = next(it for it in ctx.items if it.proj == "MOB" and it.kind == "epic" and it.phase == ph_i)
        milestones[ph_i] = {"id": 500 + ph_i, "iid": ph_i + 1, "project_id": _MOB_ID, "title": ph.name,
                            "description": "", "state": "closed" if e.finish < cut else "active",
                            "created_at": _gl_ts(cal.at(origin, 10.0)), "updated_at": _gl_ts(cal.at(origin, 10.0)),
                            "due_date": cal.date(e.due).isoformat(), "start_date": cal.date(e.ps).isoformat(),
                            "expired": e.due < cut, "web_url": f"{_GITLAB}/{_MOB_PATH}/-/milestones/{ph_i + 1}"}
    mrs, commits = [], []
    for i in idx:
        it = ctx.items[i]
        logs = _worklog_days(ctx, it)
        ctx.mob_logs += [(it.assignee, d, h, i) for d, h in logs]
        state = _state(it, cut)
        created = cal.at(it.created, 9.0 + it.jit * 8)
        closed = cal.at(it.finish, 16.2 + it.jit * 1.5) if state == "done" else None
        updated = max([created] + [cal.at(d, 18.5) for d, _ in logs] + [closed or created])
        labels = ["bug" if it.kind == "bug" else "feature", f"P{min(3, _PRIORITIES.index(it.priority) + 1)}"]
        labels += {"doing": ["status::doing"], "review": ["status::review"]}.get(state, [])
        incident = it.kind == "bug" and it.priority == "Highest" and it.phase == 3
        iid, spent = it.num, int(sum(h for _, h in logs) * 3600)
        est = int(it.est_h * 3600)
        body = {"id": 880_000 + iid, "iid": iid, "project_id": _MOB_ID, "title": it.summary,
                "description": f"## 背景\n{spec.name}：{it.summary}\n\n## 验收标准\n- [ ] iOS / Android 双端通过",
                "state": "closed" if closed else "opened", "created_at": _gl_ts(created), "updated_at": _gl_ts(updated),
                "closed_at": _gl_ts(closed) if closed else None, "closed_by": _gl_user(it.assignee) if closed else None,
                "labels": sorted(labels), "milestone": milestones[it.phase],
                "assignees": [] if it.hide_assignee else [_gl_user(it.assignee)],
                "assignee": None if it.hide_assignee else _gl_user(it.assignee), "author": _gl_user(it.reporter),
                "type": "INCIDENT" if incident else "ISSUE", "issue_type": "incident" if incident else "issue",
                "user_notes_count": int(it.churn), "merge_requests_count": 0, "upvotes": 0, "downvotes": 0,
                "due_date": cal.date(it.due).isoformat(), "confidential": False,
                "web_url": f"{_GITLAB}/{_MOB_PATH}/-/issues/{iid}",
                "time_stats": {"time_estimate": est, "total_time_spent": spent,
                               "human_time_estimate": _human(est), "human_total_time_spent": _human(spent)},
                "references": {"short": f"#{iid}", "relative": f"#{iid}", "full": f"{_MOB_PATH}#{iid}"},
                "severity": "CRITICAL" if incident else "UNKNOWN"}
        for k, (when, a, d) in enumerate(_code_commits(ctx, it)):
            prefix = "fix" if it.kind == "bug" else ("test" if k % 4 == 3 else "feat")
            commits.append((when, it.assignee, f"{prefix}: {it.summary} #{iid}", a, d, _sha(_MOB_PATH, iid, k, ctx.seed)))
        opened = it.review_day if it.review else it.finish
        if it.code and it.start < cut and opened < cut:
            mrs.append((cal.at(opened, 13.0 + it.jit), i, closed, body))
        yield DemoPayload("gitlab_issue", f"{_MOB_PATH}#{iid}", updated - _CST, body)
    for n, (opened, i, closed, issue) in enumerate(sorted(mrs, key=lambda m: (m[0], m[1])), start=1):
        it = ctx.items[i]
        issue["merge_requests_count"] = 1
        branch = f"{it.num}-{it.slug}"
        merged = closed - timedelta(minutes=20) if closed else None
        body = {"id": 990_000 + n, "iid": n, "project_id": _MOB_ID, "title": f'Resolve "{it.summary}" #{it.num}',
                "description": f"Closes #{it.num}", "state": "merged" if merged else "opened",
                "created_at": _gl_ts(opened), "updated_at": _gl_ts(merged or opened),
                "merged_at": _gl_ts(merged) if merged else None, "closed_at": None,
                "merged_by": _gl_user(ctx.pidx["jason.liu"]) if merged else None, "author": _gl_user(it.assignee),
                "assignees": [_gl_user(it.assignee)], "reviewers": [_gl_user(ctx.pidx["jason.liu"])],
                "source_branch": branch, "target_branch": "main", "source_project_id": _MOB_ID,
                "target_project_id": _MOB_ID, "labels": issue["labels"], "milestone": issue["milestone"],
                "draft": False, "work_in_progress": False, "merge_status": "can_be_merged",
                "sha": _sha(_MOB_PATH, branch), "merge_commit_sha": _sha(_MOB_PATH, "merge", n) if merged else None,
                "references": {"short": f"!{n}", "relative": f"!{n}", "full": f"{_MOB_PATH}!{n}"},
                "web_url": f"{_GITLAB}/{_MOB_PATH}/-/merge_requests/{n}",
                "time_stats": {"time_estimate": 0, "total_time_spent": 0, "human_time_estimate": None,
                               "human_total_time_spent": None}}
        yield DemoPayload("gitlab_merge_request", f"{_MOB_PATH}!{n}", (merged or opened) - _CST, body)
    for when, who, msg, a, d, sha in sorted(commits, key=lambda c: (c[0], c[5])):
        local = when.strftime("%Y-%m-%dT%H:%M:%S.000+08:00")
        yield DemoPayload("gitlab_commit", sha, when - _CST, {
            "id": sha, "short_id": sha[:8], "created_at": local, "parent_ids": [_sha(sha, "parent")],
            "title": msg.split("\n")[0], "message": msg, "author_name": _PEOPLE[who][0],
            "author_email": f"{_PEOPLE[who][1]}@acme.cn", "authored_date": local, "committer_name": _PEOPLE[who][0],
            "committer_email": f"{_PEOPLE[who][1]}@acme.cn", "committed_date": local, "trailers": {},
            "web_url": f"{_GITLAB}/{_MOB_PATH}/-/commit/{sha}", "stats": {"additions": a, "deletions": d, "total": a + d}})


def _timesheet_payloads(ctx: _Ctx) -> Iterator[DemoPayload]:
    """Monthly CSV exports of the MOB team: issue hours plus meetings with an empty task."""
    spec, cal = _SPEC_BY_KEY["MOB"], ctx.cal
    origin = ctx.bounds(spec)[0]
    rows = [(cal.date(d), _PEOPLE[p][0], h, ctx.items[i].key, _WORK_NOTES[(d + i) % 4]) for p, d, h, i in ctx.mob_logs]
    team = sorted({ctx.pidx[a] for r in _TEAMS["MOB"].values() for a in r})
    for d in range(origin, ctx.cut):
        day = cal.date(d)
        if day.weekday() == 0:
            rows += [(day, _PEOPLE[p][0], 1.0, "", "周会") for p in team]
        if day.weekday() == 4 and (d - origin) // 5 % 2 == 1:
            rows += [(day, _PEOPLE[p][0], 1.5, "", "迭代评审会") for p in team]
    months: dict[str, list] = {}
    for r in sorted(rows, key=lambda r: (r[0], r[1], r[3])):
        months.setdefault(r[0].strftime("%Y-%m"), []).append(r)
    for month, mrows in months.items():
        buf = io.StringIO()
        out = csv.writer(buf, lineterminator="\n")
        out.writerow(["姓名", "日期", "工时", "任务", "备注"])
        out.writerows([name, day.isoformat(), f"{h:g}", task, note] for day, name, h, task, note in mrows)
        last = datetime.combine(mrows[-1][0], time(10))
        yield DemoPayload("timesheet_file", f"timesheets/{month}.csv", last, buf.getvalue().encode("utf-8"))
