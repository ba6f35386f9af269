"""What the virtual BLE tools send and how they answer writes: pure models, no I/O, no clock.

:class:`PressureGuardModel` serves the simulator (:class:`~firmware_bridge.sources.sim_model.
SimulatedTool`) as protocol v1 bodies, one per notification; :class:`ProgressorModel` serves the
same force patterns as a Tindeq Progressor. Both are driven by the device time the caller passes
(seconds since power-up), so a seeded model sends the same bytes whatever the host's timing.
``pressureguard ble-sim`` (:mod:`firmware_bridge.ble.peripheral`) puts them on the air.
"""

from __future__ import annotations

import logging
import math
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from cobs import cobs

from firmware_bridge.protocol import frames, progressor
from firmware_bridge.protocol.frames import FrameType
from firmware_bridge.protocol.progressor import Command
from firmware_bridge.sources.sim_model import SimConfig, SimulatedTool, make_pattern

log = logging.getLogger(__name__)

_LIMIT = struct.Struct("<ib")


@dataclass(slots=True)
class Heard:
    """One write a virtual tool received, decoded as far as it could be.

    Attributes:
        data: the bytes written.
        ok: whether it was a valid command for this tool.
        command: the frame type (PressureGuard) or opcode (Progressor), when valid.
        payload: the command's payload.
    """

    data: bytes
    ok: bool
    command: int | None = None
    payload: bytes = b""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (hex bytes)."""
        return {
            "data": self.data.hex(),
            "ok": self.ok,
            "command": self.command,
            "payload": self.payload.hex(),
        }


@dataclass(slots=True)
class PressureGuardModel:
    """Our firmware's side of the GATT: bodies out, HELLO / HAPTIC / LOCAL_LIMIT in.

    Attributes:
        haptic: the last HAPTIC pattern (reserved values act as 2).
        local_limit: the last valid LOCAL_LIMIT as (raw threshold, direction), or None.
    """

    config: SimConfig
    tool: SimulatedTool = field(init=False)
    haptic: int = 0
    local_limit: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        self.tool = SimulatedTool(self.config, keep_truth=False)

    def due(self, device_s: float) -> list[bytes]:
        """Every body the tool sends up to device time ``device_s`` (one per notification)."""
        stream = self.tool.next_frames(device_s)
        return [cobs.decode(part) for part in stream.split(frames.DELIMITER) if part]

    def next_due_s(self) -> float:
        """Device time of the next body."""
        return self.tool.next_due_s()

    def subscribed(self) -> None:
        """A host enabled notifications: the tool sends INFO (PROTOCOL.md §9)."""
        self.tool.request_info()

    def heard(self, data: bytes, device_s: float = 0.0) -> Heard:
        """Act on one write (one body, no COBS); bad frames are dropped silently (§5)."""
        if (
            len(data) < frames.MIN_BODY
            or int.from_bytes(data[-2:], "little") != frames.crc16(data[:-2])
            or data[0] != frames.VERSION
        ):
            return Heard(data, ok=False)
        ftype, payload = data[1], data[frames.HEADER_SIZE : -frames.CRC_SIZE]
        ok = True
        if ftype == FrameType.HELLO:
            self.tool.request_info()
        elif ftype == FrameType.HAPTIC and len(payload) == 1:
            self.haptic = min(payload[0], 2)
        elif ftype == FrameType.LOCAL_LIMIT and len(payload) == _LIMIT.size:
            threshold, direction = _LIMIT.unpack(payload)
            if direction in (-1, 0, 1):
                self.local_limit = (threshold, direction)
            else:
                ok = False
        else:
            ok = False
        return Heard(data, ok, ftype, payload)


class ProgressorModel:
    """A Progressor: the simulator's force as kg, ``per_packet`` samples per notification.

    Args:
        config: the simulator's configuration (seed, rate, pattern, limit, clock start).
        per_packet: samples per weight notification (1–31).
        device_id: the id GET_PROGRESSOR_ID answers.
        battery_mv: the battery voltage GET_BATTERY_VOLTAGE answers.
    """

    VERSION = "1.2.3-sim"
    NOISE_KG = 0.003

    def __init__(
        self,
        config: SimConfig,
        per_packet: int = 2,
        device_id: int = 0x1A2B3C,
        battery_mv: int = 3900,
    ) -> None:
        if not 1 <= per_packet <= 31:
            raise ValueError("a weight notification carries 1 to 31 samples")
        self.config = config
        self.per_packet = per_packet
        self.device_id = device_id
        self.battery_mv = battery_mv
        plan, noise = np.random.SeedSequence(config.seed).spawn(2)
        self._pattern = make_pattern(config.pattern, config, np.random.default_rng(plan))
        self._noise = np.random.default_rng(noise)
        self.period_us = config.period_us
        self.measuring_since: float | None = None  # device time of START_WEIGHT_MEAS
        self._sent = 0  # samples sent since START
        self._last_t = -math.inf  # the pattern's clock must only go forward
        self.tare_kg = 0.0
        self._last_kg = 0.0
        self._answers: list[bytes] = []

    def due(self, device_s: float) -> list[bytes]:
        """Answers to commands, then every weight notification complete by ``device_s``."""
        out, self._answers = self._answers, []
        if self.measuring_since is None:
            return out
        elapsed_us = (device_s - self.measuring_since) * 1e6
        ready = math.floor(elapsed_us / self.period_us + 1e-9) + 1  # samples taken so far
        while ready - self._sent >= self.per_packet:
            index = self._sent + np.arange(self.per_packet)
            t_us = index * self.period_us
            t_pattern = np.maximum(self.measuring_since + t_us / 1e6, self._last_t + 1e-9)
            self._last_t = float(t_pattern[-1])
            force_n = self._pattern.force(t_pattern)
            kg = force_n / progressor.KG_N + self._noise.normal(0.0, self.NOISE_KG, index.size)
            kg = kg - self.tare_kg
            self._last_kg = float(kg[-1]) + self.tare_kg
            stamps = [int(self.config.clock_start_us + t) for t in t_us]
            out.append(progressor.weight_notification(list(zip(kg.tolist(), stamps, strict=True))))
            self._sent += self.per_packet
        return out

    def next_due_s(self) -> float:
        """Device time of the next notification (infinity while not measuring, no answer due)."""
        if self._answers:
            return 0.0
        if self.measuring_since is None:
            return math.inf
        last = self._sent + self.per_packet - 1
        return self.measuring_since + last * self.period_us / 1e6

    def subscribed(self) -> None:
        """Nothing: a Progressor waits for commands."""

    def heard(self, data: bytes, device_s: float) -> Heard:
        """Act on one control-point write (a bare opcode, or an opcode with a payload)."""
        if not data:
            return Heard(data, ok=False)
        opcode, payload = data[0], data[1:]
        if opcode == Command.START_WEIGHT_MEAS:
            self.measuring_since, self._sent = device_s, 0
        elif opcode == Command.STOP_WEIGHT_MEAS:
            self.measuring_since = None
        elif opcode == Command.TARE_SCALE:
            self.tare_kg = self._last_kg
        elif opcode == Command.GET_BATTERY_VOLTAGE:
            self._answers.append(progressor.battery_response(self.battery_mv))
        elif opcode == Command.GET_PROGRESSOR_ID:
            self._answers.append(progressor.id_response(self.device_id))
        elif opcode == Command.GET_APP_VERSION:
            self._answers.append(progressor.text_response(self.VERSION))
        else:
            return Heard(data, ok=False, command=opcode, payload=payload)
        return Heard(data, ok=True, command=opcode, payload=payload)
