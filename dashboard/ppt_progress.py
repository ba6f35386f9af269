"""The Limits page's progress view: a region's pressure-pain-threshold history as a chart and a
table, judged against the user's own baseline (:func:`calibration.progress.ppt_progress`: a change
is only called real beyond the noise of 3 baseline measurements), with the sides compared.
A higher threshold is not "less pain" (CLINICAL.md §5.1), and the page says so.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from calibration.progress import asymmetry, ppt_progress
from calibration.tips import pressure_shown
from dashboard import resources
from dashboard.limits_forms import tip_label, tip_of
from firmware_bridge.errors import PressureGuardError
from firmware_bridge.store import Store
from firmware_bridge.units import parse_region

NOT_PAIN = (
    "A higher threshold means it takes more pressure before pressing starts to hurt at this "
    "spot. It is not the same as having less pain: keep rating your pain before and after "
    "sessions too."
)


def progress_tab(store: Store, profile: str) -> None:
    """Threshold history per region as a chart and a table, judged against the baseline."""
    try:
        everything = store.ppt_history(profile)
    except PressureGuardError as exc:
        st.error(f"Cannot read the measurements: {exc}")
        return
    if not everything:
        st.info(f"{profile} has no threshold measurements yet (tab *Measure my threshold*).")
        return
    places = sorted({(r["region"], r["tip"]) for r in everything}, key=str)
    chosen = st.selectbox(
        "Region and tip",
        places,
        index=places.index((everything[-1]["region"], everything[-1]["tip"])),
        format_func=lambda k: f"{resources.region_label(k[0])} · {tip_label(k[1])}",
        key="pg_lim_p_place",
    )
    region, tip_key = chosen
    rows = [r for r in everything if (r["region"], r["tip"]) == chosen]
    tip = tip_of(tip_key)
    area = tip.area_cm2 if tip is not None and pressure_shown(tip) else None
    values = [float(r["ppt_n"]) for r in rows]
    progress = ppt_progress(values, area)
    if progress.verdict in ("higher", "lower"):
        st.info(progress.words, icon=":material/trending_flat:")
    else:
        st.markdown(progress.words)
    st.caption(NOT_PAIN)
    when = [resources.local_datetime(r["measured_at"]) for r in rows]
    chart = pd.DataFrame({"When": when, "Threshold (N)": values})
    st.line_chart(chart, x="When", y="Threshold (N)", height=220)
    st.dataframe(
        pd.DataFrame(
            {
                "When": [resources.local_time(r["measured_at"]) for r in rows],
                "Threshold (N)": [round(v, 1) for v in values],
                "Threshold (kPa)": [None if area is None else round(10 * v / area) for v in values],
                "Trials 2–3 (N)": [_round(r.get("mean_2_3_n")) for r in rows],
                "Spread, SD (N)": [_round(r.get("sd_n")) for r in rows],
                "Trials used": [f"{r['n']} of {r['attempts']}" for r in rows],
                "Used as limit": ["yes" if r.get("limit_id") else "no" for r in rows],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    _asymmetry(everything, region, tip_key, area)


def _round(value: Any) -> float | None:
    return round(float(value), 1) if isinstance(value, int | float) else None


def _asymmetry(
    rows: list[dict[str, Any]], region: str, tip_key: str | None, area: float | None
) -> None:
    """Left against right for the region, from each side's latest measurement with this tip."""
    slug = parse_region(region).slug
    latest: dict[str, float] = {}
    for r in rows:
        if r["tip"] == tip_key and parse_region(r["region"]).slug == slug:
            side = parse_region(r["region"]).side
            if side:
                latest[side] = float(r["ppt_n"])
    if "left" in latest and "right" in latest:
        st.markdown(asymmetry(latest["left"], latest["right"], area).words)
