"""``replay://PATH?speed=1``: play back a raw capture (``.bin``) or an exported session (``.csv``).

A capture is replayed as a :class:`~firmware_bridge.sources.base.Transport`, so the real decoder
runs on the recorded bytes. A CSV export carries force, not bytes, so it is a
:class:`~firmware_bridge.sources.base.Source` yielding :class:`SampleBatch` directly.

Timing follows python-can's ``MessageSync``: ``speed=1`` reproduces the recorded gaps, ``speed=N``
plays N× faster, ``speed=0`` as fast as possible. Timestamps never depend on the speed: a chunk is
stamped with the open time plus its recorded offset (a virtual clock).
"""

from __future__ import annotations

import csv
import io
import itertools
import logging
import math
import time
from collections.abc import Generator
from pathlib import Path
from typing import ClassVar

import numpy as np

from firmware_bridge.errors import ProtocolError, SourceLostError, SourceOpenError, UsageError
from firmware_bridge.readings import DecoderStats, FloatArray, Reading, SampleBatch
from firmware_bridge.sources.base import Chunk, Framing, Source, Transport
from firmware_bridge.sources.capture import read_capture

log = logging.getLogger(__name__)

__all__ = ["CaptureReplayTransport", "CsvReplaySource", "parse_replay_url"]

#: Untimed byte dumps are paced as if they arrived over serial at 115200 baud, 8N1 (10 bits/byte).
RAW_BYTES_PER_S = 115200 / 10
_RAW_PIECE = 256  # paced untimed dumps go out in pieces this big (about 22 ms each)
CSV_BATCH_S = 0.05
CSV_MAX_BATCH = 4096
_CSV_BLOCK_ROWS = 65536  # rows parsed at a time: memory stays flat however long the file


def parse_replay_url(url: str) -> tuple[Path, float]:
    """Split ``replay://PATH?speed=S`` into the file and the speed (default 1).

    The path is taken literally (no percent-decoding); ``~`` is expanded.

    Raises:
        UsageError: not a replay URL, no path, a bad speed, an unknown option, or a file that is
            neither ``.bin`` nor ``.csv``.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() != "replay":
        raise UsageError(f"not a replay source: {url!r} (use replay://FILE.bin or .csv)")
    path_text, _, query = rest.partition("?")
    if not path_text:
        raise UsageError("replay:// needs a file: replay://session.csv or replay://capture.bin")
    speed = 1.0
    for item in filter(None, query.split("&")):
        key, _, value = item.partition("=")
        if key != "speed":
            raise UsageError(f"replay:// has no option {key!r}; the only option is speed")
        speed = _speed(value)
    if "\x00" in path_text:
        raise UsageError(f"replay:// file name has a NUL byte: {path_text!r}")
    try:
        path = Path(path_text).expanduser()
    except RuntimeError:  # ~someone who is no user here
        raise UsageError(f"replay:// cannot find the home folder in {path_text!r}") from None
    if path.suffix.lower() not in (".bin", ".csv"):
        raise UsageError(f"replay needs a .bin capture or a .csv export, not {path.name!r}")
    return path, speed


def _speed(value: str | float) -> float:
    try:
        speed = float(value)
    except ValueError:
        speed = math.nan
    if not (math.isfinite(speed) and speed >= 0):
        raise UsageError(f"replay speed must be 0 (as fast as possible) or more, not {value!r}")
    return speed


class _Pacer:
    """Maps recorded offsets (seconds) onto wall time at a speed; speed 0 never waits."""

    def __init__(self, speed: float) -> None:
        self.speed = _speed(speed)
        self._wall0: float | None = None
        self._offset0 = 0.0

    def due(self, offset: float, timeout: float) -> bool:
        """Sleep until ``offset`` is due, but at most ``timeout``. Returns whether it is due."""
        if self.speed == 0:
            return True
        now = time.monotonic()
        if self._wall0 is None:  # the clock starts with the first item, as MessageSync does
            self._wall0, self._offset0 = now, offset
        wait = self._wall0 + (offset - self._offset0) / self.speed - now
        if wait <= 0:
            return True
        time.sleep(min(wait, max(0.0, timeout)))
        return wait <= timeout

    def position(self) -> float:
        """The recorded offset due now (infinite at speed 0 or before the first item)."""
        if self.speed == 0 or self._wall0 is None:
            return math.inf
        return self._offset0 + (time.monotonic() - self._wall0) * self.speed


def _untimed(chunks: Generator[Chunk, None, None], piece: int) -> Generator[Chunk, None, None]:
    """Re-stamp a plain dump's chunks as if the bytes arrived at 115200 baud."""
    sent = 0
    try:
        for chunk in chunks:
            for i in range(0, len(chunk.data), piece):
                data = chunk.data[i : i + piece]
                yield Chunk(data, sent / RAW_BYTES_PER_S)
                sent += len(data)
    finally:
        chunks.close()


