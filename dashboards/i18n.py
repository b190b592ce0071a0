"""Every word the dashboard shows, in Chinese and English.

Strings live in tables rather than inline in pages so that a missing
translation is a test failure, not a half-translated screen, and so that
pages reuse the same column headers and units. Shared words are here, a
word more than one page shows under a `common.` key; each page's own words
are in `dashboards/strings/<page>.py` (keys prefixed with the page name) and
merged into STRINGS, where a key defined twice is an import error rather
than a silent override. A word is translated once: two keys with the same
Chinese and English fail a test, so a fix to a translation reaches every
page that shows the word.
"""

from __future__ import annotations

from typing import Final

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from dashboards.strings import alerts, bugs, forecast, gantt, hours, kanban, plan, risks, sql, standup

LANGS: Final[tuple[str, ...]] = ("zh", "en")
DEFAULT_LANG: Final = "zh"
LANG_NAMES: Final[dict[str, str]] = {"zh": "中文", "en": "English"}
SESSION_KEY: Final = "lang"

_SHARED: Final[dict[str, dict[str, str]]] = {
    # shell
    "app.language": {"zh": "语言", "en": "Language"},
    "app.actor": {"zh": "当前用户", "en": "You are"},
    "app.actor_help": {
        "zh": "记录在审计日志中的编辑人；登录后自动使用登录账号。",
        "en": "Recorded as the editor in the audit log; taken from your login when signed in.",
    },
    "page.portfolio": {"zh": "项目总览", "en": "Portfolio"},
    "page.gantt": {"zh": "甘特图", "en": "Gantt"},
    "page.kanban": {"zh": "看板", "en": "Kanban"},
    "page.forecast": {"zh": "预测", "en": "Forecast"},
    "page.risks": {"zh": "风险", "en": "Risks"},
    "page.plan": {"zh": "计划", "en": "Plan editor"},
    "page.bugs": {"zh": "缺陷", "en": "Bugs"},
    "page.hours": {"zh": "工时与绩效", "en": "Hours and performance"},
    "page.standup": {"zh": "站会", "en": "Stand-up"},
    "page.sql": {"zh": "SQL 查询", "en": "SQL"},
    "page.alerts": {"zh": "预警", "en": "Alerts"},
    "msg.edit_error": {"zh": "保存失败：{message}", "en": "Not saved: {message}"},
    "msg.saved": {"zh": "已保存。", "en": "Saved."},
    "msg.no_actor": {
        "zh": "请先在侧边栏填写“当前用户”，编辑需要记录编辑人。",
        "en": "Enter your name under “You are” in the sidebar first: every edit records who made it.",
    },
    "unit.hours": {"zh": "{value} 小时", "en": "{value} h"},
    "unit.days": {"zh": "{value} 天", "en": "{value} d"},
    "unit.workdays": {"zh": "{value} 个工作日", "en": "{value} working days"},
    # words several pages use, translated once; a page's own words are in dashboards/strings
    "common.project": {"zh": "项目", "en": "Project"},
    "common.no_projects": {"zh": "数据仓库中还没有项目。", "en": "The warehouse has no projects yet."},
    "common.status": {"zh": "状态", "en": "Status"},
    "common.task": {"zh": "任务", "en": "Task"},
    "common.title": {"zh": "标题", "en": "Title"},
    "common.tasks": {"zh": "任务数", "en": "Tasks"},
    "common.owner": {"zh": "负责人", "en": "Owner"},
    "common.open_bugs": {"zh": "未关闭缺陷", "en": "Open bugs"},
    "common.date": {"zh": "日期", "en": "Date"},
    "common.action": {"zh": "操作", "en": "Action"},
    "common.key": {"zh": "编号", "en": "Key"},
    "common.person": {"zh": "人员", "en": "Person"},
    "common.type": {"zh": "类型", "en": "Type"},
    "common.all": {"zh": "全部", "en": "All"},
    "common.impact": {"zh": "影响", "en": "Impact"},
    "common.assignee": {"zh": "负责人", "en": "Assignee"},
    "common.changed_by": {"zh": "修改人", "en": "Changed by"},
    "common.overdue_tasks": {"zh": "逾期任务", "en": "Overdue tasks"},
    "common.due": {"zh": "计划完成", "en": "Due"},
    "common.why": {"zh": "原因", "en": "Why"},
    "common.measure": {"zh": "指标", "en": "Measure"},
    "common.open_tasks": {"zh": "未完成任务", "en": "Open tasks"},
    "common.overdue": {"zh": "逾期", "en": "Overdue"},
    "common.closed": {"zh": "已关闭", "en": "Closed"},
    "common.link": {"zh": "链接", "en": "Link"},
    "common.by_person": {"zh": "按人员", "en": "By person"},
    "common.rows_shown": {"zh": "显示行数", "en": "Rows shown"},
    "common.unassigned": {"zh": "（未分配）", "en": "(unassigned)"},
    "common.in_progress": {"zh": "进行中", "en": "In progress"},
    "common.done": {"zh": "已完成", "en": "Done"},
    "common.no_team": {"zh": "未分组", "en": "No team"},
    "common.team": {"zh": "团队", "en": "Team"},
    "common.save": {"zh": "保存", "en": "Save"},
    "common.name": {"zh": "名称", "en": "Name"},
    "common.download_csv": {"zh": "下载 CSV", "en": "Download CSV"},
    "common.when": {"zh": "时间", "en": "When"},
    "common.table": {"zh": "表", "en": "Table"},
    "common.not_saved": {"zh": "未保存，请修正以下问题：", "en": "Not saved. Please fix:"},
    "common.budget": {"zh": "预算", "en": "Budget"},
    # messages
    "msg.no_data": {
        "zh": "还没有已发布的数据仓库（{path}）。请先运行 `make demo` 生成演示数据，或运行 `lodestar sync` 同步真实数据，然后刷新本页。",
        "en": "No published warehouse yet ({path}). Run `make demo` for the demo company, or `lodestar sync` for your own sources, then reload this page.",
    },
    "msg.no_projects": {
        "zh": "数据仓库中还没有项目。请检查 lodestar.toml 中的数据源后运行 `lodestar sync`。",
        "en": "The warehouse has no projects yet. Check the sources in lodestar.toml, then run `lodestar sync`.",
    },
    "msg.config_error": {"zh": "配置错误：{message}", "en": "Configuration problem: {message}"},
    "msg.warehouse_error": {"zh": "数据仓库错误：{message}", "en": "Warehouse problem: {message}"},
    "msg.edits_store_problem": {
        "zh": "编辑库（风险、计划、站会和审计记录）出现问题，页面显示的是上次同步时保存在数据仓库中的副本，暂不能保存新的编辑：{message}",
        "en": "The edits store (risks, plans, stand-ups and the audit trail) has a problem. Pages show the copy the "
              "warehouse kept at the last sync, and new edits cannot be saved until it is fixed: {message}",
    },
    "msg.no_trend": {"zh": "所选时间范围内没有每日数据。", "en": "No daily data in this period."},
    "msg.as_of": {"zh": "数据截至 {as_of}", "en": "Data as of {as_of}"},
    # portfolio page
    "portfolio.title": {"zh": "项目组合总览", "en": "Portfolio overview"},
    "portfolio.projects_header": {"zh": "各项目情况", "en": "Projects"},
    "portfolio.source_failing": {
        "zh": "数据源 {source} 自 {since} 起同步失败：{error}。其数据停留在上次成功同步（{last}），其他数据源照常更新。",
        "en": "Source {source} has been failing to sync since {since}: {error}. Its data is as of its last good "
              "sync ({last}); the other sources are up to date.",
    },
    "portfolio.data_notes": {
        "zh": "数据说明：{records} 条记录被隔离，{fields} 个值被清空或修正，{projects} 个项目未能完成排程或预测",
        "en": "Data notes: {records} record(s) set aside, {fields} value(s) nulled or repaired, "
              "{projects} project(s) not fully planned",
    },
    "portfolio.quarantine_help": {
        "zh": "被隔离的记录未载入数据仓库，每次同步都会重试；运行 `lodestar quarantine list` 查看每条的原因。",
        "en": "Set-aside records are not in the warehouse and are retried by every sync; "
              "`lodestar quarantine list` gives each one's reason.",
    },
    "portfolio.col_source": {"zh": "数据源", "en": "Source"},
    "portfolio.col_records": {"zh": "隔离记录", "en": "Records set aside"},
    "portfolio.col_fields": {"zh": "修正的值", "en": "Values repaired"},
    "portfolio.col_stage": {"zh": "环节", "en": "Stage"},
    "portfolio.trend_header": {"zh": "趋势", "en": "Trend"},
    "portfolio.trend_capped": {
        "zh": "共 {total} 个项目，图中显示未完成任务最多的 {shown} 个；完整数据见上表或 SQL 查询页。",
        "en": "Showing the {shown} projects with the most open work of {total}; the table above and the SQL page have all.",
    },
    # KPI metrics
    "kpi.projects": {"zh": "项目数", "en": "Projects"},
    "kpi.completion": {"zh": "完成率", "en": "Completion"},
    "kpi.hours_month": {"zh": "本月工时", "en": "Hours this month"},
    # column headers; units sit in the header so cells stay plain numbers
    "col.project_key": {"zh": "项目代号", "en": "Key"},
    "col.overdue": {"zh": "逾期任务", "en": "Overdue"},
    "col.hours_month": {"zh": "本月工时 (h)", "en": "Hours this month (h)"},
    "col.cost": {"zh": "累计成本", "en": "Cost to date"},
    "col.health": {"zh": "健康度", "en": "Health"},
    "col.spi": {"zh": "SPI 进度绩效", "en": "SPI"},
    "col.cpi": {"zh": "CPI 成本绩效", "en": "CPI"},
    "col.hours_vs_plan": {"zh": "工时/计划", "en": "Hours vs plan"},
    "col.budget_used": {"zh": "预算消耗", "en": "Budget used"},
    "col.defect_density": {"zh": "缺陷密度 (每百任务)", "en": "Defect density (per 100 items)"},
    "col.finish_p85": {"zh": "预测完成 P85", "en": "Predicted finish (P85)"},
    # health light and its reasons
    "health.green": {"zh": "正常", "en": "On track"},
    "health.amber": {"zh": "关注", "en": "At risk"},
    "health.red": {"zh": "告警", "en": "Off track"},
    "health.unknown": {"zh": "未知", "en": "Unknown"},
    "health.ok": {"zh": "预测、进度与成本均在正常范围", "en": "Forecast, schedule and cost within limits"},
    "health.no_evidence": {"zh": "尚无预测或挣值数据", "en": "No forecast or earned value yet"},
    "health.slip": {
        "zh": "P85 预测完成 {p85} 晚于计划 {due}（{days} 天）",
        "en": "P85 finish {p85} is {days} d after the due date {due}",
    },
    "health.spi": {"zh": "SPI {value} 低于 {threshold}（进度落后）", "en": "SPI {value} below {threshold} (behind schedule)"},
    "health.cpi": {"zh": "CPI {value} 低于 {threshold}（成本超支）", "en": "CPI {value} below {threshold} (over cost)"},
    "health.budget": {"zh": "已用预算 {used}", "en": "{used} of the budget spent"},
    "health.overdue": {"zh": "{count} 项任务逾期（{share}）", "en": "{count} tasks overdue ({share})"},
    # trend chart
    "chart.trend_title": {"zh": "未完成任务与累计完成任务", "en": "Open tasks and cumulative resolved"},
    "chart.cumulative_resolved": {"zh": "累计完成", "en": "Cumulative resolved"},
}


