"""Placeholder until the standup page lands."""

import streamlit as st

from dashboards.i18n import t

st.title(t("page.standup"))
