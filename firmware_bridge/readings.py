"""What decoders and sources hand to the pipeline: typed readings, independent of the wire format.

Times are seconds on the *device clock* where the tool has one (unwrapped, continuous), otherwise on
the host's monotonic clock at arrival. The bridge maps both onto session time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Fault kinds a decoder counts. Binary: cobs, crc, length, type, version. Text: no_number, invalid.
FAULT_KINDS = ("cobs", "crc", "length", "type", "version", "no_number", "invalid")


@dataclass(frozen=True, slots=True)
class SampleBatch:
    """Consecutive samples from one source.

    Attributes:
        t: sample times in seconds (device clock when ``device_clock`` is true, else host clock).
        raw: raw ADC counts as float64 (exact for i32); NaN where the source gave no counts.
        force_n: force in newtons when the source already gives force (text in g/N, CSV replay),
            else None and the pipeline applies the device calibration to ``raw``.
        device_clock: whether ``t`` comes from the tool's own clock.
        period_s: nominal sample period, when the source states one.
    """

    t: FloatArray
    raw: FloatArray
    force_n: FloatArray | None = None
    device_clock: bool = True
    period_s: float | None = None

    def __len__(self) -> int:
        return int(self.t.shape[0])


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """The tool's INFO frame: identity, ADC, nominal rate and optional factory calibration."""

    device_id: str
    firmware: str = ""
    adc: str = ""
    rate_hz: float | None = None
    capacity_n: float | None = None
    counts_per_n: float | None = None
    offset_counts: float | None = None
    tip_area_cm2: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, text: str) -> DeviceInfo:
        """Parse INFO's JSON payload; unknown keys are kept in ``extra``.

        Raises:
            ValueError: the payload is not a JSON object with a ``device_id``.
        """
        obj = json.loads(text)
        if not isinstance(obj, dict) or not isinstance(obj.get("device_id"), str):
            raise ValueError("INFO payload is not a JSON object with a device_id")
        known = {
            "device_id",
            "firmware",
            "adc",
            "rate_hz",
            "capacity_n",
            "counts_per_n",
            "offset_counts",
            "tip_area_cm2",
        }

        def num(key: str) -> float | None:
            value = obj.get(key)
            return (
                float(value)
                if isinstance(value, int | float) and not isinstance(value, bool)
                else None
            )

        return cls(
            device_id=obj["device_id"],
            firmware=str(obj.get("firmware", "")),
            adc=str(obj.get("adc", "")),
            rate_hz=num("rate_hz"),
            capacity_n=num("capacity_n"),
            counts_per_n=num("counts_per_n"),
            offset_counts=num("offset_counts"),
            tip_area_cm2=num("tip_area_cm2"),
            extra={k: v for k, v in obj.items() if k not in known},
        )

    def to_json(self) -> str:
        """The INFO payload for this device (used by the simulator and tests)."""
        obj: dict[str, Any] = {
            "device_id": self.device_id,
            "firmware": self.firmware,
            "adc": self.adc,
        }
        for key in ("rate_hz", "capacity_n", "counts_per_n", "offset_counts", "tip_area_cm2"):
            value = getattr(self, key)
            if value is not None:
                obj[key] = value
        obj.update(self.extra)
        return json.dumps(obj, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class ButtonEvent:
    """The tool's button changed state at time ``t``."""

    t: float
    pressed: bool


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """The tool's STATUS frame."""

    t: float
    battery_mv: int | None
    saturated: bool
    adc_fault: bool


@dataclass(frozen=True, slots=True)
class ClockReset:
    """The device clock went backwards (the tool restarted): later times start a new segment."""

    t: float


Reading = SampleBatch | DeviceInfo | ButtonEvent | DeviceStatus | ClockReset


@dataclass(slots=True)
class DecoderStats:
    """Counters every decoder keeps; they only grow."""

    frames: int = 0
    samples: int = 0
    lost_frames: int = 0
    skipped_bytes: int = 0
    faults: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAULT_KINDS, 0))

    @property
    def bad_frames(self) -> int:
        """Every frame or line that was received but could not be used."""
        return sum(self.faults.values())

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "frames": self.frames,
            "samples": self.samples,
            "lost_frames": self.lost_frames,
            "skipped_bytes": self.skipped_bytes,
            "bad_frames": self.bad_frames,
            "faults": dict(self.faults),
        }


def merge_batches(readings: list[Reading]) -> list[Reading]:
    """Join runs of consecutive, compatible sample batches (fewer, larger blocks to process).

    Order is kept: a non-sample reading ends a run, so events stay between the samples they
    came between.
    """
    out: list[Reading] = []
    run: list[SampleBatch] = []

    def close_run() -> None:
        if len(run) == 1:
            out.append(run[0])
        elif run:
            forces = [b.force_n for b in run if b.force_n is not None]
            out.append(
                SampleBatch(
                    t=np.concatenate([b.t for b in run]),
                    raw=np.concatenate([b.raw for b in run]),
                    force_n=np.concatenate(forces) if forces else None,
                    device_clock=run[0].device_clock,
                    period_s=run[-1].period_s,
                )
            )
        run.clear()

    for reading in readings:
        joins = (
            isinstance(reading, SampleBatch)
            and bool(run)
            and (reading.force_n is None) == (run[0].force_n is None)
            and reading.device_clock == run[0].device_clock
        )
        if not joins:
            close_run()
        if isinstance(reading, SampleBatch):
            run.append(reading)
        else:
            out.append(reading)
    close_run()
    return out
