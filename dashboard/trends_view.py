"""The History page's "Trends" tab: per body region across sessions (firmest push against the
limit, time over the limit, pain change, pressure-pain thresholds), with the symptom journal
beside them on the same days, and the clinical caveats above everything (CLINICAL.md §5).

The data are :func:`review.trends.region_trends` (summaries, PPTs and journal entries; no sample
is read), drawn with Altair: small series, one point per session or day. Forces read in the
user's force unit (a trend spans sessions with different tips, so never as pressure).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import history_exchange, resources
from dashboard.history_list import Filters
from firmware_bridge.errors import PressureGuardError
from firmware_bridge.readout import Readout, chosen_unit, force_readout
from firmware_bridge.store import Store
from review.journal import SCALES
from review.trends import PAIN_MEANINGFUL_POINTS, region_trends

log = logging.getLogger(__name__)

CHART_HEIGHT = 200
#: What the chart builders return (``.properties()`` may give either).
Chart = alt.LayerChart | alt.FacetChart
PROFILE_KEY = "pg_hist_trend_profile"
#: One colour per journal rating (worse-is-higher ratings warm, better-is-higher cool).
RATING_COLOURS = {
    "pain": "#c0392b",
    "stiffness": "#8e44ad",
    "sleep": "#1f77b4",
    "activity": "#2a9d4b",
}
#: Short names of the journal ratings for the chart's legend.
RATING_NAMES = {
    "pain": "Pain",
    "stiffness": "Morning stiffness",
    "sleep": "Sleep quality",
    "activity": "Activity tolerance",
}


def _days(values: list[str]) -> pd.Series:
    return pd.to_datetime(pd.Series(values, dtype="object"))


def _in(value_n: float | None, shown: Readout) -> float | None:
    """A force as a number in the user's force unit, rounded as everywhere (None stays None)."""
    return None if value_n is None else round(shown.value(float(value_n)), shown.decimals)


def session_frame(sessions: list[dict[str, Any]], shown: Readout) -> pd.DataFrame:
    """One row per session: day, region in words, and the measures charted (forces as
    ``shown``)."""
    frame = pd.DataFrame(
        {
            "Day": _days([s["day"] for s in sessions]),
            "Session": [f"#{s['session_id']}" for s in sessions],
            "Region": [resources.region_label(s["region"]) for s in sessions],
            f"Peak ({shown.unit})": [_in(s["peak_n"], shown) for s in sessions],
            f"Limit ({shown.unit})": [_in(s["limit_n"], shown) for s in sessions],
            "Peak (% of limit)": [s["peak_pct_of_limit"] for s in sessions],
            "Time over limit (s)": [s["time_over_limit_s"] for s in sessions],
            "Pain before": [s["pain_before"] for s in sessions],
            "Pain after": [s["pain_after"] for s in sessions],
            "Pain change": [s["pain_change"] for s in sessions],
        }
    )
    return frame


def journal_frame(entries: list[dict[str, Any]]) -> pd.DataFrame:
    """Journal ratings in long form (day, rating, value) for one multi-line chart."""
    rows = [
        {"Day": e["day"], "Rating": RATING_NAMES[scale.key], "Value": e[scale.key]}
        for e in entries
        for scale in SCALES
        if e.get(scale.key) is not None
    ]
    frame = pd.DataFrame(rows, columns=["Day", "Rating", "Value"])
    frame["Day"] = _days(list(frame["Day"]))
    return frame


def trigger_frame(entries: list[dict[str, Any]]) -> pd.DataFrame:
    """The days with triggers, and what they were."""
    rows = [
        {"Day": e["day"], "Triggers": ", ".join(e["triggers"])} for e in entries if e["triggers"]
    ]
    frame = pd.DataFrame(rows, columns=["Day", "Triggers"])
    frame["Day"] = _days(list(frame["Day"]))
    return frame


def _legend() -> alt.Legend:
    """Below the chart, two to a row, long names kept whole."""
    return alt.Legend(orient="bottom", title=None, columns=2, labelLimit=260)


def _x(domain: list[Any] | None) -> alt.X:
    scale = alt.Scale(domain=domain) if domain else alt.Undefined
    return alt.X("Day:T", title=None, scale=scale, axis=alt.Axis(format="%b %d"))