def _merge(*tables: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for table in tables:
        clash = merged.keys() & table.keys()
        if clash:
            raise KeyError(f"translation keys defined twice: {sorted(clash)}")
        merged.update(table)
    return merged


STRINGS: Final[dict[str, dict[str, str]]] = _merge(
    _SHARED,
    alerts.STRINGS,
    bugs.STRINGS,
    forecast.STRINGS,
    gantt.STRINGS,
    hours.STRINGS,
    kanban.STRINGS,
    plan.STRINGS,
    risks.STRINGS,
    sql.STRINGS,
    standup.STRINGS,
)


def current_lang() -> str:
    """The language chosen in the sidebar; Chinese until someone switches.

    Outside a Streamlit run (CLI, plain tests) there is no session, so the
    default is used without touching st.session_state. An unknown code also
    falls back to the default so a stale session value cannot break rendering.
    """
    if get_script_run_ctx(suppress_warning=True) is None:
        return DEFAULT_LANG
    lang = st.session_state.get(SESSION_KEY, DEFAULT_LANG)
    return lang if lang in LANGS else DEFAULT_LANG


def t(key: str, lang: str | None = None, **fmt: object) -> str:
    """Translate ``key`` into ``lang`` (default: the session's language).

    An unknown key or language raises KeyError on purpose: a typo must fail
    a test rather than show a raw key to a user. ``fmt`` fills ``{name}``
    placeholders.
    """
    if key not in STRINGS:
        raise KeyError(f"no translation for {key!r}")
    chosen = lang if lang is not None else current_lang()
    entry = STRINGS[key]
    if chosen not in entry:
        raise KeyError(f"no {chosen!r} translation for {key!r}")
    text = entry[chosen]
    return text.format(**fmt) if fmt else text
