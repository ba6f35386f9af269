"""Incremental decoder for wire protocol v1 (COBS-framed serial stream, or BLE bodies).

Pure: bytes in, readings out, no I/O. It never raises on bad input: every frame that cannot be used
is counted by kind in :class:`~firmware_bridge.readings.DecoderStats`, and decoding resumes at the
next ``0x00``. Lost frames are counted from gaps in ``seq`` (16-bit, wrapping); the 32-bit
microsecond clock is unwrapped into a continuous device time. A tool restart is reported as a
:class:`ClockReset` and starts the seq and clock histories again. A restart is an INFO with
``seq == 0`` that is neither the first frame nor the successor of seq 65535 (a tool starts ``seq``
at 0 and sends INFO first after power-up), or a clock that jumps backwards by more than
:data:`RESET_BACKSTEP_US`.
"""

from __future__ import annotations

import json
import logging
import struct

import numpy as np
from cobs import cobs

from firmware_bridge.protocol.frames import (
    BUTTON_BODY,
    CRC_SIZE,
    HEADER,
    HEADER_SIZE,
    MAX_BODY,
    MAX_INFO_BODY,
    MAX_SAMPLES_PER_FRAME,
    MIN_BODY,
    SAMPLES_HEAD,
    STATUS_ADC_FAULT,
    STATUS_BODY,
    STATUS_SATURATED,
    VERSION,
    FrameType,
    crc16,
)
from firmware_bridge.readings import (
    ButtonEvent,
    ClockReset,
    DecoderStats,
    DeviceInfo,
    DeviceStatus,
    Reading,
    SampleBatch,
)

log = logging.getLogger(__name__)

U32 = 1 << 32
#: Events may be sent slightly out of time order (a button pressed while a SAMPLES frame was being
#: filled); only a larger backwards step means the tool restarted its clock.
RESET_BACKSTEP_US = 500_000
#: COBS adds one byte per 254 and the delimiter; anything longer between delimiters is garbage.
#: Follows MAX_BODY, the largest body of any type (an INFO of 241 bytes): 243.
MAX_ENCODED = MAX_BODY + MAX_BODY // 254 + 2
_CRC = struct.Struct("<H")
_STATUS = struct.Struct("<HB")
_SAMPLES_FIXED = HEADER_SIZE + SAMPLES_HEAD.size + CRC_SIZE  # 13: a SAMPLES body is 13 + 4·n


def _size_ok(ftype: int, body: bytes) -> bool | None:
    """Whether a CRC-valid body has the size its type requires; None for a type the host rejects.

    SAMPLES is exactly ``13 + 4·n`` with n = 1…32 (at most 141 bytes), INFO at most 241 bytes,
    BUTTON and STATUS their fixed sizes.
    """
    size = len(body)
    if ftype == FrameType.SAMPLES:
        if size < _SAMPLES_FIXED:
            return False
        _period, n = SAMPLES_HEAD.unpack_from(body, HEADER_SIZE)
        return 1 <= n <= MAX_SAMPLES_PER_FRAME and size == _SAMPLES_FIXED + 4 * n
    if ftype == FrameType.INFO:
        return size <= MAX_INFO_BODY
    if ftype == FrameType.BUTTON:
        return size == BUTTON_BODY
    if ftype == FrameType.STATUS:
        return size == STATUS_BODY
    return None


