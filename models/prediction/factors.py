"""What drives a prediction, as sentences a manager can read, in English and Chinese.

`models.prediction.delay.explain` finds the features that move a task's delay risk
most and what each was compared with; this module words them. Every feature the
delay and duration models read has a sentence here in both languages
(`SENTENCES`; `tests/test_factors.py` fails when one is missing), written in the
user's terms with the task's value and the typical one, units included:

* "estimated 69 h, 8× the typical task of this type" / "估算 69 小时，是同类任务典型值的 8 倍"
* "in progress for 148 working days (similar tasks usually 12)" / "已进行 148 个工作日（同类任务通常 12 天）"

"Similar tasks" / "同类任务" is said only when the typical value was taken among
training tasks of the same type (`Factor.peers`); otherwise the sentence compares
with "other tasks" / "其他任务". English counts agree with their number ("1 working
day", "2 working days"). A feature without a sentence is left out rather than shown
by its column name.

Why not translate on the page: `task_predictions` is read by the dashboard and by
the alert messages, and a stored sentence means both say the same thing in each
language without parsing model output.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from models.prediction.delay import Factor

__all__ = ["LANGUAGES", "SENTENCES", "Template", "baseline_sentence", "base_feature", "sentence", "sentences"]

log = logging.getLogger(__name__)

LANGUAGES = ("en", "zh")


@dataclass(frozen=True)
class Template:
    """How one feature is said.

    `unit` says how its value and typical value are written (see `_write`). `en` / `zh` map a form
    to a template: ``value`` (the feature has a value), ``missing`` (it has none), optionally
    ``ratio`` (used instead of ``value`` when the value is at least twice the typical one), and for
    yes/no features ``yes`` and ``no``. Placeholders: ``{value}``, ``{typical}``, ``{ratio}``,
    ``{peers}`` ("similar tasks" / "other tasks"), ``{peer_one}`` ("the typical task of this type" /
    "the typical task"). `noun` is the English singular and plural written after a count.
    """

    unit: str
    en: Mapping[str, str]
    zh: Mapping[str, str]
    noun: tuple[str, str] = ("", "")


_USUAL = ("{peers} usually {typical}", "{peers}通常 {typical}")


def _t(unit: str, en: str, zh: str, missing: tuple[str, str], *, zh_unit: str = "",
       compare: tuple[str, str] | None = None, missing_compares: bool = False,
       ratio: tuple[str, str] | None = None, noun: tuple[str, str] = ("", "")) -> Template:
    """A template from what is said (`en`, `zh`) and what it is compared with (`compare`, in parentheses).

    The comparison is by default "similar tasks usually …" / "同类任务通常 …" with `zh_unit` after the typical
    value (" 天", " 个"...); `missing_compares` adds it to the sentence for a missing value too.
    """
    en_compare, zh_compare = compare or (_USUAL[0], _USUAL[1] + zh_unit)
    en_forms = {"value": f"{en} ({en_compare})", "missing": missing[0]}
    zh_forms = {"value": f"{zh}（{zh_compare}）", "missing": missing[1]}
    if missing_compares:
        en_forms["missing"] += f" ({en_compare})"
        zh_forms["missing"] += f"（{zh_compare}）"
    if ratio is not None:
        en_forms["ratio"], zh_forms["ratio"] = ratio
    return Template(unit, en_forms, zh_forms, noun)


def _flag(en_yes: str, en_no: str, zh_yes: str, zh_no: str) -> Template:
    return Template("flag", {"yes": en_yes, "no": en_no}, {"yes": zh_yes, "no": zh_no})


_NO_ASSIGNEE = ("no assignee", "没有负责人")
_NO_REPORTER = ("no reporter", "没有报告人")
_NO_DUE = ("no due date", "没有截止日期")
_NO_TEAM = ("the team has no finished tasks yet", "团队还没有已完成的任务")
_NO_TEAM_RATIO = ("the team has no finished tasks to compare with", "团队还没有可比较的已完成任务")
_AS_NAME = ("{peers} usually “{typical}”", "{peers}通常为“{typical}”")
_AS_WORD = ("{peers} usually {typical}", "{peers}通常为{typical}")
_TASKS = ("task", "tasks")
_DAYS, _ITEMS, _TIMES = " 天", " 个", " 次"

SENTENCES: dict[str, Template] = {
    # ---- what the task is
    "type_category": _t("type", "it is {value}", "类型为{value}", ("no type", "没有类型"),
                        compare=("most tasks are {typical}", "多数任务为{typical}")),
    "priority": _t("name", "priority “{value}”", "优先级为“{value}”", ("no priority set", "未设置优先级"),
                   compare=_AS_NAME, missing_compares=True),
    "priority_rank": _t("rank", "{value} priority", "优先级等级为{value}",
                        ("a priority not known as high or low", "无法识别优先级高低"),
                        compare=_AS_WORD, missing_compares=True),
    "n_labels": _t("count", "{value}", "有 {value} 个标签", ("no labels", "没有标签"), zh_unit=_ITEMS,
                   noun=("label", "labels")),
    "n_components": _t("count", "in {value}", "涉及 {value} 个模块", ("no components", "没有模块"), zh_unit=_ITEMS,
                       noun=("component", "components")),
    "labels": _t("list", "labelled {value}", "标签为{value}", ("no labels", "没有标签"),
                 compare=("{peers} usually have other labels", "{peers}通常没有这些标签")),
    "components": _t("list", "in the component {value}", "属于模块{value}", ("no components", "没有模块"),
                     compare=("{peers} are usually elsewhere", "{peers}通常属于其他模块")),
    "text": _t("words", "the words of its title and description", "标题和描述中的用词",
               ("no title or description", "没有标题和描述"),
               compare=("unlike those of {peers}", "与{peers}不同")),
    "has_assignee": _flag("has an assignee, unlike most {peers}", "no assignee, unlike most {peers}",
                          "已分配负责人，而多数{peers}没有", "尚未分配负责人，而多数{peers}已分配"),
    # ---- size
    "estimate_hours": _t("hours", "estimated {value}", "估算 {value}", ("no estimate", "没有估算"),
                         missing_compares=True,
                         ratio=("estimated {value}, {ratio} {peer_one}", "估算 {value}，是{peers}典型值的 {ratio}")),
    "story_points": _t("count", "{value}", "{value} 个故事点", ("no story points", "没有故事点"), zh_unit=_ITEMS,
                       missing_compares=True, noun=("story point", "story points"),
                       ratio=("{value}, {ratio} {peer_one}", "{value} 个故事点，是{peers}典型值的 {ratio}")),
    # ---- dates and time
    "has_due_date": _flag("has a due date, unlike most {peers}", "no due date, unlike most {peers}",
                          "有截止日期，而多数{peers}没有", "没有截止日期，而多数{peers}有"),
    "due_date": _t("date", "due on {value}", "截止日期 {value}", _NO_DUE,
                   compare=("{peers} usually due around {typical}", "{peers}通常在 {typical} 前后")),
    "days_to_due": _t("due_in", "{value}", "{value}", _NO_DUE,
                      compare=("{peers} usually {typical}", "{peers}通常{typical}")),
    "age_workdays": _t("workdays", "open for {value}", "创建至今 {value}", ("no creation date", "没有创建日期"),
                       zh_unit=_DAYS),
    "active_workdays": _t("workdays", "in progress for {value}", "已进行 {value}", ("not started", "尚未开始"),
                          zh_unit=_DAYS),
    "status_workdays": _t("workdays", "in its current status for {value}", "在当前状态停留 {value}",
                          ("no status date", "没有状态日期"), zh_unit=_DAYS),
    # ---- progress
    "status_at": _t("name", "in status “{value}”", "处于“{value}”状态",
                    ("no status change recorded yet", "尚无状态变更记录"), compare=_AS_NAME, missing_compares=True),
    "status_category_at": _t("status", "status “{value}”", "状态为“{value}”", ("status unknown", "状态未知"),
                             compare=_AS_NAME),
    "is_started": _flag("work has started, unlike most {peers}", "not started yet, unlike most {peers}",
                        "已开始，而多数{peers}尚未开始", "尚未开始，而多数{peers}已开始"),
    "is_done": _flag("already done, unlike most {peers}", "not done yet, unlike most {peers}",
                     "已完成，而多数{peers}尚未完成", "尚未完成，而多数{peers}已完成"),
    "status_changes_n": _t("count", "{value} so far", "状态已变更 {value} 次", ("no status changes", "没有状态变更"),
                           zh_unit=_TIMES, noun=("status change", "status changes")),
    "reopen_n": _t("count", "reopened {value}", "被重新打开 {value} 次", ("never reopened", "从未被重新打开"),
                   zh_unit=_TIMES, noun=("time", "times")),
    "comments_n": _t("count", "{value}", "{value} 条评论", ("no comments", "没有评论"), zh_unit=" 条",
                     noun=("comment", "comments")),
    "worklog_hours": _t("hours", "{value} logged", "已登记 {value}", ("no hours logged", "没有登记工时")),
    "worklog_to_estimate": _t("percent", "hours logged are {value} of the estimate", "已登记工时为估算的 {value}",
                              ("no estimate to compare the logged hours with", "没有估算，无法对比已登记工时")),
    # ---- people
    "assignee_wip": _t("count", "the assignee has {value} in progress", "负责人手上另有 {value} 个进行中的任务",
                       _NO_ASSIGNEE, zh_unit=_ITEMS, noun=("other task", "other tasks")),
    "assignee_resolved_n": _t("count", "the assignee has finished {value} before", "负责人此前已完成 {value} 个任务",
                              _NO_ASSIGNEE, zh_unit=_ITEMS, noun=_TASKS),
    "assignee_on_time_rate": _t("percent", "the assignee finished {value} of their tasks on time",
                                "负责人按时完成率 {value}",
                                ("the assignee has no finished tasks with a due date yet",
                                 "负责人还没有带截止日期的已完成任务")),
    "reporter_reported_n": _t("count", "the reporter has filed {value}", "报告人已提交 {value} 个任务", _NO_REPORTER,
                              zh_unit=_ITEMS, noun=_TASKS),
    "reporter_resolved_n": _t("count", "finished tasks filed by the reporter: {value}",
                              "报告人提交的任务已完成 {value} 个", _NO_REPORTER, zh_unit=_ITEMS),
    "reporter_delay_rate": _t("percent", "{value} of the reporter's finished tasks were late",
                              "报告人已完成的任务中 {value} 延期",
                              ("none of the reporter's tasks with a due date is finished yet",
                               "报告人还没有带截止日期的已完成任务")),
    # ---- dependencies
    "blockers_n": _t("count", "blocked by {value}", "被 {value} 个任务阻塞", ("no blockers", "没有阻塞任务"),
                     zh_unit=_ITEMS, noun=_TASKS),
    "blockers_open_n": _t("count", "{value}", "{value} 个阻塞任务尚未解决", ("no open blockers", "没有未解决的阻塞任务"),
                          zh_unit=_ITEMS, noun=("open blocker", "open blockers")),
    "blocking_n": _t("count", "blocks {value}", "阻塞着 {value} 个其他任务", ("blocks no other task", "没有阻塞其他任务"),
                     zh_unit=_ITEMS, noun=("other task", "other tasks")),
    "subtasks_n": _t("count", "{value}", "有 {value} 个子任务", ("no subtasks", "没有子任务"), zh_unit=_ITEMS,
                     noun=("subtask", "subtasks")),
    "subtasks_open_n": _t("count", "{value}", "{value} 个子任务未完成", ("no open subtasks", "没有未完成的子任务"),
                          zh_unit=_ITEMS, noun=("open subtask", "open subtasks")),
    # ---- the team (project) history
    "team_resolved_n": _t("count", "the team has finished {value} so far", "团队已完成 {value} 个任务", _NO_TEAM,
                          zh_unit=_ITEMS, noun=_TASKS),
    "team_cycle_p50": _t("workdays", "half of the team's tasks finish within {value}", "团队半数任务在 {value} 内完成",
                         _NO_TEAM, zh_unit=_DAYS),
    "team_cycle_p85": _t("workdays", "85% of the team's tasks finish within {value}",
                         "团队 85% 的任务在 {value} 内完成", _NO_TEAM, zh_unit=_DAYS),
    "age_to_p50": _t("ratio", "in progress for {value} the team's median cycle time",
                     "已进行时间是团队周期中位数的 {value}", _NO_TEAM_RATIO),
    "age_to_p85": _t("ratio", "in progress for {value} the time in which the team finishes 85% of its tasks",
                     "已进行时间是团队 85% 任务完成用时的 {value}", _NO_TEAM_RATIO),
}
"""Feature → how it is said (see `Template`); keys are the feature names of `models.prediction.features`."""

_PEERS = {
    "en": {True: ("similar tasks", "the typical task of this type"), False: ("other tasks", "the typical task")},
    "zh": {True: ("同类任务", "同类任务"), False: ("其他任务", "其他任务")},
}
_DIRECTION = {"en": (", which raises the risk", ", which lowers the risk"), "zh": ("，推高延期风险", "，降低延期风险")}
_TYPES = {
    "en": {"bug": ("a bug", "bugs"), "feature": ("a feature", "features"), "task": ("a task", "tasks"),
           "subtask": ("a subtask", "subtasks"), "epic": ("an epic", "epics")},
    "zh": {"bug": ("缺陷", "缺陷"), "feature": ("需求", "需求"), "task": ("任务", "任务"),
           "subtask": ("子任务", "子任务"), "epic": ("史诗", "史诗")},
}
_STATUS = {"en": {"todo": "to do", "in_progress": "in progress", "done": "done"},
           "zh": {"todo": "待办", "in_progress": "进行中", "done": "已完成"}}
_RANKS = {"en": ("highest", "high", "medium", "low", "lowest"), "zh": ("最高", "高", "中", "低", "最低")}
_EPOCH = date(1970, 1, 1)
_DESIGN_COLUMN = re.compile(r"^(?:(?P<tag>labels|components)=.*|(?P<text>text)_svd_\d+)$")


def base_feature(name: str) -> str:
    """The feature a model's design column comes from: ``labels=api`` → ``labels``, ``text_svd_3`` → ``text``."""
    match = _DESIGN_COLUMN.match(name)
    if match is None:
        return name
    return match["tag"] or match["text"]


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    rounded = round(value, 1)
    return str(int(rounded)) if float(rounded).is_integer() else f"{rounded:.1f}"


