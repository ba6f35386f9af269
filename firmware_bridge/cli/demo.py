"""``pressureguard demo``: the whole product with the simulated tool, in its own demo data dir."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from firmware_bridge.cli.serve import add_server_arguments, launch
from firmware_bridge.demo import demo_data_dir, seed_sessions


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register the ``demo`` command."""
    p = sub.add_parser(
        "demo",
        parents=[common],
        help="try PressureGuard with the simulated tool (own data dir, seeded sessions)",
    )
    add_server_arguments(p)
    p.add_argument("--seed", type=int, default=1, help="the simulated tool's random seed")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Seed the demo data dir, then run bridge + dashboard on the simulated tool."""
    data_dir = demo_data_dir(args.data_dir)
    print(f"PressureGuard demo: data in {data_dir}", file=sys.stderr)
    seeded = seed_sessions(data_dir)
    if seeded:
        print(f"seeded {len(seeded)} past sessions", file=sys.stderr)
    bridge = [
        sys.executable, "-m", "firmware_bridge.cli", "bridge", f"sim://?seed={args.seed}",
        "--data-dir", str(data_dir), "--region", "upper-trapezius:left",
    ]  # fmt: skip
    return launch(args, data_dir, bridge)
