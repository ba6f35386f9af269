"""The displayed curve: decimated with every bucket's true min and max kept, full resolution when
zoomed in, gaps kept as gaps, cautious zones."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_bridge.errors import NotFoundError, UsageError
from firmware_bridge.store import Store
from firmware_bridge.zones import SessionEvent, Zone
from review.curve import Curve, cautious_zone, session_curve
from tests.review.conftest import WriteSession


def _check_every_bucket(curve: Curve, t: np.ndarray, series: dict[str, np.ndarray]) -> None:
    assert curve.decimated and curve.n_buckets > 0
    point_bucket = curve.bucket_of(curve.t)
    sample_bucket = curve.bucket_of(t)
    has_samples = np.bincount(sample_bucket, minlength=curve.n_buckets) > 0
    for name, y in series.items():
        true_lo, true_hi = np.full(curve.n_buckets, np.nan), np.full(curve.n_buckets, np.nan)
        np.fmin.at(true_lo, sample_bucket, y)
        np.fmax.at(true_hi, sample_bucket, y)
        shown = getattr(curve, name)
        shown_lo, shown_hi = np.full(curve.n_buckets, np.nan), np.full(curve.n_buckets, np.nan)
        np.fmin.at(shown_lo, point_bucket, shown)
        np.fmax.at(shown_hi, point_bucket, shown)
        np.testing.assert_array_equal(shown_lo, true_lo, err_msg=f"{name} minimum")
        np.testing.assert_array_equal(shown_hi, true_hi, err_msg=f"{name} maximum")
    # two points per bucket with samples, each inside its bucket; one per run of empty ones
    points = np.bincount(point_bucket, minlength=curve.n_buckets)
    assert np.all(points[has_samples] == 2)
    assert np.all(points[~has_samples] <= 1)
    assert np.all(np.diff(curve.t) >= 0)
    assert len(curve) <= 2 * curve.n_buckets


def test_every_bucket_keeps_its_true_min_and_max_with_random_data(
    store: Store, session_from_arrays: WriteSession
) -> None:
    rng = np.random.default_rng(7)
    n = 120_000
    t = np.arange(n) / 1000.0
    force = np.cumsum(rng.normal(0, 0.4, n)) + 10.0
    force[rng.integers(0, n, 40)] = np.nan  # unknown samples here and there
    force[50_000:50_900] = np.nan  # and a whole stretch uncalibrated
    filtered = np.convolve(np.nan_to_num(force), np.ones(8) / 8, mode="same")
    sid = session_from_arrays(t, force, filtered=filtered, chunk=rng.integers(1, 80, n))
    for max_points in (4000, 1000, 37):
        curve = session_curve(store, sid, max_points=max_points)
        assert curve.n_samples == n and curve.n_buckets == max_points // 2
        _check_every_bucket(curve, t, {"force_n": force, "filtered_n": filtered})


def test_single_sample_spikes_survive_any_decimation(
    store: Store, session_from_arrays: WriteSession
) -> None:
    rng = np.random.default_rng(3)
    n = 200_000
    t = np.arange(n) / 1000.0
    force = 8.0 + rng.normal(0, 0.05, n)
    spikes = np.sort(rng.choice(n, 25, replace=False))
    force[spikes[::2]] = 60.0 + np.arange(len(spikes[::2]))  # brief pushes past the limit
    force[spikes[1::2]] = -5.0  # and dips
    zone = np.zeros(n, dtype=np.int8)
    zone[spikes[::2]] = Zone.DANGER
    sid = session_from_arrays(t, force, zone=zone, chunk=50)
    curve = session_curve(store, sid, max_points=400)
    _check_every_bucket(curve, t, {"force_n": force, "filtered_n": force})
    for i in spikes[::2]:
        shown = curve.force_n == force[i]
        assert shown.sum() == 1, f"spike at sample {i} lost"
        assert curve.zone[shown][0] == Zone.DANGER  # and its bucket is coloured danger
    assert (curve.force_n == -5.0).sum() == len(spikes[1::2])


@pytest.mark.parametrize("seed", range(4))
def test_zoomed_windows_keep_min_max_and_hold_only_their_samples(
    store: Store, session_from_arrays: WriteSession, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    n = 30_000
    t = np.cumsum(rng.uniform(0.0005, 0.0015, n))  # an uneven clock
    force = rng.gamma(2.0, 4.0, n)
    sid = session_from_arrays(t, force, chunk=rng.integers(1, 200, n))
    for _ in range(5):
        a, b = np.sort(rng.uniform(t[0] - 1, t[-1] + 1, 2))
        inside = (t >= a) & (t <= b)
        curve = session_curve(store, sid, a, b, max_points=500)
        assert (curve.t_from, curve.t_to, curve.n_samples) == (a, b, inside.sum())
        if curve.decimated:
            _check_every_bucket(curve, t[inside], {"force_n": force[inside]})
        else:
            kept = ~np.isnan(curve.force_n) | np.isin(curve.t, t)
            np.testing.assert_array_equal(curve.t[kept], t[inside])


def test_full_resolution_when_the_window_fits_the_budget(
    store: Store, session_from_arrays: WriteSession
) -> None:
    t = np.arange(10_000) / 100.0
    force = 5 + np.sin(t)
    force[17] = np.nan
    sid = session_from_arrays(t, force, chunk=33)
    window = (t >= 10.0) & (t <= 19.99)  # exactly 1000 samples
    curve = session_curve(store, sid, 10.0, 19.99, max_points=1000)
    assert not curve.decimated and curve.n_samples == 1000 and curve.n_buckets == 0
    np.testing.assert_array_equal(curve.t, t[window])
    np.testing.assert_array_equal(curve.force_n, force[window])
    assert curve.zone.dtype == np.int8
    assert session_curve(store, sid, 10.0, 20.0, max_points=1000).decimated  # 1001 samples
    whole = session_curve(store, sid, max_points=20_000)
    assert not whole.decimated and np.isnan(whole.force_n[17])  # unknown stays unknown
    with pytest.raises(ValueError, match="full resolution"):
        whole.bucket_of(t)


def test_gaps_stay_gaps_at_every_zoom(store: Store, session_from_arrays: WriteSession) -> None:
    t = np.concatenate([np.arange(0, 60, 0.01), np.arange(90, 150, 0.01)])  # 30 s lost
    force = np.full(len(t), 12.0)
    sid = session_from_arrays(t, force, events=[SessionEvent(60.0, "gap", {})])
    whole = session_curve(store, sid, max_points=200)
    assert whole.decimated
    assert whole.gaps == [(pytest.approx(59.99), 90.0)]
    in_gap = (whole.t > 60.5) & (whole.t < 89.5)
    assert in_gap.sum() == 1  # one point for the run of empty buckets ...
    assert np.isnan(whole.force_n[in_gap]).all() and whole.zone[in_gap][0] == Zone.NO_SIGNAL
    assert not np.isnan(whole.force_n[~in_gap]).any()  # ... and nothing else is NaN
    zoomed = session_curve(store, sid, 59.0, 91.0, max_points=1000)
    assert not zoomed.decimated and zoomed.n_samples == 200
    breaks = np.flatnonzero(np.isnan(zoomed.force_n))
    assert len(breaks) == 1 and 59.99 < zoomed.t[breaks[0]] < 90.0
    assert [e["kind"] for e in zoomed.events] == ["gap"]


def test_cautious_zone_of_a_bucket() -> None:
    z = Zone
    groups = [
        ([z.RELAXED, z.TARGET], z.TARGET),
        ([z.RELAXED, z.UNCALIBRATED], z.UNCALIBRATED),
        ([z.TARGET, z.NO_SIGNAL, z.UNCALIBRATED], z.NO_SIGNAL),
        ([z.UNCALIBRATED, z.OVER], z.OVER),
        ([z.NO_SIGNAL, z.DANGER, z.RELAXED], z.DANGER),
    ]
    hi = np.array([max(g) for g, _ in groups], dtype=np.int8)
    lo = np.array([min(g) for g, _ in groups], dtype=np.int8)
    assert cautious_zone(hi, lo).tolist() == [int(want) for _, want in groups]


def test_limit_steps_events_and_json(store: Store, session_from_arrays: WriteSession) -> None:
    t = np.arange(0, 100, 0.01)
    events = [
        SessionEvent(0.0, "limit", {"limit_n": 20.0}),
        SessionEvent(40.0, "limit", {"limit_n": 15.0}),
        SessionEvent(45.0, "button", {"state": 1}),
        SessionEvent(70.0, "limit", {"limit_n": 18.0}),
    ]
    sid = session_from_arrays(t, 10 + np.sin(t), events=events)
    curve = session_curve(store, sid, 30.0, 80.0, max_points=300)
    assert curve.limit_steps == [(30.0, 20.0), (40.0, 15.0), (70.0, 18.0)]
    assert [e["kind"] for e in curve.events] == ["limit", "button", "limit"]
    data = curve.as_dict(digits=3)
    assert data["decimated"] and len(data["t"]) == len(data["zone_labels"]) == len(curve)
    assert set(data["zone_labels"]) <= {z.label for z in Zone}


def test_empty_sessions_and_bad_requests(store: Store, session_from_arrays: WriteSession) -> None:
    empty = store.begin_session(source="sim://", profile="ann", region=None, limit_n=None)
    curve = session_curve(store, empty)
    assert len(curve) == 0 and curve.t_from is None and curve.as_dict()["t"] == []
    sid = session_from_arrays(np.arange(100) / 10, np.ones(100))
    assert len(session_curve(store, sid, 50.0, 60.0)) == 0  # after the last sample
    with pytest.raises(UsageError):
        session_curve(store, sid, 5.0, 4.0)
    with pytest.raises(UsageError):
        session_curve(store, sid, max_points=3)
    with pytest.raises(NotFoundError):
        session_curve(store, 999)
