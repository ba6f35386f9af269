"""The full check of a store's samples, run beside a long-lived process (the dashboard).

Opening a large store leaves the samples' blob pages to be checked as they are read
(:mod:`.integrity`). A process that keeps the store open for hours checks them all once, in a
thread of its own: every sample chunk against its checksums, a few chunks per short read
transaction on a connection of its own, pausing as long as each piece took, so the pages and
the bridge never wait for it. What it finds is handed to a callback; nothing is moved (the
bridge may be recording): the user is told and chooses.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from firmware_bridge.store import damage
from firmware_bridge.store.integrity import chunk_problem, damage_problem, is_damage

log = logging.getLogger(__name__)

#: Chunks read per piece (compacted chunks are about 1 MB each).
PIECE_CHUNKS = 8
#: The longest pause between pieces.
MAX_PAUSE_S = 0.05
_SQL = (
    "SELECT c.rowid AS _rowid_, c.*, k.crc AS crc, k.peak_n AS kept_peak FROM sample_chunks c"
    " LEFT JOIN chunk_sums k ON k.session_id = c.session_id AND k.chunk_no = c.chunk_no"
    " WHERE c.rowid > ? ORDER BY c.rowid LIMIT ?"
)


class BackgroundCheck:
    """Checks every sample chunk of a store against its checksums, once, in a thread.

    Attributes:
        path: the store's database file.
        problem: what was found (None: nothing, or not done yet).
        chunks: chunks checked so far.
    """

    def __init__(
        self, path: Path, on_damage: Callable[[str], None], *, delay_s: float = 300.0
    ) -> None:
        """Prepare the check.

        Args:
            path: the store's database file.
            on_damage: called (from the thread) with the problem when damage is found.
            delay_s: how long after :meth:`start` the check begins (the process's start is
                left alone).
        """
        self.path = Path(path)
        self.problem: str | None = None
        self.chunks = 0
        self._on_damage = on_damage
        self._delay_s = delay_s
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="store-background-check", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the check (after the current piece) and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the check is over; False when ``timeout`` passed first."""
        return self._done.wait(timeout)

    def _run(self) -> None:
        try:
            if self._stop.wait(self._delay_s) or not self.path.exists():
                return
            problem = self._check()
            if problem is not None:
                self.problem = problem
                log.warning("store %s is damaged: %s", self.path, problem)
                self._on_damage(problem)
            elif not self._stop.is_set():
                log.info("store %s: %d sample chunks checked, all whole", self.path, self.chunks)
        except Exception:  # a background check must never take the process down
            log.exception("the background check of %s failed", self.path)
        finally:
            self._done.set()

    def _check(self) -> str | None:
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        damage.register_open(self.path)
        try:
            db.row_factory = sqlite3.Row
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
            if "chunk_sums" not in tables:
                return None  # a store not migrated yet: its opening checks it
            after = -1
            while not self._stop.is_set():
                began = time.perf_counter()
                rows = db.execute(_SQL, (after, PIECE_CHUNKS)).fetchall()
                if not rows:
                    return None
                for row in rows:
                    problem = chunk_problem(row)
                    if problem is not None:
                        return (
                            f"has a damaged chunk: session {row['session_id']}'s samples from"
                            f" {row['t0']!r} s: {problem}"
                        )
                self.chunks += len(rows)
                after = int(rows[-1]["_rowid_"])
                self._stop.wait(min(MAX_PAUSE_S, time.perf_counter() - began))
            return None
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            if not is_damage(exc):
                log.info("the background check of %s stopped: %s", self.path, exc)
                return None
            return damage_problem(self.path, exc)
        finally:
            db.close()
            damage.register_closed(self.path)
