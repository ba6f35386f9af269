"""Text-line decoder: real sketch output, options, faults, timing, chunking and corruption."""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_bridge.errors import UsageError
from firmware_bridge.protocol.text import (
    DEFAULT_PERIOD_S,
    GRAM_N,
    KG_N,
    LBF_N,
    MAX_LINE,
    TextDecoder,
    TextOptions,
)
from firmware_bridge.readings import Reading, SampleBatch

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decode(data: bytes, options: TextOptions | None = None, **kw: Any) -> tuple[TextDecoder, list]:
    dec = TextDecoder(options or TextOptions(), at_stream_start=kw.pop("at_stream_start", True))
    return dec, dec.feed(data, kw.pop("t", 1.0))


def values(readings: list[Reading]) -> list[tuple[str, float]]:
    """(kind, value) per sample: ('raw', counts) or ('N', newtons)."""
    out: list[tuple[str, float]] = []
    for r in readings:
        assert isinstance(r, SampleBatch) and not r.device_clock
        if r.force_n is None:
            out += [("raw", float(v)) for v in r.raw]
        else:
            assert np.isnan(r.raw).all()
            out += [("N", float(v)) for v in r.force_n]
    return out


def approx(pairs: list[tuple[str, float]]) -> list[tuple[str, Any]]:
    return [(k, pytest.approx(v, rel=1e-12, abs=1e-12)) for k, v in pairs]


# -- sketches -------------------------------------------------------------------------------

BOGDE_BASIC = b"HX711 reading: 123456\r\nHX711 reading: -8388608\r\nHX711 not found.\r\n"
BOGDE_FULL = (
    b"HX711 Demo\r\nInitializing the scale\r\nBefore setting up the scale:\r\n"
    b"read: \t\t8389082\r\nread average: \t\t8389055\r\nget value: \t\t8389089\r\n"
    b"get units: \t\t4194544.5\r\nAfter setting up the scale:\r\nReadings:\r\n"
    b"one reading:\t-0.1\t| average:\t0.02340\r\none reading:\t12.3\t| average:\t12.29999\r\n"
)
SPARKFUN = (
    b"HX711 calibration sketch\r\nRemove all weight from scale\r\n"
    b"Press + or a to increase calibration factor\r\n"
    b"Press - or z to decrease calibration factor\r\n"
    b"Zero factor: 8421246\r\nReading: 1.23 lbs calibration_factor: -7050\r\n"
    b"Reading: -0.0 lbs calibration_factor: -7060.00\r\n"
)
OLKAL = (
    b"\r\nStarting...\r\nStartup is complete\r\nLoad_cell output val: 123.45\r\n"
    b"Load_cell output val: -0.02\r\nTare complete\r\n"
    b"Timeout, check MCU>HX711 wiring and pin designations\r\n"
)
ROBTILLAART = b"HX711_LIB_VERSION: 0.5.0\nUNITS: 12.34\n12.34\n-1.5e2\n"


def test_bogde_basic_example() -> None:
    dec, out = decode(BOGDE_BASIC)
    assert values(out) == [("raw", 123456.0), ("raw", -8388608.0)]
    assert dec.stats.faults["no_number"] == 1  # "HX711 not found." (the 711 is not a reading)
    assert dec.stats.frames == dec.stats.samples == 2


def test_bogde_full_example_takes_the_first_number() -> None:
    dec, out = decode(BOGDE_FULL)
    assert values(out) == [
        ("raw", 8389082.0),
        ("raw", 8389055.0),
        ("raw", 8389089.0),
        ("raw", 4194544.5),
        ("raw", -0.1),
        ("raw", 12.3),
    ]
    assert dec.stats.faults["no_number"] == 5 and dec.stats.faults["invalid"] == 0


def test_sparkfun_calibration_lbs_is_pound_force() -> None:
    dec, out = decode(SPARKFUN)
    assert len(out) == 2  # counts, then force: separate batches in order
    assert approx(values(out)) == [("raw", 8421246), ("N", 1.23 * LBF_N), ("N", -0.0)]
    assert dec.stats.faults["no_number"] == 4


