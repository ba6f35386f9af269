"""A fake tool on a real pseudo-terminal, reachable at a fixed path (a symlink to the pty slave).

The path stays the same when the "tool" is unplugged and plugged back in, like a udev by-id link,
so a test can remove the pty mid-session and create a new one at the same path.
"""

from __future__ import annotations

import contextlib
import os
import pty
import select
import threading
import time
import tty
from pathlib import Path

import numpy as np
from cobs import cobs

from firmware_bridge.protocol.frames import FrameType, build_body, frame_serial, samples_payload
from firmware_bridge.readings import DeviceInfo


class PtyTool:
    """The tool's end of a serial link.

    Args:
        link: the path the bridge opens.
    """

    def __init__(self, link: Path) -> None:
        self.link = link
        self.master: int | None = None
        self._slave: int | None = None
        self.received = bytearray()

    def plug(self) -> None:
        """Create a pty and point the link at it."""
        master, slave = pty.openpty()
        tty.setraw(slave)
        self.master, self._slave = master, slave
        tmp = self.link.with_suffix(".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(os.ttyname(slave))
        tmp.replace(self.link)

    def unplug(self) -> None:
        """Remove the link and close both ends: the bridge sees the port vanish."""
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()
        for fd in (self.master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.master = self._slave = None

    def write(self, data: bytes) -> None:
        """Send bytes to the host, all of them."""
        assert self.master is not None
        view = memoryview(data)
        while view:
            _, ready, _ = select.select([], [self.master], [], 5.0)
            if not ready:
                raise TimeoutError("host is not reading the pty")
            sent = os.write(self.master, view[:4096])
            view = view[sent:]

    def read_available(self, timeout: float = 0.0) -> bytes:
        """Bytes the host sent to the tool (commands), if any arrive within ``timeout``."""
        assert self.master is not None
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return b""
        try:
            data = os.read(self.master, 65536)
        except OSError:
            return b""
        self.received += data
        return data

    def wait_for_host(self, timeout: float = 15.0) -> None:
        """Block until the host opened the port and sent something (its HELLO)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.read_available(0.05):
                return
        raise TimeoutError("the bridge never opened the port")

    def close(self) -> None:
        """Release everything."""
        self.unplug()


class PlayedTool:
    """A PressureGuard tool played by a thread on a :class:`PtyTool`: binary INFO + SAMPLES frames,
    idle at 0 N, a steady ramp on request until told to release.

    The force is a known function of the tool's own clock (``t_us``), so a test can tell what the
    bridge should have measured at any session time. With ``speed`` > 1 the frames are sent that
    many times faster than their period: the tool's clock runs ahead of the wall clock, and so do
    the bridge's session time and everything timed on it (rests, countdowns).

    Args:
        tool: the pty end, plugged.
        info: what the INFO frame says (give it ``counts_per_n``/``offset_counts``: the tool is
            then factory-calibrated).
        rate_hz: nominal sample rate.
        per_frame: samples per SAMPLES frame.
        speed: tool-clock seconds per wall-clock second.
    """

    def __init__(
        self,
        tool: PtyTool,
        info: DeviceInfo,
        *,
        rate_hz: float = 80.0,
        per_frame: int = 4,
        speed: float = 1.0,
    ) -> None:
        self.tool = tool
        self.info = info
        self.period_us = round(1e6 / rate_hz)
        self.per_frame = per_frame
        self.speed = speed
        self._lock = threading.Lock()
        self._segments: list[tuple[float, float, float]] = []  # (start_s, start_n, rate_n_s)
        self._t_s = 0.0  # the tool's clock: time of the next sample
        self.first_t_s: float | None = None  # tool time of the first sample sent
        self._seq = 0
        self._inbox = b""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="played-tool", daemon=True)

    # -- the force model ------------------------------------------------------------------------

    def force_at(self, t_s: float) -> float:
        """The force the tool sends at tool time ``t_s`` (N)."""
        with self._lock:
            segments = list(self._segments)
        force = 0.0
        for start, start_n, rate in segments:
            if t_s >= start:
                force = start_n + rate * (t_s - start)
        return max(force, 0.0)

    def session_force(self, session_t: float) -> float:
        """The force at a bridge session time (session time 0 = the first sample sent)."""
        return self.force_at(session_t + (self.first_t_s or 0.0))

    @property
    def now_s(self) -> float:
        """The tool's clock now (the next sample's time)."""
        with self._lock:
            return self._t_s

    def ramp(self, rate_n_s: float) -> None:
        """Start rising from the current force at ``rate_n_s``."""
        t = self.now_s
        with self._lock:
            self._segments.append((t, self._force_locked(t), rate_n_s))

    def release(self, over_s: float = 0.3) -> None:
        """Fall back to 0 N within ``over_s`` (tool time) and stay there."""
        t = self.now_s
        with self._lock:
            start_n = self._force_locked(t)
            self._segments.append((t, start_n, -start_n / over_s if start_n > 0 else 0.0))
            self._segments.append((t + over_s, 0.0, 0.0))

    def _force_locked(self, t_s: float) -> float:
        force = 0.0
        for start, start_n, rate in self._segments:
            if t_s >= start:
                force = start_n + rate * (t_s - start)
        return max(force, 0.0)

    # -- the wire -------------------------------------------------------------------------------

    def start(self) -> None:
        """Play in a thread: from the bridge's first HELLO on (see :meth:`wait_playing`)."""
        self._thread.start()

    def wait_playing(self, timeout: float = 60.0) -> None:
        """Block until the first SAMPLES frame went out."""
        deadline = time.monotonic() + timeout
        while self.first_t_s is None:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise TimeoutError("the played tool never started: no bridge opened the port")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop playing."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5.0)

    def _send(self, frame_type: int, payload: bytes, t_us: int) -> None:
        """Send one frame; with no host reading (a bridge restarting) it is lost, as on a wire."""
        with contextlib.suppress(TimeoutError):
            self.tool.write(frame_serial(build_body(frame_type, self._seq, t_us, payload)))
        self._seq = (self._seq + 1) & 0xFFFF

    def _hello(self, data: bytes) -> bool:
        """Whether the host's bytes hold a HELLO frame (haptic and limit frames are ignored)."""
        self._inbox += data
        *frames, self._inbox = self._inbox.split(b"\x00")
        for frame in frames:
            with contextlib.suppress(cobs.DecodeError):
                body = cobs.decode(frame)
                if len(body) > 1 and body[1] == FrameType.HELLO:
                    return True
        return False

    def _run(self) -> None:
        counts_per_n = self.info.counts_per_n or 1000.0
        offset = self.info.offset_counts or 0.0
        info_json = self.info.to_json().encode()
        try:
            self.tool.wait_for_host(timeout=60.0)
        except (OSError, TimeoutError):
            return
        self._send(FrameType.INFO, info_json, 0)
        frame_wall_s = self.per_frame * self.period_us / 1e6 / self.speed
        next_at = time.monotonic()
        try:
            while not self._stop.is_set():
                if self._hello(self.tool.read_available(0.0)):  # a host (re)opened the port
                    self._send(FrameType.INFO, info_json, round(self.now_s * 1e6))
                t0 = self.now_s
                times = t0 + np.arange(self.per_frame) * self.period_us / 1e6
                force = np.array([self.force_at(float(t)) for t in times])
                raw = np.round(offset + force * counts_per_n).astype(np.int64)
                t_us = round(t0 * 1e6) & 0xFFFFFFFF
                self._send(FrameType.SAMPLES, samples_payload(self.period_us, raw), t_us)
                if self.first_t_s is None:
                    self.first_t_s = t0
                with self._lock:
                    self._t_s = t0 + self.per_frame * self.period_us / 1e6
                next_at += frame_wall_s
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                elif delay < -1.0:
                    next_at = time.monotonic()
        except OSError:
            return  # the pty went away: the test is over


class TextSketch:
    """A plain HX711 Arduino sketch on a :class:`PtyTool`: one number per line, ``Serial.println``
    style, at ``rate_hz``, from the moment it is started (such a sketch has no command channel
    and no id). Set :attr:`value` to change what it prints.

    Args:
        tool: the pty end, plugged.
        value: the number printed (in whatever unit the sketch prints).
        rate_hz: lines per second.
        noise: the standard deviation of noise added to each line.
    """

    def __init__(
        self, tool: PtyTool, value: float = 0.0, rate_hz: float = 80.0, noise: float = 0.0
    ) -> None:
        self.tool = tool
        self.value = value
        self.rate_hz = rate_hz
        self.noise = noise
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="text-sketch", daemon=True)

    def start(self) -> None:
        """Print in a thread until stopped."""
        self._thread.start()

    def stop(self) -> None:
        """Stop printing."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5.0)

    def _run(self) -> None:
        rng = np.random.default_rng(11)
        next_at = time.monotonic()
        while not self._stop.is_set():
            value = self.value + (rng.normal(0.0, self.noise) if self.noise else 0.0)
            try:
                self.tool.write(f"{value:.2f}\r\n".encode())
                self.tool.read_available(0.0)  # drain anything the host sends
            except TimeoutError:
                pass  # no host reading yet: the line is lost, as on a wire
            except (OSError, AssertionError):
                return  # unplugged
            next_at += 1.0 / self.rate_hz
            time.sleep(max(0.0, next_at - time.monotonic()))
