"""Registry factories: build a :class:`Source` for each kind. Imports stay inside each factory."""

from __future__ import annotations

from firmware_bridge.errors import SourceOpenError
from firmware_bridge.sources import SourceOptions
from firmware_bridge.sources.base import Source
from firmware_bridge.sources.stream import StreamSource


def open_serial(url: str, options: SourceOptions) -> Source:
    """A serial port or pyserial URL."""
    from firmware_bridge.sources.serial import SerialTransport

    return StreamSource(url, SerialTransport(url, options.baud), options.fmt, options.text)


def open_sim(url: str, options: SourceOptions) -> Source:
    """The simulated tool (always binary protocol v1)."""
    from firmware_bridge.sources.sim import SimTransport

    return StreamSource(url, SimTransport(url), "binary")


def open_replay(url: str, options: SourceOptions) -> Source:
    """A raw capture (``.bin``) or an exported session (``.csv``)."""
    from firmware_bridge.sources.replay import (
        CaptureReplayTransport,
        CsvReplaySource,
        parse_replay_url,
    )

    path, speed = parse_replay_url(url)
    if path.suffix.lower() == ".csv":
        return CsvReplaySource(url, path, speed)
    return StreamSource(url, CaptureReplayTransport(path, speed), options.fmt, options.text)


def open_auto(url: str, options: SourceOptions) -> Source:
    """The first likely tool on USB serial, else the first PressureGuard tool over BLE."""
    from firmware_bridge.sources.serial import list_serial_ports

    for port in list_serial_ports():
        if port["likely_tool"]:
            return open_serial(str(port["device"]), options)
    try:
        return open_ble("ble://", options)
    except SourceOpenError as exc:
        raise SourceOpenError(f"no tool on USB (plug it in), nor over Bluetooth: {exc}") from exc


def open_ble(url: str, options: SourceOptions) -> Source:
    """A PressureGuard tool over Bluetooth LE (``ble://NAME-OR-ADDRESS``)."""
    from firmware_bridge.sources.ble import BleSource, BleTransport

    return BleSource(url, BleTransport(url, options.ble_hci))


def open_progressor(url: str, options: SourceOptions) -> Source:
    """A Progressor-protocol load cell over Bluetooth LE (``progressor://[NAME]``)."""
    from firmware_bridge.sources.progressor import ProgressorSource

    return ProgressorSource(url, options.ble_hci)
