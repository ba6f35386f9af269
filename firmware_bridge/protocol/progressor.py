"""The Tindeq Progressor BLE protocol (Progressor, Crimpdeq, Hangman, Mito): a pure decoder and
the command and notification encoders. No I/O.

Commands go to the control point as a bare opcode (as Tindeq's own sample sends them; the clones
accept it too). Notifications on the data point are ``code u8 ‖ length u8 ‖ payload``:

- code 1, weight: ``length / 8`` samples of ``f32 kg ‖ u32 µs since START_WEIGHT_MEAS``, all
  little-endian. The timestamp is *unsigned* (read as signed it turns negative after 2³¹ µs,
  35.8 min) and wraps after 2³² µs (71.6 min): it is unwrapped into continuous time here.
- code 0, the answer to the last command: what it means depends on that command, so the caller
  passes the request in flight with every notification (battery: u32 mV; version: text; id: an
  unsigned integer, little-endian, trailing zero bytes left out).
- code 4, low battery: the device is about to switch itself off.

The device's kg are calibrated force: samples carry ``force_n`` (kg × g) and no raw counts, so the
bridge judges them at once. Every notification that cannot be used is counted in
:class:`~firmware_bridge.readings.DecoderStats` (``length`` torn or garbled, ``invalid`` a
non-finite weight, ``type`` a code this host does not read); none is ever raised.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from firmware_bridge.readings import ClockReset, DecoderStats, DeviceStatus, Reading, SampleBatch

log = logging.getLogger(__name__)

SERVICE_UUID = "7e4e1701-1ea6-40c9-9dcc-13d34ffead57"
DATA_UUID = "7e4e1702-1ea6-40c9-9dcc-13d34ffead57"  # notify
CONTROL_UUID = "7e4e1703-1ea6-40c9-9dcc-13d34ffead57"  # write
NAME_PREFIX = "Progressor"
#: Standard gravity: the device's kilograms are kilograms-force.
KG_N = 9.80665
#: The weight stream's nominal rate (Tindeq and the open clones sample at 80 Hz).
NOMINAL_RATE_HZ = 80.0
U32 = 1 << 32
#: A backwards step of the timestamp larger than this (and not a wrap) means measuring restarted.
RESET_BACKSTEP_US = 500_000
SAMPLE = struct.Struct("<fI")  # f32 kg, u32 µs: unsigned, never "<fl"
HEAD = struct.Struct("<BB")


class Command(IntEnum):
    """Control-point opcodes."""

    TARE_SCALE = 0x64
    START_WEIGHT_MEAS = 0x65
    STOP_WEIGHT_MEAS = 0x66
    START_PEAK_RFD_MEAS = 0x67
    START_PEAK_RFD_MEAS_SERIES = 0x68
    ADD_CALIBRATION_POINT = 0x69
    SAVE_CALIBRATION = 0x6A
    GET_APP_VERSION = 0x6B
    GET_ERROR_INFORMATION = 0x6C
    CLR_ERROR_INFORMATION = 0x6D
    ENTER_SLEEP = 0x6E
    GET_BATTERY_VOLTAGE = 0x6F
    GET_PROGRESSOR_ID = 0x70


class Code(IntEnum):
    """Data-point notification codes."""

    COMMAND_RESPONSE = 0
    WEIGHT = 1
    RFD_PEAK = 2
    RFD_PEAK_SERIES = 3
    LOW_POWER = 4


#: Commands the device answers with a code-0 notification.
ANSWERED = frozenset(
    {
        Command.GET_APP_VERSION,
        Command.GET_BATTERY_VOLTAGE,
        Command.GET_PROGRESSOR_ID,
        Command.GET_ERROR_INFORMATION,
    }
)


@dataclass(frozen=True, slots=True)
class Reply:
    """What the device said besides weights: ``id``, ``version``, ``error_info``, ``low_power``."""

    what: str
    value: str = ""


# -- encoders (the simulator and tests build exactly what a device sends) -----------------------


def command(cmd: Command | int) -> bytes:
    """A control-point write: the bare opcode."""
    return bytes([int(cmd)])


def notification(code: int, payload: bytes) -> bytes:
    """One data-point notification."""
    if len(payload) > 255:
        raise ValueError("a notification payload is at most 255 bytes")
    return HEAD.pack(code, len(payload)) + payload


def weight_notification(samples: list[tuple[float, int]]) -> bytes:
    """A weight notification carrying ``(kg, t_us)`` samples (t_us taken mod 2³²)."""
    return notification(Code.WEIGHT, b"".join(SAMPLE.pack(kg, t_us % U32) for kg, t_us in samples))


def battery_response(millivolts: int) -> bytes:
    """The answer to GET_BATTERY_VOLTAGE."""
    return notification(Code.COMMAND_RESPONSE, struct.pack("<I", millivolts))


def id_response(device_id: int) -> bytes:
    """The answer to GET_PROGRESSOR_ID: u64 little-endian, trailing zero bytes left out."""
    return notification(
        Code.COMMAND_RESPONSE, device_id.to_bytes(8, "little").rstrip(b"\x00") or b"\x00"
    )


def text_response(text: str) -> bytes:
    """The answer to GET_APP_VERSION or GET_ERROR_INFORMATION."""
    return notification(Code.COMMAND_RESPONSE, text.encode("utf-8"))


# -- decoder ------------------------------------------------------------------------------------


class ProgressorDecoder:
    """Turns data-point notifications into readings, counting every fault, never raising."""

    def __init__(self) -> None:
        self.stats = DecoderStats()
        self._last_us: int | None = None
        self._epoch_us = 0

    @property
    def last_t(self) -> float:
        """Device time of the newest sample, in seconds (0 before any)."""
        return 0.0 if self._last_us is None else (self._epoch_us + self._last_us) / 1e6

    def feed(
        self, data: bytes, t_host: float = 0.0, request: bytes | None = None
    ) -> list[Reading | Reply]:
        """Decode one notification.

        Args:
            data: the notification's value.
            t_host: arrival time (unused: weights carry the device's clock).
            request: the command in flight when it arrived, which gives a code-0 answer its
                meaning.

        Returns:
            A sample batch, a battery status, a reply, a clock reset before samples of a
            restarted measurement, or nothing for a notification that could not be used.
        """
        if len(data) < HEAD.size:
            self.stats.faults["length"] += 1
            return []
        code, length = HEAD.unpack_from(data)
        payload = bytes(data[HEAD.size :])
        if len(payload) < length:  # torn: fewer bytes than announced
            self.stats.faults["length"] += 1
            return []
        payload = payload[:length]  # a device may pad; the length says what counts
        if code == Code.WEIGHT:
            return self._weights(payload)
        if code == Code.COMMAND_RESPONSE:
            return self._response(payload, request)
        if code == Code.LOW_POWER:
            self.stats.frames += 1
            return [Reply("low_power")]
        self.stats.faults["type"] += 1  # RFD modes are never started; anything else is unknown
        return []

    def _weights(self, payload: bytes) -> list[Reading | Reply]:
        if not payload or len(payload) % SAMPLE.size:
            self.stats.faults["length"] += 1
            return []
        pairs = np.frombuffer(payload, dtype=np.dtype([("kg", "<f4"), ("us", "<u4")]))
        with np.errstate(invalid="ignore"):  # a signalling NaN warns as it widens; counted below
            kg = pairs["kg"].astype(np.float64)
        finite = np.isfinite(kg)
        if not finite.all():
            self.stats.faults["invalid"] += 1
            if not finite.any():
                return []
        self.stats.frames += 1
        kg, stamps = kg[finite], pairs["us"][finite]
        out: list[Reading | Reply] = []
        t_us = np.empty(kg.size, dtype=np.float64)
        start = 0
        for i, stamp in enumerate(int(s) for s in stamps):
            if self._restarted(stamp):  # measuring restarted: a new time segment
                out += self._batch(t_us[start:i], kg[start:i])
                out.append(ClockReset(t=stamp / 1e6))
                self._last_us, self._epoch_us, start = None, 0, i
            t_us[i] = self._unwrap(stamp)
        out += self._batch(t_us[start:], kg[start:])
        return out

    def _batch(self, t_us: np.ndarray, kg: np.ndarray) -> list[Reading | Reply]:
        n = t_us.size
        if n == 0:
            return []
        t = t_us / 1e6
        step = float(np.median(np.diff(t_us))) / 1e6 if n > 1 else 0.0
        self.stats.samples += n
        return [
            SampleBatch(
                t=t,
                raw=np.full(n, np.nan),
                force_n=kg * KG_N,
                device_clock=True,
                period_s=step if step > 0 else None,
            )
        ]

    def _restarted(self, stamp: int) -> bool:
        if self._last_us is None:
            return False
        back = self._last_us - stamp
        return RESET_BACKSTEP_US < back <= U32 // 2

    def _unwrap(self, stamp: int) -> int:
        last = self._last_us
        self._last_us = stamp
        if last is not None and last - stamp > U32 // 2:
            self._epoch_us += U32  # the u32 wrapped (every 71.6 min)
        return self._epoch_us + stamp

    def _response(self, payload: bytes, request: bytes | None) -> list[Reading | Reply]:
        asked = request[0] if request else None
        if asked == Command.GET_BATTERY_VOLTAGE:
            if len(payload) not in (2, 4):
                self.stats.faults["length"] += 1
                return []
            self.stats.frames += 1
            millivolts = int.from_bytes(payload, "little")
            return [DeviceStatus(t=self.last_t, battery_mv=millivolts or None, saturated=False,
                                 adc_fault=False)]  # fmt: skip
        if asked == Command.GET_PROGRESSOR_ID:
            if not 1 <= len(payload) <= 8:
                self.stats.faults["length"] += 1
                return []
            self.stats.frames += 1
            return [Reply("id", f"{int.from_bytes(payload, 'little'):X}")]
        if asked in (Command.GET_APP_VERSION, Command.GET_ERROR_INFORMATION):
            text = payload.split(b"\x00", 1)[0].decode("utf-8", "replace").strip()
            if not text.isprintable():
                self.stats.faults["invalid"] += 1
                return []
            self.stats.frames += 1
            what = "version" if asked == Command.GET_APP_VERSION else "error_info"
            return [Reply(what, text)]
        log.debug("unexpected command response (%d bytes) to %s", len(payload), asked)
        self.stats.frames += 1
        return []
