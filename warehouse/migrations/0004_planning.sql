-- Outputs of the planning engine, rebuilt after every sync (models/planning).

CREATE TABLE plan_schedule (
    project_key          VARCHAR NOT NULL,
    task_id              VARCHAR NOT NULL,
    early_start          DATE,
    early_finish         DATE,
    late_start           DATE,
    late_finish          DATE,
    total_float_days     DOUBLE,
    free_float_days      DOUBLE,
    is_critical          BOOLEAN,
    criticality_index    DOUBLE,
    finish_p50           DATE,
    finish_p85           DATE,
    finish_p95           DATE,
    computed_at          TIMESTAMP NOT NULL,
    PRIMARY KEY (project_key, task_id)
);

CREATE TABLE project_forecasts (
    project_key          VARCHAR PRIMARY KEY,
    as_of                DATE NOT NULL,
    method               VARCHAR NOT NULL,
    runs                 INTEGER NOT NULL,
    finish_p50           DATE,
    finish_p85           DATE,
    finish_p95           DATE,
    due_date             DATE,
    probability_on_time  DOUBLE,
    critical_tasks       INTEGER,
    computed_at          TIMESTAMP NOT NULL
);

CREATE TABLE earned_value (
    project_key          VARCHAR PRIMARY KEY,
    status_date          DATE NOT NULL,
    bac                  DOUBLE,
    pv                   DOUBLE,
    ev                   DOUBLE,
    ac                   DOUBLE,
    sv                   DOUBLE,
    cv                   DOUBLE,
    spi                  DOUBLE,
    cpi                  DOUBLE,
    eac                  DOUBLE,
    etc                  DOUBLE,
    vac                  DOUBLE,
    computed_at          TIMESTAMP NOT NULL
);

CREATE TABLE schedule_violations (
    project_key          VARCHAR NOT NULL,
    task_id              VARCHAR NOT NULL,
    constraint_kind      VARCHAR NOT NULL,
    constraint_date      DATE,
    late_by_days         DOUBLE,
    computed_at          TIMESTAMP NOT NULL
);
