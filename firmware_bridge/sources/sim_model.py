"""The simulated tool's model: a seeded force pattern, an HX711 and the firmware's framing.

:class:`SimulatedTool` is pure (no I/O, no clock): its protocol v1 bytes depend only on the seed
and the configuration, never on how the caller slices time. ``sim.py`` paces it as a transport.
"""

from __future__ import annotations

import heapq
import logging
import math
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from firmware_bridge.errors import UsageError
from firmware_bridge.protocol import frames
from firmware_bridge.protocol.frames import FrameType
from firmware_bridge.readings import DeviceInfo, FloatArray

log = logging.getLogger(__name__)

__all__ = ["PATTERNS", "SimConfig", "SimTruth", "SimulatedTool"]

_INFO_MAX_PAYLOAD = frames.MAX_INFO_PAYLOAD  # 231 bytes of JSON (PROTOCOL.md §3)
#: Optional INFO keys left out, in this order, only when the JSON would not fit (PROTOCOL.md §3).
_INFO_DROPPABLE = ("capacity_n", "tip_area_cm2")
_STATUS_PERIOD_US = 1_000_000
_MAX_PERIOD_US = 0xFFFF  # SAMPLES states longer periods as 0, "unknown", with n = 1
#: The largest comfort limit the simulated tool plays around (its force plan needs finite
#: durations; 10 kN is far past any hand-held tool).
_MAX_LIMIT_N = 10_000.0
_BATTERY_START_MV = 4100.0
_BATTERY_DRAIN_MV_PER_S = 1 / 60  # about 1 mV a minute
_SPIKE_EVERY_S = 30.0  # massage pattern: mean interval between single-sample spikes
_BLOCK_S = 0.5  # samples are generated in fixed blocks so output never depends on read slicing
_U32 = 1 << 32


@dataclass(frozen=True, slots=True)
class SimConfig:
    """What the simulated tool is and does.

    Attributes:
        seed: random seed; the same seed and config give byte-identical output.
        rate_hz: sample rate, 1–100000 Hz (below 15.26 Hz frames carry one sample each).
        pattern: one of :data:`PATTERNS`.
        limit_n: the user's comfort limit the massage and ramp patterns play around.
        counts_per_n: load-cell scale (raw counts per newton), sent in INFO.
        offset_counts: raw counts at zero load, sent in INFO.
        capacity_n: load-cell capacity, sent in INFO when it fits.
        noise_counts: standard deviation of the ADC noise in counts.
        samples_per_frame: samples per SAMPLES frame; default about 25 ms worth (1–32).
        device_id: the INFO device id.
        tip_area_cm2: the tip area, sent in INFO when it fits; None = unknown.
        level: force of the ``steady`` pattern in newtons.
        clock_start_us: device clock at the first sample (tests start near 2³² to cross the wrap).
    """

    seed: int = 1
    rate_hz: float = 80.0
    pattern: str = "massage"
    limit_n: float = 15.0
    counts_per_n: float = 10700.0
    offset_counts: int = 84000
    capacity_n: float = 196.0
    noise_counts: float = 40.0
    samples_per_frame: int | None = None
    device_id: str = "pg-sim-0001"
    tip_area_cm2: float | None = 1.0
    level: float = 5.0
    clock_start_us: int = 0

    def __post_init__(self) -> None:
        spf, tip, finite = self.samples_per_frame, self.tip_area_cm2, math.isfinite
        checks = (
            (self.seed >= 0, f"seed must be 0 or more, not {self.seed}"),
            (1 <= self.rate_hz <= 100_000, f"rate must be 1 to 100000 Hz, not {self.rate_hz:g}"),
            (self.pattern in PATTERNS, f"unknown pattern {self.pattern!r}; choose one of "
             f"{', '.join(PATTERNS)}"),
            (finite(self.limit_n) and 0 < self.limit_n <= _MAX_LIMIT_N,
             f"limit must be above 0 and at most {_MAX_LIMIT_N:g} N, not {self.limit_n:g}"),
            (finite(self.capacity_n) and self.capacity_n > 0, "capacity must be positive"),
            (finite(self.counts_per_n) and self.counts_per_n != 0, "counts_per_n must not be 0"),
            (frames.ADC24_MIN <= self.offset_counts <= frames.ADC24_MAX,
             f"offset_counts {self.offset_counts} is outside the 24-bit ADC range"),
            (finite(self.noise_counts) and self.noise_counts >= 0, "noise must be 0 or more"),
            (spf is None or 1 <= spf <= frames.MAX_SAMPLES_PER_FRAME,
             f"samples per frame must be 1 to {frames.MAX_SAMPLES_PER_FRAME}, not {spf}"),
            (spf in (None, 1) or not self.rate_hz >= 1 or self.period_us <= _MAX_PERIOD_US,
             "below 15.26 Hz a frame carries one sample"),
            (tip is None or tip > 0, f"tip area must be positive, not {tip}"),
            (finite(self.level), f"level must be a number, not {self.level}"),
            (0 <= self.clock_start_us < _U32, "clock_start_us must fit in 32 bits"),
            (bool(self.device_id), "device_id must not be empty"),
        )  # fmt: skip
        for ok, message in checks:
            if not ok:
                raise UsageError(f"simulated tool: {message}")

    @property
    def period_us(self) -> int:
        """Sample period in whole microseconds, as the SAMPLES header carries it."""
        return round(1e6 / self.rate_hz)

    @property
    def frame_samples(self) -> int:
        """Samples per SAMPLES frame (the explicit setting, else about 25 ms worth)."""
        if self.period_us > _MAX_PERIOD_US:
            return 1
        if self.samples_per_frame is not None:
            return self.samples_per_frame
        return min(frames.MAX_SAMPLES_PER_FRAME, max(1, round(self.rate_hz * 0.025)))


