"""Sample batches as CSV rows or JSON array items, with no Python loop per sample.

Numbers are written by orjson, which formats a whole numpy array in Rust with Ryu: the shortest
text that reads back as the same float64 (``0.0125``, ``0.30000000000000004``, ``1e-7``,
``3.0``), several times faster than Arrow's formatter, which was what bounded a text export. Each
column becomes an Arrow string array whose every value carries the separator that follows it
(``,`` or the row's ``\\n``), so Arrow joins the columns of a row in C++ and the rows lie one
after the other in the result's buffer, ready to be written.

NaN (unknown) is an empty CSV field or a JSON ``null``; infinity, which JSON has no word for, is
``inf``/``-inf`` in CSV and ``1e999``/``-1e999`` in JSON (each reads back as infinity); raw counts
that are all whole numbers are written as integers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from firmware_bridge.store.formats import PRESSURE_COLUMN, ZONE_LABELS, pressure_kpa


@dataclass(frozen=True)
class Words:
    """How a file format writes what is not an ordinary number, and zone labels."""

    unknown: str
    infinity: str
    quote: str


CSV_WORDS = Words(unknown="", infinity="inf", quote="")
JSON_WORDS = Words(unknown="null", infinity="1e999", quote='"')


def _offsets_at(text: bytes, end: bytes, n: int) -> np.ndarray:
    """Offsets of ``n`` values in ``text``, each ending with the one byte ``end``."""
    offsets = np.zeros(n + 1, dtype=np.int32)
    offsets[1:] = np.flatnonzero(np.frombuffer(text, dtype=np.uint8) == end[0]) + 1
    return offsets


def number_texts(values: np.ndarray, end: bytes, words: Words) -> pa.StringArray:
    """Each number as text followed by ``end``, one Arrow string per value.

    Args:
        values: float64 or int64 numbers.
        end: the one byte after each value (``,`` or ``\\n``).
        words: how NaN and infinity are written.
    """
    n = len(values)
    if n == 0:
        return pa.array([], type=pa.string())
    body = orjson.dumps(np.ascontiguousarray(values), option=orjson.OPT_SERIALIZE_NUMPY)
    text = body[1:-1] + b","  # "[a,b,c]" → "a,b,c,": every value followed by a comma
    if end != b",":
        text = text.replace(b",", end)
    array = pa.StringArray.from_buffers(
        n, pa.py_buffer(_offsets_at(text, end, n)), pa.py_buffer(text)
    )
    if values.dtype.kind != "f":
        return array
    bad = ~np.isfinite(values)
    if not bad.any():
        return array
    tail = end.decode()
    # orjson writes null for NaN and for infinity alike: the words are put back from the values
    for mask, word in (
        (np.isnan(values), words.unknown),
        (values == np.inf, words.infinity),
        (values == -np.inf, "-" + words.infinity),
    ):
        if mask.any():
            array = pc.if_else(pa.array(mask), pa.scalar(word + tail), array)
    return array


def _raw_values(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Raw counts as int64 when every known one is a whole number (with the mask of the unknown
    ones, or None), else as they are."""
    values = np.asarray(raw, dtype=np.float64)
    missing = np.isnan(values)
    known = values[~missing] if missing.any() else values
    if not (np.all(np.abs(known) < 2.0**53) and np.array_equal(known, np.trunc(known))):
        return values, None
    return np.where(missing, 0.0, values).astype(np.int64), missing if missing.any() else None


def _zone_texts(zone: np.ndarray, end: bytes, words: Words) -> pa.Array:
    """Zone labels (quoted for JSON) followed by ``end``."""
    labels = pa.array([f"{words.quote}{label}{words.quote}{end.decode()}" for label in ZONE_LABELS])
    return labels.take(pa.array(np.asarray(zone, dtype=np.int16) + 128))


def _numbers(
    batch: dict[str, np.ndarray], column: str, area: float | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """A numeric export column of a batch: its values, and which of them are unknown when the
    values cannot say so themselves (whole raw counts as integers)."""
    if column == "raw":
        return _raw_values(batch["raw"])
    if column == PRESSURE_COLUMN:
        if area is None:
            raise ValueError("pressure needs the tip area")
        return pressure_kpa(batch["force_n"], area), None
    return np.asarray(batch[column], dtype=np.float64), None


def column_texts(
    batch: dict[str, np.ndarray], column: str, area: float | None, end: bytes, words: Words
) -> pa.Array:
    """One export column of a batch of store columns, as text values each followed by ``end``.

    Args:
        batch: store columns (``t_s``, ``raw``, ``force_n``, ``filtered_n``, ``zone``).
        column: the export column (``pressure_kpa`` is computed from ``force_n``).
        area: the tip area (cm²), for pressure.
        end: the byte after each value.
        words: the file format's words.
    """
    if column == "zone":
        return _zone_texts(batch["zone"], end, words)
    values, missing = _numbers(batch, column, area)
    array = number_texts(values, end, words)
    if missing is not None:
        array = pc.if_else(pa.array(missing), pa.scalar(words.unknown + end.decode()), array)
    return array


def _joined(array: pa.Array) -> memoryview:
    """The text of a string array's values, one after the other (no copy: a view of Arrow's
    buffer, handed to the file as it is)."""
    if len(array) == 0:
        return memoryview(b"")
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)
    first, last = int(offsets[array.offset]), int(offsets[array.offset + len(array)])
    return memoryview(array.buffers()[2])[first:last]


def csv_rows(batch: dict[str, np.ndarray], columns: list[str], area: float | None) -> memoryview:
    """CSV lines (no header) for a batch of samples."""
    parts = [
        column_texts(batch, c, area, b"\n" if i == len(columns) - 1 else b",", CSV_WORDS)
        for i, c in enumerate(columns)
    ]
    if len(parts) == 1:
        return _joined(parts[0])
    return _joined(pc.binary_join_element_wise(*parts, ""))


def json_items(batch: dict[str, np.ndarray], column: str, area: float | None) -> bytes | memoryview:
    """One column of a batch as JSON array items, comma-separated (no brackets)."""
    if column != "zone":
        values, missing = _numbers(batch, column, area)
        if missing is None and not np.isinf(values).any():  # orjson's null is NaN's word too
            return orjson.dumps(np.ascontiguousarray(values), option=orjson.OPT_SERIALIZE_NUMPY)[
                1:-1
            ]
    return _joined(column_texts(batch, column, area, b",", JSON_WORDS))[:-1]
