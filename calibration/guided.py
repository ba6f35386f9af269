"""One guided pressure-pain-threshold measurement, fed with judged force as it arrives.

:class:`~calibration.ppt.PptProtocol` is the pure protocol; this adds what both front ends need
around it: a trial starts by itself when the smoothed force leaves zero, marks come from the
tool's button, the space bar or a big on-screen button (a mark from the screen carries the time
of the newest sample the user saw, so the delay of the round trip does not bias the PPT), the
status the dashboard and the terminal show, and the stored record. The bridge runs one for the
dashboard's Limits page; ``pressureguard limits measure`` runs one on its own pipeline.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike

from calibration.ppt import (
    FLOOR_N,
    RAMP_MAX_KPA_S,
    RAMP_MIN_KPA_S,
    REST_S,
    PptProtocol,
    PptSummary,
    TrialResult,
)
from calibration.precautions import ProfileSafety

log = logging.getLogger(__name__)


class PptStore(Protocol):
    """Where a finished measurement is kept (the store)."""

    def add_ppt(
        self,
        profile: str,
        region: str,
        *,
        ppt_n: float,
        trials: list[dict[str, Any]],
        tip: str | None = None,
        tip_area_cm2: float | None = None,
        mean_2_3_n: float | None = None,
        sd_n: float | None = None,
        n: int,
        attempts: int,
        fraction: float,
        note: str | None = None,
    ) -> int: ...


def trial_dict(result: TrialResult) -> dict[str, Any]:
    """A trial as JSON-ready plain data (rounded; None where not measured)."""
    return {k: _round(v) for k, v in dataclasses.asdict(result).items()}


def summary_dict(summary: PptSummary) -> dict[str, Any]:
    """A summary as JSON-ready plain data."""
    out = {k: _round(v) for k, v in dataclasses.asdict(summary).items() if k != "trials_n"}
    out["trials_n"] = [_round(f) for f in summary.trials_n]
    return out


def summary_from_dict(data: Mapping[str, Any]) -> PptSummary:
    """A summary back from :func:`summary_dict`'s plain data (the live state's ``ppt.summary``)."""
    values: dict[str, Any] = {f.name: data.get(f.name) for f in dataclasses.fields(PptSummary)}
    values["trials_n"] = tuple(float(f) for f in data.get("trials_n") or ())
    return PptSummary(**values)


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    return value


@dataclass(frozen=True, slots=True)
class ProposedLimit:
    """The comfort limit a measurement proposes, as the user is asked to confirm it.

    Attributes:
        limit_n: fraction × PPT to 0.01 N, capped at the profile's ceiling.
        note: what is stored with the limit (the PPT, its trials, the fraction, any cap).
        capped: whether the ceiling lowered it.
        ceiling_n: the profile's ceiling on this tip.
    """

    limit_n: float
    note: str
    capped: bool
    ceiling_n: float


def propose_limit(
    summary: PptSummary,
    safety: ProfileSafety,
    tip_area_cm2: float | None,
    fraction: float | None = None,
) -> ProposedLimit:
    """The limit to propose from a complete measurement.

    Args:
        summary: the measurement's summary (with a PPT).
        safety: the profile's precautions (the ceiling).
        tip_area_cm2: the tip's area (None: the 1 cm² reference disc).
        fraction: share of the PPT (default: the one the measurement was started with).

    Raises:
        ValueError: no PPT, or a fraction outside (0, 1].
    """
    if summary.ppt_n is None:
        raise ValueError("no threshold was measured")
    share = summary.fraction if fraction is None else fraction
    if not 0.0 < share <= 1.0:
        raise ValueError("the limit is more than 0 % and at most 100 % of the threshold")
    trials = ", ".join(f"{f:.1f}" for f in summary.trials_n)
    note = f"PPT {summary.ppt_n:.2f} N, mean of {summary.n} trials ({trials} N)"
    if share != 1.0:
        note += f"; limit {share:.0%} of it"
    # Rounded once to 0.01 N here, so what the user confirms is exactly what is stored.
    limit = round(share * summary.ppt_n, 2)
    ceiling = safety.ceiling_n(tip_area_cm2)
    capped = limit > ceiling
    if capped:
        limit = math.floor(ceiling * 100) / 100  # never above the ceiling
        note += f"; capped at {safety.ceiling_words}"
    return ProposedLimit(limit, note, capped, ceiling)


@dataclass(frozen=True, slots=True)
class MeasurementSettings:
    """What a measurement is of, and how it is run (as the page, the command and the CLI ask).

    Attributes:
        profile: whose threshold.
        region: body region slug with optional side.
        tip: tip key (None: any tip).
        tip_area_cm2: tip area for kPa and ramp rates (None: the 1 cm² reference disc).
        fraction: share of the PPT proposed as the comfort limit.
        rest_s: rest between trials (≥ 30 s).
    """

    profile: str
    region: str
    tip: str | None = None
    tip_area_cm2: float | None = None
    fraction: float = 1.0
    rest_s: float = REST_S


class GuidedMeasurement:
    """A measurement of one profile's threshold at one region with one tip.

    Args:
        settings: whose, where, which tip, and the protocol's fraction and rest.
        ceiling_n: the profile's force ceiling; shown, and judged as danger by the bridge.

    Raises:
        ValueError: a fraction outside (0, 1] or a rest under 30 s.
    """

    def __init__(self, settings: MeasurementSettings, ceiling_n: float = math.inf) -> None:
        self.settings = settings
        self.profile = settings.profile
        self.region = settings.region
        self.tip = settings.tip
        self.tip_area_cm2 = settings.tip_area_cm2
        self.ceiling_n = ceiling_n
        self.protocol = PptProtocol(
            settings.tip_area_cm2, fraction=settings.fraction, rest_s=settings.rest_s
        )
        self.ppt_id: int | None = None
        self.error: str | None = None
        self._now = 0.0
        self._reported = 0

    @property
    def done(self) -> bool:
        """Whether the protocol has ended (enough trials, or no attempts left)."""
        return self.protocol.state_at(self._now) == "done"

    @property
    def now(self) -> float:
        """Session time of the newest sample fed."""
        return self._now

    def feed(self, t_s: ArrayLike, force_n: ArrayLike, smoothed_n: ArrayLike) -> None:
        """Take judged samples (:meth:`new_results` then tells which trials ended).

        A trial may end and the next start inside one block (a replay at full speed), so the
        state is followed sample by sample. The analysis gets the unsmoothed force (no filter
        lag; it fits its own line); a trial starts when the smoothed force leaves zero.
        """
        t = np.asarray(t_s, dtype=np.float64)
        force = np.asarray(force_n, dtype=np.float64)
        smooth = np.asarray(smoothed_n, dtype=np.float64)
        protocol = self.protocol
        for k in range(t.size):
            tk = float(t[k])
            state = protocol.state_at(tk)
            if state == "ready" and smooth[k] > FLOOR_N:
                protocol.start_trial(tk)
                state = "pressing"
            if state == "pressing":
                protocol.feed(tk, force[k])
        if t.size:
            self._now = max(self._now, float(t[-1]))

    def mark(self, t: float | None = None) -> bool:
        """The user marked "it starts to hurt" at session time ``t`` (None: the newest sample).

        The tool's button frame may arrive just before the samples of its moment, so a time a
        little ahead of the newest sample is kept as it is.
        """
        return self.protocol.mark(self._now if t is None or not math.isfinite(t) else float(t))

    def release(self) -> TrialResult | None:
        """End the running trial now (the user pressed "End trial")."""
        return self.protocol.release(self._now)

    def new_results(self) -> list[TrialResult]:
        """Trials ended since the last call (for announcing them once)."""
        results = self.protocol.results()
        fresh, self._reported = results[self._reported :], len(results)
        return fresh

    def summary(self) -> PptSummary:
        """The PPT so far and the limit it proposes."""
        return self.protocol.summary()

    def save(self, store: PptStore) -> int | None:
        """Store a complete measurement once (every trial, accepted or not); returns its id."""
        summary = self.summary()
        if self.ppt_id is not None or not summary.complete or summary.ppt_n is None:
            return self.ppt_id
        trials = [trial_dict(r) for r in self.protocol.results()]
        self.ppt_id = store.add_ppt(
            self.profile,
            self.region,
            ppt_n=summary.ppt_n,
            trials=trials,
            tip=self.tip,
            tip_area_cm2=self.tip_area_cm2,
            mean_2_3_n=summary.mean_2_3_n,
            sd_n=summary.sd_n,
            n=summary.n,
            attempts=summary.attempts,
            fraction=summary.fraction,
        )
        log.info(
            "PPT %s/%s = %.2f N stored (#%d)", self.profile, self.region, summary.ppt_n, self.ppt_id
        )
        return self.ppt_id

    def status(self) -> dict[str, Any]:
        """What the screens show, JSON-ready (the bridge's live state carries it as ``ppt``)."""
        status = self.protocol.status(self._now)
        results = self.protocol.results()
        status.pop("last")
        summary = self.summary()
        status.update(
            profile=self.profile,
            region=self.region,
            tip=self.tip,
            tip_area_cm2=self.tip_area_cm2,
            min_kpa_s=RAMP_MIN_KPA_S,
            max_kpa_s=RAMP_MAX_KPA_S,
            ceiling_n=self.ceiling_n if math.isfinite(self.ceiling_n) else None,
            fraction=self.protocol.fraction,
            last=trial_dict(results[-1]) if results else None,
            trials=[trial_dict(r) for r in results],
            summary=summary_dict(summary) if status["state"] == "done" else None,
            ppt_id=self.ppt_id,
            error=self.error,
        )
        return {k: _round(v) for k, v in status.items()}
