"""Helpers for the export/import tests (a module, not conftest: test folders here are not
packages, so a unique module name is the safe way to share code between test files)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from firmware_bridge.store import Store
from firmware_bridge.zones import JudgedSamples, SessionEvent, Zone

COLUMNS = ("t_s", "raw", "force_n", "filtered_n", "zone")
HEADER = "t_s,force_n,filtered_n,zone,raw\n"


def samples(n: int, start: int = 0, rate: float = 80.0) -> JudgedSamples:
    """Judged samples at ``rate`` Hz: a ramp with noise, NaN force every 7th sample and NaN raw
    every 11th, every zone in turn (the conftest's ``make_samples``, usable outside fixtures),
    except that a sample without a force is never relaxed, target or over."""
    idx = np.arange(start, start + n)
    t = idx / rate
    noise = 0.1 * np.sin(idx * 12.9898) * np.cos(idx * 78.233)
    force = 5.0 + 3.0 * np.sin(t) + noise
    force[idx % 7 == 3] = np.nan
    raw = np.round(force * 4000.0 + 81234.0)
    raw[idx % 11 == 5] = np.nan
    values = np.array([int(z) for z in Zone], dtype=np.int8)
    zone = values[idx % 6]
    # as the bridge judges: no force is uncalibrated (danger stays: a saturated tool)
    zone[np.isnan(force) & (zone >= int(Zone.RELAXED)) & (zone <= int(Zone.OVER))] = (
        Zone.UNCALIBRATED
    )
    return JudgedSamples(t_s=t, raw=raw, force_n=force, filtered_n=force * 0.9, zone=zone)


def recorded(store: Store, data: JudgedSamples, *, tip_area: float | None = None) -> int:
    """A finished session holding ``data`` in many small chunks, with events and details."""
    sid = store.begin_session(
        source="/dev/ttyACM0",
        profile="ann",
        region="upper-trapezius:left",
        limit_n=18.5,
        started_at=datetime(2024, 6, 1, 8, 0, tzinfo=UTC),
        meta={"pattern": "holds"},
    )
    store.update_session(
        sid,
        device_id="PG-0042",
        calibration={"counts_per_n": 4000.0},
        tip="tool" if tip_area else None,
        tip_area_cm2=tip_area,
        rate_hz=80.0,
        pain_before=5,
        note="évening",
    )
    for start in range(0, len(data), 4000):
        store.append_samples(
            sid, JudgedSamples(*(getattr(data, c)[start : start + 4000] for c in COLUMNS))
        )
    store.add_events(sid, [SessionEvent(1.0, "zone", {"from": "relaxed", "to": "over"})])
    store.set_counters(sid, {"time_over_limit_s": 0.75})
    store.end_session(sid, ended_at=datetime(2024, 6, 1, 8, 10, tzinfo=UTC))
    return sid


def snapshot(store: Store) -> tuple[Any, ...]:
    """What an import could change: the sessions, and how many samples and events are stored
    (samples, not chunks: a background compaction may merge chunks meanwhile)."""
    db = store._conn()
    stored = db.execute("SELECT COALESCE(SUM(n), 0) FROM sample_chunks").fetchone()[0]
    events = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    return ([(s["id"], s["n_samples"]) for s in store.list_sessions()], stored, events)


def assert_same_samples(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    """Every column identical, NaN in the same places."""
    for column in COLUMNS:
        np.testing.assert_array_equal(a[column], b[column], err_msg=column)


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    """A file in ``tmp_path`` holding ``data``."""
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path
