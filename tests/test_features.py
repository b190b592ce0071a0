"""Leak-free features: hand-checked values, and proofs that nothing stamped after as_of is read.

Two complementary proofs:

* *mutation*: compute features, then add or alter only rows stamped after ``as_of`` (and
  the current-state fields of tasks) and check the frames are byte-identical; a control
  change stamped *before* ``as_of`` must change them, so the check can fail.
* *truncation*: features computed today for a past ``as_of`` must equal the features
  computed on the warehouse as a sync at ``as_of`` would have left it (future rows
  removed, current fields rewound). Run on a random company and, marked slow, on the
  demo company built by the real pipeline.
"""

from __future__ import annotations

import io
import os
import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from models.planning.calendar import WorkCalendar
from models.prediction.features import (
    NUMERIC_FEATURES,
    SNAPSHOT_FIELDS,
    build_features,
    status_category_map,
)
from tests.conftest import write_config
from warehouse.db import apply_migrations, open_writer
from warehouse.load import LOAD_ORDER, upsert
from warehouse.settings import load_settings

AS_OF = datetime(2024, 3, 13, 12, 0)
WEEKENDS_ONLY = WorkCalendar(None)

Rows = dict[str, list[dict]]


# ------------------------------------------------------------------ building blocks

def task(key: str, created: datetime, **extra) -> dict:
    row = {"task_id": f"t:{key}", "source": "t", "source_key": key, "project_key": "P", "title": f"task {key}",
           "type": "Task", "type_category": "task", "created_at": created, "status": "To Do",
           "status_category": "todo", "labels": [], "components": []}
    row.update(extra)
    return row


def change(key: str, n: int, at: datetime, old: str | None, new: str) -> dict:
    return {"change_id": f"t:{key}:{n}", "task_id": f"t:{key}", "changed_at": at, "from_status": old,
            "to_status": new, "source": "t"}


def comment(cid: str, key: str, at: datetime) -> dict:
    return {"comment_id": f"t:{cid}", "task_id": f"t:{key}", "created_at": at, "body": "note", "source": "t"}


def worklog(wid: str, key: str, at: datetime, hours: float) -> dict:
    return {"worklog_id": f"t:{wid}", "task_id": f"t:{key}", "person_id": "alice", "started_at": at,
            "hours": hours, "source": "t", "origin": "jira"}


def link(src: str, dst: str, kind: str = "blocks") -> dict:
    return {"from_task_id": f"t:{src}", "to_task_id": f"t:{dst}", "link_type": kind, "source": "t"}


def load(con: duckdb.DuckDBPyConnection, rows: Rows) -> None:
    for table in LOAD_ORDER:
        if rows.get(table):
            upsert(con, table, rows[table])


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator:
    """A writer connection factory on fresh temporary warehouses (one per call)."""
    opened = []

    def make(rows: Rows):
        folder = tmp_path / f"w{len(opened)}"
        folder.mkdir()
        settings = load_settings(write_config(folder, '[warehouse]\npath = "w/warehouse.duckdb"\n'))
        context = open_writer(settings)
        con = context.__enter__()
        opened.append(context)
        load(con, rows)
        return con

    yield make
    for context in opened:
        context.__exit__(None, None, None)


def d(text: str) -> datetime:
    return datetime.fromisoformat(text)


