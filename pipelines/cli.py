"""`lodestar` command line, a thin door to the pipeline, the warehouse and the models.

Commands:
  sync              fetch every source, update the warehouse, publish it
  demo              build the demo company's warehouse through the real pipeline
  rebuild           re-derive canonical tables from stored raw payloads, no API calls
  import-timesheet  import a CSV or .xlsx timesheet, then sync it
  people            people and the tool accounts merged into each (--unmatched)
  quarantine list   records a sync set aside and values it nulled, with the reason
  query             read-only SQL against the published warehouse
  plan level        resource levelling of a PSPLIB instance
  plan baseline     save a project's current plan as a named baseline
  eval effort       evaluate the story-point effort model
  eval delay        evaluate the delay-risk model
  eval forecasts    back-test the completion forecast and the delay probability
  alerts run        evaluate the alert rules and deliver what is news
  alerts digest     send each project's open alerts as one digest
  alerts list       show current alerts

The sync runner and its report live in `pipelines.sync_runner`, which also
says where the Dagster instance is (`lodestar --help` prints it).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from pipelines.sync_runner import EXIT_FAILED, EXIT_OK, USER_INSTANCE, dagster_home, run_sync
from warehouse.settings import ConfigError, default_demo_settings, load_settings

EXIT_USAGE = 2

__all__ = ["build_parser", "main", "run_sync"]


class CommandError(Exception):
    """A failure reported on one line after the command's name, without a traceback."""

    def __init__(self, message: str, code: int = EXIT_FAILED):
        super().__init__(message)
        self.code = code


@contextmanager
def _reported(*errors: type[BaseException]) -> Iterator[None]:
    """Turn the expected errors of a command (by default the warehouse's) into a one-line report, exit 1."""
    if not errors:
        from warehouse.db import WarehouseError

        errors = (WarehouseError,)
    try:
        yield
    except errors as error:
        raise CommandError(str(error)) from error


def cmd_sync(args: argparse.Namespace) -> int:
    return run_sync(load_settings(args.config, environment=True), args.source, args.full, verbose=args.verbose)


def cmd_rebuild(args: argparse.Namespace) -> int:
    return run_sync(load_settings(args.config), args.source, full=False, verbose=args.verbose, rebuild=True)


def cmd_demo(args: argparse.Namespace) -> int:
    """Build the demo company's warehouse through the real pipeline, from scratch."""
    settings = default_demo_settings(Path.cwd(), seed=args.seed)
    if args.warehouse:
        settings.warehouse = type(settings.warehouse)(path=Path(args.warehouse)).resolved(Path.cwd())
    print(f"Building the demo company (seed {args.seed}) into {settings.warehouse.path}")
    return run_sync(settings, None, full=True, verbose=args.verbose)


def cmd_import_timesheet(args: argparse.Namespace) -> int:
    from pipelines.timesheets.importer import TimesheetImportError, import_timesheet

    settings = load_settings(args.config)
    with _reported(TimesheetImportError):
        outcome = import_timesheet(settings, Path(args.file), args.source, args.skip_bad_rows)
    print(outcome.message)
    if outcome.source_name is None:
        return EXIT_OK
    return run_sync(settings, outcome.source_name, full=False, verbose=args.verbose)


PEOPLE_SQL = """
    SELECT i.identity_id, i.source, i.account, i.display_name, i.email, i.person_id,
           count(*) OVER (PARTITION BY i.person_id) AS accounts_of_person
    FROM identities i"""


def cmd_people(args: argparse.Namespace) -> int:
    """People and the tool accounts merged into each; --unmatched lists accounts matched to nobody."""
    from warehouse.db import read_frame

    if args.unmatched:
        sql = f"""SELECT identity_id, source, account, display_name, email, person_id FROM ({PEOPLE_SQL})
                  WHERE accounts_of_person = 1 AND email IS NULL ORDER BY source, account"""
    else:
        sql = PEOPLE_SQL + " ORDER BY person_id, identity_id"
    settings = load_settings(args.config)
    with _reported():
        frame = read_frame(settings, sql)
    _print_frame(frame, args.format)
    if args.unmatched:
        print(f"{frame.height} account(s) without e-mail matched to no other account by username or name; "
              "map them with [[people]] in the config", file=sys.stderr)
    return EXIT_OK