class CaptureReplayTransport(Transport):
    """Replays a ``.bin`` capture chunk by chunk, with its recorded timing.

    Each read returns one recorded chunk (packet boundaries are kept), stamped
    ``t_host = open time + recorded offset``. An untimed byte dump is stamped and paced as if it
    arrived at 115200 baud, in 256-byte pieces (its 4 KiB chunks whole at speed 0). A capture
    recorded from a packet transport (BLE) replays with ``framing == "packet"``.

    Args:
        path: the capture file.
        speed: 1 real time, N times faster, 0 as fast as possible.

    Raises:
        SourceOpenError: the file cannot be opened.
        ProtocolError: the capture header cannot be used.
        UsageError: a bad speed.
    """

    framing: ClassVar[Framing] = "stream"
    live_timing = False  # stamped on a virtual clock, not on arrival

    def __new__(cls, path: str | Path, speed: float = 1.0) -> CaptureReplayTransport:
        # Framing is a class attribute of transports but a capture states its own, so a packet
        # capture is built as the packet subclass.
        target = cls
        if cls is CaptureReplayTransport:
            header, chunks = read_capture(path)
            chunks.close()
            if header["framing"] == "packet":
                target = _PacketCaptureReplayTransport
        return super().__new__(target)

    def __init__(self, path: str | Path, speed: float = 1.0) -> None:
        self._pacer = _Pacer(speed)
        self.path = Path(path)
        self.header, chunks = read_capture(self.path)
        if not self.header["timed"]:
            chunks = _untimed(chunks, _RAW_PIECE if self._pacer.speed > 0 else 1 << 30)
        self._chunks = chunks
        self._pending: Chunk | None = None
        self._t0 = self.now()
        super().__init__(f"replay of {self.path.name}", at_stream_start=True)

    @classmethod
    def from_url(cls, url: str) -> CaptureReplayTransport:
        """Open ``replay://FILE.bin?speed=S``."""
        path, speed = parse_replay_url(url)
        return cls(path, speed)

    def _read(self, timeout: float) -> Chunk | None:
        if self._pending is None:  # kept across reads until it is due
            self._pending = next(self._chunks, None)
            if self._pending is None:
                raise EOFError(f"end of {self.path.name}")
        if not self._pacer.due(self._pending.t_host, timeout):
            return None
        chunk, self._pending = self._pending, None
        return Chunk(chunk.data, self._t0 + chunk.t_host)

    def _write(self, data: bytes) -> None:
        log.debug("replay ignores %d bytes sent to the tool", len(data))

    def _close(self) -> None:
        self._chunks.close()


class _PacketCaptureReplayTransport(CaptureReplayTransport):
    """A capture recorded from a packet transport: every chunk is one protocol body."""

    framing: ClassVar[Framing] = "packet"


