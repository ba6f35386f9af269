"""Several processes on one store: WAL readers, orphan recovery, SIGKILL, disk full."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.errors import StoreError
from firmware_bridge.store import DB_NAME, Store
from firmware_bridge.zones import JudgedSamples

REPO = Path(__file__).resolve().parents[2]


def _begin(store: Store, **kwargs: object) -> int:
    args: dict = {
        "source": "sim://",
        "profile": "default",
        "region": "neck",
        "limit_n": 20.0,
    } | kwargs
    return store.begin_session(**args)


def _set_recorder(path: Path, sid: int, **columns: object) -> None:
    """Rewrite who recorded a session, as another (dead or remote) recorder would have."""
    raw = sqlite3.connect(path, timeout=5.0)
    try:
        with raw:
            for column, value in columns.items():
                raw.execute(f"UPDATE sessions SET {column} = ? WHERE id = ?", (value, sid))
    finally:
        raw.close()


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_reader_sees_commits_while_the_writer_keeps_writing(
    tmp_path: Path, make_samples: Callable[..., JudgedSamples]
) -> None:
    with Store.open(tmp_path) as writer, Store.open(tmp_path) as reader:
        sid = _begin(writer)
        seen = []
        for k in range(20):
            writer.append_samples(sid, make_samples(4, start=4 * k))
            writer.commit()
            seen.append(len(reader.latest_samples(sid, seconds=60.0)))
            assert reader.session_summary(sid)["n_samples"] == 4 * (k + 1)
        assert seen == [4 * (k + 1) for k in range(20)]


def test_readers_are_not_blocked_and_writers_wait_for_a_held_lock(
    tmp_path: Path, make_samples: Callable[..., JudgedSamples]
) -> None:
    with Store.open(tmp_path) as bridge, Store.open(tmp_path) as dashboard:
        sid = _begin(bridge)
        bridge.append_samples(sid, make_samples(8))
        bridge.commit()
        other = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        other.execute("INSERT INTO settings VALUES ('held', '1', 'now')")
        assert len(dashboard.load_samples(sid)) == 8  # WAL: reading is never blocked
        release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
        release.start()
        started = time.monotonic()
        dashboard.post_command("tare")  # waits for the lock (busy_timeout), then succeeds
        assert time.monotonic() - started >= 0.2
        release.join()
        other.close()
        assert bridge.take_commands()[0]["kind"] == "tare"


def test_one_store_shared_by_threads(store: Store) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for k in range(50):
                store.set_setting(f"t{n}", k)
                assert store.get_setting(f"t{n}") == k
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.settings() == {f"t{n}": 49 for n in range(4)}


def test_recover_orphans_closes_a_dead_recorders_session(
    store: Store, make_samples: Callable[..., JudgedSamples]
) -> None:
    start = datetime.now(UTC) - timedelta(minutes=5)
    sid = _begin(store, started_at=start)
    store.append_samples(sid, make_samples(400))  # 0 … 4.9875 s
    store.commit()
    mine = _begin(store)  # recorded by this (living) process
    _set_recorder(store.path, sid, recorder_pid=_dead_pid())

    assert store.recover_orphans() == [sid]
    summary = store.session_summary(sid)
    assert (summary["status"], summary["end_reason"]) == ("recovered", "recorder died")
    ended = datetime.fromisoformat(summary["ended_at"])
    assert abs((ended - start).total_seconds() - 399 / 80) < 0.002
    assert len(store.load_samples(sid)) == 400
    assert store.session_summary(mine)["status"] == "recording"
    assert store.recover_orphans() == []  # once only
    store.delete_session(sid)  # a recovered session can be deleted


def test_recover_orphans_without_samples_uses_the_heartbeat(store: Store) -> None:
    sid = _begin(store)
    beat = "2024-02-02T10:00:05.000+00:00"
    _set_recorder(
        store.path,
        sid,
        recorder_pid=_dead_pid(),
        heartbeat_at=beat,
        started_at="2024-02-02T10:00:00.000+00:00",
    )
    assert store.recover_orphans() == [sid]
    assert store.session_summary(sid)["ended_at"] == beat


def test_recorder_elsewhere_is_judged_by_its_heartbeat(store: Store) -> None:
    stale, fresh = _begin(store), _begin(store)
    old = (datetime.now(UTC) - timedelta(seconds=30)).isoformat()
    _set_recorder(store.path, stale, recorder_host="other-box/x", heartbeat_at=old)
    _set_recorder(store.path, fresh, recorder_host="other-box/x")
    assert store.recover_orphans(stale_after_s=3.0) == [stale]
    assert store.session_summary(fresh)["status"] == "recording"


_RECORDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import numpy as np
    from firmware_bridge.store import Store
    from firmware_bridge.zones import JudgedSamples

    store = Store.open(Path(sys.argv[1]))
    sid = store.begin_session(source="sim://", profile="default", region="neck", limit_n=20.0)
    print(sid, flush=True)
    k = 0
    while True:
        t = (k + np.arange(4)) / 80.0
        store.append_samples(sid, JudgedSamples(t, t * 1000.0, t, t, np.zeros(4, np.int8)))
        store.heartbeat(sid)
        store.commit()
        k += 4
        time.sleep(0.05)
    """
)


