"""The BLE sources over a stand-in link: what they send on connecting, how notifications become
readings, what they can and cannot carry, and the link facts for the status strip."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.ble import HCI_ENV
from firmware_bridge.ble.discovery import FoundTool
from firmware_bridge.ble.link import Notification
from firmware_bridge.ble.stack import BleStack
from firmware_bridge.cli import build_parser
from firmware_bridge.cli.record import source_options
from firmware_bridge.cli.serve import bridge_argv
from firmware_bridge.errors import SourceLostError, UsageError
from firmware_bridge.protocol import frames
from firmware_bridge.protocol import progressor as pr
from firmware_bridge.protocol.frames import FrameType
from firmware_bridge.protocol.progressor import Command
from firmware_bridge.readings import DeviceInfo, DeviceStatus, SampleBatch
from firmware_bridge.sources import open_source, source_kind
from firmware_bridge.sources.ble import BleSource, BleTransport, ble_target
from firmware_bridge.sources.progressor import ProgressorSource


@dataclass
class FakeLink:
    """What the sources need of a BleLink, with notifications scripted by the test."""

    tool: FoundTool
    stack: BleStack = field(default_factory=lambda: BleStack("tcp-client:127.0.0.1:1"))
    rssi: int | None = -58
    connected: bool = True
    closed: bool = False
    is_reply: object = None
    inbox: list[Notification] = field(default_factory=list)
    writes: list[bytes] = field(default_factory=list)
    requests: list[bytes] = field(default_factory=list)
    lost: str | None = None

    def read(self, timeout: float) -> Notification | None:
        if self.inbox:
            return self.inbox.pop(0)
        if self.lost:
            raise SourceLostError(self.lost)
        return None

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def request(self, data: bytes) -> None:
        self.requests.append(data)

    def close(self) -> None:
        self.closed = True


def _tool(name: str, kind: str) -> FoundTool:
    return FoundTool(name, "F0:01:02:03:04:05", -60, kind, None)  # type: ignore[arg-type]


@pytest.fixture
def ours(monkeypatch: pytest.MonkeyPatch) -> FakeLink:
    link = FakeLink(_tool("PressureGuard-3F2A", "pressureguard"))
    monkeypatch.setattr("firmware_bridge.sources.ble.open_link", lambda *a: link)
    return link


@pytest.fixture
def theirs(monkeypatch: pytest.MonkeyPatch) -> FakeLink:
    link = FakeLink(_tool("Progressor_0001", "progressor"))
    monkeypatch.setattr("firmware_bridge.sources.progressor.open_link", lambda *a: link)
    return link


def test_targets_and_kinds() -> None:
    assert ble_target("ble://", "ble") == ""
    assert ble_target("ble://PressureGuard-3F2A", "ble") == "PressureGuard-3F2A"
    assert ble_target("BLE://AA:BB:CC:DD:EE:FF", "ble") == "AA:BB:CC:DD:EE:FF"
    assert ble_target("progressor://My%20Clone", "progressor") == "My Clone"
    with pytest.raises(UsageError):
        ble_target("ble://tool?rate=80", "ble")
    assert source_kind("ble://") == "ble"
    assert source_kind("progressor://") == "progressor"


def test_our_tool_hears_hello_once_subscribed_and_decodes_bodies(ours: FakeLink) -> None:
    source = BleSource("ble://PressureGuard-3F2A", BleTransport("ble://PressureGuard-3F2A"))
    assert source.transport.framing == "packet"
    (hello,) = ours.writes
    assert hello[1] == FrameType.HELLO and frames.crc16(hello[:-2]) == int.from_bytes(
        hello[-2:], "little"
    )
    info = DeviceInfo(device_id="pg-7", firmware="1", adc="HX711", rate_hz=80.0)
    bodies = [
        frames.build_body(FrameType.INFO, 0, 0, info.to_json().encode()),
        frames.build_body(FrameType.SAMPLES, 1, 0, frames.samples_payload(12500, [5, 6, 7])),
        frames.build_body(FrameType.STATUS, 2, 40_000, frames.status_payload(3910)),
    ]
    ours.inbox = [Notification(b, 10.0 + i) for i, b in enumerate(bodies)]
    readings = []
    while ours.inbox:
        readings += source.read(0.0)
    assert isinstance(readings[0], DeviceInfo)
    batch = next(r for r in readings if isinstance(r, SampleBatch))
    assert batch.raw.tolist() == [5, 6, 7] and np.allclose(batch.t, [0, 0.0125, 0.025])
    assert any(isinstance(r, DeviceStatus) and r.battery_mv == 3910 for r in readings)
    status = source.link_status()
    assert status.as_dict() == {
        "transport": "BLE (bumble HCI tcp-client:127.0.0.1:1)",
        "connected": True,
        "name": "PressureGuard-3F2A",
        "address": "F0:01:02:03:04:05",
        "rssi_dbm": -58,
        "battery_mv": 3910,
        "haptics": True,
        "local_limit": True,
        "device_id": None,
        "firmware": None,
    }
    assert source.send(FrameType.HAPTIC, frames.haptic_payload(2))
    assert ours.writes[-1][1] == FrameType.HAPTIC and ours.writes[-1][8] == 2
    ours.lost = "PressureGuard-3F2A disconnected"
    with pytest.raises(SourceLostError, match="disconnected"):
        source.read(0.01)
    source.close()
    assert ours.closed


def test_a_progressor_is_asked_who_it_is_then_streams_force(theirs: FakeLink) -> None:
    source = ProgressorSource("progressor://")
    assert theirs.requests == [
        pr.command(Command.GET_PROGRESSOR_ID),
        pr.command(Command.GET_APP_VERSION),
        pr.command(Command.GET_BATTERY_VOLTAGE),
    ]
    assert theirs.writes == [pr.command(Command.START_WEIGHT_MEAS)]
    theirs.inbox = [
        Notification(pr.id_response(0xBEEF), 1.0, theirs.requests[0]),
        Notification(pr.text_response("1.4"), 1.1, theirs.requests[1]),
        Notification(pr.battery_response(3700), 1.2, theirs.requests[2]),
        Notification(pr.weight_notification([(2.0, 0), (2.5, 12_500)]), 1.3),
    ]
    readings = []
    while theirs.inbox:
        readings += source.read(0.01)
    assert [type(r) for r in readings] == [DeviceStatus, SampleBatch]
    assert np.allclose(readings[1].force_n, [2.0 * 9.80665, 2.5 * 9.80665])
    assert source.format == "progressor"
    status = source.link_status()
    assert (status.haptics, status.local_limit) == (False, False)
    assert (status.device_id, status.firmware, status.battery_mv) == (
        "progressor-BEEF",
        "1.4",
        3700,
    )
    # No motor, no local limit: the bridge is told so instead of pretending.
    assert not source.send(FrameType.HAPTIC, frames.haptic_payload(1))
    assert not source.send(FrameType.LOCAL_LIMIT, frames.local_limit_payload(100, 1))
    assert source.send(FrameType.HELLO)
    assert source.zero_device()
    assert theirs.writes[-1] == pr.command(Command.TARE_SCALE)
    source.close()
    assert theirs.writes[-1] == pr.command(Command.STOP_WEIGHT_MEAS) and theirs.closed


def test_wired_and_simulated_sources_have_no_link_facts() -> None:
    with open_source("sim://") as source:
        assert source.link_status() is None


def test_ble_hci_reaches_every_source_command_and_the_launchers_bridge(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    parser = build_parser()
    for argv in (
        ["record", "ble://", "--ble-hci", "usb:0"],
        ["run", "ble://", "--ble-hci", "usb:0"],
        ["bridge", "ble://", "--ble-hci", "usb:0"],
        ["calibrate", "ble://", "--ble-hci", "usb:0"],
        ["limits", "measure", "ble://", "--region", "upper-trapezius", "--ble-hci", "usb:0"],
        ["devices", "--ble-hci", "usb:0"],
    ):
        assert parser.parse_args(argv).ble_hci == "usb:0", argv
    args: argparse.Namespace = parser.parse_args(["run", "progressor://", "--ble-hci", "usb:1"])
    assert source_options(args).ble_hci == "usb:1"
    argv = bridge_argv(args, tmp_path)
    assert argv[argv.index("--ble-hci") + 1] == "usb:1"
    monkeypatch.setenv(HCI_ENV, "tcp-client:127.0.0.1:9")
    assert BleStack.resolve(None).hci == "tcp-client:127.0.0.1:9"
    assert BleStack.resolve("usb:0").hci == "usb:0"
    monkeypatch.delenv(HCI_ENV)
    assert BleStack.resolve(None).hci is None
    assert BleStack.resolve(None).label == "system Bluetooth"
