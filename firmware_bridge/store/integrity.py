"""Is the store file whole? The check made on every open, and the full one on demand.

On open (:func:`open_problems`, a few milliseconds for a typical store):

- SQLite's own ``PRAGMA quick_check``: every b-tree page, cell and overflow chain, which finds a
  truncated file, a damaged header (SQLite then refuses the file) and a page overwritten with
  junk wherever the junk lands on the file's structure. It reads the whole file: 0.34 s with a
  warm cache and 1.4 s with a cold one for a 1.8 GB store on the benchmark machine
  (``python -m benchmarks.run store_check``). So above :data:`QUICK_CHECK_MAX_BYTES` every
  table but the samples' is checked this way, and the samples' table only through its small
  columns (below); its blob pages are checked when they are read, by the dashboard's
  background check (:mod:`.background_check`) and by the full check.
- Sums that must agree, from the small columns only (no blob page is read): each session's
  sample count, first and last time and peak against what its chunks hold (``chunk_sums`` keeps
  each chunk's peak), every blob's length against its chunk's sample count, no chunk without a
  session, and the session record's JSON columns readable. Junk inside a value, where SQLite's
  structure check cannot see it, shows up here.

On demand (:func:`check` with ``full``, ``pressureguard store check --full``, about 1 s per GB
with a warm cache): ``PRAGMA integrity_check`` and every chunk's bytes against its checksums
(or, for chunks written before checksums existed, against its shape and the session's peak).

Reads check each chunk they decode against its checksums as well (:mod:`.samples`), so a damaged
page that the open check did not read is an error when met, never a force on the screen.
"""

from __future__ import annotations

import contextlib
import logging
import math
import sqlite3
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from firmware_bridge.store.chunk_sums import COLUMN_SIZES, crc_problem, peak_of, shape_problem

log = logging.getLogger(__name__)

#: Up to this file size the open check runs SQLite's quick_check over the whole file (opening a
#: 227 MB store: 68 ms warm, 110 ms cold on the benchmark machine); above it the samples' blob
#: pages are left to the reads, the background check and the full check.
QUICK_CHECK_MAX_BYTES = 256 * 2**20
#: At most this many problems are listed (the first is the one the user is told).
MAX_PROBLEMS = 20
_MAGIC = b"SQLite format 3\x00"
_SAMPLES_TABLE = "sample_chunks"
# Errors that mean "the file's bytes are wrong", as opposed to busy, read-only, I/O or missing.
_DAMAGE_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})


def is_damage(exc: BaseException) -> bool:
    """Whether an exception raised by SQLite means the file is damaged (not busy, not I/O)."""
    if isinstance(exc, UnicodeDecodeError):  # junk where SQLite keeps names (its schema)
        return True
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _DAMAGE_CODES
    text = str(exc)
    return "malformed" in text or "not a database" in text