def story() -> Rows:
    """A small project around T1 (feature, alice), as of Wed 2024-03-13 12:00 (weekends-only calendar).

    Resolved before as_of, project P:  T2 cycle 5 (on time), T3 cycle 10 (late),
    T6 cycle 3 (first resolution; reopened and resolved again), T8 cycle 17 (no start).
    """
    tasks = [
        task("T1", d("2024-03-01 09:00"), type_category="feature", priority="High", assignee_id="alice",
             reporter_id="rob", labels=["backend", "api"], components=["core"], estimate_hours=10.0,
             story_points=3.0, due_date=date(2024, 3, 15), description="Add the export API",
             started_at=d("2024-03-04 10:00")),
        task("T2", d("2024-02-01 09:00"), assignee_id="alice", reporter_id="rob", due_date=date(2024, 2, 10),
             status="Done", status_category="done", started_at=d("2024-02-05 10:00"),
             resolved_at=d("2024-02-09 16:00")),
        task("T3", d("2024-02-01 09:00"), assignee_id="alice", reporter_id="rob", due_date=date(2024, 2, 16),
             status="Done", status_category="done", started_at=d("2024-02-12 10:00"),
             resolved_at=d("2024-02-23 16:00")),
        task("T4", d("2024-03-01 09:00"), assignee_id="alice", reporter_id="rita", status="In Progress",
             status_category="in_progress", started_at=d("2024-03-06 10:00")),
        task("T5", d("2024-03-12 09:00"), assignee_id="alice", reporter_id="rita"),
        task("T6", d("2024-02-19 09:00"), assignee_id="bob", reporter_id="rob", due_date=date(2024, 3, 5),
             status="Done", status_category="done", started_at=d("2024-02-20 10:00"),
             resolved_at=d("2024-03-01 16:00")),
        task("T7", d("2024-02-15 09:00"), source_key="gh#7", assignee_id="carol", reporter_id="rita",
             status="open", status_category="todo"),
        task("T8", d("2024-02-15 09:00"), assignee_id="carol", reporter_id="rita", status="closed",
             status_category="done", resolved_at=d("2024-03-08 16:00")),
        task("T9", d("2024-03-02 09:00"), reporter_id="rita"),
        task("T11", d("2024-03-05 09:00"), type_category="subtask", parent_task_id="t:T1", reporter_id="rita"),
    ]
    changes = [
        change("T1", 1, d("2024-03-04 10:00"), "To Do", "In Progress"),
        change("T1", 2, d("2024-03-11 10:00"), "In Progress", "In Review"),
        change("T2", 1, d("2024-02-05 10:00"), "To Do", "In Progress"),
        change("T2", 2, d("2024-02-09 16:00"), "In Progress", "Done"),
        change("T3", 1, d("2024-02-12 10:00"), "To Do", "In Progress"),
        change("T3", 2, d("2024-02-23 16:00"), "In Progress", "Done"),
        change("T4", 1, d("2024-03-06 10:00"), "To Do", "In Progress"),
        change("T6", 1, d("2024-02-20 10:00"), "To Do", "In Progress"),
        change("T6", 2, d("2024-02-22 16:00"), "In Progress", "Done"),
        change("T6", 3, d("2024-02-26 10:00"), "Done", "Reopened"),
        change("T6", 4, d("2024-02-27 10:00"), "Reopened", "In Progress"),
        change("T6", 5, d("2024-03-01 16:00"), "In Progress", "Done"),
    ]
    return {
        "tasks": tasks,
        "status_changes": changes,
        "comments": [comment("c1", "T1", d("2024-03-05 10:00")), comment("c2", "T1", d("2024-03-12 10:00"))],
        "worklogs": [worklog("w1", "T1", d("2024-03-05 10:00"), 4.0), worklog("w2", "T1", d("2024-03-12 10:00"), 2.5),
                     worklog("w3", "T1", AS_OF, 1.0)],
        "task_links": [link("T7", "T1"), link("T8", "T1", "depends_on"), link("T1", "T9"), link("T1", "T2", "relates")],
    }


