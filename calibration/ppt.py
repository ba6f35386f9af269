"""Guided pressure-pain-threshold (PPT) measurement: trial analysis and the 3-trial protocol.

Pure logic, no I/O: the dashboard page and ``pressureguard limits measure`` feed it samples, button
marks and a clock, and show what :meth:`PptProtocol.status` says. Protocol (CLINICAL.md §1, §7.1):
ramp at 50 kPa/s (5 N/s on a 1 cm² tip), trials averaging 30–100 kPa/s are accepted, the user marks
the first moment pressure turns into pain, 3 trials at the same spot with ≥ 30 s rest between
them; PPT = mean of the 3, the mean of trials 2–3 is kept too.

All times are seconds on one clock (the session clock of the samples and the button events).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from firmware_bridge.units import REFERENCE_TIP_CM2, pressure_kpa

RAMP_TARGET_KPA_S = 50.0
RAMP_MIN_KPA_S = 30.0
RAMP_MAX_KPA_S = 100.0
TRIALS = 3
MAX_ATTEMPTS = 6
REST_S = 30.0
#: Force below which the tool counts as off the skin (N).
FLOOR_N = 0.5
#: The rise starts where force exceeds this share of the force at the mark (or :data:`FLOOR_N`).
ONSET_FRACTION = 0.10
#: A fall of more than this share of the peak before the mark is an early release.
RELEASE_DROP = 0.20
#: Window of the line fitted just before the mark to read the force there (s).
MARK_WINDOW_S = 0.5
#: Window of the smoothing used to find the peak and the onset (s).
SMOOTH_WINDOW_S = 0.2
#: Window of the live ramp rate shown while pressing (s).
LIVE_WINDOW_S = 1.0
#: Live coaching says 'good' within this share of the target rate.
COACH_TOLERANCE = 0.2

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class TrialResult:
    """One PPT trial as judged.

    Attributes:
        accepted: whether the trial counts towards the PPT.
        reason: plain words for the user: "ok" or why the trial was rejected.
        ppt_n: force at the mark (N), read from a line fitted to the last 0.5 s before the mark;
            None without a mark or without signal.
        ppt_kpa: the same as pressure, only when the tip area is known.
        ramp_kpa_s: mean rate of the rise (least-squares slope from onset to mark), in kPa/s on
            the tip (the 1 cm² reference disc when the tip is unknown); None when not measurable.
        duration_s: length of the rise, onset to mark (0 when not measurable).
        mark_t: when the user marked pain, or None.
    """

    accepted: bool
    reason: str
    ppt_n: float | None = None
    ppt_kpa: float | None = None
    ramp_kpa_s: float | None = None
    duration_s: float = 0.0
    mark_t: float | None = None


@dataclass(frozen=True, slots=True)
class PptSummary:
    """The PPT of a series of trials and the comfort limit it proposes.

    Attributes:
        ppt_n: mean force at the mark over the accepted trials (None when none was accepted).
        ppt_kpa: the same as pressure, only when the tip area is known.
        mean_2_3_n: mean of accepted trials 2 and 3 (None with fewer than 3 accepted).
        n: number of accepted trials.
        sd_n: sample standard deviation of the accepted forces (None with fewer than 2).
        proposed_limit_n: ``fraction × ppt_n`` (None when no PPT).
        fraction: share of the PPT proposed as the comfort limit.
        attempts: trials made, accepted or not.
        complete: whether the protocol's number of trials was accepted.
        trials_n: the accepted forces, in order.
    """

    ppt_n: float | None
    ppt_kpa: float | None
    mean_2_3_n: float | None
    n: int
    sd_n: float | None
    proposed_limit_n: float | None
    fraction: float
    attempts: int
    complete: bool
    trials_n: tuple[float, ...] = ()


def _slope(t: FloatArray, f: FloatArray) -> float:
    """Least-squares slope of ``f`` over ``t`` (N/s); robust to tremor around a ramp."""
    tc = t - t.mean()
    denom = float(np.dot(tc, tc))
    return float(np.dot(tc, f - f.mean()) / denom) if denom > 0 else 0.0


def _smooth(t: FloatArray, f: FloatArray, window_s: float) -> FloatArray:
    """Centred moving average over about ``window_s`` (shorter at the ends, never shifted)."""
    if len(t) < 3:
        return f.copy()
    dt = float(np.median(np.diff(t)))
    half = round(window_s / 2 / dt) if dt > 0 else 0
    if half < 1:
        return f.copy()
    kernel = np.ones(2 * half + 1)
    sums = np.convolve(f, kernel, mode="same")
    counts = np.convolve(np.ones_like(f), kernel, mode="same")
    return np.asarray(sums / counts, dtype=np.float64)


def _clean(t_s: ArrayLike, force_n: ArrayLike) -> tuple[FloatArray, FloatArray]:
    t = np.asarray(t_s, dtype=np.float64).ravel()
    f = np.asarray(force_n, dtype=np.float64).ravel()
    if t.shape != f.shape:
        raise ValueError(f"t_s and force_n differ in length ({t.size} vs {f.size})")
    keep = np.isfinite(t) & np.isfinite(f)
    t, f = t[keep], f[keep]
    order = np.argsort(t, kind="stable")
    return t[order], f[order]


def analyse_trial(
    t_s: ArrayLike, force_n: ArrayLike, mark_t: float | None, tip_area_cm2: float | None
) -> TrialResult:
    """Judge one PPT trial.

    The force at the mark is read from a least-squares line through the last 0.5 s of the rise, so
    tremor and the release that follows the mark do not bias it. The rise starts where the
    (smoothed) force last climbed above 10 % of the force at the mark (at least 0.5 N); its mean
    rate is the least-squares slope from there to the mark.

    Args:
        t_s: sample times (s), in the same clock as ``mark_t``.
        force_n: force (N), tared; NaN samples are ignored.
        mark_t: when the user marked the first moment pressure turned into pain, or None.
        tip_area_cm2: tip area for kPa; None uses the 1 cm² reference disc for the ramp rate and
            leaves ``ppt_kpa`` unset.

    Returns:
        The result; rejected trials carry the reason in plain words.
    """
    t, f = _clean(t_s, force_n)
    area = tip_area_cm2 or REFERENCE_TIP_CM2
    if t.size < 3 or float(f.max()) < FLOOR_N:
        return TrialResult(False, "not enough signal: press the tool onto the spot", mark_t=mark_t)
    if mark_t is None:
        return TrialResult(False, "no mark: press the button at the first moment of pain")
    if mark_t < t[0] or mark_t > t[-1] + MARK_WINDOW_S:
        return TrialResult(False, "not enough signal: the mark is outside the recording")

    before = t <= mark_t
    tb, fb = t[before], f[before]
    if tb.size < 3:
        return TrialResult(False, "not enough signal before the mark", mark_t=mark_t)
    last = tb > mark_t - MARK_WINDOW_S
    if int(last.sum()) < 3:
        last = np.zeros(tb.size, dtype=bool)
        last[-3:] = True
    tw, fw = tb[last], fb[last]
    ppt_n = float(fw.mean() + _slope(tw, fw) * (mark_t - tw.mean()))
    ppt_kpa = pressure_kpa(ppt_n, tip_area_cm2) if tip_area_cm2 else None
    smooth = _smooth(tb, fb, SMOOTH_WINDOW_S)
    peak = float(smooth.max())
    if peak >= FLOOR_N and ppt_n < (1.0 - RELEASE_DROP) * peak:
        return TrialResult(False, "released before marking pain", ppt_n, ppt_kpa, None, 0.0, mark_t)
    if ppt_n < FLOOR_N:
        return TrialResult(False, "not enough signal: no pressure at the mark", mark_t=mark_t)

    threshold = max(ONSET_FRACTION * ppt_n, FLOOR_N)
    below = np.flatnonzero(smooth < threshold)
    onset = int(below[-1]) + 1 if below.size else 0
    tr, fr = tb[onset:], fb[onset:]
    duration = float(mark_t - tr[0]) if tr.size else 0.0
    if tr.size < 3 or duration < 0.3:
        return TrialResult(
            False,
            "not enough signal: the rise is too short",
            ppt_n,
            ppt_kpa,
            None,
            duration,
            mark_t,
        )
    ramp = pressure_kpa(_slope(tr, fr), area)
    if ramp > RAMP_MAX_KPA_S:
        reason = f"pressed too fast: {ramp:.0f} kPa/s (keep it near {RAMP_TARGET_KPA_S:.0f})"
    elif ramp < RAMP_MIN_KPA_S:
        reason = f"ramp too slow: {ramp:.0f} kPa/s (keep it near {RAMP_TARGET_KPA_S:.0f})"
    else:
        reason = "ok"
    return TrialResult(reason == "ok", reason, ppt_n, ppt_kpa, ramp, duration, mark_t)


class PptProtocol:
    """The guided 3-trial PPT measurement as a state machine.

    States: ``ready`` → ``pressing`` (a trial) → ``rest`` (countdown) → ``pressing`` … → ``done``.
    A trial ends with :meth:`release` or by itself when force falls back near zero (after the
    mark, or after a press without a mark). Rejected trials are repeated, up to ``max_attempts``.
    The protocol never reads a clock: callers pass the time.

    Args:
        tip_area_cm2: tip area for kPa (None: the 1 cm² reference disc for rates, no kPa).
        trials: accepted trials needed.
        max_attempts: trials allowed in all, accepted or not.
        rest_s: minimum rest between the end of a trial and the start of the next.
        fraction: share of the PPT proposed as the comfort limit, in (0, 1].
        target_kpa_s: ramp rate the live coaching aims at.
    """

    def __init__(
        self,
        tip_area_cm2: float | None = None,
        *,
        trials: int = TRIALS,
        max_attempts: int = MAX_ATTEMPTS,
        rest_s: float = REST_S,
        fraction: float = 1.0,
        target_kpa_s: float = RAMP_TARGET_KPA_S,
    ) -> None:
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"fraction must be in (0, 1], not {fraction}")
        if trials < 1 or max_attempts < trials:
            raise ValueError("need trials ≥ 1 and max_attempts ≥ trials")
        if rest_s < REST_S:
            raise ValueError(f"rest must be at least {REST_S:.0f} s between trials on a spot")
        self.tip_area_cm2 = tip_area_cm2
        self.trials = trials
        self.max_attempts = max_attempts
        self.rest_s = rest_s
        self.fraction = fraction
        self.target_kpa_s = target_kpa_s
        self._state = "ready"
        self._rest_until = float("-inf")
        self._results: list[TrialResult] = []
        self._t: list[float] = []
        self._f: list[float] = []
        self._mark: float | None = None
        self._peak = 0.0
        self._start_t = float("-inf")

    @property
    def accepted(self) -> list[TrialResult]:
        """The accepted trials, in order."""
        return [r for r in self._results if r.accepted]

    def state_at(self, now: float) -> str:
        """'ready', 'pressing', 'rest' or 'done' at ``now`` (cheap; :meth:`status` has it all)."""
        if self._state == "rest" and now >= self._rest_until:
            return "ready"
        return self._state

    def can_start(self, now: float) -> str | None:
        """Why a trial cannot start at ``now``, or None when it can."""
        if self._state == "pressing":
            return "a trial is already running"
        if self._state == "done":
            return "the measurement is finished"
        if now < self._rest_until:
            left = math.ceil(self._rest_until - now)
            return f"rest {left} s more: at least {self.rest_s:.0f} s between trials"
        return None

    def start_trial(self, t: float) -> None:
        """Start the next trial at time ``t``.

        Raises:
            ValueError: during the rest, while a trial runs, or when finished (the reason says).
        """
        reason = self.can_start(t)
        if reason:
            raise ValueError(reason)
        self._state = "pressing"
        self._t, self._f = [], []
        self._mark, self._peak = None, 0.0
        self._start_t = t

    def feed(self, t_s: ArrayLike, force_n: ArrayLike) -> None:
        """Take samples as they come; ignored unless a trial runs. Ends the trial on release."""
        if self._state != "pressing":
            return
        ts = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
        fs = np.atleast_1d(np.asarray(force_n, dtype=np.float64))
        for t, f in zip(ts.tolist(), fs.tolist(), strict=True):
            if t < self._start_t or (self._t and t <= self._t[-1]) or not np.isfinite(f):
                continue
            self._t.append(t)
            self._f.append(f)
            self._peak = max(self._peak, f)
            near_zero = f < max(FLOOR_N, ONSET_FRACTION * self._peak)
            pressed = self._peak >= 2 * FLOOR_N
            after_mark = self._mark is not None and t > self._mark
            if near_zero and pressed and (after_mark or self._mark is None):
                self._finish(t)
                return

    def mark(self, t: float) -> bool:
        """Mark the first moment pressure turns into pain; later marks in a trial are ignored.

        Returns:
            Whether the mark was taken (False outside a trial or after the first mark).
        """
        if self._state != "pressing" or self._mark is not None:
            return False
        self._mark = t
        return True

    def release(self, t: float) -> TrialResult | None:
        """End the running trial at ``t`` (the user lifted the tool or pressed 'end trial').

        Returns:
            The trial's result, or None when no trial was running.
        """
        if self._state != "pressing":
            return None
        return self._finish(t)

    def _finish(self, t: float) -> TrialResult:
        result = analyse_trial(np.array(self._t), np.array(self._f), self._mark, self.tip_area_cm2)
        self._results.append(result)
        if len(self.accepted) >= self.trials or len(self._results) >= self.max_attempts:
            self._state = "done"
        else:
            self._state = "rest"
            self._rest_until = t + self.rest_s
        return result

    def _live_rate(self) -> float | None:
        if len(self._t) < 3 or self._f[-1] < FLOOR_N:
            return None
        t = np.array(self._t)
        recent = t >= t[-1] - LIVE_WINDOW_S
        if int(recent.sum()) < 3:
            return None
        rate = _slope(t[recent], np.array(self._f)[recent])
        return pressure_kpa(rate, self.tip_area_cm2 or REFERENCE_TIP_CM2)

    def status(self, now: float) -> dict[str, object]:
        """What the UI shows at ``now``.

        Returns:
            ``state`` ('ready', 'pressing', 'rest', 'done'), ``trial`` (attempt number, running
            or next), ``accepted``, ``needed``, ``attempts_left``, ``rest_left_s``, ``force_n``
            (latest), ``marked``, ``rate_kpa_s`` and ``coach`` ('slower', 'good', 'faster' or None
            when not rising towards a mark), ``target_kpa_s`` and ``last`` (the last result).
        """
        state = self._state
        rest_left = max(0.0, self._rest_until - now) if state == "rest" else 0.0
        if state == "rest" and rest_left == 0.0:
            state = "ready"
        attempts = len(self._results)
        rate = coach = None
        if state == "pressing" and self._mark is None:
            rate = self._live_rate()
            if rate is not None:
                tol = COACH_TOLERANCE * self.target_kpa_s
                if rate > self.target_kpa_s + tol:
                    coach = "slower"
                elif rate < self.target_kpa_s - tol:
                    coach = "faster"
                else:
                    coach = "good"
        return {
            "state": state,
            "trial": attempts + (0 if state == "done" else 1),
            "accepted": len(self.accepted),
            "needed": self.trials,
            "attempts_left": self.max_attempts - attempts,
            "rest_left_s": rest_left,
            "force_n": self._f[-1] if state == "pressing" and self._f else None,
            "marked": state == "pressing" and self._mark is not None,
            "rate_kpa_s": rate,
            "coach": coach,
            "target_kpa_s": self.target_kpa_s,
            "last": self._results[-1] if self._results else None,
        }

    def results(self) -> list[TrialResult]:
        """Every trial made, accepted or not, in order."""
        return list(self._results)

    def summary(self) -> PptSummary:
        """PPT = mean of the accepted trials, mean of trials 2–3, spread and the proposed limit."""
        forces = tuple(float(r.ppt_n) for r in self.accepted if r.ppt_n is not None)
        n = len(forces)
        ppt = float(np.mean(forces)) if n else None
        return PptSummary(
            ppt_n=ppt,
            ppt_kpa=pressure_kpa(ppt, self.tip_area_cm2) if ppt and self.tip_area_cm2 else None,
            mean_2_3_n=float(np.mean(forces[1:3])) if n >= 3 else None,
            n=n,
            sd_n=float(np.std(forces, ddof=1)) if n >= 2 else None,
            proposed_limit_n=self.fraction * ppt if ppt is not None else None,
            fraction=self.fraction,
            attempts=len(self._results),
            complete=n >= self.trials,
            trials_n=forces,
        )
