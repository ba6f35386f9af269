"""The predictive warning on synthetic force, through the whole pipeline (filters included).

The lead is measured against the crossing the user is warned about: the moment the zone goes
``over`` (the filtered force reaching the limit).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.pipeline.predict import DEFAULT_LEAD_S
from firmware_bridge.pipeline.signal import PipelineConfig, SignalPipeline
from firmware_bridge.zones import SessionEvent


def run(
    force: np.ndarray,
    rate_hz: float,
    limit_n: float,
    block: int = 8,
    lead_s: float = DEFAULT_LEAD_S,
) -> list[SessionEvent]:
    """Feed ``force`` (N, the tool's own calibrated force) in blocks; all events."""
    pipe = SignalPipeline(PipelineConfig(limit_n=limit_n, prewarn_lead_s=lead_s))
    t = np.arange(force.size) / rate_hz
    events: list[SessionEvent] = []
    for a in range(0, force.size, block):
        _, got = pipe.process(t[a : a + block], np.full(force[a : a + block].size, np.nan),
                              force[a : a + block], 1 / rate_hz)  # fmt: skip
        events += got
    return events


def kinds(events: list[SessionEvent], kind: str) -> list[SessionEvent]:
    return [e for e in events if e.kind == kind]


def ramp(rate_n_s: float, rate_hz: float, top_n: float, start_s: float = 1.0) -> np.ndarray:
    t = np.arange(0, start_s + top_n / rate_n_s + 2.0, 1 / rate_hz)
    return np.clip((t - start_s) * rate_n_s, 0.0, top_n)


@pytest.mark.parametrize("rate_hz", [80.0, 1000.0])
@pytest.mark.parametrize("rate_n_s", [5.0, 10.0, 20.0, 35.0, 50.0])
@pytest.mark.parametrize("lead_s", [0.5, DEFAULT_LEAD_S])
def test_fires_at_the_lead_time_before_the_crossing(
    rate_n_s: float, rate_hz: float, lead_s: float
) -> None:
    limit = 80.0  # high enough that the lead is reached above half the limit at 50 N/s
    events = run(ramp(rate_n_s, rate_hz, 1.1 * limit), rate_hz, limit, lead_s=lead_s)
    (warned,) = kinds(events, "prewarn")
    over = next(e for e in events if e.kind == "zone" and e.detail["to"] == "over")
    assert over.t_s - warned.t_s == pytest.approx(lead_s, abs=0.05)
    assert warned.detail["force_n"] >= 0.5 * limit
    (crossed,) = kinds(events, "prewarn_crossed")
    assert crossed.detail["lead_s"] == pytest.approx(lead_s, abs=0.05)
    assert not kinds(events, "prewarn_eased")


@pytest.mark.parametrize("tremor_hz", [0.5, 1.0, 3.0, 6.0, 10.0])
@pytest.mark.parametrize("level", [0.6, 0.9, 0.97])
def test_never_on_a_long_hold_with_tremor(tremor_hz: float, level: float) -> None:
    limit, rate_hz = 20.0, 80.0
    t = np.arange(0, 60, 1 / rate_hz)
    rng = np.random.default_rng(int(tremor_hz * 100 + level * 10))
    phase = rng.uniform(0, 2 * np.pi)
    force = level * limit + 0.3 * np.sin(2 * np.pi * tremor_hz * t + phase)
    force += rng.normal(0, 0.03, t.size)  # the cell's own noise
    assert not kinds(run(force, rate_hz, limit), "prewarn")


def test_never_below_half_the_limit() -> None:
    limit = 20.0
    # a fast push (50 N/s) that stops just under half the limit, again and again
    one = ramp(50.0, 80.0, 0.48 * limit, start_s=0.2)
    force = np.concatenate([one, one[::-1]] * 5)
    assert not kinds(run(force, 80.0, limit), "prewarn")


def test_easing_off_in_time_is_recorded_and_rearms() -> None:
    limit, rate_hz = 20.0, 80.0
    up = ramp(10.0, rate_hz, 0.9 * limit)  # rises at 10 N/s, stops at 18 N, holds 2 s
    down = np.linspace(0.9 * limit, 2.0, int(rate_hz))
    force = np.concatenate([up, down, up])
    events = run(force, rate_hz, limit)
    assert len(kinds(events, "prewarn")) == 2
    assert len(kinds(events, "prewarn_eased")) == 2
    assert not kinds(events, "prewarn_crossed")
    assert not [e for e in events if e.kind == "zone" and e.detail["to"] == "over"]


def test_zero_lead_turns_it_off() -> None:
    assert not kinds(run(ramp(10.0, 80.0, 30.0), 80.0, 20.0, lead_s=0.0), "prewarn")


@settings(max_examples=30, deadline=None)
@given(cuts=st.lists(st.integers(1, 399), max_size=12))
def test_events_do_not_depend_on_chunking(cuts: list[int]) -> None:
    force = ramp(12.0, 80.0, 26.0)[:400]
    t = np.arange(force.size) / 80.0
    whole = run(force, 80.0, 20.0, block=force.size)
    pipe = SignalPipeline(PipelineConfig(limit_n=20.0))
    split: list[SessionEvent] = []
    bounds = [0, *sorted(set(cuts)), force.size]
    for a, b in itertools.pairwise(bounds):
        split += pipe.process(t[a:b], np.full(b - a, np.nan), force[a:b], 1 / 80.0)[1]
    pick = ("prewarn", "prewarn_crossed", "prewarn_eased")
    assert [(e.kind, round(e.t_s, 6)) for e in whole if e.kind in pick] == [
        (e.kind, round(e.t_s, 6)) for e in split if e.kind in pick
    ]
