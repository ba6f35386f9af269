"""Which file an import reads, and which reader reads it (see ``import_file``).

The rules for the path (``docs/exchange.md``, "Paths and links"): it must name a regular file,
directly or through symbolic links; a link is followed, and the session records where it led
(``meta.imported_from.resolved``). A dangling link, a directory, a device, a pipe or socket is
refused in one line saying what the path is. Only the size the file had when it was opened is
read, so a file that grows meanwhile (or a device that never ends) cannot make an import run
forever. The format is recognised by content first (Parquet's ``PAR1``, JSON's ``{``), then by
the suffix.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path

from firmware_bridge.errors import NotFoundError, UsageError
from firmware_bridge.store._import_csv import import_csv
from firmware_bridge.store._import_json import import_json
from firmware_bridge.store._import_parquet import import_parquet
from firmware_bridge.store._importers import remove_unfinished_imports
from firmware_bridge.store.formats import shown_name
from firmware_bridge.store.store import Store

log = logging.getLogger(__name__)

_READERS = {"csv": import_csv, "json": import_json, "parquet": import_parquet}


def _what(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def resolve(path: Path) -> tuple[Path, os.stat_result]:
    """The regular file a path names (following links) and its status.

    Raises:
        NotFoundError: nothing there, or a link to nothing.
        UsageError: not a regular file.
    """
    name = shown_name(str(path))
    linked = False
    real = path
    try:  # a name the system cannot take (too long, say) fails here, not only at stat()
        linked = path.is_symlink()
        real = path.resolve()
        info = real.stat()
    except FileNotFoundError:
        if linked:
            raise NotFoundError(
                f"{name} is a symbolic link to {shown_name(str(real))}, which does not exist"
            ) from None
        raise NotFoundError(f"no such file: {name}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        what = _what(info.st_mode)
        if linked:
            raise UsageError(f"{name} leads to {shown_name(str(real))}, {what}, not a file")
        raise UsageError(f"{name} is {what}, not a file")
    return real, info


def sniff(head: bytes, suffix: str) -> str:
    """The format of a file from its first bytes and its suffix."""
    if head.startswith(b"PAR1"):
        return "parquet"
    start = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if start.startswith(b"{") or suffix == ".json":
        return "json"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    return "csv"


def import_path(
    store: Store, path: Path, progress: Callable[[int, int], None] | None = None
) -> int:
    """Import the file at ``path`` (see ``exchange.import_file``)."""
    real, info = resolve(path)
    name = shown_name(path.name)
    if info.st_size == 0:
        raise UsageError(f"{name} is empty")
    removed = remove_unfinished_imports(store)
    if removed:
        log.info("removed %d session(s) left half-imported", len(removed))
    try:
        fh = real.open("rb")
    except OSError as exc:
        raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from None
    with fh:
        kind = sniff(fh.read(64), path.suffix.lower())
        origin: dict[str, object] = {"file": name, "format": kind}
        if real != path.absolute():
            origin["resolved"] = str(real)
            log.info("%s resolves to %s", name, real)
        if progress is not None:
            progress(0, info.st_size)
        return _READERS[kind](store, fh, info.st_size, origin, progress)
