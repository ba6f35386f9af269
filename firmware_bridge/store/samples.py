"""Recording and reading samples: the bridge's hot path.

The bridge calls :meth:`append_samples`, :meth:`add_events`, :meth:`set_counters` and
:meth:`heartbeat` as data arrives; they only buffer in memory. :meth:`commit` writes the buffer in
one short ``BEGIN IMMEDIATE`` transaction, so the write lock is held for milliseconds and a stalled
bridge never blocks the dashboard's own writes. Buffered rows become visible (to this Store too)
at the next commit, or at any other call that writes.

Each flush is one small chunk (a 2-hour session at 1 kHz: ~144,000 of them). When a session ends,
a background thread merges them into big chunks (:mod:`firmware_bridge.store.compact`), so
whole-session reads touch a few hundred rows. Reads: :meth:`load_samples` / :meth:`load_arrays`
(one window, in memory), :meth:`iter_samples` / :meth:`iter_arrays` (a batch at a time, constant
memory; safe while a compaction runs).
"""

from __future__ import annotations

import logging
import math
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from firmware_bridge.errors import NotFoundError, StoreDamagedError
from firmware_bridge.store._base import (
    StoreBase,
    from_json,
    to_json,
    utc_iso,
)
from firmware_bridge.store.chunk_sums import crc_problem, seal
from firmware_bridge.zones import JudgedSamples, SessionEvent

log = logging.getLogger(__name__)

#: The float64 columns of a chunk, in storage order.
FLOAT_COLUMNS = ("t_s", "raw", "force_n", "filtered_n")
#: Every sample column, as :class:`JudgedSamples` names them.
SAMPLE_COLUMNS = (*FLOAT_COLUMNS, "zone")
_F64 = np.dtype("<f8")
# Running totals kept beside the chunks, in the same transaction.
_STATS_SQL = """
UPDATE sessions SET
    n_samples = n_samples + :n,
    t_first = min(coalesce(t_first, :t_first), :t_first),
    t_last = max(coalesce(t_last, :t_last), :t_last),
    peak_n = CASE WHEN :peak IS NULL THEN peak_n ELSE max(coalesce(peak_n, :peak), :peak) END,
    chunk_span_s = max(coalesce(chunk_span_s, 0), :span)
WHERE id = :id
"""
_I8 = np.dtype("<i1")
_MAX_CHUNK_NO = 2**63 - 1
# A chunk's checksums (chunk_sums, schema version 6) come with it: NULL for older chunks.
_CHUNKS = (
    "sample_chunks c LEFT JOIN chunk_sums k"
    " ON k.session_id = c.session_id AND k.chunk_no = c.chunk_no"
)


@dataclass(slots=True)
class _Stats:
    """What one commit adds to a session's running totals."""

    n: int = 0
    t_first: float = math.inf
    t_last: float = -math.inf
    peak_n: float | None = None
    span: float = 0.0

    def add(self, n: int, t0: float, t1: float, peak: float | None) -> None:
        self.n += n
        self.t_first = min(self.t_first, t0)
        self.t_last = max(self.t_last, t1)
        self.span = max(self.span, t1 - t0)
        if peak is not None:
            self.peak_n = peak if self.peak_n is None else max(self.peak_n, peak)


def empty_samples() -> JudgedSamples:
    """A JudgedSamples with no rows."""
    nothing = np.empty(0, dtype=np.float64)
    return JudgedSamples(
        nothing, nothing.copy(), nothing.copy(), nothing.copy(), np.empty(0, dtype=np.int8)
    )


def _column(rows: list[sqlite3.Row], name: str) -> np.ndarray:
    """One column of consecutive chunks as a fresh writable array (one copy, C-speed join)."""
    dtype = _I8 if name == "zone" else _F64
    joined = bytearray().join(r[name] for r in rows)
    return np.frombuffer(joined, dtype=dtype).astype(dtype.newbyteorder("="), copy=False)


def _columns(rows: list[sqlite3.Row], names: Iterable[str]) -> dict[str, np.ndarray]:
    """The named columns of consecutive chunk rows, decoded and concatenated."""
    return {name: _column(rows, name) for name in names}


def _decode(rows: list[sqlite3.Row]) -> JudgedSamples:
    if not rows:
        return empty_samples()
    return JudgedSamples(**_columns(rows, SAMPLE_COLUMNS))


