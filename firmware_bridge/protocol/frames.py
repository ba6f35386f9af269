"""Wire protocol v1: frame types, CRC, and encoders (see ``hardware/PROTOCOL.md``).

``body = header(8) ‖ payload ‖ crc(2)``, little-endian; serial frames are ``COBS(body) ‖ 0x00``.
Encoders live here so that the simulator, tests and benchmarks build exactly what a tool sends.
"""

from __future__ import annotations

import binascii
import struct
from enum import IntEnum

import numpy as np
from cobs import cobs

VERSION = 1
HEADER = struct.Struct("<BBHI")  # version, type, seq, t_us
HEADER_SIZE = HEADER.size  # 8
CRC_SIZE = 2
MIN_BODY = HEADER_SIZE + CRC_SIZE
SAMPLES_HEAD = struct.Struct("<HB")  # period_us, n
MAX_SAMPLES_PER_FRAME = 32
#: Largest SAMPLES body: 32 samples, 8 + 3 + 128 + 2 = 141 bytes (``13 + 4·n`` in general).
MAX_SAMPLES_BODY = HEADER_SIZE + SAMPLES_HEAD.size + 4 * MAX_SAMPLES_PER_FRAME + CRC_SIZE
#: Largest INFO JSON. 231 makes the body 241 bytes, so one INFO fits a BLE notification at the
#: commonly negotiated ATT MTU of 247 (a 244-byte value).
MAX_INFO_PAYLOAD = 231
MAX_INFO_BODY = HEADER_SIZE + MAX_INFO_PAYLOAD + CRC_SIZE
#: Fixed body sizes of the other tool → host types.
BUTTON_BODY = MIN_BODY + 1
STATUS_BODY = MIN_BODY + 3
#: Largest legal body of any type (an INFO): the decoder's first, type-blind length bound.
MAX_BODY = max(MAX_SAMPLES_BODY, MAX_INFO_BODY)
DELIMITER = b"\x00"

#: BLE GATT identity of PressureGuard firmware (PROTOCOL.md §9).
BLE_SERVICE_UUID = "d88e0001-d0c8-474f-93bf-f3dbbc140807"
BLE_NOTIFY_UUID = "d88e0002-d0c8-474f-93bf-f3dbbc140807"  # tool → host, NOTIFY
BLE_WRITE_UUID = "d88e0003-d0c8-474f-93bf-f3dbbc140807"  # host → tool, WRITE (with response)
BLE_NAME_PREFIX = "PressureGuard"

#: HX711 24-bit rails: a reading pinned here means the ADC is saturated.
ADC24_MAX = (1 << 23) - 1
ADC24_MIN = -(1 << 23)


class FrameType(IntEnum):
    """Frame type byte."""

    SAMPLES = 0x01
    INFO = 0x02
    BUTTON = 0x03
    STATUS = 0x04
    HAPTIC = 0x81
    LOCAL_LIMIT = 0x82
    HELLO = 0x83


class Haptic(IntEnum):
    """HAPTIC patterns."""

    OFF = 0
    CAUTION = 1
    CONTINUOUS = 2


STATUS_SATURATED = 0x01
STATUS_ADC_FAULT = 0x02


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor).

    ``binascii.crc_hqx`` is exactly this polynomial without reflection; seeding it with 0xFFFF
    gives the FALSE variant at C speed.
    """
    return binascii.crc_hqx(data, 0xFFFF)


def build_body(frame_type: int, seq: int, t_us: int, payload: bytes = b"") -> bytes:
    """Header ‖ payload ‖ CRC, as carried by one BLE notification or write."""
    head = HEADER.pack(VERSION, frame_type, seq & 0xFFFF, t_us & 0xFFFFFFFF) + payload
    return head + struct.pack("<H", crc16(head))


def frame_serial(body: bytes) -> bytes:
    """COBS-encode a body and append the 0x00 delimiter, as sent over serial."""
    return cobs.encode(body) + DELIMITER


def samples_payload(period_us: int, raw: np.ndarray | list[int]) -> bytes:
    """SAMPLES payload for 1–32 raw counts."""
    counts = np.asarray(raw, dtype="<i4")
    if not 1 <= counts.size <= MAX_SAMPLES_PER_FRAME:
        raise ValueError(f"SAMPLES carries 1 to {MAX_SAMPLES_PER_FRAME} samples, not {counts.size}")
    return SAMPLES_HEAD.pack(period_us, counts.size) + counts.tobytes()


def button_payload(pressed: bool) -> bytes:
    """BUTTON payload."""
    return bytes([1 if pressed else 0])


def status_payload(battery_mv: int, saturated: bool = False, adc_fault: bool = False) -> bytes:
    """STATUS payload."""
    flags = (STATUS_SATURATED if saturated else 0) | (STATUS_ADC_FAULT if adc_fault else 0)
    return struct.pack("<HB", battery_mv, flags)


def haptic_payload(pattern: Haptic | int) -> bytes:
    """HAPTIC payload (host → tool)."""
    return bytes([int(pattern)])


def local_limit_payload(raw_threshold: int, direction: int) -> bytes:
    """LOCAL_LIMIT payload (host → tool): alert when raw crosses the threshold in ``direction``."""
    if direction not in (-1, 0, 1):
        raise ValueError("direction is -1, 0 or +1")
    return struct.pack("<ib", raw_threshold, direction)