def _session_chart(
    frame: pd.DataFrame,
    column: str,
    domain: list[Any] | None,
    *,
    unit: str,
    rule: float | None = None,
) -> Chart:
    """Points (and a thin line per region) of one measure, with an optional reference line.

    Args:
        frame: one row per session (or measurement).
        column: the measure charted.
        domain: the days the x axis spans.
        unit: the y axis title (the caption above the chart names the measure).
        rule: a reference value drawn as a dashed line.
    """
    data = frame.dropna(subset=[column])
    tooltip: list[Any] = ["Session", "Region", alt.Tooltip("Day:T", format="%Y-%m-%d"), column]
    base = alt.Chart(data).encode(
        x=_x(domain),
        y=alt.Y(f"{column}:Q", title=unit),
        color=alt.Color("Region:N", scale=alt.Scale(scheme="tableau10"), legend=_legend()),
        tooltip=tooltip,
    )
    layers: list[alt.Chart] = [base.mark_line(opacity=0.4), base.mark_point(filled=True, size=60)]
    if rule is not None:
        layers.append(
            alt.Chart(pd.DataFrame({"y": [rule]}))
            .mark_rule(strokeDash=[4, 4], color="#b3001b")
            .encode(y="y:Q")
        )
    return alt.layer(*layers).properties(height=CHART_HEIGHT)


def _pain_change_chart(frame: pd.DataFrame, domain: list[Any] | None) -> Chart:
    """Pain change per session, with the band of changes too small to mean much."""
    band = (
        alt.Chart(pd.DataFrame({"lo": [-PAIN_MEANINGFUL_POINTS], "hi": [PAIN_MEANINGFUL_POINTS]}))
        .mark_rect(color="#999999", opacity=0.15)
        .encode(y="lo:Q", y2="hi:Q")
    )
    return alt.layer(
        band, _session_chart(frame, "Pain change", domain, unit="points", rule=0.0)
    ).properties(height=CHART_HEIGHT)


def _journal_chart(
    ratings: pd.DataFrame, triggers: pd.DataFrame, domain: list[Any] | None
) -> Chart:
    """The journal's 0–10 ratings per day, with the trigger days marked."""
    lines = (
        alt.Chart(ratings)
        .mark_line(point=True)
        .encode(
            x=_x(domain),
            y=alt.Y("Value:Q", title="0–10", scale=alt.Scale(domain=[0, 10])),
            color=alt.Color(
                "Rating:N",
                scale=alt.Scale(
                    domain=[s.question for s in SCALES],
                    range=[RATING_COLOURS[s.key] for s in SCALES],
                ),
                legend=_legend(),
            ),
            tooltip=[alt.Tooltip("Day:T", format="%Y-%m-%d"), "Rating", "Value"],
        )
    )
    marks = (
        alt.Chart(triggers)
        .mark_rule(color="#e07000", strokeWidth=2, opacity=0.7)
        .encode(x=_x(domain), tooltip=[alt.Tooltip("Day:T", format="%Y-%m-%d"), "Triggers"])
    )
    flags = (
        alt.Chart(triggers)
        .mark_point(shape="triangle-down", size=120, filled=True, color="#e07000")
        .encode(x=_x(domain), y=alt.datum(10), tooltip=["Triggers"])
    )
    return alt.layer(marks, lines, flags).properties(height=CHART_HEIGHT + 60)


def _ppt_frame(regions: list[dict[str, Any]], shown: Readout) -> pd.DataFrame:
    column = f"Threshold ({shown.unit})"
    rows = [
        {
            "Day": p["day"],
            "Region": resources.region_label(r["region"]),
            column: _in(p["ppt_n"], shown),
            "Session": f"measurement {p['id']}",
        }
        for r in regions
        for p in r["ppt"]
    ]
    frame = pd.DataFrame(rows, columns=["Day", "Region", column, "Session"])
    frame["Day"] = _days(list(frame["Day"]))
    return frame


def caveats_box(caveats: list[str]) -> None:
    """The clinical caveats, always shown above the trends."""
    st.info(
        "**Read these trends with care**\n\n" + "\n".join(f"- {c}" for c in caveats),
        icon=":material/info:",
    )


def _profile(store: Store, filters: Filters, preferred: str | None) -> str | None:
    if filters.profile is not None:
        return filters.profile
    try:
        names = [p["name"] for p in store.list_profiles()]
    except PressureGuardError as exc:
        st.error(f"Cannot read the profiles: {exc}")
        return None
    if not names:
        return None
    if st.session_state.get(PROFILE_KEY) not in names:
        st.session_state[PROFILE_KEY] = preferred if preferred in names else names[0]
    return str(st.selectbox("Whose trends", names, key=PROFILE_KEY))


