"""Saving everything that can still be read from a damaged store into a new one.

``pressureguard store repair`` (or the dashboard's button) calls :func:`salvage` with the
damaged file kept aside by :mod:`.damage`. The damaged file is only read (a header-damaged
one through a copy with a rebuilt header); the new store is built in a temporary file and
moved into place only when it is complete.

Every table is read as far as SQLite can: in order until a damaged page stops the scan, then
backwards from the end, then row by row for every row an index still knows of. A row is
saved only when it reads back consistently: a sample chunk must match its checksums (or, for
chunks written before checksums existed, its shape), a session's record must parse, and its
sample count, times and peak are recomputed from the chunks saved. Samples whose session record
was lost are kept under a stand-in record that says so. The live view's last minute, the
recorder's status and the bridge's command queue are not carried over: they describe a
moment, not the user's data.

The :class:`SalvageReport` says exactly what was saved and what was lost: per session, how many
samples were recorded and how many were saved; per table, how many rows were saved and
whether part of it could not be read.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from firmware_bridge.store.chunk_sums import COLUMN_SIZES, crc_problem, peak_of, seal, shape_problem
from firmware_bridge.store.integrity import file_problem
from firmware_bridge.store.salvage_read import (
    BadText,
    Reader,
    open_source,
    readable,
    rebuilt_copy,
    remove_files,
)
from firmware_bridge.store.salvage_report import (
    DATA_TABLES,
    TRANSIENT,
    SalvageReport,
    SessionSaved,
    TableSaved,
)
from firmware_bridge.store.schema import migrate

__all__ = ["SalvageReport", "SessionSaved", "TableSaved", "salvage"]

log = logging.getLogger(__name__)

_STATUSES = ("recording", "ended", "recovered")
_SAMPLE_COLUMNS = tuple(COLUMN_SIZES)
# New store: commit after about this many bytes of samples.
_BATCH_BYTES = 64 * 2**20


# -- checking rows -------------------------------------------------------------------------


def _json_ok(value: object, *, optional: bool = True) -> bool:
    if value is None:
        return optional
    if not isinstance(value, str) or isinstance(value, BadText):
        return False
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def _clean(row: sqlite3.Row, columns: Iterable[str]) -> dict[str, Any] | None:
    """A row as a dict, or None when a text value in it is junk."""
    out = {c: row[c] for c in columns}
    if any(isinstance(v, BadText) for v in out.values()):
        return None
    return out


def _iso_ok(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _finite_or_none(value: object) -> bool:
    return value is None or (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    )


_SESSION_NUMBERS = (
    "limit_n",
    "tip_area_cm2",
    "rate_hz",
    "tare_n",
    "pain_before",
    "pain_after",
)


def _session_ok(row: dict[str, Any]) -> bool:
    """Whether a session record reads back consistently."""
    return (
        _iso_ok(row.get("started_at"))
        and (row.get("ended_at") is None or _iso_ok(row["ended_at"]))
        and isinstance(row.get("source"), str)
        and isinstance(row.get("profile_id"), int)
        and row.get("status") in _STATUSES
        and _json_ok(row.get("counters"), optional=False)
        and _json_ok(row.get("meta"), optional=False)
        and _json_ok(row.get("calibration"))
        and all(_finite_or_none(row.get(k)) for k in _SESSION_NUMBERS)
    )


def _chunk_ok(
    row: sqlite3.Row, sums: tuple[float | None, bytes] | None
) -> tuple[bool, float | None]:
    """Whether a chunk reads back consistently, and its peak."""
    if not isinstance(row["session_id"], int) or not isinstance(row["chunk_no"], int):
        return False, None
    if sums is not None:
        if crc_problem(row, _SAMPLE_COLUMNS, sums[1]) is not None:
            return False, None
        peak = peak_of(row["force_n"])
        kept = sums[0]
        if (peak is None) != (kept is None) or (peak is not None and kept != peak):
            return False, None
        return True, peak
    if shape_problem(row) is not None:
        return False, None
    return True, peak_of(row["force_n"])


# -- the new store ------------------------------------------------------------------------------


class _Writer:
    """Inserts into the new store in batches."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.columns: dict[str, list[str]] = {}
        self.pending = 0
        db.execute("BEGIN IMMEDIATE")

    def table_columns(self, table: str) -> list[str]:
        if table not in self.columns:
            self.columns[table] = [
                str(r[1]) for r in self.db.execute(f"PRAGMA table_info({table})")
            ]
        return self.columns[table]

    def insert(self, table: str, row: dict[str, Any], *, replace: bool = False) -> bool:
        """Insert a row (the columns both stores know); False when the new store refuses it."""
        cols = [c for c in self.table_columns(table) if c in row]
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        sql = f"{verb} INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        try:
            self.db.execute(sql, [row[c] for c in cols])
        except sqlite3.IntegrityError as exc:
            log.info("salvage: a %s row was refused: %s", table, exc)
            return False
        return True

    def grew(self, nbytes: int) -> None:
        self.pending += nbytes
        if self.pending >= _BATCH_BYTES:
            self.commit()
            self.db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.pending = 0
        if self.db.in_transaction:
            self.db.execute("COMMIT")