def file_problem(path: Path) -> str | None:
    """What is wrong with the file itself (its size and its 100-byte header), in words.

    Only called once SQLite has found the file damaged, to say how: a file being written by
    another process may look torn from outside SQLite's locks.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(100)
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if size == 0:
        return None
    if size < 100:
        return f"it was cut short (it holds only {size} bytes)"
    if head[:16] != _MAGIC:
        return "its header is damaged (it does not start as an SQLite database)"
    (page_size,) = struct.unpack(">H", head[16:18])
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return f"its header is damaged (page size {page_size})"
    if head[21:24] != b"\x40\x20\x20" or head[18] not in (1, 2) or head[19] not in (1, 2):
        return "its header is damaged (its format bytes are wrong)"
    pages = size // page_size
    if size % page_size:
        return f"it was cut short (it ends inside page {pages + 1})"
    (counter, claimed) = struct.unpack(">II", head[24:32])
    (valid_for,) = struct.unpack(">I", head[92:96])
    wal = Path(f"{path}-wal")
    wal_bytes = wal.stat().st_size if wal.exists() else 0
    if counter == valid_for and claimed > pages and wal_bytes == 0:
        return f"it was cut short ({claimed - pages} of its {claimed} pages are missing)"
    return None


def damage_problem(path: Path, exc: BaseException) -> str:
    """The problem to tell the user when SQLite raised a damage error on ``path``."""
    described = file_problem(path) or f"a damaged page ({_sqlite_text(exc)})"
    return f"is not a readable PressureGuard database: {described}"


def _sqlite_text(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "its table of contents is unreadable"
    return str(exc)


def _tables(db: sqlite3.Connection) -> list[str]:
    return [
        str(r[0])
        for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]


def _pragma_check(db: sqlite3.Connection, pragma: str, table: str | None = None) -> list[str]:
    """Run quick_check or integrity_check (on one table or all); its complaints, if any."""
    if table is None:
        sql = f"SELECT CAST({pragma} AS BLOB) FROM pragma_{pragma}"
        rows = db.execute(sql).fetchall()
    else:
        sql = f"SELECT CAST({pragma} AS BLOB) FROM pragma_{pragma}(?)"
        rows = db.execute(sql, (table,)).fetchall()
    text = "\n".join(bytes(r[0]).decode("utf-8", "replace") for r in rows if r[0] is not None)
    lines = [line.replace("*** in database main ***", "").strip() for line in text.splitlines()]
    return [line for line in lines if line and line != "ok"]


def structure_problems(
    db: sqlite3.Connection, path: Path, *, whole: bool | None = None
) -> list[str]:
    """SQLite's quick_check: of every page, or (for a large file) of every table but the
    samples' blob pages.

    Args:
        db: a connection to the store, outside a transaction.
        path: its file (its size decides ``whole`` by default).
        whole: check every page whatever the size.

    Raises:
        sqlite3.DatabaseError: SQLite could not even start (a damaged header or schema page).
    """
    if whole is None:
        try:
            whole = path.stat().st_size <= QUICK_CHECK_MAX_BYTES
        except OSError:
            whole = True
    if whole:
        found = _pragma_check(db, "quick_check")
    else:
        found = []
        for table in _tables(db):
            if table != _SAMPLES_TABLE:
                found += _pragma_check(db, "quick_check", table)
    return [f"has a damaged page ({line})" for line in found[:MAX_PROBLEMS]]


_SESSION_SUMS = """
SELECT s.id, s.n_samples, s.t_first, s.t_last, s.peak_n, s.chunk_span_s, s.status,
       {json_ok} AS json_ok,
       c.chunks, c.n, c.t0, c.t1, c.span, c.bad_len,
       {sealed}
FROM sessions s
LEFT JOIN (
    SELECT session_id, count(*) AS chunks, sum(n) AS n, min(t0) AS t0, max(t1) AS t1,
           max(t1 - t0) AS span,
           sum(n <= 0 OR length(t_s) != 8 * n OR length(raw) != 8 * n
               OR length(force_n) != 8 * n OR length(filtered_n) != 8 * n
               OR length(zone) != n) AS bad_len
    FROM sample_chunks GROUP BY session_id
) c ON c.session_id = s.id
{sealed_join}
ORDER BY s.id
"""
_SEALED_JOIN = """
LEFT JOIN (
    SELECT session_id, count(*) AS sealed, max(peak_n) AS peak FROM chunk_sums GROUP BY session_id
) k ON k.session_id = s.id
"""
_JSON_OK = (
    "(json_valid(s.counters) AND json_valid(s.meta)"
    " AND (s.calibration IS NULL OR json_valid(s.calibration)){stats})"
)


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {str(r[1]) for r in db.execute(f"PRAGMA table_info({table})")}


def _same(a: object, b: object) -> bool:
    """Two stored numbers that must be equal (both NULL counts as equal)."""
    if a is None or b is None:
        return a is None and b is None
    if not isinstance(a, int | float) or not isinstance(b, int | float):
        return False
    return float(a) == float(b) or (math.isnan(float(a)) and math.isnan(float(b)))


def _session_problems(row: tuple[Any, ...], sealed_known: bool) -> list[str]:
    """The disagreements between one session's record and its chunks."""
    (sid, n_samples, t_first, t_last, peak, span, status, json_ok) = row[:8]
    (chunks, n, t0, t1, chunk_span, bad_len, sealed, sealed_peak) = row[8:16]
    name = f"session {sid}"
    problems: list[str] = []
    if status not in ("recording", "ended", "recovered"):
        problems.append(f"{name} has an unreadable status")
    if not json_ok:
        problems.append(f"{name}'s record holds unreadable details")
    n = int(n or 0)
    if not isinstance(n_samples, int) or n_samples != n:
        problems.append(f"{name} records {n_samples!r} samples, its chunks hold {n}")
    if bad_len:
        problems.append(f"{name} has {bad_len} chunk(s) whose size does not match their count")
    if chunks:
        if not _same(t_first, t0) or not _same(t_last, t1):
            problems.append(
                f"{name} records samples from {t_first!r} s to {t_last!r} s, its chunks hold"
                f" {t0!r} s to {t1!r} s"
            )
        if not isinstance(span, int | float) or float(span) < float(chunk_span or 0.0):
            problems.append(f"{name}'s chunk span {span!r} is shorter than a chunk's")
        # The kept peak is checked when every chunk has its checksums row (schema 6 on).
        if sealed_known and sealed == chunks and not _same(peak, sealed_peak):
            problems.append(
                f"{name} records a peak of {peak!r} N, its chunks peak at {sealed_peak!r} N"
            )
    elif n_samples == 0 and (t_first is not None or t_last is not None or peak is not None):
        problems.append(f"{name} has no samples but records times or a peak")
    return problems


