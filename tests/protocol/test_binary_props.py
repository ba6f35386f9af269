"""Property tests for the binary decoder: chunking, corruption, counting, sequence and clock."""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_bridge.protocol import frames as fr
from firmware_bridge.protocol.binary import BinaryDecoder
from firmware_bridge.readings import (
    ButtonEvent,
    ClockReset,
    DeviceInfo,
    DeviceStatus,
    Reading,
    SampleBatch,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
U32 = 1 << 32
INFO = DeviceInfo(device_id="PG-TEST", firmware="1.0.0", adc="HX711", rate_hz=80.0)


@dataclass(frozen=True)
class Sent:
    """One frame as sent: its body and the sample values that identify it."""

    body: bytes
    ident: int  # raw[0] of a SAMPLES frame, unique in a stream; -1 for events


def flatten(readings: list[Reading]) -> list[tuple[Any, ...]]:
    """Readings independent of how samples were grouped into batches."""
    out: list[tuple[Any, ...]] = []
    for r in readings:
        if isinstance(r, SampleBatch):
            out += [("s", float(t), float(v)) for t, v in zip(r.t, r.raw, strict=True)]
        else:
            out.append((type(r).__name__, r))
    return out


@st.composite
def tool_streams(draw: st.DrawFn, max_frames: int = 25) -> list[Sent]:
    """A plausible tool stream: SAMPLES with unique first counts, some events, maybe wrapping."""
    n = draw(st.integers(1, max_frames))
    seq = draw(st.sampled_from([0, 65530, draw(st.integers(0, 0xFFFF))]))
    t_us = draw(st.sampled_from([0, U32 - 40_000, draw(st.integers(0, U32 - 1))]))
    period = draw(st.sampled_from([1000, 12_500]))
    sent: list[Sent] = []
    for i in range(n):
        kind = draw(st.sampled_from(["s", "s", "s", "b", "st", "i"]))
        if kind == "s":
            k = draw(st.integers(1, 8))
            extra = draw(
                st.lists(st.integers(-(1 << 31), (1 << 31) - 1), min_size=k - 1, max_size=k - 1)
            )
            raw = [i * 1000 + 17, *extra]
            body = fr.build_body(fr.FrameType.SAMPLES, seq, t_us, fr.samples_payload(period, raw))
            sent.append(Sent(body, raw[0]))
            t_us = (t_us + k * period) % U32
        else:
            if kind == "b":
                payload, ftype = fr.button_payload(draw(st.booleans())), fr.FrameType.BUTTON
            elif kind == "st":
                payload, ftype = fr.status_payload(3700, draw(st.booleans())), fr.FrameType.STATUS
            else:
                payload, ftype = INFO.to_json().encode(), fr.FrameType.INFO
            sent.append(Sent(fr.build_body(ftype, seq, t_us, payload), -1))
        seq = (seq + 1) & 0xFFFF
    return sent


def serial(sent: list[Sent]) -> tuple[bytes, list[tuple[int, int]]]:
    """The serial stream (sync 0x00 first) and each frame's span [start, delimiter] in it."""
    out = bytearray(b"\x00")
    spans = []
    for s in sent:
        enc = fr.frame_serial(s.body)
        spans.append((len(out), len(out) + len(enc) - 1))
        out += enc
    return bytes(out), spans


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def feed_all(dec: BinaryDecoder, chunks: list[bytes]) -> list[Reading]:
    out: list[Reading] = []
    for c in chunks:
        out += dec.feed(c, 0.0)
    return out


def idents(readings: list[Reading]) -> set[int]:
    return {int(v) for r in readings if isinstance(r, SampleBatch) for v in r.raw}


# -- chunking -------------------------------------------------------------------------------


@FAST
@given(tool_streams(), st.lists(st.integers(0, 10_000), max_size=40))
def test_any_chunking_gives_the_same_readings(sent: list[Sent], cuts: list[int]) -> None:
    data, _ = serial(sent)
    whole = BinaryDecoder()
    expected = whole.feed(data, 0.0)
    split = BinaryDecoder()
    got = feed_all(split, chunked(data, cuts))
    assert flatten(got) == flatten(expected)
    assert split.stats.as_dict() == whole.stats.as_dict()
    assert whole.stats.frames == len(sent) and whole.stats.bad_frames == 0
    assert whole.stats.lost_frames == 0 and whole.stats.skipped_bytes == 0


@FAST
@given(tool_streams())
def test_ble_bodies_give_the_same_readings_as_serial(sent: list[Sent]) -> None:
    data, _spans = serial(sent)
    ble = BinaryDecoder()
    got: list[Reading] = []
    for s in sent:
        got += ble.feed_body(s.body, 0.0)
    assert flatten(got) == flatten(BinaryDecoder().feed(data, 0.0))


@FAST
@given(tool_streams(), st.integers(1, 200))
def test_joining_mid_stream_skips_only_the_torn_frame(sent: list[Sent], cut: int) -> None:
    data, spans = serial(sent)
    cut = min(cut, len(data) - 1)
    dec = BinaryDecoder()
    out = dec.feed(data[cut:], 0.0)
    whole = [s.ident for s, (a, _) in zip(sent, spans, strict=True) if a > cut and s.ident >= 0]
    assert set(whole) <= idents(out)
    assert dec.stats.bad_frames == 0  # the torn start is skipped bytes, not a fault


# -- corruption -----------------------------------------------------------------------------

Op = tuple[str, int, bytes]


def corrupt(data: bytes, ops: list[Op]) -> tuple[bytes, list[tuple[str, int]]]:
    """Apply operations at positions of the original stream; report (kind, original position)."""
    touched: list[tuple[str, int]] = []
    by_pos: dict[int, list[Op]] = {}
    for kind, pos, extra in ops:
        by_pos.setdefault(pos % (len(data) + 1), []).append((kind, pos, extra))
    out = bytearray()
    for i in range(len(data) + 1):
        keep = True
        byte = data[i] if i < len(data) else None
        for kind, _pos, extra in by_pos.get(i, []):
            if kind in ("insert", "zero"):
                out += extra if kind == "insert" else b"\x00"
                touched.append(("insert", i))
            elif byte is not None and kind == "flip":
                byte ^= extra[0] or 1
                touched.append(("byte", i))
            elif byte is not None and kind == "delete":
                keep = False
                touched.append(("byte", i))
        if byte is not None and keep:
            out.append(byte)
    return bytes(out), touched


def intact(spans: list[tuple[int, int]], touched: list[tuple[str, int]]) -> list[bool]:
    """A frame is intact when nothing touched it, its delimiter or the delimiter before it."""
    result = []
    for start, end in spans:
        ok = True
        for kind, pos in touched:
            lo = start if kind == "insert" else start - 1  # an insert before the 0x00 is outside
            if lo <= pos <= end:
                ok = False
        result.append(ok)
    return result


ops_strategy = st.lists(
    st.tuples(
        st.sampled_from(["flip", "insert", "delete", "zero"]),
        st.integers(0, 5000),
        st.binary(min_size=1, max_size=300),
    ),
    min_size=1,
    max_size=8,
)


@FAST
@given(tool_streams(), ops_strategy, st.lists(st.integers(0, 10_000), max_size=20))
def test_corruption_never_raises_and_intact_frames_survive(
    sent: list[Sent], ops: list[Op], cuts: list[int]
) -> None:
    data, spans = serial(sent)
    bad, touched = corrupt(data, ops)
    dec = BinaryDecoder()
    out = feed_all(dec, chunked(bad, cuts))
    ok = intact(spans, touched)
    want = {s.ident for s, good in zip(sent, ok, strict=True) if good and s.ident >= 0}
    assert want <= idents(out)
    n_events = sum(1 for s, good in zip(sent, ok, strict=True) if good and s.ident < 0)
    events = [r for r in out if isinstance(r, ButtonEvent | DeviceStatus | DeviceInfo)]
    assert len(events) >= n_events
    assert all(v >= 0 for v in dec.stats.faults.values())


def cobs_data_positions(enc: bytes) -> list[int]:
    """Positions of data (not code) bytes in one COBS encoding without its delimiter."""
    pos, data = 0, []
    while pos < len(enc):
        code = enc[pos]
        data += range(pos + 1, min(pos + code, len(enc)))
        pos += code
    return data


@FAST
@given(tool_streams(), st.data())
def test_counts_add_up_when_single_bytes_are_damaged(sent: list[Sent], data: st.DataObject) -> None:
    stream, spans = serial(sent)
    hit = data.draw(st.sets(st.integers(0, len(sent) - 1), max_size=len(sent)))
    bad = bytearray(stream)
    for i in hit:
        start, end = spans[i]
        offset = data.draw(st.sampled_from(cobs_data_positions(stream[start:end])))
        bad[start + offset] ^= data.draw(st.integers(1, 255))
        if bad[start + offset] == 0:  # keep framing intact: a 0x00 would split the frame
            bad[start + offset] = stream[start + offset] ^ 0xFF or 1
    dec = BinaryDecoder()
    dec.feed(bytes(bad), 0.0)
    good = [i for i in range(len(sent)) if i not in hit]
    # One changed body byte is always caught by CRC-16: each damaged frame is one crc fault.
    assert dec.stats.frames == len(good)
    assert dec.stats.faults["crc"] == len(hit) == dec.stats.bad_frames
    expected_lost = 0
    for a, b in itertools.pairwise(good):
        if not looks_like_restart(sent[a].body, sent[b].body):
            expected_lost += b - a - 1
    assert dec.stats.lost_frames == expected_lost


def seq_of(body: bytes) -> int:
    return int(struct.unpack_from("<H", body, 2)[0])


def looks_like_restart(before: bytes, body: bytes) -> bool:
    """INFO with seq 0 not right after seq 65535: read as a restart (PROTOCOL.md §4), no loss.

    A generated stream only produces this when the frame with seq 65535 was damaged.
    """
    return body[1] == fr.FrameType.INFO and seq_of(body) == 0 and seq_of(before) != 0xFFFF


# -- sequence and clock -------------------------------------------------------------------


def samples_body(seq: int, t_us: int, raw: list[int], period: int = 1000) -> bytes:
    return fr.build_body(fr.FrameType.SAMPLES, seq, t_us, fr.samples_payload(period, raw))


@FAST
@given(st.integers(0xFF00, 0xFFFF), st.lists(st.booleans(), min_size=2, max_size=300))
def test_lost_frames_counted_across_the_seq_wrap(start: int, keep: list[bool]) -> None:
    keep[0] = keep[-1] = True
    dec = BinaryDecoder()
    stream = b"\x00" + b"".join(
        fr.frame_serial(samples_body((start + i) & 0xFFFF, 1000 * i, [i]))
        for i, k in enumerate(keep)
        if k
    )
    dec.feed(stream, 0.0)
    assert dec.stats.lost_frames == keep.count(False)
    assert dec.stats.frames == keep.count(True)


@FAST
@given(
    st.integers(U32 - 3_000_000, U32 - 1),
    st.lists(st.integers(1, 400_000), min_size=1, max_size=40),
    st.lists(st.integers(0, 10_000), max_size=10),
)
def test_device_clock_is_continuous_across_the_u32_wrap(
    t0: int, steps: list[int], cuts: list[int]
) -> None:
    times = np.cumsum([t0, *steps])
    stream = b"\x00" + b"".join(
        fr.frame_serial(samples_body(i, int(t) % U32, [i])) for i, t in enumerate(times)
    )
    out = feed_all(BinaryDecoder(), chunked(stream, cuts))
    got = np.concatenate([r.t for r in out if isinstance(r, SampleBatch)])
    np.testing.assert_allclose(got, times / 1e6, rtol=0, atol=1e-9)
    assert not any(isinstance(r, ClockReset) for r in out)


@FAST
@given(
    st.integers(0, 10_000_000),
    st.integers(500_001, (1 << 31) - 1),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFF),
)
def test_clock_going_back_is_a_reset(t1: int, back: int, seq0: int, seq1: int) -> None:
    """A restarted tool: its clock starts again near 0 and its counter anywhere."""
    t0 = t1 + back
    dec = BinaryDecoder()
    stream = b"\x00" + fr.frame_serial(samples_body(seq0, t0, [1]))
    stream += fr.frame_serial(samples_body(seq1, t1, [2]))
    stream += fr.frame_serial(samples_body((seq1 + 1) & 0xFFFF, t1 + 1000, [3]))
    out = dec.feed(stream, 0.0)
    assert [type(r).__name__ for r in out] == ["SampleBatch", "ClockReset", "SampleBatch"]
    reset, second = out[1], out[2]
    assert isinstance(reset, ClockReset) and isinstance(second, SampleBatch)
    assert reset.t == second.t[0] == t1 / 1e6
    assert second.t[1] - second.t[0] == pytest.approx(0.001, abs=1e-9)
    # The restarted counter is not compared with the old one: no phantom lost frames.
    assert dec.stats.lost_frames == 0


