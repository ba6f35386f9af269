"""One session's numbers for the History page: :func:`review.stats.session_stats`, kept in the
store once a session has ended (:mod:`review.stats_cache`), shown in plain words, as small metric
cards, and as rows for comparing two sessions side by side.

Nothing is rounded into "safe": time without data is counted in no zone and said out loud, and
a session without a comfort limit gets no over/under verdict.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import streamlit as st

from dashboard import resources
from firmware_bridge.errors import PressureGuardError
from firmware_bridge.readout import describe, dose
from firmware_bridge.store import Store
from review.stats import SessionStats
from review.stats_cache import cached_session_stats, kept_stats

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

#: Each zone label in words, in the order shown.
ZONE_WORDS: dict[str, str] = {
    "relaxed": "Below your range (under 80 % of your limit)",
    "target": "In your range (80–100 %)",
    "over": "Over your limit (100–120 %)",
    "danger": "Far over your limit (120 % or more)",
    "uncalibrated": "Force unknown (tool not calibrated)",
    "no_signal": "No signal from the tool",
}
#: Metric cards per row (labels of up to ~18 characters fit whole).
CARDS_PER_ROW = 4
#: A measured sample rate below this share of the announced one is pointed out.
RATE_SHORTFALL = 0.95


def stats_for(store: Store, summary: dict[str, Any]) -> SessionStats | None:
    """The session's stats: kept in the store once it has ended (computed in the background
    after it ended, or here on first need, one pass over its samples), fresh while recording.

    Args:
        store: the open store.
        summary: the session's summary with ``events``, as just read.

    Returns:
        The stats, or None when they cannot be computed (the reason is on the page).
    """
    try:
        stats = kept_stats(store, summary)
        if stats is None:
            with st.spinner("Adding up the session…"):
                stats = cached_session_stats(store, int(summary["id"]), summary=summary)
    except PressureGuardError as exc:
        st.error(f"Cannot compute the numbers of session {summary['id']}: {exc}")
        return None
    return stats


def seconds(value: float | None) -> str:
    """``17.46`` → ``17.5 s``; ``252.8`` → ``4:13``; None → ``—``."""
    if value is None:
        return "—"
    return f"{value:.1f} s" if value < 60 else resources.duration(value)


def percent(value: float | None) -> str:
    """``117.6`` → ``118 %``; None → ``—``."""
    return "—" if value is None else f"{value:.0f} %"


def _times(count: int) -> str:
    return "once" if count == 1 else "twice" if count == 2 else f"{count} times"


def stats_words(stats: SessionStats) -> list[str]:
    """What the session amounted to, in plain sentences (the data's holes included)."""
    zones = stats.time_in_zone_s
    judged = sum(zones[z] for z in ("relaxed", "target", "over", "danger"))
    lines = [f"This session lasted {resources.duration(stats.duration_s)}."]
    if stats.limit_n is None:
        lines.append("No comfort limit was in force, so no time is judged over or under one.")
    elif judged > 0:
        share = {z: 100 * zones[z] / judged for z in zones}
        parts = [
            f"below your range for {seconds(zones['relaxed'])} ({share['relaxed']:.0f} %)",
            f"in your range for {seconds(zones['target'])} ({share['target']:.0f} %)",
        ]
        over = zones["over"] + zones["danger"]
        if over > 0:
            parts.append(f"over your limit for {seconds(over)}")
        lines.append("You were " + ", ".join(parts) + ".")
        if stats.over_limit_count:
            peak = ""
            if stats.peak_pct_of_limit is not None:
                peak = f"; the firmest push reached {percent(stats.peak_pct_of_limit)} of it"
            lines.append(f"You went past your limit {_times(stats.over_limit_count)}{peak}.")
        else:
            lines.append("You stayed under your limit the whole time.")
        if stats.longest_hold_s:
            lines.append(f"The longest hold on one spot lasted {seconds(stats.longest_hold_s)}.")
    lines += data_warnings(stats)
    return lines


def data_warnings(stats: SessionStats) -> list[str]:
    """Sentences about what is missing from the record (empty when it is whole)."""
    zones = stats.time_in_zone_s
    out = []
    if stats.n_samples == 0:
        return ["Nothing was recorded in this session."]
    if stats.gaps:
        out.append(
            f"The signal was lost {_times(stats.gaps)}, {seconds(stats.gap_total_s)} in all: "
            "nothing is known, or filled in, for those stretches."
        )
    if zones["no_signal"] > 0:
        out.append(f"For {seconds(zones['no_signal'])} the tool sent no usable reading.")
    if zones["uncalibrated"] > 0:
        out.append(
            f"For {seconds(zones['uncalibrated'])} the tool was not calibrated, so no force is "
            "known for that time."
        )
    if stats.lost_frames or stats.bad_frames:
        out.append(
            f"{stats.lost_frames} frames from the tool went missing and {stats.bad_frames} "
            "arrived damaged; the curve has small holes there."
        )
    measured, nominal = stats.sample_rate_hz, stats.nominal_rate_hz
    if measured and nominal and measured < RATE_SHORTFALL * nominal:
        out.append(
            f"The tool delivered {measured:.1f} readings a second instead of the {nominal:g} it "
            "announced."
        )
    return out


def session_dose(stats: SessionStats, unit: str) -> str:
    """The session's impulse (:func:`firmware_bridge.readout.dose`); ``—`` when nothing was
    recorded."""
    return "—" if stats.n_samples == 0 else dose(stats.impulse_ns, unit)


def stats_cards(stats: SessionStats, unit: str, pressure_area_cm2: float | None) -> None:
    """The session's numbers as small metric cards, :data:`CARDS_PER_ROW` to a row.

    Args:
        stats: the session's numbers.
        unit: the user's unit.
        pressure_area_cm2: the session's flat tip area, if known (pressure only then).
    """
    gaps = f"{stats.gaps}" + (f" ({seconds(stats.gap_total_s)})" if stats.gaps else "")
    cards = [
        ("Peak", describe(stats.peak_n, unit, pressure_area_cm2), "The highest force measured."),
        (
            "Peak vs your limit",
            percent(stats.peak_pct_of_limit),
            "The highest smoothed force (what the warnings judge) as a share of the comfort "
            "limit in force at that moment.",
        ),
        (
            "Time over limit",
            seconds(stats.time_over_limit_s),
            "Time at or past your comfort limit.",
        ),
        ("Times over limit", str(stats.over_limit_count), "How often you went past your limit."),
        (
            "Longest hold",
            seconds(stats.longest_hold_s),
            "The longest continuous press on one spot at half your limit or more.",
        ),
        (
            "Pressure dose",
            session_dose(stats, unit),
            "Force added up over time (impulse): longer or firmer sessions give more.",
        ),
        (
            "Sample rate",
            resources.rate(stats.sample_rate_hz, stats.nominal_rate_hz),
            "Readings per second measured in the record, against what the tool announced.",
        ),
        ("Gaps (no signal)", gaps, "Stretches without any reading from the tool."),
        (
            "Lost frames",
            str(stats.lost_frames),
            "Frames the tool sent that never arrived (missing sequence numbers).",
        ),
        ("Damaged frames", str(stats.bad_frames), "Frames that arrived but could not be read."),
    ]
    for start in range(0, len(cards), CARDS_PER_ROW):
        cols = st.columns(CARDS_PER_ROW)
        row = cards[start : start + CARDS_PER_ROW]
        for col, (label, value, help_text) in zip(cols, row, strict=False):
            col.metric(label, value, help=help_text, border=True)


def zone_table(stats: SessionStats) -> pd.DataFrame:
    """Time in each zone with its share of the session (zones never entered left out)."""
    import pandas as pd  # noqa: PLC0415 - ~0.2 s to import: not before a session's chart

    total = sum(stats.time_in_zone_s.values())
    rows = [
        (words, seconds(stats.time_in_zone_s[zone]), 100 * stats.time_in_zone_s[zone] / total)
        for zone, words in ZONE_WORDS.items()
        if total > 0 and stats.time_in_zone_s[zone] > 0
    ]
    return pd.DataFrame(rows, columns=["Zone", "Time", "Share (%)"]).round({"Share (%)": 1})


def _pain(value: Any) -> str:
    return "not rated" if value is None else f"{value:g}"


def compare_rows(summary: dict[str, Any], stats: SessionStats | None, unit: str) -> dict[str, str]:
    """One session's column of the side-by-side table: label → value in words (forces in the
    user's unit, as pressure only on the session's own known flat tip)."""
    before, after = summary["pain_before"], summary["pain_after"]
    change = "—" if before is None or after is None else f"{after - before:+g}"
    area = summary.get("tip_area_cm2")
    rows = {
        "Date": resources.local_time(summary["started_at"]),
        "Profile": str(summary["profile"]),
        "Body region": resources.region_label(summary["region"]),
        "Tip": resources.tip_words(summary.get("tip"), area),
        "Duration": resources.duration(summary["duration_s"]),
        "Comfort limit": describe(summary["limit_n"], unit, area),
        "Peak": describe(summary["peak_n"], unit, area),
        "Time over limit": seconds(summary["time_over_limit_s"]),
        "Pain before → after": f"{_pain(before)} → {_pain(after)}",
        "Pain change": change,
    }
    if stats is not None:
        rows |= {
            "Peak vs limit": percent(stats.peak_pct_of_limit),
            "Times over limit": str(stats.over_limit_count),
            "Longest hold": seconds(stats.longest_hold_s),
            "Pressure dose": session_dose(stats, unit),
            "Sample rate": resources.rate(stats.sample_rate_hz, stats.nominal_rate_hz),
            "Lost / damaged frames": f"{stats.lost_frames} / {stats.bad_frames}",
            "Gaps": f"{stats.gaps} ({seconds(stats.gap_total_s)})",
        }
        for zone in ("relaxed", "target", "over", "danger"):
            rows[ZONE_WORDS[zone].split(" (")[0]] = seconds(stats.time_in_zone_s[zone])
    return rows


def compare_table(
    first: tuple[dict[str, Any], SessionStats | None],
    second: tuple[dict[str, Any], SessionStats | None],
    unit: str,
) -> pd.DataFrame:
    """Two sessions side by side: one row per measure, one column per session."""
    import pandas as pd  # noqa: PLC0415 - ~0.2 s to import: not before a session's chart

    a, b = (compare_rows(*first, unit), compare_rows(*second, unit))
    labels = [k for k in a if k in b]
    return pd.DataFrame(
        {f"Session #{first[0]['id']}": [a[k] for k in labels]}
        | {f"Session #{second[0]['id']}": [b[k] for k in labels]},
        index=labels,
    )
