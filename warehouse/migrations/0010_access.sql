-- Access control (issue #14): a task's Jira security level and whether the [sensitivity] rules make it sensitive.
-- Sensitive tasks are visible only to managers of their project, the PMO and admins (warehouse/access.py).
ALTER TABLE tasks ADD COLUMN security_level VARCHAR;
ALTER TABLE tasks ADD COLUMN is_sensitive BOOLEAN DEFAULT false;