def test_event_stamped_before_the_wrap_does_not_advance_time_twice() -> None:
    """Regression: an event 0.2 ms before the wrap, sent just after it, once added 2³² µs."""
    frames = [
        samples_body(0, U32 - 1000, [1], period=500),
        samples_body(1, 0, [2], period=500),
        fr.build_body(fr.FrameType.BUTTON, 2, U32 - 200, fr.button_payload(True)),
        samples_body(3, 500, [3], period=500),
    ]
    out = BinaryDecoder().feed(b"\x00" + b"".join(map(fr.frame_serial, frames)), 0.0)
    button = next(r for r in out if isinstance(r, ButtonEvent))
    assert button.t == (U32 - 200) / 1e6
    last = [r for r in out if isinstance(r, SampleBatch)][-1]
    assert last.t[-1] == (U32 + 500) / 1e6
    assert not any(isinstance(r, ClockReset) for r in out)


def test_restart_after_many_frames_counts_no_lost_frames() -> None:
    """Regression: a restart (seq 40000 → 0) once counted 25 535 lost frames."""
    dec = BinaryDecoder()
    stream = b"\x00" + fr.frame_serial(samples_body(40_000, 5_000_000, [1]))
    stream += fr.frame_serial(samples_body(0, 100, [2])) + fr.frame_serial(
        samples_body(2, 1100, [3])
    )
    out = dec.feed(stream, 0.0)
    assert any(isinstance(r, ClockReset) for r in out)
    assert dec.stats.lost_frames == 1  # only the real gap after the restart (seq 1)


