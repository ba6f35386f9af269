"""Raw capture files: every chunk a transport read, with its arrival time (``record --capture``).

Layout (``.bin``)::

    b"PGCAP1\\n"
    {"format": "pressureguard-capture", "version": 1, "source": URL, "framing": "stream"|"packet",
     "started_at": ISO-8601 UTC}\\n
    records: f64 LE seconds since the first chunk ‖ u32 LE length ‖ bytes

The writer flushes at least every ``flush_interval`` seconds, so a killed recorder leaves a file
that reads up to its last whole record; a torn last record is ignored. A file without the magic is
taken as a plain byte dump (``cat /dev/ttyACM0 > x.bin``): one untimed stream.
"""

from __future__ import annotations

import json
import logging
import math
import struct
import threading
from collections.abc import Generator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from firmware_bridge.errors import ProtocolError, SourceOpenError, StoreError, UsageError
from firmware_bridge.sources.base import Chunk

log = logging.getLogger(__name__)

__all__ = ["FORMAT", "MAGIC", "VERSION", "CaptureWriter", "read_capture"]

MAGIC = b"PGCAP1\n"
FORMAT = "pressureguard-capture"
VERSION = 1
_RECORD = struct.Struct("<dI")
_MAX_HEADER = 64 * 1024
_MAX_RECORD = 64 * 1024 * 1024  # no transport reads this much at once: a bigger length is corrupt
RAW_CHUNK = 4096  # plain dumps are read in chunks of this size


class CaptureWriter:
    """Writes a capture file; the writer itself can serve as a ``Source.capture`` hook.

    Args:
        path: the file to create (overwritten).
        source_url: the source string, stored in the header.
        framing: the transport's framing, so replay hands chunks to the right decoder path.
        flush_interval: longest time written data may sit in the buffer.

    Raises:
        StoreError: the file cannot be created.
        UsageError: ``framing`` is not ``stream`` or ``packet``.
    """

    def __init__(
        self,
        path: str | Path,
        source_url: str,
        framing: str = "stream",
        *,
        flush_interval: float = 0.5,
    ) -> None:
        if framing not in ("stream", "packet"):
            raise UsageError(f"capture framing must be 'stream' or 'packet', not {framing!r}")
        self.path = Path(path)
        self.header: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "source": source_url,
            "framing": framing,
            "started_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        try:
            self._file = self.path.open("wb")
            self._file.write(MAGIC + json.dumps(self.header).encode() + b"\n")
            self._file.flush()
        except OSError as exc:
            raise StoreError(f"cannot write capture {self.path}: {exc.strerror or exc}") from exc
        self._lock = threading.Lock()
        self._t0: float | None = None
        self._dirty = False
        self._error: OSError | None = None
        self._closed = False
        self._interval = flush_interval
        self._stop = threading.Event()
        # A timer thread, not flush-on-write: data written just before a quiet spell must still
        # reach the disk within the interval if the recorder is then killed.
        self._flusher = threading.Thread(
            target=self._flush_loop, name=f"capture-flush {self.path.name}", daemon=True
        )
        self._flusher.start()

    def write(self, chunk: Chunk) -> None:
        """Append one chunk. Its time is stored relative to the first chunk written.

        Raises:
            StoreError: the file could not be written (disk full), or the writer is closed.
        """
        with self._lock:
            if self._closed:
                raise StoreError(f"capture {self.path} is closed")
            if self._error is not None:
                raise StoreError(f"cannot write capture {self.path}: {self._error}")
            if self._t0 is None:
                self._t0 = chunk.t_host
            record = _RECORD.pack(chunk.t_host - self._t0, len(chunk.data)) + chunk.data
            try:
                self._file.write(record)
            except OSError as exc:
                self._error = exc
                raise StoreError(f"cannot write capture {self.path}: {exc}") from exc
            self._dirty = True

    __call__ = write

    def flush(self) -> None:
        """Push buffered records to the operating system."""
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if self._dirty and not self._closed and self._error is None:
            try:
                self._file.flush()
            except OSError as exc:
                self._error = exc
                log.error("cannot write capture %s: %s", self.path, exc)
            self._dirty = False

    def _flush_loop(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()

    def close(self) -> None:
        """Flush and close. Idempotent."""
        if self._closed:
            return
        self._stop.set()
        self._flusher.join()
        with self._lock:
            self._flush_locked()
            self._closed = True
            self._file.close()

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_capture(path: str | Path) -> tuple[dict[str, Any], Generator[Chunk, None, None]]:
    """Open a capture (or a plain byte dump) for reading.

    Returns:
        The header, with ``"timed"`` added (False for a plain dump, whose chunks are 4 KiB pieces
        with ``t_host`` 0.0), and a lazy iterator of the recorded chunks. The file is opened again
        by the iterator and closed when it is exhausted or closed.

    Raises:
        SourceOpenError: the file cannot be opened.
        ProtocolError: the file has the capture magic but its header cannot be used.
    """
    path = Path(path)
    with _open(path) as file:
        magic = file.read(len(MAGIC))
        line = file.readline(_MAX_HEADER) if magic == MAGIC else b""
        data_start = file.tell()
    if magic != MAGIC:
        header: dict[str, Any] = {
            "format": "raw",
            "version": None,
            "source": None,
            "framing": "stream",
            "started_at": None,
            "timed": False,
        }
        return header, _raw_chunks(path)
    header = _parse_header(path, line)
    header["timed"] = True
    return header, _records(path, data_start)


def _open(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except OSError as exc:
        raise SourceOpenError(f"cannot open capture {path}: {exc.strerror or exc}") from exc


def _parse_header(path: Path, line: bytes) -> dict[str, Any]:
    if not line.endswith(b"\n"):
        raise ProtocolError(f"{path}: the capture header is cut off or too long")
    try:
        header = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"{path}: the capture header is not valid JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ProtocolError(f"{path}: the capture header does not describe a {FORMAT} file")
    if header.get("version") != VERSION:
        raise ProtocolError(
            f"{path}: capture version {header.get('version')!r} is not supported "
            f"(this PressureGuard reads version {VERSION})"
        )
    if header.get("framing") not in ("stream", "packet"):
        raise ProtocolError(f"{path}: unknown capture framing {header.get('framing')!r}")
    return header


def _records(path: Path, start: int) -> Generator[Chunk, None, None]:
    with _open(path) as file:
        file.seek(start)
        while True:
            offset = file.tell()
            head = file.read(_RECORD.size)
            if len(head) < _RECORD.size:
                if head:
                    log.info("%s: ignored a torn last record at byte %d", path, offset)
                return
            t, size = _RECORD.unpack(head)
            if size > _MAX_RECORD or not math.isfinite(t):
                raise ProtocolError(f"{path}: corrupt capture record at byte {offset}")
            data = file.read(size)
            if len(data) < size:
                log.info("%s: ignored a torn last record at byte %d", path, offset)
                return
            yield Chunk(data, t)


def _raw_chunks(path: Path) -> Generator[Chunk, None, None]:
    with _open(path) as file:
        while data := file.read(RAW_CHUNK):
            yield Chunk(data, 0.0)
