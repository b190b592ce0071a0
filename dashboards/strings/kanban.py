"""Words of the kanban page; keys start with "kanban."."""

STRINGS: dict[str, dict[str, str]] = {
    "kanban.title": {"zh": "看板", "en": "Kanban board"},
    "kanban.group_by": {"zh": "分组方式", "en": "Group by"},
    "kanban.group.sprint": {"zh": "按迭代", "en": "By sprint"},
    "kanban.lane.sprint": {"zh": "迭代", "en": "Sprint"},
    "kanban.lane_label": {"zh": "{name}（未完成 {open} / 共 {total}）", "en": "{name} ({open} open / {total})"},
    "kanban.no_sprint": {"zh": "未排入迭代", "en": "No sprint"},
    "kanban.unassigned": {"zh": "未分配", "en": "Unassigned"},
    "kanban.state.active": {"zh": "当前迭代", "en": "active"},
    "kanban.state.future": {"zh": "未开始", "en": "future"},
    "kanban.state.closed": {"zh": "已结束", "en": "closed"},
    "kanban.card_cap": {"zh": "每列最多显示卡片数", "en": "Cards shown per column"},
    "kanban.column.todo": {"zh": "待办", "en": "To do"},
    "kanban.column_header": {"zh": "{name} · {count}", "en": "{name} · {count}"},
    "kanban.more": {
        "zh": "另有 {count} 张卡片未显示（已按上限截断）。",
        "en": "{count} more cards not shown (capped).",
    },
    "kanban.more_done": {
        "zh": "另有 {count} 张较早完成的卡片未显示。",
        "en": "{count} earlier finished cards not shown.",
    },
    "kanban.column_empty": {"zh": "没有任务", "en": "No tasks"},
    "kanban.card.age": {"zh": "已创建 {days} 天", "en": "{days} d old"},
    "kanban.card.done_on": {"zh": "完成于 {day}", "en": "done {day}"},
    "kanban.card.due": {"zh": "截止 {day}", "en": "due {day}"},
    "kanban.card.overdue": {"zh": "已逾期", "en": "Overdue"},
    "kanban.card.delay": {"zh": "延期概率 {share}", "en": "Delay risk {share}"},
    "kanban.caption": {
        "zh": "截至 {as_of}：进行中（WIP）{wip} 个，逾期 {overdue} 个。待办与进行中按优先级、截止日期排序；已完成按完成时间倒序。负责人以计划编辑中的调整为准。",
        "en": "As of {as_of}: {wip} in progress (WIP), {overdue} overdue. Open cards are ordered by priority, then due date; done cards most recent first. Assignees include changes made in the plan editor.",
    },
    "kanban.lanes_header": {"zh": "各分组任务数", "en": "Tasks per lane"},
    "kanban.col.lane": {"zh": "分组", "en": "Lane"},
    "kanban.no_projects": {
        "zh": "数据仓库中还没有任务，看板无内容。",
        "en": "The warehouse has no tasks yet, so the board is empty.",
    },
    "kanban.no_lanes": {"zh": "该项目没有任务。", "en": "This project has no tasks."},
    "kanban.empty_lane": {"zh": "该分组中没有任务。", "en": "No tasks in this lane."},
}
