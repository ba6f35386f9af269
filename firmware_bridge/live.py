"""Live state: what the bridge tells the dashboard besides the samples (the store's live row)."""

from __future__ import annotations

import dataclasses
from collections import deque
from typing import Any

import numpy as np

from firmware_bridge.sources.base import LinkStatus
from firmware_bridge.zones import JudgedSamples, Zone


@dataclasses.dataclass(slots=True)
class LiveState:
    """The current verdict and the connection's health, as the status strip shows them."""

    connected: bool = False
    recording: bool = False
    session_id: int | None = None
    profile: str | None = None
    region: str | None = None
    source: str = ""
    format: str = "unknown"
    zone: str = Zone.NO_SIGNAL.label
    force_n: float | None = None
    filtered_n: float | None = None
    limit_n: float | None = None
    preset_limit_n: float | None = None  # `run --limit`: what every new session will use
    t_s: float | None = None
    hold_s: float = 0.0
    hold_limit_s: float = 60.0
    release_prompt: bool = False
    ramp_warning: bool = False
    prewarn_s: float | None = None  # a pre-warning shows: the predicted time to the limit (s)
    tip: str | None = None  # key of the tip in use (calibration.tips), None when unknown
    tip_label: str | None = None
    tip_area_cm2: float | None = None  # set only for a known flat tip: pressure is shown with it
    tool_tip_area_cm2: float | None = None  # the area the tool reports for its own tip
    calibrated: bool = False
    calibration_source: str | None = None  # the basis: "stored", "factory", "device" or "none"
    calibration_reason: str | None = None  # the same in words, for the status strip
    calibration_warning: str | None = None  # e.g. older than the set age
    device_id: str | None = None
    firmware: str | None = None
    battery_mv: int | None = None
    rate_hz: float | None = None
    nominal_rate_hz: float | None = None
    lost_frames: int = 0
    bad_frames: int = 0
    message: str = ""
    device_faults: int = 0  # claims of the tool not believed (INFO values, timing, clock)
    device_fault: str | None = None  # the last one, in words
    zero_shift_n: float = 0.0  # how far zero tracking moved the zero since it was last set
    drift_warning: str | None = None  # set when that passed the warning threshold
    taring: bool = False  # a Zero asked for is being taken
    tare: dict[str, Any] | None = None  # the outcome of the last Zero asked for
    ppt: dict[str, Any] | None = None  # a guided threshold measurement's status, if one runs
    lsl: bool = False  # a Lab Streaming Layer outlet is streaming
    link: dict[str, Any] | None = None  # a wireless link's facts (LinkStatus), None when wired

    def show_samples(
        self, judged: JudgedSamples, hold_s: float, release_prompt: bool, ramp_warning: bool
    ) -> None:
        """Show the newest judged sample."""
        self.zone = Zone(int(judged.zone[-1])).label
        self.force_n = _finite(judged.force_n[-1])
        self.filtered_n = _finite(judged.filtered_n[-1])
        self.t_s = float(judged.t_s[-1])
        self.hold_s = round(hold_s, 2)
        self.release_prompt = release_prompt
        self.ramp_warning = ramp_warning
        self.message = ""

    def show_prewarn(self, time_to_limit_s: float | None) -> None:
        """Show (a number) or clear (None) the pre-warning "limit in … s"."""
        self.prewarn_s = None if time_to_limit_s is None else round(time_to_limit_s, 2)

    def show_link(self, link: LinkStatus | None) -> None:
        """A wireless link's facts for the status strip; its battery is the tool's battery."""
        self.link = link.as_dict() if link is not None else None
        if link is not None and link.battery_mv:
            self.battery_mv = link.battery_mv

    def show_no_signal(self, message: str) -> None:
        """NO SIGNAL: no value is shown at all, so no stale value can look safe."""
        self.zone = Zone.NO_SIGNAL.label
        self.force_n = None
        self.filtered_n = None
        self.hold_s = 0.0
        self.release_prompt = False
        self.ramp_warning = False
        self.prewarn_s = None
        self.message = message

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready copy for the store."""
        return dataclasses.asdict(self)


class RateMeter:
    """Measured sample rate over the last few seconds of arrivals (host clock)."""

    def __init__(self, window: int = 64) -> None:
        self._arrivals: deque[tuple[float, int]] = deque(maxlen=window)

    def add(self, now: float, n_samples: int) -> None:
        """Record ``n_samples`` arriving at host time ``now``."""
        self._arrivals.append((now, n_samples))

    def rate_hz(self) -> float | None:
        """Samples per second, or None until there is enough to tell."""
        if len(self._arrivals) < 2:
            return None
        span = self._arrivals[-1][0] - self._arrivals[0][0]
        count = sum(n for _, n in list(self._arrivals)[1:])
        return round(count / span, 2) if span > 0.2 else None


def _finite(value: float) -> float | None:
    return round(float(value), 4) if np.isfinite(value) else None