def cmd_quarantine_list(args: argparse.Namespace) -> int:
    """What the syncs set aside (records not loaded, values nulled or repaired), from the published warehouse."""
    from pipelines.quarantine import LIST_SQL
    from warehouse.db import read_frame

    settings = load_settings(args.config)
    if args.source:
        settings.source(args.source)
    with _reported():
        present = read_frame(settings, "SELECT count(*) AS n FROM information_schema.tables "
                                       "WHERE table_name = 'quarantine'")["n"][0]
        if not present:
            raise CommandError("the published warehouse has no quarantine yet; run `lodestar sync` first")
        where, params = ("WHERE source = ?", [args.source]) if args.source else ("", None)
        frame = read_frame(settings, LIST_SQL.format(where=where), params)
    if args.format != "table":
        _print_frame(frame, args.format)
        return EXIT_OK
    # One line per entry, the reason whole: a ten-column frame would wrap every reason into a column.
    lines = [("source", "kind", "stage", "item", "field", "row", "since", "reason")] + [
        (r["source"], r["kind"], r["stage"], f"{r['item_kind']} {r['item_key']}", r["field"] or "-",
         r["row_id"] or "-", f"{r['first_seen_at']:%Y-%m-%d %H:%M}", r["reason"])
        for r in frame.iter_rows(named=True)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]) - 1)]
    for line in lines:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)) + "  " + line[-1])
    records = frame.filter(frame["kind"] == "record").height
    print(f"{records} record(s) quarantined, {frame.height - records} value(s) nulled or repaired; a record "
          "is tried again by every sync and `lodestar rebuild`, and leaves once it loads", file=sys.stderr)
    return EXIT_OK


def cmd_query(args: argparse.Namespace) -> int:
    """The SQL page's door (one read-only statement, row cap, timeout, memory cap), flags to raise the limits."""
    from warehouse.access import Principal, resolve
    from warehouse.sandbox import run_query

    settings = load_settings(args.config)
    with _reported():
        scope = resolve(settings, Principal(args.as_email)) if args.as_email else None
        result = run_query(settings, args.sql, row_cap=args.max_rows, timeout=args.timeout, scope=scope)
    _print_frame(result.frame, args.format)
    if result.truncated:
        print(f"lodestar query: result cut at {result.frame.height:,} rows (--max-rows raises the cap)", file=sys.stderr)
    return EXIT_OK


def cmd_access_check(args: argparse.Namespace) -> int:
    """The role per project that `[[access]]` gives a person, strongest first where several rules apply."""
    import polars as pl

    from warehouse.access import PERMISSIONS, Principal, resolve, strongest
    from warehouse.db import read_frame

    settings = load_settings(args.config)
    scope = resolve(settings, Principal(args.email, tuple(args.group)))
    with _reported():
        keys = read_frame(settings, "SELECT project_key FROM projects ORDER BY project_key")["project_key"].to_list()
    rows = []
    for key in keys:
        roles = scope.roles_on(key)
        rows.append({"project_key": key, "role": strongest(roles) or "none",
                     "may": ", ".join(action for action in PERMISSIONS if scope.can(action, key)) or "nothing"})
    _print_frame(pl.DataFrame(rows, schema={"project_key": pl.String, "role": pl.String, "may": pl.String}), args.format)
    if scope.sees_nothing:
        ask = settings.auth.contact or "a Lodestar admin"
        print(f"lodestar access: {args.email} matches no [[access]] rule and sees nothing; ask {ask}", file=sys.stderr)
    return EXIT_OK


