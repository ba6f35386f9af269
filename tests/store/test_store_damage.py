"""A damaged store is found on open, kept aside, and repaired only on request, losing nothing
that was readable (issue 15, item 3)."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from damage_helpers import (
    DATA_TABLES,
    Snapshot,
    build_store,
    chunk_keys,
    damage_header,
    damage_page,
    page_size,
    pages_of,
    readable_rows,
    same_samples,
    snapshot,
    table_rows,
    truncate,
)

from firmware_bridge.errors import StoreDamagedError, StoreError
from firmware_bridge.store import DB_NAME, Store, integrity
from firmware_bridge.store.damage import marker_path
from firmware_bridge.store.repair import check_store, damaged, repair_store, reset_store
from firmware_bridge.store.schema import MIGRATIONS

Rows = dict[str, dict[int, tuple[Any, ...]]]
DAMAGES: dict[str, Callable[[Path], object]] = {
    "truncated": truncate,
    "header": damage_header,
    "middle page": damage_page,
}
ASIDE = re.compile(r"pressureguard-\d{8}-\d{6}(-\d+)?\.damaged\.sqlite")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Snapshot, Rows]:
    """One realistic store, written once: its directory, what it holds, and its rows."""
    data_dir = tmp_path_factory.mktemp("built")
    path = build_store(data_dir)
    snap = snapshot(data_dir)
    return data_dir, snap, table_rows(path)


@pytest.fixture
def data_dir(built: tuple[Path, Snapshot, Rows], tmp_path: Path) -> Path:
    """A copy of the built store for one test."""
    shutil.copyfile(built[0] / DB_NAME, tmp_path / DB_NAME)
    return tmp_path


def asides(data_dir: Path) -> list[Path]:
    return sorted(p for p in data_dir.iterdir() if ASIDE.fullmatch(p.name))


def test_an_intact_store_opens_with_no_false_alarm(
    data_dir: Path, built: tuple[Path, Snapshot, Rows]
) -> None:
    for _ in range(3):
        with Store.open(data_dir) as store:
            quick = store.check()
            full = store.check(full=True)
    assert quick.ok and full.ok, (quick.problems, full.problems)
    assert full.sessions == len(built[1].sessions) and full.unsealed == 0
    assert full.samples == sum(len(s.t_s) for s in built[1].samples.values())
    assert check_store(data_dir, full=True).ok
    assert not asides(data_dir) and not marker_path(data_dir / DB_NAME).exists()
    assert _same_snapshot(snapshot(data_dir), built[1])


def _same_snapshot(a: Snapshot, b: Snapshot) -> bool:
    return (
        a.sessions == b.sessions
        and all(same_samples(a.samples[k], b.samples[k]) for k in b.samples)
        and (a.limits, a.settings, a.journal, a.calibrations, a.ppt)
        == (b.limits, b.settings, b.journal, b.calibrations, b.ppt)
    )


@pytest.mark.parametrize("kind", DAMAGES)
def test_damage_is_found_on_open_and_the_file_kept_aside(data_dir: Path, kind: str) -> None:
    path = data_dir / DB_NAME
    DAMAGES[kind](path)
    damaged_bytes = path.read_bytes()

    with pytest.raises(StoreDamagedError) as caught:
        Store.open(data_dir)
    exc = caught.value
    assert exc.kept_at is not None and ASIDE.fullmatch(exc.kept_at.name)
    assert exc.kept_at.read_bytes() == damaged_bytes  # kept as it was, never written
    assert not path.exists() and marker_path(path).exists()
    text = str(exc)
    assert "\n" not in text and text.startswith(f"store damaged: {path} ")
    assert str(exc.kept_at) in text
    assert "pressureguard store repair" in text and "pressureguard store reset" in text
    if kind == "truncated":
        assert "cut short" in exc.problem
    elif kind == "header":
        assert "header is damaged" in exc.problem
    else:
        assert "damaged page" in exc.problem

    # Every later open says the same and starts nothing in its place.
    for _ in range(2):
        with pytest.raises(StoreDamagedError) as again:
            Store.open(data_dir)
        assert again.value.kept_at == exc.kept_at
    assert not path.exists() and asides(data_dir) == [exc.kept_at]
    found = damaged(data_dir)
    assert found is not None and found.kept_at == exc.kept_at


def _row_in(db: sqlite3.Connection, table: str, rowid: int, row: tuple[Any, ...]) -> bool:
    found = db.execute(f"SELECT * FROM {table} WHERE rowid = ?", (rowid,)).fetchone()
    return found is not None and tuple(found) == row


@pytest.mark.parametrize("kind", DAMAGES)
def test_repair_saves_everything_that_was_readable(
    data_dir: Path, built: tuple[Path, Snapshot, Rows], kind: str
) -> None:
    _, before, original = built
    path = data_dir / DB_NAME
    keys = chunk_keys(path)
    DAMAGES[kind](path)
    readable = readable_rows(path, original)  # the oracle: plain SQLite, row by row
    with pytest.raises(StoreDamagedError):
        Store.open(data_dir)

    report = repair_store(data_dir)
    assert report is not None and report.target == path
    assert not marker_path(path).exists()

    new = sqlite3.connect(path)
    try:
        # Every chunk that read back unchanged is in the new store, byte for byte.
        for rowid in readable["sample_chunks"]:
            sid, chunk_no = keys[rowid]
            row = new.execute(
                "SELECT * FROM sample_chunks WHERE session_id = ? AND chunk_no = ?",
                (sid, chunk_no),
            ).fetchone()
            assert row is not None and tuple(row) == original["sample_chunks"][rowid]
        # So is every readable row of the other tables (sessions are rewritten: see below).
        for table in DATA_TABLES:
            if table in ("sessions", "sample_chunks"):
                continue
            for rowid in readable[table]:
                assert _row_in(new, table, rowid, original[table][rowid]), (table, rowid)
    finally:
        new.close()

    # Per session: what was saved is what was readable, and the report says so exactly.
    saved = {s.id: s for s in report.sessions}
    by_session: dict[int, int] = {}
    rejected_or_lost: set[int] = set()
    for rowid, (sid, _) in keys.items():
        if rowid in readable["sample_chunks"]:
            by_session[sid] = by_session.get(sid, 0) + int(original["sample_chunks"][rowid][4])
        else:
            rejected_or_lost.add(sid)
    after = snapshot(data_dir)
    if kind == "header":  # plain SQLite reads nothing; the repair rebuilt the header: all back
        assert report.header_rebuilt and report.whole
        assert _same_snapshot(after, before)
        with Store.open(data_dir) as store:
            assert store.check(full=True).ok
        return
    for sid, summary in before.sessions.items():
        record_readable = sid in readable["sessions"]
        if record_readable:
            assert saved[sid].samples_recorded == summary["n_samples"]
            got = after.sessions[sid]
            for key in ("started_at", "source", "profile", "region", "limit_n"):
                assert got[key] == summary[key], (sid, key)
        if sid in saved:
            assert saved[sid].samples_saved == by_session.get(sid, 0)
        else:
            assert by_session.get(sid, 0) == 0
        whole = record_readable and sid not in rejected_or_lost
        if whole:
            assert saved[sid].whole
            assert after.sessions[sid] == summary
            assert same_samples(after.samples[sid], before.samples[sid])
        else:
            assert sid not in saved or not saved[sid].whole
            assert any(f"session {sid}" in line for line in report.lines()), report.lines()
    assert report.samples_saved == sum(by_session.values())

    if kind == "middle page":  # one page: at most the session it belonged to is hurt
        assert sum(1 for s in report.sessions if s.whole) >= len(before.sessions) - 1
    # The new store is whole and opens normally.
    with Store.open(data_dir) as store:
        assert store.check(full=True).ok


def test_repair_report_is_exact_about_a_lost_chunk(data_dir: Path) -> None:
    path = data_dir / DB_NAME
    damage_page(path)
    with pytest.raises(StoreDamagedError):
        Store.open(data_dir)
    report = repair_store(data_dir)
    assert report is not None
    hurt = [s for s in report.sessions if not s.whole]
    assert len(hurt) == 1, report.lines()
    lost = hurt[0]
    assert (
        lost.samples_recorded is not None
        and lost.samples_lost == (lost.samples_recorded - lost.samples_saved) > 0
    )
    assert report.samples_lost == lost.samples_lost
    line = next(x for x in report.lines() if f"session {lost.id}" in x)
    assert f"{lost.samples_lost:,}" in line
    kept = report.source.with_name(report.source.name + ".repair.json")
    assert kept.exists() and f'"samples_lost": {lost.samples_lost}' in kept.read_text()


def test_junk_inside_sample_bytes_is_never_read_as_force(
    data_dir: Path, built: tuple[Path, Snapshot, Rows]
) -> None:
    """Junk that leaves SQLite's structure intact: not an error to open, an error to read."""
    path = data_dir / DB_NAME
    page = pages_of(path, "sample_chunks", "overflow")[5]
    with path.open("r+b") as fh:  # past the page's next-page pointer: the chain stays whole
        fh.seek((page - 1) * page_size(path) + 1000)
        fh.write(b"\x7f" * 64)
    before = built[1]
    with Store.open(data_dir) as store:
        hurt = []
        for sid in before.sessions:
            try:
                got = store.load_samples(sid)
            except StoreDamagedError as exc:
                assert "checksum" in str(exc) and "store check --full" in str(exc)
                hurt.append(sid)
            else:
                assert same_samples(got, before.samples[sid])
        assert len(hurt) == 1
        with pytest.raises(StoreDamagedError):
            list(store.iter_samples(hurt[0]))
        assert not store.check().problems  # what opening checks cannot see it …
        assert store.check(full=True).problems  # … the full check does
    with pytest.raises(StoreDamagedError) as caught:
        check_store(data_dir, full=True)
    assert caught.value.kept_at is not None and not path.exists()
    report = repair_store(data_dir)
    assert report is not None
    assert [s.id for s in report.sessions if not s.whole] == hurt
    assert report.tables["sample_chunks"].unreadable == 1


