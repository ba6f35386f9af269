"""Safety zones and session events: the vocabulary shared by the pipeline, the store and the UI."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Zone(IntEnum):
    """The judged state of one sample. Higher is more urgent; negative values are never "safe"."""

    NO_SIGNAL = -2
    UNCALIBRATED = -1
    RELAXED = 0
    TARGET = 1
    OVER = 2
    DANGER = 3

    @property
    def label(self) -> str:
        """The machine name used in exports and the store (``no_signal``, ``over`` …)."""
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> Zone:
        """Inverse of :attr:`label`."""
        return cls[label.upper()]


#: Lower edges of TARGET, OVER and DANGER as fractions of the comfort limit (DESIGN.md).
ZONE_EDGES = (0.8, 1.0, 1.2)
#: A zone is left only this far (fraction of the limit) below its lower edge.
HYSTERESIS = 0.05
#: A zone is left only after being in it this long (entering a higher zone is immediate).
MIN_DWELL_S = 0.1


@dataclass(frozen=True, slots=True)
class SessionEvent:
    """Something that happened at session time ``t_s``.

    Kinds: ``zone`` (detail: from, to), ``ramp`` (slow down), ``hold`` (release prompt), ``button``,
    ``no_signal`` / ``signal``, ``gap`` (source lost; detail: start_s, end_s), ``saturated``,
    ``adc_fault``, ``tare``, ``drift`` (the tracked zero moved; detail: shift_n, zero_n, reason),
    ``calibration``, ``device``, ``limit``, ``clock_reset``, ``fault``, ``ppt_start``.
    """

    t_s: float
    kind: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JudgedSamples:
    """The pipeline's output for consecutive samples; what the store records and the UI shows.

    Attributes:
        t_s: session time in seconds (device clock when the tool has one).
        raw: raw ADC counts (NaN where the source gave none).
        force_n: calibrated, tared, unfiltered force (NaN when uncalibrated).
        filtered_n: spike-rejected, smoothed force the zones are judged on (NaN when uncalibrated).
        zone: :class:`Zone` values as int8.
    """

    t_s: Any
    raw: Any
    force_n: Any
    filtered_n: Any
    zone: Any

    def __len__(self) -> int:
        return len(self.t_s)
