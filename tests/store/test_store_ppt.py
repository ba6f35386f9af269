"""Pressure-pain-threshold measurements in the store, and a profile's settings read on their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from firmware_bridge.errors import NotFoundError, UsageError
from firmware_bridge.store import Store


def trial(ppt_n: float | None, accepted: bool = True, reason: str = "ok") -> dict[str, Any]:
    return {
        "accepted": accepted,
        "reason": reason,
        "ppt_n": ppt_n,
        "ppt_kpa": None,
        "ramp_kpa_s": 50.0 if accepted else 150.0,
        "duration_s": 2.0,
        "mark_t": 3.5,
    }


THREE = [trial(10.0), trial(11.0), trial(12.0)]


def add(store: Store, profile: str = "ann", region: str = "forearm:left", **kw: Any) -> int:
    fields: dict[str, Any] = {
        "ppt_n": 11.0,
        "trials": THREE,
        "n": 3,
        "attempts": 3,
        "fraction": 1.0,
    } | kw
    return store.add_ppt(profile, region, **fields)


def test_a_measurement_keeps_every_trial_and_comes_back_whole(tmp_path: Path) -> None:
    trials = [trial(10.0), trial(14.0, False, "pressed too fast: 150 kPa/s"), *THREE[1:]]
    with Store.open(tmp_path) as store:
        ppt_id = store.add_ppt(
            "ann",
            "forearm:left",
            ppt_n=11.0,
            trials=trials,
            tip="disc-1cm2",
            tip_area_cm2=1.0,
            mean_2_3_n=11.5,
            sd_n=1.0,
            n=3,
            attempts=4,
            fraction=0.8,
            note="after a warm shower",
        )
    with Store.open(tmp_path) as store:  # a new process sees the same
        (row,) = store.ppt_history("ann")
        assert "ann" in [p["name"] for p in store.list_profiles()]  # created on the way
    assert row["id"] == ppt_id and row["profile"] == "ann" and row["profile_id"] > 1
    assert (row["region"], row["tip"], row["tip_area_cm2"]) == ("forearm:left", "disc-1cm2", 1.0)
    assert (row["ppt_n"], row["mean_2_3_n"], row["sd_n"]) == (11.0, 11.5, 1.0)
    assert (row["n"], row["attempts"], row["fraction"]) == (3, 4, 0.8)
    assert row["trials"] == trials  # decoded, the rejected one included
    assert row["limit_id"] is None and row["note"] == "after a warm shower"
    assert row["measured_at"].endswith("+00:00")


def test_history_is_oldest_first_and_filters_by_region_and_tip(store: Store) -> None:
    first = add(store, ppt_n=10.0)
    add(store, ppt_n=20.0, tip="knob")
    add(store, region="forearm:right", ppt_n=9.0)
    third = add(store, ppt_n=12.0)
    add(store, profile="bob", ppt_n=30.0)

    assert [r["ppt_n"] for r in store.ppt_history("ann")] == [10.0, 20.0, 9.0, 12.0]
    any_tip = store.ppt_history("ann", "forearm:left")
    assert [r["id"] for r in any_tip] == [first, third]
    assert all(r["tip"] is None for r in any_tip)  # '' in the table: any tip
    assert [r["ppt_n"] for r in store.ppt_history("ann", "forearm:left", "knob")] == [20.0]
    assert store.ppt_history("nobody") == []
    assert "nobody" not in [p["name"] for p in store.list_profiles()]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ppt_n": 0.0}, "more than 0"),
        ({"ppt_n": float("nan")}, "finite"),
        ({"n": 0}, "accepted trials"),
        ({"attempts": 2}, "attempts"),  # fewer attempts than accepted trials
        ({"trials": THREE[:2]}, "every trial"),
        ({"trials": ["ok", "ok", "ok"]}, "trial records"),
        ({"fraction": 1.2}, "at most 1"),
        ({"fraction": 0.0}, "more than 0"),
        ({"tip_area_cm2": -1.0}, "tip area"),
        ({"sd_n": -0.5}, "negative"),
    ],
)
def test_malformed_measurements_are_refused_and_nothing_is_stored(
    store: Store, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        add(store, **change)
    assert store.ppt_history("ann") == []


def test_the_accepted_limit_is_linked_to_its_measurement(store: Store) -> None:
    ppt_id = add(store)
    limit_id = store.set_limit("ann", "forearm:left", 11.0, "measured", note="PPT 11 N")
    store.link_ppt_limit(ppt_id, limit_id)
    assert store.ppt_history("ann")[0]["limit_id"] == limit_id

    other_region = store.set_limit("ann", "calf", 11.0, "manual")
    with pytest.raises(UsageError, match="another profile or region"):
        store.link_ppt_limit(ppt_id, other_region)
    with pytest.raises(NotFoundError, match="measurement 999"):
        store.link_ppt_limit(999, limit_id)
    with pytest.raises(NotFoundError, match="limit 999"):
        store.link_ppt_limit(ppt_id, 999)
    assert store.ppt_history("ann")[0]["limit_id"] == limit_id  # unchanged by the failures


def test_profile_settings_reads_one_profile_without_creating_it(store: Store) -> None:
    assert store.profile_settings("ghost") == {}
    assert "ghost" not in [p["name"] for p in store.list_profiles()]
    store.update_profile_settings("ann", {"sensitive": True, "precautions": ["bleeding"]})
    store.update_profile_settings("bob", {"sensitive": False})
    assert store.profile_settings("ann") == {"sensitive": True, "precautions": ["bleeding"]}
    assert store.profile_settings("default") == {}
    with pytest.raises(UsageError, match="profile"):
        store.profile_settings(" ")
