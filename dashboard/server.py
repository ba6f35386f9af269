"""The dashboard's ASGI entry point: the Streamlit app plus the live routes, on one origin.

``streamlit run`` finds the ``st.App`` below (Streamlit ≥ 1.67; pinned, because this API is
new) and serves it with uvicorn::

    PRESSUREGUARD_HOME=DIR streamlit run dashboard/server.py --server.address 127.0.0.1 \\
        --server.port 8501 --server.headless true --server.fileWatcherType none \\
        --browser.gatherUsageStats false

Routes besides the app:

- ``GET /api/live``: server-sent events, one message every 50 ms (:mod:`dashboard.feed`);
- ``GET /api/state``: the current display state as JSON;
- ``GET /api/curve``: one session's curve for the review chart (:mod:`dashboard.curve_api`);
- ``GET /api/download/<token>``: a prepared export, streamed from disk (:mod:`dashboard.downloads`).

Every request must name an allowed ``Host`` and the routes refuse other origins
(:mod:`dashboard.web_guard`). The data directory is ``PRESSUREGUARD_HOME`` (the launcher sets
it), else the platform's user data directory.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Route

# `streamlit run` imports this file as the top-level module `server`, with only dashboard/ on
# sys.path; make the package importable when running from a source tree that is not installed.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

from dashboard.curve_api import curve_json  # noqa: E402
from dashboard.downloads import ROUTE as DOWNLOAD_ROUTE  # noqa: E402
from dashboard.downloads import download_file  # noqa: E402
from dashboard.feed import live_sse, state_json  # noqa: E402
from dashboard.web_guard import allowed_hosts, same_origin_only  # noqa: E402

APP_SCRIPT = Path(__file__).resolve().with_name("app.py")

app = st.App(
    str(APP_SCRIPT),
    routes=[
        Route("/api/live", same_origin_only(live_sse)),
        Route("/api/state", same_origin_only(state_json)),
        Route("/api/curve", same_origin_only(curve_json)),
        Route(DOWNLOAD_ROUTE, same_origin_only(download_file)),
    ],
    # DNS rebinding: every request, the app's websocket included, must name an allowed host
    middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts())],
)
