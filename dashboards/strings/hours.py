"""Words of the hours page; keys start with "hours."."""

STRINGS: dict[str, dict[str, str]] = {
    "hours.no_worklogs": {
        "zh": "数据仓库中还没有工时记录。请在 lodestar.toml 中配置 Jira 工时或工时表数据源，然后运行 `lodestar sync`。",
        "en": "The warehouse has no worklogs yet. Configure Jira worklogs or a timesheet source in lodestar.toml, then run `lodestar sync`.",
    },
    # filters
    "hours.filter.window": {"zh": "日期范围", "en": "Dates"},
    "hours.filter.window_help": {
        "zh": "默认为最近 12 周有数据的时间（截至最后一条工时记录），每周从周一开始。",
        "en": "Defaults to the last 12 weeks of data (up to the latest worklog); weeks start on Monday.",
    },
    "hours.filter.pick_end": {"zh": "请再选择结束日期。", "en": "Pick an end date as well."},
    "hours.filter.projects": {"zh": "项目", "en": "Projects"},
    "hours.filter.teams": {"zh": "团队", "en": "Teams"},
    "hours.no_project": {"zh": "未关联任务", "en": "Not on a task"},
    "hours.other_projects": {"zh": "其他项目", "en": "Other projects"},
    "hours.no_hours": {"zh": "所选范围内没有工时记录。", "en": "No hours logged for this selection."},
    # KPIs
    "hours.kpi.hours": {"zh": "总工时", "en": "Hours logged"},
    "hours.kpi.people": {"zh": "填报人数", "en": "People"},
    "hours.kpi.utilisation": {"zh": "整体利用率", "en": "Utilisation"},
    "hours.kpi.over": {"zh": "超负荷人数", "en": "Over capacity"},
    "hours.kpi.under": {"zh": "利用率偏低人数", "en": "Under 60 %"},
    "hours.window_caption": {
        "zh": "{start} 至 {end}：{workdays} 个工作日（{weeks} 周）。产能 = 每周产能 × 工作周数；节假日按 {country} 日历扣除。",
        "en": "{start} to {end}: {workdays} working days ({weeks} weeks). Capacity = weekly capacity × working weeks; {country} public holidays excluded.",
    },
    "hours.capacity_assumed": {
        "zh": "{count} 人未设置每周产能，按每周 {hours} 小时计算（见“产能已假定”列）。",
        "en": "{count} people have no weekly capacity set; {hours} h per week is assumed (see “Capacity assumed”).",
    },
    "hours.project_filter_note": {
        "zh": "已按项目筛选：利用率只计入所选项目的工时。",
        "en": "Filtered by project: utilisation counts only hours on the chosen projects.",
    },
    # weekly chart
    "hours.weekly_header": {"zh": "每周工时（按项目）", "en": "Hours per week by project"},
    "hours.chart.title": {"zh": "每周工时（按项目堆叠）", "en": "Hours per week, stacked by project"},
    "hours.chart.week": {"zh": "周（周一开始）", "en": "Week (starting Monday)"},
    "hours.chart.capped": {
        "zh": "仅单独显示工时最多的 {count} 个项目，其余合并为“其他项目”。",
        "en": "Only the {count} projects with most hours are shown separately; the rest are “Other projects”.",
    },
    # utilisation table
    "hours.people_header": {"zh": "人员利用率", "en": "Utilisation per person"},
    "hours.people_caption": {
        "zh": "利用率高于 100% 标红（超负荷），低于 60% 标黄（偏低）。",
        "en": "Utilisation above 100 % is red (over capacity), below 60 % amber (under-used).",
    },
    "hours.flag.over": {"zh": "超负荷", "en": "Over capacity"},
    "hours.flag.under": {"zh": "偏低", "en": "Under-used"},
    "hours.flag.ok": {"zh": "正常", "en": "OK"},
    # pivot
    "hours.pivot_header": {"zh": "人员 × 周 工时 (h)", "en": "Hours per person and week (h)"},
    "hours.pivot_capped": {
        "zh": "仅显示工时最多的 {count} 人。",
        "en": "Only the {count} people with most hours are shown.",
    },
    # monthly report
    "hours.report_header": {"zh": "月度个人报告", "en": "Monthly personal report"},
    "hours.report.month": {"zh": "月份", "en": "Month"},
    "hours.report.all_people": {"zh": "全部人员", "en": "Everyone"},
    "hours.report.empty": {
        "zh": "该月没有工时记录或完成的任务。",
        "en": "No hours logged and no tasks completed in this month.",
    },
    "hours.report.detail": {"zh": "明细", "en": "Detail"},
    "hours.report.tasks_tab": {"zh": "完成的任务", "en": "Tasks completed"},
    "hours.report.worklogs_tab": {"zh": "工时明细", "en": "Worklogs"},
    "hours.report.summary_tab": {"zh": "汇总", "en": "Summary"},
    "hours.report.capped": {
        "zh": "仅显示前 {count} 行，完整明细请下载 Excel。",
        "en": "Showing the first {count} rows; download the Excel file for all of them.",
    },
    "hours.report.download": {"zh": "下载 Excel 报告", "en": "Download Excel report"},
    "hours.report.definitions": {
        "zh": "完成任务：本月解决且负责人为该人员的任务；按时率：有截止日期的任务中在截止日当天或之前解决的比例；周期：开始处理到解决的天数。",
        "en": "Tasks completed: resolved this month with the person as assignee. On-time rate: share of those with a due date resolved on or before it. Cycle time: days from start of work to resolution.",
    },
    "hours.kpi.month_hours": {"zh": "当月工时", "en": "Hours in month"},
    "hours.kpi.tasks_completed": {"zh": "完成任务", "en": "Tasks completed"},
    "hours.kpi.on_time_rate": {"zh": "按时完成率", "en": "On-time rate"},
    "hours.kpi.avg_cycle": {"zh": "平均周期", "en": "Average cycle time"},
    # columns (on screen and in the Excel file); units in the header
    "hours.col.hours": {"zh": "工时 (h)", "en": "Hours (h)"},
    "hours.col.weekly_capacity": {"zh": "每周产能 (h)", "en": "Weekly capacity (h)"},
    "hours.col.capacity_hours": {"zh": "期间产能 (h)", "en": "Capacity in period (h)"},
    "hours.col.utilisation": {"zh": "利用率 (%)", "en": "Utilisation (%)"},
    "hours.col.capacity_assumed": {"zh": "产能已假定", "en": "Capacity assumed"},
    "hours.col.total": {"zh": "合计 (h)", "en": "Total (h)"},
    "hours.col.tasks_completed": {"zh": "完成任务数", "en": "Tasks completed"},
    "hours.col.on_time_rate": {"zh": "按时完成率 (%)", "en": "On-time rate (%)"},
    "hours.col.avg_cycle_days": {"zh": "平均周期 (天)", "en": "Average cycle time (d)"},
    "hours.col.task_key": {"zh": "任务编号", "en": "Task"},
    "hours.col.due_date": {"zh": "截止日期", "en": "Due date"},
    "hours.col.resolved_on": {"zh": "解决日期", "en": "Resolved on"},
    "hours.col.on_time": {"zh": "按时", "en": "On time"},
    "hours.col.cycle_days": {"zh": "周期 (天)", "en": "Cycle time (d)"},
    "hours.col.comment": {"zh": "备注", "en": "Comment"},
    "hours.yes": {"zh": "是", "en": "Yes"},
    "hours.no": {"zh": "否", "en": "No"},
}
