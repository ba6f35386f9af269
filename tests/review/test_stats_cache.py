"""Kept session stats: computed once in the background after a session ends, equal to the stats
computed afresh, and never used once what they were computed from has changed."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from firmware_bridge.errors import NotFoundError
from firmware_bridge.store import DB_NAME, Store
from firmware_bridge.store.exchange import export_json, import_file
from firmware_bridge.zones import JudgedSamples, SessionEvent
from review import stats_cache
from review.stats import session_stats
from review.stats_cache import cached_session_stats, kept_stats
from tests.review.conftest import WriteSession, write_session

LIMIT = 20.0


def _session(write: WriteSession, seed: int = 4, **kwargs: object) -> int:
    """A session with holds, pushes over a limit that steps up, NaN force and lost signal."""
    rng = np.random.default_rng(seed)
    n = 6000
    t = np.cumsum(rng.uniform(0.008, 0.012, n))
    t[4000:] += 2.0  # the signal was lost for 2 s
    force = np.clip(14 + np.cumsum(rng.normal(0, 0.5, n)) * 0.4, -1, None)
    force[rng.integers(0, n, 30)] = np.nan
    events = [
        SessionEvent(0.0, "limit", {"limit_n": LIMIT}),
        SessionEvent(30.0, "limit", {"limit_n": LIMIT + 4}),
        SessionEvent(12.0, "ramp", {}),
        SessionEvent(20.0, "button", {"state": 1}),
    ]
    args = {"events": events, "counters": {"dropped_frames": 4, "bad_frames": 1}} | kwargs
    return write(t, force, chunk=37, limit_n=LIMIT, **args)


def _kept(store: Store, sid: int) -> dict[str, Any] | None:
    return store.stored_stats(sid)


def _sql(tmp_path: Path, sid: int) -> Callable[[str], None]:
    """Run an UPDATE on one session with a connection of its own (around the store's API)."""

    def run(statement: str) -> None:
        db = sqlite3.connect(tmp_path / DB_NAME)
        try:
            db.execute(statement + " WHERE id = ?", (sid,))
            db.commit()
        finally:
            db.close()

    return run


def test_stats_are_kept_after_a_session_ends_and_equal_fresh_ones(
    store: Store, session_from_arrays: WriteSession
) -> None:
    sid = _session(session_from_arrays)
    store.update_session_review(sid, pain_before=7, pain_after=3)
    assert store.wait_for_compaction(timeout=60)
    assert _kept(store, sid) is not None  # summed up in the background, after compaction
    fresh = session_stats(store, sid)
    kept = kept_stats(store, store.session_summary(sid))
    assert kept == fresh  # exactly: every float, every count
    assert cached_session_stats(store, sid) == fresh
    assert fresh.pain_change == -4.0 and fresh.gaps == 1 and fresh.over_limit_count > 0


def test_kept_stats_survive_reopening_and_need_no_pass_over_the_samples(
    tmp_path: Path, session_from_arrays: WriteSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store.open(tmp_path / "a") as store:
        sid = _session(lambda *a, **k: write_session(store, *a, **k))
        fresh = session_stats(store, sid)
    with Store.open(tmp_path / "a") as store:  # another process, later
        monkeypatch.setattr(
            stats_cache, "sample_totals", lambda *a, **k: pytest.fail("samples read again")
        )
        assert cached_session_stats(store, sid) == fresh


def test_pain_ratings_and_notes_are_read_fresh_without_a_new_pass(
    store: Store, session_from_arrays: WriteSession
) -> None:
    sid = _session(session_from_arrays)
    assert store.wait_for_compaction(timeout=60)
    before = _kept(store, sid)
    store.update_session_review(sid, pain_before=5, pain_after=2, note="better")
    assert _kept(store, sid) == before  # still valid: the ratings are not part of the pass
    stats = cached_session_stats(store, sid)
    assert (stats.pain_before, stats.pain_after, stats.pain_change) == (5.0, 2.0, -3.0)
    assert stats == session_stats(store, sid)


def test_a_new_limit_or_rate_clears_the_kept_stats(
    store: Store, session_from_arrays: WriteSession
) -> None:
    sid = _session(session_from_arrays)
    assert store.wait_for_compaction(timeout=60)
    store.update_session(sid, limit_n=LIMIT * 2)
    assert _kept(store, sid) is None
    stats = cached_session_stats(store, sid)
    assert stats == session_stats(store, sid) and stats.limit_n == LIMIT * 2
    assert _kept(store, sid) is not None  # kept again, for the new limit
    store.update_session(sid, rate_hz=100.0)
    assert _kept(store, sid) is None
    assert cached_session_stats(store, sid).nominal_rate_hz == 100.0
    store.update_session(sid, device_id="tool-2")  # not an input of the stats
    assert _kept(store, sid) is not None


def test_kept_stats_are_never_used_once_their_basis_changed(
    tmp_path: Path, store: Store, session_from_arrays: WriteSession
) -> None:
    """Whatever path changes a session (even one that does not clear the column), a kept copy
    is used only while the samples, limits, rate and computation it was made from still hold."""
    sid = _session(session_from_arrays)
    assert store.wait_for_compaction(timeout=60)
    stale = _kept(store, sid)

    def restore() -> None:  # the old copy put back, as a writer that never cleared it would
        db = store._conn()
        db.execute("UPDATE sessions SET stats = ? WHERE id = ?", (json.dumps(stale), sid))

    t = np.array([200.0, 200.01])
    store.append_samples(sid, JudgedSamples(t, t * 0, t * 0 + 30, t * 0 + 30, np.int8([3, 3])))
    store.commit()
    restore()
    assert cached_session_stats(store, sid) == session_stats(store, sid)
    assert cached_session_stats(store, sid).n_samples == 6002

    restore()
    store.add_events(sid, [SessionEvent(100.0, "limit", {"limit_n": 9.0})])
    store.commit()
    assert kept_stats(store, store.session_summary(sid)) is None
    assert cached_session_stats(store, sid) == session_stats(store, sid)

    _sql(tmp_path, sid)("UPDATE sessions SET limit_n = 30.0")  # by hand, around the store's API
    assert kept_stats(store, store.session_summary(sid)) is None
    assert cached_session_stats(store, sid) == session_stats(store, sid)


def test_a_new_version_of_the_computation_recomputes(
    store: Store, session_from_arrays: WriteSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = _session(session_from_arrays)
    assert store.wait_for_compaction(timeout=60)
    assert kept_stats(store, store.session_summary(sid)) is not None
    monkeypatch.setattr(stats_cache, "STATS_VERSION", stats_cache.STATS_VERSION + 1)
    assert kept_stats(store, store.session_summary(sid)) is None
    assert cached_session_stats(store, sid) == session_stats(store, sid)
    assert kept_stats(store, store.session_summary(sid)) is not None


def test_a_session_being_recorded_is_never_kept(
    store: Store, session_from_arrays: WriteSession
) -> None:
    sid = _session(session_from_arrays, end=False)
    assert cached_session_stats(store, sid) == session_stats(store, sid)
    assert _kept(store, sid) is None
    assert store.keep_stats(sid, {"anything": 1}) is False
    store.end_session(sid)
    assert store.wait_for_compaction(timeout=60)
    assert kept_stats(store, store.session_summary(sid)) == session_stats(store, sid)


def test_unreadable_kept_stats_are_computed_again(
    tmp_path: Path, store: Store, session_from_arrays: WriteSession
) -> None:
    sid = _session(session_from_arrays)
    assert store.wait_for_compaction(timeout=60)
    _sql(tmp_path, sid)("UPDATE sessions SET stats = '{not json'")
    assert store.stored_stats(sid) is None
    assert cached_session_stats(store, sid) == session_stats(store, sid)
    basis = stats_cache.basis(store.session_summary(sid))
    store.keep_stats(sid, {"basis": basis, "stats": {"n_samples": 1}})  # fields missing
    assert cached_session_stats(store, sid) == session_stats(store, sid)
    with pytest.raises(NotFoundError):
        cached_session_stats(store, 999)


def test_imported_and_recovered_sessions_are_summed_up_too(
    tmp_path: Path, store: Store, session_from_arrays: WriteSession
) -> None:
    sid = _session(session_from_arrays)
    export_json(store, sid, tmp_path / "s.json")
    imported = import_file(store, tmp_path / "s.json")
    assert store.wait_for_compaction(timeout=60)
    assert kept_stats(store, store.session_summary(imported)) == session_stats(store, imported)

    dead = _session(session_from_arrays, end=False, seed=9)
    store._conn().execute(
        "UPDATE sessions SET recorder_pid = 999999999, recorder_host = ? WHERE id = ?",
        (store._host, dead),
    )  # its recorder is gone
    assert store.recover_orphans() == [dead]
    assert store.wait_for_compaction(timeout=60)
    assert kept_stats(store, store.session_summary(dead)) == session_stats(store, dead)


def test_background_summing_up_can_be_stopped_and_done_later(
    store: Store, session_from_arrays: WriteSession
) -> None:
    sid = _session(session_from_arrays, end=False)
    store._conn().execute("UPDATE sessions SET status = 'ended' WHERE id = ?", (sid,))

    def stop(_took: float) -> None:
        raise KeyboardInterrupt  # what a store closing after Ctrl-C does between batches

    with pytest.raises(KeyboardInterrupt):
        stats_cache.keep_session_stats(store, sid, pace=stop)
    assert _kept(store, sid) is None
    paced: list[float] = []
    assert stats_cache.keep_session_stats(store, sid, pace=paced.append)
    assert paced and all(took >= 0 for took in paced)
    assert kept_stats(store, store.session_summary(sid)) == session_stats(store, sid)
    assert not stats_cache.keep_session_stats(store, sid)  # kept already: nothing to do
