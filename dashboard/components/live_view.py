"""The live view: a components-v2 canvas fed by ``/api/live``, with no Streamlit reruns.

The browser opens an ``EventSource`` on the route and draws every message itself (number, zone in
words and colour, warning banner, limit, hold timer, a 30-second curve with the zone bands, the
status strip). Sound (WebAudio) and spoken cues (speechSynthesis) are played there too, unlocked
by the user's first click on the page. The HTML, CSS and JavaScript live beside this file and are
read once at import.

Forces are shown in the user's unit as each message's ``readout`` says (the server decides the
unit, the factor and the digits; pressure only for a known flat tip).

Elements carry ``data-testid`` attributes for tests: ``pg-value`` (the force in the user's unit,
``—`` when not known), ``pg-unit``, ``pg-pressure`` (the smaller second readout: kPa under a force
on a known flat tip, the force under a pressure), ``pg-zone``, ``pg-banner`` (``Ease off``,
``STOP``, ``Release``, ``Slow down``, ``NO SIGNAL`` or empty), ``pg-detail``, ``pg-limit``,
``pg-hold``, ``pg-tip``, ``pg-notice`` (Zeroing…, Zeroed, Not zeroed, a drift warning, or
empty), ``pg-session``, ``pg-status``, ``pg-sound``, ``pg-mute``, ``pg-speech``, and the hidden
``pg-updates`` (messages received) and ``pg-last-sample-t`` (newest sample time drawn).
"""

from __future__ import annotations

from typing import Any

from dashboard.components.assets import register

#: The component's registered name (also its element type in the page).
NAME = "pressureguard_live_view"
#: The JavaScript is one ES module cut into three files (sound, chart, view) and joined here;
#: the view's default export comes last.
_component = register(NAME, "live_view", ("live_sound.js", "live_chart.js", "live_view.js"))


def live_view(
    url: str = "/api/live", *, window_s: float = 30.0, stale_ms: int = 1000, key: str = "pg-live"
) -> Any:
    """Mount the live view.

    Args:
        url: the SSE route (same origin as the app).
        window_s: seconds of curve shown.
        stale_ms: the browser shows NO SIGNAL when no message arrived for this long.
        key: the element key; keep it stable so reruns keep the same stream open.

    Returns:
        Streamlit's component result (the view sends nothing back).
    """
    return _component(
        key=key, data={"url": url, "window_s": window_s, "stale_ms": stale_ms}, height="content"
    )
