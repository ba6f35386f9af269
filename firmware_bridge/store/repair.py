"""What the user can do about a store: check it, repair a damaged one, or reset it.

These are the actions behind ``pressureguard store check|repair|reset`` and the dashboard's
damaged-store page. Repair and reset are the user's consent: nothing else ever replaces a
damaged store (see :mod:`.damage`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from firmware_bridge.errors import StoreDamagedError, StoreError
from firmware_bridge.store import damage
from firmware_bridge.store.integrity import CheckReport
from firmware_bridge.store.salvage import SalvageReport, salvage
from firmware_bridge.store.store import DB_NAME, Store

log = logging.getLogger(__name__)


@dataclass
class Damaged:
    """A store found damaged: where it was kept, and why.

    Attributes:
        problem: what is wrong.
        kept_at: the damaged file, kept aside (None: still in place, in use elsewhere).
        message: the one line the user is told.
    """

    problem: str
    kept_at: Path | None
    message: str


def db_path(data_dir: Path) -> Path:
    """The store's database file in a data directory."""
    return Path(data_dir) / DB_NAME


def damaged(data_dir: Path) -> Damaged | None:
    """The damage found earlier and not yet repaired or reset (its note), if any."""
    path = db_path(data_dir)
    note = damage.read_marker(path)
    if note is None:
        return None
    exc = damage.error_from_marker(path, note)
    return Damaged(problem=exc.problem, kept_at=exc.kept_at, message=str(exc))


def check_store(
    data_dir: Path, *, full: bool = False, progress: Callable[[int, int], None] | None = None
) -> CheckReport:
    """Check the store; a damaged one is moved aside (as when any command opens it).

    Args:
        data_dir: the data directory.
        full: check every byte (``PRAGMA integrity_check`` and every chunk's checksums), not
            only what opening checks.
        progress: called with (chunks checked, chunks in all) during a full check.

    Returns:
        What the check found (no problems: the store is whole).

    Raises:
        StoreDamagedError: the store is damaged (it was kept aside where possible), or was
            found damaged before and not yet repaired or reset.
        StoreError: the store cannot be opened for another reason.
    """
    path = db_path(data_dir)
    if not path.exists() and damage.read_marker(path) is None:
        raise StoreError(f"no store in {data_dir} yet: nothing to check")
    with Store.open(data_dir) as store:
        report = store.check(full=full, progress=progress)
    if report.problems:
        raise damage.keep_aside(path, report.problems[0], report.problems)
    return report


def repair_store(data_dir: Path) -> SalvageReport | None:
    """Save what can be read from a damaged store into a new one (the user asked for it).

    A store not yet known to be damaged is checked first, every byte of it; an intact one is
    left alone.

    Returns:
        What was saved and lost; None when the store is intact (nothing was done).

    Raises:
        StoreDamagedError: the damaged file is still in use by another PressureGuard program
            (close it first).
        StoreError: the damaged file is gone, or the new store could not be written.
    """
    path = db_path(data_dir)
    note = damage.read_marker(path)
    if note is None:
        try:  # every byte: the user asked, and what opening checks may have missed it
            check_store(data_dir, full=True)
        except StoreDamagedError:
            note = damage.read_marker(path)
            if note is None:  # found damaged but left in place (in use)
                raise
        else:
            return None
    exc = damage.error_from_marker(path, note)
    kept = exc.kept_at
    if kept is None or not kept.exists():
        raise StoreError(
            f"the damaged file {kept or '(unknown)'} is gone, so nothing can be saved from it;"
            " run `pressureguard store reset` to start an empty store"
        )
    if path.exists():
        raise StoreError(
            f"{path} exists beside the damaged file's note; move it away, then run"
            " `pressureguard store repair` again"
        )
    for suffix in damage.SUFFIXES:  # left by a process that had the old file open
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    try:
        report = salvage(kept, path)
    except (OSError, sqlite3.Error) as failed:
        why = failed.strerror if isinstance(failed, OSError) and failed.strerror else failed
        raise StoreError(
            f"could not write the new store {path}: {why} (free some disk space and run"
            f" `pressureguard store repair` again); the damaged file stays at {kept}"
        ) from failed
    _write_report(kept, report)
    damage.clear_marker(path)
    log.info("store %s repaired from %s", path, kept)
    return report


def _write_report(kept: Path, report: SalvageReport) -> None:
    """Keep the repair's report beside the damaged file (what was saved and lost)."""
    target = kept.with_name(kept.name + ".repair.json")
    try:
        target.write_text(json.dumps(report.as_dict(), indent=2), encoding="utf-8")
    except OSError as exc:
        log.warning("could not write the repair report %s: %s", target, exc)


def reset_store(data_dir: Path) -> Path | None:
    """Start an empty store in place of a damaged one (the user asked for it).

    Only a store found damaged can be reset: an intact one is never emptied here.

    Returns:
        Where the damaged file stays (None when its note did not say).

    Raises:
        StoreError: the store is not known to be damaged (run ``store check`` first).
    """
    path = db_path(data_dir)
    note = damage.read_marker(path)
    if note is None:
        raise StoreError(
            f"the store {path} is not known to be damaged, so it is not reset; run"
            " `pressureguard store check` first"
        )
    kept = damage.kept_at(path, note)
    if path.exists():
        raise StoreError(
            f"{path} exists beside the damaged file's note; move it away, then run"
            " `pressureguard store reset` again"
        )
    damage.clear_marker(path)
    Store.open(data_dir).close()  # the empty store, now, so the user sees it works
    log.info("store %s reset; the damaged file stays at %s", path, kept)
    return kept
