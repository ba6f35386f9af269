"""The built-in simulated tool as a transport: ``sim://?seed=3&rate=80&pattern=massage``.

:class:`SimTransport` paces the pure :class:`~firmware_bridge.sources.sim_model.SimulatedTool`
against the host clock (or runs it flat out) behind the ordinary
:class:`~firmware_bridge.sources.base.Transport` API, so the whole decoder and pipeline run on it.
"""

from __future__ import annotations

import logging
import math
import struct
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from cobs import cobs

from firmware_bridge.errors import UsageError
from firmware_bridge.protocol import frames
from firmware_bridge.protocol.frames import FrameType
from firmware_bridge.sources.base import Chunk, Transport
from firmware_bridge.sources.sim_model import PATTERNS, SimConfig, SimTruth, SimulatedTool

log = logging.getLogger(__name__)

__all__ = [
    "PATTERNS",
    "SimConfig",
    "SimOptions",
    "SimTransport",
    "SimTruth",
    "SimulatedTool",
    "parse_sim_url",
]


@dataclass(frozen=True, slots=True)
class SimOptions:
    """A parsed ``sim://`` URL: the tool, plus how the transport paces it."""

    config: SimConfig = field(default_factory=SimConfig)
    speed: float = 1.0
    duration_s: float | None = None


#: URL query key → (SimConfig field, type). ``speed`` and ``duration`` are the transport's.
_QUERY = {
    "seed": ("seed", int),
    "rate": ("rate_hz", float),
    "pattern": ("pattern", str),
    "limit": ("limit_n", float),
    "level": ("level", float),
    "noise": ("noise_counts", float),
    "spf": ("samples_per_frame", int),
    "device": ("device_id", str),
}


def _number(key: str, text: str, kind: type) -> float | int:
    try:
        value = kind(text)
    except ValueError:
        noun = "a whole number" if kind is int else "a number"
        raise UsageError(f"sim:// {key} must be {noun}, not {text!r}") from None
    if not math.isfinite(value):
        raise UsageError(f"sim:// {key} must be a finite number, not {text!r}")
    return value


