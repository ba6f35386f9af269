"""Min/max decimation: fewer points for a curve, with every peak kept."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt


def minmax_indices(y: npt.NDArray[np.float64], max_points: int) -> npt.NDArray[np.intp]:
    """Indices of at most ``max_points`` samples: each bucket's lowest and highest, in order.

    A brief push past the limit survives any amount of decimation. NaN (unknown force) is kept
    only where a whole bucket is unknown, so gaps stay gaps.

    Args:
        y: the values.
        max_points: the budget (at least 2).
    """
    n = len(y)
    if n <= max_points:
        return np.arange(n)
    buckets = max(1, max_points // 2)
    size = math.ceil(n / buckets)
    rows = math.ceil(n / size)
    padded = np.full(rows * size, np.nan)
    padded[:n] = y
    grid = padded.reshape(rows, size)
    known = ~np.isnan(grid)
    lo = np.where(known, grid, np.inf).argmin(axis=1)
    hi = np.where(known, grid, -np.inf).argmax(axis=1)
    base = np.arange(rows) * size
    keep = np.unique(np.concatenate([base + lo, base + hi]))
    return keep[keep < n]
