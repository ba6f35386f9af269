"""How a force is read out to the user: in the one unit they chose (N, kgf, lbf, or kPa and
kgf/cm² when the tip is known and flat), with the same rounding on every screen and in every
command.

Everything inside PressureGuard stays in newtons (the measured quantity); only what a person reads
is converted. The choice is one store setting (:data:`UNIT_SETTING`). A pressure unit needs a flat
tip of known area (clinical defaults: "show kPa only if tip area known & flat"); without one the
readout falls back to the force unit of the same family (kPa → N, kgf/cm² → kgf) and says why, so
the number shown is never a pressure computed from a guessed area.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from typing import Any, Protocol

from firmware_bridge.errors import UsageError
from firmware_bridge.units import KGF_N, LBF_N

log = logging.getLogger(__name__)

#: The store setting that holds the user's unit (one of :data:`DISPLAY_UNITS`).
UNIT_SETTING = "display_unit"
DEFAULT_UNIT = "N"
#: kPa in one kgf/cm².
KPA_PER_KGF_CM2 = KGF_N * 10.0


@dataclass(frozen=True, slots=True)
class DisplayUnit:
    """A unit a user may choose to read force in.

    Attributes:
        key: what is stored and shown after numbers (``kgf/cm²``).
        label: plain words for a picker.
        per_base: how many of this unit make one newton (force) or one kPa (pressure).
        pressure: a pressure unit (needs a known flat tip).
        decimals: digits after the point: a tenth of a newton or better everywhere.
        fallback: the force unit shown instead when pressure cannot be.
    """

    key: str
    label: str
    per_base: float
    pressure: bool
    decimals: int
    fallback: str


DISPLAY_UNITS: dict[str, DisplayUnit] = {
    unit.key: unit
    for unit in (
        DisplayUnit("N", "newtons (N)", 1.0, False, 1, "N"),
        DisplayUnit("kgf", "kilograms-force (kgf)", 1.0 / KGF_N, False, 2, "kgf"),
        DisplayUnit("lbf", "pounds-force (lbf)", 1.0 / LBF_N, False, 2, "lbf"),
        DisplayUnit("kPa", "kilopascals (kPa), on a flat tip of known area", 1.0, True, 0, "N"),
        DisplayUnit(
            "kgf/cm²",
            "kgf per cm², on a flat tip of known area",
            1.0 / KPA_PER_KGF_CM2,
            True,
            2,
            "kgf",
        ),
    )
}

# What users may type for each unit (lower case, spaces removed).
_SPELLINGS = {
    **{key.lower(): key for key in DISPLAY_UNITS},
    "newton": "N",
    "newtons": "N",
    "kg": "kgf",
    "lb": "lbf",
    "lbs": "lbf",
    "kgf/cm2": "kgf/cm²",
    "kg/cm2": "kgf/cm²",
    "kg/cm²": "kgf/cm²",
}


class SettingSource(Protocol):
    """Where the unit setting is kept (the store)."""

    def get_setting(self, key: str, default: Any = None) -> Any: ...


class SettingStore(SettingSource, Protocol):
    """Where the unit setting is kept and changed (the store)."""

    def set_setting(self, key: str, value: Any) -> None: ...


def parse_unit(text: str) -> str:
    """The unit key for what a user typed (``kpa``, ``kgf/cm2``, ``lbs`` …).

    Raises:
        UsageError: not a unit PressureGuard reads out in (the message lists them).
    """
    key = _SPELLINGS.get("".join(str(text).split()).lower())
    if key is None:
        raise UsageError(f"unknown unit {text!r}; choose one of: {', '.join(DISPLAY_UNITS)}")
    return key


def chosen_unit(settings: SettingSource) -> str:
    """The user's unit from the store; newtons when none is set or the stored value is bad."""
    value = settings.get_setting(UNIT_SETTING, DEFAULT_UNIT)
    try:
        return parse_unit(str(value))
    except UsageError:
        log.warning("ignoring the stored unit %r: showing newtons", value)
        return DEFAULT_UNIT


