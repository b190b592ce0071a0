"""Alerts in Dagster: evaluated by a sensor after every successful sync, plus a daily digest.

The evaluation is an asset so each run leaves its counts as metadata and a
check that fails when a delivery failed after its retries: a channel that
keeps failing shows red in Dagster, not only in a log line.
"""

import dagster as dg

from pipelines.alerts.engine import run_alerts, run_digest
from pipelines.resources import WarehouseResource

ALERT_JOB = "lodestar_alerts"
DIGEST_JOB = "lodestar_alert_digest"
ALERT_ASSET = "alert_evaluation"
DELIVERY_CHECK = "deliveries_succeeded"


def _metadata(report) -> dict:
    metadata = {
        "findings": report.findings,
        "raised": report.raised,
        "notified": report.notified,
        "unchanged": report.unchanged,
        "muted": report.muted,
        "held_for_quiet_hours": report.quiet,
        "resolved": report.resolved,
        "deliveries": len(report.deliveries),
        "failed_deliveries": sum(1 for d in report.deliveries if not d.ok),
    }
    for channel in report.channels:
        metadata[f"channel/{channel.name}"] = (
            f"raised {channel.raised}, delivered {channel.delivered}, suppressed {channel.suppressed}, "
            f"failed {channel.failed}"
        )
    return metadata


@dg.asset(
    name=ALERT_ASSET,
    group_name="alerts",
    kinds={"sqlite"},
    deps=["published_warehouse"],
    description="Alert rules evaluated on the published warehouse; new or worse alerts delivered to channels.",
    check_specs=[dg.AssetCheckSpec(DELIVERY_CHECK, asset=ALERT_ASSET,
                                   description="every delivery succeeded after its retries")],
)
def alert_evaluation(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    report = run_alerts(warehouse.settings())
    failures = [f"{d.channel}: {d.error}" for d in report.deliveries if not d.ok]
    for failure in failures:
        context.log.error(f"alert delivery failed: {failure}")
    return dg.MaterializeResult(
        metadata=_metadata(report),
        check_results=[dg.AssetCheckResult(
            check_name=DELIVERY_CHECK,
            passed=not failures,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"failures": "\n".join(failures) or "none"},
        )],
    )


@dg.op(description="Open alerts of every project whose digest hour it is, one message per project and channel.")
def send_alert_digest(context: dg.OpExecutionContext, warehouse: WarehouseResource) -> None:
    report = run_digest(warehouse.settings())
    failures = [f"{d.channel}: {d.error}" for d in report.deliveries if not d.ok]
    context.log.info(f"digest: {len(report.deliveries)} deliveries, {len(failures)} failed")
    if failures:
        raise dg.Failure(description="alert digest delivery failed", metadata={"failures": "\n".join(failures)})


def build_alert_definitions(monitored_jobs):
    """The alert asset and job, the after-sync sensor and the hourly digest schedule."""
    alerts_job = dg.define_asset_job(
        ALERT_JOB, selection=dg.AssetSelection.assets(ALERT_ASSET),
        description="Evaluate alert rules and deliver new or worse alerts.",
    )

    @dg.job(name=DIGEST_JOB, description="Daily digest of open alerts per project.")
    def digest_job() -> None:
        send_alert_digest()

    @dg.run_status_sensor(
        name="alerts_after_sync",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=list(monitored_jobs),
        request_job=alerts_job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Evaluates alerts after every successful sync.",
    )
    def alerts_after_sync(context: dg.RunStatusSensorContext):
        return dg.RunRequest(run_key=f"after-{context.dagster_run.run_id}")

    # Hourly, because projects live in different time zones: each run sends the
    # digests of the projects where it is now the digest hour of a working day.
    daily_alert_digest = dg.ScheduleDefinition(
        name="daily_alert_digest",
        job=digest_job,
        cron_schedule="0 * * * *",
        execution_timezone="UTC",
        description="Each project's open alerts at [alerts] digest_hour on its working days, in its own time zone.",
    )

    return [alert_evaluation], [alerts_job, digest_job], [alerts_after_sync], [daily_alert_digest]
