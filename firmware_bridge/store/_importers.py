"""Reading a CSV export back in, and the session writer every import uses (see ``import_file``).

An import either completes or leaves nothing behind: the session is created when the first batch
has parsed, appended a chunk at a time, and deleted again when anything later fails.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import math
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from firmware_bridge.errors import StoreError, UsageError
from firmware_bridge.store._base import utc_iso
from firmware_bridge.store.formats import (
    PRESSURE_COLUMN,
    SAMPLE_COLUMNS,
    ZONE_BY_TEXT,
    pressure_kpa,
)
from firmware_bridge.store.store import Store
from firmware_bridge.zones import JudgedSamples, Zone

log = logging.getLogger(__name__)

_BATCH = 65536  # CSV rows parsed at a time
_CHUNK = 1024  # samples per stored chunk, so window reads stay small
_COMMIT_EVERY = 64  # chunks per commit: bounded memory, few transactions


def _slice(samples: JudgedSamples, start: int, stop: int) -> JudgedSamples:
    return JudgedSamples(
        samples.t_s[start:stop],
        samples.raw[start:stop],
        samples.force_n[start:stop],
        samples.filtered_n[start:stop],
        samples.zone[start:stop],
    )


@contextlib.contextmanager
def named_errors(name: str) -> Iterator[None]:
    """Prefix the file name to a UsageError raised by the store's own checks."""
    try:
        yield
    except UsageError as exc:
        raise UsageError(f"{name}: {exc}") from exc


class ImportWriter:
    """Creates the imported session, appends in chunks, and removes it again on failure."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.session_id: int | None = None
        self.started = datetime.now(UTC)
        self.chunks = 0
        self.t_last: float | None = None
        self._over_last = False
        self.time_over_s = 0.0

    def begin(self, **kwargs: Any) -> int:
        self.started = kwargs.get("started_at") or self.started
        self.session_id = self.store.begin_session(**kwargs | {"started_at": self.started})
        return self.session_id

    def add(self, samples: JudgedSamples) -> None:
        if self.session_id is None or len(samples) == 0:
            return
        t = np.asarray(samples.t_s, dtype=np.float64)
        over = np.asarray(samples.zone) >= int(Zone.OVER)
        if self.t_last is not None:  # the interval across the batch boundary counts too
            t = np.concatenate([[self.t_last], t])
            over = np.concatenate([[self._over_last], over])
        self.time_over_s += float(np.sum(np.diff(t)[over[:-1]]))
        self.t_last, self._over_last = float(t[-1]), bool(over[-1])
        for start in range(0, len(samples), _CHUNK):
            self.store.append_samples(self.session_id, _slice(samples, start, start + _CHUNK))
            self.chunks += 1
            if self.chunks % _COMMIT_EVERY == 0:
                self.store.commit()

    def finish(self, *, status: str, ended_at: datetime | None, reason: str) -> int:
        if self.session_id is None:
            raise ValueError("no session was started")
        if ended_at is None:
            ended_at = self.started + timedelta(seconds=max(0.0, self.t_last or 0.0))
        self.store._finish(
            self.session_id, status=status, ended_at=utc_iso(ended_at), reason=reason
        )
        return self.session_id

    def abandon(self) -> None:
        if self.session_id is None:
            return
        sid = self.session_id
        self.store._discard_pending(sid)
        try:
            self.store._finish(sid, status="ended", ended_at=utc_iso(), reason="import failed")
            self.store.delete_session(sid)
        except StoreError:
            log.exception("could not remove the half-imported session %d", sid)


class _AreaFinder:
    """Finds the tip area that reproduces a CSV's pressure column exactly (identical re-export)."""

    def __init__(self) -> None:
        self.candidates: list[float] | None = None
        self.guess: float | None = None

    def feed(self, force: np.ndarray, pressure: np.ndarray) -> None:
        ok = np.isfinite(force) & np.isfinite(pressure) & (force != 0) & (pressure != 0)
        if not ok.any():
            return
        f, p = force[ok], pressure[ok]
        if self.candidates is None:
            i = int(np.argmax(np.abs(f)))
            guess = float(10.0 * f[i] / p[i])
            # Tip areas are short decimals typed by people; try those before the raw quotient.
            near = [float(f"{guess:.{d}g}") for d in (4, 6, 9, 12, 15)]
            near += [guess, float(np.nextafter(guess, np.inf)), float(np.nextafter(guess, 0.0))]
            self.guess = guess
            self.candidates = [c for c in dict.fromkeys(near) if c > 0]
        self.candidates = [c for c in self.candidates if np.array_equal(pressure_kpa(f, c), p)]

    def result(self, name: str) -> float | None:
        if self.guess is None or self.guess <= 0:
            return None
        if self.candidates:
            return self.candidates[0]
        log.warning("%s: pressure_kpa fits no single tip area; using %.6g cm²", name, self.guess)
        return self.guess


# -- CSV -----------------------------------------------------------------------------------------


