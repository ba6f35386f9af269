"""The page every view shows instead of itself when the store is damaged.

It says what is wrong and where the damaged file was kept, and offers the user's two choices:
save what can be read into a new store (then what was saved and lost, line by line), or start
an empty one (behind a confirmation). Nothing happens until the user chooses.
"""

from __future__ import annotations

import streamlit as st

from dashboard import resources
from firmware_bridge.errors import PressureGuardError, StoreDamagedError

#: Where the last repair's report waits to be shown after the rerun it causes.
REPORT_KEY = "pg_store_repair_report"
CONFIRM_KEY = "pg_store_reset_confirm"


def show_report() -> bool:
    """Show the report of a repair made in this browser session, once; whether there was one."""
    lines = st.session_state.pop(REPORT_KEY, None)
    if not lines:
        return False
    st.success("Your data was saved into a new store.", icon=":material/check:")
    st.markdown("\n".join(f"- {line}" for line in lines))
    return True


def show(exc: StoreDamagedError) -> None:
    """Draw the damaged-store page (the calling page stops after it)."""
    st.title("Your PressureGuard data needs attention")
    st.error(f"The data store {exc.path} {exc.problem}.", icon=":material/error:")
    if exc.kept_at is None:
        st.warning(
            "The damaged file was left where it is: another PressureGuard program (a recording,"
            " another window) may have it open. Stop any recording first; saving what can be"
            " read then moves it aside.",
            icon=":material/warning:",
        )
        st.caption(str(exc))
        _save_button()
        return
    st.markdown(
        f"The damaged file was moved aside and kept as `{exc.kept_at}`. Nothing was deleted,"
        " and nothing is recorded into a new store until you choose:"
    )
    left, right = st.columns(2)
    with left:
        st.subheader("Save what can be read")
        st.caption(
            "Every session, sample, limit, setting and journal entry that still reads back"
            " correctly goes into a new store. You are told exactly what was saved and lost."
        )
        _save_button()
    with right:
        st.subheader("Start an empty store")
        st.caption(
            "Your past sessions, limits and journal will not be in it. The damaged file stays"
            " where it was kept."
        )
        sure = st.checkbox("I understand: start with no past data", key=CONFIRM_KEY)
        if st.button("Start an empty store", disabled=not sure, icon=":material/restart_alt:"):
            try:
                resources.reset_store()
            except PressureGuardError as error:
                st.error(f"Could not start an empty store: {error}")
                return
            st.session_state[REPORT_KEY] = [
                f"An empty store was started; the damaged file stays at {exc.kept_at}."
            ]
            st.rerun()


def _save_button() -> None:
    """The button that saves what can be read into a new store (its report follows)."""
    if st.button("Save what can be read", type="primary", icon=":material/healing:"):
        with st.spinner("Reading the damaged file…"):
            try:
                report = resources.repair_store()
            except PressureGuardError as error:
                st.error(f"Could not repair the store: {error}")
                return
        lines = report.lines() if report is not None else ["The store was intact."]
        st.session_state[REPORT_KEY] = lines
        st.rerun()
