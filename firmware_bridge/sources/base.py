"""The source abstraction: a :class:`Transport` moves bytes, a :class:`Source` yields readings.

Template methods in the python-can style: the public ``read``/``write``/``close`` are concrete and
do the shared work (closed checks, capture, logging); transports implement only ``_read``,
``_write`` and ``_close``. A transport opens its device in ``__init__`` *before* calling
``super().__init__()``, so a failed open never triggers cleanup of a half-built object.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Literal, Self

from firmware_bridge.errors import SourceLostError
from firmware_bridge.readings import DecoderStats, Reading

log = logging.getLogger(__name__)

Framing = Literal["stream", "packet"]
#: Called with every chunk as it arrives (``record --capture``).
CaptureHook = Callable[["Chunk"], None]


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """Facts about a wireless link for the status strip (:meth:`Source.link_status`).

    Attributes:
        transport: how the tool is reached, e.g. ``"BLE (system Bluetooth)"``.
        connected: whether the link is up right now.
        name: the tool's advertised name.
        address: its Bluetooth address (a per-host UUID on macOS).
        rssi_dbm: the latest signal strength known, or None.
        battery_mv: the tool's battery voltage, or None when unknown.
        haptics: whether the tool can vibrate (HAPTIC reaches it).
        local_limit: whether the tool can watch a limit by itself (LOCAL_LIMIT reaches it).
        device_id: the tool's own id, when the link tells it (not the INFO frame).
        firmware: its firmware version, when the link tells it.
    """

    transport: str
    connected: bool = True
    name: str = ""
    address: str = ""
    rssi_dbm: int | None = None
    battery_mv: int | None = None
    haptics: bool = True
    local_limit: bool = True
    device_id: str | None = None
    firmware: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Chunk:
    """Bytes as they arrived, with the host time of arrival (virtual time for replays)."""

    data: bytes
    t_host: float


class Transport(ABC):
    """Moves bytes between the host and a tool.

    Attributes:
        framing: ``"stream"`` for a byte stream (serial: COBS frames or text lines), ``"packet"``
            when every chunk is exactly one protocol body (BLE notifications).
        at_stream_start: true when the first byte read is the first byte the tool sent (replay
            files, the simulator), so a first frame or line is not torn.
        live_timing: chunks arrive in real time, so arrival can check the tool's timing claims.
        description: a human-readable name for logs and the status strip.
    """

    framing: ClassVar[Framing] = "stream"
    #: Chunks are stamped with their real arrival time (replays, and the simulator at any speed
    #: but real time, stamp a virtual one).
    live_timing: bool = True
    _closed: bool = True  # class default: a transport whose __init__ failed is "closed"

    def __init__(self, description: str, *, at_stream_start: bool = False) -> None:
        self.description = description
        self.at_stream_start = at_stream_start
        self._closed = False

    def read(self, timeout: float) -> Chunk | None:
        """Wait up to ``timeout`` seconds for bytes.

        Returns:
            The next chunk, or None when nothing arrived in time.

        Raises:
            SourceLostError: the device went away (or the transport was closed).
            EOFError: a finite source (replay) has nothing more.
        """
        if self._closed:
            raise SourceLostError(f"{self.description} is closed")
        return self._read(timeout)

    def write(self, data: bytes) -> None:
        """Send command bytes to the tool; errors while it is gone are logged, not raised."""
        if self._closed:
            return
        try:
            self._write(data)
        except SourceLostError as exc:
            log.warning("could not send to %s: %s", self.description, exc)

    def close(self) -> None:
        """Release the device. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if not self._closed:
            log.warning("%s was not closed", getattr(self, "description", type(self).__name__))

    @abstractmethod
    def _read(self, timeout: float) -> Chunk | None:
        """Backend hook for :meth:`read`."""

    @abstractmethod
    def _write(self, data: bytes) -> None:
        """Backend hook for :meth:`write`."""

    @abstractmethod
    def _close(self) -> None:
        """Backend hook for :meth:`close`."""

    @staticmethod
    def now() -> float:
        """The host clock transports stamp chunks with."""
        return time.monotonic()


class Source(ABC):
    """Yields readings from a tool and accepts commands for it.

    Attributes:
        url: the source string it was opened from.
        description: a human-readable name.
        capture: optional hook receiving every raw chunk (``record --capture``).
    """

    def __init__(self, url: str, description: str) -> None:
        self.url = url
        self.description = description
        self.capture: CaptureHook | None = None

    @abstractmethod
    def read(self, timeout: float) -> list[Reading]:
        """Wait up to ``timeout`` for data and return the readings it completes (maybe none).

        Raises:
            SourceLostError: the device went away; the bridge may reopen the source.
            EOFError: a finite source is exhausted; the session ends.
        """

    @abstractmethod
    def send(self, frame_type: int, payload: bytes = b"") -> bool:
        """Send a host → tool command. Returns False when this source cannot carry commands."""

    @property
    @abstractmethod
    def stats(self) -> DecoderStats:
        """Decoder counters for this connection."""

    @property
    def format(self) -> str:
        """The wire format in use: ``binary``, ``text``, ``csv``, or ``unknown`` while detecting."""
        return "unknown"

    @property
    def live_timing(self) -> bool:
        """Whether readings arrive in real time, so their arrival can check the tool's own
        timing claims (false for replays, whose arrival is virtual)."""
        return False

    def zero_device(self) -> bool:
        """Ask the tool to zero its own scale (one that sends force, not counts).

        Returns:
            Whether the tool can do that and was asked to; False by default.
        """
        return False

    def link_status(self) -> LinkStatus | None:
        """The wireless link's facts (RSSI, battery, what the tool can do); None for a wired or
        simulated source. Cheap: safe to call on every flush."""
        return None

    @abstractmethod
    def close(self) -> None:
        """Release the device. Idempotent."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
