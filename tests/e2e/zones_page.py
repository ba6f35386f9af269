"""A test-only page: the live view alone, on the scripted feed of :mod:`tests.e2e.zones_app`.

``?script=…&unit=…`` is passed on to the feed; ``&large=1`` turns on the large-text and
high-contrast CSS (:mod:`dashboard.display_mode`).
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

st.set_page_config(page_title="Live view", layout="wide")
query = {k: st.query_params[k] for k in ("script", "unit") if k in st.query_params}
display_mode.apply(st.query_params.get("large") == "1")
st.title("Live view on a scripted feed")
left, _ = st.columns([3, 1.15])
with left:
    live_view(f"/api/live?{urlencode(query)}")
