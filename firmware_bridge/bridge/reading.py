"""The bridge's reading path: batches merged, INFO awaited, timing checked, samples mapped to
session time, judged, recorded and published."""

from __future__ import annotations

import logging
import time

import numpy as np

from firmware_bridge.bridge.state import BridgeState
from firmware_bridge.bridge.tuning import (
    DRAIN_S,
    INFO_WAIT_S,
    LIVE_POINTS_PER_FLUSH,
    MAX_DRAIN_READS,
    READ_TIMEOUT_S,
)
from firmware_bridge.decimate import minmax_indices
from firmware_bridge.errors import SourceLostError
from firmware_bridge.readings import (
    ButtonEvent,
    ClockReset,
    DeviceInfo,
    DeviceStatus,
    Reading,
    SampleBatch,
    merge_batches,
)
from firmware_bridge.zones import JudgedSamples, SessionEvent

log = logging.getLogger(__name__)


class ReadingPart(BridgeState):
    """Bridge part: what arrives from the tool, judged, recorded and published."""

    def feed(self, readings: list[Reading], now: float) -> None:
        """Judge, record and publish readings that arrived at host time ``now``.

        The read loop calls this with what the source delivered; a test can call it with
        readings and arrival times of its own (a tool with wrong timing, say).
        """
        for reading in readings:
            self._handle(reading, now)
        self._flush_waiting(force=False, now=now)

    def _step(self, now: float) -> None:
        if self._source is None:  # serving, and the source could not be opened yet
            self._reconnect("no source")
            return
        readings = self._source.read(READ_TIMEOUT_S)
        ended: EOFError | SourceLostError | None = None
        if readings:
            # Under load, take what else has already arrived and judge it as one block; never
            # wait for more (a lone frame is judged at once) and never hold a block past DRAIN_S.
            deadline = now + DRAIN_S
            for _ in range(MAX_DRAIN_READS):
                try:
                    more = self._source.read(0.0)
                except (EOFError, SourceLostError) as exc:
                    ended = exc  # judge what already arrived first, then report the end
                    break
                if not more:
                    break
                readings += more
                if time.monotonic() > deadline:
                    break
            readings = merge_batches(readings)
        self.live.format = self._source.format
        self.feed(readings, now)
        if ended is not None:
            raise ended

    def _handle(self, reading: Reading, now: float) -> None:
        if isinstance(reading, SampleBatch):
            if self._awaiting_info(reading, now):
                self._waiting.append((reading, now))
            else:
                self._process(reading, now)
        elif isinstance(reading, DeviceInfo):
            self._on_info(reading)
        elif isinstance(reading, ButtonEvent):
            t = self.timebase.peek(reading.t)
            self._emit(SessionEvent(t, "button", {"pressed": reading.pressed}))
            if self.limits.measurement is not None and reading.pressed:
                self.limits.mark(t)
        elif isinstance(reading, DeviceStatus):
            self._on_status(reading)
        elif isinstance(reading, ClockReset):
            # the tool restarted (or its clock stepped back): an event and a gap, the session
            # and the judging go on
            self.timebase.new_segment()
            self.timing.reset()
            self._emit(SessionEvent(self._now_s(), "clock_reset", {}))
            self._mark_gap()

    def _awaiting_info(self, batch: SampleBatch, now: float) -> bool:
        """Binary tools announce their calibration in INFO; judge nothing before it, briefly."""
        if self._info is not None or batch.force_n is not None or not batch.device_clock:
            return False
        if self._info_deadline is None:
            self._info_deadline = now + INFO_WAIT_S
        return now < self._info_deadline

    def _flush_waiting(self, force: bool, now: float | None = None) -> None:
        if not self._waiting:
            return
        now = time.monotonic() if now is None else now
        if not force and self._info is None and now < (self._info_deadline or 0):
            return
        waiting, self._waiting = self._waiting, []
        for batch, arrived in waiting:
            self._process(batch, arrived)

    def _process(self, batch: SampleBatch, now: float) -> None:
        if self.live_timing:
            batch = self._check_timing(batch, now)
        t_s = self.timebase.map(batch.t, now, batch.period_s)
        if self._lost_at is not None:
            if self.sessions.recorder is not None:
                self.sessions.recorder.gaps += 1
            span = {"start_s": self._lost_at, "end_s": float(t_s[0])}
            self._emit(SessionEvent(self._lost_at, "gap", span))
            self._lost_at = None
        if self.options.duration_s is not None and t_s[-1] >= self.options.duration_s:
            keep = t_s < self.options.duration_s
            self._stop = True
            if not keep.any():
                return
            t_s, batch = t_s[keep], _take(batch, keep)
        if batch.force_n is not None:
            self._force_from_tool()
        elif self._info is None:
            self._calibrate(None)
        judged, events = self.pipeline.process(t_s, batch.raw, batch.force_n, batch.period_s)
        self._last_valid_host = now
        if self._no_signal:
            self._no_signal = False
            self._emit(SessionEvent(float(t_s[0]), "signal", {}))
        self.rate.add(now, len(batch))
        for event in events:
            self._react(event)
            self._emit(event)
        if judged is None:
            return
        if self.sessions.recorder is not None:
            self.sessions.recorder.samples(judged)
        self._live_samples.append(judged)
        if self.lsl is not None:
            self.lsl.push(judged)
        self.limits.feed(judged, self.options.limit_n)
        t_last = float(judged.t_s[-1])
        self.live.show_samples(
            judged,
            self.pipeline.hold.held_s(t_last),
            self.pipeline.hold.prompted and self.pipeline.hold.start is not None,
            self.pipeline.ramp.active,
        )
        self.live.show_prewarn(self.pipeline.predict.time_to_limit_s)
        self.live.zero_shift_n = round(self.pipeline.zero_shift_n, 3)
        if self.on_judged is not None:
            self.on_judged(judged, self.live)


def for_live_view(judged: JudgedSamples) -> JudgedSamples:
    """Up to ~2.5 kHz the live feed gets every sample; beyond, min/max per bucket (peaks kept):
    the screen has no more pixels, and the session itself keeps every sample."""
    if len(judged) <= LIVE_POINTS_PER_FLUSH:
        return judged
    keep = minmax_indices(judged.filtered_n, LIVE_POINTS_PER_FLUSH)
    return JudgedSamples(
        judged.t_s[keep], judged.raw[keep], judged.force_n[keep], judged.filtered_n[keep],
        judged.zone[keep],
    )  # fmt: skip


def _take(batch: SampleBatch, keep: np.ndarray) -> SampleBatch:
    return SampleBatch(
        t=batch.t[keep],
        raw=batch.raw[keep],
        force_n=None if batch.force_n is None else batch.force_n[keep],
        device_clock=batch.device_clock,
        period_s=batch.period_s,
    )
