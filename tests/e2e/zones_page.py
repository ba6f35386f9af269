"""A test-only page: the live view alone, on the scripted feed of :mod:`tests.e2e.zones_app`.

``?script=…&unit=…`` is passed on to the feed; ``&large=1`` turns on the large-text and
high-contrast CSS (:mod:`dashboard.display_mode`); ``&ppt=1`` adds the threshold panel (no
measurement: its force and zone only).
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlencode

import streamlit as st

# `streamlit run` puts only tests/e2e/ on sys.path; make the project importable from a source tree.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

from dashboard import display_mode  # noqa: E402
from dashboard.components import live_view  # noqa: E402
from dashboard.components.ppt_panel import ppt_panel  # noqa: E402

st.set_page_config(page_title="Live view", layout="wide")
query = {k: st.query_params[k] for k in ("script", "unit") if k in st.query_params}
display_mode.apply(st.query_params.get("large") == "1")
st.title("Live view on a scripted feed")
left, _ = st.columns([3, 1.15])
with left:
    live_view(f"/api/live?{urlencode(query)}")
    if st.query_params.get("ppt") == "1":  # the threshold panel too, on the same feed
        ppt_panel(
            on_mark=lambda _: None,
            on_action=lambda _: None,
            phase="none",
            kpa_area_cm2=None,
            url=f"/api/live?{urlencode(query)}",
        )
