"""``pressureguard limits show`` and ``limits set REGION VALUE``: personal comfort limits."""

from __future__ import annotations

import argparse
import json
import select
import sys
from typing import Any

from calibration.defaults import (
    ABSOLUTE_CEILING_KGF_CM2,
    ENDANGERMENT_SITES,
    REGION_DEFAULTS_KGF_CM2,
    default_limit,
)
from calibration.measure import MeasureOptions, measure_ppt
from firmware_bridge.cli.record import add_source_arguments, source_options
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

    meas = ls.add_parser(
        "measure",
        parents=[common],
        help="measure your pressure-pain threshold with the tool and set the limit from it",
    )
    add_source_arguments(meas)
    meas.add_argument("--region", required=True, help="e.g. upper-trapezius:left")
    meas.add_argument("--profile", default="default")
    meas.add_argument(
        "--fraction", type=float, default=1.0, help="limit = fraction × threshold (default 1.0)"
    )
    meas.add_argument("--rest", type=float, default=30.0, help="seconds between trials (≥ 30)")
    meas.add_argument("--tip-area", type=float, metavar="CM2", help="the tip's contact area")
    meas.add_argument("--yes", action="store_true", help="save the proposed limit without asking")
    meas.set_defaults(func=cmd_measure)


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


def cmd_measure(args: argparse.Namespace) -> int:
    """Guided pressure-pain-threshold measurement; the limit is saved once the user agrees."""
    region = parse_region(args.region)
    if region.slug in ENDANGERMENT_SITES:
        raise UsageError(f"{region.slug} is an endangerment site: do not measure there")
    if not 0 < args.fraction <= 1:
        raise UsageError(
            "--fraction is more than 0 and at most 1 (the limit never exceeds the PPT)"
        )
    if args.rest < 30:
        raise UsageError("--rest is at least 30 seconds between trials")
    options = MeasureOptions(
        source=args.source,
        source_options=source_options(args),
        fraction=args.fraction,
        rest_s=args.rest,
        tip_area_cm2=args.tip_area,
    )
    with Store.open(args.data_dir) as store:
        summary = measure_ppt(store, options, lambda text: print(text, flush=True), _enter_pressed)
        if not summary.complete or summary.ppt_n is None or summary.proposed_limit_n is None:
            print(
                f"pressureguard: the measurement ended with {summary.n} of 3 usable trials; "
                "nothing was saved",
                file=sys.stderr,
            )
            return 1
        trials = ", ".join(f"{f:.1f}" for f in summary.trials_n)
        print(f"Pressure-pain threshold: {summary.ppt_n:.1f} N (trials {trials} N)")
        limit = summary.proposed_limit_n
        if not args.yes and not _confirm(f"Use {limit:.1f} N as your comfort limit here?"):
            print("Not saved.")
            return 0
        note = f"PPT {summary.ppt_n:.2f} N, mean of {summary.n} trials ({trials} N)"
        store.set_limit(args.profile, str(region), limit, "measured", note=note)
    print(f"{args.profile} · {region}: comfort limit {limit:.2f} N (measured)")
    return 0


def _enter_pressed() -> bool:
    """A mark from the keyboard: Enter, when a person is at the terminal."""
    if not sys.stdin.isatty():
        return False
    ready, _, _ = select.select([sys.stdin], [], [], 0)
    if ready:
        sys.stdin.readline()
        return True
    return False


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        print("(not asked: no terminal; pass --yes to save)", file=sys.stderr)
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