@pytest.mark.slow
def test_sigkilled_recorder_loses_at_most_the_uncommitted_tail(tmp_path: Path) -> None:
    script = tmp_path / "recorder.py"
    script.write_text(_RECORDER)
    env = os.environ | {"PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        sid = int(proc.stdout.readline())
        with Store.open(tmp_path) as reader:
            deadline = time.monotonic() + 30.0
            seen = 0.0
            while seen < 1.0 and time.monotonic() < deadline:
                latest = reader.latest_samples(sid, seconds=0.5)
                seen = float(latest.t_s[-1]) if len(latest) else 0.0
                time.sleep(0.02)
            assert seen >= 1.0, "the recorder never committed a second of samples"
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)

            assert reader.recover_orphans() == [sid]
            summary = reader.session_summary(sid)
            samples = reader.load_samples(sid)
            integrity = reader._conn().execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        if proc.poll() is None:  # pragma: no cover - only when an assertion failed early
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert integrity == "ok"
    assert summary["status"] == "recovered" and summary["end_reason"] == "recorder died"
    assert samples.t_s[-1] >= seen  # everything committed before the kill is there
    np.testing.assert_array_equal(samples.t_s, np.arange(len(samples)) / 80.0)  # no holes
    assert summary["n_samples"] == len(samples) and len(samples) % 4 == 0
    started = datetime.fromisoformat(summary["started_at"])
    ended = datetime.fromisoformat(summary["ended_at"])
    assert abs((ended - started).total_seconds() - samples.t_s[-1]) < 0.002


def test_disk_full_raises_store_error_and_keeps_what_was_committed(
    tmp_path: Path, make_samples: Callable[..., JudgedSamples]
) -> None:
    store = Store.open(tmp_path)
    sid = _begin(store)
    store.append_samples(sid, make_samples(1000))
    store.commit()
    db = store._conn()  # white-box: cap this connection's file size to force SQLITE_FULL
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")
    for k in range(50):
        store.append_samples(sid, make_samples(1000, start=1000 * (k + 1)))
    with pytest.raises(StoreError, match=r"^disk full: could not save the session data"):
        store.commit()
    with pytest.raises(StoreError, match=r"^disk full"):
        store.set_setting("x", "y" * 100_000)

    with Store.open(tmp_path) as reader:  # what was committed is intact
        assert len(reader.load_samples(sid)) == 1000
        assert reader.session_summary(sid)["n_samples"] == 1000

    db.execute("PRAGMA max_page_count = 1073741823")  # space freed: the kept buffer is written
    store.commit()
    assert len(store.load_samples(sid)) == 51_000
    store.end_session(sid)
    store.close()
