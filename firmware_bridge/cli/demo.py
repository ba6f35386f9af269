"""``pressureguard demo``: the product with the simulated tool, in its own demo data dir."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from firmware_bridge.cli import record
from firmware_bridge.demo import demo_data_dir, seed_sessions


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register the ``demo`` command."""
    p = sub.add_parser(
        "demo",
        parents=[common],
        help="try PressureGuard with the simulated tool (own data dir, seeded sessions)",
    )
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Seed the demo data dir, then record the simulated tool live."""
    data_dir = demo_data_dir(args.data_dir)
    print(f"PressureGuard demo: data in {data_dir}", file=sys.stderr)
    seeded = seed_sessions(data_dir)
    if seeded:
        print(f"seeded {len(seeded)} past sessions", file=sys.stderr)
    print(
        "The simulated tool is pressing now; Ctrl-C ends the session. "
        "(`pressureguard sessions list --data-dir " + str(data_dir) + "` shows them all.)",
        file=sys.stderr,
    )
    live = argparse.Namespace(
        data_dir=data_dir,
        source="sim://?seed=1",
        baud=115200,
        format="binary",
        text_field=None,
        text_label=None,
        text_unit="counts",
        duration=args.duration,
        profile="default",
        region="upper-trapezius:left",
        limit=None,
        capture=None,
        json=False,
        quiet=False,
    )
    return record.run(live)
