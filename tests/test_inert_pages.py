"""Source text on the pages (#12): shown as text, never as Markdown or HTML, and clipped to a drawable length.

The demo snapshot's display names, teams, task titles, sprint and project
names, a check-in and a late risk are set to Markdown that would be a live
link, a fetched image and an HTML tag; every page is rendered and nothing
Streamlit renders as Markdown may hold it unescaped, while the names are
still there for the reader. A 100 KB title must make a one-line card.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from dashboards import data, safe_text
from dashboards.common import Problem
from dashboards.logic import kanban as kanban_logic
from dashboards.navigation import PAGES
from tests.dashboard_app import query_of, run_page
from tests.markdown_text import shown
from tests.poison import write_published
from warehouse.db import read_frame, save_edit, utc_now
from warehouse.settings import Settings

EVIL = "[x](http://evil.example) ![i](http://evil.example/p.png) <img src=x>"
# A link or image Markdown would make live, or an HTML tag: not preceded by the escaping backslash.
LIVE_MARKUP = re.compile(r"(?<!\\)\]\(http://evil|(?<!\\)<img")
LONG = "长" * 100_000
PAGE_PATHS = [spec.path for spec in PAGES if spec.path != "app_pages/sql.py"]


def test_markdown_helpers_escape_clip_and_link_only_the_web() -> None:
    escaped = safe_text.markdown(EVIL)
    assert not LIVE_MARKUP.search(escaped) and "http://" not in escaped and shown(escaped) == EVIL
    assert safe_text.markdown("a\nb\u202ec  d") == "a b c d"
    clipped = safe_text.clip(LONG)
    assert len(clipped) == safe_text.DISPLAY_MAX and clipped.endswith("…")
    assert safe_text.markdown_link("K-1", "https://x.example/a b(c)") == "[K\\-1](https://x.example/a%20b%28c%29)"
    assert safe_text.markdown_link("K-1", "javascript:alert(1)") == "K\\-1"
    refused = safe_text.refusal("Not saved", [Problem("standup.err.unknown_person", {"value": EVIL})])
    assert refused.startswith("Not saved\n\n- ") and not LIVE_MARKUP.search(refused) and EVIL in shown(refused)


def _markdown_texts(at) -> list[str]:
    """Everything on the page that Streamlit renders as Markdown."""
    texts = [e.value for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "header",
                                  "subheader") for e in at.get(kind)]
    texts += [e.label for kind in ("metric", "button", "checkbox", "expander", "tab", "radio") for e in at.get(kind)]
    texts += [option for radio in at.radio for option in radio.options]
    return texts


def _poison_markup(settings: Settings) -> None:
    """Display names, teams, titles, sprint and project names as EVIL, a check-in blocked by it and a late risk."""
    write_published(
        settings,
        ("UPDATE people SET display_name = ?, team = ?", [EVIL, EVIL]),
        ("UPDATE tasks SET title = ?", [EVIL]),
        ("UPDATE sprints SET name = ?", [EVIL]),
        ("UPDATE projects SET name = ?", [EVIL]),
    )
    person = read_frame(settings, "SELECT min(person_id) AS p FROM people")["p"][0]
    today = datetime.now(timezone.utc).date()
    now = utc_now()
    save_edit(settings, "standups", {
        "standup_id": f"{person}:{today.isoformat()}", "person_id": person, "day": today, "yesterday": EVIL,
        "today": EVIL, "blockers": EVIL, "created_at": now, "updated_at": now,
    }, "seed")
    save_edit(settings, "risks", {
        "risk_id": "R-EVIL", "project_key": "ERP", "title": EVIL, "category": "technical", "probability": 5,
        "impact": 5, "score": 25, "owner_id": person, "mitigation": EVIL, "contingency": None, "status": "open",
        "due_date": today - timedelta(days=3), "linked_task_ids": [], "created_at": now, "updated_at": now,
        "updated_by": "seed",
    }, "seed")


@pytest.mark.parametrize("page", PAGE_PATHS)
def test_source_markup_is_text_on_every_page(demo_app: Settings, page: str) -> None:
    _poison_markup(demo_app)
    at = run_page(page, "en")
    live = [text for text in _markdown_texts(at) if LIVE_MARKUP.search(text)]
    assert not live, live


def test_the_names_are_still_there_as_text(demo_app: Settings) -> None:
    _poison_markup(demo_app)
    standup = _markdown_texts(run_page("app_pages/standup.py", "en"))
    assert any(EVIL in shown(text) for text in standup), "the form header and the blocker name the person"
    risks = [w.value for w in run_page("app_pages/risks.py", "en").warning]
    assert any(EVIL in shown(text) for text in risks), "the overdue warning names the risk"
    cards = [m.value for m in run_page("app_pages/kanban.py", "en").markdown if m.value.startswith("**")]
    assert cards and all(EVIL in shown(card) for card in cards)


def test_a_100_kb_title_is_a_short_card(demo_app: Settings) -> None:
    query = query_of(demo_app, live_edits=True)
    project = read_frame(demo_app, data.PROJECTS_WITH_TASKS_SQL)["project_key"][0]
    lanes = kanban_logic.lanes(query, project, "sprint", data.as_of(query))
    lane = kanban_logic.default_lane(lanes)
    write_published(demo_app, ("UPDATE tasks SET title = ? WHERE project_key = ? AND coalesce(sprint_id, '') = ?",
                               [LONG, project, lane]))
    at = run_page("app_pages/kanban.py", "en")
    cards = [m.value for m in at.markdown if m.value.startswith("**")]
    assert cards and all(len(card) < 600 for card in cards)
    assert all(safe_text.clip(LONG) in card for card in cards)
    assert max(len(text) for text in _markdown_texts(at)) < 600
