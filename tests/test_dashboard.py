"""Dashboard shell tests: translations, data functions, and the app rendered by AppTest.

AppTest runs the real entrypoint in-process, so these catch tracebacks a
user would see, without a browser. Each test points LODESTAR_CONFIG at its
own temporary config so nothing touches ./data.
"""

from __future__ import annotations

import json
import string
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
import duckdb
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboards import common, data
from dashboards.i18n import DEFAULT_LANG, LANGS, STRINGS, t
from tests.dashboard_app import query_of
from warehouse.db import open_writer, publish
from warehouse.settings import CONFIG_ENV, Settings, load_settings

APP = Path(__file__).resolve().parents[1] / "dashboards" / "streamlit_app.py"
TIMEOUT = 30
AS_OF = date(2026, 3, 31)
DAILY_DAYS = 200
KPI_KEYS = (
    "kpi.projects", "common.tasks", "kpi.completion", "common.overdue_tasks", "kpi.hours_month", "common.open_bugs"
)

KPI_ROWS = [
    # key, name, as_of, total, done, rate, overdue, bugs, hours_total, hours_month, estimate, budget, cost, due
    ("ERP", "ERP 系统上线", AS_OF, 120, 90, 0.75, 7, 4, 3000.0, 412.5, 3200.0, 2_400_000.0, 780_000.0, date(2026, 9, 30)),
    ("MOB", "Mobile app", AS_OF, 80, 20, 0.25, 3, 9, 900.0, 120.0, 1000.0, 900_000.0, 216_000.0, None),
]


def _write_config(directory: Path) -> Path:
    """A lodestar.toml with no sources and its warehouse inside `directory`."""
    config = directory / "lodestar.toml"
    config.write_text(f'[warehouse]\npath = "{(directory / "w.duckdb").as_posix()}"\n', encoding="utf-8")
    return config


def _publish_marts(settings: Settings, kpi_rows: list[tuple], currencies: dict[str, str] | None = None) -> None:
    """Fill both portfolio marts (and `projects` rows with `currencies`) and publish a snapshot, as a sync would."""
    with open_writer(settings) as con:
        con.execute("DELETE FROM mart_project_kpis")
        con.execute("DELETE FROM mart_project_daily")
        con.execute("DELETE FROM projects")
        if currencies:
            con.executemany(
                "INSERT INTO projects (project_key, source, currency) VALUES (?, 'config', ?)", list(currencies.items())
            )
        if kpi_rows:
            # The rows give the mart's first 14 columns; later migrations add counts that default to 0.
            columns = [row[0] for row in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'mart_project_kpis' "
                "ORDER BY ordinal_position").fetchall()][:14]
            con.executemany(f"INSERT INTO mart_project_kpis ({', '.join(columns)}) VALUES ({', '.join('?' * 14)})",
                            kpi_rows)
            daily = [
                (row[0], AS_OF - timedelta(days=offset), 1, 1, 30 + offset % 5, DAILY_DAYS - offset, 6.0)
                for row in kpi_rows
                for offset in range(DAILY_DAYS)
            ]
            con.executemany("INSERT INTO mart_project_daily VALUES (?, ?, ?, ?, ?, ?, ?)", daily)
    publish(settings)


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    """Streamlit caches are process-wide; start every test from empty ones."""
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def empty_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """LODESTAR_CONFIG pointing at a config whose warehouse was never built."""
    config = _write_config(tmp_path)
    monkeypatch.setenv(CONFIG_ENV, str(config))
    return config


@pytest.fixture
def published_settings(empty_config: Path) -> Settings:
    """Settings whose warehouse holds KPI_ROWS and has been published."""
    settings = load_settings(empty_config)
    _publish_marts(settings, KPI_ROWS)
    return settings


