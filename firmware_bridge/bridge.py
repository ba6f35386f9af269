"""The bridge: owns the tool, judges every sample, publishes the live feed, records sessions.

Single-threaded on purpose: read (≤ 10 ms wait) → decode → judge → queue, and every ≤ 50 ms one
store transaction with the new samples, events, counters and live state. Safety decisions (zones,
haptics, NO SIGNAL) are made here and nowhere else: a browser tab may or may not be open.

Two ways to run: ``pressureguard record`` records one session from start to exit; under the
launcher (``run``, ``demo``) the bridge serves the tool continuously and the dashboard starts and
stops sessions through commands in the store.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from calibration.device import MAX_AGE_DAYS, CalibrationStatus, resolve_calibration
from calibration.guided import GuidedMeasurement, MeasurementSettings
from calibration.tips import TOOL_TIP, get_tip, pressure_area, tip_in_use
from firmware_bridge.claims import ClaimFault, TimingCheck, checked_info, retimed
from firmware_bridge.commands import poll_commands
from firmware_bridge.decimate import minmax_indices
from firmware_bridge.errors import SourceError, SourceLostError, UsageError
from firmware_bridge.feedback import ToolFeedback
from firmware_bridge.limit_control import LimitControl
from firmware_bridge.live import LiveState, RateMeter
from firmware_bridge.pipeline.predict import DEFAULT_LEAD_S, LEAD_SETTING
from firmware_bridge.pipeline.signal import PipelineConfig, SignalPipeline
from firmware_bridge.protocol.frames import FrameType
from firmware_bridge.readings import (
    ButtonEvent,
    ClockReset,
    DecoderStats,
    DeviceInfo,
    DeviceStatus,
    Reading,
    SampleBatch,
    merge_batches,
)
from firmware_bridge.recorder import FaultTally, Sessions, concat_judged
from firmware_bridge.sources import SourceOptions, open_source, source_kind
from firmware_bridge.sources.base import Source
from firmware_bridge.sources.capture import CaptureWriter
from firmware_bridge.sources.identity import fallback_device_id
from firmware_bridge.store import Store
from firmware_bridge.timebase import TimeBase
from firmware_bridge.units import parse_region
from firmware_bridge.zones import JudgedSamples, SessionEvent, Zone

log = logging.getLogger(__name__)

#: One store transaction per 25 ms: the live view can show a new state 40 times a second.
FLUSH_S = 0.025
READ_TIMEOUT_S = 0.01
#: How long samples wait for the INFO frame (the calibration) before being judged uncalibrated.
INFO_WAIT_S = 1.0
RECONNECT_BACKOFF_S = (0.1, 0.2, 0.5, 1.0, 2.0)
#: Commands (a changed limit) are looked for as often as the store is written: a limit set on
#: the dashboard is judged within 2 × 25 ms.
COMMAND_POLL_S = FLUSH_S
LIVE_POINTS_PER_FLUSH = 64
DRAIN_S = 0.002
MAX_DRAIN_READS = 64
#: The store setting holding the zero shift in a session that is warned about (N), and its default:
#: well past a warmed-up cell's drift, so a temperature swing, a cable or a failing cell.
DRIFT_WARNING_SETTING = "drift_warning_n"
DRIFT_WARNING_N = 2.0
#: The calibration key of force the tool sends itself, and how that is said per wire format.
DEVICE_FORCE = "device-force"
DEVICE_FORCE_WORDS = {
    "text": "the tool's program sends force (text lines in N, g, kg or lbf)",
    "csv": "a replayed export: the force was recorded calibrated",
    "binary": "the tool sends calibrated force",
}


@dataclass(slots=True)
class RecordOptions:
    """What the bridge was asked to do.

    Attributes:
        record_session: record one session from start to exit (``record``); when false the
            bridge serves the tool and waits for ``start_session`` commands (the launcher).
    """

    source: str
    source_options: SourceOptions = field(default_factory=SourceOptions)
    profile: str = "default"
    region: str | None = None
    tip: str | None = None  # a key of calibration.tips.TIPS; None: the tool's own tip, if known
    limit_n: float | None = None
    duration_s: float | None = None
    capture: Path | None = None
    reconnect: bool = True
    started_at: datetime | None = None  # for seeded sessions; default: now
    record_session: bool = True


class Bridge:
    """Serves one tool: judges its samples, publishes them live and records sessions.

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
        region = str(parse_region(options.region)) if options.region else None
        self.live = LiveState(
            source=options.source,
            preset_limit_n=options.limit_n,
            profile=options.profile,
            region=region,
        )
        self.pipeline = SignalPipeline(PipelineConfig(limit_n=1.0))
        self.feedback = ToolFeedback()
        self._source: Source | None = None
        self.limits = LimitControl(store, self.pipeline, self.live, self._send_local_limit)
        self.pipeline.config.zero.warn_shift_n = _drift_warning_n(store)
        self.pipeline.predict.lead_s = _number_setting(
            store, LEAD_SETTING, DEFAULT_LEAD_S, zero_is_off=True
        )
        self.tip_key = options.tip
        self.timebase = TimeBase()
        self.timing = TimingCheck()
        self.live_timing = False  # the source's arrival times are real (not a replay's)
        self.rate = RateMeter()
        self.tally = FaultTally()
        self.sessions = Sessions(store, self.tally, options.started_at)
        self.error: str | None = None
        self._stop = False
        self._capture: CaptureWriter | None = None
        self._info: DeviceInfo | None = None
        self._info_deadline: float | None = None
        self._calibrated_for: str | None = None  # device key the calibration was resolved for
        self._waiting: list[tuple[SampleBatch, float]] = []
        self._live_samples: list[JudgedSamples] = []
        self._last_valid_host: float | None = None
        self._no_signal = True
        self._lost_at: float | None = None  # session time of the last sample before a loss
        self._use_tip()
        self.limits.resolve(options.profile, region, options.limit_n)

    @property
    def limit_n(self) -> float:
        """The comfort limit in force (the running profile and region's)."""
        return self.limits.limit_n

    @property
    def measurement(self) -> GuidedMeasurement | None:
        """The guided threshold measurement, running or finished, if any."""
        return self.limits.measurement

    @property
    def session_id(self) -> int | None:
        """The session being recorded, if any."""
        return self.sessions.session_id

    # -- public -----------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the loop to end cleanly (safe from a signal handler)."""
        self._stop = True

    def run(self) -> int | None:
        """Serve the tool until stopped, the duration passes or a replay ends.

        Returns:
            The id of the last session recorded (None if none was).

        Raises:
            SourceError: recording one session and the source cannot be opened (no session is
                created). When serving, an unavailable source is retried instead.
            StoreError: the store failed; everything committed before stays readable.
        """
        recovered = self.store.recover_orphans()
        if recovered:
            log.warning("closed %d session(s) left open by a recorder that died", len(recovered))
        last_session: int | None = None
        try:
            self._open()
        except SourceError as exc:
            if self.options.record_session:
                raise
            self._reconnect(str(exc))
        if self.options.record_session:
            last_session = self.start_session(self.options.profile, self.live.region)
        started = time.monotonic()
        next_flush = next_poll = started
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
                self.feedback.tick(now, self._source)
                if now >= next_poll:
                    last_session = self._poll_commands() or last_session
                    next_poll = now + COMMAND_POLL_S
                if now >= next_flush:
                    self._flush()
                    # fixed deadlines: a late flush must not push every later one back
                    next_flush = max(next_flush + FLUSH_S, now)
        finally:
            self._finish()
        return self.session_id or last_session

    def start_session(
        self,
        profile: str,
        region: str | None,
        pain_before: int | None = None,
        limit_n: float | None = None,
        tip: str | None = None,
    ) -> int:
        """Start recording a session (ending any running one first).

        Args:
            profile: whose session.
            region: where on the body, or None.
            pain_before: the pain rating (0–10) given before, if any.
            limit_n: a limit for this session only (else the profile's for region and tip).
            tip: the tip fitted for this session (a library key; ``""`` or ``"tool"``: the tool's
                own); None keeps the tip in use.

        Raises:
            UsageError: an unknown tip, or a threshold measurement is running.
        """
        if self.limits.measuring:
            raise UsageError("a threshold measurement is running: finish or cancel it first")
        if tip is not None:
            key = None if tip in ("", TOOL_TIP) else get_tip(tip).key
        if self.sessions.recorder is not None:
            self.stop_session()
        self.limits.measurement = None
        if tip is not None:
            self.tip_key = key
            self._use_tip()
        given = limit_n if limit_n is not None else self.options.limit_n  # `run --limit` presets it
        self.limits.resolve(profile, region, given)
        self.pipeline.new_session()
        session_id = self.sessions.begin(
            source=self.options.source,
            profile=profile,
            region=region,
            limit_n=self.limit_n,
            basis=self.limits.basis,
            fmt=self.live.format,
            pain_before=pain_before,
            now_s=self._now_s(),
        )
        self.live.recording, self.live.session_id = True, session_id
        self.live.profile, self.live.region = profile, region
        log.info("recording session %d (%s, %s)", session_id, profile, region or "no region")
        return session_id

    def stop_session(self, pain_after: int | None = None, note: str | None = None) -> int | None:
        """End the session being recorded; returns its id."""
        session_id = self.sessions.end(
            self.pipeline.totals,
            self.live,
            now_s=self._now_s(),
            reason=self.error or "stopped",
            pain_after=pain_after,
            note=note,
        )
        self.live.recording, self.live.session_id = False, None
        return session_id

    def set_limit(self, limit_n: float, basis: str) -> None:
        """Change the comfort limit live (a dashboard command); judged from the next sample."""
        self.limits.set_limit(limit_n)
        detail = {"limit_n": round(limit_n, 4), "basis": basis}
        self._emit(SessionEvent(self._now_s(), "limit", detail))
        if self.sessions.recorder is not None:
            self.sessions.recorder.update(limit_n=limit_n)

    # -- guided threshold measurement (the dashboard's Limits page) -------------------------

    def ppt_start(self, settings: MeasurementSettings) -> None:
        """Start a guided measurement; until it ends, force is judged against the profile ceiling.

        Raises:
            UsageError: a session is recording, or the region is an endangerment site.
            ValueError: a bad fraction or rest.
        """
        if self.sessions.recorder is not None:
            raise UsageError("a session is recording: stop it before measuring your threshold")
        self.limits.start_measurement(settings)
        self._emit(SessionEvent(self._now_s(), "ppt_start", {"region": settings.region}))

    def ppt_mark(self, t: float | None = None) -> None:
        """ "It starts to hurt" from the screen, at the session time of the sample the user saw."""
        self.limits.mark(t)

    def ppt_release(self) -> None:
        """End the running trial now."""
        self.limits.release(self.options.limit_n)

    def ppt_cancel(self) -> None:
        """Stop or dismiss the measurement; the comfort limit applies again."""
        self.limits.cancel(self.options.limit_n)

    # -- reading ----------------------------------------------------------------------------

    def _open(self) -> None:
        self._source = open_source(self.options.source, self.options.source_options)
        if self.options.capture and self._capture is None:
            framing = getattr(getattr(self._source, "transport", None), "framing", "stream")
            self._capture = CaptureWriter(self.options.capture, self.options.source, framing)
        if self._capture is not None:
            self._source.capture = self._capture.write
        self._source.send(FrameType.HELLO)
        self.live_timing = self._source.live_timing
        self.tally.connected(_stats_of(self._source))
        self.live.connected = True
        self.live.source = self.options.source
        self.live.message = ""

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

    def _mark_gap(self) -> None:
        """The next samples start a gap's far end (recorded when they come)."""
        if self._lost_at is None and self.timebase.last_t_s is not None:
            self._lost_at = self._now_s()

    def _check_timing(self, batch: SampleBatch, now: float) -> SampleBatch:
        """The tool's claimed period and clock checked against arrival; timed by arrival once
        they disagree (a fault, once per connection)."""
        fault = self.timing.observe(batch, now)
        if fault is not None:
            self._claim_fault(fault)
            self.timebase.new_segment()  # a leap, or from the device clock to the host's
            if fault.kind == "clock_jump":
                self._mark_gap()
        period = self.timing.measured_period_s
        if self.timing.retime and period:
            self.pipeline.set_period(period)
            return retimed(batch, now, period)
        return batch

    def _claim_fault(self, fault: ClaimFault) -> None:
        """A claim of the tool not believed: counted, recorded as a ``fault`` event, shown."""
        log.warning("%s", fault.message)
        self.live.device_faults += 1
        self.live.device_fault = fault.message
        self._emit(
            SessionEvent(self._now_s(), "fault", {"kind": fault.kind, "message": fault.message})
        )

    def _emit(self, event: SessionEvent) -> None:
        self.sessions.emit(event)

    def _now_s(self) -> float:
        return self.timebase.last_t_s or 0.0

    # -- what the tool tells us -------------------------------------------------------------

    def _on_info(self, info: DeviceInfo) -> None:
        info, faults = checked_info(info)
        for fault in faults:
            self._claim_fault(fault)
        previous = self._info
        known = previous is not None and previous.device_id == info.device_id
        self._info = info
        self.timing.claimed_rate_hz = info.rate_hz
        if known:
            assert previous is not None
            if (info.counts_per_n, info.offset_counts) != (previous.counts_per_n,
                                                            previous.offset_counts):  # fmt: skip
                self._calibration_changed_midstream(info)
            return
        self.live.device_id = info.device_id
        self.live.firmware = info.firmware
        self.live.nominal_rate_hz = info.rate_hz
        self.sessions.device_fields(
            device_id=info.device_id, firmware=info.firmware, rate_hz=info.rate_hz
        )
        self._use_tip()
        self.limits.set_overload(info.capacity_n)
        detail = {"device_id": info.device_id, "firmware": info.firmware}
        self._emit(SessionEvent(self._now_s(), "device", detail))
        self._calibrate(info)
        self._flush_waiting(force=True)

    def _calibrate(self, info: DeviceInfo | None) -> None:
        """Pick the calibration once per device: stored, else factory, else none (uncalibrated).

        A tool that does not say its id is known by :func:`fallback_device_id` (the calibration
        wizard saves under the same name).
        """
        device_id = info.device_id if info else fallback_device_id(self.options.source)
        if device_id == self._calibrated_for:
            return
        self._calibrated_for = device_id
        if info is None:
            self.live.device_id = device_id
            self.sessions.device_fields(device_id=device_id)
        calibration = resolve_calibration(
            device_id,
            self.store.current_calibration(device_id),
            info.counts_per_n if info else None,
            info.offset_counts if info else None,
        )
        self.pipeline.set_calibration(calibration)
        self._use_calibration(CalibrationStatus.of(calibration), device_id)

    def _calibration_changed_midstream(self, info: DeviceInfo) -> None:
        """The tool sent another factory calibration while connected: which one is right is not
        known, so its counts are not judged (the user's own stored calibration still is)."""
        self._claim_fault(ClaimFault(
            "info", "the tool changed its factory calibration while connected: its counts are "
            "not judged until it is calibrated or reconnected",
        ))  # fmt: skip
        device_id = info.device_id
        stored = self.store.current_calibration(device_id)
        calibration = resolve_calibration(device_id, stored, None, None)
        self.pipeline.set_calibration(calibration)
        self._use_calibration(CalibrationStatus.of(calibration), device_id)

    def _force_from_tool(self) -> None:
        """The tool sends force itself (text in N, g or kg; a Progressor; a replayed export):
        calibrated by the device, judged at once."""
        if self._calibrated_for == DEVICE_FORCE:
            return
        self._calibrated_for = DEVICE_FORCE
        what = DEVICE_FORCE_WORDS.get(self.live.format, DEVICE_FORCE_WORDS["binary"])
        self._use_calibration(CalibrationStatus.from_device(what), self.live.device_id)

    def _use_calibration(self, status: CalibrationStatus, device_id: str | None) -> None:
        """Tell the live view, the session and the tool what the force's calibration is."""
        self.live.calibrated = status.calibrated
        self.live.calibration_source = status.basis
        self.live.calibration_reason = status.reason
        detail = status.as_dict()
        warning = None
        if status.calibration is not None:
            max_age = float(self.store.get_setting("calibration_max_age_days", MAX_AGE_DAYS))
            warning = status.calibration.age_warning(max_age)
        self.live.calibration_warning = warning
        if warning:
            detail["warning"] = warning
            log.warning("%s: %s", device_id, warning)
        self._emit(SessionEvent(self._now_s(), "calibration", detail))
        self.sessions.device_fields(calibration=detail)
        self._send_local_limit()

    def _use_tip(self) -> None:
        """Work with the chosen tip, else the tool's own: its limits, and pressure only when the
        tip is known and flat (the session keeps both)."""
        tool_area = self._info.tip_area_cm2 if self._info else None
        tip = tip_in_use(self.tip_key, tool_area)
        self.live.tool_tip_area_cm2 = tool_area
        self.limits.tip = tip
        self.live.tip = tip.key if tip else None
        self.live.tip_label = tip.label if tip else None
        self.live.tip_area_cm2 = pressure_area(tip)
        self.sessions.device_fields(tip=self.live.tip, tip_area_cm2=self.live.tip_area_cm2)

    def tare(self) -> None:
        """Zero the reading if the tool is unloaded and still (the Zero button).

        The outcome comes a moment later, in the live state's ``tare`` (and as a ``tare`` event).

        Raises:
            UsageError: there is nothing to tare (the reason in words).
        """
        reason = self.pipeline.request_tare()
        if reason is not None:
            raise UsageError(reason)
        self.live.taring, self.live.tare = True, None
        log.info("zeroing asked for")

    def reload_calibration(self) -> None:
        """A calibration was saved (the Calibrate page): use it from the next sample."""
        self._calibrated_for = None
        self._calibrate(self._info)

    def _on_status(self, status: DeviceStatus) -> None:
        t = self.timebase.peek(status.t)
        self.live.battery_mv = status.battery_mv
        if status.saturated != self.pipeline.status_saturated:
            self._emit(SessionEvent(t, "saturated", {"active": status.saturated}))
        if status.adc_fault != self.pipeline.status_adc_fault:
            self._emit(SessionEvent(t, "adc_fault", {"active": status.adc_fault}))
        self.pipeline.status_saturated = status.saturated
        self.pipeline.status_adc_fault = status.adc_fault

    # -- what we tell the tool --------------------------------------------------------------

    def _react(self, event: SessionEvent) -> None:
        if event.kind in ("tare", "drift"):
            self.sessions.device_fields(tare_n=self.pipeline.tare_n)
            self._send_local_limit()
        if event.kind == "tare":
            accepted, asked = bool(event.detail.get("accepted")), bool(event.detail.get("asked"))
            if asked:
                self.live.taring = False
                self.live.tare = {**event.detail, "t_s": round(event.t_s, 3)}
            if accepted or not asked:  # the drift is counted afresh from here
                self.live.drift_warning = None
        elif event.kind == "drift":
            self.live.drift_warning = str(event.detail.get("reason") or "the zero moved")
        elif event.kind == "zone":
            self.feedback.zone_changed(Zone.from_label(str(event.detail["to"])), self._source)
        elif event.kind == "prewarn":
            self.feedback.prewarn(self._source)

    def haptic_test(self) -> None:
        """Let the user feel the caution pulse (a dashboard command)."""
        self.feedback.test(self._source)

    def _send_local_limit(self) -> None:
        """The tool buzzes by itself at the limit being judged (the ceiling while measuring)."""
        self.feedback.local_limit(
            self._source, self.pipeline.calibration, self.pipeline.config.limit_n,
            self.pipeline.zero_n,  # the tare plus the tracked drift: the counts the tool sees
        )  # fmt: skip

    # -- signal loss, reconnection, another source -------------------------------------------

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
        t = self._now_s()
        detail: dict[str, Any] = {"reason": message}
        if silent_s is not None:
            detail["after_s"] = silent_s
        self._emit(SessionEvent(t, "no_signal", detail))
        for event in self.pipeline.signal_lost(t):
            self._emit(event)
        self.live.show_no_signal(message)

    def _close_source(self) -> None:
        self.tally.disconnected()
        if self._source is not None:
            self._source.close()
            self._source = None
        self.live.connected = False

    def _reconnect(self, reason: str) -> None:
        log.warning("source lost: %s", reason)
        self._close_source()
        if self._lost_at is None and self.timebase.last_t_s is not None:
            self._lost_at = self._now_s()
            self._emit(SessionEvent(self._lost_at, "source_lost", {"reason": reason}))
        message = f"tool disconnected: {reason}; reconnecting"
        if not self._no_signal:
            self._enter_no_signal(message)
        self.live.show_no_signal(message)
        attempt = 0
        while not self._stop:
            self._flush()
            self._poll_commands()
            if self._source is not None:  # a `source` command opened another one meanwhile
                return
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
                self.live.message = f"cannot open {self.options.source}: {exc}"
                log.info("reconnect attempt %d failed: %s", attempt, exc)
                continue
            self._new_connection()
            log.info("reconnected to %s", self.options.source)
            return

    def _new_connection(self) -> None:
        """A (re)opened source may be another tool, on another clock, with another calibration."""
        self.timebase.new_segment()
        self.timing.reset()
        self._info = None
        self._info_deadline = None
        self._calibrated_for = None

    def switch_source(self, source: str) -> None:
        """Serve another source (a dashboard command); the running session continues with a gap.

        Raises:
            UsageError: the source string is malformed (nothing changes).
            SourceError: it cannot be opened (the bridge keeps retrying it).
        """
        source_kind(source)  # a malformed string changes nothing
        self._close_source()
        if self._lost_at is None and self.timebase.last_t_s is not None:
            self._lost_at = self._now_s()
        if not self._no_signal:
            self._enter_no_signal(f"switching to {source}")
        self.options.source = source
        self._new_connection()
        self._open()

    def _duration_over(self, wall_elapsed: float | None) -> bool:
        duration = self.options.duration_s
        if duration is None:
            return False
        return self._now_s() >= duration or (wall_elapsed is not None and wall_elapsed >= duration)

    # -- store ------------------------------------------------------------------------------

    def _flush(self) -> None:
        """Every ≤ 50 ms: the session's data, then the live feed and live state."""
        self.live.rate_hz = self.rate.rate_hz()
        if self.sessions.recorder is not None:
            self.sessions.recorder.flush(self.pipeline.totals, self.live)
        if self._live_samples:
            parts, self._live_samples = self._live_samples, []
            self.store.append_live(_for_live_view(concat_judged(parts)), self.session_id)
        self.live.lost_frames = self.tally.lost_frames()
        self.live.bad_frames = sum(self.tally.faults().values())
        self.live.ppt = self.limits.status()
        self.store.set_live(self.session_id, self.live.as_dict())

    def _poll_commands(self) -> int | None:
        return poll_commands(self.store, self)

    @property
    def default_profile(self) -> str:
        """Whose session a command starts when it names nobody."""
        return self.options.profile

    @property
    def one_session(self) -> bool:
        """Whether ending the session ends the bridge (``record``)."""
        return self.options.record_session

    def _finish(self) -> None:
        try:
            if self._source is not None:
                self._flush_waiting(force=True)
                self.feedback.off(self._source)
            self.live.connected = False
            self.live.show_no_signal("bridge stopped")
            self._flush()
            self.stop_session()
            self.store.set_live(None, self.live.as_dict())
        finally:
            if self._source is not None:
                self._source.close()
            if self._capture is not None:
                self._capture.close()


