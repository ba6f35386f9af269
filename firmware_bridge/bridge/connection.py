"""The bridge's hold on the source: opened, its timing checked against arrival, silence turned
into NO SIGNAL, a loss reconnected with backoff (the same session goes on, with a gap), another
source switched to."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from firmware_bridge.bridge.state import BridgeState
from firmware_bridge.bridge.tuning import RECONNECT_BACKOFF_S
from firmware_bridge.claims import retimed
from firmware_bridge.errors import SourceError
from firmware_bridge.protocol.frames import FrameType
from firmware_bridge.readings import (
    DecoderStats,
    SampleBatch,
)
from firmware_bridge.sources import open_source, source_kind
from firmware_bridge.sources.base import Source
from firmware_bridge.sources.capture import CaptureWriter
from firmware_bridge.zones import SessionEvent

log = logging.getLogger(__name__)


class Connection(BridgeState):
    """Bridge part: opening, watching, losing and finding the tool again."""

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

    def _mark_gap(self) -> None:
        """The next samples start a gap's far end (recorded when they come)."""
        if self._lost_at is None and self.timebase.last_t_s is not None:
            self._lost_at = self._now_s()

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
        if self.lsl is not None:
            self.lsl.new_segment()
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


def _stats_of(source: Source) -> Callable[[], DecoderStats]:
    return lambda: source.stats
