"""What a tool claims about itself, checked before it is believed.

A tool's INFO frame (scale, zero, capacity, rate, tip) and every SAMPLES frame's period and clock
are claims. A wrong claim must never turn into a wrong "safe": a scale of 0, NaN or a negative
one would judge any press as nothing; a claimed period of 1 µs would stretch a 50 ms smoothing
window over thousands of samples; a device clock that leaps ahead would end a session. So:

- :func:`checked_info` drops every INFO value that cannot be right and says why (a fault). Force
  from counts without a usable scale is then uncalibrated, never judged.
- :class:`TimingCheck` compares the claimed sample period and the device clock's pace with when
  the samples actually arrive (host clock). When they disagree by more than
  :data:`TIMING_TOLERANCE`, the claim is a fault and the bridge times the samples by arrival.

Faults are returned as :class:`ClaimFault` for the bridge to count, record and show.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from firmware_bridge.protocol.frames import ADC24_MAX, ADC24_MIN
from firmware_bridge.readings import DeviceInfo, SampleBatch

#: A usable factory scale, counts per newton: from a 10-bit ADC on a large cell to a 24-bit ADC
#: on a tiny one. Negative factory scales are refused (a wrong sign reads a press as a pull);
#: a user's own calibration, fitted with weights, may still be negative.
COUNTS_PER_N_RANGE = (1.0, 1e7)
CAPACITY_N_RANGE = (1.0, 50_000.0)
RATE_HZ_RANGE = (0.5, 100_000.0)
TIP_AREA_CM2_RANGE = (0.01, 100.0)
#: Claim and arrival may disagree by this factor before the claim is refused. A real crystal is
#: off by parts per million; USB and BLE deliver in bursts, so short windows need slack.
TIMING_TOLERANCE = 5.0
#: How much arrival history the timing check looks at, and how much it needs first.
TIMING_WINDOW_S = 3.0
TIMING_MIN_SPAN_S = 1.0
#: A device clock that steps ahead between two batches by more than the wall clock did, plus
#: this, leapt (a glitch, or a clock run backwards past zero into the wrap).
JUMP_SLACK_S = 2.0


@dataclass(frozen=True, slots=True)
class ClaimFault:
    """A claim of the tool that was not believed.

    Attributes:
        kind: ``info`` (an INFO value), ``timing`` (period or clock pace) or ``clock_jump`` (the
            device clock leapt ahead: a new clock segment, and a gap).
        message: one line for the user and the session's events.
    """

    kind: str
    message: str


def _within(value: float | None, bounds: tuple[float, float]) -> bool:
    return value is not None and math.isfinite(value) and bounds[0] <= value <= bounds[1]


def checked_info(info: DeviceInfo) -> tuple[DeviceInfo, list[ClaimFault]]:
    """INFO with every value that cannot be right removed, and a fault for each.

    Args:
        info: the INFO frame as decoded.

    Returns:
        The INFO to use and the faults found (empty when all is plausible).
    """
    faults: list[ClaimFault] = []
    drop: dict[str, Any] = {}
    cpn, offset = info.counts_per_n, info.offset_counts
    if cpn is not None and not _within(cpn, COUNTS_PER_N_RANGE):
        faults.append(ClaimFault(
            "info", f"the tool's scale counts_per_n = {cpn!r} is not usable: its counts are not "
            "judged until it is calibrated",
        ))  # fmt: skip
        drop.update(counts_per_n=None, offset_counts=None)
    elif offset is not None and not _within(offset, (ADC24_MIN, ADC24_MAX)):
        faults.append(ClaimFault(
            "info", f"the tool's zero offset_counts = {offset!r} is outside the ADC's range: its "
            "counts are not judged until it is calibrated",
        ))  # fmt: skip
        drop.update(counts_per_n=None, offset_counts=None)
    checks = (
        ("capacity_n", CAPACITY_N_RANGE, "capacity", "no overload limit from it"),
        ("rate_hz", RATE_HZ_RANGE, "sample rate", "timed by arrival instead"),
        ("tip_area_cm2", TIP_AREA_CM2_RANGE, "tip area", "force only, no pressure"),
    )
    for name, bounds, words, instead in checks:
        value = getattr(info, name)
        if value is not None and not _within(value, bounds):
            faults.append(
                ClaimFault("info", f"the tool's {words} {value!r} is not usable: {instead}")
            )
            drop[name] = None
    return (dataclasses.replace(info, **drop) if drop else info), faults


class TimingCheck:
    """Checks a device-clocked source's claimed period and clock pace against arrival.

    After :data:`TIMING_MIN_SPAN_S` of arrivals the measured rate (samples per host second) is
    known; a claimed period, or a device clock whose pace, disagrees with it by more than
    :data:`TIMING_TOLERANCE` is a fault, once per connection, and from then on :attr:`retime`
    is true: the bridge times samples by arrival at :attr:`measured_period_s`.
    """

    def __init__(self) -> None:
        self._arrivals: deque[tuple[float, int, float, float]] = deque()
        self.retime = False
        self.measured_period_s: float | None = None
        self.claimed_rate_hz: float | None = None  # INFO's rate_hz, checked like the period

    def reset(self) -> None:
        """A new connection: nothing is known about its timing yet."""
        self._arrivals.clear()
        self.retime = False
        self.measured_period_s = None

    def observe(self, batch: SampleBatch, host_now: float) -> ClaimFault | None:
        """Note a batch that arrived at ``host_now``; a fault the first time the claims fail."""
        if not batch.device_clock or len(batch) == 0:
            return None
        arrivals = self._arrivals
        if arrivals and host_now < arrivals[-1][0]:
            arrivals.clear()  # the host's clock stepped back, not the tool's: judge afresh
        if arrivals:
            step = float(batch.t[0]) - arrivals[-1][3]
            if step > host_now - arrivals[-1][0] + JUMP_SLACK_S:
                arrivals.clear()  # judge the pace afresh from here
                arrivals.append((host_now, len(batch), float(batch.t[0]), float(batch.t[-1])))
                return ClaimFault(
                    "clock_jump", f"the tool's clock leapt {step:.4g} s ahead between two frames: "
                    "the session goes on, with a gap",
                )  # fmt: skip
        arrivals.append((host_now, len(batch), float(batch.t[0]), float(batch.t[-1])))
        while arrivals and host_now - arrivals[0][0] > TIMING_WINDOW_S:
            arrivals.popleft()
        span = host_now - arrivals[0][0]
        if span < TIMING_MIN_SPAN_S:
            return None
        samples = sum(n for _, n, _, _ in list(arrivals)[1:])
        if samples <= 0:
            return None
        self.measured_period_s = span / samples
        if self.retime:
            return None
        device_span = arrivals[-1][3] - arrivals[0][3]
        pace = device_span / span
        claimed = batch.period_s
        problem = None
        if not 1 / TIMING_TOLERANCE <= pace <= TIMING_TOLERANCE:
            problem = f"the tool's clock ran {device_span:.3g} s in {span:.3g} s of arrivals"
        elif claimed and not _agree(claimed, self.measured_period_s):
            problem = (
                f"the tool claims a sample every {claimed * 1e3:.4g} ms but they arrive every "
                f"{self.measured_period_s * 1e3:.4g} ms"
            )
        elif self.claimed_rate_hz and not _agree(1 / self.claimed_rate_hz, self.measured_period_s):
            problem = (
                f"the tool says it samples at {self.claimed_rate_hz:g} Hz but its samples arrive "
                f"at {1 / self.measured_period_s:.4g} Hz"
            )
        if problem is None:
            return None
        self.retime = True
        return ClaimFault("timing", f"{problem}: its samples are timed by arrival from now on")


def _agree(a: float, b: float) -> bool:
    ratio = a / b
    return 1 / TIMING_TOLERANCE <= ratio <= TIMING_TOLERANCE


def retimed(batch: SampleBatch, host_now: float, period_s: float) -> SampleBatch:
    """The batch timed by arrival: evenly ``period_s`` apart, the last one at ``host_now``."""
    n = len(batch)
    t = host_now - period_s * (n - 1 - np.arange(n, dtype=np.float64))
    return dataclasses.replace(batch, t=t, device_clock=False, period_s=period_s)
