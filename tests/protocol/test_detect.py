"""Format detection: binary or text from the first bytes, nothing lost across the decision."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_bridge.errors import ProtocolError, UsageError
from firmware_bridge.protocol import frames as fr
from firmware_bridge.protocol.binary import BinaryDecoder
from firmware_bridge.protocol.detect import DETECT_LIMIT, NO_FORMAT_MESSAGE, AutoDecoder
from firmware_bridge.protocol.text import TextDecoder, TextOptions
from firmware_bridge.readings import DeviceInfo, Reading, SampleBatch

FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
INFO = DeviceInfo(device_id="PG-DETECT", firmware="1.0.0", adc="HX711", rate_hz=80.0)


def binary_stream(n_frames: int = 30, sync: bool = True) -> bytes:
    """What a tool sends after power-up: 0x00, INFO, then SAMPLES of 4 with a button press."""
    out = bytearray(b"\x00" if sync else b"")
    out += fr.frame_serial(fr.build_body(fr.FrameType.INFO, 0, 0, INFO.to_json().encode()))
    for i in range(1, n_frames):
        if i == 10:
            body = fr.build_body(fr.FrameType.BUTTON, i, i * 50_000, fr.button_payload(True))
        else:
            raw = [i * 10 + k for k in range(4)]
            body = fr.build_body(
                fr.FrameType.SAMPLES, i, i * 50_000, fr.samples_payload(12_500, raw)
            )
        out += fr.frame_serial(body)
    return bytes(out)


TEXT = (
    b"ading: 8388\r\nHX711 Demo\r\nInitializing the scale\r\n"
    + b"".join(b"HX711 reading: %d\r\n" % (1000 + i) for i in range(40))
    + b"Readings:\r\n"
    + b"".join(b"one reading:\t%d.5\t| average:\t0.02340\r\n" % i for i in range(20))
)


def chunks_of(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in itertools.pairwise([0, *points, len(data)]) if b > a]


def feed_all(dec: AutoDecoder | BinaryDecoder | TextDecoder, chunks: list[bytes]) -> list[Reading]:
    out: list[Reading] = []
    for i, c in enumerate(chunks):
        out += dec.feed(c, 1.0 + 0.01 * i)
    return out


def same(a: list[Reading], b: list[Reading]) -> bool:
    """Readings equal, comparing arrays by value."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if isinstance(x, SampleBatch) and isinstance(y, SampleBatch):
            if not (
                np.array_equal(x.t, y.t)
                and np.array_equal(x.raw, y.raw, equal_nan=True)
                and (x.force_n is None) == (y.force_n is None)
                and x.period_s == y.period_s
            ):
                return False
        elif x != y:
            return False
    return True


def test_binary_stream_is_detected_at_the_first_frame() -> None:
    dec = AutoDecoder()
    assert dec.format == "unknown"
    out = dec.feed(binary_stream(), 1.0)
    assert dec.format == "binary"
    assert out[0] == INFO
    assert dec.stats.frames == 30 and dec.stats.bad_frames == 0


def test_binary_joined_mid_stream_is_detected() -> None:
    data = binary_stream()[57:]
    dec = AutoDecoder()
    out = dec.feed(data, 1.0)
    assert dec.format == "binary"
    assert same(out, BinaryDecoder().feed(data, 1.0))


def test_text_stream_is_detected_and_nothing_is_lost() -> None:
    dec = AutoDecoder()
    out = dec.feed(TEXT, 1.0)
    assert dec.format == "text"
    assert same(out, TextDecoder().feed(TEXT, 1.0))
    assert dec.stats.skipped_bytes == len(b"ading: 8388")  # the torn first line
    assert dec.stats.samples == 60


def test_text_detected_across_small_chunks_keeps_every_line() -> None:
    dec = AutoDecoder(text=TextOptions(unit="g"))
    chunks = [TEXT[i : i + 7] for i in range(0, len(TEXT), 7)]
    got = feed_all(dec, chunks)
    want = feed_all(TextDecoder(TextOptions(unit="g")), chunks)
    assert dec.format == "text" and same(got, want)
    assert all(b.force_n is not None for b in got if isinstance(b, SampleBatch))


