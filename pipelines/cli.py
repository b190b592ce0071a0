"""`lodestar` command line: sync, demo, query."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from warehouse.settings import ConfigError, Settings, default_demo_settings, load_settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _dagster_home() -> Path:
    """The instance of `dagster.yaml`: $DAGSTER_HOME, else the current directory's dagster.yaml."""
    if os.environ.get("DAGSTER_HOME"):
        return Path(os.environ["DAGSTER_HOME"])
    here = Path.cwd()
    if (here / "dagster.yaml").is_file():
        return here
    home = Path.home() / ".lodestar" / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    return home


def _metadata_value(value):
    return getattr(value, "value", value)


def run_sync(
    settings: Settings, only_source: str | None, full: bool, out=sys.stdout, verbose: bool = False,
    rebuild: bool = False,
) -> int:
    """Materialise the sync job in-process against the Dagster instance; print per-source counts.

    `rebuild` skips fetching and re-derives canonical tables from the stored raw payloads.
    """
    import dagster as dg

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
    os.environ["DAGSTER_HOME"] = str(_dagster_home())
    instance = dg.DagsterInstance.get()
    run_config: dict = {"loggers": {"console": {"config": {"log_level": "DEBUG" if verbose else "WARNING"}}}}
    if full:
        run_config["ops"] = {raw_asset_name(n): {"config": {"full": True}} for n in names}
    if rebuild:
        run_config["ops"] = {canonical_asset_name(n): {"config": {"rebuild": True}} for n in names}
    result = job.execute_in_process(
        instance=instance, run_config=run_config, raise_on_error=False, asset_selection=selection
    )
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
    failed_checks = [
        e for e in result.get_asset_check_evaluations()
        if not e.passed
    ]
    for evaluation in failed_checks:
        print(f"check {evaluation.check_name} ({evaluation.severity.value}): failed", file=out)
    if not result.success:
        for event in result.all_events:
            if event.is_failure and event.event_specific_data is not None:
                error = getattr(event.event_specific_data, "error", None)
                while error is not None and error.cause is not None:
                    error = error.cause
                message = error.message.strip() if error else event.message
                print(f"error in {event.step_key}: {message}", file=sys.stderr)
        print("sync failed", file=sys.stderr)
        return EXIT_FAILED
    if any(e.severity.value == "ERROR" for e in failed_checks):
        return EXIT_FAILED
    return EXIT_OK


def _node_metadata(result, node: str) -> dict:
    try:
        materializations = result.asset_materializations_for_node(node)
    except Exception:
        return {}
    if not materializations:
        return {}
    return {k: _metadata_value(v) for k, v in materializations[-1].metadata.items()}


def cmd_sync(args: argparse.Namespace) -> int:
    return run_sync(load_settings(args.config), args.source, args.full, verbose=args.verbose)


def cmd_rebuild(args: argparse.Namespace) -> int:
    return run_sync(load_settings(args.config), args.source, full=False, verbose=args.verbose, rebuild=True)


def cmd_people(args: argparse.Namespace) -> int:
    """People and the tool accounts merged into each; --unmatched lists accounts matched to nobody."""
    from warehouse.db import WarehouseError, read_frame

    settings = load_settings(args.config)
    sql = """
        SELECT i.identity_id, i.source, i.account, i.display_name, i.email, i.person_id,
               count(*) OVER (PARTITION BY i.person_id) AS accounts_of_person
        FROM identities i"""
    if args.unmatched:
        sql = f"""SELECT identity_id, source, account, display_name, email, person_id FROM ({sql})
                  WHERE accounts_of_person = 1 AND email IS NULL ORDER BY source, account"""
    else:
        sql += " ORDER BY person_id, identity_id"
    try:
        frame = read_frame(settings, sql)
    except WarehouseError as error:
        print(f"lodestar people: {error}", file=sys.stderr)
        return EXIT_FAILED
    _print_frame(frame, args.format)
    if args.unmatched:
        print(f"{frame.height} account(s) without e-mail matched to no other account by username or name; "
              "map them with [[people]] in the config", file=sys.stderr)
    return EXIT_OK


