"""A byte transport plus a decoder: the Source for serial, BLE, the simulator and captures."""

from __future__ import annotations

import logging
import time

from firmware_bridge.protocol.detect import AutoDecoder
from firmware_bridge.protocol.frames import build_body, frame_serial
from firmware_bridge.protocol.text import TextOptions
from firmware_bridge.readings import DecoderStats, Reading
from firmware_bridge.sources.base import Source, Transport

log = logging.getLogger(__name__)


class StreamSource(Source):
    """Decodes what a transport delivers (binary protocol v1 or text lines, detected or forced).

    Args:
        url: the source string.
        transport: an open transport; the source owns it from now on.
        fmt: ``auto``, ``binary`` or ``text``.
        text: options for text lines.
    """

    def __init__(
        self,
        url: str,
        transport: Transport,
        fmt: str = "auto",
        text: TextOptions | None = None,
    ) -> None:
        super().__init__(url, transport.description)
        self.transport = transport
        forced = "binary" if transport.framing == "packet" else fmt
        self.decoder = AutoDecoder(
            forced,  # type: ignore[arg-type]
            text or TextOptions(),
            at_stream_start=transport.at_stream_start,
        )
        self._seq = 0

    @property
    def format(self) -> str:
        return self.decoder.format

    @property
    def live_timing(self) -> bool:
        return self.transport.live_timing

    @property
    def stats(self) -> DecoderStats:
        return self.decoder.stats

    def read(self, timeout: float) -> list[Reading]:
        chunk = self.transport.read(timeout)
        if chunk is None:
            return []
        if self.capture is not None:
            self.capture(chunk)
        if self.transport.framing == "packet":
            return self.decoder.feed_body(chunk.data, chunk.t_host)
        return self.decoder.feed(chunk.data, chunk.t_host)

    def send(self, frame_type: int, payload: bytes = b"") -> bool:
        if self.decoder.format == "text":
            return False  # a plain HX711 sketch has no command channel
        t_us = int(time.monotonic() * 1e6)
        body = build_body(frame_type, self._seq, t_us, payload)
        self._seq = (self._seq + 1) & 0xFFFF
        self.transport.write(body if self.transport.framing == "packet" else frame_serial(body))
        return True

    def close(self) -> None:
        self.transport.close()
