"""The simulated tool: its bytes decode cleanly and carry the force it claims to apply."""

from __future__ import annotations

import struct
import time

import numpy as np
import pytest
from cobs import cobs

from firmware_bridge.errors import SourceLostError, UsageError
from firmware_bridge.protocol import frames
from firmware_bridge.protocol.binary import BinaryDecoder
from firmware_bridge.protocol.frames import FrameType
from firmware_bridge.readings import ButtonEvent, DeviceInfo, DeviceStatus, Reading, SampleBatch
from firmware_bridge.sources.base import Transport
from firmware_bridge.sources.sim import (
    PATTERNS,
    SimConfig,
    SimTransport,
    SimulatedTool,
    parse_sim_url,
)


def decode(data: bytes) -> tuple[list[Reading], BinaryDecoder]:
    decoder = BinaryDecoder()
    return decoder.feed(data), decoder


def samples(readings: list[Reading]) -> tuple[np.ndarray, np.ndarray]:
    batches = [r for r in readings if isinstance(r, SampleBatch)]
    return np.concatenate([b.t for b in batches]), np.concatenate([b.raw for b in batches])


def bodies(data: bytes) -> list[bytes]:
    return [cobs.decode(part) for part in data.split(b"\x00") if part]


def assert_clean(decoder: BinaryDecoder) -> None:
    stats = decoder.stats
    assert stats.bad_frames == 0, stats.as_dict()
    assert stats.lost_frames == 0
    assert stats.skipped_bytes == 0


# -- the model ------------------------------------------------------------------------------------


def test_same_seed_same_bytes_different_seed_different() -> None:
    a = SimulatedTool(SimConfig(seed=7)).generate(60)
    b = SimulatedTool(SimConfig(seed=7)).generate(60)
    c = SimulatedTool(SimConfig(seed=8)).generate(60)
    assert a == b
    assert a != c


def test_output_does_not_depend_on_how_time_is_sliced() -> None:
    whole = SimulatedTool(SimConfig(seed=3)).next_frames(45.0)
    tool = SimulatedTool(SimConfig(seed=3))
    steps = np.cumsum(np.random.default_rng(0).uniform(0.001, 0.7, 200))
    pieces = [tool.next_frames(float(t)) for t in steps[steps < 45.0]]
    pieces.append(tool.next_frames(45.0))
    assert b"".join(pieces) == whole


def test_starts_with_sync_byte_then_info_with_factory_calibration() -> None:
    tool = SimulatedTool(SimConfig(seed=1))
    data = tool.generate(10)
    assert data[:1] == b"\x00"
    readings, decoder = decode(data)
    info = readings[0]
    assert isinstance(info, DeviceInfo)
    assert info.device_id == "pg-sim-0001"
    assert info.counts_per_n == 10700.0
    assert info.offset_counts == 84000.0
    assert info.rate_hz == 80.0
    assert info.capacity_n == 196.0  # every key fits: INFO JSON may be 231 bytes
    assert info.tip_area_cm2 == 1.0
    assert len(bodies(data)[0]) <= frames.MAX_INFO_BODY
    assert bodies(data)[0][1] == FrameType.INFO
    assert struct.unpack_from("<H", bodies(data)[0], 2)[0] == 0  # seq starts at 0
    assert_clean(decoder)
    assert decoder.stats.samples == 800


def test_truth_matches_decoded_counts_within_noise() -> None:
    cfg = SimConfig(seed=2)
    tool = SimulatedTool(cfg)
    readings, decoder = decode(tool.generate(120))
    assert_clean(decoder)
    t, raw = samples(readings)
    truth = tool.truth()
    np.testing.assert_array_equal(t, truth.t)
    np.testing.assert_array_equal(raw, truth.raw)
    calibrated = (raw - cfg.offset_counts) / cfg.counts_per_n
    error = (calibrated - truth.force_n)[~truth.spike]
    assert np.abs(error).max() < 6 * cfg.noise_counts / cfg.counts_per_n
    assert error.std() == pytest.approx(cfg.noise_counts / cfg.counts_per_n, rel=0.1)
    assert abs(error.mean()) < 0.1 * cfg.noise_counts / cfg.counts_per_n


