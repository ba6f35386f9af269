"""Limits page: whose limits, the safety questions, the comfort limits per region and tip, setting
one by hand, the guided pressure-pain-threshold measurement, progress, and the shipped defaults.

The forms live in :mod:`dashboard.limits_forms`, the measurement in :mod:`dashboard.ppt_guide`,
the progress view in :mod:`dashboard.ppt_progress`; this script lays them out. Only the open tab
runs.
"""

from __future__ import annotations

import streamlit as st

from calibration.defaults import ENDANGERMENT_SITES
from dashboard import limits_forms, ppt_guide, ppt_progress, resources
from dashboard.views import common

TABS = (
    "Measure my threshold",
    "My limits",
    "Set a limit by hand",
    "Progress",
    "Profile & precautions",
    "Shipped defaults",
)
TAB_KEY = "pg_lim_tab"

# Larger words than Streamlit's defaults: the people using this page are often in pain.
st.html(
    "<style>.stMain [data-testid=stMarkdownContainer] p, .stMain [data-testid=stMarkdownContainer]"
    " li, .stMain [data-testid=stTable] td {font-size: 1.12rem}</style>"
)
st.title("Comfort limits")
store = common.store_or_stop()
common.show_flash()

st.warning(
    "**Never press on these places:** "
    + ", ".join(resources.region_label(s).lower() for s in sorted(ENDANGERMENT_SITES))
    + ". A tool pressed there can injure nerves and blood vessels close to the surface, so "
    "PressureGuard offers no limit for them.",
    icon=":material/block:",
)

state, measuring = ppt_guide.live_measurement(store)
preferred = (measuring or state or {}).get("profile")
profile = limits_forms.profile_picker(store, preferred)
if profile is None:
    st.stop()
safety = limits_forms.profile_safety(store, profile)
unit = limits_forms.page_unit(store)  # picked in the sidebar (dashboard/app.py)
st.markdown(limits_forms.ceiling_line(safety, unit))

if TAB_KEY not in st.session_state:
    first = TABS[0] if safety.answered or measuring else "Profile & precautions"
    st.session_state[TAB_KEY] = first
tabs = dict(zip(TABS, st.tabs(TABS, key=TAB_KEY, on_change="rerun"), strict=True))

with tabs["Measure my threshold"]:
    if tabs["Measure my threshold"].open:
        ppt_guide.measure_tab(store, profile, safety, unit)
with tabs["My limits"]:
    if tabs["My limits"].open:
        limits_forms.limits_table(store, profile, safety, unit)
with tabs["Set a limit by hand"]:
    if tabs["Set a limit by hand"].open:
        limits_forms.manual_form(store, profile, safety, unit)
with tabs["Progress"]:
    if tabs["Progress"].open:
        ppt_progress.progress_tab(store, profile, unit)
with tabs["Profile & precautions"]:
    if tabs["Profile & precautions"].open:
        limits_forms.precautions_form(store, profile, safety, unit)
with tabs["Shipped defaults"]:
    if tabs["Shipped defaults"].open:
        limits_forms.defaults_section(unit)

st.caption(
    "Stop and talk to your clinician if you feel numbness, tingling or shooting pain, get dizzy "
    "during neck work, find new bruises, or stay sore for more than a day and a half."
)
