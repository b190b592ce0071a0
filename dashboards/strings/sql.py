"""Words of the sql page; keys start with "sql."."""

STRINGS: dict[str, dict[str, str]] = {
    "sql.title": {"zh": "SQL 查询", "en": "SQL explorer"},
    "sql.intro": {
        "zh": "对已发布的数据仓库快照执行只读查询（可看到仪表盘中的最新编辑）。每次只能运行一条 SELECT 查询；最多取 {cap} 行，显示前 {shown} 行，超过 {timeout} 秒自动停止。时间均为 UTC。",
        "en": "Read-only queries on the published warehouse snapshot (dashboard edits included). One SELECT query at a time; at most {cap} rows are fetched and the first {shown} shown; a query is stopped after {timeout} s. Timestamps are UTC.",
    },
    # schema browser
    "sql.schema_header": {"zh": "表结构", "en": "Schema"},
    "sql.view": {"zh": "（视图）", "en": " (view)"},
    "sql.insert_example": {"zh": "插入示例查询", "en": "Insert example query"},
    "sql.col.column": {"zh": "列", "en": "Column"},
    "sql.col.description": {"zh": "说明（英文）", "en": "Meaning"},
    "sql.no_tables": {"zh": "快照中没有表。", "en": "The snapshot has no tables."},
    # editor
    "sql.editor": {"zh": "SQL", "en": "SQL"},
    "sql.editor_placeholder": {
        "zh": "例如：SELECT project_key, count(*) FROM tasks GROUP BY 1",
        "en": "e.g. SELECT project_key, count(*) FROM tasks GROUP BY 1",
    },
    "sql.run": {"zh": "运行", "en": "Run"},
    # saved and example queries
    "sql.library": {"zh": "示例与已保存的查询", "en": "Examples and saved queries"},
    "sql.load": {"zh": "载入", "en": "Load"},
    "sql.delete": {"zh": "删除", "en": "Delete"},
    "sql.delete_confirm": {"zh": "确认删除所选的已保存查询", "en": "I confirm deleting the selected saved query"},
    "sql.delete_needs_confirm": {"zh": "请先勾选确认框。", "en": "Tick the confirmation box first."},
    "sql.delete_example": {"zh": "示例查询不能删除。", "en": "Examples cannot be deleted."},
    "sql.deleted": {"zh": "已删除“{name}”。", "en": "Deleted “{name}”."},
    "sql.example_label": {"zh": "示例：{name}", "en": "Example: {name}"},
    "sql.saved_label": {"zh": "{name}（{saved_by}，{saved_at}）", "en": "{name} ({saved_by}, {saved_at})"},
    "sql.session_label": {"zh": "{name}（仅本次会话）", "en": "{name} (this session only)"},
    "sql.save_header": {"zh": "保存当前查询", "en": "Save this query"},
    "sql.save_replace": {"zh": "覆盖同名的已保存查询", "en": "Replace a saved query of the same name"},
    "sql.saved_session_only": {
        "zh": "无法写入 {path}（{detail}），查询只保存在本次会话中。",
        "en": "Could not write {path} ({detail}); the query is kept for this session only.",
    },
    "sql.store_note": {
        "zh": "已保存的查询对所有使用此数据仓库的人可见（保存在 {path}）。",
        "en": "Saved queries are shared with everyone using this warehouse (kept in {path}).",
    },
    "sql.example.hours_by_person": {"zh": "本月各人工时（最近有工时的月份）", "en": "Hours by person this month (latest month with worklogs)"},
    "sql.example.critical_path": {"zh": "项目关键路径", "en": "Critical path of a project"},
    "sql.example.forecasts": {"zh": "项目完成预测与截止日期", "en": "Project finish forecasts against due dates"},
    "sql.example.open_bugs": {"zh": "各项目未关闭缺陷（按优先级）", "en": "Open bugs per project and priority"},
    "sql.example.recent_edits": {"zh": "最近的编辑记录", "en": "Latest edits"},
    # results
    "sql.result_header": {"zh": "结果", "en": "Result"},
    "sql.result_summary": {"zh": "{rows} 行，{columns} 列，用时 {seconds} 秒。", "en": "{rows} rows, {columns} columns in {seconds} s."},
    "sql.truncated": {
        "zh": "结果超过 {cap} 行，只取了前 {cap} 行（下载文件中也是这些行）。请加 LIMIT 或聚合以缩小结果。",
        "en": "The result has more than {cap} rows; only the first {cap} were fetched (downloads hold the same rows). Add a LIMIT or aggregate to narrow it.",
    },
    "sql.display_capped": {
        "zh": "表格只显示前 {shown} 行；下载文件包含全部 {rows} 行。",
        "en": "The grid shows the first {shown} rows; the downloads hold all {rows}.",
    },
    "sql.no_rows": {"zh": "查询没有返回任何行。", "en": "The query returned no rows."},
    "sql.download_parquet": {"zh": "下载 Parquet", "en": "Download Parquet"},
    "sql.ran_sql": {"zh": "已运行的 SQL", "en": "SQL that ran"},
    # refusals and errors
    "sql.error.empty": {"zh": "请先输入 SQL。", "en": "Type a query first."},
    "sql.error.syntax": {"zh": "SQL 语法错误：{detail}", "en": "SQL syntax error: {detail}"},
    "sql.error.several": {
        "zh": "一次只能运行一条语句（这里有 {count} 条）。",
        "en": "Run one statement at a time (this has {count}).",
    },
    "sql.error.not_read_only": {
        "zh": "这里只能运行只读查询（SELECT / WITH / DESCRIBE / SHOW / EXPLAIN），不允许 {kind} 语句。数据仓库快照是只读的；要修改数据请使用对应的页面。",
        "en": "Only read-only queries (SELECT / WITH / DESCRIBE / SHOW / EXPLAIN) run here; {kind} statements are not allowed. The warehouse snapshot is read-only; change data on the page for it.",
    },
    "sql.error.file_access": {
        "zh": "查询不能读取文件或访问网络，只能查询数据仓库中的表。",
        "en": "Queries cannot read files or reach the network here; query the warehouse's tables instead.",
    },
    "sql.error.timeout": {
        "zh": "查询超过 {seconds} 秒已被停止。请缩小范围（加 WHERE / LIMIT）后重试。",
        "en": "The query was stopped after {seconds} s. Narrow it (WHERE / LIMIT) and try again.",
    },
    "sql.error.failed": {"zh": "查询失败：{detail}", "en": "The query failed: {detail}"},
    "sql.error.memory": {
        "zh": "查询需要的内存超过了单个查询允许的 {limit}，已停止。请缩小范围（加 WHERE / LIMIT、少选列）后重试。",
        "en": "The query needed more than the {limit} one query may use and was stopped. "
              "Narrow it (WHERE / LIMIT, fewer columns) and try again.",
    },
    "sql.error.store": {
        "zh": "无法读取已保存的查询（{path}）：{detail}",
        "en": "Cannot read the saved queries ({path}): {detail}",
    },
    "sql.error.name_empty": {"zh": "请填写查询名称。", "en": "Give the query a name."},
    "sql.error.name_long": {"zh": "名称最多 {limit} 个字符。", "en": "Names are at most {limit} characters."},
    "sql.error.name_taken": {
        "zh": "已有名为“{name}”的查询；如要覆盖，请勾选“覆盖同名的已保存查询”。",
        "en": "A query named “{name}” already exists; tick “Replace a saved query of the same name” to overwrite it.",
    },
    "sql.error.not_saved": {"zh": "没有名为“{name}”的已保存查询。", "en": "No saved query is named “{name}”."},
}
