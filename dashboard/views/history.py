"""History page: past sessions from the store, and one session's curve against its limit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import resources
from dashboard.feed import decimate_minmax
from dashboard.views import common
from firmware_bridge.errors import PressureGuardError
from firmware_bridge.store import Store

#: Sessions listed at most (newest first).
MAX_ROWS = 500
#: Points drawn for one session's curve (min/max decimated, so peaks stay).
CURVE_POINTS = 3000

STATUS_WORDS = {"ended": "ended", "recording": "recording now", "recovered": "interrupted"}


def _pain(value: Any) -> str:
    return "—" if value is None else f"{value:g}"


def _status(summary: dict[str, Any], live_session: int | None) -> str:
    if summary["status"] == "recording" and summary["id"] != live_session:
        return "not closed (no bridge is recording it)"
    return STATUS_WORDS.get(summary["status"], summary["status"])


def sessions_table(sessions: list[dict[str, Any]], live_session: int | None = None) -> pd.DataFrame:
    """The table shown: one row per session, in words and units a user reads.

    Args:
        sessions: ``Store.list_sessions()`` summaries.
        live_session: the session a running bridge is recording, if any.
    """
    return pd.DataFrame(
        {
            "Session": [s["id"] for s in sessions],
            "Date": [resources.local_time(s["started_at"]) for s in sessions],
            "Profile": [s["profile"] for s in sessions],
            "Body region": [resources.region_label(s["region"]) for s in sessions],
            "Duration": [resources.duration(s["duration_s"]) for s in sessions],
            "Peak (N)": [_one_decimal(s["peak_n"]) for s in sessions],
            "Limit (N)": [_one_decimal(s["limit_n"]) for s in sessions],
            "Time over limit (s)": [round(float(s["time_over_limit_s"]), 1) for s in sessions],
            "Pain before": [_pain(s["pain_before"]) for s in sessions],
            "Pain after": [_pain(s["pain_after"]) for s in sessions],
            "Status": [_status(s, live_session) for s in sessions],
        }
    )


def _one_decimal(value: Any) -> str:
    return "—" if value is None else f"{float(value):.1f}"


def _curve(store: Store, summary: dict[str, Any]) -> None:
    try:
        samples = store.load_samples(int(summary["id"]))
    except PressureGuardError as exc:
        st.error(f"Cannot read the samples: {exc}")
        return
    if len(samples) == 0:
        st.info("This session has no recorded samples.")
        return
    t, force, _zone = decimate_minmax(
        np.asarray(samples.t_s, dtype=float),
        np.asarray(samples.filtered_n, dtype=float),
        np.asarray(samples.zone),
        CURVE_POINTS,
    )
    data = pd.DataFrame({"Time (s)": t, "Force (N)": force})
    if summary.get("limit_n"):
        data["Comfort limit (N)"] = float(summary["limit_n"])
    st.line_chart(data, x="Time (s)", height=280, color=_colors(data))
    if np.all(np.isnan(force)):
        st.caption("The tool was not calibrated during this session, so no force is known.")


def _colors(data: pd.DataFrame) -> list[Any]:
    """Dark curve, red limit line (Streamlit's type wants a list of colour specs)."""
    return ["#111418", "#b3001b"][: len(data.columns) - 1]


st.title("History")
store = common.store_or_stop()
try:
    profiles = [p["name"] for p in store.list_profiles()]
    profile = None
    if len(profiles) > 1:
        chosen = st.selectbox("Profile", ["All profiles", *profiles], key="pg_history_profile")
        profile = None if chosen == "All profiles" else chosen
    sessions = store.list_sessions(profile=profile, limit=MAX_ROWS)
    live = resources.fresh_state(store.get_live())
except PressureGuardError as exc:
    st.error(f"Cannot read the sessions: {exc}")
    st.stop()

if not sessions:
    st.info("No sessions yet. Start one on the Live page; it will be listed here.")
    st.stop()

live_session = live.get("session_id") if live and live.get("recording") else None
st.dataframe(sessions_table(sessions, live_session), hide_index=True, width="stretch")
if len(sessions) == MAX_ROWS:
    st.caption(f"The newest {MAX_ROWS} sessions; `pressureguard sessions list` shows all.")

st.subheader("One session")
by_id = {s["id"]: s for s in sessions}
chosen_id = st.selectbox(
    "Session",
    list(by_id),
    format_func=lambda i: (
        f"#{i} · {resources.local_time(by_id[i]['started_at'])} · "
        f"{resources.region_label(by_id[i]['region'])}"
    ),
    key="pg_history_session",
)
summary = by_id[chosen_id]
cols = st.columns(4)
cols[0].metric("Duration", resources.duration(summary["duration_s"]))
cols[1].metric("Peak", resources.newtons(summary["peak_n"]))
cols[2].metric("Time over limit", f"{float(summary['time_over_limit_s']):.1f} s")
cols[3].metric(
    "Pain before → after", f"{_pain(summary['pain_before'])} → {_pain(summary['pain_after'])}"
)
if summary.get("note"):
    st.text(f"Note: {summary['note']}")  # as typed: never rendered as markdown
_curve(store, summary)
st.caption(
    f"Lost frames {summary['dropped_frames']} · bad frames {summary['bad_frames']} · "
    f"gaps {summary['gaps']} · source {summary['source']}"
)
