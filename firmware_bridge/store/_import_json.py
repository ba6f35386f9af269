"""Reading a JSON export back in, with everything it recorded (see ``import_file``)."""

from __future__ import annotations

import json
import logging
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from firmware_bridge.errors import UsageError
from firmware_bridge.store._base import parse_iso
from firmware_bridge.store._importers import ImportWriter, named_errors
from firmware_bridge.store.formats import FORMAT, FORMAT_VERSION, SAMPLE_COLUMNS, ZONE_BY_TEXT
from firmware_bridge.store.store import Store
from firmware_bridge.zones import JudgedSamples, SessionEvent, Zone

log = logging.getLogger(__name__)

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


def _load_json(path: Path, name: str) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise UsageError(f"{name} is not a UTF-8 text file") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{name} line {exc.lineno}: not valid JSON ({exc.msg})") from None
    except RecursionError:  # a hostile or broken file nested thousands of levels deep
        raise UsageError(f"{name} is not a session export (nested too deep)") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise UsageError(f'{name} is not a PressureGuard session export (no "format": "{FORMAT}")')
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise UsageError(f"{name}: bad format version {version!r}")
    if version > FORMAT_VERSION:
        raise UsageError(
            f"{name} was written by a newer PressureGuard (format version {version}; "
            f"this one reads up to {FORMAT_VERSION})"
        )
    for key in ("session", "samples"):
        if not isinstance(doc.get(key), dict):
            raise UsageError(f'{name}: "{key}" must be a JSON object')
    return doc


def _json_floats(values: list[Any], column: str, name: str) -> np.ndarray:
    try:
        return np.array([math.nan if v is None else v for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        pass
    for i, v in enumerate(values):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
            raise UsageError(f"{name}: samples.{column}[{i}] is {v!r}, not a number")
    raise UsageError(f"{name}: samples.{column} holds values that are not numbers")


def _json_samples(doc: dict[str, Any], name: str) -> JudgedSamples:
    for column in ("t_s", "force_n"):
        if column not in doc:
            raise UsageError(f'{name}: samples has no "{column}" column')
    n = len(doc["t_s"]) if isinstance(doc["t_s"], list) else -1
    for column in SAMPLE_COLUMNS:
        values = doc.get(column)
        if values is not None and (not isinstance(values, list) or len(values) != n):
            raise UsageError(f"{name}: samples.{column} must be a list as long as samples.t_s")

    def floats(column: str) -> np.ndarray:
        if column not in doc:
            return np.full(n, np.nan)
        return _json_floats(doc[column], column, name)

    t = floats("t_s")
    if not np.isfinite(t).all():
        raise UsageError(f"{name}: samples.t_s[{int(np.argmax(~np.isfinite(t)))}] is not a number")
    zone = np.full(n, int(Zone.UNCALIBRATED), dtype=np.int8)
    for i, label in enumerate(doc.get("zone") or []):
        value = ZONE_BY_TEXT.get(str(label).lower())
        if value is None:
            raise UsageError(f"{name}: samples.zone[{i}] is {label!r}, not a zone")
        zone[i] = value
    return JudgedSamples(
        t_s=t,
        raw=floats("raw"),
        force_n=floats("force_n"),
        filtered_n=floats("filtered_n"),
        zone=zone,
    )


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


def import_json(store: Store, path: Path) -> int:
    """Import a JSON export as a new session with everything it recorded (see ``import_file``)."""
    name = path.name
    doc = _load_json(path, name)
    session: dict[str, Any] = doc["session"]
    samples = _json_samples(doc["samples"], name)
    started = _json_time(session.get("started_at"), "session.started_at", name)
    ended = session.get("ended_at")
    ended_at = None if ended is None else _json_time(ended, "session.ended_at", name)
    events = _json_events(session.get("events", []), name)
    counters = session.get("counters")
    if not isinstance(counters, dict):
        counters = {k: session[k] for k in _COUNTER_KEYS if k in session}
    meta = session.get("meta") or {}
    if not isinstance(meta, dict):
        raise UsageError(f"{name}: session.meta must be an object")
    meta = meta | {"imported_from": {"file": name, "format": "json", "id": session.get("id")}}
    status = session.get("status") if session.get("status") in ("ended", "recovered") else "ended"
    writer = ImportWriter(store)
    try:
        with named_errors(name):
            sid = writer.begin(
                source=str(session.get("source") or f"import:{name}"),
                profile=str(session.get("profile") or "default"),
                region=session.get("region"),
                limit_n=session.get("limit_n"),
                started_at=started,
                meta=meta,
            )
            fields = {k: session[k] for k in _SESSION_FIELDS if session.get(k) is not None}
            store.update_session(sid, **fields)
        writer.add(samples)
        store.add_events(sid, events)
        store.set_counters(sid, counters)
        writer.finish(
            status=str(status),
            ended_at=ended_at,
            reason=str(session.get("end_reason") or "imported"),
        )
    except BaseException:
        writer.abandon()
        raise
    log.info("%s imported as session %d", name, sid)
    return sid
