"""USB serial (and every pyserial URL: ``loop://``, ``socket://``, ``spy://``, ``hwgrep://``)."""

from __future__ import annotations

import errno
import logging
import select

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
            self._port = serial.serial_for_url(url, baudrate=baud, timeout=0, exclusive=True)
        except Exception as exc:  # pyserial's URL handlers raise re.error, KeyError … too
            raise SourceOpenError(_open_message(url, exc)) from exc
        try:
            self._fd: int | None = self._port.fileno()
        except (AttributeError, NotImplementedError, OSError, serial.SerialException):
            self._fd = None
        super().__init__(f"serial {url} @ {baud}")

    def _read(self, timeout: float) -> Chunk | None:
        try:
            if self._fd is not None:
                # select, not pyserial's timeout: changing that reconfigures the port (tcsetattr)
                if not self._port.in_waiting and (
                    timeout <= 0 or not select.select([self._fd], [], [], timeout)[0]
                ):
                    return None
                data = self._port.read(max(1, self._port.in_waiting))  # timeout 0: never blocks
            else:  # URL handlers (loop://, socket://): their timeout is a plain attribute
                if timeout != self._port.timeout:
                    self._port.timeout = timeout
                data = self._port.read(max(1, self._port.in_waiting))
        except (serial.SerialException, OSError, TypeError, AttributeError, ValueError) as exc:
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
