"""Words of the bugs page; keys start with "bugs."."""

STRINGS: dict[str, dict[str, str]] = {
    "bugs.title": {"zh": "缺陷分析", "en": "Bugs"},
    "bugs.all_projects": {"zh": "全部项目", "en": "All projects"},
    "bugs.priority": {"zh": "优先级", "en": "Priority"},
    "bugs.priority_help": {"zh": "不选即为全部优先级。", "en": "Leave empty for every priority."},
    "bugs.no_priority": {"zh": "（未设置）", "en": "(not set)"},
    "bugs.no_projects": {
        "zh": "数据仓库中还没有任务，无缺陷可分析。",
        "en": "The warehouse has no tasks yet, so there are no bugs to analyse.",
    },
    "bugs.no_bugs": {
        "zh": "所选范围内没有缺陷（类型为“缺陷”的任务）。",
        "en": "No bugs (tasks of type bug) match this selection.",
    },
    "bugs.as_of": {"zh": "缺陷年龄按 {as_of} 计算。", "en": "Ages are counted at {as_of}."},
    # metrics
    "bugs.metric.total": {"zh": "缺陷总数", "en": "Bugs"},
    "bugs.metric.open": {"zh": "未关闭", "en": "Open"},
    "bugs.metric.linked": {"zh": "已关联任务", "en": "Linked to a task"},
    "bugs.metric.median_age": {"zh": "未关闭缺陷年龄中位数", "en": "Median age of open bugs"},
    # trend
    "bugs.trend_header": {"zh": "新增与关闭趋势", "en": "Opened and closed"},
    "bugs.trend.flow_title": {"zh": "每周新增与关闭缺陷", "en": "Bugs opened and closed per week"},
    "bugs.trend.open_title": {"zh": "未关闭缺陷数（周末）", "en": "Open bugs at each week's end"},
    "bugs.trend.week": {"zh": "周", "en": "Week"},
    "bugs.trend.created": {"zh": "新增", "en": "Opened"},
    "bugs.trend.resolved": {"zh": "关闭", "en": "Closed"},
    "bugs.trend.capped": {"zh": "仅显示最近 {weeks} 周。", "en": "The last {weeks} weeks are shown."},
    # ageing
    "bugs.ageing_header": {"zh": "未关闭缺陷账龄", "en": "Age of open bugs"},
    "bugs.ageing.title": {"zh": "未关闭缺陷按创建天数分布", "en": "Open bugs by days since they were opened"},
    "bugs.ageing.bucket": {"zh": "账龄（天）", "en": "Age (days)"},
    "bugs.ageing.none_open": {"zh": "没有未关闭的缺陷。", "en": "No open bugs."},
    "bugs.bucket.0-7": {"zh": "0–7 天", "en": "0–7 d"},
    "bugs.bucket.8-30": {"zh": "8–30 天", "en": "8–30 d"},
    "bugs.bucket.31-90": {"zh": "31–90 天", "en": "31–90 d"},
    "bugs.bucket.>90": {"zh": "90 天以上", "en": "over 90 d"},
    # table
    "bugs.table_header": {"zh": "缺陷及其影响的任务", "en": "Bugs and the tasks they affect"},
    "bugs.table_caption": {
        "zh": "影响的任务为缺陷通过任意链接（双向）关联的任务及其父任务，方括号内为链接类型。未关闭的缺陷排在前面。",
        "en": "Affected tasks are the other ends of the bug's links of any type (either direction) and its parent; the link type is in brackets. Open bugs come first.",
    },
    "bugs.table_capped": {"zh": "共 {total} 个缺陷，显示前 {shown} 个。", "en": "{total} bugs; the first {shown} are shown."},
    "bugs.col.created": {"zh": "创建时间", "en": "Opened"},
    "bugs.col.resolved": {"zh": "关闭时间", "en": "Closed"},
    "bugs.col.age": {"zh": "账龄 (天)", "en": "Age (d)"},
    "bugs.col.affected_count": {"zh": "影响任务数", "en": "Affected tasks"},
    "bugs.col.affected": {"zh": "影响的任务", "en": "Tasks affected"},
    # density
    "bugs.density_header": {"zh": "缺陷密度", "en": "Defect density"},
    "bugs.density.by_module": {"zh": "按模块", "en": "By module"},
    "bugs.density.module_caption": {
        "zh": "模块取自任务的组件（components）；缺陷计入其每个组件。密度 = 缺陷数 ÷ 该模块非缺陷任务数 × 100，以及每百估算工时的缺陷数。优先级筛选只作用于缺陷。",
        "en": "Modules are the tasks' components; a bug counts in each of its components. Density = bugs ÷ the module's non-bug tasks × 100, and bugs per 100 estimated hours of those tasks. The priority filter applies to the bugs only.",
    },
    "bugs.density.person_caption": {
        "zh": "按人员统计时，缺陷计入其所影响任务（不含史诗和其他缺陷）的负责人，即“在谁的工作中发现了缺陷”；密度 = 此类缺陷数 ÷ 该人负责的非缺陷任务数 × 100。“分配的缺陷”为指派给此人修复的缺陷数，仅供参考。未关联任务的缺陷不计入任何人。",
        "en": "By person, a bug counts against the assignee of each task it affects (not epics, not other bugs): whose work the defect was found in. Density = those bugs ÷ the person's non-bug tasks × 100. “Bugs assigned” is how many bugs the person is assigned to fix, for context. Bugs linked to no task count against nobody.",
    },
    "bugs.density.capped": {"zh": "共 {total} 行，显示前 {shown} 行。", "en": "{total} rows; the first {shown} are shown."},
    "bugs.density.none": {"zh": "没有可统计的数据。", "en": "Nothing to count."},
    "bugs.density.no_links": {
        "zh": "所选范围内的缺陷都没有关联到负责人明确的任务，无法按人员统计。",
        "en": "No bug in this selection is linked to a task with an assignee, so there is nothing to attribute to people.",
    },
    "bugs.no_module": {"zh": "（未指定模块）", "en": "(no module)"},
    "bugs.col.module": {"zh": "模块", "en": "Module"},
    "bugs.col.bugs": {"zh": "缺陷数", "en": "Bugs"},
    "bugs.col.person_bugs": {"zh": "其任务中的缺陷", "en": "Bugs in their tasks"},
    "bugs.col.work_items": {"zh": "非缺陷任务数", "en": "Non-bug tasks"},
    "bugs.col.estimate_hours": {"zh": "估算工时 (h)", "en": "Estimate (h)"},
    "bugs.col.per_100_items": {"zh": "每百任务缺陷数", "en": "Bugs per 100 tasks"},
    "bugs.col.per_100_hours": {"zh": "每百估算工时缺陷数", "en": "Bugs per 100 h estimated"},
    "bugs.col.assigned_bugs": {"zh": "分配的缺陷", "en": "Bugs assigned"},
    "bugs.col.open_assigned_bugs": {"zh": "分配的未关闭缺陷", "en": "Open bugs assigned"},
}