def test_a_changed_value_in_a_session_record_is_found(data_dir: Path) -> None:
    """The issue's symptom: a session listed as lasting 73.4 min with a 12.3 N peak."""
    path = data_dir / DB_NAME
    raw = sqlite3.connect(path)
    raw.execute("UPDATE sessions SET t_last = 4404.0 WHERE id = 3")
    raw.commit()
    raw.close()
    with pytest.raises(StoreDamagedError) as caught:
        Store.open(data_dir)
    assert "sums that disagree" in str(caught.value) and "session 3" in str(caught.value)
    report = repair_store(data_dir)
    assert report is not None
    with Store.open(data_dir) as store:  # its sums come from its samples again
        summary = store.session_summary(3)
        assert summary["duration_s"] == store.load_samples(3).t_s[-1] < 4404.0


def test_a_changed_peak_is_found(data_dir: Path) -> None:
    raw = sqlite3.connect(data_dir / DB_NAME)
    raw.execute("UPDATE sessions SET peak_n = 12.3 WHERE id = 2")
    raw.commit()
    raw.close()
    with pytest.raises(StoreDamagedError, match=r"session 2 records a peak of 12\.3 N"):
        Store.open(data_dir)


def test_a_store_another_program_has_open_is_left_in_place(data_dir: Path) -> None:
    path = data_dir / DB_NAME
    raw = sqlite3.connect(path)
    raw.execute("UPDATE sessions SET n_samples = n_samples + 1 WHERE id = 1")
    raw.commit()
    raw.close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]);"
            " db.execute('SELECT count(*) FROM sessions').fetchall();"
            " print('open', flush=True); sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreDamagedError) as caught:
            Store.open(data_dir)
        assert caught.value.kept_at is None
        assert "another PressureGuard program has it open" in str(caught.value)
        assert path.exists() and not marker_path(path).exists() and not asides(data_dir)
    finally:
        holder.communicate("", timeout=10)
    with pytest.raises(StoreDamagedError) as later:  # closed now: kept aside
        Store.open(data_dir)
    assert later.value.kept_at is not None and later.value.kept_at.exists()


