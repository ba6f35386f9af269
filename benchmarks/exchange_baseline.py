"""The comparison baseline of ``benchmarks.exchange``: session export and import as PressureGuard
did them before issue 14 (and as a user scripting it would), a Python object per value.

Export: each float through ``repr`` (NaN as an empty field / null), each CSV row joined in
Python, a batch of 65,536 samples at a time. Import: ``csv.reader`` rows and ``float()`` per
field (CSV), ``json.loads`` of the whole file (JSON), appended in chunks of 1,024 samples with a
commit every 64. Same columns and values as the export proper; only valid files are handled.
Kept here only to be measured against.
"""

from __future__ import annotations

import csv
import json
import math
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from firmware_bridge.store import Store
from firmware_bridge.store.formats import ZONE_BY_TEXT, ZONE_LABELS, export_columns, head_json
from firmware_bridge.zones import JudgedSamples, Zone

_BATCH = 65536
_CHUNK = 1024
_COMMIT_EVERY = 64
_LUT = np.array(ZONE_LABELS, dtype=object)
_COLUMNS = ("t_s", "raw", "force_n", "filtered_n", "zone")


def _floats(values: np.ndarray, null: str) -> list[str]:
    out = list(map(repr, values.tolist()))
    for i in np.flatnonzero(~np.isfinite(values)).tolist():
        out[i] = null if math.isnan(values[i]) else ("1e999" if values[i] > 0 else "-1e999")
    return out


def _raw(values: np.ndarray, null: str) -> list[str]:
    whole = np.isfinite(values) & (values == np.trunc(values))
    out = _floats(values, null)
    for i in np.flatnonzero(whole).tolist():
        out[i] = str(int(values[i]))
    return out


def _cells(batch: JudgedSamples, column: str, area: float | None, null: str) -> list[str]:
    if column == "zone":
        return _LUT[np.asarray(batch.zone, dtype=np.int16) + 128].tolist()
    if column == "raw":
        return _raw(batch.raw, null)
    if column == "pressure_kpa":
        assert area is not None
        return _floats(10.0 * batch.force_n / area, null)
    return _floats(getattr(batch, column), null)


def export_csv(store: Store, session_id: int, path: Path) -> int:
    """The CSV export, a value at a time."""
    summary = store.session_summary(session_id)
    columns, area, rows = export_columns(summary), summary["tip_area_cm2"], 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(columns) + "\n")
        for batch in store.iter_samples(session_id, _BATCH):
            cells = [_cells(batch, c, area, "") for c in columns]
            fh.write("\n".join(map(",".join, zip(*cells, strict=True))) + "\n")
            rows += len(batch)
    return rows


def export_json(store: Store, session_id: int, path: Path) -> int:
    """The JSON export, a value at a time (the store read once per column)."""
    summary = store.session_summary(session_id)
    area, rows = summary["tip_area_cm2"], 0
    with path.open("w", encoding="utf-8") as fh:
        fh.write(head_json(summary)[:-1] + ',\n "samples": {')
        for k, column in enumerate(export_columns(summary)):
            fh.write(("," if k else "") + f"\n  {json.dumps(column)}: [")
            rows = 0
            for batch in store.iter_samples(session_id, _BATCH):
                cells = _cells(batch, column, area, "null")
                if column == "zone":
                    cells = [f'"{z}"' for z in cells]
                fh.write(("," if rows else "") + ",".join(cells))
                rows += len(batch)
            fh.write("]")
        fh.write("\n }\n}\n")
    return rows


def _write(store: Store, data: JudgedSamples, **begin: Any) -> int:
    sid = store.begin_session(**begin)
    for k, start in enumerate(range(0, len(data), _CHUNK)):
        part = JudgedSamples(*(getattr(data, c)[start : start + _CHUNK] for c in _COLUMNS))
        store.append_samples(sid, part)
        if k % _COMMIT_EVERY == _COMMIT_EVERY - 1:
            store.commit()
    store.end_session(sid, reason="imported")
    return sid


def import_csv(store: Store, path: Path) -> int:
    """The CSV import: ``csv.reader`` rows, ``float()`` per field, a batch at a time."""
    sid = store.begin_session(source=f"import:{path.name}", profile="bench", region=None,
                              limit_n=None)  # fmt: skip
    chunks = 0
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        columns = next(reader)
        index = {c: i for i, c in enumerate(columns)}
        while rows := list(islice(reader, _BATCH)):
            cells = list(zip(*rows, strict=True))

            def floats(column: str, cells: list[Any] = cells) -> np.ndarray:
                return np.array(
                    [float(v) if v else math.nan for v in cells[index[column]]], dtype=np.float64
                )

            zone = np.array([ZONE_BY_TEXT[v] for v in cells[index["zone"]]], dtype=np.int8)
            data = JudgedSamples(
                floats("t_s"), floats("raw"), floats("force_n"), floats("filtered_n"), zone
            )
            for start in range(0, len(data), _CHUNK):
                part = JudgedSamples(*(getattr(data, c)[start : start + _CHUNK] for c in _COLUMNS))
                store.append_samples(sid, part)
                chunks += 1
                if chunks % _COMMIT_EVERY == 0:
                    store.commit()
    store.end_session(sid, reason="imported")
    return sid


def import_json(store: Store, path: Path) -> int:
    """The JSON import: the whole file through ``json.loads``, then each column to an array."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    samples = doc["samples"]

    def floats(column: str) -> np.ndarray:
        return np.array([math.nan if v is None else v for v in samples[column]], np.float64)

    zone = np.array([ZONE_BY_TEXT.get(z, int(Zone.UNCALIBRATED)) for z in samples["zone"]], np.int8)
    data = JudgedSamples(
        floats("t_s"), floats("raw"), floats("force_n"), floats("filtered_n"), zone
    )
    session = doc["session"]
    return _write(store, data, source=session["source"], profile="bench", region=None, limit_n=None)
