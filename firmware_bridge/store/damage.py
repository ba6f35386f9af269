"""A damaged store: kept aside with a timestamp, and a note that keeps the store shut.

When a store is found damaged (:mod:`.integrity`), its file and its ``-wal``/``-shm`` are moved
aside as ``pressureguard-YYYYmmdd-HHMMSS.damaged.sqlite`` beside it, and a note,
``pressureguard.db-damaged.json``, records where and why. While the note is there no Store
opens the directory: nothing starts an empty store in its place until the user says so, with
``pressureguard store repair`` (save what can be read into a new store, :mod:`.salvage`) or
``pressureguard store reset`` (an empty one). The damaged file is never written to or deleted.

A file another PressureGuard process has open is left in place (moving it under a running
recorder would split its writes): the user is asked to close PressureGuard and check again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from firmware_bridge.errors import StoreDamagedError

log = logging.getLogger(__name__)

#: Where SQLite's unix VFS keeps the byte every connection to a WAL database holds a shared
#: lock on, in the ``-shm`` file: a process that can lock it exclusively is the only user.
_SHM_DMS_BYTE = 128
#: The store's companion files, moved along with it.
SUFFIXES = ("-wal", "-shm")
REPAIR_HINT = (
    "run `pressureguard store repair` to save what can be read into a new store, or"
    " `pressureguard store reset` to start an empty one"
)

_open_lock = threading.Lock()
_open_here: Counter[Path] = Counter()


def register_open(path: Path) -> None:
    """Count a connection this process holds on ``path`` (never moved while one is open)."""
    with _open_lock:
        _open_here[_key(path)] += 1


def register_closed(path: Path) -> None:
    """Forget a connection counted by :func:`register_open`."""
    with _open_lock:
        key = _key(path)
        _open_here[key] -= 1
        if _open_here[key] <= 0:
            del _open_here[key]


def _key(path: Path) -> Path:
    return Path(os.path.abspath(path))


def marker_path(db_path: Path) -> Path:
    """The note that says a store was found damaged: ``pressureguard.db-damaged.json``."""
    return db_path.with_name(f"{db_path.name}-damaged.json")


def read_marker(db_path: Path) -> dict[str, Any] | None:
    """The damage note of a store, or None when there is none.

    A note that cannot be read still counts: the store stays shut (its ``problem`` says so).
    """
    marker = marker_path(db_path)
    try:
        text = marker.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        return {"problem": f"was found damaged (its note {marker} is unreadable: {exc.strerror})"}
    try:
        note = json.loads(text)
    except ValueError:
        note = None
    if not isinstance(note, dict):
        return {"problem": f"was found damaged (its note {marker} is unreadable)"}
    return note


def kept_at(db_path: Path, note: dict[str, Any]) -> Path | None:
    """Where the note says the damaged file was kept."""
    name = note.get("kept_as")
    return db_path.with_name(name) if isinstance(name, str) and name else None


def error_from_marker(db_path: Path, note: dict[str, Any]) -> StoreDamagedError:
    """The error every open of a store with a damage note raises."""
    problem = str(note.get("problem") or "was found damaged")
    kept = kept_at(db_path, note)
    text = message(db_path, problem, kept)
    if db_path.exists():  # someone put a file back: it is theirs to vouch for
        text += (
            f" (a file is back in its place: if it is a good copy, delete {marker_path(db_path)})"
        )
    return StoreDamagedError(text, path=db_path, problem=problem, kept_at=kept)


def message(db_path: Path, problem: str, kept: Path | None, *, in_use: bool = False) -> str:
    """The one line a user is told about a damaged store."""
    if kept is not None:
        return (
            f"store damaged: {db_path} {problem}; the damaged file is kept as {kept}; {REPAIR_HINT}"
        )
    if in_use:
        return (
            f"store damaged: {db_path} {problem}; another PressureGuard program has it open, so"
            " it was left in place: close PressureGuard everywhere (recording, dashboard) and"
            " run `pressureguard store check`"
        )
    return (
        f"store damaged: {db_path} {problem}; it could not be moved aside: close PressureGuard"
        " and run `pressureguard store check`"
    )


def aside_name(db_path: Path, when: datetime | None = None) -> Path:
    """A free name beside the store for its damaged file:
    ``pressureguard-YYYYmmdd-HHMMSS.damaged.sqlite`` (``-2``, ``-3`` … if taken)."""
    stamp = (when or datetime.now()).strftime("%Y%m%d-%H%M%S")
    stem = db_path.stem
    for k in range(1, 1000):
        extra = "" if k == 1 else f"-{k}"
        candidate = db_path.with_name(f"{stem}-{stamp}{extra}.damaged.sqlite")
        taken = [candidate, *(Path(f"{candidate}{s}") for s in SUFFIXES)]
        if not any(p.exists() for p in taken):
            return candidate
    raise FileExistsError(f"no free name for the damaged copy of {db_path}")


@contextlib.contextmanager
def sole_user(db_path: Path) -> Iterator[bool]:
    """Whether no other connection has the store open; while True, new ones are kept out.

    Another process's SQLite connection holds a shared lock on one byte of the ``-shm`` file
    for as long as it is open; this takes that byte exclusively (POSIX). On other systems,
    moving a file another program has open fails by itself.
    """
    with _open_lock:
        open_here = bool(_open_here.get(_key(db_path)))
    if open_here:  # a Store of this process has it open
        yield False
        return
    shm = Path(f"{db_path}-shm")
    if os.name != "posix" or not shm.exists():
        yield True
        return
    import fcntl  # noqa: PLC0415 - POSIX only

    try:
        fd = os.open(shm, os.O_RDWR)
    except FileNotFoundError:
        yield True
        return
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SHM_DMS_BYTE)
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # drops the lock


def keep_aside(db_path: Path, problem: str, problems: list[str]) -> StoreDamagedError:
    """Move a damaged store aside, leave the note, and return the error to raise.

    Args:
        db_path: the store's database file (no connection of this process may be open on it).
        problem: what is wrong, as told to the user.
        problems: everything the check found.

    Returns:
        The :class:`StoreDamagedError` telling the user where the file is and what to do.
    """
    note = read_marker(db_path)
    if note is not None:  # another process got there first
        return error_from_marker(db_path, note)
    if not db_path.exists():
        return StoreDamagedError(
            message(db_path, problem, None), path=db_path, problem=problem, kept_at=None
        )
    with sole_user(db_path) as alone:
        if not alone:
            log.info("store %s is damaged (%s) but in use: left in place", db_path, problem)
            return StoreDamagedError(
                message(db_path, problem, None, in_use=True),
                path=db_path,
                problem=problem,
                kept_at=None,
            )
        try:
            aside = aside_name(db_path)
            # The note first, and only one process's: one that opens the directory meanwhile
            # sees it (never a missing file it would start afresh), and when several found
            # the damage at once the others stop here and tell the first one's story.
            claimed = claim_marker(db_path, aside, problem, problems)
        except OSError as exc:
            log.info("store %s is damaged; cannot write its note: %s", db_path, exc)
            return StoreDamagedError(
                message(db_path, problem, None), path=db_path, problem=problem, kept_at=None
            )
        if not claimed:
            return error_from_marker(db_path, read_marker(db_path) or {"problem": problem})
        try:
            os.replace(db_path, aside)
        except OSError as exc:
            log.info("store %s is damaged; cannot move it aside: %s", db_path, exc)
            with contextlib.suppress(OSError):
                marker_path(db_path).unlink()  # ours: nothing was moved
            return StoreDamagedError(
                message(db_path, problem, None), path=db_path, problem=problem, kept_at=None
            )
        for suffix in SUFFIXES:
            companion = Path(f"{db_path}{suffix}")
            try:
                if companion.exists():
                    os.replace(companion, Path(f"{aside}{suffix}"))
            except OSError as exc:  # the main file is safe; say so in the log
                log.warning("could not move %s beside %s: %s", companion, aside, exc)
    log.info("store %s is damaged (%s); kept as %s", db_path, problem, aside)
    return StoreDamagedError(
        message(db_path, problem, aside), path=db_path, problem=problem, kept_at=aside
    )


def claim_marker(db_path: Path, aside: Path, problem: str, problems: list[str]) -> bool:
    """Create the damage note unless there is one; whole or not at all.

    Returns:
        Whether this call created it (False: another process's note is there).

    Raises:
        OSError: the note could not be written.
    """
    note = {
        "kept_as": aside.name,
        "problem": problem,
        "problems": problems,
        "found_at": datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    text = json.dumps(note, indent=2)
    marker = marker_path(db_path)
    tmp = marker.with_name(f"{marker.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    try:
        os.link(tmp, marker)  # atomic, and fails when the note exists
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links: create-exclusive, then write
        try:
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    finally:
        tmp.unlink(missing_ok=True)
    return True


def clear_marker(db_path: Path) -> None:
    """Remove the damage note: the store opens again (fresh, or the repaired one)."""
    with contextlib.suppress(FileNotFoundError):
        marker_path(db_path).unlink()
