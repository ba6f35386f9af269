"""The History page's "One session" tab: which session, its curve, its numbers in words and cards,
what the user said about it (pain ratings and note, editable), its files, and deleting it.

The curve is :mod:`dashboard.components.session_chart` (zoomable, decimated so every peak
stays); the numbers are :func:`review.stats.session_stats` (:mod:`dashboard.history_stats`).

The curve comes first. The browser loads the code of every kind of element a run sends before it
shows any of them, so the first time a browser session draws a session's chart, the rest of the
tab (numbers, ratings, files) is sent only once the chart says its curve is drawn: the curve then
never waits for the code of a table or a slider.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import streamlit as st

from dashboard import curve_api, history_exchange, history_list, history_stats, resources
from dashboard.components.session_chart import session_chart
from dashboard.views import common
from firmware_bridge.errors import NotFoundError, PressureGuardError, UsageError
from firmware_bridge.readout import Readout, chosen_unit, describe, readout
from firmware_bridge.store import Store

log = logging.getLogger(__name__)

CHART_HEIGHT = 380
PICKER_KEY = "pg_hist_session"
COMPARE_TAB = "Compare"
#: Session state: True once a session chart has drawn its curve in this browser session.
CHART_DRAWN = "pg_hist_chart_drawn"

#: Recorded events worth telling about: kind → (one, several).
EVENT_WORDS: dict[str, tuple[str, str]] = {
    "ramp": ("“slow down” warning", "“slow down” warnings"),
    "prewarn": ("pre-warning before the limit", "pre-warnings before the limit"),
    "prewarn_eased": ("pre-warning eased off in time", "pre-warnings eased off in time"),
    "hold": ("prompt to release a long hold", "prompts to release a long hold"),
    "button": ("button press", "button presses"),
    "saturated": ("moment the sensor was overloaded", "moments the sensor was overloaded"),
    "adc_fault": ("sensor fault", "sensor faults"),
    "clock_reset": ("tool restart", "tool restarts"),
    "fault": ("fault", "faults"),
}


def session_label(summary: dict[str, Any]) -> str:
    """``#12 · 2024-03-01 18:05 · Calf (left) · anna``."""
    return (
        f"#{summary['id']} · {resources.local_time(summary['started_at'])} · "
        f"{resources.region_label(summary['region'])} · {summary['profile']}"
    )


def curve(
    session_id: int,
    *,
    key: str,
    compare_id: int | None = None,
    on_drawn: Callable[[], None] | None = None,
    shown: Readout | None = None,
) -> None:
    """The zoomable session chart (with a second session overlaid when ``compare_id``); see
    :func:`~dashboard.components.session_chart.session_chart` for ``on_drawn`` and ``shown``."""
    session_chart(
        session_id,
        compare_id=compare_id,
        height=CHART_HEIGHT,
        key=key,
        on_drawn=on_drawn,
        shown=shown,
    )


def _chart_drawn() -> None:
    st.session_state[CHART_DRAWN] = True


def pick(store: Store, sessions: list[dict[str, Any]], key: str, label: str) -> int | None:
    """A session picker over the listed sessions (plus the open one, when the filters hide it).

    The picker starts at :func:`history_list.chosen_id` (else the newest listed) and, when
    changed, opens the session it shows.

    Returns:
        The picked id, or None when there is nothing to pick.
    """
    by_id = {int(s["id"]): s for s in sessions}
    chosen = history_list.chosen_id()
    if chosen is not None and chosen not in by_id:
        try:
            by_id = {chosen: store.session_summary(chosen)} | by_id
        except NotFoundError:
            history_list.choose(None)
            chosen = None
        except PressureGuardError as exc:
            st.error(f"Cannot read session {chosen}: {exc}")
    if not by_id:
        return None
    if st.session_state.get(key) not in by_id:
        st.session_state[key] = chosen if chosen in by_id else next(iter(by_id))
    picked = st.selectbox(
        label,
        list(by_id),
        format_func=lambda i: session_label(by_id[i]),
        key=key,
        on_change=lambda: history_list.remember(st.session_state.get(key)),
    )
    return int(picked) if picked is not None else None


def _status(summary: dict[str, Any], live_session: int | None) -> None:
    """Say when a session is not a finished, whole recording."""
    status = summary["status"]
    if status == "recording" and summary["id"] == live_session:
        st.info(
            "This session is being recorded right now: the numbers below are as of this moment.",
            icon=":material/radio_button_checked:",
        )
    elif status == "recording":
        st.warning(
            "This session was never closed and no bridge is recording it: PressureGuard may have "
            "stopped unexpectedly. It holds what was recorded until then.",
            icon=":material/warning:",
        )
    elif status == "recovered":
        reason = summary.get("end_reason") or "it stopped unexpectedly"
        st.warning(
            f"This session was interrupted ({reason}). It holds everything recorded up to then.",
            icon=":material/warning:",
        )


def _events_line(by_kind: dict[str, int]) -> str | None:
    parts = [
        f"{n} {words[n != 1]}" for kind, words in EVENT_WORDS.items() if (n := by_kind.get(kind, 0))
    ]
    return "During the session: " + ", ".join(parts) + "." if parts else None


def _pain_index(value: Any) -> Any:
    """The pain slider's option for a stored rating (ratings are whole numbers 0–10 here)."""
    if value is None:
        return common.PAIN_OPTIONS[0]
    rounded = round(float(value))
    return rounded if rounded in common.PAIN_OPTIONS else common.PAIN_OPTIONS[0]


