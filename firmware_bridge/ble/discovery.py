"""Finding tools in reach: PressureGuard tools and Progressor-protocol load cells.

A tool is recognised by what it advertises, never by a stored address alone: our service UUID or
the name prefix ``PressureGuard`` (PROTOCOL.md §9), or the Progressor service UUID or the name
prefix ``Progressor``. A target (``ble://NAME-OR-ADDRESS``) then picks one of those by its exact
name or address; a device advertising neither is taken only when the user named it exactly (a
clone with another name), and the connection checks its GATT service anyway.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Literal

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from firmware_bridge.ble import runtime
from firmware_bridge.ble.stack import BleStack
from firmware_bridge.errors import SourceOpenError
from firmware_bridge.protocol import progressor
from firmware_bridge.protocol.frames import BLE_NAME_PREFIX, BLE_SERVICE_UUID

log = logging.getLogger(__name__)

Kind = Literal["pressureguard", "progressor"]
KINDS: tuple[Kind, ...] = ("pressureguard", "progressor")
#: How long ``devices`` listens for advertisements.
LIST_TIMEOUT_S = 4.0
#: How long opening a source looks for its tool before saying it is not in reach.
FIND_TIMEOUT_S = 5.0
#: How long a tool found by its service UUID alone waits for its name to be heard too.
NAME_WAIT_S = 0.5

_SERVICES: dict[Kind, str] = {
    "pressureguard": BLE_SERVICE_UUID,
    "progressor": progressor.SERVICE_UUID,
}
_PREFIXES: dict[Kind, str] = {
    "pressureguard": BLE_NAME_PREFIX,
    "progressor": progressor.NAME_PREFIX,
}
NOUNS: dict[Kind, str] = {
    "pressureguard": "PressureGuard tool",
    "progressor": "Progressor-protocol load cell",
}


@dataclass(frozen=True, slots=True)
class FoundTool:
    """A tool seen advertising.

    Attributes:
        name: its advertised name ("" when it sent none).
        address: its address (a per-host UUID on macOS).
        rssi: signal strength of its last advertisement, dBm.
        kind: ``pressureguard`` or ``progressor``.
        device: bleak's handle for connecting.
    """

    name: str
    address: str
    rssi: int | None
    kind: Kind
    device: BLEDevice

    def as_dict(self) -> dict[str, Any]:
        """The ``devices --json`` entry."""
        return {"name": self.name, "address": self.address, "rssi": self.rssi, "kind": self.kind}


def kind_of(name: str | None, service_uuids: list[str]) -> Kind | None:
    """Which kind of tool an advertisement announces, if any."""
    uuids = {u.lower() for u in service_uuids}
    for kind in KINDS:
        if _SERVICES[kind] in uuids or (name or "").startswith(_PREFIXES[kind]):
            return kind
    return None


def matches(
    tool_kind: Kind | None, name: str | None, address: str, kind: Kind, target: str
) -> bool:
    """Whether an advertiser is the tool a source string asks for."""
    wanted = target.strip().lower()
    if not wanted:
        return tool_kind == kind
    named = (name or "").lower() == wanted
    if named:
        return tool_kind in (kind, None)
    return tool_kind == kind and address.lower() == wanted


async def scan(stack: BleStack, timeout: float = LIST_TIMEOUT_S) -> list[FoundTool]:
    """Every tool of either kind heard within ``timeout`` seconds, strongest first.

    Raises:
        SourceOpenError: the Bluetooth stack cannot scan (no adapter, switched off …).
        UsageError: a malformed HCI transport string.
    """
    found: dict[str, FoundTool] = {}

    def seen(device: BLEDevice, adv: AdvertisementData) -> None:
        kind = kind_of(adv.local_name, adv.service_uuids)
        if kind is not None:
            found[device.address] = FoundTool(
                adv.local_name or device.name or "", device.address, adv.rssi, kind, device
            )

    try:
        kwargs = await stack.bleak_kwargs("scanner")
        async with BleakScanner(detection_callback=seen, **kwargs):
            await asyncio.sleep(timeout)
    except Exception as exc:
        raise stack.explain(exc, "scan for Bluetooth tools") from exc
    return sorted(found.values(), key=lambda t: (KINDS.index(t.kind), -(t.rssi or -999), t.name))


async def find(
    stack: BleStack, kind: Kind, target: str, timeout: float = FIND_TIMEOUT_S
) -> FoundTool:
    """The first tool that matches ``target`` (see :func:`matches`).

    Raises:
        SourceOpenError: nothing matching was heard in time, or the stack cannot scan.
        UsageError: a malformed HCI transport string.
    """
    loop = asyncio.get_running_loop()
    hit: asyncio.Future[FoundTool] = loop.create_future()
    unnamed: dict[str, FoundTool] = {}

    def settle(address: str) -> None:
        if not hit.done() and address in unnamed:
            hit.set_result(unnamed.pop(address))

    def seen(device: BLEDevice, adv: AdvertisementData) -> None:
        tool_kind = kind_of(adv.local_name, adv.service_uuids)
        if hit.done() or not matches(tool_kind, adv.local_name, device.address, kind, target):
            return
        name = adv.local_name or ""
        tool = FoundTool(name, device.address, adv.rssi, tool_kind or kind, device)
        if name:
            unnamed.pop(device.address, None)
            hit.set_result(tool)
        elif device.address not in unnamed:
            # found by its service UUID: its name usually follows in the scan response
            unnamed[device.address] = tool
            loop.call_later(NAME_WAIT_S, settle, device.address)

    try:
        kwargs = await stack.bleak_kwargs("scanner")
        async with BleakScanner(detection_callback=seen, **kwargs):
            return await asyncio.wait_for(hit, timeout)
    except TimeoutError:
        which = f" {target!r}" if target else ""
        raise SourceOpenError(
            f"no {NOUNS[kind]}{which} found over {stack.label} within {timeout:g} s: is it "
            "switched on, in reach, and not connected to another device?"
        ) from None
    except Exception as exc:
        raise stack.explain(exc, "scan for Bluetooth tools") from exc


def list_tools(hci: str | None = None, timeout: float = LIST_TIMEOUT_S) -> list[dict[str, Any]]:
    """Synchronous :func:`scan` for the CLI and the dashboard: ``devices --json``'s ``ble`` list.

    Raises:
        SourceOpenError: the Bluetooth stack cannot scan.
        UsageError: a malformed HCI transport string.
    """
    stack = BleStack.resolve(hci)
    tools = runtime.run(scan(stack, timeout), timeout + 10.0)
    return [tool.as_dict() for tool in tools]
