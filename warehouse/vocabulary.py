"""The one status vocabulary: status name → todo / in_progress / done, and done → delivered / dropped.

Used by every parser (`pipelines/*/parse.py` through `pipelines.common_parse`), the prediction
features (`models/prediction/features.py`), and through `tasks.outcome` the KPIs and alerts.

Precedence, everywhere:

1. **Category**: the source's own category wins (Jira's `statusCategory`, GitHub/GitLab `state`);
   the name is guessed (`status_category_for`) only when the source gives none.
2. **Outcome** of a done task (`outcome_for`): the source's own resolution wins when it is a known
   word (Jira `fields.resolution.name`, GitHub `state_reason`, a GitLab resolution label); else
   the status name (a "Won't Do" or "已拒绝" status); else the task was delivered. Not done: None.

Names are compared case-, space-, dash- and underscore-insensitively, apostrophes dropped
("Won't Do" = "wontdo" = "WONT_DO"): first whole names, then the keyword fragments below.
"""

from __future__ import annotations

import re

__all__ = [
    "CATEGORIES",
    "OUTCOMES",
    "normalise",
    "outcome_for",
    "resolution_outcome",
    "status_category_for",
]

CATEGORIES = ("todo", "in_progress", "done")
OUTCOMES = ("delivered", "dropped")


def normalise(name: str) -> str:
    """`Won't Do` → `wontdo`: lower case without spaces, dashes, underscores or apostrophes."""
    return re.sub(r"[\s_\-'’`]+", "", name.strip().lower())


# Done, but nothing was delivered: the work was declined, duplicated elsewhere, or moot.
DROPPED_NAMES = frozenset({
    "wontdo", "wontfix", "notplanned", "duplicate", "duplicated", "rejected", "declined", "cancelled",
    "canceled", "cannotreproduce", "cantreproduce", "notreproducible", "couldnotreproduce", "invalid",
    "obsolete", "notaproblem", "notabug", "worksasdesigned", "worksasintended", "asdesigned", "incomplete",
    "abandoned", "withdrawn", "stale", "outdated", "later", "wontimplement", "notdoing",
    "不修复", "不予修复", "不做", "不处理", "不予处理", "不予解决", "重复", "重复问题", "已拒绝", "拒绝", "无效",
    "无法重现", "无法复现", "不能重现", "已取消", "取消", "已废弃", "废弃", "过时", "已过时", "设计如此", "非问题",
})
_DROPPED_FRAGMENTS = ("wontfix", "wontdo", "notplanned", "duplicate", "reject", "declin", "cancel",
                      "reproduc", "invalid", "obsolete", "abandon", "不修复", "重复", "拒绝", "无效", "无法重现",
                      "无法复现", "取消", "废弃")

# Done and delivered (resolution names; done status names are below).
DELIVERED_NAMES = frozenset({
    "fixed", "done", "resolved", "complete", "completed", "implemented", "delivered", "released", "merged",
    "closed", "accepted", "finished", "已修复", "修复", "已完成", "完成", "已解决", "解决", "已实现", "已发布",
})

_STATUS_NAMES = {
    "open": "todo", "todo": "todo", "backlog": "todo", "new": "todo", "reopened": "todo",
    "selectedfordevelopment": "todo", "opened": "todo", "待办": "todo", "新建": "todo", "打开": "todo",
    "重新打开": "todo", "待处理": "todo",
    "inprogress": "in_progress", "inreview": "in_progress", "review": "in_progress",
    "codereview": "in_progress", "doing": "in_progress", "patchavailable": "in_progress",
    "intest": "in_progress", "testing": "in_progress", "inqa": "in_progress",
    "进行中": "in_progress", "处理中": "in_progress", "开发中": "in_progress", "测试中": "in_progress",
    "评审中": "in_progress",
    "done": "done", "closed": "done", "resolved": "done", "complete": "done", "completed": "done",
    "fixed": "done", "released": "done", "merged": "done",
    "完成": "done", "已完成": "done", "已关闭": "done", "关闭": "done", "已解决": "done",
}
# Checked in this order; "reopen" first so "Reopened" is not read as open-and-done or as done.
_STATUS_FRAGMENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("todo", ("reopen", "重新打开")),
    ("in_progress", ("progress", "review", "doing", "进行", "处理中", "开发中", "测试中")),
    ("done", ("done", "closed", "resolved", "complete", "fixed", "released", "merged", "完成", "关闭", "解决")),
    ("todo", ("todo", "backlog", "open", "selected", "待办", "新建", "打开", "待处理")),
)


def resolution_outcome(name: str | None) -> str | None:
    """A resolution or status name → `dropped`, `delivered`, or None when the words say neither."""
    if not name or not name.strip():
        return None
    key = normalise(name)
    if key in DROPPED_NAMES:
        return "dropped"
    if key in DELIVERED_NAMES:
        return "delivered"
    if any(fragment in key for fragment in _DROPPED_FRAGMENTS):
        return "dropped"
    return None


def status_category_for(name: str | None) -> str | None:
    """Fallback status name → todo|in_progress|done when the source gives no category.

    `Reopened` is todo, as in Jira's default workflow; dropped names ("Won't Do", "Duplicate",
    "已拒绝") are done. Unknown names return None so the caller can prefer better evidence or
    choose its own default (features: in_progress; parsers: the source's state).
    """
    if not name or not name.strip():
        return None
    key = normalise(name)
    if key in _STATUS_NAMES:
        return _STATUS_NAMES[key]
    if resolution_outcome(name) == "dropped":
        return "done"
    for category, fragments in _STATUS_FRAGMENTS:
        if any(fragment in key for fragment in fragments):
            return category
    return None


def outcome_for(status_category: str | None, resolution: str | None = None, status: str | None = None) -> str | None:
    """`delivered` / `dropped` for a done task, None otherwise (see the module's precedence)."""
    if status_category != "done":
        return None
    return resolution_outcome(resolution) or ("dropped" if resolution_outcome(status) == "dropped" else "delivered")
