"""Reading a JSON export back in with everything it recorded (see ``import_file``), and the
session part shared with a Parquet file's head.

The file is never loaded whole: :mod:`._json_stream` walks its structure, then reads the sample
arrays side by side a block at a time.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from datetime import datetime
from typing import IO, Any

import numpy as np

from firmware_bridge.errors import UsageError
from firmware_bridge.store._base import parse_iso
from firmware_bridge.store._import_checks import SampleChecks
from firmware_bridge.store._import_csv import zone_codes
from firmware_bridge.store._importers import ImportWriter, named_errors
from firmware_bridge.store._json_stream import ColumnReader, scan
from firmware_bridge.store.formats import FORMAT, FORMAT_VERSION, REQUIRED_COLUMNS
from firmware_bridge.store.store import Store
from firmware_bridge.zones import JudgedSamples, SessionEvent, Zone

log = logging.getLogger(__name__)

#: Samples read from each array at a time.
BATCH = 131072
_FLOATS = ("t_s", "raw", "force_n", "filtered_n")
_SESSION_FIELDS = (
    "device_id",
    "firmware",
    "calibration",
    "tip",
    "tip_area_cm2",
    "rate_hz",
    "tare_n",
    "pain_before",
    "pain_after",
    "note",
)
_COUNTER_KEYS = (
    "time_over_limit_s",
    "dropped_frames",
    "bad_frames",
    "bad_frames_by_kind",
    "gaps",
    "peak_n",
)


def check_head(head: dict[str, Any], name: str, *, samples: bool = True) -> dict[str, Any]:
    """Check an export's head (``format``, ``version``, ``session``); returns the session.

    Raises:
        UsageError: not a PressureGuard export, a newer format, or a malformed part.
    """
    if head.get("format") != FORMAT:
        raise UsageError(f'{name} is not a PressureGuard session export (no "format": "{FORMAT}")')
    version = head.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise UsageError(f"{name}: bad format version {version!r}")
    if version > FORMAT_VERSION:
        raise UsageError(
            f"{name} was written by a newer PressureGuard (format version {version}; "
            f"this one reads up to {FORMAT_VERSION})"
        )
    for key in ("session", "samples") if samples else ("session",):
        if not isinstance(head.get(key), dict):
            raise UsageError(f'{name}: "{key}" must be a JSON object')
    return dict(head["session"])


def _json_time(value: Any, what: str, name: str) -> datetime:
    try:
        return parse_iso(value)
    except (TypeError, ValueError):
        raise UsageError(f"{name}: {what} {value!r} is not an ISO-8601 time") from None


def _json_events(value: Any, name: str) -> list[SessionEvent]:
    if not isinstance(value, list):
        raise UsageError(f"{name}: session.events must be a list")
    events = []
    for i, e in enumerate(value):
        ok = isinstance(e, dict) and isinstance(e.get("kind"), str)
        t_s = e.get("t_s") if ok else None
        if not ok or isinstance(t_s, bool) or not isinstance(t_s, int | float):
            raise UsageError(f"{name}: session.events[{i}] needs a number t_s and a text kind")
        detail = e.get("detail") or {}
        if not isinstance(detail, dict) or not math.isfinite(t_s):
            raise UsageError(f"{name}: session.events[{i}] has a bad t_s or detail")
        events.append(SessionEvent(float(t_s), e["kind"], detail))
    return events


class SessionPart:
    """A file's recorded session (JSON, or a Parquet file's head): checked before anything is
    written, then begun and finished around the samples."""

    def __init__(self, session: dict[str, Any], name: str, origin: dict[str, Any]) -> None:
        self.session, self.name = session, name
        started = session.get("started_at")  # a file made by hand may have none: now
        self.started = None if started is None else _json_time(started, "session.started_at", name)
        ended = session.get("ended_at")
        self.ended = None if ended is None else _json_time(ended, "session.ended_at", name)
        self.events = _json_events(session.get("events", []), name)
        counters = session.get("counters")
        if not isinstance(counters, dict):
            counters = {k: session[k] for k in _COUNTER_KEYS if k in session}
        self.counters: dict[str, Any] = counters
        meta = session.get("meta") or {}
        if not isinstance(meta, dict):
            raise UsageError(f"{name}: session.meta must be an object")
        self.meta = {k: v for k, v in meta.items() if k != "imported_from"}
        self.origin = origin | {"id": session.get("id")}

    def begin(self, store: Store, writer: ImportWriter) -> int:
        """Create the session with its recorded details."""
        s = self.session
        with named_errors(self.name):
            sid = writer.begin(
                origin=self.origin,
                meta=self.meta,
                source=str(s.get("source") or f"import:{self.name}"),
                profile=str(s.get("profile") or "default"),
                region=s.get("region"),
                limit_n=s.get("limit_n"),
                started_at=self.started,
            )
            fields = {k: s[k] for k in _SESSION_FIELDS if s.get(k) is not None}
            store.update_session(sid, **fields)
        return sid

    def finish(self, store: Store, writer: ImportWriter) -> int:
        """Add the events and counters and end the session as it was recorded."""
        sid = writer.session_id
        assert sid is not None
        store.add_events(sid, self.events)
        store.set_counters(sid, self.counters)
        status = self.session.get("status")
        return writer.finish(
            status=str(status) if status in ("ended", "recovered") else "ended",
            ended_at=self.ended,
            reason=str(self.session.get("end_reason") or "imported"),
        )


def import_json(
    store: Store,
    fh: IO[bytes],
    size: int,
    origin: dict[str, Any],
    progress: Callable[[int, int], None] | None,
) -> int:
    """Import a JSON export as a new session with everything it recorded (see
    ``import_file``; arguments as ``_import_csv.import_csv``)."""
    name = origin["file"]
    not_export = f'{name} is not a PressureGuard session export (no "format": "{FORMAT}")'
    layout = scan(fh, size, name, not_export)
    part = SessionPart(check_head(layout.head, name), name, origin)
    for column in REQUIRED_COLUMNS:
        if column not in layout.arrays:
            raise UsageError(f'{name}: samples has no "{column}" column')
    readers = {
        c: ColumnReader(fh, span, functools.partial(_item, name, c, 0), labels=c == "zone")
        for c, span in layout.arrays.items()
        if c in (*_FLOATS, "zone")
    }
    head_bytes = size - sum(end - start for start, end in layout.arrays.values())
    writer = ImportWriter(store)
    checks = SampleChecks()
    try:
        part.begin(store, writer)
        index = 0
        while True:
            got = {c: r.take(BATCH) for c, r in readers.items()}
            n = len(got["t_s"][1])
            for column, (_values, nulls) in got.items():
                if len(nulls) != n:
                    raise UsageError(
                        f"{name}: samples.{column} must be a list as long as samples.t_s"
                    )
            if n == 0:
                break
            samples = _samples(got, n, name, index)
            holes = {c: got[c][1] if c in got else np.ones(n, bool) for c in _FLOATS}
            checks.check(samples, functools.partial(_located, name, index), holes)
            writer.add(samples)
            index += n
            if progress is not None:
                progress(head_bytes + sum(r.consumed for r in readers.values()), size)
        sid = part.finish(store, writer)
    except BaseException:
        writer.abandon()
        raise
    log.info("%s imported as session %d", name, sid)
    return sid


def _item(name: str, column: str, base: int, i: int) -> str:
    """Where item ``base + i`` of a sample array is: ``f.json: samples.force_n[12]``."""
    return f"{name}: samples.{column}[{base + i}]"


def _located(name: str, base: int, i: int, column: str) -> str:
    return _item(name, column, base, i)


def _samples(got: dict[str, Any], n: int, name: str, index: int) -> JudgedSamples:
    def floats(column: str) -> np.ndarray:
        return got[column][0] if column in got else np.full(n, np.nan)

    if "zone" in got:
        zone = zone_codes(got["zone"][0], functools.partial(_item, name, "zone", index))
    else:
        zone = np.full(n, int(Zone.UNCALIBRATED), dtype=np.int8)
    return JudgedSamples(
        t_s=floats("t_s"),
        raw=floats("raw"),
        force_n=floats("force_n"),
        filtered_n=floats("filtered_n"),
        zone=zone,
    )
