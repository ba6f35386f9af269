"""One bridge per store: the first holds a lock; a second is refused with one line naming it.

Two bridges writing one store would take each other's dashboard commands and show one tool's
live state, then the other's, on the same page. The lock is an operating-system file lock on
``bridge.lock`` beside the database, held while :meth:`Bridge.run` runs; the system releases it
when the process ends in any way (SIGKILL and power loss included), so it never goes stale.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import IO

from firmware_bridge.errors import BridgeBusyError, StoreError

LOCK_NAME = "bridge.lock"


class BridgeLock:
    """The lock of one data directory (``store_path``'s folder)."""

    def __init__(self, store_path: Path) -> None:
        self.path = Path(store_path).with_name(LOCK_NAME)
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock, or refuse.

        Raises:
            BridgeBusyError: another bridge holds it (its pid in the message).
            StoreError: the lock file cannot be written.
        """
        try:
            handle = self.path.open("a+", encoding="ascii")
        except OSError as exc:
            raise StoreError(f"cannot write {self.path}: {exc.strerror or exc}") from exc
        if not _try_lock(handle):
            handle.seek(0)
            owner = handle.read().strip() or "?"
            handle.close()
            raise BridgeBusyError(
                f"another bridge (pid {owner}) is already recording into {self.path.parent}: "
                "stop it first, or give this one another --data-dir"
            )
        with contextlib.suppress(OSError):  # the pid is only for the message
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
        self._file = handle

    def release(self) -> None:
        """Let it go (closing the file releases the lock). Idempotent."""
        if self._file is not None:
            self._file.close()
            self._file = None


def _try_lock(handle: IO[str]) -> bool:
    if sys.platform == "win32":
        import msvcrt  # noqa: PLC0415 - Windows only

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl  # noqa: PLC0415 - POSIX only

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True
