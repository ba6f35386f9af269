"""Units and body regions as users type them: ``15N``, ``150kPa``, ``upper-trapezius:left``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from firmware_bridge.errors import UsageError

KGF_N = 9.80665
LBF_N = 4.4482216152605
#: Area assumed for kPa ↔ N when no tip is known: the 1 cm² algometer reference disc.
REFERENCE_TIP_CM2 = 1.0

FORCE_UNITS = {"n": 1.0, "kgf": KGF_N, "kg": KGF_N, "lbf": LBF_N, "lb": LBF_N, "g": KGF_N / 1000}
PRESSURE_UNITS_KPA = {"kpa": 1.0, "kgf/cm2": 98.0665, "kgf/cm²": 98.0665, "n/cm2": 10.0}

_VALUE = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z/²0-9]*)\s*$")
_REGION = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?::(left|right))?$")


def pressure_kpa(force_n: float, tip_area_cm2: float) -> float:
    """P[kPa] = 10·F[N]/A[cm²]."""
    return 10.0 * force_n / tip_area_cm2


def force_from_kpa(kpa: float, tip_area_cm2: float) -> float:
    """F[N] = P[kPa]·A[cm²]/10."""
    return kpa * tip_area_cm2 / 10.0


def parse_force(text: str, tip_area_cm2: float | None = None) -> float:
    """Parse a force or pressure written by a user into newtons.

    A bare number is newtons. Pressures (kPa, kgf/cm², N/cm²) are converted with the tip area, or
    with the 1 cm² reference disc when no tip is known.

    Raises:
        UsageError: the text is not a positive number with a known unit.
    """
    match = _VALUE.match(text)
    if not match:
        raise UsageError(f"{text!r} is not a value: write e.g. 15N, 150kPa or 1.5kgf")
    value = float(match.group(1))
    unit = match.group(2).lower() or "n"
    if unit in FORCE_UNITS:
        newtons = value * FORCE_UNITS[unit]
    elif unit in PRESSURE_UNITS_KPA:
        newtons = force_from_kpa(
            value * PRESSURE_UNITS_KPA[unit], tip_area_cm2 or REFERENCE_TIP_CM2
        )
    else:
        known = ", ".join([*FORCE_UNITS, "kPa", "kgf/cm2", "N/cm2"])
        raise UsageError(f"unknown unit {match.group(2)!r} in {text!r} (known: {known})")
    if not newtons > 0:
        raise UsageError(f"{text!r}: a limit must be more than zero")
    return newtons


@dataclass(frozen=True, slots=True)
class Region:
    """A body region slug with an optional side."""

    slug: str
    side: str | None = None

    def __str__(self) -> str:
        return f"{self.slug}:{self.side}" if self.side else self.slug


def parse_region(text: str) -> Region:
    """Parse ``upper-trapezius`` or ``lumbar-paraspinals:right``.

    Raises:
        UsageError: not a lowercase slug with an optional ``:left``/``:right``.
    """
    value = text.strip().lower()
    if not _REGION.match(value):
        raise UsageError(
            f"{text!r} is not a body region: use a slug such as upper-trapezius or "
            "lumbar-paraspinals:right"
        )
    slug, _, side = value.partition(":")
    return Region(slug, side or None)
