"""Fixtures for the store tests: a real SQLite store in a temporary directory, and sample data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.store import Store
from firmware_bridge.zones import JudgedSamples, Zone

MakeSamples = Callable[..., JudgedSamples]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh store in ``tmp_path``, closed after the test."""
    with Store.open(tmp_path) as s:
        yield s


@pytest.fixture
def make_samples() -> MakeSamples:
    """Build judged samples at ``rate`` Hz starting at sample index ``start``.

    Forces ramp with a little noise; every 7th sample has NaN force (uncalibrated) and every 11th
    NaN raw; zones cycle through every Zone value.
    """

    def make(n: int, start: int = 0, rate: float = 80.0) -> JudgedSamples:
        idx = np.arange(start, start + n)
        t = idx / rate
        noise = 0.1 * np.sin(idx * 12.9898) * np.cos(idx * 78.233)  # same value for same index
        force = 5.0 + 3.0 * np.sin(t) + noise
        force[idx % 7 == 3] = np.nan
        filtered = force * 0.9
        raw = np.round(force * 4000.0 + 81234.0)
        raw[idx % 11 == 5] = np.nan
        values = np.array([int(z) for z in Zone], dtype=np.int8)
        zone = values[idx % len(values)]
        return JudgedSamples(t_s=t, raw=raw, force_n=force, filtered_n=filtered, zone=zone)

    return make


def assert_samples_equal(a: JudgedSamples, b: JudgedSamples) -> None:
    """Every column identical, NaN in the same places."""
    for column in ("t_s", "raw", "force_n", "filtered_n"):
        np.testing.assert_array_equal(getattr(a, column), getattr(b, column), err_msg=column)
    np.testing.assert_array_equal(np.asarray(a.zone), np.asarray(b.zone), err_msg="zone")


@pytest.fixture
def samples_equal() -> Callable[[JudgedSamples, JudgedSamples], None]:
    """:func:`assert_samples_equal` as a fixture (test modules here are not a package)."""
    return assert_samples_equal
