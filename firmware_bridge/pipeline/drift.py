"""Zero tracking: follow the slow drift of an unloaded load cell, never a load.

A load cell's zero wanders with temperature and warm-up (peers.md §7: olkal/HX711_ADC#64,
tatobari/hx711py#7), while a held load creeps (bogde/HX711#236). The two look alike in a single
number, so the tracker only acts on what a load cannot be: a window in which every sample is near
zero, the signal is still and has no trend, after an earlier window that was just as quiet. The
correction per window is a fraction of the residual, bounded in size, so a light resting touch is
absorbed slowly at worst, and a press is never "tracked" away. The total shift that lowers the
reading is capped as well: past it the tracker stops and says so.

Windows lie on a fixed time grid from the first sample, and a window's verdict is applied from the
first sample of the next one, so no sample already judged changes and chunking never matters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from firmware_bridge.zones import SessionEvent

FloatArray = npt.NDArray[np.float64]


@dataclass(slots=True)
class ZeroTrackingConfig:
    """Bounds of zero tracking and of the drift warning.

    Attributes:
        window_s: length of one judged window.
        settle_windows: this many quiet windows in a row before the first correction (2 × 1 s:
            the tool must have been still and unloaded for two seconds).
        unloaded_n: every sample of a quiet window is within this of the tracked zero.
        max_std_n: a quiet window's standard deviation is at most this.
        max_slope_n_per_s: a quiet window's trend (least-squares slope) is at most this; a slow
            press or a release tail trends faster than temperature drift.
        gain: fraction of a quiet window's mean taken into the zero.
        max_step_n: largest correction per window (so at most ``max_step_n / window_s`` N/s).
        max_shift_n: largest total shift in the direction that lowers the reading during a
            session; tracking then stops in that direction (re-tare or recalibrate).
        warn_shift_n: a ``drift`` event each time the session's total shift passes another
            multiple of this.
        min_samples: a window with fewer samples (a gap) is not judged.
    """

    window_s: float = 1.0
    settle_windows: int = 2
    unloaded_n: float = 1.0
    max_std_n: float = 0.1
    max_slope_n_per_s: float = 0.05
    gain: float = 0.25
    max_step_n: float = 0.02
    max_shift_n: float = 5.0
    warn_shift_n: float = 2.0
    min_samples: int = 5


class ZeroTracker:
    """Tracks the zero of tared, calibrated force block by block.

    Args:
        config: the bounds; see :class:`ZeroTrackingConfig`.

    Attributes:
        offset_n: the tracked zero, subtracted from every sample.
        shift_n: how far the zero moved during this session (positive lowers the reading).
        unloaded_n: the "near zero" bound in use; the pipeline may tighten it for tiny limits.
    """

    def __init__(self, config: ZeroTrackingConfig | None = None) -> None:
        self.config = config or ZeroTrackingConfig()
        self.unloaded_n = self.config.unloaded_n
        self.offset_n = 0.0
        self.shift_n = 0.0
        self._warned = 0  # multiples of warn_shift_n already reported
        self._capped = False
        self._origin: float | None = None
        self._window = 0
        self._streak = 0
        self._pend_t = np.empty(0)
        self._pend_f = np.empty(0)

    def new_session(self, *, rezeroed: bool) -> None:
        """A session starts: the shift is counted afresh; ``rezeroed`` when a new tare was taken."""
        if rezeroed:
            self.offset_n = 0.0
        self.shift_n = 0.0
        self._warned = 0
        self._capped = False
        self.restart()

    def restart(self) -> None:
        """Forget the window being collected and the quiet streak (a gap, a new calibration)."""
        self._origin = None
        self._streak = 0
        self._pend_t = np.empty(0)
        self._pend_f = np.empty(0)

    def apply(self, t: FloatArray, force: FloatArray) -> tuple[FloatArray, list[SessionEvent]]:
        """Subtract the tracked zero from a block and update it from the windows that completed.

        Args:
            t: session times, increasing.
            force: calibrated, tared force in N (NaN windows are never tracked).

        Returns:
            The force relative to the tracked zero, and any ``drift`` events.
        """
        if t.size == 0:
            return force.copy(), []
        if self._origin is None:
            self._origin = float(t[0])
        cfg = self.config
        window = np.floor((t - self._origin) / cfg.window_s).astype(np.int64)
        n_pend = self._pend_t.size
        all_t = np.concatenate((self._pend_t, t))
        all_f = np.concatenate((self._pend_f, force))
        all_w = np.concatenate((np.full(n_pend, self._window, np.int64), window))
        starts = np.concatenate(([0], np.flatnonzero(np.diff(all_w)) + 1))
        seg = np.repeat(np.arange(starts.size), np.diff(np.append(starts, all_w.size)))
        offsets = np.full(starts.size, self.offset_n)
        events: list[SessionEvent] = []
        if starts.size > 1:  # every segment but the last is a complete window
            stats = _window_stats(all_t, all_f, starts, seg)
            for k in range(starts.size - 1):
                self._judge(stats[:, k], float(all_t[starts[k + 1]]), events)
                offsets[k + 1] = self.offset_n
        cut = int(starts[-1])
        self._window = int(all_w[-1])
        self._pend_t, self._pend_f = all_t[cut:].copy(), all_f[cut:].copy()
        return force - offsets[seg[n_pend:]], events

    def _judge(self, stats: FloatArray, t_next: float, events: list[SessionEvent]) -> None:
        """One complete window: correct the zero if it was quiet; warn on a large shift."""
        cfg = self.config
        n, mean, std, slope, f_min, f_max = stats
        off = self.offset_n
        quiet = bool(
            n >= cfg.min_samples
            and np.isfinite(std)  # a NaN (uncalibrated, missing) sample spoils the window
            and max(f_max - off, off - f_min) <= self.unloaded_n
            and std <= cfg.max_std_n
            and abs(slope) <= cfg.max_slope_n_per_s
        )
        self._streak = self._streak + 1 if quiet else 0
        if self._streak < cfg.settle_windows:
            return
        step = float(np.clip(cfg.gain * (mean - off), -cfg.max_step_n, cfg.max_step_n))
        capped_now = False
        if step > 0 and self.shift_n + step > cfg.max_shift_n:
            # lowering the reading is the unsafe direction: stop there rather than follow further
            step = max(0.0, cfg.max_shift_n - self.shift_n)
            capped_now, self._capped = not self._capped, True
        self.offset_n += step
        self.shift_n += step
        if capped_now:
            events.append(self._event(t_next, "tracking limit reached; re-tare or recalibrate"))
        level = int(abs(self.shift_n) // cfg.warn_shift_n) if cfg.warn_shift_n > 0 else 0
        if level > self._warned:  # each multiple of the threshold is reported once a session
            self._warned = level
            events.append(self._event(t_next, "zero moved while unloaded (temperature, warm-up)"))

    def _event(self, t: float, reason: str) -> SessionEvent:
        detail = {"shift_n": round(self.shift_n, 4), "zero_n": round(self.offset_n, 4)}
        return SessionEvent(t, "drift", {**detail, "reason": reason})


def _window_stats(
    t: FloatArray, f: FloatArray, starts: npt.NDArray[np.int64], seg: npt.NDArray[np.int64]
) -> FloatArray:
    """Per window: count, mean, std, least-squares slope, min and max (rows), vectorised."""
    n = np.diff(np.append(starts, t.size)).astype(np.float64)
    mean = np.add.reduceat(f, starts) / n
    t_mean = np.add.reduceat(t, starts) / n
    dt = t - t_mean[seg]  # centred per window, so the sums stay well conditioned
    df = f - mean[seg]
    std = np.sqrt(np.add.reduceat(df * df, starts) / n)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.add.reduceat(dt * df, starts) / np.add.reduceat(dt * dt, starts)
    f_min = np.minimum.reduceat(f, starts)
    f_max = np.maximum.reduceat(f, starts)
    return np.vstack((n, mean, std, slope, f_min, f_max))
