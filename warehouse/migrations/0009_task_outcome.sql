-- One status vocabulary (warehouse/vocabulary.py): a done task was either delivered or dropped
-- (Won't Do, Duplicate, Rejected, Cannot Reproduce, 不修复, 重复 ...). `tasks.resolution` keeps the raw
-- resolution name; `tasks.outcome` is the parsers' verdict. Rows loaded before this migration keep
-- NULL until `lodestar rebuild` re-parses them; the KPIs count such done rows as delivered.
ALTER TABLE tasks ADD COLUMN outcome VARCHAR;

-- KPIs count delivered and dropped work apart (warehouse/transforms/mart_project_kpis.sql).
ALTER TABLE mart_project_kpis ADD COLUMN tasks_delivered BIGINT DEFAULT 0;
ALTER TABLE mart_project_kpis ADD COLUMN dropped_tasks BIGINT DEFAULT 0;
