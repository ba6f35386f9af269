"""History page: past sessions, one session in detail, two compared, and trends over weeks.

The filters (profile, region, dates) sit above the tabs and apply to all of them. The parts live
in :mod:`dashboard.history_list`, :mod:`dashboard.history_session`,
:mod:`dashboard.history_compare`, :mod:`dashboard.trends_view` and
:mod:`dashboard.history_exchange`; this script lays them out. Only the open tab runs.
``/history?session=12`` opens session 12 on the "One session" tab.

The compare and trends tabs are imported only when opened: the trends pull in Altair (~0.1 s),
which a visit to one session should not wait for.
"""

from __future__ import annotations

import streamlit as st

from dashboard import curve_api, history_exchange, history_list, history_session, resources
from dashboard.views import common
from firmware_bridge.errors import PressureGuardError
from firmware_bridge.readout import chosen_unit

TABS = ("Sessions", history_list.SESSION_TAB, history_session.COMPARE_TAB, "Trends")

st.html(
    "<style>.stMain [data-testid=stMarkdownContainer] p, .stMain [data-testid=stMarkdownContainer]"
    " li {font-size: 1.08rem}</style>"
)
st.title("History")
store = common.store_or_stop()
history_list.follow_link()
opened = history_list.chosen_id()
if opened is not None and st.session_state.get(history_list.TAB_KEY) == history_list.SESSION_TAB:
    curve_api.warm(opened)  # its curve is computed while the rest of the page is built
common.show_flash()

filters = history_list.filter_row(store)
try:
    sessions, more = history_list.load_sessions(store, filters)
    live = resources.fresh_state(store.get_live())
except PressureGuardError as exc:
    st.error(f"Cannot read the sessions: {exc}")
    st.stop()
live_session = live.get("session_id") if live and live.get("recording") else None

if history_list.TAB_KEY not in st.session_state:
    st.session_state[history_list.TAB_KEY] = TABS[0]
tabs = dict(zip(TABS, st.tabs(TABS, key=history_list.TAB_KEY, on_change="rerun"), strict=True))

with tabs["Sessions"]:
    if tabs["Sessions"].open:
        if sessions:
            history_list.list_tab(sessions, more, filters, live_session, chosen_unit(store))
        elif filters.narrowed:
            st.info("No session matches the filters.")
        else:
            st.info("No sessions yet. Start one on the Live page; it will be listed here.")
        with st.expander("Import a session file", icon=":material/upload_file:"):
            history_exchange.import_section(store, history_list.choose)
with tabs[history_list.SESSION_TAB]:
    if tabs[history_list.SESSION_TAB].open:
        history_session.session_tab(store, sessions, live_session)
with tabs[history_session.COMPARE_TAB]:
    if tabs[history_session.COMPARE_TAB].open:
        from dashboard import history_compare

        history_compare.compare_tab(store, sessions)
with tabs["Trends"]:
    if tabs["Trends"].open:
        from dashboard import trends_view

        trends_view.trends_tab(store, filters, sessions[0]["profile"] if sessions else None)