def _count(value: float, noun: tuple[str, str], lang: str) -> str:
    number = _number(value)
    if lang != "en" or not noun[0]:
        return number
    return f"{number} {noun[0] if number == '1' else noun[1]}"


def _workdays(value: float, lang: str) -> str:
    number = _number(value)
    if lang == "zh":
        return f"{number} 个工作日"
    return f"{number} working {'day' if number == '1' else 'days'}"


def _due_in(value: float, lang: str) -> str:
    days = abs(value)
    if _number(days) == "0":
        return "due today" if lang == "en" else "今天截止"
    if value > 0:
        return f"due in {_workdays(days, lang)}" if lang == "en" else f"距截止还有 {_workdays(days, lang)}"
    return f"overdue by {_workdays(days, lang)}" if lang == "en" else f"已逾期 {_workdays(days, lang)}"


def _ratio(value: float, lang: str) -> str:
    """Ratios as "8×": whole from 5 up, where a tenth says nothing to the reader; else one or two decimals."""
    if abs(value) >= 5:
        text = f"{value:,.0f}"
    elif abs(value) >= 1:
        text = _number(value)
    else:
        text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{text}×" if lang == "en" else f"{text} 倍"


def _rank(value: float, lang: str) -> str:
    index = min(max(int(math.floor(value + 0.5)), 1), 5) - 1
    return _RANKS[lang][index]