def future_rows() -> Rows:
    """Only rows stamped after AS_OF, plus rewritten current-state fields of existing tasks."""
    return {
        "tasks": [
            task("T1", d("2024-03-01 09:00"), type_category="feature", priority="High", assignee_id="alice",
                 reporter_id="rob", labels=["backend", "api"], components=["core"], estimate_hours=10.0,
                 story_points=3.0, due_date=date(2024, 3, 15), description="Add the export API",
                 started_at=d("2024-03-04 10:00"), status="Done", status_category="done", resolution="Fixed",
                 resolved_at=d("2024-03-20 16:00"), updated_at=d("2024-03-25 10:00"), spent_hours=99.0),
            task("T4", d("2024-03-01 09:00"), assignee_id="alice", reporter_id="rita", status="Done",
                 status_category="done", started_at=d("2024-03-06 10:00"), resolved_at=d("2024-03-18 10:00")),
            task("T7", d("2024-02-15 09:00"), source_key="gh#7", assignee_id="carol", reporter_id="rita",
                 status="closed", status_category="done", resolved_at=d("2024-03-19 10:00")),
            task("T10", d("2024-03-15 09:00"), reporter_id="rob"),
            task("T12", d("2024-03-14 09:00"), type_category="subtask", parent_task_id="t:T1", reporter_id="rob"),
            task("T13", d("2024-03-14 09:00"), assignee_id="alice", reporter_id="rob", due_date=date(2024, 3, 14),
                 status="Done", status_category="done", started_at=d("2024-03-14 10:00"),
                 resolved_at=d("2024-03-15 10:00")),
            task("T14", d("2024-03-14 09:00"), assignee_id="bob", reporter_id="rob", started_at=d("2024-03-14 10:00"),
                 status="In Progress", status_category="in_progress"),
        ],
        "status_changes": [
            change("T1", 3, d("2024-03-20 16:00"), "In Review", "Done"),
            change("T1", 4, d("2024-03-13 12:00:01"), "In Review", "In Progress"),
            change("T4", 2, d("2024-03-18 10:00"), "In Progress", "Done"),
            change("T7", 1, d("2024-03-19 10:00"), "open", "closed"),
            change("T13", 1, d("2024-03-14 10:00"), "To Do", "In Progress"),
            change("T13", 2, d("2024-03-15 10:00"), "In Progress", "Done"),
            change("T14", 1, d("2024-03-14 10:00"), "To Do", "In Progress"),
            change("T6", 6, d("2024-03-21 10:00"), "Done", "Reopened"),
        ],
        "comments": [comment("c3", "T1", d("2024-03-13 12:00:01")), comment("c4", "T4", d("2024-03-14 10:00")),
                     comment("c5", "T13", d("2024-03-14 11:00"))],
        "worklogs": [worklog("w4", "T1", d("2024-03-14 10:00"), 3.0), worklog("w5", "T13", d("2024-03-14 10:00"), 8.0)],
        "task_links": [link("T14", "T1"), link("T1", "T10"), link("T13", "T4", "depends_on")],
    }


QUERY = pl.DataFrame({
    "task_id": ["t:T1", "t:T4", "t:T6", "t:T7", "t:T2", "t:T1", "t:nope"],
    "as_of": [AS_OF, AS_OF, AS_OF, AS_OF, d("2024-02-07 12:00"), d("2024-03-04 09:59"), AS_OF],
})


def serialised(frame: pl.DataFrame) -> bytes:
    """Schema plus every value as JSON text (floats in shortest round-trip form): equal bytes, equal values.

    Arrow IPC is not used because a sliced frame carries unspecified padding bits.
    """
    return (repr(frame.schema) + frame.write_json()).encode()


def assert_identical(before: pl.DataFrame, after: pl.DataFrame) -> None:
    for column in before.columns:
        assert before.get_column(column).equals(after.get_column(column), check_names=True), column
    assert serialised(before) == serialised(after)


# ------------------------------------------------------------------ hand-checked values