def _trim(samples: JudgedSamples, t_from: float | None, t_to: float | None) -> JudgedSamples:
    keep = np.ones(len(samples), dtype=bool)
    if t_from is not None:
        keep &= samples.t_s >= t_from
    if t_to is not None:
        keep &= samples.t_s <= t_to
    if keep.all():
        return samples
    return JudgedSamples(*(getattr(samples, c)[keep] for c in (*FLOAT_COLUMNS, "zone")))


def _resume_point(db: sqlite3.Connection, session_id: int, done: int) -> tuple[int, int]:
    """Where sample number ``done`` is now: (the chunk_no just before its chunk, samples of
    that chunk to skip). Chunk order is sample order, so counting sizes finds it."""
    heads = db.execute(
        "SELECT chunk_no, n FROM sample_chunks WHERE session_id = ? ORDER BY chunk_no",
        (session_id,),
    ).fetchall()
    if not heads:
        return -1, 0
    ends = np.cumsum([int(h[1]) for h in heads])
    k = int(np.searchsorted(ends, done, side="right"))
    if k >= len(heads):
        return int(heads[-1][0]), 0  # everything was read
    return int(heads[k][0]) - 1, done - int(ends[k] - heads[k][1])


class SamplesMixin(StoreBase):
    """Buffered writes of samples, events, counters and heartbeats; sample reads."""

    def __init__(self, path: Path) -> None:
        self._next_chunk: dict[int, int] = {}
        self._chunks: list[tuple[Any, ...]] = []
        self._sums: list[tuple[int, int, float | None, bytes]] = []
        self._stats: dict[int, _Stats] = {}
        self._events: list[tuple[int, float, str, str]] = []
        self._counters: dict[int, dict[str, Any]] = {}
        self._beats: set[int] = set()
        super().__init__(path)

    # -- buffering ---------------------------------------------------------------------------

    def _known_session(self, session_id: int) -> None:
        """Check once per session that it exists, so a bad id fails here, not at commit."""
        if session_id in self._next_chunk:
            return
        with self._read("read the session") as db:
            row = db.execute(
                "SELECT s.id, (SELECT MAX(chunk_no) FROM sample_chunks WHERE session_id = s.id)"
                " FROM sessions s WHERE s.id = ?",
                (session_id,),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no session {session_id}")
        self._next_chunk[session_id] = 0 if row[1] is None else int(row[1]) + 1

    def append_samples(self, session_id: int, samples: JudgedSamples) -> None:
        """Buffer consecutive judged samples as one chunk; written by the next :meth:`commit`.

        Args:
            session_id: a session from :meth:`begin_session`.
            samples: equal-length arrays; ``t_s`` finite.

        Raises:
            NotFoundError: no such session.
            ValueError: arrays of different lengths, or a non-finite time.
        """
        n = len(samples)
        if n == 0:
            return
        arrays: list[np.ndarray] = [
            np.ascontiguousarray(getattr(samples, c), dtype=_F64) for c in FLOAT_COLUMNS
        ]
        zone: np.ndarray = np.ascontiguousarray(samples.zone, dtype=_I8)
        if any(a.shape != (n,) for a in (*arrays, zone)):
            raise ValueError("JudgedSamples columns must be 1-D arrays of the same length")
        t = arrays[0]
        if not np.isfinite(t).all():
            raise ValueError("sample times must be finite")
        peak = float(np.fmax.reduce(arrays[2]))  # fmax skips NaN without a warning
        t0, t1 = float(t.min()), float(t.max())
        blobs = [*(a.tobytes() for a in arrays), zone.tobytes()]
        crc = seal(n, t0, t1, blobs)
        kept_peak = peak if math.isfinite(peak) else None
        with self._lock:
            self._known_session(session_id)
            chunk_no = self._next_chunk[session_id]
            self._next_chunk[session_id] = chunk_no + 1
            self._chunks.append((session_id, chunk_no, t0, t1, n, *blobs))
            self._sums.append((session_id, chunk_no, kept_peak, crc))
            self._stats.setdefault(session_id, _Stats()).add(n, t0, t1, kept_peak)

    def add_events(self, session_id: int, events: Iterable[SessionEvent]) -> None:
        """Buffer session events; written by the next :meth:`commit`.

        Raises:
            NotFoundError: no such session.
            ValueError: an event time is not finite.
        """
        rows = []
        for event in events:
            t_s = float(event.t_s)
            if not math.isfinite(t_s):
                raise ValueError(f"event {event.kind!r} has a non-finite time")
            rows.append((session_id, t_s, str(event.kind), to_json(event.detail)))
        if rows:
            with self._lock:
                self._known_session(session_id)
                self._events.extend(rows)

    def set_counters(self, session_id: int, counters: dict[str, Any]) -> None:
        """Buffer counters (merged key by key into the stored ones) until the next commit.

        Known keys: ``time_over_limit_s``, ``dropped_frames``, ``bad_frames``,
        ``bad_frames_by_kind`` (dict), ``gaps`` (count), ``peak_n``; any others are kept too.
        ``n_samples`` is counted by the store itself.
        """
        with self._lock:
            self._known_session(session_id)
            self._counters.setdefault(session_id, {}).update(counters)

    def heartbeat(self, session_id: int) -> None:
        """Mark the recorder alive; written by the next commit (any commit of samples does too)."""
        with self._lock:
            self._known_session(session_id)
            self._beats.add(session_id)

    def _has_pending(self) -> bool:
        return bool(self._chunks or self._events or self._counters or self._beats)

    def commit(self) -> None:
        """Write everything buffered in one short transaction; a no-op when nothing is.

        When it fails the buffer is kept, so a later commit can retry (unless the rows can never
        be written, e.g. their session was deleted).

        Raises:
            StoreError: the write failed ("disk full: ..." when out of space); what was committed
                before is intact.
        """
        with self._lock:
            if self._has_pending():
                with self._write("save the session data"):
                    pass

    def _flush_pending(self, db: sqlite3.Connection) -> None:
        if not self._has_pending():
            return
        now = utc_iso()
        try:
            db.executemany(
                "INSERT INTO sample_chunks (session_id, chunk_no, t0, t1, n, t_s, raw, force_n,"
                " filtered_n, zone) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                self._chunks,
            )
            db.executemany(
                "INSERT INTO chunk_sums (session_id, chunk_no, peak_n, crc) VALUES (?, ?, ?, ?)",
                self._sums,
            )
            db.executemany(
                "INSERT INTO events (session_id, t_s, kind, detail) VALUES (?, ?, ?, ?)",
                self._events,
            )
            db.executemany(
                _STATS_SQL,
                [
                    {
                        "id": sid,
                        "n": st.n,
                        "t_first": st.t_first,
                        "t_last": st.t_last,
                        "peak": st.peak_n,
                        "span": st.span,
                    }
                    for sid, st in self._stats.items()
                ],
            )
            for sid, new in self._counters.items():
                row = db.execute("SELECT counters FROM sessions WHERE id = ?", (sid,)).fetchone()
                if row is not None:
                    merged = from_json(row[0], {}) | new
                    db.execute(
                        "UPDATE sessions SET counters = ? WHERE id = ?", (to_json(merged), sid)
                    )
            for sid in self._beats | self._stats.keys():
                db.execute("UPDATE sessions SET heartbeat_at = ? WHERE id = ?", (now, sid))
        except sqlite3.IntegrityError as exc:
            # These rows can never be written (their session is gone): don't retry them forever.
            log.error("dropping %d unsaved sample chunks: %s", len(self._chunks), exc)
            self._drop_pending()
            raise

    def _pending_written(self) -> None:
        self._drop_pending()

    def _drop_pending(self) -> None:
        self._chunks.clear()
        self._sums.clear()
        self._stats.clear()
        self._events.clear()
        self._counters.clear()
        self._beats.clear()

    def _forget_session(self, session_id: int) -> None:
        self._next_chunk.pop(session_id, None)

    def _discard_pending(self, session_id: int) -> None:
        """Forget one session's unsaved rows (an import that failed half-way)."""
        with self._lock:
            self._chunks[:] = [c for c in self._chunks if c[0] != session_id]
            self._sums[:] = [c for c in self._sums if c[0] != session_id]
            self._events[:] = [e for e in self._events if e[0] != session_id]
            self._stats.pop(session_id, None)
            self._counters.pop(session_id, None)
            self._beats.discard(session_id)

    # -- reading -----------------------------------------------------------------------------

    def _require_session(self, db: sqlite3.Connection, session_id: int) -> float:
        """Check the session exists; returns its longest chunk span (0 without chunks)."""
        row = db.execute("SELECT chunk_span_s FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no session {session_id}")
        return float(row[0] or 0.0)

    def _window_rows(
        self,
        db: sqlite3.Connection,
        session_id: int,
        names: tuple[str, ...],
        t_from: float | None,
        t_to: float | None,
    ) -> list[sqlite3.Row]:
        """The chunks (only ``names``, plus t0/t1/n) that may hold samples in the window,
        each checked against its checksums."""
        span = self._require_session(db, session_id)
        picked = ", ".join(f"c.{name} AS {name}" for name in names)
        sql = (
            f"SELECT c.t0 AS t0, c.t1 AS t1, c.n AS n, k.crc AS crc, {picked} FROM {_CHUNKS}"
            " WHERE c.session_id = ?"
        )
        args: list[Any] = [session_id]
        if t_from is not None:
            sql += " AND c.t1 >= ?"
            args.append(t_from)
        if t_to is not None:
            # A chunk starting by t_to ends by t_to + span: that bounds the index range scan
            # (the margin covers rounding in t1 - t0).
            sql += " AND c.t1 <= ? AND c.t0 <= ?"
            args += [t_to + span + 1e-9 * (abs(t_to) + span + 1.0), t_to]
        rows = db.execute(sql + " ORDER BY c.chunk_no", args).fetchall()
        self._check_chunks(session_id, rows, names)
        return rows

    def _check_chunks(self, session_id: int, rows: list[sqlite3.Row], names: Iterable[str]) -> None:
        """Check chunk rows against their checksums before anything is decoded from them.

        Raises:
            StoreDamagedError: a chunk's bytes are not what was written (a damaged page).
        """
        names = tuple(names)
        for row in rows:
            problem = crc_problem(row, names, row["crc"])
            if problem is not None:
                raise self._damaged_chunk(session_id, row, problem)

    def _damaged_chunk(self, session_id: int, row: sqlite3.Row, problem: str) -> StoreDamagedError:
        where = ""
        t0, t1 = row["t0"], row["t1"]  # every chunk read selects them
        if isinstance(t0, float) and isinstance(t1, float):
            where = f" from {t0:.1f} s to {t1:.1f} s"
        detail = f"session {session_id}'s samples{where}: {problem}"
        log.info("store %s is damaged: %s", self.path, detail)
        return StoreDamagedError(
            f"store damaged: {detail} (a damaged page in {self.path}); close PressureGuard and"
            " run `pressureguard store check --full`",
            path=self.path,
            problem=detail,
        )

    def load_samples(
        self, session_id: int, t_from: float | None = None, t_to: float | None = None
    ) -> JudgedSamples:
        """The committed samples of a session, optionally only those with t_from ≤ t_s ≤ t_to.

        Only the chunks overlapping the window are read.

        Raises:
            NotFoundError: no such session.
            StoreError: the store cannot be read.
        """
        with self._read("read samples") as db:
            rows = self._window_rows(db, session_id, SAMPLE_COLUMNS, t_from, t_to)
        return _trim(_decode(rows), t_from, t_to)

    def load_arrays(
        self,
        session_id: int,
        columns: Iterable[str] = ("t_s", "force_n", "filtered_n", "zone"),
        t_from: float | None = None,
        t_to: float | None = None,
    ) -> dict[str, np.ndarray]:
        """Some sample columns of a session (or of the window t_from ≤ t_s ≤ t_to), in order.

        Cheaper than :meth:`load_samples` when not every column is needed: a column that is not
        asked for is never read (raw counts are a fifth of a session's bytes).

        Args:
            session_id: the session.
            columns: any of ``t_s``, ``raw``, ``force_n``, ``filtered_n`` (float64) and ``zone``
                (int8).
            t_from: window start (session seconds), inclusive; None for the first sample.
            t_to: window end, inclusive; None for the last sample.

        Returns:
            ``{column: array}`` in the order asked, all of the same length.

        Raises:
            ValueError: an unknown column.
            NotFoundError: no such session.
            StoreError: the store cannot be read.
        """
        wanted = tuple(dict.fromkeys(columns))
        unknown = set(wanted) - set(SAMPLE_COLUMNS)
        if unknown:
            raise ValueError(f"unknown sample columns: {', '.join(sorted(unknown))}")
        windowed = t_from is not None or t_to is not None
        names = (*wanted, "t_s") if windowed and "t_s" not in wanted else wanted
        with self._read("read samples") as db:
            rows = self._window_rows(db, session_id, names, t_from, t_to)
        arrays = _columns(rows, names)
        if windowed and rows:
            t = arrays["t_s"]
            keep = np.ones(len(t), dtype=bool)
            if t_from is not None:
                keep &= t >= t_from
            if t_to is not None:
                keep &= t <= t_to
            if not keep.all():
                arrays = {k: v[keep] for k, v in arrays.items()}
        return {k: arrays[k] for k in wanted}

    def latest_samples(self, session_id: int, seconds: float) -> JudgedSamples:
        """The last ``seconds`` of committed samples, for the live view; reads only the last chunks.

        Raises:
            NotFoundError: no such session.
        """
        with self._read("read samples") as db:
            self._require_session(db, session_id)
            row = db.execute(
                "SELECT t1 FROM sample_chunks WHERE session_id = ? ORDER BY chunk_no DESC LIMIT 1",
                (session_id,),
            ).fetchone()
        if row is None:
            return empty_samples()
        return self.load_samples(session_id, t_from=float(row[0]) - seconds)

    def time_range(self, session_id: int) -> tuple[float, float] | None:
        """The first and last committed sample time of a session (None without samples).

        Raises:
            NotFoundError: no such session.
        """
        with self._read("read the session") as db:
            self._require_session(db, session_id)
            row = db.execute(
                "SELECT t_first, t_last FROM sessions WHERE id = ?", (session_id,)
            ).fetchone()
        if row[0] is None or row[1] is None:
            return None
        return float(row[0]), float(row[1])

    def iter_samples(self, session_id: int, batch_size: int = 65536) -> Iterator[JudgedSamples]:
        """All committed samples of a session in batches of about ``batch_size`` (for exports).

        Each page of chunks is read in its own short transaction, so a slow consumer never holds
        the store's lock; a compaction meanwhile never makes it skip or repeat a sample.

        Raises:
            NotFoundError: no such session.
        """
        for batch in self._iter_chunks(session_id, SAMPLE_COLUMNS, None, None, batch_size):
            yield JudgedSamples(**batch)

    def iter_arrays(
        self,
        session_id: int,
        columns: Iterable[str] = ("t_s", "force_n", "filtered_n", "zone"),
        t_from: float | None = None,
        t_to: float | None = None,
        batch_size: int = 65536,
    ) -> Iterator[dict[str, np.ndarray]]:
        """Some sample columns of a session (or of a window), in order, a batch at a time.

        Constant memory whatever the session's length: what :mod:`review` computes its stats
        and curves with. Like :meth:`iter_samples`, each page is its own short transaction and
        a compaction meanwhile never makes it skip or repeat a sample.

        Args:
            session_id: the session.
            columns: any of ``t_s``, ``raw``, ``force_n``, ``filtered_n``, ``zone``.
            t_from: window start (session seconds), inclusive; None for the first sample.
            t_to: window end, inclusive; None for the last sample.
            batch_size: about how many samples a batch holds (never empty).

        Yields:
            ``{column: array}`` for consecutive samples.

        Raises:
            ValueError: an unknown column.
            NotFoundError: no such session.
        """
        wanted = tuple(dict.fromkeys(columns))
        unknown = set(wanted) - set(SAMPLE_COLUMNS)
        if unknown:
            raise ValueError(f"unknown sample columns: {', '.join(sorted(unknown))}")
        windowed = t_from is not None or t_to is not None
        names = (*wanted, "t_s") if windowed and "t_s" not in wanted else wanted
        for batch in self._iter_chunks(session_id, names, t_from, t_to, batch_size):
            yield {k: batch[k] for k in wanted}

    def _iter_chunks(
        self,
        session_id: int,
        names: tuple[str, ...],
        t_from: float | None,
        t_to: float | None,
        batch_size: int,
    ) -> Iterator[dict[str, np.ndarray]]:
        """Decoded columns of consecutive chunks (trimmed to the window), page by page.

        The position is kept as an absolute sample number (``done``): chunk order is sample
        order and compaction only merges neighbours, so when the last chunk read is found
        merged, the sample to go on from is found again by counting chunk sizes.
        """
        lo = -math.inf if t_from is None else float(t_from)
        hi = math.inf if t_to is None else float(t_to)
        windowed = t_from is not None or t_to is not None
        # Out-of-window chunks come back with NULL columns: counted, never decoded.
        picked = ", ".join(
            f"CASE WHEN c.t1 >= :lo AND c.t0 <= :hi THEN c.{c} END AS {c}"
            if windowed
            else f"c.{c} AS {c}"
            for c in names
        )
        sql = (
            "SELECT c.chunk_no AS chunk_no, c.n AS n, c.t0 AS t0, c.t1 AS t1, k.crc AS crc,"
            f" {picked} FROM {_CHUNKS} WHERE c.session_id = :sid AND c.chunk_no > :after"
            " AND c.chunk_no <= :last ORDER BY c.chunk_no LIMIT :page"
        )
        done, after, last = 0, -1, _MAX_CHUNK_NO
        after_n: int | None = None  # size of chunk `after` when read; None: first page
        page = 64  # chunks per query, adapted so a page holds about one batch
        while True:
            skip = 0
            with self._read("read samples") as db:
                if after_n is None:
                    span = self._require_session(db, session_id)
                    if windowed:
                        # The chunks that may overlap the window, found with the window index
                        # (in the first page's transaction: both see the same chunks).
                        first_no, last_no = db.execute(
                            "SELECT MIN(chunk_no), MAX(chunk_no) FROM sample_chunks"
                            " WHERE session_id = ? AND t1 >= ? AND t1 <= ? AND t0 <= ?",
                            (session_id, lo, hi + span + 1e-9 * (abs(hi) + span + 1.0), hi),
                        ).fetchone()
                        if first_no is None:
                            return
                        done = db.execute(
                            "SELECT coalesce(sum(n), 0) FROM sample_chunks WHERE session_id = ?"
                            " AND chunk_no < ?",
                            (session_id, first_no),
                        ).fetchone()[0]
                        after, last = int(first_no) - 1, int(last_no)
                else:
                    row = db.execute(
                        "SELECT n FROM sample_chunks WHERE session_id = ? AND chunk_no = ?",
                        (session_id, after),
                    ).fetchone()
                    if row is None or int(row[0]) != after_n:  # merged since: find our place
                        after, skip = _resume_point(db, session_id, done)
                args = {"sid": session_id, "after": after, "last": last, "page": page}
                rows = db.execute(sql, args | {"lo": lo, "hi": hi}).fetchall()
            if not rows:
                return
            base = done - skip  # the first row's first sample
            after, after_n = int(rows[-1]["chunk_no"]), int(rows[-1]["n"])
            done = base + sum(int(r["n"]) for r in rows)
            per_chunk = max(1, (done - base) // len(rows))
            page = min(4096, max(16, batch_size // per_chunk + 1))
            if skip and rows[0][names[0]] is None:
                skip = 0  # the resumed chunk lies outside the window
            group: list[sqlite3.Row] = []
            total = 0
            for i, r in enumerate(rows):
                if r[names[0]] is not None:
                    group.append(r)
                    total += int(r["n"])
                if group and (total >= batch_size or i == len(rows) - 1):
                    self._check_chunks(session_id, group, names)
                    batch = _columns(group, names)
                    if skip:
                        batch = {k: v[skip:] for k, v in batch.items()}
                        skip = 0
                    if windowed:
                        t = batch["t_s"]
                        keep = (t >= lo) & (t <= hi)
                        if not keep.all():
                            batch = {k: v[keep] for k, v in batch.items()}
                    if len(batch[names[0]]):
                        yield batch
                    group, total = [], 0

    def events(self, session_id: int) -> list[SessionEvent]:
        """The committed events of a session in time order.

        Raises:
            NotFoundError: no such session.
        """
        with self._read("read events") as db:
            self._require_session(db, session_id)
            rows = db.execute(
                "SELECT t_s, kind, detail FROM events WHERE session_id = ? ORDER BY t_s, id",
                (session_id,),
            ).fetchall()
        return [SessionEvent(float(r[0]), str(r[1]), from_json(r[2], {})) for r in rows]
