-- One row per project: the numbers the portfolio page shows.
-- Parameter $as_of (DATE): the day the KPIs describe.
-- Done work is delivered or dropped (tasks.outcome; a done row without one, loaded before
-- migration 0009, counts as delivered). completion_rate is delivered / (total - dropped):
-- a Won't Do neither completes the project nor stays in its scope.
WITH live AS (
    SELECT * FROM tasks WHERE NOT is_deleted
),
task_counts AS (
    SELECT project_key,
           count(*)                                                   AS tasks_total,
           count(*) FILTER (WHERE status_category = 'done')           AS tasks_done,
           count(*) FILTER (WHERE status_category = 'done'
                              AND outcome IS DISTINCT FROM 'dropped') AS tasks_delivered,
           count(*) FILTER (WHERE status_category = 'done'
                              AND outcome = 'dropped')                AS dropped_tasks,
           count(*) FILTER (WHERE status_category <> 'done'
                              AND due_date < $as_of)                  AS overdue_tasks,
           count(*) FILTER (WHERE type_category = 'bug'
                              AND status_category <> 'done')          AS open_bugs,
           sum(estimate_hours)                                        AS estimate_hours_total,
           max(due_date)                                              AS latest_task_due
    FROM live
    GROUP BY project_key
),
hours AS (
    SELECT t.project_key,
           sum(w.hours) AS hours_logged_total,
           sum(w.hours) FILTER (WHERE date_trunc('month', w.started_at) = date_trunc('month', $as_of::TIMESTAMP)
                                  AND w.started_at::DATE <= $as_of) AS hours_this_month
    FROM worklogs w
    JOIN live t USING (task_id)
    GROUP BY t.project_key
)
SELECT p.project_key,
       coalesce(p.name, p.project_key)                         AS project_name,
       $as_of::DATE                                            AS as_of,
       coalesce(c.tasks_total, 0)                              AS tasks_total,
       coalesce(c.tasks_done, 0)                               AS tasks_done,
       CASE WHEN coalesce(c.tasks_total, 0) - coalesce(c.dropped_tasks, 0) = 0 THEN NULL
            ELSE c.tasks_delivered / (c.tasks_total - c.dropped_tasks) END AS completion_rate,
       coalesce(c.overdue_tasks, 0)                            AS overdue_tasks,
       coalesce(c.open_bugs, 0)                                AS open_bugs,
       coalesce(h.hours_logged_total, 0)                       AS hours_logged_total,
       coalesce(h.hours_this_month, 0)                         AS hours_this_month,
       c.estimate_hours_total,
       p.budget,
       coalesce(h.hours_logged_total, 0) * p.hourly_rate       AS cost_to_date,
       coalesce(p.due_date, c.latest_task_due)                 AS due_date,
       coalesce(c.tasks_delivered, 0)                          AS tasks_delivered,
       coalesce(c.dropped_tasks, 0)                            AS dropped_tasks
FROM projects p
LEFT JOIN task_counts c USING (project_key)
LEFT JOIN hours h USING (project_key)
ORDER BY p.project_key
