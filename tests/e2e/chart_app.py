"""A test-only server: :mod:`tests.e2e.chart_page` with the real ``/api/curve`` route beside it.

Run (the e2e tests and ``benchmarks.review`` do it)::

    PRESSUREGUARD_HOME=DIR streamlit run tests/e2e/chart_app.py --server.address 127.0.0.1 \\
        --server.port 8503 --server.headless true --server.fileWatcherType none
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st
from starlette.routing import Route

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

from dashboard.curve_api import curve_json  # noqa: E402

PAGE = Path(__file__).resolve().with_name("chart_page.py")

app = st.App(str(PAGE), routes=[Route("/api/curve", curve_json)])
