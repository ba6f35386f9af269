"""Compaction: a session's many small sample chunks merged into few big ones, in the background.

The bridge writes one small chunk per flush (a 2-hour session at 1 kHz: ~144,000 chunks of ~50
samples); reading them back costs a row each. When a session ends it is queued here and a
background thread of the Store merges its chunks into chunks of :data:`COMPACT_SAMPLES` samples,
one short transaction at a time, so ending a session never stalls the bridge's loop and other
writers never wait long. Readers see the old chunks or the merged one, never both.

The same thread then sums up the session for the review (:mod:`review.stats_cache`: one pass
over its samples, kept in ``sessions.stats``), so the History page never has to.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, cast

from firmware_bridge.errors import NotFoundError, PressureGuardError, StoreDamagedError
from firmware_bridge.store._base import StoreBase, _rollback, store_error, utc_iso
from firmware_bridge.store.chunk_sums import crc_problem, peak_of, seal, shape_problem
from firmware_bridge.store.samples import SAMPLE_COLUMNS

if TYPE_CHECKING:
    from firmware_bridge.store import Store

log = logging.getLogger(__name__)

#: Samples per chunk after compaction: ~1 MB a row, 220 rows for 2 hours at 1 kHz. A piece of
#: compaction (one merged chunk) then holds the write lock for ~10 ms (measured, 2-core machine).
COMPACT_SAMPLES = 32768
# At most this many chunk headers are looked at per compaction piece.
_HEADS_PER_PIECE = 65536
# The compactor pauses between pieces as long as the piece took (at most this): the bridge's
# commits in this process and other processes' writes get the lock at least half of the time.
_MAX_PAUSE_S = 0.05


class _StoppedError(Exception):
    """The background work was told to stop (the store is closing after Ctrl-C)."""


class CompactionMixin(StoreBase):
    """Background merging of ended sessions' sample chunks."""

    def __init__(self, path: Path) -> None:
        # Sessions waiting for compaction, and the thread doing it (see _compact_later).
        self._compact_cv = threading.Condition()
        self._compact_queue: deque[int] = deque()
        self._compact_thread: threading.Thread | None = None
        self._compact_abort = False
        super().__init__(path)

    def compact_session(self, session_id: int) -> int:
        """Merge a session's chunks into chunks of up to :data:`COMPACT_SAMPLES` samples, now.

        The bridge writes one small chunk per flush (a 2-hour session at 1 kHz: ~144,000 chunks
        of ~50 samples); reading them back costs a row each. Merged, a whole-session read takes
        ~110 rows. Every sample stays bit-identical and in order; window reads stay exact (the
        session's ``chunk_span_s`` grows with the merged chunks). The work is done in pieces,
        one merged chunk per ``BEGIN IMMEDIATE`` transaction (tens of milliseconds), so other
        writers never wait long, and readers see the old chunks or the merged one, never both.
        Running it again, or on a session another process is compacting, is harmless.

        Sessions are compacted by themselves in the background when they end (see
        :meth:`wait_for_compaction`); call this to do it in the calling thread.

        Args:
            session_id: the session; an ended one is marked compacted.

        Returns:
            How many chunks were merged away.

        Raises:
            StoreError: the store cannot be written (what was merged before stays merged).
        """
        return self._compact(session_id, pace=False)

    def wait_for_compaction(self, timeout: float | None = None) -> bool:
        """Wait until the background compaction of ended sessions is done (their review
        statistics kept too).

        Returns:
            False when ``timeout`` seconds passed first.
        """
        with self._compact_cv:
            return self._compact_cv.wait_for(lambda: not self._compact_queue, timeout)

    def _compact(self, session_id: int, *, pace: bool) -> int:
        cursor: int | None = -1
        merged = 0
        started = time.perf_counter()
        while cursor is not None and not (pace and self._compact_abort):
            began = time.perf_counter()
            cursor, gone = self._compact_piece(session_id, cursor)
            merged += gone
            if pace and cursor is not None:
                time.sleep(min(_MAX_PAUSE_S, time.perf_counter() - began))
        if cursor is None:
            with self._bare_write("mark the session compacted") as db:
                db.execute(
                    "UPDATE sessions SET compacted_at = ? WHERE id = ? AND status != 'recording'",
                    (utc_iso(), session_id),
                )
        if merged:
            log.info(
                "session %d: %d chunks merged away in %.2f s",
                session_id,
                merged,
                time.perf_counter() - started,
            )
        return merged

    def _compact_piece(self, session_id: int, after: int) -> tuple[int | None, int]:
        """Merge the first run of small chunks after chunk ``after``, in one transaction.

        Returns:
            Where the next piece starts (None when the session is done) and how many chunks
            were merged away.
        """
        with self._bare_write("compact the session") as db:
            # Greedy: the first run of ≥ 2 consecutive chunks that fit in one merged chunk. The
            # headers are read lazily, so a piece reads about as many as it merges.
            heads = db.execute(
                "SELECT chunk_no, n FROM sample_chunks WHERE session_id = ? AND chunk_no > ?"
                " ORDER BY chunk_no LIMIT ?",
                (session_id, after, _HEADS_PER_PIECE),
            )
            group: list[int] = []
            total = seen = 0
            for chunk_no, n in heads:
                seen += 1
                if total + n <= COMPACT_SAMPLES:
                    group.append(int(chunk_no))
                    total += n
                elif len(group) >= 2:
                    break
                else:  # a lone chunk (already big, or the next one is): start afresh
                    group, total = [int(chunk_no)], n
            heads.close()
            if len(group) < 2:
                if seen < _HEADS_PER_PIECE:
                    return None, 0
                return (group[0] - 1 if group else after), 0  # go on past the headers read
            first, last = group[0], group[-1]
            span = (session_id, first, last)
            rows = db.execute(
                "SELECT c.*, k.crc AS crc, k.peak_n AS peak_n FROM sample_chunks c"
                " LEFT JOIN chunk_sums k ON k.session_id = c.session_id"
                " AND k.chunk_no = c.chunk_no"
                " WHERE c.session_id = ? AND c.chunk_no BETWEEN ? AND ? ORDER BY c.chunk_no",
                span,
            ).fetchall()
            # Never seal damaged bytes under a fresh checksum: each part is checked first (by
            # its own checksums, or by its shape when it was written before they existed).
            peaks: list[float] = []
            for r in rows:
                if r["crc"] is not None:
                    problem = crc_problem(r, SAMPLE_COLUMNS, r["crc"])
                    peak = r["peak_n"]
                else:
                    problem = shape_problem(r)
                    peak = None if problem else peak_of(r["force_n"])
                if problem is not None:
                    detail = f"session {session_id}'s samples from {r['t0']:.1f} s: {problem}"
                    raise StoreDamagedError(
                        f"store damaged: {detail} (a damaged page in {self.path}); close"
                        " PressureGuard and run `pressureguard store check --full`",
                        path=self.path,
                        problem=detail,
                    )
                if peak is not None:
                    peaks.append(float(peak))
            t0 = min(float(r["t0"]) for r in rows)
            t1 = max(float(r["t1"]) for r in rows)
            n = sum(int(r["n"]) for r in rows)
            blobs = [bytes(bytearray().join(r[c] for r in rows)) for c in SAMPLE_COLUMNS]
            db.execute(
                "DELETE FROM sample_chunks WHERE session_id = ? AND chunk_no BETWEEN ? AND ?",
                span,
            )
            # The merged chunk takes the first number: chunk order stays sample order.
            db.execute(
                "INSERT INTO sample_chunks (session_id, chunk_no, t0, t1, n, t_s, raw, force_n,"
                " filtered_n, zone) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (session_id, first, t0, t1, n, *blobs),
            )
            db.execute(
                "INSERT INTO chunk_sums (session_id, chunk_no, peak_n, crc) VALUES (?, ?, ?, ?)",
                (session_id, first, max(peaks) if peaks else None, seal(n, t0, t1, blobs)),
            )
            db.execute(
                "UPDATE sessions SET chunk_span_s = max(coalesce(chunk_span_s, 0), ?) WHERE id = ?",
                (t1 - t0, session_id),
            )
        return first, len(rows) - 1

    def _compact_later(self, session_ids: Iterable[int]) -> None:
        """Queue sessions for compaction by a background thread of this Store.

        Ending a session must not stall the bridge's loop (the live view and feedback keep
        running), so the merge runs beside it, one short piece at a time; :meth:`close` waits
        for what is queued.
        """
        with self._compact_cv:
            for sid in session_ids:
                if sid not in self._compact_queue:
                    self._compact_queue.append(int(sid))
            if self._compact_queue and self._compact_thread is None and not self._compact_abort:
                self._compact_thread = threading.Thread(
                    target=self._compact_worker, name="store-compact", daemon=True
                )
                self._compact_thread.start()

    def _compact_worker(self) -> None:
        while True:
            with self._compact_cv:
                if self._compact_abort or not self._compact_queue:
                    self._compact_queue.clear()
                    self._compact_thread = None
                    self._compact_cv.notify_all()
                    return
                sid = self._compact_queue[0]
            try:
                self._compact(sid, pace=True)
                self._keep_stats(sid)
            except _StoppedError:
                log.info("session %d: its statistics are left for later", sid)
            except NotFoundError:
                log.debug("session %d was deleted before it was compacted", sid)
            except PressureGuardError as exc:
                # Left as it is (every sample readable): compaction is retried when a bridge next
                # starts, the statistics are computed when first needed.
                log.warning("session %d could not be compacted and summed up: %s", sid, exc)
            except Exception:
                log.exception("compacting session %d failed", sid)
            finally:
                with self._compact_cv:
                    if self._compact_queue and self._compact_queue[0] == sid:
                        self._compact_queue.popleft()
                    self._compact_cv.notify_all()

    def _keep_stats(self, session_id: int) -> None:
        """Sum the compacted session up for the review, at the compactor's pace."""
        # review builds on the store, so it is imported where it is used, not at the top
        from review.stats_cache import keep_session_stats  # noqa: PLC0415 - import cycle

        keep_session_stats(cast("Store", self), session_id, pace=self._pace)

    def _pace(self, took: float) -> None:
        """Between two pieces of background work: yield as long as the last piece took."""
        if self._compact_abort:
            raise _StoppedError
        time.sleep(min(_MAX_PAUSE_S, took))

    def _finish_compaction(self) -> None:
        """Let the background compaction finish (before closing); Ctrl-C stops it after the
        current piece, leaving the rest for later."""
        with self._compact_cv:
            thread = self._compact_thread
            if thread is not None and self._compact_queue:
                log.info("finishing the compaction of session(s) %s", list(self._compact_queue))
        if thread is None:
            return
        try:
            thread.join()
        except BaseException:
            with self._compact_cv:
                self._compact_abort = True
            thread.join()
            raise

    @contextmanager
    def _bare_write(self, action: str) -> Iterator[sqlite3.Connection]:
        """A write transaction that leaves the buffered rows to :meth:`commit` (compaction runs
        beside the bridge and must not commit, or fail, on its behalf)."""
        with self._lock:
            db = self._conn()
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                    db.execute("COMMIT")
                except BaseException:
                    _rollback(db)
                    raise
            except sqlite3.Error as exc:
                raise store_error(self.path, action, exc) from exc