def cmd_plan_level(args: argparse.Namespace) -> int:
    """Resource-constrained scheduling of a PSPLIB instance (the levelling benchmark's interface)."""
    import json

    from models.planning.levelling import psplib_level_json
    from models.planning.psplib import PsplibFormatError

    if not args.psplib:
        raise CommandError("give --psplib FILE.sm", EXIT_USAGE)
    with _reported(OSError, PsplibFormatError):
        result = psplib_level_json(Path(args.psplib), args.time_limit)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"makespan {result['makespan']}")
        for job, start in result["start"].items():
            print(f"job {job}: start {start}")
    return EXIT_OK


def cmd_plan_baseline(args: argparse.Namespace) -> int:
    """Save the project's current plan as a named baseline (visible in the warehouse after the next sync)."""
    import getpass

    from models.planning.baseline_store import save_project_baseline

    settings = load_settings(args.config)
    with _reported():
        baseline_id, count = save_project_baseline(settings, args.project, args.name, args.actor or getpass.getuser())
    print(f"saved baseline {baseline_id} with {count} task(s)")
    return EXIT_OK


def _existing_file(path: str) -> Path:
    if not Path(path).is_file():
        raise CommandError(f"{path}: file not found", EXIT_USAGE)
    return Path(path)


def _print_result(result: dict, as_json: bool) -> int:
    import json

    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return EXIT_OK


def cmd_eval_effort(args: argparse.Namespace) -> int:
    from models.prediction.eval_effort import evaluate_effort

    path = _existing_file(args.storypoints)
    with _reported(ValueError):
        result = evaluate_effort(path, Path(args.predictions_out) if args.predictions_out else None)
    return _print_result(result, args.json)


def cmd_eval_delay(args: argparse.Namespace) -> int:
    out = Path(args.predictions_out) if args.predictions_out else None
    if args.emse2017:
        from models.prediction.eval_delay import evaluate_delay_emse

        path = _existing_file(args.emse2017)
        with _reported(ValueError):
            result = evaluate_delay_emse(path, out)
    elif args.jira_dir:
        from pipelines.evaluation import evaluate_delay_jira_dir

        with _reported(ValueError):
            result = evaluate_delay_jira_dir(Path(args.jira_dir), out)
    else:
        raise CommandError("give --emse2017 CSV or --jira-dir DIR", EXIT_USAGE)
    return _print_result(result, args.json)


def cmd_eval_forecasts(args: argparse.Namespace) -> int:
    """Back-test on the published warehouse (read-only), or on raw Jira JSON loaded into a throw-away one."""
    import tempfile

    from models.planning.backtest import evaluate_forecasts
    from models.planning.calendar import WorkCalendar
    from warehouse.db import open_reader, open_writer

    with _reported(ValueError):
        if args.jira_dir:
            from pipelines.evaluation import load_into_warehouse, parsed_tasks, read_issue_files

            issues = read_issue_files(Path(args.jira_dir))
            with tempfile.TemporaryDirectory() as workdir:
                settings = load_into_warehouse(issues, parsed_tasks(issues), Path(workdir))
                with open_writer(settings) as con:
                    result = evaluate_forecasts(con, WorkCalendar.from_settings(settings), args.project)
        else:
            settings = load_settings(args.config)
            with open_reader(settings) as con:
                result = evaluate_forecasts(con, WorkCalendar.from_settings(settings), args.project)
    return _print_result(result, args.json)


def cmd_alerts_run(args: argparse.Namespace) -> int:
    """Evaluate every alert rule on the published warehouse, deliver what is news, report per channel."""
    from pipelines.alerts.engine import format_report, run_alerts, run_digest

    settings = load_settings(args.config)
    with _reported():
        report = run_digest(settings, force=args.force) if args.digest else run_alerts(settings)
    print(format_report(report))
    return EXIT_FAILED if report.failed else EXIT_OK


ALERT_COLUMNS = ["alert_id", "severity", "state", "project_key", "rule", "title", "why", "impact", "owner_id",
                 "first_raised_at", "notified_at"]


