"""Journal page: a quick daily symptom entry (pain, morning stiffness, sleep, activity tolerance,
triggers, a note), today by default and editable for any earlier day; the recent entries; and
deleting one. The entries appear beside the sessions in History → Trends, so a user can see which
doses help and which flare them. Scales and common triggers: :mod:`review.journal`.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import resources
from dashboard.trends_view import RATING_NAMES
from dashboard.views import common
from firmware_bridge.errors import PressureGuardError
from firmware_bridge.store import Store
from firmware_bridge.store.journal import MAX_TRIGGER_CHARS
from review.journal import COMMON_TRIGGERS, SCALES

log = logging.getLogger(__name__)

#: Recent entries listed: this many days back from today.
RECENT_DAYS = 60
PROFILE_KEY = "pg_journal_profile"
DAY_KEY = "pg_journal_day"
TRIGGERS_KEY = "pg_journal_triggers"
OTHER_KEY = "pg_journal_other"
NOTE_KEY = "pg_journal_note"
RECENT_KEY = "pg_journal_recent"
#: Which (profile, day) the form's widgets hold.
_LOADED = "pg_journal_loaded"
_RECENT_DAYS = "pg_journal_recent_days"


def rating_key(key: str) -> str:
    """The widget key of one rating: ``pg_journal_pain``."""
    return f"pg_journal_{key}"


FORM_KEYS = (*(rating_key(s.key) for s in SCALES), TRIGGERS_KEY, OTHER_KEY, NOTE_KEY)


def _profiles(store: Store) -> list[str]:
    try:
        names = [p["name"] for p in store.list_profiles()]
    except PressureGuardError as exc:
        st.error(f"Cannot read the profiles: {exc}")
        names = []
    return names or ["default"]


def _preferred(store: Store) -> str | None:
    """The profile in use: the running bridge's, else the newest session's."""
    try:
        live = resources.fresh_state(store.get_live())
        if live and live.get("profile"):
            return str(live["profile"])
        newest = store.list_sessions(limit=1)
    except PressureGuardError:
        return None
    return str(newest[0]["profile"]) if newest else None


def _entry(store: Store, profile: str, day: date) -> dict[str, Any] | None:
    try:
        found = store.journal(profile, day, day)
    except PressureGuardError as exc:
        st.error(f"Cannot read the journal: {exc}")
        return None
    return found[0] if found else None


def _rating_option(value: Any) -> Any:
    if value is None:
        return common.PAIN_OPTIONS[0]
    rounded = round(float(value))
    return rounded if rounded in common.PAIN_OPTIONS else common.PAIN_OPTIONS[0]


def load_form(entry: dict[str, Any] | None) -> None:
    """Fill the form's widgets from a saved entry (empty for a day without one)."""
    entry = entry or {}
    for scale in SCALES:
        st.session_state[rating_key(scale.key)] = _rating_option(entry.get(scale.key))
    st.session_state[TRIGGERS_KEY] = list(entry.get("triggers") or [])
    st.session_state[OTHER_KEY] = ""
    st.session_state[NOTE_KEY] = entry.get("note") or ""


def triggers_chosen(picked: list[str], other: str) -> list[str]:
    """The picked triggers plus those typed (comma-separated), blanks and repeats dropped."""
    typed = [" ".join(t.split()) for t in other.split(",")]
    out: list[str] = []
    for text in [*picked, *typed]:
        if text and text.casefold() not in (t.casefold() for t in out):
            out.append(text)
    return out


def entry_form(store: Store, profile: str, day: date, entry: dict[str, Any] | None) -> None:
    """The day's entry as a form; Save replaces the day's entry with what the form holds."""
    saved_triggers = list((entry or {}).get("triggers") or [])
    options = [*COMMON_TRIGGERS, *(t for t in saved_triggers if t not in COMMON_TRIGGERS)]
    with st.form("pg_journal_form"):
        cols = st.columns(2)
        values: dict[str, Any] = {}
        for i, scale in enumerate(SCALES):
            values[scale.key] = cols[i % 2].select_slider(
                f"{scale.question} (0 = {scale.low}, 10 = {scale.high})",
                options=common.PAIN_OPTIONS,
                key=rating_key(scale.key),
            )
        picked = st.multiselect(
            "Anything that may have set symptoms off?",
            options,
            key=TRIGGERS_KEY,
            placeholder="Choose any that apply",
        )
        other = st.text_input(
            "Other triggers (separate them with commas)",
            key=OTHER_KEY,
            max_chars=4 * MAX_TRIGGER_CHARS,
        )
        note = st.text_area("Note", key=NOTE_KEY, max_chars=2000, height=90)
        save = st.form_submit_button("Save", icon=":material/save:", key="pg_journal_save")
    if not save:
        return
    try:
        store.save_journal(
            profile,
            day,
            pain=common.pain_value(values["pain"]),
            stiffness=common.pain_value(values["stiffness"]),
            sleep=common.pain_value(values["sleep"]),
            activity=common.pain_value(values["activity"]),
            triggers=triggers_chosen(picked, other),
            note=note,
        )
    except PressureGuardError as exc:
        st.error(f"Could not save: {exc}", icon=":material/error:")
        return
    common.flash("info", f"Saved {profile}'s journal entry for {day:%A %d %B %Y}.")
    st.session_state.pop(_LOADED, None)  # show what was stored (typed triggers join the list)
    st.rerun()