def test_seq_and_clock_wrap_without_lost_frames() -> None:
    # 1 sample per frame at 8 kHz: > 65,536 frames in 9 s of device time, crossing the 2^32 µs wrap.
    cfg = SimConfig(
        rate_hz=8000, samples_per_frame=1, pattern="zero", clock_start_us=(1 << 32) - 3_000_000
    )
    tool = SimulatedTool(cfg, keep_truth=False)
    data = tool.generate(9.0)
    assert tool.frames_sent > 70_000
    seqs = [struct.unpack_from("<H", body, 2)[0] for body in bodies(data)]
    assert seqs == [i & 0xFFFF for i in range(len(seqs))]
    readings, decoder = decode(data)
    assert_clean(decoder)
    assert decoder.stats.frames == tool.frames_sent
    t, _ = samples(readings)
    assert t.size == 72_001  # samples 0 … 9.0 s inclusive: the last frame is due at 9.0
    np.testing.assert_allclose(np.diff(t), 125e-6, atol=1e-9)
    assert t[0] < 2**32 / 1e6 < t[-1]  # unwrapped: continuous across the wrap


def test_massage_goes_over_the_limit_rests_near_zero_presses_the_button() -> None:
    cfg = SimConfig(seed=1, limit_n=15.0)
    tool = SimulatedTool(cfg)
    readings, decoder = decode(tool.generate(240))
    assert_clean(decoder)
    force = tool.truth().force_n
    assert force.max() > 1.05 * cfg.limit_n
    assert force.max() < 1.35 * cfg.limit_n * 1.08 + 0.5  # level × drift + tremor
    assert force.min() >= 0.0
    resting = force == 0.0
    assert resting.mean() > 0.05
    assert resting[: 2 * 80].all()  # a session opens with at least 2 s of rest
    holding = force > 0.5 * cfg.limit_n
    assert holding.mean() > 0.4
    buttons = [r for r in readings if isinstance(r, ButtonEvent)]
    assert [b.pressed for b in buttons[:2]] == [True, False]
    assert 0.1 < buttons[1].t - buttons[0].t < 0.5
    assert tool.truth().spike.any()


def test_over_limit_holds_are_about_one_in_five() -> None:
    tool = SimulatedTool(SimConfig(seed=5), keep_truth=True)
    tool.generate(1800)
    force = tool.truth().force_n
    starts = np.flatnonzero((force[1:] > 0) & (force[:-1] == 0))
    ends = np.append(starts[1:], force.size)
    peaks = np.array([force[a:b].max() for a, b in zip(starts, ends, strict=True)])
    over = peaks > 1.04 * 15.0 + 0.5
    assert 0.1 < over.mean() < 0.45


def test_ramp_steady_zero_patterns() -> None:
    ramp = SimulatedTool(SimConfig(pattern="ramp", limit_n=10.0))
    ramp.generate(20)
    f = ramp.truth().force_n
    assert f.max() == pytest.approx(13.0, abs=0.1)
    rise = np.diff(f) * 80
    assert rise.max() == pytest.approx(5.0, abs=0.01)
    assert rise.min() == pytest.approx(-5.0, abs=0.01)
    steady = SimulatedTool(SimConfig(pattern="steady", level=7.5))
    steady.generate(2)
    assert np.all(steady.truth().force_n == 7.5)
    zero = SimulatedTool(SimConfig(pattern="zero"))
    readings, _ = decode(zero.generate(2))
    assert not zero.truth().force_n.any()
    assert not any(isinstance(r, ButtonEvent) for r in readings)


