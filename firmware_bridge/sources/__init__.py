"""Sources: one URL-like string picks one, through a registry with lazy imports.

| string | kind |
|---|---|
| ``sim://?seed=&rate=&pattern=`` | the built-in simulated tool |
| ``replay://PATH.bin`` / ``replay://PATH.csv`` | a raw capture or an exported session |
| ``/dev/ttyACM0``, ``COM3``, ``loop://``, ``socket://``, ``spy://``, ``hwgrep://`` | serial |
| ``ble://NAME-OR-ADDRESS``, ``ble://`` (the first found) | a PressureGuard tool over BLE |
| ``progressor://NAME``, ``progressor://`` | a Tindeq Progressor-protocol load cell over BLE |
| ``auto`` | the first tool found on USB, then the first PressureGuard tool over BLE |

BLE sources run on the platform's Bluetooth stack, or on bumble over an HCI transport given by
``SourceOptions.ble_hci`` (``--ble-hci``) or ``PRESSUREGUARD_BLE_HCI``. Only the module of the
chosen kind is imported, so pyserial or bleak need not be installed to use the simulator.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from typing import Any

from firmware_bridge.errors import SourceOpenError, SourceUnavailableError, UsageError
from firmware_bridge.protocol.text import TextOptions
from firmware_bridge.sources.base import Source

__all__ = ["KINDS", "SourceOptions", "open_source", "source_kind"]

#: kind → (module, factory). Each factory takes (url, SourceOptions) and returns a Source.
KINDS: dict[str, tuple[str, str]] = {
    "sim": ("firmware_bridge.sources.factories", "open_sim"),
    "replay": ("firmware_bridge.sources.factories", "open_replay"),
    "serial": ("firmware_bridge.sources.factories", "open_serial"),
    "auto": ("firmware_bridge.sources.factories", "open_auto"),
    "ble": ("firmware_bridge.sources.factories", "open_ble"),
    "progressor": ("firmware_bridge.sources.factories", "open_progressor"),
}

#: Schemes pyserial's ``serial_for_url`` understands.
SERIAL_SCHEMES = ("loop", "socket", "spy", "hwgrep", "rfc2217", "alt", "cp2110")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """Options from the command line that apply to a source."""

    baud: int = 115200
    fmt: str = "auto"
    text: TextOptions = field(default_factory=TextOptions)
    #: A bumble HCI transport for BLE sources (``--ble-hci``); None: ``PRESSUREGUARD_BLE_HCI``,
    #: else the platform's Bluetooth stack.
    ble_hci: str | None = None


def source_kind(url: str) -> str:
    """Which registry entry handles ``url``.

    Raises:
        UsageError: an empty string or an unknown ``scheme://``.
    """
    text = url.strip()
    if not text:
        raise UsageError("no source given: try sim://, /dev/ttyACM0, COM3 or replay://FILE")
    if text == "auto":
        return "auto"
    match = _SCHEME.match(text)
    if not match:
        return "serial"  # a device path or COM port
    scheme = match.group(1).lower()
    if scheme in KINDS:
        return scheme
    if scheme in SERIAL_SCHEMES:
        return "serial"
    known = ", ".join(f"{k}://" for k in KINDS if k not in ("serial", "auto"))
    raise UsageError(
        f"unknown source {url!r}: use {known}, a serial port, or a pyserial URL "
        f"({', '.join(s + '://' for s in SERIAL_SCHEMES[:4])})"
    )


def open_source(url: str, options: SourceOptions | None = None) -> Source:
    """Open the source a string names.

    Args:
        url: the source string (see the module docstring).
        options: baud rate and text/binary format options.

    Raises:
        UsageError: the string is malformed.
        SourceOpenError: the device or file cannot be opened.
        SourceUnavailableError: the kind needs something not installed here.
    """
    kind = source_kind(url)
    module_name, factory_name = KINDS[kind]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SourceUnavailableError(f"{kind} sources are unavailable: {exc}") from exc
    factory: Any = getattr(module, factory_name)
    source = factory(url.strip(), options or SourceOptions())
    if not isinstance(source, Source):  # pragma: no cover - a registry bug, not a user error
        raise SourceOpenError(f"{kind} factory returned {type(source).__name__}")
    return source
