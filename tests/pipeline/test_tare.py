"""The user's Zero button: taken only unloaded and still, never under a load, never held back."""

from __future__ import annotations

import numpy as np

from calibration.device import DeviceCalibration
from firmware_bridge.pipeline.signal import PipelineConfig, SignalPipeline
from firmware_bridge.zones import SessionEvent, Zone

PERIOD = 0.0125  # 80 SPS
CAL = DeviceCalibration(counts_per_n=1000.0, offset_counts=5000.0, source="factory")


def counts(force_n: np.ndarray, seed: int = 0) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0.0, 0.02, force_n.size)
    return CAL.offset_counts + (force_n + noise) * CAL.counts_per_n


def started(zero_n: float = 0.0) -> SignalPipeline:
    """A pipeline past its opening tare, unloaded at ``zero_n`` above the calibrated zero."""
    pipe = SignalPipeline(PipelineConfig(limit_n=15.0, zero_tracking=False), CAL)
    t = np.arange(0.0, 1.0, PERIOD)
    pipe.process(t, counts(np.full(t.size, zero_n)))
    return pipe


def feed(pipe: SignalPipeline, t0: float, force_n: np.ndarray) -> tuple[np.ndarray, list]:
    """Feed ``force_n`` (true force above the calibrated zero) in 50 ms blocks."""
    t = t0 + np.arange(force_n.size) * PERIOD
    raw = counts(force_n, seed=int(t0 * 100))
    shown, events = [], []
    for k in range(0, t.size, 4):
        out, ev = pipe.process(t[k : k + 4], raw[k : k + 4])
        assert out is not None, "an asked-for tare never holds samples back"
        shown.append(out.force_n)
        events += ev
    return np.concatenate(shown), events


def tares(events: list[SessionEvent]) -> list[SessionEvent]:
    return [e for e in events if e.kind == "tare"]


def test_a_drifted_zero_is_taken_when_the_tool_lies_still() -> None:
    pipe = started()
    before, _ = feed(pipe, 1.0, np.full(80, 3.0))  # the zero has wandered 3 N (warm-up)
    assert np.median(before) > 2.9
    assert pipe.request_tare() is None
    _, events = feed(pipe, 2.0, np.full(40, 3.0))
    (tare,) = tares(events)
    assert tare.detail["accepted"] and tare.detail["asked"]
    after, _ = feed(pipe, 3.0, np.full(80, 3.0))
    assert abs(float(np.median(after))) < 0.05
    pressed, _ = feed(pipe, 4.0, np.full(80, 13.0))  # a real 10 N press now reads 10 N
    assert abs(float(np.median(pressed)) - 10.0) < 0.1


def test_a_load_is_never_tared_away_and_the_reason_says_what_to_do() -> None:
    pipe = started()
    zero = pipe.tare_n
    assert pipe.request_tare() is None
    shown, events = feed(pipe, 1.0, np.full(80, 12.0))  # pressed on the skin, steadily
    (tare,) = tares(events)
    assert not tare.detail["accepted"]
    assert "loaded" in str(tare.detail["reason"]) and "lay it down" in str(tare.detail["reason"])
    assert abs(float(np.median(shown)) - 12.0) < 0.1  # the load still reads in full
    assert pipe.tare_n == zero  # the zero from before stays


def test_a_moving_tool_is_not_tared_and_the_press_during_it_is_judged_at_once() -> None:
    pipe = started()
    assert pipe.request_tare() is None
    t = np.arange(40) * PERIOD
    force = 0.8 + 0.6 * np.sin(2 * np.pi * 3 * t)  # handled, not lying still
    _, events = feed(pipe, 1.0, force)
    (tare,) = tares(events)
    assert not tare.detail["accepted"] and "steady" in str(tare.detail["reason"])
    assert pipe.request_tare() is None
    tt = 2.0 + np.arange(40) * PERIOD
    out, _ = pipe.process(tt, counts(np.full(40, 30.0)))  # 2 × the limit, inside the window
    assert out is not None and out.zone[-1] == Zone.DANGER


def test_force_sent_by_the_tool_has_no_counts_to_tare() -> None:
    pipe = SignalPipeline(PipelineConfig(limit_n=15.0))
    t = np.arange(0.0, 0.5, PERIOD)
    pipe.process(t, np.full(t.size, np.nan), force_n=np.full(t.size, 1.0))
    assert "zero it there" in str(pipe.request_tare())
