"""SQL explorer: read-only checks, running with caps and timeout, downloads, schema docs, saved queries, the page."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import duckdb
import polars as pl
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager

from dashboards.i18n import t
from dashboards.logic import sql as logic
from tests.dashboard_app import query_of, run_page
from warehouse.settings import Settings

PAGE = "app_pages/sql.py"


def _count(settings: Settings, query: str, params: list | None = None) -> int:
    con = duckdb.connect(str(settings.warehouse.published_path), read_only=True)
    try:
        return int(con.execute(query, params or []).fetchall()[0][0])
    finally:
        con.close()


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, Callable[[], bytes]]:
    """Deferred download callables registered by the page, by file name."""
    found: dict[str, Callable[[], bytes]] = {}
    original = MediaFileManager.add_deferred

    def capture(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        found[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", capture)
    return found


# ------------------------------------------------------------------ checking and running


@pytest.mark.parametrize(
    ("sql", "key"),
    [
        ("INSERT INTO tasks (task_id) VALUES ('x')", "sql.error.not_read_only"),
        ("COPY tasks TO 'out.csv'", "sql.error.not_read_only"),
        ("ATTACH 'other.duckdb' AS other", "sql.error.not_read_only"),
        ("PRAGMA table_info('tasks')", "sql.error.not_read_only"),
        ("SET threads = 1", "sql.error.not_read_only"),
        ("DROP TABLE tasks", "sql.error.not_read_only"),
        ("SELECT 1; DELETE FROM tasks", "sql.error.several"),
        ("  -- nothing\n ;", "sql.error.empty"),
        ("SELEC 1", "sql.error.syntax"),
    ],
)
def test_check_refuses_anything_but_one_query(sql: str, key: str) -> None:
    with pytest.raises(logic.QueryRefused) as refused:
        logic.check_query(sql)
    assert refused.value.key == key
    assert t(key, "en", **refused.value.fmt)


def test_check_accepts_queries() -> None:
    for sql in ("SELECT 1", "WITH a AS (SELECT 1) SELECT * FROM a;", "DESCRIBE tasks", "SHOW TABLES", "FROM tasks", "EXPLAIN SELECT 1"):
        assert logic.check_query(sql)


def test_run_returns_rows_caps_and_refuses_file_access(demo_app: Settings) -> None:
    result = logic.run_query(demo_app, "SELECT * FROM tasks WHERE project_key = 'ERP'")
    assert result.frame.height == _count(demo_app, "SELECT count(*) FROM tasks WHERE project_key = 'ERP'")
    assert not result.truncated

    capped = logic.run_query(demo_app, "SELECT * FROM worklogs", row_cap=1_000)
    assert capped.truncated and capped.frame.height == 1_000
    across_batches = logic.run_query(demo_app, "SELECT range AS n FROM range(25000)", row_cap=12_500)
    assert across_batches.truncated and across_batches.frame["n"].to_list() == list(range(12_500))
    exact = logic.run_query(demo_app, "SELECT range AS n FROM range(20000)", row_cap=20_000)
    assert not exact.truncated and exact.frame.height == 20_000

    with pytest.raises(logic.QueryRefused) as refused:
        logic.run_query(demo_app, "SELECT * FROM read_csv('/etc/passwd')")
    assert refused.value.key == "sql.error.file_access"
    with pytest.raises(logic.QueryRefused) as failed:
        logic.run_query(demo_app, "SELECT * FROM no_such_table")
    assert failed.value.key == "sql.error.failed" and "no_such_table" in failed.value.fmt["detail"]
    with pytest.raises(logic.QueryRefused) as stopped:
        logic.run_query(demo_app, "SELECT count(*) FROM range(1000000000000) a", timeout=0.3)
    assert stopped.value.key == "sql.error.timeout"

    odd = logic.run_query(demo_app, "SELECT 1 AS a, 2 AS a, INTERVAL 3 DAY AS i, [1, 2] AS l, NULL AS n")
    assert odd.frame.columns == ["a", "a_2", "i", "l", "n"]
    assert odd.frame["i"].dtype == pl.String


def test_downloads_parse_back(demo_app: Settings) -> None:
    frame = logic.run_query(demo_app, "SELECT task_id, title, labels, due_date, estimate_hours FROM tasks LIMIT 50").frame
    csv = logic.csv_bytes(frame)
    assert csv.startswith(b"\xef\xbb\xbf")
    back = pl.read_csv(io.BytesIO(csv), try_parse_dates=True)
    assert back.height == 50 and back["task_id"].to_list() == frame["task_id"].to_list()
    assert back["title"].to_list() == frame["title"].to_list()
    assert json.loads(back["labels"][0]) == frame["labels"][0].to_list()
    parquet = pl.read_parquet(io.BytesIO(logic.parquet_bytes(frame)))
    assert parquet.equals(frame)


def test_schema_lists_tables_with_documented_columns(demo_app: Settings) -> None:
    schema = logic.schema_columns(query_of(demo_app))
    tasks = schema.filter(pl.col("table_name") == "tasks")
    assert tasks.height == _count(demo_app, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'tasks'")
    meaning = dict(zip(tasks["column_name"], tasks["description"]))
    assert meaning["task_id"].startswith('"<source>:<key>"')
    docs = logic.column_descriptions()
    assert docs["risks"]["probability"] == "1–5"
    assert docs["identities"]["account"].startswith("username")
    assert docs["mart_project_kpis"]["overdue_tasks"] == "not done, due before as_of"
    assert logic.example_for("tasks") == "SELECT * FROM tasks LIMIT 100"
    assert logic.example_for("Odd Name") == 'SELECT * FROM "Odd Name" LIMIT 100'


def test_examples_run_on_the_demo(demo_app: Settings) -> None:
    for name, sql in logic.EXAMPLES.items():
        result = logic.run_query(demo_app, sql)
        assert name == "recent_edits" or result.frame.height > 0, name
        assert t(logic.example_label(name), "zh") and t(logic.example_label(name), "en")


# ------------------------------------------------------------------ saved queries


def test_saved_query_store(demo_app: Settings) -> None:
    path = logic.saved_queries_path(demo_app)
    assert path == demo_app.warehouse.edits_path.with_name("saved_queries.json")
    assert logic.load_saved(path) == []
    first = logic.validate_saved(" ERP tasks ", "SELECT * FROM tasks WHERE project_key = 'ERP'", "ann")
    logic.save_query(path, first)
    with pytest.raises(logic.QueryRefused) as taken:
        logic.save_query(path, logic.validate_saved("ERP tasks", "SELECT 2", "bob"))
    assert taken.value.key == "sql.error.name_taken"
    logic.save_query(path, logic.validate_saved("ERP tasks", "SELECT 2", "bob"), replace=True)
    saved = logic.load_saved(path)
    assert [(q.name, q.sql, q.saved_by) for q in saved] == [("ERP tasks", "SELECT 2", "bob")]
    assert saved[0].saved_at.endswith("+00:00")
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []

    for name, sql, actor, key in [
        ("", "SELECT 1", "ann", "sql.error.name_empty"),
        ("x" * 81, "SELECT 1", "ann", "sql.error.name_long"),
        ("bad", "DELETE FROM tasks", "ann", "sql.error.not_read_only"),
        ("anon", "SELECT 1", " ", "msg.no_actor"),
    ]:
        with pytest.raises(logic.QueryRefused) as refused:
            logic.validate_saved(name, sql, actor)
        assert refused.value.key == key

    assert logic.delete_query(path, "ERP tasks") == []
    with pytest.raises(logic.QueryRefused):
        logic.delete_query(path, "ERP tasks")
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(logic.QueryRefused) as damaged:
        logic.load_saved(path)
    assert damaged.value.key == "sql.error.store"


# ------------------------------------------------------------------ page


def test_page_in_both_languages_runs_a_query_and_downloads(
    demo_app: Settings, downloads: dict[str, Callable[[], bytes]]
) -> None:
    at = run_page(PAGE, "zh")
    assert at.title[0].value == t("sql.title", "zh")
    assert at.selectbox(key="sql_table").value == "tasks"
    at.selectbox(key="sql_table").select("worklogs").run()
    at.button(key="sql_insert").click().run()
    assert at.text_area(key="sql_text").value == "SELECT * FROM worklogs LIMIT 100"
    at.button(key="sql_run").click().run()
    assert not at.exception
    assert at.dataframe[-1].value.shape[0] == 100

    at.radio(key="lang").set_value("en").run()
    assert at.title[0].value == t("sql.title", "en")
    query = "SELECT task_id, title, due_date FROM tasks WHERE type_category = 'bug'"
    at.text_area(key="sql_text").input(query).run()
    at.button(key="sql_run").click().run()
    assert not at.exception and not at.error
    bugs = _count(demo_app, "SELECT count(*) FROM tasks WHERE type_category = 'bug'")
    assert at.dataframe[-1].value.shape == (bugs, 3)
    assert any(caption.value.startswith(f"{bugs:,} rows, 3 columns") for caption in at.caption)
    at.switch_page("app_pages/portfolio.py").run()
    at.switch_page(PAGE).run()
    assert at.text_area(key="sql_text").value == query
    assert at.dataframe[-1].value.shape == (bugs, 3)
    csv = pl.read_csv(io.BytesIO(downloads["lodestar-query.csv"]()))
    parquet = pl.read_parquet(io.BytesIO(downloads["lodestar-query.parquet"]()))
    assert csv.height == parquet.height == bugs
    assert sorted(csv["task_id"].to_list()) == sorted(parquet["task_id"].to_list())


def test_page_refuses_writes_and_file_access_with_a_message(demo_app: Settings) -> None:
    at = run_page(PAGE, "en")
    for statement, message in [
        ("INSERT INTO tasks (task_id) VALUES ('x')", "INSERT statements are not allowed"),
        ("COPY tasks TO '/tmp/out.csv'", "COPY statements are not allowed"),
        ("ATTACH '/tmp/other.duckdb'", "ATTACH statements are not allowed"),
        ("SELECT * FROM read_csv('/etc/passwd')", "cannot read files"),
        ("SELECT * FROM 'data.parquet'", "cannot read files"),
    ]:
        at.text_area(key="sql_text").input(statement).run()
        at.button(key="sql_run").click().run()
        assert not at.exception, statement
        assert len(at.error) == 1 and message in at.error[0].value, statement
    assert _count(demo_app, "SELECT count(*) FROM tasks WHERE task_id = 'x'") == 0


def test_saved_query_round_trip_through_the_page(demo_app: Settings) -> None:
    path = logic.saved_queries_path(demo_app)
    query = "SELECT project_key, count(*) AS tasks FROM tasks GROUP BY 1"
    at = run_page(PAGE, "en")
    at.text_area(key="sql_text").input(query).run()

    at.text_input(key="actor").set_value("").run()
    at.text_input(key="sql_save_name").input("Tasks per project")
    at.button(key="sql_save").click().run()
    assert [w.value for w in at.warning] == [t("msg.no_actor", "en")]
    assert not path.exists()

    at.text_input(key="actor").set_value("ann").run()
    at.text_input(key="sql_save_name").input("Tasks per project")
    at.button(key="sql_save").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [t("msg.saved", "en")]
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert [(q["name"], q["sql"], q["saved_by"]) for q in stored] == [("Tasks per project", query, "ann")]

    at.button(key="sql_save").click().run()
    assert "already exists" in at.error[0].value
    assert len(json.loads(path.read_text(encoding="utf-8"))) == 1

    fresh = run_page(PAGE, "en")
    assert fresh.text_area(key="sql_text").value == ""
    option = "saved:Tasks per project"
    assert any(label.startswith("Tasks per project (ann, ") for label in fresh.selectbox(key="sql_pick").options)
    fresh.selectbox(key="sql_pick").select(option).run()
    fresh.button(key="sql_load").click().run()
    assert fresh.text_area(key="sql_text").value == query
    fresh.button(key="sql_run").click().run()
    projects = _count(demo_app, "SELECT count(DISTINCT project_key) FROM tasks")
    assert fresh.dataframe[-1].value.shape == (projects, 2)

    fresh.button(key="sql_delete").click().run()
    assert "Tick the confirmation box" in fresh.warning[0].value
    assert len(json.loads(path.read_text(encoding="utf-8"))) == 1
    fresh.checkbox(key="sql_delete_confirm").check().run()
    fresh.button(key="sql_delete").click().run()
    assert not fresh.exception
    assert json.loads(path.read_text(encoding="utf-8")) == []
    assert not any(label.startswith("Tasks per project") for label in fresh.selectbox(key="sql_pick").options)


# ------------------------------------------------------------------ bounded: memory bombs and wide rows

STRING_DOUBLING = ("WITH RECURSIVE t(s, n) AS (SELECT 'x', 0 UNION ALL SELECT s || s, n + 1 FROM t WHERE n < 40) "
                   "SELECT max(length(s)) FROM t")
BOMBS = [STRING_DOUBLING, "SELECT list(range) FROM range(400000000)"]
WIDE_ROWS = "SELECT repeat('x', 200000000) AS wide FROM range(20)"


@pytest.fixture
def capped_app(demo_app: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The demo with a 300 MB cap per query, written in its config as an operator would."""
    from warehouse.settings import CONFIG_ENV, load_settings

    config = demo_app.config_path
    config.write_text(config.read_text(encoding="utf-8").replace(
        "[warehouse]\n", '[warehouse]\nreader_memory_limit = "300MB"\nreader_threads = 1\n'), encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(config))
    return load_settings(config)


