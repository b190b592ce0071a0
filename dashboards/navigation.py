"""The dashboard's pages, in menu order: read by the app and by the browser test and benchmark.

Kept apart from `streamlit_app.py`, which Streamlit runs as a script, so
tools can import the list without starting the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class PageSpec:
    """One navigation entry: script path (relative to this file), i18n title key, icon."""

    path: str
    title_key: str
    icon: str
    default: bool = False


PAGES: tuple[PageSpec, ...] = (
    PageSpec("app_pages/portfolio.py", "page.portfolio", ":material/dashboard:", default=True),
    PageSpec("app_pages/gantt.py", "page.gantt", ":material/view_timeline:"),
    PageSpec("app_pages/kanban.py", "page.kanban", ":material/view_kanban:"),
    PageSpec("app_pages/forecast.py", "page.forecast", ":material/insights:"),
    PageSpec("app_pages/risks.py", "page.risks", ":material/warning:"),
    PageSpec("app_pages/plan.py", "page.plan", ":material/edit_calendar:"),
    PageSpec("app_pages/bugs.py", "page.bugs", ":material/bug_report:"),
    PageSpec("app_pages/hours.py", "page.hours", ":material/schedule:"),
    PageSpec("app_pages/standup.py", "page.standup", ":material/groups:"),
    PageSpec("app_pages/sql.py", "page.sql", ":material/database:"),
    PageSpec("app_pages/alerts.py", "page.alerts", ":material/notifications:"),
)


def url_path(spec: PageSpec) -> str:
    """The page's URL path as Streamlit derives it: the file name, or "" for the default page."""
    return "" if spec.default else PurePosixPath(spec.path).stem
