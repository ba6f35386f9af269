"""The session chart: one recorded session's curve, zoomable from the whole session to a second.

A components-v2 canvas that fetches ``/api/curve`` (:mod:`dashboard.curve_api`) itself: the whole
session first, then, after every zoom or move, the visible window at about two points per pixel
of the chart's width (min/max per bucket, so every peak survives; every sample once the window
holds few enough). Requests are debounced and the one still pending is aborted; zooming never
reruns Streamlit. Drawn: the filtered force (over = amber, danger = red), the unfiltered force
lighter behind it, the stepped comfort limit with its zone bands, gaps as breaks over a hatched
band, and event markers (over-limit entries, ramp warnings, hold prompts, button presses, gaps)
with a hover tooltip. A compare session is overlaid in blue, aligned at its own start.

Zoom with the mouse wheel, a pinch, Shift + drag over a stretch, or the + / − buttons (keys
+ − ← → 0 on the focused chart); drag to move; double-click or "Whole session" to reset.

Elements carry ``data-testid`` attributes: ``pg-chart`` (the canvas), ``pg-chart-window`` (the
visible window, e.g. ``0:00:00–2:00:00``), ``pg-chart-points`` (points drawn; ``data-samples``:
samples in the fetched window, ``data-decimated``), ``pg-chart-status`` (``loading``, ``ready``,
``no samples`` or an error), ``pg-chart-reset``, ``pg-chart-zoom-in``, ``pg-chart-zoom-out``,
``pg-chart-earlier``, ``pg-chart-later``, ``pg-chart-tip`` (the tooltip). The root
(``pg-session-chart``) gets ``data-ready-at`` (``performance.now()`` of the first whole-session
paint, also ``window.__pgChartReady``) and ``data-painted-at`` (the latest paint of fetched data).

Given ``on_drawn``, the chart tells the page once that its first curve is drawn (or that it could
not be, the reason shown in its place): a page can then send what goes below the chart, whose
code the browser would otherwise load before it shows the chart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dashboard.components.assets import register
from dashboard.curve_api import DEFAULT_POINTS
from firmware_bridge.readout import Readout, readout

#: The component's registered name (also its element type in the page).
NAME = "pressureguard_session_chart"
#: One ES module in two files: the live chart's helpers (bands, nice steps), then the chart.
_component = register(NAME, "session_chart", ("live_chart.js", "session_chart.js"))


def session_chart(
    session_id: int,
    *,
    compare_id: int | None = None,
    height: int = 380,
    key: str,
    url: str = "/api/curve",
    on_drawn: Callable[[], None] | None = None,
    shown: Readout | None = None,
) -> Any:
    """Mount the session chart.

    Args:
        session_id: the session to show.
        compare_id: another session overlaid, aligned at its own start; None for none.
        height: the canvas's height in CSS pixels.
        key: the element key; keep it stable so reruns keep the zoom.
        url: the curve route (same origin as the app).
        on_drawn: called once (a widget callback: the page then reruns) when the chart's first
            load is over: its curve drawn, or the reason it could not be shown in its place.
            None: the chart tells the page nothing.
        shown: how to read force out (the user's unit); newtons when None. The curve route
            stays in newtons; the browser scales.

    Returns:
        Streamlit's component result (``drawn``: the session first drawn, when ``on_drawn``).
    """
    data = {
        "session": int(session_id),
        "compare": None if compare_id is None else int(compare_id),
        "height": int(height),
        "url": url,
        "report": on_drawn is not None,
        "readout": (shown or readout("N")).as_dict(),
        "whole_points": DEFAULT_POINTS,
    }
    callbacks = {} if on_drawn is None else {"on_drawn_change": on_drawn}
    return _component(key=key, data=data, height="content", **callbacks)
