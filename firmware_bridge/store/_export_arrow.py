"""Sample batches as Arrow columns (Parquet), and :func:`ordered_map`, which builds each batch's
part of an export on worker threads and hands them back in order.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import pyarrow as pa

from firmware_bridge.store.formats import PRESSURE_COLUMN, ZONE_LABELS, pressure_kpa

T = TypeVar("T")
R = TypeVar("R")

#: Threads building batches; the caller's thread reads the store and writes the file meanwhile.
WORKERS = max(1, min(4, os.cpu_count() or 1))


def float_array(values: np.ndarray) -> pa.Array:
    """A float64 Arrow array with NaN as null."""
    return pa.array(np.asarray(values, dtype=np.float64), from_pandas=True)


def column_array(batch: dict[str, np.ndarray], column: str, tip_area_cm2: float | None) -> pa.Array:
    """One export column of a batch of store columns, typed as the Parquet schema says.

    Args:
        batch: store columns (``t_s``, ``raw``, ``force_n``, ``filtered_n``, ``zone``).
        column: the export column (``pressure_kpa`` is computed from ``force_n``).
        tip_area_cm2: the tip area, for pressure.
    """
    if column == "zone":
        index = np.asarray(batch["zone"], dtype=np.int16) + 128
        return pa.array(ZONE_LABELS, type=pa.string()).take(pa.array(index))
    if column == PRESSURE_COLUMN:
        if tip_area_cm2 is None:
            raise ValueError("pressure needs the tip area")
        return float_array(pressure_kpa(batch["force_n"], tip_area_cm2))
    return float_array(batch[column])


def record_batch(
    batch: dict[str, np.ndarray], columns: list[str], tip_area_cm2: float | None, schema: pa.Schema
) -> pa.RecordBatch:
    """The export columns of a batch as one Arrow record batch of the Parquet file's schema."""
    arrays = [column_array(batch, c, tip_area_cm2) for c in columns]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


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
