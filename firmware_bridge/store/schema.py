"""The store's SQL schema as an ordered list of migrations, and the code that applies them.

Migration *n* (1-based) turns a database at schema version *n − 1* into version *n*. Released
migrations are never edited: a change is a new script appended to :data:`MIGRATIONS`. All missing
migrations run in one ``BEGIN IMMEDIATE`` transaction, so two processes opening a new database at
once cannot both apply them, and a failed migration leaves the file as it was.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence

from firmware_bridge.errors import StoreError

log = logging.getLogger(__name__)

# Times are ISO-8601 UTC strings written by the store (``2024-05-01T09:30:00.000+00:00``), so they
# sort as text. JSON columns hold objects written with ``allow_nan=False``.
_V1 = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE profiles (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    settings   TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO profiles (name, created_at)
VALUES ('default', strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'));

-- Comfort limits keep their history: the newest row per (profile, region, tip) is current.
-- tip '' means "any tip".
CREATE TABLE limits (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    region     TEXT NOT NULL,
    tip        TEXT NOT NULL DEFAULT '',
    limit_n    REAL NOT NULL CHECK (limit_n > 0),
    source     TEXT NOT NULL CHECK (source IN ('default', 'manual', 'measured')),
    set_at     TEXT NOT NULL,
    note       TEXT
);
CREATE INDEX limits_current ON limits (profile_id, region, tip, id);

CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,  -- user-visible; never reused
    started_at    TEXT NOT NULL,
    ended_at      TEXT,
    source        TEXT NOT NULL,
    profile_id    INTEGER NOT NULL REFERENCES profiles(id),
    region        TEXT,
    limit_n       REAL,
    device_id     TEXT,
    firmware      TEXT,
    calibration   TEXT,
    tip_area_cm2  REAL,
    rate_hz       REAL,
    tare_n        REAL,
    status        TEXT NOT NULL DEFAULT 'recording'
                  CHECK (status IN ('recording', 'ended', 'recovered')),
    end_reason    TEXT,
    recorder_pid  INTEGER,
    recorder_host TEXT,          -- hostname/boot id: a pid is only meaningful on the same boot
    heartbeat_at  TEXT,
    pain_before   REAL CHECK (pain_before BETWEEN 0 AND 10),
    pain_after    REAL CHECK (pain_after BETWEEN 0 AND 10),
    note          TEXT,
    -- Kept by the store from the chunks it writes, in the same transaction, so a recovered
    -- session's numbers match its samples.
    n_samples     INTEGER NOT NULL DEFAULT 0,
    t_first       REAL,
    t_last        REAL,
    peak_n        REAL,
    chunk_span_s  REAL,          -- longest t1 - t0 of a chunk: bounds window queries
    counters      TEXT NOT NULL DEFAULT '{}',  -- set by the bridge: time over limit, frames ...
    meta          TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX sessions_started ON sessions (started_at);
CREATE INDEX sessions_status ON sessions (status);

-- Small columns first so the window index and t0/t1 checks never touch the blob pages.
CREATE TABLE sample_chunks (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    chunk_no   INTEGER NOT NULL,
    t0         REAL NOT NULL,
    t1         REAL NOT NULL,
    n          INTEGER NOT NULL CHECK (n > 0),
    t_s        BLOB NOT NULL,   -- float64 little-endian
    raw        BLOB NOT NULL,
    force_n    BLOB NOT NULL,
    filtered_n BLOB NOT NULL,
    zone       BLOB NOT NULL,   -- int8
    PRIMARY KEY (session_id, chunk_no)
);
-- Window reads: chunks with t1 in [from, to + chunk_span_s], t0 checked in the index too.
CREATE INDEX sample_chunks_window ON sample_chunks (session_id, t1, t0);

CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    t_s        REAL NOT NULL,
    kind       TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_session ON events (session_id, t_s);
CREATE INDEX events_kind ON events (kind, session_id);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Device calibrations keep their history: the newest row per device is current.
CREATE TABLE calibrations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id     TEXT NOT NULL,
    counts_per_n  REAL NOT NULL,
    offset_counts REAL NOT NULL,
    created_at    TEXT NOT NULL,
    fit           TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX calibrations_device ON calibrations (device_id, id);

-- Dashboard → bridge requests (start, stop, tare, region, limit, source).
CREATE TABLE commands (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    kind       TEXT NOT NULL,
    args       TEXT NOT NULL DEFAULT '{}',
    taken_at   TEXT,
    done_at    TEXT,
    result     TEXT
);
CREATE INDEX commands_pending ON commands (taken_at, id);

-- Status that is not per sample (connection, battery, measured rate), one row per recorder.
CREATE TABLE live (
    recorder_host TEXT NOT NULL,
    recorder_pid  INTEGER NOT NULL,
    session_id    INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
    updated_at    TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (recorder_host, recorder_pid)
);
"""

