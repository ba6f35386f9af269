"""``pressureguard record SOURCE``: the headless bridge."""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from calibration.tips import TIPS, pressure_area
from firmware_bridge.bridge import Bridge, LiveState, RecordOptions
from firmware_bridge.errors import PressureGuardError, UsageError
from firmware_bridge.protocol.text import TextOptions
from firmware_bridge.readout import Readout, chosen_unit, readout
from firmware_bridge.sources import SourceOptions
from firmware_bridge.store import Store
from firmware_bridge.units import parse_force, parse_region
from firmware_bridge.zones import JudgedSamples

TEXT_UNITS = ("counts", "g", "kg", "N", "lbf")
ZONE_WORDS = {
    "relaxed": "relaxed",
    "target": "in your range",
    "over": "EASE OFF",
    "danger": "STOP - DANGER",
    "no_signal": "NO SIGNAL",
    "uncalibrated": "uncalibrated",
}


def seconds(text: str) -> float:
    """``--duration``: a finite number of seconds above 0 (argparse says so, exit 2)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"a number of seconds above 0, not {text!r}")
    return value


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """Options that say how to read a source (shared with ``run`` and ``calibrate``)."""
    parser.add_argument(
        "source",
        help="sim://, replay://FILE, /dev/ttyACM0, COM3, a pyserial URL, ble://NAME, "
        "progressor://NAME, auto",
    )
    parser.add_argument("--baud", type=int, default=115200, help="serial baud rate (115200)")
    parser.add_argument(
        "--format", choices=("auto", "binary", "text"), default="auto", help="wire format"
    )
    parser.add_argument("--text-field", type=int, metavar="N", help="take the N-th number")
    parser.add_argument("--text-label", metavar="NAME", help="take the number after NAME:")
    parser.add_argument(
        "--text-unit", choices=TEXT_UNITS, default="counts", help="unit of text numbers"
    )
    add_ble_hci_argument(parser)


def add_ble_hci_argument(parser: argparse.ArgumentParser) -> None:
    """``--ble-hci TRANSPORT``: BLE over bumble on an HCI transport instead of the system stack."""
    parser.add_argument(
        "--ble-hci",
        metavar="TRANSPORT",
        help="Bluetooth through bumble on this HCI transport (usb:0, serial:/dev/ttyUSB0,1000000, "
        "tcp-client:HOST:PORT) instead of the system stack; or PRESSUREGUARD_BLE_HCI",
    )


def source_options(args: argparse.Namespace) -> SourceOptions:
    """SourceOptions from parsed arguments."""
    if args.text_field is not None and args.text_field < 1:
        raise UsageError("--text-field counts from 1 (the first number on the line)")
    text = TextOptions(field=args.text_field, label=args.text_label, unit=args.text_unit)
    return SourceOptions(
        baud=args.baud, fmt=args.format, text=text, ble_hci=getattr(args, "ble_hci", None)
    )


def add_session_arguments(parser: argparse.ArgumentParser) -> None:
    """Whose sessions, where, with which limit, and a raw capture (``record``, ``run``,
    ``bridge``; read back by :func:`bridge_options`)."""
    parser.add_argument("--profile", default="default", help="whose sessions these are")
    parser.add_argument("--region", help="body region, e.g. upper-trapezius:left")
    parser.add_argument(
        "--tip",
        choices=tuple(TIPS),
        help="the tip fitted (its own limits; kPa only for a flat one); default: the tool's own",
    )
    parser.add_argument("--limit", metavar="VALUE", help="comfort limit: 15N, 150kPa, 1.5kgf")
    parser.add_argument("--capture", type=Path, metavar="FILE", help="save the raw bytes (.bin)")
    parser.add_argument(
        "--lsl", action="store_true", help="stream force and zone to Lab Streaming Layer too"
    )


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register the ``record`` command."""
    p = sub.add_parser(
        "record",
        parents=[common],
        help="record a session from a tool (headless bridge)",
        description="Record a session. Ctrl-C, --duration or the end of a replay ends it cleanly.",
    )
    add_source_arguments(p)
    p.add_argument("--duration", type=seconds, metavar="S", help="stop after S seconds")
    add_session_arguments(p)
    p.add_argument("--json", action="store_true", help="print the session summary as JSON")
    p.add_argument("--quiet", action="store_true", help="no live line on the terminal")
    p.set_defaults(func=run)


class _LivePrinter:
    """A status line on stderr in the user's unit, at most 5 times a second, only on a terminal."""

    def __init__(self, unit: str) -> None:
        self._unit = unit
        self._next = 0.0

    def __call__(self, judged: JudgedSamples, live: LiveState) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + 0.2
        shown: Readout = readout(self._unit, live.tip_area_cm2)
        force = f"{shown.number(live.filtered_n):>6} {shown.unit}"
        limit = shown.text(live.limit_n) if live.limit_n else "?"
        hold = f"  hold {live.hold_s:4.0f} s" if live.hold_s else ""
        slow = "  SLOW DOWN" if live.ramp_warning else ""
        word = ZONE_WORDS.get(live.zone, live.zone)
        sys.stderr.write(f"\r{force}  {word:<14} limit {limit}{hold}{slow}   ")
        sys.stderr.flush()


def bridge_options(args: argparse.Namespace, *, record_session: bool) -> RecordOptions:
    """RecordOptions from the source and session options ``record`` and ``bridge`` share.

    A limit in kPa is converted over the chosen tip's area when it is flat and known, else over
    the 1 cm² reference disc.
    """
    tip = TIPS[args.tip] if args.tip else None
    return RecordOptions(
        source=args.source,
        source_options=source_options(args),
        profile=args.profile,
        region=str(parse_region(args.region)) if args.region else None,
        tip=args.tip,
        limit_n=parse_force(args.limit, pressure_area(tip)) if args.limit else None,
        duration_s=getattr(args, "duration", None),
        capture=args.capture,
        lsl=args.lsl,
        record_session=record_session,
    )


def run_until_signalled(bridge: Bridge) -> int | None:
    """Run the bridge; Ctrl-C and SIGTERM end it cleanly (the session is closed, not cut)."""

    def _stop(signum: int, frame: FrameType | None) -> None:
        bridge.stop()

    previous = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return bridge.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run(args: argparse.Namespace) -> int:
    """Run the bridge until Ctrl-C, --duration or the end of the source."""
    options = bridge_options(args, record_session=True)
    with Store.open(args.data_dir) as store:
        quiet = args.quiet or not sys.stderr.isatty()
        printer = None if quiet else _LivePrinter(chosen_unit(store))
        bridge = Bridge(store, options, on_judged=printer)
        session_id = run_until_signalled(bridge)
        if printer is not None:
            sys.stderr.write("\n")
        if bridge.error:
            print(f"pressureguard: {bridge.error}", file=sys.stderr)
        if session_id is None:  # pragma: no cover - `record` always starts its session
            raise PressureGuardError("no session was recorded")
        if args.json:
            print(json.dumps(store.session_summary(session_id), indent=2))
        else:
            print(session_id)
    return 1 if bridge.error else 0
