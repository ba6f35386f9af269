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
import shutil
import sqlite3
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from firmware_bridge.store.chunk_sums import COLUMN_SIZES, crc_problem, peak_of, seal, shape_problem
from firmware_bridge.store.integrity import file_problem, is_damage
from firmware_bridge.store.schema import migrate

log = logging.getLogger(__name__)

#: Tables whose rows are the user's data, in the order they are saved (parents first).
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
#: Tables not carried over, and why (they describe a moment, not the user's data).
TRANSIENT = {
    "live": "the recorder's live status",
    "live_samples": "the live view's last minute",
    "commands": "the dashboard's requests to the bridge",
}
_STATUSES = ("recording", "ended", "recovered")
_SAMPLE_COLUMNS = tuple(COLUMN_SIZES)
# New store: commit after about this many bytes of samples.
_BATCH_BYTES = 64 * 2**20
_MAGIC = b"SQLite format 3\x00"


class _BadText(str):
    """A TEXT value whose bytes are not UTF-8 (junk): never saved."""

    __slots__ = ()


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return _BadText(raw.decode("utf-8", "replace"))


@dataclass
class TableSaved:
    """How much of one table was saved.

    Attributes:
        saved: rows in the new store.
        unreadable: rows known to exist (an index names them) that could not be read, or that
            did not read back consistently.
        damaged: whether a damaged page stopped a scan of the table (rows nothing else knows of
            may be lost there).
    """

    saved: int = 0
    unreadable: int = 0
    damaged: bool = False


@dataclass
class SessionSaved:
    """What was saved of one session.

    Attributes:
        id: the session id (kept).
        started_at: its start (UTC ISO), when known.
        samples_saved: samples in the new store.
        samples_recorded: what its record said it held; None when its record was lost.
        events_saved: events in the new store.
        record_lost: its record could not be read (the samples are kept under a stand-in).
        chunks_rejected: sample chunks found but not saved (damaged).
    """

    id: int
    started_at: str | None
    samples_saved: int = 0
    samples_recorded: int | None = None
    events_saved: int = 0
    record_lost: bool = False
    chunks_rejected: int = 0

    @property
    def samples_lost(self) -> int | None:
        """Samples recorded but not saved (None when the record, so the count, was lost)."""
        if self.samples_recorded is None:
            return None
        return max(0, self.samples_recorded - self.samples_saved)

    @property
    def whole(self) -> bool:
        """Everything of the session was saved."""
        return not self.record_lost and not self.chunks_rejected and self.samples_lost == 0


