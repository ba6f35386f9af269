"""The Streamlit dashboard: live view, limits, history, calibration and device pages.

Layout:

- ``server.py``: the ASGI entry point (``st.App``) serving ``app.py`` plus two routes,
  ``/api/live`` (server-sent events, see :mod:`dashboard.feed`) and ``/api/state`` (JSON).
- ``app.py``: page config and ``st.navigation`` over ``views/*.py``.
- ``feed.py``: the live stream's logic (staleness, new samples, decimation), no Streamlit.
- ``resources.py``: the one Store per process, the data directory, shared formatting.
- ``components/``: the live view, a components-v2 canvas fed by the SSE route.

The dashboard never opens the device: the bridge process owns it and writes everything to the
store; the dashboard reads the store and posts commands to it (DESIGN.md, "Data flow").

Run it with::

    PRESSUREGUARD_HOME=DIR streamlit run dashboard/server.py --server.address 127.0.0.1 \\
        --server.port 8501 --server.headless true --server.fileWatcherType none \\
        --browser.gatherUsageStats false
"""
