"""Calibrate page: the device calibrations in the store, and which one the connected tool uses.

A tool is "calibrated" when the bridge can turn its raw counts into newtons: with a calibration
stored here for its device id, or with the factory calibration the tool reports itself. Without
either, nothing is judged and the live view says "Uncalibrated".
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import calibrate_wizard, resources
from dashboard.views import common
from firmware_bridge.errors import PressureGuardError
from firmware_bridge.readout import Readout, chosen_unit, force_readout


def _fit_quality(fit: dict[str, Any]) -> str:
    for key in ("r2", "r_squared", "rsquared"):
        value = fit.get(key)
        if isinstance(value, int | float):
            return f"r² {value:.4f}"
    return str(fit.get("method") or "—")


def _noise(fit: dict[str, Any], shown: Readout) -> str:
    value = fit.get("noise_n")
    return shown.text(float(value)) if isinstance(value, int | float) else "—"


def calibrations_table(rows: list[dict[str, Any]], unit: str) -> pd.DataFrame:
    """One row per device: its current calibration (the scale stays per newton, as stored; the
    noise at rest reads in the user's force unit)."""
    noise = force_readout(unit).finer(3)
    return pd.DataFrame(
        {
            "Device": [r["device_id"] for r in rows],
            "Counts per N": [round(float(r["counts_per_n"]), 3) for r in rows],
            "Offset (counts)": [round(float(r["offset_counts"]), 1) for r in rows],
            "Calibrated on": [resources.local_time(r["created_at"]) for r in rows],
            "Fit": [_fit_quality(r.get("fit") or {}) for r in rows],
            "Noise at rest": [_noise(r.get("fit") or {}, noise) for r in rows],
        }
    )


def connected_tool_text(state: dict[str, Any] | None, stored: dict[str, dict[str, Any]]) -> str:
    """Which calibration the connected tool uses, in one sentence (markdown)."""
    if state is None:
        return "No bridge is running, so no tool is connected."
    device = state.get("device_id")
    if not state.get("connected"):
        return "The bridge is running but no tool is connected right now."
    if not device:
        return "A tool is connected but has not told its device id yet."
    # The bridge prefers a stored calibration over the tool's own (calibration.device); a live
    # state that names its calibration source is believed first.
    source = state.get("calibration_source")
    if source is None and state.get("calibrated"):
        source = "stored" if device in stored else "factory"
    if source == "stored" and state.get("calibrated") and device in stored:
        when = resources.local_time(stored[device]["created_at"])
        return f"The connected tool **{device}** uses the **stored calibration** from {when}."
    if state.get("calibrated"):
        if source == "stored":
            return f"The connected tool **{device}** uses a **stored calibration**."
        text = (
            f"The connected tool **{device}** uses its **factory calibration** (it reports its "
            "own counts per newton)"
        )
        return text + ("." if device in stored else "; no calibration of yours is stored for it.")
    return (
        f"The connected tool **{device}** has **no calibration**: its readings are shown as "
        "*Uncalibrated — not judged*, never as safe."
    )


st.title("Calibration")
store = common.store_or_stop()
try:
    rows = store.current_calibrations()
    state = resources.fresh_state(store.get_live())
    unit = chosen_unit(store)
except PressureGuardError as exc:
    st.error(f"Cannot read the calibrations: {exc}")
    st.stop()

stored = {r["device_id"]: r for r in rows}
st.subheader("Connected tool")
calibrated = bool(state and state.get("connected") and state.get("calibrated"))
(st.info if calibrated else st.warning)(connected_tool_text(state, stored))
st.caption("As of when this page was opened; the Live page shows the tool's state continuously.")

calibrate_wizard.show(store, state)

st.subheader("Stored calibrations")
if rows:
    st.dataframe(calibrations_table(rows, unit), hide_index=True, width="stretch")
    try:
        history = [h for r in rows for h in store.calibration_history(r["device_id"])]
    except PressureGuardError as exc:
        history = []
        st.warning(f"Cannot read the calibration history: {exc}")
    if len(history) > len(rows):
        with st.expander("History: every calibration of each tool, newest first"):
            st.dataframe(calibrations_table(history, unit), hide_index=True, width="stretch")
else:
    st.info("No device calibrations are stored yet.")
st.caption(
    "Force = (raw counts − offset) ÷ counts per N. Every session keeps its raw counts, so a "
    "session can be recalculated after a new calibration."
)
