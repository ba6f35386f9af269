"""Which Bluetooth stack bleak runs on, and every way opening it can fail, in one line each.

By default bleak picks the platform backend (BlueZ, CoreBluetooth, WinRT). With an HCI transport
(``--ble-hci usb:0``, ``PRESSUREGUARD_BLE_HCI=tcp-client:127.0.0.1:9002``, …) the same bleak code
runs on :mod:`firmware_bridge.ble.bumble_backend`, with bumble driving the controller. One bumble
host per transport is opened on first use and kept for the life of the process (a USB dongle
can be opened only once); it is forgotten when its transport goes away, so the next use opens it
again. All coroutines here run on the BLE loop (:mod:`firmware_bridge.ble.runtime`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from dataclasses import dataclass
from typing import Any

from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason, BleakError

from firmware_bridge.ble import HCI_ENV, runtime
from firmware_bridge.errors import PressureGuardError, SourceOpenError, UsageError

log = logging.getLogger(__name__)

#: How long opening an HCI transport and resetting its controller may take.
HCI_OPEN_TIMEOUT_S = 5.0
HCI_EXAMPLES = "usb:0, serial:/dev/ttyUSB0,1000000, tcp-client:127.0.0.1:9002"


@dataclass(frozen=True, slots=True)
class BleStack:
    """The Bluetooth stack to use.

    Attributes:
        hci: a bumble HCI transport string, or None for bleak's platform backend.
    """

    hci: str | None = None

    @classmethod
    def resolve(cls, option: str | None = None) -> BleStack:
        """The stack the user asked for: ``--ble-hci``, else ``PRESSUREGUARD_BLE_HCI``, else the
        platform's."""
        value = (option or os.environ.get(HCI_ENV) or "").strip()
        return cls(value or None)

    @property
    def label(self) -> str:
        """How the status strip and messages name it."""
        return f"bumble HCI {self.hci}" if self.hci else "system Bluetooth"

    async def bleak_kwargs(self, role: str) -> dict[str, Any]:
        """Keyword arguments for ``BleakScanner`` (``role="scanner"``) or ``BleakClient``.

        Raises:
            UsageError: a malformed HCI transport string.
            SourceOpenError: the transport or its controller cannot be opened.
        """
        if self.hci is None:
            return {}
        from firmware_bridge.ble.bumble_backend import BumbleClient, BumbleScanner  # noqa: PLC0415

        device = await _hci_device(self.hci)
        backend = BumbleScanner if role == "scanner" else BumbleClient
        return {"backend": backend, "bumble_device": device}

    def explain(self, exc: BaseException, doing: str) -> PressureGuardError:
        """One line for a failure of the stack itself (no adapter, switched off, denied …).

        Args:
            exc: what bleak, bumble or the OS raised.
            doing: what was being done, e.g. "scan for tools".
        """
        if isinstance(exc, PressureGuardError):  # already one line for the user
            return exc
        if isinstance(exc, BleakBluetoothNotAvailableError):
            reason = {
                BleakBluetoothNotAvailableReason.POWERED_OFF: "Bluetooth is switched off: turn "
                "it on",
                BleakBluetoothNotAvailableReason.NO_BLUETOOTH: "no Bluetooth adapter found",
                BleakBluetoothNotAvailableReason.NO_BLE_CENTRAL_ROLE: "this Bluetooth adapter "
                "cannot act as a BLE central",
                BleakBluetoothNotAvailableReason.DENIED_BY_USER: "Bluetooth access was denied: "
                "allow it for this program in the system settings",
                BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM: "Bluetooth access is denied "
                "by the system",
            }.get(exc.reason, f"Bluetooth is not available ({exc})")
            return SourceOpenError(f"cannot {doing}: {reason}")
        text = str(exc).strip() or type(exc).__name__
        if self.hci is None:
            if (
                isinstance(exc, FileNotFoundError | ConnectionRefusedError)
                or "org.freedesktop" in text
            ):
                return SourceOpenError(
                    f"cannot {doing}: the system Bluetooth service (BlueZ) is not running or not "
                    "installed; with a USB Bluetooth dongle use --ble-hci usb:0"
                )
            if "NotReady" in text or "powered off" in text.lower() or "not powered" in text:
                return SourceOpenError(f"cannot {doing}: Bluetooth is switched off: turn it on")
            if "No Bluetooth adapters found" in text or ("adapter" in text and "not found" in text):
                return SourceOpenError(f"cannot {doing}: no Bluetooth adapter found")
        if isinstance(exc, BleakError):
            return SourceOpenError(f"cannot {doing}: {text}")
        return SourceOpenError(f"cannot {doing} ({self.label}): {text}")


