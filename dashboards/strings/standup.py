"""Words of the standup page; keys start with "standup."."""

STRINGS: dict[str, dict[str, str]] = {
    "standup.title": {"zh": "每日站会", "en": "Daily stand-up"},
    "standup.caption": {
        "zh": "每人每天一条签到：昨天做了什么、今天做什么、有什么阻碍。阻碍可一键转为风险或问题。",
        "en": "One check-in per person per day: yesterday, today, blockers. A blocker becomes a risk or an issue in one click.",
    },
    "standup.day": {"zh": "日期", "en": "Day"},
    "standup.person": {"zh": "成员", "en": "Person"},
    "standup.pick_day": {"zh": "请选择日期。", "en": "Pick a day."},
    "standup.no_people": {
        "zh": "人员表为空。请先同步数据源中的人员。",
        "en": "The people table is empty. Sync your sources first.",
    },
    # check-in form
    "standup.form_header": {"zh": "{name} 的签到（{day}）", "en": "Check-in of {name} ({day})"},
    "standup.field.yesterday": {"zh": "昨天完成", "en": "Yesterday"},
    "standup.field.today": {"zh": "今天计划", "en": "Today"},
    "standup.field.blockers": {"zh": "阻碍", "en": "Blockers"},
    "standup.blockers_help": {
        "zh": "每行一个阻碍；每个阻碍都可以在下方团队视图中转为风险或问题。",
        "en": "One blocker per line; each can be turned into a risk or an issue in the team view below.",
    },
    "standup.confirm": {"zh": "我确认提交以上签到", "en": "I confirm this check-in"},
    "standup.save": {"zh": "提交签到", "en": "Check in"},
    "standup.update": {"zh": "更新签到", "en": "Update check-in"},
    "standup.confirm_first": {
        "zh": "未保存：请先勾选“我确认提交以上签到”。",
        "en": "Not saved: tick “I confirm this check-in” first.",
    },
    "standup.saved_detail": {"zh": "{name} 在 {day} 的签到已保存。", "en": "Check-in of {name} for {day} saved."},
    "standup.err.person_required": {"zh": "请选择成员。", "en": "Choose a person."},
    "standup.err.unknown_person": {
        "zh": "未知人员“{value}”：必须是人员表中的人。",
        "en": "Unknown person “{value}”: pick someone from the people table.",
    },
    "standup.err.future_day": {"zh": "不能为将来的日期（{day}）签到。", "en": "Cannot check in for a future day ({day})."},
    "standup.err.empty": {
        "zh": "请至少填写“昨天完成”“今天计划”“阻碍”中的一项。",
        "en": "Fill in at least one of yesterday, today or blockers.",
    },
    "standup.err.too_long": {"zh": "“{field}”不能超过 {limit} 个字符。", "en": "“{field}” must be at most {limit} characters."},
    # work in progress
    "standup.wip_header": {"zh": "进行中的任务", "en": "Work in progress"},
    "standup.wip_none": {"zh": "跟踪系统中没有该成员进行中的任务。", "en": "No tasks in progress in the trackers."},
    "standup.wip_capped": {
        "zh": "共 {total} 个进行中的任务，显示最近更新的 {shown} 个。",
        "en": "{total} tasks in progress; showing the {shown} most recently updated.",
    },
    # team view
    "standup.team_header": {"zh": "{day} 团队视图", "en": "Team view of {day}"},
    "standup.metric.missing": {"zh": "未签到", "en": "Not yet"},
    "standup.metric.blockers": {"zh": "有阻碍的人", "en": "People with blockers"},
    "standup.team_line": {"zh": "{team}：{checked}/{total} 已签到", "en": "{team}: {checked}/{total} checked in"},
    "standup.missing": {"zh": "未签到：{names}", "en": "not yet: {names}"},
    "standup.no_blockers": {"zh": "今天没有人报告阻碍。", "en": "Nobody reported a blocker for this day."},
    "standup.blockers_capped": {
        "zh": "共 {total} 个阻碍，仅显示前 {shown} 个。",
        "en": "{total} blockers; showing the first {shown}.",
    },
    "standup.to_risk": {"zh": "→ 风险", "en": "→ risk"},
    "standup.to_issue": {"zh": "→ 问题", "en": "→ issue"},
    "standup.to_risk_help": {
        "zh": "登记为进度风险（概率 3 × 影响 3），负责人为该成员，关联其进行中的任务。",
        "en": "Register as a schedule risk (probability 3 × impact 3), owned by this person and linked to their work in progress.",
    },
    "standup.to_issue_help": {
        "zh": "登记为已发生的问题（概率 5 × 影响 3），负责人为该成员，关联其进行中的任务。",
        "en": "Register as an issue that is already happening (probability 5 × impact 3), owned by this person and linked to their work in progress.",
    },
    "standup.kind.risk": {"zh": "风险", "en": "risk"},
    "standup.kind.issue": {"zh": "问题", "en": "issue"},
    "standup.converted": {"zh": "已将阻碍登记为{kind} {id}。", "en": "Blocker registered as {kind} {id}."},
    "standup.already_converted": {
        "zh": "这个阻碍已经登记为{kind} {id}，未重复登记。",
        "en": "This blocker is already registered as {kind} {id}; nothing added.",
    },
    "standup.already_short": {"zh": "✓ {id}", "en": "✓ {id}"},
    "standup.open_risks": {"zh": "在风险页查看 {id}", "en": "Open {id} on the Risks page"},
    "standup.col.checked_in": {"zh": "已签到", "en": "Checked in"},
    "standup.col.wip_count": {"zh": "进行中任务数", "en": "Tasks in progress"},
    "standup.col.wip_keys": {"zh": "进行中任务", "en": "In progress"},
    "standup.col.updated_at": {"zh": "签到时间", "en": "Checked in at"},
    "standup.team_capped": {
        "zh": "共 {total} 人，仅显示前 {shown} 人。",
        "en": "{total} people; showing the first {shown}.",
    },
}
