"""Reading what SQLite still can from a damaged store file, table by table.

A scan goes in rowid order until a damaged page stops it, then backwards from the end, then
row by row for every rowid an index still knows of. A file whose header is damaged is read
through a copy with a rebuilt header (the damaged file itself is only ever read).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sqlite3
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from firmware_bridge.store.integrity import is_damage
from firmware_bridge.store.salvage_report import TableSaved

log = logging.getLogger(__name__)

_MAGIC = b"SQLite format 3\x00"


class BadText(str):
    """A TEXT value whose bytes are not UTF-8 (junk): never saved."""

    __slots__ = ()


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return BadText(raw.decode("utf-8", "replace"))


class Reader:
    """Reads what SQLite still can from a damaged database, table by table."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.kept: dict[str, TableSaved] = {}

    def tables(self) -> dict[str, set[str]]:
        """The tables the schema names, with their columns."""
        out: dict[str, set[str]] = {}
        names = [
            str(r[0])
            for r in self.db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for name in names:
            try:
                out[name] = {str(r[1]) for r in self.db.execute(f"PRAGMA table_info({name})")}
            except sqlite3.DatabaseError as exc:
                if not is_damage(exc):
                    raise
        return out

    def indexes(self, table: str) -> list[str]:
        """The indexes of a table (names the damaged schema still gives)."""
        try:
            return [str(r[1]) for r in self.db.execute(f"PRAGMA index_list({table})")]
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                raise
            return []

    def _scan(self, sql: str, args: Iterable[Any] = ()) -> Iterator[sqlite3.Row]:
        """Rows of a query until SQLite meets a damaged page (then :class:`BrokenError`)."""
        try:
            cursor = self.db.execute(sql, tuple(args))
            while True:
                row = cursor.fetchone()
                if row is None:
                    return
                yield row
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            if not is_damage(exc):
                raise
            raise BrokenError(str(exc)) from exc

    def index_rowids(self, table: str) -> set[int]:
        """Every rowid the table's indexes still know of (read as far as each index can be)."""
        found: set[int] = set()
        for index in self.indexes(table):
            with contextlib.suppress(BrokenError):
                for row in self._scan(f'SELECT rowid FROM "{table}" INDEXED BY "{index}"'):
                    if isinstance(row[0], int):
                        found.add(row[0])
        return found

    def rows(self, table: str, columns: Iterable[str]) -> Iterator[sqlite3.Row]:
        """Every readable row of a rowid table: forwards, then backwards past a damaged page,
        then one by one for rows its indexes know of. Counted in :attr:`kept`."""
        kept = self.kept.setdefault(table, TableSaved())
        picked = ", ".join(f'"{c}"' for c in columns)
        seen: set[int] = set()
        try:
            for row in self._scan(
                f'SELECT rowid AS _rowid_, {picked} FROM "{table}" ORDER BY rowid'
            ):
                seen.add(row[0])
                yield row
        except BrokenError as exc:
            kept.damaged = True
            log.info("salvage: a scan of %s stopped at a damaged page: %s", table, exc)
            with contextlib.suppress(BrokenError):
                for row in self._scan(
                    f'SELECT rowid AS _rowid_, {picked} FROM "{table}" ORDER BY rowid DESC'
                ):
                    if row[0] in seen:
                        break
                    seen.add(row[0])
                    yield row
        for rowid in sorted(self.index_rowids(table) - seen):
            seen.add(rowid)
            try:
                found = list(
                    self._scan(
                        f'SELECT rowid AS _rowid_, {picked} FROM "{table}" WHERE rowid = ?',
                        (rowid,),
                    )
                )
            except BrokenError:
                found = []
            if found:
                yield found[0]
            else:
                kept.unreadable += 1

    def keyed_rows(self, table: str, columns: Iterable[str], key: str) -> Iterator[sqlite3.Row]:
        """Every readable row of a table without rowids, in key order and then backwards."""
        kept = self.kept.setdefault(table, TableSaved())
        picked = ", ".join(f'"{c}"' for c in columns)
        seen: set[Any] = set()
        try:
            for row in self._scan(f'SELECT {picked} FROM "{table}" ORDER BY {key}'):
                seen.add(tuple(row[k] for k in key.split(", ")))
                yield row
        except BrokenError:
            kept.damaged = True
            with contextlib.suppress(BrokenError):
                desc = ", ".join(f"{k} DESC" for k in key.split(", "))
                for row in self._scan(f'SELECT {picked} FROM "{table}" ORDER BY {desc}'):
                    if tuple(row[k] for k in key.split(", ")) in seen:
                        break
                    yield row

    def count(self, table: str) -> int:
        """How many rows a table holds, as far as it can be counted."""
        try:
            return int(self.db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            if not is_damage(exc):
                raise
            return 0

    def started_at_by_id(self) -> dict[int, str]:
        """Session start times from the sessions_started index (which outlives a damaged
        record page)."""
        found: dict[int, str] = {}
        with contextlib.suppress(BrokenError):
            for row in self._scan(
                "SELECT rowid, started_at FROM sessions INDEXED BY sessions_started"
            ):
                if isinstance(row[0], int) and isinstance(row[1], str):
                    found[row[0]] = str(row[1])
        return found

    def sequences(self) -> dict[str, int]:
        """The highest id each AUTOINCREMENT table ever gave (so none is given twice)."""
        found: dict[str, int] = {}
        with contextlib.suppress(BrokenError):
            for name, seq in self._scan("SELECT name, seq FROM sqlite_sequence"):
                if isinstance(name, str) and isinstance(seq, int):
                    found[name] = max(found.get(name, 0), seq)
        return found


class BrokenError(Exception):
    """A scan met a damaged page."""


def open_source(path: Path) -> sqlite3.Connection:
    uri = f"{path.resolve().as_uri()}?mode=ro"
    db = sqlite3.connect(uri, uri=True, isolation_level=None)
    db.row_factory = sqlite3.Row
    db.text_factory = _text
    # SQLite refuses a file shorter than its header says unless this is on; then it reads the
    # pages that are there (nothing is written: the connection is read-only).
    db.execute("PRAGMA writable_schema = ON")
    return db


def readable(db: sqlite3.Connection) -> bool:
    try:
        names = {str(r[0]) for r in db.execute("SELECT name FROM sqlite_master")}
    except (sqlite3.DatabaseError, UnicodeDecodeError):
        return False
    return "sessions" in names or "profiles" in names


def plain_header(page_size: int, pages: int, wal: bool) -> bytes:
    """A plain SQLite header for a store of ``pages`` pages of ``page_size`` bytes."""
    version = 2 if wal else 1
    head = bytearray(100)
    head[0:16] = _MAGIC
    head[16:18] = struct.pack(">H", 1 if page_size == 65536 else page_size)
    head[18], head[19], head[20] = version, version, 0
    head[21:24] = b"\x40\x20\x20"
    head[24:28] = struct.pack(">I", 1)  # change counter
    head[28:32] = struct.pack(">I", pages)
    head[40:44] = struct.pack(">I", 1)  # schema cookie
    head[44:48] = struct.pack(">I", 4)  # schema format
    head[56:60] = struct.pack(">I", 1)  # UTF-8
    head[92:96] = struct.pack(">I", 1)  # valid for change 1
    head[96:100] = struct.pack(">I", sqlite3.sqlite_version_info[0] * 1_000_000)
    return bytes(head)


def rebuilt_copy(path: Path) -> Path | None:
    """A copy of a header-damaged file with a plain header that SQLite reads; None if no page
    size makes its table of contents readable. The freelist is forgotten (harmless)."""
    size = path.stat().st_size
    wal = Path(f"{path}-wal")
    copy = path.with_name(path.name + ".salvage-copy")
    shutil.copyfile(path, copy)
    if wal.exists():
        shutil.copyfile(wal, Path(f"{copy}-wal"))
    for page_size in (4096, 1024, 2048, 8192, 16384, 32768, 65536, 512):
        if size % page_size:
            continue
        with copy.open("r+b") as fh:
            fh.write(plain_header(page_size, size // page_size, wal.exists()))
        db = open_source(copy)
        try:
            if readable(db):
                return copy
        finally:
            db.close()
    remove_files(copy)
    return None


def remove_files(path: Path) -> None:
    for p in (path, *(Path(f"{path}{s}") for s in ("-wal", "-shm"))):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
