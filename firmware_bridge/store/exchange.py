"""Session export (CSV, JSON, Parquet) and import, streamed a batch at a time.

The formats are described in ``docs/exchange.md``. In short: CSV has a header line, then one row
per sample with ``t_s, force_n, filtered_n, zone, raw`` and ``pressure_kpa`` when the tip area is
known (P[kPa] = 10·F[N]/A[cm²]); numbers read back as exactly the recorded float64, NaN is an
empty field, zones are labels (``relaxed``, ``over``, ``no_signal`` …). JSON is
``{"format": "pressureguard-session", "version": 1, "session": summary, "samples": {column:
[...]}}`` with NaN as null. Parquet has the same columns (NaN as null) and the JSON head (session
and events) in its metadata under ``pressureguard``.

Exports read the store in batches and format them on worker threads (Arrow), so a 7.2-million-
sample session never becomes Python objects; imports parse a block at a time (:mod:`._import_csv`,
:mod:`._import_json`, :mod:`._import_parquet`). Both report progress through a callback.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from firmware_bridge.errors import UsageError
from firmware_bridge.store.formats import (
    EXPORT_FORMATS,
    PARQUET_META_KEY,
    PRESSURE_COLUMN,
    export_columns,
    head_json,
)
from firmware_bridge.store.samples import FLOAT_COLUMNS
from firmware_bridge.store.store import Store

if TYPE_CHECKING:
    import pyarrow as pa

# pyarrow (and the modules using it) is imported only when a file is written or read: loading it
# takes a second and tens of MB, which no other command, nor the bridge, should pay.

log = logging.getLogger(__name__)

#: ``progress(done, total)``: samples written so far (export) or bytes read so far (import).
Progress = Callable[[int, int], None]
#: Samples per batch read from the store and formatted at a time.
BATCH = 131072
_STORE_COLUMNS = (*FLOAT_COLUMNS, "zone")


def _check_target(path: Path) -> None:
    """The rule for ``-o FILE``: a new file, or a regular file that is replaced whole; never a
    symbolic link (written through, it could overwrite any file the link points to)."""
    try:  # a name the system cannot take (too long, say) fails in these checks already
        linked, exists, is_file = path.is_symlink(), path.exists(), path.is_file()
        folder_exists = path.parent.is_dir()
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    if linked:
        raise UsageError(
            f"{path} is a symbolic link (to {os.readlink(path)}): an export never writes "
            "through a link; give the real path"
        )
    if exists and not is_file:
        raise UsageError(f"{path} is not a regular file: give a file name to write")
    if not folder_exists:
        raise UsageError(f"cannot write {path}: no such directory {path.parent}")


class _TextSink:
    """Bytes written to a text stream (a StringIO) as UTF-8 text."""

    def __init__(self, out: io.TextIOBase) -> None:
        self._out = out

    def write(self, data: bytes | memoryview) -> int:
        self._out.write(bytes(data).decode("utf-8"))
        return len(data)


@contextlib.contextmanager
def _binary_out(out: IO[Any] | Path | str) -> Iterator[Any]:
    """A binary file object for a path, a binary stream or a text stream.

    A path is written through a new temporary file beside it (created exclusively, never
    followed through a link) that replaces the target only when the export is complete, so a
    failed export leaves no truncated file that looks whole.
    """
    if isinstance(out, io.TextIOBase):
        buffer = getattr(out, "buffer", None)
        out.flush()
        yield _TextSink(out) if buffer is None else buffer  # sys.stdout: straight to its bytes
        if buffer is not None:
            buffer.flush()
        return
    if not isinstance(out, str | Path):
        yield out
        return
    path = Path(out)
    _check_target(path)
    part = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(part, flags | getattr(os, "O_BINARY", 0), 0o666)  # the umask applies
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.replace(part, path)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(part)


def _batches(store: Store, session_id: int, columns: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    return store.iter_arrays(session_id, columns, batch_size=BATCH)


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, max(total, done))


def export_csv(
    store: Store, session_id: int, out: IO[Any] | Path, *, progress: Progress | None = None
) -> int:
    """Write a session's samples as CSV (see the module docstring for the format).

    Args:
        store: the store.
        session_id: the session.
        out: an open text or binary stream, or a path to create.
        progress: called with (samples written, samples in all) after each batch.

    Returns:
        The number of sample rows written.

    Raises:
        NotFoundError: no such session.
        StoreError: the store cannot be read.
        UsageError: the file cannot be written there (a symbolic link, no such directory …).
    """
    from firmware_bridge.store._export_arrow import ordered_map  # noqa: PLC0415
    from firmware_bridge.store._export_text import csv_rows  # noqa: PLC0415

    summary = store.session_summary(session_id)
    columns = export_columns(summary)
    total = int(summary.get("n_samples") or 0)
    fmt = functools.partial(csv_rows, columns=columns, area=summary["tip_area_cm2"])
    rows = 0
    with _binary_out(out) as fh:
        fh.write((",".join(columns) + "\n").encode())
        for batch, text in ordered_map(fmt, _batches(store, session_id, _STORE_COLUMNS)):
            fh.write(text)
            rows += len(batch["t_s"])
            _report(progress, rows, total)
    log.info("session %d: %d samples exported as CSV", session_id, rows)
    return rows


def export_json(
    store: Store, session_id: int, out: IO[Any] | Path, *, progress: Progress | None = None
) -> int:
    """Write a session as JSON: its full summary (with events) and every sample column.

    Each column is streamed from the store on its own (only that column is read), so memory
    stays small for long sessions. Arguments, return value and errors as :func:`export_csv`;
    progress counts one sample once per column.
    """
    from firmware_bridge.store._export_arrow import ordered_map  # noqa: PLC0415
    from firmware_bridge.store._export_text import json_items  # noqa: PLC0415

    summary = store.session_summary(session_id)
    area = summary["tip_area_cm2"]
    columns = export_columns(summary)
    total = int(summary.get("n_samples") or 0) * len(columns)
    done = rows = 0
    with _binary_out(out) as fh:
        fh.write((head_json(summary)[:-1] + ',\n "samples": {').encode())
        for k, column in enumerate(columns):
            fh.write(f'{"," if k else ""}\n  "{column}": ['.encode())
            source = "force_n" if column == PRESSURE_COLUMN else column
            fmt = functools.partial(json_items, column=column, area=area)
            rows = 0
            for batch, text in ordered_map(fmt, _batches(store, session_id, (source,))):
                if rows:
                    fh.write(b",")
                fh.write(text)
                rows += len(batch[source])
                done += len(batch[source])
                _report(progress, done, total)
            fh.write(b"]")
        fh.write(b"\n }\n}\n")
    log.info("session %d: %d samples exported as JSON", session_id, rows)
    return rows


def parquet_schema(summary: dict[str, Any]) -> pa.Schema:
    """The Parquet schema of a session's export (docs/exchange.md), with the JSON head."""
    import pyarrow as pa  # noqa: PLC0415

    types = {"zone": pa.string()}
    fields = [
        pa.field(c, types.get(c, pa.float64()), nullable=c != "t_s")
        for c in export_columns(summary)
    ]
    return pa.schema(fields, metadata={PARQUET_META_KEY: head_json(summary).encode()})