_V2 = """
-- The last minute of judged samples, whether or not a session is being recorded: what the live
-- view draws. The bridge appends a chunk per flush and prunes old ones.
CREATE TABLE live_samples (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    recorder_pid INTEGER NOT NULL,
    session_id   INTEGER,
    written_at   REAL NOT NULL,
    t0           REAL NOT NULL,
    t1           REAL NOT NULL,
    n            INTEGER NOT NULL,
    t_s          BLOB NOT NULL,
    raw          BLOB NOT NULL,
    force_n      BLOB NOT NULL,
    filtered_n   BLOB NOT NULL,
    zone         BLOB NOT NULL
);
CREATE INDEX live_samples_written ON live_samples (written_at);
"""

_V3 = """
-- Pressure-pain-threshold measurements, one row per complete measurement (3 accepted trials),
-- kept for progress tracking: never overwritten, the newest per (profile, region, tip) is latest.
-- tip '' means "any tip", as in limits. trials is the JSON list of every trial made, accepted or
-- not. limit_id is the comfort limit the user accepted from this measurement, if any.
CREATE TABLE ppt_measurements (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    profile_id   INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    region       TEXT NOT NULL,
    tip          TEXT NOT NULL DEFAULT '',
    tip_area_cm2 REAL CHECK (tip_area_cm2 IS NULL OR tip_area_cm2 > 0),
    measured_at  TEXT NOT NULL,
    ppt_n        REAL NOT NULL CHECK (ppt_n > 0),
    mean_2_3_n   REAL,
    sd_n         REAL,
    n            INTEGER NOT NULL CHECK (n >= 1),
    attempts     INTEGER NOT NULL CHECK (attempts >= n),
    fraction     REAL NOT NULL CHECK (fraction > 0 AND fraction <= 1),
    trials       TEXT NOT NULL DEFAULT '[]',
    limit_id     INTEGER REFERENCES limits(id) ON DELETE SET NULL,
    note         TEXT
);
CREATE INDEX ppt_measurements_history ON ppt_measurements (profile_id, region, tip, id);
"""

_V4 = """
-- Set when a session's samples were merged into large chunks after it ended (reads of a long
-- session then touch ~100 rows instead of ~150,000). NULL: not yet; sessions recorded before this
-- version are compacted in the background the next time a bridge starts.
ALTER TABLE sessions ADD COLUMN compacted_at TEXT;
-- The sessions list filtered by profile, newest first.
CREATE INDEX sessions_profile ON sessions (profile_id, started_at);

-- The symptom journal: at most one entry per profile and local calendar day. Scales are 0-10:
-- pain and stiffness (morning stiffness) 0 = none, 10 = worst; sleep_quality and
-- activity_tolerance 0 = worst, 10 = best. NULL = not recorded that day. triggers is a JSON list
-- of short texts ("long drive").
CREATE TABLE journal (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    profile_id         INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    day                TEXT NOT NULL
                       CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    pain               REAL CHECK (pain BETWEEN 0 AND 10),
    stiffness          REAL CHECK (stiffness BETWEEN 0 AND 10),
    sleep_quality      REAL CHECK (sleep_quality BETWEEN 0 AND 10),
    activity_tolerance REAL CHECK (activity_tolerance BETWEEN 0 AND 10),
    triggers           TEXT NOT NULL DEFAULT '[]',
    note               TEXT,
    updated_at         TEXT NOT NULL,
    UNIQUE (profile_id, day)
);
"""

