-- Mirrors of the write-back store (edits.sqlite, see warehouse/SCHEMA.md
-- "Concurrency"). The edits store is the source of truth; each sync replaces
-- these mirrors whole so SQL over the warehouse sees people's edits.

CREATE TABLE plan_tasks (
    task_id          VARCHAR PRIMARY KEY,
    planned_start    DATE,
    planned_finish   DATE,
    assignee_id      VARCHAR,
    estimate_hours   DOUBLE,
    updated_at       TIMESTAMP,
    updated_by       VARCHAR
);

CREATE TABLE plan_dependencies (
    from_task_id     VARCHAR NOT NULL,
    to_task_id       VARCHAR NOT NULL,
    dependency       VARCHAR NOT NULL,
    lag_days         DOUBLE NOT NULL,
    is_deleted       BOOLEAN NOT NULL,
    updated_at       TIMESTAMP,
    updated_by       VARCHAR,
    PRIMARY KEY (from_task_id, to_task_id)
);

CREATE TABLE baselines (
    baseline_id      VARCHAR PRIMARY KEY,
    project_key      VARCHAR,
    name             VARCHAR NOT NULL,
    created_at       TIMESTAMP,
    created_by       VARCHAR
);

CREATE TABLE baseline_tasks (
    baseline_id      VARCHAR NOT NULL,
    task_id          VARCHAR NOT NULL,
    planned_start    DATE,
    planned_finish   DATE,
    estimate_hours   DOUBLE,
    PRIMARY KEY (baseline_id, task_id)
);

CREATE TABLE risks (
    risk_id          VARCHAR PRIMARY KEY,
    project_key      VARCHAR,
    title            VARCHAR NOT NULL,
    category         VARCHAR,
    probability      INTEGER,
    impact           INTEGER,
    score            INTEGER,
    owner_id         VARCHAR,
    mitigation       VARCHAR,
    contingency      VARCHAR,
    status           VARCHAR,
    due_date         DATE,
    linked_task_ids  VARCHAR[],
    created_at       TIMESTAMP,
    updated_at       TIMESTAMP,
    updated_by       VARCHAR
);

CREATE TABLE standups (
    standup_id       VARCHAR PRIMARY KEY,
    person_id        VARCHAR NOT NULL,
    day              DATE NOT NULL,
    yesterday        VARCHAR,
    today            VARCHAR,
    blockers         VARCHAR,
    created_at       TIMESTAMP,
    updated_at       TIMESTAMP
);

CREATE TABLE audit_log (
    audit_id         BIGINT PRIMARY KEY,
    edited_at        TIMESTAMP NOT NULL,
    actor            VARCHAR NOT NULL,
    table_name       VARCHAR NOT NULL,
    row_key          VARCHAR NOT NULL,
    action           VARCHAR NOT NULL,
    before           VARCHAR,
    after            VARCHAR
);
