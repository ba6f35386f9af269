"""Progress of a region's pain threshold against the user's own baseline, and left/right."""

from __future__ import annotations

import math

import pytest

from calibration.progress import (
    MIN_SEM_LOG,
    asymmetry,
    history_asymmetry,
    history_progress,
    ppt_progress,
)
from firmware_bridge.errors import UsageError
from firmware_bridge.units import KGF_N


def test_until_three_measurements_there_is_only_a_baseline() -> None:
    assert ppt_progress([]).verdict == "baseline"
    for values in ([10.0], [10.0, 30.0]):
        progress = ppt_progress(values)
        assert progress.verdict == "baseline"
        assert progress.words.startswith(f"{len(values)} of 3 baseline measurements")
        assert progress.baseline_mean_n is None and progress.change_pct is None
    done = ppt_progress([10.0, 11.0, 12.0])
    assert done.verdict == "baseline" and "Baseline complete" in done.words
    assert done.baseline_mean_n == pytest.approx((10.0 * 11.0 * 12.0) ** (1 / 3))  # geometric
    assert done.change_n is None  # nothing to compare yet


def test_a_change_beyond_the_users_own_noise_is_real_and_within_it_is_not() -> None:
    baseline = [10.0, 11.0, 12.0]
    progress = ppt_progress(baseline)
    assert progress.sem == pytest.approx(max(float(_log_sd(baseline)), MIN_SEM_LOG))
    assert progress.mdc95_pct is not None and progress.mdc95_n is not None
    rise_needed = progress.mdc95_pct  # the noise band of this user, in percent
    mean = progress.baseline_mean_n
    assert mean is not None

    higher = ppt_progress([*baseline, mean * (1 + rise_needed / 100) * 1.05])
    assert higher.verdict == "higher" and higher.change_pct == pytest.approx(
        rise_needed * 1.05 + 5, abs=0.5
    )
    lower = ppt_progress([*baseline, mean * 0.6])
    assert lower.verdict == "lower" and "more sensitive" in lower.words
    same = ppt_progress([*baseline, mean * (1 + rise_needed / 100) * 0.95])
    assert same.verdict == "within_noise" and "no real change" in same.words


def _log_sd(values: list[float]) -> float:
    logs = [math.log(v) for v in values]
    mean = sum(logs) / len(logs)
    return math.sqrt(sum((x - mean) ** 2 for x in logs) / (len(logs) - 1))


def test_a_noisier_baseline_needs_a_bigger_change() -> None:
    steady = ppt_progress([10.0, 10.5, 11.0, 14.0])
    noisy = ppt_progress([7.0, 10.5, 15.0, 14.0])
    assert steady.verdict == "higher"
    assert noisy.verdict == "within_noise"
    assert noisy.mdc95_pct is not None and steady.mdc95_pct is not None
    assert noisy.mdc95_pct > steady.mdc95_pct


def test_an_unusually_steady_baseline_does_not_make_small_wobbles_real() -> None:
    progress = ppt_progress([10.0, 10.0, 10.0, 11.0])  # +10 %
    assert progress.sem == MIN_SEM_LOG
    assert progress.verdict == "within_noise"


def test_a_rise_is_never_called_less_pain_and_the_trend_is_only_a_trend() -> None:
    rising = [10.0, 10.5, 10.2, 11.0, 11.5, 16.0]
    progress = ppt_progress(rising, tip_area_cm2=1.0)
    assert progress.verdict == "higher"
    assert "less pain" not in progress.words.lower()
    assert "not how much pain you have" in progress.words
    assert progress.trend_n_per_measurement is not None and progress.trend_n_per_measurement > 0
    assert "trend only" in progress.words
    assert "160 kPa" in progress.words  # flat tip of known area: pressure shown too
    assert "kPa" not in ppt_progress(rising).words


def test_thresholds_must_be_positive_forces() -> None:
    with pytest.raises(UsageError):
        ppt_progress([10.0, 0.0])
    with pytest.raises(UsageError):
        asymmetry(float("nan"), 10.0)


def test_asymmetry_flags_35_percent_or_2_kgf_per_cm2_without_diagnosing() -> None:
    by_share = asymmetry(6.0, 10.0)  # 40 % lower on the left
    assert by_share.flagged and by_share.more_tender == "left"
    assert by_share.words.startswith("Notably more tender on the left")
    assert "not a diagnosis" in by_share.words

    # 20 N apart is 25 %, but 2.04 kgf/cm² on a 1 cm² disc ...
    by_pressure = asymmetry(80.0, 60.0)
    assert by_pressure.flagged and by_pressure.more_tender == "right"
    assert by_pressure.difference_kgf_cm2 == pytest.approx(20.0 / KGF_N)
    # ... and only 1.02 kgf/cm² spread over a 2 cm² tip
    assert not asymmetry(80.0, 60.0, tip_area_cm2=2.0).flagged

    even = asymmetry(10.0, 10.5)
    assert not even.flagged and even.more_tender is None
    assert even.words.startswith("No notable difference")


def row(
    region: str, ppt_n: float, tip: str | None = None, profile: str = "ann"
) -> dict[str, object]:
    return {"profile": profile, "region": region, "tip": tip, "ppt_n": ppt_n, "tip_area_cm2": None}


def test_stored_history_is_judged_per_region_and_tip_never_mixed() -> None:
    history = [
        row("forearm:left", 10.0),
        row("forearm:left", 30.0, tip="ball-63mm"),
        row("forearm:left", 11.0),
        row("forearm:left", 12.0),
        row("forearm:left", 20.0),
        row("forearm:right", 19.0, tip="disc-1cm2"),
    ]
    groups = {(g["region"], g["tip"]): g for g in history_progress(history)}
    assert set(groups) == {
        ("forearm:left", None),
        ("forearm:left", "ball-63mm"),
        ("forearm:right", "disc-1cm2"),
    }
    assert groups["forearm:left", None]["n"] == 4
    assert groups["forearm:left", None]["verdict"] == "higher"
    assert groups["forearm:left", "ball-63mm"]["n"] == 1
    assert "kPa" in groups["forearm:right", "disc-1cm2"]["words"]  # flat, known area
    assert "kPa" not in groups["forearm:left", "ball-63mm"]["words"]


def test_stored_history_compares_the_latest_of_each_side() -> None:
    history = [
        row("calf:left", 20.0),
        row("calf:right", 12.0),
        row("calf:left", 11.0),  # newer: the one compared
        row("thigh:left", 30.0),  # no right side: nothing to compare
        row("calf:right", 30.0, tip="knob"),
    ]
    (only,) = history_asymmetry(history)
    assert (only["region"], only["tip"], only["flagged"]) == ("calf", None, False)
    assert (only["left_n"], only["right_n"]) == (11.0, 12.0)
