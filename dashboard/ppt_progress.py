"""The Limits page's progress view: a region's pressure-pain-threshold history as a chart and a
table, judged against the user's own baseline (:func:`calibration.progress.ppt_progress`: a change
is only called real beyond the noise of 3 baseline measurements), with the sides compared.
A higher threshold is not "less pain" (CLINICAL.md §5.1), and the page says so. Thresholds read
in the user's unit, pressure only for a known flat tip.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from calibration.progress import asymmetry, ppt_progress
from dashboard import resources
from dashboard.limits_forms import tip_label, tip_pressure_area
from firmware_bridge.errors import PressureGuardError
from firmware_bridge.readout import DISPLAY_UNITS, Readout, paired_units, readout
from firmware_bridge.store import Store
from firmware_bridge.units import parse_region

NOT_PAIN = (
    "A higher threshold means it takes more pressure before pressing starts to hurt at this "
    "spot. It is not the same as having less pain: keep rating your pain before and after "
    "sessions too."
)


def progress_tab(store: Store, profile: str, unit: str) -> None:
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
    area = tip_pressure_area(tip_key)
    main = readout(unit, area)
    first, second = paired_units(unit)
    values = [float(r["ppt_n"]) for r in rows]
    progress = ppt_progress(values, area, unit)
    if progress.verdict in ("higher", "lower"):
        st.info(progress.words, icon=":material/trending_flat:")
    else:
        st.markdown(progress.words)
    st.caption(NOT_PAIN)
    when = [resources.local_datetime(r["measured_at"]) for r in rows]
    column = f"Threshold ({main.unit})"
    chart = pd.DataFrame({"When": when, column: [main.value(v) for v in values]})
    st.line_chart(chart, x="When", y=column, height=220)
    st.dataframe(
        pd.DataFrame(
            {
                "When": [resources.local_time(r["measured_at"]) for r in rows],
                f"Threshold ({first})": [_in(first, v, area) for v in values],
                f"Threshold ({second})": [_in(second, v, area) for v in values],
                f"Trials 2–3 ({main.unit})": [_round(r.get("mean_2_3_n"), main) for r in rows],
                f"Spread, SD ({main.unit})": [_round(r.get("sd_n"), main) for r in rows],
                "Trials used": [f"{r['n']} of {r['attempts']}" for r in rows],
                "Used as limit": ["yes" if r.get("limit_id") else "no" for r in rows],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    _asymmetry(everything, region, tip_key, area, unit)


def _round(value: Any, shown: Readout) -> float | None:
    """A stored force as a number in the readout's unit and rounding (None when not kept)."""
    if not isinstance(value, int | float):
        return None
    return round(shown.value(float(value)), shown.decimals)


def _in(unit: str, value_n: float, area: float | None) -> float | None:
    """A threshold in one column's unit; None in a pressure column without a known flat tip."""
    if DISPLAY_UNITS[unit].pressure and area is None:
        return None
    return _round(value_n, readout(unit, area))


def _asymmetry(
    rows: list[dict[str, Any]],
    region: str,
    tip_key: str | None,
    area: float | None,
    unit: str,
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
        st.markdown(asymmetry(latest["left"], latest["right"], area, unit).words)
