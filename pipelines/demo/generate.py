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
_CST = timedelta(hours=8)  # all wall times are Asia/Shanghai; payload timestamps carry the offset
_HOLIDAYS = ((1, 1), (5, 1), (5, 2), (5, 3), *((10, d) for d in range(1, 8)))


@dataclass(frozen=True)
class DemoPayload:
    """One raw vendor item, as a connector would have fetched and stored it."""

    kind: str
    item_key: str
    updated_at: datetime
    body: dict | list | bytes


def _pairs(text: str) -> tuple[tuple[str, ...], ...]:
    """'需求访谈/interview|业务流程梳理/process-map' -> (('需求访谈', 'interview'), ...): keeps tables short."""
    return tuple(tuple(part.split("/")) for part in text.split("|"))


# display name / Jira username (= email local part) / GitHub login [/ GitLab username]
_PEOPLE: tuple[tuple[str, ...], ...] = _pairs(
    "张伟/zhangwei/zhangwei-acme|李娜/lina/lina-ba|王芳/wangfang/fang-wang|刘洋/liuyang/liuyang-fe|"
    "Emily Chen/emily.chen/emilychen|陈静/chenjing/chenjing92|杨磊/yanglei/yanglei-dev|"
    "David Li/david.li/dli-acme/david.li|赵敏/zhaomin/zhaomin-be|黄勇/huangyong/huangyong|周杰/zhoujie/zhoujie-qa|"
    "吴婷/wuting/wuting-qa|徐强/xuqiang/xuqiang-ops|Kevin Wang/kevin.wang/kevinwang-acme|孙丽/sunli/sunli-data|"
    "马超/machao/machao-de|Grace Zhou/grace.zhou/gracezhou|朱琳/zhulin/zhulin-etl|胡斌/hubin/hubin-dba|"
    "郭娟/guojuan/guojuan-qa|Jason Liu/jason.liu/jasonliu-acme/jason.liu|何鹏/hepeng/hepeng-ios/hepeng|"
    "林峰/linfeng/linfeng-android/linfeng|Sophie Xu/sophie.xu/sophiexu/sophie.xu|高翔/gaoxiang/gaoxiang-app/gaoxiang|"
    "罗敏/luomin/luomin-qa/luomin|梁雪/liangxue/liangxue-ux/liangxue|郑浩/zhenghao/zhenghao-ops|"
    "Michael Zhang/michael.zhang/mzhang-ops|Tony Huang/tony.huang/tonyhuang")
# Jira hides these addresses (user privacy setting): identity merging must fall back to names.
_NO_EMAIL = ("hubin", "zhaomin")
# Shared people (david.li, hubin, xuqiang) are deliberately spread over several projects: overload.
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
    actions: tuple[tuple[str, ...], ...]
    code: bool  # work lands in a repository, so commits and PRs reference it


def _phase(name: str, begin: float, end: float, roles: str, actions: str, code: bool) -> _Phase:
    zh, slug = name.split("/")
    return _Phase(zh, slug, begin, end, tuple(roles.split()), _pairs(actions), code)


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
    objects: tuple[tuple[str, ...], ...]  # zh / slug / component
    symptoms: tuple[tuple[str, ...], ...]
    items: int  # work items per phase (OPS: in total)
    sub_share: float  # P(a large item is a Story broken into sub-tasks)
    bugs: int
    chain: float  # P(an item is "Blocks"-linked to the item before it in its lane / ticket queue)
    cross: float  # P(a lane is blocked by an item of the previous phase)
    churn: float  # mean description edits per work item
    repo: str | None


_OPS_ACTIONS = "SSL 证书更新/cert-renewal|安全补丁升级/patching|磁盘扩容/disk-expansion|账号开通/account|权限调整/permission|" \
               "备份恢复演练/restore-drill|配置变更/config-change"
