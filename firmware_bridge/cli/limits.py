"""``pressureguard limits show | set | measure | profile``: personal comfort limits, the pain
thresholds they were measured from, and each profile's safety answers and ceiling."""

from __future__ import annotations

import argparse
import json
import select
import sys
from datetime import UTC, datetime
from typing import Any

from calibration.defaults import ENDANGERMENT_SITES, REGION_DEFAULTS_KGF_CM2, default_limit
from calibration.guided import MeasurementSettings, propose_limit
from calibration.measure import MeasureOptions, measure_ppt
from calibration.precautions import (
    PRECAUTIONS,
    SENSITIVE_FRACTION,
    ProfileSafety,
    get_precaution,
)
from calibration.progress import history_asymmetry, history_progress, ppt_progress
from calibration.tips import TIPS, Tip, get_tip, pressure_area
from firmware_bridge.cli.record import add_source_arguments, source_options
from firmware_bridge.errors import UsageError
from firmware_bridge.readout import (
    Readout,
    chosen_unit,
    companion,
    describe,
    force_readout,
    force_unit,
    pressure_unit,
    readout,
)
from firmware_bridge.store import Store
from firmware_bridge.units import REFERENCE_TIP_CM2, parse_force, parse_region

#: A running bridge whose live row is younger than this takes a new limit at once.
LIVE_BRIDGE_S = 2.0


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register ``limits`` and its sub-commands."""
    p = sub.add_parser("limits", parents=[common], help="personal comfort limits")
    ls = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    tips = ", ".join(TIPS)

    show = ls.add_parser(
        "show", parents=[common], help="current limits, pain thresholds and shipped defaults"
    )
    show.add_argument("--profile", help="only this profile")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_show)

    put = ls.add_parser("set", parents=[common], help="set a limit by hand: REGION VALUE")
    put.add_argument("region", help="e.g. upper-trapezius:left")
    put.add_argument("value", help="15N, 150kPa, 1.5kgf (a bare number is newtons)")
    put.add_argument("--profile", default="default")
    put.add_argument("--tip", metavar="KEY", help=f"the limit is for this tip ({tips})")
    put.add_argument(
        "--tip-area", type=float, metavar="CM2", help="tip area for kPa values (default 1 cm²)"
    )
    put.add_argument(
        "--override-ceiling",
        action="store_true",
        help="allow a limit above the profile's ceiling (agreed with a clinician; not in "
        "sensitive mode or with a lowered ceiling)",
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
        "--fraction",
        type=float,
        default=None,
        help="limit = fraction × threshold (default 1.0; 0.8 in sensitive mode)",
    )
    meas.add_argument("--rest", type=float, default=30.0, help="seconds between trials (≥ 30)")
    meas.add_argument("--tip", metavar="KEY", help=f"the tip you measure with ({tips})")
    meas.add_argument("--tip-area", type=float, metavar="CM2", help="the tip's contact area")
    meas.add_argument("--yes", action="store_true", help="save the proposed limit without asking")
    meas.set_defaults(func=cmd_measure)

    prof = ls.add_parser(
        "profile", parents=[common], help="show or answer a profile's safety questions"
    )
    prof.add_argument("name", help="profile name")
    prof.add_argument(
        "--sensitive",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="sensitive (fibromyalgia) mode: limits proposed at 80 %% of your threshold",
    )
    keys = ", ".join(p.key for p in PRECAUTIONS)
    prof.add_argument(
        "--precaution",
        action="append",
        metavar="KEY",
        help=f"a safety question answered yes; repeat for each, replaces earlier answers ({keys})",
    )
    prof.add_argument(
        "--no-precautions", action="store_true", help="none of the safety questions applies"
    )
    prof.set_defaults(func=cmd_profile)


# -- show --------------------------------------------------------------------------------------


def cmd_show(args: argparse.Namespace) -> int:
    """Print the safety answers, current limits, pain thresholds, then the shipped defaults."""
    with Store.open(args.data_dir) as store:
        limits = store.current_limits(args.profile)
        names = [p["name"] for p in store.list_profiles() if args.profile in (None, p["name"])]
        safety = {name: ProfileSafety.from_settings(store.profile_settings(name)) for name in names}
        history = [row for name in names for row in store.ppt_history(name)]
        unit = chosen_unit(store)
    defaults = {
        region: round(default_limit(region).limit_n, 3) for region in REGION_DEFAULTS_KGF_CM2
    }
    if args.json:  # in newtons, as DESIGN.md says; only what people read follows the unit
        progress = history_progress(history)
        sides = history_asymmetry(history)
        profiles = [
            {
                "name": name,
                "sensitive": s.sensitive,
                "precautions": [p.key for p in s.answered_precautions()],
                "ceiling_kgf_cm2": s.ceiling_kgf_cm2,
            }
            for name, s in safety.items()
        ]
        out = {
            "limits": limits,
            "defaults_n": defaults,
            "ppt": history,
            "progress": progress,
            "asymmetry": sides,
            "profiles": profiles,
        }
        print(json.dumps(out, indent=2))
        return 0
    _print_safety(safety)
    _print_limits(limits, unit)
    _print_ppt(history, history_progress(history, unit), history_asymmetry(history, unit), unit)
    on_reference = force_readout(unit)  # the defaults are set on the 1 cm² reference disc
    print(
        f"\nShipped defaults ({on_reference.unit} on a 1 cm² tip; placeholders until you "
        "measure your own):"
    )
    for region, limit in defaults.items():
        print(f"  {region:<24} {on_reference.text(limit):>9}")
    print("No point pressure, no limit offered: " + ", ".join(sorted(ENDANGERMENT_SITES)))
    return 0


def _kpa_area(tip_key: str | None) -> float | None:
    """The tip area kPa may be shown with: only a known, flat tip."""
    return pressure_area(TIPS.get(tip_key or ""))


def _print_safety(safety: dict[str, ProfileSafety]) -> None:
    print("Safety answers (see them with: pressureguard limits profile NAME):")
    for name, s in safety.items():
        mode = "sensitive mode" if s.sensitive else "normal mode"
        if not s.answered:
            answers = "safety questions not answered yet"
        elif s.precautions:
            answers = "precautions: " + ", ".join(p.key for p in s.answered_precautions())
        else:
            answers = "no precautions"
        print(f"  {name:<12} {mode}; {answers}; ceiling {s.ceiling_kgf_cm2:g} kgf/cm²")


def _print_limits(limits: list[dict[str, Any]], unit: str) -> None:
    if not limits:
        print("\nNo limits of your own yet: sessions use the shipped conservative defaults below.")
        return
    print(f"\n{'profile':<12} {'region':<28} {'tip':<10} {'limit':>13} {'':>13}  {'source':<9} set")
    fallback = False
    for row in limits:
        area = _kpa_area(row["tip"])
        shown = readout(unit, area)
        second = companion(shown, area)
        if second is not None:
            beside = second.text(row["limit_n"])
        elif row["tip"] is None:  # a limit for any tip, as pressure on the reference disc
            beside = readout(pressure_unit(unit), REFERENCE_TIP_CM2).text(row["limit_n"]) + "*"
            fallback = True
        else:
            beside = ""  # rounded or unknown tip: pressure would be a guess
        print(
            f"{row['profile']:<12} {row['region']:<28} {row['tip'] or 'any':<10} "
            f"{shown.text(row['limit_n']):>13} {beside:>13}  {row['source']:<9} "
            f"{str(row['set_at'])[:10]}"
        )
    if fallback:
        print(
            "* only if pressed with a flat 1 cm² tip; with other tips the force "
            f"({force_unit(unit)}) is what counts"
        )


def _print_ppt(
    history: list[dict[str, Any]],
    progress: list[dict[str, Any]],
    sides: list[dict[str, Any]],
    unit: str,
) -> None:
    if not history:
        return
    print("\nPain thresholds measured (pressureguard limits measure):")
    for group in progress:
        key = (group["profile"], group["region"], group["tip"])
        print(f"  {key[0]} · {key[1]} · {key[2] or 'any tip'}")
        shown = readout(unit, _kpa_area(key[2]))
        for row in history:
            if (row["profile"], row["region"], row["tip"]) == key:
                limit = "  → limit set" if row["limit_id"] else ""
                print(
                    f"    {str(row['measured_at'])[:10]}  {shown.text(row['ppt_n']):>12}  "
                    f"{row['n']}/{row['attempts']} trials used{limit}"
                )
        print(f"    {group['words']}")
    for side in sides:
        print(
            f"  {side['profile']} · {side['region']} · {side['tip'] or 'any tip'}: {side['words']}"
        )


# -- set ---------------------------------------------------------------------------------------


def _tip(args: argparse.Namespace) -> tuple[Tip | None, float | None]:
    """The tip named with --tip and the area in use (--tip-area wins over the tip's own)."""
    tip = get_tip(args.tip) if args.tip else None
    if args.tip_area is not None and not args.tip_area > 0:
        raise UsageError("--tip-area is the contact area in cm², more than 0")
    return tip, args.tip_area or (tip.area_cm2 if tip else None)


def _tell_bridge(
    store: Store, profile: str, region: str | None, limit_n: float, basis: str
) -> bool:
    """Send a new limit to a bridge serving this profile (and region, if given) right now."""
    live = store.get_live()
    state = (live or {}).get("state", {})
    age = None if live is None else live["age_s"]
    serving = age is not None and age < LIVE_BRIDGE_S
    if not serving or state.get("profile") != profile:
        return False
    if region is not None and state.get("region") != region:
        return False
    store.post_command("limit", {"limit_n": limit_n, "basis": basis})
    return True


def _check_ceiling(
    limit_n: float, area: float | None, safety: ProfileSafety, shown: Readout, *, override: bool
) -> str | None:
    """Refuse a limit above the profile's ceiling unless an allowed override was asked for.

    Args:
        limit_n: the limit asked for.
        area: the tip's area (None: the 1 cm² reference disc).
        safety: the profile's answers.
        shown: how forces read in the refusal (a force unit: the area may be a guess).
        override: --override-ceiling was given.

    Returns:
        The note to keep with an overriding limit, else None.

    Raises:
        UsageError: above the ceiling without an override, or an override the profile refuses.
    """
    refused = safety.override_refused
    if override and refused:
        raise UsageError(f"--override-ceiling is not available: {refused}")
    ceiling_n = safety.ceiling_n(area)
    if limit_n <= ceiling_n:
        return None
    if override:
        return f"above the {safety.ceiling_kgf_cm2:g} kgf/cm² ceiling by override"
    above = (
        f"{shown.text(limit_n)} is above {shown.text(ceiling_n)} on "
        f"{area or REFERENCE_TIP_CM2:g} cm²"
    )
    if refused:
        raise UsageError(f"{above}: {refused}")
    raise UsageError(
        f"{above}, {safety.ceiling_words}; add --override-ceiling if a clinician agreed to it"
    )


def _bare_number(text: str) -> bool:
    """Whether a value was typed without a unit."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def cmd_set(args: argparse.Namespace) -> int:
    """Record a manual limit; a bridge serving that profile and region takes it at once."""
    region = parse_region(args.region)
    if region.slug in ENDANGERMENT_SITES:
        raise UsageError(
            f"{region.slug} is an endangerment site: no point pressure there, so PressureGuard "
            "offers no limit for it"
        )
    tip, area = _tip(args)
    limit_n = parse_force(args.value, area)
    with Store.open(args.data_dir) as store:
        unit = chosen_unit(store)
        force = force_readout(unit)
        safety = ProfileSafety.from_settings(store.profile_settings(args.profile))
        note = _check_ceiling(limit_n, area, safety, force, override=args.override_ceiling)
        if unit != "N" and _bare_number(args.value):  # DESIGN: a bare number is newtons
            print(
                f"Note: a number without a unit is newtons ({args.value.strip()} N = "
                f"{force.text(limit_n)}); write e.g. {args.value.strip()}{force.unit} for "
                f"{force.unit}.",
                file=sys.stderr,
            )
        if tip is not None and not tip.flat and any(u in args.value.lower() for u in ("pa", "/cm")):
            print(
                f"Note: pressure under the {tip.label} is only an estimate; the limit is kept "
                f"as {force.text(limit_n)}.",
                file=sys.stderr,
            )
        store.set_limit(
            args.profile, str(region), limit_n, "manual", tip=tip.key if tip else None, note=note
        )
        # a running session knows no tip: only a limit for any tip is sent to it
        if tip is None and _tell_bridge(
            store, args.profile, str(region), limit_n, "your manual limit"
        ):
            print("The running session uses it from now on.", file=sys.stderr)
    words = describe(limit_n, unit, _kpa_area(tip.key if tip else None))
    print(f"{args.profile} · {region}: comfort limit {words}, set by hand")
    return 0


# -- profile -----------------------------------------------------------------------------------


def cmd_profile(args: argparse.Namespace) -> int:
    """Show a profile's safety answers, or record new ones, with the advice and the ceiling."""
    if args.precaution and args.no_precautions:
        raise UsageError("give --precaution KEY … or --no-precautions, not both")
    with Store.open(args.data_dir) as store:
        safety = ProfileSafety.from_settings(store.profile_settings(args.name))
        if args.precaution or args.no_precautions or args.sensitive is not None:
            keys, answered = safety.precautions, safety.answered_at
            if args.precaution or args.no_precautions:
                keys = frozenset(get_precaution(k).key for k in args.precaution or [])
                answered = datetime.now(UTC).isoformat(timespec="milliseconds")
            sensitive = safety.sensitive if args.sensitive is None else args.sensitive
            safety = ProfileSafety(keys, sensitive, answered)
            store.update_profile_settings(args.name, safety.to_settings())
            _cap_running_session(store, args.name, safety)
        unit = chosen_unit(store)
    _print_profile(args.name, safety, unit)
    return 0


def _cap_running_session(store: Store, profile: str, safety: ProfileSafety) -> None:
    """A lowered ceiling reaches a session that is running for this profile at once."""
    live = store.get_live()
    state = (live or {}).get("state", {})
    limit = state.get("limit_n")
    if not isinstance(limit, int | float):
        return
    ceiling_n = safety.ceiling_n(state.get("tip_area_cm2"))
    if limit > ceiling_n and _tell_bridge(
        store, profile, None, ceiling_n, f"capped at {safety.ceiling_words}"
    ):
        shown = force_readout(chosen_unit(store)).text(ceiling_n)
        print(f"The running session is capped at {shown} from now on.", file=sys.stderr)


def _print_profile(name: str, safety: ProfileSafety, unit: str) -> None:
    print(f"Profile {name}")
    if safety.sensitive:
        print(
            f"  Sensitive mode: on. Limits are proposed at {SENSITIVE_FRACTION:.0%} of your "
            "measured threshold, and the ceiling cannot be overridden."
        )
    else:
        print("  Sensitive mode: off (turn on with --sensitive).")
    if safety.answered:
        print(f"  Safety questions, answered {str(safety.answered_at)[:10]}:")
    else:
        print(
            "  Safety questions: not answered yet. Add --precaution KEY for each that applies "
            "to you, or --no-precautions if none does:"
        )
    for p in PRECAUTIONS:
        answer = ("yes" if p.key in safety.precautions else "no ") if safety.answered else " ? "
        print(f"    [{answer}] {p.key:<10} {p.question}")
    why = "lowered by your answers" if safety.lowered else "the normal ceiling"
    on_reference = force_readout(unit).text(safety.ceiling_n(None))
    print(f"  Ceiling: {safety.ceiling_kgf_cm2:g} kgf/cm² ({on_reference} on a 1 cm² tip), {why}.")
    advice = safety.advice()
    if advice:
        print("  Before you press:")
        for line in advice:
            print(f"    - {line}")


# -- measure -----------------------------------------------------------------------------------


def cmd_measure(args: argparse.Namespace) -> int:
    """Guided pressure-pain-threshold measurement; the limit is saved once the user agrees."""
    region = parse_region(args.region)
    if region.slug in ENDANGERMENT_SITES:
        raise UsageError(f"{region.slug} is an endangerment site: do not measure there")
    if args.fraction is not None and not 0 < args.fraction <= 1:
        raise UsageError(
            "--fraction is more than 0 and at most 1 (the limit never exceeds the PPT)"
        )
    if args.rest < 30:
        raise UsageError("--rest is at least 30 seconds between trials")
    tip, area = _tip(args)
    tip_key = tip.key if tip else None
    with Store.open(args.data_dir) as store:
        unit = chosen_unit(store)
        # pressure only on a known flat tip (an area given with --tip-area counts for it)
        pressure_area = area if _kpa_area(tip_key) is not None else None
        shown = readout(unit, pressure_area)
        safety = ProfileSafety.from_settings(store.profile_settings(args.profile))
        if not safety.answered:
            print(
                "The safety questions are not answered for this profile yet: see "
                f"`pressureguard limits profile {args.profile}`."
            )
        for line in safety.advice():
            print(f"Before you press: {line}")
        settings = MeasurementSettings(
            args.profile,
            str(region),
            tip=tip_key,
            tip_area_cm2=area,
            fraction=args.fraction if args.fraction is not None else safety.default_fraction,
            rest_s=args.rest,
        )
        options = MeasureOptions(args.source, source_options(args), settings, shown)
        outcome = measure_ppt(store, options, lambda text: print(text, flush=True), _enter_pressed)
        summary = outcome.summary
        if not summary.complete or summary.ppt_n is None or summary.proposed_limit_n is None:
            print(
                f"pressureguard: the measurement ended with {summary.n} of 3 usable trials; "
                "nothing was saved",
                file=sys.stderr,
            )
            return 1
        ppt_id = outcome.measurement.save(store)
        trials = ", ".join(shown.number(f) for f in summary.trials_n)
        print(
            f"Pressure-pain threshold: {describe(summary.ppt_n, unit, pressure_area)}, "
            f"the mean of the trials {trials} {shown.unit}"
        )
        history = [r["ppt_n"] for r in store.ppt_history(args.profile, str(region), tip_key)]
        print(ppt_progress(history, pressure_area, unit).words)
        proposed = propose_limit(summary, safety, area)
        limit, note = proposed.limit_n, proposed.note
        if proposed.capped:
            print(f"The limit is capped at {safety.ceiling_words}: {shown.text(limit)}.")
        if not args.yes and not _confirm(f"Use {shown.text(limit)} as your comfort limit here?"):
            print("Not saved as your limit (the measurement is kept).")
            return 0
        limit_id = store.set_limit(
            args.profile, str(region), limit, "measured", tip=tip_key, note=note
        )
        if ppt_id is not None:
            store.link_ppt_limit(ppt_id, limit_id)
    words = describe(limit, unit, pressure_area)
    print(f"{args.profile} · {region}: comfort limit {words}, measured")
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
