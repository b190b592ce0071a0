"""Portfolio says what the last syncs could not do before it shows numbers that depend on it."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from dashboards.i18n import LANGS, t
from tests.dashboard_app import run_page
from tests.markdown_text import shown
from warehouse.settings import Settings

PAGE = "app_pages/portfolio.py"


def _poison_snapshot(settings: Settings) -> None:
    con = duckdb.connect(str(settings.warehouse.published_path))
    con.execute("UPDATE sync_state SET failing_since = ?, last_error = ? WHERE source = 'demo'",
                [datetime(2026, 6, 14, 1, 0), "fetch failed: cannot connect to http://jira.corp: connection refused"])
    con.execute("INSERT INTO quarantine (source, kind, stage, item_kind, item_key, field, row_id, reason, "
                "first_seen_at, last_seen_at) VALUES "
                "('demo', 'record', 'parse', 'jira_issue', 'ERP-1', '', '', 'KeyError: id', now(), now()), "
                "('demo', 'field', 'parse', 'jira_issue', 'ERP-2', 'tasks.due_date', 'demo:ERP-2', "
                "'value nulled: 0001-01-01 is before 1900-01-01', now(), now())")
    con.execute("INSERT INTO planning_errors VALUES ('OPS', 'forecast', 'failed', NULL, "
                "'calendar range 2013..2409 is outside 1900..2200', now())")
    con.close()


@pytest.mark.parametrize("lang", LANGS)
def test_a_failing_source_and_set_aside_records_are_said_first(demo_app: Settings, lang: str) -> None:
    clean = run_page(PAGE, lang)
    assert not clean.warning and not clean.expander

    _poison_snapshot(demo_app)
    at = run_page(PAGE, lang)
    [warning] = [shown(w.value) for w in at.warning]
    assert "demo" in warning and "cannot connect to http://jira.corp" in warning
    assert warning.startswith(t("portfolio.source_failing", lang, source="demo", since="", error="", last="")[:6])
    [notes] = at.expander
    assert notes.label == t("portfolio.data_notes", lang, records=1, fields=1, projects=1)
    assert at.metric, "the numbers are still shown"