def test_features_match_hand_computed_values(warehouse):
    con = warehouse(story())
    frame = build_features(con, QUERY, WEEKENDS_ONLY)
    assert frame.height == QUERY.height
    assert frame.get_column("task_id").to_list() == QUERY.get_column("task_id").to_list()
    t1 = frame.row(0, named=True)
    expected = {
        "type_category": "feature", "priority": "High", "priority_rank": 2, "labels": ["backend", "api"],
        "n_labels": 2, "n_components": 1, "text": "task T1\nAdd the export API", "has_assignee": 1,
        "status_at": "In Review", "status_category_at": "in_progress", "is_started": 1, "is_done": 0,
        "age_workdays": 9,          # Fri 1 Mar .. Wed 13 Mar
        "active_workdays": 8,       # Mon 4 Mar .. Wed 13 Mar
        "status_workdays": 3,       # In Review since Mon 11 Mar
        "days_to_due": 2,           # due Fri 15 Mar
        "status_changes_n": 2, "reopen_n": 0, "comments_n": 2,
        "worklog_hours": 7.5,       # 4 + 2.5 + 1 logged exactly at as_of
        "worklog_to_estimate": 0.75,
        "assignee_wip": 1,          # T4; T1 itself excluded, T5 not started
        "assignee_resolved_n": 2, "assignee_on_time_rate": 0.5,  # T2 on time, T3 late
        "reporter_reported_n": 4,   # T1, T2, T3, T6
        "reporter_resolved_n": 3, "reporter_delay_rate": pytest.approx(1 / 3),
        "blockers_n": 2, "blockers_open_n": 1,  # T7 open, T8 resolved 8 Mar
        "blocking_n": 1,            # T9 (relates does not count)
        "subtasks_n": 1, "subtasks_open_n": 1,
        "team_resolved_n": 4,       # cycles 3, 5, 10, 17
        "team_cycle_p50": 7.5, "team_cycle_p85": pytest.approx(13.85),
        "age_to_p50": pytest.approx(8 / 7.5),
    }
    for name, value in expected.items():
        assert t1[name] == value, name

    t6 = frame.row(2, named=True)
    assert (t6["status_at"], t6["status_category_at"], t6["reopen_n"], t6["is_done"]) == ("Done", "done", 1, 1)
    t7 = frame.row(3, named=True)  # no history: status from its stamps
    assert (t7["status_at"], t7["status_category_at"], t7["is_started"], t7["status_workdays"]) == (None, "todo", 0, 20)
    t2_early = frame.row(4, named=True)  # 7 Feb: T2 in progress, nothing resolved yet in P
    assert (t2_early["status_category_at"], t2_early["active_workdays"], t2_early["team_resolved_n"]) == (
        "in_progress", 3, 0)
    assert t2_early["team_cycle_p50"] is None and t2_early["assignee_on_time_rate"] is None
    t1_before_start = frame.row(5, named=True)  # one second before the first status change
    assert (t1_before_start["status_category_at"], t1_before_start["status_changes_n"],
            t1_before_start["comments_n"], t1_before_start["assignee_wip"]) == ("todo", 0, 0, 0)
    unknown = frame.row(6, named=True)
    assert unknown["task_id"] == "t:nope" and unknown["type_category"] is None and unknown["comments_n"] == 0


def test_schema_and_declared_columns(warehouse):
    con = warehouse(story())
    frame = build_features(con, QUERY, WEEKENDS_ONLY)
    assert set(NUMERIC_FEATURES) <= set(frame.columns)
    for name in NUMERIC_FEATURES:
        assert frame.schema[name].is_numeric(), name
    assert frame.schema["labels"] == pl.List(pl.String)
    assert {"priority", "labels", "components", "due_date", "estimate_hours", "story_points", "assignee_id",
            "task_links"} <= set(SNAPSHOT_FIELDS)


def test_as_of_validation_and_time_zones(warehouse):
    con = warehouse(story())
    with pytest.raises(ValueError, match="as_of"):
        build_features(con, pl.DataFrame({"task_id": ["t:T1"]}), WEEKENDS_ONLY)
    with pytest.raises(ValueError, match="missing"):
        build_features(con, pl.DataFrame({"task_id": ["t:T1"], "as_of": [None]},
                                         schema={"task_id": pl.String, "as_of": pl.Datetime("us")}), WEEKENDS_ONLY)
    aware = QUERY.head(1).with_columns(pl.col("as_of").dt.replace_time_zone("UTC").dt.convert_time_zone("Asia/Shanghai"))
    assert_identical(build_features(con, QUERY.head(1), WEEKENDS_ONLY), build_features(con, aware, WEEKENDS_ONLY))
    empty = build_features(con, QUERY.head(0), WEEKENDS_ONLY)
    assert empty.height == 0 and set(NUMERIC_FEATURES) <= set(empty.columns)


def test_status_names_known_only_from_history_get_a_category(warehouse):
    con = warehouse(story())
    mapping = status_category_map(con)
    assert mapping["In Review"] == "in_progress"
    assert mapping["Reopened"] == "todo"
    assert mapping["Done"] == "done"


# ------------------------------------------------------------------ leakage: mutation

def test_rows_stamped_after_as_of_change_nothing(warehouse):
    con = warehouse(story())
    before = build_features(con, QUERY, WEEKENDS_ONLY)
    load(con, future_rows())
    after = build_features(con, QUERY, WEEKENDS_ONLY)
    assert_identical(before, after)


def test_control_a_row_stamped_before_as_of_does_change_features(warehouse):
    """The mutation test can fail: the same kind of edit, stamped one second before as_of, shows."""
    con = warehouse(story())
    before = build_features(con, QUERY, WEEKENDS_ONLY)
    load(con, {"comments": [comment("early", "T1", d("2024-03-13 11:59:59"))]})
    after = build_features(con, QUERY, WEEKENDS_ONLY)
    assert after.get_column("comments_n")[0] == before.get_column("comments_n")[0] + 1
    load(con, {"status_changes": [change("T4", 9, d("2024-03-13 11:59:59"), "In Progress", "Done")]})
    assert build_features(con, QUERY, WEEKENDS_ONLY).get_column("assignee_wip")[0] == 0


