"""The threshold panel: a components-v2 element for the guided pressure-pain-threshold measurement.

Like the live view it opens its own ``EventSource`` on ``/api/live`` and draws every message itself
(force, the speed gauge and the ramp guide, coaching words, trial k of 3, the rest countdown, each
trial's result), so live data never reruns Streamlit. Forces are read out as the page says (the
user's unit for the measurement's tip, :mod:`firmware_bridge.readout`); ``ppt-kpa`` holds the
smaller companion readout. It sends three events back to Python with ``setTriggerValue``:

- ``mark``: ``{"t": session time of the newest sample the panel had received (or null), "seq"}``,
  from the big "It starts to hurt" button or the space bar;
- ``action``: ``{"kind": "release" | "cancel", "seq"}``, from "End trial" and "Cancel
  measurement";
- ``phase``: ``"none" | "running" | "done"`` when the measurement's phase differs from the one the
  page was drawn for (so the page can show the confirm step, or the setup form again).

Elements carry ``data-testid`` attributes for tests: ``ppt-panel``, ``ppt-force``, ``ppt-kpa``,
``ppt-step``, ``ppt-coach``, ``ppt-rest``, ``ppt-rate``, ``ppt-mark``, ``ppt-end``,
``ppt-cancel``, ``ppt-summary``, ``ppt-trials``, and the hidden ``ppt-state`` (the measurement's
state), ``ppt-marks`` (marks sent) and ``ppt-last-t`` (newest sample time received).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from dashboard.components.assets import register
from firmware_bridge.readout import DEFAULT_UNIT, companion, readout

log = logging.getLogger(__name__)

#: The component's registered name (also its element type in the page).
NAME = "pressureguard_ppt_panel"
EVENTS = ("mark", "action", "phase")
#: One ES module: the live view's sound and chart helpers, then the panel (default export last).
_component = register(NAME, "ppt_panel", ("live_sound.js", "live_chart.js", "ppt_panel.js"))

Handler = Callable[[Any], None]


def _dispatch(key: str, event: str, handler: Handler) -> Callable[[], None]:
    """A Streamlit callback that hands the event's value to ``handler``."""

    def callback() -> None:
        value: Any = st.session_state.get(key)
        payload = value.get(event) if isinstance(value, Mapping) else getattr(value, event, None)
        if payload is None:
            log.debug("threshold panel: %s event without a value", event)
            return
        handler(payload)

    return callback


def ppt_panel(
    *,
    on_mark: Handler,
    on_action: Handler,
    phase: str,
    kpa_area_cm2: float | None,
    unit: str = DEFAULT_UNIT,
    url: str = "/api/live",
    stale_ms: int = 1000,
    key: str = "pg-ppt",
) -> Any:
    """Mount the threshold panel.

    Args:
        on_mark: called with ``{"t": float | None, "seq": int, ...}`` when the user marks pain.
        on_action: called with ``{"kind": "release" | "cancel", "seq": int}``.
        phase: ``"running"`` or ``"done"``: what the page shows now; the panel asks for a rerun
            when the measurement's phase differs for a moment.
        kpa_area_cm2: the tip area when pressure may be shown (a known flat tip), else None.
        unit: the user's unit (pressure only with ``kpa_area_cm2``).
        url: the SSE route (same origin as the app).
        stale_ms: the panel shows NO SIGNAL when no message arrived for this long.
        key: the element key; keep it stable so reruns keep the same stream open.

    Returns:
        Streamlit's component result.
    """
    main = readout(unit, kpa_area_cm2)
    second = companion(main, kpa_area_cm2)
    data = {
        "url": url,
        "phase": phase,
        "kpa_area": kpa_area_cm2,
        "stale_ms": stale_ms,
        "readout": main.as_dict(),
        "companion": None if second is None else second.as_dict(),
    }
    return _component(
        key=key,
        data=data,
        height="content",
        on_mark_change=_dispatch(key, "mark", on_mark),
        on_action_change=_dispatch(key, "action", on_action),
        on_phase_change=lambda: None,  # the rerun is the point
    )