@pytest.mark.parametrize("bomb", BOMBS)
def test_a_memory_bomb_is_stopped_with_a_message(capped_app: Settings, bomb: str) -> None:
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with pytest.raises(logic.QueryRefused) as refused:
        logic.run_query(capped_app, bomb)
    assert refused.value.key in ("sql.error.memory", "sql.error.failed")
    if refused.value.key == "sql.error.memory":
        assert refused.value.fmt["limit"] == "300MB"
    assert "/" not in str(refused.value).replace("WHERE / LIMIT", ""), "no server paths in the message"
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
    assert grown < 1500, f"the process grew by {grown:.0f} MB under a 300 MB cap"


def test_rows_too_wide_for_arrow_are_a_message_without_server_paths(capped_app: Settings) -> None:
    """4 GB of 200 MB strings: DuckDB holds each row under its cap, Arrow's appender refuses the batch."""
    with pytest.raises(logic.QueryRefused) as refused:
        logic.run_query(capped_app, WIDE_ROWS)
    assert refused.value.key in ("sql.error.memory", "sql.error.failed")
    assert "/" not in str(refused.value).replace("WHERE / LIMIT", "") and "Appender" not in str(refused.value)


def test_results_are_cut_at_about_the_memory_cap(capped_app: Settings) -> None:
    result = logic.run_query(capped_app, "SELECT repeat('x', 10000) AS s FROM range(60000)")
    assert result.truncated and 20_000 < result.frame.height < 60_000


def test_the_page_survives_a_bomb_while_another_session_keeps_working(capped_app: Settings) -> None:
    bombed = run_page(PAGE, "zh")
    bombed.text_area(key="sql_text").input(STRING_DOUBLING).run()
    bombed.button(key="sql_run").click().run()
    assert not bombed.exception
    assert [e.value for e in bombed.error] == [t("sql.error.memory", "zh", limit="300MB")]

    other = run_page(PAGE, "en")
    other.text_area(key="sql_text").input("SELECT count(*) AS n FROM tasks").run()
    other.button(key="sql_run").click().run()
    assert not other.error and not other.exception
    assert other.dataframe[-1].value["n"][0] == _count(capped_app, "SELECT count(*) FROM tasks")
