"""Recording, reading, summarising and listing sessions."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.errors import NotFoundError, StoreError, UsageError
from firmware_bridge.store import Store
from firmware_bridge.zones import JudgedSamples, SessionEvent, Zone

SamplesEqual = Callable[[JudgedSamples, JudgedSamples], None]

CONTRACT_KEYS = {
    "id",
    "started_at",
    "ended_at",
    "source",
    "profile",
    "region",
    "n_samples",
    "duration_s",
    "peak_n",
    "limit_n",
    "time_over_limit_s",
    "dropped_frames",
    "bad_frames",
    "gaps",
    "events",
}
EXTRA_KEYS = {
    "status",
    "end_reason",
    "device_id",
    "firmware",
    "tip_area_cm2",
    "rate_hz",
    "tare_n",
    "pain_before",
    "pain_after",
    "note",
    "bad_frames_by_kind",
    "gap_list",
    "calibration",
}


def _begin(store: Store, **kwargs: object) -> int:
    args: dict = {
        "source": "sim://",
        "profile": "default",
        "region": "upper-trapezius",
        "limit_n": 20.0,
    } | kwargs
    return store.begin_session(**args)


def test_append_commit_load_round_trip_with_nans_and_zones(
    store: Store, make_samples: Callable[..., JudgedSamples], samples_equal: SamplesEqual
) -> None:
    sid = _begin(store)
    parts = [make_samples(37, start=0), make_samples(1, start=37), make_samples(500, start=38)]
    for part in parts:
        store.append_samples(sid, part)
    store.commit()
    loaded = store.load_samples(sid)
    expected = make_samples(538)
    samples_equal(loaded, expected)
    assert loaded.t_s.dtype == np.float64 and loaded.zone.dtype == np.int8
    assert np.isnan(loaded.force_n).any() and np.isnan(loaded.raw).any()
    assert set(loaded.zone.tolist()) == {int(z) for z in Zone}
    assert store.session_summary(sid)["n_samples"] == 538


def test_buffered_rows_appear_only_at_commit(
    store: Store, make_samples: Callable[..., JudgedSamples]
) -> None:
    sid = _begin(store)
    with Store(store.path) as reader:
        store.append_samples(sid, make_samples(10))
        store.add_events(sid, [SessionEvent(0.05, "button", {"pressed": True})])
        assert len(reader.load_samples(sid)) == 0
        assert reader.events(sid) == []
        store.commit()
        assert len(reader.load_samples(sid)) == 10
        assert reader.events(sid) == [SessionEvent(0.05, "button", {"pressed": True})]
    store.commit()  # nothing pending: a no-op


def test_window_loading_and_latest(
    store: Store, make_samples: Callable[..., JudgedSamples]
) -> None:
    sid = _begin(store)
    for k in range(100):  # 100 chunks of 8 samples at 80 Hz = 10 s
        store.append_samples(sid, make_samples(8, start=8 * k))
    store.commit()
    window = store.load_samples(sid, t_from=2.0, t_to=3.5)
    assert window.t_s[0] == pytest.approx(2.0) and window.t_s[-1] == pytest.approx(3.5)
    assert len(window) == 121 and np.all(np.diff(window.t_s) > 0)
    tail = store.load_samples(sid, t_from=9.9)
    assert len(tail) == 8 and tail.t_s[0] >= 9.9
    head = store.load_samples(sid, t_to=0.05)
    assert head.t_s.tolist() == [0.0, 0.0125, 0.025, 0.0375, 0.05]
    assert len(store.load_samples(sid, t_from=20.0)) == 0
    latest = store.latest_samples(sid, seconds=1.0)
    assert latest.t_s[-1] == pytest.approx(799 / 80)
    assert latest.t_s[0] >= latest.t_s[-1] - 1.0 - 1e-9 and len(latest) == 81
    empty = store.latest_samples(_begin(store), seconds=5.0)
    assert len(empty) == 0 and empty.zone.dtype == np.int8


def test_summary_keys_counters_and_events(
    store: Store, make_samples: Callable[..., JudgedSamples]
) -> None:
    start = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    sid = _begin(store, started_at=start, meta={"pattern": "holds"})
    samples = make_samples(800)
    store.append_samples(sid, samples)
    events = [
        SessionEvent(1.0, "zone", {"from": "relaxed", "to": "over"}),
        SessionEvent(2.0, "gap", {"start_s": 2.0, "end_s": 2.75, "reason": "ble dropped"}),
        SessionEvent(0.5, "button", {"pressed": True}),
        SessionEvent(4.0, "gap", {"start_s": 4.0}),  # open gap: not in gap_list
    ]
    store.add_events(sid, events)
    store.set_counters(sid, {"time_over_limit_s": 1.5, "dropped_frames": 3})
    store.set_counters(sid, {"bad_frames_by_kind": {"crc": 2, "cobs": 1}, "custom": "x"})
    store.end_session(sid, ended_at=start + timedelta(seconds=10), reason="duration")

    summary = store.session_summary(sid)
    assert summary.keys() >= CONTRACT_KEYS | EXTRA_KEYS
    assert summary["id"] == sid
    assert summary["started_at"] == "2024-05-01T09:30:00.000+00:00"
    assert summary["ended_at"] == "2024-05-01T09:30:10.000+00:00"
    assert summary["duration_s"] == pytest.approx(9.9875)  # the recorded span, not the wall clock
    assert (summary["source"], summary["profile"]) == ("sim://", "default")
    assert (summary["region"], summary["limit_n"]) == ("upper-trapezius", 20.0)
    assert summary["n_samples"] == 800
    assert summary["peak_n"] == float(np.nanmax(samples.force_n))
    assert summary["time_over_limit_s"] == 1.5 and summary["dropped_frames"] == 3
    assert summary["bad_frames"] == 3 and summary["bad_frames_by_kind"] == {"crc": 2, "cobs": 1}
    assert summary["gaps"] == 1
    assert summary["gap_list"] == [{"start_s": 2.0, "end_s": 2.75, "reason": "ble dropped"}]
    assert [e["kind"] for e in summary["events"]] == ["button", "zone", "gap", "gap"]
    assert summary["events"][1] == {
        "t_s": 1.0,
        "kind": "zone",
        "detail": {"from": "relaxed", "to": "over"},
    }
    assert (summary["status"], summary["end_reason"]) == ("ended", "duration")
    assert summary["counters"]["custom"] == "x" and summary["meta"] == {"pattern": "holds"}
    assert store.events(sid)[0] == SessionEvent(0.5, "button", {"pressed": True})


def test_counters_from_the_bridge_win_and_nan_details_are_stored_as_null(store: Store) -> None:
    sid = _begin(store)
    store.set_counters(sid, {"bad_frames": 9, "gaps": 4, "peak_n": 33.0})
    store.add_events(sid, [SessionEvent(0.0, "fault", {"value": float("nan")})])
    store.commit()
    summary = store.session_summary(sid)
    assert (summary["bad_frames"], summary["gaps"], summary["peak_n"]) == (9, 4, 33.0)
    assert summary["events"][0]["detail"] == {"value": None}
    assert summary["duration_s"] == 0.0 and summary["ended_at"] is None


def test_update_session_fields_and_meta_merge(store: Store) -> None:
    sid = _begin(store, meta={"a": 1})
    store.update_session(
        sid,
        device_id="PG-0001",
        firmware="1.2.0",
        calibration={"counts_per_n": 4000.0},
        tip_area_cm2=1.5,
        rate_hz=80,
        tare_n=0.25,
        limit_n=18.0,
        region="neck:left",
        pain_before=6,
        pain_after=3.5,
        note="felt fine",
        meta={"b": 2},
    )
    s = store.session_summary(sid)
    assert (s["device_id"], s["firmware"], s["tip_area_cm2"], s["rate_hz"]) == (
        "PG-0001",
        "1.2.0",
        1.5,
        80.0,
    )
    assert s["calibration"] == {"counts_per_n": 4000.0}
    assert (s["tare_n"], s["limit_n"], s["region"]) == (0.25, 18.0, "neck:left")
    assert (s["pain_before"], s["pain_after"], s["note"]) == (6, 3.5, "felt fine")
    assert s["meta"] == {"a": 1, "b": 2}
    store.update_session(sid, note=None, pain_after=None)
    s = store.session_summary(sid)
    assert s["note"] is None and s["pain_after"] is None
    with pytest.raises(UsageError, match="pain after"):
        store.update_session(sid, pain_after=11)
    with pytest.raises(UsageError, match="tip area"):
        store.update_session(sid, tip_area_cm2=0)
    with pytest.raises(TypeError, match="bogus"):
        store.update_session(sid, bogus=1)
    with pytest.raises(NotFoundError, match="no session 999"):
        store.update_session(999, note="x")


def test_unknown_sessions_and_bad_input(
    store: Store, make_samples: Callable[..., JudgedSamples]
) -> None:
    for call in (
        lambda: store.session_summary(42),
        lambda: store.load_samples(42),
        lambda: store.latest_samples(42, 1.0),
        lambda: store.events(42),
        lambda: store.delete_session(42),
        lambda: store.end_session(42),
        lambda: store.append_samples(42, make_samples(3)),
        lambda: store.add_events(42, [SessionEvent(0.0, "button")]),
        lambda: store.set_counters(42, {}),
        lambda: store.heartbeat(42),
    ):
        with pytest.raises(NotFoundError, match=r"^no session 42$"):
            call()
    sid = _begin(store)
    bad = make_samples(5)
    with pytest.raises(ValueError, match="same length"):
        store.append_samples(
            sid, JudgedSamples(bad.t_s, bad.raw[:3], bad.force_n, bad.filtered_n, bad.zone)
        )
    with pytest.raises(ValueError, match="finite"):
        store.append_samples(
            sid, JudgedSamples(bad.t_s * np.nan, bad.raw, bad.force_n, bad.filtered_n, bad.zone)
        )
    with pytest.raises(UsageError, match="comfort limit"):
        _begin(store, limit_n=-1.0)
    store.append_samples(sid, make_samples(0))  # empty: nothing to do
    store.commit()
    assert store.session_summary(sid)["n_samples"] == 0


def test_delete_session_cascades_and_refuses_a_live_recording(
    store: Store, make_samples: Callable[..., JudgedSamples]
) -> None:
    sid = _begin(store)
    store.append_samples(sid, make_samples(100))
    store.add_events(sid, [SessionEvent(0.1, "button")])
    store.commit()
    with pytest.raises(StoreError, match="still recording"):
        store.delete_session(sid)  # this very process is its recorder
    store.end_session(sid)
    store.delete_session(sid)
    with pytest.raises(NotFoundError):
        store.session_summary(sid)
    db = store._conn()  # white-box: no orphaned rows
    assert db.execute("SELECT COUNT(*) FROM sample_chunks").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0
    assert _begin(store) > sid  # ids are never reused


def test_session_ids_continue_after_reopen(tmp_path: Path, make_samples: Callable) -> None:
    with Store.open(tmp_path) as store:
        sid = _begin(store)
        store.append_samples(sid, make_samples(10))
        store.commit()
    with Store.open(tmp_path) as store:  # a new Store recovers the next chunk number
        store.append_samples(sid, make_samples(10, start=10))
        store.commit()
        assert len(store.load_samples(sid)) == 20
        assert store.session_summary(sid)["n_samples"] == 20


def test_list_sessions_filters_and_order(store: Store) -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    ids = {}
    for day, (profile, region) in enumerate(
        [
            ("ann", "neck"),
            ("ann", "neck:left"),
            ("bob", "neck"),
            ("ann", "lumbar-paraspinals"),
            ("ann", None),
            ("ann", "neck_x"),
        ]
    ):
        ids[day] = _begin(
            store, profile=profile, region=region, started_at=base + timedelta(days=day)
        )
        store.end_session(ids[day], ended_at=base + timedelta(days=day, minutes=5))
    every = store.list_sessions()
    assert [s["id"] for s in every] == [ids[d] for d in range(5, -1, -1)]
    assert "events" not in every[0] and every[0]["duration_s"] == 300.0
    assert CONTRACT_KEYS - {"events"} <= every[0].keys()
    assert {s["id"] for s in store.list_sessions(profile="bob")} == {ids[2]}
    assert {s["id"] for s in store.list_sessions(region="neck")} == {ids[0], ids[1], ids[2]}
    assert {s["id"] for s in store.list_sessions(region="neck:left")} == {ids[1]}
    got = store.list_sessions(since=base + timedelta(days=1), until=base + timedelta(days=3))
    assert [s["id"] for s in got] == [ids[2], ids[1]]
    assert [s["id"] for s in store.list_sessions(limit=2)] == [ids[5], ids[4]]
    assert store.list_sessions(profile="nobody") == []


def test_list_sessions_with_a_thousand_sessions(store: Store) -> None:
    base = datetime(2023, 1, 1, tzinfo=UTC)
    for k in range(1000):
        sid = _begin(store, started_at=base + timedelta(hours=k))
        if k % 100 == 0:
            store.add_events(sid, [SessionEvent(1.0, "gap", {"start_s": 1.0, "end_s": 2.0})])
        store.set_counters(sid, {"time_over_limit_s": float(k)})
        store.end_session(sid, ended_at=base + timedelta(hours=k, minutes=10))
    every = store.list_sessions()
    assert len(every) == 1000
    assert every[0]["time_over_limit_s"] == 999.0 and every[-1]["time_over_limit_s"] == 0.0
    assert sum(s["gaps"] for s in every) == 10
    assert every[-1]["gap_list"] == [{"start_s": 1.0, "end_s": 2.0, "reason": ""}]
    assert len(store.list_sessions(limit=25)) == 25


def test_begin_session_records_the_recorder(store: Store) -> None:
    sid = _begin(store, started_at=datetime(2024, 3, 1, 12, 0))  # naive: local time
    s = store.session_summary(sid)
    assert s["status"] == "recording" and s["heartbeat_at"] is not None
    row = store._conn().execute("SELECT recorder_pid FROM sessions WHERE id = ?", (sid,)).fetchone()
    assert row[0] == os.getpid()
    expected = datetime(2024, 3, 1, 12, 0).astimezone(UTC)
    assert datetime.fromisoformat(s["started_at"]) == expected


def test_numpy_ids_and_values_are_accepted(
    store: Store, make_samples: Callable[..., JudgedSamples]
) -> None:
    sid = _begin(store, limit_n=np.float32(12.5))
    store.append_samples(np.int64(sid), make_samples(10))  # type: ignore[arg-type]
    store.commit()
    summary = store.session_summary(np.int64(sid))  # type: ignore[arg-type]
    assert summary["limit_n"] == 12.5 and summary["n_samples"] == 10
    assert [s["id"] for s in store.list_sessions(limit=np.int64(1))] == [sid]  # type: ignore[arg-type]
