"""``pressureguard ble-sim``: a virtual BLE tool (ours or a Progressor) on a bumble HCI transport.

Try it without hardware::

    python -m bumble.apps.controllers tcp-server:127.0.0.1:9001 tcp-server:127.0.0.1:9002
    pressureguard ble-sim --ble-hci tcp-client:127.0.0.1:9001
    pressureguard run ble:// --ble-hci tcp-client:127.0.0.1:9002
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

from firmware_bridge.ble import HCI_ENV
from firmware_bridge.errors import UsageError
from firmware_bridge.sources.sim_model import PATTERNS, SimConfig


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register the ``ble-sim`` command."""
    p = sub.add_parser(
        "ble-sim",
        parents=[common],
        help="a virtual BLE tool serving the simulator's force",
        description="Serve the simulated tool as a BLE peripheral on a bumble HCI transport "
        "(our GATT, or the Tindeq Progressor service). Ctrl-C stops it.",
    )
    p.add_argument(
        "--kind",
        choices=("pressureguard", "progressor"),
        default="pressureguard",
        help="which tool to be (pressureguard)",
    )
    p.add_argument(
        "--ble-hci",
        metavar="TRANSPORT",
        help=f"bumble HCI transport, e.g. tcp-client:127.0.0.1:9001 (or {HCI_ENV})",
    )
    p.add_argument("--name", help="advertised name (default from the kind and seed)")
    p.add_argument("--seed", type=int, default=1, help="random seed: same seed, same data (1)")
    p.add_argument("--rate", type=float, default=80.0, metavar="HZ", help="sample rate (80)")
    p.add_argument("--pattern", choices=PATTERNS, default="massage", help="force pattern")
    p.add_argument("--limit", type=float, default=15.0, metavar="N", help="limit it plays around")
    p.add_argument("--level", type=float, default=5.0, metavar="N", help="steady pattern's force")
    p.add_argument(
        "--per-packet",
        type=int,
        metavar="N",
        help="samples per notification (ours: 1-32, default ~25 ms worth; progressor: 2)",
    )
    p.add_argument(
        "--clock-start-us",
        type=int,
        default=0,
        metavar="US",
        help="device clock at the first sample (near 4294967296 to cross the 32-bit wrap)",
    )
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    p.add_argument("--log", type=Path, metavar="FILE", help="JSON lines: what was sent and heard")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C, SIGTERM or --duration."""
    from firmware_bridge.ble.peripheral import PeripheralOptions, VirtualPeripheral  # noqa: PLC0415

    hci = (args.ble_hci or os.environ.get(HCI_ENV) or "").strip()
    if not hci:
        raise UsageError(f"ble-sim needs --ble-hci TRANSPORT (or {HCI_ENV}), e.g. usb:0")
    progressor = args.kind == "progressor"
    per_packet = args.per_packet
    if progressor and per_packet is not None and not 1 <= per_packet <= 31:
        raise UsageError("--per-packet: a Progressor notification carries 1 to 31 samples")
    config = SimConfig(
        seed=args.seed,
        rate_hz=args.rate,
        pattern=args.pattern,
        limit_n=args.limit,
        level=args.level,
        samples_per_frame=None if progressor else per_packet,
        clock_start_us=args.clock_start_us % (1 << 32),
    )
    options = PeripheralOptions(
        kind=args.kind,
        hci=hci,
        config=config,
        per_packet=per_packet or 2,
        name=args.name,
        log_path=args.log,
        duration_s=args.duration,
    )
    peripheral = VirtualPeripheral(options, announce=lambda text: print(text, flush=True))

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, peripheral.stop)
        await peripheral.run()

    asyncio.run(serve())
    print(f"{peripheral.name}: {peripheral.sent} notifications sent", file=sys.stderr)
    return 0
