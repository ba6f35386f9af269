"""Session stats: known numbers from a hand-built session, the same result whatever the batch
size, limits that change mid-session."""

from __future__ import annotations

import json

import numpy as np
import pytest

from firmware_bridge.errors import NotFoundError
from firmware_bridge.store import Store
from firmware_bridge.zones import SessionEvent, Zone
from review.stats import session_stats
from tests.review.conftest import WriteSession

LIMIT = 20.0


def _known_session() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """10 Hz; relaxed 10 s, a 12 N hold (≥ 50 % of 20 N) going over the limit, release, a 10.1 s
    gap, a danger push, then the tool loses its calibration."""
    parts = [
        (np.arange(0, 100), 5.0, Zone.RELAXED),  # t 0–9.9
        (np.arange(100, 200), 12.0, Zone.RELAXED),  # t 10–19.9: hold starts at 10.0
        (np.arange(200, 250), 22.0, Zone.OVER),  # t 20–24.9: over the limit (entry 1)
        (np.arange(250, 300), 5.0, Zone.RELAXED),  # t 25–29.9: hold ended at 24.9
        (np.arange(400, 500), 25.0, Zone.DANGER),  # t 40–49.9 after the gap (entry 2)
        (np.arange(500, 510), np.nan, Zone.UNCALIBRATED),  # t 50–50.9
    ]
    t = np.concatenate([idx / 10.0 for idx, _, _ in parts])
    force = np.concatenate([np.full(len(idx), f) for idx, f, _ in parts])
    zone = np.concatenate([np.full(len(idx), z, dtype=np.int8) for idx, _, z in parts])
    return t, force, zone


def test_known_session_numbers(store: Store, session_from_arrays: WriteSession) -> None:
    t, force, zone = _known_session()
    events = [
        SessionEvent(0.0, "limit", {"limit_n": LIMIT}),
        SessionEvent(21.0, "ramp", {}),
        SessionEvent(24.0, "hold", {"reason": "over_limit"}),
        SessionEvent(30.0, "gap", {"start_s": 29.9, "end_s": 40.0}),
        SessionEvent(45.0, "button", {"state": 1}),
    ]
    sid = session_from_arrays(
        t,
        force,
        zone=zone,
        chunk=7,
        events=events,
        counters={"dropped_frames": 3, "bad_frames": 2, "gaps": 1},
        limit_n=LIMIT,
    )
    store.update_session_review(sid, pain_before=6, pain_after=4)
    stats = session_stats(store, sid)
    assert stats.n_samples == 410
    assert stats.duration_s == pytest.approx(50.9)
    zones = {"no_signal": 0, "uncalibrated": 0.9, "relaxed": 24.9, "target": 0, "over": 5.0}
    assert stats.time_in_zone_s == pytest.approx(zones | {"danger": 10.0})
    assert stats.time_over_limit_s == pytest.approx(15.0)
    assert (stats.gaps, stats.gap_total_s) == (1, pytest.approx(10.1))
    assert stats.peak_n == 25.0 and stats.peak_filtered_n == 25.0
    assert stats.peak_pct_of_limit == pytest.approx(125.0)
    assert stats.over_limit_count == 2
    assert stats.longest_hold_s == pytest.approx(14.9)
    expected_impulse = np.trapezoid(force[:300], t[:300]) + np.trapezoid(force[300:400], t[300:400])
    assert stats.impulse_ns == pytest.approx(expected_impulse)
    assert stats.sample_rate_hz == pytest.approx(10.0)
    assert (stats.lost_frames, stats.bad_frames) == (3, 2)
    assert stats.events_by_kind == {"button": 1, "gap": 1, "hold": 1, "limit": 1, "ramp": 1}
    assert (stats.pain_before, stats.pain_after, stats.pain_change) == (6.0, 4.0, -2.0)
    data = json.loads(json.dumps(stats.as_dict(), allow_nan=False))
    assert (
        data["time_in_zone_s"]["danger"] == pytest.approx(10.0) and data["nominal_rate_hz"] is None
    )


def test_the_result_does_not_depend_on_how_the_samples_are_read(
    store: Store, session_from_arrays: WriteSession
) -> None:
    rng = np.random.default_rng(11)
    n = 20_000
    t = np.cumsum(rng.uniform(0.005, 0.015, n))
    for at in rng.integers(0, n, 6):
        t[at:] += 1.0  # the signal was lost for a second
    force = np.clip(12 + np.cumsum(rng.normal(0, 0.8, n)) * 0.3, -1, None)
    force[rng.integers(0, n, 50)] = np.nan
    sid = session_from_arrays(t, force, chunk=rng.integers(1, 40, n))
    whole = session_stats(store, sid, batch_size=10**9).as_dict()
    for batch_size in (1, 17, 500):
        part = session_stats(store, sid, batch_size=batch_size).as_dict()
        assert part.keys() == whole.keys()
        for key, value in whole.items():
            assert part[key] == (value if value is None else pytest.approx(value, rel=1e-9)), key
    assert whole["gaps"] == 6 and whole["longest_hold_s"] > 0 and whole["over_limit_count"] > 1
    in_zones = sum(whole["time_in_zone_s"].values())
    assert in_zones + whole["gap_total_s"] == pytest.approx(whole["duration_s"])


def test_holds_follow_a_limit_changed_mid_session(
    store: Store, session_from_arrays: WriteSession
) -> None:
    t = np.arange(600) / 10.0
    force = np.full(600, 15.0)  # half of 20 N and more: a hold; below 45 % of 40 N: none
    events = [SessionEvent(0.0, "limit", {"limit_n": 20.0}), SessionEvent(30.0, "limit",
              {"limit_n": 40.0})]  # fmt: skip
    sid = session_from_arrays(t, force, events=events, limit_n=40.0, chunk=13)
    stats = session_stats(store, sid)
    assert stats.longest_hold_s == pytest.approx(29.9)
    assert stats.limit_n == 40.0 and stats.peak_pct_of_limit == pytest.approx(75.0)


def test_sessions_without_samples_limit_or_calibration(
    store: Store, session_from_arrays: WriteSession
) -> None:
    empty = store.begin_session(source="sim://", profile="ann", region=None, limit_n=None)
    stats = session_stats(store, empty)
    assert (stats.n_samples, stats.duration_s, stats.peak_n, stats.longest_hold_s) == (
        0, 0.0, None, None)  # fmt: skip
    assert stats.sample_rate_hz is None and stats.as_dict()["impulse_ns"] == 0.0
    t = np.arange(50) / 10.0
    sid = session_from_arrays(t, np.full(50, np.nan), limit_n=None)
    stats = session_stats(store, sid)
    assert stats.peak_n is None and stats.impulse_ns == 0.0 and stats.longest_hold_s is None
    assert stats.time_in_zone_s["uncalibrated"] == pytest.approx(4.9)
    with pytest.raises(NotFoundError):
        session_stats(store, 12345)


def test_compaction_changes_no_stat_to_the_last_bit(
    store: Store, session_from_arrays: WriteSession
) -> None:
    """The store cuts a session into other batches once its chunks are merged; the stats (and
    so a kept copy of them) stay exactly the same."""
    rng = np.random.default_rng(5)
    n = 150_000
    t = np.cumsum(rng.uniform(0.0009, 0.0011, n))
    force = np.clip(12 + np.cumsum(rng.normal(0, 0.3, n)) * 0.1, -1, None)
    sid = session_from_arrays(t, force, chunk=rng.integers(20, 60, n), end=False)
    before = session_stats(store, sid)
    store.compact_session(sid)
    assert session_stats(store, sid) == before
