-- Canonical tables. Names and columns are a contract: add columns in later
-- migrations, never rename. Every TIMESTAMP column holds UTC.

CREATE TABLE projects (
    project_key      VARCHAR PRIMARY KEY,
    source           VARCHAR NOT NULL,
    name             VARCHAR,
    description      VARCHAR,
    lead_id          VARCHAR,
    budget           DOUBLE,
    currency         VARCHAR,
    hourly_rate      DOUBLE,
    start_date       DATE,
    due_date         DATE,
    url              VARCHAR
);

CREATE TABLE tasks (
    task_id          VARCHAR PRIMARY KEY,
    source           VARCHAR NOT NULL,
    source_key       VARCHAR NOT NULL,
    project_key      VARCHAR,
    parent_task_id   VARCHAR,
    title            VARCHAR,
    description      VARCHAR,
    type             VARCHAR,
    type_category    VARCHAR,
    status           VARCHAR,
    status_category  VARCHAR,
    priority         VARCHAR,
    assignee_id      VARCHAR,
    reporter_id      VARCHAR,
    created_at       TIMESTAMP,
    updated_at       TIMESTAMP,
    started_at       TIMESTAMP,
    resolved_at      TIMESTAMP,
    due_date         DATE,
    planned_start    DATE,
    planned_finish   DATE,
    estimate_hours   DOUBLE,
    spent_hours      DOUBLE,
    story_points     DOUBLE,
    sprint_id        VARCHAR,
    labels           VARCHAR[],
    url              VARCHAR,
    components       VARCHAR[],
    resolution       VARCHAR,
    is_deleted       BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE task_links (
    from_task_id     VARCHAR NOT NULL,
    to_task_id       VARCHAR NOT NULL,
    link_type        VARCHAR NOT NULL,
    dependency       VARCHAR NOT NULL DEFAULT 'FS',
    lag_days         DOUBLE NOT NULL DEFAULT 0,
    source           VARCHAR NOT NULL,
    PRIMARY KEY (from_task_id, to_task_id, link_type)
);

CREATE TABLE status_changes (
    change_id        VARCHAR PRIMARY KEY,
    task_id          VARCHAR NOT NULL,
    changed_at       TIMESTAMP NOT NULL,
    from_status      VARCHAR,
    to_status        VARCHAR,
    author_id        VARCHAR,
    source           VARCHAR NOT NULL
);

CREATE TABLE comments (
    comment_id       VARCHAR PRIMARY KEY,
    task_id          VARCHAR NOT NULL,
    author_id        VARCHAR,
    created_at       TIMESTAMP,
    updated_at       TIMESTAMP,
    body             VARCHAR,
    source           VARCHAR NOT NULL
);

CREATE TABLE worklogs (
    worklog_id       VARCHAR PRIMARY KEY,
    task_id          VARCHAR,
    person_id        VARCHAR,
    started_at       TIMESTAMP NOT NULL,
    hours            DOUBLE NOT NULL,
    source           VARCHAR NOT NULL,
    origin           VARCHAR NOT NULL,
    comment          VARCHAR
);

CREATE TABLE commits (
    sha              VARCHAR NOT NULL,
    repo             VARCHAR NOT NULL,
    author_id        VARCHAR,
    authored_at      TIMESTAMP,
    message          VARCHAR,
    additions        INTEGER,
    deletions        INTEGER,
    task_ids         VARCHAR[],
    source           VARCHAR NOT NULL,
    PRIMARY KEY (repo, sha)
);

CREATE TABLE pull_requests (
    source           VARCHAR NOT NULL,
    repo             VARCHAR NOT NULL,
    number           INTEGER NOT NULL,
    title            VARCHAR,
    state            VARCHAR,
    author_id        VARCHAR,
    created_at       TIMESTAMP,
    merged_at        TIMESTAMP,
    closed_at        TIMESTAMP,
    source_branch    VARCHAR,
    task_ids         VARCHAR[],
    PRIMARY KEY (source, repo, number)
);

CREATE TABLE sprints (
    sprint_id        VARCHAR PRIMARY KEY,
    source           VARCHAR NOT NULL,
    project_key      VARCHAR,
    name             VARCHAR,
    state            VARCHAR,
    start_at         TIMESTAMP,
    end_at           TIMESTAMP,
    completed_at     TIMESTAMP,
    goal             VARCHAR
);

-- One row per tool account; person_id groups accounts of the same human.
CREATE TABLE identities (
    identity_id      VARCHAR PRIMARY KEY,
    source           VARCHAR NOT NULL,
    account          VARCHAR NOT NULL,
    display_name     VARCHAR,
    email            VARCHAR,
    person_id        VARCHAR
);

CREATE TABLE people (
    person_id        VARCHAR PRIMARY KEY,
    display_name     VARCHAR,
    email            VARCHAR,
    team             VARCHAR,
    weekly_capacity_hours DOUBLE,
    hourly_rate      DOUBLE
);

CREATE TABLE sync_state (
    source           VARCHAR NOT NULL,
    scope            VARCHAR NOT NULL,
    cursor           VARCHAR,
    last_success_at  TIMESTAMP,
    last_attempt_at  TIMESTAMP,
    last_error       VARCHAR,
    PRIMARY KEY (source, scope)
);

-- Vendor responses as received (body only, never request headers), zlib-compressed
-- JSON, so canonical tables can be rebuilt without calling the APIs again.
CREATE TABLE raw_payloads (
    source           VARCHAR NOT NULL,
    kind             VARCHAR NOT NULL,
    item_key         VARCHAR NOT NULL,
    fetched_at       TIMESTAMP NOT NULL,
    content_sha256   VARCHAR NOT NULL,
    payload          BLOB NOT NULL,
    PRIMARY KEY (source, kind, item_key)
);
