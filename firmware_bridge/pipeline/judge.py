"""Judging filtered force against the comfort limit: zones, ramp warning and hold timer.

Each monitor is a small state machine that works on whole blocks: the per-sample logic is done
with numpy, and Python only loops over *runs* of samples whose band does not change, so a block of
thousands of samples far from any edge costs a few array operations.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from firmware_bridge.zones import HYSTERESIS, MIN_DWELL_S, ZONE_EDGES, SessionEvent, Zone

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ZoneArray = npt.NDArray[np.int8]

_ENTER = np.asarray(ZONE_EDGES)
_LEAVE = _ENTER - HYSTERESIS


def _runs(key: npt.NDArray[np.int64]) -> list[tuple[int, int]]:
    """[start, end) of every run of equal values."""
    if key.size == 0:
        return []
    cuts = np.flatnonzero(key[1:] != key[:-1]) + 1
    bounds = [0, *cuts.tolist(), key.size]
    return list(itertools.pairwise(bounds))


class ZoneJudge:
    """Zones with hysteresis and minimum dwell (DESIGN.md "Safety semantics").

    Entering a more urgent zone is immediate. Leaving needs the force 5 % of the limit below the
    zone's lower edge *and* at least :data:`MIN_DWELL_S` spent in the zone; the zone then drops to
    the band given by the leaving thresholds, which is the more cautious of the two readings.
    Saturation and the overload ceiling are DANGER whatever the limit; NaN force is UNCALIBRATED.
    """

    def __init__(self, limit_n: float, ceiling_n: float = float("inf")) -> None:
        self.limit_n = limit_n
        self.ceiling_n = ceiling_n
        self.zone = Zone.NO_SIGNAL
        self._entered_t = -np.inf

    def set_limit(self, limit_n: float) -> None:
        """Change the limit; the next sample is judged against it."""
        if not limit_n > 0:
            raise ValueError("the comfort limit must be positive")
        self.limit_n = limit_n

    def mark_no_signal(self, t: float) -> SessionEvent | None:
        """The signal stopped: NO_SIGNAL until the next valid sample."""
        return self._change(Zone.NO_SIGNAL, t, float("nan"))

    def judge(
        self,
        t: FloatArray,
        force: FloatArray,
        saturated: BoolArray,
        unsmoothed: FloatArray | None = None,
    ) -> tuple[ZoneArray, list[SessionEvent]]:
        """Judge a block of filtered force.

        Args:
            t: session times.
            force: filtered force in N (NaN when uncalibrated).
            saturated: samples where the ADC was saturated.
            unsmoothed: the force before smoothing (spikes rejected): where it is past the danger
                line the sample is DANGER whatever the smoothed force says, so no filter can hide
                a force past the limit.

        Returns:
            The zone of every sample and the zone-change events.
        """
        ratio = force / self.limit_n
        up = np.searchsorted(_ENTER, ratio, side="right").astype(np.int64)
        down = np.searchsorted(_LEAVE, ratio, side="right").astype(np.int64)
        danger = saturated | (force >= self.ceiling_n)
        if unsmoothed is not None:
            with np.errstate(invalid="ignore"):
                danger |= unsmoothed >= ZONE_EDGES[2] * self.limit_n
        up[danger] = Zone.DANGER
        down[danger] = Zone.DANGER
        unknown = np.isnan(force) & ~saturated
        up[unknown] = Zone.UNCALIBRATED
        down[unknown] = Zone.UNCALIBRATED
        out = np.empty(t.size, dtype=np.int8)
        events: list[SessionEvent] = []
        for start, end in _runs(up * 16 + down):
            enter, leave = int(up[start]), int(down[start])
            if enter == Zone.UNCALIBRATED or enter > self.zone:
                self._emit(events, Zone(enter), float(t[start]), float(force[start]))
                out[start:end] = self.zone
                continue
            if leave < self.zone:
                earliest = max(float(t[start]), self._entered_t + MIN_DWELL_S)
                i = start + int(np.searchsorted(t[start:end], earliest, side="left"))
                out[start:i] = self.zone
                if i < end:
                    self._emit(events, Zone(leave), float(t[i]), float(force[i]))
                    out[i:end] = self.zone
                continue
            out[start:end] = self.zone
        return out, events

    def _emit(self, events: list[SessionEvent], zone: Zone, t: float, force: float) -> None:
        event = self._change(zone, t, force)
        if event is not None:
            events.append(event)

    def _change(self, zone: Zone, t: float, force: float) -> SessionEvent | None:
        if zone == self.zone:
            return None
        previous, self.zone, self._entered_t = self.zone, zone, t
        detail: dict[str, object] = {"from": previous.label, "to": zone.label}
        if np.isfinite(force):
            detail["force_n"] = round(force, 4)
        return SessionEvent(t, "zone", detail)


@dataclass(slots=True)
class _Run:
    start: float | None = None
    flagged: bool = False


class RampMonitor:
    """ "Slow down" when force rises faster than the ramp limit for longer than ``sustain_s``.

    The rate is the slope over ``window_s`` (a short window on filtered force, so tremor does not
    count as a ramp).
    """

    def __init__(self, limit_n_per_s: float, sustain_s: float = 0.5, window_s: float = 0.1) -> None:
        self.limit_n_per_s = limit_n_per_s
        self.sustain_s = sustain_s
        self.window_s = window_s
        self._hist_t = np.empty(0)
        self._hist_f = np.empty(0)
        self._run = _Run()
        self.active = False

    def reset(self) -> None:
        """Forget history (after a gap)."""
        self._hist_t = np.empty(0)
        self._hist_f = np.empty(0)
        self._run = _Run()
        self.active = False

    def rate(self, t: FloatArray, force: FloatArray) -> FloatArray:
        """Slope in N/s of every sample over the trailing window (NaN until the window fills)."""
        all_t = np.concatenate((self._hist_t, t))
        all_f = np.concatenate((self._hist_f, force))
        back = np.searchsorted(all_t, all_t[-t.size :] - self.window_s, side="right") - 1
        ok = back >= 0
        slope = np.full(t.size, np.nan)
        b = back[ok]
        dt = all_t[-t.size :][ok] - all_t[b]
        with np.errstate(invalid="ignore", divide="ignore"):
            slope[ok] = (all_f[-t.size :][ok] - all_f[b]) / dt
        # keep one sample older than the window so the next block has a full baseline
        first = max(0, int(np.searchsorted(all_t, all_t[-1] - self.window_s, side="left")) - 1)
        self._hist_t, self._hist_f = all_t[first:].copy(), all_f[first:].copy()
        return slope

    def update(self, t: FloatArray, force: FloatArray) -> list[SessionEvent]:
        """Feed a block; returns a ``ramp`` event when a too-fast rise has lasted ``sustain_s``."""
        if t.size == 0:
            return []
        slope = self.rate(t, force)
        fast = slope > self.limit_n_per_s
        events: list[SessionEvent] = []
        for start, end in _runs(fast.astype(np.int64)):
            if not fast[start]:
                self._run = _Run()
                continue
            if self._run.start is None:
                self._run.start = float(t[start])
            if not self._run.flagged:
                due = self._run.start + self.sustain_s
                i = start + int(np.searchsorted(t[start:end], due, side="right"))
                if i < end:
                    self._run.flagged = True
                    rate = float(slope[i])
                    events.append(
                        SessionEvent(float(t[i]), "ramp", {"rate_n_per_s": round(rate, 3)})
                    )
        self.active = self._run.flagged
        return events


class HoldMonitor:
    """Hold timer: time at ≥ ``fraction`` × limit on one spot; prompt to release at the hold limit.

    The prompt comes at ``hold_limit_s`` of continuous hold, or earlier once ``over_limit_s`` of
    that hold was spent over the limit.
    """

    def __init__(
        self,
        limit_n: float,
        fraction: float = 0.5,
        hold_limit_s: float = 60.0,
        over_limit_s: float = 30.0,
    ) -> None:
        self.limit_n = limit_n
        self.fraction = fraction
        self.hold_limit_s = hold_limit_s
        self.over_limit_s = over_limit_s
        self.start: float | None = None
        self.over_s = 0.0
        self.prompted = False
        self._last_t: float | None = None

    def reset(self) -> None:
        """End any hold (after a gap or loss of signal)."""
        self.start = None
        self.over_s = 0.0
        self.prompted = False
        self._last_t = None

    def held_s(self, now: float) -> float:
        """Duration of the current hold at time ``now`` (0 when not holding)."""
        return 0.0 if self.start is None else max(0.0, now - self.start)

    def update(self, t: FloatArray, force: FloatArray, zone: ZoneArray) -> list[SessionEvent]:
        """Feed a block of filtered force and its zones; returns ``hold`` prompts."""
        if t.size == 0:
            return []
        on = force >= self.fraction * self.limit_n
        off = ~(force >= (self.fraction - HYSTERESIS) * self.limit_n)  # NaN counts as off
        over = zone >= Zone.OVER
        dt = np.diff(np.concatenate(([self._last_t if self._last_t is not None else t[0]], t)))
        events: list[SessionEvent] = []
        for start, end in _runs(on.astype(np.int64) * 4 + off.astype(np.int64) * 2 + over):
            if self.start is None and on[start]:
                self.start, self.over_s, self.prompted = float(t[start]), 0.0, False
            elif self.start is not None and off[start]:
                self.start = None
            if self.start is None or self.prompted:
                continue
            seg_t = t[start:end]
            held = seg_t - self.start
            over_acc = self.over_s + (
                np.cumsum(dt[start:end]) if over[start] else np.zeros(end - start)
            )
            due = (held >= self.hold_limit_s) | (over_acc >= self.over_limit_s)
            if due.any():
                i = int(np.argmax(due))
                reason = "over_limit" if over_acc[i] >= self.over_limit_s else "hold_limit"
                self.prompted = True
                events.append(
                    SessionEvent(
                        float(seg_t[i]),
                        "hold",
                        {"reason": reason, "held_s": round(float(held[i]), 2)},
                    )
                )
            self.over_s = float(over_acc[-1])
        self._last_t = float(t[-1])
        return events
