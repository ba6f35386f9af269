"""The virtual tools ``ble-sim`` serves: seeded, independent of timing, answering like the real
ones."""

from __future__ import annotations

import numpy as np

from firmware_bridge.ble.virtual_tools import PressureGuardModel, ProgressorModel
from firmware_bridge.protocol import frames
from firmware_bridge.protocol import progressor as pr
from firmware_bridge.protocol.binary import BinaryDecoder
from firmware_bridge.protocol.frames import FrameType
from firmware_bridge.protocol.progressor import Command, ProgressorDecoder
from firmware_bridge.readings import DeviceInfo, SampleBatch
from firmware_bridge.sources.sim_model import SimConfig


def test_our_tool_sends_the_simulators_bodies_whatever_the_slicing() -> None:
    config = SimConfig(seed=4, rate_hz=1000.0)
    whole = PressureGuardModel(config).due(2.0)
    sliced_model = PressureGuardModel(config)
    sliced = [b for t in np.arange(0.05, 2.0001, 0.05) for b in sliced_model.due(float(t))]
    assert whole == sliced
    decoder = BinaryDecoder()
    readings = [r for body in whole for r in decoder.feed_body(body)]
    assert decoder.stats.bad_frames == 0 and decoder.stats.lost_frames == 0
    assert isinstance(readings[0], DeviceInfo)
    samples = sum(len(r) for r in readings if isinstance(r, SampleBatch))
    assert samples == 2000  # 1 kHz, sent once each frame of 25 is complete
    assert all(len(b) <= frames.MAX_BODY for b in whole)  # each fits one notification at MTU 247


def test_our_tool_answers_hello_and_keeps_haptic_and_local_limit() -> None:
    model = PressureGuardModel(SimConfig(seed=1))
    model.due(0.5)

    def body(ftype: int, payload: bytes = b"") -> bytes:
        return frames.build_body(ftype, 0, 0, payload)

    assert model.heard(body(FrameType.HELLO)).ok
    assert model.due(0.51)[0][1] == FrameType.INFO
    assert model.heard(body(FrameType.HAPTIC, b"\x07")).ok and model.haptic == 2
    assert model.heard(body(FrameType.LOCAL_LIMIT, frames.local_limit_payload(191000, 1))).ok
    assert model.local_limit == (191000, 1)
    bad_direction = body(FrameType.LOCAL_LIMIT, (5).to_bytes(4, "little", signed=True) + b"\x03")
    assert not model.heard(bad_direction).ok and model.local_limit == (191000, 1)
    broken = bytearray(body(FrameType.HAPTIC, b"\x00"))
    broken[-1] ^= 0xFF
    assert not model.heard(bytes(broken)).ok and model.haptic == 2
    assert not model.heard(b"\x01").ok


def test_a_progressor_streams_only_while_measuring_and_answers_commands() -> None:
    config = SimConfig(seed=2, pattern="steady", level=9.80665, clock_start_us=2**32 - 20_000)
    model = ProgressorModel(config, per_packet=2)
    assert model.due(5.0) == []  # nothing before START
    assert model.heard(pr.command(Command.GET_BATTERY_VOLTAGE), 5.0).ok
    assert model.heard(pr.command(Command.GET_PROGRESSOR_ID), 5.0).ok
    assert model.heard(pr.command(Command.GET_APP_VERSION), 5.0).ok
    assert model.due(5.0) == [
        pr.battery_response(3900),
        pr.id_response(0x1A2B3C),
        pr.text_response(ProgressorModel.VERSION),
    ]
    assert model.heard(pr.command(Command.START_WEIGHT_MEAS), 10.0).ok
    notes = model.due(11.0)
    assert all(n[0] == pr.Code.WEIGHT and n[1] == 16 for n in notes)  # 2 samples each
    decoder = ProgressorDecoder()
    batches = [r for n in notes for r in decoder.feed(n) if isinstance(r, SampleBatch)]
    t = np.concatenate([b.t for b in batches])
    force = np.concatenate([b.force_n for b in batches])
    assert t.size == 80  # 81 samples taken in 1 s at 80 Hz: 40 whole notifications
    assert np.allclose(np.diff(t), 0.0125)  # across the u32 wrap, 20 ms in
    assert np.allclose(force, 9.80665, atol=0.1)  # 1 kg
    assert model.heard(pr.command(Command.TARE_SCALE), 11.0).ok
    tared = [r for n in model.due(12.0) for r in decoder.feed(n) if isinstance(r, SampleBatch)]
    assert abs(float(np.mean(np.concatenate([b.force_n for b in tared])))) < 0.1
    assert model.heard(pr.command(Command.STOP_WEIGHT_MEAS), 12.0).ok
    assert model.due(20.0) == []
    assert not model.heard(b"\x99", 20.0).ok
