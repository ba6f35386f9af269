"""Limits page (read-only for now): your comfort limits from the store, the shipped defaults with
their basis, and the places never to press on."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from calibration.defaults import (
    ENDANGERMENT_SITES,
    REGION_DEFAULTS_KGF_CM2,
    default_limit,
)
from dashboard import resources
from dashboard.views import common
from firmware_bridge.errors import PressureGuardError
from firmware_bridge.units import KGF_N

SOURCE_WORDS = {
    "measured": "measured (your pain threshold)",
    "manual": "set by hand",
    "default": "shipped default",
}

st.title("Comfort limits")
store = common.store_or_stop()

st.warning(
    "**Never press on these places:** "
    + ", ".join(resources.region_label(s).lower() for s in sorted(ENDANGERMENT_SITES))
    + ". A tool pressed there can injure nerves and blood vessels close to the surface, so "
    "PressureGuard offers no limit for them.",
    icon=":material/block:",
)

st.subheader("Your limits")
try:
    profiles = [p["name"] for p in store.list_profiles()]
    rows = store.current_limits()
except PressureGuardError as exc:
    st.error(f"Cannot read the limits: {exc}")
    st.stop()
if len(profiles) > 1:
    chosen = st.selectbox("Profile", ["All profiles", *profiles], key="pg_limits_profile")
    if chosen != "All profiles":
        rows = [r for r in rows if r["profile"] == chosen]
if rows:
    table = pd.DataFrame(
        {
            "Profile": [r["profile"] for r in rows],
            "Body region": [resources.region_label(r["region"]) for r in rows],
            "Tip": [r["tip"] or "any" for r in rows],
            "Limit (N)": [round(float(r["limit_n"]), 1) for r in rows],
            "≈ kgf/cm² on 1 cm²": [round(float(r["limit_n"]) / KGF_N, 2) for r in rows],
            "Source": [SOURCE_WORDS.get(r["source"], r["source"]) for r in rows],
            "Set on": [resources.local_time(r["set_at"]) for r in rows],
            "Note": [r["note"] or "" for r in rows],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch")
else:
    st.info(
        "You have no limits of your own yet: every session uses the shipped conservative "
        "default for its body region (below)."
    )
st.caption(
    "Measuring your own limit (a guided, gentle pressure-pain-threshold test with the tool) "
    "comes in the next version; the limits here are read-only for now."
)

st.caption(
    "Stop and talk to your clinician if you feel numbness, tingling or shooting pain, get dizzy "
    "during neck work, find new bruises, or stay sore for more than a day and a half."
)

st.subheader("Shipped defaults")
st.markdown(
    "Conservative starting values per body region, used until you have a limit of your own. "
    "They are placeholders to be reviewed with your clinician, and they assume the 1 cm² "
    "reference tip; for larger tips the force is scaled with the area up to 2 cm²."
)
defaults = [default_limit(slug) for slug in REGION_DEFAULTS_KGF_CM2]
st.dataframe(
    pd.DataFrame(
        {
            "Body region": [resources.region_label(s) for s in REGION_DEFAULTS_KGF_CM2],
            "kgf/cm²": list(REGION_DEFAULTS_KGF_CM2.values()),
            "Limit on 1 cm² (N)": [round(d.limit_n, 1) for d in defaults],
            "Basis": [d.basis for d in defaults],
        }
    ),
    hide_index=True,
    width="stretch",
)