class _Hci:
    """One open bumble host: its transport and the central device on it."""

    def __init__(self, spec: str, transport: Any, device: Any) -> None:
        self.spec = spec
        self.transport = transport
        self.device = device
        self.lost = False
        self.closing = False


_hosts: dict[str, _Hci] = {}
_opening: dict[str, asyncio.Lock] = {}


async def _hci_device(spec: str) -> Any:
    """The powered-on bumble central on ``spec``, opened on first use."""
    host = _hosts.get(spec)
    if host is not None and not host.lost:
        return host.device
    lock = _opening.setdefault(spec, asyncio.Lock())
    async with lock:
        host = _hosts.get(spec)
        if host is not None and not host.lost:
            return host.device
        host = await _open_hci(spec)
        _hosts[spec] = host
        if len(_hosts) == 1:
            runtime.at_shutdown(close_all)
        return host.device


async def _open_hci(spec: str) -> _Hci:
    from bumble.device import Device  # noqa: PLC0415 - bumble only when asked for
    from bumble.hci import Address  # noqa: PLC0415
    from bumble.transport import open_transport  # noqa: PLC0415
    from bumble.transport.common import TransportSpecError  # noqa: PLC0415

    try:
        transport = await asyncio.wait_for(open_transport(spec), HCI_OPEN_TIMEOUT_S)
    except (TransportSpecError, ValueError) as exc:
        raise UsageError(
            f"bad --ble-hci transport {spec!r}: {exc or 'not understood'} (e.g. {HCI_EXAMPLES})"
        ) from exc
    except TimeoutError:
        raise SourceOpenError(f"the Bluetooth controller at {spec} did not open in time") from None
    except Exception as exc:  # bumble's transports raise OS, USB and serial errors alike
        raise SourceOpenError(
            f"cannot open the Bluetooth controller at {spec}: {_reason(exc)}"
        ) from exc
    # A random static address (two top bits set), so two hosts on one virtual link never clash.
    raw = bytearray(secrets.token_bytes(6))
    raw[0] |= 0xC0
    address = Address(":".join(f"{b:02X}" for b in raw))
    device = Device.with_hci("PressureGuard bridge", address, transport.source, transport.sink)
    host = _Hci(spec, transport, device)
    terminated = getattr(transport.source, "terminated", None)
    if isinstance(terminated, asyncio.Future):
        terminated.add_done_callback(lambda _f: _on_lost(host))
    try:
        await asyncio.wait_for(device.power_on(), HCI_OPEN_TIMEOUT_S)
    except Exception as exc:
        await _close(host)
        why = "no answer" if isinstance(exc, TimeoutError) else _reason(exc)
        raise SourceOpenError(f"the Bluetooth controller at {spec} did not start: {why}") from exc
    log.info("bumble host up on %s (address %s)", spec, address)
    return host


def _on_lost(host: _Hci) -> None:
    host.lost = True
    if not host.closing:
        log.warning("the Bluetooth controller at %s went away", host.spec)
    if _hosts.get(host.spec) is host:
        del _hosts[host.spec]


def is_lost(spec: str | None) -> bool:
    """Whether the bumble host on ``spec`` was lost (its transport closed)."""
    return spec is not None and spec not in _hosts


async def _close(host: _Hci) -> None:
    host.closing = True
    try:
        await asyncio.wait_for(host.transport.close(), 1.0)
    except Exception as exc:  # closing a dead transport: nothing left to do
        log.debug("closing HCI %s: %s", host.spec, exc)


async def close_all() -> None:
    """Close every bumble host (at exit)."""
    hosts = list(_hosts.values())
    _hosts.clear()
    for host in hosts:
        await _close(host)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the controller running?)"
    text = str(exc).strip()
    return text or type(exc).__name__