class BinaryDecoder:
    """Turns protocol v1 bytes into readings, counting every fault.

    Feed a serial byte stream in any chunking with :meth:`feed`, or whole BLE bodies with
    :meth:`feed_body`. Consecutive SAMPLES frames are merged into one :class:`SampleBatch` per call.
    """

    def __init__(self) -> None:
        self.stats = DecoderStats()
        self._buf = bytearray()
        self._synced = False  # seen a delimiter yet: bytes before it may be a torn frame
        self._discarding = False  # inside an over-long run without a delimiter
        self._last_seq: int | None = None
        self._last_t_us: int | None = None
        self._epoch_us = 0
        self._pending: list[
            tuple[int, int, int, bytes]
        ] = []  # (t_unwrapped_us, period, n, payload)
        self._out: list[Reading] = []

    # -- public API -------------------------------------------------------------------------

    def feed(self, data: bytes, t_host: float = 0.0) -> list[Reading]:
        """Decode a chunk of the COBS-framed serial stream.

        Args:
            data: bytes as they arrived; frames may be split anywhere.
            t_host: arrival time; unused, as every frame carries the device clock.

        Returns:
            The readings completed by this chunk, in stream order.
        """
        if not data:
            return []
        self._buf += data
        parts = self._buf.split(b"\x00")
        tail = parts.pop()
        for part in parts:
            if self._discarding:
                self._discarding = False
                self._synced = True
                continue
            if not self._synced:
                self._synced = True
                if part and not self._try_first(bytes(part)):
                    self.stats.skipped_bytes += len(part)
                continue
            if part:
                self._frame(bytes(part))
        if len(tail) > MAX_ENCODED:
            # Garbage without delimiters: drop it once, count one length fault, wait for 0x00.
            if not self._discarding:
                self.stats.faults["length"] += 1
            self._discarding = True
            tail = bytearray()
        self._buf = tail
        return self._drain()

    def feed_body(self, body: bytes, t_host: float = 0.0) -> list[Reading]:
        """Decode one whole body (one BLE notification, no COBS)."""
        self._body(body)
        return self._drain()

    # -- frames -----------------------------------------------------------------------------

    def _try_first(self, part: bytes) -> bool:
        """Decode the bytes before the first delimiter only if they are an intact frame."""
        try:
            body = cobs.decode(part)
        except cobs.DecodeError:
            return False
        if not MIN_BODY <= len(body) <= MAX_BODY or _CRC.unpack_from(body, len(body) - 2)[
            0
        ] != crc16(body[:-2]):
            return False
        self._body(body)
        return True

    def _frame(self, part: bytes) -> None:
        try:
            body = cobs.decode(part)
        except cobs.DecodeError:
            self.stats.faults["cobs"] += 1
            return
        self._body(body)

    def _body(self, body: bytes) -> None:
        size = len(body)
        if not MIN_BODY <= size <= MAX_BODY:
            self.stats.faults["length"] += 1
            return
        if _CRC.unpack_from(body, size - 2)[0] != crc16(body[:-2]):
            self.stats.faults["crc"] += 1
            return
        version, ftype, seq, t_us = HEADER.unpack_from(body)
        if version != VERSION:
            self.stats.faults["version"] += 1
            return
        size_ok = _size_ok(ftype, body)
        if size_ok is None:  # unknown, or a host → tool type echoed back
            self.stats.faults["type"] += 1
            return
        if not size_ok:
            self.stats.faults["length"] += 1
            return
        payload = body[HEADER_SIZE:-2]
        if ftype == FrameType.INFO:
            try:
                info = DeviceInfo.from_json(payload.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError, ValueError):
                self.stats.faults["invalid"] += 1
                return
        self.stats.frames += 1
        reason = self._restart_reason(ftype, seq, t_us)
        if reason:
            # A new segment: the restarted counter and clock are not compared with the old ones
            # (that would count phantom lost frames, or read the new clock as a wrap).
            self._flush_samples()
            log.info("tool restarted: %s", reason)
            self._out.append(ClockReset(t=(self._epoch_us + t_us) / 1e6))
            self._last_seq = None
            self._last_t_us = None
        t_unwrapped = self._unwrap(t_us)
        self._track_seq(seq)
        if ftype == FrameType.SAMPLES:
            period, n = SAMPLES_HEAD.unpack_from(payload)
            self._pending.append((t_unwrapped, period, n, payload[SAMPLES_HEAD.size :]))
            self.stats.samples += n
            return
        self._flush_samples()
        t = t_unwrapped / 1e6
        if ftype == FrameType.INFO:
            self._out.append(info)
        elif ftype == FrameType.BUTTON:
            self._out.append(ButtonEvent(t=t, pressed=payload[0] != 0))
        else:
            battery, flags = _STATUS.unpack(payload)
            self._out.append(
                DeviceStatus(
                    t=t,
                    battery_mv=battery or None,
                    saturated=bool(flags & STATUS_SATURATED),
                    adc_fault=bool(flags & STATUS_ADC_FAULT),
                )
            )

    # -- sequence and clock -----------------------------------------------------------------

    def _restart_reason(self, ftype: int, seq: int, t_us: int) -> str | None:
        """Why this frame means the tool restarted, or None (PROTOCOL.md §4)."""
        last_seq = self._last_seq
        if ftype == FrameType.INFO and seq == 0 and last_seq is not None and last_seq != 0xFFFF:
            # Power-up INFO. An INFO answering HELLO carries the current seq, and seq 0 after
            # 65535 is a wrap. This also catches restarts after 35.8+ min of uptime, whose
            # clock step looks like a forward wrap.
            return f"INFO with seq 0 after seq {last_seq}"
        if self._last_t_us is not None:
            back = self._last_t_us - t_us
            if RESET_BACKSTEP_US < back <= U32 // 2:
                return f"device clock went back {back / 1e6:.3f} s"
        return None

    def _track_seq(self, seq: int) -> None:
        last = self._last_seq
        self._last_seq = seq
        if last is None:
            return
        gap = (seq - last - 1) & 0xFFFF
        if gap < 0x8000:  # a larger "gap" is a duplicate or a restarted counter, not a loss
            self.stats.lost_frames += gap

    def _unwrap(self, t_us: int) -> int:
        """Continuous device time; restarts were handled before (see :meth:`_restart_reason`)."""
        last = self._last_t_us
        self._last_t_us = t_us
        if last is not None:
            back = last - t_us
            if back > U32 // 2:
                self._epoch_us += U32
            elif back + U32 <= RESET_BACKSTEP_US:
                # An event stamped just before the wrap but sent just after it: a small step back
                # across the wrap, not a jump forward (the next frame wraps forward again).
                self._epoch_us -= U32
        return self._epoch_us + t_us

    # -- output -----------------------------------------------------------------------------

    def _flush_samples(self) -> None:
        pending = self._pending
        if not pending:
            return
        self._pending = []
        raw = np.frombuffer(b"".join(p[3] for p in pending), dtype="<i4").astype(np.float64)
        if len(pending) == 1:
            t0, period, n, _ = pending[0]
            t = (t0 + period * np.arange(n, dtype=np.float64)) / 1e6
        else:
            meta = np.array([(p[0], p[1], p[2]) for p in pending], dtype=np.float64)
            counts = meta[:, 2].astype(np.intp)
            starts = np.repeat(np.cumsum(counts) - counts, counts)
            within = np.arange(raw.size, dtype=np.float64) - starts
            t = (np.repeat(meta[:, 0], counts) + within * np.repeat(meta[:, 1], counts)) / 1e6
        # period_us = 0 means "unknown" (rates below 15.26 Hz, n = 1): each sample is timed by
        # its own frame's t_us above, and no nominal period is claimed.
        period_us = pending[-1][1]
        self._out.append(
            SampleBatch(
                t=t, raw=raw, device_clock=True, period_s=period_us / 1e6 if period_us else None
            )
        )

    def _drain(self) -> list[Reading]:
        self._flush_samples()
        out, self._out = self._out, []
        return out