_V5 = """
-- The tool tip chosen for a session (a key of calibration.tips.TIPS); NULL: none chosen, the
-- tool's own tip_area_cm2 (from its INFO frame) if it reports one. Pressure is shown only for a
-- known flat tip.
ALTER TABLE sessions ADD COLUMN tip TEXT;
-- The review's statistics of an ended session (review.stats.SessionStats as JSON), kept so the
-- History page need not pass over millions of samples on each first visit. NULL: not computed
-- yet; cleared whenever the samples or the limit could have changed.
ALTER TABLE sessions ADD COLUMN stats TEXT;
"""

_V6 = """
-- What a damaged page is told apart by (see firmware_bridge.store.chunk_sums): per sample chunk,
-- written in the same transaction as the chunk, its largest force (so a session's kept peak is
-- checked without reading a sample) and six little-endian CRC-32s: of (n, t0, t1) and of each
-- sample column. A table of its own, so checking it never walks the chunks' blob pages. Chunks
-- written before this version have no row here: they are checked by their shape only.
CREATE TABLE chunk_sums (
    session_id INTEGER NOT NULL,
    chunk_no   INTEGER NOT NULL,
    peak_n     REAL,
    crc        BLOB NOT NULL,
    PRIMARY KEY (session_id, chunk_no),
    FOREIGN KEY (session_id, chunk_no) REFERENCES sample_chunks (session_id, chunk_no)
        ON DELETE CASCADE
) WITHOUT ROWID;
"""

#: Ordered migration scripts; index 0 creates schema version 1.
MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5, _V6)
#: The schema version this code writes.
SCHEMA_VERSION = len(MIGRATIONS)


def split_statements(script: str) -> list[str]:
    """Split an SQL script into complete statements (``executescript`` would commit on its own).

    Args:
        script: SQL text with ``;``-terminated statements; ``--`` comments are allowed.

    Returns:
        The statements in order, without empty ones.
    """
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in buffer.splitlines()
    ):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {buffer.strip()!r}")
    return statements


def schema_version(db: sqlite3.Connection, where: str) -> int:
    """The schema version recorded in a database; 0 for an empty file.

    Raises:
        StoreError: the file holds tables but is not a PressureGuard store.
    """
    has_meta = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()
    if has_meta is None:
        other = db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "LIMIT 1"
        ).fetchone()
        if other is not None:
            raise StoreError(f"{where} is an SQLite file but not a PressureGuard store")
        return 0
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    try:
        return int(row[0]) if row is not None else 0
    except (TypeError, ValueError):
        raise StoreError(f"{where} has an unreadable schema version {row[0]!r}") from None


def _refuse_newer(version: int, known: int, where: str) -> None:
    if version > known:
        raise StoreError(
            f"{where} uses store schema version {version}, newer than this PressureGuard "
            f"understands ({known}); update PressureGuard to open it"
        )


def migrate(db: sqlite3.Connection, where: str, migrations: Sequence[str] = MIGRATIONS) -> int:
    """Bring a database up to the newest schema version.

    Args:
        db: a connection in autocommit mode (``isolation_level=None``), outside a transaction.
        where: how to name the database in messages (its path).
        migrations: the scripts to apply; the default is the shipped list (tests pass longer ones).

    Returns:
        The schema version after migrating.

    Raises:
        StoreError: the database is newer than ``migrations`` or not a PressureGuard store.
        sqlite3.Error: SQLite failed; nothing was changed.
    """
    known = len(migrations)
    current = schema_version(db, where)
    _refuse_newer(current, known, where)
    if current == known:
        return current
    db.execute("BEGIN IMMEDIATE")
    try:
        # Re-read under the write lock: another process may have migrated in the meantime.
        current = schema_version(db, where)
        _refuse_newer(current, known, where)
        for version in range(current + 1, known + 1):
            for statement in split_statements(migrations[version - 1]):
                db.execute(statement)
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                (str(version),),
            )
            log.info("store %s migrated to schema version %d", where, version)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.rollback()
        raise
    return known
