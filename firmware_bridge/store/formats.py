"""What export and import share: the columns, zone labels, the JSON/Parquet head, and the limits
an imported sample must keep.

The file formats themselves are described in ``docs/exchange.md``. Numbers are written as the
shortest text that reads back as exactly the recorded float64, so a round trip changes no value.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from firmware_bridge.store._base import clean_json
from firmware_bridge.zones import Zone

#: The ``format`` tag of a JSON export (and of a Parquet file's head), and the newest version
#: this code writes and reads.
FORMAT = "pressureguard-session"
FORMAT_VERSION = 1
#: Export formats, as ``sessions export --format`` names them.
EXPORT_FORMATS = ("csv", "json", "parquet")
#: File suffixes of the export formats.
SUFFIXES = {"csv": ".csv", "json": ".json", "parquet": ".parquet"}
#: Sample columns in order; ``pressure_kpa`` follows when the tip area is known.
SAMPLE_COLUMNS = ("t_s", "force_n", "filtered_n", "zone", "raw")
PRESSURE_COLUMN = "pressure_kpa"
#: Columns an import reads; ``pressure_kpa`` only gives back the tip area.
KNOWN_COLUMNS = (*SAMPLE_COLUMNS, PRESSURE_COLUMN)
#: Columns every import needs.
REQUIRED_COLUMNS = ("t_s", "force_n")
#: The Parquet file's key-value metadata entry holding the JSON head (session and events).
PARQUET_META_KEY = b"pressureguard"

_ZONE_VALUES = {int(z): z.label for z in Zone}
#: int8 zone value + 128 → its label (a value with no zone is written as its number).
ZONE_LABELS = tuple(_ZONE_VALUES.get(v, str(v)) for v in range(-128, 128))
#: What import accepts in a zone field: labels, and the numbers of the enum.
ZONE_BY_TEXT = {z.label: int(z) for z in Zone} | {str(int(z)): int(z) for z in Zone}

# -- what an imported sample must be (docs/exchange.md, "What import refuses") ---------------------

#: Latest sample time (s after the session's start): 31 days.
MAX_T_S = 31 * 86400.0
#: Force range (N) a hand-held tool can report: a pull of 1 kN or a push of 100 kN is not a reading.
MIN_FORCE_N = -1_000.0
MAX_FORCE_N = 100_000.0
#: Largest raw count magnitude: the wire protocol's counts are 32-bit.
MAX_ABS_RAW = 2.0**31


def pressure_kpa(force_n: np.ndarray, tip_area_cm2: float) -> np.ndarray:
    """P[kPa] = 10·F[N]/A[cm²] (1 N/cm² = 10 kPa); import relies on this exact expression."""
    return 10.0 * force_n / tip_area_cm2


def export_columns(summary: dict[str, Any]) -> list[str]:
    """The sample columns an export of this session has."""
    return [*SAMPLE_COLUMNS, *([PRESSURE_COLUMN] if summary.get("tip_area_cm2") else [])]


def head_json(summary: dict[str, Any]) -> str:
    """The JSON head of an export: ``{"format", "version", "session"}`` (the summary with its
    events), the same in a JSON export and in a Parquet file's metadata."""
    return json.dumps(
        {"format": FORMAT, "version": FORMAT_VERSION, "session": clean_json(summary)},
        allow_nan=False,
        default=str,
    )


def shown_name(name: str) -> str:
    """A file name fit for a one-line message: control characters escaped, at most 80 chars."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)
    return text if len(text) <= 80 else text[:77] + "…"
