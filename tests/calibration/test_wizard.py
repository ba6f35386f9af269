"""The calibration wizard's logic: steadiness, refusals, the fit and the check weight."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.wizard import (
    CalibrationWizard,
    CheckResult,
    Step,
    fit_points,
    parse_weight,
)
from firmware_bridge.errors import UsageError

RATE = 80.0
K = 4321.0  # counts per newton
OFFSET = 84_000.0
NOISE = 20.0


class Cell:
    """A noisy load cell feeding a wizard in simulated time."""

    def __init__(self, wizard: CalibrationWizard, seed: int = 1) -> None:
        self.wizard = wizard
        self.rng = np.random.default_rng(seed)
        self.t = 0.0
        self.load_n = 0.0

    def run(self, seconds: float) -> None:
        n = round(seconds * RATE)
        t = self.t + np.arange(n) / RATE
        raw = np.round(OFFSET + K * self.load_n + self.rng.normal(0, NOISE, n))
        self.wizard.feed(t, raw)
        self.t += n / RATE


def test_parse_weight_units() -> None:
    assert parse_weight("500g") == pytest.approx(4.903325)
    assert parse_weight("1 kg") == pytest.approx(9.80665)
    assert parse_weight("2lbf") == pytest.approx(8.896443)
    assert parse_weight("5") == pytest.approx(5.0)
    for bad in ("abc", "5 furlongs", "-1kg", "0g"):
        with pytest.raises(UsageError):
            parse_weight(bad)


def test_fit_reproduces_the_constants_with_noise() -> None:
    wiz = CalibrationWizard()
    cell = Cell(wiz)
    cell.run(1.5)
    assert wiz.tare().accepted
    for grams in (200, 500, 1000):
        cell.load_n = grams * 9.80665e-3
        cell.run(1.5)
        assert wiz.add_weight(parse_weight(f"{grams}g")).accepted
        cell.load_n = 0.0
        cell.run(0.5)
    fit = wiz.finish()
    assert wiz.step is Step.CHECK
    assert fit.counts_per_n == pytest.approx(K, rel=0.005)
    assert fit.offset_counts == pytest.approx(OFFSET, rel=0.005)
    assert fit.linearity_pct < 0.5
    assert fit.noise_counts == pytest.approx(NOISE, rel=0.3)
    assert fit.resolution_n == pytest.approx(1 / K, rel=0.005)
    assert fit.noise_n == pytest.approx(NOISE / K, rel=0.3)
    stored = wiz.result()
    assert len(stored["points"]) == 4 and stored["check"] is None


def test_tare_is_refused_under_load_and_while_moving() -> None:
    wiz = CalibrationWizard(reference_zero=OFFSET, reference_counts_per_n=K)
    cell = Cell(wiz)
    cell.load_n = 3.0
    cell.run(1.5)
    refused = wiz.tare()
    assert not refused.accepted and "take everything off the tool" in refused.message
    # a load coming off: not steady
    cell.load_n = 0.0
    cell.run(0.3)
    assert not wiz.reading().steady and not wiz.tare().accepted
    cell.run(1.2)
    assert wiz.reading().steady
    assert wiz.tare().accepted


def test_weight_step_refuses_nothing_on_the_cell_and_a_weight_left_on() -> None:
    wiz = CalibrationWizard()
    cell = Cell(wiz)
    cell.run(1.5)
    assert wiz.tare().accepted
    cell.run(1.0)
    nothing = wiz.add_weight(5.0)
    assert not nothing.accepted and "nothing on the cell" in nothing.message
    cell.load_n = 5.0
    cell.run(1.5)
    assert wiz.add_weight(5.0).accepted
    cell.load_n = 15.0  # the second weight put on top of the first
    cell.run(1.5)
    stacked = wiz.add_weight(10.0)
    assert not stacked.accepted and "not removed" in stacked.message
    with pytest.raises(UsageError, match="at least 2"):
        wiz.finish()
    cell.load_n = 0.0
    cell.run(1.0)
    cell.load_n = 10.0
    cell.run(1.5)
    assert wiz.add_weight(10.0).accepted
    assert wiz.n_weights == 2


def _calibrated(seed: int = 2) -> tuple[CalibrationWizard, Cell]:
    wiz = CalibrationWizard()
    cell = Cell(wiz, seed)
    cell.run(1.5)
    wiz.tare()
    for load in (5.0, 10.0):
        cell.load_n = load
        cell.run(1.5)
        assert wiz.add_weight(load).accepted
        cell.load_n = 0.0
        cell.run(0.5)
    wiz.finish()
    return wiz, cell


def test_check_weight_verified() -> None:
    wiz, cell = _calibrated()
    cell.load_n = 7.5
    cell.run(1.5)
    result = wiz.check(7.5)
    assert isinstance(result, CheckResult)
    assert result.verified and result.message.startswith("verified")
    assert wiz.result()["check"]["verified"] is True


def test_check_weight_failed_when_the_weight_is_not_what_was_typed() -> None:
    wiz, cell = _calibrated()
    cell.load_n = 7.5 * 1.03
    cell.run(1.5)
    result = wiz.check(7.5)
    assert isinstance(result, CheckResult)
    assert not result.verified and result.message.startswith("check failed: ")
    assert result.error_pct == pytest.approx(3.0, abs=0.2)


def test_fit_points_needs_two_forces() -> None:
    with pytest.raises(UsageError):
        fit_points([0.0], [1.0], 1.0)
    fit = fit_points([0.0, 1.0, 2.0], [10.0, -90.0, -190.0], 1.0)  # an inverted cell
    assert fit.counts_per_n == pytest.approx(-100.0) and fit.force(-40.0) == pytest.approx(0.5)