_SPECS: tuple[_Spec, ...] = (
    _Spec("ERP", "ERP 系统实施", 3_900_000, 450, -262, 85, (
        _phase("需求调研/requirements", 0.0, 0.14, "ba pm", "需求访谈/interview|业务流程梳理/process-map|需求规格说明书/srs", False),
        _phase("原型设计/prototype", 0.12, 0.26, "ba fe", "页面原型设计/wireframe|交互评审/ux-review|数据模型设计/data-model", False),
        _phase("前端开发/frontend", 0.24, 0.48, "fe", "列表页开发/list-page|表单页开发/form-page|审批流页面/approval-ui", True),
        _phase("后端开发/backend", 0.44, 0.66, "be", "接口开发/api|审批流引擎集成/workflow|数据导入/import|报表查询/report", True),
        _phase("测试验证/testing", 0.62, 0.86, "qa fe", "功能测试/functional-test|集成测试/integration-test|性能测试/perf-test|"
                                                   "UAT 用户验收/uat", False),
        _phase("部署上线/go-live", 0.84, 1.0, "be ops", "生产环境部署/deploy|历史数据迁移/data-migration|用户培训/training|"
                                                     "上线切换演练/cutover-drill", True)),
        _pairs("总账凭证/voucher/财务|应付账款/payables/财务|应收账款/receivables/财务|采购订单/purchase-order/采购|"
               "供应商档案/supplier/采购|入库单/inbound/库存|出库单/outbound/库存|库存盘点/stocktake/库存|"
               "销售订单/sales-order/销售|客户档案/customer/销售|报价单/quotation/销售|员工档案/employee/人事|"
               "考勤/attendance/人事|薪资核算/payroll/人事|物料主数据/material/生产|生产工单/work-order/生产"),
        _pairs("保存失败/save-fails|金额计算错误/amount-error|页面加载超时/timeout|导出 Excel 乱码/export-encoding|"
               "权限校验缺失/permission|分页数据重复/pagination"),
        24, 0.75, 120, 0.75, 0.7, 0.5, "acme/erp-backend"),
    _Spec("DP", "数据平台迁移", 5_200_000, 480, -222, 110, (
        _phase("数据盘点/inventory", 0.0, 0.12, "ba de", "源系统盘点/source-survey|数据质量评估/dq-assess", False),
        _phase("数仓模型设计/modeling", 0.10, 0.26, "ba de", "维度模型设计/dim-model|指标口径定义/metric-def|分层规范/layering", False),
        _phase("数据接入开发/ingestion", 0.22, 0.48, "de", "CDC 接入/cdc|Kafka 接入/kafka|批量抽取/batch-extract", True),
        _phase("ETL开发/etl", 0.40, 0.70, "de", "ETL 作业开发/etl-job|调度配置/schedule|数据质量校验/dq-check", True),
        _phase("数据迁移与对账/migration", 0.66, 0.88, "de qa", "历史数据迁移/backfill|对账脚本/reconcile|差异排查/diff", True),
        _phase("切换上线/cutover", 0.86, 1.0, "de ops", "切换演练/cutover-drill|报表切换/report-switch|旧平台下线/decommission", True)),
        _pairs("订单明细/orders/交易域|客户主数据/customer-master/主数据|财务凭证/ledger/财务域|库存快照/stock-snapshot/供应链域|"
               "App 埋点日志/events/行为域|用户画像/user-profile/行为域|销售日报/sales-daily/交易域|供应链指标/supply-kpi/供应链域|"
               "Oracle 源库/oracle-source/基础设施|HR 数据/hr-data/主数据|支付流水/payments/交易域|商品维表/product-dim/主数据"),
        _pairs("数据重复/duplicates|字段精度丢失/precision|作业超时/job-timeout|对账差异/reconcile-diff"),
        16, 0.8, 80, 0.6, 0.6, 0.4, "acme/data-platform"),
    _Spec("MOB", "移动办公 App", 2_900_000, 400, -200, 70, (
        _phase("M1 需求与设计/design", 0.0, 0.20, "ux pm", "交互设计/ux|视觉稿/visual|需求评审/review", False),
        _phase("M2 核心功能开发/core", 0.18, 0.55, "app api", "页面开发/page|接口对接/api|离线缓存/offline|消息通知/notify", True),
        _phase("M3 功能完善与联调/polish", 0.50, 0.80, "app api", "iOS 适配/ios|Android 适配/android|埋点接入/tracking|"
                                                             "性能优化/perf", True),
        _phase("M4 测试与发布/release", 0.78, 1.0, "qa app", "回归测试/regression|应用商店上架/store-release|灰度发布/canary", True)),
        _pairs("登录/login/app|首页/home/app|审批中心/approvals/app|消息推送/push/app|通讯录/contacts/app|考勤打卡/clock-in/app|"
               "报销/expense/app|个人中心/profile/app|设置/settings/app|扫一扫/scan/app|日程/calendar/app|公告/notice/app|"
               "请假/leave/app|会议室预订/room-booking/app"),
        _pairs("闪退/crash|白屏/blank-screen|推送收不到/push-missing|布局错乱/layout"),
        60, 0.0, 110, 0.0, 0.0, 0.4, _MOB_PATH),
    _Spec("OPS", "IT 运维支持", 550_000, 300, -330, 35, tuple(
        _phase(name, 0.0, 1.0, "ops", _OPS_ACTIONS, False)
        for name in ("日常运维/routine", "安全加固/security", "监控告警/alerting", "性能优化/performance")),
        _pairs("OA 系统/oa/应用支持|邮件服务器/mail/服务器|VPN 网关/vpn/网络|核心交换机/core-switch/网络|生产数据库/prod-db/数据库|"
               "备份系统/backup/服务器|域控/ad/服务器|监控平台/monitoring/应用支持|堡垒机/bastion/网络|文件服务器/fileserver/服务器|"
               "ERP 测试环境/erp-test-env/应用支持|K8s 集群/k8s/服务器"),
        _pairs("无法访问/unreachable|CPU 持续 90% 告警/cpu-alert|数据同步失败/sync-failure|登录超时/login-timeout|"
               "磁盘空间不足/disk-full"),
        340, 0.25, 0, 0.07, 0.0, 0.15, None),
)
_SPEC_BY_KEY = {s.key: s for s in _SPECS}
_CODE_STEPS = _pairs("技术设计/design|编码实现/impl|单元测试/unit-test|联调/integration|文档/docs")
_DOC_STEPS = _pairs("资料收集/collect|访谈与评审/review|文档编写/doc|确认签字/signoff|归档/archive")
_PRIORITIES = ("Highest", "High", "Medium", "Low")
_SLA_DAYS = {"Highest": 1, "High": 3, "Medium": 7, "Low": 15}
_STATUS = {"todo": ("10000", "待办", "To Do", 2, "new", "blue-gray", "待办"),  # id, zh, en, category...
           "doing": ("3", "进行中", "In Progress", 4, "indeterminate", "yellow", "处理中"),
           "review": ("10101", "代码评审", "In Review", 4, "indeterminate", "yellow", "处理中"),
           "done": ("10001", "已完成", "Done", 3, "done", "green", "完成")}
_ISSUE_TYPES = {"epic": ("10000", "Epic"), "story": ("10001", "Story"), "task": ("10002", "Task"),
                "subtask": ("10003", "Sub-task"), "bug": ("10004", "Bug")}
_LINK_TYPES = {"Blocks": ("10000", "is blocked by", "blocks"), "Relates": ("10003", "relates to", "relates to"),
               "Duplicate": ("10002", "is duplicated by", "duplicates")}
_FIB = (1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0)
_CHANGES = ("业务方要求增加导出功能", "审批流程新增财务总监节点", "字段口径调整，需与财务对齐", "Scope changed: support multi-currency",
            "新增移动端适配要求", "Acceptance criteria updated after UAT feedback")
_COMMENTS = ("已开始处理，预计本周完成。", "需求有变更，已与业务方确认新口径。", "依赖的接口还没提供，先用 mock 数据联调。",
             "Blocked by environment issue, waiting for ops to fix the test server.", "PR submitted, please review.",
             "Moved to next sprint due to capacity.", "和业务方确认过，按方案二实现。", "LGTM, closing.")
_BUG_COMMENTS = ("已复现，正在定位。", "Root cause: missing null check in the service layer.", "已修复，回归通过。",
                 "测试环境已部署，请验证。", "Cannot reproduce on latest build, please attach logs.")
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
    jit: float = 0.0  # per-item minutes offset, so timestamps are not all on the hour
    start: int = 0
    finish: int = 0
    review_day: int = 0
    first_done: int | None = None  # first "done" of an item that was reopened
    factor: float = 1.0
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

    def pick(self, seq: list | tuple) -> int:
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
             "lead_email": _TEAMS[s.key]["pm"][0] + "@acme.cn"} for s in _SPECS]


def generate_demo(seed: int = 42, as_of: date | None = None) -> list[DemoPayload]:
    """All payloads of the demo company as seen on ``as_of`` (nothing dated on or after it)."""
    if as_of is None:
        as_of = datetime.now(timezone.utc).date()
    elif isinstance(as_of, datetime):
        as_of = as_of.date()
    ctx = _Ctx(seed, as_of)
    for spec in _SPECS:
        (_plan_stream if spec.key == "OPS" else _plan_phased)(spec, ctx)
    _simulate(ctx)
    _assign_keys(ctx)
    ctx.logs = _worklogs(ctx)
    return [*_jira_payloads(ctx), *_github_payloads(ctx), *_gitlab_payloads(ctx), *_timesheet_payloads(ctx)]


# --- planning -------------------------------------------------------------------

def _combos(spec: _Spec, ph: _Phase, n: int, rng: np.random.Generator) -> list[tuple[tuple, tuple]]:
    """Distinct object x action pairs for a phase, cycling with a suffix only if they run out."""
    base = [(o, a) for o in spec.objects for a in ph.actions]
    order = rng.permutation(len(base))
    out = []
    for k in range(n):
        (zh, slug, comp), act = base[int(order[k % len(base)])]
        out.append(((zh if k < len(base) else f"{zh}（二期）", slug, comp), act))
    return out


