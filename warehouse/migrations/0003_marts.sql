-- Marts rebuilt after every sync by warehouse/transforms/*.sql.

CREATE TABLE mart_project_kpis (
    project_key          VARCHAR PRIMARY KEY,
    project_name         VARCHAR,
    as_of                DATE NOT NULL,
    tasks_total          BIGINT NOT NULL,
    tasks_done           BIGINT NOT NULL,
    completion_rate      DOUBLE,
    overdue_tasks        BIGINT NOT NULL,
    open_bugs            BIGINT NOT NULL,
    hours_logged_total   DOUBLE NOT NULL,
    hours_this_month     DOUBLE NOT NULL,
    estimate_hours_total DOUBLE,
    budget               DOUBLE,
    cost_to_date         DOUBLE,
    due_date             DATE
);

CREATE TABLE mart_project_daily (
    project_key          VARCHAR NOT NULL,
    day                  DATE NOT NULL,
    tasks_created        BIGINT NOT NULL,
    tasks_resolved       BIGINT NOT NULL,
    open_tasks           BIGINT NOT NULL,
    cumulative_resolved  BIGINT NOT NULL,
    hours_logged         DOUBLE NOT NULL,
    PRIMARY KEY (project_key, day)
);
