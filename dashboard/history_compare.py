"""The History page's "Compare" tab: two sessions overlaid on one chart, and their numbers side
by side, with the reminder that one session against another says little on its own."""

from __future__ import annotations

import logging
from typing import Any

import streamlit as st

from dashboard import curve_api, history_list, history_session, history_stats
from firmware_bridge.errors import PressureGuardError
from firmware_bridge.readout import chosen_unit, readout
from firmware_bridge.store import Store
from review.trends import CAVEATS

log = logging.getLogger(__name__)

FIRST_KEY = "pg_hist_compare_first"
SECOND_KEY = "pg_hist_compare"

#: The caveat shown under a comparison (CLINICAL.md §5: single-session changes are noise).
SINGLE_SESSION_CAVEAT = CAVEATS[1]


def default_partner(first: dict[str, Any], others: list[dict[str, Any]]) -> int:
    """The session to compare with by default: the one before it on the same body region,
    else the one before it, else the first listed.

    Args:
        first: the session compared.
        others: the other listed sessions, newest first (not empty).
    """
    older = [s for s in others if s["started_at"] < first["started_at"]]
    for pool in ([s for s in older if s["region"] == first["region"]], older):
        if pool:
            return int(pool[0]["id"])
    return int(others[0]["id"])


def _second(first: dict[str, Any], sessions: list[dict[str, Any]]) -> int | None:
    others = [s for s in sessions if int(s["id"]) != int(first["id"])]
    if not others:
        return None
    by_id = {int(s["id"]): s for s in others}
    if st.session_state.get(SECOND_KEY) not in by_id:
        st.session_state[SECOND_KEY] = default_partner(first, others)
    picked = st.selectbox(
        "Compare with",
        list(by_id),
        format_func=lambda i: history_session.session_label(by_id[i]),
        key=SECOND_KEY,
    )
    return int(picked) if picked is not None else None


def compare_tab(store: Store, sessions: list[dict[str, Any]]) -> None:
    """The whole "Compare" tab.

    Args:
        store: the open store.
        sessions: the listed sessions (the pickers' choices), newest first.
    """
    cols = st.columns(2)
    with cols[0]:
        first_id = history_session.pick(store, sessions, FIRST_KEY, "Session")
    if first_id is None:
        st.info("No session matches the filters.")
        return
    try:
        first = store.session_summary(first_id)
    except PressureGuardError as exc:
        st.error(f"Cannot read session {first_id}: {exc}")
        return
    with cols[1]:
        second_id = _second(first, sessions)
    if second_id is None:
        st.info("There is no other session to compare with. Clear the filters to see more.")
        return
    try:
        second = store.session_summary(second_id)
    except PressureGuardError as exc:
        st.error(f"Cannot read session {second_id}: {exc}")
        return
    st.markdown(
        f"Session **#{first_id}** with session **#{second_id}** overlaid, both from their own "
        "start (time 0)."
    )
    curve_api.warm(first_id)
    curve_api.warm(second_id)
    unit = chosen_unit(store)
    # one axis for both: pressure only when both were pressed with the same flat tip
    area = first["tip_area_cm2"] if first["tip_area_cm2"] == second["tip_area_cm2"] else None
    history_session.curve(
        first_id, compare_id=second_id, key="pg_hist_compare_chart", shown=readout(unit, area)
    )
    table = history_stats.compare_table(
        (first, history_stats.stats_for(store, first)),
        (second, history_stats.stats_for(store, second)),
        unit,
    )
    st.table(table)
    st.info(SINGLE_SESSION_CAVEAT, icon=":material/info:")
    if first["limit_n"] != second["limit_n"]:
        st.caption(
            "The two sessions had different comfort limits, so time over the limit is judged "
            "against a different line in each."
        )
    if history_list.chosen_id() != first_id:
        history_list.remember(first_id)
