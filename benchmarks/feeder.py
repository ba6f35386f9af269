"""A separate process that plays the tool: writes to a pty master fd handed over by the parent.

Modes:
    flood FD FILE            write FILE's bytes as fast as the reader takes them
    paced-binary FD HZ S T0  one SAMPLES frame (1 sample) every 1/HZ s for S s; t_us = µs since T0
    paced-text FD HZ S T0    one line "<µs since T0>,<raw>" every 1/HZ s for S s
    paced-steady FD HZ S T0  as paced-binary, holding a steady 10 N (a limit change alone
                             changes the zone)

T0 is a ``time.monotonic()`` value of the parent (the clock is system-wide), so the parent can
tell when every sample was written.
"""

from __future__ import annotations

import os
import select
import sys
import time
from collections.abc import Callable
from pathlib import Path

from firmware_bridge.protocol.frames import FrameType, build_body, frame_serial, samples_payload
from firmware_bridge.readings import DeviceInfo

INFO = DeviceInfo(
    device_id="pg-bench", firmware="bench", adc="HX711", rate_hz=1000.0,
    counts_per_n=10700.0, offset_counts=84000.0,
)  # fmt: skip


def write_all(fd: int, data: bytes) -> None:
    """Write every byte, waiting while the pty buffer is full."""
    view = memoryview(data)
    while view:
        select.select([], [fd], [])
        view = view[os.write(fd, view[:65536]) :]


def raw_at(i: int) -> int:
    """A slow 0.5 Hz press between 0 and 12 N: zones change now and then."""
    phase = (i % 2000) / 2000
    force = 12.0 * (1 - abs(2 * phase - 1)) if i >= 1000 else 0.0
    return round(84000 + force * 10700)


#: The steady mode's force (N).
STEADY_N = 10.0


def steady_raw(_i: int) -> int:
    """A steady :data:`STEADY_N` from the first sample (the tare refuses a loaded tool, so the
    INFO frame's offset stays the zero)."""
    return round(84000 + STEADY_N * 10700)


def paced(
    fd: int, hz: float, seconds: float, t0: float, *, text: bool, raw: Callable[[int], int] = raw_at
) -> None:
    """Write one sample every 1/hz s on a deadline schedule; ``raw(i)`` gives the i-th value."""
    period = 1.0 / hz
    start = time.monotonic()
    seq = 1
    if not text:
        write_all(
            fd, b"\x00" + frame_serial(build_body(FrameType.INFO, 0, 0, INFO.to_json().encode()))
        )
    for i in range(int(hz * seconds)):
        deadline = start + i * period
        while (now := time.monotonic()) < deadline:
            if deadline - now > 0.0005:
                time.sleep(deadline - now - 0.0004)
        t_us = int((time.monotonic() - t0) * 1e6)
        if text:
            write_all(fd, f"{t_us},{raw(i)}\n".encode())
        else:
            payload = samples_payload(int(period * 1e6), [raw(i)])
            write_all(fd, frame_serial(build_body(FrameType.SAMPLES, seq, t_us, payload)))
            seq = (seq + 1) & 0xFFFF


def main(argv: list[str]) -> None:
    """Entry point: see the module docstring."""
    mode, fd = argv[0], int(argv[1])
    if mode == "flood":
        write_all(fd, Path(argv[2]).read_bytes())
    else:
        raw = steady_raw if mode == "paced-steady" else raw_at
        paced(
            fd, float(argv[2]), float(argv[3]), float(argv[4]), text=mode == "paced-text", raw=raw
        )
    time.sleep(0.5)  # let the reader drain before the pty closes


if __name__ == "__main__":
    main(sys.argv[1:])
