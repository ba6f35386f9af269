"""USB serial (and every pyserial URL: ``loop://``, ``socket://``, ``spy://``, ``hwgrep://``)."""

from __future__ import annotations

import errno
import logging

import serial
from serial.tools import list_ports

from firmware_bridge.errors import SourceLostError, SourceOpenError
from firmware_bridge.sources.base import Chunk, Transport

log = logging.getLogger(__name__)

#: USB vendor ids of the serial chips found on Arduino-class boards (Arduino, FTDI, WCH CH340,
#: Silicon Labs CP210x, Espressif): the candidates for ``auto``.
BOARD_VIDS = frozenset({0x2341, 0x2A03, 0x0403, 0x1A86, 0x10C4, 0x303A})


class SerialTransport(Transport):
    """A serial port opened with ``serial_for_url``; reads whatever has arrived, with low latency.

    Args:
        url: a device path (``/dev/ttyACM0``, ``COM3``) or any pyserial URL.
        baud: the baud rate (ignored by virtual ports).

    Raises:
        SourceOpenError: the port does not exist, is busy, or may not be opened.
    """

    def __init__(self, url: str, baud: int = 115200) -> None:
        try:
            self._port = serial.serial_for_url(url, baudrate=baud, timeout=0.05, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise SourceOpenError(_open_message(url, exc)) from exc
        self._timeout = 0.05
        super().__init__(f"serial {url} @ {baud}")

    def _read(self, timeout: float) -> Chunk | None:
        try:
            waiting = self._port.in_waiting
            if waiting:  # already here: no wait, and no timeout change
                data = self._port.read(waiting)
            elif timeout <= 0:
                return None
            else:
                if timeout != self._timeout:  # setting it reconfigures a real port: only on change
                    self._port.timeout = self._timeout = timeout
                data = self._port.read(1)
                if data and self._port.in_waiting:
                    data += self._port.read(self._port.in_waiting)
        except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
            # pyserial raises TypeError/AttributeError from a port closed under it
            raise SourceLostError(f"{self.description}: {_reason(exc)}") from exc
        return Chunk(bytes(data), self.now()) if data else None

    def _write(self, data: bytes) -> None:
        try:
            self._port.write(data)
        except (serial.SerialException, OSError) as exc:
            raise SourceLostError(f"{self.description}: {_reason(exc)}") from exc

    def _close(self) -> None:
        try:
            self._port.close()
        except (serial.SerialException, OSError) as exc:
            log.debug("closing %s: %s", self.description, exc)


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return "the port went away" if "returned no data" in text else text


def _open_message(url: str, exc: BaseException) -> str:
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code == errno.ENOENT or "No such file" in text:
        return (
            f"no serial port {url}: is the tool plugged in? (`pressureguard devices` lists ports)"
        )
    if code == errno.EACCES or "Permission denied" in text:
        return (
            f"no permission to open {url}: add your user to the 'dialout' group, then log in again"
        )
    if "exclusively lock" in text or code == errno.EBUSY or "busy" in text.lower():
        return (
            f"serial port {url} is busy: another program (Arduino IDE, a second bridge) has it open"
        )
    return f"cannot open serial port {url}: {text}"


def list_serial_ports() -> list[dict[str, str | bool]]:
    """Serial ports on this machine, the likely tools first.

    Returns:
        One dict per port: ``device``, ``description``, ``hwid`` and ``likely_tool``.
    """
    ports: list[dict[str, str | bool]] = []
    for info in list_ports.comports():
        ports.append(
            {
                "device": info.device,
                "description": info.description or "",
                "hwid": info.hwid or "",
                "likely_tool": info.vid in BOARD_VIDS,
            }
        )
    ports.sort(key=lambda p: (not p["likely_tool"], str(p["device"])))
    return ports