def _run(lang: str | None = None) -> AppTest:
    """Render the app, optionally switch the language widget, and fail on any traceback."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    if lang is not None:
        at.radio(key="lang").set_value(lang).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# ------------------------------------------------------------------ i18n


def test_every_key_has_both_languages_with_same_placeholders() -> None:
    assert LANGS[0] == DEFAULT_LANG == "zh"
    for key, entry in STRINGS.items():
        assert set(entry) == set(LANGS), key
        fields = [{name for _, name, _, _ in string.Formatter().parse(entry[lang]) if name} for lang in LANGS]
        assert all(entry[lang].strip() for lang in LANGS), key
        assert all(f == fields[0] for f in fields), key


def test_every_word_is_translated_once() -> None:
    """Two keys with the same Chinese and English are one word: it belongs under one key (common.* when shared)."""
    keys_by_words: dict[tuple[str, ...], list[str]] = {}
    for key, entry in STRINGS.items():
        keys_by_words.setdefault(tuple(entry[lang] for lang in LANGS), []).append(key)
    repeated = {words: keys for words, keys in keys_by_words.items() if len(keys) > 1}
    assert not repeated, repeated


def test_t_rejects_unknown_keys_and_languages() -> None:
    with pytest.raises(KeyError):
        t("no.such.key", "en")
    with pytest.raises(KeyError):
        t("portfolio.title", "fr")


def test_t_formats_and_defaults_to_chinese_outside_a_session() -> None:
    assert t("msg.as_of", "en", as_of="2026-03-31") == "Data as of 2026-03-31"
    assert t("portfolio.title") == STRINGS["portfolio.title"]["zh"]


# ------------------------------------------------------------------ data functions


def test_data_functions_read_the_published_snapshot(published_settings: Settings) -> None:
    kpis = data.portfolio_kpis(query_of(published_settings))
    assert kpis["project_key"].to_list() == ["ERP", "MOB"]

    trend = data.portfolio_trend(query_of(published_settings), days=30)
    assert trend.height == 2 * 30
    assert trend["day"].max() == AS_OF
    assert set(trend["project_name"]) == {"ERP 系统上线", "Mobile app"}
    with pytest.raises(ValueError):
        data.portfolio_trend(query_of(published_settings), days=0)

    totals = data.portfolio_totals(kpis)
    assert (totals.projects, totals.tasks, totals.overdue, totals.open_bugs) == (2, 200, 10, 13)
    assert totals.completion == pytest.approx(110 / 200)
    assert data.metric_values(totals)["kpi.hours_month"] == "532.5 h"


def test_snapshot_key_is_none_until_published_and_changes_on_publish(empty_config: Path) -> None:
    settings = load_settings(empty_config)
    assert data.snapshot_key(settings) is None
    _publish_marts(settings, KPI_ROWS)
    first = data.snapshot_key(settings)
    _publish_marts(settings, KPI_ROWS[:1])
    assert first is not None and data.snapshot_key(settings) not in (None, first)


def test_totals_of_an_empty_portfolio() -> None:
    totals = data.portfolio_totals(pl.DataFrame())
    assert totals.projects == 0 and data.metric_values(totals)["kpi.completion"] == "—"


# ------------------------------------------------------------------ the app


def test_no_published_warehouse_shows_the_friendly_message(empty_config: Path) -> None:
    at = _run()
    assert at.title[0].value == t("portfolio.title", "zh")
    assert len(at.info) == 1 and "make demo" in at.info[0].value and "lodestar sync" in at.info[0].value
    assert at.info[0].value.startswith("还没有已发布的数据仓库")
    assert not at.error and not at.metric and not at.dataframe


def test_snapshot_without_marts_is_a_message_not_a_traceback(empty_config: Path) -> None:
    settings = load_settings(empty_config)
    duckdb.connect(str(settings.warehouse.published_path)).close()
    at = _run("en")
    assert len(at.error) == 1 and at.error[0].value.startswith("Warehouse problem:")


def test_empty_marts_say_so(empty_config: Path) -> None:
    _publish_marts(load_settings(empty_config), [])
    at = _run("en")
    assert [i.value for i in at.info] == [t("msg.no_projects", "en")]


def test_config_error_is_a_message_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nope.toml"
    monkeypatch.setenv(CONFIG_ENV, str(missing))
    from tests.markdown_text import shown

    at = _run()
    assert len(at.error) == 1 and str(missing) in shown(at.error[0].value)


@pytest.mark.parametrize("lang", LANGS)
def test_renders_in_both_languages(published_settings: Settings, lang: str) -> None:
    at = _run(lang)
    assert at.session_state["lang"] == lang
    assert at.title[0].value == t("portfolio.title", lang)
    assert [m.label for m in at.metric] == [t(key, lang) for key in KPI_KEYS]
    chart = at.get("vega_lite_chart")
    assert len(chart) == 1
    spec = json.loads(chart[0].proto.spec)
    assert spec["title"] == t("chart.trend_title", lang)
    assert spec["encoding"]["x"]["title"] == t("common.date", lang)


def test_published_warehouse_shows_real_numbers(published_settings: Settings) -> None:
    at = _run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        t("kpi.projects", "zh"): "2",
        t("common.tasks", "zh"): "200",
        t("kpi.completion", "zh"): "55%",
        t("common.overdue_tasks", "zh"): "10",
        t("kpi.hours_month", "zh"): "532.5 h",
        t("common.open_bugs", "zh"): "13",
    }
    table = at.dataframe[0].value
    assert table["project_name"].tolist() == ["ERP 系统上线", "Mobile app"]
    assert table["completion_rate"].tolist() == [0.75, 0.25]
    assert table["budget"].tolist() == ["¥2,400,000", "¥900,000"]
    assert table["cost_to_date"].tolist() == ["¥780,000", "¥216,000"]
    assert not at.info and not at.error


@pytest.mark.parametrize("lang", LANGS)
def test_money_is_shown_in_each_projects_currency(empty_config: Path, lang: str) -> None:
    _publish_marts(load_settings(empty_config), KPI_ROWS, currencies={"ERP": "CNY", "MOB": "USD"})
    at = _run(lang)
    table = at.dataframe[0].value.set_index("project_key")
    assert "¥" in table.loc["ERP", "budget"] and "$" not in table.loc["ERP", "budget"]
    assert "$" in table.loc["MOB", "budget"] and "¥" not in table.loc["MOB", "budget"]
    assert table.loc["MOB", "cost_to_date"] == common.format_money(216_000.0, "USD", lang)
    assert table.loc["MOB", "budget"].endswith("900,000")


def test_format_money_writes_the_currency_the_readers_way() -> None:
    assert [common.format_money(2_400_000.4, "CNY", lang) for lang in LANGS] == ["¥2,400,000", "CN¥2,400,000"]
    assert [common.format_money(900_000.0, "USD", lang) for lang in LANGS] == ["US$900,000", "$900,000"]
    assert common.format_money(5.0, None, "zh") == common.format_money(5.0, " cny ", "zh") == "¥5"
    assert common.format_money(None, "USD", "en") == "—"


def test_a_new_publish_shows_on_the_next_rerun(published_settings: Settings) -> None:
    at = _run()
    assert at.metric[0].value == "2"
    _publish_marts(published_settings, KPI_ROWS[:1])
    at.run()
    assert not at.exception
    assert at.metric[0].value == "1"
    assert at.dataframe[0].value["project_key"].tolist() == ["ERP"]


# ------------------------------------------------------------------ health light


def test_health_is_the_worst_signal_with_every_reason() -> None:
    due = date(2027, 2, 1)
    row = {"due_date": due, "finish_p85": due + timedelta(days=30), "spi": 0.9, "cpi": 1.1,
           "budget_used": 0.5, "tasks_total": 100, "overdue_tasks": 2}
    health = data.project_health(row)
    assert health.light == "red"
    assert [key for key, _ in health.reasons] == ["health.slip", "health.spi"]
    assert health.reasons[0][1]["days"] == 30

    mild = data.project_health({**row, "finish_p85": due + timedelta(days=3), "spi": 0.97})
    assert mild.light == "amber" and [k for k, _ in mild.reasons] == ["health.slip"]

    fine = data.project_health({**row, "finish_p85": due, "spi": 1.0})
    assert fine.light == "green" and fine.reasons == (("health.ok", {}),)

    assert data.project_health({"tasks_total": 10, "overdue_tasks": 0}).light == "unknown"
    assert data.project_health({**row, "finish_p85": None, "spi": None, "budget_used": 1.2}).light == "red"


@pytest.mark.parametrize("lang", LANGS)
def test_portfolio_on_the_demo_shows_indices_forecast_and_reasons(demo_app: Settings, lang: str) -> None:
    from tests.dashboard_app import run_page

    at = run_page("app_pages/portfolio.py", lang)
    table = at.dataframe[0].value.set_index("project_key")
    with duckdb.connect(str(demo_app.warehouse.published_path), read_only=True) as con:
        expected = con.sql(
            "SELECT e.project_key, e.spi, e.cpi, f.finish_p85, f.due_date FROM earned_value e "
            "JOIN project_forecasts f USING (project_key)"
        ).fetchall()
    assert expected
    for key, spi, cpi, p85, due in expected:
        for column, value in (("spi", spi), ("cpi", cpi)):
            shown = table.loc[key, column]
            assert (value is None and shown != shown) or shown == pytest.approx(value)
        reason = table.loc[key, "health_reason"]
        if p85 > due:
            assert str((p85 - due).days) in reason and p85.isoformat() in reason
    lights = set(table["health"])
    assert lights <= {f"{data.HEALTH_LIGHTS[k]} {t('health.' + k, lang)}" for k in data.HEALTH_LIGHTS}


def test_trend_chart_keeps_the_busiest_projects() -> None:
    kpis = pl.DataFrame({"project_key": [f"P{i:02d}" for i in range(20)],
                         "tasks_total": [100] * 20, "tasks_done": list(range(20))})
    busiest = data.busiest_projects(kpis, limit=3)
    assert busiest == ["P00", "P01", "P02"]
    assert data.busiest_projects(kpis.head(2)) == ["P00", "P01"]
