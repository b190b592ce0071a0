"""The static make-up of the synthetic "Acme" IT department behind the demo.

Why a separate module: generate.py simulates how work unfolds and payloads.py
renders it in vendor shapes; both read these fixed tables (people, teams, project
specs, Jira vocabularies), and a reader can change the company without touching
either.  Nothing here is random: the seeded rng in generate.py decides the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

JIRA_URL = "https://jira.acme.cn"
GITLAB_URL = "https://gitlab.acme.cn"
MOB_PATH = "acme/mobile-app"
MOB_ID = 42
CST = timedelta(hours=8)  # all wall times are Asia/Shanghai; payload timestamps carry the offset


def _pairs(text: str) -> tuple[tuple[str, ...], ...]:
    """'需求访谈/interview|业务流程梳理/process-map' -> (('需求访谈', 'interview'), ...): keeps tables short."""
    return tuple(tuple(part.split("/")) for part in text.split("|"))


# display name / Jira username (= email local part) / GitHub login [/ GitLab username]
PEOPLE: tuple[tuple[str, ...], ...] = _pairs(
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
NO_EMAIL = ("hubin", "zhaomin")
# Shared people (david.li, hubin, xuqiang) are deliberately spread over several projects: overload.
TEAMS: dict[str, dict[str, tuple[str, ...]]] = {
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
class Phase:
    """A WBS phase (Jira epic / GitLab milestone); begin/end are shares of the project span."""

    name: str
    slug: str
    begin: float
    end: float
    roles: tuple[str, ...]
    actions: tuple[tuple[str, ...], ...]
    code: bool  # work lands in a repository, so commits and PRs reference it


def _phase(name: str, begin: float, end: float, roles: str, actions: str, code: bool) -> Phase:
    zh, slug = name.split("/")
    return Phase(zh, slug, begin, end, tuple(roles.split()), _pairs(actions), code)


@dataclass(frozen=True)
class Spec:
    """Shape of one demo project; start/due are calendar days relative to as_of."""

    key: str
    name: str
    budget: float
    hourly_rate: float
    start: int
    due: int
    phases: tuple[Phase, ...]
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
SPECS: tuple[Spec, ...] = (
    Spec("ERP", "ERP 系统实施", 3_900_000, 450, -262, 85, (
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
    Spec("DP", "数据平台迁移", 5_200_000, 480, -222, 110, (
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
    Spec("MOB", "移动办公 App", 2_900_000, 400, -200, 70, (
        _phase("M1 需求与设计/design", 0.0, 0.20, "ux pm", "交互设计/ux|视觉稿/visual|需求评审/review", False),
        _phase("M2 核心功能开发/core", 0.18, 0.55, "app api", "页面开发/page|接口对接/api|离线缓存/offline|消息通知/notify", True),
        _phase("M3 功能完善与联调/polish", 0.50, 0.80, "app api", "iOS 适配/ios|Android 适配/android|埋点接入/tracking|"
                                                             "性能优化/perf", True),
        _phase("M4 测试与发布/release", 0.78, 1.0, "qa app", "回归测试/regression|应用商店上架/store-release|灰度发布/canary", True)),
        _pairs("登录/login/app|首页/home/app|审批中心/approvals/app|消息推送/push/app|通讯录/contacts/app|考勤打卡/clock-in/app|"
               "报销/expense/app|个人中心/profile/app|设置/settings/app|扫一扫/scan/app|日程/calendar/app|公告/notice/app|"
               "请假/leave/app|会议室预订/room-booking/app"),
        _pairs("闪退/crash|白屏/blank-screen|推送收不到/push-missing|布局错乱/layout"),
        60, 0.0, 110, 0.0, 0.0, 0.4, MOB_PATH),
    Spec("OPS", "IT 运维支持", 550_000, 300, -330, 35, tuple(
        _phase(name, 0.0, 1.0, "ops", _OPS_ACTIONS, False)
        for name in ("日常运维/routine", "安全加固/security", "监控告警/alerting", "性能优化/performance")),
        _pairs("OA 系统/oa/应用支持|邮件服务器/mail/服务器|VPN 网关/vpn/网络|核心交换机/core-switch/网络|生产数据库/prod-db/数据库|"
               "备份系统/backup/服务器|域控/ad/服务器|监控平台/monitoring/应用支持|堡垒机/bastion/网络|文件服务器/fileserver/服务器|"
               "ERP 测试环境/erp-test-env/应用支持|K8s 集群/k8s/服务器"),
        _pairs("无法访问/unreachable|CPU 持续 90% 告警/cpu-alert|数据同步失败/sync-failure|登录超时/login-timeout|"
               "磁盘空间不足/disk-full"),
        340, 0.25, 0, 0.07, 0.0, 0.15, None),
)
SPEC_BY_KEY = {s.key: s for s in SPECS}
CODE_STEPS = _pairs("技术设计/design|编码实现/impl|单元测试/unit-test|联调/integration|文档/docs")
DOC_STEPS = _pairs("资料收集/collect|访谈与评审/review|文档编写/doc|确认签字/signoff|归档/archive")
PRIORITIES = ("Highest", "High", "Medium", "Low")
SLA_DAYS = {"Highest": 1, "High": 3, "Medium": 7, "Low": 15}
STATUS = {"todo": ("10000", "待办", "To Do", 2, "new", "blue-gray", "待办"),  # id, zh, en, category...
          "doing": ("3", "进行中", "In Progress", 4, "indeterminate", "yellow", "处理中"),
          "review": ("10101", "代码评审", "In Review", 4, "indeterminate", "yellow", "处理中"),
          "done": ("10001", "已完成", "Done", 3, "done", "green", "完成")}
ISSUE_TYPES = {"epic": ("10000", "Epic"), "story": ("10001", "Story"), "task": ("10002", "Task"),
               "subtask": ("10003", "Sub-task"), "bug": ("10004", "Bug")}
LINK_TYPES = {"Blocks": ("10000", "is blocked by", "blocks"), "Relates": ("10003", "relates to", "relates to"),
              "Duplicate": ("10002", "is duplicated by", "duplicates")}
FIB = (1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0)
CHANGES = ("业务方要求增加导出功能", "审批流程新增财务总监节点", "字段口径调整，需与财务对齐", "Scope changed: support multi-currency",
           "新增移动端适配要求", "Acceptance criteria updated after UAT feedback")
COMMENTS = ("已开始处理，预计本周完成。", "需求有变更，已与业务方确认新口径。", "依赖的接口还没提供，先用 mock 数据联调。",
            "Blocked by environment issue, waiting for ops to fix the test server.", "PR submitted, please review.",
            "Moved to next sprint due to capacity.", "和业务方确认过，按方案二实现。", "LGTM, closing.")
BUG_COMMENTS = ("已复现，正在定位。", "Root cause: missing null check in the service layer.", "已修复，回归通过。",
                "测试环境已部署，请验证。", "Cannot reproduce on latest build, please attach logs.")
WORK_NOTES = ("开发", "联调", "修复测试问题", "code review", "写单元测试", "文档整理", "")

# Jira's /rest/api/2/field entries: the custom fields issues carry, and the system fields used.
JIRA_CUSTOM_FIELDS = (
    ("customfield_10002", "Story Points", "number", "com.atlassian.jira.plugin.system.customfieldtypes:float"),
    ("customfield_10020", "Sprint", "array", "com.pyxis.greenhopper.jira:gh-sprint"),
    ("customfield_10014", "Epic Link", "any", "com.pyxis.greenhopper.jira:gh-epic-link"),
    ("customfield_10011", "Epic Name", "string", "com.pyxis.greenhopper.jira:gh-epic-label"),
    ("customfield_10015", "Start date", "date", "com.atlassian.jira.plugin.system.customfieldtypes:datepicker"),
    ("customfield_10016", "Target end", "date", "com.atlassian.jira.plugin.system.customfieldtypes:datepicker"))
JIRA_SYSTEM_FIELDS = (
    ("summary", "Summary", "string"), ("status", "Status", "status"), ("assignee", "Assignee", "user"),
    ("duedate", "Due Date", "date"), ("timeoriginalestimate", "Original Estimate", "number"),
    ("timespent", "Time Spent", "number"), ("issuelinks", "Linked Issues", "array"))

# Confidential work (label "confidential", issue #14): only the project's managers, the PMO and admins see it.
SENSITIVE_TASKS: dict[str, tuple[str, ...]] = {
    "ERP": ("供应商合同谈判 Vendor contract negotiation", "项目预算与人力成本评审 Salary & budget review"),
    "DP": ("数据平台安全审计 Security audit", "客户敏感数据访问权限审计 PII access review"),
    "OPS": ("外网渗透测试 Penetration test", "防火墙策略安全审计 Firewall rule audit"),
}
