"""Which comfort limit applies: the one given, else the profile's own, else the shipped default;
never above the profile's ceiling, and never more than the most conservative default at an
endangerment site."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from calibration.defaults import ENDANGERMENT_SITES, default_limit
from calibration.precautions import ProfileSafety
from calibration.tips import Tip, limit_key
from firmware_bridge.units import parse_region


class LimitSource(Protocol):
    """Where personal limits are kept (the store).

    A source that also has ``profile_settings(name) -> dict`` (the store does) supplies the
    profile's safety answers when the caller passes none.
    """

    def current_limit(
        self, profile: str, region: str, tip: str | None = None
    ) -> dict[str, object] | None: ...


def stored_safety(limits: LimitSource, profile: str) -> ProfileSafety:
    """The profile's safety answers from the store; the normal profile when it keeps none."""
    read = getattr(limits, "profile_settings", None)
    settings: Any = read(profile) if callable(read) else {}
    return ProfileSafety.from_settings(settings if isinstance(settings, dict) else {})


def _lookups(region: str, tip: str | None) -> Iterator[tuple[str, str | None, str]]:
    """(region, tip, words) to look up, most specific first.

    A limit saved for a region without a side applies to both sides when a side has none of its
    own; a limit of one side never applies to the other (sides may differ, CLINICAL.md §1.6).
    """
    parsed = parse_region(region)
    regions = [(str(parsed), "")]
    if parsed.side:
        regions.append((parsed.slug, f" for {parsed.slug} (either side)"))
    for name, where in regions:
        if tip:
            yield name, tip, f" for the {tip} tip{where}"
        yield name, None, where


def resolve_limit(
    limits: LimitSource,
    profile: str,
    region: str | None,
    given: float | None = None,
    *,
    tip: str | None = None,
    tip_area_cm2: float | None = None,
    safety: ProfileSafety | None = None,
) -> tuple[float, str]:
    """The comfort limit in newtons and its basis in words.

    Order: a limit given for this session; the profile's current limit for the region and tip;
    for the region and any tip; the same for the region without its side; the shipped default.
    The result is then capped: at an endangerment site at the most conservative shipped value,
    and everywhere at the profile's ceiling (:meth:`ProfileSafety.ceiling_n`), saying so. Only a
    manual limit saved with an override, in a profile whose ceiling may be overridden, stays
    above the ceiling.

    Args:
        limits: the store.
        profile: whose limit.
        region: the body region (slug with optional side), or None.
        given: a limit set for this session (command line or dashboard), which wins.
        tip: the tip in use (its own limits first), or None.
        tip_area_cm2: the tip's area, for defaults and the ceiling (None: 1 cm² reference).
        safety: the profile's screening answers; None reads them from ``limits`` if it can.

    Raises:
        UsageError: a malformed region.
    """
    if safety is None:
        safety = stored_safety(limits, profile)
    slug = parse_region(region).slug if region else None
    limit_n, basis, source = _uncapped(
        limits, profile, region, given, tip=tip, tip_area_cm2=tip_area_cm2
    )

    if slug in ENDANGERMENT_SITES:
        site = default_limit(slug, tip_area_cm2)  # the conservative value, with its reason
        if limit_n > site.limit_n:
            limit_n, basis = site.limit_n, f"{basis}, capped: {site.basis}"

    ceiling_n = safety.ceiling_n(tip_area_cm2)
    if limit_n > ceiling_n:
        if source == "manual" and safety.override_refused is None:
            return limit_n, f"{basis}, above {safety.ceiling_words} by override"
        return ceiling_n, f"{basis}, capped at {safety.ceiling_words}"
    return limit_n, basis


def limit_for_tip(
    limits: LimitSource,
    profile: str,
    region: str | None,
    given: float | None,
    tip: Tip | None,
    *,
    safety: ProfileSafety | None = None,
) -> tuple[float, str]:
    """:func:`resolve_limit` for the tip in use: its own limits first, its area for the defaults
    and the ceiling (the 1 cm² reference when the tip is unknown)."""
    return resolve_limit(
        limits,
        profile,
        region,
        given,
        tip=limit_key(tip),
        tip_area_cm2=tip.area_cm2 if tip is not None else None,
        safety=safety,
    )


def _uncapped(
    limits: LimitSource,
    profile: str,
    region: str | None,
    given: float | None,
    *,
    tip: str | None,
    tip_area_cm2: float | None,
) -> tuple[float, str, str | None]:
    """The limit before any cap: (newtons, basis, stored source or None)."""
    if given is not None:
        return given, "set for this session", None
    if region:
        for name, tip_key, where in _lookups(region, tip):
            current = limits.current_limit(profile, name, tip_key)
            if current:
                source = str(current.get("source") or "saved")
                return float(str(current["limit_n"])), f"your {source} limit{where}", source
    shipped = default_limit(parse_region(region).slug if region else None, tip_area_cm2)
    return shipped.limit_n, shipped.basis, None
