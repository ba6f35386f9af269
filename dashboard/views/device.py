"""Device page: the connected tool's details, and choosing the source the bridge reads.

Choosing a source posts a ``source`` command; the bridge switches to it (a serial port, the
built-in simulator ``sim://``, or any source string typed in).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import resources
from dashboard.views import common
from firmware_bridge.errors import PressureGuardError
from firmware_bridge.sources.serial import list_serial_ports
from firmware_bridge.store import Store

SERIAL = "A serial port (USB)"
SIMULATOR = "The built-in simulated tool"
TYPED = "Another source (type it)"


def _ports() -> list[dict[str, Any]]:
    try:
        return list_serial_ports()
    except Exception as exc:  # pyserial's port listing fails on odd systems; say so and go on
        st.warning(f"Cannot list the serial ports: {exc}")
        return []


def _port_label(port: dict[str, Any]) -> str:
    likely = " — looks like a PressureGuard tool" if port.get("likely_tool") else ""
    return f"{port['device']} ({port.get('description') or 'no description'}){likely}"


def _firmware(store: Store, state: dict[str, Any]) -> str:
    """The tool's firmware version: from the live state if it has one, else as recorded with the
    current or the tool's latest session."""
    if state.get("firmware"):
        return str(state["firmware"])
    try:
        sid = state.get("session_id")
        if sid:
            return str(store.session_summary(int(sid)).get("firmware") or "—")
        device = state.get("device_id")
        for summary in store.list_sessions(limit=50):
            if device and summary.get("device_id") == device and summary.get("firmware"):
                return str(summary["firmware"])
    except PressureGuardError:
        pass
    return "—"


def status_rows(state: dict[str, Any] | None, firmware: str) -> list[tuple[str, str]]:
    """The connection details as (label, value) rows."""
    if state is None:
        return [("Bridge", "not running")]
    return [
        ("Bridge", "running"),
        ("Source", state.get("source") or "—"),
        ("Connection", "connected" if state.get("connected") else "not connected (reconnecting)"),
        ("Device id", state.get("device_id") or "—"),
        ("Firmware", firmware),
        ("Data format", state.get("format") or "—"),
        ("Sample rate", resources.rate(state.get("rate_hz"), state.get("nominal_rate_hz"))),
        ("Battery", resources.battery(state.get("battery_mv"))),
        ("Lost frames", str(state.get("lost_frames", 0))),
        ("Bad frames", str(state.get("bad_frames", 0))),
        ("Calibrated", "yes" if state.get("calibrated") else "no"),
    ]


st.title("Device")
store = common.store_or_stop()
waiting = common.follow_pending(store) == "waiting"
common.show_flash()
try:
    state = resources.fresh_state(store.get_live())
except PressureGuardError as exc:
    st.error(f"Cannot read the live status: {exc}")
    state = None

st.subheader("Connected tool")
firmware = _firmware(store, state) if state else "—"
rows = status_rows(state, firmware)
st.table(
    pd.DataFrame({"": [value for _, value in rows]}, index=[label for label, _ in rows]),
    border="horizontal",
)
if state and state.get("message"):
    st.caption(f"Bridge says: {state['message']}")
st.caption("As of when this page was opened; the Live page shows the connection continuously.")
if state is not None and st.button("Test the tool's buzzer", icon=":material/vibration:"):
    common.post_and_wait(store, "haptic_test", {})
    st.rerun()

st.subheader("Choose the source")
current = str((state or {}).get("source") or "")
kinds = [SERIAL, SIMULATOR, TYPED]
kind = st.radio(
    "Read from",
    kinds,
    index=1 if current.startswith("sim://") else 0,
    key="pg_source_kind",
)
source = ""
if kind == SERIAL:
    ports = _ports()
    if ports:
        port = st.selectbox("Port", ports, format_func=_port_label, key="pg_source_port")
        source = str(port["device"]) if port else ""
    else:
        st.info("No serial ports found. Is the tool plugged in?")
elif kind == SIMULATOR:
    source = "sim://"
    st.caption("A realistic simulated tool, for trying PressureGuard without hardware.")
else:
    source = st.text_input(
        "Source",
        placeholder="/dev/ttyACM0, COM3, sim://?seed=3, replay://capture.bin",
        key="pg_source_text",
    ).strip()
if source and source == current:
    st.caption("The bridge is reading this source now.")
if state and state.get("recording"):
    st.warning("A session is being recorded: switching the source interrupts its live signal.")
if st.button(
    "Switch to this source",
    type="primary",
    disabled=not source or state is None or waiting,
    key="pg_source_switch",
):
    common.post_and_wait(store, "source", {"source": source})
    st.rerun()
if state is None:
    st.caption("Start PressureGuard first (`pressureguard run SOURCE` or `pressureguard demo`).")