def review_form(store: Store, summary: dict[str, Any]) -> None:
    """Pain before and after (0–10) and the note, saved to the store."""
    sid = int(summary["id"])
    with st.form(f"pg_hist_review_{sid}", border=True):
        st.markdown("**How it went** (you can change this any time)")
        cols = st.columns(2)
        before = cols[0].select_slider(
            "Pain before the session (0 = none, 10 = worst)",
            options=common.PAIN_OPTIONS,
            value=_pain_index(summary["pain_before"]),
            key=f"pg_hist_pain_before_{sid}",
        )
        after = cols[1].select_slider(
            "Pain after the session",
            options=common.PAIN_OPTIONS,
            value=_pain_index(summary["pain_after"]),
            key=f"pg_hist_pain_after_{sid}",
        )
        note = st.text_area(
            "Note",
            value=summary["note"] or "",
            max_chars=2000,
            height=90,
            key=f"pg_hist_note_{sid}",
            placeholder="What you worked on, how it felt, anything to remember next time",
        )
        saved = st.form_submit_button("Save", icon=":material/save:", key=f"pg_hist_save_{sid}")
    if not saved:
        return
    # Only what the user changed: a stored 5.5 shown on the whole-number slider stays 5.5.
    changes: dict[str, Any] = {"note": note}
    for field, value in (("pain_before", before), ("pain_after", after)):
        if value != _pain_index(summary[field]):
            changes[field] = common.pain_value(value)
    try:
        store.update_session_review(sid, **changes)
    except (PressureGuardError, UsageError) as exc:
        st.error(f"Could not save: {exc}", icon=":material/error:")
        return
    common.flash("info", f"Saved your ratings and note for session #{sid}.")
    st.rerun()


def delete_section(store: Store, summary: dict[str, Any]) -> None:
    """Delete the session, after the user types its number to confirm."""
    sid = int(summary["id"])
    with st.expander(f"Delete session #{sid}", icon=":material/delete:"):
        st.markdown(
            f"This removes session #{sid} and its {summary['n_samples']:,} readings for good. "
            "Download it first if you may want it back (it can be imported again)."
        )
        typed = st.text_input(
            f"To confirm, type the session number ({sid})", key=f"pg_hist_delete_text_{sid}"
        )
        confirmed = typed.strip().lstrip("#") == str(sid)
        clicked = st.button(
            f"Delete session #{sid}",
            type="primary",
            disabled=not confirmed,
            key=f"pg_hist_delete_{sid}",
            icon=":material/delete_forever:",
        )
    if not clicked:
        return
    if not confirmed:  # a click that raced the typing: never delete unconfirmed
        st.error(f"Type {sid} in the box to confirm the deletion.")
        return
    try:
        store.delete_session(sid)
    except PressureGuardError as exc:
        st.error(f"Could not delete session #{sid}: {exc}", icon=":material/error:")
        return
    log.info("session %d deleted from the History page", sid)
    common.flash("info", f"Session #{sid} was deleted.")
    history_list.choose(None)
    st.rerun()


def _to_compare() -> None:
    st.session_state[history_list.TAB_KEY] = COMPARE_TAB


def session_tab(store: Store, sessions: list[dict[str, Any]], live_session: int | None) -> None:
    """The whole "One session" tab.

    Args:
        store: the open store.
        sessions: the listed sessions (the picker's choices).
        live_session: the session a running bridge is recording, if any.
    """
    sid = pick(store, sessions, PICKER_KEY, "Session")
    if sid is None:
        st.info("No session matches the filters.")
        return
    curve_api.warm(sid)  # the chart will ask for it; a curve already kept costs nothing
    try:
        summary = store.session_summary(sid)
    except PressureGuardError as exc:
        st.error(f"Cannot read session {sid}: {exc}")
        return
    _status(summary, live_session)
    unit, area = chosen_unit(store), summary["tip_area_cm2"]
    st.caption(
        f"Profile {summary['profile']} · {resources.tip_words(summary['tip'], area)} · source "
        f"`{summary['source']}` · {summary['n_samples']:,} readings · comfort limit "
        f"{describe(summary['limit_n'], unit, area)}"
    )
    curve(sid, key="pg_hist_chart", on_drawn=_chart_drawn, shown=readout(unit, area))
    if not st.session_state.get(CHART_DRAWN):
        st.caption("The session's numbers, your ratings and its files follow the curve.")
        # the chart's callback reruns the page once the curve is drawn; should it never say so
        # (its code blocked in this browser), the rest is one click away
        st.button("Show them now", key="pg_hist_show_rest", on_click=_chart_drawn)
        return
    st.button(
        "Compare with another session",
        key="pg_hist_to_compare",
        on_click=_to_compare,
        icon=":material/compare_arrows:",
    )
    stats = history_stats.stats_for(store, summary)
    if stats is not None:
        st.markdown(" ".join(history_stats.stats_words(stats)))
        events = _events_line(stats.events_by_kind)
        if events:
            st.markdown(events)
        history_stats.stats_cards(stats, unit, area)
        zones = history_stats.zone_table(stats)
        if len(zones):
            st.dataframe(zones, hide_index=True, key="pg_hist_zones")
    left, right = st.columns([3, 2])
    with left:
        review_form(store, summary)
    with right:
        st.markdown("**Files**")
        history_exchange.download_buttons(store, sid, int(summary["n_samples"]))
        delete_section(store, summary)
