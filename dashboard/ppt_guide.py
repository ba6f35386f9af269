"""The Limits page's guided pressure-pain-threshold (PPT) measurement.

The bridge runs the measurement (commands ``ppt_start``, ``ppt_mark``, ``ppt_release``,
``ppt_cancel``; its live state carries ``ppt`` while one exists). This module starts one, mounts
the live threshold panel while it runs (marks are posted with the time of the sample the user
saw), and turns a finished measurement into a comfort limit once the user confirms it: the limit is
``fraction × PPT``, never above the profile's ceiling, stored as "measured" and linked to the stored
measurement. Protocol: CLINICAL.md §7.1; the history is shown by :mod:`dashboard.ppt_progress`.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import streamlit as st

from calibration.guided import ProposedLimit, propose_limit, summary_from_dict
from calibration.ppt import REST_S, TRIALS
from calibration.precautions import ProfileSafety
from dashboard import resources
from dashboard.components.ppt_panel import ppt_panel
from dashboard.limits_forms import (
    LIVE_BRIDGE_S,
    profile_safety,
    region_picker,
    tell_bridge,
    tip_label,
    tip_of,
    tip_picker,
    tip_pressure_area,
)
from dashboard.views import common
from firmware_bridge.errors import PressureGuardError
from firmware_bridge.readout import describe, readout
from firmware_bridge.store import Store

log = logging.getLogger(__name__)

#: How long Start waits for the bridge to accept or refuse the measurement (s).
START_WAIT_S = 3.0
#: How long the page waits for the bridge to show (or drop) the measurement after a command (s).
SHOW_WAIT_S = 2.0

HOW_TO = """
1. Sit or lie relaxed. Put the tool on the spot, at a right angle to the skin.
2. Press **slowly and steadily**: follow the dashed line; the gauge says if you go too fast.
3. At the **first moment the pressure turns into pain**, press the **space bar** (or the big
   button, or the tool's own button). Then lift the tool.
4. Rest while the countdown runs. There are three trials; a trial pressed too fast is repeated.
"""


def live_measurement(store: Store) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The running bridge's live state and its measurement, each None when there is none.

    A measurement stays shown through a short hiccup of the bridge (up to 2 s).
    """
    try:
        live = store.get_live()
    except PressureGuardError as exc:
        st.error(f"Cannot read the live status: {exc}")
        return None, None
    age = (live or {}).get("age_s")
    if not live or not isinstance(age, int | float):
        return None, None
    if age > max(LIVE_BRIDGE_S, resources.STALE_AFTER_S):
        return None, None
    state = live.get("state")
    if not isinstance(state, dict):
        return None, None
    ppt = state.get("ppt")
    return state, ppt if isinstance(ppt, dict) else None


def _answer(store: Store, command_id: int, wait_s: float) -> dict[str, Any] | None:
    """The bridge's answer to a command, waiting up to ``wait_s``; None when not answered."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            row = store.get_command(command_id)
        except PressureGuardError:
            return None
        if row.get("done_at"):
            result = row.get("result")
            return result if isinstance(result, dict) else {"ok": True}
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)


def _wait_for_measurement(store: Store, present: bool) -> None:
    """Wait (briefly) until the bridge's live row shows a measurement, or none."""
    deadline = time.monotonic() + SHOW_WAIT_S
    while time.monotonic() < deadline:
        if (live_measurement(store)[1] is not None) == present:
            return
        time.sleep(0.05)


def _post(store: Store, kind: str, args: dict[str, Any]) -> int | None:
    try:
        return store.post_command(kind, args)
    except PressureGuardError as exc:
        st.error(f"Could not send the request to the bridge: {exc}")
        return None


# -- the measurement tab ------------------------------------------------------------------------


def measure_tab(store: Store, profile: str, safety: ProfileSafety, unit: str) -> None:
    """Set up and start a measurement, follow it live, and confirm its limit (forces in the
    user's ``unit``; pressure only on a known flat tip)."""
    state, ppt = live_measurement(store)
    if ppt is None:
        _setup(store, profile, safety, state)
        return
    tip_key = ppt.get("tip")
    area = tip_pressure_area(tip_key)
    st.markdown(
        f"**Measuring {ppt.get('profile')}** · {resources.region_label(ppt.get('region'))} · "
        f"{tip_label(tip_key)}"
    )
    if ppt.get("state") != "done":
        with st.expander("How to measure"):
            st.markdown(HOW_TO)
    ppt_panel(
        on_mark=lambda payload: _on_mark(store, payload),
        on_action=lambda payload: _on_action(store, payload),
        phase="done" if ppt.get("state") == "done" else "running",
        kpa_area_cm2=area,
        unit=unit,
    )
    note = readout(unit, area).note
    if note:
        st.caption(f"{note}: the tip is unknown or rounded.")
    if ppt.get("state") == "done":
        _finished(store, ppt, unit)


def _setup(store: Store, profile: str, safety: ProfileSafety, state: dict[str, Any] | None) -> None:
    st.markdown(
        "Find the pressure where pressing **just starts to hurt** (your pressure-pain "
        "threshold), three times at the same spot, and use it to set your comfort limit there."
    )
    st.markdown(HOW_TO)
    region = region_picker("pg_lim_m", "Where to measure")
    tip_key = tip_picker("pg_lim_m_tip")
    tip = tip_of(tip_key)
    default_pct = round(safety.default_fraction * 100)
    pct = st.select_slider(
        "Your comfort limit will be this share of your threshold",
        options=list(range(50, 101, 5)),
        value=default_pct,
        format_func=lambda v: f"{v} %",
        key=f"pg_lim_m_fraction_{profile}",
    )
    if safety.sensitive and pct > default_pct:
        st.caption(f"Sensitive mode suggests {default_pct} % or less.")
    blocker = None
    if not safety.answered:
        blocker = "Please answer the safety questions first (tab *Profile & precautions*)."
    elif state is None:
        blocker = (
            "**No bridge is running**, so nothing can be measured. Start PressureGuard with your "
            "tool (`pressureguard run SOURCE`)."
        )
    elif state.get("recording"):
        blocker = "A session is recording: stop it on the Live page before measuring."
    if blocker:
        st.warning(blocker)
    if state is None:
        st.fragment(run_every=3.0)(_watch_bridge)()
    if not st.button(
        "Start measuring",
        type="primary",
        icon=":material/play_arrow:",
        disabled=blocker is not None or region is None,
        width="stretch",
        key="pg_lim_m_start",
    ):
        return
    args = {
        "profile": profile,
        "region": region,
        "tip": tip_key,
        "tip_area_cm2": tip.area_cm2 if tip is not None else None,
        "fraction": pct / 100,
        "rest_s": REST_S,
    }
    command_id = _post(store, "ppt_start", args)
    if command_id is None:
        return
    result = _answer(store, command_id, START_WAIT_S)
    if result is None:
        st.warning("The bridge has not answered yet; the measurement appears here once it starts.")
        return
    if not result.get("ok", True):
        st.error(f"The measurement could not start: {result.get('error', 'no reason given')}")
        return
    log.info("PPT measurement started: %s", args)
    _wait_for_measurement(store, present=True)
    st.rerun()


def _watch_bridge() -> None:
    """While no bridge runs: redraw the page as soon as one does."""
    try:
        state = live_measurement(resources.get_store())[0]
    except PressureGuardError:
        return
    if state is not None:
        st.rerun(scope="app")


def _on_mark(store: Store, payload: Any) -> None:
    """Post "it starts to hurt" at the session time of the newest sample the panel had shown."""
    t = payload.get("t") if isinstance(payload, dict) else None
    args = {"t": float(t)} if isinstance(t, int | float) and math.isfinite(t) else {}
    try:
        store.post_command("ppt_mark", args)
    except PressureGuardError as exc:
        common.flash("error", f"The mark could not be sent: {exc}")
        return
    log.info("PPT mark at t=%s (%s)", args.get("t"), payload)


def _on_action(store: Store, payload: Any) -> None:
    kind = payload.get("kind") if isinstance(payload, dict) else None
    command = {"release": "ppt_release", "cancel": "ppt_cancel"}.get(str(kind))
    if command is None:
        log.warning("threshold panel: unknown action %r", payload)
        return
    try:
        command_id = store.post_command(command, {})
    except PressureGuardError as exc:
        common.flash("error", f"The request could not be sent: {exc}")
        return
    if command == "ppt_cancel":  # show the setup form at once, not the old measurement
        _answer(store, command_id, SHOW_WAIT_S)
        _wait_for_measurement(store, present=False)


def _close(store: Store) -> None:
    """Dismiss the finished measurement on the bridge and redraw the page."""
    command_id = _post(store, "ppt_cancel", {})
    if command_id is not None:
        _answer(store, command_id, SHOW_WAIT_S)
        _wait_for_measurement(store, present=False)
    st.rerun()


def _stored(store: Store, ppt: dict[str, Any]) -> dict[str, Any] | None:
    ppt_id = ppt.get("ppt_id")
    if ppt_id is None:
        return None
    try:
        rows = store.ppt_history(str(ppt["profile"]), str(ppt["region"]), ppt.get("tip"))
    except PressureGuardError:
        return None
    return next((r for r in rows if r["id"] == ppt_id), None)


def proposed_limit(ppt: dict[str, Any], safety: ProfileSafety) -> ProposedLimit | None:
    """The limit a finished measurement proposes (the chosen share of the threshold, lowered to
    the profile's ceiling for the tip), or None without a complete measurement."""
    summary = ppt.get("summary") or {}
    ppt_n = summary.get("ppt_n")
    if not summary.get("complete") or not isinstance(ppt_n, int | float) or ppt_n <= 0:
        return None
    return propose_limit(summary_from_dict(summary), safety, ppt.get("tip_area_cm2"))


def _finished(store: Store, ppt: dict[str, Any], unit: str) -> None:
    profile, region, tip_key = str(ppt["profile"]), str(ppt["region"]), ppt.get("tip")
    area = tip_pressure_area(tip_key)
    limit_shown = readout(unit, area)
    summary = ppt.get("summary") or {}
    safety = profile_safety(store, profile)
    proposal = proposed_limit(ppt, safety)
    if proposal is None:
        st.warning(
            f"Only {summary.get('n', 0)} of {ppt.get('needed', TRIALS)} trials could be used, "
            "so there is no threshold to save. Rest a few minutes, then try again."
        )
        if st.button("Close", key="pg_lim_close"):
            _close(store)
        return
    limit_n, ceiling_n, capped = proposal.limit_n, proposal.ceiling_n, proposal.capped
    shown = describe(float(summary["ppt_n"]), unit, area)
    share = f"{float(summary.get('fraction') or ppt.get('fraction') or 1.0) * 100:.0f} %"
    if capped:
        st.markdown(
            f"{share} of your threshold of {shown} would be above {safety.ceiling_words} "
            f"({limit_shown.text(ceiling_n)} with this tip), so the proposed comfort limit is "
            f"the ceiling: **{limit_shown.text(limit_n)}**."
        )
    else:
        st.markdown(
            f"Proposed comfort limit: {share} of your threshold of {shown}, "
            f"**{limit_shown.text(limit_n)}**."
        )
    stored = _stored(store, ppt)
    if stored is not None and stored.get("limit_id"):
        st.success("This measurement is saved as your comfort limit.", icon=":material/check:")
        if st.button("Close", key="pg_lim_close"):
            _close(store)
        return
    where = resources.region_label(region)
    if st.button(
        f"Use {limit_shown.text(limit_n)} as my comfort limit for {where}",
        type="primary",
        icon=":material/check:",
        width="stretch",
        key="pg_lim_confirm",
    ):
        _confirm(store, ppt, proposal, limit_shown.text(proposal.limit_n))
    if st.button("Don't use it", key="pg_lim_discard"):
        common.flash("info", "Not used as a limit. The measurement stays in your progress history.")
        _close(store)
    st.caption("Every complete measurement is kept for the *Progress* tab, used as a limit or not.")


def _confirm(store: Store, ppt: dict[str, Any], proposal: ProposedLimit, shown: str) -> None:
    profile, region, tip_key = str(ppt["profile"]), str(ppt["region"]), ppt.get("tip")
    limit = round(proposal.limit_n, 2)
    try:
        limit_id = store.set_limit(
            profile, region, limit, "measured", tip=tip_key, note=proposal.note
        )
        if ppt.get("ppt_id") is not None:
            store.link_ppt_limit(int(ppt["ppt_id"]), limit_id)
    except PressureGuardError as exc:
        st.error(f"Could not save the limit: {exc}")
        return
    log.info("measured limit %s/%s = %.2f N (PPT #%s)", profile, region, limit, ppt.get("ppt_id"))
    sent = tell_bridge(store, profile, region, limit, "your measured limit")
    words = f"Saved: {shown} is now your comfort limit for {resources.region_label(region)}."
    common.flash("info", words + (" The tool uses it from now on." if sent else ""))
    _close(store)
