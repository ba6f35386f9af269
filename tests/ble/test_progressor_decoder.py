"""The Progressor decoder: several samples per notification, the u32 wrap, the signed-parse
pitfall, command answers by the request in flight, and faults counted, never raised."""

from __future__ import annotations

import struct

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.protocol import progressor as pr
from firmware_bridge.protocol.progressor import Command, ProgressorDecoder, Reply
from firmware_bridge.readings import ClockReset, DeviceStatus, SampleBatch

U32 = 1 << 32


def batches(readings: list) -> list[SampleBatch]:
    return [r for r in readings if isinstance(r, SampleBatch)]


def test_two_samples_per_notification_are_force_in_newtons_on_the_device_clock() -> None:
    decoder = ProgressorDecoder()
    (batch,) = decoder.feed(pr.weight_notification([(1.5, 1_000_000), (2.0, 1_012_500)]))
    assert isinstance(batch, SampleBatch)
    assert batch.t.tolist() == [1.0, 1.0125]
    assert np.allclose(batch.force_n, [1.5 * 9.80665, 2.0 * 9.80665])
    assert np.isnan(batch.raw).all()  # no counts: the bridge takes the force as calibrated
    assert batch.device_clock
    assert batch.period_s == 0.0125
    assert decoder.stats.samples == 2 and decoder.stats.frames == 1


def test_timestamps_past_2_31_stay_positive() -> None:
    # Read as signed ("<fl", PyTindeq), 2³¹ µs and more turn negative after 35.8 minutes.
    stamps = [2**31 - 12_500, 2**31, 2**31 + 12_500]
    (batch,) = ProgressorDecoder().feed(pr.weight_notification([(1.0, s) for s in stamps]))
    assert batch.t.tolist() == [s / 1e6 for s in stamps]
    assert (batch.t > 0).all()


def test_the_u32_wrap_is_unwrapped_into_continuous_time() -> None:
    decoder = ProgressorDecoder()
    first = batches(decoder.feed(pr.weight_notification([(0.5, U32 - 12_500), (0.5, 0)])))
    later = batches(decoder.feed(pr.weight_notification([(0.5, 12_500), (0.5, 25_000)])))
    t = np.concatenate([b.t for b in first + later])
    assert np.allclose(np.diff(t), 0.0125)
    assert t[-1] == (U32 + 25_000) / 1e6


def test_a_big_step_back_is_a_restarted_measurement() -> None:
    decoder = ProgressorDecoder()
    decoder.feed(pr.weight_notification([(1.0, 60_000_000)]))
    out = decoder.feed(pr.weight_notification([(1.0, 50_000), (1.0, 62_500)]))
    assert isinstance(out[0], ClockReset)
    assert out[1].t.tolist() == [0.05, 0.0625]


def test_answers_take_their_meaning_from_the_request() -> None:
    decoder = ProgressorDecoder()
    ask = pr.command
    (status,) = decoder.feed(pr.battery_response(3987), request=ask(Command.GET_BATTERY_VOLTAGE))
    assert isinstance(status, DeviceStatus) and status.battery_mv == 3987
    assert not status.saturated and not status.adc_fault
    assert decoder.feed(pr.id_response(0x1A2B3C), request=ask(Command.GET_PROGRESSOR_ID)) == [
        Reply("id", "1A2B3C")
    ]
    version = decoder.feed(pr.text_response("1.2.3"), request=ask(Command.GET_APP_VERSION))
    assert version == [Reply("version", "1.2.3")]
    assert decoder.feed(pr.notification(pr.Code.LOW_POWER, b"")) == [Reply("low_power")]
    assert decoder.feed(pr.text_response("unasked")) == []  # an answer nobody waits for
    assert decoder.stats.bad_frames == 0


def test_encoders_match_the_wire_format() -> None:
    assert pr.command(Command.START_WEIGHT_MEAS) == b"\x65"
    assert pr.command(Command.STOP_WEIGHT_MEAS) == b"\x66"
    assert pr.command(Command.TARE_SCALE) == b"\x64"
    assert pr.battery_response(4000) == b"\x00\x04" + struct.pack("<I", 4000)
    assert pr.id_response(0x0102) == b"\x00\x02\x02\x01"  # u64 LE, trailing zeros left out
    one = pr.weight_notification([(2.5, 7)])
    assert one == b"\x01\x08" + struct.pack("<fI", 2.5, 7)


def test_torn_and_garbled_notifications_are_counted() -> None:
    decoder = ProgressorDecoder()
    whole = pr.weight_notification([(1.0, 100), (1.0, 12_600)])
    assert decoder.feed(whole[:-3]) == []  # torn: fewer bytes than announced
    assert decoder.feed(b"\x01") == []  # no length byte
    assert decoder.feed(b"\x01\x07" + bytes(7)) == []  # not whole samples
    assert decoder.feed(b"\x01\x00") == []  # no samples at all
    assert decoder.feed(b"\x09\x01\x00") == []  # a code nobody knows
    nan = pr.notification(pr.Code.WEIGHT, struct.pack("<fI", float("nan"), 5))
    assert decoder.feed(nan) == []
    assert decoder.feed(pr.battery_response(1)[:3], request=b"\x6f") == []
    faults = decoder.stats.faults
    assert (faults["length"], faults["type"], faults["invalid"]) == (5, 1, 1)
    assert decoder.stats.samples == 0


def test_padding_after_the_announced_length_is_ignored() -> None:
    (batch,) = ProgressorDecoder().feed(pr.weight_notification([(3.0, 10)]) + b"\x00\x00")
    assert batch.t.tolist() == [1e-5]


samples = st.lists(
    st.tuples(
        st.floats(-200, 200, allow_nan=False, width=32),
        st.integers(1, 200_000),  # step to the next sample, µs
    ),
    min_size=1,
    max_size=80,
)


@settings(max_examples=150, deadline=None)
@given(samples, st.integers(0, U32 - 1), st.integers(1, 31))
def test_any_stream_decodes_to_what_was_sent(
    pairs: list[tuple[float, int]], start: int, per_packet: int
) -> None:
    steps = np.array([s for _, s in pairs], dtype=np.int64)
    unwrapped = start + np.cumsum(steps) - steps[0]
    kg = [k for k, _ in pairs]
    decoder = ProgressorDecoder()
    got_t: list[float] = []
    got_f: list[float] = []
    for i in range(0, len(pairs), per_packet):
        stamps = unwrapped[i : i + per_packet].tolist()
        chunk = list(zip(kg[i : i + per_packet], stamps, strict=True))
        for batch in batches(decoder.feed(pr.weight_notification(chunk))):
            got_t += batch.t.tolist()
            got_f += batch.force_n.tolist()
    assert np.allclose(got_t, unwrapped / 1e6, rtol=0, atol=1e-9)
    assert np.allclose(got_f, np.array(kg, dtype=np.float32).astype(np.float64) * 9.80665)
    assert decoder.stats.bad_frames == 0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=20), st.sampled_from([None, b"\x6f", b"\x70"]))
def test_garbage_never_raises_and_every_notification_is_counted(
    values: list[bytes], request: bytes | None
) -> None:
    decoder = ProgressorDecoder()
    for value in values:
        before = decoder.stats.frames + decoder.stats.bad_frames
        decoder.feed(value, request=request)
        assert decoder.stats.frames + decoder.stats.bad_frames > before
