"""Drive ``pg_sim``: the real firmware ELF on a simulated Nano with a scripted HX711.

:class:`SimBoard` starts the board, collects its event lines (stamped in simulated ns) on a
thread, and gives the pty path the host opens. :class:`Script` writes the HX711/button script.
:class:`SerialHost` is a minimal host on the pty: it sends commands and decodes what the tool
sends with the project's own decoder.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import serial

from firmware_bridge.protocol.binary import BinaryDecoder
from firmware_bridge.protocol.frames import FrameType, build_body, frame_serial
from firmware_bridge.readings import Reading

PERIOD_NS = 12_500_000  # 80 SPS


@dataclass(frozen=True)
class Event:
    """One line of the board's log: a kind, then its words (numbers where they are numbers)."""

    kind: str
    args: tuple[str, ...]

    def num(self, i: int) -> int:
        """The i-th argument as an integer."""
        return int(self.args[i])


@dataclass
class Script:
    """What the simulated HX711 converts and when the button is pressed."""

    rate: int = 80
    first_ms: float = 60.0
    lines: list[str] = field(default_factory=list)
    samples: list[int] = field(default_factory=list)  # every conversion, in order

    def sample(self, *raw: int) -> Script:
        """Conversions with these counts."""
        for r in raw:
            self.lines.append(f"sample {r}")
            self.samples.append(r)
        return self

    def repeat(self, n: int, raw: int) -> Script:
        """n conversions of the same count."""
        self.lines.append(f"repeat {n} {raw}")
        self.samples.extend([raw] * n)
        return self

    def stall(self, periods: int) -> Script:
        """No conversion for this many periods (the ADC stops answering)."""
        self.lines.append(f"stall {periods}")
        return self

    def button(self, at_ms: float, pressed: bool) -> Script:
        """The button's contact at a simulated time."""
        self.lines.append(f"button {at_ms} {1 if pressed else 0}")
        return self

    def hang(self, at_ms: float) -> Script:
        """Freeze the firmware at a simulated time (the watchdog must reset it)."""
        self.lines.append(f"hang {at_ms}")
        return self

    def end(self, at_ms: float) -> Script:
        """Stop the simulation at this simulated time."""
        self.lines.append(f"end_ms {at_ms}")
        return self

    def write(self, path: Path) -> Path:
        """Write the script file."""
        head = [f"rate {self.rate}", f"first_ms {self.first_ms}"]
        path.write_text("\n".join(head + self.lines) + "\n", encoding="utf-8")
        return path


class SimBoard:
    """A running ``pg_sim``.

    Args:
        pg_sim: the harness binary.
        elf: the firmware.
        script: the script file.
        realtime: keep simulated time from running ahead of the wall clock.
    """

    def __init__(self, pg_sim: Path, elf: Path, script: Path, *, realtime: bool = False) -> None:
        args = [str(pg_sim), str(elf), str(script), "--wait-host"]
        if realtime:
            args.append("--realtime")
        self.proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self._events: list[Event] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, name="pg_sim-events", daemon=True)
        self._reader.start()
        self.pty = self.wait_for(lambda e: e.kind == "pty", timeout=10).args[0]

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            words = line.split()
            if not words:
                continue
            with self._cond:
                self._events.append(Event(words[0], tuple(words[1:])))
                self._cond.notify_all()
        with self._cond:
            self._events.append(Event("exit", ()))
            self._cond.notify_all()

    @property
    def events(self) -> list[Event]:
        """Every event so far."""
        with self._cond:
            return list(self._events)

    def of(self, kind: str) -> list[Event]:
        """The events of one kind so far."""
        return [e for e in self.events if e.kind == kind]

    def wait_for(self, match: Callable[[Event], bool], timeout: float = 60.0) -> Event:
        """The first event that matches; waits for it (a failure after timeout, never a pass)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self._events:
                    if match(event):
                        return event
                    if event.kind == "exit":
                        err = self.proc.stderr.read() if self.proc.stderr else ""
                        raise AssertionError(f"pg_sim exited: {err}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("pg_sim: event not seen in time")
                self._cond.wait(left)

    def wait_end(self, timeout: float = 120.0) -> Event:
        """Wait for the end of the script (its last line, "wdtcsr", follows "end")."""
        self.wait_for(lambda e: e.kind == "wdtcsr", timeout)
        return self.of("end")[0]

    def close(self) -> None:
        """End the board: closing its stdin ends it after the script; before that, SIGTERM."""
        if not self.of("wdtcsr") and self.proc.poll() is None:
            self.proc.terminate()
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


class SerialHost:
    """The host's end of the pty: sends commands, decodes everything the tool sent."""

    def __init__(self, pty: str) -> None:
        self.port = serial.Serial(pty, 115200, timeout=0)
        self.decoder = BinaryDecoder()
        self.readings: list[Reading] = []
        self._seq = 0

    def send(self, *commands: tuple[FrameType, bytes]) -> None:
        """Commands (type, payload), COBS-framed, in one write."""
        data = b""
        for ftype, payload in commands:
            data += frame_serial(build_body(ftype, self._seq, 0, payload))
            self._seq = (self._seq + 1) & 0xFFFF
        self.port.write(data)

    def read(self) -> list[Reading]:
        """Decode what has arrived since the last call."""
        data = self.port.read(self.port.in_waiting or 1)
        while data:
            self.readings += self.decoder.feed(data)
            data = self.port.read(self.port.in_waiting or 1)
        return self.readings

    def close(self) -> None:
        """Close the port."""
        self.port.close()
