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

from calibration.guided import GuidedMeasurement
from firmware_bridge.bridge.connection import Connection
from firmware_bridge.bridge.control import SessionControl
from firmware_bridge.bridge.owner import BridgeLock
from firmware_bridge.bridge.reading import ReadingPart, for_live_view
from firmware_bridge.bridge.state import BridgeState, RecordOptions
from firmware_bridge.bridge.tool import ToolReports
from firmware_bridge.bridge.tuning import (
    COMMAND_POLL_S,
    DRIFT_WARNING_N,
    DRIFT_WARNING_SETTING,
    FINAL_WAIT_S,
    FLUSH_S,
    STORE_WAIT_S,
)
from firmware_bridge.claims import TimingCheck
from firmware_bridge.commands import poll_commands
from firmware_bridge.errors import SourceError, SourceLostError, StoreBusyError
from firmware_bridge.feedback import ToolFeedback
from firmware_bridge.limit_control import LimitControl
from firmware_bridge.live import LiveState, RateMeter
from firmware_bridge.lsl_outlet import LslOutlet
from firmware_bridge.pipeline.predict import DEFAULT_LEAD_S, LEAD_SETTING
from firmware_bridge.pipeline.signal import PipelineConfig, SignalPipeline
from firmware_bridge.readings import (
    DeviceInfo,
    SampleBatch,
)
from firmware_bridge.recorder import FaultTally, Sessions, concat_judged
from firmware_bridge.sources.base import Source
from firmware_bridge.sources.capture import CaptureWriter
from firmware_bridge.store import Store
from firmware_bridge.timebase import TimeBase
from firmware_bridge.units import parse_region
from firmware_bridge.zones import JudgedSamples, SessionEvent

log = logging.getLogger(__name__)


class Bridge(SessionControl, ReadingPart, ToolReports, Connection, BridgeState):
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
        self._busy_since: float | None = None  # since when another program locks the store
        self._owner = BridgeLock(store.path)
        self.lsl: LslOutlet | None = None
        if options.lsl:
            self.set_lsl(True)
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

    def stop(self) -> None:
        """Ask the loop to end cleanly (safe from a signal handler)."""
        self._stop = True

    def set_lsl(self, on: bool) -> None:
        """Start or stop streaming to Lab Streaming Layer (``--lsl``, the Device page's switch).

        Raises:
            SourceUnavailableError: pylsl is not installed (nothing changes).
        """
        if on and self.lsl is None:
            rate = self.live.nominal_rate_hz or 0.0
            self.lsl = LslOutlet(f"pressureguard:{self.options.source}", rate)
            log.info("streaming to LSL as %r", self.lsl.name)
        elif not on and self.lsl is not None:
            self.lsl.close()
            self.lsl = None
        self.live.lsl = self.lsl is not None

    def run(self) -> int | None:
        """Serve the tool until stopped, the duration passes or a replay ends.

        Returns:
            The id of the last session recorded (None if none was).

        Raises:
            SourceError: recording one session and the source cannot be opened (no session is
                created). When serving, an unavailable source is retried instead.
            StoreError: the store failed; everything committed before stays readable.
        """
        self._owner.acquire()  # one bridge per store: a second is refused here
        try:
            last_session = self._begin()
        except BaseException:
            self._release()
            raise
        self.store.set_busy_timeout(STORE_WAIT_S)  # from here on the loop must go on judging
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

    def _begin(self) -> int | None:
        """Close what a dead recorder left open, open the tool, start ``record``'s session."""
        self.store.set_busy_timeout(FINAL_WAIT_S)  # starting: wait out another program's lock
        recovered = self.store.recover_orphans()
        if recovered:
            log.warning("closed %d session(s) left open by a recorder that died", len(recovered))
        try:
            self._open()
        except SourceError as exc:
            if self.options.record_session:
                raise
            self.store.set_busy_timeout(STORE_WAIT_S)
            self._reconnect(str(exc))
        if self.options.record_session:
            return self.start_session(self.options.profile, self.live.region)
        return None

    def _emit(self, event: SessionEvent) -> None:
        self.sessions.emit(event)

    def _now_s(self) -> float:
        return self.timebase.last_t_s or 0.0

    def _duration_over(self, wall_elapsed: float | None) -> bool:
        duration = self.options.duration_s
        if duration is None:
            return False
        return self._now_s() >= duration or (wall_elapsed is not None and wall_elapsed >= duration)

    def _flush(self) -> None:
        """Every ≤ 50 ms: the session's data, then the live feed and live state.

        A store another program keeps locked is retried at the next flush: what was to be
        written waits in memory (nothing is lost) and the judging goes on meanwhile.
        """
        try:
            self._write_out()
        except StoreBusyError as exc:
            if self._busy_since is None:
                self._busy_since = time.monotonic()
                log.warning("%s: keeping the samples and trying again", exc)
            return
        if self._busy_since is not None:
            waited = time.monotonic() - self._busy_since
            self._busy_since = None
            log.warning("store free again after %.1f s: everything kept was saved", waited)

    def _write_out(self) -> None:
        self.live.rate_hz = self.rate.rate_hz()
        if self.sessions.recorder is not None:
            self.sessions.recorder.flush(self.pipeline.totals, self.live)
        if self._live_samples:
            parts, self._live_samples = self._live_samples, []
            self.store.append_live(for_live_view(concat_judged(parts)), self.session_id)
        self.live.lost_frames = self.tally.lost_frames()
        self.live.bad_frames = sum(self.tally.faults().values())
        self.live.ppt = self.limits.status()
        self.live.show_link(self._source.link_status() if self._source is not None else None)
        self.store.set_live(self.session_id, self.live.as_dict())

    def _poll_commands(self) -> int | None:
        try:
            return poll_commands(self.store, self)
        except StoreBusyError:
            return None  # the commands wait in the store: taken at the next poll

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
            self.store.set_busy_timeout(FINAL_WAIT_S)  # what is kept must be saved now
            self._flush()
            self.stop_session()
            self.store.set_live(None, self.live.as_dict())
        finally:
            self._release()

    def _release(self) -> None:
        """Let go of the tool, the capture file and the store."""
        try:
            if self._source is not None:
                self._source.close()
            if self._capture is not None:
                self._capture.close()
        finally:
            self._owner.release()
            self.set_lsl(False)


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