def parse_sim_url(url: str) -> SimOptions:
    """Parse ``sim://?seed=3&rate=80&pattern=massage&limit=15&speed=1&duration=60``.

    Also accepted: ``level`` (steady pattern, N), ``noise`` (counts), ``spf`` (samples per
    frame), ``device`` (device id).

    Raises:
        UsageError: not a ``sim:`` URL, an unknown key, or a bad value.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:  # e.g. an unclosed "[" read as an IPv6 address
        raise UsageError(f"not a simulator source: {url!r} ({exc})") from None
    if parts.scheme.lower() != "sim":
        raise UsageError(f"not a simulator source: {url!r} (use sim://?seed=1)")
    if parts.netloc or parts.path.strip("/"):
        raise UsageError(f"sim:// takes options only as ?key=value, not {url!r}")
    values: dict[str, object] = {}
    speed, duration = 1.0, None
    for key, text in parse_qsl(parts.query, keep_blank_values=True):
        if key == "speed":
            speed = float(_number(key, text, float))
            if speed < 0:
                raise UsageError(
                    f"sim:// speed must be 0 (as fast as possible) or more, not {text}"
                )
        elif key == "duration":
            duration = float(_number(key, text, float))
            if duration <= 0:
                raise UsageError(f"sim:// duration must be positive seconds, not {text}")
        elif key in _QUERY:
            name, kind = _QUERY[key]
            values[name] = text if kind is str else _number(key, text, kind)
        else:
            valid = ", ".join([*_QUERY, "speed", "duration"])
            raise UsageError(f"sim:// has no option {key!r}; valid options: {valid}")
    return SimOptions(config=SimConfig(**values), speed=speed, duration_s=duration)  # type: ignore[arg-type]


_COMMAND = struct.Struct("<ib")  # LOCAL_LIMIT payload


class SimTransport(Transport):
    """The simulated tool as a byte-stream transport (``sim://`` URLs).

    ``speed=1`` paces output against :func:`time.monotonic`; ``speed=N`` runs N× real time;
    ``speed=0`` returns the next ~0.1 s of device time per read. With ``duration`` the stream ends
    (EOFError) after that many device seconds. A reader that falls behind catches up at most
    :attr:`MAX_CATCH_UP_S` of device time per read. Host → tool commands are decoded and
    recorded; HELLO makes the tool send INFO again with the next read.

    Attributes:
        tool: the :class:`SimulatedTool` behind it.
        commands: every valid command received, as ``(frame type, payload)``.
        haptic_pattern: the last HAPTIC pattern (0 off; reserved values act as 2).
        local_limit: the last valid LOCAL_LIMIT as ``(raw threshold, direction)``, or None.
        bad_commands: command frames that failed COBS, length, CRC or version checks.
    """

    framing = "stream"
    #: Longest stretch of device time one read returns when the reader has fallen behind.
    MAX_CATCH_UP_S = 1.0

    def __init__(self, url: str = "sim://", *, keep_truth: bool = False) -> None:
        self.options = parse_sim_url(url)
        # Only at real speed does arrival say anything about the tool's clock: at speed 0 the
        # chunks carry a virtual stamp, at speed N they come N times too fast on purpose.
        self.live_timing = self.options.speed == 1.0
        cfg = self.options.config
        self.tool = SimulatedTool(cfg, keep_truth=keep_truth)
        self.commands: list[tuple[int, bytes]] = []
        self.haptic_pattern = 0
        self.local_limit: tuple[int, int] | None = None
        self.bad_commands = 0
        self._rx = bytearray()
        self._lock = threading.Lock()  # commands may arrive from another thread than reads
        self._t0 = self.now()
        super().__init__(
            f"simulated tool {cfg.device_id} ({cfg.pattern}, seed {cfg.seed})", at_stream_start=True
        )

    def _read(self, timeout: float) -> Chunk | None:
        speed, end = self.options.speed, self.options.duration_s
        end_s = math.inf if end is None else end
        if speed == 0:
            with self._lock:
                tool = self.tool
                if tool.next_due_s() > end_s:
                    raise EOFError("simulated session finished")
                data = tool.next_frames(min(end_s, max(tool.time_s + 0.1, tool.next_due_s())))
                return Chunk(data, self._t0 + tool.time_s)
        deadline = self.now() + max(0.0, timeout)
        while True:
            now = self.now()
            with self._lock:
                tool = self.tool
                elapsed = (now - self._t0) * speed
                next_due = tool.next_due_s()
                if next_due > end_s and elapsed >= end_s:
                    raise EOFError("simulated session finished")
                if next_due <= min(elapsed, end_s):
                    due = min(elapsed, end_s, tool.time_s + self.MAX_CATCH_UP_S)
                    return Chunk(tool.next_frames(due), now)
                wait = (min(next_due, end_s) - elapsed) / speed
            if now >= deadline:
                return None
            time.sleep(max(0.0, min(wait, deadline - now)))

    def _write(self, data: bytes) -> None:
        with self._lock:
            self._rx += data
            *parts, tail = self._rx.split(frames.DELIMITER)
            self._rx = bytearray(tail)
            for part in parts:
                if part:
                    self._command(bytes(part))

    def _command(self, part: bytes) -> None:
        try:
            body = cobs.decode(part)
        except cobs.DecodeError:
            body = b""
        if (
            len(body) < frames.MIN_BODY
            or int.from_bytes(body[-2:], "little") != frames.crc16(body[:-2])
            or body[0] != frames.VERSION
        ):
            self.bad_commands += 1
            log.warning("simulated tool got a bad command frame (%d bytes)", len(part))
            return
        ftype, payload = body[1], body[frames.HEADER_SIZE : -frames.CRC_SIZE]
        self.commands.append((ftype, payload))
        log.debug("simulated tool got command 0x%02x %s", ftype, payload.hex())
        if ftype == FrameType.HELLO:
            self.tool.request_info()
        elif ftype == FrameType.HAPTIC and len(payload) == 1:
            self.haptic_pattern = min(payload[0], 2)  # reserved values act as 2: fail alerting
        elif ftype == FrameType.LOCAL_LIMIT and len(payload) == _COMMAND.size:
            threshold, direction = _COMMAND.unpack(payload)
            if direction in (-1, 0, 1):  # otherwise ignored; the previous limit stays
                self.local_limit = (threshold, direction)
        else:
            log.debug("simulated tool ignored command 0x%02x (%d bytes)", ftype, len(payload))

    def _close(self) -> None:
        log.debug("closed %s after %d frames", self.description, self.tool.frames_sent)
