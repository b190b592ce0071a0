-- One row per project and day from the project's first task to $as_of:
-- flow of work (created, resolved, open) and hours, for trend charts.
WITH live AS (
    SELECT * FROM tasks WHERE NOT is_deleted AND project_key IS NOT NULL
),
bounds AS (
    SELECT project_key, min(created_at)::DATE AS first_day FROM live GROUP BY project_key
),
days AS (
    SELECT project_key, CAST(unnest(generate_series(first_day, $as_of::DATE, INTERVAL 1 DAY)) AS DATE) AS day
    FROM bounds
    WHERE first_day <= $as_of
),
created AS (
    SELECT project_key, created_at::DATE AS day, count(*) AS n FROM live GROUP BY ALL
),
resolved AS (
    SELECT project_key, resolved_at::DATE AS day, count(*) AS n
    FROM live WHERE resolved_at IS NOT NULL GROUP BY ALL
),
hours AS (
    SELECT t.project_key, w.started_at::DATE AS day, sum(w.hours) AS hours
    FROM worklogs w JOIN live t USING (task_id) GROUP BY ALL
),
daily AS (
    SELECT d.project_key, d.day,
           coalesce(c.n, 0) AS tasks_created,
           coalesce(r.n, 0) AS tasks_resolved,
           coalesce(h.hours, 0) AS hours_logged
    FROM days d
    LEFT JOIN created c USING (project_key, day)
    LEFT JOIN resolved r USING (project_key, day)
    LEFT JOIN hours h USING (project_key, day)
)
SELECT project_key,
       day,
       tasks_created,
       tasks_resolved,
       sum(tasks_created - tasks_resolved) OVER w AS open_tasks,
       sum(tasks_resolved) OVER w                 AS cumulative_resolved,
       hours_logged
FROM daily
WINDOW w AS (PARTITION BY project_key ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
ORDER BY project_key, day
