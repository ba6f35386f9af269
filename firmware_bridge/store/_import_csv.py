"""Reading a CSV export back in, a block of lines at a time (see ``import_file``).

Each block (about 8 MB, cut at a line end) is parsed by Arrow into typed columns and checked in
bulk; nothing is built per row. When Arrow refuses a block, the block is read again line by line
to say which line and what is wrong with it. Blank lines are skipped; line numbers count them.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Callable, Iterator
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from firmware_bridge.errors import UsageError
from firmware_bridge.store._import_checks import SampleChecks
from firmware_bridge.store._importers import AreaFinder, ImportWriter
from firmware_bridge.store.formats import (
    KNOWN_COLUMNS,
    PRESSURE_COLUMN,
    REQUIRED_COLUMNS,
    ZONE_BY_TEXT,
)
from firmware_bridge.store.store import Store
from firmware_bridge.zones import JudgedSamples, Zone

log = logging.getLogger(__name__)

BLOCK = 8 << 20
#: A line longer than this is not a sample (an export's lines are under 200 bytes).
MAX_LINE = 1 << 20
_HEAD = 64 << 10
# What Arrow reads as a number (checked again only to explain a refused block).
_NUMBER = re.compile(
    r"\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|nan|inf|infinity)\s*", re.ASCII | re.I
)
_ZONE_TEXTS = pa.array(list(ZONE_BY_TEXT), type=pa.string())
_ZONE_CODES = np.array(list(ZONE_BY_TEXT.values()), dtype=np.int8)
_LABELS = ", ".join(z.label for z in Zone)


def _header(head: bytes, size: int, name: str) -> tuple[list[str], int]:
    """The header's column names and the byte offset after its line."""
    end = head.find(b"\n")
    if end < 0 and len(head) < size:
        raise UsageError(f"{name} line 1: not a PressureGuard CSV export (no line end)")
    line = head if end < 0 else head[:end]
    if b"\x00" in line:
        raise UsageError(f"{name} line 1: binary data, not a PressureGuard CSV export")
    try:
        text = line.decode("utf-8-sig").rstrip("\r")
        columns = [c.strip() for c in next(csv.reader([text]), [])]
    except (UnicodeDecodeError, csv.Error):
        raise UsageError(f"{name} line 1: not UTF-8 text, not a CSV export") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise UsageError(
            f"{name} line 1: not a PressureGuard CSV export (no {' or '.join(missing)} column)"
        )
    for column in columns:
        if columns.count(column) > 1:
            raise UsageError(f"{name} line 1: column {column} appears twice")
    unknown = [c for c in columns if c not in KNOWN_COLUMNS]
    if unknown:
        log.warning("%s: ignoring columns %s", name, ", ".join(map(repr, unknown)))
    return columns, (len(head) if end < 0 else end + 1)


def _blocks(fh: IO[bytes], size: int, start: int, name: str) -> Iterator[tuple[bytes, int, int]]:
    """(block of whole lines, its first line's number, bytes read so far)."""
    fh.seek(start)
    pos, line, carry = start, 2, b""
    while pos < size:
        data = fh.read(min(BLOCK, size - pos))
        if not data:
            break  # the file shrank meanwhile
        pos += len(data)
        if carry:
            data = carry + data
        cut = data.rfind(b"\n") + 1
        if len(data) - cut > MAX_LINE:  # the last line goes on and on: no sample is that long
            at = line + data.count(b"\n", 0, cut)
            raise UsageError(f"{name} line {at}: longer than 1 MB, not a sample")
        if pos >= size:
            cut = len(data)
        block, carry = (data, b"") if cut == len(data) else (data[:cut], data[cut:])
        if block:
            yield block, line, pos
            line += block.count(b"\n")
    if carry:
        yield carry, line, pos


def _row_lines(block: bytes, first_line: int) -> np.ndarray:
    """The line number of each row Arrow read from the block (blank lines are no rows)."""
    data = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(data == 10)
    starts = np.concatenate([[0], ends + 1])
    stops = np.concatenate([ends, [len(data)]])
    lengths = stops - starts
    cr = (lengths > 0) & (data[np.maximum(stops - 1, 0)] == 13) if len(data) else lengths > 0
    return first_line + np.flatnonzero(lengths - cr > 0)


class _Lines:
    """Where row ``i`` of a block is, for messages (line numbers found only when needed)."""

    def __init__(self, block: bytes, first_line: int, name: str) -> None:
        self._block, self._first, self._name = block, first_line, name
        self._lines: np.ndarray | None = None

    def where(self, i: int) -> str:
        if self._lines is None:
            self._lines = _row_lines(self._block, self._first)
        return f"{self._name} line {int(self._lines[i])}"

    def locate(self, i: int, column: str) -> str:
        return f"{self.where(i)}: {column}"


