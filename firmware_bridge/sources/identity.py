"""A tool's identity when it does not say its own: a stable name derived from how it is reached.

A tool that sends INFO names itself (``device_id``). A plain HX711 sketch, or a tool whose INFO
went out before the port was opened and that does not answer HELLO, does not: its calibration is
then kept under a name derived from the link. The bridge and the calibration wizard use this
one function, so a calibration saved by the wizard is the one the bridge finds.

Order of preference: the USB adapter's serial number (stays the same whichever port the tool is
plugged into), else the source string itself (the port path, or the BLE name or address).
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def fallback_device_id(source: str) -> str:
    """A stable id for a tool that does not say its own.

    Args:
        source: the source string it was opened from.

    Returns:
        ``usb:VID:PID:SERIAL`` for a USB serial adapter with a serial number, else
        ``serial:SOURCE`` (a port or pyserial URL) or ``ble:NAME-OR-ADDRESS``.
    """
    text = source.strip()
    for scheme in ("ble://", "progressor://"):
        if text.startswith(scheme):
            return f"ble:{text[len(scheme) :] or 'first'}"
    usb = _usb_identity(text)
    return usb if usb else f"serial:{text}"


def _usb_identity(port: str) -> str | None:
    """``usb:VID:PID:SERIAL`` of the USB device behind ``port`` (a path or a link to one)."""
    if "://" in port:
        return None
    try:
        from serial.tools import list_ports  # noqa: PLC0415 - pyserial is only needed here
    except ImportError:  # pragma: no cover - pyserial is a dependency
        return None
    real = os.path.realpath(port)
    try:
        ports = list(list_ports.comports())
    except OSError as exc:  # pragma: no cover - depends on the platform
        log.debug("cannot list serial ports: %s", exc)
        return None
    for info in ports:
        if info.device in (port, real) and info.vid is not None and info.serial_number:
            return f"usb:{info.vid:04x}:{info.pid or 0:04x}:{info.serial_number}"
    return None
