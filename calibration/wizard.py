"""The device calibration wizard as a pure state machine: raw counts and times in, verdicts out.

Steps: a tare (accepted only unloaded and steady), two or more known weights (each on its own, the
tool empty in between), a least-squares fit ``counts = offset + k·N`` with its linearity error,
noise and resolution, and an optional check weight. No I/O here: the CLI (and a page) feed samples,
pass on what the user typed, and show the messages.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt

from firmware_bridge.errors import UsageError
from firmware_bridge.readout import DEFAULT_UNIT, Readout, readout
from firmware_bridge.units import FORCE_UNITS

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

#: Standard gravity: a mass of 1 kg weighs 9.80665 N.
STANDARD_GRAVITY = 9.80665

_WEIGHT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z]*)\s*$")
_WEIGHT_UNITS = {
    **FORCE_UNITS,
    "g": STANDARD_GRAVITY / 1000,
    "gram": STANDARD_GRAVITY / 1000,
    "grams": STANDARD_GRAVITY / 1000,
    "kg": STANDARD_GRAVITY,
    "mg": STANDARD_GRAVITY / 1e6,
}


def parse_weight(text: str) -> float:
    """Parse a known weight as typed by a user (``500g``, ``1kg``, ``4.9N``, ``2lbf``) into newtons.

    Masses (g, kg) are converted with standard gravity; a bare number is newtons.

    Raises:
        UsageError: not a positive number with a known unit.
    """
    match = _WEIGHT.match(text)
    if not match:
        raise UsageError(f"{text!r} is not a weight: write e.g. 500g, 1kg, 5N or 2lbf")
    value = float(match.group(1))
    unit = match.group(2).lower() or "n"
    if unit not in _WEIGHT_UNITS:
        raise UsageError(f"unknown unit {match.group(2)!r} in {text!r}: use g, kg, N or lbf")
    newtons = value * _WEIGHT_UNITS[unit]
    if not newtons > 0:
        raise UsageError(f"{text!r}: a weight must be more than zero")
    return newtons


class Step(Enum):
    """Where the wizard is."""

    TARE = "tare"
    WEIGHTS = "weights"
    CHECK = "check"


@dataclass(frozen=True, slots=True)
class WizardConfig:
    """Tuning of the wizard.

    Attributes:
        window_s: how much of the latest signal a steady reading is judged on.
        steady_sigma: a window is steady when its scatter is at most this many times the noise.
        steady_trend: … and it moves (trend over the window) at most this many times the noise.
        min_noise_counts: the noise is never taken as less than this (a quiet or quantised ADC).
        load_factor: a load is present when the reading is this many noise σ off the zero.
        min_load_counts: … and at least this many counts off.
        tare_tolerance_n: the tare must be this close to the previous zero (when one is known).
        min_weights: known weights needed for a fit.
        check_tolerance: relative error within which a check weight is verified.
    """

    window_s: float = 1.0
    steady_sigma: float = 3.0
    steady_trend: float = 3.0
    min_noise_counts: float = 1.0
    load_factor: float = 20.0
    min_load_counts: float = 10.0
    tare_tolerance_n: float = 1.0
    min_weights: int = 2
    check_tolerance: float = 0.005


@dataclass(frozen=True, slots=True)
class Reading:
    """The latest window of the signal.

    Attributes:
        counts: mean raw counts over the window (NaN before any sample).
        sigma: scatter of the window around its trend, in counts.
        trend: how far the reading moved over the window, in counts.
        steady: the window is full, quiet and not moving.
        stability: 0 (moving) … 1 (steady), for a progress bar.
        full: the window holds ``window_s`` of signal.
    """

    counts: float
    sigma: float
    trend: float
    steady: bool
    stability: float
    full: bool


@dataclass(frozen=True, slots=True)
class StepResult:
    """What became of a step: accepted or refused, with words for the user."""

    accepted: bool
    message: str


@dataclass(frozen=True, slots=True)
class Fit:
    """A least-squares fit ``counts = offset_counts + counts_per_n · N`` and its quality.

    Attributes:
        counts_per_n: slope (negative for an inverted cell).
        offset_counts: counts at zero force.
        linearity_pct: largest residual as a % of the largest weight's counts (above zero).
        noise_counts: σ of the counts at rest.
        noise_n: the same in newtons.
        resolution_n: one count in newtons.
        r2: coefficient of determination.
        forces_n: the known forces, zero first.
        counts: the mean counts measured for each.
        residuals_counts: measured − fitted, per point.
    """

    counts_per_n: float
    offset_counts: float
    linearity_pct: float
    noise_counts: float
    noise_n: float
    resolution_n: float
    r2: float
    forces_n: list[float]
    counts: list[float]
    residuals_counts: list[float]

    def force(self, counts: float) -> float:
        """Newtons for a raw count."""
        return (counts - self.offset_counts) / self.counts_per_n

    def words(self, shown: Readout | None = None) -> list[str]:
        """The fit in plain words, one line each.

        Args:
            shown: the user's force unit (newtons by default); the scale stays per newton.
        """
        shown = shown or readout(DEFAULT_UNIT)
        linear = (
            "good" if self.linearity_pct <= 0.5 else "fair" if self.linearity_pct <= 2 else "poor"
        )
        return [
            f"{self.counts_per_n:.3f} counts per newton, zero at {self.offset_counts:.0f} counts",
            f"linearity error {self.linearity_pct:.2f} % of the largest weight ({linear})",
            f"noise at rest {shown.finer(3).text(self.noise_n)} ({self.noise_counts:.1f} counts)",
            f"resolution {shown.finer(4).text(self.resolution_n)} (one count)",
        ]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """A check weight: what the calibration reads against what was entered."""

    entered_n: float
    predicted_n: float
    error_pct: float
    verified: bool
    message: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, kept with the calibration."""
        return {
            "entered_n": self.entered_n,
            "predicted_n": self.predicted_n,
            "error_pct": self.error_pct,
            "verified": self.verified,
        }


