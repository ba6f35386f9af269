"""``pressureguard store check / repair / reset``: a damaged store, found and dealt with.

Every command checks the store as it opens it; a damaged one is moved aside and the command
stops with one line saying so. These commands are how the user answers: ``repair`` saves what
can be read into a new store, ``reset`` starts an empty one; both leave the damaged file where
it was kept.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from firmware_bridge.store.integrity import CheckReport
from firmware_bridge.store.repair import check_store, repair_store, reset_store


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register ``store`` and its sub-commands."""
    p = sub.add_parser("store", parents=[common], help="check, repair or reset the data store")
    ss = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    check = ss.add_parser(
        "check", parents=[common], help="check the store (a damaged one is kept aside)"
    )
    check.add_argument(
        "--full", action="store_true", help="check every byte, not only what opening checks"
    )
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=cmd_check)

    repair = ss.add_parser(
        "repair",
        parents=[common],
        help="save what can be read from a damaged store into a new one",
    )
    repair.add_argument("--json", action="store_true")
    repair.set_defaults(func=cmd_repair)

    reset = ss.add_parser(
        "reset", parents=[common], help="start an empty store in place of a damaged one"
    )
    reset.set_defaults(func=cmd_reset)


def _checked(report: CheckReport) -> str:
    how = "every byte" if report.full else "as opened"
    if not report.full and not report.whole_file:
        how += " (samples' pages are checked as they are read; `--full` checks them now)"
    unsealed = (
        f"; {report.unsealed:,} chunk(s) from before checksums were checked by their shape"
        if report.full and report.unsealed
        else ""
    )
    return (
        f"store intact: {report.path} ({report.file_bytes / 2**20:,.1f} MB,"
        f" {report.sessions:,} session(s), {report.samples:,} samples; checked {how} in"
        f" {report.seconds:.2f} s{unsealed})"
    )


def cmd_check(args: argparse.Namespace) -> int:
    """Check the store; exit 0 when whole, else one line (the store is kept aside)."""
    if args.full and not args.json and sys.stderr.isatty():
        print("checking every byte of the store…", file=sys.stderr)
    report = check_store(args.data_dir, full=args.full)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(_checked(report))
    return 0


def cmd_repair(args: argparse.Namespace) -> int:
    """Save what can be read from a damaged store into a new one and say what was lost."""
    report = repair_store(args.data_dir)
    if report is None:
        if args.json:
            print(json.dumps({"repaired": False, "intact": True}))
        else:
            print("store intact: nothing to repair")
        return 0
    if args.json:
        print(json.dumps({"repaired": True, **report.as_dict()}, indent=2))
        return 0
    print(f"repaired: a new store {report.target}")
    for line in report.lines():
        print(f"  {line}")
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    """Start an empty store in place of a damaged one."""
    kept = reset_store(args.data_dir)
    where = f"; the damaged file stays at {kept}" if kept is not None else ""
    print(f"started an empty store in {args.data_dir}{where}")
    return 0