def cmd_import_timesheet(args: argparse.Namespace) -> int:
    from pipelines.timesheets.importer import TimesheetImportError, import_timesheet

    settings = load_settings(args.config)
    try:
        outcome = import_timesheet(settings, Path(args.file), args.source, args.skip_bad_rows)
    except TimesheetImportError as error:
        print(f"lodestar import-timesheet: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(outcome.message)
    if outcome.source_name is None:
        return EXIT_OK
    return run_sync(settings, outcome.source_name, full=False, verbose=args.verbose)


def cmd_plan_level(args: argparse.Namespace) -> int:
    """Resource-constrained scheduling of a PSPLIB instance (the levelling benchmark's interface)."""
    import json

    from models.planning.levelling import psplib_level_json
    from models.planning.psplib import PsplibFormatError

    if not args.psplib:
        print("lodestar plan level: give --psplib FILE.sm", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = psplib_level_json(Path(args.psplib), args.time_limit)
    except (OSError, PsplibFormatError) as error:
        print(f"lodestar plan level: {error}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(result))
    else:
        print(f"makespan {result['makespan']}")
        for job, start in result["start"].items():
            print(f"job {job}: start {start}")
    return EXIT_OK


def _print_result(result: dict, as_json: bool) -> None:
    import json

    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
        return
    for key, value in result.items():
        print(f"{key}: {value}")


def cmd_eval_effort(args: argparse.Namespace) -> int:
    from models.prediction.eval_effort import evaluate_effort

    path = Path(args.storypoints)
    if not path.is_file():
        print(f"lodestar eval effort: {path}: file not found", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = evaluate_effort(path, Path(args.predictions_out) if args.predictions_out else None)
    except ValueError as error:
        print(f"lodestar eval effort: {error}", file=sys.stderr)
        return EXIT_FAILED
    _print_result(result, args.json)
    return EXIT_OK


def cmd_eval_delay(args: argparse.Namespace) -> int:
    out = Path(args.predictions_out) if args.predictions_out else None
    try:
        if args.emse2017:
            from models.prediction.eval_delay import evaluate_delay_emse

            path = Path(args.emse2017)
            if not path.is_file():
                print(f"lodestar eval delay: {path}: file not found", file=sys.stderr)
                return EXIT_USAGE
            result = evaluate_delay_emse(path, out)
        elif args.jira_dir:
            from pipelines.evaluation import evaluate_delay_jira_dir

            result = evaluate_delay_jira_dir(Path(args.jira_dir), out)
        else:
            print("lodestar eval delay: give --emse2017 CSV or --jira-dir DIR", file=sys.stderr)
            return EXIT_USAGE
    except ValueError as error:
        print(f"lodestar eval delay: {error}", file=sys.stderr)
        return EXIT_FAILED
    _print_result(result, args.json)
    return EXIT_OK


def cmd_plan_baseline(args: argparse.Namespace) -> int:
    """Save the project's current plan as a named baseline (visible in the warehouse after the next sync)."""
    import getpass

    from models.planning.baseline_store import save_project_baseline
    from warehouse.db import WarehouseError

    settings = load_settings(args.config)
    try:
        baseline_id, count = save_project_baseline(settings, args.project, args.name, args.actor or getpass.getuser())
    except WarehouseError as error:
        print(f"lodestar plan baseline: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"saved baseline {baseline_id} with {count} task(s)")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Build the demo company's warehouse through the real pipeline, from scratch."""
    settings = default_demo_settings(Path.cwd(), seed=args.seed)
    if args.warehouse:
        settings.warehouse = type(settings.warehouse)(path=Path(args.warehouse)).resolved(Path.cwd())
    print(f"Building the demo company (seed {args.seed}) into {settings.warehouse.path}")
    return run_sync(settings, None, full=True, verbose=args.verbose)


def cmd_query(args: argparse.Namespace) -> int:
    from warehouse.db import WarehouseError, read_frame

    settings = load_settings(args.config)
    try:
        frame = read_frame(settings, args.sql)
    except WarehouseError as error:
        print(f"lodestar query: {error}", file=sys.stderr)
        return EXIT_FAILED
    _print_frame(frame, args.format)
    return EXIT_OK


def cmd_alerts_run(args: argparse.Namespace) -> int:
    """Evaluate every alert rule on the published warehouse, deliver what is news, report per channel."""
    from pipelines.alerts.engine import format_report, run_alerts, run_digest
    from warehouse.db import WarehouseError

    settings = load_settings(args.config)
    try:
        if getattr(args, "digest", False):
            report = run_digest(settings, force=args.force)
        else:
            report = run_alerts(settings)
    except WarehouseError as error:
        print(f"lodestar alerts: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(format_report(report))
    return EXIT_FAILED if report.failed else EXIT_OK


def cmd_alerts_list(args: argparse.Namespace) -> int:
    """Current alerts from the store, in the chosen language."""
    import polars as pl

    from models.alerts.text import describe
    from warehouse.alert_store import list_alerts
    from warehouse.db import WarehouseError

    settings = load_settings(args.config)
    try:
        alerts = list_alerts(settings, args.state or ["new", "acknowledged", "muted"])
    except WarehouseError as error:
        print(f"lodestar alerts list: {error}", file=sys.stderr)
        return EXIT_FAILED
    rows = []
    for alert in alerts:
        text = describe(alert["rule"], alert["facts"], args.lang, alert["project_key"])
        rows.append({
            "alert_id": alert["alert_id"], "severity": alert["severity"], "state": alert["state"],
            "project_key": alert["project_key"], "rule": alert["rule"], "title": text.title,
            "why": "; ".join(text.reasons), "impact": text.impact, "owner_id": alert["owner_id"],
            "first_raised_at": alert["first_raised_at"], "notified_at": alert["notified_at"],
        })
    columns = ["alert_id", "severity", "state", "project_key", "rule", "title", "why", "impact", "owner_id",
               "first_raised_at", "notified_at"]
    frame = pl.DataFrame(rows, schema={c: pl.String for c in columns}) if not rows else pl.DataFrame(rows)
    _print_frame(frame, args.format)
    return EXIT_OK


def _print_frame(frame, output_format: str) -> None:
    if output_format == "csv":
        text = frame.write_csv()
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    elif output_format == "json":
        sys.stdout.write(frame.write_json() + "\n")
    else:
        import polars as pl

        with pl.Config(tbl_rows=min(frame.height, 200), tbl_cols=-1, fmt_str_lengths=60, tbl_hide_dataframe_shape=False):
            print(frame)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lodestar", description="Where every project really stands.")
    commands = parser.add_subparsers(dest="command", required=True)

    sync = commands.add_parser("sync", help="fetch every source, update the warehouse, publish it")
    sync.add_argument("--config", help="lodestar.toml (default: $LODESTAR_CONFIG, ./lodestar.toml, the demo)")
    sync.add_argument("--source", help="only this source (by name)")
    sync.add_argument("--full", action="store_true", help="refetch everything and reconcile deletions")
    sync.add_argument("--verbose", action="store_true", help="show Dagster's step-by-step log")
    sync.set_defaults(handler=cmd_sync)

    demo = commands.add_parser("demo", help="build the demo company's warehouse")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--warehouse", help="warehouse file (default data/warehouse.duckdb)")
    demo.add_argument("--verbose", action="store_true", help="show Dagster's step-by-step log")
    demo.set_defaults(handler=cmd_demo)

    rebuild = commands.add_parser("rebuild", help="re-derive canonical tables from stored raw payloads, no API calls")
    rebuild.add_argument("--config")
    rebuild.add_argument("--source", help="only this source (by name)")
    rebuild.add_argument("--verbose", action="store_true")
    rebuild.set_defaults(handler=cmd_rebuild)

    people = commands.add_parser("people", help="people and their tool accounts")
    people.add_argument("--unmatched", action="store_true",
                        help="only accounts without e-mail that matched no other account")
    people.add_argument("--format", choices=["table", "csv", "json"], default="table")
    people.add_argument("--config")
    people.set_defaults(handler=cmd_people)

    timesheet = commands.add_parser("import-timesheet", help="import a CSV or .xlsx timesheet")
    timesheet.add_argument("file")
    timesheet.add_argument("--config")
    timesheet.add_argument("--source", help="timesheet source name (default: the configured one, else 'timesheets')")
    timesheet.add_argument("--skip-bad-rows", action="store_true", help="import the good rows, skip the bad ones")
    timesheet.add_argument("--verbose", action="store_true")
    timesheet.set_defaults(handler=cmd_import_timesheet)

    plan = commands.add_parser("plan", help="planning engine commands")
    plan_commands = plan.add_subparsers(dest="plan_command", required=True)
    level = plan_commands.add_parser("level", help="resource levelling (PSPLIB instance)")
    level.add_argument("--psplib", help="single-mode PSPLIB .sm file")
    level.add_argument("--time-limit", type=float, default=5.0, help="solver time limit in seconds")
    level.add_argument("--json", action="store_true", help='print {"makespan": int, "start": {"job": int}}')
    level.set_defaults(handler=cmd_plan_level)
    baseline = plan_commands.add_parser("baseline", help="save a project's current plan as a named baseline")
    baseline.add_argument("--project", required=True)
    baseline.add_argument("--name", required=True)
    baseline.add_argument("--actor", help="who saves it (default: the login name)")
    baseline.add_argument("--config")
    baseline.set_defaults(handler=cmd_plan_baseline)

    evaluate = commands.add_parser("eval", help="evaluate the prediction models against published data")
    eval_commands = evaluate.add_subparsers(dest="eval_command", required=True)
    effort = eval_commands.add_parser("effort", help="story-point effort model")
    effort.add_argument("--storypoints", required=True, help="CSV: issuekey,title,description,storypoint,split_mark")
    effort.add_argument("--json", action="store_true")
    effort.add_argument("--predictions-out", help="CSV of issuekey,y_true,y_pred per test item")
    effort.set_defaults(handler=cmd_eval_effort)
    delay = eval_commands.add_parser("delay", help="delay-risk model")
    delay.add_argument("--emse2017", help="issue-level CSV of Choetkiertikul et al. 2017")
    delay.add_argument("--jira-dir", help="folder of raw Jira issue JSON (KEY.json / KEY_CL.json)")
    delay.add_argument("--json", action="store_true")
    delay.add_argument("--predictions-out", help="CSV of issuekey,y_true,probability per test item")
    delay.set_defaults(handler=cmd_eval_delay)

    alerts = commands.add_parser("alerts", help="predictive delay alerts")
    alert_commands = alerts.add_subparsers(dest="alerts_command", required=True)
    alerts_run = alert_commands.add_parser(
        "run", help="evaluate every rule, deliver new or worse alerts; exits 1 if a delivery failed")
    alerts_run.add_argument("--config")
    alerts_run.set_defaults(handler=cmd_alerts_run)
    digest = alert_commands.add_parser("digest", help="send each project's open alerts as one digest")
    digest.add_argument("--config")
    digest.add_argument("--force", action="store_true", help="send even on a non-working day")
    digest.set_defaults(handler=cmd_alerts_run, digest=True)
    alerts_list = alert_commands.add_parser("list", help="show current alerts")
    alerts_list.add_argument("--config")
    alerts_list.add_argument("--state", action="append", choices=["new", "acknowledged", "resolved", "muted"],
                             help="only these states (repeatable; default: all but resolved)")
    alerts_list.add_argument("--lang", choices=["zh", "en"], default="zh")
    alerts_list.add_argument("--format", choices=["table", "csv", "json"], default="table")
    alerts_list.set_defaults(handler=cmd_alerts_list)

    query = commands.add_parser("query", help="read-only SQL against the published warehouse")
    query.add_argument("sql")
    query.add_argument("--format", choices=["table", "csv", "json"], default="table")
    query.add_argument("--config")
    query.set_defaults(handler=cmd_query)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as error:
        print(f"lodestar: {error}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
