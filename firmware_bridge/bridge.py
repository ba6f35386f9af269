"""The bridge: owns the tool, runs the pipeline and records one session into the store.

Single-threaded on purpose: read (≤ 10 ms wait) → decode → judge → buffer, and every ≤ 50 ms one
store transaction with the new samples, events, counters and live state. Safety decisions
(zones, haptics, NO SIGNAL) are made here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from calibration.defaults import default_limit, overload_ceiling_n
from calibration.device import DeviceCalibration
from firmware_bridge.errors import SourceError, SourceLostError
from firmware_bridge.pipeline.signal import PipelineConfig, SignalPipeline
from firmware_bridge.protocol.frames import FrameType, Haptic, haptic_payload, local_limit_payload
from firmware_bridge.readings import (
    ButtonEvent,
    ClockReset,
    DeviceInfo,
    DeviceStatus,
    Reading,
    SampleBatch,
)
from firmware_bridge.sources import SourceOptions, open_source
from firmware_bridge.sources.base import Source
from firmware_bridge.sources.capture import CaptureWriter
from firmware_bridge.store import Store
from firmware_bridge.timebase import TimeBase
from firmware_bridge.units import parse_region
from firmware_bridge.zones import JudgedSamples, SessionEvent, Zone

log = logging.getLogger(__name__)

FLUSH_S = 0.05
READ_TIMEOUT_S = 0.01
#: How long samples wait for the INFO frame (the calibration) before being judged uncalibrated.
INFO_WAIT_S = 1.0
RECONNECT_BACKOFF_S = (0.1, 0.2, 0.5, 1.0, 2.0)
COMMAND_POLL_S = 0.05


@dataclass(slots=True)
class RecordOptions:
    """What ``pressureguard record`` was asked to do."""

    source: str
    source_options: SourceOptions = field(default_factory=SourceOptions)
    profile: str = "default"
    region: str | None = None
    limit_n: float | None = None
    duration_s: float | None = None
    capture: Path | None = None
    reconnect: bool = True


@dataclass(slots=True)
class LiveState:
    """What the bridge tells the dashboard besides samples (stored as the live row)."""

    connected: bool = False
    source: str = ""
    format: str = "unknown"
    zone: str = Zone.NO_SIGNAL.label
    force_n: float | None = None
    filtered_n: float | None = None
    limit_n: float | None = None
    t_s: float | None = None
    hold_s: float = 0.0
    ramp_warning: bool = False
    calibrated: bool = False
    device_id: str | None = None
    battery_mv: int | None = None
    rate_hz: float | None = None
    nominal_rate_hz: float | None = None
    lost_frames: int = 0
    bad_frames: int = 0
    message: str = ""


class Bridge:
    """Records one session from a source into a store.

    Args:
        store: the open session store.
        options: source, profile, region, limit, duration and capture.
        on_judged: optional observer called with every judged block (live printing, benchmarks).
    """

    def __init__(
        self,
        store: Store,
        options: RecordOptions,
        on_judged: Callable[[JudgedSamples, LiveState], None] | None = None,
    ) -> None:
        self.store = store
        self.options = options
        self.on_judged = on_judged
        self.region = str(parse_region(options.region)) if options.region else None
        self.limit_n, self.limit_basis = self._initial_limit()
        self.live = LiveState(source=options.source, limit_n=self.limit_n)
        self.pipeline = SignalPipeline(PipelineConfig(limit_n=self.limit_n))
        self.timebase = TimeBase()
        self.session_id: int | None = None
        self.error: str | None = None
        self._stop = False
        self._source: Source | None = None
        self._capture: CaptureWriter | None = None
        self._info: DeviceInfo | None = None
        self._info_deadline: float | None = None
        self._waiting: list[tuple[SampleBatch, float]] = []
        self._samples: list[JudgedSamples] = []
        self._events: list[SessionEvent] = []
        self._last_valid_host: float | None = None
        self._no_signal = True
        self._lost_at: float | None = None  # session time of the last sample before a loss
        self._gaps = 0
        self._faults_before: dict[str, int] = {}  # the open connection's counters at its start
        self._fault_acc: dict[str, int] = {}  # faults of connections already closed
        self._lost_before = 0
        self._rate_window: deque[tuple[float, int]] = deque(maxlen=64)
        self._haptic = Haptic.OFF

    def _initial_limit(self) -> tuple[float, str]:
        if self.options.limit_n is not None:
            return self.options.limit_n, "set on the command line"
        if self.region:
            current = self.store.current_limit(self.options.profile, self.region)
            if current:
                return float(current["limit_n"]), f"your {current.get('source', 'saved')} limit"
        shipped = default_limit(parse_region(self.region).slug if self.region else None)
        return shipped.limit_n, shipped.basis

    # -- public -----------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the loop to end the session cleanly (safe from a signal handler)."""
        self._stop = True

    def run(self) -> int:
        """Open the source, record until stopped, the duration passes or a replay ends.

        Returns:
            The session id.

        Raises:
            SourceError: the source could not be opened at all (no session is created).
            StoreError: the store failed; everything committed before stays readable.
        """
        recovered = self.store.recover_orphans()
        if recovered:
            log.warning("closed %d session(s) left open by a recorder that died", len(recovered))
        self._open()
        assert self._source is not None
        self.session_id = self.store.begin_session(
            source=self.options.source,
            profile=self.options.profile,
            region=self.region,
            limit_n=self.limit_n,
            meta={"limit_basis": self.limit_basis, "format": self._source.format},
        )
        self.store.add_events(
            self.session_id,
            [
                SessionEvent(
                    0.0, "limit", {"limit_n": round(self.limit_n, 4), "basis": self.limit_basis}
                )
            ],
        )
        started = time.monotonic()
        next_flush = started + FLUSH_S
        next_poll = started
        try:
            while not self._stop:
                now = time.monotonic()
                if self._duration_over(now - started):
                    break
                try:
                    self._step(now)
                except EOFError:
                    self._flush_waiting(force=True)
                    break
                except SourceLostError as exc:
                    if not self.options.reconnect:
                        self.error = str(exc)
                        break
                    self._reconnect(str(exc))
                now = time.monotonic()
                self._check_signal(now)
                if now >= next_poll:
                    self._poll_commands()
                    next_poll = now + COMMAND_POLL_S
                if now >= next_flush:
                    self._flush()
                    next_flush = now + FLUSH_S
        finally:
            self._finish()
        return self.session_id

    # -- loop steps -------------------------------------------------------------------------

    def _open(self) -> None:
        self._source = open_source(self.options.source, self.options.source_options)
        if self.options.capture and self._capture is None:
            framing = getattr(getattr(self._source, "transport", None), "framing", "stream")
            self._capture = CaptureWriter(self.options.capture, self.options.source, framing)
        if self._capture is not None:
            self._source.capture = self._capture.write
        self._source.send(FrameType.HELLO)
        self._faults_before = dict(self._source.stats.faults)
        self.live.connected = True
        self.live.message = ""

    def _step(self, now: float) -> None:
        assert self._source is not None
        readings = self._source.read(READ_TIMEOUT_S)
        self.live.format = self._source.format
        for reading in readings:
            self._handle(reading, now)
        self._flush_waiting(force=False)

    def _handle(self, reading: Reading, now: float) -> None:
        if isinstance(reading, SampleBatch):
            if self._awaiting_info(reading, now):
                self._waiting.append((reading, now))
            else:
                self._process(reading, now)
        elif isinstance(reading, DeviceInfo):
            self._on_info(reading)
        elif isinstance(reading, ButtonEvent):
            t = self._event_time(reading.t)
            self._events.append(SessionEvent(t, "button", {"pressed": reading.pressed}))
        elif isinstance(reading, DeviceStatus):
            self._on_status(reading)
        elif isinstance(reading, ClockReset):
            self.timebase.new_segment()
            self._events.append(SessionEvent(self.timebase.last_t_s or 0.0, "clock_reset", {}))

    def _awaiting_info(self, batch: SampleBatch, now: float) -> bool:
        """Binary tools announce their calibration in INFO; judge nothing before it, briefly."""
        if self._info is not None or batch.force_n is not None or not batch.device_clock:
            return False
        if self._info_deadline is None:
            self._info_deadline = now + INFO_WAIT_S
        return now < self._info_deadline

    def _flush_waiting(self, force: bool) -> None:
        if not self._waiting:
            return
        if not force and self._info is None and time.monotonic() < (self._info_deadline or 0):
            return
        waiting, self._waiting = self._waiting, []
        if self._info is None:
            self._calibrate_for(None)
        for batch, arrived in waiting:
            self._process(batch, arrived)

    def _process(self, batch: SampleBatch, now: float) -> None:
        t_s = self.timebase.map(batch.t, now, batch.period_s)
        if self._lost_at is not None:
            self._gaps += 1
            self._events.append(
                SessionEvent(
                    self._lost_at,
                    "gap",
                    {"start_s": round(self._lost_at, 6), "end_s": round(float(t_s[0]), 6)},
                )
            )
            self._lost_at = None
        if self.options.duration_s is not None and t_s[-1] >= self.options.duration_s:
            keep = t_s < self.options.duration_s
            if not keep.any():
                self._stop = True
                return
            t_s, batch = t_s[keep], _take(batch, keep)
            self._stop = True
        if self.pipeline.calibration is None and batch.force_n is None and self._info is None:
            self._calibrate_for(None)
        judged, events = self.pipeline.process(t_s, batch.raw, batch.force_n, batch.period_s)
        self._last_valid_host = now
        if self._no_signal:
            self._no_signal = False
            self._events.append(SessionEvent(float(t_s[0]), "signal", {}))
        self._rate_window.append((now, len(batch)))
        for event in events:
            self._on_event(event)
        self._events += events
        if judged is not None:
            self._samples.append(judged)
            self._update_live(judged)
            if self.on_judged is not None:
                self.on_judged(judged, self.live)

    # -- device information -----------------------------------------------------------------

    def _on_info(self, info: DeviceInfo) -> None:
        first = self._info is None or self._info.device_id != info.device_id
        self._info = info
        if not first:
            return
        self.live.device_id = info.device_id
        self.live.nominal_rate_hz = info.rate_hz
        assert self.session_id is not None
        self.store.update_session(
            self.session_id,
            device_id=info.device_id,
            firmware=info.firmware,
            tip_area_cm2=info.tip_area_cm2,
            rate_hz=info.rate_hz,
        )
        self.pipeline.judge.ceiling_n = overload_ceiling_n(info.capacity_n)
        self._events.append(
            SessionEvent(
                self.timebase.last_t_s or 0.0,
                "device",
                {"device_id": info.device_id, "firmware": info.firmware},
            )
        )
        self._calibrate_for(info)
        self._flush_waiting(force=True)

    def _calibrate_for(self, info: DeviceInfo | None) -> None:
        device_id = info.device_id if info else f"serial:{self.options.source}"
        stored = self.store.current_calibration(device_id)
        calibration: DeviceCalibration | None = None
        if stored:
            calibration = DeviceCalibration(
                counts_per_n=float(stored["counts_per_n"]),
                offset_counts=float(stored["offset_counts"]),
                source="stored",
                device_id=device_id,
                created_at=stored.get("created_at"),
            )
        elif info and info.counts_per_n:
            calibration = DeviceCalibration(
                counts_per_n=info.counts_per_n,
                offset_counts=info.offset_counts or 0.0,
                source="factory",
                device_id=device_id,
            )
        if calibration == self.pipeline.calibration and self.session_id is not None and calibration:
            return
        self.pipeline.set_calibration(calibration)
        self.live.calibrated = calibration is not None
        detail = calibration.as_dict() if calibration else {"status": "uncalibrated"}
        self._events.append(SessionEvent(self.timebase.last_t_s or 0.0, "calibration", detail))
        if self.session_id is not None:
            self.store.update_session(self.session_id, calibration=detail)
        self._send_local_limit()

    def _on_status(self, status: DeviceStatus) -> None:
        t = self._event_time(status.t)
        self.live.battery_mv = status.battery_mv
        if status.saturated != self.pipeline.status_saturated:
            self._events.append(SessionEvent(t, "saturated", {"active": status.saturated}))
        if status.adc_fault != self.pipeline.status_adc_fault:
            self._events.append(SessionEvent(t, "adc_fault", {"active": status.adc_fault}))
        self.pipeline.status_saturated = status.saturated
        self.pipeline.status_adc_fault = status.adc_fault

    def _event_time(self, device_t: float) -> float:
        """Session time of a device event, on the same mapping as the samples."""
        return self.timebase.peek(device_t)

    # -- safety outputs ---------------------------------------------------------------------

    def _on_event(self, event: SessionEvent) -> None:
        if event.kind == "tare":
            assert self.session_id is not None
            self.store.update_session(self.session_id, tare_n=self.pipeline.tare_n)
            self._send_local_limit()
        if event.kind != "zone":
            return
        zone = Zone.from_label(str(event.detail["to"]))
        pattern = {Zone.OVER: Haptic.CAUTION, Zone.DANGER: Haptic.CONTINUOUS}.get(zone, Haptic.OFF)
        if zone == Zone.NO_SIGNAL or pattern == self._haptic:
            return
        self._haptic = pattern
        if self._source is not None:
            self._source.send(FrameType.HAPTIC, haptic_payload(pattern))

    def _send_local_limit(self) -> None:
        """Let the tool buzz by itself past the limit, even if this host stalls."""
        calibration = self.pipeline.calibration
        if self._source is None or calibration is None:
            return
        threshold = calibration.counts_for(self.limit_n + self.pipeline.tare_n)
        direction = 1 if calibration.counts_per_n > 0 else -1
        self._source.send(FrameType.LOCAL_LIMIT, local_limit_payload(threshold, direction))

    def set_limit(self, limit_n: float, basis: str) -> None:
        """Change the comfort limit live (from a dashboard command)."""
        self.limit_n = limit_n
        self.pipeline.set_limit(limit_n)
        self.live.limit_n = limit_n
        self._events.append(
            SessionEvent(
                self.timebase.last_t_s or 0.0,
                "limit",
                {"limit_n": round(limit_n, 4), "basis": basis},
            )
        )
        if self.session_id is not None:
            self.store.update_session(self.session_id, limit_n=limit_n)
        self._send_local_limit()

    # -- signal loss and reconnection -------------------------------------------------------

    def _check_signal(self, now: float) -> None:
        if self._no_signal or self._last_valid_host is None:
            return
        timeout = max(0.5, 5 * self.timebase.period_s)
        if now - self._last_valid_host > timeout:
            silent_s = round(now - self._last_valid_host, 3)
            self._enter_no_signal(f"no valid sample for {silent_s} s", silent_s)

    def _enter_no_signal(self, message: str, silent_s: float | None = None) -> None:
        """Show NO SIGNAL (never the last value) and restart the filters."""
        self._no_signal = True
        t = self.timebase.last_t_s or 0.0
        detail: dict[str, Any] = {"reason": message}
        if silent_s is not None:
            detail["after_s"] = silent_s
        self._events.append(SessionEvent(t, "no_signal", detail))
        self._events += self.pipeline.signal_lost(t)
        self._set_live_no_signal(message)

    def _reconnect(self, reason: str) -> None:
        log.warning("source lost: %s", reason)
        self._count_faults()
        if self._source is not None:
            self._source.close()
            self._source = None
        self.live.connected = False
        if self._lost_at is None:
            self._lost_at = self.timebase.last_t_s or 0.0
            self._events.append(SessionEvent(self._lost_at, "source_lost", {"reason": reason}))
        message = f"tool disconnected: {reason}; reconnecting"
        if not self._no_signal:
            self._enter_no_signal(message)
        self._set_live_no_signal(message)
        attempt = 0
        while not self._stop:
            self._flush()
            self._poll_commands()
            delay = RECONNECT_BACKOFF_S[min(attempt, len(RECONNECT_BACKOFF_S) - 1)]
            deadline = time.monotonic() + delay
            while not self._stop and time.monotonic() < deadline:
                time.sleep(0.02)
            if self._stop or self._duration_over(None):
                return
            try:
                self._open()
            except SourceError as exc:
                attempt += 1
                log.info("reconnect attempt %d failed: %s", attempt, exc)
                continue
            self.timebase.new_segment()
            self._info = None
            self._info_deadline = None
            log.info("reconnected to %s", self.options.source)
            return

    def _set_live_no_signal(self, message: str) -> None:
        self.live.zone = Zone.NO_SIGNAL.label
        self.live.force_n = None
        self.live.filtered_n = None
        self.live.message = message

    def _duration_over(self, wall_elapsed: float | None) -> bool:
        duration = self.options.duration_s
        if duration is None:
            return False
        session_t = self.timebase.last_t_s or 0.0
        return session_t >= duration or (wall_elapsed is not None and wall_elapsed >= duration)

    # -- store ------------------------------------------------------------------------------

    def _count_faults(self) -> None:
        """Fold the closing connection's decoder counters into the session totals."""
        if self._source is None:
            return
        stats = self._source.stats
        for kind, count in stats.faults.items():
            delta = count - self._faults_before.get(kind, 0)
            self._fault_acc[kind] = self._fault_acc.get(kind, 0) + delta
        self._lost_before += stats.lost_frames
        self._faults_before = dict(stats.faults)

    def counters(self) -> dict[str, Any]:
        """Session counters as stored (and shown by ``sessions show``)."""
        faults = dict(self._fault_acc)
        lost = self._lost_before
        if self._source is not None:
            stats = self._source.stats
            for kind, count in stats.faults.items():
                faults[kind] = faults.get(kind, 0) + count - self._faults_before.get(kind, 0)
            lost += stats.lost_frames
        totals = self.pipeline.totals
        return {
            "n_samples": totals.n_samples,
            "peak_n": totals.peak_n if np.isfinite(totals.peak_n) else None,
            "time_over_limit_s": round(totals.time_over_limit_s, 6),
            "time_in_zone_s": {k: round(v, 6) for k, v in totals.time_in_zone_s.items()},
            "dropped_frames": lost,
            "bad_frames": sum(faults.values()),
            "bad_frames_by_kind": {k: v for k, v in faults.items() if v},
            "gaps": self._gaps,
        }

    def _update_live(self, judged: JudgedSamples) -> None:
        live = self.live
        live.zone = Zone(int(judged.zone[-1])).label
        live.force_n = _finite(judged.force_n[-1])
        live.filtered_n = _finite(judged.filtered_n[-1])
        live.t_s = float(judged.t_s[-1])
        live.hold_s = round(self.pipeline.hold.held_s(live.t_s), 2)
        live.ramp_warning = self.pipeline.ramp.active
        live.message = ""

    def _measured_rate(self) -> float | None:
        if len(self._rate_window) < 2:
            return None
        span = self._rate_window[-1][0] - self._rate_window[0][0]
        count = sum(n for _, n in list(self._rate_window)[1:])
        return round(count / span, 2) if span > 0.2 else None

    def _flush(self) -> None:
        if self.session_id is None:
            return
        sid = self.session_id
        if self._samples:
            parts, self._samples = self._samples, []
            self.store.append_samples(sid, _concat(parts))
        if self._events:
            events, self._events = self._events, []
            self.store.add_events(sid, events)
        counters = self.counters()
        self.live.rate_hz = self._measured_rate()
        self.live.lost_frames = counters["dropped_frames"]
        self.live.bad_frames = counters["bad_frames"]
        self.store.set_counters(sid, counters)
        self.store.heartbeat(sid)
        self.store.set_live(sid, _live_dict(self.live))
        self.store.commit()

    def _poll_commands(self) -> None:
        for command in self.store.take_commands():
            kind, args = command["kind"], command.get("args") or {}
            result: dict[str, Any] = {"ok": True}
            if kind == "stop":
                self.stop()
            elif (
                kind == "limit"
                and isinstance(args.get("limit_n"), int | float)
                and args["limit_n"] > 0
            ):
                self.set_limit(
                    float(args["limit_n"]), str(args.get("basis", "set from the dashboard"))
                )
            else:
                result = {"ok": False, "error": f"unsupported command {kind!r}"}
            self.store.finish_command(command["id"], result)

    def _finish(self) -> None:
        try:
            if self._source is not None:
                self._flush_waiting(force=True)
                if self._haptic != Haptic.OFF:
                    self._source.send(FrameType.HAPTIC, haptic_payload(Haptic.OFF))
            self.live.connected = False
            self._set_live_no_signal("session ended")
            self._flush()
            if self.session_id is not None:
                reason = "error" if self.error else "stopped"
                self.store.end_session(self.session_id, reason=self.error or reason)
        finally:
            if self._source is not None:
                self._source.close()
            if self._capture is not None:
                self._capture.close()


def _take(batch: SampleBatch, keep: np.ndarray) -> SampleBatch:
    return SampleBatch(
        t=batch.t[keep],
        raw=batch.raw[keep],
        force_n=None if batch.force_n is None else batch.force_n[keep],
        device_clock=batch.device_clock,
        period_s=batch.period_s,
    )


def _concat(parts: list[JudgedSamples]) -> JudgedSamples:
    if len(parts) == 1:
        return parts[0]
    return JudgedSamples(
        t_s=np.concatenate([p.t_s for p in parts]),
        raw=np.concatenate([p.raw for p in parts]),
        force_n=np.concatenate([p.force_n for p in parts]),
        filtered_n=np.concatenate([p.filtered_n for p in parts]),
        zone=np.concatenate([p.zone for p in parts]),
    )


def _finite(value: float) -> float | None:
    return round(float(value), 4) if np.isfinite(value) else None


def _live_dict(live: LiveState) -> dict[str, Any]:
    return dataclasses.asdict(live)