def test_at_stream_start_is_passed_on() -> None:
    data = b"HX711 reading: 1\nHX711 reading: 2\nHX711 reading: 3\n"
    dec = AutoDecoder(at_stream_start=True)
    out = dec.feed(data, 1.0)
    assert [v for b in out if isinstance(b, SampleBatch) for v in b.raw] == [1.0, 2.0, 3.0]


def test_until_decided_stats_show_held_bytes() -> None:
    dec = AutoDecoder()
    assert dec.feed(b"HX711 rea", 1.0) == []
    assert dec.format == "unknown" and dec.decoder is None
    assert dec.stats.skipped_bytes == 9 and dec.stats.frames == 0


@pytest.mark.parametrize(
    "junk",
    [
        bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8)),
        b"\xff" * 5000,
        b"\x00" * 5000,
        b"\xf0\x80" * 2500,  # what 115200 looks like read at the wrong rate
    ],
)
def test_junk_raises_protocol_error_within_4_kib(junk: bytes) -> None:
    dec = AutoDecoder()
    with pytest.raises(ProtocolError, match="wrong baud rate"):
        for i in range(0, len(junk), 100):
            dec.feed(junk[i : i + 100], 1.0)
    assert DETECT_LIMIT <= dec.stats.skipped_bytes < DETECT_LIMIT + 100  # gave up at 4 KiB
    with pytest.raises(ProtocolError) as again:
        dec.feed(b"HX711 reading: 1\n", 2.0)
    assert str(again.value) == NO_FORMAT_MESSAGE


def test_junk_in_one_big_chunk_raises() -> None:
    with pytest.raises(ProtocolError):
        AutoDecoder().feed(b"\x01\x02" * 4000, 1.0)


def test_long_garbage_line_is_not_text() -> None:
    dec = AutoDecoder()
    with pytest.raises(ProtocolError):
        dec.feed(b"x" * 5000 + b"\n", 1.0)


def test_forced_binary_skips_detection() -> None:
    dec = AutoDecoder("binary")
    assert dec.format == "binary"
    assert dec.feed(TEXT[:100], 1.0) == []  # text is not frames: no readings, no exception
    assert dec.format == "binary"


def test_forced_text_skips_detection() -> None:
    dec = AutoDecoder("text", at_stream_start=True)
    assert dec.format == "text"
    out = dec.feed(b"5\n", 1.0)  # one line is enough when the format is given
    assert [v for b in out if isinstance(b, SampleBatch) for v in b.raw] == [5.0]
    with pytest.raises(ProtocolError, match="BLE"):
        dec.feed_body(b"\x01", 1.0)


def test_ble_bodies_are_binary() -> None:
    dec = AutoDecoder()
    body = fr.build_body(fr.FrameType.SAMPLES, 0, 0, fr.samples_payload(1000, [7, 8]))
    (batch,) = dec.feed_body(body, 1.0)
    assert dec.format == "binary"
    assert isinstance(batch, SampleBatch) and batch.raw.tolist() == [7.0, 8.0]


def test_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        AutoDecoder("csv")  # type: ignore[arg-type]


def test_empty_feed_is_harmless() -> None:
    dec = AutoDecoder()
    assert dec.feed(b"", 1.0) == [] and dec.format == "unknown"


@FAST
@given(st.lists(st.integers(0, 20_000), max_size=30), st.integers(0, 200))
def test_no_bytes_lost_across_binary_detection(cuts: list[int], skip: int) -> None:
    data = binary_stream()[skip:]
    chunks = chunks_of(data, cuts)
    auto = AutoDecoder()
    got = feed_all(auto, chunks)
    assert auto.format == "binary"
    direct = BinaryDecoder()
    assert same(got, feed_all(direct, chunks))
    assert auto.stats.as_dict() == direct.stats.as_dict()


@FAST
@given(st.lists(st.integers(0, 20_000), max_size=30), st.integers(0, 200), st.booleans())
def test_no_bytes_lost_across_text_detection(cuts: list[int], skip: int, start: bool) -> None:
    data = TEXT[skip:]
    chunks = chunks_of(data, cuts)
    auto = AutoDecoder(at_stream_start=start)
    got = feed_all(auto, chunks)
    assert auto.format == "text"
    direct = TextDecoder(at_stream_start=start)
    assert same(got, feed_all(direct, chunks))
    assert auto.stats.as_dict() == direct.stats.as_dict()
