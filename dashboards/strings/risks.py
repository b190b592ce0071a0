"""Words of the risks page; keys start with "risks."."""

STRINGS: dict[str, dict[str, str]] = {
    "risks.title": {"zh": "风险登记册", "en": "Risk register"},
    "risks.caption": {
        "zh": "风险值 = 概率 × 影响（各 1–5 分），保存时计算。每次修改都记录在审计日志中，保存后所有页面立即可见。",
        "en": "Score = probability × impact (1–5 each), computed on save. Every change is recorded in the audit log and shows on every page at once.",
    },
    "risks.none": {"zh": "（无）", "en": "(none)"},
    # statuses and categories
    "risks.status.open": {"zh": "未处理", "en": "Open"},
    "risks.status.mitigating": {"zh": "应对中", "en": "Mitigating"},
    "risks.status.occurred": {"zh": "已发生", "en": "Occurred"},
    "risks.category.schedule": {"zh": "进度", "en": "Schedule"},
    "risks.category.technical": {"zh": "技术", "en": "Technical"},
    "risks.category.resource": {"zh": "资源", "en": "Resource"},
    "risks.category.scope": {"zh": "范围", "en": "Scope"},
    "risks.category.external": {"zh": "外部", "en": "External"},
    "risks.category.quality": {"zh": "质量", "en": "Quality"},
    "risks.category.issue": {"zh": "问题", "en": "Issue"},
    "risks.zone.green": {"zh": "🟢 低", "en": "🟢 Low"},
    "risks.zone.amber": {"zh": "🟠 中", "en": "🟠 Medium"},
    "risks.zone.red": {"zh": "🔴 高", "en": "🔴 High"},
    # metrics
    "risks.metric.active": {"zh": "未关闭风险", "en": "Open risks"},
    "risks.metric.red": {"zh": "高风险（≥15 分）", "en": "High (score ≥ 15)"},
    "risks.metric.overdue": {"zh": "逾期高风险", "en": "Overdue high risks"},
    # register
    "risks.register": {"zh": "风险列表", "en": "Register"},
    "risks.empty_none": {
        "zh": "还没有登记任何风险。请在下方“新建或编辑风险”中登记第一条，或在站会页把阻碍转为风险。",
        "en": "No risks registered yet. Add the first one under “Create or edit a risk” below, or turn a stand-up blocker into a risk.",
    },
    "risks.empty_filtered": {"zh": "没有符合筛选条件的风险。", "en": "No risk matches these filters."},
    "risks.overdue_warning": {
        "zh": "{count} 条高风险（≥15 分）已过应对期限且未关闭：{ids}",
        "en": "{count} high risk(s) (score ≥ 15) are past their due date and not closed: {ids}",
    },
    "risks.capped": {
        "zh": "共 {total} 条，仅显示风险值最高的 {shown} 条；请用筛选缩小范围。",
        "en": "Showing the {shown} highest-scoring of {total} risks; narrow the filters to see the rest.",
    },
    "risks.col.risk_id": {"zh": "编号", "en": "ID"},
    "risks.col.zone": {"zh": "等级", "en": "Level"},
    "risks.col.updated_at": {"zh": "最近修改", "en": "Last changed"},
    "risks.export_csv": {"zh": "导出 CSV", "en": "Export CSV"},
    "risks.export_xlsx": {"zh": "导出 Excel", "en": "Export Excel"},
    # heat map
    "risks.heat_header": {"zh": "风险热力图", "en": "Heat map"},
    "risks.heat_title": {"zh": "未关闭风险分布（概率 × 影响）", "en": "Open risks by probability and impact"},
    "risks.heat_caption": {
        "zh": "统计“未处理”和“应对中”的风险；项目、类别、负责人筛选生效，状态筛选不影响热力图。",
        "en": "Counts open and mitigating risks; the project, category and owner filters apply, the status filter does not.",
    },
    "risks.axis_probability": {"zh": "概率", "en": "Probability"},
    "risks.zone_legend": {"zh": "风险等级", "en": "Level"},
    "risks.cell_count": {"zh": "风险数", "en": "Risks"},
    # form
    "risks.edit_header": {"zh": "新建或编辑风险", "en": "Create or edit a risk"},
    "risks.pick": {"zh": "选择风险", "en": "Risk"},
    "risks.pick_new": {"zh": "➕ 新建风险", "en": "➕ New risk"},
    "risks.field.category": {"zh": "类别", "en": "Category"},
    "risks.field.probability": {"zh": "概率 (1–5)", "en": "Probability (1–5)"},
    "risks.field.impact": {"zh": "影响 (1–5)", "en": "Impact (1–5)"},
    "risks.field.score": {"zh": "风险值", "en": "Score"},
    "risks.field.due_date": {"zh": "应对期限", "en": "Due date"},
    "risks.field.linked_task_ids": {"zh": "关联任务", "en": "Linked tasks"},
    "risks.field.mitigation": {"zh": "应对措施", "en": "Mitigation"},
    "risks.field.contingency": {"zh": "应急预案", "en": "Contingency"},
    "risks.links_help": {
        "zh": "任务编号或任务键，用逗号分隔，例如 ERP-12, ERP-15。",
        "en": "Task ids or keys separated by commas, e.g. ERP-12, ERP-15.",
    },
    "risks.due_help": {
        "zh": "“未处理”和“应对中”的风险必须填写期限。",
        "en": "Required while the risk is open or being mitigated.",
    },
    "risks.confirm": {"zh": "我确认保存以上内容", "en": "I confirm these changes"},
    "risks.save": {"zh": "保存风险", "en": "Save risk"},
    "risks.confirm_first": {
        "zh": "未保存：请先勾选“我确认保存以上内容”。",
        "en": "Not saved: tick “I confirm these changes” first.",
    },
    "risks.saved_detail": {"zh": "风险 {id} 已保存。", "en": "Risk {id} saved."},
    "risks.no_people": {
        "zh": "人员表为空，无法指定风险负责人。请先同步数据源中的人员。",
        "en": "The people table is empty, so no risk owner can be chosen. Sync your sources first.",
    },
    # validation
    "risks.err.title_required": {"zh": "标题不能为空。", "en": "The title is required."},
    "risks.err.title_too_long": {"zh": "标题不能超过 {limit} 个字符。", "en": "The title must be at most {limit} characters."},
    "risks.err.unknown_category": {"zh": "未知类别“{value}”。", "en": "Unknown category “{value}”."},
    "risks.err.unknown_status": {"zh": "未知状态“{value}”。", "en": "Unknown status “{value}”."},
    "risks.err.probability_range": {
        "zh": "概率必须是 1–5 的整数（当前为 {value}）。",
        "en": "Probability must be a whole number from 1 to 5 (got {value}).",
    },
    "risks.err.impact_range": {
        "zh": "影响必须是 1–5 的整数（当前为 {value}）。",
        "en": "Impact must be a whole number from 1 to 5 (got {value}).",
    },
    "risks.err.owner_required": {"zh": "请指定负责人。", "en": "Choose an owner."},
    "risks.err.unknown_owner": {
        "zh": "未知人员“{value}”：负责人必须是人员表中的人。",
        "en": "Unknown person “{value}”: the owner must be someone in the people table.",
    },
    "risks.err.unknown_project": {"zh": "未知项目“{value}”。", "en": "Unknown project “{value}”."},
    "risks.err.due_required": {
        "zh": "“未处理”或“应对中”的风险必须填写应对期限。",
        "en": "An open or mitigating risk needs a due date.",
    },
    "risks.err.unknown_task": {"zh": "找不到任务“{value}”。", "en": "No task “{value}”."},
    "risks.err.ambiguous_task": {
        "zh": "任务键“{value}”对应多个任务，请填写完整的任务编号。",
        "en": "Task key “{value}” matches several tasks; use the full task id.",
    },
    "risks.err.too_many_tasks": {
        "zh": "最多关联 {limit} 个任务。",
        "en": "Link at most {limit} tasks.",
    },
    # history
    "risks.history_header": {"zh": "{id} 的修改历史", "en": "History of {id}"},
    "risks.history_empty": {"zh": "这条风险还没有修改记录。", "en": "No recorded changes for this risk yet."},
    "risks.history.who": {"zh": "修改人", "en": "Who"},
    "risks.history.field": {"zh": "字段", "en": "Field"},
    "risks.history.change": {"zh": "原值 → 新值", "en": "Old → new"},
    "risks.action.created": {"zh": "新建", "en": "Created"},
    "risks.action.updated": {"zh": "修改", "en": "Changed"},
    "risks.action.deleted": {"zh": "删除", "en": "Deleted"},
    # export headers
    "risks.export.owner_id": {"zh": "负责人编号", "en": "Owner id"},
    "risks.export.created_at": {"zh": "创建时间", "en": "Created"},
}
