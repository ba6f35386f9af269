"""Device calibration: raw ADC counts → newtons, as data plus a vectorised apply; and the one
answer to "is this force calibrated?" (:class:`CalibrationStatus`) that every screen, the store,
``sessions show`` and the report give alike."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

CalibrationSource = Literal["stored", "factory"]
#: Why force is (or is not) calibrated: the user's stored calibration, the tool's factory one
#: from INFO, a tool that sends force itself (text in N, g or kg; a Progressor's kg; a replayed
#: export), or none at all (raw counts: never judged).
CalibrationBasis = Literal["stored", "factory", "device", "none"]

#: A stored calibration older than this is pointed out (a load cell creeps and ages; a check
#: with a known weight takes a minute). The setting ``calibration_max_age_days`` overrides it.
MAX_AGE_DAYS = 90.0


@dataclass(frozen=True, slots=True)
class DeviceCalibration:
    """Linear calibration ``force = (raw − offset_counts) / counts_per_n``.

    Attributes:
        counts_per_n: ADC counts per newton (negative when the cell is mounted inverted).
        offset_counts: counts at zero load.
        source: ``stored`` (the user's own calibration) or ``factory`` (from the tool's INFO frame).
        device_id: the tool it belongs to.
        created_at: ISO-8601 time of the calibration, when known.
    """

    counts_per_n: float
    offset_counts: float
    source: CalibrationSource
    device_id: str = ""
    created_at: str | None = None

    def __post_init__(self) -> None:
        if not np.isfinite(self.counts_per_n) or self.counts_per_n == 0:
            raise ValueError("counts_per_n must be a finite, non-zero number")
        if not np.isfinite(self.offset_counts):
            raise ValueError("offset_counts must be finite")

    def apply(self, raw: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Convert raw counts to newtons (NaN stays NaN)."""
        return (raw - self.offset_counts) / self.counts_per_n

    def counts_for(self, force_n: float) -> int:
        """The raw count at which the cell reads ``force_n`` (for the tool's LOCAL_LIMIT)."""
        return round(self.offset_counts + force_n * self.counts_per_n)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, embedded in every recorded session."""
        return asdict(self)

    def age_days(self, now: datetime | None = None) -> float | None:
        """Days since the calibration was made (None when not known, e.g. factory values)."""
        if not self.created_at:
            return None
        try:
            made = datetime.fromisoformat(self.created_at)
        except ValueError:
            return None
        if made.tzinfo is None:
            made = made.replace(tzinfo=UTC)
        return ((now or datetime.now(UTC)) - made).total_seconds() / 86400.0

    def age_warning(self, max_age_days: float = MAX_AGE_DAYS) -> str | None:
        """Plain words when the calibration is older than ``max_age_days``, else None."""
        age = self.age_days()
        if age is None or age <= max_age_days:
            return None
        return (
            f"the calibration is {age:.0f} days old: check it with a known weight "
            "(pressureguard calibrate, or the Calibrate page)"
        )


def resolve_calibration(
    device_id: str,
    stored: dict[str, Any] | None,
    factory_counts_per_n: float | None,
    factory_offset_counts: float | None,
) -> DeviceCalibration | None:
    """The calibration to use: the user's stored one, else the tool's factory values, else none.

    Args:
        device_id: the tool.
        stored: the store's current calibration record for the tool, if any.
        factory_counts_per_n: INFO's ``counts_per_n``, if the tool sent one.
        factory_offset_counts: INFO's ``offset_counts`` (0 when missing).
    """
    if stored:
        return DeviceCalibration(
            counts_per_n=float(stored["counts_per_n"]),
            offset_counts=float(stored["offset_counts"]),
            source="stored",
            device_id=device_id,
            created_at=stored.get("created_at"),
        )
    if factory_counts_per_n:
        return DeviceCalibration(
            counts_per_n=factory_counts_per_n,
            offset_counts=factory_offset_counts or 0.0,
            source="factory",
            device_id=device_id,
        )
    return None


@dataclass(frozen=True, slots=True)
class CalibrationStatus:
    """Whether the force being judged is calibrated, on what basis, and why, in words.

    Attributes:
        basis: see :data:`CalibrationBasis`.
        reason: one line for the user ("your calibration of 2026-11-02", "the tool sends force
            in N", ...).
        calibration: the counts → N calibration in use, for ``stored`` and ``factory``.
    """

    basis: CalibrationBasis
    reason: str
    calibration: DeviceCalibration | None = None

    @property
    def calibrated(self) -> bool:
        """Whether the force may be judged (every basis but ``none``)."""
        return self.basis != "none"

    @classmethod
    def of(cls, calibration: DeviceCalibration | None) -> CalibrationStatus:
        """The status of raw counts under ``calibration`` (None: uncalibrated)."""
        if calibration is None:
            return cls(
                "none",
                "raw counts and no calibration: calibrate the tool (pressureguard calibrate, or "
                "the Calibrate page)",
            )
        if calibration.source == "stored":
            made = f" of {calibration.created_at[:10]}" if calibration.created_at else ""
            return cls("stored", f"your calibration{made}", calibration)
        return cls("factory", "the tool's factory calibration", calibration)

    @classmethod
    def from_device(cls, what: str) -> CalibrationStatus:
        """Force the tool (or a file) sends already calibrated; ``what`` says how, in words."""
        return cls("device", what)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``calibrated``, ``basis``, ``reason`` and the calibration's own fields."""
        out: dict[str, Any] = {"calibrated": self.calibrated, "basis": self.basis}
        out["reason"] = self.reason
        if self.calibration is not None:
            out.update(self.calibration.as_dict())
        elif not self.calibrated:
            out["status"] = "uncalibrated"
        return out