@dataclass
class _Totals:
    """A session's sums, recomputed from the chunks saved."""

    n: int = 0
    t0: float = math.inf
    t1: float = -math.inf
    peak: float | None = None
    span: float = 0.0

    def add(self, n: int, t0: float, t1: float, peak: float | None) -> None:
        self.n += n
        self.t0 = min(self.t0, t0)
        self.t1 = max(self.t1, t1)
        self.span = max(self.span, t1 - t0)
        if peak is not None:
            self.peak = peak if self.peak is None else max(self.peak, peak)


class _Salvage:
    """One salvage: the reader, the writer and what is found."""

    def __init__(self, reader: Reader, writer: _Writer, report: SalvageReport) -> None:
        self.r = reader
        self.w = writer
        self.report = report
        self.src_tables = reader.tables()
        self.profiles: set[int] = set()
        self.limits: set[int] = set()
        self.sessions: dict[int, SessionSaved] = {}
        self.totals: dict[int, _Totals] = {}
        self.started = reader.started_at_by_id() if "sessions" in self.src_tables else {}

    def cols(self, table: str) -> list[str]:
        src = self.src_tables.get(table, set())
        return [c for c in self.w.table_columns(table) if c in src]

    def kept(self, table: str) -> TableSaved:
        return self.r.kept.setdefault(table, TableSaved())

    def run(self) -> None:
        for table in DATA_TABLES:
            self.report.tables[table] = self.kept(table)
        self.copy_profiles()
        for table in ("settings", "limits", "calibrations", "ppt_measurements", "journal"):
            if table in self.src_tables:
                self.copy_plain(table)
            self.w.commit()
            self.w.db.execute("BEGIN IMMEDIATE")
        if "sessions" in self.src_tables:
            self.copy_sessions()
        if "sample_chunks" in self.src_tables:
            self.copy_chunks()
        if "events" in self.src_tables:
            self.copy_events()
        self.finish_sessions()
        self.keep_sequences()
        for table in TRANSIENT:
            if table in self.src_tables:
                self.report.not_carried[table] = self.r.count(table)
        self.w.commit()

    # -- small tables ------------------------------------------------------------------------

    def copy_profiles(self) -> None:
        if "profiles" not in self.src_tables:
            self.profiles = {1}
            return
        cols = self.cols("profiles")
        good = []
        for found in self.r.rows("profiles", cols):
            row = _clean(found, cols)
            if (
                row is None
                or not isinstance(row.get("id"), int)
                or not isinstance(row.get("name"), str)
                or not row["name"].strip()
                or not _json_ok(row.get("settings"), optional=False)
            ):
                self.kept("profiles").unreadable += 1
            else:
                good.append(row)
        if good:
            self.w.db.execute("DELETE FROM profiles")  # the new store's own default profile
        for row in good:
            if self.w.insert("profiles", row):
                self.profiles.add(int(row["id"]))
                self.kept("profiles").saved += 1
            else:
                self.kept("profiles").unreadable += 1
        if not good:
            self.profiles = {1}

    def profile(self, profile_id: object) -> int:
        """A profile id that exists in the new store (a stand-in when its row was lost)."""
        pid = profile_id if isinstance(profile_id, int) else None
        if pid is not None and pid in self.profiles:
            return pid
        if pid is None:
            row = self.w.db.execute("SELECT id FROM profiles ORDER BY id LIMIT 1").fetchone()
            if row is not None:
                return int(row[0])
            pid = 1
        name = f"profile {pid} (name lost)"
        self.w.db.execute(
            "INSERT OR IGNORE INTO profiles (id, name, created_at) VALUES (?, ?, ?)",
            (pid, name, _now()),
        )
        self.profiles.add(pid)
        self.report.notes.append(f"profile {pid}'s record was lost: its data is under {name!r}")
        return pid

    def copy_plain(self, table: str) -> None:
        cols = self.cols(table)
        kept = self.kept(table)
        for found in self.r.rows(table, cols):
            row = _clean(found, cols)
            if row is None or not self._plain_ok(table, row):
                kept.unreadable += 1
                continue
            if "profile_id" in row:
                row["profile_id"] = self.profile(row["profile_id"])
            if table == "ppt_measurements" and row.get("limit_id") not in self.limits:
                row["limit_id"] = None
            replace = table == "settings"
            if self.w.insert(table, row, replace=replace):
                kept.saved += 1
                if table == "limits" and isinstance(row.get("id"), int):
                    self.limits.add(row["id"])
            else:
                kept.unreadable += 1

    @staticmethod
    def _plain_ok(table: str, row: dict[str, Any]) -> bool:
        json_cols = {
            "settings": ("value",),
            "calibrations": ("fit",),
            "ppt_measurements": ("trials",),
            "journal": ("triggers",),
        }.get(table, ())
        if not all(_json_ok(row.get(c), optional=False) for c in json_cols):
            return False
        numbers = [v for k, v in row.items() if isinstance(v, float)]
        return all(math.isfinite(v) for v in numbers)

    # -- sessions, samples, events -------------------------------------------------------------

    def copy_sessions(self) -> None:
        cols = self.cols("sessions")
        kept = self.kept("sessions")
        for found in self.r.rows("sessions", cols):
            row = _clean(found, cols)
            sid = found[0]  # the rowid, which is the id
            if row is None or not _session_ok(row):
                if isinstance(sid, int):
                    self.lost_record(sid)
                kept.unreadable += 1
                continue
            recorded = row.get("n_samples")
            info = SessionSaved(
                id=sid,
                started_at=row["started_at"],
                samples_recorded=recorded if isinstance(recorded, int) else None,
            )
            row.update(
                profile_id=self.profile(row["profile_id"]),
                n_samples=0,
                t_first=None,
                t_last=None,
                peak_n=None,
                chunk_span_s=None,
                stats=None,
            )
            if row["status"] == "recording":  # its recorder is gone with the old file
                row.update(
                    status="recovered",
                    ended_at=row.get("heartbeat_at") or row["started_at"],
                    end_reason="recorder died",
                )
            row["recorder_pid"] = None
            if self.w.insert("sessions", row):
                self.sessions[sid] = info
                kept.saved += 1
            else:
                self.lost_record(sid)
                kept.unreadable += 1
        # Sessions an index still names but whose record could not be read at all.
        for sid in set(self.started) - set(self.sessions):
            self.lost_record(sid)

    def lost_record(self, sid: int) -> SessionSaved:
        info = self.sessions.get(sid)
        if info is None:
            info = SessionSaved(id=sid, started_at=self.started.get(sid), record_lost=True)
            self.sessions[sid] = info
        return info

    def session_in_store(self, sid: int) -> bool:
        """Make sure the new store has a record for ``sid`` (a stand-in for a lost one)."""
        info = self.lost_record(sid)
        if not info.record_lost:
            return True
        exists = self.w.db.execute("SELECT 1 FROM sessions WHERE id = ?", (sid,)).fetchone()
        if exists is None:
            self.w.db.execute(
                "INSERT INTO sessions (id, started_at, ended_at, source, profile_id, status,"
                " end_reason, meta) VALUES (?, ?, ?, ?, ?, 'recovered', ?, ?)",
                (
                    sid,
                    info.started_at or _now(),
                    info.started_at or _now(),
                    "unknown (record lost in a damaged store)",
                    self.profile(None),
                    "record lost; samples saved from a damaged store",
                    json.dumps({"salvaged": {"record_lost": True}}),
                ),
            )
        return True

    def copy_chunks(self) -> None:
        sums: dict[tuple[int, int], tuple[float | None, bytes]] = {}
        if "chunk_sums" in self.src_tables:
            for row in self.r.keyed_rows(
                "chunk_sums", ("session_id", "chunk_no", "peak_n", "crc"), "session_id, chunk_no"
            ):
                if isinstance(row["crc"], bytes):
                    sums[(row["session_id"], row["chunk_no"])] = (row["peak_n"], row["crc"])
        cols = ["session_id", "chunk_no", "t0", "t1", "n", *_SAMPLE_COLUMNS]
        kept = self.kept("sample_chunks")
        for row in self.r.rows("sample_chunks", cols):
            ok, peak = _chunk_ok(row, sums.get((row["session_id"], row["chunk_no"])))
            if not ok:
                kept.unreadable += 1
                if isinstance(row["session_id"], int):
                    self.lost_record(row["session_id"]).chunks_rejected += 1
                continue
            sid = int(row["session_id"])
            self.session_in_store(sid)
            blobs = [bytes(row[c]) for c in _SAMPLE_COLUMNS]
            n, t0, t1 = int(row["n"]), float(row["t0"]), float(row["t1"])
            self.w.db.execute(
                "INSERT INTO sample_chunks (session_id, chunk_no, t0, t1, n, t_s, raw, force_n,"
                " filtered_n, zone) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sid, row["chunk_no"], t0, t1, n, *blobs),
            )
            self.w.db.execute(
                "INSERT INTO chunk_sums (session_id, chunk_no, peak_n, crc) VALUES (?, ?, ?, ?)",
                (sid, row["chunk_no"], peak, seal(n, t0, t1, blobs)),
            )
            self.totals.setdefault(sid, _Totals()).add(n, t0, t1, peak)
            self.sessions[sid].samples_saved += n
            kept.saved += 1
            self.w.grew(sum(len(b) for b in blobs))
        self.w.commit()
        self.w.db.execute("BEGIN IMMEDIATE")

    def copy_events(self) -> None:
        cols = self.cols("events")
        kept = self.kept("events")
        for found in self.r.rows("events", cols):
            row = _clean(found, cols)
            if (
                row is None
                or not isinstance(row.get("session_id"), int)
                or not _finite_or_none(row.get("t_s"))
                or row.get("t_s") is None
                or not isinstance(row.get("kind"), str)
                or not _json_ok(row.get("detail"), optional=False)
            ):
                kept.unreadable += 1
                continue
            self.session_in_store(row["session_id"])
            if self.w.insert("events", row):
                kept.saved += 1
                self.sessions[row["session_id"]].events_saved += 1
            else:
                kept.unreadable += 1

    def finish_sessions(self) -> None:
        for sid, info in self.sessions.items():
            totals = self.totals.get(sid)
            if totals is not None and totals.n:
                self.w.db.execute(
                    "UPDATE sessions SET n_samples = ?, t_first = ?, t_last = ?, peak_n = ?,"
                    " chunk_span_s = ? WHERE id = ?",
                    (totals.n, totals.t0, totals.t1, totals.peak, totals.span, sid),
                )
            elif not info.record_lost:
                self.w.db.execute(
                    "UPDATE sessions SET compacted_at = coalesce(compacted_at, ?) WHERE id = ?",
                    (_now(), sid),
                )
            if info.record_lost and info.samples_saved and totals is not None:
                # the stand-in's times: its samples' span after its start
                row = self.w.db.execute(
                    "SELECT started_at FROM sessions WHERE id = ?", (sid,)
                ).fetchone()
                if row is not None:
                    ended = datetime.fromisoformat(row[0]) + timedelta(seconds=max(totals.t1, 0))
                    self.w.db.execute(
                        "UPDATE sessions SET ended_at = ? WHERE id = ?", (ended.isoformat(), sid)
                    )
        self.report.sessions = sorted(self.sessions.values(), key=lambda s: s.id)

    def keep_sequences(self) -> None:
        """Ids of lost rows are never given again: each AUTOINCREMENT counter is carried over."""
        seqs = self.r.sequences()
        if self.sessions:
            seqs["sessions"] = max(seqs.get("sessions", 0), *self.sessions)
        tables = {
            str(r[0])
            for r in self.w.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        for name, seq in seqs.items():
            if name not in tables:
                continue
            updated = self.w.db.execute(
                "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", (seq, name)
            ).rowcount
            if not updated:
                self.w.db.execute(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (name, seq)
                )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _build(src: sqlite3.Connection, building: Path, report: SalvageReport) -> None:
    """Write the new store at ``building`` from what ``src`` still gives."""
    dst = sqlite3.connect(building, isolation_level=None)
    try:
        dst.execute("PRAGMA journal_mode = WAL")
        dst.execute("PRAGMA foreign_keys = ON")
        migrate(dst, str(building))
        writer = _Writer(dst)
        if report.readable:
            _Salvage(Reader(src), writer, report).run()
        writer.commit()
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        dst.close()


def salvage(
    source: Path, target: Path, *, progress: Callable[[str], None] | None = None
) -> SalvageReport:
    """Save everything readable from a damaged store file into a new store at ``target``.

    The new store is built beside ``target`` and moved into place when complete; ``target``
    must not exist. ``source`` is only read.

    Args:
        source: the damaged database file (kept aside; its ``-wal`` beside it is read too).
        target: where the new store goes (the data directory's database file).
        progress: called with a short line as each part is done.

    Returns:
        What was saved and what was lost.

    Raises:
        FileExistsError: ``target`` exists.
        OSError: the new store could not be written (disk full …).
        sqlite3.Error: SQLite failed on the new store.
    """
    if target.exists():
        raise FileExistsError(f"{target} exists; the new store would overwrite it")
    report = SalvageReport(source=source, target=target)
    building = target.with_name(target.name + ".repairing")
    remove_files(building)
    copy: Path | None = None
    src = open_source(source)
    try:
        if not readable(src):
            src.close()
            if file_problem(source) and "header" in str(file_problem(source)):
                copy = rebuilt_copy(source)
            if copy is not None:
                report.header_rebuilt = True
                src = open_source(copy)
            else:
                src = open_source(source)
        report.readable = readable(src)
        try:
            _build(src, building, report)
        except BaseException:
            remove_files(building)  # half a store is no store: the next repair starts afresh
            raise
    finally:
        src.close()
        if copy is not None:
            remove_files(copy)
    with building.open("rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(building, target)
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{building}{suffix}").unlink()
    if progress is not None:
        progress(f"saved {report.samples_saved:,} samples")
    log.info("salvaged %s into %s: %s", source, target, "; ".join(report.lines()))
    return report