def _parse_floats(
    values: Sequence[str], column: str, lines: Sequence[int], name: str
) -> np.ndarray:
    with contextlib.suppress(ValueError):  # fast path: no empty (NaN) fields
        return np.fromiter(map(float, values), np.float64, len(values))
    with contextlib.suppress(ValueError):
        return np.array([float(v) if v.strip() else math.nan for v in values], dtype=np.float64)
    for value, line in zip(values, lines, strict=True):
        try:
            if value.strip():
                float(value)
        except ValueError:
            raise UsageError(f"{name} line {line}: {column} {value!r} is not a number") from None
    raise AssertionError("unreachable")  # pragma: no cover


def _parse_zones(values: Sequence[str], lines: Sequence[int], name: str) -> np.ndarray:
    try:
        return np.array([ZONE_BY_TEXT[v.strip().lower()] for v in values], dtype=np.int8)
    except KeyError:
        pass
    for value, line in zip(values, lines, strict=True):
        if value.strip().lower() not in ZONE_BY_TEXT:
            labels = ", ".join(z.label for z in Zone)
            raise UsageError(f"{name} line {line}: unknown zone {value!r} (one of {labels})")
    raise AssertionError("unreachable")  # pragma: no cover


def _csv_header(reader: Any, name: str) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise UsageError(f"{name} is empty") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise UsageError(f"{name} line 1: unreadable ({exc})") from None
    columns = [h.strip() for h in header]
    missing = [c for c in ("t_s", "force_n") if c not in columns]
    if missing:
        raise UsageError(
            f"{name} line 1: not a PressureGuard CSV export (no {' or '.join(missing)} column)"
        )
    for column in columns:
        if columns.count(column) > 1:
            raise UsageError(f"{name} line 1: column {column} appears twice")
    unknown = [c for c in columns if c not in (*SAMPLE_COLUMNS, PRESSURE_COLUMN)]
    if unknown:
        log.warning("%s: ignoring unknown columns %s", name, ", ".join(unknown))
    return columns


def _csv_batches(reader: Any, name: str, width: int) -> Iterator[tuple[Sequence[int], list[Any]]]:
    """(line numbers, cells by column) for up to _BATCH rows at a time; blank lines skipped.

    Rows are taken a batch at a time and checked in bulk; line numbers assume one line per row,
    which holds for every export (no quoted newlines).
    """
    while True:
        first = reader.line_num + 1
        try:
            rows: list[list[str]] = list(islice(reader, _BATCH))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise UsageError(f"{name} line {reader.line_num + 1}: unreadable ({exc})") from None
        if not rows:
            return
        lines: Sequence[int] = range(first, first + len(rows))
        if not all(rows):  # blank lines: drop them, keeping the others' line numbers
            kept = [(line, row) for line, row in zip(lines, rows, strict=True) if row]
            lines, rows = [k[0] for k in kept], [k[1] for k in kept]
        for line, row in zip(lines, rows, strict=True):
            if len(row) != width:
                raise UsageError(f"{name} line {line}: {len(row)} fields, expected {width}")
        if rows:
            yield lines, list(zip(*rows, strict=True))


def _csv_samples(
    columns: list[str], cells: list[Any], lines: Sequence[int], name: str
) -> tuple[JudgedSamples, np.ndarray | None]:
    index = {c: i for i, c in enumerate(columns)}

    def floats(column: str) -> np.ndarray:
        if column not in index:
            return np.full(len(lines), np.nan)
        return _parse_floats(cells[index[column]], column, lines, name)

    t = floats("t_s")
    bad = ~np.isfinite(t)
    if bad.any():
        i = int(np.argmax(bad))
        value = cells[index["t_s"]][i]
        raise UsageError(f"{name} line {lines[i]}: t_s must be a number, found {value!r}")
    if "zone" in index:
        zone = _parse_zones(cells[index["zone"]], lines, name)
    else:
        zone = np.full(len(lines), int(Zone.UNCALIBRATED), dtype=np.int8)
    samples = JudgedSamples(
        t_s=t,
        raw=floats("raw"),
        force_n=floats("force_n"),
        filtered_n=floats("filtered_n"),
        zone=zone,
    )
    return samples, floats(PRESSURE_COLUMN) if PRESSURE_COLUMN in index else None


def import_csv(store: Store, path: Path) -> int:
    """Import a CSV export as a new session (see ``import_file``)."""
    name = path.name
    writer = ImportWriter(store)
    area = _AreaFinder()
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            columns = _csv_header(reader, name)
            for lines, cells in _csv_batches(reader, name, len(columns)):
                samples, pressure = _csv_samples(columns, cells, lines, name)
                if writer.session_id is None:
                    meta = {"imported_from": {"file": name, "format": "csv"}}
                    writer.begin(
                        source=f"import:{name}",
                        profile="default",
                        region=None,
                        limit_n=None,
                        meta=meta,
                    )
                writer.add(samples)
                if pressure is not None:
                    area.feed(samples.force_n, pressure)
        if writer.session_id is None:
            raise UsageError(f"{name} has no samples after its header line")
        tip = area.result(name)
        if tip is not None:
            store.update_session(writer.session_id, tip_area_cm2=tip)
        store.set_counters(writer.session_id, {"time_over_limit_s": writer.time_over_s})
        sid = writer.finish(status="ended", ended_at=None, reason="imported")
    except BaseException:
        writer.abandon()
        raise
    log.info("%s imported as session %d", name, sid)
    return sid
