"""Lodestar dashboard entrypoint: page config, language switch, navigation.

Run with `streamlit run dashboards/streamlit_app.py`. Pages are listed in
`dashboards/navigation.py`; adding one is one line there plus its title in `dashboards/i18n.py`.
Streamlit executes this file as a script on every rerun, so the code runs
at top level (it cannot use `if __name__ == "__main__"`).
"""

from __future__ import annotations

import streamlit as st

from dashboards.common import actor_input
from dashboards.i18n import LANG_NAMES, LANGS, SESSION_KEY, t
from dashboards.navigation import PAGES


def _keep_widget_values_across_languages() -> None:
    """Re-assert every keyed widget's value when the language changes.

    A select box reports its choice as the label on screen. Switching
    language changes the labels, so without this the next run would read a
    stale Chinese label as the English widget's value. At callback time the
    values still decode with the previous run's labels; writing them back
    through session state makes Streamlit send them to the browser with the
    new labels. Booleans (checkboxes, buttons, download buttons), editor
    deltas (dicts) and empty values carry no label and are left alone;
    buttons may not be assigned at all.
    """
    for key in list(st.session_state.keys()):
        if key == SESSION_KEY:
            continue
        try:
            value = st.session_state[key]
        except KeyError:
            continue
        if value is None or isinstance(value, (bool, dict)):
            continue
        try:
            st.session_state[key] = value
        except st.errors.StreamlitAPIException:
            pass


def language_switch() -> None:
    """Sidebar 中文 / English switch; its widget key stores the choice in st.session_state["lang"].

    The first option is the default language, so a new session starts in Chinese.
    """
    st.sidebar.radio(
        t("app.language"),
        options=LANGS,
        format_func=LANG_NAMES.__getitem__,
        key=SESSION_KEY,
        horizontal=True,
        on_change=_keep_widget_values_across_languages,
    )


def main() -> None:
    """Configure the page, draw the shared sidebar, then run the selected page."""
    st.set_page_config(page_title="Lodestar", layout="wide")
    language_switch()
    actor_input()
    pages = [st.Page(spec.path, title=t(spec.title_key), icon=spec.icon, default=spec.default) for spec in PAGES]
    st.navigation(pages).run()


main()
