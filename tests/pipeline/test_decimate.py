"""Min/max decimation keeps every bucket's true extremes."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.decimate import minmax_indices


@settings(max_examples=100, deadline=None)
@given(
    y=st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=500),
    budget=st.integers(2, 60),
)
def test_every_bucket_keeps_its_minimum_and_maximum(y: list[float], budget: int) -> None:
    arr = np.asarray(y)
    keep = minmax_indices(arr, budget)
    assert np.all(np.diff(keep) > 0), "indices in time order, no duplicates"
    assert len(keep) <= max(budget, len(arr) if len(arr) <= budget else budget)
    if len(arr) <= budget:
        assert len(keep) == len(arr)
        return
    size = math.ceil(len(arr) / max(1, budget // 2))
    for start in range(0, len(arr), size):
        bucket = arr[start : start + size]
        kept = arr[keep[(keep >= start) & (keep < start + size)]]
        assert kept.min() == bucket.min() and kept.max() == bucket.max()


def test_unknown_values_stay_gaps_unless_a_whole_bucket_is_unknown() -> None:
    y = np.r_[np.full(50, np.nan), np.arange(50.0)]
    kept = y[minmax_indices(y, 10)]
    assert np.isnan(kept[:2]).all() and np.isfinite(kept[2:]).all()