def test_olkal_read_1x_load_cell() -> None:
    dec, out = decode(OLKAL, TextOptions(unit="g"))
    assert approx(values(out)) == [("N", 123.45 * GRAM_N), ("N", -0.02 * GRAM_N)]
    assert dec.stats.faults["no_number"] == 5  # blank, banners, "MCU>HX711" timeout


def test_robtillaart_units_and_plain_numbers() -> None:
    dec, out = decode(ROBTILLAART)
    assert values(out) == [("raw", 12.34), ("raw", 12.34), ("raw", -150.0)]
    assert dec.stats.faults["no_number"] == 1  # a version string is not a reading


@pytest.mark.parametrize(
    ("label", "unit", "expected"),
    [("raw", "counts", ("raw", 845123.0)), ("weight", "kg", ("N", 12.3 * KG_N))],
)
def test_serial_plotter_labels(label: str, unit: str, expected: tuple[str, float]) -> None:
    data = b"weight:12.3,raw:845123\nWeight = 1, RAW= 7\nother:5\n"
    dec, out = decode(data, TextOptions(label=label, unit=unit))
    got = values(out)
    assert approx(got[:1]) == approx([expected])
    assert len(got) == 2  # labels are case-insensitive; "=" works like ":"
    assert dec.stats.faults["no_number"] == 1  # label missing: never another number instead


def test_label_must_be_a_whole_word() -> None:
    _, out = decode(b"rawx:5,raw:6\n", TextOptions(label="raw"))
    assert values(out) == [("raw", 6.0)]


def test_csv_millis_raw_with_field() -> None:
    dec, out = decode(b"millis,raw\n1234,8423987\n1246,-8423990\n1258\n", TextOptions(field=2))
    assert values(out) == [("raw", 8423987.0), ("raw", -8423990.0)]
    assert dec.stats.faults["no_number"] == 2  # header, and a line with one number only


def test_units_on_the_line_win_over_the_default() -> None:
    data = b"12.5 g\n0.250kg\n1.2 N\n3 n\n2 lb\n1 LBS\n4 lbf\n5 grams\n2 kgf\n6 counts\n7\n"
    _, out = decode(data, TextOptions(unit="N"))
    assert approx(values(out)) == [
        ("N", 12.5 * GRAM_N),
        ("N", 0.25 * KG_N),
        ("N", 1.2),
        ("N", 3.0),
        ("N", 2 * LBF_N),
        ("N", LBF_N),
        ("N", 4 * LBF_N),
        ("N", 5 * GRAM_N),
        ("N", 2 * KG_N),
        ("raw", 6.0),
        ("N", 7.0),
    ]
    assert [len(b) for b in out] == [9, 1, 1]


def test_unit_must_be_a_whole_word() -> None:
    _, out = decode(b"5 Newtons\n6 gx\n7kgs\n", TextOptions())
    # no known unit word: the default unit applies, or the number is glued to letters
    assert values(out) == [("raw", 5.0), ("raw", 6.0)]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"HX711 reading: 12345", 12345.0),
        (b"x=+5", 5.0),
        (b"-.5", -0.5),
        (b"7.", 7.0),
        (b"1e3 counts", 1000.0),
        (b"v1 2", 2.0),
        (b"a_1 3", 3.0),
        (b"12:34:56 -> 9", 12.0),
        (b"range 1-2", 1.0),
        ("µV: 4".encode(), 4.0),
    ],
)
def test_standalone_numbers(line: bytes, expected: float) -> None:
    _, out = decode(line + b"\n")
    assert values(out) == [("raw", expected)]


@pytest.mark.parametrize(
    "line", [b"HX711", b"a-5", b"1.2.3", b"v1.2", b"0x1F", b"Info:", b"---", b"", b"   "]
)
def test_no_standalone_number(line: bytes) -> None:
    dec, out = decode(line + b"\n")
    assert out == [] and dec.stats.faults["no_number"] == 1


