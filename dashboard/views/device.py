"""Device page: the connected tool's details, and choosing the source the bridge reads.

Choosing a source posts a ``source`` command; the bridge switches to it (a serial port, a
Bluetooth tool found by a scan, the built-in simulator ``sim://``, or any source string typed in).
When the bridge reaches Bluetooth through a bumble HCI transport (``PRESSUREGUARD_BLE_HCI``) it
holds that controller, so this page does not scan: it offers the first tool found instead.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import resources
from dashboard.views import common
from firmware_bridge.ble import HCI_ENV
from firmware_bridge.errors import PressureGuardError
from firmware_bridge.sources.serial import list_serial_ports
from firmware_bridge.store import Store

SERIAL = "A serial port (USB)"
SIMULATOR = "The built-in simulated tool"
BLUETOOTH = "A Bluetooth tool"
TYPED = "Another source (type it)"
BLE_SCHEMES = {"pressureguard": "ble://", "progressor": "progressor://"}
BLE_KINDS = {"pressureguard": "PressureGuard tool", "progressor": "Progressor-protocol load cell"}
FIRST_FOUND = {
    "ble://": "The first PressureGuard tool found",
    "progressor://": "The first Progressor-protocol load cell found",
}


def _ports() -> list[dict[str, Any]]:
    try:
        return list_serial_ports()
    except Exception as exc:  # pyserial's port listing fails on odd systems; say so and go on
        st.warning(f"Cannot list the serial ports: {exc}")
        return []


def _port_label(port: dict[str, Any]) -> str:
    likely = " — looks like a PressureGuard tool" if port.get("likely_tool") else ""
    return f"{port['device']} ({port.get('description') or 'no description'}){likely}"


def ble_source(tool: dict[str, Any]) -> str:
    """The source string that finds a scanned tool again (by name where it sent one)."""
    return f"{BLE_SCHEMES[str(tool['kind'])]}{tool.get('name') or tool['address']}"


def _tool_label(tool: dict[str, Any]) -> str:
    rssi = f", signal {tool['rssi']} dBm" if tool.get("rssi") is not None else ""
    return f"**{tool.get('name') or tool['address']}** — {BLE_KINDS[str(tool['kind'])]}{rssi}"


def _scan() -> None:
    """Listen for Bluetooth tools; the result (or the reason there is none) stays in the session."""
    from firmware_bridge.ble.discovery import list_tools  # noqa: PLC0415 - bleak on demand

    try:
        with st.spinner("Listening for Bluetooth tools…"):
            st.session_state["pg_ble_tools"] = list_tools()
        st.session_state.pop("pg_ble_error", None)
    except PressureGuardError as exc:
        st.session_state["pg_ble_tools"] = []
        st.session_state["pg_ble_error"] = str(exc)


def _bluetooth(store: Store, can_switch: bool) -> str:
    """The Bluetooth choice: scan and connect with one click, or (bridge on an HCI transport)
    the first tool found. Returns the source the "Switch" button would use."""
    hci = os.environ.get(HCI_ENV, "").strip()
    if hci:
        st.caption(
            f"The bridge reaches Bluetooth through {hci} and holds that controller, so this page "
            "does not scan. It finds the tool itself when you switch."
        )
        choice = st.radio("Connect to", list(FIRST_FOUND), format_func=FIRST_FOUND.__getitem__,
                          key="pg_ble_first")  # fmt: skip
        name = st.text_input("Its name (optional)", key="pg_ble_name").strip()
        return f"{choice}{name}"
    if st.button("Scan for Bluetooth tools", icon=":material/bluetooth_searching:",
                 key="pg_ble_scan"):  # fmt: skip
        _scan()
    if st.session_state.get("pg_ble_error"):
        st.warning(f"Cannot scan: {st.session_state['pg_ble_error']}")
    tools = st.session_state.get("pg_ble_tools")
    if tools is None:
        st.caption("Switch the tool on, then scan.")
    elif not tools and not st.session_state.get("pg_ble_error"):
        st.info("No Bluetooth tool heard. Is it switched on, and not connected to something else?")
    for i, tool in enumerate(tools or []):
        label, connect = st.columns([4, 1], vertical_alignment="center")
        label.markdown(_tool_label(tool))
        if connect.button("Connect", key=f"pg_ble_connect_{i}", disabled=not can_switch):
            common.post_and_wait(store, "source", {"source": ble_source(tool)})
            st.rerun()
    return ""


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
kinds = [SERIAL, SIMULATOR, BLUETOOTH, TYPED]
ble_now = current.startswith(("ble://", "progressor://"))
kind = st.radio(
    "Read from",
    kinds,
    index=1 if current.startswith("sim://") else 2 if ble_now else 0,
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
elif kind == BLUETOOTH:
    source = _bluetooth(store, state is not None and not waiting)
else:
    source = st.text_input(
        "Source",
        placeholder="/dev/ttyACM0, COM3, ble://PressureGuard-3F2A, sim://?seed=3",
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

st.subheader("Lab Streaming Layer")
st.caption(
    "For research labs: stream the calibrated force, the filtered force and the zone as an LSL "
    "stream named PressureGuard, on LSL's clock, so LabRecorder records it beside EEG or EMG."
)
streaming = bool((state or {}).get("lsl"))
wanted = st.toggle(
    "Stream to LSL", value=streaming, disabled=state is None or waiting, key="pg_lsl"
)
if state is not None and wanted != streaming:
    common.post_and_wait(store, "lsl", {"on": wanted})  # a refusal shows as the page's flash
    st.rerun()
