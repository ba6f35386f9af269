"""Tests for the guided pressure-pain-threshold measurement (calibration.ppt)."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.ppt import PptProtocol, analyse_trial

FS = 80.0


def make_trial(
    rate_n_s: float = 5.0,
    mark_n: float = 20.0,
    *,
    t0: float = 0.0,
    fs: float = FS,
    tremor_n: float = 0.15,
    noise_n: float = 0.05,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, float]:
    """A press: 1 s unloaded, a ramp to ``mark_n``, 0.2 s reaction, 0.5 s release, 0.5 s off.

    Returns:
        Sample times, force and the mark time.
    """
    lead, reaction, release, tail = 1.0, 0.2, 0.5, 0.5
    mark_t = t0 + lead + mark_n / rate_n_s
    peak_t = mark_t + reaction
    peak = mark_n + rate_n_s * reaction
    end = peak_t + release + tail
    t = t0 + np.arange(0.0, end - t0, 1.0 / fs)
    f = np.interp(t, [t0, t0 + lead, peak_t, peak_t + release, end], [0, 0, peak, 0, 0])
    rng = np.random.default_rng(seed)
    touch = f > 0
    f = f + touch * (tremor_n * np.sin(2 * np.pi * 8.0 * t) + rng.normal(0, noise_n, t.size))
    return t, f, float(mark_t)


# --- analyse_trial -------------------------------------------------------------------------


def test_slow_ramp_on_target_is_accepted() -> None:
    t, f, mark = make_trial()
    result = analyse_trial(t, f, mark, None)
    assert result.accepted, result.reason
    assert result.reason == "ok"
    assert result.ppt_n == pytest.approx(20.0, rel=0.01)
    assert result.ramp_kpa_s == pytest.approx(50.0, rel=0.06)
    assert result.ppt_kpa is None
    assert result.duration_s == pytest.approx(3.6, abs=0.1)  # from 10 % of the mark force
    assert result.mark_t == mark


def test_known_tip_gives_pressure_and_rate_on_the_tip() -> None:
    t, f, mark = make_trial(rate_n_s=10.0, mark_n=30.0)
    result = analyse_trial(t, f, mark, 2.0)
    assert result.accepted, result.reason
    assert result.ppt_kpa == pytest.approx(150.0, rel=0.01)
    assert result.ramp_kpa_s == pytest.approx(50.0, rel=0.06)


def test_low_sample_rate_still_measures() -> None:
    t, f, mark = make_trial(fs=10.0, tremor_n=0.0)
    result = analyse_trial(t, f, mark, 1.0)
    assert result.accepted, result.reason
    assert result.ppt_n == pytest.approx(20.0, rel=0.01)


def test_too_fast_ramp_is_rejected() -> None:
    t, f, mark = make_trial(rate_n_s=15.0, mark_n=20.0)
    result = analyse_trial(t, f, mark, None)
    assert not result.accepted
    assert "too fast" in result.reason
    assert "150 kPa/s" in result.reason
    assert result.ramp_kpa_s == pytest.approx(150.0, rel=0.06)
    assert result.ppt_n == pytest.approx(20.0, rel=0.02)


def test_too_slow_ramp_is_rejected() -> None:
    t, f, mark = make_trial(rate_n_s=1.8, mark_n=10.0)
    result = analyse_trial(t, f, mark, None)
    assert not result.accepted
    assert "too slow" in result.reason
    assert "18 kPa/s" in result.reason


def test_release_before_the_mark_is_rejected() -> None:
    t = np.arange(0.0, 8.0, 1 / FS)
    f = np.interp(t, [0, 1, 5, 6, 8], [0, 0, 20, 12, 12])
    result = analyse_trial(t, f, 6.5, None)
    assert not result.accepted
    assert result.reason == "released before marking pain"


def test_no_mark_is_rejected() -> None:
    t, f, _ = make_trial()
    result = analyse_trial(t, f, None, None)
    assert not result.accepted
    assert result.reason.startswith("no mark")


def test_flat_signal_is_not_enough() -> None:
    t = np.arange(0.0, 3.0, 1 / FS)
    result = analyse_trial(t, np.zeros_like(t), 2.0, None)
    assert not result.accepted
    assert "not enough signal" in result.reason
    assert analyse_trial([], [], 1.0, None).reason.startswith("not enough signal")


# --- PptProtocol ---------------------------------------------------------------------------


def run_trial(
    proto: PptProtocol, t0: float, rate_n_s: float = 5.0, mark_n: float = 20.0, mark: bool = True
) -> float:
    """Start a trial at ``t0``, stream its samples in chunks, press the button; return the end."""
    proto.start_trial(t0)
    t, f, mark_t = make_trial(rate_n_s, mark_n, t0=t0, seed=int(t0))
    marked = False
    for i in range(0, t.size, 8):
        chunk_t, chunk_f = t[i : i + 8], f[i : i + 8]
        proto.feed(chunk_t, chunk_f)
        if mark and not marked and chunk_t[-1] >= mark_t:
            assert proto.mark(mark_t)
            marked = True
        if proto.status(float(chunk_t[-1]))["state"] != "pressing":
            return float(chunk_t[-1])
    proto.release(float(t[-1]))
    return float(t[-1])


def test_three_accepted_trials_give_the_mean() -> None:
    proto = PptProtocol(fraction=0.8)
    assert proto.status(0.0)["state"] == "ready"
    t = 0.0
    for target in (18.0, 20.0, 22.0):
        end = run_trial(proto, t, mark_n=target)
        t = end + 30.0
    assert proto.status(t)["state"] == "done"
    assert [r.accepted for r in proto.results()] == [True, True, True]
    summary = proto.summary()
    assert summary.n == 3
    assert summary.complete
    assert summary.ppt_n == pytest.approx(20.0, rel=0.01)
    assert summary.mean_2_3_n == pytest.approx(21.0, rel=0.01)
    assert summary.sd_n == pytest.approx(2.0, rel=0.05)
    assert summary.ppt_kpa is None
    assert summary.proposed_limit_n == pytest.approx(0.8 * (summary.ppt_n or 0.0))
    with pytest.raises(ValueError, match="finished"):
        proto.start_trial(t + 100)


def test_trial_ends_by_itself_when_force_returns_near_zero() -> None:
    proto = PptProtocol()
    end = run_trial(proto, 0.0)
    t, _, _ = make_trial()
    assert end < t[-1]  # ended during the unloaded tail, not by release()
    status = proto.status(end)
    assert status["state"] == "rest"
    assert status["trial"] == 2


def test_rest_is_enforced_with_a_countdown() -> None:
    proto = PptProtocol()
    end = run_trial(proto, 100.0)
    status = proto.status(end + 10.0)
    assert status["state"] == "rest"
    assert status["rest_left_s"] == pytest.approx(20.0, abs=0.1)
    assert proto.can_start(end + 10.0) is not None
    with pytest.raises(ValueError, match="rest 20 s more"):
        proto.start_trial(end + 10.0)
    assert proto.status(end + 30.0)["state"] == "ready"
    proto.start_trial(end + 30.0)
    assert proto.status(end + 30.0)["state"] == "pressing"
    with pytest.raises(ValueError, match="already running"):
        proto.start_trial(end + 31.0)


def test_rest_shorter_than_30_s_cannot_be_configured() -> None:
    with pytest.raises(ValueError, match="at least 30"):
        PptProtocol(rest_s=10.0)
    with pytest.raises(ValueError, match="fraction"):
        PptProtocol(fraction=1.5)


def test_rejected_trial_is_repeated() -> None:
    proto = PptProtocol()
    t = run_trial(proto, 0.0, rate_n_s=15.0) + 30.0
    first = proto.results()[0]
    assert not first.accepted
    assert "too fast" in first.reason
    assert proto.status(t)["last"] == first
    for _ in range(3):
        t = run_trial(proto, t) + 30.0
    assert len(proto.results()) == 4
    summary = proto.summary()
    assert summary.complete
    assert summary.n == 3
    assert summary.attempts == 4
    assert summary.ppt_n == pytest.approx(20.0, rel=0.01)


def test_gives_up_after_max_attempts() -> None:
    proto = PptProtocol()
    t = 0.0
    for _ in range(6):
        t = run_trial(proto, t, mark=False) + 30.0
    assert proto.status(t)["state"] == "done"
    assert all(r.reason.startswith("no mark") for r in proto.results())
    summary = proto.summary()
    assert not summary.complete
    assert summary.ppt_n is None
    assert summary.proposed_limit_n is None


@pytest.mark.parametrize(("rate_n_s", "word"), [(5.0, "good"), (12.0, "slower"), (2.0, "faster")])
def test_live_coaching(rate_n_s: float, word: str) -> None:
    proto = PptProtocol()
    proto.start_trial(0.0)
    assert proto.status(0.0)["coach"] is None
    t = np.arange(0.0, 3.0, 1 / FS)
    f = np.clip(rate_n_s * (t - 0.5), 0.0, None)
    proto.feed(t, f)
    status = proto.status(3.0)
    assert status["coach"] == word
    assert status["rate_kpa_s"] == pytest.approx(10 * rate_n_s, rel=0.02)
    assert proto.mark(3.0)
    assert not proto.mark(3.1)  # only the first moment counts
    assert proto.status(3.1)["coach"] is None


def test_marks_and_samples_outside_a_trial_are_ignored() -> None:
    proto = PptProtocol()
    assert not proto.mark(1.0)
    proto.feed([0.0, 0.1], [5.0, 6.0])
    assert proto.release(1.0) is None
    proto.start_trial(2.0)
    proto.feed([1.0, 2.5], [3.0, 4.0])
    assert proto.status(2.5)["force_n"] == 4.0
    result = proto.release(3.0)
    assert result is not None
    assert not result.accepted