# ------------------------------------------------------------------ leakage: truncation

def random_company(seed: int, n_tasks: int = 240) -> Rows:
    """A random two-project company with histories, reopens, tool-less items, links and sub-tasks."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1)
    people = [f"p{i}" for i in range(6)]
    rows: Rows = {"tasks": [], "status_changes": [], "comments": [], "worklogs": [], "task_links": []}
    created_of: dict[str, datetime] = {}
    for i in range(n_tasks):
        key = f"R{i}"
        created = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 150))
        created_of[key] = created
        with_history = rng.random() < 0.75
        steps: list[tuple[datetime, str]] = []
        t = created
        started = resolved = None
        status, category = ("To Do", "todo") if with_history else ("open", "todo")
        if with_history:
            plan = ["In Progress", "In Review", "Done"]
            if rng.random() < 0.2:
                plan += ["Reopened", "In Progress", "Done"]
            for name in plan[: rng.randint(0, len(plan))]:
                t += timedelta(minutes=rng.randrange(30, 60 * 24 * 12))
                steps.append((t, name))
            for n, (at, name) in enumerate(steps):
                rows["status_changes"].append(change(key, n, at, steps[n - 1][1] if n else "To Do", name))
            categories = {"In Progress": "in_progress", "In Review": "in_progress", "Done": "done", "Reopened": "todo"}
            ip = [at for at, name in steps if categories[name] == "in_progress"]
            started = ip[0] if ip else None
            if steps:
                status, category = steps[-1][1], categories[steps[-1][1]]
                resolved = steps[-1][0] if category == "done" else None
        else:
            if rng.random() < 0.6:
                resolved = created + timedelta(minutes=rng.randrange(60, 60 * 24 * 30))
                status, category = "closed", "done"
        parent = None
        if i > 10 and rng.random() < 0.15:
            parent = f"t:R{rng.randrange(0, i)}"
            if created_of[parent[2:]] > created:
                parent = None
        rows["tasks"].append(task(
            key, created, project_key=rng.choice(["P", "Q"]),
            type_category=rng.choice(["task", "bug", "feature", "subtask", "epic"]),
            priority=rng.choice(["High", "Medium", "Low", None]),
            assignee_id=rng.choice(people + [None]), reporter_id=rng.choice(people),
            due_date=(created + timedelta(days=rng.randrange(1, 40))).date() if rng.random() < 0.8 else None,
            estimate_hours=rng.choice([None, 2.0, 8.0, 16.0]), labels=rng.sample(["a", "b", "c"], rng.randint(0, 2)),
            status=status, status_category=category, started_at=started, resolved_at=resolved,
            updated_at=max([created] + [at for at, _ in steps]), parent_task_id=parent,
        ))
        for n in range(rng.randint(0, 4)):
            rows["comments"].append(comment(f"{key}c{n}", key, created + timedelta(minutes=rng.randrange(0, 60 * 24 * 40))))
        for n in range(rng.randint(0, 4)):
            rows["worklogs"].append(worklog(f"{key}w{n}", key, created + timedelta(minutes=rng.randrange(0, 60 * 24 * 40)),
                                            rng.choice([0.25, 0.5, 1.0, 1.5, 3.7, 8.0])))
    for _ in range(n_tasks // 2):
        a, b = rng.sample(range(n_tasks), 2)
        rows["task_links"].append(link(f"R{a}", f"R{b}", rng.choice(["blocks", "depends_on", "relates"])))
    return rows


TRUNCATE_SQL = """
WITH last AS (
    SELECT task_id, to_status, changed_at FROM src_status_changes WHERE changed_at <= $as_of
    QUALIFY row_number() OVER (PARTITION BY task_id ORDER BY changed_at DESC, change_id DESC) = 1
),
last_done AS (
    SELECT s.task_id, max(s.changed_at) AS at FROM src_status_changes s JOIN smap m ON m.name = s.to_status
    WHERE s.changed_at <= $as_of AND m.category = 'done' GROUP BY s.task_id
),
history AS (SELECT DISTINCT task_id FROM src_status_changes WHERE changed_at <= $as_of)
SELECT t.* REPLACE (
    CASE WHEN l.task_id IS NOT NULL THEN l.to_status
         WHEN t.resolved_at <= $as_of THEN t.status ELSE 'Was Open' END AS status,
    CASE WHEN l.task_id IS NOT NULL THEN m.category
         WHEN t.resolved_at <= $as_of THEN t.status_category ELSE 'todo' END AS status_category,
    CASE WHEN t.started_at <= $as_of THEN t.started_at END AS started_at,
    CASE WHEN h.task_id IS NOT NULL THEN CASE WHEN m.category = 'done' THEN ld.at END
         WHEN t.resolved_at <= $as_of THEN t.resolved_at END AS resolved_at,
    CASE WHEN t.resolved_at <= $as_of THEN t.resolution END AS resolution,
    least(t.updated_at, $as_of) AS updated_at,
    NULL::DOUBLE AS spent_hours
)
FROM src_tasks t
LEFT JOIN last l USING (task_id)
LEFT JOIN smap m ON m.name = l.to_status
LEFT JOIN last_done ld USING (task_id)
LEFT JOIN history h USING (task_id)
WHERE t.created_at <= $as_of
"""


def as_it_was(source: duckdb.DuckDBPyConnection, as_of: datetime) -> duckdb.DuckDBPyConnection:
    """The warehouse as a sync at ``as_of`` would have left it, in a new in-memory database.

    Rows stamped later are dropped, tasks created later are dropped (with their links),
    and the current-state fields of the remaining tasks are rewound to ``as_of``.
    """
    target = duckdb.connect()
    target.execute("SET TimeZone = 'UTC'")
    apply_migrations(target)
    for table in ("tasks", "status_changes", "comments", "worklogs", "task_links"):
        target.register(f"src_{table}", source.sql(f"SELECT * FROM {table}").to_arrow_table())
    mapping = status_category_map(source)
    target.register("smap", pl.DataFrame({"name": list(mapping), "category": list(mapping.values())}).to_arrow())
    params = {"as_of": as_of}
    target.execute(f"INSERT INTO tasks BY NAME {TRUNCATE_SQL}", params)
    target.execute("""INSERT INTO status_changes SELECT * FROM src_status_changes
                      WHERE changed_at <= $as_of AND task_id IN (SELECT task_id FROM tasks)""", params)
    target.execute("""INSERT INTO comments SELECT * FROM src_comments
                      WHERE created_at <= $as_of AND task_id IN (SELECT task_id FROM tasks)""", params)
    target.execute("""INSERT INTO worklogs SELECT * FROM src_worklogs
                      WHERE started_at <= $as_of AND (task_id IS NULL OR task_id IN (SELECT task_id FROM tasks))""",
                   params)
    target.execute("""INSERT INTO task_links SELECT * FROM src_task_links
                      WHERE from_task_id IN (SELECT task_id FROM tasks) AND to_task_id IN (SELECT task_id FROM tasks)""")
    return target


def check_truncation(con: duckdb.DuckDBPyConnection, as_of: datetime, calendar: WorkCalendar) -> int:
    """Features of every task existing at ``as_of``: today's warehouse == the warehouse as it was."""
    pairs = pl.from_arrow(con.sql(
        "SELECT task_id, $as_of::TIMESTAMP AS as_of FROM tasks WHERE created_at <= $as_of ORDER BY task_id",
        params={"as_of": as_of}).to_arrow_table())
    assert pairs.height > 0
    today = build_features(con, pairs, calendar)
    past = as_it_was(con, as_of)
    try:
        then = build_features(past, pairs, calendar)
    finally:
        past.close()
    assert_identical(today, then)
    return pairs.height