def delete_entry(store: Store, profile: str, day: date) -> None:
    """Delete the day's entry after a confirmation tick."""
    with st.expander(f"Delete the entry for {day.isoformat()}", icon=":material/delete:"):
        sure = st.checkbox(
            f"Yes, delete {profile}'s entry for {day.isoformat()}", key="pg_journal_delete_sure"
        )
        clicked = st.button(
            "Delete entry", key="pg_journal_delete", type="primary", disabled=not sure
        )
    if not (clicked and sure):
        return
    try:
        store.delete_journal(profile, day)
    except PressureGuardError as exc:
        st.error(f"Could not delete: {exc}", icon=":material/error:")
        return
    common.flash("info", f"Deleted the journal entry for {day.isoformat()}.")
    st.session_state.pop(_LOADED, None)
    st.session_state.pop("pg_journal_delete_sure", None)
    st.rerun()


def _rating(value: Any) -> str:
    return "—" if value is None else f"{float(value):g}"


def recent_table(entries: list[dict[str, Any]]) -> pd.DataFrame:
    """Entries newest first, one row a day; a rating not given is ``—``."""
    rows = list(reversed(entries))
    return pd.DataFrame(
        {"Day": [e["day"] for e in rows]}
        | {RATING_NAMES[s.key]: [_rating(e[s.key]) for e in rows] for s in SCALES}
        | {
            "Triggers": [", ".join(e["triggers"]) for e in rows],
            "Note": [e["note"] or "" for e in rows],
        }
    )


def _edit_selected() -> None:
    """The recent list's row-click callback: edit that day."""
    rows = st.session_state.get(RECENT_KEY, {}).get("selection", {}).get("rows") or []
    days = st.session_state.get(_RECENT_DAYS) or []
    if rows and 0 <= rows[0] < len(days):
        st.session_state[DAY_KEY] = date.fromisoformat(days[rows[0]])


def recent_section(store: Store, profile: str, today: date) -> None:
    """The entries of the last :data:`RECENT_DAYS` days; a click on one opens it above."""
    try:
        entries = store.journal(profile, today - timedelta(days=RECENT_DAYS - 1), today)
    except PressureGuardError as exc:
        st.error(f"Cannot read the journal: {exc}")
        return
    st.subheader("Recent entries")
    if not entries:
        st.info(f"No entries for {profile} in the last {RECENT_DAYS} days.")
        return
    st.session_state[_RECENT_DAYS] = [e["day"] for e in reversed(entries)]
    st.dataframe(
        recent_table(entries),
        hide_index=True,
        width="stretch",
        key=RECENT_KEY,
        on_select=_edit_selected,
        selection_mode="single-row",
        column_config={"Day": st.column_config.TextColumn(width=95)}
        | {RATING_NAMES[s.key]: st.column_config.TextColumn(help=s.question) for s in SCALES},
    )
    st.caption(
        "Pain and stiffness: 0 = none, 10 = worst. Sleep and activity: 0 = worst, 10 = best. "
        "Click a row to change that day."
    )


st.title("Journal")
st.markdown(
    "A quick note of how you are each day. It appears beside your sessions in "
    "**History → Trends**, so you can see which sessions help and what flares you up."
)
store = common.store_or_stop()
common.show_flash()

today = date.today()
profiles = _profiles(store)
if st.session_state.get(PROFILE_KEY) not in profiles:
    preferred = _preferred(store)
    st.session_state[PROFILE_KEY] = preferred if preferred in profiles else profiles[0]
cols = st.columns(2)
profile = str(cols[0].selectbox("Profile", profiles, key=PROFILE_KEY))
if not isinstance(st.session_state.get(DAY_KEY), date):
    st.session_state[DAY_KEY] = today
picked_day = cols[1].date_input("Day", max_value=today, key=DAY_KEY, format="YYYY-MM-DD")
day = picked_day if isinstance(picked_day, date) else today

entry = _entry(store, profile, day)
wanted = (profile, day.isoformat())
if st.session_state.get(_LOADED) != wanted or any(k not in st.session_state for k in FORM_KEYS):
    load_form(entry)
    st.session_state[_LOADED] = wanted
when = "today" if day == today else f"{day:%A %d %B %Y}"
if entry is None:
    st.markdown(f"**New entry for {when}.** Fill in what you like; anything left out is fine.")
else:
    st.markdown(f"**Your entry for {when}** (saved {resources.local_time(entry['updated_at'])}).")
entry_form(store, profile, day, entry)
if entry is not None:
    delete_entry(store, profile, day)
recent_section(store, profile, today)
