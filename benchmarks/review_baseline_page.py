"""The plain Streamlit page a session's curve is measured against (``benchmarks.review``).

What a Streamlit user would write first to look at a recorded session: load every sample with
``Store.load_samples`` and hand them to ``st.plotly_chart(px.line(...))``, with Plotly's own
zoom and pan. No decimation, no caching: each visit loads the session afresh, as the
PressureGuard chart does.

Run (the benchmark does it)::

    PRESSUREGUARD_HOME=DIR streamlit run benchmarks/review_baseline_page.py \\
        --server.address 127.0.0.1 --server.port 8504 --server.headless true \\
        --server.fileWatcherType none --browser.gatherUsageStats false

and open ``/?session=ID``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st

# `streamlit run` puts only benchmarks/ on sys.path; make the project importable from a source tree.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

from firmware_bridge.store import Store  # noqa: E402


@st.cache_resource
def get_store() -> Store:
    """One Store per server process, in ``PRESSUREGUARD_HOME``."""
    return Store.open(Path(os.environ["PRESSUREGUARD_HOME"]))


session_id = int(st.query_params.get("session", "1"))
st.title(f"Session #{session_id}")
samples = get_store().load_samples(session_id)
frame = pd.DataFrame({"t_s": samples.t_s, "force_n": samples.filtered_n})
st.plotly_chart(px.line(frame, x="t_s", y="force_n"), width="stretch")