@dataclass(frozen=True, slots=True)
class Readout:
    """Force as one unit shows it: ``value = force_n × per_newton``, rounded to ``decimals``.

    Attributes:
        unit: the unit actually shown (``kPa``, or its fallback ``N``).
        per_newton: the factor from newtons to ``unit``.
        decimals: digits after the point.
        note: why a chosen pressure unit is not shown (None when it is, or a force unit was
            chosen).
    """

    unit: str
    per_newton: float
    decimals: int
    note: str | None = None

    @property
    def pressure(self) -> bool:
        """Whether this readout shows pressure."""
        return DISPLAY_UNITS[self.unit].pressure

    def value(self, force_n: float) -> float:
        """The force in this unit, unrounded."""
        return force_n * self.per_newton

    def number(self, force_n: float | None) -> str:
        """The number alone, rounded (``"14.7"``); ``—`` for a missing or non-finite force."""
        if force_n is None or not math.isfinite(force_n):
            return "—"
        return f"{self.value(force_n):.{self.decimals}f}"

    def text(self, force_n: float | None) -> str:
        """Number and unit (``"14.7 N"``, ``"147 kPa"``); ``—`` for a missing force."""
        number = self.number(force_n)
        return number if number == "—" else f"{number} {self.unit}"

    def signed(self, force_n: float | None) -> str:
        """Number with its sign, and unit (``"+1.2 N"``): a change or an offset."""
        if force_n is None or not math.isfinite(force_n):
            return "—"
        return f"{self.value(force_n):+.{self.decimals}f} {self.unit}"

    def finer(self, extra: int) -> Readout:
        """The same unit with ``extra`` more digits: a known weight, the noise or resolution of a
        load cell, where the instrument's own precision is the point (a negative ``extra``: an
        approximate "≈" figure; never fewer than none)."""
        return dataclasses.replace(self, decimals=max(0, self.decimals + extra))

    def newtons(self, value: float) -> float:
        """A value in this unit back in newtons (what a user typed in their unit)."""
        return value / self.per_newton

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for the browser (which multiplies by ``per_newton`` itself)."""
        return {
            "unit": self.unit,
            "per_newton": self.per_newton,
            "decimals": self.decimals,
            "note": self.note,
            "pressure": self.pressure,
        }


def readout(unit: str, pressure_area_cm2: float | None = None) -> Readout:
    """How to show force in ``unit``.

    Args:
        unit: a key of :data:`DISPLAY_UNITS` (see :func:`parse_unit`).
        pressure_area_cm2: the area of a known flat tip (``calibration.tips.pressure_area``);
            None when the tip is unknown or rounded.

    Raises:
        UsageError: an unknown unit.
    """
    chosen = DISPLAY_UNITS[parse_unit(unit)]
    if not chosen.pressure:
        return Readout(chosen.key, chosen.per_base, chosen.decimals)
    if pressure_area_cm2 is None or not pressure_area_cm2 > 0:
        fallback = DISPLAY_UNITS[chosen.fallback]
        note = f"{chosen.key} needs a flat tip of known area: shown in {fallback.key}"
        return Readout(fallback.key, fallback.per_base, fallback.decimals, note)
    # P[kPa] = 10·F[N]/A[cm²]
    return Readout(chosen.key, 10.0 / pressure_area_cm2 * chosen.per_base, chosen.decimals)


def companion(main: Readout, pressure_area_cm2: float | None) -> Readout | None:
    """The second readout shown smaller beside the main one: the force under a pressure (in the
    force unit of the same family: N under kPa, kgf under kgf/cm²), the pressure in kPa under a
    force when the tip allows it; None when there is nothing to add."""
    if main.pressure:
        return readout(DISPLAY_UNITS[main.unit].fallback)
    if pressure_area_cm2 is not None and pressure_area_cm2 > 0:
        return readout("kPa", pressure_area_cm2)
    return None


def describe(force_n: float | None, unit: str, pressure_area_cm2: float | None = None) -> str:
    """A force in words: the main readout with its companion in brackets (``"14.7 N (147 kPa)"``,
    ``"147 kPa (14.7 N)"``, ``"1.50 kgf"`` on an unknown tip); ``—`` for a missing force."""
    main = readout(unit, pressure_area_cm2)
    text = main.text(force_n)
    second = companion(main, pressure_area_cm2)
    if second is None or text == "—":
        return text
    return f"{text} ({second.text(force_n)})"


def force_unit(unit: str) -> str:
    """The force unit shown for ``unit`` where no pressure can be: itself, or its fallback
    (a force on a 1 cm² reference tip, a calibration weight, a trend across tips)."""
    return DISPLAY_UNITS[parse_unit(unit)].fallback


def force_readout(unit: str) -> Readout:
    """How force reads where no pressure can be shown (:func:`force_unit`'s readout)."""
    return readout(force_unit(unit))


def dose(impulse_ns: float, unit: str) -> str:
    """An impulse (force × time) in the unit's force family: ``1,234 N·s``, ``126 kgf·s``."""
    force = force_readout(unit)
    return f"{force.value(impulse_ns):,.0f} {force.unit}·s"


def pressure_unit(unit: str) -> str:
    """The pressure unit shown with ``unit``: itself, or kPa beside a force unit."""
    key = parse_unit(unit)
    return key if DISPLAY_UNITS[key].pressure else "kPa"


def paired_units(unit: str) -> tuple[str, str]:
    """The two columns of a table of forces on different tips: the chosen unit first, then its
    companion (kPa beside a force unit; the force unit of the family beside a pressure unit)."""
    key = parse_unit(unit)
    return (key, force_unit(key)) if DISPLAY_UNITS[key].pressure else (key, pressure_unit(key))


def table_cells(
    force_n: float | None, unit: str, pressure_area_cm2: float | None = None
) -> tuple[str, str]:
    """The numbers of one row in the :func:`paired_units` columns; a pressure column reads
    ``—`` unless the row's tip is flat and of known area."""

    def cell(key: str) -> str:
        if DISPLAY_UNITS[key].pressure and not (pressure_area_cm2 and pressure_area_cm2 > 0):
            return "—"
        return readout(key, pressure_area_cm2).number(force_n)

    first, second = paired_units(unit)
    return cell(first), cell(second)


def pressure_note(unit: str) -> str | None:
    """What a chosen pressure unit needs, for the place the unit is picked; None for a force."""
    chosen = DISPLAY_UNITS[parse_unit(unit)]
    if not chosen.pressure:
        return None
    return (
        f"{chosen.key} needs a flat tip of known area: shown in {chosen.fallback} when the tip "
        "is unknown or rounded"
    )


def save_unit(settings: SettingStore, text: str) -> str:
    """Store the user's unit (any spelling :func:`parse_unit` takes); returns its key.

    Raises:
        UsageError: not a unit PressureGuard reads out in.
    """
    key = parse_unit(text)
    settings.set_setting(UNIT_SETTING, key)
    log.info("display unit set to %s", key)
    return key
