"""Checksums of sample chunks: what lets a damaged page be told from data.

Each chunk the store writes gets a row in ``chunk_sums`` (schema version 6) in the same
transaction: its largest force (``peak_n``, so a session's kept peak can be checked without
reading a sample) and ``crc``, six little-endian CRC-32 values: one of the chunk's head (``n``,
``t0``, ``t1``) and one of each sample column in storage order. A reader that gets a column
back checks its CRC first, so junk in the middle of a blob is an error, never a force.

Chunks written before version 6 have no row there; they are checked by their shape only
(:func:`shape_problem`): blob lengths that match ``n``, and ``t0``/``t1`` that match the times.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

#: The sample columns of a chunk in storage order, and their item sizes in bytes.
COLUMN_SIZES: dict[str, int] = {"t_s": 8, "raw": 8, "force_n": 8, "filtered_n": 8, "zone": 1}
_HEAD = struct.Struct("<qdd")
_CRCS = struct.Struct("<6I")
#: Index of each column's CRC in ``crc`` (0 is the head's).
CRC_INDEX = {name: i + 1 for i, name in enumerate(COLUMN_SIZES)}


class ChunkRow(Protocol):
    """A chunk row as read: an :class:`sqlite3.Row` or a dict of its columns."""

    def __getitem__(self, key: str, /) -> Any: ...

    def keys(self) -> Any: ...


def head_crc(n: int, t0: float, t1: float) -> int:
    """The CRC-32 of a chunk's head: its sample count and first and last time."""
    # + 0.0 turns -0.0 into 0.0: SQLite keeps a time of -0.0 as 0.0, so the sign of a zero
    # cannot be part of the sum (an imported "-0.0" once read back as a damaged chunk)
    return zlib.crc32(_HEAD.pack(int(n), float(t0) + 0.0, float(t1) + 0.0))


def seal(n: int, t0: float, t1: float, blobs: Sequence[bytes]) -> bytes:
    """The ``crc`` value of a chunk.

    Args:
        n: samples in the chunk.
        t0: its first sample time.
        t1: its last sample time.
        blobs: the five sample columns' bytes, in :data:`COLUMN_SIZES` order.
    """
    return _CRCS.pack(head_crc(n, t0, t1), *(zlib.crc32(b) for b in blobs))


def unpack(crc: bytes) -> tuple[int, ...] | None:
    """The six CRCs of a ``crc`` value; None when it is not one (itself damaged)."""
    if not isinstance(crc, bytes) or len(crc) != _CRCS.size:
        return None
    return _CRCS.unpack(crc)


def peak_of(force_blob: bytes) -> float | None:
    """The largest force of a chunk's ``force_n`` bytes; None when every one is NaN."""
    force = np.frombuffer(force_blob, dtype="<f8")
    if len(force) == 0:
        return None
    peak = float(np.fmax.reduce(force))  # fmax skips NaN without a warning
    return peak if math.isfinite(peak) else None


def crc_problem(
    row: ChunkRow, names: Sequence[str], crc: bytes | None, *, head: bool = True
) -> str | None:
    """What is wrong with some columns of a chunk, checked against its ``crc``; None if nothing.

    Args:
        row: the chunk row: ``n``, ``t0`` and ``t1`` (for the head check) and the columns in
            ``names``.
        names: the sample columns read (NULL ones, out of a window, are skipped).
        crc: the chunk's ``crc`` value; None for a chunk written before checksums existed (then
            only the lengths are checked).
        head: whether to check ``n``, ``t0`` and ``t1`` against the head's CRC too.
    """
    n = row["n"]
    if not isinstance(n, int) or n <= 0:
        return f"a chunk holds {n!r} samples"
    for name in names:
        blob = row[name]
        if blob is None:
            continue
        if not isinstance(blob, bytes) or len(blob) != n * COLUMN_SIZES[name]:
            size = len(blob) if isinstance(blob, bytes) else type(blob).__name__
            return f"its {name} column holds {size} bytes for {n} samples"
    if crc is None:
        return None
    crcs = unpack(crc)
    if crcs is None:
        return "its checksum is unreadable"
    if head:
        t0, t1 = row["t0"], row["t1"]
        if not isinstance(t0, float | int) or not isinstance(t1, float | int):
            return "its first or last time is not a number"
        if head_crc(n, float(t0), float(t1)) != crcs[0]:
            return "its sample count or times do not match their checksum"
    for name in names:
        blob = row[name]
        if blob is not None and zlib.crc32(blob) != crcs[CRC_INDEX[name]]:
            return f"its {name} column does not match its checksum"
    return None


def shape_problem(row: ChunkRow) -> str | None:
    """What is wrong with a whole chunk judged by its shape alone; None if nothing.

    For chunks without checksums: every column's length fits ``n``, the times are finite and
    ``t0``/``t1`` are their smallest and largest.
    """
    problem = crc_problem(row, tuple(COLUMN_SIZES), None)
    if problem is not None:
        return problem
    t = np.frombuffer(row["t_s"], dtype="<f8")
    if not np.isfinite(t).all():
        return "its times are not all finite"
    if float(t.min()) != row["t0"] or float(t.max()) != row["t1"]:
        return "its first or last time does not match its samples"
    return None
