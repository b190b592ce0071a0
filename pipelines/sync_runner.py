"""Run the sync job in-process for the command line, and print its report.

The Dagster instance (run history, event logs, schedules) lives in its own
folder: `$DAGSTER_HOME` when it is set, else `~/.lodestar/dagster`, one per
user, wherever `lodestar` is started. When that folder has no `dagster.yaml`,
`INSTANCE_YAML` is written there: telemetry and the welcome notice off,
everything Dagster stores inside the folder.

`pipelines/sync.py` holds the two stages each source asset runs (fetch, load);
this module runs the job made of those assets and reports on it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from warehouse.settings import Settings

EXIT_OK, EXIT_FAILED = 0, 1

USER_INSTANCE = "~/.lodestar/dagster"

INSTANCE_YAML = """\
# Dagster instance of Lodestar, written by `lodestar` because this folder had none.
# Runs, event logs, schedules and compute logs are stored inside this folder.
telemetry:
  enabled: false
nux:
  enabled: false
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 1
"""


def dagster_home() -> Path:
    """The instance folder: $DAGSTER_HOME if set, else ~/.lodestar/dagster (not created here)."""
    configured = os.environ.get("DAGSTER_HOME")
    return Path(configured or USER_INSTANCE).expanduser().resolve()


def prepare_dagster_home() -> Path:
    """Create the instance folder and its dagster.yaml when missing; point $DAGSTER_HOME at it."""
    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        draft = home / f".dagster.yaml.{os.getpid()}"
        draft.write_text(INSTANCE_YAML, encoding="utf-8")
        os.replace(draft, config)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def run_sync(
    settings: Settings, only_source: str | None, full: bool, out=None, verbose: bool = False,
    rebuild: bool = False, err=None,
) -> int:
    """Materialise the sync job in-process against the Dagster instance; print per-source counts.

    `rebuild` skips fetching and re-derives canonical tables from the stored raw payloads.
    `out` and `err` default to the sys.stdout and sys.stderr of the moment of the call (redirected ones included).
    """
    import dagster as dg

    out = out or sys.stdout

    from pipelines.definitions import build_definitions
    from pipelines.schedules import FULL_SYNC_JOB, SYNC_JOB
    from pipelines.source_assets import canonical_asset_name, raw_asset_name

    if only_source:
        settings.source(only_source)
    names = [s.name for s in settings.sources if s.enabled and (only_source is None or s.name == only_source)]
    defs = build_definitions(settings)
    job = defs.resolve_job_def(FULL_SYNC_JOB if full else SYNC_JOB)
    selection = None
    if only_source or rebuild:
        all_keys = defs.resolve_asset_graph().get_all_asset_keys()
        skipped = {
            dg.AssetKey(f(s.name)) for s in settings.sources if s.name != only_source and only_source
            for f in (raw_asset_name, canonical_asset_name)
        }
        if rebuild:
            skipped |= {dg.AssetKey(raw_asset_name(s.name)) for s in settings.sources}
        selection = sorted(all_keys - skipped)
    prepare_dagster_home()
    instance = dg.DagsterInstance.get()
    run_config: dict = {"loggers": {"console": {"config": {"log_level": "DEBUG" if verbose else "WARNING"}}}}
    if full:
        run_config["ops"] = {raw_asset_name(n): {"config": {"full": True}} for n in names}
    if rebuild:
        run_config["ops"] = {canonical_asset_name(n): {"config": {"rebuild": True}} for n in names}
    result = job.execute_in_process(
        instance=instance, run_config=run_config, raise_on_error=False, asset_selection=selection
    )
    return print_report(result, names, out, err)


def print_report(result, names: list[str], out=None, err=None) -> int:
    """Per-source counts, quarantined records, references outside the synced projects, failed checks and
    errors; the exit code (1 when a source failed: the others were published, it kept its last good rows)."""
    out = out or sys.stdout
    err = err or sys.stderr
    from pipelines.checks import freshness_check_name, integrity_check_name
    from pipelines.source_assets import canonical_asset_name, raw_asset_name

    print(f"{'source':<16}{'fetched':>10}{'inserted':>10}{'updated':>10}{'deleted':>10}{'seconds':>10}", file=out)
    for name in names:
        raw = _node_metadata(result, raw_asset_name(name))
        canonical = _node_metadata(result, canonical_asset_name(name))
        seconds = float(raw.get("seconds", 0)) + float(canonical.get("seconds", 0))
        print(
            f"{name:<16}{raw.get('fetched', '-'):>10}{canonical.get('inserted', '-'):>10}"
            f"{canonical.get('updated', '-'):>10}{canonical.get('deleted', '-'):>10}{seconds:>10.2f}",
            file=out,
        )
    failed_sources: set[str] = set()
    for name in names:
        for stage, node in (("fetch", raw_asset_name(name)), ("load", canonical_asset_name(name))):
            meta = _node_metadata(result, node)
            if meta.get("failed"):
                failed_sources.add(name)
                kept = meta.get("kept_since")
                kept = f"kept its rows of the last good sync ({kept})" if kept and kept != "never synced" \
                    else "it has never synced"
                print(f"{name}: {stage} failed: {meta.get('error')}; {kept}; the other sources were published",
                      file=err)
                break
    for name in names:
        canonical = _node_metadata(result, canonical_asset_name(name))
        records, values = canonical.get("quarantined_records", 0), canonical.get("quarantined_values", 0)
        if records:
            print(f"{name}: {records} record(s) quarantined; `lodestar quarantine list`", file=out)
        if values:
            print(f"{name}: {values} value(s) out of bounds nulled or repaired; `lodestar quarantine list`", file=out)
    evaluations = result.get_asset_check_evaluations()
    integrity = {e.check_name: e for e in evaluations}
    for name in names:
        evaluation = integrity.get(integrity_check_name(name))
        external = _metadata_value(evaluation.metadata.get("external_links", 0)) if evaluation else 0
        if external:
            print(f"{name}: {external} links point to issues outside the synced projects "
                  "(kept, naming the issue's key)", file=out)
    # A failed source's freshness check says what its failure line above already said.
    said = {freshness_check_name(name) for name in failed_sources}
    failed_checks = [e for e in evaluations if not e.passed and e.check_name not in said]
    for evaluation in failed_checks:
        detail = f": {evaluation.description}" if evaluation.description else ""
        print(f"check {evaluation.check_name} ({evaluation.severity.value}): failed{detail}", file=out)
    if not result.success:
        _print_errors(result, err)
        return EXIT_FAILED
    if failed_sources or any(e.severity.value == "ERROR" for e in failed_checks):
        return EXIT_FAILED
    return EXIT_OK


def _print_errors(result, err) -> None:
    for event in result.all_events:
        if event.is_failure and event.event_specific_data is not None:
            error = getattr(event.event_specific_data, "error", None)
            while error is not None and error.cause is not None:
                error = error.cause
            message = error.message.strip() if error else event.message
            print(f"error in {event.step_key}: {message}", file=err)
    print("sync failed", file=err)


def _metadata_value(value):
    return getattr(value, "value", value)


def _node_metadata(result, node: str) -> dict:
    try:
        materializations = result.asset_materializations_for_node(node)
    except Exception:
        return {}
    if not materializations:
        return {}
    return {k: _metadata_value(v) for k, v in materializations[-1].metadata.items()}
