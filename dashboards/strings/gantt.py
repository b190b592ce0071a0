"""Words of the gantt page; keys start with "gantt."."""

STRINGS: dict[str, dict[str, str]] = {
    "gantt.title": {"zh": "甘特图", "en": "Gantt chart"},
    "gantt.no_tasks": {"zh": "项目 {project} 没有任务。", "en": "Project {project} has no tasks."},
    "gantt.no_rows": {
        "zh": "没有符合筛选条件的任务。请放宽人员、阶段或其他筛选。",
        "en": "No task matches these filters. Widen the person, phase or other filters.",
    },
    "gantt.cpm_problem": {
        "zh": "无法计算关键路径（{message}），条形按计划日期显示。",
        "en": "The critical path cannot be computed ({message}); bars show planned dates.",
    },
    # controls
    "gantt.bars": {"zh": "条形日期", "en": "Bar dates"},
    "gantt.bars_plan": {"zh": "计划日期（无计划时用排程）", "en": "Planned (scheduled where unplanned)"},
    "gantt.bars_schedule": {"zh": "关键路径排程（最早日期）", "en": "CPM schedule (early dates)"},
    "gantt.bars_help": {
        "zh": "计划日期含计划编辑器中的修改；排程日期由关键路径法根据工期和依赖即时算出。",
        "en": "Planned dates include plan-editor changes; schedule dates come from the critical path method, "
              "recomputed now from durations and dependencies.",
    },
    "gantt.people": {"zh": "人员", "en": "People"},
    "gantt.phases": {"zh": "阶段", "en": "Phases"},
    "gantt.depth": {"zh": "WBS 展开层级", "en": "WBS depth shown"},
    "gantt.depth_help": {
        "zh": "0 只显示最上层阶段；数字越大显示越细的任务。",
        "en": "0 shows only the top-level phases; higher shows finer tasks.",
    },
    "gantt.collapsed": {"zh": "折叠的汇总任务", "en": "Collapsed summary tasks"},
    "gantt.baseline": {"zh": "对比基线", "en": "Baseline to compare"},
    "gantt.no_baseline": {"zh": "（不显示基线）", "en": "(no baseline)"},
    "gantt.critical_only": {"zh": "只看关键任务", "en": "Critical tasks only"},
    "gantt.hide_done": {"zh": "隐藏已完成任务", "en": "Hide finished tasks"},
    "gantt.show_links": {"zh": "显示依赖箭头", "en": "Show dependency arrows"},
    "gantt.show_whiskers": {"zh": "显示预测完成区间", "en": "Show predicted finish range"},
    # metrics
    "gantt.metric_critical": {"zh": "关键任务", "en": "Critical tasks"},
    "gantt.metric_finish": {"zh": "排程完工", "en": "Scheduled finish"},
    "gantt.metric_p50": {"zh": "预测完工 P50", "en": "Forecast finish P50"},
    "gantt.metric_p85": {"zh": "预测完工 P85", "en": "Forecast finish P85"},
    "gantt.status_date": {"zh": "状态日期 {date}", "en": "Status date {date}"},
    # messages about the chart
    "gantt.capped": {
        "zh": "共 {total} 行，只画出前 {shown} 行。请减少展开层级、折叠汇总任务或按人员/阶段筛选。",
        "en": "{total} rows; only the first {shown} are drawn. Show fewer WBS levels, collapse summaries "
              "or filter by person or phase.",
    },
    "gantt.links_capped": {
        "zh": "可见任务之间有 {total} 条依赖，只画出前 {shown} 条。",
        "en": "{total} dependencies between the tasks shown; only the first {shown} are drawn.",
    },
    "gantt.legend_note": {
        "zh": "红色边框：关键任务；灰色细条：基线；黑线：预测完成 P50–P90（模型）或 P50–P95（模拟）；"
              "菱形：里程碑；橙色竖线：今天。",
        "en": "Red outline: critical task; thin grey bar: baseline; black line: predicted finish P50–P90 "
              "(model) or P50–P95 (simulation); diamond: milestone; orange line: today.",
    },
    # chart
    "gantt.chart_title": {"zh": "{project} 甘特图", "en": "{project} Gantt chart"},
    "gantt.axis_task": {"zh": "任务（按 WBS）", "en": "Task (WBS order)"},
    "gantt.legend_path": {"zh": "关键路径", "en": "Critical path"},
    "gantt.status_todo": {"zh": "未开始", "en": "To do"},
    "gantt.status_summary": {"zh": "汇总任务", "en": "Summary"},
    "gantt.critical": {"zh": "关键", "en": "Critical"},
    "gantt.not_critical": {"zh": "非关键", "en": "Not critical"},
    "gantt.today": {"zh": "今天", "en": "Today"},
    "gantt.source_model": {"zh": "模型 P50–P90", "en": "Model P50–P90"},
    "gantt.source_simulation": {"zh": "模拟 P50–P95", "en": "Simulation P50–P95"},
    # tooltips and table headers
    "gantt.col_wbs": {"zh": "WBS", "en": "WBS"},
    "gantt.col_start": {"zh": "开始", "en": "Start"},
    "gantt.col_finish": {"zh": "完成", "en": "Finish"},
    "gantt.col_float": {"zh": "总时差 (d)", "en": "Total float (d)"},
    "gantt.col_baseline_start": {"zh": "基线开始", "en": "Baseline start"},
    "gantt.col_baseline_finish": {"zh": "基线完成", "en": "Baseline finish"},
    "gantt.col_p50": {"zh": "预测完成 P50", "en": "Predicted finish P50"},
    "gantt.col_p90": {"zh": "预测完成 P90", "en": "Predicted finish P90"},
    "gantt.col_whisker": {"zh": "预测来源", "en": "Prediction from"},
    "gantt.table": {"zh": "任务表（与图中行相同）", "en": "Task table (the rows of the chart)"},
}