def test_10_sps_sends_one_sample_per_frame_with_period_unknown() -> None:
    tool = SimulatedTool(SimConfig(rate_hz=10, pattern="steady"))
    data = tool.generate(3)
    samples_bodies = [b for b in bodies(data) if b[1] == FrameType.SAMPLES]
    assert {struct.unpack_from("<HB", b, 8) for b in samples_bodies} == {(0, 1)}
    readings, decoder = decode(data)
    assert_clean(decoder)
    t, _ = samples(readings)
    np.testing.assert_allclose(t, np.arange(31) / 10)


def test_saturation_clips_to_the_rails_and_is_flagged() -> None:
    # A stiff scale makes the 1.3 × limit ramp peak run past the 24-bit rail, then come back.
    cfg = SimConfig(pattern="ramp", limit_n=15.0, counts_per_n=500_000)
    tool = SimulatedTool(cfg)
    readings, decoder = decode(tool.generate(12))
    assert_clean(decoder)
    _, raw = samples(readings)
    assert raw.max() == frames.ADC24_MAX
    truth = tool.truth()
    assert truth.clipped.any()
    np.testing.assert_array_equal(raw == frames.ADC24_MAX, truth.clipped)
    statuses = [r for r in readings if isinstance(r, DeviceStatus)]
    flags = [s.saturated for s in statuses]
    assert True in flags
    first_sat = flags.index(True)
    assert False in flags[first_sat:]  # cleared once the force drops back
    first_clip_t = truth.t[np.argmax(truth.clipped)]
    assert statuses[first_sat].t == pytest.approx(first_clip_t, abs=0.05)


def test_status_every_second_with_a_slowly_draining_battery() -> None:
    tool = SimulatedTool(SimConfig(pattern="zero"))
    readings, _ = decode(tool.generate(600))
    statuses = [r for r in readings if isinstance(r, DeviceStatus)]
    assert [s.t for s in statuses[:3]] == [0.0, 1.0, 2.0]
    assert len(statuses) == 601
    assert statuses[0].battery_mv == 4100
    assert statuses[-1].battery_mv is not None
    assert 4080 <= statuses[-1].battery_mv < 4100
    assert not any(s.saturated or s.adc_fault for s in statuses)


def test_config_is_validated() -> None:
    with pytest.raises(UsageError, match="massage, ramp, steady, zero"):
        SimConfig(pattern="wiggle")
    with pytest.raises(UsageError, match="rate"):
        SimConfig(rate_hz=0.5)
    with pytest.raises(UsageError, match="one sample"):
        SimConfig(rate_hz=10, samples_per_frame=2)
    with pytest.raises(UsageError, match="samples per frame"):
        SimConfig(samples_per_frame=33)
    assert SimConfig(rate_hz=80).frame_samples == 2
    assert SimConfig(rate_hz=10_000).frame_samples == 32
    assert PATTERNS == ("massage", "ramp", "steady", "zero")


# -- URLs -----------------------------------------------------------------------------------------