@pytest.mark.parametrize(
    "line", [b"nan", b"-inf", b"INF g", b"ovf", b"1e999", b"a:\x01 5", b"\xb5V: 4", b"1\xff2 3"]
)
def test_nonfinite_and_control_lines_are_invalid(line: bytes) -> None:
    dec, out = decode(line + b"\nok 1\n")
    assert values(out) == [("raw", 1.0)]
    assert dec.stats.faults["invalid"] == 1 and dec.stats.faults["no_number"] == 0


def test_nan_first_is_not_skipped_for_a_later_number() -> None:
    dec, out = decode(b"reading: nan avg: 5\n")
    assert out == [] and dec.stats.faults["invalid"] == 1


# -- lines and chunks -------------------------------------------------------------------------


def test_torn_first_line_is_dropped_and_counted_as_skipped() -> None:
    dec, out = decode(b"ading: 123\nHX711 reading: 5\n", at_stream_start=False)
    assert values(out) == [("raw", 5.0)]
    assert dec.stats.skipped_bytes == len(b"ading: 123") and dec.stats.bad_frames == 0


def test_at_stream_start_keeps_the_first_line() -> None:
    _, out = decode(b"HX711 reading: 4\nHX711 reading: 5\n", at_stream_start=True)
    assert values(out) == [("raw", 4.0), ("raw", 5.0)]


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_line_endings(eol: bytes) -> None:
    data = eol.join([b"1", b"2", b"", b"3"]) + eol
    whole, out = decode(data)
    assert values(out) == [("raw", 1.0), ("raw", 2.0), ("raw", 3.0)]
    assert whole.stats.faults["no_number"] == 1  # the one blank line
    split = TextDecoder(at_stream_start=True)
    got = list(itertools.chain.from_iterable(split.feed(bytes([b]), 1.0) for b in data))
    assert values(got) == values(out)
    assert split.stats.as_dict() == whole.stats.as_dict()


def test_crlf_split_between_chunks_is_one_terminator() -> None:
    dec = TextDecoder(at_stream_start=True)
    assert values(dec.feed(b"1\r", 0.1)) == [("raw", 1.0)]
    assert values(dec.feed(b"\n2\r\n", 0.2)) == [("raw", 2.0)]
    assert dec.stats.bad_frames == 0


