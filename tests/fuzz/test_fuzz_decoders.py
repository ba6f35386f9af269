"""Fuzzing the wire decoders: protocol v1 (binary), HX711 text lines and the Progressor protocol.

A decoder never raises on what a tool (or line noise) sends: every input ends as readings or as a
counted fault of a known kind. Checked on every case: the readings are well formed (finite times,
sample arrays of one length, finite force), the counters only grow, and the decoder's own buffer
stays within its bound however long the input runs without a delimiter or line end.
"""

from __future__ import annotations

import itertools
import json
import math
import struct

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from firmware_bridge.claims import checked_info
from firmware_bridge.errors import UsageError
from firmware_bridge.protocol import progressor
from firmware_bridge.protocol.binary import MAX_ENCODED, BinaryDecoder
from firmware_bridge.protocol.detect import AutoDecoder
from firmware_bridge.protocol.frames import (
    MAX_INFO_PAYLOAD,
    FrameType,
    build_body,
    frame_serial,
    samples_payload,
    status_payload,
)
from firmware_bridge.protocol.text import MAX_ABS_VALUE, MAX_LINE, TextDecoder, TextOptions
from firmware_bridge.readings import (
    FAULT_KINDS,
    ButtonEvent,
    ClockReset,
    DecoderStats,
    DeviceInfo,
    DeviceStatus,
    SampleBatch,
)
from tests.fuzz.conftest import Tally, fuzz_settings

I32 = (-(2**31), 2**31 - 1)

# -- shared checks ---------------------------------------------------------------------------------


def check_reading(reading: object) -> None:
    """One reading, well formed."""
    if isinstance(reading, SampleBatch):
        n = len(reading)
        assert n >= 1
        assert reading.t.dtype == np.float64 and reading.raw.shape == (n,)
        assert np.isfinite(reading.t).all()
        finite_raw = reading.raw[np.isfinite(reading.raw)]
        if reading.device_clock and reading.force_n is None:  # protocol v1: i32 counts
            assert ((finite_raw >= I32[0]) & (finite_raw <= I32[1])).all()
        if reading.force_n is None:
            assert np.isfinite(reading.raw).all()
        else:
            assert reading.force_n.shape == (n,) and np.isfinite(reading.force_n).all()
        period = reading.period_s
        assert period is None or (math.isfinite(period) and period > 0)
    elif isinstance(reading, DeviceInfo):
        assert isinstance(reading.device_id, str)
        info, faults = checked_info(reading)  # what the bridge does with it next
        for value in (info.rate_hz, info.counts_per_n, info.capacity_n, info.tip_area_cm2):
            assert value is None or math.isfinite(value)
        assert all(f.message and "\n" not in f.message for f in faults)
    elif isinstance(reading, ButtonEvent | DeviceStatus | ClockReset):
        assert math.isfinite(reading.t)
    else:
        raise AssertionError(f"unexpected reading {reading!r}")