def _explain(block: bytes, first_line: int, columns: list[str], name: str) -> UsageError:
    """Read a refused block line by line and say what is wrong and where."""
    for k, raw_line in enumerate(block.split(b"\n")):
        at = f"{name} line {first_line + k}"
        line = raw_line.removesuffix(b"\r")
        if not line:
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            return UsageError(f"{at}: not UTF-8 text (binary data?)")
        if "\x00" in text:
            return UsageError(f"{at}: binary data (a NUL byte)")
        try:
            fields = next(csv.reader([text]))
        except csv.Error as exc:
            return UsageError(f"{at}: unreadable ({exc})")
        if len(fields) != len(columns):
            return UsageError(f"{at}: {len(fields)} fields, expected {len(columns)}")
        for column, value in zip(columns, fields, strict=True):
            number = column in KNOWN_COLUMNS and column != "zone"
            if number and value and not _NUMBER.fullmatch(value):
                return UsageError(f"{at}: {column} {value!r} is not a number")
    last = first_line + block.count(b"\n")
    return UsageError(f"{name} lines {first_line}–{last}: not readable as CSV")


def _parse(block: bytes, first_line: int, columns: list[str], name: str) -> pa.Table:
    known = [c for c in columns if c in KNOWN_COLUMNS]
    types = {c: (pa.string() if c == "zone" else pa.float64()) for c in known}
    try:
        return pcsv.read_csv(
            pa.BufferReader(block),
            read_options=pcsv.ReadOptions(column_names=columns, use_threads=True),
            parse_options=pcsv.ParseOptions(ignore_empty_lines=True),
            convert_options=pcsv.ConvertOptions(
                column_types=types,
                include_columns=known,
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise _explain(block, first_line, columns, name) from None


def zone_codes(texts: pa.Array | pa.ChunkedArray, where: Callable[[int], str]) -> np.ndarray:
    """Zone labels (or enum numbers) as int8 zone values.

    Raises:
        UsageError: an unknown zone, with ``where(i)`` saying where it is.
    """
    index = pc.index_in(pc.utf8_lower(pc.utf8_trim_whitespace(texts)), value_set=_ZONE_TEXTS)
    if index.null_count:
        i = int(np.argmax(index.is_null().to_numpy(zero_copy_only=False)))
        value = texts[i].as_py() or ""
        raise UsageError(f"{where(i)}: unknown zone {value!r} (one of {_LABELS})")
    return _ZONE_CODES[index.to_numpy(zero_copy_only=False)]


def _floats(table: pa.Table, column: str, holes: dict[str, np.ndarray]) -> np.ndarray:
    if column not in table.column_names:
        holes[column] = np.ones(table.num_rows, dtype=bool)
        return np.full(table.num_rows, np.nan)
    data = table.column(column)
    values = np.asarray(data.to_numpy(), dtype=np.float64)
    if data.null_count:
        holes[column] = data.is_null().to_numpy(zero_copy_only=False)
    return values


def import_csv(
    store: Store,
    fh: IO[bytes],
    size: int,
    origin: dict[str, Any],
    progress: Callable[[int, int], None] | None,
) -> int:
    """Import a CSV export as a new session (see ``import_file``).

    Args:
        store: the store.
        fh: the file, open for binary reading.
        size: how many bytes of it to read.
        origin: ``file`` (its name for messages) and the rest of ``meta.imported_from``.
        progress: called with (bytes read, size).
    """
    name = origin["file"]
    writer = ImportWriter(store)
    area = AreaFinder()
    checks = SampleChecks()
    try:
        fh.seek(0)
        columns, start = _header(fh.read(_HEAD), size, name)
        for block, first_line, done in _blocks(fh, size, start, name):
            table = _parse(block, first_line, columns, name)
            at = _Lines(block, first_line, name)
            holes: dict[str, np.ndarray] = {}
            samples = JudgedSamples(
                t_s=_floats(table, "t_s", holes),
                raw=_floats(table, "raw", holes),
                force_n=_floats(table, "force_n", holes),
                filtered_n=_floats(table, "filtered_n", holes),
                zone=zone_codes(table.column("zone"), at.where)
                if "zone" in columns
                else np.full(table.num_rows, int(Zone.UNCALIBRATED), dtype=np.int8),
            )
            extra = {}
            if PRESSURE_COLUMN in columns:
                extra[PRESSURE_COLUMN] = _floats(table, PRESSURE_COLUMN, holes)
            checks.check(samples, at.locate, holes, extra)
            if writer.session_id is None and len(samples):
                writer.begin(
                    origin=origin,
                    meta={},
                    source=f"import:{name}",
                    profile="default",
                    region=None,
                    limit_n=None,
                )
            writer.add(samples)
            if PRESSURE_COLUMN in extra:
                area.feed(samples.force_n, extra[PRESSURE_COLUMN])
            if progress is not None:
                progress(done, size)
        sid = writer.finish_samples(area, name, f"{name} has no samples after its header line")
    except BaseException:
        writer.abandon()
        raise
    log.info("%s imported as session %d", name, sid)
    return sid