def test_reset_starts_an_empty_store_only_when_asked(data_dir: Path) -> None:
    with pytest.raises(StoreError, match="not known to be damaged"):
        reset_store(data_dir)  # an intact store is never emptied
    assert repair_store(data_dir) is None  # nor repaired
    truncate(data_dir / DB_NAME)
    with pytest.raises(StoreDamagedError) as caught:
        Store.open(data_dir)
    kept = reset_store(data_dir)
    assert kept == caught.value.kept_at and kept is not None and kept.exists()
    with Store.open(data_dir) as store:
        assert store.list_sessions() == []
        assert store.check().ok


def test_a_version_5_store_is_migrated_and_its_old_chunks_checked_by_shape(
    data_dir: Path, built: tuple[Path, Snapshot, Rows]
) -> None:
    raw = sqlite3.connect(data_dir / DB_NAME)
    raw.execute("DROP TABLE chunk_sums")  # as the release before checksums left it
    raw.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    raw.commit()
    raw.close()
    with Store.open(data_dir) as store:
        report = store.check(full=True)
        assert report.ok and report.unsealed == report.chunks > 0
        for sid, want in built[1].samples.items():
            assert same_samples(store.load_samples(sid), want)
    assert len(MIGRATIONS) >= 6


def test_a_large_store_leaves_sample_pages_to_the_reads(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the size limit, opening skips the samples' blob pages (they are checked as read)
    but still checks every other table's pages and the sums."""
    monkeypatch.setattr(integrity, "QUICK_CHECK_MAX_BYTES", 0)
    path = data_dir / DB_NAME
    page = damage_page(path, "sample_chunks", "overflow")
    with Store.open(data_dir) as store:
        assert not store.check().whole_file
        failures = 0
        for s in store.list_sessions():
            try:
                store.load_samples(s["id"])
            except StoreDamagedError:
                failures += 1
        assert failures == 1, page
        assert store.check(full=True).problems
    # a damaged page of the sessions table is still found when opening
    path2 = data_dir / "other"
    path2.mkdir()
    shutil.copyfile(path, path2 / DB_NAME)
    with Store.open(path2) as store:
        pass
    damage_page(path2 / DB_NAME, "sessions", "leaf")
    with pytest.raises(StoreDamagedError):
        Store.open(path2)


def test_a_good_copy_put_back_is_used_once_its_note_is_deleted(
    data_dir: Path, built: tuple[Path, Snapshot, Rows]
) -> None:
    path = data_dir / DB_NAME
    damage_header(path)
    with pytest.raises(StoreDamagedError):
        Store.open(data_dir)
    shutil.copyfile(built[0] / DB_NAME, path)  # the user restores a backup
    with pytest.raises(StoreDamagedError, match="a file is back in its place") as caught:
        Store.open(data_dir)
    assert str(marker_path(path)) in str(caught.value)
    marker_path(path).unlink()
    assert _same_snapshot(snapshot(data_dir), built[1])


def test_a_repair_that_cannot_write_leaves_everything_as_it_was(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from firmware_bridge.store import salvage as salvage_module

    path = data_dir / DB_NAME
    damage_page(path)
    with pytest.raises(StoreDamagedError) as caught:
        Store.open(data_dir)
    kept = caught.value.kept_at
    assert kept is not None
    kept_bytes = kept.read_bytes()
    real_insert = salvage_module._Writer.insert

    def full_disk(self: Any, table: str, row: dict[str, Any], *, replace: bool = False) -> bool:
        if table == "events":
            raise sqlite3.OperationalError("database or disk is full")
        return real_insert(self, table, row, replace=replace)

    monkeypatch.setattr(salvage_module._Writer, "insert", full_disk)
    with pytest.raises(StoreError, match=r"disk is full.*store repair.*stays at") as failed:
        repair_store(data_dir)
    assert "\n" not in str(failed.value)
    assert not path.exists() and marker_path(path).exists()
    assert not [p for p in data_dir.iterdir() if ".repairing" in p.name]
    assert kept.read_bytes() == kept_bytes
    monkeypatch.undo()
    report = repair_store(data_dir)  # once there is room, it works
    assert report is not None and report.samples_saved > 0


_OPENER = """
import sys, time
from pathlib import Path
from firmware_bridge.errors import StoreDamagedError
from firmware_bridge.store import Store
start = float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
try:
    Store.open(Path(sys.argv[1])).close()
except StoreDamagedError as exc:
    print("damaged", exc.kept_at)
else:
    print("opened")
"""


def test_processes_opening_a_damaged_store_at_once_keep_one_copy_and_start_nothing(
    data_dir: Path,
) -> None:
    import time

    path = data_dir / DB_NAME
    damage_page(path)
    start = time.time() + 2.0
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _OPENER, str(data_dir), str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    said = [out.strip() for out, _ in outs]
    assert all(s.startswith("damaged") for s in said), outs
    assert len(asides(data_dir)) == 1
    assert not path.exists() and marker_path(path).exists()
    moved = {s.split(" ", 1)[1] for s in said} - {"None"}
    assert moved <= {str(asides(data_dir)[0])}
