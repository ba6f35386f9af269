"""``ble://NAME-OR-ADDRESS``: a PressureGuard tool over Bluetooth LE (PROTOCOL.md §9).

Every notification is one protocol v1 body, so :class:`BleTransport` is a ``packet`` transport and
the ordinary :class:`~firmware_bridge.sources.stream.StreamSource` decoder handles it exactly as
it handles serial. Commands (HAPTIC, LOCAL_LIMIT, HELLO) are written with response.
"""

from __future__ import annotations

import logging
from urllib.parse import unquote

from firmware_bridge.ble.discovery import Kind
from firmware_bridge.ble.link import BleLink, Gatt
from firmware_bridge.ble.stack import BleStack
from firmware_bridge.errors import UsageError
from firmware_bridge.protocol.frames import (
    BLE_NOTIFY_UUID,
    BLE_SERVICE_UUID,
    BLE_WRITE_UUID,
    FrameType,
)
from firmware_bridge.readings import DeviceStatus, Reading
from firmware_bridge.sources.base import Chunk, LinkStatus, Transport
from firmware_bridge.sources.stream import StreamSource

log = logging.getLogger(__name__)

PRESSUREGUARD_GATT = Gatt(BLE_SERVICE_UUID, BLE_NOTIFY_UUID, BLE_WRITE_UUID)


def ble_target(url: str, scheme: str) -> str:
    """The name or address after ``scheme://`` ("" = the first tool found).

    Raises:
        UsageError: not a ``scheme://`` string, or it carries ``?options``.
    """
    text = url.strip()
    prefix = f"{scheme}://"
    if not text.lower().startswith(prefix):
        raise UsageError(f"not a {prefix} source: {url!r}")
    rest = text[len(prefix) :]
    if "?" in rest:
        raise UsageError(f"{prefix} takes a tool's name or address only, not options: {url!r}")
    return unquote(rest).strip("/").strip()


def open_link(url: str, scheme: str, kind: Kind, gatt: Gatt, hci: str | None) -> BleLink:
    """Find and connect the tool a ``ble://`` or ``progressor://`` string names.

    Raises:
        UsageError: a malformed source or HCI transport string.
        SourceOpenError: no adapter, tool not found, busy, refused, or not this kind.
    """
    return BleLink.open(BleStack.resolve(hci), kind, ble_target(url, scheme), gatt)


def link_facts(link: BleLink, *, haptics: bool, battery_mv: int | None) -> LinkStatus:
    """The status strip's facts about a link."""
    return LinkStatus(
        transport=f"BLE ({link.stack.label})",
        connected=link.connected,
        name=link.tool.name,
        address=link.tool.address,
        rssi_dbm=link.rssi,
        battery_mv=battery_mv,
        haptics=haptics,
        local_limit=haptics,
    )


class BleTransport(Transport):
    """Notifications of our tool's GATT as packets; writes to its command characteristic.

    Args:
        url: ``ble://NAME-OR-ADDRESS`` or ``ble://``.
        hci: a bumble HCI transport, or None for ``PRESSUREGUARD_BLE_HCI`` / the platform stack.

    Raises:
        UsageError: a malformed source or HCI transport string.
        SourceOpenError: see :func:`open_link`.
    """

    framing = "packet"

    def __init__(self, url: str, hci: str | None = None) -> None:
        self.link = open_link(url, "ble", "pressureguard", PRESSUREGUARD_GATT, hci)
        tool = self.link.tool
        super().__init__(f"{tool.name or 'tool'} ({tool.address}) over BLE")

    def _read(self, timeout: float) -> Chunk | None:
        item = self.link.read(timeout)
        return None if item is None else Chunk(item.data, item.t_host)

    def _write(self, data: bytes) -> None:
        self.link.write(data)

    def _close(self) -> None:
        self.link.close()


class BleSource(StreamSource):
    """Our tool over BLE: the binary decoder, HELLO once subscribed, and the link's facts."""

    def __init__(self, url: str, transport: BleTransport) -> None:
        super().__init__(url, transport, "binary")
        self.ble = transport
        self._battery_mv: int | None = None
        self.send(FrameType.HELLO)  # the tool answers with INFO (PROTOCOL.md §6)

    def read(self, timeout: float) -> list[Reading]:
        readings = super().read(timeout)
        for reading in readings:
            if isinstance(reading, DeviceStatus):
                self._battery_mv = reading.battery_mv
        return readings

    def link_status(self) -> LinkStatus:
        return link_facts(self.ble.link, haptics=True, battery_mv=self._battery_mv)
