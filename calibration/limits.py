"""Which comfort limit applies: the one given, else the profile's own, else the shipped default."""

from __future__ import annotations

from typing import Protocol

from calibration.defaults import default_limit
from firmware_bridge.units import parse_region


class LimitSource(Protocol):
    """Where personal limits are kept (the store)."""

    def current_limit(
        self, profile: str, region: str, tip: str | None = None
    ) -> dict[str, object] | None: ...


def resolve_limit(
    limits: LimitSource, profile: str, region: str | None, given: float | None = None
) -> tuple[float, str]:
    """The comfort limit in newtons and its basis in words.

    Args:
        limits: the store.
        profile: whose limit.
        region: the body region (slug with optional side), or None.
        given: a limit set for this session (command line or dashboard), which wins.
    """
    if given is not None:
        return given, "set for this session"
    if region:
        current = limits.current_limit(profile, region)
        if current:
            return float(str(current["limit_n"])), f"your {current.get('source', 'saved')} limit"
    shipped = default_limit(parse_region(region).slug if region else None)
    return shipped.limit_n, shipped.basis
