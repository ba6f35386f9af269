"""Sample batches as Arrow columns, and as CSV rows or JSON array items, without a Python loop
per sample.

Numbers are formatted by Arrow (shortest text that reads back as the same float64; integral
values without ``.0``); NaN becomes an empty CSV field or a JSON ``null``; raw counts that are
whole numbers are written as integers. Text is built on worker threads (Arrow lets go of the
GIL), a batch each, and handed back in order (:func:`ordered_map`).
"""

from __future__ import annotations

import io
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from firmware_bridge.store.formats import PRESSURE_COLUMN, ZONE_LABELS, pressure_kpa

T = TypeVar("T")
R = TypeVar("R")

#: Threads formatting text; the caller's thread reads the store and writes the file meanwhile.
WORKERS = max(1, min(4, os.cpu_count() or 1))

_ZONE_DICTIONARY = pa.array(ZONE_LABELS, type=pa.string())
_CSV = pcsv.WriteOptions(include_header=False, quoting_style="none", batch_size=16384)
# One column's values, each followed by a comma (the last one is cut off by the caller).
_JSON_NUMBERS = pcsv.WriteOptions(
    include_header=False,
    quoting_style="none",
    eol=",",
    null_string="null",
    delimiter="\t",
    batch_size=16384,
)
_JSON_LABELS = pcsv.WriteOptions(
    include_header=False,
    quoting_style="needed",
    eol=",",
    null_string="null",
    delimiter="\t",
    batch_size=16384,
)


def float_array(values: np.ndarray) -> pa.Array:
    """A float64 Arrow array with NaN as null."""
    return pa.array(np.asarray(values, dtype=np.float64), from_pandas=True)


def zone_array(zone: np.ndarray) -> pa.DictionaryArray:
    """Zone values as labels (a dictionary array: no string is built per sample)."""
    index = np.asarray(zone, dtype=np.int16) + 128
    return pa.DictionaryArray.from_arrays(pa.array(index), _ZONE_DICTIONARY)


def raw_array(raw: np.ndarray) -> pa.Array:
    """Raw counts: int64 (null for NaN) when every one is a whole number, float64 otherwise."""
    values = np.asarray(raw, dtype=np.float64)
    missing = np.isnan(values)
    known = values[~missing] if missing.any() else values
    if np.all(np.abs(known) < 2.0**53) and np.array_equal(known, np.trunc(known)):
        return pa.array(np.where(missing, 0.0, values).astype(np.int64), mask=missing)
    return float_array(values)


def column_array(
    batch: dict[str, np.ndarray], column: str, tip_area_cm2: float | None, *, text: bool
) -> pa.Array:
    """One export column of a batch of store columns.

    Args:
        batch: store columns (``t_s``, ``raw``, ``force_n``, ``filtered_n``, ``zone``).
        column: the export column (``pressure_kpa`` is computed from ``force_n``).
        tip_area_cm2: the tip area, for pressure.
        text: for CSV/JSON (zones as a dictionary, whole raw counts as integers); otherwise
            for Parquet (zones as text, raw counts as float64: the schema is the same in every
            file).
    """
    if column == "zone":
        labels = zone_array(batch["zone"])
        return labels if text else labels.cast(pa.string())
    if column == "raw" and text:
        return raw_array(batch["raw"])
    if column == PRESSURE_COLUMN:
        if tip_area_cm2 is None:
            raise ValueError("pressure needs the tip area")
        return float_array(pressure_kpa(batch["force_n"], tip_area_cm2))
    return float_array(batch[column])


def record_batch(
    batch: dict[str, np.ndarray],
    columns: list[str],
    tip_area_cm2: float | None,
    *,
    schema: pa.Schema | None = None,
) -> pa.RecordBatch:
    """The export columns of a batch as one Arrow record batch: for CSV/JSON text without a
    ``schema``, for Parquet with the file's schema."""
    text = schema is None
    arrays = [column_array(batch, c, tip_area_cm2, text=text) for c in columns]
    if schema is None:
        return pa.RecordBatch.from_arrays(arrays, names=columns)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def csv_rows(batch: dict[str, np.ndarray], columns: list[str], area: float | None) -> bytes:
    """CSV lines (no header) for a batch of samples."""
    out = io.BytesIO()
    pcsv.write_csv(record_batch(batch, columns, area), out, _CSV)
    return out.getvalue()


def json_items(batch: dict[str, np.ndarray], column: str, area: float | None) -> bytes:
    """One column of a batch as JSON array items, comma-separated (no brackets)."""
    array = column_array(batch, column, area, text=True)
    options = _JSON_LABELS if column == "zone" else _JSON_NUMBERS
    if pa.types.is_floating(array.type):
        values = array.to_numpy(zero_copy_only=False)
        if np.isinf(values).any():  # JSON has no inf: 1e999 reads back as one
            text = pc.cast(array, pa.string())
            big = pc.if_else(pc.greater(array, 0), "1e999", "-1e999")
            array = pc.if_else(pc.is_inf(array), big, text)
    out = io.BytesIO()
    pcsv.write_csv(pa.RecordBatch.from_arrays([array], names=[column]), out, options)
    return out.getvalue()[:-1]


def ordered_map(
    fn: Callable[[T], R], items: Iterable[T], workers: int = WORKERS
) -> Iterator[tuple[T, R]]:
    """``(item, fn(item))`` for each item, in order, ``fn`` running on worker threads.

    At most ``2 × workers`` items are in flight, so memory stays bounded; the items are
    produced (the store read) on the caller's thread. Stopping early cancels what is queued.
    """
    if workers <= 1:
        for item in items:
            yield item, fn(item)
        return
    pending: deque[tuple[T, Future[R]]] = deque()
    pool = ThreadPoolExecutor(workers, thread_name_prefix="pg-export")
    try:
        for item in items:
            pending.append((item, pool.submit(fn, item)))
            if len(pending) >= 2 * workers:
                first, future = pending.popleft()
                yield first, future.result()
        while pending:
            first, future = pending.popleft()
            yield first, future.result()
    finally:
        for _item, future in pending:
            future.cancel()
        pool.shutdown(wait=True)