def fit_points(forces_n: list[float], counts: list[float], noise_counts: float) -> Fit:
    """Least-squares line through (force, counts) points.

    Args:
        forces_n: known forces, the zero included.
        counts: mean counts measured at each.
        noise_counts: σ of the counts at rest.

    Raises:
        UsageError: fewer than two distinct forces, or a flat line (no response to the load).
    """
    f = np.asarray(forces_n, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    if len(f) < 2 or np.ptp(f) == 0:
        raise UsageError("a fit needs at least two different known forces")
    k, offset = np.polyfit(f, c, 1)
    if k == 0 or not np.isfinite(k):
        raise UsageError("the cell did not respond to the weights: check its wiring")
    fitted = offset + k * f
    resid = c - fitted
    span = float(np.max(np.abs(k * f)))
    ss_tot = float(np.sum((c - c.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else 1.0
    return Fit(
        counts_per_n=float(k),
        offset_counts=float(offset),
        linearity_pct=float(np.max(np.abs(resid)) / span * 100) if span else 0.0,
        noise_counts=float(noise_counts),
        noise_n=float(noise_counts / abs(k)),
        resolution_n=float(1 / abs(k)),
        r2=r2,
        forces_n=[float(x) for x in f],
        counts=[float(x) for x in c],
        residuals_counts=[float(x) for x in resid],
    )


def window_stats(t: FloatArray, raw: FloatArray) -> tuple[float, float, float]:
    """Mean, scatter around a straight-line trend, and the trend's rise over the window."""
    mean = float(np.mean(raw))
    if len(raw) < 3 or np.ptp(t) == 0:
        return mean, float(np.std(raw)), 0.0
    slope, icept = np.polyfit(t - t[0], raw, 1)
    resid = raw - (icept + slope * (t - t[0]))
    return mean, float(np.std(resid)), float(slope * (t[-1] - t[0]))


@dataclass
class _Point:
    force_n: float
    counts: float


@dataclass
class CalibrationWizard:
    """Tare, known weights, fit and check, fed with raw counts and their times.

    Args:
        config: tuning.
        reference_zero: the zero the tool had before (stored calibration or INFO), if known.
        reference_counts_per_n: its counts per newton, if known (lets the tare spot a load).
        shown: how forces read in the messages (the user's force unit; newtons by default).
    """

    config: WizardConfig = field(default_factory=WizardConfig)
    reference_zero: float | None = None
    reference_counts_per_n: float | None = None
    shown: Readout = field(default_factory=lambda: readout(DEFAULT_UNIT))
    step: Step = field(default=Step.TARE, init=False)
    samples_seen: int = field(default=0, init=False)
    _t: FloatArray = field(default_factory=lambda: np.empty(0), init=False, repr=False)
    _raw: FloatArray = field(default_factory=lambda: np.empty(0), init=False, repr=False)
    _noise_floor: float | None = field(default=None, init=False, repr=False)
    _tare: _Point | None = field(default=None, init=False, repr=False)
    _tare_noise: float = field(default=0.0, init=False, repr=False)
    _weights: list[_Point] = field(default_factory=list, init=False, repr=False)
    _emptied: bool = field(default=True, init=False, repr=False)
    _fit: Fit | None = field(default=None, init=False, repr=False)
    _check: CheckResult | None = field(default=None, init=False, repr=False)

    # -- the signal ----------------------------------------------------------------------------

    def feed(self, t: FloatArray, raw: FloatArray) -> None:
        """Add samples (times in seconds, raw counts; NaN counts are dropped)."""
        t = np.asarray(t, dtype=np.float64)
        raw = np.asarray(raw, dtype=np.float64)
        ok = np.isfinite(raw) & np.isfinite(t)
        t, raw = t[ok], raw[ok]
        if not len(t):
            return
        self.samples_seen += len(t)
        self._t = np.concatenate([self._t, t])
        self._raw = np.concatenate([self._raw, raw])
        keep = self._t >= self._t[-1] - self.config.window_s
        self._t, self._raw = self._t[keep], self._raw[keep]
        reading = self.reading()
        if reading.full and (self._noise_floor is None or reading.sigma < self._noise_floor):
            self._noise_floor = reading.sigma
        if not self._emptied and self._tare is not None:
            recent = self._raw[self._t >= self._t[-1] - min(0.25, self.config.window_s / 2)]
            if abs(float(np.mean(recent)) - self._tare.counts) < self.load_threshold:
                self._emptied = True

    @property
    def noise(self) -> float:
        """The noise the wizard judges steadiness against, in counts."""
        base = self._tare_noise if self._tare is not None else (self._noise_floor or 0.0)
        return max(base, self.config.min_noise_counts)

    @property
    def load_threshold(self) -> float:
        """Counts off the zero from which a load counts as present."""
        return max(self.config.load_factor * self.noise, self.config.min_load_counts)

    def reading(self) -> Reading:
        """The latest window: mean counts, scatter, trend and steadiness."""
        if not len(self._raw):
            return Reading(float("nan"), float("nan"), float("nan"), False, 0.0, False)
        mean, sigma, trend = window_stats(self._t, self._raw)
        span = float(self._t[-1] - self._t[0])
        full = span >= 0.9 * self.config.window_s
        limit_sigma = self.config.steady_sigma * self.noise
        limit_trend = self.config.steady_trend * self.noise
        worst = max(sigma / limit_sigma, abs(trend) / limit_trend)
        stability = min(1.0, 1.0 / worst if worst > 0 else 1.0) * min(1.0, span / 0.9)
        steady = full and sigma <= limit_sigma and abs(trend) <= limit_trend
        return Reading(mean, sigma, trend, steady, float(stability), full)

    # -- the steps -----------------------------------------------------------------------------

    def tare(self, *, force: bool = False) -> StepResult:
        """Take the current steady reading as the zero.

        Args:
            force: accept it even far from the previous zero (the user insists the tool is empty).
        """
        reading = self.reading()
        if not reading.steady:
            return StepResult(False, "the reading is not steady yet: leave the tool still")
        if not force and self.reference_zero is not None and self.reference_counts_per_n:
            off_n = (reading.counts - self.reference_zero) / self.reference_counts_per_n
            tolerance = max(
                self.config.tare_tolerance_n * abs(self.reference_counts_per_n),
                self.config.load_factor * self.noise,
            )
            if abs(reading.counts - self.reference_zero) > tolerance:
                return StepResult(
                    False,
                    f"something is pressing on the cell ({self.shown.signed(off_n)} from its "
                    "last zero): "
                    "take everything off the tool, then press Enter. If it really is empty "
                    "(the tool was rebuilt), type 'force' to take this zero anyway.",
                )
        self._tare = _Point(0.0, reading.counts)
        self._tare_noise = reading.sigma
        self._weights.clear()
        self._emptied = True
        self._fit = None
        self.step = Step.WEIGHTS
        log.info("tare at %.1f counts (σ %.2f)", reading.counts, reading.sigma)
        return StepResult(True, f"zero taken at {reading.counts:.0f} counts")

    def _loaded_check(self, what: str) -> tuple[StepResult | None, float]:
        """Refuse a load step that is not steady, has nothing on the cell, or a weight left on."""
        reading = self.reading()
        assert self._tare is not None
        delta = reading.counts - self._tare.counts
        if not reading.steady:
            return StepResult(False, "the reading is not steady yet: let the weight settle"), delta
        if abs(delta) < self.load_threshold:
            return (
                StepResult(
                    False,
                    "nothing on the cell: the reading is the same as with the tool empty. "
                    f"Put the {what} on the tool, wait for a steady reading, then type its value.",
                ),
                delta,
            )
        if not self._emptied:
            return (
                StepResult(
                    False,
                    "the last weight was not removed: take it off, let the tool rest empty, "
                    f"then put the {what} on by itself.",
                ),
                delta,
            )
        if self._weights:
            first = self._weights[0].counts - self._tare.counts
            if np.sign(first) != np.sign(delta):
                return (
                    StepResult(
                        False,
                        "the reading went the other way from the first weight: press the "
                        "weight on the tip the same way each time",
                    ),
                    delta,
                )
        return None, delta

    def add_weight(self, force_n: float) -> StepResult:
        """Record the current steady reading as ``force_n`` (a known weight on its own)."""
        if self._tare is None:
            return StepResult(False, "take the zero first: the tool empty, then Enter")
        refusal, _ = self._loaded_check("weight")
        if refusal is not None:
            return refusal
        counts = self.reading().counts
        self._weights.append(_Point(force_n, counts))
        self._emptied = False
        self._fit = None
        n = len(self._weights)
        more = self.config.min_weights - n
        after = (
            f"{more} more weight{'s' if more > 1 else ''} needed"
            if more > 0
            else "add another weight, or type 'done'"
        )
        log.info("weight %.4f N at %.1f counts", force_n, counts)
        return StepResult(
            True,
            f"weight {n}: {self.weight(force_n)} at {counts:.0f} counts. Take it off; {after}.",
        )

    def weight(self, force_n: float) -> str:
        """A known weight or a calibrated reading in words, finer than a pressing force (the
        calibration's own precision is the point here)."""
        return self.shown.finer(2).text(force_n)

    @property
    def tare_counts(self) -> float | None:
        """The zero taken, in counts (None before the tare)."""
        return None if self._tare is None else self._tare.counts

    @property
    def n_weights(self) -> int:
        """Known weights recorded since the tare."""
        return len(self._weights)

    def finish(self) -> Fit:
        """Fit the zero and the weights.

        Raises:
            UsageError: no tare, or fewer weights than needed.
        """
        if self._tare is None:
            raise UsageError("take the zero first")
        if len(self._weights) < self.config.min_weights:
            raise UsageError(
                f"at least {self.config.min_weights} known weights are needed "
                f"({len(self._weights)} so far)"
            )
        points = [self._tare, *self._weights]
        self._fit = fit_points(
            [p.force_n for p in points], [p.counts for p in points], self._tare_noise
        )
        self.step = Step.CHECK
        return self._fit

    def check(self, force_n: float) -> CheckResult | StepResult:
        """Compare what the fit reads for the weight on the cell with its known ``force_n``.

        Returns:
            The check result, or a refused step (not steady, nothing on, last weight left on).

        Raises:
            UsageError: no fit yet.
        """
        if self._fit is None:
            raise UsageError("finish the known weights first")
        refusal, _ = self._loaded_check("check weight")
        if refusal is not None:
            return refusal
        fit = self._fit
        predicted = fit.force(self.reading().counts)
        error_pct = (predicted - force_n) / force_n * 100
        verified = abs(predicted - force_n) <= max(
            self.config.check_tolerance * force_n, fit.resolution_n
        )
        self._emptied = False
        reads = f"{self.weight(predicted)} for {self.weight(force_n)}"
        if verified:
            message = f"verified: the calibration reads {reads} ({error_pct:+.2f} %)"
        else:
            message = f"check failed: {abs(error_pct):.2f} % off (reads {reads})"
        self._check = CheckResult(force_n, float(predicted), float(error_pct), verified, message)
        return self._check

    def result(self) -> dict[str, Any]:
        """The fit quality to store with the calibration.

        Raises:
            UsageError: no fit yet.
        """
        if self._fit is None:
            raise UsageError("no fit yet")
        fit = self._fit
        return {
            "method": "least-squares",
            "points": [
                {"force_n": f, "counts": c} for f, c in zip(fit.forces_n, fit.counts, strict=True)
            ],
            "residuals_counts": fit.residuals_counts,
            "linearity_pct": fit.linearity_pct,
            "noise_counts": fit.noise_counts,
            "noise_n": fit.noise_n,
            "resolution_n": fit.resolution_n,
            "r2": fit.r2,
            "check": None if self._check is None else self._check.as_dict(),
        }
