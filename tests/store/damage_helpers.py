"""A realistic store, damaged three ways, and an outside view of what was still readable.

The store is written through the Store API (sessions compacted as a bridge leaves them, limits,
settings, calibrations, a pain-threshold measurement, journal days), closed so that its file
holds everything, then damaged on disk:

- :func:`truncate`: the file cut at a page boundary;
- :func:`damage_header`: its first 100 bytes (SQLite's header) overwritten with junk;
- :func:`damage_page`: one whole page overwritten with junk (by default a page of sample data
  in the middle of the file).

:func:`readable_rows` is the oracle for "nothing that was readable is lost": it takes every row
of the intact file and asks the damaged file for the same rowid with plain SQLite; a row that
comes back byte-identical was readable, so the repaired store must hold it.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from firmware_bridge.store import DB_NAME, Store
from firmware_bridge.zones import JudgedSamples, SessionEvent, Zone

#: (samples, region, limit) of each session; the long one spans several compacted chunks.
SESSIONS = (
    (4_000, "upper-trapezius:left", 14.0),
    (6_500, "lumbar-paraspinals:right", 20.0),
    (70_000, "upper-trapezius", 15.0),
    (3_000, "levator-scapulae", None),
    (9_000, "upper-trapezius:right", 16.5),
    (5_500, "gluteus-medius:left", 22.0),
)
#: The tables whose rows are the user's data (what a repair must keep when it can be read).
DATA_TABLES = (
    "profiles",
    "settings",
    "limits",
    "calibrations",
    "ppt_measurements",
    "journal",
    "sessions",
    "sample_chunks",
    "events",
)


def samples(n: int, seed: int, rate: float = 80.0) -> JudgedSamples:
    """Judged samples of a plausible session (ramps, holds, a NaN now and then)."""
    idx = np.arange(n)
    t = idx / rate
    rng = np.random.default_rng(seed)
    force = 6.0 + 5.0 * np.sin(t / 7.0 + seed) ** 2 + rng.normal(0, 0.2, n)
    force[idx % 97 == 5] = np.nan
    zones = np.array([int(z) for z in Zone], dtype=np.int8)
    return JudgedSamples(
        t_s=t,
        raw=np.round(np.nan_to_num(force) * 4000 + 81234.0),
        force_n=force,
        filtered_n=force * 0.95,
        zone=zones[idx % len(zones)],
    )


def build_store(data_dir: Path) -> Path:
    """Write the store and close it (its file then holds everything); returns the file."""
    with Store.open(data_dir) as store:
        store.set_setting("units", "kPa")
        store.set_setting("sound", {"on": True, "volume": 0.4})
        store.ensure_profile("ann")
        store.set_limit("ann", "upper-trapezius", 15.0, "manual")
        store.set_limit("ann", "upper-trapezius:left", 14.0, "measured")
        store.set_limit("default", "lumbar-paraspinals", 22.0, "manual", note="after physio")
        store.save_calibration("PG-0042", 4012.5, 81234.0, {"r2": 0.9994})
        trials = [{"accepted": True, "reason": "ok", "ppt_n": 18.0 + k} for k in range(3)]
        store.add_ppt(
            "ann", "upper-trapezius", ppt_n=18.5, trials=trials, n=3, attempts=3, fraction=0.8
        )
        for day in range(1, 8):
            store.save_journal("ann", f"2026-11-{day:02d}", pain=day % 10, triggers=["desk"])
        for k, (n, region, limit) in enumerate(SESSIONS):
            sid = store.begin_session(
                source="sim://", profile="ann" if k % 2 else "default", region=region,
                limit_n=limit,
            )  # fmt: skip
            data = samples(n, seed=k)
            step = 400  # a bridge's flushes: many small chunks, merged when the session ends
            for start in range(0, n, step):
                part = JudgedSamples(
                    *(np.asarray(getattr(data, c))[start : start + step] for c in _COLUMNS)
                )
                store.append_samples(sid, part)
                if start % (step * 10) == 0:
                    store.commit()
            store.add_events(sid, [SessionEvent(1.0, "over_limit", {"peak_n": 17.0})])
            store.set_counters(sid, {"time_over_limit_s": 1.5 + k})
            store.end_session(sid)
        store.wait_for_compaction()
    return data_dir / DB_NAME


_COLUMNS = ("t_s", "raw", "force_n", "filtered_n", "zone")


@dataclass
class Snapshot:
    """What a store holds, as its API reads it."""

    sessions: dict[int, dict[str, Any]] = field(default_factory=dict)
    samples: dict[int, JudgedSamples] = field(default_factory=dict)
    limits: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    journal: list[dict[str, Any]] = field(default_factory=list)
    calibrations: list[dict[str, Any]] = field(default_factory=list)
    ppt: list[dict[str, Any]] = field(default_factory=list)


#: Summary keys that say what a session is (not how the store keeps it).
SESSION_KEYS = ("id", "started_at", "source", "profile", "region", "limit_n", "n_samples",
                "peak_n", "time_over_limit_s")  # fmt: skip


def snapshot(data_dir: Path) -> Snapshot:
    """Read everything a user sees from a store."""
    snap = Snapshot()
    with Store.open(data_dir) as store:
        for s in store.list_sessions():
            snap.sessions[s["id"]] = {k: s[k] for k in SESSION_KEYS}
            snap.samples[s["id"]] = store.load_samples(s["id"])
        snap.limits = store.limit_history("ann") + store.limit_history("default")
        snap.settings = store.settings()
        snap.journal = store.journal("ann")
        snap.calibrations = store.calibration_history("PG-0042")
        snap.ppt = store.ppt_history("ann")
    return snap


def same_samples(a: JudgedSamples, b: JudgedSamples) -> bool:
    """Every column identical (NaN in the same places)."""
    return all(
        np.array_equal(np.asarray(getattr(a, c)), np.asarray(getattr(b, c)), equal_nan=c != "zone")
        for c in _COLUMNS
    )


# -- damage -----------------------------------------------------------------------------------


def page_size(path: Path) -> int:
    """The file's page size, from its header."""
    head = path.read_bytes()[:100]
    size = int.from_bytes(head[16:18], "big")
    return 65536 if size == 1 else size


