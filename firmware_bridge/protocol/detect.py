"""Format detection: binary protocol v1 or plain text lines, decided from the first bytes.

Auto mode holds the first bytes back while it looks at them. It decides **binary** as soon as one
CRC-valid frame decodes (a throwaway :class:`BinaryDecoder` sees the same bytes), and **text** as
soon as two complete lines of printable text follow each other. Binary is checked first: text never
contains the ``0x00`` every frame ends with, while a short run of binary can look like text. Once
decided, the held bytes are replayed, chunk by chunk with their arrival times, into the real
decoder, so the result is exactly what that decoder would have given from the first byte.
"""

from __future__ import annotations

import logging
import re
from typing import Literal

from firmware_bridge.errors import ProtocolError, UsageError
from firmware_bridge.protocol.binary import BinaryDecoder
from firmware_bridge.protocol.text import MAX_LINE, TextDecoder, TextOptions
from firmware_bridge.readings import DecoderStats, Reading

log = logging.getLogger(__name__)

Format = Literal["auto", "binary", "text"]
#: Bytes looked at before giving up.
DETECT_LIMIT = 4096
#: Consecutive printable lines that make a stream text.
TEXT_LINES = 2
#: Immutable, so one shared default instance is safe.
DEFAULT_TEXT_OPTIONS = TextOptions()
NO_FORMAT_MESSAGE = "no PressureGuard frames or text lines in the first 4 KiB: wrong baud rate?"

_SPLIT = re.compile(rb"\r\n|\r|\n")
_CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")
_WORDY = re.compile(rb"[A-Za-z0-9]")


class _LineProbe:
    """Counts consecutive complete, printable, non-blank lines (blank lines are neutral)."""

    def __init__(self, at_stream_start: bool) -> None:
        self._partial = bytearray()
        self._skip_first = not at_stream_start
        self.run = 0

    def feed(self, data: bytes) -> bool:
        """Scan a chunk; True once :data:`TEXT_LINES` good lines followed each other."""
        parts = _SPLIT.split(bytes(self._partial) + data)
        self._partial = bytearray(parts.pop()[: MAX_LINE + 1])
        for line in parts:
            if self._skip_first:  # may be torn
                self._skip_first = False
            elif not line.strip():
                continue
            elif self._good(line):
                self.run += 1
                if self.run >= TEXT_LINES:
                    return True
            else:
                self.run = 0
        return False

    @staticmethod
    def _good(line: bytes) -> bool:
        if len(line) > MAX_LINE or _CONTROL.search(line) or not _WORDY.search(line):
            return False
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True


class AutoDecoder:
    """Decodes a serial byte stream in the format given, or the one detected from its first bytes.

    Args:
        fmt: ``auto`` to detect, or ``binary``/``text`` to skip detection.
        text: options for text lines.
        at_stream_start: the first byte fed is the first the tool sent (replays, simulator).

    Raises:
        UsageError: ``fmt`` is not one of auto, binary, text.
    """

    def __init__(
        self,
        fmt: Format = "auto",
        text: TextOptions = DEFAULT_TEXT_OPTIONS,
        *,
        at_stream_start: bool = False,
    ) -> None:
        if fmt not in ("auto", "binary", "text"):
            raise UsageError(f"unknown --format {fmt!r}: use auto, binary or text")
        self._text_options = text
        self._at_stream_start = at_stream_start
        self._decoder: BinaryDecoder | TextDecoder | None = None
        self._held: list[tuple[bytes, float]] = []
        self._held_size = 0
        self._probe = BinaryDecoder()
        self._lines = _LineProbe(at_stream_start)
        self._placeholder = DecoderStats()
        self._failed = False
        if fmt != "auto":
            self._choose(fmt)

    @property
    def format(self) -> str:
        """``unknown`` while detecting, then ``binary`` or ``text``."""
        if isinstance(self._decoder, BinaryDecoder):
            return "binary"
        if isinstance(self._decoder, TextDecoder):
            return "text"
        return "unknown"

    @property
    def decoder(self) -> BinaryDecoder | TextDecoder | None:
        """The decoder in use, once the format is known."""
        return self._decoder

    @property
    def stats(self) -> DecoderStats:
        """The chosen decoder's counters; before that, the bytes held back as ``skipped_bytes``."""
        if self._decoder is not None:
            return self._decoder.stats
        self._placeholder.skipped_bytes = self._held_size
        return self._placeholder

    def feed(self, data: bytes, t_host: float) -> list[Reading]:
        """Decode a chunk of the serial stream, detecting the format first if needed.

        Args:
            data: bytes as they arrived.
            t_host: host arrival time in seconds.

        Returns:
            The readings completed so far (none while still detecting).

        Raises:
            ProtocolError: 4 KiB arrived without one frame or two text lines.
        """
        if self._decoder is not None:
            return self._decoder.feed(data, t_host)
        if self._failed:
            raise ProtocolError(NO_FORMAT_MESSAGE)
        if not data:
            return []
        data = bytes(data)
        self._held.append((data, t_host))
        room = DETECT_LIMIT - self._held_size
        self._held_size += len(data)
        window = data[:room] if room > 0 else b""
        if window:
            self._probe.feed(window)
            if self._probe.stats.frames:
                return self._decide("binary")
            if self._lines.feed(window):
                return self._decide("text")
        if self._held_size >= DETECT_LIMIT:
            self._failed = True
            self._held.clear()
            log.warning("format detection failed after %d bytes", DETECT_LIMIT)
            raise ProtocolError(NO_FORMAT_MESSAGE)
        return []

    def feed_body(self, body: bytes, t_host: float) -> list[Reading]:
        """Decode one BLE packet body; packets always carry the binary protocol.

        Raises:
            ProtocolError: the format was forced to text.
        """
        out: list[Reading] = []
        if self._decoder is None:
            out = self._decide("binary")
        if not isinstance(self._decoder, BinaryDecoder):
            raise ProtocolError("BLE packets carry the binary protocol: --format text cannot apply")
        return out + self._decoder.feed_body(body, t_host)

    # -- internals ----------------------------------------------------------------------------

    def _choose(self, fmt: str) -> BinaryDecoder | TextDecoder:
        decoder: BinaryDecoder | TextDecoder
        if fmt == "binary":
            decoder = BinaryDecoder()
        else:
            decoder = TextDecoder(self._text_options, at_stream_start=self._at_stream_start)
        self._decoder = decoder
        return decoder

    def _decide(self, fmt: str) -> list[Reading]:
        log.info("input format detected: %s (after %d bytes)", fmt, self._held_size)
        decoder = self._choose(fmt)
        held, self._held = self._held, []
        out: list[Reading] = []
        for data, t_host in held:  # replay with the original arrival times
            out += decoder.feed(data, t_host)
        return out
