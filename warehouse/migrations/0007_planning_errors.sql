-- What the planning engine could not do per project, rebuilt with the other planning outputs after every sync.
-- outcome 'failed': that stage produced nothing for the project (the error says why); the other projects,
--                   and the project's other stages where they do not depend on it, went on.
-- outcome 'adjusted': a source value (a date outside 1900-2200, a duration beyond the bound) was dropped or
--                   capped and the project planned without it.

CREATE TABLE planning_errors (
    project_key          VARCHAR NOT NULL,
    stage                VARCHAR NOT NULL,   -- plan | schedule | forecast | earned_value
    outcome              VARCHAR NOT NULL,   -- failed | adjusted
    task_id              VARCHAR,            -- the task an adjusted value belongs to; NULL for the project
    message              VARCHAR NOT NULL,
    computed_at          TIMESTAMP NOT NULL
);