def info_body(seq: int, t_us: int) -> bytes:
    return fr.build_body(fr.FrameType.INFO, seq, t_us, INFO.to_json().encode())


def decode_bodies(bodies: list[bytes]) -> tuple[BinaryDecoder, list[Reading]]:
    dec = BinaryDecoder()
    return dec, dec.feed(b"\x00" + b"".join(map(fr.frame_serial, bodies)), 0.0)


def kinds(out: list[Reading]) -> list[str]:
    return [type(r).__name__ for r in out]


@pytest.mark.parametrize("last_t_us", [(1 << 31) + 5, 3_000_000_000, U32 - 100_000])
def test_restart_after_long_uptime_is_seen_by_its_info_seq_0(last_t_us: int) -> None:
    """Uptime ≥ 2³¹ µs: the clock step looks like a forward wrap; the power-up INFO shows it."""
    period = 12_500
    before = [samples_body(1000 + i, last_t_us - (3 - i) * period, [i], period) for i in range(4)]
    after = [samples_body(1 + i, 400_000 + i * period, [10 + i], period) for i in range(3)]
    dec, out = decode_bodies([*before, info_body(0, 300_000), *after])
    assert kinds(out) == ["SampleBatch", "ClockReset", "DeviceInfo", "SampleBatch"]
    first, reset, second = out[0], out[1], out[3]
    assert isinstance(first, SampleBatch) and isinstance(second, SampleBatch)
    assert reset == ClockReset(t=0.3)
    assert first.raw.tolist() == [0, 1, 2, 3] and second.raw.tolist() == [10, 11, 12]
    np.testing.assert_allclose(first.t, (last_t_us - period * np.arange(3, -1, -1)) / 1e6)
    # The new segment starts at the new clock, not 2³² µs later, and runs on normally.
    np.testing.assert_allclose(second.t, [0.4, 0.4125, 0.425], rtol=0, atol=1e-9)
    assert dec.stats.lost_frames == 0 and dec.stats.frames == 8 and dec.stats.bad_frames == 0


