"""Words of the forecast page; keys start with "forecast."."""

STRINGS: dict[str, dict[str, str]] = {
    "forecast.title": {"zh": "完工预测", "en": "Forecast"},
    "forecast.no_projects": {
        "zh": "数据仓库中还没有任务，无法预测。",
        "en": "The warehouse has no tasks yet, so there is nothing to forecast.",
    },
    # finish distribution
    "forecast.finish_header": {"zh": "完工日期分布", "en": "When the project finishes"},
    "forecast.metric.p50": {"zh": "P50 完工", "en": "P50 finish"},
    "forecast.metric.p85": {"zh": "P85 完工", "en": "P85 finish"},
    "forecast.metric.p95": {"zh": "P95 完工", "en": "P95 finish"},
    "forecast.metric.due": {"zh": "计划完成日期", "en": "Due date"},
    "forecast.metric.on_time": {"zh": "按期完成概率", "en": "Chance of finishing on time"},
    "forecast.metric.p85_help": {
        "zh": "85% 的模拟在此日期或之前完工。",
        "en": "85% of the simulated runs finish on or before this day.",
    },
    "forecast.live_caption": {
        "zh": "实时蒙特卡洛模拟：{runs} 次，状态日期 {status_date}，{predicted} 个任务使用预测模型工期，其余为 PERT 三点估计；包含计划编辑。",
        "en": "Live Monte Carlo: {runs} runs, status date {status_date}; {predicted} tasks use the prediction model's durations, the rest three-point PERT; plan edits included.",
    },
    "forecast.published_caption": {
        "zh": "最近一次发布的预测（{as_of}，{runs} 次模拟）：P50 {p50}，P85 {p85}，P95 {p95}，按期概率 {on_time}。",
        "en": "Last published forecast ({as_of}, {runs} runs): P50 {p50}, P85 {p85}, P95 {p95}, on-time chance {on_time}.",
    },
    "forecast.no_published": {
        "zh": "规划流水线尚未为该项目发布预测；以下为实时模拟结果。",
        "en": "The planner has not published a forecast for this project yet; the numbers below are the live simulation.",
    },
    "forecast.nothing_open": {
        "zh": "该项目没有未完成的任务，无需预测完工日期。",
        "en": "This project has no open tasks, so there is no finish date to forecast.",
    },
    "forecast.not_schedulable": {
        "zh": "该项目的计划无法排程：{message}。请在计划编辑页修正依赖关系。",
        "en": "This project's plan cannot be scheduled: {message}. Fix the dependencies in the plan editor.",
    },
    "forecast.chart.title": {"zh": "截至某日完工的概率（累计分布）", "en": "Chance of finishing by each day (CDF)"},
    "forecast.chart.day": {"zh": "完工日期", "en": "Finish date"},
    "forecast.chart.share": {"zh": "累计完工概率", "en": "Chance finished by then"},
    "forecast.chart.runs": {"zh": "模拟次数", "en": "Runs"},
    "forecast.chart.marker": {"zh": "标记", "en": "Marker"},
    # milestones
    "forecast.milestones_header": {"zh": "里程碑完工预测", "en": "Milestones"},
    "forecast.milestones_caption": {
        "zh": "里程碑为未完成的汇总任务（史诗、特性及带子任务的任务）和零工期任务；汇总任务在其最后一个子任务完成时完成，按期概率以其截止日期计。",
        "en": "Milestones are open summaries (epics, features, tasks with sub-tasks) and zero-duration tasks; a summary finishes when its last sub-task does; the on-time chance is against its due date.",
    },
    "forecast.type.epic": {"zh": "史诗", "en": "Epic"},
    "forecast.type.feature": {"zh": "特性", "en": "Feature"},
    "forecast.type.subtask": {"zh": "子任务", "en": "Sub-task"},
    "forecast.type.bug": {"zh": "缺陷", "en": "Bug"},
    "forecast.milestones_capped": {
        "zh": "共 {total} 个里程碑，按 P85 排序显示前 {shown} 个。",
        "en": "{total} milestones; the first {shown} by P85 are shown.",
    },
    "forecast.no_milestones": {"zh": "该项目没有未完成的里程碑。", "en": "This project has no open milestones."},
    "forecast.col.p50": {"zh": "P50 完成", "en": "P50 finish"},
    "forecast.col.p85": {"zh": "P85 完成", "en": "P85 finish"},
    "forecast.col.p95": {"zh": "P95 完成", "en": "P95 finish"},
    "forecast.col.due": {"zh": "截止日期", "en": "Due"},
    "forecast.col.on_time": {"zh": "按期概率", "en": "On-time chance"},
    # how many by date
    "forecast.by_date_header": {"zh": "到某日能完成多少", "en": "How many by a date"},
    "forecast.by_date": {"zh": "目标日期", "en": "By date"},
    "forecast.history_weeks": {"zh": "参考历史周数", "en": "Weeks of history"},
    "forecast.by_date.p50": {"zh": "P50（一半把握）", "en": "P50 (even odds)"},
    "forecast.by_date.p85": {"zh": "P85（较有把握）", "en": "P85 (likely)"},
    "forecast.by_date.value": {"zh": "{count} 个任务", "en": "{count} tasks"},
    "forecast.by_date.share": {"zh": "占未完成 {share}", "en": "{share} of open work"},
    "forecast.by_date.all_done": {
        "zh": "全部 {open} 个未完成任务预计完成：P50 {p50}，P85 {p85}。",
        "en": "All {open} open tasks done: P50 {p50}, P85 {p85}.",
    },
    "forecast.by_date.caption": {
        "zh": "按周吞吐量重抽样（{runs} 次）：参考 {first} 至 {last} 共 {weeks} 周，平均每周完成 {mean} 个任务；从 {start} 起算，按整周计。",
        "en": "Weekly throughput resampled {runs} times: {weeks} weeks from {first} to {last}, {mean} tasks a week on average; counted in whole weeks from {start}.",
    },
    "forecast.by_date.no_history": {
        "zh": "该项目还没有任何已完成的任务，无法根据吞吐量预测。",
        "en": "No task of this project has been finished yet, so there is no throughput to forecast from.",
    },
    "forecast.by_date.stalled": {
        "zh": "参考期内没有完成任何任务，按此吞吐量无法完成剩余任务。",
        "en": "Nothing was finished in the history window, so at that pace the open work never ends.",
    },
    "forecast.by_date.too_soon": {
        "zh": "目标日期距 {start} 不足一周，按整周计为 0。",
        "en": "The date is less than a whole week after {start}, so the forecast is 0.",
    },
    # risk ranking
    "forecast.risk_header": {"zh": "延期风险排名", "en": "Delay-risk ranking"},
    "forecast.risk_caption": {
        "zh": "按延期预测模型的延期概率排序的未完成任务（共 {total} 个有预测，显示前 {shown} 个）。主要因素为对风险影响最大的特征。",
        "en": "Open tasks by the delay model's probability of finishing late ({total} with a prediction, top {shown} shown). Factors are the features that move the risk most.",
    },
    "forecast.no_risks": {
        "zh": "该项目的未完成任务还没有延期预测（预测模型尚未运行）。",
        "en": "No open task of this project has a delay prediction yet (the prediction models have not run).",
    },
    "forecast.col.delay": {"zh": "延期概率", "en": "Delay probability"},
    "forecast.col.remaining_p50": {"zh": "剩余 P50 (天)", "en": "Remaining P50 (d)"},
    "forecast.col.remaining_p90": {"zh": "剩余 P90 (天)", "en": "Remaining P90 (d)"},
    "forecast.col.finish_p85": {"zh": "计划 P85 完成", "en": "Planned P85 finish"},
    "forecast.col.factors": {"zh": "主要因素", "en": "Top factors"},
    # factors
    "forecast.factor.separator": {"zh": "；", "en": "; "},
    "forecast.chart.tail": {
        "zh": "图中未画出最慢的 1% 模拟结果，以免极端长尾压缩坐标轴。",
        "en": "The slowest 1 % of runs are not drawn, so an extreme tail does not squash the axis.",
    },
    "forecast.accuracy_header": {"zh": "预测准确度", "en": "Forecast accuracy"},
    "forecast.accuracy_help": {
        "zh": "回测：在项目历史上每两周按当时的数据重做一次预测，并与实际完成日期比较；误差为工作日，取完成前 8 周时的预测。",
        "en": "Back-test: the forecast is replayed every 2 weeks of the project's history with the data known "
              "then and compared with when the work actually finished; errors in working days, 8 weeks "
              "before the finish.",
    },
    "forecast.accuracy_run": {"zh": "运行回测", "en": "Run the back-test"},
    "forecast.accuracy_running": {"zh": "正在回测…", "en": "Back-testing…"},
    "forecast.accuracy_coverage": {"zh": "实际完成落在 P10–P90 内的比例", "en": "Finishes inside P10–P90"},
    "forecast.accuracy_coverage_help": {
        "zh": "区间可信时应在 70%–90% 之间；偏低说明区间过窄。",
        "en": "Trustworthy intervals land at 70–90 %; lower means the intervals are too narrow.",
    },
    "forecast.accuracy_ece": {"zh": "延期概率校准误差（ECE）", "en": "Delay probability calibration error (ECE)"},
    "forecast.accuracy_ece_help": {
        "zh": "预测概率与实际延期比例的平均差距，0.05 以下为好。",
        "en": "Average gap between predicted probability and the share actually late; 0.05 or less is good.",
    },
    "forecast.accuracy_brier": {"zh": "延期概率 Brier 分数", "en": "Delay probability Brier score"},
    "forecast.accuracy_none": {
        "zh": "该项目的历史中还没有完成前 8 周可比较的预测。",
        "en": "This project's history has no forecast 8 weeks before a finish to compare yet.",
    },
    "forecast.accuracy_forecast": {"zh": "预测方法", "en": "Forecast"},
    "forecast.accuracy_error": {"zh": "误差（工作日）", "en": "Error (working days)"},
    "forecast.accuracy_p50": {"zh": "本系统 P50 预测", "en": "Lodestar P50"},
    "forecast.accuracy_p85": {"zh": "本系统 P85 预测", "en": "Lodestar P85"},
    "forecast.accuracy_scored": {
        "zh": "共评分 {scored} 个（单元, 状态日期）；另有 {burn_in} 个发生在公司积累 20 个已完成预测之前，无法校准，未计入。",
        "en": "{scored} (unit, status date) pairs scored; {burn_in} more came before the company had 20 finished "
              "forecasts on record, so they could not be calibrated and are left out.",
    },
    "forecast.accuracy_reliability": {"zh": "延期概率可靠性图", "en": "Delay probability reliability"},
    "forecast.accuracy_predicted": {"zh": "预测延期概率", "en": "Predicted delay probability"},
    "forecast.accuracy_observed": {"zh": "实际延期比例", "en": "Share actually late"},
    "forecast.accuracy_plan": {"zh": "计划完成日期（朴素）", "en": "Planned finish (naive)"},
    "forecast.accuracy_throughput": {"zh": "仅按吞吐量（朴素）", "en": "Throughput only (naive)"},
}
