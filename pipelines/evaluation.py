"""`lodestar eval delay --jira-dir DIR`: the delay model end to end on raw Jira JSON.

The issues go through the product's own path — raw payload store, the Jira
parser, the loader — into a throw-away warehouse, and features come from the
same as-of feature builder the product scores with. Prediction time is when
the due date was set (the last changelog entry that set it, before resolution),
else creation; the label is "resolved after the due date".
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

import polars as pl

from pipelines.jira.parse import due_date_set_times, is_issue, parse_issue
from pipelines.raw_store import RawItem, store_raw
from pipelines.sync import parse_and_load
from warehouse.db import open_writer, utc_now
from warehouse.settings import parse_settings

EVAL_SOURCE = "eval"


class JiraDirError(ValueError):
    """The folder holds no usable Jira issues; the message says what was expected."""


def read_issue_files(directory: Path) -> list[dict]:
    """Issues as the Jira REST API returned them: `KEY_CL.json` (with changelog) preferred over `KEY.json`."""
    if not directory.is_dir():
        raise JiraDirError(f"{directory}: not a folder")
    chosen: dict[str, Path] = {}
    for path in sorted(directory.glob("*.json")):
        stem = path.stem
        if stem.endswith("_Comment"):
            continue
        key = stem.removesuffix("_CL")
        if stem.endswith("_CL") or key not in chosen:
            chosen[key] = path
    issues = []
    for key, path in sorted(chosen.items()):
        try:
            issue = json.loads(path.read_bytes().decode("utf-8", errors="replace"))
        except json.JSONDecodeError as error:
            raise JiraDirError(f"{path}: not JSON ({error})") from None
        if not is_issue(issue):
            raise JiraDirError(f"{path}: expected a Jira issue object with 'key' and 'fields'")
        issues.append(issue)
    if not issues:
        raise JiraDirError(f"{directory}: no Jira issue JSON files (*.json) found")
    return issues


def parsed_tasks(issues: list[dict]) -> list[dict]:
    """Each issue's `tasks` row as the Jira parser makes it for the loader."""
    return [parse_issue(issue, EVAL_SOURCE)["tasks"][0] for issue in issues]


def due_date_set_at(task: Mapping, set_times: Iterable[datetime]) -> datetime:
    """When the due date got its final value: the last change setting it before resolution, else creation.

    `task` is the issue's `tasks` row, `set_times` its `due_date_set_times`.
    """
    resolved = task["resolved_at"]
    moments = [m for m in set_times if resolved is None or m <= resolved]
    return max(moments) if moments else task["created_at"]


def load_into_warehouse(issues: list[dict], tasks: list[dict], workdir: Path):
    """A throw-away warehouse filled through the raw store, the Jira parser and the loader."""
    projects = sorted({task["project_key"] for task in tasks})
    settings = parse_settings(
        {"warehouse": {"path": "w.duckdb"},
         "sources": [{"kind": "jira", "name": EVAL_SOURCE, "url": "http://jira.invalid", "projects": projects}]},
        "evaluation configuration", workdir,
    )
    items = [RawItem("jira_issue", task["source_key"], task["updated_at"], issue)
             for issue, task in zip(issues, tasks, strict=True)]
    with open_writer(settings) as con:
        con.execute("BEGIN TRANSACTION")
        store_raw(con, EVAL_SOURCE, items, utc_now())
        con.execute("COMMIT")
        parse_and_load(con, settings, EVAL_SOURCE)
    return settings


def delay_examples(issues: list[dict], tasks: list[dict]) -> pl.DataFrame:
    """Issues with a due date and a resolution: prediction time and label."""
    rows = []
    for issue, task in zip(issues, tasks, strict=True):
        if task["due_date"] is None or task["resolved_at"] is None:
            continue
        rows.append({
            "task_id": task["task_id"],
            "issuekey": task["source_key"],
            "as_of": due_date_set_at(task, due_date_set_times(issue)),
            "delayed": int(task["resolved_at"].date() > task["due_date"]),
        })
    if not rows:
        raise JiraDirError("no issue has both a due date and a resolution date")
    return pl.DataFrame(rows).sort(["as_of", "issuekey"])


# Not model inputs: identifiers, the prediction time itself, free text and list columns.
NOT_FEATURES = ("task_id", "as_of", "text", "labels", "components", "project_key")


def evaluate_delay_jira_dir(directory: Path, predictions_out: Path | None = None) -> dict:
    from models.prediction.eval_delay import evaluate_frame
    from models.prediction.features import build_features

    issues = read_issue_files(directory)
    tasks = parsed_tasks(issues)
    examples = delay_examples(issues, tasks)
    with tempfile.TemporaryDirectory() as workdir:
        settings = load_into_warehouse(issues, tasks, Path(workdir))
        with open_writer(settings) as con:
            features = build_features(con, examples.select("task_id", "as_of"))
    joined = examples.join(features, on=["task_id", "as_of"], how="left")
    # The evaluation's split and label columns: chronological by prediction time, delayed = delaydays > 0.
    frame = joined.with_columns(
        pl.col("as_of").alias("openeddate"), pl.col("delayed").alias("delaydays"),
    ).drop([c for c in (*NOT_FEATURES, "delayed") if c in joined.columns])
    # List columns are not model inputs; a feature with no value at all carries nothing (and
    # scikit-learn's histogram binning cannot take an all-empty column).
    frame = frame.select([
        c for c in frame.columns
        if frame[c].dtype != pl.List(pl.String) and (c in ("openeddate", "delaydays", "issuekey")
                                                     or frame[c].null_count() < frame.height)
    ])
    result = evaluate_frame(frame, directory.name, predictions_out, sensitivity=False)
    result.update({
        "dataset": str(directory),
        "issues_read": len(issues),
        "items": examples.height,
        "label": "resolved after the due date",
        "prediction_time": "when the due date was set (last changelog entry setting it), else creation",
    })
    return result
