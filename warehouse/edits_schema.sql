-- Write-back store (SQLite, WAL). Same tables and columns as the warehouse
-- mirrors in migrations/0002_writeback.sql; dates and timestamps as ISO text,
-- lists as JSON text. Idempotent: run on every open.
CREATE TABLE IF NOT EXISTS plan_tasks (
    task_id TEXT PRIMARY KEY, planned_start TEXT, planned_finish TEXT, assignee_id TEXT,
    estimate_hours REAL, updated_at TEXT, updated_by TEXT
);
CREATE TABLE IF NOT EXISTS plan_dependencies (
    from_task_id TEXT NOT NULL, to_task_id TEXT NOT NULL, dependency TEXT NOT NULL DEFAULT 'FS',
    lag_days REAL NOT NULL DEFAULT 0, is_deleted INTEGER NOT NULL DEFAULT 0, updated_at TEXT, updated_by TEXT,
    PRIMARY KEY (from_task_id, to_task_id)
);
CREATE TABLE IF NOT EXISTS baselines (
    baseline_id TEXT PRIMARY KEY, project_key TEXT, name TEXT NOT NULL, created_at TEXT, created_by TEXT
);
CREATE TABLE IF NOT EXISTS baseline_tasks (
    baseline_id TEXT NOT NULL, task_id TEXT NOT NULL, planned_start TEXT, planned_finish TEXT, estimate_hours REAL,
    PRIMARY KEY (baseline_id, task_id)
);
CREATE TABLE IF NOT EXISTS risks (
    risk_id TEXT PRIMARY KEY, project_key TEXT, title TEXT NOT NULL, category TEXT,
    probability INTEGER CHECK (probability BETWEEN 1 AND 5), impact INTEGER CHECK (impact BETWEEN 1 AND 5),
    score INTEGER, owner_id TEXT, mitigation TEXT, contingency TEXT, status TEXT, due_date TEXT,
    linked_task_ids TEXT, created_at TEXT, updated_at TEXT, updated_by TEXT
);
CREATE TABLE IF NOT EXISTS standups (
    standup_id TEXT PRIMARY KEY, person_id TEXT NOT NULL, day TEXT NOT NULL, yesterday TEXT, today TEXT,
    blockers TEXT, created_at TEXT, updated_at TEXT
);
CREATE TABLE IF NOT EXISTS audit_log (
    audit_id INTEGER PRIMARY KEY AUTOINCREMENT, edited_at TEXT NOT NULL, actor TEXT NOT NULL, table_name TEXT NOT NULL,
    row_key TEXT NOT NULL, action TEXT NOT NULL, before TEXT, after TEXT
);
-- Alerts: written by the alert evaluation, acknowledged/resolved/muted from the dashboard.
CREATE TABLE IF NOT EXISTS alerts (
    alert_id TEXT PRIMARY KEY, rule TEXT NOT NULL, project_key TEXT, task_id TEXT, severity TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('new', 'acknowledged', 'resolved', 'muted')),
    score REAL, facts TEXT, owner_id TEXT, recipients TEXT, first_raised_at TEXT NOT NULL, last_seen_at TEXT,
    notified_at TEXT, notified_score REAL, notified_severity TEXT, escalated_at TEXT,
    acknowledged_at TEXT, acknowledged_by TEXT, resolved_at TEXT, resolved_by TEXT, updated_at TEXT
);
CREATE TABLE IF NOT EXISTS alert_mutes (
    rule TEXT NOT NULL, task_id TEXT NOT NULL, project_key TEXT, muted_by TEXT, muted_at TEXT,
    PRIMARY KEY (rule, task_id)
);
CREATE TABLE IF NOT EXISTS alert_deliveries (
    delivery_id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, kind TEXT NOT NULL, project_key TEXT,
    alert_ids TEXT, ok INTEGER NOT NULL, attempts INTEGER, status TEXT, error TEXT, sent_at TEXT NOT NULL
);
