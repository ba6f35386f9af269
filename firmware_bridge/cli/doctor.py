"""``pressureguard doctor``: what this machine has and lacks for the tool, and how to fix it."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from firmware_bridge import __version__
from firmware_bridge.doctor import diagnose
from firmware_bridge.store import default_data_dir


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register the ``doctor`` command."""
    p = sub.add_parser(
        "doctor",
        parents=[common],
        help="check serial access, Bluetooth, the browser, the data directory and the store",
        description=(
            "Checks what PressureGuard needs on this machine and prints, for anything missing, "
            "the exact step that fixes it. Exit status 1 when something must be fixed."
        ),
    )
    p.add_argument("--json", action="store_true", help="the findings as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print one line per check; 1 when a check failed."""
    data_dir = args.data_dir or default_data_dir()
    findings = diagnose(data_dir)
    if args.json:
        print(json.dumps([asdict(f) for f in findings], indent=2))
    else:
        print(f"PressureGuard {__version__}")
        for finding in findings:
            print(finding.line())
    return 1 if any(f.status == "fail" for f in findings) else 0
