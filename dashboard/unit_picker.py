"""The one unit picker, in the sidebar of every page: which unit forces are read out in.

The choice is the store setting :data:`firmware_bridge.readout.UNIT_SETTING`, shared with the
command line (``pressureguard units``) and the therapist report; it is saved the moment it is
picked, and a choice made elsewhere (another tab, the command line) shows up on the next run.
Pages read it with :func:`firmware_bridge.readout.chosen_unit`.
"""

from __future__ import annotations

import logging

import streamlit as st

from firmware_bridge.errors import PressureGuardError
from firmware_bridge.readout import (
    DEFAULT_UNIT,
    DISPLAY_UNITS,
    chosen_unit,
    pressure_note,
    save_unit,
)
from firmware_bridge.store import Store

log = logging.getLogger(__name__)

KEY = "pg_unit"


def _save(store: Store) -> None:
    """Store the picked unit at once (a widget callback: runs before the pages do)."""
    try:
        save_unit(store, str(st.session_state[KEY]))
    except PressureGuardError as exc:
        st.session_state["pg_unit_error"] = f"The unit could not be saved: {exc}"


def unit_picker(store: Store) -> str:
    """The picker, in the sidebar; returns the unit in force."""
    try:
        current = chosen_unit(store)
    except PressureGuardError as exc:
        st.sidebar.warning(f"Cannot read the unit setting: {exc}")
        return DEFAULT_UNIT
    st.session_state[KEY] = current  # the store is the truth (another tab or the CLI may change it)
    st.sidebar.selectbox(
        "Show forces in",
        list(DISPLAY_UNITS),
        format_func=lambda key: DISPLAY_UNITS[key].label,
        key=KEY,
        on_change=_save,
        args=(store,),
        help="One setting for every page, the command line and the therapist report.",
    )
    error = st.session_state.pop("pg_unit_error", None)
    if error:
        st.sidebar.error(error)
    note = pressure_note(current)
    if note is not None:
        st.sidebar.caption(f"{note}.")
    return current