def export_parquet(
    store: Store, session_id: int, out: IO[Any] | Path, *, progress: Progress | None = None
) -> int:
    """Write a session as Parquet: the CSV's columns, typed, and the session in the metadata.

    Arguments, return value and errors as :func:`export_csv`; ``out`` must be a path or a
    binary stream.
    """
    if isinstance(out, io.TextIOBase):
        raise UsageError("Parquet is binary: write it to a file (-o FILE.parquet)")
    import pyarrow.parquet as pq  # noqa: PLC0415

    from firmware_bridge.store._export_arrow import ordered_map, record_batch  # noqa: PLC0415

    summary = store.session_summary(session_id)
    schema = parquet_schema(summary)
    columns = schema.names
    total = int(summary.get("n_samples") or 0)
    fmt = functools.partial(
        record_batch, columns=columns, tip_area_cm2=summary["tip_area_cm2"], schema=schema
    )
    rows = 0
    with (
        _binary_out(out) as fh,
        pq.ParquetWriter(
            fh, schema, compression="zstd", use_dictionary=["zone"], write_page_checksum=True
        ) as writer,
    ):
        for batch, table in ordered_map(fmt, _batches(store, session_id, _STORE_COLUMNS)):
            writer.write_batch(table, row_group_size=BATCH)
            rows += len(batch["t_s"])
            _report(progress, rows, total)
        if rows == 0:
            writer.write_table(schema.empty_table())
    log.info("session %d: %d samples exported as Parquet", session_id, rows)
    return rows


#: Exporters by format name.
EXPORTERS: dict[str, Callable[..., int]] = {
    "csv": export_csv,
    "json": export_json,
    "parquet": export_parquet,
}


def export_session(
    store: Store,
    session_id: int,
    fmt: str,
    out: IO[Any] | Path,
    *,
    progress: Progress | None = None,
) -> int:
    """Export a session in ``fmt`` (``csv``, ``json`` or ``parquet``); see :func:`export_csv`.

    Raises:
        UsageError: an unknown format, or the file cannot be written there.
    """
    if fmt not in EXPORTERS:
        raise UsageError(f"unknown export format {fmt!r} (one of {', '.join(EXPORT_FORMATS)})")
    return EXPORTERS[fmt](store, session_id, out, progress=progress)


def import_file(store: Store, path: Path | str, *, progress: Progress | None = None) -> int:
    """Import a session exported as JSON or Parquet (full fidelity) or CSV (samples only).

    A CSV import gets source ``import:<file name>``, profile ``default``, no region or limit,
    and starts now; its tip area is recovered from ``pressure_kpa`` when present. The file is
    read a block at a time; the new session is written in chunks and removed again if anything
    fails, so a refused file leaves the store as it was. Symbolic links are followed to a
    regular file (the session records where it resolved to); anything else is refused.

    Args:
        store: the store to import into.
        path: a ``.csv``, ``.json`` or ``.parquet`` export (recognised by content too).
        progress: called with (bytes read, file size) as the file is read.

    Returns:
        The new session's id.

    Raises:
        NotFoundError: the file does not exist.
        UsageError: the file is not a valid export; one line naming the problem and the line,
            row or item where it is.
        StoreError: the store cannot be written (nothing of the import is kept).
    """
    from firmware_bridge.store._import_source import import_path  # noqa: PLC0415

    return import_path(store, Path(path), progress)
