"""Reading a Parquet export back in (see ``import_file``), a batch of rows at a time.

A file PressureGuard wrote carries its session (the JSON export's head) in the metadata and comes
back with everything it recorded; any other Parquet file with ``t_s`` and ``force_n`` columns (from
pandas, R or DuckDB) is imported like a CSV. Row groups are read one at a time; a row group too big
to read in pieces is refused.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterator
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from firmware_bridge.errors import UsageError
from firmware_bridge.store._import_checks import SampleChecks
from firmware_bridge.store._import_csv import zone_codes
from firmware_bridge.store._import_json import SessionPart, check_head
from firmware_bridge.store._importers import AreaFinder, ImportWriter
from firmware_bridge.store.formats import (
    KNOWN_COLUMNS,
    PARQUET_META_KEY,
    PRESSURE_COLUMN,
    REQUIRED_COLUMNS,
)
from firmware_bridge.store.store import Store
from firmware_bridge.zones import JudgedSamples, Zone

log = logging.getLogger(__name__)

BATCH = 131072
#: The largest row group read (a row group is decoded whole): 4 Mi rows, ~200 MB of columns.
MAX_ROW_GROUP = 1 << 22
_ZONES = np.array(sorted(int(z) for z in Zone), dtype=np.int64)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _open(fh: IO[bytes], name: str) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(fh, page_checksum_verification=True)  # pages with a CRC
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise UsageError(f"{name} is not a readable Parquet file ({_first_line(exc)})") from None


def _columns(pf: pq.ParquetFile, name: str) -> list[str]:
    """The known columns present, checked for type."""
    schema = pf.schema_arrow
    for column in REQUIRED_COLUMNS:
        if column not in schema.names:
            raise UsageError(f"{name}: not a PressureGuard export (no {column} column)")
    present = [c for c in KNOWN_COLUMNS if c in schema.names]
    for column in present:
        kind = schema.field(column).type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind)
        text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
        if not (numeric or (column == "zone" and text)):
            raise UsageError(f"{name}: column {column} holds {kind}, not numbers")
    unknown = [c for c in schema.names if c not in KNOWN_COLUMNS]
    if unknown:
        log.warning("%s: ignoring columns %s", name, ", ".join(map(repr, unknown)))
    meta = pf.metadata
    for i in range(meta.num_row_groups):
        rows = meta.row_group(i).num_rows
        if rows > MAX_ROW_GROUP:
            raise UsageError(
                f"{name}: row group {i + 1} holds {rows:,} rows, more than {MAX_ROW_GROUP:,} "
                "read at once; write it with smaller row groups"
            )
    return present


def _batches(pf: pq.ParquetFile, columns: list[str], name: str) -> Iterator[pa.RecordBatch]:
    done = 0
    batches = pf.iter_batches(batch_size=BATCH, columns=columns, use_threads=True)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise UsageError(
                f"{name} row {done + 1}: unreadable after it ({_first_line(exc)})"
            ) from None
        done += batch.num_rows
        yield batch


def _floats(batch: pa.RecordBatch, column: str, holes: dict[str, np.ndarray]) -> np.ndarray:
    if column not in batch.schema.names:
        holes[column] = np.ones(batch.num_rows, dtype=bool)
        return np.full(batch.num_rows, np.nan)
    data = batch.column(column)
    if pa.types.is_dictionary(data.type):
        data = data.dictionary_decode()
    if data.null_count:
        holes[column] = data.is_null().to_numpy(zero_copy_only=False)
    return np.asarray(pc.cast(data, pa.float64()).to_numpy(zero_copy_only=False), np.float64)


def _zone(batch: pa.RecordBatch, where: Callable[[int], str]) -> np.ndarray:
    if "zone" not in batch.schema.names:
        return np.full(batch.num_rows, int(Zone.UNCALIBRATED), dtype=np.int8)
    data = batch.column("zone")
    if pa.types.is_dictionary(data.type):
        data = data.dictionary_decode()
    if pa.types.is_integer(data.type):
        values = np.asarray(data.to_numpy(zero_copy_only=False), dtype=np.float64)
        bad = ~np.isin(values, _ZONES)  # nulls (NaN) are no zone either
        if bad.any():
            i = int(np.argmax(bad))
            raise UsageError(f"{where(i)}: zone {data[i].as_py()!r} is not a zone")
        return values.astype(np.int8)
    return zone_codes(data, where)


def _row(name: str, base: int, i: int) -> str:
    return f"{name} row {base + i + 1}"


def _row_column(name: str, base: int, i: int, column: str) -> str:
    return f"{_row(name, base, i)}: {column}"


def import_parquet(
    store: Store,
    fh: IO[bytes],
    size: int,
    origin: dict[str, Any],
    progress: Callable[[int, int], None] | None,
) -> int:
    """Import a Parquet export as a new session (see ``import_file``; arguments as
    ``_import_csv.import_csv``)."""
    name = origin["file"]
    pf = _open(fh, name)
    head = (pf.schema_arrow.metadata or {}).get(PARQUET_META_KEY)
    part = None
    if head is not None:
        try:
            decoded = json.loads(head)
        except (ValueError, RecursionError):
            raise UsageError(f"{name}: its PressureGuard metadata is not valid JSON") from None
        part = SessionPart(check_head(decoded, name, samples=False), name, origin)
    columns = _columns(pf, name)
    total = max(1, pf.metadata.num_rows)
    writer = ImportWriter(store)
    checks = SampleChecks()
    area = AreaFinder()
    done = 0
    try:
        if part is not None:
            part.begin(store, writer)
        for batch in _batches(pf, columns, name):
            holes: dict[str, np.ndarray] = {}
            where = functools.partial(_row, name, done)

            samples = JudgedSamples(
                t_s=_floats(batch, "t_s", holes),
                raw=_floats(batch, "raw", holes),
                force_n=_floats(batch, "force_n", holes),
                filtered_n=_floats(batch, "filtered_n", holes),
                zone=_zone(batch, where),
            )
            extra = {}
            if PRESSURE_COLUMN in columns:
                extra[PRESSURE_COLUMN] = _floats(batch, PRESSURE_COLUMN, holes)
            checks.check(samples, functools.partial(_row_column, name, done), holes, extra)
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
            if part is None and PRESSURE_COLUMN in extra:
                area.feed(samples.force_n, extra[PRESSURE_COLUMN])
            done += batch.num_rows
            if progress is not None:
                progress(min(size, size * done // total), size)
        if part is not None:
            sid = part.finish(store, writer)
        else:
            sid = writer.finish_samples(area, name, f"{name} has no samples")
    except BaseException:
        writer.abandon()
        raise
    log.info("%s imported as session %d", name, sid)
    return sid