@dataclass
class SalvageReport:
    """What :func:`salvage` saved and lost.

    Attributes:
        source: the damaged file read.
        target: the new store.
        readable: False when nothing at all could be read (the new store is empty).
        header_rebuilt: the damaged file's header was rebuilt (in a copy) to read it.
        tables: per data table, what was saved.
        sessions: per session found (by its record, samples, events or an index).
        not_carried: transient tables left behind, with how many rows they held.
        notes: anything else the user should know.
    """

    source: Path
    target: Path
    readable: bool = True
    header_rebuilt: bool = False
    tables: dict[str, TableSaved] = field(default_factory=dict)
    sessions: list[SessionSaved] = field(default_factory=list)
    not_carried: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def samples_saved(self) -> int:
        """Samples in the new store."""
        return sum(s.samples_saved for s in self.sessions)

    @property
    def samples_lost(self) -> int:
        """Samples known to be lost (of sessions whose record said how many they held)."""
        return sum(s.samples_lost or 0 for s in self.sessions)

    @property
    def whole(self) -> bool:
        """Everything known was saved."""
        return (
            self.readable
            and all(s.whole for s in self.sessions)
            and not any(t.damaged or t.unreadable for t in self.tables.values())
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with the totals."""
        out = asdict(self)
        out["source"] = str(self.source)
        out["target"] = str(self.target)
        out["samples_saved"] = self.samples_saved
        out["samples_lost"] = self.samples_lost
        out["whole"] = self.whole
        for entry, session in zip(out["sessions"], self.sessions, strict=True):
            entry["samples_lost"] = session.samples_lost
            entry["whole"] = session.whole
        return out

    def lines(self) -> list[str]:
        """The report in words, one fact a line (what the CLI prints and the dashboard shows)."""
        out: list[str] = []
        if not self.readable:
            out.append(
                "nothing could be read from the damaged file: the new store is empty"
                f" (the damaged file stays at {self.source})"
            )
            return out
        whole = [s for s in self.sessions if s.whole]
        out.append(
            f"saved {len(self.sessions) - self._lost_entirely()} of {len(self.sessions)}"
            f" session(s) ({len(whole)} whole) and {self.samples_saved:,} samples"
            + (f"; {self.samples_lost:,} samples lost" if self.samples_lost else "")
        )
        for s in self.sessions:
            if s.whole:
                continue
            out.append(_session_line(s))
        saved = ", ".join(
            f"{self.tables[t].saved} {_NOUNS[t]}"
            for t in DATA_TABLES
            if t in self.tables and t not in ("sessions", "sample_chunks")
        )
        if saved:
            out.append(f"also saved: {saved}")
        for t in DATA_TABLES:
            kept = self.tables.get(t)
            if kept is None or t in ("sessions", "sample_chunks"):
                continue
            if kept.unreadable or kept.damaged:
                lost = f"{kept.unreadable} known row(s)" if kept.unreadable else "some rows"
                out.append(f"lost: {lost} of {_NOUNS[t]} could not be read")
        out += self.notes
        left = [f"{TRANSIENT[t]} ({n} row(s))" for t, n in self.not_carried.items() if n]
        if left:
            out.append("not carried over (live data, not kept by design): " + "; ".join(left))
        if self.header_rebuilt:
            out.append("the damaged file's header was rebuilt (in a copy) to read it")
        out.append(f"the damaged file stays at {self.source}")
        return out

    def _lost_entirely(self) -> int:
        return sum(
            1 for s in self.sessions if s.record_lost and not s.samples_saved and not s.events_saved
        )


_NOUNS = {
    "profiles": "profile(s)",
    "settings": "setting(s)",
    "limits": "comfort limit(s)",
    "calibrations": "calibration(s)",
    "ppt_measurements": "pain-threshold measurement(s)",
    "journal": "journal day(s)",
    "sessions": "session(s)",
    "sample_chunks": "sample chunk(s)",
    "events": "event(s)",
}


def _session_line(s: SessionSaved) -> str:
    when = f" (started {s.started_at[:16].replace('T', ' ')} UTC)" if s.started_at else ""
    name = f"session {s.id}{when}"
    if s.record_lost and not s.samples_saved and not s.events_saved:
        return f"lost: {name}: its record and samples could not be read"
    if s.record_lost:
        return (
            f"{name}: its record was lost; {s.samples_saved:,} samples and {s.events_saved}"
            " events saved under a stand-in record (how many it held is not known)"
        )
    if s.samples_saved == 0 and (s.samples_recorded or 0) > 0:
        return f"{name}: its record was saved, all {s.samples_recorded:,} samples lost"
    lost = s.samples_lost
    return f"{name}: {s.samples_saved:,} of {s.samples_recorded:,} samples saved, {lost:,} lost"


# -- reading the damaged file ----------------------------------------------------------------


class _Reader:
    """Reads what SQLite still can from a damaged database, table by table."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.kept: dict[str, TableSaved] = {}

    def tables(self) -> dict[str, set[str]]:
        """The tables the schema names, with their columns."""
        out: dict[str, set[str]] = {}
        names = [
            str(r[0])
            for r in self.db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for name in names:
            try:
                out[name] = {str(r[1]) for r in self.db.execute(f"PRAGMA table_info({name})")}
            except sqlite3.DatabaseError as exc:
                if not is_damage(exc):
                    raise
        return out

    def indexes(self, table: str) -> list[str]:
        """The indexes of a table (names the damaged schema still gives)."""
        try:
            return [str(r[1]) for r in self.db.execute(f"PRAGMA index_list({table})")]
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                raise
            return []

    def _scan(self, sql: str, args: Iterable[Any] = ()) -> Iterator[sqlite3.Row]:
        """Rows of a query until SQLite meets a damaged page (then :class:`_BrokenError`)."""
        try:
            cursor = self.db.execute(sql, tuple(args))
            while True:
                row = cursor.fetchone()
                if row is None:
                    return
                yield row
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            if not is_damage(exc):
                raise
            raise _BrokenError(str(exc)) from exc

    def index_rowids(self, table: str) -> set[int]:
        """Every rowid the table's indexes still know of (read as far as each index can be)."""
        found: set[int] = set()
        for index in self.indexes(table):
            with contextlib.suppress(_BrokenError):
                for row in self._scan(f'SELECT rowid FROM "{table}" INDEXED BY "{index}"'):
                    if isinstance(row[0], int):
                        found.add(row[0])
        return found

    def rows(self, table: str, columns: Iterable[str]) -> Iterator[sqlite3.Row]:
        """Every readable row of a rowid table: forwards, then backwards past a damaged page,
        then one by one for rows its indexes know of. Counted in :attr:`kept`."""
        kept = self.kept.setdefault(table, TableSaved())
        picked = ", ".join(f'"{c}"' for c in columns)
        seen: set[int] = set()
        try:
            for row in self._scan(
                f'SELECT rowid AS _rowid_, {picked} FROM "{table}" ORDER BY rowid'
            ):
                seen.add(row[0])
                yield row
        except _BrokenError as exc:
            kept.damaged = True
            log.info("salvage: a scan of %s stopped at a damaged page: %s", table, exc)
            with contextlib.suppress(_BrokenError):
                for row in self._scan(
                    f'SELECT rowid AS _rowid_, {picked} FROM "{table}" ORDER BY rowid DESC'
                ):
                    if row[0] in seen:
                        break
                    seen.add(row[0])
                    yield row
        for rowid in sorted(self.index_rowids(table) - seen):
            seen.add(rowid)
            try:
                found = list(
                    self._scan(
                        f'SELECT rowid AS _rowid_, {picked} FROM "{table}" WHERE rowid = ?',
                        (rowid,),
                    )
                )
            except _BrokenError:
                found = []
            if found:
                yield found[0]
            else:
                kept.unreadable += 1

    def keyed_rows(self, table: str, columns: Iterable[str], key: str) -> Iterator[sqlite3.Row]:
        """Every readable row of a table without rowids, in key order and then backwards."""
        kept = self.kept.setdefault(table, TableSaved())
        picked = ", ".join(f'"{c}"' for c in columns)
        seen: set[Any] = set()
        try:
            for row in self._scan(f'SELECT {picked} FROM "{table}" ORDER BY {key}'):
                seen.add(tuple(row[k] for k in key.split(", ")))
                yield row
        except _BrokenError:
            kept.damaged = True
            with contextlib.suppress(_BrokenError):
                desc = ", ".join(f"{k} DESC" for k in key.split(", "))
                for row in self._scan(f'SELECT {picked} FROM "{table}" ORDER BY {desc}'):
                    if tuple(row[k] for k in key.split(", ")) in seen:
                        break
                    yield row

    def count(self, table: str) -> int:
        """How many rows a table holds, as far as it can be counted."""
        try:
            return int(self.db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            if not is_damage(exc):
                raise
            return 0

    def started_at_by_id(self) -> dict[int, str]:
        """Session start times from the sessions_started index (which outlives a damaged
        record page)."""
        found: dict[int, str] = {}
        with contextlib.suppress(_BrokenError):
            for row in self._scan(
                "SELECT rowid, started_at FROM sessions INDEXED BY sessions_started"
            ):
                if isinstance(row[0], int) and isinstance(row[1], str):
                    found[row[0]] = str(row[1])
        return found

    def sequences(self) -> dict[str, int]:
        """The highest id each AUTOINCREMENT table ever gave (so none is given twice)."""
        found: dict[str, int] = {}
        with contextlib.suppress(_BrokenError):
            for name, seq in self._scan("SELECT name, seq FROM sqlite_sequence"):
                if isinstance(name, str) and isinstance(seq, int):
                    found[name] = max(found.get(name, 0), seq)
        return found


class _BrokenError(Exception):
    """A scan met a damaged page."""


def _open_source(path: Path) -> sqlite3.Connection:
    uri = f"{path.resolve().as_uri()}?mode=ro"
    db = sqlite3.connect(uri, uri=True, isolation_level=None)
    db.row_factory = sqlite3.Row
    db.text_factory = _text
    # SQLite refuses a file shorter than its header says unless this is on; then it reads the
    # pages that are there (nothing is written: the connection is read-only).
    db.execute("PRAGMA writable_schema = ON")
    return db


def _readable(db: sqlite3.Connection) -> bool:
    try:
        names = {str(r[0]) for r in db.execute("SELECT name FROM sqlite_master")}
    except (sqlite3.DatabaseError, UnicodeDecodeError):
        return False
    return "sessions" in names or "profiles" in names


def _header(page_size: int, pages: int, wal: bool) -> bytes:
    """A plain SQLite header for a store of ``pages`` pages of ``page_size`` bytes."""
    version = 2 if wal else 1
    head = bytearray(100)
    head[0:16] = _MAGIC
    head[16:18] = struct.pack(">H", 1 if page_size == 65536 else page_size)
    head[18], head[19], head[20] = version, version, 0
    head[21:24] = b"\x40\x20\x20"
    head[24:28] = struct.pack(">I", 1)  # change counter
    head[28:32] = struct.pack(">I", pages)
    head[40:44] = struct.pack(">I", 1)  # schema cookie
    head[44:48] = struct.pack(">I", 4)  # schema format
    head[56:60] = struct.pack(">I", 1)  # UTF-8
    head[92:96] = struct.pack(">I", 1)  # valid for change 1
    head[96:100] = struct.pack(">I", sqlite3.sqlite_version_info[0] * 1_000_000)
    return bytes(head)


def _rebuilt_copy(path: Path) -> Path | None:
    """A copy of a header-damaged file with a plain header that SQLite reads; None if no page
    size makes its table of contents readable. The freelist is forgotten (harmless)."""
    size = path.stat().st_size
    wal = Path(f"{path}-wal")
    copy = path.with_name(path.name + ".salvage-copy")
    shutil.copyfile(path, copy)
    if wal.exists():
        shutil.copyfile(wal, Path(f"{copy}-wal"))
    for page_size in (4096, 1024, 2048, 8192, 16384, 32768, 65536, 512):
        if size % page_size:
            continue
        with copy.open("r+b") as fh:
            fh.write(_header(page_size, size // page_size, wal.exists()))
        db = _open_source(copy)
        try:
            if _readable(db):
                return copy
        finally:
            db.close()
    _remove(copy)
    return None


def _remove(path: Path) -> None:
    for p in (path, *(Path(f"{path}{s}") for s in ("-wal", "-shm"))):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


# -- checking rows -------------------------------------------------------------------------


def _json_ok(value: object, *, optional: bool = True) -> bool:
    if value is None:
        return optional
    if not isinstance(value, str) or isinstance(value, _BadText):
        return False
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def _clean(row: sqlite3.Row, columns: Iterable[str]) -> dict[str, Any] | None:
    """A row as a dict, or None when a text value in it is junk."""
    out = {c: row[c] for c in columns}
    if any(isinstance(v, _BadText) for v in out.values()):
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

    def __init__(self, reader: _Reader, writer: _Writer, report: SalvageReport) -> None:
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
    _remove(building)
    copy: Path | None = None
    src = _open_source(source)
    try:
        if not _readable(src):
            src.close()
            if file_problem(source) and "header" in str(file_problem(source)):
                copy = _rebuilt_copy(source)
            if copy is not None:
                report.header_rebuilt = True
                src = _open_source(copy)
            else:
                src = _open_source(source)
        report.readable = _readable(src)
        dst = sqlite3.connect(building, isolation_level=None)
        try:
            dst.execute("PRAGMA journal_mode = WAL")
            dst.execute("PRAGMA foreign_keys = ON")
            migrate(dst, str(building))
            writer = _Writer(dst)
            if report.readable:
                job = _Salvage(_Reader(src), writer, report)
                job.run()
            writer.commit()
            dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            dst.close()
    finally:
        src.close()
        if copy is not None:
            _remove(copy)
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