@pytest.mark.parametrize("seed", [1, 2])
def test_features_equal_those_of_the_warehouse_as_it_was(warehouse, seed):
    con = warehouse(random_company(seed))
    for as_of in (d("2024-02-10 12:00"), d("2024-04-01 00:00"), d("2024-05-20 17:30")):
        check_truncation(con, as_of, WEEKENDS_ONLY)


def test_a_row_does_not_depend_on_the_other_rows_of_the_batch(warehouse):
    con = warehouse(random_company(3, n_tasks=120))
    pairs = pl.from_arrow(con.sql(
        "SELECT task_id, created_at + INTERVAL 9 DAY AS as_of FROM tasks ORDER BY task_id").to_arrow_table())
    batch = build_features(con, pairs, WEEKENDS_ONLY)
    for index in (0, 37, 119):
        alone = build_features(con, pairs.slice(index, 1), WEEKENDS_ONLY)
        assert_identical(batch.slice(index, 1), alone)


# ------------------------------------------------------------------ the demo company

@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory):
    """The demo company synced by the real pipeline (as tests/test_pipeline_e2e.py does)."""
    from pipelines.cli import run_sync
    from warehouse.db import open_reader

    home = tmp_path_factory.mktemp("lodestar")
    (home / "dagster.yaml").write_text((Path(__file__).resolve().parents[1] / "dagster.yaml").read_text())
    config = write_config(
        home,
        '[warehouse]\npath = "w/warehouse.duckdb"\n\n'
        '[[sources]]\nkind = "demo"\nname = "demo"\nseed = 7\nas_of = "2026-06-15"\n',
    )
    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        settings = load_settings(config)
        out = io.StringIO()
        assert run_sync(settings, None, full=False, out=out) == 0, out.getvalue()
    finally:
        if previous is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous
    with open_reader(settings) as con:
        yield con