def _add_subtasks(ctx: _Ctx, u: int, k: int, people: list[int], steps: tuple) -> None:
    """Split a story's estimate into k sequential sub-tasks (design, build, test ...)."""
    rng, story = ctx.rng, ctx.items[u]
    hours = np.maximum(2.0, np.rint(story.est_h * rng.dirichlet(np.full(k, 3.0))))
    day = story.ps
    for h, (zh, slug) in zip(hours.tolist(), steps[:k]):
        who = story.assignee if rng.random() < 0.6 else ctx.pick(people)
        pdays = math.ceil(h / 6)
        story.subs.append(ctx.add(_Item(
            story.proj, "subtask", f"{story.summary} - {zh}", f"{story.slug}-{slug}", story.phase, who,
            story.assignee, day, day + pdays - 1, pdays, h, story.created, topic=story.topic,
            component=story.component, parent=u, code=story.code, review=story.review, jit=float(rng.random()),
            priority=story.priority)))
        day += pdays
    story.est_h, story.due, story.pdays = float(hours.sum()), day - 1, day - story.ps


def _plan_phased(spec: _Spec, ctx: _Ctx) -> None:
    """Phases as epics chained in time; lanes of items per phase; bugs raised against code work."""
    rng, items = ctx.rng, ctx.items
    origin, end = ctx.bounds(spec)
    lead, qa = ctx.team(spec.key, "pm")[0], ctx.team(spec.key, "qa")
    prev_epic, prev_units, code_units = None, [], []
    for ph_i, ph in enumerate(spec.phases):
        b, e = origin + int((end - origin) * ph.begin), origin + int((end - origin) * ph.end)
        epic = ctx.add(_Item(spec.key, "epic", ph.name, ph.slug, ph_i, lead, lead, b, e, e - b + 1, 0.0,
                             origin + ph_i, review=False))
        if prev_epic is not None:
            items[epic].blockers.append(prev_epic)
        prev_epic, units = epic, []
        people = list(dict.fromkeys(p for r in ph.roles for p in ctx.team(spec.key, r)))
        lanes = max(2, round(1.5 * len(people)))  # about 1.5 items in flight per person, as planners aim for
        per_lane = math.ceil(spec.items / lanes)
        names, slot = _combos(spec, ph, lanes * per_lane, rng), (e - b + 1) / per_lane
        for lane in range(lanes):
            owner, day, pred = people[(lane + ph_i) % len(people)], b + int(rng.integers(0, 4)), None
            if prev_units and rng.random() < spec.cross:
                cands = [u for u in prev_units if items[u].due < day]
                pred = ctx.pick(cands) if cands else None
            for j in range(per_lane):
                (obj, oslug, comp), (act, aslug) = names[lane * per_lane + j]
                hours = float(max(4, round(slot * 6 * rng.uniform(0.5, 0.9))))
                subs, pdays = hours >= 16 and rng.random() < spec.sub_share, math.ceil(hours / 6)
                u = ctx.add(_Item(
                    spec.key, "story" if subs else "task", f"{obj}{act}", f"{oslug}-{aslug}", ph_i, owner, lead, day,
                    day + pdays - 1, pdays, hours, origin + int((day - origin) * rng.uniform(0.0, 0.5)), topic=obj,
                    component=comp, epic=epic, churn=int(rng.poisson(spec.churn)), code=ph.code,
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
        ps = max(r.ps + 1, r.due + int(rng.integers(-3, 45)))  # found during development or later testing
        prio = _PRIORITIES[int(rng.choice(4, p=[0.08, 0.3, 0.5, 0.12]))]
        sym = spec.symptoms[int(rng.integers(len(spec.symptoms)))]
        earlier = [b for b in bugs if items[b].ps <= ps]
        dup = earlier[-1] if earlier and rng.random() < 0.06 else None
        est = 1.0 if dup is not None else float(np.clip(round(rng.lognormal(np.log(4), 0.6)), 1, 16))
        pdays = math.ceil(est / 6)
        bugs.append(ctx.add(_Item(
            spec.key, "bug", items[dup].summary if dup is not None else f"【{r.component}】{r.topic}{sym[0]}",
            f"{r.slug}-{sym[1]}", r.phase, r.assignee, ctx.pick(qa), ps, ps + pdays - 1 + _SLA_DAYS[prio], pdays,
            est, ps, topic=r.topic, component=r.component, epic=r.epic, relates=rel, duplicate_of=dup,
            priority=prio, code=True, review=dup is None and rng.random() < 0.5, jit=float(rng.random()))))


def _plan_stream(spec: _Spec, ctx: _Ctx) -> None:
    """Maintenance: a continuous stream of small tasks and bugs with priority-based SLAs."""
    rng, items = ctx.rng, ctx.items
    origin, end = ctx.bounds(spec)
    lead, people, reporters = ctx.team(spec.key, "pm")[0], ctx.team(spec.key, "ops"), ctx.team(spec.key, "qa")
    epics = [ctx.add(_Item(spec.key, "epic", ph.name, ph.slug, i, lead, lead, origin, end, end - origin + 1, 0.0,
                           origin, review=False)) for i, ph in enumerate(spec.phases)]
    tasks: list[int] = []
    for c in np.sort(rng.integers(origin, end, spec.items)).tolist():
        is_bug = rng.random() < 0.55
        prio = _PRIORITIES[int(rng.choice(4, p=[0.05, 0.2, 0.5, 0.25]))]
        est = float(np.clip(round(rng.lognormal(np.log(3 if is_bug else 5), 0.7)), 1, 40))
        sysz, sslug, comp = spec.objects[int(rng.integers(len(spec.objects)))]
        act, aslug = ctx.pick(spec.symptoms if is_bug else spec.phases[0].actions)
        # bugs queue by priority; tasks are requested ahead of a planned maintenance day
        wait = int(rng.integers(0, {"Highest": 1, "High": 2, "Medium": 4, "Low": 12}[prio]))
        ps, pdays = c + (wait if is_bug else 0), math.ceil(est / 2)  # tickets also wait on users and vendors
        created = c if is_bug else max(origin, c - int(rng.integers(0, 25)))
        epic = epics[int(rng.choice(4, p=[0.5, 0.2, 0.2, 0.1]))]
        u = ctx.add(_Item(spec.key, "bug" if is_bug else "task", f"{sysz}{act}", f"{sslug}-{aslug}",
                          items[epic].phase, ctx.pick(people), ctx.pick(reporters), ps, c + max(_SLA_DAYS[prio], pdays),
                          pdays, est, created, topic=sysz, component=comp, epic=epic, priority=prio,
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


# --- simulation -----------------------------------------------------------------

def _simulate(ctx: _Ctx) -> None:
    """Turn the plan into actual start/finish days with slips that have causes.

    Size, bug type, churn, blockers and personal speed are known up front (vectorised);
    overload is the assignee's work actually in flight when an item starts, so it is
    recoverable from the payloads' status histories, as a model would measure it.
    """
    rng, items, n = ctx.rng, ctx.items, len(ctx.items)
    roots = [it.parent if it.parent is not None else i for i, it in enumerate(items)]
    est = np.array([max(it.est_h, 1.0) for it in items])
    base = (rng.lognormal(-0.2, 0.2, n) * ctx.speed[[it.assignee for it in items]]
            * (1 + 0.12 * np.array([len(items[r].blockers) for r in roots]))
            * (1 + 0.15 * np.array([items[r].churn for r in roots]))
            * np.clip(1 + 0.12 * np.log2(est / 8), 0.85, 1.5) * np.where([it.kind == "bug" for it in items], 1.25, 1.0))
    jitter, gap = rng.integers(-1, 3, n), rng.random(n) < 0.3
    reopen, extra, rdays = rng.random(n) < 0.07, rng.integers(2, 5, n), rng.integers(0, 3, n)
    hide = rng.random(n) < 0.15
    busy: dict[int, list[tuple[int, int]]] = {}
    units = sorted((i for i, it in enumerate(items) if it.kind != "epic" and it.parent is None),
                   key=lambda i: (items[i].ps, i))  # blockers are always planned earlier, so already simulated
    for u in units:
        it = items[u]
        day = max([it.ps + int(jitter[u]), it.created] + [items[b].finish + 1 for b in it.blockers])
        for leaf in it.subs or [u]:
            lf, spans = items[leaf], busy.setdefault(items[leaf].assignee, [])
            wip = sum(1 for s, f in spans if s <= day <= f)
            lf.factor = float(base[leaf]) * (1 + 0.2 * min(wip, 4))
            lf.start, lf.finish = day, day + max(1, round(lf.pdays * lf.factor)) - 1
            if reopen[leaf] and lf.duplicate_of is None:
                lf.first_done, lf.finish = lf.finish, lf.finish + int(extra[leaf])
            spans.append((lf.start, lf.finish))
            day = lf.finish + int(gap[leaf])
        if it.subs:
            it.start, it.finish = items[it.subs[0]].start, items[it.subs[-1]].finish + int(gap[u])
    for i, it in enumerate(items):
        if it.kind == "epic":
            kids = [items[u] for u in units if items[u].epic == i]
            it.start, it.finish = min((k.start for k in kids), default=it.ps), max((k.finish for k in kids), default=it.due)
        it.review_day = max(it.start, it.finish - int(rdays[i]))
        it.hide_assignee = bool(hide[i]) and it.start >= ctx.cut and it.kind != "epic"


def _transitions(it: _Item) -> list[tuple[int, float, str]]:
    """Status path (day, hour, state); hours keep created < start < review < done on one day."""
    if it.kind == "epic":
        return [(it.start, 9.55, "doing"), (it.finish, 18.6, "done")]
    out = [(it.start, 9.6 + it.jit, "doing")]
    if it.first_done is not None:
        if it.review:
            out.append((max(it.start, it.first_done - 1), 14.0 + it.jit, "review"))
        out += [(it.first_done, 16.2 + it.jit, "done"), (it.first_done + 1, 10.7 + it.jit, "doing")]
    if it.review:
        out.append((max(out[-1][0], it.review_day), 14.0 + it.jit, "review"))
    return out + [(it.finish, 16.2 + it.jit * 1.5, "done")]


def _state(it: _Item, cut: int) -> str:
    return ([s for d, _, s in _transitions(it) if d < cut] or ["todo"])[-1]


def _closed_at(ctx: _Ctx, it: _Item) -> datetime | None:
    """When the item was (last) closed as seen on as_of; a reopen after as_of has not happened yet."""
    past = [(d, h, s) for d, h, s in _transitions(it) if d < ctx.cut]
    return ctx.cal.at(past[-1][0], past[-1][1]) if past and past[-1][2] == "done" else None


def _review_opened(ctx: _Ctx, it: _Item) -> datetime:
    """A PR/MR opens when the item goes to review (or is closed without one), before any first close."""
    day = it.review_day if it.review else it.finish
    return ctx.cal.at(day if it.first_done is None else min(day, it.first_done), 13.0 + it.jit)


def _created(ctx: _Ctx, it: _Item) -> datetime:
    return ctx.cal.at(it.created, 8.5 + it.jit)


def _assign_keys(ctx: _Ctx) -> None:
    """Keys follow creation order, as trackers assign them; items created after as_of do not exist yet."""
    counters: dict[str, int] = {}
    for i in sorted((i for i, it in enumerate(ctx.items) if it.created < ctx.cut),
                    key=lambda i: (ctx.items[i].created, ctx.items[i].parent is not None, i)):
        it = ctx.items[i]
        it.num = counters[it.proj] = counters.get(it.proj, 0) + 1
        it.key = f"{_MOB_PATH}#{it.num}" if it.proj == "MOB" else f"{it.proj}-{it.num}"


def _active_days(it: _Item, cut: int) -> list[int]:
    return list(range(it.start, min(it.finish, cut - 1) + 1)) if it.start < cut else []


def _worklogs(ctx: _Ctx) -> dict[int, list[tuple[int, float]]]:
    """Daily hours on each leaf while in progress, scaled so nobody books more than 10 h a day overall."""
    rng, rows, means = ctx.rng, [], []
    for i, it in enumerate(ctx.items):
        if it.key and not it.subs and it.kind != "epic":
            days = _active_days(it, ctx.cut)
            rows += [(i, it.assignee, d) for d in days]
            # effort grows slower than duration (waiting is not work); 0.85 offsets the days nobody logs
            means += [min(7.5, max(0.5, it.est_h * it.factor ** 0.7 / (it.finish - it.start + 1) / 0.85))] * len(days)
    item, person, day = np.array(rows, dtype=np.int64).reshape(-1, 3).T
    hours = np.clip(np.rint(rng.normal(np.array(means), 1.0) * 2) / 2, 0.5, 8.0)
    keep = (rng.random(len(hours)) < 0.85) | np.r_[True, item[1:] != item[:-1]]  # always log the first day
    item, person, day, hours = item[keep], person[keep], day[keep], hours[keep]
    _, inv = np.unique(person * 100_000 + day, return_inverse=True)
    total = np.bincount(inv, weights=hours)
    hours = np.maximum(0.5, np.floor(hours * np.minimum(1.0, 10.0 / total)[inv] * 2) / 2)
    out: dict[int, list[tuple[int, float]]] = {}
    for i, d, h in zip(item.tolist(), day.tolist(), hours.tolist()):
        out.setdefault(i, []).append((d, h))
    return out


# --- Jira -----------------------------------------------------------------------

def _ts(dt: datetime, style: str = "jira") -> str:
    """Shanghai wall time in each vendor's format: Jira +0800, Agile/GitLab commits +08:00, GitHub/GitLab UTC."""
    if style in ("jira", "agile"):
        return dt.strftime("%Y-%m-%dT%H:%M:%S.000" + ("+0800" if style == "jira" else "+08:00"))
    return (dt - _CST).strftime("%Y-%m-%dT%H:%M:%S" + ("Z" if style == "github" else ".000Z"))


def _change(name: str, old: str | None, new: str | None, ids: tuple = (None, None), custom: str = "") -> dict:
    """One changelog item; custom fields also carry their field id."""
    return {"field": name, "fieldtype": "custom" if custom else "jira", **({"fieldId": custom} if custom else {}),
            "from": ids[0], "fromString": old, "to": ids[1], "toString": new}


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
    """The abbreviated issue Jira embeds in parent, subtasks and issuelinks."""
    tid, tname = _ISSUE_TYPES[it.kind]
    num, prio = 10000 * _pnum(it.proj) + it.num, _PRIORITIES.index(it.priority) + 1
    return {"id": str(num), "key": it.key, "self": f"{_JIRA}/rest/api/2/issue/{num}",
            "fields": {"summary": it.summary, "status": _jira_status(it.proj, _state(it, ctx.cut)),
                       "priority": {"self": f"{_JIRA}/rest/api/2/priority/{prio}", "name": it.priority,
                                    "id": str(prio)},
                       "issuetype": {"self": f"{_JIRA}/rest/api/2/issuetype/{tid}", "id": tid, "name": tname,
                                     "subtask": it.kind == "subtask"}}}


def _pnum(proj: str) -> int:
    return [s.key for s in _SPECS].index(proj) + 1


def _project_ref(spec: _Spec) -> dict:
    pid = 10100 + _pnum(spec.key)
    return {"self": f"{_JIRA}/rest/api/2/project/{pid}", "id": str(pid), "key": spec.key, "name": spec.name,
            "projectTypeKey": "software"}


def _sprints(ctx: _Ctx, spec: _Spec, board: int, first_id: int) -> list[dict]:
    """Two-week sprints from the first Monday of the project until its due date."""
    start, due = ctx.as_of + timedelta(days=spec.start), ctx.as_of + timedelta(days=spec.due)
    monday, out = start + timedelta(days=(7 - start.weekday()) % 7), []
    origin, end = ctx.bounds(spec)
    while monday <= due:
        fri = monday + timedelta(days=11)
        s, e = ctx.cal.index(monday), ctx.cal.index(fri + timedelta(days=1)) - 1
        ph = [p for p in spec.phases if p.begin <= (s - origin) / (end - origin)][-1]
        state = "closed" if fri < ctx.as_of else "active" if monday < ctx.as_of else "future"
        begin, finish = datetime.combine(monday, time(9, 30)), datetime.combine(fri, time(18))
        out.append({"id": first_id + len(out), "name": f"{spec.key} Sprint {len(out) + 1}", "state": state,
                    "boardId": board, "goal": "SLA 达标，清理积压工单" if spec.key == "OPS" else f"{ph.name}：完成迭代承诺",
                    "startDate": _ts(begin, "agile"), "endDate": _ts(finish, "agile"),
                    "_s": s, "_e": e, "_start": begin})  # private keys: business-day span, dropped from payloads
        if state == "closed":
            out[-1]["completeDate"] = _ts(finish + timedelta(minutes=30), "agile")
        monday += timedelta(days=14)
    return out


def _issue_sprints(ctx: _Ctx, it: _Item, sprints: list[dict]) -> list[dict]:
    """Sprints an issue sat in: its planned sprint, then every sprint it was carried over into."""
    ref = ctx.items[it.parent] if it.parent is not None else it  # sub-tasks follow their parent, as in Jira
    if it.kind == "epic":
        return []
    if ref.start >= ctx.cut:
        return [s for s in sprints if s["_s"] <= ref.ps <= s["_e"] and s["_s"] < ctx.cut + 10]
    lo, hi = max(min(ref.ps, ref.start), ref.start - 10), min(ref.finish, ctx.cut - 1)
    return [s for s in sprints if s["_s"] <= hi and s["_e"] >= lo and s["_s"] < ctx.cut]


def _histories(ctx: _Ctx, it: _Item, sprints: list[dict], desc: list[str]) -> list[tuple]:
    """Changelog events (when, author, items): sprint moves, scope edits, status transitions."""
    rng, cal, cut, out = ctx.rng, ctx.cal, ctx.cut, []
    lead = ctx.pidx[_TEAMS[it.proj]["pm"][0]]
    for k, s in enumerate(sprints):
        planned = s["_start"] if s["_s"] < cut else cal.at(cut - 1, 17.5)  # the next sprint is planned before it starts
        ids, names = [str(x["id"]) for x in sprints[:k + 1]], [x["name"] for x in sprints[:k + 1]]
        out.append((max(planned, _created(ctx, it) + timedelta(minutes=5)), lead, [_change(
            "Sprint", ", ".join(names[:-1]) or None, ", ".join(names), (", ".join(ids[:-1]) or None, ", ".join(ids)),
            "customfield_10020")]))
    points = _story_points(it.est_h)
    for c in range(it.churn if it.kind != "subtask" else 0):
        day = it.created + 1 + int(rng.integers(0, max(1, it.finish - it.created)))
        if day >= cut:
            continue
        desc.append(desc[-1] + f"\n\n【变更{c + 1}】{_CHANGES[int(rng.integers(len(_CHANGES)))]}")
        items = [_change("description", desc[-2], desc[-1])]
        if it.kind == "story":  # scope growth re-estimates the story
            bigger = _FIB[min(_FIB.index(points) + 1, len(_FIB) - 1)]
            items.append(_change("Story Points", f"{points:g}", f"{bigger:g}", custom="customfield_10002"))
            points = bigger
        out.append((cal.at(day, 11.0 + rng.random() * 5), it.reporter, items))
    prev, res = "todo", _resolution(it)
    for day, hour, state in _transitions(it):
        if day >= cut:
            break
        a, b = _jira_status(it.proj, prev), _jira_status(it.proj, state)
        items = [_change("status", a["name"], b["name"], (a["id"], b["id"]))]
        if state == "done":  # resolution is set on close and cleared on reopen
            items.append(_change("resolution", None, res["name"], (None, res["id"])))
        elif prev == "done":
            items.append(_change("resolution", res["name"], None, (res["id"], None)))
        out.append((cal.at(day, hour), lead if it.kind == "epic" else it.assignee, items))
        prev = state
    return sorted(out, key=lambda e: e[0])


def _resolution(it: _Item) -> dict:
    english, dup = it.proj == "OPS", it.duplicate_of is not None
    rid, name = ("10002", ("重复", "Duplicate")[english]) if dup else ("10000", ("完成", "Done")[english])
    return {"self": f"{_JIRA}/rest/api/2/resolution/{rid}", "id": rid, "name": name}


def _story_points(hours: float) -> float:
    return _FIB[int(np.searchsorted((4, 8, 16, 28, 48, 80), hours))]


def _id(text: str) -> int:
    """Stable small integer derived from a name (Python's hash() is salted per process)."""
    return int(hashlib.sha1(text.encode()).hexdigest()[:8], 16) % 90000


def _component(name: str) -> dict:
    return {"self": f"{_JIRA}/rest/api/2/component/{_id(name)}", "id": str(_id(name)), "name": name}


def _jira_issue(ctx: _Ctx, i: int, sprints: list[dict], links: dict[int, list[dict]]) -> dict:
    """One issue exactly as /rest/api/2/search?expand=changelog returns it."""
    it, cal, rng, cut = ctx.items[i], ctx.cal, ctx.rng, ctx.cut
    ref, spec = _jira_ref(ctx, it), _SPEC_BY_KEY[it.proj]
    desc = [f"背景：{spec.name}（{spec.phases[it.phase].name}）。\n目标：{it.summary}。\n\n"
            f"验收标准：\n# 功能符合需求说明\n# 通过评审与测试"]
    in_sprints = _issue_sprints(ctx, it, sprints)
    hist, state, logs = _histories(ctx, it, in_sprints, desc), _state(it, cut), ctx.logs.get(i, [])
    worklogs = [{"self": f"{ref['self']}/worklog/{i * 1000 + k}", "id": str(i * 1000 + k), "issueId": ref["id"],
                 "author": _jira_user(it.assignee), "updateAuthor": _jira_user(it.assignee),
                 "comment": _WORK_NOTES[(i + k) % len(_WORK_NOTES)], "started": _ts(cal.at(d, 9.7 + it.jit)),
                 "created": _ts(cal.at(d, 18.5 + it.jit)), "updated": _ts(cal.at(d, 18.5 + it.jit)),
                 "timeSpent": f"{h:g}h", "timeSpentSeconds": int(h * 3600)} for k, (d, h) in enumerate(logs)]
    span, pool = _active_days(it, cut) or [it.created], _BUG_COMMENTS if it.kind == "bug" else _COMMENTS
    notes = sorted((cal.at(span[int(rng.integers(len(span)))], 11.0 + rng.random() * 7),
                    ctx.pick([it.assignee, it.reporter]), pool[int(rng.integers(len(pool)))])
                   for _ in range(int(rng.poisson(1.2)) if it.start < cut else int(rng.random() < 0.2)))
    comments = [{"self": f"{ref['self']}/comment/{i * 100 + k}", "id": str(i * 100 + k), "author": _jira_user(a),
                 "updateAuthor": _jira_user(a), "body": text, "created": _ts(w), "updated": _ts(w)}
                for k, (w, a, text) in enumerate(notes)]
    spent = sum(w["timeSpentSeconds"] for w in worklogs)
    est = None if it.subs or it.kind == "epic" else int(it.est_h * 3600)
    closed_at = _closed_at(ctx, it)
    updated = max([_created(ctx, it)] + [e[0] for e in hist] + [cal.at(d, 18.5 + it.jit) for d, _ in logs]
                  + [n[0] for n in notes])
    points = _story_points(it.est_h)
    for x in (x for e in hist for x in e[2] if x["field"] == "Story Points"):
        points = float(x["toString"])
    fields = {
        "summary": it.summary, "description": desc[-1], "issuetype": ref["fields"]["issuetype"],
        "status": ref["fields"]["status"], "priority": ref["fields"]["priority"],
        "assignee": None if it.hide_assignee else _jira_user(it.assignee), "reporter": _jira_user(it.reporter),
        "creator": _jira_user(it.reporter), "created": _ts(_created(ctx, it)), "updated": _ts(updated),
        "resolutiondate": _ts(closed_at) if closed_at else None,
        "resolution": _resolution(it) if state == "done" else None,
        "duedate": cal.date(it.due).isoformat(), "timeoriginalestimate": est,
        "timeestimate": None if est is None else (0 if state == "done" else max(0, est - spent)),
        "timespent": spent or None,
        "aggregatetimeoriginalestimate": None if it.kind == "epic" else int(it.est_h * 3600),
        "aggregatetimespent": (spent + sum(int(h * 3600) for s in it.subs for _, h in ctx.logs.get(s, []))) or None,
        "labels": [name for name, on in (("需求变更", len(desc) > 1), ("regression", it.kind == "bug" and it.code),
                                         ("sla", it.proj == "OPS" and it.priority == "Highest")) if on],
        "components": [_component(it.component)] if it.component else [],
        "project": _project_ref(spec),
        "subtasks": [_jira_ref(ctx, ctx.items[s]) for s in it.subs if ctx.items[s].key],
        "issuelinks": links.get(i, []),
        "worklog": {"startAt": 0, "maxResults": max(20, len(worklogs)), "total": len(worklogs), "worklogs": worklogs},
        "comment": {"comments": comments, "maxResults": len(comments), "total": len(comments), "startAt": 0},
        "customfield_10002": points if it.kind in ("story", "task") else None,
        "customfield_10020": [{k: v for k, v in s.items() if not k.startswith("_")} for s in in_sprints] or None,
        "customfield_10014": ctx.items[it.epic].key if it.epic is not None else None,
        "customfield_10011": it.summary if it.kind == "epic" else None,
        "customfield_10015": cal.date(it.ps).isoformat(), "customfield_10016": cal.date(it.due).isoformat(),
        "fixVersions": [], "versions": [],
    }
    if it.parent is not None:
        fields["parent"] = _jira_ref(ctx, ctx.items[it.parent])
    histories = [{"id": str(i * 1000 + k), "author": _jira_user(a), "created": _ts(w), "items": x}
                 for k, (w, a, x) in enumerate(hist)]
    return {"expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields", "id": ref["id"],
            "self": ref["self"], "key": it.key, "fields": fields,
            "changelog": {"startAt": 0, "maxResults": len(histories), "total": len(histories), "histories": histories}}


def _jira_links(ctx: _Ctx) -> dict[int, list[dict]]:
    """Every link on both issues: outwardIssue on the source side, inwardIssue on the target side."""
    pairs, out = [], {}
    for i, it in enumerate(ctx.items):
        pairs += [("Blocks", b, i) for b in it.blockers]  # "b blocks i"
        pairs += [("Relates", i, it.relates)] if it.relates is not None else []
        pairs += [("Duplicate", i, it.duplicate_of)] if it.duplicate_of is not None else []  # "i duplicates ..."
    for n, (name, a, b) in enumerate(pairs):
        ia, ib = ctx.items[a], ctx.items[b]
        if ia.key and ib.key and ia.proj != "MOB":
            tid, inward, outward = _LINK_TYPES[name]
            link = {"id": str(20000 + n), "self": f"{_JIRA}/rest/api/2/issueLink/{20000 + n}",
                    "type": {"id": tid, "name": name, "inward": inward, "outward": outward,
                             "self": f"{_JIRA}/rest/api/2/issueLinkType/{tid}"}}
            out.setdefault(a, []).append({**link, "outwardIssue": _jira_ref(ctx, ib)})
            out.setdefault(b, []).append({**link, "inwardIssue": _jira_ref(ctx, ia)})
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
    """Field list, then per Jira project: the project, its sprints and its issues."""
    fields = [{"id": f, "key": f, "name": n, "custom": False, "orderable": True, "navigable": True, "searchable": True,
               "clauseNames": [f], "schema": {"type": t, "system": f}} for f, n, t in _SYSTEM_FIELDS]
    fields += [{"id": f, "key": f, "name": n, "custom": True, "orderable": True, "navigable": True, "searchable": True,
                "clauseNames": [f"cf[{f[12:]}]", n], "schema": {"type": t, "custom": c, "customId": int(f[12:]),
                                                                  **({"items": "string"} if t == "array" else {})}}
               for f, n, t, c in _FIELDS]
    yield DemoPayload("jira_fields", "fields", ctx.cal.at(ctx.bounds(_SPECS[-1])[0], 9.0) - _CST, fields)
    links, sprint_id = _jira_links(ctx), 101
    for board, spec in enumerate((s for s in _SPECS if s.key != "MOB"), start=1):
        kickoff = ctx.cal.at(ctx.bounds(spec)[0], 9.0) - _CST
        yield DemoPayload("jira_project", spec.key, kickoff, {
            **_project_ref(spec), "expand": "description,lead,url,projectKeys", "description": spec.name,
            "url": f"{_JIRA}/browse/{spec.key}",
            "lead": _jira_user(ctx.pidx[_TEAMS[spec.key]["pm"][0]]),
            "assigneeType": "UNASSIGNED", "components": [_component(c) for c in sorted({o[2] for o in spec.objects})],
            "issueTypes": [{"self": f"{_JIRA}/rest/api/2/issuetype/{t}", "id": t, "name": n, "subtask": n == "Sub-task"}
                           for t, n in _ISSUE_TYPES.values()], "versions": [], "projectKeys": [spec.key]})
        sprints = _sprints(ctx, spec, board, sprint_id)
        sprint_id += len(sprints)
        for s in sprints:
            body = {"id": s["id"], "self": f"{_JIRA}/rest/agile/1.0/sprint/{s['id']}", "state": s["state"],
                    "name": s["name"], "startDate": s["startDate"], "endDate": s["endDate"],
                    **({"completeDate": s["completeDate"]} if "completeDate" in s else {}),
                    "originBoardId": s["boardId"], "goal": s["goal"]}
            touched = datetime.fromisoformat(s.get("completeDate", s["startDate"])).replace(tzinfo=None) - _CST
            yield DemoPayload("jira_sprint", str(s["id"]), touched if s["state"] != "future" else kickoff, body)
        for i in sorted((i for i, it in enumerate(ctx.items) if it.proj == spec.key and it.key),
                        key=lambda i: ctx.items[i].num):
            body = _jira_issue(ctx, i, sprints, links)
            updated = datetime.strptime(body["fields"]["updated"][:19], "%Y-%m-%dT%H:%M:%S") - _CST
            yield DemoPayload("jira_issue", body["key"], updated, body)


# --- GitHub ---------------------------------------------------------------------

def _sha(*parts: object) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()


def _gh_user(p: int) -> dict:
    login = _PEOPLE[p][2]
    return {"login": login, "id": 1_000_000 + p * 7919, "type": "User", "html_url": f"https://github.com/{login}"}


def _code_commits(ctx: _Ctx, it: _Item) -> list[tuple[datetime, int, int]]:
    """(local time, additions, deletions) of commits made while a code leaf was in progress."""
    days = _active_days(it, ctx.cut)
    if not it.code or it.subs or not days:
        return []
    rng = ctx.rng
    n = 1 + min(int(rng.poisson(len(days) / 3)), 5)
    adds = np.rint(rng.lognormal(3.5, 1.0, n)).astype(int) + 1
    return [(ctx.cal.at(days[int(k)], 10.0 + rng.random() * 12.5), int(a), int(a * rng.random() * 0.6))
            for k, a in zip(np.sort(rng.integers(0, len(days), n)), adds)]


def _github_payloads(ctx: _Ctx) -> Iterator[DemoPayload]:
    """Per repository: one PR per code work item (opened at review) and commits mentioning Jira keys."""
    for spec in (s for s in _SPECS if s.repo and s.key != "MOB"):
        repo, pulls, commits = spec.repo, [], []
        for i, it in enumerate(ctx.items):
            if it.proj != spec.key or not it.key:
                continue
            for k, (when, a, d) in enumerate(_code_commits(ctx, it)):
                msg = f"{it.key} add unit tests for {it.slug}" if k % 3 == 2 else \
                    f"{it.key} {'修复' if it.kind == 'bug' else ''}{it.summary}"
                commits.append((when, it.assignee, msg, a, d, _sha(repo, it.key, k, ctx.seed)))
            opened = _review_opened(ctx, it)
            if it.code and it.parent is None and it.kind != "epic" and opened.date() < ctx.as_of:
                pulls.append((opened, i))
        for n, (opened, i) in enumerate(sorted(pulls), start=1):
            it = ctx.items[i]
            branch = f"{'bugfix' if it.kind == 'bug' else 'feature'}/{it.key}-{it.slug}"
            closed = _closed_at(ctx, it)
            merged = None if closed is None or _id(it.key) % 20 == 0 else closed  # a few PRs are abandoned
            updated = closed or max(opened, ctx.cal.at(min(it.finish, ctx.cut - 1), 18.0))
            yield DemoPayload("github_pull", f"{repo}#{n}", updated - _CST, {
                "url": f"https://api.github.com/repos/{repo}/pulls/{n}", "id": 900_000 + 1000 * len(repo) + n,
                "html_url": f"https://github.com/{repo}/pull/{n}", "number": n, "state": "closed" if closed else "open",
                "title": f"{it.key} {it.summary}", "user": _gh_user(it.assignee),
                "body": f"关联任务: {_JIRA}/browse/{it.key}\n\n{it.summary}\n\n- [x] 单元测试\n- [x] 自测通过",
                "created_at": _ts(opened, "github"), "updated_at": _ts(updated, "github"),
                "closed_at": _ts(closed, "github") if closed else None,
                "merged_at": _ts(merged, "github") if merged else None,
                "merge_commit_sha": _sha(repo, "merge", n, ctx.seed) if merged else None, "draft": False,
                "head": {"ref": branch, "sha": _sha(repo, branch), "repo": {"full_name": repo}},
                "base": {"ref": "main", "sha": _sha(repo, "main", n), "repo": {"full_name": repo}}})
        for when, who, msg, a, d, sha in sorted(commits, key=lambda c: (c[0], c[5])):
            git = {"name": _PEOPLE[who][0], "email": f"{_PEOPLE[who][1]}@acme.cn", "date": _ts(when, "github")}
            yield DemoPayload("github_commit", sha, when - _CST, {
                "sha": sha, "node_id": f"C_{sha[:20]}", "url": f"https://api.github.com/repos/{repo}/commits/{sha}",
                "html_url": f"https://github.com/{repo}/commit/{sha}",
                "commit": {"author": git, "committer": dict(git), "message": msg, "comment_count": 0,
                           "tree": {"sha": _sha(sha, "tree")}},
                "author": _gh_user(who), "committer": _gh_user(who), "parents": [{"sha": _sha(sha, "parent")}],
                "stats": {"additions": a, "deletions": d, "total": a + d}})


# --- GitLab and timesheets ------------------------------------------------------

def _gl_user(p: int) -> dict:
    name, user = _PEOPLE[p][0], _PEOPLE[p][3]
    return {"id": 200 + p, "username": user, "name": name, "state": "active", "avatar_url": None,
            "web_url": f"{_GITLAB}/{user}"}


def _human(seconds: int) -> str | None:
    """GitLab's human duration (1w = 5d, 1d = 8h)."""
    parts, rest = [], seconds // 60
    for unit, size in (("w", 5 * 8 * 60), ("d", 8 * 60), ("h", 60), ("m", 1)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return " ".join(parts) or None


def _gitlab_payloads(ctx: _Ctx) -> Iterator[DemoPayload]:
    """acme/mobile-app issues (time_stats agree with the timesheets), merge requests and commits."""
    spec, cal, cut, pm = _SPEC_BY_KEY["MOB"], ctx.cal, ctx.cut, ctx.pidx["jason.liu"]
    idx = sorted((i for i, it in enumerate(ctx.items) if it.proj == "MOB" and it.key and it.kind != "epic"),
                 key=lambda i: ctx.items[i].num)
    epics = {it.phase: it for it in ctx.items if it.proj == "MOB" and it.kind == "epic"}
    opened = {i: _review_opened(ctx, ctx.items[i]) for i in idx if ctx.items[i].code}
    mr_of = {i: n for n, i in enumerate(sorted((i for i in opened if opened[i].date() < ctx.as_of),
                                               key=lambda i: (opened[i], i)), start=1)}
    commits = []
    for i in idx:
        it, logs, e = ctx.items[i], ctx.logs.get(i, []), epics[ctx.items[i].phase]
        state, iid = _state(it, cut), it.num
        closed = _closed_at(ctx, it)
        updated = max([_created(ctx, it)] + [cal.at(d, 18.5) for d, _ in logs] + [closed or _created(ctx, it)])
        labels = sorted(["bug" if it.kind == "bug" else "feature", f"P{min(3, _PRIORITIES.index(it.priority) + 1)}"]
                        + {"doing": ["status::doing"], "review": ["status::review"]}.get(state, []))
        incident = it.kind == "bug" and it.priority == "Highest" and it.phase == len(spec.phases) - 1
        est, spent = int(it.est_h * 3600), int(sum(h for _, h in logs) * 3600)
        milestone = {"id": 500 + it.phase, "iid": it.phase + 1, "project_id": _MOB_ID, "title": e.summary,
                     "description": "", "state": "closed" if e.finish < cut else "active",
                     "due_date": cal.date(e.due).isoformat(), "start_date": cal.date(e.ps).isoformat(),
                     "web_url": f"{_GITLAB}/{_MOB_PATH}/-/milestones/{it.phase + 1}"}
        user = None if it.hide_assignee else _gl_user(it.assignee)
        related = f"\n\n关联 #{ctx.items[it.relates].num}" if it.relates is not None else ""
        yield DemoPayload("gitlab_issue", it.key, updated - _CST, {
            "id": 880_000 + iid, "iid": iid, "project_id": _MOB_ID, "title": it.summary,
            "description": f"## 背景\n{spec.name}：{it.summary}\n\n## 验收标准\n- [ ] iOS / Android 双端通过{related}",
            "state": "closed" if closed else "opened", "created_at": _ts(_created(ctx, it), "gitlab"),
            "updated_at": _ts(updated, "gitlab"), "closed_at": _ts(closed, "gitlab") if closed else None,
            "closed_by": _gl_user(it.assignee) if closed else None, "labels": labels, "milestone": milestone,
            "assignees": [user] if user else [], "assignee": user, "author": _gl_user(it.reporter),
            "type": "INCIDENT" if incident else "ISSUE", "issue_type": "incident" if incident else "issue",
            "user_notes_count": it.churn, "merge_requests_count": int(i in mr_of), "upvotes": 0, "downvotes": 0,
            "due_date": cal.date(it.due).isoformat(), "confidential": False,
            "web_url": f"{_GITLAB}/{_MOB_PATH}/-/issues/{iid}", "severity": "CRITICAL" if incident else "UNKNOWN",
            "time_stats": {"time_estimate": est, "total_time_spent": spent,
                           "human_time_estimate": _human(est), "human_total_time_spent": _human(spent)},
            "references": {"short": f"#{iid}", "relative": f"#{iid}", "full": f"{_MOB_PATH}#{iid}"}})
        for k, (when, a, d) in enumerate(_code_commits(ctx, it)):
            prefix = "fix" if it.kind == "bug" else ("test" if k % 4 == 3 else "feat")
            sha = _sha(_MOB_PATH, iid, k, ctx.seed)
            commits.append((when, it.assignee, f"{prefix}: {it.summary} #{iid}", a, d, sha))
        if i in mr_of:
            n, branch = mr_of[i], f"{iid}-{it.slug}"
            merged = closed - timedelta(minutes=20) if closed else None
            yield DemoPayload("gitlab_merge_request", f"{_MOB_PATH}!{n}", (merged or opened[i]) - _CST, {
                "id": 990_000 + n, "iid": n, "project_id": _MOB_ID, "title": f'Resolve "{it.summary}" #{iid}',
                "description": f"Closes #{iid}", "state": "merged" if merged else "opened",
                "created_at": _ts(opened[i], "gitlab"), "updated_at": _ts(merged or opened[i], "gitlab"),
                "merged_at": _ts(merged, "gitlab") if merged else None, "closed_at": None,
                "merged_by": _gl_user(pm) if merged else None, "author": _gl_user(it.assignee),
                "assignees": [_gl_user(it.assignee)], "reviewers": [_gl_user(pm)], "source_branch": branch,
                "target_branch": "main", "source_project_id": _MOB_ID, "target_project_id": _MOB_ID,
                "labels": list(labels), "milestone": dict(milestone), "draft": False, "merge_status": "can_be_merged",
                "sha": _sha(_MOB_PATH, branch), "merge_commit_sha": _sha(_MOB_PATH, "merge", n) if merged else None,
                "references": {"short": f"!{n}", "relative": f"!{n}", "full": f"{_MOB_PATH}!{n}"},
                "web_url": f"{_GITLAB}/{_MOB_PATH}/-/merge_requests/{n}"})
    for when, who, msg, a, d, sha in sorted(commits, key=lambda c: (c[0], c[5])):
        local, name, mail = _ts(when, "agile"), _PEOPLE[who][0], f"{_PEOPLE[who][1]}@acme.cn"
        yield DemoPayload("gitlab_commit", sha, when - _CST, {
            "id": sha, "short_id": sha[:8], "created_at": local, "parent_ids": [_sha(sha, "parent")],
            "title": msg.split("\n")[0], "message": msg, "author_name": name, "author_email": mail,
            "authored_date": local, "committer_name": name, "committer_email": mail, "committed_date": local,
            "trailers": {}, "web_url": f"{_GITLAB}/{_MOB_PATH}/-/commit/{sha}",
            "stats": {"additions": a, "deletions": d, "total": a + d}})


def _timesheet_payloads(ctx: _Ctx) -> Iterator[DemoPayload]:
    """Monthly CSV exports of the MOB team: issue hours plus meetings with an empty task."""
    cal, origin = ctx.cal, ctx.bounds(_SPEC_BY_KEY["MOB"])[0]
    rows = [(cal.date(d), _PEOPLE[ctx.items[i].assignee][0], h, ctx.items[i].key, _WORK_NOTES[(d + i) % 4])
            for i, logs in ctx.logs.items() if ctx.items[i].proj == "MOB" for d, h in logs]
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
        yield DemoPayload("timesheet_file", f"timesheets/{month}.csv", datetime.combine(mrows[-1][0], time(10)),
                          buf.getvalue().encode("utf-8"))
