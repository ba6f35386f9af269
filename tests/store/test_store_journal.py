"""The symptom journal: one entry per profile and day, saved whole, read by date range."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from firmware_bridge.errors import NotFoundError, UsageError
from firmware_bridge.store import DB_NAME, SCHEMA_VERSION, Store
from firmware_bridge.store.schema import MIGRATIONS, migrate, schema_version


def test_a_day_is_saved_read_and_replaced_whole(store: Store) -> None:
    first = store.save_journal(
        "ann",
        "2024-05-02",
        pain=6,
        stiffness=4.5,
        sleep=3,
        activity=5,
        triggers=["long drive", "Long  drive", " cold weather "],
        note=" slept badly ",
    )
    [entry] = store.journal("ann")
    assert entry | {"updated_at": None} == {
        "id": first,
        "profile": "ann",
        "day": "2024-05-02",
        "pain": 6.0,
        "stiffness": 4.5,
        "sleep": 3.0,
        "activity": 5.0,
        "triggers": ["long drive", "cold weather"],
        "note": "slept badly",
        "updated_at": None,
    }
    # saving the day again replaces the entry (a form saves what it shows), same id
    again = store.save_journal("ann", date(2024, 5, 2), pain=4)
    [entry] = store.journal("ann")
    assert again == first
    assert (entry["pain"], entry["sleep"], entry["triggers"], entry["note"]) == (
        4.0,
        None,
        [],
        None,
    )


def test_entries_by_profile_and_date_range_oldest_first(store: Store) -> None:
    for day in ("2024-05-03", "2024-05-01", "2024-05-10"):
        store.save_journal("ann", day, pain=2)
    store.save_journal("bob", "2024-05-03", sleep=8)
    assert [e["day"] for e in store.journal("ann")] == ["2024-05-01", "2024-05-03", "2024-05-10"]
    assert [e["day"] for e in store.journal("ann", "2024-05-02", date(2024, 5, 10))] == [
        "2024-05-03",
        "2024-05-10",
    ]
    assert [e["day"] for e in store.journal("ann", day_to="2024-05-03")] == [
        "2024-05-01",
        "2024-05-03",
    ]
    assert [e["profile"] for e in store.journal("bob")] == ["bob"]
    assert store.journal("nobody") == []


def test_delete_a_day(store: Store) -> None:
    store.save_journal("ann", "2024-05-01", pain=2)
    store.save_journal("ann", "2024-05-02", pain=3)
    store.delete_journal("ann", "2024-05-01")
    assert [e["day"] for e in store.journal("ann")] == ["2024-05-02"]
    with pytest.raises(NotFoundError, match="no journal entry of ann for 2024-05-01"):
        store.delete_journal("ann", "2024-05-01")
    with pytest.raises(NotFoundError):
        store.delete_journal("nobody", "2024-05-02")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"day": "2024-13-01", "pain": 1}, "YYYY-MM-DD"),
        ({"day": "yesterday", "pain": 1}, "YYYY-MM-DD"),
        ({"day": "2024-05-01", "pain": 11}, "between 0 and 10"),
        ({"day": "2024-05-01", "sleep": -1}, "between 0 and 10"),
        ({"day": "2024-05-01", "activity": float("nan")}, "finite"),
        ({"day": "2024-05-01", "stiffness": "bad"}, "number"),
        ({"day": "2024-05-01", "triggers": "long drive"}, "list"),
        ({"day": "2024-05-01", "triggers": [""]}, "non-empty"),
        ({"day": "2024-05-01", "triggers": ["x" * 61]}, "60 characters"),
        ({"day": "2024-05-01", "triggers": [f"t{i}" for i in range(21)]}, "20 triggers"),
        ({"day": "2024-05-01"}, "empty"),
        ({"day": "2024-05-01", "note": "   "}, "empty"),
    ],
)
def test_malformed_entries_are_refused_and_nothing_is_saved(
    store: Store, kwargs: dict, message: str
) -> None:
    day = kwargs.pop("day")
    with pytest.raises(UsageError, match=message):
        store.save_journal("ann", day, **kwargs)
    assert store.journal("ann") == []


def test_a_version_3_store_gains_the_journal_and_keeps_its_sessions(tmp_path: Path) -> None:
    raw = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None)
    try:
        assert migrate(raw, "test", MIGRATIONS[:3]) == 3
        raw.execute(
            "INSERT INTO sessions (started_at, source, profile_id, region, status, n_samples)"
            " VALUES ('2024-05-01T09:00:00.000+00:00', 'sim://', 1, 'neck', 'ended', 0)"
        )
    finally:
        raw.close()
    with Store.open(tmp_path) as store:
        [session] = store.list_sessions()
        assert session["region"] == "neck" and session["status"] == "ended"
        store.save_journal("default", "2024-05-01", pain=3)
        assert store.journal("default")[0]["pain"] == 3.0
    raw = sqlite3.connect(tmp_path / DB_NAME)
    try:
        assert schema_version(raw, "test") == SCHEMA_VERSION >= 4
        columns = {r[1] for r in raw.execute("PRAGMA table_info(sessions)")}
        assert "compacted_at" in columns
    finally:
        raw.close()