@dataclass(frozen=True, slots=True)
class SimTruth:
    """Ground truth for every sample sent so far (for tests).

    Attributes:
        t: sample times in seconds on the device clock, unwrapped as the decoder reports them.
        force_n: the force actually applied (no noise, no spikes).
        raw: the counts sent (noise, spikes and clipping included).
        spike: where a single-sample glitch was added.
        clipped: where the counts hit the 24-bit rails.
    """

    t: FloatArray
    force_n: FloatArray
    raw: FloatArray
    spike: npt.NDArray[np.bool_]
    clipped: npt.NDArray[np.bool_]


# -- force patterns ---------------------------------------------------------------------------

PATTERNS = ("massage", "ramp", "steady", "zero")


@dataclass(frozen=True, slots=True)
class _Segment:
    """Force over [t0, t1): a line from f0 to f1, plus slow drift and tremor around it."""

    t0: float
    t1: float
    f0: float
    f1: float
    drift: float = 0.0  # fraction of f0
    drift_period_s: float = 1.0
    tremor_n: float = 0.0
    tremor_hz: float = 0.0

    def value(self, t: FloatArray) -> FloatArray:
        x = t - self.t0
        f = self.f0 + (self.f1 - self.f0) * (x / (self.t1 - self.t0))
        if self.tremor_n:
            f = f + self.f0 * self.drift * np.sin(2 * np.pi * x / self.drift_period_s)
            f = f + self.tremor_n * np.sin(2 * np.pi * self.tremor_hz * x)
        return f


class Pattern:
    """A force pattern: true force at increasing sample times, plus button presses."""

    spiky = False  # whether the ADC adds occasional single-sample glitches

    def __init__(self, cfg: SimConfig, rng: np.random.Generator) -> None:
        self.cfg = cfg
        self.rng = rng
        self._buttons: list[tuple[float, bool]] = []

    def force(self, t: FloatArray) -> FloatArray:
        """True force in newtons at sample times ``t`` (seconds, increasing across calls)."""
        if self.cfg.pattern == "steady":
            return np.full(t.shape, self.cfg.level)
        if self.cfg.pattern == "ramp":  # 1 s rest, 5 N/s up to 1.3 × limit, 5 N/s down
            peak = 1.3 * self.cfg.limit_n
            x = np.mod(t, 1.0 + 2 * peak / 5.0) - 1.0
            return np.clip(np.minimum(x, 2 * peak / 5.0 - x) * 5.0, 0.0, None)
        return np.zeros(t.shape)

    def take_buttons(self) -> list[tuple[float, bool]]:
        """Button changes planned since the last call, as (time s, pressed)."""
        out, self._buttons = self._buttons, []
        return out


