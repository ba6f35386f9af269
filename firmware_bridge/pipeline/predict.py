"""The predictive warning: "Slow down — limit in 0.4 s" *before* the force reaches the limit.

From the smoothed rate of rise the predictor estimates the time left until the filtered force
reaches the comfort limit. When that is under the lead time (default 0.7 s) while the force is
above half the limit and really rising, it fires once: a ``prewarn`` event, a short haptic tick
and a rising tone. The zone does not change (DESIGN.md's zone semantics stay as they are).

What keeps it quiet on a steady hold with tremor: the rate is a least-squares slope over
:data:`RATE_WINDOW_S`, it must be at least :data:`MIN_RATE_N_S`, and the force must have risen by
at least ``max(MIN_RISE_N, MIN_RISE_FRACTION × limit)`` over the last :data:`RISE_WINDOW_S`; a
0.3 N tremor moves the force by 0.6 N at most.

Every pre-warning ends in one of two outcomes, recorded as an event: ``prewarn_crossed`` (the
force reached the limit anyway; detail ``lead_s``, how long before the crossing the warning came)
or ``prewarn_eased`` (the user levelled off or backed off first). After a crossing the predictor
re-arms only once the force is back in the relaxed band.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
import numpy.typing as npt

from firmware_bridge.zones import HYSTERESIS, ZONE_EDGES, SessionEvent

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: The shipped lead time (seconds); the store setting ``prewarn_lead_s`` overrides it (0: off).
DEFAULT_LEAD_S = 0.7
LEAD_SETTING = "prewarn_lead_s"
#: Below this fraction of the limit nothing is predicted (far from the limit a fast rise is
#: the ramp warning's business).
ARM_FRACTION = 0.5
RATE_WINDOW_S = 0.15
RISE_WINDOW_S = 0.5
MIN_RATE_N_S = 2.0
MIN_RISE_N = 1.0
MIN_RISE_FRACTION = 0.025
#: A warned rise has eased off once the force rose by less than this fraction of the minimum
#: rise over the rise window (levelled off), or fell this far (N, or this fraction of the limit
#: if larger) below where the warning fired (backed off).
EASED_RISE_FRACTION = 0.5
BACK_OFF_N = 0.5
BACK_OFF_FRACTION = 0.025
#: After a crossing, the predictor re-arms below the relaxed band's leaving threshold.
REARM_FRACTION = ZONE_EDGES[0] - HYSTERESIS


class _State(Enum):
    ARMED = "armed"
    WARNING = "warning"
    CROSSED = "crossed"


@dataclass(frozen=True, slots=True)
class _Block:
    """One block of filtered force with its trends, per sample."""

    t: FloatArray
    force: FloatArray
    rate: FloatArray  # N/s
    rise: FloatArray  # N over the rise window
    ttl: FloatArray  # s to the limit at this rate


class LimitPredictor:
    """Fires a pre-warning when the filtered force will reach the limit within ``lead_s``.

    Args:
        limit_n: the comfort limit.
        lead_s: how long before the predicted crossing to warn (0 or less: never).
    """

    def __init__(self, limit_n: float, lead_s: float = DEFAULT_LEAD_S) -> None:
        self.limit_n = limit_n
        self.lead_s = lead_s
        self._hist_t = np.empty(0)
        self._hist_f = np.empty(0)
        self._state = _State.ARMED
        self._fired_t = 0.0
        self._fired_f = 0.0
        self.time_to_limit_s: float | None = None

    @property
    def active(self) -> bool:
        """Whether a pre-warning is showing (fired, and neither crossed nor eased yet)."""
        return self._state is _State.WARNING

    def reset(self) -> None:
        """Forget history (after a gap): a warning in progress ends without an outcome."""
        self._hist_t = np.empty(0)
        self._hist_f = np.empty(0)
        self._state = _State.ARMED
        self.time_to_limit_s = None

    def update(self, t: FloatArray, force: FloatArray) -> list[SessionEvent]:
        """Feed a block of filtered force; returns ``prewarn``/``prewarn_*`` events.

        Args:
            t: session times, increasing.
            force: filtered force (N); NaN (uncalibrated) never predicts anything.
        """
        if t.size == 0:
            return []
        rate, rise = self._trends(t, force)
        if self.lead_s <= 0:
            return []
        with np.errstate(invalid="ignore", divide="ignore"):
            block = _Block(t, force, rate, rise, (self.limit_n - force) / rate)
        events: list[SessionEvent] = []
        i = 0
        while i < t.size:
            if self._state is _State.ARMED:
                i = self._fire(block, i, events)
            elif self._state is _State.WARNING:
                i = self._outcome(block, i, events)
            else:
                i = self._rearm(force, i)
        last = float(block.ttl[-1])
        self.time_to_limit_s = max(0.0, last) if self.active and np.isfinite(last) else None
        return events

    # -- the three states ---------------------------------------------------------------------

    def _fire(self, b: _Block, i: int, events: list[SessionEvent]) -> int:
        t, force, rate, rise, ttl = b.t, b.force, b.rate, b.rise, b.ttl
        limit = self.limit_n
        with np.errstate(invalid="ignore"):
            due = (
                (force[i:] >= ARM_FRACTION * limit)
                & (force[i:] < limit)
                & (rate[i:] >= MIN_RATE_N_S)
                & (rise[i:] >= self._min_rise())
                & (ttl[i:] <= self.lead_s)
            )
        if not due.any():
            return t.size
        k = i + int(np.argmax(due))
        self._state, self._fired_t, self._fired_f = _State.WARNING, float(t[k]), float(force[k])
        detail = {
            "time_to_limit_s": round(float(ttl[k]), 3),
            "rate_n_per_s": round(float(rate[k]), 3),
            "force_n": round(float(force[k]), 4),
        }
        events.append(SessionEvent(float(t[k]), "prewarn", detail))
        return k + 1

    def _outcome(self, b: _Block, i: int, events: list[SessionEvent]) -> int:
        t, force, rise = b.t, b.force, b.rise
        f = force[i:]
        with np.errstate(invalid="ignore"):
            crossed = f >= self.limit_n
            backed = f < self._fired_f - max(BACK_OFF_N, BACK_OFF_FRACTION * self.limit_n)
            levelled = rise[i:] < self._min_rise() * EASED_RISE_FRACTION
        ended = crossed | backed | levelled | np.isnan(f)
        if not ended.any():
            return t.size
        k = i + int(np.argmax(ended))
        at = float(t[k])
        if crossed[k - i]:
            lead = round(at - self._fired_t, 3)
            events.append(SessionEvent(at, "prewarn_crossed", {"lead_s": lead}))
            self._state = _State.CROSSED
        else:
            if np.isfinite(force[k]):
                detail = {"force_n": round(float(force[k]), 4)}
                events.append(SessionEvent(at, "prewarn_eased", detail))
            self._state = _State.ARMED
        return k + 1

    def _min_rise(self) -> float:
        return max(MIN_RISE_N, MIN_RISE_FRACTION * self.limit_n)

    def _rearm(self, force: FloatArray, i: int) -> int:
        with np.errstate(invalid="ignore"):
            calm = force[i:] < REARM_FRACTION * self.limit_n
        if not calm.any():
            return force.size
        self._state = _State.ARMED
        return i + int(np.argmax(calm)) + 1

    # -- trends -------------------------------------------------------------------------------

    def _trends(self, t: FloatArray, force: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Per sample: the least-squares slope over the rate window (N/s) and the rise over the
        rise window (N); NaN until a window has filled. History carries across blocks."""
        all_t = np.concatenate((self._hist_t, t))
        all_f = np.concatenate((self._hist_f, force))
        n_new = t.size
        rel = all_t - all_t[0]  # small numbers: no cancellation in the sums below
        zeros = np.zeros(1)
        s_t = np.concatenate((zeros, np.cumsum(rel)))
        s_f = np.concatenate((zeros, np.cumsum(all_f)))
        s_tt = np.concatenate((zeros, np.cumsum(rel * rel)))
        s_tf = np.concatenate((zeros, np.cumsum(rel * all_f)))
        end = np.arange(all_t.size - n_new, all_t.size) + 1  # exclusive ends of the new samples
        now = all_t[-n_new:]
        lo = np.searchsorted(all_t, now - RATE_WINDOW_S, side="left")
        count = end - lo
        full = now - all_t[lo] >= 0.8 * RATE_WINDOW_S
        with np.errstate(invalid="ignore", divide="ignore"):
            num = count * (s_tf[end] - s_tf[lo]) - (s_t[end] - s_t[lo]) * (s_f[end] - s_f[lo])
            den = count * (s_tt[end] - s_tt[lo]) - (s_t[end] - s_t[lo]) ** 2
            rate = np.where(full & (count >= 3), num / den, np.nan)
        back = np.searchsorted(all_t, now - RISE_WINDOW_S, side="right") - 1
        rise = np.full(n_new, np.nan)
        ok = back >= 0
        rise[ok] = all_f[-n_new:][ok] - all_f[back[ok]]
        keep_from = max(0, int(np.searchsorted(all_t, all_t[-1] - RISE_WINDOW_S, side="left")) - 1)
        self._hist_t, self._hist_f = all_t[keep_from:].copy(), all_f[keep_from:].copy()
        return rate, rise
