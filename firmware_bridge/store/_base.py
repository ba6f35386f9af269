"""What every part of the store shares: one connection, one lock, transactions and plain errors.

One :class:`sqlite3.Connection` per :class:`Store`, opened with ``check_same_thread=False`` and
used only under an ``RLock``, so a Store may be shared by threads. Each process opens its own
Store; never carry one across ``fork``. The connection runs in autocommit mode and the store
issues ``BEGIN IMMEDIATE`` itself: taking the write lock up front avoids the deadlock a deferred
transaction hits when it upgrades from reading to writing while another process writes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import socket
import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from firmware_bridge.errors import StoreBusyError, StoreDamagedError, StoreError, UsageError
from firmware_bridge.store import damage, integrity
from firmware_bridge.store.schema import migrate

log = logging.getLogger(__name__)

#: How long a writer waits for another process's write transaction before giving up.
BUSY_TIMEOUT_S = 5.0
#: A row stamped later than now by more than this was written before the host's clock stepped
#: back (NTP, a person setting the time): how old it is cannot be told from its stamp.
CLOCK_SLACK_S = 0.1


def _numpy_int(value: np.integer[Any]) -> int:
    return int(value)


def _numpy_float(value: np.floating[Any]) -> float:
    return float(value)


# Ids and values often come out of numpy arrays or dataframes; let SQLite bind them as numbers.
_INTS: tuple[type[np.integer[Any]], ...] = (
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
)
for _int in _INTS:
    sqlite3.register_adapter(_int, _numpy_int)
sqlite3.register_adapter(np.float32, _numpy_float)


def utc_iso(when: datetime | None = None) -> str:
    """An ISO-8601 UTC timestamp with milliseconds, the store's one time format.

    Args:
        when: the time; None is now. A naive datetime is taken as local time.
    """
    if when is None:
        when = datetime.now(UTC)
    elif when.tzinfo is None:
        when = when.astimezone()
    return when.astimezone(UTC).isoformat(timespec="milliseconds")


def parse_iso(text: str) -> datetime:
    """Parse a stored timestamp (or any ISO-8601 string; naive ones are taken as UTC)."""
    when = datetime.fromisoformat(text)
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def clean_json(value: Any) -> Any:
    """A JSON-ready copy: non-finite floats become null (SQLite's JSON and the spec reject NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return clean_json(value.tolist())
    if isinstance(value, np.generic):
        return clean_json(value.item())
    return value


def to_json(value: Any) -> str:
    """Serialise a value for a JSON column. Unknown objects (datetimes …) are written as text."""
    return json.dumps(clean_json(value), separators=(",", ":"), allow_nan=False, default=str)


def from_json(text: str | None, default: Any = None) -> Any:
    """Parse a JSON column; ``default`` for NULL."""
    return default if text is None else json.loads(text)


def host_id() -> str:
    """This machine and boot, so a recorder pid is only trusted where it can be checked."""
    boot = ""  # not Linux: the hostname alone has to do
    with contextlib.suppress(OSError):
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    return f"{socket.gethostname()}/{boot}"


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (a zombie counts as dead)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":
        import ctypes  # noqa: PLC0415 - Windows only

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return ctypes.get_last_error() == 5  # access denied: it exists
        code = ctypes.c_ulong()
        ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return bool(ok) and code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)  # signal 0: existence check only (never on Windows: 0 is CTRL_C_EVENT)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def store_error(path: Path, action: str, exc: sqlite3.Error) -> StoreError:
    """Turn an SQLite error into a :class:`StoreError` a user can act on."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    if primary == sqlite3.SQLITE_FULL or "database or disk is full" in text:
        msg = (
            f"disk full: could not {action} in {path}; free some disk space "
            "(everything saved before this is kept)"
        )
    elif primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in text:
        return StoreBusyError(
            f"store busy: could not {action}; another program keeps {path} locked"
        )
    elif primary == sqlite3.SQLITE_READONLY or "readonly" in text:
        msg = f"store is read-only: could not {action} in {path}; check the file permissions"
    elif primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or "not a database" in text:
        problem = f"is not a readable PressureGuard database ({text})"
        return StoreDamagedError(
            f"store damaged: {path} {problem}; close PressureGuard and run"
            " `pressureguard store check`",
            path=path,
            problem=problem,
        )
    elif (primary == sqlite3.SQLITE_CANTOPEN or "unable to open" in text) and _read_only(path):
        msg = (
            f"the data folder {path.parent} is read-only: PressureGuard must write there"
            " (make it writable, or choose another with --data-dir)"
        )
    elif primary == sqlite3.SQLITE_CANTOPEN or "unable to open" in text:
        msg = f"cannot open the store {path}: check that its folder exists and is writable"
    elif primary == sqlite3.SQLITE_IOERR:
        msg = f"disk error: could not {action} in {path} ({text})"
    else:
        msg = f"store error: could not {action} in {path} ({text})"
    return StoreError(msg)


def _read_only(path: Path) -> bool:
    """Whether the store's folder exists but may not be written (a read-only mount, or modes)."""
    folder = path.parent
    return folder.is_dir() and not os.access(folder, os.W_OK)


