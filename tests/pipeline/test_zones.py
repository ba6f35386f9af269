"""Zone semantics from DESIGN.md: bands, immediate entry, hysteresis, dwell, saturation, NaN."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.pipeline.judge import ZoneJudge
from firmware_bridge.zones import Zone

LIMIT = 10.0
PERIOD = 0.01


def judge_series(force: list[float] | np.ndarray, saturated: np.ndarray | None = None, **kw: float):
    f = np.asarray(force, dtype=float)
    t = np.arange(f.size) * PERIOD
    sat = np.zeros(f.size, bool) if saturated is None else saturated
    judge = ZoneJudge(LIMIT, **kw)
    zones, events = judge.judge(t, f, sat)
    return zones, events


@pytest.mark.parametrize(
    ("force", "zone"),
    [
        (0.0, Zone.RELAXED),
        (7.99, Zone.RELAXED),
        (8.0, Zone.TARGET),
        (9.99, Zone.TARGET),
        (10.0, Zone.OVER),
        (11.99, Zone.OVER),
        (12.0, Zone.DANGER),
        (50.0, Zone.DANGER),
    ],
)
def test_bands_are_fractions_of_the_limit(force: float, zone: Zone) -> None:
    zones, _ = judge_series([force] * 5)
    assert zones[-1] == zone


def test_entering_a_higher_zone_is_immediate() -> None:
    zones, events = judge_series([5.0] * 20 + [10.5] + [5.0] * 3)
    assert zones[20] == Zone.OVER
    assert any(e.detail["to"] == "over" and e.t_s == pytest.approx(0.2) for e in events)


def test_leaving_needs_hysteresis_below_the_edge() -> None:
    # over at 10.5, then 9.6 (inside the 5 % band under the 10 N edge): stays OVER
    zones, _ = judge_series([10.5] * 20 + [9.6] * 50)
    assert (zones[20:] == Zone.OVER).all()
    # 9.4 is below 9.5: leaves to TARGET (after the dwell)
    zones, _ = judge_series([10.5] * 20 + [9.4] * 50)
    assert zones[-1] == Zone.TARGET


def test_leaving_waits_for_the_minimum_dwell() -> None:
    # one sample over, then straight back down: OVER must be held for 100 ms
    zones, events = judge_series([5.0] * 10 + [10.5] + [5.0] * 30)
    over_idx = np.flatnonzero(zones == Zone.OVER)
    assert over_idx[0] == 10
    held = (over_idx[-1] - over_idx[0] + 1) * PERIOD
    assert held == pytest.approx(0.1, abs=PERIOD + 1e-9)
    assert [e.detail["to"] for e in events] == ["relaxed", "over", "relaxed"]


def test_leaving_drops_to_the_cautious_band() -> None:
    # from DANGER straight to 7.9 N: the leaving thresholds put 7.9 in TARGET (≥ 7.5), not RELAXED
    zones, _ = judge_series([13.0] * 20 + [7.9] * 30)
    assert zones[-1] == Zone.TARGET
    zones, _ = judge_series([13.0] * 20 + [7.4] * 30)
    assert zones[-1] == Zone.RELAXED


def test_saturation_is_danger_whatever_the_force() -> None:
    sat = np.zeros(20, bool)
    sat[5:8] = True
    zones, _ = judge_series([1.0] * 20, saturated=sat)
    assert (zones[5:8] == Zone.DANGER).all()


def test_uncalibrated_is_never_safe_but_saturation_still_danger() -> None:
    f = np.full(10, np.nan)
    sat = np.zeros(10, bool)
    sat[-1] = True
    zones, _ = judge_series(f, saturated=sat)
    assert (zones[:-1] == Zone.UNCALIBRATED).all()
    assert zones[-1] == Zone.DANGER


def test_overload_ceiling_is_danger() -> None:
    zones, _ = judge_series([9.0] * 5, ceiling_n=8.5)
    assert (zones == Zone.DANGER).all()


def test_no_signal_then_first_sample_judged_at_once() -> None:
    judge = ZoneJudge(LIMIT)
    t = np.arange(10) * PERIOD
    judge.judge(t, np.full(10, 11.0), np.zeros(10, bool))
    event = judge.mark_no_signal(0.2)
    assert event is not None and event.detail["to"] == "no_signal"
    zones, _ = judge.judge(t + 1, np.full(10, 3.0), np.zeros(10, bool))
    assert (zones == Zone.RELAXED).all()


@settings(max_examples=60, deadline=None)
@given(
    force=st.lists(st.floats(0, 16, allow_nan=False), min_size=2, max_size=300),
    cuts=st.lists(st.integers(1, 299), max_size=8),
)
def test_chunking_never_changes_the_verdict(force: list[float], cuts: list[int]) -> None:
    f = np.asarray(force)
    t = np.arange(f.size) * PERIOD
    sat = np.zeros(f.size, bool)
    whole, whole_events = ZoneJudge(LIMIT).judge(t, f, sat)
    judge = ZoneJudge(LIMIT)
    parts, part_events = [], []
    bounds = [0, *sorted(c for c in set(cuts) if c < f.size), f.size]
    for a, b in itertools.pairwise(bounds):
        z, e = judge.judge(t[a:b], f[a:b], sat[a:b])
        parts.append(z)
        part_events += e
    assert np.array_equal(whole, np.concatenate(parts))
    assert whole_events == part_events


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 16, allow_nan=False), min_size=1, max_size=200))
def test_never_shows_a_lower_zone_than_the_force_is_in(force: list[float]) -> None:
    """Hysteresis may only keep a zone *higher* than the raw band, never lower."""
    f = np.asarray(force)
    zones, _ = judge_series(f)
    raw_band = np.searchsorted([8.0, 10.0, 12.0], f, side="right")
    assert (zones >= raw_band).all()
