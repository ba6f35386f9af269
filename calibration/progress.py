"""Progress of a region's pressure-pain threshold (PPT) against the user's own baseline, and
side-to-side asymmetry. Pure: numbers in, numbers and plain words out.

A single person's PPT wobbles a lot from day to day (published individual SEMs are 79–100 kPa,
or ≥ 21 % of the mean; CLINICAL.md §1.5), and the effects of self-massage are smaller than that
(§5.2). So a change is only called real when it exceeds the user's own minimal detectable change,
MDC95 = 1.96 · √2 · SEM = 2.77 · SEM, with the SEM estimated from their first three measurements
(the baseline); before that, and below it, only a trend is shown.

**Unit of the SEM: the natural log of the PPT.** The statistics are computed on log values, as
DFNS reference data are (§1.6: QST parameters are normal only after log transformation), because
the spread of PPT grows with its level (a 5-fold range between people): on the log scale one
SEM fits a sensitive and a robust user alike, and it reads as a share of the mean (an SEM of
0.10 ≈ 10 %). Consequently the baseline mean is the geometric mean, and the noise band is a
ratio, asymmetric in newtons (+32 % / −24 % for an SEM of 0.10). ``mdc95_n`` gives the rise
beyond the baseline mean that counts as real.

Three baseline values give a rough SD (2 degrees of freedom): an unusually consistent baseline
would make ordinary wobble look like change. The SEM is therefore never taken below
:data:`MIN_SEM_LOG` (10 %, a **[design]** floor below every published individual SEM).

A higher threshold means it takes more pressure before pressing starts to hurt at that spot; it
is not "less pain" (PPT and pain ratings barely correlate, §5.1), and the words never say so.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from calibration.tips import TIPS, pressure_area
from firmware_bridge.errors import UsageError
from firmware_bridge.readout import DEFAULT_UNIT, describe, force_readout, readout
from firmware_bridge.units import KGF_N, REFERENCE_TIP_CM2, parse_region

#: Measurements forming the baseline (mean of ≥ 3 baseline sessions, §5.2).
BASELINE_N = 3
#: MDC95 = 1.96 × √2 × SEM.
MDC95_FACTOR = 1.96 * math.sqrt(2)
#: Lowest SEM (log scale) used, whatever the baseline's spread.
MIN_SEM_LOG = 0.10
#: Side-to-side difference that is flagged: ≥ 2 kgf/cm² (Fischer 1998) ...
ASYMMETRY_KGF_CM2 = 2.0
#: ... or more than 35 % (Pfau 2014, DFNS trunk data).
ASYMMETRY_PCT = 35.0

_NOT_PAIN = (
    "A threshold tells how much pressure it takes to start hurting at this spot, not how much "
    "pain you have."
)


@dataclass(frozen=True, slots=True)
class Progress:
    """A region's PPT history judged against its baseline.

    Attributes:
        n: measurements so far.
        baseline_mean_n: geometric mean of the first 3 (None before there are 3).
        sem: the user's standard error of measurement on the natural-log scale (≈ a share of the
            mean: 0.10 ≈ 10 %), at least :data:`MIN_SEM_LOG`; None before the baseline is done.
        mdc95_n: rise above the baseline mean that counts as real (N); a fall counts when it is
            below ``baseline_mean_n / exp(2.77 · sem)``.
        mdc95_pct: the same rise in percent of the baseline mean.
        latest_n: the newest measurement.
        change_n: latest minus the baseline mean (N), from the 4th measurement on.
        change_pct: the same in percent of the baseline mean.
        verdict: 'baseline' (fewer than 4 measurements), 'higher' or 'lower' (beyond MDC95: a
            real change) or 'within_noise'.
        trend_n_per_measurement: least-squares slope over all measurements (N per measurement),
            from 2 measurements on; a trend, not a verdict.
        words: plain-words summary for the user.
    """

    n: int
    baseline_mean_n: float | None
    sem: float | None
    mdc95_n: float | None
    mdc95_pct: float | None
    latest_n: float | None
    change_n: float | None
    change_pct: float | None
    verdict: str
    trend_n_per_measurement: float | None
    words: str


@dataclass(frozen=True, slots=True)
class Asymmetry:
    """Left against right at one region.

    Attributes:
        left_n: left PPT (N).
        right_n: right PPT (N).
        difference_kgf_cm2: the difference as pressure on the tip (1 cm² reference if unknown).
        difference_pct: the difference in percent of the higher (less tender) side.
        flagged: ≥ 2 kgf/cm² or > 35 %.
        more_tender: 'left' or 'right' when flagged (the lower threshold), else None.
        words: plain words, no diagnosis.
    """

    left_n: float
    right_n: float
    difference_kgf_cm2: float
    difference_pct: float
    flagged: bool
    more_tender: str | None
    words: str


def _check(values: Sequence[float]) -> list[float]:
    out = [float(v) for v in values]
    if not all(math.isfinite(v) and v > 0 for v in out):
        raise UsageError("pain thresholds must be finite forces above 0 N")
    return out


def _trend(values: list[float]) -> float | None:
    if len(values) < 2:
        return None
    x = np.arange(len(values), dtype=np.float64)
    return float(np.polyfit(x, np.asarray(values), 1)[0])


def ppt_progress(
    values_n: Sequence[float], tip_area_cm2: float | None = None, unit: str = DEFAULT_UNIT
) -> Progress:
    """Judge a region's PPT history (one value per measurement session) against its baseline.

    Args:
        values_n: thresholds in newtons, oldest first, same region, tip and conditions.
        tip_area_cm2: pass it only when pressure is meaningful for the tip (flat, area known;
            see :func:`calibration.tips.pressure_shown`): the words then add kPa.
        unit: the user's unit for the words (:mod:`firmware_bridge.readout`); the numbers
            stay in newtons.

    Returns:
        The progress; see :class:`Progress`.

    Raises:
        UsageError: a value that is not a positive finite force.
    """
    values = _check(values_n)
    n = len(values)
    latest = values[-1] if values else None
    trend = _trend(values)
    if n < BASELINE_N:
        newest = f", the latest {describe(values[-1], unit, tip_area_cm2)}" if values else ""
        words = (
            f"{n} of {BASELINE_N} baseline measurements{newest}. Measure the same spot under the "
            "same conditions (posture, time of day, tip and pace) until there are "
            f"{BASELINE_N}; later changes are judged against them."
        )
        return Progress(n, None, None, None, None, latest, None, None, "baseline", trend, words)

    logs = np.log(values[:BASELINE_N])
    mean_log = float(logs.mean())
    baseline = math.exp(mean_log)
    sem = max(float(logs.std(ddof=1)), MIN_SEM_LOG)
    mdc_log = MDC95_FACTOR * sem
    up_pct = 100 * math.expm1(mdc_log)
    down_pct = 100 * -math.expm1(-mdc_log)
    band = f"+{up_pct:.0f} % / −{down_pct:.0f} %"
    mdc_n = baseline * math.expm1(mdc_log)
    base_words = describe(baseline, unit, tip_area_cm2)
    if n == BASELINE_N:
        words = (
            f"Baseline complete: the mean of {BASELINE_N} is {base_words}. Your measurement "
            f"noise band is {band}: from the next measurement on, only a change beyond it "
            "counts as real."
        )
        return Progress(
            n, baseline, sem, mdc_n, up_pct, latest, None, None, "baseline", trend, words
        )

    last = values[-1]
    change_n = last - baseline
    change_pct = 100 * (last / baseline - 1)
    diff = math.log(last) - mean_log
    latest_words = describe(last, unit, tip_area_cm2)
    if diff > mdc_log:
        verdict = "higher"
        words = (
            f"Latest threshold {latest_words} is {change_pct:.0f} % higher than your baseline "
            f"of {base_words}, beyond your noise band of {band}: a real change. {_NOT_PAIN}"
        )
    elif diff < -mdc_log:
        verdict = "lower"
        words = (
            f"Latest threshold {latest_words} is {-change_pct:.0f} % lower than your baseline "
            f"of {base_words}, beyond your noise band of {band}: this spot is now more sensitive "
            f"to pressure. {_NOT_PAIN}"
        )
    else:
        verdict = "within_noise"
        words = (
            f"Latest threshold {latest_words} is within your noise band of {band} around your "
            f"baseline of {base_words}: no real change yet."
        )
    if trend is not None:
        words += (
            f" Trend over {n} measurements: {readout(unit, tip_area_cm2).signed(trend)} per "
            "measurement (a trend only, "
            "not proof of change)."
        )
    return Progress(
        n, baseline, sem, mdc_n, up_pct, latest, change_n, change_pct, verdict, trend, words
    )


def asymmetry(
    left_n: float, right_n: float, tip_area_cm2: float | None = None, unit: str = DEFAULT_UNIT
) -> Asymmetry:
    """Compare the thresholds of both sides of a region (CLINICAL.md §1.6, §7.1 step 7).

    Flagged when they differ by ≥ 2 kgf/cm² on the tip (the 1 cm² reference disc when its area
    is unknown) or by more than 35 % of the higher side, the less tender one, which serves as
    the control (Fischer compares with the contralateral site). The words give both sides as
    forces in the user's ``unit`` family (the area may be a rounded tip's estimate).

    Raises:
        UsageError: a value that is not a positive finite force.
    """
    left, right = _check([left_n, right_n])
    area = tip_area_cm2 or REFERENCE_TIP_CM2
    difference = abs(left - right)
    kgf_cm2 = difference / KGF_N / area
    pct = 100 * difference / max(left, right)
    flagged = kgf_cm2 >= ASYMMETRY_KGF_CM2 or pct > ASYMMETRY_PCT
    tender = ("left" if left < right else "right") if flagged else None
    shown = force_readout(unit)
    sides = f"left {shown.text(left)}, right {shown.text(right)}"
    if tender is not None:
        words = (
            f"Notably more tender on the {tender} ({sides}: {pct:.0f} % lower). This is not a "
            "diagnosis; mention it to your clinician if it persists."
        )
    else:
        words = f"No notable difference between the sides ({sides}, {pct:.0f} %)."
    return Asymmetry(left, right, kgf_cm2, pct, flagged, tender, words)


def _group_key(row: Mapping[str, Any]) -> tuple[str, str, str | None]:
    return str(row["profile"]), str(row["region"]), row["tip"] or None


def history_progress(
    history: Sequence[Mapping[str, Any]], unit: str = DEFAULT_UNIT
) -> list[dict[str, Any]]:
    """:func:`ppt_progress` for every (profile, region, tip) in a stored PPT history.

    Measurements with different tips are never mixed (limits are per tip, CLINICAL.md §6.3);
    kPa is added to the words only for a known flat tip.

    Args:
        history: rows as ``Store.ppt_history`` returns them (``profile``, ``region``, ``tip``,
            ``ppt_n``), oldest first.
        unit: the user's unit for the words.

    Returns:
        JSON-ready dicts: ``profile``, ``region``, ``tip`` and the fields of :class:`Progress`,
        in order of each group's first measurement.
    """
    groups: dict[tuple[str, str, str | None], list[float]] = defaultdict(list)
    for row in history:
        groups[_group_key(row)].append(float(row["ppt_n"]))
    return [
        {"profile": profile, "region": region, "tip": tip}
        | dataclasses.asdict(ppt_progress(values, pressure_area(TIPS.get(tip or "")), unit))
        for (profile, region, tip), values in groups.items()
    ]


def history_asymmetry(
    history: Sequence[Mapping[str, Any]], unit: str = DEFAULT_UNIT
) -> list[dict[str, Any]]:
    """:func:`asymmetry` of the latest left and right measurement of each region and tip.

    Args:
        history: rows as ``Store.ppt_history`` returns them, oldest first.
        unit: the user's unit for the words.

    Returns:
        JSON-ready dicts: ``profile``, ``region`` (without side), ``tip`` and the fields of
        :class:`Asymmetry`; only where both sides were measured with the same tip.
    """
    latest: dict[tuple[str, str, str | None], dict[str, Mapping[str, Any]]] = defaultdict(dict)
    for row in history:  # oldest first: the newest of a side wins
        profile, name, tip = _group_key(row)
        region = parse_region(name)
        if region.side:
            latest[profile, region.slug, tip][region.side] = row
    out: list[dict[str, Any]] = []
    for (profile, slug, tip), sides in latest.items():
        if {"left", "right"} <= sides.keys():
            left, right = sides["left"], sides["right"]
            known = TIPS.get(tip or "")
            area = (known.area_cm2 if known else None) or left.get("tip_area_cm2")
            result = asymmetry(float(left["ppt_n"]), float(right["ppt_n"]), area, unit)
            out.append(
                {"profile": profile, "region": slug, "tip": tip} | dataclasses.asdict(result)
            )
    return out
