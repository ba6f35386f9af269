"""The tool tips PressureGuard knows, with their contact area and whether pressure means anything.

Force is what the load cell measures; pressure (kPa) = 10 · F[N] / A[cm²] is only meaningful for a
flat, rigid tip of known area pressed perpendicular to the skin. Under a rounded knob or ball the
contact area grows with depth and pressure peaks at the centre, so kPa would be a guess and is not
shown (CLINICAL.md §6.3 and the defaults table: "show kPa only if tip area known & flat").

Areas of rounded tips are geometry estimates, kept to set force caps and ramp rates, not to show
pressure. Limits measured with one tip are not transferred to another by area scaling: calibrate
per tip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from firmware_bridge.errors import UsageError

#: US quarter, the Thera Cane manual's "area of a quarter" (mm).
_QUARTER_DIAMETER_MM = 24.26
#: Lacrosse-type ball, 2.5 in (mm).
_BALL_DIAMETER_MM = 63.5
#: Indentation at which the ball's contact is quoted (mm).
_BALL_DEPTH_MM = 3.0


def _disc_cm2(diameter_mm: float) -> float:
    return math.pi * (diameter_mm / 2) ** 2 / 100


def _cap_cm2(diameter_mm: float, depth_mm: float) -> float:
    """Projected contact of a sphere pressed ``depth_mm`` into tissue: π(2Rh − h²)."""
    radius = diameter_mm / 2
    return math.pi * (2 * radius * depth_mm - depth_mm**2) / 100


@dataclass(frozen=True, slots=True)
class Tip:
    """A tool tip.

    Attributes:
        key: what users type (``--tip disc-1cm2``) and what limits are stored under.
        label: plain words for screens.
        area_cm2: contact area, or None when unknown.
        flat: a flat rigid face (pressure = force / area holds); False for rounded tips.
        basis: where the area comes from.
    """

    key: str
    label: str
    area_cm2: float | None
    flat: bool
    basis: str


TIPS: dict[str, Tip] = {
    tip.key: tip
    for tip in (
        Tip(
            "disc-1cm2",
            "flat 1 cm² disc (algometer reference)",
            1.0,
            True,
            "Fischer's pressure threshold meter and the DFNS protocol: flat 1 cm² (Ø 11.3 mm)",
        ),
        Tip(
            "disc-2cm2",
            "flat 2 cm² algometer tip",
            2.0,
            True,
            "algometer tips range 0.5–2 cm² (JTECH; Ylinen 2007): flat 2 cm² (Ø 16.0 mm)",
        ),
        Tip(
            "knob",
            "cane knob (Thera Cane type)",
            round(_disc_cm2(_QUARTER_DIAMETER_MM), 1),
            False,
            "Thera Cane manual: pressure within the area of a quarter (Ø 24.3 mm ≈ 4.6 cm²); "
            "rounded, so the area is an estimate",
        ),
        Tip(
            "ball-63mm",
            "massage ball, 63 mm (lacrosse type)",
            round(_cap_cm2(_BALL_DIAMETER_MM, _BALL_DEPTH_MM), 1),
            False,
            "sphere geometry: ≈ 5.7 cm² at 3 mm indentation, ≈ 9.2 cm² at 5 mm; grows with depth",
        ),
        Tip(
            "thumb",
            "thumb tool",
            None,
            False,
            "no published contact area for a thumb pad",
        ),
    )
}


def get_tip(key: str) -> Tip:
    """The tip named ``key``.

    Raises:
        UsageError: an unknown key (the message lists the known ones).
    """
    tip = TIPS.get(key.strip().lower())
    if tip is None:
        raise UsageError(f"unknown tip {key!r}; known tips: {', '.join(TIPS)}")
    return tip


def pressure_area(tip: Tip | None) -> float | None:
    """The area to show pressure (kPa) with: the tip's, when known and the face is flat; else
    None, and only the force (N) is shown."""
    return tip.area_cm2 if tip is not None and tip.flat else None


def pressure_shown(tip: Tip | None) -> bool:
    """Whether pressure (kPa) may be shown for this tip: area known and the face flat."""
    return pressure_area(tip) is not None


#: The key of the tip a tool reports itself (INFO ``tip_area_cm2``), when no tip was chosen.
TOOL_TIP = "tool"


def limit_key(tip: Tip | None) -> str | None:
    """The key comfort limits are kept under for ``tip``: a library tip's own; None (limits for
    any tip) for the tool's own tip or an unknown one."""
    return tip.key if tip is not None and tip.key != TOOL_TIP else None


def tip_in_use(key: str | None, tool_area_cm2: float | None) -> Tip | None:
    """The tip a session or live view works with.

    A tip chosen from the library wins. Without one, a tool that reports the area of its fitted
    tip (its INFO frame) is taken at its word: a fixed, flat face of that area, as the protocol
    defines it. Otherwise the tip is unknown (None) and only force is shown.

    Args:
        key: the chosen tip's key, or None (:data:`TOOL_TIP` also means "the tool's own").
        tool_area_cm2: the area the tool reports, or None.

    Raises:
        UsageError: an unknown key.
    """
    if key and key != TOOL_TIP:
        return get_tip(key)
    if tool_area_cm2 is not None and tool_area_cm2 > 0:
        return Tip(
            TOOL_TIP,
            f"the tool's own tip ({tool_area_cm2:g} cm²)",
            tool_area_cm2,
            True,
            "the area the tool reports for its fitted tip",
        )
    return None