def sums_problems(db: sqlite3.Connection) -> tuple[list[str], dict[str, int]]:
    """Each session's record against its chunks, read from their small columns only.

    Returns:
        The problems found (empty: the sums agree) and counts: sessions, chunks, samples, and
        ``unsealed`` chunks (written before checksums existed).

    Raises:
        sqlite3.DatabaseError: a page the sums needed could not be read.
    """
    tables = set(_tables(db))
    counts = {"sessions": 0, "chunks": 0, "samples": 0, "unsealed": 0}
    if "sessions" not in tables or _SAMPLES_TABLE not in tables:
        return [], counts
    sealed_known = "chunk_sums" in tables
    stats = (
        " AND (s.stats IS NULL OR json_valid(s.stats))"
        if "stats" in _columns(db, "sessions")
        else ""
    )
    sql = _SESSION_SUMS.format(
        json_ok=_JSON_OK.format(stats=stats),
        sealed="k.sealed, k.peak" if sealed_known else "NULL, NULL",
        sealed_join=_SEALED_JOIN if sealed_known else "",
    )
    problems: list[str] = []
    with _snapshot(db):
        for found in db.execute(sql):
            row = tuple(found)
            problems += _session_problems(row, sealed_known)
            counts["sessions"] += 1
            counts["chunks"] += int(row[8] or 0)
            counts["samples"] += int(row[9] or 0)
            if sealed_known:
                counts["unsealed"] += int(row[8] or 0) - int(row[14] or 0)
        orphans = [
            int(r[0])
            for r in db.execute(
                "SELECT DISTINCT session_id FROM sample_chunks"
                " WHERE session_id NOT IN (SELECT id FROM sessions) LIMIT 5"
            )
        ]
        if orphans:
            problems.append(f"samples of session(s) {orphans} have no session record")
        if sealed_known:
            stray = db.execute(
                "SELECT count(*) FROM chunk_sums k WHERE NOT EXISTS (SELECT 1 FROM sample_chunks"
                " c WHERE c.session_id = k.session_id AND c.chunk_no = k.chunk_no)"
            ).fetchone()[0]
            if stray:
                problems.append(f"{stray} chunk checksum(s) belong to no chunk")
    if not sealed_known:
        counts["unsealed"] = counts["chunks"]
    return [f"has sums that disagree: {p}" for p in problems[:MAX_PROBLEMS]], counts


@contextlib.contextmanager
def _snapshot(db: sqlite3.Connection) -> Iterator[None]:
    """One read transaction around several queries (the sums must see one state)."""
    began = not db.in_transaction
    if began:
        db.execute("BEGIN")
    try:
        yield
    finally:
        if began and db.in_transaction:
            db.execute("COMMIT")


def open_problems(db: sqlite3.Connection, path: Path) -> list[str]:
    """The check made when a store is opened: SQLite's structure check and the sums.

    Args:
        db: a fresh connection to the store, before any migration.
        path: the database file.

    Returns:
        What is wrong, the most telling first; empty when the store is whole.

    Raises:
        sqlite3.Error: SQLite failed for a reason that is not damage (busy, I/O, read-only).
    """
    try:
        problems = structure_problems(db, path)
        if not problems:
            problems = sums_problems(db)[0]
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        if not is_damage(exc):
            raise
        if db.in_transaction:
            db.rollback()
        problems = [damage_problem(path, exc)]
    return problems


@dataclass
class CheckReport:
    """What a check of the store found.

    Attributes:
        path: the database file.
        full: whether every byte was checked (``store check --full``).
        problems: what is wrong; empty when the store is whole.
        seconds: how long the check took.
        file_bytes: the file's size.
        whole_file: whether SQLite's check covered every page (small stores, or ``full``).
        sessions: sessions checked.
        chunks: sample chunks checked.
        samples: samples they hold.
        unsealed: chunks written before checksums existed (checked by their shape only).
    """

    path: Path
    full: bool
    problems: list[str]
    seconds: float
    file_bytes: int
    whole_file: bool
    sessions: int = 0
    chunks: int = 0
    samples: int = 0
    unsealed: int = 0

    @property
    def ok(self) -> bool:
        """Whether nothing is wrong."""
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        out = asdict(self)
        out["path"] = str(self.path)
        out["ok"] = self.ok
        return out


