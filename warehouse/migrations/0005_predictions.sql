-- Predictions for open tasks, written after every sync by the `task_predictions` asset.
CREATE TABLE task_predictions (
    task_id              VARCHAR PRIMARY KEY,
    predicted_at         TIMESTAMP NOT NULL,
    model_version        VARCHAR NOT NULL,
    duration_p50_days    DOUBLE,
    duration_p90_days    DOUBLE,
    remaining_p50_days   DOUBLE,
    remaining_p90_days   DOUBLE,
    delay_probability    DOUBLE,
    top_factors          VARCHAR[]
);
