"""The :class:`Store`: PressureGuard's one SQLite database, shared by the bridge and dashboards."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from firmware_bridge.errors import StoreError
from firmware_bridge.store import integrity
from firmware_bridge.store._base import store_error
from firmware_bridge.store.journal import JournalMixin
from firmware_bridge.store.live import LiveFeedMixin
from firmware_bridge.store.ppt import PptMixin
from firmware_bridge.store.sessions import SessionsMixin
from firmware_bridge.store.settings import SettingsMixin

log = logging.getLogger(__name__)

#: The database's file name inside a data directory.
DB_NAME = "pressureguard.db"


def default_data_dir() -> Path:
    """Where the store lives when no ``--data-dir`` is given: ``PRESSUREGUARD_HOME``, else the
    platform's user data dir."""
    env = os.environ.get("PRESSUREGUARD_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs  # noqa: PLC0415 - only needed when no directory was given

    return Path(platformdirs.user_data_dir("pressureguard", appauthor=False))


class Store(SessionsMixin, SettingsMixin, PptMixin, JournalMixin, LiveFeedMixin):
    """The session store: sessions and samples, settings, limits, pain-threshold measurements,
    the symptom journal, calibrations, commands, live status, in one SQLite file in WAL mode.

    Several processes use the file at once: the bridge writes samples (buffered, then
    :meth:`commit` every ≤ 50 ms), dashboards read it and write settings and commands. One Store
    may be shared by the threads of one process; each process opens its own.

    Example::

        with Store.open(data_dir) as store:
            sid = store.begin_session(source="sim://", profile="default",
                                      region="upper-trapezius", limit_n=20.0)
            store.append_samples(sid, judged)
            store.commit()
            store.end_session(sid)

    Attributes:
        path: the database file.
    """

    @classmethod
    def open(cls, data_dir: Path) -> Store:
        """Open the store in a data directory, creating the directory and the database.

        Raises:
            StoreError: the directory or database cannot be created or opened.
        """
        data_dir = Path(data_dir)
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the data directory {data_dir}: {exc.strerror}"
            ) from exc
        return cls(data_dir / DB_NAME)

    def check(
        self, *, full: bool = False, progress: Callable[[int, int], None] | None = None
    ) -> integrity.CheckReport:
        """Check the store again: as opening does, or (``full``) every byte.

        The full check runs ``PRAGMA integrity_check`` and reads every sample chunk against
        its checksums (about 1 s per GB with a warm cache); it holds this Store's lock
        meanwhile. Nothing is moved: :func:`~firmware_bridge.store.repair.check_store` does
        that once the store is closed.

        Args:
            full: check every byte, not only what opening checks.
            progress: called with (chunks checked, chunks in all) during the full pass.

        Raises:
            StoreError: the store cannot be read for a reason other than damage.
        """
        with self._lock:
            db = self._conn()
            try:
                return integrity.check(db, self.path, full=full, progress=progress)
            except sqlite3.Error as exc:
                raise store_error(self.path, "check the store", exc) from exc

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._db is None

    def close(self) -> None:
        """Commit what is buffered and close; closing twice is harmless.

        Sessions ended through this Store are compacted in the background; closing waits for
        that (about 3 s after a 2-hour session at 1 kHz, milliseconds after a short one).

        Raises:
            StoreError: the buffered data could not be written (the store is closed anyway).
        """
        # Outside the lock: the compaction thread needs it for each of its pieces.
        self._finish_compaction()
        with self._lock:
            if self._db is None:
                return
            db = self._db
            try:
                self.commit()
            finally:
                self._db = None
                try:
                    db.execute("PRAGMA optimize")  # cheap; keeps the query planner's stats fresh
                except sqlite3.Error as exc:
                    log.debug("PRAGMA optimize failed: %s", store_error(self.path, "optimize", exc))
                self._close_connection(db)
                log.debug("store %s closed", self.path)

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.close()
        except StoreError:
            if exc is None:
                raise
            # the first error is the one the user is told about; this one goes to the log file
            log.info("closing the store after an error also failed", exc_info=True)

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r}{', closed' if self.closed else ''})"
