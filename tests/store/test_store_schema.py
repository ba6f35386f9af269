"""Opening, pragmas, schema versions and migrations of the store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from firmware_bridge.errors import StoreError
from firmware_bridge.store import DB_NAME, SCHEMA_VERSION, Store
from firmware_bridge.store.schema import MIGRATIONS, migrate, schema_version, split_statements


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_fresh_store_is_migrated_wal_and_has_default_profile(tmp_path: Path) -> None:
    data_dir = tmp_path / "new" / "dir"
    with Store.open(data_dir) as store:
        assert store.path == data_dir / DB_NAME
        assert [p["name"] for p in store.list_profiles()] == ["default"]
        db = store._conn()  # white-box: the connection's pragmas
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    raw = _raw(data_dir / DB_NAME)
    try:
        assert schema_version(raw, "test") == SCHEMA_VERSION
    finally:
        raw.close()


def test_reopen_keeps_data_and_does_not_migrate_again(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        store.set_setting("units", "kPa")
        sid = store.begin_session(source="sim://", profile="ann", region=None, limit_n=None)
        store.end_session(sid)
    with Store.open(tmp_path) as store:
        assert store.get_setting("units") == "kPa"
        assert store.session_summary(sid)["profile"] == "ann"
        assert [p["name"] for p in store.list_profiles()] == ["default", "ann"]


def test_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    raw = _raw(tmp_path / DB_NAME)
    raw.execute(
        "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),)
    )
    raw.close()
    with pytest.raises(StoreError, match=r"schema version \d+, newer than this PressureGuard"):
        Store.open(tmp_path)


def test_a_later_migration_is_applied_once_in_order(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    extra = (*MIGRATIONS, "-- v2\nCREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n")
    raw = _raw(tmp_path / DB_NAME)
    try:
        assert migrate(raw, "test", extra) == SCHEMA_VERSION + 1
        assert migrate(raw, "test", extra) == SCHEMA_VERSION + 1  # nothing left to do
        raw.execute("INSERT INTO notes (body) VALUES ('x')")
        assert schema_version(raw, "test") == SCHEMA_VERSION + 1
    finally:
        raw.close()
    with pytest.raises(StoreError, match="newer"):  # the shipped code does not know v2
        Store.open(tmp_path)


def test_a_failing_migration_changes_nothing(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    broken = (*MIGRATIONS, "CREATE TABLE ok_table (x);\nCREATE TABLE broken (;\n")
    raw = _raw(tmp_path / DB_NAME)
    try:
        with pytest.raises(sqlite3.Error):
            migrate(raw, "test", broken)
        assert schema_version(raw, "test") == SCHEMA_VERSION
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}
        assert "ok_table" not in tables
    finally:
        raw.close()


def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    raw = _raw(path)
    raw.execute("CREATE TABLE something (x)")
    raw.close()
    with pytest.raises(StoreError, match="not a PressureGuard store"):
        Store(path)


def test_garbage_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a readable PressureGuard database"):
        Store(path)


def test_data_dir_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create the data directory"):
        Store.open(blocker / "data")


def test_closed_store_raises_store_error(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    store.close()
    store.close()  # twice is fine
    assert store.closed
    with pytest.raises(StoreError, match="closed"):
        store.get_setting("x")


def test_split_statements_keeps_triggers_and_skips_comments() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE a (x);
    CREATE TRIGGER t AFTER INSERT ON a BEGIN
        UPDATE a SET x = 1;
    END;
    -- trailing comment
    """
    statements = split_statements(script)
    assert len(statements) == 2
    assert statements[1].rstrip().endswith("END;")
    with pytest.raises(ValueError, match="incomplete"):
        split_statements("CREATE TABLE a (x)")


def test_a_version_2_store_is_migrated_to_3_keeping_its_data(tmp_path: Path) -> None:
    # a store written by the release before pain-threshold measurements existed
    raw = _raw(tmp_path / DB_NAME)
    try:
        assert migrate(raw, "test", MIGRATIONS[:2]) == 2
        raw.execute(
            "INSERT INTO profiles (name, created_at, settings)"
            " VALUES ('ann', '2024-05-01T09:00:00.000+00:00', '{\"sensitive\": true}')"
        )
        raw.execute(
            "INSERT INTO limits (profile_id, region, limit_n, source, set_at)"
            " VALUES (2, 'forearm:left', 12.5, 'manual', '2024-05-01T09:01:00.000+00:00')"
        )
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}
        assert "ppt_measurements" not in tables
    finally:
        raw.close()

    with Store.open(tmp_path) as store:
        limit = store.current_limit("ann", "forearm:left")
        assert limit is not None and limit["limit_n"] == 12.5
        assert store.profile_settings("ann") == {"sensitive": True}
        trials = [{"accepted": True, "reason": "ok", "ppt_n": 11.0}] * 3
        ppt_id = store.add_ppt(
            "ann", "forearm:left", ppt_n=11.0, trials=trials, n=3, attempts=3, fraction=1.0
        )
        store.link_ppt_limit(ppt_id, int(limit["id"]))
        assert store.ppt_history("ann")[0]["limit_id"] == limit["id"]
    raw = _raw(tmp_path / DB_NAME)
    try:
        assert schema_version(raw, "test") == SCHEMA_VERSION >= 3
    finally:
        raw.close()
