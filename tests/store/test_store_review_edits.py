"""Editing a session after the fact, and listing sessions by profile, region and local day."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from firmware_bridge.errors import NotFoundError, UsageError
from firmware_bridge.store import Store
from firmware_bridge.store.sessions import MAX_NOTE_CHARS


def _session(store: Store, **kwargs: object) -> int:
    args: dict = {"source": "sim://", "profile": "ann", "region": "neck", "limit_n": 20.0}
    sid = store.begin_session(**(args | kwargs))
    store.end_session(sid)
    return sid


def test_note_and_pain_are_editable_one_at_a_time(store: Store) -> None:
    sid = _session(store)
    out = store.update_session_review(sid, pain_before=6, note="  left side tight  ")
    assert (out["pain_before"], out["pain_after"], out["note"]) == (6.0, None, "left side tight")
    out = store.update_session_review(sid, pain_after=3.5)
    assert (out["pain_before"], out["pain_after"], out["note"]) == (6.0, 3.5, "left side tight")
    out = store.update_session_review(sid, note="", pain_before=None)  # blank / None clear
    assert (out["pain_before"], out["pain_after"], out["note"]) == (None, 3.5, None)
    summary = store.session_summary(sid)
    assert (summary["pain_after"], summary["note"], summary["status"]) == (3.5, None, "ended")


def test_bad_edits_are_refused_and_change_nothing(store: Store) -> None:
    sid = _session(store)
    store.update_session_review(sid, pain_before=5)
    for kwargs in ({"pain_before": 10.5}, {"pain_after": -1}, {"pain_after": "7"},
                   {"note": 42}, {"note": "x" * (MAX_NOTE_CHARS + 1)}):  # fmt: skip
        with pytest.raises(UsageError):
            store.update_session_review(sid, **kwargs)
    assert store.session_summary(sid)["pain_before"] == 5.0
    with pytest.raises(NotFoundError, match="no session 999"):
        store.update_session_review(999, note="x")


@pytest.fixture
def far_east() -> Iterator[None]:
    """Local time is UTC+12 (no DST), so local and UTC days differ for half the day."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TZ", "TEST-12")
    time.tzset()
    yield
    mp.undo()
    time.tzset()


def test_day_filters_use_the_local_calendar_day(store: Store, far_east: None) -> None:
    # 2024-05-01 11:30 UTC is 23:30 on May 1st here; 12:30 UTC is 00:30 on May 2nd.
    may1 = _session(store, started_at=datetime(2024, 5, 1, 11, 30, tzinfo=UTC))
    may2 = _session(store, started_at=datetime(2024, 5, 1, 12, 30, tzinfo=UTC))
    may3 = _session(store, started_at=datetime(2024, 5, 3, 11, 59, tzinfo=UTC))

    def ids(**kw: object) -> list[int]:
        return [s["id"] for s in store.list_sessions(**kw)]

    assert ids(day_from="2024-05-01", day_to="2024-05-01") == [may1]
    assert ids(day_from="2024-05-02", day_to="2024-05-02") == [may2]
    assert ids(day_from="2024-05-02") == [may3, may2]
    assert ids(day_to="2024-05-02") == [may2, may1]
    assert ids(day_from="2024-05-04") == []
    with pytest.raises(UsageError, match="YYYY-MM-DD"):
        store.list_sessions(day_from="May 1")


def test_a_thousand_sessions_filter_by_profile_region_side_and_days(store: Store) -> None:
    base = datetime(2023, 1, 1, 8, 0)  # naive: local time
    regions = ["neck", "neck:left", "neck:right", "lumbar-paraspinals", None]
    expected: dict[int, tuple[str, str | None, int]] = {}
    for k in range(1000):
        profile = ("ann", "bob", "cy")[k % 3]
        region = regions[k % 5]
        sid = store.begin_session(
            source="sim://",
            profile=profile,
            region=region,
            limit_n=20.0,
            started_at=base + timedelta(days=k // 4, hours=k % 4),
        )
        store.set_counters(sid, {"time_over_limit_s": float(k % 7)})
        store.end_session(sid)
        expected[sid] = (profile, region, k // 4)

    def want(pred: object) -> list[int]:
        return sorted((sid for sid, v in expected.items() if pred(*v)), reverse=True)  # type: ignore[operator]

    def got(**kw: object) -> list[int]:
        rows = store.list_sessions(**kw)
        assert all("events" not in r and "pain_before" in r for r in rows)
        return [r["id"] for r in rows]

    assert got() == want(lambda p, r, d: True)
    assert got(profile="bob") == want(lambda p, r, d: p == "bob")
    assert got(region="neck") == want(lambda p, r, d: r is not None and r.startswith("neck"))
    assert got(region="neck:left") == want(lambda p, r, d: r == "neck:left")
    assert got(profile="cy", region="lumbar-paraspinals") == want(
        lambda p, r, d: p == "cy" and r == "lumbar-paraspinals"
    )
    assert got(day_from="2023-02-01", day_to="2023-02-28") == want(lambda p, r, d: 31 <= d <= 58)
    assert (
        got(profile="ann", region="neck", day_from="2023-06-01", limit=10)
        == want(lambda p, r, d: p == "ann" and r is not None and r.startswith("neck") and d >= 151)[
            :10
        ]
    )
    # the plan: the profile filter reads its sessions through an index, in order, no sort
    db = store._conn()
    plan = " | ".join(
        r[3]
        for r in db.execute(
            "EXPLAIN QUERY PLAN SELECT s.* FROM sessions s JOIN profiles p ON p.id = s.profile_id"
            " WHERE p.name = ? AND s.started_at >= ? ORDER BY s.started_at DESC, s.id DESC",
            ("ann", "2023-06-01"),
        )
    )
    assert "sessions_profile" in plan and "TEMP B-TREE" not in plan
