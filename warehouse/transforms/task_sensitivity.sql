-- tasks.is_sensitive from the [sensitivity] rules (issue #14), recomputed over every task
-- after each load and rebuild (warehouse/marts.py mark_sensitive), so it follows rule changes.
-- $labels: sensitivity.labels (VARCHAR[], matched case-insensitively against tasks.labels);
-- $jira_security_levels: whether a task with a Jira security level is sensitive.
-- Only rows whose value changes are written; a second run writes nothing.
UPDATE tasks SET is_sensitive = rule.sensitive
FROM (
    SELECT task_id,
           coalesce(list_has_any(
               list_transform(coalesce(labels, []::VARCHAR[]), lambda l: lower(trim(l))),
               list_transform(CAST($labels AS VARCHAR[]), lambda l: lower(trim(l)))), false)
           OR (CAST($jira_security_levels AS BOOLEAN) AND security_level IS NOT NULL) AS sensitive
    FROM tasks
) AS rule
WHERE tasks.task_id = rule.task_id AND tasks.is_sensitive IS DISTINCT FROM rule.sensitive
