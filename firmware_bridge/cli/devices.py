"""``pressureguard devices``: serial ports and tools in reach."""

from __future__ import annotations

import argparse
import json
from typing import Any

from firmware_bridge.sources.serial import list_serial_ports


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register the ``devices`` command."""
    p = sub.add_parser("devices", parents=[common], help="serial ports and tools in reach")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """List serial ports, likely tools first. BLE scanning is not available in this version."""
    ports = list_serial_ports()
    if args.json:
        print(
            json.dumps({"serial": ports, "ble": [], "ble_note": "BLE not supported yet"}, indent=2)
        )
        return 0
    if not ports:
        print("no serial ports found. The simulated tool is always there: sim://")
    for port in ports:
        mark = "*" if port["likely_tool"] else " "
        print(f"{mark} {port['device']:<22} {port['description']}")
    print("Bluetooth LE: not supported by this version yet (connect the tool by USB).")
    return 0
