"""A test-only server: the live view alone (:mod:`tests.e2e.zones_page`) fed by a scripted
``/api/live`` that plays zones in a loop, so a browser test can show any zone, or switch zones
faster than a person could, without a tool or a bridge.

``/api/live?script=over:0.1,target:0.1&unit=N`` sends, 25 times a second, the state of the zone
due at that moment: each ``zone:seconds`` pair in turn, looped. Forces per zone sit inside the
zone's band of :data:`LIMIT_N`. Run (the e2e tests do it)::

    streamlit run tests/e2e/zones_app.py --server.address 127.0.0.1 --server.port 8504 \\
        --server.headless true --server.fileWatcherType none
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import streamlit as st
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

from dashboard.feed import display_state  # noqa: E402

PAGE = Path(__file__).resolve().with_name("zones_page.py")
LIMIT_N = 11.5
#: The force shown in each zone (N): inside its band of LIMIT_N (target 0.8–1.0, over 1.0–1.2).
FORCES = {"relaxed": 5.0, "target": 10.5, "over": 12.3, "danger": 15.0}


def parse_script(text: str) -> list[tuple[str, float]]:
    """``"over:0.1,target:0.1"`` → ``[("over", 0.1), ("target", 0.1)]``."""
    steps = []
    for part in text.split(","):
        zone, _, seconds = part.partition(":")
        steps.append((zone.strip(), float(seconds or 1.0)))
    return steps


def zone_at(steps: list[tuple[str, float]], elapsed: float) -> str:
    """The zone due ``elapsed`` seconds into the looped script."""
    period = sum(s for _, s in steps)
    left = elapsed % period
    for zone, seconds in steps:
        if left < seconds:
            return zone
        left -= seconds
    return steps[-1][0]


def state_for(zone: str, unit: str) -> dict[str, Any]:
    """What the live route sends for a fresh bridge row in ``zone`` (``uncalibrated``: a
    relaxed reading from a tool without calibration; ``no_signal``: the tool not connected)."""
    row = {
        "zone": "relaxed" if zone == "uncalibrated" else zone,
        "filtered_n": FORCES.get(zone, 3.0),
        "connected": zone != "no_signal",
        "calibrated": zone != "uncalibrated",
        "source": "scripted test feed",
        "limit_n": LIMIT_N,
        "hold_s": 4.0,
        "hold_limit_s": 60.0,
        "rate_hz": 80.0,
        "message": "" if zone != "no_signal" else "the tool is not connected",
    }
    return display_state({"age_s": 0.05, "state": row}, unit)


async def scripted_live(request: Request) -> Response:
    """``GET /api/live``: the scripted stream."""
    steps = parse_script(request.query_params.get("script", "relaxed:1"))
    unit = request.query_params.get("unit", "N")

    async def stream() -> AsyncIterator[str]:
        yield "retry: 500\n\n"
        started = time.monotonic()
        seq = 0
        while not await request.is_disconnected():
            seq += 1
            elapsed = time.monotonic() - started
            message = {
                "seq": seq,
                "reset": seq == 1,
                "server_time": time.time(),
                "state": state_for(zone_at(steps, elapsed), unit),
                "samples": {"t": [elapsed], "f": [FORCES.get(zone_at(steps, elapsed))]},
            }
            yield f"data: {json.dumps(message)}\n\n"
            await anyio.sleep(0.04)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


app = st.App(str(PAGE), routes=[Route("/api/live", scripted_live)])
