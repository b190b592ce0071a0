"""Jobs and schedules: an hourly incremental sync and a daily full reconcile."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

SYNC_JOB = "lodestar_sync"
FULL_SYNC_JOB = "lodestar_full_reconcile"
RETRAIN_JOB = "lodestar_weekly_retrain"
MODELS_ASSET = "prediction_models"
ALERT_ASSET = "alert_evaluation"


def full_run_config(raw_asset_names: Sequence[str]) -> dict:
    return {"ops": {name: {"config": {"full": True}} for name in raw_asset_names}}


def build_jobs_and_schedules(raw_asset_names: Sequence[str], timezone: str):
    # Scoring runs after every sync; training only weekly (and on the first sync, when no model exists).
    # Alerts run in their own job, started by a sensor when a sync succeeds.
    selection = dg.AssetSelection.all() - dg.AssetSelection.assets(MODELS_ASSET, ALERT_ASSET)
    sync_job = dg.define_asset_job(
        SYNC_JOB, selection=selection, description="Incremental sync of every source, then marts and publish."
    )
    full_job = dg.define_asset_job(
        FULL_SYNC_JOB,
        selection=selection,
        config=full_run_config(raw_asset_names),
        description="Full refetch of every source; items gone at the source are marked deleted.",
    )
    retrain_job = dg.define_asset_job(
        RETRAIN_JOB, selection=dg.AssetSelection.assets(MODELS_ASSET),
        description="Retrain the duration and delay-risk models on the warehouse's history.",
    )
    weekly = dg.ScheduleDefinition(
        name="weekly_model_retrain", job=retrain_job, cron_schedule="0 3 * * 1", execution_timezone=timezone
    )
    hourly = dg.ScheduleDefinition(
        name="hourly_incremental_sync", job=sync_job, cron_schedule="7 * * * *", execution_timezone=timezone
    )
    daily = dg.ScheduleDefinition(
        name="daily_full_reconcile", job=full_job, cron_schedule="30 2 * * *", execution_timezone=timezone
    )
    return [sync_job, full_job, retrain_job], [hourly, daily, weekly]