@pytest.mark.slow
def test_demo_company_features_are_leak_free(demo_warehouse):
    calendar = WorkCalendar("CN")
    checked = sum(check_truncation(demo_warehouse, as_of, calendar)
                  for as_of in (d("2025-11-03 09:00"), d("2026-02-20 15:00"), d("2026-05-06 03:00")))
    assert checked > 1000
    frame = build_features(demo_warehouse, pl.from_arrow(demo_warehouse.sql(
        "SELECT task_id, TIMESTAMP '2026-03-02 12:00' AS as_of FROM tasks").to_arrow_table()), calendar)
    started = frame.filter(pl.col("is_started") == 1)
    assert started.height > 100
    assert started.get_column("team_cycle_p50").drop_nulls().len() > 0
    assert frame.get_column("comments_n").sum() > 0 and frame.get_column("worklog_hours").sum() > 0


def test_dropped_resolutions_are_not_on_time_or_late_deliveries(warehouse):
    """A Won't Do (by status name) or Duplicate (by resolution) is no evidence of on-time delivery or cycle time."""
    rows = story()
    rows["tasks"] += [
        task("D1", d("2024-02-01 09:00"), assignee_id="alice", reporter_id="rob", due_date=date(2024, 2, 2),
             status="Won't Do", status_category="done", resolved_at=d("2024-02-20 16:00")),
        task("D2", d("2024-02-01 09:00"), assignee_id="alice", reporter_id="rob", due_date=date(2024, 2, 2),
             status="Closed", status_category="done", started_at=d("2024-02-02 10:00"),
             resolved_at=d("2024-02-21 16:00:30"), resolution="Duplicate"),
    ]
    rows["status_changes"] += [change("D1", 1, d("2024-02-20 16:00"), "To Do", "Won't Do"),
                               change("D2", 1, d("2024-02-02 10:00"), "To Do", "In Progress"),
                               change("D2", 2, d("2024-02-21 16:00"), "In Progress", "Closed")]
    con = warehouse(rows)
    t1 = build_features(con, QUERY.head(1), WEEKENDS_ONLY).row(0, named=True)
    assert t1["assignee_on_time_rate"] == 0.5 and t1["reporter_delay_rate"] == pytest.approx(1 / 3)
    assert t1["team_resolved_n"] == 4 and t1["team_cycle_p50"] == 7.5
    assert t1["assignee_resolved_n"] == 4 and t1["reporter_resolved_n"] == 5  # still resolved, out of WIP
    # control: the same two tasks delivered (Done, Fixed) count as late and as cycles
    for row in rows["tasks"][-2:]:
        row.update(status="Done", resolution="Fixed")
    rows["status_changes"][-3]["to_status"] = "Done"
    late = build_features(warehouse(rows), QUERY.head(1), WEEKENDS_ONLY).row(0, named=True)
    assert late["assignee_on_time_rate"] == 0.25 and late["team_resolved_n"] == 6
