"""Requests and wall time of a Jira sync: Lodestar against Perceval, same loopback server, same data.

The server (tests/fakes/jira_server.py) serves the 501 real Apache issues of
../shared/data/jira-apache-2015 with a page cap of 50. Perceval 1.6.1 runs from
its own virtual environment (created on first use) as `perceval jira URL`.

    make bench-jira            # or: .venv/bin/python benchmarks/jira_sync.py [--runs 3]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines.cli import run_sync  # noqa: E402
from pipelines.jira.resources import JiraClient  # noqa: E402
from tests.fakes.jira_server import FakeJira  # noqa: E402
from warehouse.settings import load_settings  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "jira-apache-2015"
PERCEVAL_VENV = REPO / ".venv-perceval"
PERCEVAL_VERSION = "1.6.1"


def perceval_bin() -> Path:
    binary = PERCEVAL_VENV / "bin" / "perceval"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PERCEVAL_VENV)], check=True)
        subprocess.run([str(PERCEVAL_VENV / "bin" / "pip"), "install", "--quiet", f"perceval=={PERCEVAL_VERSION}"],
                       check=True)
    return binary


def fields() -> list[dict]:
    from tests.registry_data import pypi_sdist

    return json.loads((pypi_sdist("perceval", "1.6.1") / "tests" / "data" / "jira" / "jira_fields.json").read_text())


def measure(fake: FakeJira, action) -> tuple[int, float, dict]:
    fake.reset_counts()
    started = time.perf_counter()
    action()
    return len(fake.requests), time.perf_counter() - started, dict(fake.by_endpoint)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"shared data not found at {DATA}")
    fake = FakeJira(DATA, fields())
    url = fake.start()
    projects = sorted({i["fields"]["project"]["key"] for i in fake.issues.values()})
    newest = max(datetime.fromisoformat(i["fields"]["updated"]) for i in fake.issues.values())
    perceval = perceval_bin()
    results: dict[str, dict] = {}

    def record(name: str, action) -> None:
        samples = [measure(fake, action) for _ in range(args.runs)]
        results[name] = {
            "requests": samples[-1][0],
            "seconds_median": round(statistics.median(s[1] for s in samples), 3),
            "by_endpoint": samples[-1][2],
        }

    record("lodestar_fetch_full", lambda: JiraClient(url=url, projects=projects).fetch(None))
    since = newest.astimezone(timezone.utc).replace(tzinfo=None) - timedelta(minutes=10)
    record("lodestar_fetch_incremental", lambda: JiraClient(url=url, projects=projects).fetch(since))

    def lodestar_process(since_iso: str | None) -> None:
        """Like Perceval's CLI: a fresh interpreter, so start-up is counted on both sides."""
        code = (
            "import sys; from datetime import datetime; from pipelines.jira.resources import JiraClient; "
            f"JiraClient(url={url!r}, projects={projects!r}).fetch("
            f"{'None' if since_iso is None else f'datetime.fromisoformat({since_iso!r})'})"
        )
        subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, capture_output=True)

    record("lodestar_fetch_full_new_process", lambda: lodestar_process(None))
    record("lodestar_fetch_incremental_new_process", lambda: lodestar_process(since.isoformat()))

    with tempfile.TemporaryDirectory() as home:
        Path(home, "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
        config = Path(home, "lodestar.toml")
        config.write_text(f'[warehouse]\npath = "w.duckdb"\n[[sources]]\nkind = "jira"\nname = "apache"\n'
                          f'url = "{url}"\nprojects = {json.dumps(projects)}\n')
        os.environ["DAGSTER_HOME"] = home
        settings = load_settings(config)
        record("lodestar_sync_end_to_end", lambda: run_sync(settings, None, full=True, out=io.StringIO()))

    def run_perceval(from_date: str) -> None:
        subprocess.run([str(perceval), "jira", url, "--no-archive", "--from-date", from_date, "-o", os.devnull],
                       check=True, capture_output=True)

    record("perceval_fetch_full", lambda: run_perceval("1970-01-01"))
    record("perceval_fetch_incremental", lambda: run_perceval((newest - timedelta(minutes=10)).isoformat()))
    fake.stop()

    print(json.dumps({"data": str(DATA), "issues": len(fake.issues), "page_cap": fake.page_cap,
                      "runs": args.runs, "results": results}, indent=2))
    print("\n| run | requests | median seconds |\n|---|---:|---:|")
    for name, value in results.items():
        print(f"| {name} | {value['requests']} | {value['seconds_median']} |")


if __name__ == "__main__":
    main()