def cmd_alerts_list(args: argparse.Namespace) -> int:
    """Current alerts from the store, in the chosen language."""
    import polars as pl

    from models.alerts.text import describe
    from warehouse.alert_store import list_alerts

    settings = load_settings(args.config)
    with _reported():
        alerts = list_alerts(settings, args.state or ["new", "acknowledged", "muted"])
    rows = []
    for alert in alerts:
        text = describe(alert["rule"], alert["facts"], args.lang, alert["project_key"])
        rows.append({
            "alert_id": alert["alert_id"], "severity": alert["severity"], "state": alert["state"],
            "project_key": alert["project_key"], "rule": alert["rule"], "title": text.title,
            "why": "; ".join(text.reasons), "impact": text.impact, "owner_id": alert["owner_id"],
            "first_raised_at": alert["first_raised_at"], "notified_at": alert["notified_at"],
        })
    frame = pl.DataFrame(rows) if rows else pl.DataFrame(rows, schema={c: pl.String for c in ALERT_COLUMNS})
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


def _command(commands, name: str, handler, summary: str, *, config: bool = True, output: bool = False,
             verbose: bool = False, **defaults) -> argparse.ArgumentParser:
    """A subcommand that runs `handler`, with the options most commands share."""
    parser = commands.add_parser(name, help=summary)
    if config:
        parser.add_argument("--config", help="lodestar.toml (default: $LODESTAR_CONFIG, ./lodestar.toml, the demo)")
    if output:
        parser.add_argument("--format", choices=["table", "csv", "json"], default="table")
    if verbose:
        parser.add_argument("--verbose", action="store_true", help="show Dagster's step-by-step log")
    parser.set_defaults(handler=handler, prog=parser.prog, **defaults)
    return parser


