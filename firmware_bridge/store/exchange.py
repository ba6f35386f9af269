"""Session export (CSV, JSON) and import.

CSV: a header line, then one row per sample with the columns ``t_s, force_n, filtered_n, zone,
raw`` and ``pressure_kpa`` when the tip area is known (P[kPa] = 10·F[N]/A[cm²]). Floats are written
with Python's shortest round-trip ``repr``, so a value read back is the float64 that was recorded;
NaN is an empty field; zones are labels (``relaxed``, ``over``, ``no_signal`` …); raw counts are
integers. JSON: ``{"format": "pressureguard-session", "version": 1, "session": summary,
"samples": {column: [...]}}`` with NaN as null.

Both are written a batch at a time, so a 7.2-million-sample session never becomes a Python list.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from firmware_bridge.errors import NotFoundError, UsageError
from firmware_bridge.store._base import clean_json
from firmware_bridge.store._import_json import import_json
from firmware_bridge.store._importers import import_csv
from firmware_bridge.store.formats import FORMAT, FORMAT_VERSION, export_columns, format_column
from firmware_bridge.store.store import Store

log = logging.getLogger(__name__)

_BATCH = 65536


@contextmanager
def _text_out(out: TextIO | Path | str) -> Iterator[TextIO]:
    """A stream as is; a path through a ``.part`` file renamed at the end, so a failed export
    never leaves a truncated file that looks complete."""
    if not isinstance(out, str | Path):
        yield out
        return
    path = Path(out)
    part = path.with_name(path.name + ".part")
    try:
        with part.open("w", encoding="utf-8", newline="") as fh:
            yield fh
        part.replace(path)
    finally:
        part.unlink(missing_ok=True)


def export_csv(store: Store, session_id: int, out: TextIO | Path) -> int:
    """Write a session's samples as CSV (see the module docstring for the format).

    Args:
        store: the store.
        session_id: the session.
        out: an open text stream, or a path to create.

    Returns:
        The number of sample rows written.

    Raises:
        NotFoundError: no such session.
        StoreError: the store cannot be read.
        OSError: the file cannot be written.
    """
    summary = store.session_summary(session_id)
    area = summary["tip_area_cm2"]
    columns = export_columns(summary)
    rows = 0
    with _text_out(out) as fh:
        fh.write(",".join(columns) + "\n")
        for batch in store.iter_samples(session_id, _BATCH):
            cells = [format_column(batch, c, area) for c in columns]
            fh.write("\n".join(map(",".join, zip(*cells, strict=True))))
            fh.write("\n")
            rows += len(batch)
    log.info("session %d: %d samples exported as CSV", session_id, rows)
    return rows


def export_json(store: Store, session_id: int, out: TextIO | Path) -> int:
    """Write a session as JSON: its full summary (with events) and every sample column.

    Columns are streamed one at a time from the store, so memory stays small for long sessions.

    Returns:
        The number of samples written.

    Raises:
        NotFoundError: no such session.
        StoreError: the store cannot be read.
        OSError: the file cannot be written.
    """
    summary = store.session_summary(session_id)
    area = summary["tip_area_cm2"]
    head = json.dumps(
        {"format": FORMAT, "version": FORMAT_VERSION, "session": clean_json(summary)},
        allow_nan=False,
        default=str,
    )
    rows = 0
    with _text_out(out) as fh:
        fh.write(head[:-1] + ',\n "samples": {')
        for k, column in enumerate(export_columns(summary)):
            fh.write(("," if k else "") + f"\n  {json.dumps(column)}: [")
            rows = 0
            for batch in store.iter_samples(session_id, _BATCH):
                cells = format_column(batch, column, area, as_json=True)
                fh.write(("," if rows else "") + ",".join(cells))
                rows += len(batch)
            fh.write("]")
        fh.write("\n }\n}\n")
    log.info("session %d: %d samples exported as JSON", session_id, rows)
    return rows


def import_file(store: Store, path: Path) -> int:
    """Import a session exported as JSON (full fidelity) or CSV (samples only), as a new session.

    A CSV import gets source ``import:<file name>``, profile ``default``, no region or limit,
    and starts now; its tip area is recovered from ``pressure_kpa`` when present.

    Args:
        store: the store to import into.
        path: a ``.json`` or ``.csv`` export (JSON is recognised by content too).

    Returns:
        The new session's id.

    Raises:
        NotFoundError: the file does not exist.
        UsageError: the file is not a valid export; the message names the line or field.
        StoreError: the store cannot be written (nothing of the import is kept).
    """
    path = Path(path)
    if not path.exists():
        raise NotFoundError(f"no such file: {path}")
    if not path.is_file():
        raise UsageError(f"{path} is not a file")
    with path.open("rb") as fh:
        start = fh.read(64).removeprefix(b"\xef\xbb\xbf").lstrip()
    if path.suffix.lower() == ".json" or start.startswith(b"{"):
        return import_json(store, path)
    return import_csv(store, path)
