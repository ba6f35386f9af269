"""The Journal page with AppTest, on a real store in a temporary PRESSUREGUARD_HOME: a day's entry
saved, listed, edited for another day, and deleted after a confirmation."""

from __future__ import annotations

from datetime import date, timedelta

from dashboard_helpers import PAGES
from streamlit.testing.v1 import AppTest

from firmware_bridge.store import Store

TODAY = date.today()


def page() -> AppTest:
    return AppTest.from_file(str(PAGES / "journal.py"), default_timeout=30)


def texts(at: AppTest) -> str:
    """Everything the page says, in one string."""
    parts: list[str] = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "title"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def test_todays_entry_saves_and_is_listed(store: Store) -> None:
    store.ensure_profile("anna")
    at = page().run()
    assert not at.exception
    at.selectbox(key="pg_journal_profile").select("anna").run()
    assert at.date_input(key="pg_journal_day").value == TODAY
    assert "New entry for today" in texts(at)
    at.select_slider(key="pg_journal_pain").set_value(6)
    at.select_slider(key="pg_journal_stiffness").set_value(4)
    at.select_slider(key="pg_journal_sleep").set_value(3)
    at.multiselect(key="pg_journal_triggers").select("long drive").select("poor sleep")
    at.text_input(key="pg_journal_other").input("gardening,  Long Drive , ")
    at.text_area(key="pg_journal_note").input("stiff neck after the drive")
    at.button(key="pg_journal_save").click().run()
    assert not at.exception
    (entry,) = store.journal("anna")
    assert entry["day"] == TODAY.isoformat()
    assert (entry["pain"], entry["stiffness"], entry["sleep"], entry["activity"]) == (
        6,
        4,
        3,
        None,
    )
    assert entry["triggers"] == ["long drive", "poor sleep", "gardening"]
    assert entry["note"] == "stiff neck after the drive"
    assert "Saved anna's journal entry" in texts(at)
    recent = at.dataframe(key="pg_journal_recent").value
    assert list(recent["Day"]) == [TODAY.isoformat()]
    assert recent.iloc[0]["Triggers"] == "long drive, poor sleep, gardening"
    # The form now shows the saved entry, typed triggers among the choices.
    assert "Your entry for today" in texts(at)
    assert at.multiselect(key="pg_journal_triggers").value == [
        "long drive",
        "poor sleep",
        "gardening",
    ]
    assert at.text_input(key="pg_journal_other").value == ""


def test_another_day_loads_its_entry_and_saves_over_it(store: Store) -> None:
    earlier = TODAY - timedelta(days=3)
    store.save_journal("default", earlier, pain=8, activity=2, triggers=["heavy lifting"])
    at = page().run()
    assert at.select_slider(key="pg_journal_pain").value == "not rated"
    at.date_input(key="pg_journal_day").set_value(earlier).run()
    assert at.select_slider(key="pg_journal_pain").value == 8
    assert at.select_slider(key="pg_journal_activity").value == 2
    assert at.multiselect(key="pg_journal_triggers").value == ["heavy lifting"]
    at.select_slider(key="pg_journal_pain").set_value(5)
    at.button(key="pg_journal_save").click().run()
    (entry,) = store.journal("default")
    assert (entry["day"], entry["pain"], entry["activity"]) == (earlier.isoformat(), 5, 2)
    # Back to today: an empty form again.
    at.date_input(key="pg_journal_day").set_value(TODAY).run()
    assert at.select_slider(key="pg_journal_pain").value == "not rated"
    assert at.multiselect(key="pg_journal_triggers").value == []


def test_an_empty_entry_is_refused(store: Store) -> None:
    at = page().run()
    at.button(key="pg_journal_save").click().run()
    assert "Could not save" in at.error[0].value
    assert store.journal("default") == []


def test_deleting_an_entry_needs_a_confirmation(store: Store) -> None:
    store.save_journal("default", TODAY, pain=4, note="ok day")
    store.save_journal("default", TODAY - timedelta(days=1), pain=5)
    at = page().run()
    assert at.button(key="pg_journal_delete").disabled  # AppTest, like a browser, can't click it
    at.checkbox(key="pg_journal_delete_sure").check().run()
    at.button(key="pg_journal_delete").click().run()
    assert not at.exception
    assert [e["day"] for e in store.journal("default")] == [(TODAY - timedelta(days=1)).isoformat()]
    assert f"Deleted the journal entry for {TODAY.isoformat()}" in texts(at)
    assert "New entry for today" in texts(at)
    assert at.select_slider(key="pg_journal_pain").value == "not rated"
    assert not [b for b in at.button if b.key == "pg_journal_delete"]


def test_the_journal_starts_with_the_newest_sessions_profile(store: Store) -> None:
    store.ensure_profile("anna")
    sid = store.begin_session(source="sim://", profile="bo", region=None, limit_n=None)
    store.end_session(sid)
    at = page().run()
    assert at.selectbox(key="pg_journal_profile").value == "bo"
