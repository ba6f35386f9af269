"""What every part of the bridge shares: its options, and the state its parts read and write.

:class:`~firmware_bridge.bridge.core.Bridge` sets all of it up; each part (reading, tool,
connection, control) is a base class of the bridge that works on this state. The methods below
are each defined by exactly one part; they are declared here so every part can call them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from firmware_bridge.claims import ClaimFault, TimingCheck
from firmware_bridge.feedback import ToolFeedback
from firmware_bridge.limit_control import LimitControl
from firmware_bridge.live import LiveState, RateMeter
from firmware_bridge.lsl_outlet import LslOutlet
from firmware_bridge.pipeline.signal import SignalPipeline
from firmware_bridge.readings import DeviceInfo, DeviceStatus, SampleBatch
from firmware_bridge.recorder import FaultTally, Sessions
from firmware_bridge.sources import SourceOptions
from firmware_bridge.sources.base import Source
from firmware_bridge.sources.capture import CaptureWriter
from firmware_bridge.store import Store
from firmware_bridge.timebase import TimeBase
from firmware_bridge.zones import JudgedSamples, SessionEvent


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
    lsl: bool = False  # also stream to a Lab Streaming Layer outlet


class BridgeState:
    """The bridge's shared state (set up in ``Bridge.__init__``) and the calls between its parts."""

    store: Store
    options: RecordOptions
    on_judged: Callable[[JudgedSamples, LiveState], None] | None
    live: LiveState
    pipeline: SignalPipeline
    feedback: ToolFeedback
    limits: LimitControl
    tip_key: str | None
    timebase: TimeBase
    timing: TimingCheck
    live_timing: bool  # the source's arrival times are real (not a replay's)
    rate: RateMeter
    tally: FaultTally
    sessions: Sessions
    error: str | None
    _stop: bool
    _source: Source | None
    _capture: CaptureWriter | None
    _info: DeviceInfo | None
    _info_deadline: float | None
    _calibrated_for: str | None  # device key the calibration was resolved for
    _waiting: list[tuple[SampleBatch, float]]
    _live_samples: list[JudgedSamples]
    _last_valid_host: float | None
    _no_signal: bool
    _lost_at: float | None  # session time of the last sample before a loss
    lsl: LslOutlet | None

    # -- defined by the core --------------------------------------------------------------------

    @property
    def limit_n(self) -> float:
        raise NotImplementedError

    def _emit(self, event: SessionEvent) -> None:
        raise NotImplementedError

    def _now_s(self) -> float:
        raise NotImplementedError

    def _flush(self) -> None:
        raise NotImplementedError

    def _poll_commands(self) -> int | None:
        raise NotImplementedError

    def _duration_over(self, wall_elapsed: float | None) -> bool:
        raise NotImplementedError

    # -- defined by the parts -------------------------------------------------------------------

    def stop_session(self, pain_after: int | None = None, note: str | None = None) -> int | None:
        raise NotImplementedError

    def _flush_waiting(self, force: bool, now: float | None = None) -> None:
        raise NotImplementedError

    def _on_info(self, info: DeviceInfo) -> None:
        raise NotImplementedError

    def _calibrate(self, info: DeviceInfo | None) -> None:
        raise NotImplementedError

    def _force_from_tool(self) -> None:
        raise NotImplementedError

    def _use_tip(self) -> None:
        raise NotImplementedError

    def _on_status(self, status: DeviceStatus) -> None:
        raise NotImplementedError

    def _claim_fault(self, fault: ClaimFault) -> None:
        raise NotImplementedError

    def _react(self, event: SessionEvent) -> None:
        raise NotImplementedError

    def _send_local_limit(self) -> None:
        raise NotImplementedError

    def _check_timing(self, batch: SampleBatch, now: float) -> SampleBatch:
        raise NotImplementedError

    def _mark_gap(self) -> None:
        raise NotImplementedError

    def _reconnect(self, reason: str) -> None:
        raise NotImplementedError

    def _enter_no_signal(self, message: str, silent_s: float | None = None) -> None:
        raise NotImplementedError
