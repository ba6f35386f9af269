"""The dashboard's Streamlit script: page config and navigation over ``views/``.

``server.py`` serves this script with the live routes beside it; ``streamlit run
dashboard/app.py`` also works, without the live stream (the live view then shows NO SIGNAL).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import resources
from dashboard.display_mode import display_toggle
from dashboard.unit_picker import unit_picker
from firmware_bridge.errors import PressureGuardError

VIEWS = Path(__file__).resolve().parent / "views"

# An emoji favicon is drawn locally; a Material one would be fetched from the internet.
st.set_page_config(page_title="PressureGuard", page_icon="💆", layout="wide")

pages = [
    st.Page(VIEWS / "live.py", title="Live", icon=":material/monitor_heart:", default=True),
    st.Page(VIEWS / "limits.py", title="Limits", icon=":material/tune:"),
    st.Page(VIEWS / "history.py", title="History", icon=":material/history:"),
    st.Page(VIEWS / "journal.py", title="Journal", icon=":material/edit_note:"),
    st.Page(VIEWS / "calibrate.py", title="Calibrate", icon=":material/scale:"),
    st.Page(VIEWS / "device.py", title="Device", icon=":material/usb:"),
]
page = st.navigation(pages)
try:
    store = resources.get_store()
except PressureGuardError:
    display_toggle(None)  # the focus ring and readable captions all the same
    # every page says so itself; without a store there is no unit to pick
else:
    unit_picker(store)  # in the sidebar of every page, before the page reads the unit
    display_toggle(store)  # large text and high contrast: the CSS for every page
page.run()