def test_restart_then_later_wrap_and_lost_frame_are_still_tracked() -> None:
    """After a restart both histories start again: a later clock wrap and a seq gap still work."""
    bodies = [
        samples_body(7000, 3_500_000_000, [1]),
        info_body(0, U32 - 2000),  # the new clock happens to be just before its own wrap
        samples_body(1, U32 - 1000, [2]),
        samples_body(3, 500, [3]),  # seq 2 lost, clock wrapped
    ]
    dec, out = decode_bodies(bodies)
    assert kinds(out) == ["SampleBatch", "ClockReset", "DeviceInfo", "SampleBatch"]
    last = out[3]
    assert isinstance(last, SampleBatch)
    np.testing.assert_allclose(last.t, [(U32 - 1000) / 1e6, (U32 + 500) / 1e6], rtol=0, atol=1e-9)
    assert dec.stats.lost_frames == 1


def test_info_answering_hello_carries_the_current_seq_and_is_no_restart() -> None:
    bodies = [samples_body(40 + i, 3_000_000_000 + 1000 * i, [i]) for i in range(3)]
    bodies += [info_body(43, 3_000_002_500)]  # the answer to HELLO: the next seq, not 0
    bodies += [samples_body(44, 3_000_003_000, [3])]
    dec, out = decode_bodies(bodies)
    assert "ClockReset" not in kinds(out)
    assert kinds(out) == ["SampleBatch", "DeviceInfo", "SampleBatch"]
    assert dec.stats.lost_frames == 0
    t = np.concatenate([r.t for r in out if isinstance(r, SampleBatch)])
    np.testing.assert_allclose(t, 3000.0 + np.array([0, 1, 2, 3]) * 1e-3, rtol=0, atol=1e-9)


