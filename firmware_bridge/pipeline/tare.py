"""Taring: zero the reading only when the tool is unloaded and still, at session start by itself
and whenever the user asks (the Live page's Zero button).

Taring under load would make every later reading too low, which is the dangerous direction for a
user who relies on the warning; so the tare is refused unless the window is near the calibrated
zero *and* steady, and the refusal is recorded with its reason in words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


#: A tare the user asks for may take up a larger zero shift than the automatic one (temperature
#: and warm-up drift, peers.md §7), but no more than zero tracking would follow in a session: a
#: zero further off than that is a load on the tool or a calibration gone wrong.
ASKED_MAX_OFFSET_N = 5.0


@dataclass(frozen=True, slots=True)
class TareDecision:
    """Outcome of the start-of-session tare."""

    accepted: bool
    offset_n: float
    reason: str
    mean_n: float
    std_n: float


class AutoTare:
    """Collects the opening window of force and decides once whether to zero it.

    Args:
        window_s: how much signal to look at (HX711 at 80 SPS settles in 50 ms).
        min_samples: at least this many samples (a 10 SPS tool needs 0.5 s).
        max_offset_n: "unloaded" means within this of the calibrated zero.
        max_std_n: "still" means a standard deviation no larger than this.
        asked: the user asked for this tare (else it is the automatic one at session start);
            only the words of a refusal differ.
    """

    def __init__(
        self,
        window_s: float = 0.3,
        min_samples: int = 5,
        max_offset_n: float = 1.0,
        max_std_n: float = 0.1,
        *,
        asked: bool = False,
    ) -> None:
        self.window_s = window_s
        self.min_samples = min_samples
        self.max_offset_n = max_offset_n
        self.max_std_n = max_std_n
        self.asked = asked
        self._t: list[FloatArray] = []
        self._f: list[FloatArray] = []
        self.decision: TareDecision | None = None

    def offer(self, t: FloatArray, force: FloatArray) -> TareDecision | None:
        """Offer calibrated force; returns the decision once, when the window is full."""
        if self.decision is not None:
            return None
        self._t.append(t)
        self._f.append(force)
        all_t = np.concatenate(self._t)
        if all_t.size < self.min_samples or all_t[-1] - all_t[0] < self.window_s:
            return None
        window = all_t <= all_t[0] + self.window_s  # judge the opening window only
        if window.sum() < self.min_samples:
            window[: self.min_samples] = True
        all_f = np.concatenate(self._f)[window]
        self._t, self._f = [], []
        mean, std = float(np.mean(all_f)), float(np.std(all_f))
        when = "" if self.asked else " at start"
        if not np.isfinite(mean):
            reason, ok = "no calibrated force", False
        elif abs(mean) > self.max_offset_n:
            reason, ok = f"tool loaded{when} ({mean:.2f} N)", False
            if self.asked:
                reason += ": lay it down untouched, or calibrate it again if it is"
        elif std > self.max_std_n:
            reason, ok = f"signal not steady{when} (±{std:.2f} N)", False
            if self.asked:
                reason += ": lay the tool down and keep it still"
        else:
            reason, ok = "unloaded and steady", True
        self.decision = TareDecision(ok, mean if ok else 0.0, reason, mean, std)
        return self.decision