class _Massage(Pattern):
    """Self-massage: rest, ramp, hold with tremor and drift, release; sometimes past the limit."""

    spiky = True

    def __init__(self, cfg: SimConfig, rng: np.random.Generator) -> None:
        super().__init__(cfg, rng)
        self._segments: list[_Segment] = []
        self._end = 0.0
        self._bags: dict[int, list[bool]] = {}

    def _one_in(self, n: int) -> bool:
        # A shuffled bag instead of a coin: "1 in n" on average, and never n misses in a row.
        bag = self._bags.setdefault(n, [])
        if not bag:
            bag.extend(bool(b) for b in self.rng.permutation([1] + [0] * (n - 1)))
        return bag.pop()

    def _plan_cycle(self) -> None:
        r, t, limit = self.rng, self._end, self.cfg.limit_n
        rest = r.uniform(2.0, 6.0)
        self._segments.append(_Segment(t, t + rest, 0.0, 0.0))
        if self._one_in(3):  # a quick press of the tool's button while resting
            press = t + r.uniform(0.2, rest - 0.6)
            self._buttons += [(press, True), (press + r.uniform(0.12, 0.4), False)]
        t += rest
        level = limit * r.uniform(0.5, 0.95)
        ramp = level / r.uniform(3.0, 12.0)
        self._segments.append(_Segment(t, t + ramp, 0.0, level))
        t += ramp
        wobble = {
            "drift": r.uniform(0.02, 0.08),
            "drift_period_s": r.uniform(15.0, 40.0),
            "tremor_n": r.uniform(0.2, 0.5),
            "tremor_hz": r.uniform(1.0, 3.0),
        }
        hold_s = r.uniform(8.0, 40.0)
        if self._one_in(5):
            # Leaning in past the limit for a few seconds, then easing back after the warning.
            before = r.uniform(2.0, hold_s / 2)
            peak = limit * r.uniform(1.05, 1.35)
            up, over, down = r.uniform(0.6, 1.5), r.uniform(1.5, 5.0), r.uniform(0.6, 1.2)
            self._segments += [
                _Segment(t, t + before, level, level, **wobble),
                _Segment(t + before, t + before + up, level, peak),
                _Segment(t + before + up, t + before + up + over, peak, peak, **wobble),
                _Segment(t + before + up + over, t + before + up + over + down, peak, level),
            ]
            t += before + up + over + down
        hold = _Segment(t, t + hold_s, level, level, **wobble)
        self._segments.append(hold)
        t = hold.t1
        release = r.uniform(0.5, 2.0)
        self._segments.append(_Segment(t, t + release, float(hold.value(np.array([t]))[0]), 0.0))
        self._end = t + release

    def force(self, t: FloatArray) -> FloatArray:
        while self._end <= t[-1]:
            self._plan_cycle()
        while self._segments[0].t1 <= t[0]:
            self._segments.pop(0)
        out = np.zeros(t.shape)
        for seg in self._segments:
            if seg.t0 > t[-1]:
                break
            inside = (t >= seg.t0) & (t < seg.t1)
            out[inside] = seg.value(t[inside])
        return out


def make_pattern(name: str, cfg: SimConfig, rng: np.random.Generator) -> Pattern:
    """The pattern called ``name`` (one of :data:`PATTERNS`)."""
    return _Massage(cfg, rng) if name == "massage" else Pattern(cfg, rng)


def _info_payload(cfg: SimConfig) -> tuple[DeviceInfo, bytes]:
    """The INFO the tool sends, leaving out optional keys the body limit cannot carry."""

    def compact(value: float) -> float:
        return int(value) if float(value).is_integer() else value  # "80" not "80.0": bytes matter

    info = DeviceInfo(
        device_id=cfg.device_id,
        firmware="1.0",
        adc="HX711",
        rate_hz=compact(cfg.rate_hz),
        capacity_n=compact(cfg.capacity_n),
        counts_per_n=compact(cfg.counts_per_n),
        offset_counts=cfg.offset_counts,
        tip_area_cm2=None if cfg.tip_area_cm2 is None else compact(cfg.tip_area_cm2),
    )
    payload = info.to_json().encode()
    dropped: list[str] = []
    for key in _INFO_DROPPABLE:
        if len(payload) <= _INFO_MAX_PAYLOAD:
            break
        if getattr(info, key) is not None:
            info = DeviceInfo(**{f.name: getattr(info, f.name) for f in fields(info)} | {key: None})
            dropped.append(key)
            payload = info.to_json().encode()
    if len(payload) > _INFO_MAX_PAYLOAD:
        raise UsageError(f"simulated tool: device_id {cfg.device_id!r} is too long for INFO")
    if dropped:
        log.info(
            "simulated INFO left out %s: the protocol limits INFO to %d bytes",
            ", ".join(dropped),
            _INFO_MAX_PAYLOAD,
        )
    return info, payload


