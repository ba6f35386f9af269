"""Compaction: an ended session's many small chunks become a few large ones, every sample
bit-identical, window reads exact, and readers never skip or repeat a sample meanwhile."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.store import DB_NAME, Store
from firmware_bridge.store import samples as samples_module
from firmware_bridge.store.compact import COMPACT_SAMPLES
from firmware_bridge.zones import JudgedSamples

MakeSamples = Callable[..., JudgedSamples]
SamplesEqual = Callable[[JudgedSamples, JudgedSamples], None]
RATE = 1000.0
_FULL = COMPACT_SAMPLES // 50 * 50  # a merged chunk of 50-sample chunks


def _merged(total: int) -> list[int]:
    """The chunk sizes a session of ``total`` samples in 50-sample chunks compacts to."""
    return [_FULL] * (total // _FULL) + ([total % _FULL] if total % _FULL else [])


def _record(store: Store, make_samples: MakeSamples, chunks: int, size: int = 50) -> int:
    """A session written as the bridge writes it: one small chunk per flush."""
    sid = store.begin_session(
        source="sim://", profile="default", region="upper-trapezius", limit_n=20.0
    )
    for k in range(chunks):
        store.append_samples(sid, make_samples(size, start=k * size, rate=RATE))
        if k % 40 == 39:
            store.commit()
    store.commit()
    return sid


def _chunks(path: Path, sid: int) -> list[tuple[int, int]]:
    """(chunk_no, n) of a session, read with a connection of its own."""
    db = sqlite3.connect(path / DB_NAME)
    try:
        return db.execute(
            "SELECT chunk_no, n FROM sample_chunks WHERE session_id = ? ORDER BY chunk_no", (sid,)
        ).fetchall()
    finally:
        db.close()


def _concat(batches: list[JudgedSamples]) -> JudgedSamples:
    names = ("t_s", "raw", "force_n", "filtered_n", "zone")
    return JudgedSamples(*(np.concatenate([getattr(b, c) for b in batches]) for c in names))


def test_ending_a_session_compacts_it_keeping_every_sample_and_window(
    tmp_path: Path, make_samples: MakeSamples, samples_equal: SamplesEqual
) -> None:
    with Store.open(tmp_path) as store:
        sid = _record(store, make_samples, chunks=3000)  # 150,000 samples, 150 s
        before = store.load_samples(sid)
        windows = [(0.0, 0.0), (12.3456, 13.0), (65.49, 65.51), (100.0, None), (None, 0.2)]
        windowed = [store.load_samples(sid, a, b) for a, b in windows]
        assert len(_chunks(tmp_path, sid)) == 3000

        store.end_session(sid)
        assert store.wait_for_compaction(timeout=30)

        sizes = [n for _no, n in _chunks(tmp_path, sid)]
        assert sizes == _merged(150_000)
        samples_equal(store.load_samples(sid), before)
        for (a, b), expected in zip(windows, windowed, strict=True):
            samples_equal(store.load_samples(sid, a, b), expected)
            arrays = store.load_arrays(sid, ("force_n", "zone"), a, b)
            np.testing.assert_array_equal(arrays["force_n"], expected.force_n)
        summary = store.session_summary(sid)
        assert summary["n_samples"] == 150_000 and summary["duration_s"] == pytest.approx(149.999)
        assert store.compact_session(sid) == 0  # already done: nothing to merge
        row = store._conn().execute("SELECT compacted_at, chunk_span_s FROM sessions").fetchone()
        assert row[0] is not None and row[1] == pytest.approx((_FULL - 1) / RATE)


def test_a_reader_never_skips_or_repeats_a_sample_while_compaction_runs(
    store: Store,
    make_samples: MakeSamples,
    samples_equal: SamplesEqual,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resumed = []
    real = samples_module._resume_point
    monkeypatch.setattr(
        samples_module, "_resume_point", lambda *a: resumed.append(a[2]) or real(*a)
    )
    sid = _record(store, make_samples, chunks=2000)  # 100,000 samples
    expected = store.load_samples(sid)
    whole = store.iter_samples(sid, batch_size=7000)
    window = store.iter_arrays(sid, ("t_s", "force_n"), t_from=20.0, t_to=80.0, batch_size=5000)
    read = [next(whole), next(whole)]
    in_window = [next(window)]
    store.compact_session(sid)  # merges the chunks both readers are in the middle of
    read += list(whole)
    in_window += list(window)
    samples_equal(_concat(read), expected)
    t = np.concatenate([b["t_s"] for b in in_window])
    keep = (expected.t_s >= 20.0) & (expected.t_s <= 80.0)
    np.testing.assert_array_equal(t, expected.t_s[keep])
    f = np.concatenate([b["force_n"] for b in in_window])
    np.testing.assert_array_equal(f, expected.force_n[keep])
    assert len(resumed) == 2  # both readers found their chunk merged and their place again


def test_window_reads_stay_exact_across_gaps_and_huge_chunks(
    store: Store, make_samples: MakeSamples, samples_equal: SamplesEqual
) -> None:
    sid = store.begin_session(source="sim://", profile="default", region=None, limit_n=None)
    first = make_samples(4000, rate=RATE)
    later = make_samples(4000, start=4000, rate=RATE)
    later = JudgedSamples(later.t_s + 600.0, later.raw, later.force_n, later.filtered_n,
                          later.zone)  # fmt: skip  # the signal was lost for 10 minutes
    for block in (first, later):
        for k in range(0, 4000, 25):
            store.append_samples(sid, JudgedSamples(*(getattr(block, c)[k : k + 25] for c in (
                "t_s", "raw", "force_n", "filtered_n", "zone"))))  # fmt: skip
    store.end_session(sid)
    store.wait_for_compaction(timeout=30)
    assert len(store._conn().execute("SELECT 1 FROM sample_chunks").fetchall()) == 1
    samples_equal(store.load_samples(sid, 3.9, 3.9995), _trim(first, 3.9, 3.9995))
    samples_equal(store.load_samples(sid, 604.0, 605.0), _trim(later, 604.0, 605.0))
    assert len(store.load_samples(sid, 10.0, 600.0)) == 0
    assert store.time_range(sid) == (0.0, pytest.approx(607.999))


def _trim(s: JudgedSamples, lo: float, hi: float) -> JudgedSamples:
    keep = (s.t_s >= lo) & (s.t_s <= hi)
    return JudgedSamples(*(getattr(s, c)[keep] for c in ("t_s", "raw", "force_n", "filtered_n",
                                                          "zone")))  # fmt: skip


def test_closing_waits_for_compaction(tmp_path: Path, make_samples: MakeSamples) -> None:
    with Store.open(tmp_path) as store:
        sid = _record(store, make_samples, chunks=1500)
        store.end_session(sid)
    assert [n for _no, n in _chunks(tmp_path, sid)] == _merged(75_000)


def test_interrupted_and_older_sessions_are_compacted_when_a_bridge_starts(
    tmp_path: Path, make_samples: MakeSamples
) -> None:
    with Store.open(tmp_path) as store:
        old = _record(store, make_samples, chunks=300)
        store.end_session(old)
        store.wait_for_compaction(timeout=30)
        # as if recorded before compaction existed (schema 3): ended, chunks small
        store._conn().execute("UPDATE sessions SET compacted_at = NULL")
        store._conn().execute("DELETE FROM sample_chunks")
        dead = _record(store, make_samples, chunks=300)
        old_again = store.begin_session(source="sim://", profile="p", region=None, limit_n=None)
        for k in range(300):
            store.append_samples(old_again, make_samples(50, start=50 * k, rate=RATE))
        store.commit()
        store._conn().execute(
            "UPDATE sessions SET status = 'ended' WHERE id = ?", (old_again,)
        )  # ended by an older PressureGuard: compacted_at stays NULL
        store._conn().execute(
            "UPDATE sessions SET recorder_pid = 999999999, recorder_host = ? WHERE id = ?",
            (store._host, dead),
        )  # its recorder is gone
        assert store.recover_orphans() == [dead]
        assert store.wait_for_compaction(timeout=30)
        assert len(_chunks(tmp_path, dead)) == 1 and len(_chunks(tmp_path, old_again)) == 1
        assert store.session_summary(dead)["status"] == "recovered"


def test_a_live_session_is_left_alone_until_it_ends(
    tmp_path: Path, make_samples: MakeSamples
) -> None:
    with Store.open(tmp_path) as store:
        sid = _record(store, make_samples, chunks=100)
        assert store.recover_orphans() == []  # still recording, by this process
        store.wait_for_compaction(timeout=30)
        assert len(_chunks(tmp_path, sid)) == 100
        # merging a live session on request is safe: later chunks go after the merged one
        store.compact_session(sid)
        store.append_samples(sid, make_samples(50, start=5000, rate=RATE))
        store.commit()
        assert [n for _no, n in _chunks(tmp_path, sid)] == [5000, 50]
        assert len(store.load_samples(sid)) == 5050
