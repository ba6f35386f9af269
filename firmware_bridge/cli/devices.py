"""``pressureguard devices``: serial ports and Bluetooth LE tools in reach."""

from __future__ import annotations

import argparse
import json
from typing import Any

from firmware_bridge.cli.record import add_ble_hci_argument
from firmware_bridge.errors import SourceError
from firmware_bridge.sources.serial import list_serial_ports


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register the ``devices`` command."""
    p = sub.add_parser("devices", parents=[common], help="serial ports and tools in reach")
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-ble", action="store_true", help="list serial ports only (no BLE scan)")
    p.add_argument(
        "--scan-time", type=float, default=4.0, metavar="S", help="how long to listen for BLE (4)"
    )
    add_ble_hci_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """List serial ports (likely tools first) and the BLE tools heard advertising.

    A Bluetooth stack that cannot scan is reported in one line (``ble_error`` in JSON) and the
    serial ports are still listed; the exit code is then 1.
    """
    ports = list_serial_ports()
    tools: list[dict[str, Any]] = []
    ble_error: str | None = None
    if not args.no_ble:
        from firmware_bridge.ble.discovery import list_tools  # noqa: PLC0415 - bleak on demand

        try:
            tools = list_tools(args.ble_hci, max(0.5, args.scan_time))
        except SourceError as exc:
            ble_error = str(exc)
    if args.json:
        out: dict[str, Any] = {"serial": ports, "ble": tools}
        if ble_error:
            out["ble_error"] = ble_error
        print(json.dumps(out, indent=2))
        return 1 if ble_error else 0
    if not ports:
        print("no serial ports found. The simulated tool is always there: sim://")
    for port in ports:
        mark = "*" if port["likely_tool"] else " "
        print(f"{mark} {port['device']:<22} {port['description']}")
    if ble_error:
        print(f"Bluetooth LE: {ble_error}")
        return 1
    if not args.no_ble and not tools:
        print("Bluetooth LE: no PressureGuard or Progressor tool heard advertising.")
    for tool in tools:
        rssi = f"{tool['rssi']} dBm" if tool["rssi"] is not None else "? dBm"
        source = "ble://" if tool["kind"] == "pressureguard" else "progressor://"
        print(f"* {source}{tool['name'] or tool['address']:<24} {tool['address']}  {rssi}")
    return 0
