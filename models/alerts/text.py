"""Alert wording in Chinese and English, from the facts a rule recorded.

Findings store numbers and dates, not sentences, so one alert reads right
in a Chinese DingTalk group, an English e-mail and the dashboard alike, and
the wording can improve without re-raising anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TEXT: dict[str, dict[str, str]] = {
    "overdue.title": {"zh": "{key} 已逾期 {days_late} 天：{title}", "en": "{key} is {days_late} days overdue: {title}"},
    "overdue.why": {"zh": "计划完成日 {due}，已过 {workdays_late} 个工作日仍未完成",
                    "en": "due {due}; still open {workdays_late} working days later"},
    "due_soon.title": {"zh": "{key} 将于 {due} 到期但进度不足：{title}",
                       "en": "{key} is due {due} with too little progress: {title}"},
    "due_soon.why": {"zh": "剩余 {workdays_left} 个工作日，进度 {progress_pct}（状态：{status}）",
                     "en": "{workdays_left} working days left, {progress_pct} done (status: {status})"},
    "baseline_slip.title": {"zh": "{key} 相对基线“{baseline}”延误 {slip_workdays} 个工作日：{title}",
                            "en": "{key} slipped {slip_workdays} working days against baseline “{baseline}”: {title}"},
    "baseline_slip.why": {"zh": "基线完成 {baseline_finish}，当前计划完成 {current_finish}",
                          "en": "baseline finish {baseline_finish}, now planned {current_finish}"},
    "critical_late.title": {"zh": "关键路径任务 {key} 落后 {late_workdays} 个工作日：{title}",
                            "en": "Critical-path task {key} is {late_workdays} working days late: {title}"},
    "critical_late.why": {"zh": "最早完成 {early_finish} 晚于最迟完成 {late_finish}（总浮动为负）",
                          "en": "early finish {early_finish} is after its late finish {late_finish} (negative float)"},
    "critical_late.project": {"zh": "项目 P85 预测完成 {project_p85}，计划 {project_due}",
                              "en": "project P85 finish {project_p85} against due {project_due}"},
    "delay_risk.title": {"zh": "{key} 延期概率 {probability_pct}：{title}",
                         "en": "{key} has a {probability_pct} chance of finishing late: {title}"},
    "delay_risk.why": {"zh": "模型主要因素：{factors}", "en": "model's top factors: {factors}"},
    "delay_risk.remaining": {"zh": "预计还需 {p50} 天（P90 {p90} 天），到期日 {due}",
                             "en": "about {p50} more days (P90 {p90}), due {due}"},
    "cycle_time.title": {"zh": "{key} 已进行 {age_days} 天，超过团队 P{percentile} 周期 {limit_days} 天：{title}",
                         "en": "{key} in progress {age_days} days, beyond the team's P{percentile} cycle time of "
                               "{limit_days} days: {title}"},
    "cycle_time.why": {"zh": "团队：{team}", "en": "team: {team}"},
    "blocked.title": {"zh": "{key} 已阻塞 {days} 天：{title}", "en": "{key} blocked for {days} days: {title}"},
    "blocked.why": {"zh": "状态“{status}”，自 {since} 起", "en": "status “{status}” since {since}"},
    "budget_burn.title": {"zh": "项目 {project} 成本消耗快于挣值（CPI {cpi}）",
                          "en": "Project {project} is burning budget ahead of earned value (CPI {cpi})"},
    "budget_burn.why": {"zh": "实际成本 {ac}，挣值 {ev}；完工估算 {eac}，预算 {bac}",
                        "en": "actual cost {ac} vs earned value {ev}; estimate at completion {eac} vs budget {bac}"},
    "risk_overdue.title": {"zh": "高风险 {key}（评分 {score}）已过应对期限：{title}",
                           "en": "High risk {key} (score {score}) is past its due date: {title}"},
    "risk_overdue.why": {"zh": "应对期限 {due}，已过 {days_late} 天", "en": "due {due}, {days_late} days ago"},
    "sync_health.title": {"zh": "数据源 {source} 同步异常", "en": "Source {source} is not syncing"},
    "sync_health.failed": {"zh": "最近一次同步失败：{error}", "en": "last sync failed: {error}"},
    "sync_health.stale": {"zh": "已 {hours} 小时未成功同步（允许 {window_hours} 小时）",
                          "en": "no successful sync for {hours} h (expected within {window_hours} h)"},
    "sync_health.never": {"zh": "从未成功同步", "en": "never synced successfully"},
    "impact.task": {"zh": "若延误 {slip} 个工作日：项目完成 {old_end} → {new_end}（推迟 {delay} 个工作日）",
                    "en": "a {slip}-working-day slip moves the project end {old_end} → {new_end} ({delay} working days)"},
    "impact.absorbed": {"zh": "若延误 {slip} 个工作日：浮动时间可吸收，项目完成日 {old_end} 不变",
                        "en": "a {slip}-working-day slip is absorbed by float; the project end stays {old_end}"},
    "impact.milestone": {"zh": "里程碑 {name}：{old} → {new}", "en": "milestone {name}: {old} → {new}"},
    "option.accept": {"zh": "接受延误：项目完成日 {finish}", "en": "accept the slip: project ends {finish}"},
    "option.overlap": {"zh": "后续关键任务提前并行：项目完成日 {finish}（挽回 {recovered} 个工作日）",
                       "en": "overlap the critical successors: project ends {finish} ({recovered} working days recovered)"},
    "option.reassign": {"zh": "由 {helper} 分担剩余工作：项目完成日 {finish}（挽回 {recovered} 个工作日）",
                        "en": "{helper} takes part of the remaining work: project ends {finish} "
                              "({recovered} working days recovered)"},
    "option.shift_noncritical": {"zh": "在浮动范围内顺延非关键后续任务（完成日不变）",
                                 "en": "re-date non-critical successors within their float (end unchanged)"},
    "state.worse": {"zh": "情况恶化：{before} → {after}", "en": "getting worse: {before} → {after}"},
    "state.escalated": {"zh": "已升级：{hours} 小时无人确认", "en": "escalated: unacknowledged for {hours} h"},
    "state.reopened": {"zh": "再次出现（此前已解决）", "en": "back again (it had been resolved)"},
    "digest.heading": {"zh": "{project} 每日预警摘要（{count} 条）", "en": "{project} daily alert digest ({count})"},
    "alert.heading": {"zh": "Lodestar 预警：{project}", "en": "Lodestar alert: {project}"},
}


@dataclass(frozen=True)
class AlertText:
    title: str
    reasons: tuple[str, ...]
    impact: str | None
    options: tuple[str, ...]


def say(text_key: str, lang: str, /, **values: Any) -> str:
    return TEXT[text_key][lang if lang in ("zh", "en") else "zh"].format(**values)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def describe(rule: str, facts: dict[str, Any], lang: str, project_key: str | None = None) -> AlertText:
    """Title (what), reasons (why), impact (dates) and re-plan options of one alert, in `lang`."""
    values = {k: ("—" if v is None else v) for k, v in facts.items()}
    values.setdefault("project", project_key or "—")
    reasons: list[str] = []
    if rule == "due_soon":
        values["progress_pct"] = _percent(facts.get("progress"))
    if rule == "delay_risk":
        values["probability_pct"] = _percent(facts.get("probability"))
        if lang == "zh" and facts.get("factors_zh"):
            values["factors"] = "；".join(facts["factors_zh"])
        else:
            values["factors"] = "; ".join(facts.get("factors") or []) or "—"
    if rule == "budget_burn":
        from babel.numbers import format_currency

        currency = facts.get("currency") or "CNY"
        for name in ("ac", "ev", "eac", "bac"):
            values[name] = "—" if facts.get(name) is None else format_currency(
                facts[name], currency, locale="zh_CN" if lang == "zh" else "en", format="¤#,##0", currency_digits=False)
    title = say(f"{rule}.title", lang, **values)
    if rule == "sync_health":
        if facts.get("failed"):
            reasons.append(say("sync_health.failed", lang, **values))
        elif facts.get("hours") is None:
            reasons.append(say("sync_health.never", lang))
        else:
            reasons.append(say("sync_health.stale", lang, **values))
    else:
        reasons.append(say(f"{rule}.why", lang, **values))
    if rule == "critical_late" and facts.get("project_p85"):
        reasons.append(say("critical_late.project", lang, **values))
    if rule == "delay_risk" and facts.get("remaining_p50_days") is not None:
        reasons.append(say("delay_risk.remaining", lang, p50=f"{facts['remaining_p50_days']:.1f}",
                           p90=f"{(facts.get('remaining_p90_days') or 0):.1f}", due=values.get("due", "—")))
    return AlertText(title, tuple(reasons), impact_text(facts.get("impact"), lang),
                     tuple(option_texts(facts.get("options") or [], lang)))


def impact_text(impact: dict[str, Any] | None, lang: str) -> str | None:
    if not impact:
        return None
    key = "impact.task" if impact.get("delay", 0) > 0 else "impact.absorbed"
    text = say(key, lang, slip=_g(impact["slip"]), old_end=impact["old_end"], new_end=impact["new_end"],
               delay=_g(impact.get("delay", 0)))
    milestones = [say("impact.milestone", lang, **m) for m in impact.get("milestones", [])[:3]]
    return "; ".join([text, *milestones])


def option_texts(options: list[dict[str, Any]], lang: str) -> list[str]:
    return [say(f"option.{o['kind']}", lang, finish=o.get("finish", "—"), recovered=_g(o.get("recovered", 0)),
                helper=o.get("helper") or "—") for o in options]


def state_note(kind: str | None, lang: str, **values: Any) -> str | None:
    """Why an alert is sent again: it got worse, it was escalated, or it came back."""
    if kind in ("worse", "escalated", "reopened"):
        return say(f"state.{kind}", lang, **values)
    return None


def _g(value: float) -> str:
    return f"{value:g}"