def test_info_with_seq_0_after_65535_is_a_wrap_not_a_restart() -> None:
    bodies = [samples_body(65534, 10_000, [1]), samples_body(65535, 11_000, [2])]
    bodies += [info_body(0, 11_500), samples_body(1, 12_000, [3])]
    dec, out = decode_bodies(bodies)
    assert "ClockReset" not in kinds(out)
    assert dec.stats.lost_frames == 0


def test_lost_65535_before_a_hello_answer_with_seq_0_is_taken_as_a_restart() -> None:
    """The one ambiguous case PROTOCOL.md §4 accepts: a spare segment, one uncounted loss."""
    bodies = [samples_body(65534, 10_000, [1]), info_body(0, 11_500), samples_body(1, 12_000, [3])]
    dec, out = decode_bodies(bodies)
    assert kinds(out) == ["SampleBatch", "ClockReset", "DeviceInfo", "SampleBatch"]
    last = out[3]
    assert isinstance(last, SampleBatch) and last.t.tolist() == [0.012]  # same clock, no jump
    assert dec.stats.lost_frames == 0


def test_info_as_first_frame_is_no_restart() -> None:
    dec, out = decode_bodies([info_body(0, 5_000_000), samples_body(1, 5_001_000, [1])])
    assert kinds(out) == ["DeviceInfo", "SampleBatch"]
    assert dec.stats.lost_frames == 0


def test_power_up_info_after_a_short_uptime_gives_one_clock_reset() -> None:
    """Both rules match (seq 0 and a clock step back): still exactly one ClockReset."""
    bodies = [samples_body(900, 20_000_000, [1]), info_body(0, 250_000)]
    bodies += [samples_body(1, 260_000, [2])]
    dec, out = decode_bodies(bodies)
    assert kinds(out) == ["SampleBatch", "ClockReset", "DeviceInfo", "SampleBatch"]
    assert out[1] == ClockReset(t=0.25)
    assert dec.stats.lost_frames == 0


def test_period_0_is_reported_as_unknown() -> None:
    """HX711 at 10 SPS: n = 1, period_us = 0; times come from each frame's own t_us."""
    bodies = [samples_body(i, 1_000_000 + 100_000 * i, [i], period=0) for i in range(5)]
    _, out = decode_bodies(bodies)
    assert len(out) == 1 and isinstance(out[0], SampleBatch)
    assert out[0].period_s is None
    np.testing.assert_allclose(out[0].t, 1.0 + 0.1 * np.arange(5), rtol=0, atol=1e-9)
    ble = BinaryDecoder()
    single = ble.feed_body(bodies[0], 0.0)
    assert isinstance(single[0], SampleBatch) and single[0].period_s is None
    # The batch's period is the last frame's: a stated period after unknown ones is reported.
    _, mixed = decode_bodies([*bodies[:2], samples_body(2, 1_200_000, [7, 8], period=12_500)])
    assert isinstance(mixed[0], SampleBatch) and mixed[0].period_s == pytest.approx(0.0125)


def test_overlong_garbage_is_one_length_fault_then_resync() -> None:
    dec = BinaryDecoder()
    good = fr.frame_serial(samples_body(1, 0, [42]))
    out = feed_all(dec, [b"\x00", b"\x55" * 100, b"\x55" * 100, b"\x55" * 100, b"\x00" + good])
    assert dec.stats.faults["length"] == 1 and dec.stats.bad_frames == 1
    assert idents(out) == {42}


def test_crc_is_little_endian_after_the_payload() -> None:
    body = fr.build_body(fr.FrameType.HELLO, 0, 0)
    assert struct.unpack("<H", body[-2:])[0] == fr.crc16(body[:-2])
