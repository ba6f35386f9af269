"""Live page: the live view (drawn in the browser from ``/api/live``) and the session controls.

The controls post commands for the bridge (``start_session``, ``stop_session``); the page shows
whether a session is being recorded from the store's live row as of its last run, while the live
view itself shows it continuously.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from calibration.limits import limit_for_tip
from calibration.tips import TIPS, Tip, limit_key, pressure_area, tip_in_use
from dashboard import resources
from dashboard.components import live_view
from dashboard.views import common
from firmware_bridge.errors import PressureGuardError, UsageError
from firmware_bridge.readout import chosen_unit, describe
from firmware_bridge.store import Store

NEW_PROFILE = "➕ New profile…"


def _profiles(store: Store) -> list[str]:
    try:
        names = [p["name"] for p in store.list_profiles()]
    except PressureGuardError:
        names = []
    return names or ["default"]


def _limit_hint(
    store: Store, profile: str, region: str | None, tip: Tip | None, preset: float | None
) -> str:
    """Which comfort limit a session started now will use: the bridge's own rule."""
    try:
        limit_n, basis = limit_for_tip(store, profile, region, preset, tip)
        shown = describe(limit_n, chosen_unit(store), pressure_area(tip))
    except (PressureGuardError, UsageError) as exc:
        return f"The comfort limit cannot be looked up: {exc}"
    if preset is not None:
        return f"This session will use **{shown}**, set when PressureGuard was started."
    if basis.startswith("your"):
        return f"Your comfort limit here: **{shown}** ({basis})."
    return (
        f"No limit of your own here yet: the shipped conservative default applies, "
        f"**{shown}** ({basis})."
    )


def _tip_choice(state: dict[str, Any]) -> Tip | None:
    """The tip for the session: the tool's own (when it reports one) or one from the library."""
    tool_area = state.get("tool_tip_area_cm2")
    own = tip_in_use(None, tool_area)
    own_words = own.label if own else "not sure / another tip (force only, no kPa)"
    keys = ["", *TIPS]
    current = state.get("tip") or ""
    key = st.selectbox(
        "Tip on the tool",
        keys,
        index=keys.index(current) if current in keys else 0,
        format_func=lambda k: TIPS[k].label if k else own_words,
        key="pg_tip",
        help=(
            "Limits are kept per tip, and pressure (kPa) is shown only for a flat tip of known "
            "area: under a knob or a ball the contact grows as you press."
        ),
    )
    return tip_in_use(key or None, tool_area)


def _start_form(store: Store, state: dict[str, Any] | None) -> None:
    profiles = _profiles(store)
    current = (state or {}).get("profile")
    index = profiles.index(current) if current in profiles else 0
    profile = st.selectbox("Profile", [*profiles, NEW_PROFILE], index=index, key="pg_profile")
    if profile == NEW_PROFILE:
        profile = st.text_input("New profile name", key="pg_new_profile").strip()
    slug = st.selectbox(
        "Body region",
        [None, *resources.REGIONS],
        format_func=lambda r: "No particular region" if r is None else resources.region_label(r),
        key="pg_region",
    )
    side = st.radio("Side", resources.SIDES, horizontal=True, key="pg_side", disabled=slug is None)
    region = resources.region_value(slug, side)
    tip = _tip_choice(state or {})
    if profile:
        preset = (state or {}).get("preset_limit_n")
        st.caption(_limit_hint(store, profile, region, tip, preset))
    pain = st.select_slider(
        "Pain right now (0 = none, 10 = worst imaginable)",
        options=common.PAIN_OPTIONS,
        value="not rated",
        key="pg_pain_before",
    )
    no_bridge = state is None
    if st.button(
        "Start session",
        type="primary",
        icon=":material/play_arrow:",
        disabled=no_bridge or not profile or common.pending() is not None,
        width="stretch",
        key="pg_start",
    ):
        args = {
            "profile": profile,
            "region": region,
            "tip": limit_key(tip) or "",  # "": the tool's own tip
            "pain_before": common.pain_value(pain),
        }
        if common.post(store, "start_session", args) is not None:
            st.rerun()


def _stop_form(store: Store) -> None:
    pain = st.select_slider(
        "Pain now, after the session (0 = none, 10 = worst imaginable)",
        options=common.PAIN_OPTIONS,
        value="not rated",
        key="pg_pain_after",
    )
    note = st.text_area("Note (optional)", key="pg_note", max_chars=2000, height=90)
    if st.button(
        "Stop session",
        type="primary",
        icon=":material/stop:",
        disabled=common.pending() is not None,
        width="stretch",
        key="pg_stop",
    ):
        args = {"pain_after": common.pain_value(pain), "note": note.strip() or None}
        if common.post(store, "stop_session", args) is not None:
            st.rerun()


def _live_state(store: Store) -> dict[str, Any] | None:
    try:
        return resources.fresh_state(store.get_live())
    except PressureGuardError as exc:
        st.error(f"Cannot read the live status: {exc}")
        return None


def session_panel(store: Store, bridge_was_up: bool) -> None:
    """Start/stop controls, with the outcome of the last request.

    Args:
        store: the store.
        bridge_was_up: whether a bridge ran when the page last ran in full; when that changes,
            or a request is answered, the whole page reruns (and its polling with it).
    """
    common.show_flash()
    state = _live_state(store)
    outcome = common.follow_pending(store)
    if outcome == "done" or (state is not None) != bridge_was_up:
        st.rerun()
    if state is None:
        st.warning(
            "**No bridge is running**, so nothing is measured or recorded. Start PressureGuard "
            "with your tool (`pressureguard run SOURCE`), or try `pressureguard demo`."
        )
        return
    if state.get("recording"):
        st.info(f"**Recording session {state.get('session_id')}**", icon=":material/circle:")
        who = state.get("profile") or "—"
        tip = state.get("tip_label") or "tip not known"
        st.caption(f"Profile {who} · {resources.region_label(state.get('region'))} · {tip}")
        _stop_form(store)
    else:
        st.markdown("**Not recording.** Choose where you will work, then start.")
        _start_form(store, state)
    _zero_button(store, state)


def _zero_button(store: Store, state: dict[str, Any]) -> None:
    """Zero (tare) the tool now; the bridge takes it only unloaded and still."""
    st.divider()
    if st.button(
        "Zero the tool",
        icon=":material/exposure_zero:",
        disabled=common.pending() is not None or not state.get("connected"),
        width="stretch",
        key="pg_zero",
        help="Zero only with nothing on the tool: a load is never zeroed away.",
    ):
        common.post(store, "tare", {})
        st.rerun()
    st.caption(
        "Reads more than 0 with nothing on it? Lay the tool down untouched, then press **Zero**. "
        "The outcome shows under the live reading."
    )


store = common.store_or_stop()
view_col, side_col = st.columns([3, 1.15], gap="large")
with view_col:
    live_view()
    st.caption(
        "Sound needs one click on the page first (Start session or Enable sound). "
        "A PressureGuard tool with a buzzer also warns you by itself, even with this page closed."
    )
with side_col:
    st.subheader("Session")
    bridge_up = _live_state(store) is not None
    # Poll fast while a request is in flight; otherwise slowly, to notice a bridge that starts,
    # stops or dies (the live view above shows that at once anyway).
    idle_every = 5.0 if bridge_up else 3.0
    every = 1.0 if common.pending() is not None else idle_every
    st.fragment(run_every=every)(session_panel)(store, bridge_up)