def test_parse_sim_url() -> None:
    opts = parse_sim_url("sim://?seed=3&rate=80&pattern=ramp&limit=12.5&speed=0&duration=30")
    assert opts.config == SimConfig(seed=3, rate_hz=80.0, pattern="ramp", limit_n=12.5)
    assert (opts.speed, opts.duration_s) == (0.0, 30.0)
    default = parse_sim_url("sim://")
    assert default.config == SimConfig()
    assert (default.speed, default.duration_s) == (1.0, None)
    assert parse_sim_url("sim://?pattern=steady&level=3&spf=4").config.samples_per_frame == 4


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sim://?seed=abc", "seed must be a whole number, not 'abc'"),
        ("sim://?rate=0", "rate must be 1 to 100000 Hz"),
        ("sim://?rate=nan", "rate must be a finite number"),
        ("sim://?pattern=bogus", "choose one of massage, ramp, steady, zero"),
        ("sim://?colour=red", "no option 'colour'; valid options: seed, rate"),
        ("sim://?speed=-1", "speed must be 0"),
        ("sim://?duration=0", "duration must be positive"),
        ("sim://somewhere", "options only"),
        ("serial://x", "not a simulator source"),
    ],
)
def test_parse_sim_url_rejects_bad_values(url: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_sim_url(url)


# -- the transport --------------------------------------------------------------------------------


def read_all(transport: Transport, timeout: float = 0.2) -> list[bytes]:
    out = []
    with pytest.raises(EOFError):
        while True:
            chunk = transport.read(timeout)
            if chunk is not None:
                out.append(chunk.data)
    return out


def test_transport_at_speed_0_sends_exactly_the_model_bytes() -> None:
    with SimTransport("sim://?seed=4&speed=0&duration=20") as transport:
        assert transport.framing == "stream"
        assert transport.at_stream_start
        chunks = read_all(transport)
    assert len(chunks) >= 190  # about 0.1 s of device time per read
    expected = SimulatedTool(SimConfig(seed=4)).next_frames(20.0)
    assert b"".join(chunks) == expected


def test_transport_paces_in_real_time() -> None:
    with SimTransport("sim://?duration=1") as transport:
        start = time.monotonic()
        data = b"".join(read_all(transport, timeout=0.1))
        wall = time.monotonic() - start
    assert 0.8 < wall < 3.0
    _, decoder = decode(data)
    assert 70 <= decoder.stats.samples <= 80


def test_transport_read_waits_at_most_timeout() -> None:
    with SimTransport("sim://?pattern=zero&spf=32&rate=16") as transport:  # a frame every 2 s
        transport.read(0.0)  # the sync byte, INFO and STATUS are due at once
        start = time.monotonic()
        assert transport.read(0.1) is None
        assert time.monotonic() - start < 0.5
    with pytest.raises(SourceLostError):
        transport.read(0.1)


def command(ftype: int, payload: bytes = b"") -> bytes:
    return frames.frame_serial(frames.build_body(ftype, 0, 0, payload))


def test_commands_are_decoded_recorded_and_hello_resends_info() -> None:
    transport = SimTransport("sim://?speed=0&pattern=zero")
    with transport:  # not `as`: Transport.__enter__ is typed to return the base class
        first, _ = decode(b"".join(transport.read(0).data for _ in range(3)))  # type: ignore[union-attr]
        assert sum(isinstance(r, DeviceInfo) for r in first) == 1
        haptic = command(FrameType.HAPTIC, frames.haptic_payload(frames.Haptic.CONTINUOUS))
        limit = command(FrameType.LOCAL_LIMIT, frames.local_limit_payload(244_500, 1))
        corrupt = bytearray(command(FrameType.HAPTIC, b"\x01"))
        corrupt[3] ^= 0xFF
        stream = haptic + limit + bytes(corrupt) + command(FrameType.HELLO)
        transport.write(stream[:5])  # commands may arrive split anywhere
        transport.write(stream[5:])
        assert transport.commands == [
            (FrameType.HAPTIC, b"\x02"),
            (FrameType.LOCAL_LIMIT, struct.pack("<ib", 244_500, 1)),
            (FrameType.HELLO, b""),
        ]
        assert transport.bad_commands == 1
        assert transport.haptic_pattern == 2
        assert transport.local_limit == (244_500, 1)
        transport.write(command(FrameType.HAPTIC, b"\x00"))
        transport.write(command(FrameType.HAPTIC, b"\x07"))  # reserved: acts as continuous
        assert transport.haptic_pattern == 2
        transport.write(command(FrameType.HAPTIC, b"\x00"))
        transport.write(command(FrameType.LOCAL_LIMIT, struct.pack("<ib", 1, 5)))  # ignored
        assert transport.haptic_pattern == 0
        assert transport.local_limit == (244_500, 1)
        assert transport.commands[-3] == (FrameType.HAPTIC, b"\x07")
        after = transport.read(0)
        assert after is not None
        decoder = BinaryDecoder()
        decoder.feed(b"\x00")
        readings = decoder.feed(after.data)
        assert isinstance(readings[0], DeviceInfo)
