"""Zero tracking: an unloaded drift is followed, a held load that creeps never moves the zero."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.device import DeviceCalibration
from firmware_bridge.pipeline.drift import ZeroTrackingConfig
from firmware_bridge.pipeline.signal import PipelineConfig, SignalPipeline
from firmware_bridge.zones import JudgedSamples, SessionEvent

PERIOD = 0.0125  # 80 SPS
CAL = DeviceCalibration(counts_per_n=1000.0, offset_counts=5000.0, source="factory")
NOISE_N = 0.02


def counts(force_n: np.ndarray, seed: int = 0) -> np.ndarray:
    """Raw counts for a true force plus a little ADC noise."""
    noise = np.random.default_rng(seed).normal(0.0, NOISE_N, force_n.size)
    return CAL.offset_counts + (force_n + noise) * CAL.counts_per_n


def run(
    pipe: SignalPipeline, t: np.ndarray, raw: np.ndarray, block_s: float = 0.37
) -> tuple[JudgedSamples, list[SessionEvent]]:
    """Feed in uneven blocks (as a serial source would) and join what comes out."""
    cuts = np.searchsorted(t, np.arange(t[0], t[-1], block_s)[1:])
    outs, events = [], []
    for tb, rb in zip(np.split(t, cuts), np.split(raw, cuts), strict=True):
        out, ev = pipe.process(tb, rb)
        events += ev
        if out is not None:
            outs.append(out)
    return (
        JudgedSamples(
            t_s=np.concatenate([o.t_s for o in outs]),
            raw=np.concatenate([o.raw for o in outs]),
            force_n=np.concatenate([o.force_n for o in outs]),
            filtered_n=np.concatenate([o.filtered_n for o in outs]),
            zone=np.concatenate([o.zone for o in outs]),
        ),
        events,
    )


def drift_events(events: list[SessionEvent]) -> list[SessionEvent]:
    return [e for e in events if e.kind == "drift"]


def slow_drift() -> tuple[np.ndarray, np.ndarray]:
    """Five unloaded minutes in which the zero creeps up by 3 N (0.01 N/s, a warming cell)."""
    t = np.arange(0.0, 300.0, PERIOD)
    return t, 3.0 * t / 300.0


def test_unloaded_slow_drift_is_tracked() -> None:
    t, drift = slow_drift()
    pipe = SignalPipeline(PipelineConfig(limit_n=20.0), CAL)
    out, _ = run(pipe, t, counts(drift))
    assert np.abs(out.force_n[t > 3.0]).max() <= 0.2
    assert np.abs(out.filtered_n[t > 3.0]).max() <= 0.2
    assert pipe.zero is not None
    assert pipe.zero_n == pytest.approx(3.0, abs=0.1)


def test_drift_event_once_when_the_shift_passes_the_threshold() -> None:
    t, drift = slow_drift()
    pipe = SignalPipeline(PipelineConfig(limit_n=20.0), CAL)
    _, events = run(pipe, t, counts(drift))
    (event,) = drift_events(events)
    assert event.detail["shift_n"] == pytest.approx(2.0, abs=0.03)
    assert "unloaded" in event.detail["reason"]
    assert event.t_s == pytest.approx(200.0, abs=10.0)  # when the true drift reached ~2 N


def test_held_load_that_creeps_does_not_move_the_zero() -> None:
    pipe = SignalPipeline(PipelineConfig(limit_n=30.0), CAL)
    quiet_t = np.arange(0.0, 10.5, PERIOD)
    run(pipe, quiet_t, counts(np.zeros(quiet_t.size)))
    zero_before = pipe.zero_n  # the window under way when the press starts is not quiet
    t = np.arange(10.5, 71.0, PERIOD)
    # press to 15 N in 0.5 s and hold for 60 s while the cell creeps up 0.5 N
    force = np.interp(t, [10.5, 11.0, 70.5, 71.0], [0.0, 15.0, 15.5, 0.0])
    out, events = run(pipe, t, counts(force, seed=1))
    assert pipe.zero_n == zero_before  # not moved at all
    assert out.force_n[t < 70.5][-1] == pytest.approx(15.5, abs=0.1)  # the creep is reported
    holding = t > 11.5
    np.testing.assert_allclose(out.force_n[holding], force[holding], atol=5 * NOISE_N)
    # after the release, tracking resumes only after two quiet seconds, and only by noise
    rest_t = np.arange(71.0, 80.0, PERIOD)
    _, rest_events = run(pipe, rest_t, counts(np.zeros(rest_t.size), seed=2))
    assert abs(pipe.zero_n - zero_before) < 0.01
    assert drift_events(events + rest_events) == []


def test_quick_press_after_a_drift_is_measured_correctly() -> None:
    t, drift = slow_drift()
    press = np.where((t >= 295.0) & (t < 296.0), 8.0, 0.0)  # a one-second 8 N press at the end
    pipe = SignalPipeline(PipelineConfig(limit_n=20.0), CAL)
    out, _ = run(pipe, t, counts(drift + press))
    pressed = (t >= 295.1) & (t < 296.0)
    np.testing.assert_allclose(out.force_n[pressed], 8.0, atol=0.2)
    assert out.filtered_n[pressed].max() == pytest.approx(8.0, abs=0.2)


def test_tracking_off_leaves_the_zero_alone() -> None:
    t, drift = slow_drift()
    pipe = SignalPipeline(PipelineConfig(limit_n=20.0, zero_tracking=False), CAL)
    out, events = run(pipe, t, counts(drift))
    assert pipe.zero is None and pipe.zero_n == pipe.tare_n
    assert out.force_n[-1] == pytest.approx(3.0, abs=0.1)  # the drift shows as force
    assert drift_events(events) == []


def test_uncalibrated_signal_is_never_tracked() -> None:
    t, drift = slow_drift()
    pipe = SignalPipeline(PipelineConfig(limit_n=20.0), None)
    out, events = run(pipe, t[:4000], counts(drift[:4000]))
    assert np.isnan(out.force_n).all()
    assert pipe.zero_n == 0.0 and drift_events(events) == []


def test_tracking_does_not_depend_on_chunking() -> None:
    t, drift = slow_drift()
    raw = counts(drift)[:8000]
    t = t[:8000]
    one = SignalPipeline(PipelineConfig(limit_n=20.0), CAL)
    whole, _ = one.process(t, raw)
    assert whole is not None
    many = SignalPipeline(PipelineConfig(limit_n=20.0), CAL)
    chunked, _ = run(many, t, raw, block_s=0.731)
    np.testing.assert_allclose(chunked.force_n, whole.force_n, atol=1e-9)
    assert many.zero_n == pytest.approx(one.zero_n, abs=1e-9)


def test_lowering_shift_is_capped_and_reported() -> None:
    zero = ZeroTrackingConfig(max_step_n=0.2, max_shift_n=1.0, warn_shift_n=5.0)
    pipe = SignalPipeline(PipelineConfig(limit_n=20.0, zero=zero), CAL)
    t = np.arange(0.0, 200.0, PERIOD)
    _, events = run(pipe, t, counts(2.0 * t / 200.0))  # 2 N of drift, only 1 N may be followed
    assert pipe.zero is not None and pipe.zero.shift_n == pytest.approx(1.0, abs=1e-9)
    (event,) = drift_events(events)
    assert "limit" in event.detail["reason"] and event.detail["shift_n"] == pytest.approx(1.0)


def test_light_steady_touch_is_absorbed_only_slowly() -> None:
    # a resting 0.8 N touch looks like an offset; the bounded step keeps what it can take small
    pipe = SignalPipeline(PipelineConfig(limit_n=20.0), CAL)
    t = np.arange(0.0, 12.0, PERIOD)
    run(pipe, t, counts(np.where(t < 2.0, 0.0, 0.8)))
    assert pipe.zero_n <= 0.02 * 10 + 1e-9  # at most one max step per one-second window


def test_next_session_counts_the_shift_afresh_and_a_refused_tare_keeps_the_zero() -> None:
    t, drift = slow_drift()
    pipe = SignalPipeline(PipelineConfig(limit_n=20.0), CAL)
    run(pipe, t, counts(drift))
    zero = pipe.zero_n
    pipe.new_session()
    t2 = t[-1] + PERIOD + np.arange(0.0, 5.0, PERIOD)
    out, events = run(pipe, t2, counts(np.full(t2.size, 3.0 + 6.0)))  # starts loaded with 6 N
    (tare,) = [e for e in events if e.kind == "tare"]
    assert not tare.detail["accepted"]
    assert pipe.zero_n == pytest.approx(zero)  # the tracked zero is kept, not dropped
    assert out.force_n[-1] == pytest.approx(6.0, abs=0.2)
    assert pipe.zero is not None and pipe.zero.shift_n == 0.0
