"""Filters, ramp warning, hold timer, auto-tare and the assembled pipeline."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibration.device import DeviceCalibration
from firmware_bridge.pipeline.filters import MovingAverage, SpikeRejector
from firmware_bridge.pipeline.judge import HoldMonitor, RampMonitor
from firmware_bridge.pipeline.signal import PipelineConfig, SignalPipeline
from firmware_bridge.pipeline.tare import AutoTare
from firmware_bridge.protocol.frames import ADC24_MAX
from firmware_bridge.zones import Zone


def chunked(fn, x: np.ndarray, cuts: list[int]) -> np.ndarray:
    bounds = [0, *sorted(c for c in set(cuts) if 0 < c < x.size), x.size]
    return np.concatenate([fn(x[a:b]) for a, b in itertools.pairwise(bounds)])


@settings(max_examples=80, deadline=None)
@given(
    x=st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=200),
    cuts=st.lists(st.integers(1, 199), max_size=10),
    n=st.integers(1, 12),
)
def test_filters_do_not_depend_on_chunking(x: list[float], cuts: list[int], n: int) -> None:
    arr = np.asarray(x)
    assert np.array_equal(SpikeRejector()(arr), chunked(SpikeRejector(), arr, cuts))
    np.testing.assert_allclose(
        MovingAverage(n)(arr), chunked(MovingAverage(n), arr, cuts), atol=1e-9
    )


def test_spike_rejector_removes_single_sample_spikes_but_keeps_steps() -> None:
    x = np.zeros(20)
    x[10] = 50.0
    assert SpikeRejector()(x).max() == 0.0
    step = np.r_[np.zeros(10), np.full(10, 20.0)]
    y = SpikeRejector()(step)
    assert y[-1] == 20.0 and y[11] == 20.0  # a real step passes with one sample of delay


def test_moving_average_propagates_nan_only_within_its_window() -> None:
    x = np.ones(20)
    x[5] = np.nan
    y = MovingAverage(4)(x)
    assert np.isnan(y[5:9]).all()
    assert np.isfinite(y[9:]).all() and np.isfinite(y[:5]).all()


def test_ramp_warning_needs_a_sustained_fast_rise() -> None:
    t = np.arange(0, 3, 0.01)
    fast = 20.0 * t  # 20 N/s for 3 s
    events = RampMonitor(10.0).update(t, fast)
    assert len(events) == 1
    assert events[0].t_s == pytest.approx(0.6, abs=0.03)  # 0.1 s window fills, then 0.5 s sustained
    brief = np.where(t < 0.3, 20.0 * t, 6.0)  # fast for only 0.3 s
    assert RampMonitor(10.0).update(t, brief) == []
    slow = 5.0 * t
    assert RampMonitor(10.0).update(t, slow) == []


def test_hold_prompt_at_the_hold_limit_and_sooner_over_the_limit() -> None:
    t = np.arange(0, 70, 0.05)
    force = np.full(t.size, 6.0)  # 60 % of a 10 N limit
    zone = np.full(t.size, Zone.RELAXED, np.int8)
    events = HoldMonitor(10.0).update(t, force, zone)
    assert [e.detail["reason"] for e in events] == ["hold_limit"]
    assert events[0].t_s == pytest.approx(60.0, abs=0.06)
    over = np.full(t.size, Zone.OVER, np.int8)
    events = HoldMonitor(10.0).update(t, np.full(t.size, 10.5), over)
    assert [e.detail["reason"] for e in events] == ["over_limit"]
    assert events[0].t_s == pytest.approx(30.0, abs=0.06)


def test_hold_resets_on_release() -> None:
    t = np.arange(0, 100, 0.05)
    force = np.where((t % 50) < 40, 6.0, 0.0)  # 40 s holds with releases
    zone = np.zeros(t.size, np.int8)
    assert HoldMonitor(10.0).update(t, force, zone) == []


def test_auto_tare_refuses_a_loaded_or_moving_tool() -> None:
    t = np.arange(0, 0.5, 0.0125)
    rng = np.random.default_rng(0)
    quiet = AutoTare().offer(t, 0.3 + rng.normal(0, 0.01, t.size))
    assert quiet is not None and quiet.accepted and quiet.offset_n == pytest.approx(0.3, abs=0.01)
    loaded = AutoTare().offer(t, 5.0 + rng.normal(0, 0.01, t.size))
    assert loaded is not None and not loaded.accepted and "loaded" in loaded.reason
    moving = AutoTare().offer(t, 0.5 * np.sin(20 * t))
    assert moving is not None and not moving.accepted and "steady" in moving.reason


def test_pipeline_calibrates_tares_and_judges() -> None:
    cal = DeviceCalibration(counts_per_n=1000.0, offset_counts=5000.0, source="factory")
    pipe = SignalPipeline(PipelineConfig(limit_n=10.0), cal)
    t = np.arange(0, 2, 0.0125)
    force_true = np.where(t < 0.5, 0.0, 11.0)
    raw = 5000.0 + 200.0 + force_true * 1000.0  # a 0.2 N zero offset the tare must remove
    out, _events = pipe.process(t[:10], raw[:10])
    assert out is None  # the opening tare window is held back, not shown untared
    out, events2 = pipe.process(t[10:], raw[10:])
    assert out is not None and len(out) == t.size
    np.testing.assert_allclose(out.force_n, force_true, atol=1e-9)
    tare = [e for e in events2 if e.kind == "tare"]
    assert tare and tare[0].detail["accepted"]
    assert out.zone[-1] == Zone.OVER
    # spike rejection (1 sample) and the 50 ms average delay the verdict by ~50 ms
    assert pipe.totals.time_over_limit_s == pytest.approx(1.45, abs=0.02)


def test_pipeline_without_calibration_is_uncalibrated_and_saturation_is_danger() -> None:
    pipe = SignalPipeline(PipelineConfig(limit_n=10.0), None)
    t = np.arange(0, 1, 0.0125)
    raw = np.full(t.size, 1000.0)
    raw[-5:] = ADC24_MAX
    out, _ = pipe.process(t, raw)
    assert out is not None
    assert (out.zone[:-6] == Zone.UNCALIBRATED).all()
    assert out.zone[-1] == Zone.DANGER


def test_status_saturation_flag_makes_every_sample_danger() -> None:
    pipe = SignalPipeline(PipelineConfig(limit_n=10.0, auto_tare=False), None)
    pipe.status_saturated = True
    t = np.arange(0, 0.2, 0.0125)
    out, _ = pipe.process(t, np.zeros(t.size), force_n=np.ones(t.size))
    assert out is not None and (out.zone == Zone.DANGER).all()
