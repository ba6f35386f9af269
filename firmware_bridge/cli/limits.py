"""``pressureguard limits show`` and ``limits set REGION VALUE``: personal comfort limits."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from calibration.defaults import (
    ABSOLUTE_CEILING_KGF_CM2,
    ENDANGERMENT_SITES,
    REGION_DEFAULTS_KGF_CM2,
    default_limit,
)
from firmware_bridge.errors import UsageError
from firmware_bridge.store import Store
from firmware_bridge.units import KGF_N, REFERENCE_TIP_CM2, parse_force, parse_region

#: A running bridge whose live row is younger than this takes a new limit at once.
LIVE_BRIDGE_S = 2.0


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register ``limits`` and its sub-commands."""
    p = sub.add_parser("limits", parents=[common], help="personal comfort limits")
    ls = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    show = ls.add_parser("show", parents=[common], help="current limits and shipped defaults")
    show.add_argument("--profile", help="only this profile")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_show)

    put = ls.add_parser("set", parents=[common], help="set a limit by hand: REGION VALUE")
    put.add_argument("region", help="e.g. upper-trapezius:left")
    put.add_argument("value", help="15N, 150kPa, 1.5kgf (a bare number is newtons)")
    put.add_argument("--profile", default="default")
    put.add_argument(
        "--tip-area", type=float, metavar="CM2", help="tip area for kPa values (default 1 cm²)"
    )
    put.add_argument(
        "--override-ceiling",
        action="store_true",
        help=f"allow a limit above {ABSOLUTE_CEILING_KGF_CM2:g} kgf/cm² (agreed with a clinician)",
    )
    put.set_defaults(func=cmd_set)


def cmd_show(args: argparse.Namespace) -> int:
    """Print the current limits, then the shipped defaults."""
    with Store.open(args.data_dir) as store:
        limits = store.current_limits(args.profile)
    defaults = {
        region: round(default_limit(region).limit_n, 3) for region in REGION_DEFAULTS_KGF_CM2
    }
    if args.json:
        print(json.dumps({"limits": limits, "defaults_n": defaults}, indent=2))
        return 0
    if not limits:
        print("No limits of your own yet: sessions use the shipped conservative defaults below.")
    else:
        print(f"{'profile':<12} {'region':<28} {'limit':>8} {'':>7}  {'source':<9} set")
        for row in limits:
            kpa = row["limit_n"] * 10 / REFERENCE_TIP_CM2
            value = f"{row['limit_n']:.1f} N"
            print(
                f"{row['profile']:<12} {row['region']:<28} {value:>8} {kpa:>3.0f}kPa*"
                f"  {row['source']:<9} {str(row['set_at'])[:10]}"
            )
        print("* kPa on the 1 cm² reference tip")
    print("\nShipped defaults (N on a 1 cm² tip; placeholders until you measure your own):")
    for region, limit in defaults.items():
        print(f"  {region:<24} {limit:5.1f} N")
    print("No point pressure, no limit offered: " + ", ".join(sorted(ENDANGERMENT_SITES)))
    return 0


def cmd_set(args: argparse.Namespace) -> int:
    """Record a manual limit; a bridge serving that profile and region takes it at once."""
    region = parse_region(args.region)
    if region.slug in ENDANGERMENT_SITES:
        raise UsageError(
            f"{region.slug} is an endangerment site: no point pressure there, so PressureGuard "
            "offers no limit for it"
        )
    area = args.tip_area or REFERENCE_TIP_CM2
    limit_n = parse_force(args.value, area)
    ceiling_n = ABSOLUTE_CEILING_KGF_CM2 * KGF_N * area
    if limit_n > ceiling_n and not args.override_ceiling:
        raise UsageError(
            f"{limit_n:.1f} N is above the {ceiling_n:.1f} N ceiling "
            f"({ABSOLUTE_CEILING_KGF_CM2:g} kgf/cm²); add --override-ceiling if a clinician "
            "agreed to it"
        )
    with Store.open(args.data_dir) as store:
        store.set_limit(args.profile, str(region), limit_n, "manual")
        live = store.get_live()
        state = (live or {}).get("state", {})
        serving = live is not None and live["age_s"] < LIVE_BRIDGE_S
        if serving and state.get("profile") == args.profile and state.get("region") == str(region):
            store.post_command("limit", {"limit_n": limit_n, "basis": "your manual limit"})
            print("The running session uses it from now on.", file=sys.stderr)
    print(f"{args.profile} · {region}: comfort limit {limit_n:.2f} N (manual)")
    return 0