class CsvReplaySource(Source):
    """Replays an exported session CSV as sample batches of about 50 ms of session time.

    Columns ``t_s`` and ``force_n`` are required; ``raw`` is used when present; an empty field is
    NaN. Other columns (``filtered_n``, ``zone``, ``pressure_kpa``) are ignored: the pipeline
    recomputes them. Leading lines starting with ``#`` before the header are skipped. The file is
    parsed in blocks of 65,536 rows, so any length fits in memory.

    Args:
        url: the source string (``replay://FILE.csv?speed=S``), for display.
        path: the CSV file.
        speed: 1 real time, N times faster, 0 as fast as possible (batches of up to 4096 rows).

    Raises:
        SourceOpenError: the file cannot be opened.
        ProtocolError: no header, or no ``t_s``/``force_n`` column.
        UsageError: a bad speed.
    """

    def __init__(self, url: str, path: str | Path, speed: float = 1.0) -> None:
        self.path = Path(path)
        self._pacer = _Pacer(speed)
        try:
            self._file = self.path.open(encoding="utf-8-sig")
        except OSError as exc:
            raise SourceOpenError(f"cannot open CSV export {path}: {exc.strerror or exc}") from exc
        self._closed = False
        try:
            self._read_header()
        except UnicodeDecodeError as exc:
            self._file.close()
            raise ProtocolError(f"{self.path}: not a CSV export (not UTF-8 text)") from exc
        except BaseException:
            self._file.close()
            raise
        self._t = np.empty(0)
        self._force = np.empty(0)
        self._raw = np.empty(0)
        self._pos = 0
        self._eof = False
        self._period: float | None = None
        self._stats = DecoderStats()
        super().__init__(url, f"replay of {self.path.name}")

    @classmethod
    def from_url(cls, url: str) -> CsvReplaySource:
        """Open ``replay://FILE.csv?speed=S``."""
        path, speed = parse_replay_url(url)
        return cls(url, path, speed)

    # -- Source API ---------------------------------------------------------------------------

    def read(self, timeout: float) -> list[Reading]:
        """The next batch once it is due (see the class docs); [] when none is due yet.

        Raises:
            EOFError: the file is exhausted.
            ProtocolError: a row cannot be parsed (the message names its line).
            SourceLostError: the source was closed.
        """
        if self._closed:
            raise SourceLostError(f"{self.description} is closed")
        self._fill()
        if self._pos >= self._t.size:
            raise EOFError(f"end of {self.path.name}")
        window = self._t[self._pos : self._pos + CSV_MAX_BATCH]
        n = max(1, int(np.count_nonzero(window < window[0] + CSV_BATCH_S)))
        if not self._pacer.due(float(window[n - 1]), timeout):
            return []
        # A reader that fell behind gets everything due, up to the batch cap.
        n = max(n, int(np.count_nonzero(window <= self._pacer.position())))
        return [self._take(n)]

    def send(self, frame_type: int, payload: bytes = b"") -> bool:
        """A recorded session cannot take commands."""
        return False

    @property
    def stats(self) -> DecoderStats:
        """Rows replayed (as both frames and samples)."""
        return self._stats

    @property
    def format(self) -> str:
        """Always ``csv``."""
        return "csv"

    def close(self) -> None:
        """Close the file. Idempotent."""
        if not self._closed:
            self._closed = True
            self._file.close()

    # -- parsing ------------------------------------------------------------------------------

    def _read_header(self) -> None:
        self._line = 0  # physical lines consumed so far
        for line in self._file:
            self._line += 1
            if line.strip() and not line.lstrip().startswith("#"):
                break
        else:
            raise ProtocolError(f"{self.path}: empty CSV, expected a header with t_s and force_n")
        names = [name.strip() for name in next(csv.reader([line]))]
        missing = [name for name in ("t_s", "force_n") if name not in names]
        if missing:
            raise ProtocolError(
                f"{self.path} line {self._line}: the CSV has no {' or '.join(missing)} column "
                f"(header: {', '.join(names)})"
            )
        self._names = ["t_s", "force_n", *(["raw"] if "raw" in names else [])]
        self._cols = [names.index(name) for name in self._names]

    def _fill(self) -> None:
        """Parse blocks until a full batch is buffered or the file ends."""
        while not self._eof and self._t.size - self._pos < CSV_MAX_BATCH:
            try:
                lines = list(itertools.islice(self._file, _CSV_BLOCK_ROWS))
            except UnicodeDecodeError as exc:
                where = f"{self.path} after line {self._line}"
                raise ProtocolError(f"{where}: not UTF-8 text") from exc
            first = self._line + 1
            self._line += len(lines)
            if not lines:
                self._eof = True
                break
            block = self._parse(lines, first)
            keep = slice(self._pos, None)
            self._t = np.concatenate([self._t[keep], block[:, 0]])
            self._force = np.concatenate([self._force[keep], block[:, 1]])
            raw = block[:, 2] if block.shape[1] > 2 else np.full(len(block), np.nan)
            self._raw = np.concatenate([self._raw[keep], raw])
            self._pos = 0
            if self._period is None and len(block) > 1:
                steps = np.diff(block[:, 0])
                steps = steps[np.isfinite(steps) & (steps > 0)]
                self._period = float(np.median(steps)) if steps.size else None

    def _parse(self, lines: list[str], first: int) -> FloatArray:
        """Rows of (t, force[, raw]): numpy's C parser; a per-line pass only to find errors."""
        text = "".join(lines)
        if not text.strip():
            return np.empty((0, len(self._cols)))
        # Empty fields become "nan" so numpy's C parser takes them (runs need two passes).
        text = text.replace(",,", ",nan,").replace(",,", ",nan,")
        text = text.replace("\n,", "\nnan,").replace(",\n", ",nan\n")
        text = ("nan" + text if text.startswith(",") else text) + (
            "nan" if text.endswith(",") else ""
        )
        try:
            block = np.loadtxt(
                io.StringIO(text),
                delimiter=",",
                usecols=self._cols,
                ndmin=2,
                comments=None,
                quotechar='"',
                dtype=np.float64,
            )
        except ValueError:
            block = self._parse_slowly(lines, first)
        bad = ~np.isfinite(block[:, 0])
        if bad.any():
            rows = [i for i, line in enumerate(lines) if line.strip()]
            line_no = first + rows[int(np.argmax(bad))]
            raise ProtocolError(f"{self.path} line {line_no}: t_s must be a number")
        return block

    def _parse_slowly(self, lines: list[str], first: int) -> FloatArray:
        rows: list[list[float]] = []
        for offset, line in enumerate(lines):
            if not line.strip():
                continue
            fields = next(csv.reader([line]))
            where = f"{self.path} line {first + offset}"
            if len(fields) <= max(self._cols):
                raise ProtocolError(f"{where}: {len(fields)} fields, the header has more")
            row = []
            for name, col in zip(self._names, self._cols, strict=True):
                text = fields[col].strip()
                try:
                    row.append(float(text) if text else math.nan)
                except ValueError:
                    raise ProtocolError(f"{where}: {name} is not a number: {text!r}") from None
            rows.append(row)
        return np.array(rows, dtype=np.float64).reshape(-1, len(self._cols))

    def _take(self, n: int) -> SampleBatch:
        part = slice(self._pos, self._pos + n)
        self._pos += n
        self._stats.frames += n
        self._stats.samples += n
        return SampleBatch(
            t=self._t[part].copy(),
            raw=self._raw[part].copy(),
            force_n=self._force[part].copy(),
            device_clock=True,
            period_s=self._period,
        )