class _DamageFoundError(Exception):
    """The open check found the file damaged (handled inside :meth:`StoreBase.__init__`)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems[0])
        self.problems = problems


def _connect(path: Path, *, create: bool) -> sqlite3.Connection:
    """A connection to ``path``; without ``create``, a missing file is an error, never a new
    empty store (the file may have just been moved aside as damaged)."""
    uri = f"{path.resolve().as_uri()}?mode={'rwc' if create else 'rw'}"
    return sqlite3.connect(
        uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )


class StoreBase:
    """Connection, lock and transaction helpers; the public API lives in the mixins."""

    def __init__(self, path: Path) -> None:
        """Open (creating if needed), check and migrate the database at ``path``.

        The check (:func:`~firmware_bridge.store.integrity.open_problems`) runs before anything
        is written. A damaged file is moved aside with a timestamp and a note keeps the store
        shut until the user repairs or resets it (:mod:`~firmware_bridge.store.damage`).

        Raises:
            StoreDamagedError: the file is damaged, or was found damaged before and not yet
                repaired or reset.
            StoreError: the file cannot be opened, is not a store, or has a newer schema.
        """
        self.path = Path(path)
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._host = host_id()
        self._pid = os.getpid()
        # Whether the file exists is asked before the note: once a damaged file is moved aside
        # its note is already there, so a missing file with no note is truly a new store.
        exists = self.path.exists()
        note = damage.read_marker(self.path)
        if note is not None:
            raise damage.error_from_marker(self.path, note)
        try:
            db = _connect(self.path, create=not exists)
        except sqlite3.Error as exc:
            note = damage.read_marker(self.path)
            if note is not None:
                raise damage.error_from_marker(self.path, note) from exc
            raise store_error(self.path, "open the store", exc) from exc
        damage.register_open(self.path)
        try:
            db.row_factory = sqlite3.Row
            db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            problems = integrity.open_problems(db, self.path)
            if problems:
                raise _DamageFoundError(problems)
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                log.warning("store %s is in %s mode, not WAL: readers may block", path, mode)
            # WAL + NORMAL: a killed process loses nothing committed; a power cut may lose the last
            # few commits but never corrupts the file.
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA foreign_keys = ON")
            migrate(db, str(self.path))
        except _DamageFoundError as found:
            self._close_connection(db)
            raise damage.keep_aside(self.path, found.problems[0], found.problems) from None
        except (sqlite3.Error, UnicodeDecodeError) as exc:
            self._close_connection(db)
            if integrity.is_damage(exc):
                problem = integrity.damage_problem(self.path, exc)
                raise damage.keep_aside(self.path, problem, [problem]) from exc
            note = damage.read_marker(self.path)
            if note is not None:  # another process found it damaged and moved it meanwhile
                raise damage.error_from_marker(self.path, note) from exc
            if isinstance(exc, UnicodeDecodeError):
                raise
            raise store_error(self.path, "open the store", exc) from exc
        except BaseException:
            self._close_connection(db)
            raise
        self._db = db
        log.debug("store %s open", self.path)

    def set_busy_timeout(self, seconds: float) -> None:
        """How long a write waits for another process's write lock before :class:`StoreBusyError`
        (default :data:`BUSY_TIMEOUT_S`; the bridge waits less and retries, so its loop never
        stalls)."""
        with self._lock:
            self._conn().execute(f"PRAGMA busy_timeout = {max(0, int(seconds * 1000))}")

    def _close_connection(self, db: sqlite3.Connection) -> None:
        """Close a connection this Store opened (and let the damage code know)."""
        try:
            db.close()
        finally:
            damage.register_closed(self.path)

    # -- hooks for the samples mixin ---------------------------------------------------------

    def _flush_pending(self, db: sqlite3.Connection) -> None:
        """Write buffered rows inside the current transaction (overridden by the samples part)."""

    def _pending_written(self) -> None:
        """The transaction that flushed the buffers committed (overridden by the samples part)."""

    # -- plumbing --------------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError(f"the store {self.path} is closed")
        return self._db

    @contextmanager
    def _write(self, action: str) -> Iterator[sqlite3.Connection]:
        """One write transaction that also saves what :meth:`commit` would; commits on exit.

        Args:
            action: what is being done, for error messages ("save the session").
        """
        with self._lock:
            db = self._conn()
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    self._flush_pending(db)
                    yield db
                    db.execute("COMMIT")
                except BaseException:
                    _rollback(db)
                    raise
            except sqlite3.Error as exc:
                raise store_error(self.path, action, exc) from exc
            self._pending_written()

    @contextmanager
    def _read(self, action: str) -> Iterator[sqlite3.Connection]:
        """One read transaction: a consistent snapshot across several queries."""
        with self._lock:
            db = self._conn()
            try:
                db.execute("BEGIN")
                try:
                    yield db
                finally:
                    if db.in_transaction:
                        db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise store_error(self.path, action, exc) from exc

    def _profile_id(self, db: sqlite3.Connection, name: str, *, create: bool) -> int | None:
        """The id of profile ``name``; created when ``create`` (inside a write transaction)."""
        name = check_name(name, "profile")
        row = db.execute("SELECT id FROM profiles WHERE name = ?", (name,)).fetchone()
        if row is not None:
            return int(row[0])
        if not create:
            return None
        cur = db.execute("INSERT INTO profiles (name, created_at) VALUES (?, ?)", (name, utc_iso()))
        log.info("new profile %r", name)
        return int(cur.lastrowid or 0)


def _rollback(db: sqlite3.Connection) -> None:
    if db.in_transaction:
        try:
            db.rollback()
        except sqlite3.Error:
            log.exception("rollback failed")


def check_name(value: object, what: str) -> str:
    """A non-empty, stripped name (profile, region, device id).

    Raises:
        UsageError: empty or not text.
    """
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{what} must be a non-empty name, not {value!r}")
    return value.strip()


def check_number(
    value: object,
    what: str,
    *,
    positive: bool = False,
    low: float | None = None,
    high: float | None = None,
) -> float:
    """A finite float, optionally > 0 or within [low, high].

    Raises:
        UsageError: not a finite number or out of range.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise UsageError(f"{what} must be a number, not {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise UsageError(f"{what} must be a finite number, not {number}")
    if positive and number <= 0:
        raise UsageError(f"{what} must be more than 0, not {number:g}")
    if (low is not None and number < low) or (high is not None and number > high):
        raise UsageError(f"{what} must be between {low:g} and {high:g}, not {number:g}")
    return number