def _domain(*frames: pd.DataFrame) -> list[Any] | None:
    """The days every chart spans (so the sessions and the journal line up), a day of margin."""
    filled = [f["Day"] for f in frames if len(f)]
    if not filled:
        return None
    days = pd.concat(filled, ignore_index=True)
    pad = pd.Timedelta(days=1)
    return [(days.min() - pad).isoformat(), (days.max() + pad).isoformat()]


def _span_words(day_from: date | None, day_to: date | None) -> str:
    if day_from is None and day_to is None:
        return "all dates"
    return f"{day_from or 'the start'} to {day_to or 'today'}"


def trends_tab(store: Store, filters: Filters, preferred: str | None = None) -> None:
    """The whole "Trends" tab, for the filters' profile (or one picked), region and dates.

    Args:
        store: the open store.
        filters: the page's filters.
        preferred: the profile to start with when the filters name none (the newest
            session's).
    """
    profile = _profile(store, filters, preferred)
    if profile is None:
        st.info("No profiles yet: trends appear once sessions are recorded.")
        return
    try:
        shown = force_readout(chosen_unit(store))
        trends = region_trends(store, profile, filters.region, filters.day_from, filters.day_to)
    except PressureGuardError as exc:
        st.error(f"Cannot read the trends: {exc}")
        return
    caveats_box(trends["caveats"])
    sessions, entries = trends["sessions"], trends["journal"]
    where = resources.region_label(filters.region) if filters.region else "every region"
    st.markdown(
        f"**{profile}** · {where} · {_span_words(filters.day_from, filters.day_to)}: "
        f"{len(sessions)} session{'s' if len(sessions) != 1 else ''}, "
        f"{len(entries)} journal day{'s' if len(entries) != 1 else ''}, over "
        f"{trends['weeks_covered']:.1f} weeks."
    )
    frame, ppt = session_frame(sessions, shown), _ppt_frame(trends["regions"], shown)
    ratings, triggers = journal_frame(entries), trigger_frame(entries)
    domain = _domain(frame, ppt, ratings, triggers)
    left, right = st.columns(2)
    with left:
        st.markdown("**Sessions**")
        if frame.empty:
            st.caption("No sessions in this range.")
        else:
            st.caption("Firmest push, as a share of your comfort limit (dashed: the limit)")
            st.altair_chart(
                _session_chart(frame, "Peak (% of limit)", domain, unit="% of limit", rule=100.0)
            )
            st.caption("Time over your limit in each session")
            st.altair_chart(_session_chart(frame, "Time over limit (s)", domain, unit="seconds"))
            st.caption(
                "Pain change in each session (after − before; below 0 = less pain). The grey "
                f"band (±{PAIN_MEANINGFUL_POINTS:g}) holds changes too small to mean much."
            )
            st.altair_chart(_pain_change_chart(frame, domain))
    with right:
        st.markdown("**Journal**")
        if ratings.empty and triggers.empty:
            st.caption("No journal entries in this range (page *Journal*).")
        else:
            st.caption("Your daily ratings (0–10); orange marks: days with triggers")
            st.altair_chart(_journal_chart(ratings, triggers, domain))
            if not triggers.empty:
                st.dataframe(
                    triggers.assign(Day=triggers["Day"].dt.date),
                    hide_index=True,
                    key="pg_hist_trend_triggers",
                )
        st.markdown("**Pressure-pain thresholds**")
        if ppt.empty:
            st.caption("No threshold measurements in this range (page *Limits*).")
        else:
            st.caption("Measured thresholds per region (not a pain rating)")
            column = f"Threshold ({shown.unit})"
            st.altair_chart(_session_chart(ppt, column, domain, unit=shown.unit))
    with st.expander("Week by week"):
        st.dataframe(
            _weekly_frame(trends["weekly"], shown), hide_index=True, key="pg_hist_trend_weeks"
        )
    history_exchange.report_button(store, profile, filters.day_from, filters.day_to)


def _weekly_frame(weekly: list[dict[str, Any]], shown: Readout) -> pd.DataFrame:
    def rounded(value: Any) -> float | None:
        return None if value is None else round(float(value), 1)

    return pd.DataFrame(
        {
            "Week": [w["week"] for w in weekly],
            "Region": [resources.region_label(w["region"]) for w in weekly],
            "Sessions": [w["sessions"] for w in weekly],
            f"Median peak ({shown.unit})": [_in(w["peak_n_median"], shown) for w in weekly],
            "Time over limit (s)": [rounded(w["time_over_limit_s"]) for w in weekly],
            "Mean pain change": [rounded(w["pain_change_mean"]) for w in weekly],
            f"Mean threshold ({shown.unit})": [_in(w["ppt_n_mean"], shown) for w in weekly],
        }
    )
