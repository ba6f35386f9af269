"""A tool's protocol v1 byte stream with a clock, a frame counter and restarts, and a real bridge
fed from it in-process with arrival times of the test's choosing (``Bridge.feed``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from firmware_bridge.bridge import Bridge, RecordOptions
from firmware_bridge.protocol.binary import BinaryDecoder
from firmware_bridge.protocol.frames import FrameType, build_body, frame_serial, samples_payload
from firmware_bridge.readings import DeviceInfo
from firmware_bridge.store import Store

RATE_HZ = 80.0
PERIOD_US = 12_500
PER_FRAME = 4
FRAME_S = PER_FRAME * PERIOD_US / 1e6
INFO = DeviceInfo(
    device_id="pg-reliability-1",
    firmware="t",
    adc="hx711",
    rate_hz=RATE_HZ,
    counts_per_n=1000.0,
    offset_counts=0.0,
)


@dataclass
class Tool:
    """The tool: its own clock (µs since power-up) and frame counter, both reset by a reboot."""

    force_n: float = 5.0
    t_us: int = 0
    seq: int = 0
    sent_samples: int = 0
    decoder: BinaryDecoder = field(default_factory=BinaryDecoder)

    def _frame(self, ftype: int, payload: bytes) -> bytes:
        body = build_body(ftype, self.seq, self.t_us, payload)
        self.seq = (self.seq + 1) & 0xFFFF
        return frame_serial(body)

    def info(self) -> bytes:
        return self._frame(FrameType.INFO, INFO.to_json().encode())

    def samples(self) -> bytes:
        raw = np.full(PER_FRAME, round(self.force_n * INFO.counts_per_n))  # type: ignore[operator]
        data = self._frame(FrameType.SAMPLES, samples_payload(PERIOD_US, raw))
        self.t_us += PER_FRAME * PERIOD_US
        self.sent_samples += PER_FRAME
        return data

    def reboot(self) -> bytes:
        """Power cycle: the clock and counter start at 0 and the tool says INFO with seq 0."""
        self.t_us, self.seq = 0, 0
        return self.info()


class FedBridge:
    """A real bridge and store, recording one session, fed bytes through the real decoder.

    ``live_timing`` is on, as for a serial tool: arrival times are checked against the tool's
    clock, so what the arrival times do matters.
    """

    def __init__(self, data_dir: Path, limit_n: float = 20.0) -> None:
        self.store = Store.open(data_dir)
        self.bridge = Bridge(self.store, RecordOptions(source="sim://", limit_n=limit_n))
        self.bridge.live_timing = True
        self.decoder = BinaryDecoder()
        self.session_id = self.bridge.start_session("default", None)

    def feed(self, data: bytes, arrival: float) -> None:
        self.bridge.feed(self.decoder.feed(data), arrival)
        self.bridge._check_signal(arrival)

    def flush(self) -> None:
        self.bridge._flush()

    def close(self) -> int:
        session = self.bridge.stop_session()
        assert session == self.session_id
        self.store.close()
        return session


@contextmanager
def fed_bridge(data_dir: Path, limit_n: float = 20.0) -> Iterator[FedBridge]:
    fed = FedBridge(data_dir, limit_n)
    try:
        yield fed
    finally:
        if not fed.store.closed:
            fed.close()
