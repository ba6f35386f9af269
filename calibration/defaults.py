"""Shipped conservative comfort limits per body region (clinical.md, defaults table).

Values are pressures in kgf/cm² on the 1 cm² reference disc; they are placeholders until the user
measures their own pressure-pain threshold, and are to be reviewed by a clinician.
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware_bridge.units import KGF_N

#: Used when no region is given or the region is unknown: 1.5 kgf/cm² ≈ 147 kPa ≈ 15 N on 1 cm².
GLOBAL_DEFAULT_KGF_CM2 = 1.5
#: Fibromyalgia-mode absolute ceiling (ACR tender-point ~4 kg; Fischer's critical pressure).
ABSOLUTE_CEILING_KGF_CM2 = 4.0
#: Overload warning as a fraction of the load cell's rated capacity.
OVERLOAD_FRACTION = 0.9
#: Rounded tips (balls, knobs) spread force: before calibration cap the force at limit × 2 cm².
ROUNDED_TIP_CAP_CM2 = 2.0

REGION_DEFAULTS_KGF_CM2: dict[str, float] = {
    "posterior-neck": 0.75,
    "suboccipital": 0.75,
    "upper-trapezius": 1.5,
    "levator-scapulae": 1.5,
    "infraspinatus": 2.0,
    "scapular": 2.0,
    "rhomboids": 2.0,
    "thoracic-paraspinals": 2.0,
    "forearm": 2.0,
    "hand": 1.0,
    "thenar": 1.0,
    "lumbar-paraspinals": 2.5,
    "gluteal": 2.0,
    "lateral-hip": 2.0,
    "thigh": 2.5,
    "calf": 2.0,
    "tibialis-anterior": 2.0,
    "foot": 2.0,
}

#: No point pressure here: the UI shows a warning instead of a preset (Werner 2020).
ENDANGERMENT_SITES = frozenset(
    {
        "anterior-neck",
        "posterior-triangle",
        "axilla",
        "femoral-triangle",
        "popliteal-fossa",
        "fibular-head",
        "sciatic-notch",
        "abdomen",
    }
)


#: If a session names an endangerment site anyway, it gets the most conservative shipped pressure
#: (the posterior-neck value), never the global default.
ENDANGERMENT_KGF_CM2 = min(REGION_DEFAULTS_KGF_CM2.values())


@dataclass(frozen=True, slots=True)
class DefaultLimit:
    """A shipped limit in newtons with the basis shown to the user."""

    limit_n: float
    basis: str


def default_limit(region_slug: str | None, tip_area_cm2: float | None = None) -> DefaultLimit:
    """The conservative shipped comfort limit for a region, in newtons.

    The region's pressure is applied over the tip area (1 cm² reference disc when unknown); tips
    larger than 2 cm² are capped at pressure × 2 cm² because pressure under rounded tips is
    unreliable and larger contact areas hurt at lower mean pressure. Endangerment sites get no
    preset: should one reach here anyway, it gets the most conservative shipped pressure
    (:data:`ENDANGERMENT_KGF_CM2`) with a basis saying why.
    """
    area = min(tip_area_cm2 or 1.0, ROUNDED_TIP_CAP_CM2)
    if region_slug in ENDANGERMENT_SITES:
        basis = (
            f"{region_slug} is an endangerment site: no point pressure there; the most "
            f"conservative shipped value applies, {ENDANGERMENT_KGF_CM2:g} kgf/cm² over "
            f"{area:g} cm²"
        )
        return DefaultLimit(limit_n=ENDANGERMENT_KGF_CM2 * KGF_N * area, basis=basis)
    kgf_cm2 = REGION_DEFAULTS_KGF_CM2.get(region_slug or "", GLOBAL_DEFAULT_KGF_CM2)
    where = region_slug if region_slug in REGION_DEFAULTS_KGF_CM2 else "any region"
    basis = f"shipped default for {where}: {kgf_cm2:g} kgf/cm² over {area:g} cm²"
    return DefaultLimit(limit_n=kgf_cm2 * KGF_N * area, basis=basis)


def overload_ceiling_n(capacity_n: float | None) -> float:
    """Force that is always DANGER whatever the personal limit: 90 % of the load cell's rating.

    The FM-mode ceiling (:data:`ABSOLUTE_CEILING_KGF_CM2`) bounds the limits a user may set; here
    it would never bind, because 1.2 × any allowed limit is reached first.
    """
    return OVERLOAD_FRACTION * capacity_n if capacity_n else float("inf")
