"""The plain Streamlit live page the dashboard is measured against (``benchmarks.dashboard``).

What a Streamlit user would write first: a fragment rerun every 100 ms that reads the store the
bridge writes, shows the newest force with ``st.metric`` and the last 30 s with
``st.line_chart``. A caption under the chart shows the newest drawn sample's session time inside a
container keyed ``pg-baseline-t`` (CSS class ``st-key-pg-baseline-t``), so the benchmark can
watch it as it watches the dashboard's hidden ``pg-last-sample-t``.

Run (the benchmark does it)::

    PRESSUREGUARD_HOME=DIR streamlit run benchmarks/baseline_page.py --server.address 127.0.0.1 \\
        --server.port 8502 --server.headless true --server.fileWatcherType none \\
        --browser.gatherUsageStats false
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

# `streamlit run` puts only benchmarks/ on sys.path; make the project importable from a source tree.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

from firmware_bridge.store import Store  # noqa: E402

#: Seconds of curve shown, as in the dashboard.
WINDOW_S = 30.0
#: The container key around the newest-sample caption (the benchmark looks for it).
MARKER_KEY = "pg-baseline-t"
#: The container key around the zone caption (``benchmarks.limit_change`` watches it).
ZONE_KEY = "pg-baseline-zone"
#: The caption's text before the number.
MARKER_PREFIX = "newest sample t_s ="


@st.cache_resource
def get_store() -> Store:
    """One Store per server process, in ``PRESSUREGUARD_HOME``."""
    return Store.open(Path(os.environ["PRESSUREGUARD_HOME"]))


@st.fragment(run_every=0.1)
def live() -> None:
    """Newest force, the last 30 s as a line chart, and the newest sample's time."""
    store = get_store()
    state = (store.get_live() or {}).get("state") or {}
    _, samples = store.live_since(0, seconds=WINDOW_S)
    force = state.get("filtered_n")
    st.metric("Force", "—" if force is None else f"{force:.1f} N")
    frame = pd.DataFrame(
        {"t_s": np.asarray(samples.t_s), "force_n": np.asarray(samples.filtered_n)}
    )
    st.line_chart(frame, x="t_s", y="force_n", height=300)
    with st.container(key=MARKER_KEY):
        newest = f"{samples.t_s[-1]:.4f}" if len(samples) else "none"
        st.caption(f"{MARKER_PREFIX} {newest}")
    with st.container(key=ZONE_KEY):
        st.caption(f"zone: {state.get('zone', 'no_signal')}")


st.title("Plain Streamlit live page")
live()