def _drift_warning_n(store: Store) -> float:
    """The zero shift (N) that is warned about, from the store setting ``drift_warning_n``."""
    return _number_setting(store, DRIFT_WARNING_SETTING, DRIFT_WARNING_N)


def _number_setting(store: Store, name: str, default: float, *, zero_is_off: bool = False) -> float:
    """A positive number from the store's settings (0 too where it means "off"); anything else is
    ignored with a warning and ``default`` used."""
    value = store.get_setting(name, default)
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and (value > 0 or (zero_is_off and value == 0)):
        return float(value)
    log.warning("ignoring the setting %s = %r: using %g", name, value, default)
    return default


def _for_live_view(judged: JudgedSamples) -> JudgedSamples:
    """Up to ~2.5 kHz the live feed gets every sample; beyond, min/max per bucket (peaks kept):
    the screen has no more pixels, and the session itself keeps every sample."""
    if len(judged) <= LIVE_POINTS_PER_FLUSH:
        return judged
    keep = minmax_indices(judged.filtered_n, LIVE_POINTS_PER_FLUSH)
    return JudgedSamples(
        judged.t_s[keep], judged.raw[keep], judged.force_n[keep], judged.filtered_n[keep],
        judged.zone[keep],
    )  # fmt: skip


def _stats_of(source: Source) -> Callable[[], DecoderStats]:
    return lambda: source.stats


def _take(batch: SampleBatch, keep: np.ndarray) -> SampleBatch:
    return SampleBatch(
        t=batch.t[keep],
        raw=batch.raw[keep],
        force_n=None if batch.force_n is None else batch.force_n[keep],
        device_clock=batch.device_clock,
        period_s=batch.period_s,
    )
