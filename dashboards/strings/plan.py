"""Words of the plan page; keys start with "plan."."""

STRINGS: dict[str, dict[str, str]] = {
    "plan.title": {"zh": "计划编辑", "en": "Plan editor"},
    "plan.no_tasks": {"zh": "项目 {project} 没有可编辑的任务。", "en": "Project {project} has no tasks to edit."},
    "plan.intro": {
        "zh": "修改会立即写入编辑库并记入审计日志，所有页面马上可见；下次同步时写入数据仓库。",
        "en": "Changes go straight to the edits store and the audit log, show at once on every page, "
              "and reach the warehouse with the next sync.",
    },
    "plan.cpm_problem": {
        "zh": "当前计划无法排程：{message}",
        "en": "The current plan cannot be scheduled: {message}",
    },
    # tabs
    "plan.tab_dependencies": {"zh": "依赖关系", "en": "Dependencies"},
    "plan.tab_bulk": {"zh": "批量编辑", "en": "Bulk edit"},
    "plan.tab_baselines": {"zh": "基线", "en": "Baselines"},
    "plan.tab_levelling": {"zh": "资源平衡", "en": "Levelling"},
    "plan.tab_export": {"zh": "导出", "en": "Export"},
    "plan.tab_history": {"zh": "修改记录", "en": "Changes"},
    # task form
    "plan.planned_start": {"zh": "计划开始", "en": "Planned start"},
    "plan.planned_finish": {"zh": "计划完成", "en": "Planned finish"},
    "plan.estimate": {"zh": "预估工时 (h)", "en": "Estimate (h)"},
    "plan.confirm": {"zh": "我确认保存这些修改", "en": "I confirm these changes"},
    "plan.confirm_needed": {
        "zh": "请先勾选“我确认保存这些修改”。", "en": "Tick “I confirm these changes” first.",
    },
    "plan.nothing_changed": {"zh": "没有修改，未保存任何内容。", "en": "Nothing changed; nothing saved."},
    "plan.not_saved": {"zh": "未保存，原因如下：", "en": "Not saved, because:"},
    "plan.saved_tasks": {"zh": "已保存 {count} 个任务的修改。", "en": "Saved changes to {count} task(s)."},
    "plan.task_caption": {
        "zh": "工具中的值：开始 {start}，完成 {finish}；排程（关键路径法）：{early_start} – {early_finish}。",
        "en": "Tool values: start {start}, finish {finish}; CPM schedule: {early_start} – {early_finish}.",
    },
    # dependency form
    "plan.dep_from": {"zh": "前置任务", "en": "Predecessor"},
    "plan.dep_to": {"zh": "后续任务", "en": "Successor"},
    "plan.dep_type": {"zh": "依赖类型", "en": "Link type"},
    "plan.dep_lag": {"zh": "延隔 (工作日，负数为提前)", "en": "Lag (working days, negative = lead)"},
    "plan.dep_add": {"zh": "添加或修改", "en": "Add or change"},
    "plan.dep_remove": {"zh": "删除", "en": "Remove"},
    "plan.dep_type_FS": {"zh": "FS 完成-开始", "en": "FS finish-to-start"},
    "plan.dep_type_SS": {"zh": "SS 开始-开始", "en": "SS start-to-start"},
    "plan.dep_type_FF": {"zh": "FF 完成-完成", "en": "FF finish-to-finish"},
    "plan.dep_type_SF": {"zh": "SF 开始-完成", "en": "SF start-to-finish"},
    "plan.dep_saved": {"zh": "依赖关系已保存。", "en": "Dependency saved."},
    "plan.dep_current": {"zh": "当前依赖（工具 + 编辑）", "en": "Current dependencies (tools + edits)"},
    "plan.dep_none": {"zh": "此项目还没有依赖关系。", "en": "This project has no dependencies yet."},
    "plan.col_lag": {"zh": "延隔 (d)", "en": "Lag (d)"},
    "plan.col_edited": {"zh": "人工编辑", "en": "Edited"},
    # bulk grid
    "plan.bulk_phase": {"zh": "阶段", "en": "Phase"},
    "plan.bulk_all": {"zh": "（全部）", "en": "(all)"},
    "plan.bulk_help": {
        "zh": "直接在表格中修改日期、负责人和工时，勾选确认后一次保存（同一事务，同样的校验）。",
        "en": "Edit dates, owners and estimates in the grid, confirm, and save them all at once "
              "(one transaction, same checks).",
    },
    "plan.bulk_capped": {
        "zh": "共 {total} 个任务，表格只列出前 {shown} 个；请按阶段缩小范围。",
        "en": "{total} tasks; the grid lists the first {shown}. Narrow it down by phase.",
    },
    # baselines
    "plan.baseline_name": {"zh": "基线名称", "en": "Baseline name"},
    "plan.baseline_save": {"zh": "保存基线", "en": "Save baseline"},
    "plan.baseline_saved": {
        "zh": "基线“{name}”已保存（{count} 个任务）。", "en": "Baseline “{name}” saved ({count} tasks).",
    },
    "plan.baseline_help": {
        "zh": "基线冻结当前计划日期（含未同步的编辑；没有计划日期的任务取排程日期）和工时，之后可在甘特图中对比。",
        "en": "A baseline freezes the current planned dates (with unsynced edits; scheduled dates where a task "
              "has none) and estimates, to compare against on the Gantt page.",
    },
    "plan.baseline_list": {"zh": "已有基线", "en": "Saved baselines"},
    "plan.baseline_none": {"zh": "此项目还没有基线。", "en": "This project has no baseline yet."},
    "plan.col_created_at": {"zh": "保存时间", "en": "Saved at"},
    "plan.col_created_by": {"zh": "保存人", "en": "Saved by"},
    # levelling
    "plan.level_help": {
        "zh": "自动排程（资源平衡）：每人同一时间只做一件事，保持依赖关系，尽量早完工。先比较前后差异，再决定接受或放弃。",
        "en": "Auto-scheduling (resource levelling): nobody works on two things at once, links hold, the "
              "project ends as early as possible. Compare before and after, then accept or discard.",
    },
    "plan.level_seconds": {"zh": "最长计算时间 (秒)", "en": "Time limit (s)"},
    "plan.level_run": {"zh": "运行资源平衡", "en": "Run levelling"},
    "plan.level_running": {"zh": "正在平衡资源…", "en": "Levelling…"},
    "plan.level_failed": {"zh": "资源平衡失败：{message}", "en": "Levelling failed: {message}"},
    "plan.level_before_end": {"zh": "平衡前完工", "en": "End before levelling"},
    "plan.level_after_end": {"zh": "平衡后完工", "en": "End after levelling"},
    "plan.level_moved": {"zh": "推迟的任务", "en": "Tasks moved"},
    "plan.level_method": {
        "zh": "方法 {method}，用时 {seconds} 秒{optimal}。",
        "en": "Method {method}, {seconds} s{optimal}.",
    },
    "plan.level_optimal": {"zh": "，已证明最优", "en": ", proven optimal"},
    "plan.level_nothing": {
        "zh": "没有任务需要移动：当前计划没有资源冲突。", "en": "No task needs to move: the plan has no overload.",
    },
    "plan.level_stale": {
        "zh": "计划在运行后又被修改过，请重新运行资源平衡再接受。",
        "en": "The plan changed after this run; run levelling again before accepting.",
    },
    "plan.level_chart_title": {"zh": "资源平衡前后对比", "en": "Before and after levelling"},
    "plan.level_before": {"zh": "平衡前", "en": "Before"},
    "plan.level_after": {"zh": "平衡后", "en": "After"},
    "plan.level_version": {"zh": "版本", "en": "Version"},
    "plan.level_delay": {"zh": "推迟 (工作日)", "en": "Delay (working days)"},
    "plan.level_capped": {
        "zh": "图中只显示推迟最多的 {shown} 个任务（共 {total} 个）。",
        "en": "The chart shows the {shown} most delayed of {total} moved tasks.",
    },
    "plan.level_confirm": {"zh": "我确认写入这些新计划日期", "en": "I confirm writing these planned dates"},
    "plan.level_accept": {"zh": "接受", "en": "Accept"},
    "plan.level_discard": {"zh": "放弃", "en": "Discard"},
    "plan.level_accepted": {
        "zh": "已写入 {count} 个任务的新计划日期。", "en": "New planned dates written for {count} task(s).",
    },
    "plan.level_discarded": {"zh": "已放弃资源平衡结果。", "en": "Levelling result discarded."},
    # export
    "plan.export_help": {
        "zh": "导出当前计划（含所有编辑）。没有计划日期的任务使用排程日期。",
        "en": "Export the current plan with every edit. Tasks without planned dates get their scheduled dates.",
    },
    "plan.export_xlsx": {"zh": "下载 Excel", "en": "Download Excel"},
    "plan.export_xml": {"zh": "下载 MS Project XML", "en": "Download MS Project XML"},
    # history
    "plan.history_edits": {"zh": "本项目的计划编辑", "en": "Plan edits in this project"},
    "plan.history_audit": {"zh": "最近的审计记录", "en": "Recent audit entries"},
    "plan.history_none": {"zh": "还没有编辑。", "en": "No edits yet."},
    "plan.col_updated_at": {"zh": "修改时间", "en": "Changed at"},
    "plan.col_actor": {"zh": "编辑人", "en": "Who"},
    "plan.col_row": {"zh": "记录", "en": "Row"},
    "plan.col_before": {"zh": "修改前", "en": "Before"},
    "plan.col_after": {"zh": "修改后", "en": "After"},
    # reasons an edit is refused
    "plan.problem.unknown_task": {"zh": "未知任务 {task}", "en": "unknown task {task}"},
    "plan.problem.summary_dates": {
        "zh": "{task} 是汇总任务，其日期由子任务汇总得出，请修改子任务",
        "en": "{task} is a summary task: its dates roll up from its sub-tasks, edit those instead",
    },
    "plan.problem.finish_before_start": {
        "zh": "{task} 的计划完成 {finish} 早于计划开始 {start}",
        "en": "{task}: planned finish {finish} is before planned start {start}",
    },
    "plan.problem.unknown_person": {
        "zh": "{task}：未知人员 {person}（必须是人员表中的人）",
        "en": "{task}: unknown person {person} (must be someone in the people table)",
    },
    "plan.problem.negative_estimate": {
        "zh": "{task}：预估工时不能为负数（{value}）", "en": "{task}: the estimate cannot be negative ({value})",
    },
    "plan.problem.unknown_dependency_task": {
        "zh": "依赖指向未知任务 {task}", "en": "the dependency names an unknown task {task}",
    },
    "plan.problem.summary_dependency": {
        "zh": "{task} 是汇总任务，依赖请连接到其子任务（排程不使用汇总任务上的依赖）",
        "en": "{task} is a summary task; link its sub-tasks instead (scheduling ignores links on summaries)",
    },
    "plan.problem.self_dependency": {"zh": "{task} 不能依赖自身", "en": "{task} cannot depend on itself"},
    "plan.problem.unknown_link_type": {
        "zh": "未知依赖类型 {type}（只能是 {types}）", "en": "unknown link type {type} (use {types})",
    },
    "plan.problem.bad_lag": {
        "zh": "延隔 {value} 无效（应在 ±{max} 个工作日内）",
        "en": "lag {value} is not valid (must be within ±{max} working days)",
    },
    "plan.problem.no_such_dependency": {
        "zh": "{from} → {to} 之间没有依赖可删除", "en": "there is no dependency {from} → {to} to remove",
    },
    "plan.problem.cycle": {
        "zh": "这条依赖会形成循环：{path}", "en": "this dependency would create a cycle: {path}",
    },
    "plan.problem.baseline_name_missing": {"zh": "请填写基线名称", "en": "the baseline needs a name"},
    "plan.problem.baseline_name_long": {
        "zh": "基线名称最多 {max} 个字符", "en": "the baseline name can have at most {max} characters",
    },
}
