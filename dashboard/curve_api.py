"""``GET /api/curve``: one session's curve for the review chart, as JSON.

Query parameters:

- ``session``: the session id (required);
- ``t0``, ``t1``: the window in session seconds (optional; the whole session without them);
- ``points``: the point budget, clamped to :data:`MIN_POINTS`–:data:`MAX_POINTS` (the chart asks
  for about two points per pixel of its width; default :data:`DEFAULT_POINTS`).

The body is :meth:`review.curve.Curve.as_dict` (times and forces to 4 decimals): min/max per
time bucket when the window holds more samples than the budget, every sample otherwise. Errors
are JSON too, ``{"error": "…"}``: 400 for a malformed request, 404 for an unknown session, 503
when the store cannot be read; never a traceback. Nothing is cached: a session being recorded
grows, so every request reads the store afresh (``Cache-Control: no-store``). The time the
server spent is in a ``Server-Timing`` header (``curve;dur=MS``) the browser can read.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dashboard import resources
from firmware_bridge.errors import NotFoundError, PressureGuardError, UsageError
from review.curve import session_curve

log = logging.getLogger(__name__)

#: The point budget's bounds and default (about two points per pixel of a 1200 px chart).
MIN_POINTS = 200
MAX_POINTS = 8000
DEFAULT_POINTS = 2400
#: Decimals of times and forces in the JSON (0.1 ms, 0.1 mN).
DIGITS = 4

_NO_STORE = {"Cache-Control": "no-store"}


class BadRequestError(ValueError):
    """A query parameter that cannot be used (answered with 400)."""


def _session_id(text: str | None) -> int:
    if text is None or not text.strip():
        raise BadRequestError("missing parameter: session (a session id)")
    try:
        value = int(text)
    except ValueError:
        raise BadRequestError(f"session must be a whole number, not {text!r}") from None
    if not 1 <= value < 2**63:
        raise BadRequestError(f"session must be between 1 and 2⁶³ − 1, not {value}")
    return value


def _seconds(name: str, text: str | None) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise BadRequestError(f"{name} must be a number of seconds, not {text!r}") from None
    if not math.isfinite(value):
        raise BadRequestError(f"{name} must be a finite number of seconds, not {text!r}")
    return value


def _points(text: str | None) -> int:
    if text is None or not text.strip():
        return DEFAULT_POINTS
    try:
        value = round(float(text))
    except (ValueError, OverflowError):
        raise BadRequestError(f"points must be a number, not {text!r}") from None
    return min(MAX_POINTS, max(MIN_POINTS, value))


def curve_response(params: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """Answer one request (blocking: the route runs it in a worker thread).

    Args:
        params: the query parameters (``session``, ``t0``, ``t1``, ``points``).

    Returns:
        ``(HTTP status, JSON body)``: the curve, or ``{"error": message}``.
    """
    try:
        session_id = _session_id(params.get("session"))
        t0 = _seconds("t0", params.get("t0"))
        t1 = _seconds("t1", params.get("t1"))
        points = _points(params.get("points"))
        curve = session_curve(resources.get_store(), session_id, t0, t1, max_points=points)
    except (BadRequestError, UsageError) as exc:
        return 400, {"error": str(exc)}
    except NotFoundError as exc:
        return 404, {"error": str(exc)}
    except PressureGuardError as exc:
        log.warning("curve: cannot read the store: %s", exc)
        return 503, {"error": f"cannot read the store: {exc}"}
    except Exception as exc:  # a bug: logged with its traceback, answered without one
        log.exception("curve: session %s failed", params.get("session"))
        return 500, {"error": f"the curve could not be computed ({type(exc).__name__})"}
    return 200, curve.as_dict(digits=DIGITS)


async def curve_json(request: Request) -> Response:
    """``GET /api/curve``: see the module docstring."""
    started = time.perf_counter()
    status, body = await anyio.to_thread.run_sync(curve_response, dict(request.query_params))
    elapsed_ms = (time.perf_counter() - started) * 1000
    headers = _NO_STORE | {"Server-Timing": f"curve;dur={elapsed_ms:.1f}"}
    return JSONResponse(body, status_code=status, headers=headers)
