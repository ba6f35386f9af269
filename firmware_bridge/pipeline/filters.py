"""Streaming filters on sample blocks: their state carries across calls, so chunking never matters.

Feeding a signal in one block or in any split gives the same output (up to float rounding); tests
hold us to that.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class SpikeRejector:
    """Median of three: drops single-sample spikes (a knock, an ADC glitch), one sample of delay.

    Output sample *i* is the median of inputs *i−2, i−1, i*; the first two outputs of a stream pass
    the input through, so nothing is invented before the filter has history.
    """

    def __init__(self) -> None:
        self._hist = np.empty(0, dtype=np.float64)

    def reset(self) -> None:
        """Forget history (after a gap in the signal)."""
        self._hist = np.empty(0, dtype=np.float64)

    def __call__(self, x: FloatArray) -> FloatArray:
        """Filter one block."""
        if x.size == 0:
            return x.copy()
        ext = np.concatenate((self._hist, x))
        out = ext[-x.size :].copy()
        if ext.size >= 3:
            a, b, c = ext[:-2], ext[1:-1], ext[2:]  # med[j] covers ext[j .. j+2]
            med = np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))
            # output for ext index k (k ≥ 2) is med[k-2]; our block starts at ext index len(hist)
            first = max(self._hist.size, 2)
            out[first - self._hist.size :] = med[first - 2 :]
        self._hist = ext[-2:].copy()
        return out


class MovingAverage:
    """Causal moving average over the last ``n`` samples (HX711_ADC-style display smoothing).

    NaN inputs (uncalibrated) propagate as NaN for the window they touch.
    """

    def __init__(self, n: int) -> None:
        if n < 1:
            raise ValueError("window must be at least one sample")
        self.n = n
        self._hist = np.empty(0, dtype=np.float64)

    def reset(self) -> None:
        """Forget history (after a gap in the signal)."""
        self._hist = np.empty(0, dtype=np.float64)

    def __call__(self, x: FloatArray) -> FloatArray:
        """Filter one block."""
        if x.size == 0 or self.n == 1:
            return x.copy()
        ext = np.concatenate((self._hist, x))
        nan = np.isnan(ext)
        csum = np.concatenate(([0.0], np.cumsum(np.where(nan, 0.0, ext))))
        cnan = np.concatenate(([0], np.cumsum(nan)))
        idx = np.arange(self._hist.size, ext.size)
        lo = np.maximum(idx + 1 - self.n, 0)
        out = (csum[idx + 1] - csum[lo]) / (idx + 1 - lo)
        out[cnan[idx + 1] - cnan[lo] > 0] = np.nan
        self._hist = ext[-(self.n - 1) :].copy()
        return out


#: No smoothing window is longer than this many samples, whatever period a tool claims: a
#: window is 50 ms up to 1.28 kHz, and a claimed period of 1 µs cannot stretch it over seconds.
MAX_WINDOW_SAMPLES = 64


def window_samples(seconds: float, period_s: float) -> int:
    """How many samples span ``seconds`` at ``period_s`` (1 to :data:`MAX_WINDOW_SAMPLES`)."""
    if not period_s > 0:  # NaN, 0 or negative: no smoothing rather than a guess
        return 1
    return max(1, min(MAX_WINDOW_SAMPLES, round(seconds / period_s)))