def truncate(path: Path, fraction: float = 0.6) -> int:
    """Cut the file at a page boundary about ``fraction`` in; returns the pages kept."""
    size = page_size(path)
    pages = int(path.stat().st_size / size * fraction)
    with path.open("r+b") as fh:
        fh.truncate(pages * size)
    return pages


def damage_header(path: Path) -> None:
    """Overwrite SQLite's 100-byte header with junk."""
    junk = random.Random(7).randbytes(100)
    with path.open("r+b") as fh:
        fh.write(junk)


def pages_of(path: Path, table: str, kind: str) -> list[int]:
    """The pages of ``table`` of a kind (``leaf``, ``internal``, ``overflow``), from dbstat."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = ? ORDER BY pageno",
            (table, kind),
        ).fetchall()
    finally:
        db.close()
    return [int(r[0]) for r in rows]


def damage_page(path: Path, table: str = "sample_chunks", kind: str = "overflow") -> int:
    """Overwrite with junk the page of ``table`` nearest the middle of the file; returns it."""
    pages = pages_of(path, table, kind)
    middle = path.stat().st_size // page_size(path) // 2
    page = min(pages, key=lambda p: abs(p - middle))
    size = page_size(path)
    with path.open("r+b") as fh:
        fh.seek((page - 1) * size)
        fh.write(random.Random(page).randbytes(size))
    return page


# -- the oracle -------------------------------------------------------------------------------


def table_rows(path: Path) -> dict[str, dict[int, tuple[Any, ...]]]:
    """Every row of the data tables of an intact file, by rowid."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {
            t: {int(r[0]): tuple(r[1:]) for r in db.execute(f"SELECT rowid, * FROM {t}")}
            for t in DATA_TABLES
        }
    finally:
        db.close()


def readable_rows(
    damaged: Path, original: dict[str, dict[int, tuple[Any, ...]]]
) -> dict[str, set[int]]:
    """The rowids of the original rows that the damaged file still gives back unchanged."""
    out: dict[str, set[int]] = {t: set() for t in original}
    try:
        db = sqlite3.connect(f"{damaged.resolve().as_uri()}?mode=ro", uri=True)
        db.execute("PRAGMA writable_schema = ON")  # read a file shorter than its header says
    except sqlite3.Error:
        return out
    try:
        for table, rows in original.items():
            for rowid, row in rows.items():
                try:
                    found = db.execute(
                        f"SELECT * FROM {table} WHERE rowid = ?", (rowid,)
                    ).fetchone()
                except (sqlite3.Error, UnicodeDecodeError):
                    continue
                if found is not None and tuple(found) == row:
                    out[table].add(rowid)
    except (sqlite3.Error, UnicodeDecodeError):
        pass  # the schema itself is unreadable: nothing is
    finally:
        db.close()
    return out


def chunk_keys(path: Path) -> dict[int, tuple[int, int]]:
    """(session_id, chunk_no) of each chunk row of an intact file, by rowid."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {
            int(r[0]): (int(r[1]), int(r[2]))
            for r in db.execute("SELECT rowid, session_id, chunk_no FROM sample_chunks")
        }
    finally:
        db.close()
