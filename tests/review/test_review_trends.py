"""Trends per region: sessions, PPTs and journal days over weeks, with the caveats."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import numpy as np
import pytest

from firmware_bridge.errors import UsageError
from firmware_bridge.store import Store
from review.journal import COMMON_TRIGGERS, SCALES
from review.trends import CAVEATS, MIN_WEEKS, matches_region, region_trends
from tests.review.conftest import write_session

DAY0 = date(2024, 3, 4)  # a Monday


def _session(store: Store, day: int, region: str, peak: float, pain: tuple, profile="ann") -> int:
    started = datetime.combine(DAY0 + timedelta(days=day), datetime.min.time()) + timedelta(
        hours=10
    )
    t = np.arange(100) / 10.0
    sid = write_session(
        store,
        t,
        np.linspace(0, peak, 100),
        profile=profile,
        region=region,
        limit_n=20.0,
        started_at=started,
        counters={"time_over_limit_s": float(day)},
    )
    store.update_session_review(sid, pain_before=pain[0], pain_after=pain[1])
    return sid


def _ppt(store: Store, day: int, region: str, value: float) -> None:
    trials = [{"accepted": True, "ppt_n": value}] * 3
    pid = store.add_ppt(
        "ann", region, ppt_n=value, trials=trials, n=3, attempts=3, fraction=0.8, tip_area_cm2=1.0
    )
    when = datetime.combine(DAY0 + timedelta(days=day), datetime.min.time()) + timedelta(hours=9)
    stamp = when.astimezone().isoformat(timespec="milliseconds")
    store._conn().execute("UPDATE ppt_measurements SET measured_at = ? WHERE id = ?", (stamp, pid))


@pytest.fixture
def history(store: Store) -> Store:
    for day, peak, pain in ((0, 18, (6, 5)), (7, 22, (6, 4)), (14, 19, (5, None)),
                            (35, 17, (5, 3)), (42, 16, (4, 2))):  # fmt: skip
        _session(store, day, "neck:left", peak, pain)
    _session(store, 7, "neck:right", 12, (6, 6))
    _session(store, 14, "lumbar-paraspinals", 30, (7, 7))
    _session(store, 7, "neck:left", 40, (9, 9), profile="bob")
    for day, value in ((0, 30.0), (7, 32.0), (14, 31.0), (42, 45.0)):
        _ppt(store, day, "neck:left", value)
    _ppt(store, 7, "neck:right", 28.0)
    for day in range(4):
        store.save_journal(
            "ann", DAY0 + timedelta(days=day), pain=3 + day, sleep=7 - day, triggers=["long drive"]
        )
    store.save_journal("ann", DAY0 + timedelta(days=9), stiffness=5, triggers=["cold weather"])
    return store


def test_everything_of_a_profile_over_weeks(history: Store) -> None:
    out = region_trends(history, "ann")
    json.dumps(out, allow_nan=False)
    assert [s["day"] for s in out["sessions"]] == [
        "2024-03-04", "2024-03-11", "2024-03-11", "2024-03-18", "2024-03-18", "2024-04-08",
        "2024-04-15",
    ]  # fmt: skip
    first = out["sessions"][0]
    assert first["region"] == "neck:left" and first["week"] == "2024-W10"
    assert first["peak_n"] == pytest.approx(18.0) and first["peak_pct_of_limit"] == pytest.approx(
        90
    )
    assert (first["pain_before"], first["pain_after"], first["pain_change"]) == (6.0, 5.0, -1.0)
    assert first["time_over_limit_s"] == 0.0
    assert [r["region"] for r in out["regions"]] == [
        "lumbar-paraspinals", "neck:left", "neck:right"]  # fmt: skip
    left = out["regions"][1]
    assert left["sessions"] == 5 and (left["first_day"], left["last_day"]) == (
        "2024-03-04", "2024-04-15")  # fmt: skip
    assert [p["ppt_n"] for p in left["ppt"]] == [30.0, 32.0, 31.0, 45.0]
    assert left["ppt"][0]["ppt_kpa"] == pytest.approx(300.0)
    [progress] = left["ppt_progress"]
    assert progress["n"] == 4 and progress["verdict"] in ("higher", "within_noise")
    week11 = [w for w in out["weekly"] if w["week"] == "2024-W11" and w["region"] == "neck:left"]
    assert week11 == [
        {"region": "neck:left", "week": "2024-W11", "sessions": 1, "peak_n_median": 22.0,
         "time_over_limit_s": 7.0, "pain_change_mean": -2.0, "ppt_n_mean": 32.0}
    ]  # fmt: skip
    assert [e["day"] for e in out["journal"]] == [
        "2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07", "2024-03-13"]  # fmt: skip
    weeks = {w["week"]: w for w in out["journal_weekly"]}
    assert weeks["2024-W10"]["days"] == 4 and weeks["2024-W10"]["pain"] == pytest.approx(4.5)
    assert weeks["2024-W10"]["triggers"] == {"long drive": 4}
    assert weeks["2024-W11"]["stiffness"] == 5.0 and weeks["2024-W11"]["pain"] is None
    assert out["weeks_covered"] == pytest.approx(6.0) and out["enough_weeks"]
    assert out["caveats"] == list(CAVEATS)


def test_one_region_with_or_without_side_and_a_date_range(history: Store) -> None:
    neck = region_trends(history, "ann", region="neck")
    assert {s["region"] for s in neck["sessions"]} == {"neck:left", "neck:right"}
    assert [r["region"] for r in neck["regions"]] == ["neck:left", "neck:right"]

    left = region_trends(
        history, "ann", "neck:left", day_from="2024-03-11", day_to=date(2024, 4, 8)
    )
    assert [s["day"] for s in left["sessions"]] == ["2024-03-11", "2024-03-18", "2024-04-08"]
    assert left["sessions"][1]["pain_change"] is None  # no rating after
    [region] = left["regions"]
    assert [p["day"] for p in region["ppt"]] == ["2024-03-11", "2024-03-18"]
    assert region["ppt_progress"][0]["n"] == 4  # the baseline is judged on the whole history
    assert [e["day"] for e in left["journal"]] == ["2024-03-13"]
    assert left["weeks_covered"] == pytest.approx(4.0) and not left["enough_weeks"]
    assert left["caveats"][:-1] == list(CAVEATS) and "too early" in left["caveats"][-1]
    assert (left["day_from"], left["day_to"]) == ("2024-03-11", "2024-04-08")


def test_nothing_recorded_yet_and_bad_days(store: Store) -> None:
    out = region_trends(store, "nobody")
    assert out["sessions"] == out["regions"] == out["journal"] == out["weekly"] == []
    assert out["weeks_covered"] == 0.0 and not out["enough_weeks"]
    with pytest.raises(UsageError):
        region_trends(store, "ann", day_from="last week")


def test_caveats_and_vocabulary() -> None:
    text = " ".join(CAVEATS)
    assert "different" in text and f"{MIN_WEEKS} weeks" in text and "single session" in text
    assert "long drive" in COMMON_TRIGGERS and "heavy lifting" in COMMON_TRIGGERS
    assert [s.key for s in SCALES] == ["pain", "stiffness", "sleep", "activity"]
    assert matches_region("neck:left", "neck") and not matches_region("neck-x", "neck")
    assert matches_region("neck", None) and not matches_region(None, "neck")
    assert not matches_region("neck:right", "neck:left")
