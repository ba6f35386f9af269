"""The signal pipeline: calibrate → tare → track zero → reject spikes → smooth → judge, by block.

Pure and synchronous: the bridge hands it samples in session time and records what comes out.
All state (filters, tare, zones, hold and ramp timers) carries across blocks, so the result does
not depend on how the samples were chunked on the way in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from calibration.device import DeviceCalibration
from firmware_bridge.pipeline.drift import ZeroTracker, ZeroTrackingConfig
from firmware_bridge.pipeline.filters import MovingAverage, SpikeRejector, window_samples
from firmware_bridge.pipeline.judge import HoldMonitor, RampMonitor, ZoneJudge
from firmware_bridge.pipeline.predict import DEFAULT_LEAD_S, LimitPredictor
from firmware_bridge.pipeline.tare import ASKED_MAX_OFFSET_N, AutoTare, TareDecision
from firmware_bridge.protocol.frames import ADC24_MAX, ADC24_MIN
from firmware_bridge.zones import HYSTERESIS, JudgedSamples, SessionEvent, Zone

log = logging.getLogger(__name__)
FloatArray = npt.NDArray[np.float64]

_ZONE_BASE = min(Zone)  # zone values start below zero: shift them for bincount
#: Gaps longer than this many periods are not counted as time over the limit.
MAX_DT_PERIODS = 5


@dataclass(slots=True)
class PipelineConfig:
    """Tunable parameters; defaults are the shipped ones from DESIGN.md and clinical.md.

    ``zero_tracking`` follows the slow drift of the unloaded tool's zero (calibrated raw counts
    only, never while loaded or holding); ``zero`` holds its bounds and the ``drift`` warning
    threshold (see :class:`~firmware_bridge.pipeline.drift.ZeroTrackingConfig`).
    """

    limit_n: float
    ceiling_n: float = float("inf")
    smoothing_s: float = 0.05
    ramp_limit_n_per_s: float = 10.0  # 100 kPa/s on a 1 cm² tip
    ramp_sustain_s: float = 0.5
    hold_fraction: float = 0.5
    hold_limit_s: float = 60.0
    hold_over_limit_s: float = 30.0
    prewarn_lead_s: float = DEFAULT_LEAD_S
    auto_tare: bool = True
    zero_tracking: bool = True
    zero: ZeroTrackingConfig = field(default_factory=ZeroTrackingConfig)


@dataclass(slots=True)
class SessionTotals:
    """Running totals for the session summary."""

    n_samples: int = 0
    peak_n: float = float("nan")
    time_over_limit_s: float = 0.0
    time_in_zone_s: dict[str, float] = field(default_factory=dict)


class SignalPipeline:
    """Turns samples in session time into judged samples and events.

    Args:
        config: limits and filter settings.
        calibration: counts → N, or None while the tool is uncalibrated (every sample is then
            judged UNCALIBRATED, never safe).
    """

    def __init__(
        self, config: PipelineConfig, calibration: DeviceCalibration | None = None
    ) -> None:
        self.config = config
        self.calibration = calibration
        self.tare_n = 0.0
        self._tare = AutoTare() if config.auto_tare else None
        self.zero = ZeroTracker(config.zero) if config.zero_tracking else None
        self._set_unloaded_bound()
        self._held: list[tuple[FloatArray, FloatArray, FloatArray]] = []
        self._spikes = SpikeRejector()
        self._smooth: MovingAverage | None = None
        self.judge = ZoneJudge(config.limit_n, config.ceiling_n)
        self.ramp = RampMonitor(config.ramp_limit_n_per_s, config.ramp_sustain_s)
        self.hold = HoldMonitor(
            config.limit_n, config.hold_fraction, config.hold_limit_s, config.hold_over_limit_s
        )
        self.predict = LimitPredictor(config.limit_n, config.prewarn_lead_s)
        self.status_saturated = False
        self.status_adc_fault = False
        self.totals = SessionTotals()
        self._last_t: float | None = None
        self._period_s: float | None = None
        self._force_given = False  # the source sends force (no counts to tare)

    # -- configuration that changes during a session ------------------------------------------

    def set_calibration(self, calibration: DeviceCalibration | None) -> None:
        """Use a new calibration from the next sample on (a changed one restarts zero tracking)."""
        if self.zero is not None and calibration != self.calibration:
            self.zero.restart()
        self.calibration = calibration

    def set_limit(self, limit_n: float) -> None:
        """Change the comfort limit from the next sample on."""
        self.config.limit_n = limit_n
        self.judge.set_limit(limit_n)
        self.hold.limit_n = limit_n
        self.predict.limit_n = limit_n
        self._set_unloaded_bound()

    def set_period(self, period_s: float) -> None:
        """Size the smoothing window for samples ``period_s`` apart (bounded in samples; a
        changed window starts afresh)."""
        if not period_s > 0:
            period_s = 0.0125
        n = window_samples(self.config.smoothing_s, period_s)
        self._period_s = period_s
        if self._smooth is None or self._smooth.n != n:
            self._smooth = MovingAverage(n)

    @property
    def zero_n(self) -> float:
        """The zero subtracted from calibrated force: the tare plus the tracked drift (N)."""
        return self.tare_n + (self.zero.offset_n if self.zero is not None else 0.0)

    def _set_unloaded_bound(self) -> None:
        # with a tiny limit a hold can start below the tracker's "unloaded" bound: stay well under
        # the level at which a hold ends, so the zero never moves during one
        if self.zero is not None:
            hold_off_n = (self.config.hold_fraction - HYSTERESIS) * self.config.limit_n
            self.zero.unloaded_n = min(self.config.zero.unloaded_n, 0.5 * hold_off_n)

    def new_session(self) -> None:
        """A session starts: fresh totals, hold and ramp timers, and a new chance to auto-tare.

        A refused tare keeps the zero from before, which is better than none.
        """
        self.totals = SessionTotals()
        self.hold.reset()
        self.ramp.reset()
        self.predict.reset()
        if self.config.auto_tare:
            self._tare = AutoTare()
        elif self.zero is not None:
            self.zero.new_session(rezeroed=False)

    def request_tare(self) -> str | None:
        """Zero the reading on the next steady, unloaded window (the user's Zero button).

        Unlike the opening tare, nothing is held back: while the window (0.3 s) is collected the
        samples are judged against the zero from before, so a press during it is warned about at
        once. The new zero applies from the block that completes the window. The outcome is a
        ``tare`` event with ``asked: true``; a refusal keeps the zero from before.

        Returns:
            None when the tare is under way, else why there is nothing to tare, in words.
        """
        if self._force_given:
            return (
                "this tool sends force already zeroed by its own program (text in g or N, or a "
                "replayed export): zero it there"
            )
        if self._tare is not None:
            return "a zero is being taken already"
        self._tare = AutoTare(max_offset_n=ASKED_MAX_OFFSET_N, asked=True)
        return None

    @property
    def zero_shift_n(self) -> float:
        """How far zero tracking moved the zero since the session's tare (positive: lower)."""
        return self.zero.shift_n if self.zero is not None else 0.0

    def signal_lost(self, t: float) -> list[SessionEvent]:
        """No valid sample for too long (or the source is gone): NO_SIGNAL, filters restart."""
        self._spikes.reset()
        if self._smooth is not None:
            self._smooth.reset()
        self.ramp.reset()
        self.predict.reset()
        self.hold.reset()
        if self.zero is not None:
            self.zero.restart()
        self._last_t = None
        event = self.judge.mark_no_signal(t)
        return [event] if event else []

    # -- processing -------------------------------------------------------------------------

    def process(
        self,
        t: FloatArray,
        raw: FloatArray,
        force_n: FloatArray | None = None,
        period_s: float | None = None,
    ) -> tuple[JudgedSamples | None, list[SessionEvent]]:
        """Process a block of samples.

        Args:
            t: session times, increasing.
            raw: raw counts (NaN where none).
            force_n: force already in N from the source (text in g/N, CSV replay); when None the
                calibration is applied to ``raw`` and the start-of-session auto-tare may run.
            period_s: nominal sample period, if the source states it.

        Returns:
            The judged samples (None while the opening tare window is still being collected) and
            the events they caused.
        """
        events: list[SessionEvent] = []
        if t.size == 0:
            return None, events
        if force_n is None:
            force = self.calibration.apply(raw) if self.calibration else np.full(t.size, np.nan)
            tare = self._tare
            decision = tare.offer(t, force) if tare is not None else None
            if tare is not None and decision is None and not tare.asked:
                # the session's opening window: nothing is shown before the zero is known
                self._held.append((t, raw, force))
                return None, events
            if tare is not None and decision is not None:
                self._tare = None
                events.append(self._taken(float(t[-1]), decision, asked=tare.asked))
                if self._held:
                    self._held.append((t, raw, force))
                    t, raw, force = (
                        np.concatenate(parts) for parts in zip(*self._held, strict=True)
                    )
                    self._held = []
            force = force - self.tare_n
            if self.zero is not None and self.calibration is not None:
                force, drift_events = self.zero.apply(t, force)
                events += drift_events
        else:
            force = np.asarray(force_n, dtype=np.float64)
            self._tare = None
        self._force_given = force_n is not None
        if self._smooth is None:
            period = period_s or (float(np.median(np.diff(t))) if t.size > 1 else 0.0125)
            self.set_period(period)
        assert self._smooth is not None
        saturated = (raw >= ADC24_MAX) | (raw <= ADC24_MIN)
        if self.status_saturated:
            saturated |= True
        despiked = self._spikes(force)
        filtered = self._smooth(despiked)
        zone, zone_events = self.judge.judge(t, filtered, saturated, despiked)
        if self.status_adc_fault:
            zone[:] = Zone.NO_SIGNAL
        events += zone_events
        events += self.ramp.update(t, filtered)
        events += self.predict.update(t, filtered)
        events += self.hold.update(t, filtered, zone)
        self._update_totals(t, force, zone)
        return JudgedSamples(t_s=t, raw=raw, force_n=force, filtered_n=filtered, zone=zone), events

    def _taken(self, t: float, decision: TareDecision, *, asked: bool) -> SessionEvent:
        """Apply a tare decision; the ``tare`` event that records it."""
        if decision.accepted:  # a refused tare keeps the zero from before
            self.tare_n = decision.offset_n
        if self.zero is not None and (decision.accepted or not asked):
            # a new zero (or a new session) counts drift afresh; a refused asked-for tare
            # changes nothing, so the session's drift warnings keep counting
            self.zero.new_session(rezeroed=decision.accepted)
        detail: dict[str, object] = {
            "accepted": decision.accepted,
            "offset_n": round(decision.offset_n, 5),
            "reason": decision.reason,
        }
        if asked:
            detail["asked"] = True
        return SessionEvent(t, "tare", detail)

    def _update_totals(self, t: FloatArray, force: FloatArray, zone: npt.NDArray[np.int8]) -> None:
        totals = self.totals
        totals.n_samples += t.size
        if np.isfinite(force).any():
            peak = float(np.nanmax(force))
            totals.peak_n = peak if not np.isfinite(totals.peak_n) else max(totals.peak_n, peak)
        prev = self._last_t if self._last_t is not None else float(t[0])
        dt = np.diff(np.concatenate(([prev], t)))
        cap = MAX_DT_PERIODS * (self._period_s or 0.0125)
        dt = np.where(dt > cap, 0.0, dt)
        totals.time_over_limit_s += float(dt[zone >= Zone.OVER].sum())
        per_zone = np.bincount(zone.astype(np.intp) - _ZONE_BASE, weights=dt, minlength=len(Zone))
        for zone_value in np.flatnonzero(per_zone):
            label = Zone(int(zone_value) + _ZONE_BASE).label
            totals.time_in_zone_s[label] = totals.time_in_zone_s.get(label, 0.0) + float(
                per_zone[zone_value]
            )
        self._last_t = float(t[-1])
