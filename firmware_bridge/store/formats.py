"""Text formats shared by export and import: columns, number formatting, zone labels.

Floats are written with Python's shortest round-trip ``repr``, so a value read back is exactly the
float64 that was recorded.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from firmware_bridge.zones import JudgedSamples, Zone

#: The ``format`` tag of a JSON export, and the newest version this code writes and reads.
FORMAT = "pressureguard-session"
FORMAT_VERSION = 1
#: CSV/JSON sample columns in order; ``pressure_kpa`` follows when the tip area is known.
SAMPLE_COLUMNS = ("t_s", "force_n", "filtered_n", "zone", "raw")
PRESSURE_COLUMN = "pressure_kpa"

_ZONE_VALUES = {int(z): z.label for z in Zone}
# int8 zone value + 128 → label (an unknown value is written as its number).
_ZONE_LUT = np.array([_ZONE_VALUES.get(v, str(v)) for v in range(-128, 128)], dtype=object)
#: What import accepts in a zone field: labels, and the numbers of the enum.
ZONE_BY_TEXT = {z.label: int(z) for z in Zone} | {str(int(z)): int(z) for z in Zone}


def pressure_kpa(force_n: np.ndarray, tip_area_cm2: float) -> np.ndarray:
    """P[kPa] = 10·F[N]/A[cm²] (1 N/cm² = 10 kPa); import relies on this exact expression."""
    return 10.0 * force_n / tip_area_cm2


def format_floats(values: np.ndarray, null: str, *, json_safe: bool = False) -> list[str]:
    """Each float as its shortest round-trip text; NaN as ``null``.

    Args:
        values: float64 array.
        null: what to write for NaN ('' in CSV, 'null' in JSON).
        json_safe: write ±inf as ±1e999 (valid JSON that reads back as inf).
    """
    out = list(map(repr, values.tolist()))
    for i in np.flatnonzero(~np.isfinite(values)).tolist():
        v = values[i]
        if np.isnan(v):
            out[i] = null
        elif json_safe:
            out[i] = "1e999" if v > 0 else "-1e999"
    return out


def format_raw(values: np.ndarray, null: str, *, json_safe: bool = False) -> list[str]:
    """Raw counts: whole numbers without a trailing '.0', others like :func:`format_floats`."""
    whole = np.isfinite(values) & (np.abs(values) < 2.0**53) & (values == np.trunc(values))
    if whole.all():
        return list(map(str, values.astype(np.int64).tolist()))
    out = format_floats(values, null, json_safe=json_safe)
    for i in np.flatnonzero(whole).tolist():
        out[i] = str(int(values[i]))
    return out


def format_column(
    samples: JudgedSamples, column: str, tip_area_cm2: float | None, *, as_json: bool = False
) -> list[str]:
    """One export column of a batch as text cells (JSON: zone labels quoted, NaN null)."""
    null = "null" if as_json else ""
    if column == "zone":
        labels: list[str] = _ZONE_LUT[np.asarray(samples.zone, dtype=np.int16) + 128].tolist()
        return [f'"{z}"' for z in labels] if as_json else labels
    if column == "raw":
        return format_raw(samples.raw, null, json_safe=as_json)
    if column == PRESSURE_COLUMN:
        if tip_area_cm2 is None:
            raise ValueError("pressure needs the tip area")
        return format_floats(pressure_kpa(samples.force_n, tip_area_cm2), null, json_safe=as_json)
    return format_floats(getattr(samples, column), null, json_safe=as_json)


def export_columns(summary: dict[str, Any]) -> list[str]:
    """The sample columns an export of this session has."""
    return [*SAMPLE_COLUMNS, *([PRESSURE_COLUMN] if summary.get("tip_area_cm2") else [])]