class SimulatedTool:
    """A seeded model of a PressureGuard tool producing its serial byte stream.

    Device time runs from 0 s at the first sample. Output starts with a ``0x00`` sync byte and
    INFO; ``seq`` counts every frame of every type. Call :meth:`next_frames` with increasing
    device times; the bytes do not depend on how the calls slice time.

    Args:
        config: what to simulate; defaults to :class:`SimConfig` ().
        keep_truth: keep per-sample ground truth for :meth:`truth` (memory grows with time).
    """

    def __init__(self, config: SimConfig | None = None, *, keep_truth: bool = True) -> None:
        cfg = config or SimConfig()
        self.config = cfg
        self.info, self._info_bytes = _info_payload(cfg)
        plan_seq, noise_seq = np.random.SeedSequence(cfg.seed).spawn(2)
        self._pattern: Pattern = make_pattern(cfg.pattern, cfg, np.random.default_rng(plan_seq))
        # Noise has its own stream, so planning further ahead never shifts it.
        self._noise = np.random.default_rng(noise_seq)
        self.period_us = cfg.period_us
        self.spf = cfg.frame_samples
        self._block = self.spf * max(1, round(_BLOCK_S * 1e6 / (self.period_us * self.spf)))
        self._keep_truth = keep_truth
        self._truth: list[tuple[FloatArray, FloatArray, FloatArray, np.ndarray, np.ndarray]] = []
        self._buf_raw = np.empty(0, dtype=np.int64)
        self._buf_clip = np.empty(0, dtype=bool)
        self._buf_start = 0  # sample index of _buf_raw[0]
        self._next = 0  # next sample index to send
        self._seq = 0
        self._events: list[tuple[int, int, str]] = []  # heap of (t_us, order, kind)
        self._order = 0
        self._saturated = False  # the flag in the last STATUS
        self._pinned = False  # a sample pinned at a rail since the last STATUS
        self._last_clipped = False
        self._wire_period = self.period_us if self.period_us <= _MAX_PERIOD_US else 0
        self._now_us = 0
        self.frames_sent = 0
        self._out = bytearray(frames.DELIMITER)  # a sync byte, as the firmware sends on start
        self._push(0, "info")
        self._push(0, "status")

    # -- public API ---------------------------------------------------------------------------

    @property
    def time_s(self) -> float:
        """Device time the output has reached, in seconds since the first sample."""
        return self._now_us / 1e6

    def next_frames(self, until_s: float) -> bytes:
        """Everything the tool sends up to device time ``until_s`` (seconds since start).

        A SAMPLES frame is sent once its last sample is taken; events go out at their time.
        """
        until_us = max(self._now_us, math.floor(until_s * 1e6 + 1e-6))
        while self._next_due_us() <= until_us:
            if self._events and self._events[0][0] <= self._frame_done_us():
                t_us, _, kind = heapq.heappop(self._events)
                self._send_event(t_us, kind)
            else:
                self._send_samples()
        self._now_us = until_us
        out, self._out = bytes(self._out), bytearray()
        return out

    def generate(self, duration_s: float) -> bytes:
        """The next ``duration_s`` seconds of output (see :meth:`next_frames`)."""
        return self.next_frames(self.time_s + duration_s)

    def next_due_s(self) -> float:
        """Device time at which the next frame (of any type) goes out."""
        return self._next_due_us() / 1e6

    def request_info(self) -> None:
        """Answer a HELLO: send INFO again with the next output."""
        self._push(self._now_us, "info")

    def truth(self) -> SimTruth:
        """Ground truth for every sample sent so far (needs ``keep_truth``)."""
        if not self._keep_truth:
            raise RuntimeError("this SimulatedTool was built with keep_truth=False")
        parts = list(zip(*self._truth, strict=True)) or [(np.empty(0),)] * 5
        t, force, raw, spike, clipped = (np.concatenate(p) for p in parts)
        n = self._next
        return SimTruth(
            t=t[:n],
            force_n=force[:n],
            raw=raw[:n],
            spike=spike[:n].astype(bool),
            clipped=clipped[:n].astype(bool),
        )

    # -- output -------------------------------------------------------------------------------

    def _push(self, t_us: int, kind: str) -> None:
        heapq.heappush(self._events, (t_us, self._order, kind))
        self._order += 1

    def _frame_done_us(self) -> int:
        return (self._next + self.spf - 1) * self.period_us

    def _next_due_us(self) -> int:
        done = self._frame_done_us()
        if self._next + self.spf > self._buf_start + self._buf_raw.size:
            self._generate_block()  # plans the pattern far enough to know its button events
        return min(done, self._events[0][0]) if self._events else done

    def _emit(self, ftype: int, t_us: int, payload: bytes) -> None:
        wire_t = (self.config.clock_start_us + t_us) % _U32
        self._out += frames.frame_serial(frames.build_body(ftype, self._seq, wire_t, payload))
        self._seq = (self._seq + 1) & 0xFFFF
        self.frames_sent += 1

    def _send_status(self, t_us: int) -> None:
        # Saturated = a sample pinned since the last STATUS (or right now): PROTOCOL.md §3.
        self._saturated, self._pinned = self._pinned or self._last_clipped, False
        battery = max(3300, round(_BATTERY_START_MV - t_us / 1e6 * _BATTERY_DRAIN_MV_PER_S))
        self._emit(FrameType.STATUS, t_us, frames.status_payload(battery, self._saturated))

    def _send_event(self, t_us: int, kind: str) -> None:
        if kind == "info":
            self._emit(FrameType.INFO, t_us, self._info_bytes)
        elif kind == "status":
            self._send_status(t_us)
            self._push(t_us + _STATUS_PERIOD_US, "status")
        else:
            self._emit(FrameType.BUTTON, t_us, frames.button_payload(kind == "press"))

    def _send_samples(self) -> None:
        i = self._next - self._buf_start
        raw = self._buf_raw[i : i + self.spf]
        clipped = bool(self._buf_clip[i : i + self.spf].any())
        done = self._frame_done_us()
        t_first = self._next * self.period_us
        self._emit(FrameType.SAMPLES, t_first, frames.samples_payload(self._wire_period, raw))
        self._next += self.spf
        self._last_clipped = clipped
        self._pinned |= clipped
        if self._pinned != self._saturated:  # the flag changes: STATUS at once
            self._send_status(done)

    # -- the model ----------------------------------------------------------------------------

    def _generate_block(self) -> None:
        cfg = self.config
        start = self._buf_start + self._buf_raw.size
        n = self._block
        t = np.arange(start, start + n, dtype=np.float64) * (self.period_us / 1e6)
        force = self._pattern.force(t)
        for t_event, pressed in self._pattern.take_buttons():
            self._push(round(t_event * 1e6), "press" if pressed else "release")
        counts = cfg.offset_counts + force * cfg.counts_per_n
        counts += self._noise.normal(0.0, 1.0, n) * cfg.noise_counts
        spike = np.zeros(n, dtype=bool)
        if self._pattern.spiky:
            spike = self._noise.random(n) < 1.0 / (_SPIKE_EVERY_S * cfg.rate_hz)
            size = self._noise.uniform(2.0, 6.0, n) * np.where(self._noise.random(n) < 0.8, 1, -1)
            counts += np.where(spike, size * cfg.counts_per_n, 0.0)
        raw = np.rint(counts)
        clipped = (raw > frames.ADC24_MAX) | (raw < frames.ADC24_MIN)
        raw = np.clip(raw, frames.ADC24_MIN, frames.ADC24_MAX)
        if self._keep_truth:
            t_dev = (cfg.clock_start_us + np.arange(start, start + n) * self.period_us) / 1e6
            self._truth.append((t_dev, force, raw, spike, clipped))
        keep = self._next - self._buf_start
        self._buf_raw = np.concatenate([self._buf_raw[keep:], raw.astype(np.int64)])
        self._buf_clip = np.concatenate([self._buf_clip[keep:], clipped])
        self._buf_start = self._next