def check(
    db: sqlite3.Connection,
    path: Path,
    *,
    full: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> CheckReport:
    """Check a store through an open connection: as on open, or fully.

    Args:
        db: a connection to the store, outside a transaction.
        path: its file.
        full: also ``PRAGMA integrity_check`` and every chunk's bytes.
        progress: called with (chunks checked, chunks in all) during the full pass.

    Raises:
        sqlite3.Error: SQLite failed for a reason that is not damage.
    """
    began = time.perf_counter()
    size = path.stat().st_size if path.exists() else 0
    whole = full or size <= QUICK_CHECK_MAX_BYTES
    counts = {"sessions": 0, "chunks": 0, "samples": 0, "unsealed": 0}
    try:
        if full:
            problems = [
                f"has a damaged page ({line})"
                for line in _pragma_check(db, "integrity_check")[:MAX_PROBLEMS]
            ]
        else:
            problems = structure_problems(db, path, whole=whole)
        sums, counts = sums_problems(db)
        problems += sums
        if full and not problems:
            problems += chunk_problems(db, counts["chunks"], progress)
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        if not is_damage(exc):
            raise
        if db.in_transaction:
            db.rollback()
        problems = [damage_problem(path, exc)]
    return CheckReport(
        path=path,
        full=full,
        problems=problems[:MAX_PROBLEMS],
        seconds=time.perf_counter() - began,
        file_bytes=size,
        whole_file=whole,
        sessions=counts["sessions"],
        chunks=counts["chunks"],
        samples=counts["samples"],
        unsealed=counts["unsealed"],
    )


def chunk_problems(
    db: sqlite3.Connection, total: int, progress: Callable[[int, int], None] | None = None
) -> list[str]:
    """Every chunk's bytes against its checksums and kept peak (or its shape, for chunks
    written before checksums existed), and each session's peak against its chunks'.

    Raises:
        sqlite3.DatabaseError: a page could not be read.
    """
    if "chunk_sums" in _tables(db):
        sql = (
            "SELECT c.*, k.crc AS crc, k.peak_n AS kept_peak FROM sample_chunks c"
            " LEFT JOIN chunk_sums k ON k.session_id = c.session_id AND k.chunk_no = c.chunk_no"
            " ORDER BY c.session_id, c.chunk_no"
        )
    else:
        sql = (
            "SELECT c.*, NULL AS crc, NULL AS kept_peak FROM sample_chunks c"
            " ORDER BY c.session_id, c.chunk_no"
        )
    problems: list[str] = []
    peaks: dict[int, float | None] = {}
    done = 0
    cursor = db.cursor()
    cursor.row_factory = sqlite3.Row
    with _snapshot(db):
        for row in cursor.execute(sql):
            sid = int(row["session_id"])
            problem = chunk_problem(row)
            if problem is not None:
                problems.append(
                    f"has a damaged chunk: session {sid}'s samples from {row['t0']!r} s: {problem}"
                )
                if len(problems) >= MAX_PROBLEMS:
                    break
            else:
                peak = peak_of(row["force_n"])
                if peak is not None:
                    known = peaks.get(sid)
                    peaks[sid] = peak if known is None else max(known, peak)
                else:
                    peaks.setdefault(sid, None)
            done += 1
            if progress is not None and done % 256 == 0:
                progress(done, total)
        if not problems:
            for sid, stored in db.execute("SELECT id, peak_n FROM sessions"):
                if sid in peaks and not _same(stored, peaks[sid]):
                    problems.append(
                        f"has sums that disagree: session {sid} records a peak of {stored!r} N,"
                        f" its samples peak at {peaks[sid]!r} N"
                    )
    if progress is not None:
        progress(done, total)
    return problems


def chunk_problem(row: sqlite3.Row) -> str | None:
    """What is wrong with a chunk row (with its ``crc`` and ``kept_peak``); None if nothing."""
    if row["crc"] is None:
        return shape_problem(row)
    problem = crc_problem(row, tuple(COLUMN_SIZES), row["crc"])
    if problem is None and not _same(row["kept_peak"], peak_of(row["force_n"])):
        problem = "its kept peak does not match its samples"
    return problem