@pytest.mark.parametrize("pieces", [1, 7, 700])
def test_over_long_line_is_one_invalid(pieces: int) -> None:
    data = b"1 " * 500 + b"\n2\n"
    dec = TextDecoder(at_stream_start=True)
    size = -(-len(data) // pieces)
    out = [r for i in range(0, len(data), size) for r in dec.feed(data[i : i + size], 1.0)]
    assert values(out) == [("raw", 2.0)]
    assert dec.stats.faults["invalid"] == 1 and dec.stats.faults["no_number"] == 0


def test_line_of_exactly_max_length_is_accepted() -> None:
    line = b"7" + b" " * (MAX_LINE - 1)
    _, out = decode(line + b"\n")
    assert values(out) == [("raw", 7.0)]


@pytest.mark.parametrize("pieces", [1, 5])
def test_over_long_torn_first_line_is_skipped_bytes(pieces: int) -> None:
    data = b"x" * 2000 + b"\r\n3\n"
    dec = TextDecoder()
    size = -(-len(data) // pieces)
    out = [r for i in range(0, len(data), size) for r in dec.feed(data[i : i + size], 1.0)]
    assert values(out) == [("raw", 3.0)]
    assert dec.stats.skipped_bytes == 2000 and dec.stats.bad_frames == 0


# -- times ------------------------------------------------------------------------------------


def test_times_spread_between_feeds_and_period_estimate() -> None:
    dec = TextDecoder(at_stream_start=True)
    (first,) = dec.feed(b"1\n2\n3\n4\n", 10.0)
    assert isinstance(first, SampleBatch)
    np.testing.assert_allclose(first.t, 10.0 - DEFAULT_PERIOD_S * np.array([3, 2, 1, 0]))
    assert first.period_s == pytest.approx(DEFAULT_PERIOD_S)
    (second,) = dec.feed(b"5\n6\n", 10.1)
    assert isinstance(second, SampleBatch)
    np.testing.assert_allclose(second.t, [10.05, 10.1])
    assert second.period_s == pytest.approx(DEFAULT_PERIOD_S + 0.2 * (0.05 - DEFAULT_PERIOD_S))
    assert dec.feed(b"7", 10.2) == []
    (third,) = dec.feed(b"\n8\n", 10.3)  # spread since the previous feed, not the previous line
    assert isinstance(third, SampleBatch)
    np.testing.assert_allclose(third.t, [10.25, 10.3])


def test_times_never_go_back_when_the_host_clock_does() -> None:
    dec = TextDecoder(at_stream_start=True)
    dec.feed(b"1\n", 5.0)
    (batch,) = dec.feed(b"2\n3\n", 4.0)
    assert isinstance(batch, SampleBatch)
    assert (batch.t >= 5.0).all() and (np.diff(batch.t) >= 0).all()


def test_options_are_validated() -> None:
    for bad in (
        {"field": 0},
        {"label": " "},
        {"field": 2, "label": "raw"},
        {"unit": "furlong"},
    ):
        with pytest.raises(UsageError):
            TextOptions(**bad)
    assert TextOptions(unit="lbs").canonical_unit == "lbf"
    assert TextOptions(unit="n").canonical_unit == "N"


def test_a_hundred_thousand_lines_in_one_block_decode_exactly() -> None:
    # speed is measured by `make bench` (benchmarks/pipeline.py), not asserted here
    rng = np.random.default_rng(0)
    counts = rng.integers(-(1 << 23), 1 << 23, 100_000)
    data = b"".join(b"HX711 reading: %d\r\n" % v for v in counts)
    dec = TextDecoder(at_stream_start=True)
    out = dec.feed(data, 100.0)
    assert np.concatenate([b.raw for b in out if isinstance(b, SampleBatch)]).tolist() == (
        counts.astype(float).tolist()
    )


# -- properties -------------------------------------------------------------------------------

EOLS = [b"\n", b"\r\n", b"\r"]


@st.composite
def text_lines(draw: st.DrawFn) -> list[tuple[bytes, tuple[str, float] | str]]:
    """Lines with what each must give: (kind, value), 'no_number' or 'invalid'."""
    n = draw(st.integers(1, 30))
    lines: list[tuple[bytes, tuple[str, float] | str]] = []
    for i in range(n):
        v = draw(st.integers(-(1 << 23), (1 << 23) - 1))
        kind = draw(st.sampled_from(["hx", "hx", "g", "lbs", "plain", "banner", "blank", "nan"]))
        if kind == "hx":
            lines.append((b"HX711 reading: %d" % (v * 100 + i), ("raw", float(v * 100 + i))))
        elif kind == "g":
            lines.append((b"%d.5 g" % v, ("N", (v + 0.5 if v >= 0 else v - 0.5) * GRAM_N)))
        elif kind == "lbs":
            lines.append((b"Reading: %d lbs calibration_factor: -7050" % v, ("N", v * LBF_N)))
        elif kind == "plain":
            lines.append((b"%d" % v, ("raw", float(v))))
        elif kind == "banner":
            lines.append((b"HX711 Demo", "no_number"))
        elif kind == "blank":
            lines.append((b"", "no_number"))
        else:
            lines.append((b"one reading:\tnan\t| average:\t1.0", "invalid"))
    return lines


def join(lines: list[tuple[bytes, Any]], eols: list[int]) -> tuple[bytes, list[tuple[int, int]]]:
    """The stream and each line's span [start, last terminator byte]."""
    out = bytearray()
    spans = []
    prev = b""
    for (line, _), e in zip(lines, itertools.cycle(eols or [0]), strict=False):
        eol = EOLS[e]
        if prev == b"\r" and not line and eol == b"\n":
            eol = b"\r\n"  # "\r" then "\n" would read as one terminator
        spans.append((len(out), len(out) + len(line) + len(eol) - 1))
        out += line + eol
        prev = eol
    return bytes(out), spans


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in itertools.pairwise([0, *points, len(data)]) if b > a]


@FAST
@given(text_lines(), st.lists(st.integers(0, 2), max_size=5), st.lists(st.integers(0, 9999)))
def test_any_chunking_gives_the_same_values(lines: list, eols: list[int], cuts: list[int]) -> None:
    data, _ = join(lines, eols)
    whole, out = decode(data, t=50.0)
    expected = [want for _, want in lines if isinstance(want, tuple)]
    assert approx(values(out)) == approx(expected)
    assert whole.stats.faults["no_number"] == sum(w == "no_number" for _, w in lines)
    assert whole.stats.faults["invalid"] == sum(w == "invalid" for _, w in lines)
    assert whole.stats.frames == whole.stats.samples == len(expected)  # every line accounted for
    split = TextDecoder(at_stream_start=True)
    got: list[Reading] = []
    t_prev = 0.0
    for i, chunk in enumerate(chunked(data, cuts)):
        t_host = 1.0 + 0.01 * i
        new = split.feed(chunk, t_host)
        for r in new:
            assert isinstance(r, SampleBatch)
            assert (r.t <= t_host).all() and (r.t > t_prev).all() and (np.diff(r.t) >= 0).all()
        if new:
            t_prev = max(r.t[-1] for r in new if isinstance(r, SampleBatch))
        got += new
    assert values(got) == values(out)
    assert split.stats.as_dict() == whole.stats.as_dict()


@FAST
@given(
    text_lines(),
    st.lists(
        st.tuples(
            st.sampled_from(["flip", "insert", "delete"]),
            st.integers(0, 5000),
            st.binary(min_size=1, max_size=80),
        ),
        min_size=1,
        max_size=6,
    ),
    st.lists(st.integers(0, 9999), max_size=10),
)
def test_corruption_never_raises_and_intact_lines_survive(
    lines: list, ops: list[tuple[str, int, bytes]], cuts: list[int]
) -> None:
    data, spans = join(lines, [1])
    bad = bytearray()
    touched: list[int] = []
    plan = {pos % (len(data) + 1): (kind, extra) for kind, pos, extra in ops}
    for i in range(len(data) + 1):
        kind, extra = plan.get(i, ("", b""))
        if kind == "insert":
            bad += extra
        if i == len(data):
            break
        if kind == "flip":
            bad.append(data[i] ^ (extra[0] or 1))
        elif kind != "delete":
            bad.append(data[i])
        if kind:
            touched.append(i)
    dec = TextDecoder(at_stream_start=True)
    got: list[Reading] = []
    for chunk in chunked(bytes(bad), cuts):
        got += dec.feed(chunk, 1.0)
    # A line is intact when nothing touched it or the terminator before it (CRLF: both bytes).
    decoded = {v for k, v in values(got) if k == "raw"}
    for (line, want), (start, end) in zip(lines, spans, strict=True):
        lo = max(0, start - 2)
        if (
            isinstance(want, tuple)
            and want[0] == "raw"
            and not any(lo <= p <= end for p in touched)
        ):
            assert want[1] in decoded, line


def test_a_number_beyond_float_range_is_an_invalid_line_without_a_warning() -> None:
    """Found by the atheris text fuzzer: ``1e999`` made numpy print "overflow encountered in
    cast" on the user's terminal; it is an invalid line, counted, and nothing is printed."""
    decoder = TextDecoder(TextOptions(), at_stream_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        readings = list(decoder.feed(b"5\n1e999\n-1e400\n7\n", 1.0))
    values = np.concatenate([r.raw for r in readings if isinstance(r, SampleBatch)])
    assert values.tolist() == [5.0, 7.0]
    assert decoder.stats.faults["invalid"] == 2
