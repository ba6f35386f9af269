"""Fixtures for the store tests: a real SQLite store in a temporary directory, and sample data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from exchange_helpers import samples

from firmware_bridge.store import Store
from firmware_bridge.zones import JudgedSamples

MakeSamples = Callable[..., JudgedSamples]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh store in ``tmp_path``, closed after the test."""
    with Store.open(tmp_path) as s:
        yield s


@pytest.fixture
def make_samples() -> MakeSamples:
    """Build judged samples at ``rate`` Hz starting at sample index ``start``
    (:func:`exchange_helpers.samples`: a noisy ramp, NaN force every 7th sample and NaN raw every
    11th, zones in turn, a sample without a force judged as the bridge would)."""
    return samples


def assert_samples_equal(a: JudgedSamples, b: JudgedSamples) -> None:
    """Every column identical, NaN in the same places."""
    for column in ("t_s", "raw", "force_n", "filtered_n"):
        np.testing.assert_array_equal(getattr(a, column), getattr(b, column), err_msg=column)
    np.testing.assert_array_equal(np.asarray(a.zone), np.asarray(b.zone), err_msg="zone")


@pytest.fixture
def samples_equal() -> Callable[[JudgedSamples, JudgedSamples], None]:
    """:func:`assert_samples_equal` as a fixture (test modules here are not a package)."""
    return assert_samples_equal
