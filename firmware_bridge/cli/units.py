"""``pressureguard units [UNIT]``: the one unit forces are read out in, everywhere.

The choice is a store setting (:data:`firmware_bridge.readout.UNIT_SETTING`) shared by the
command line, the dashboard and the therapist report. Only what people read changes: JSON output
and exports stay in newtons.
"""

from __future__ import annotations

import argparse
from typing import Any

from firmware_bridge.readout import DISPLAY_UNITS, chosen_unit, pressure_note, save_unit
from firmware_bridge.store import Store


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register the ``units`` command."""
    choices = ", ".join(DISPLAY_UNITS)
    p = sub.add_parser(
        "units",
        parents=[common],
        help="show or choose the unit forces are shown in",
        description=(
            "Show the unit forces are shown in, or choose one: "
            f"{choices}. Pressure units need a flat tip of known area."
        ),
    )
    p.add_argument("unit", nargs="?", help=f"the unit to use from now on ({choices})")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the current unit and the choices, or store a new one."""
    with Store.open(args.data_dir) as store:
        current = chosen_unit(store) if args.unit is None else save_unit(store, args.unit)
    what = "now" if args.unit is not None else "are"
    print(f"Forces {what} shown in {DISPLAY_UNITS[current].label}.")
    note = pressure_note(current)
    if note is not None:
        print(f"Note: {note}.")
    if args.unit is None:
        print("Choices:")
        for unit in DISPLAY_UNITS.values():
            mark = "*" if unit.key == current else " "
            print(f"  {mark} {unit.key:<8} {unit.label}")
        print("Choose one with: pressureguard units UNIT")
    return 0