def _instance_note() -> str:
    return (f"Dagster instance: {dagster_home()} ($DAGSTER_HOME if set, else {USER_INSTANCE}); "
            "a dagster.yaml with telemetry off is written there when missing.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lodestar", description="Where every project really stands.",
                                     epilog=_instance_note())
    commands = parser.add_subparsers(dest="command", required=True)

    sync = _command(commands, "sync", cmd_sync, "fetch every source, update the warehouse, publish it", verbose=True)
    sync.add_argument("--source", help="only this source (by name)")
    sync.add_argument("--full", action="store_true", help="refetch everything and reconcile deletions")

    demo = _command(commands, "demo", cmd_demo, "build the demo company's warehouse", config=False, verbose=True)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--warehouse", help="warehouse file (default data/warehouse.duckdb)")

    rebuild = _command(commands, "rebuild", cmd_rebuild,
                       "re-derive canonical tables from stored raw payloads, no API calls", verbose=True)
    rebuild.add_argument("--source", help="only this source (by name)")

    people = _command(commands, "people", cmd_people, "people and their tool accounts", output=True)
    people.add_argument("--unmatched", action="store_true",
                        help="only accounts without e-mail that matched no other account")

    timesheet = _command(commands, "import-timesheet", cmd_import_timesheet, "import a CSV or .xlsx timesheet",
                         verbose=True)
    timesheet.add_argument("file")
    timesheet.add_argument("--source", help="timesheet source name (default: the configured one, else 'timesheets')")
    timesheet.add_argument("--skip-bad-rows", action="store_true", help="import the good rows, skip the bad ones")

    plan = commands.add_parser("plan", help="planning engine commands")
    plan_commands = plan.add_subparsers(dest="plan_command", required=True)
    level = _command(plan_commands, "level", cmd_plan_level, "resource levelling (PSPLIB instance)", config=False)
    level.add_argument("--psplib", help="single-mode PSPLIB .sm file")
    level.add_argument("--time-limit", type=float, default=5.0, help="solver time limit in seconds")
    level.add_argument("--json", action="store_true", help='print {"makespan": int, "start": {"job": int}}')
    baseline = _command(plan_commands, "baseline", cmd_plan_baseline, "save a project's current plan as a named baseline")
    baseline.add_argument("--project", required=True)
    baseline.add_argument("--name", required=True)
    baseline.add_argument("--actor", help="who saves it (default: the login name)")

    evaluate = commands.add_parser("eval", help="evaluate the prediction models against published data")
    eval_commands = evaluate.add_subparsers(dest="eval_command", required=True)
    effort = _command(eval_commands, "effort", cmd_eval_effort, "story-point effort model", config=False)
    effort.add_argument("--storypoints", required=True, help="CSV: issuekey,title,description,storypoint,split_mark")
    effort.add_argument("--json", action="store_true")
    effort.add_argument("--predictions-out", help="CSV of issuekey,y_true,y_pred per test item")
    delay = _command(eval_commands, "delay", cmd_eval_delay, "delay-risk model", config=False)
    delay.add_argument("--emse2017", help="issue-level CSV of Choetkiertikul et al. 2017")
    delay.add_argument("--jira-dir", help="folder of raw Jira issue JSON (KEY.json / KEY_CL.json)")
    delay.add_argument("--json", action="store_true")
    delay.add_argument("--predictions-out", help="CSV of issuekey,y_true,probability per test item")
    forecasts = _command(eval_commands, "forecasts", cmd_eval_forecasts,
                         "back-test completion forecasts and delay probability on the warehouse's history")
    forecasts.add_argument("--project", help="only this project (key)")
    forecasts.add_argument("--jira-dir", help="folder of raw Jira issue JSON, loaded into a throw-away warehouse")
    forecasts.add_argument("--json", action="store_true")

    alerts = commands.add_parser("alerts", help="predictive delay alerts")
    alert_commands = alerts.add_subparsers(dest="alerts_command", required=True)
    _command(alert_commands, "run", cmd_alerts_run,
             "evaluate every rule, deliver new or worse alerts; exits 1 if a delivery failed", digest=False)
    digest = _command(alert_commands, "digest", cmd_alerts_run, "send each project's open alerts as one digest",
                      digest=True)
    digest.add_argument("--force", action="store_true", help="send even on a non-working day")
    alerts_list = _command(alert_commands, "list", cmd_alerts_list, "show current alerts", output=True)
    alerts_list.add_argument("--state", action="append", choices=["new", "acknowledged", "resolved", "muted"],
                             help="only these states (repeatable; default: all but resolved)")
    alerts_list.add_argument("--lang", choices=["zh", "en"], default="zh")

    held = commands.add_parser("quarantine", help="records a sync could not load, and values it nulled")
    held_commands = held.add_subparsers(dest="quarantine_command", required=True)
    held_list = _command(held_commands, "list", cmd_quarantine_list,
                         "list quarantined records and nulled values with the reason", output=True)
    held_list.add_argument("--source", help="only this source (by name)")

    query = _command(commands, "query", cmd_query, "read-only SQL against the published warehouse", output=True)
    query.add_argument("sql")
    query.add_argument("--max-rows", type=int, default=None, metavar="N",
                       help="return at most N rows (default [warehouse] query_max_rows, 100000)")
    query.add_argument("--timeout", type=float, default=None, metavar="S",
                       help="stop the query after S seconds (default [warehouse] query_timeout_seconds, 30)")
    query.add_argument("--as", dest="as_email", metavar="EMAIL",
                       help="run with this person's rights under [[access]] (without it: the operator, who sees all)")

    access = commands.add_parser("access", help="who may see and do what ([[access]] rules)")
    access_commands = access.add_subparsers(dest="access_command", required=True)
    check = _command(access_commands, "check", cmd_access_check, "print a person's role per project", output=True)
    check.add_argument("email")
    check.add_argument("--group", action="append", default=[], metavar="NAME",
                       help="a group the person is in (as the sign-in's groups claim would say); repeatable")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except CommandError as error:
        print(f"{args.prog}: {error}", file=sys.stderr)
        return error.code
    except ConfigError as error:
        print(f"lodestar: {error}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