def check_stats(stats: DecoderStats, before: dict[str, int]) -> dict[str, int]:
    """Known fault kinds only, and no counter ever goes down."""
    assert set(stats.faults) <= set(FAULT_KINDS)
    now = {
        "frames": stats.frames,
        "samples": stats.samples,
        "lost": stats.lost_frames,
        "skipped": stats.skipped_bytes,
        **stats.faults,
    }
    for key, value in now.items():
        assert value >= before.get(key, 0), key
    return now


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` split at the given cut points (in any order, any number)."""
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


# -- protocol v1 -----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
INFO_KEYS = ["device_id", "firmware", "adc", "rate_hz", "capacity_n", "counts_per_n",
             "offset_counts", "tip_area_cm2", "extra"]  # fmt: skip


@st.composite
def info_payloads(draw: st.DrawFn) -> bytes:
    """INFO payloads: plausible JSON objects with hostile values, or any JSON, or any bytes."""
    kind = draw(st.integers(0, 2))
    if kind == 0:
        obj = draw(st.dictionaries(st.sampled_from(INFO_KEYS), json_values, max_size=8))
        text = json.dumps(obj, allow_nan=True)
    elif kind == 1:
        text = json.dumps(draw(json_values), allow_nan=True)
    else:
        return draw(st.binary(max_size=MAX_INFO_PAYLOAD + 20))
    return text.encode()[: draw(st.integers(0, MAX_INFO_PAYLOAD + 20))]


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """Bodies with a valid CRC (so they reach the parsers) of every type, sane or not."""
    ftype = draw(st.sampled_from([1, 1, 1, 2, 2, 3, 4, 0x81, 0x83, 0, 0xFF]))
    seq = draw(st.sampled_from([0, 1, 2, 0xFFFF, 0x8000]) | st.integers(0, 0xFFFF))
    t_us = draw(st.sampled_from([0, 2**32 - 1, 2**31]) | st.integers(0, 2**32 - 1))
    if ftype == FrameType.SAMPLES and draw(st.booleans()):
        raw = draw(st.lists(st.integers(*I32), min_size=1, max_size=32))
        payload = samples_payload(draw(st.integers(0, 0xFFFF)), raw)
    elif ftype == FrameType.INFO:
        payload = draw(info_payloads())
    elif ftype == FrameType.STATUS and draw(st.booleans()):
        payload = status_payload(draw(st.integers(0, 0xFFFF)), draw(st.booleans()))
    else:
        payload = draw(st.binary(max_size=160))
    body = build_body(ftype, seq, t_us, payload)
    if draw(st.integers(0, 9)) == 0:
        body = bytes([draw(st.integers(0, 255))]) + body[1:]  # another version (CRC now wrong)
    return body


@st.composite
def mutated_streams(draw: st.DrawFn) -> bytes:
    """Valid-looking serial streams, then bytes flipped, inserted, dropped, cut."""
    stream = bytearray(b"".join(frame_serial(b) for b in draw(st.lists(bodies(), max_size=12))))
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.integers(0, 3))
        at = draw(st.integers(0, len(stream)))
        if op == 0 and stream:
            stream[at % len(stream)] ^= 1 << draw(st.integers(0, 7))
        elif op == 1:
            stream[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == 2:
            del stream[at : at + draw(st.integers(1, 8))]
        else:
            stream[at:at] = b"\x00"
    if draw(st.integers(0, 9)) == 0:
        stream += b"\x55" * draw(st.integers(MAX_ENCODED, 4 * MAX_ENCODED))  # no delimiter, ever
    return bytes(stream)


@given(
    stream=st.one_of(st.binary(max_size=2000), mutated_streams()),
    cuts=st.lists(st.integers(0, 10_000), max_size=12),
)
@fuzz_settings()
def test_binary_stream(stream: bytes, cuts: list[int], tally: Tally) -> None:
    tally()
    binary_stream_case(stream, cuts)


def binary_stream_case(stream: bytes, cuts: list[int]) -> None:
    """A serial stream in chunks: readings well formed, counters growing, the buffer bounded."""
    decoder = BinaryDecoder()
    counters: dict[str, int] = {}
    for chunk in chunked(stream, cuts):
        for reading in decoder.feed(chunk):
            check_reading(reading)
        counters = check_stats(decoder.stats, counters)
        assert len(decoder._buf) <= MAX_ENCODED  # bounded: never grows with the input


@given(body_list=st.lists(st.one_of(bodies(), st.binary(max_size=300)), max_size=16))
@fuzz_settings()
def test_binary_bodies(body_list: list[bytes], tally: Tally) -> None:
    """BLE notifications: one body each, no COBS."""
    tally()
    binary_bodies_case(body_list)


def binary_bodies_case(body_list: list[bytes]) -> None:
    """Bodies fed one at a time (as BLE delivers them): readings well formed."""
    decoder = BinaryDecoder()
    counters: dict[str, int] = {}
    for body in body_list:
        for reading in decoder.feed_body(body):
            check_reading(reading)
        counters = check_stats(decoder.stats, counters)


@given(
    stream=st.one_of(st.binary(max_size=1500), mutated_streams()),
    cuts=st.lists(st.integers(0, 10_000), max_size=8),
    fmt=st.sampled_from(["auto", "binary", "text"]),
)
@fuzz_settings()
def test_detecting_decoder(stream: bytes, cuts: list[int], fmt: str, tally: Tally) -> None:
    """``--format auto`` deciding between binary and text on hostile input."""
    tally()
    detecting_case(stream, cuts, fmt)


def detecting_case(stream: bytes, cuts: list[int], fmt: str) -> None:
    """The detecting decoder in chunks: readings well formed, faults of known kinds."""
    decoder = AutoDecoder(fmt, TextOptions())
    t = 0.0
    for chunk in chunked(stream, cuts):
        t += 0.01
        for reading in decoder.feed(chunk, t):
            check_reading(reading)
        assert set(decoder.stats.faults) <= set(FAULT_KINDS)


# -- text lines ------------------------------------------------------------------------------------

numbers = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "inf", "-inf", "ovf", "1e999", "-0", ".5", "5.", "1e-400", "0x1F"]),
)
words = st.sampled_from(["g", "kg", "N", "lbs", "counts", "grams", "HX711", "reading:", "w=",
                         "weight:", ",", "\t", " ", ":", "=", "é", "\x00", "\x1b[2J",
                         "\xff"])  # fmt: skip
line_text = st.lists(st.one_of(numbers, words, st.text(max_size=6)), max_size=8).map(" ".join)
terminators = st.sampled_from([b"\n", b"\r\n", b"\r", b"\n\r"])


@st.composite
def text_streams(draw: st.DrawFn) -> bytes:
    """Lines an HX711 sketch (or a noisy cable, or the wrong baud rate) might send."""
    out = bytearray()
    for _ in range(draw(st.integers(0, 30))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            out += draw(st.binary(max_size=40))
        elif kind == 1:
            out += b"7" * draw(st.integers(MAX_LINE - 2, MAX_LINE + 40))
        else:
            out += draw(line_text).encode("utf-8", "surrogatepass")
        out += draw(terminators)
    return bytes(out)


text_options = st.one_of(
    st.builds(TextOptions, unit=st.sampled_from(["counts", "g", "kg", "N", "lbf", "LBF"])),
    st.builds(TextOptions, field=st.integers(1, 6)),
    st.builds(TextOptions, label=st.sampled_from(["weight", "w", "HX711", "a.b", "(x)", "é"])),
)


@given(
    stream=st.one_of(text_streams(), st.binary(max_size=1500)),
    cuts=st.lists(st.integers(0, 10_000), max_size=10),
    times=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=10),
    options=text_options,
    at_start=st.booleans(),
)
@fuzz_settings()
def test_text_lines(
    stream: bytes,
    cuts: list[int],
    times: list[float],
    options: TextOptions,
    at_start: bool,
    tally: Tally,
) -> None:
    """Any bytes, any chunking, arrival times that may even run backwards."""
    tally()
    text_lines_case(stream, cuts, times, options, at_start)


def text_lines_case(
    stream: bytes, cuts: list[int], times: list[float], options: TextOptions, at_start: bool
) -> None:
    """Text lines in chunks: values bounded, times never backwards, the tail bounded."""
    decoder = TextDecoder(options, at_stream_start=at_start)
    counters: dict[str, int] = {}
    last_t = -math.inf
    for i, chunk in enumerate(chunked(stream, cuts)):
        for reading in decoder.feed(chunk, times[i % len(times)]):
            check_reading(reading)
            values = reading.raw if reading.force_n is None else reading.force_n
            assert (np.abs(values) <= MAX_ABS_VALUE).all()
            assert isinstance(reading, SampleBatch) and not reading.device_clock
            assert reading.t[0] >= last_t and (np.diff(reading.t) >= 0).all()  # never backwards
            last_t = float(reading.t[-1])
        counters = check_stats(decoder.stats, counters)
        assert len(decoder._tail) <= MAX_LINE
        assert math.isfinite(decoder.period_s)


@given(
    field=st.one_of(st.none(), st.integers(-5, 10)),
    label=st.one_of(st.none(), st.text(max_size=8)),
    unit=st.text(max_size=6),
)
@fuzz_settings()
def test_text_options(field: int | None, label: str | None, unit: str, tally: Tally) -> None:
    """``--text-field``, ``--text-label``, ``--text-unit``: valid, or one clear line."""
    tally()
    text_options_case(field, label, unit)


def text_options_case(field: int | None, label: str | None, unit: str) -> None:
    """Options accepted (and a decoder built on them works), or refused in one line."""
    try:
        options = TextOptions(field=field, label=label, unit=unit)
    except UsageError as exc:
        assert "\n" not in str(exc) and str(exc)
        return
    TextDecoder(options).feed(b"1\n2 g\nw: 3\n", 1.0)


# -- Progressor ------------------------------------------------------------------------------------

floats32 = st.floats(width=32, allow_nan=True, allow_infinity=True)


@st.composite
def notifications(draw: st.DrawFn) -> bytes:
    """Data-point notifications: weights (some non-finite, clocks that step back or wrap),
    answers, low battery, unknown codes, torn or padded."""
    code = draw(st.sampled_from([0, 1, 1, 1, 4, 2, 3, 255]))
    if code == 1 and draw(st.booleans()):
        pairs = draw(st.lists(st.tuples(floats32, st.integers(0, 2**32 - 1)), max_size=20))
        payload = b"".join(struct.pack("<fI", kg, us) for kg, us in pairs)
    else:
        payload = draw(st.binary(max_size=255))
    length = len(payload) if draw(st.integers(0, 3)) else draw(st.integers(0, 255))
    data = bytes([code, length % 256]) + payload
    if draw(st.integers(0, 5)) == 0:
        data = data[: draw(st.integers(0, len(data)))]  # torn
    return data


requests = st.one_of(
    st.none(),
    st.sampled_from([progressor.command(c) for c in progressor.Command]),
    st.binary(max_size=3),
)


@given(notes=st.lists(st.tuples(notifications(), requests), max_size=30))
@fuzz_settings()
def test_progressor_notifications(notes: list[tuple[bytes, bytes | None]], tally: Tally) -> None:
    tally()
    progressor_case(notes)


def progressor_case(notes: list[tuple[bytes, bytes | None]]) -> None:
    """Notifications, each after the request (if any) that preceded it: readings well formed."""
    decoder = progressor.ProgressorDecoder()
    counters: dict[str, int] = {}
    for data, request in notes:
        for item in decoder.feed(data, 0.0, request):
            if isinstance(item, progressor.Reply):
                assert isinstance(item.what, str) and isinstance(item.value, str)
            else:
                check_reading(item)
        counters = check_stats(decoder.stats, counters)
        assert math.isfinite(decoder.last_t)