def _list(value: Any, lang: str) -> str:
    items = [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
    return ("、" if lang == "zh" else ", ").join(f"“{v}”" for v in items)


def _write(template: Template, value: Any, lang: str, *, typical: bool) -> str:
    """`value` in the words of `template.unit` (typical values of counts and days are bare numbers)."""
    unit = template.unit
    if unit == "type":
        names = _TYPES[lang].get(str(value))
        return (names[1] if typical else names[0]) if names else f"“{value}”"
    if unit == "status":
        return _STATUS[lang].get(str(value), f"“{value}”")
    if unit in ("name", "words"):
        return str(value)
    if unit == "list":
        return _list(value, lang)
    number = float(value)
    if unit == "hours":
        return f"{_number(number)} h" if lang == "en" else f"{_number(number)} 小时"
    if unit == "workdays":
        return _number(number) if typical else _workdays(number, lang)
    if unit == "count":
        return _number(number) if typical else _count(number, template.noun, lang)
    if unit == "percent":
        return f"{number:.0%}"
    if unit == "ratio":
        return _ratio(number, lang)
    if unit == "rank":
        return _rank(number, lang)
    if unit == "due_in":
        return _due_in(number, lang)
    if unit == "date":
        return (_EPOCH + timedelta(days=int(round(number)))).isoformat()
    raise ValueError(f"unknown unit {unit!r}")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def sentence(factor: Factor, lang: str) -> str | None:
    """One factor as a sentence in `lang` ("en" or "zh"), direction included; None when the feature has none."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, got {lang!r}")
    template = SENTENCES.get(base_feature(factor.feature))
    if template is None:
        log.warning("no sentence for the feature %r; left out of the factors", factor.feature)
        return None
    forms = getattr(template, lang)
    peers, peer_one = _PEERS[lang][factor.peers is not None]
    values = {"peers": peers, "peer_one": peer_one, "typical": "—"}
    if template.unit != "flag" and not _missing(factor.typical):
        values["typical"] = _write(template, factor.typical, lang, typical=True)
    if template.unit == "flag":
        form = "yes" if not _missing(factor.value) and float(factor.value) > 0 else "no"
    elif _missing(factor.value):
        form = "missing"
    else:
        values["value"] = _write(template, factor.value, lang, typical=False)
        form = "value"
        typical = factor.typical
        if ("ratio" in forms and not _missing(typical) and isinstance(typical, (int, float)) and typical > 0
                and float(factor.value) >= 2 * typical):
            form = "ratio"
            values["ratio"] = _ratio(float(factor.value) / typical, lang)
    up, down = _DIRECTION[lang]
    return forms[form].format(**values) + (up if factor.effect > 0 else down)


def sentences(factors: Sequence[Factor], lang: str) -> list[str]:
    """`sentence` for each factor, in order, leaving out features that have no sentence."""
    return [text for text in (sentence(f, lang) for f in factors) if text is not None]


def baseline_sentence(type_category: str | None, rate: float, lang: str) -> str:
    """Why a task got a delay rate from history: too little of it for the model (the visible fallback).

    `type_category` is the type whose rate was used, None when it was the rate over all tasks.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, got {lang!r}")
    kind = _TYPES[lang].get(type_category or "")
    if lang == "en":
        plural = kind[1] if kind else "tasks"
        return f"too little history for the model yet: {rate:.0%} of past {plural} with a due date finished late"
    return f"历史数据不足，暂按历史延期比例估计：过去有截止日期的{kind[1] if kind else '任务'}中 {rate:.0%} 延期完成"
