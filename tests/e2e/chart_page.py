"""A test-only page: the session chart alone, for ``?session=ID[&compare=ID]``.

Served with the curve route by :mod:`tests.e2e.chart_app` (the e2e tests and
``benchmarks.review`` run it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# `streamlit run` puts only tests/e2e/ on sys.path; make the project importable from a source tree.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

from dashboard.components.session_chart import session_chart  # noqa: E402

st.set_page_config(page_title="Session chart", layout="wide")
session = int(st.query_params.get("session", "1"))
compare = st.query_params.get("compare")
st.title(f"Session #{session}")
session_chart(session, compare_id=int(compare) if compare else None, key="pg-test-chart")
