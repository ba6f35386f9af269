"""Recording and reading samples: the bridge's hot path.

The bridge calls :meth:`append_samples`, :meth:`add_events`, :meth:`set_counters` and
:meth:`heartbeat` as data arrives; they only buffer in memory. :meth:`commit` writes the buffer in
one short ``BEGIN IMMEDIATE`` transaction, so the write lock is held for milliseconds and a stalled
bridge never blocks the dashboard's own writes. Buffered rows become visible (to this Store too)
at the next commit, or at any other call that writes.
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

from firmware_bridge.errors import NotFoundError
from firmware_bridge.store._base import StoreBase, from_json, to_json, utc_iso
from firmware_bridge.zones import JudgedSamples, SessionEvent

log = logging.getLogger(__name__)

#: The float64 columns of a chunk, in storage order.
FLOAT_COLUMNS = ("t_s", "raw", "force_n", "filtered_n")
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


def _decode(rows: list[sqlite3.Row]) -> JudgedSamples:
    if not rows:
        return empty_samples()
    columns = {
        name: np.concatenate([np.frombuffer(r[name], dtype=_F64) for r in rows]).astype(
            np.float64, copy=False
        )
        for name in FLOAT_COLUMNS
    }
    zone = np.concatenate([np.frombuffer(r["zone"], dtype=_I8) for r in rows]).astype(np.int8)
    return JudgedSamples(zone=zone, **columns)


def _trim(samples: JudgedSamples, t_from: float | None, t_to: float | None) -> JudgedSamples:
    keep = np.ones(len(samples), dtype=bool)
    if t_from is not None:
        keep &= samples.t_s >= t_from
    if t_to is not None:
        keep &= samples.t_s <= t_to
    if keep.all():
        return samples
    return JudgedSamples(*(getattr(samples, c)[keep] for c in (*FLOAT_COLUMNS, "zone")))


class SamplesMixin(StoreBase):
    """Buffered writes of samples, events, counters and heartbeats; sample reads."""

    def __init__(self, path: Path) -> None:
        self._next_chunk: dict[int, int] = {}
        self._chunks: list[tuple[Any, ...]] = []
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
        with self._lock:
            self._known_session(session_id)
            chunk_no = self._next_chunk[session_id]
            self._next_chunk[session_id] = chunk_no + 1
            self._chunks.append(
                (session_id, chunk_no, t0, t1, n, *(a.tobytes() for a in arrays), zone.tobytes())
            )
            self._stats.setdefault(session_id, _Stats()).add(
                n, t0, t1, peak if math.isfinite(peak) else None
            )

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

    def load_samples(
        self, session_id: int, t_from: float | None = None, t_to: float | None = None
    ) -> JudgedSamples:
        """The committed samples of a session, optionally only those with t_from ≤ t_s ≤ t_to.

        Only the chunks overlapping the window are read.

        Raises:
            NotFoundError: no such session.
            StoreError: the store cannot be read.
        """
        sql = "SELECT * FROM sample_chunks WHERE session_id = ?"
        args: list[Any] = [session_id]
        if t_from is not None:
            sql += " AND t1 >= ?"
            args.append(t_from)
        with self._read("read samples") as db:
            span = self._require_session(db, session_id)
            if t_to is not None:
                # A chunk starting by t_to ends by t_to + span: that bounds the index range scan
                # (the margin covers rounding in t1 - t0).
                sql += " AND t1 <= ? AND t0 <= ?"
                args += [t_to + span + 1e-9 * (abs(t_to) + span + 1.0), t_to]
            rows = db.execute(sql + " ORDER BY chunk_no", args).fetchall()
        return _trim(_decode(rows), t_from, t_to)

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

    def iter_samples(self, session_id: int, batch_size: int = 65536) -> Iterator[JudgedSamples]:
        """All committed samples of a session in batches of about ``batch_size`` (for exports).

        Each page of chunks is read in its own short transaction, so a slow consumer never holds
        the store's lock.

        Raises:
            NotFoundError: no such session.
        """
        with self._read("read samples") as db:
            self._require_session(db, session_id)
        after = -1
        page = 64  # chunks per query, adapted so a page holds about one batch
        while True:
            with self._read("read samples") as db:
                rows = db.execute(
                    "SELECT * FROM sample_chunks WHERE session_id = ? AND chunk_no > ?"
                    " ORDER BY chunk_no LIMIT ?",
                    (session_id, after, page),
                ).fetchall()
            if not rows:
                return
            after = int(rows[-1]["chunk_no"])
            per_chunk = max(1, sum(int(r["n"]) for r in rows) // len(rows))
            page = min(4096, max(16, batch_size // per_chunk + 1))
            start = 0
            total = 0
            for i, r in enumerate(rows):
                total += int(r["n"])
                if total >= batch_size or i == len(rows) - 1:
                    yield _decode(rows[start : i + 1])
                    start, total = i + 1, 0

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
