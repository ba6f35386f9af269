"""``GET /api/curve``: one session's curve for the review chart, as JSON.

Query parameters:

- ``session``: the session id (required);
- ``t0``, ``t1``: the window in session seconds (optional; the whole session without them);
- ``points``: the point budget, clamped to :data:`MIN_POINTS`–:data:`MAX_POINTS` (the chart asks
  for about two points per pixel of its width; default :data:`DEFAULT_POINTS`).

The body is :meth:`review.curve.Curve.as_dict` (times and forces to 4 decimals): min/max per
time bucket when the window holds more samples than the budget, every sample otherwise. Errors
are JSON too, ``{"error": "…"}``: 400 for a malformed request, 404 for an unknown session, 503
when the store cannot be read; never a traceback. The time the server spent is in a
``Server-Timing`` header (``curve;dur=MS``) the browser can read.

The whole-session curve of a session that is no longer recording is kept in memory (a few, the
most recently used), keyed by what it is made of (its samples' count and end, its limit), so a
deleted or changed session is never answered from the cache; a session being recorded grows and
is always read afresh. :func:`warm` computes one in the background: the History page asks for
it as its script starts, so the ~0.3 s pass over a 2-hour session is done by the time the chart,
mounted a second later, requests it. The browser never caches (``Cache-Control: no-store``).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
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


#: Whole-session curves kept in memory (each ~0.1–1 MB).
CACHED_CURVES = 16

Answer = tuple[int, dict[str, Any]]


class _Kept:
    """The most recently used answers, each computed once even when asked for twice at once
    (the page's :func:`warm` and the chart's request): a second asker waits for the first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._done: OrderedDict[Hashable, dict[str, Any]] = OrderedDict()
        self._running: dict[Hashable, Future[dict[str, Any]]] = {}

    def get(self, key: Hashable, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        with self._lock:
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key]
            running = self._running.get(key)
            if running is None:
                mine: Future[dict[str, Any]] = Future()
                self._running[key] = mine
        if running is not None:
            return running.result()
        try:
            value = compute()
        except BaseException as exc:
            mine.set_exception(exc)
            raise
        finally:
            with self._lock:
                self._running.pop(key, None)
        with self._lock:
            self._done[key] = value
            while len(self._done) > self._size:
                self._done.popitem(last=False)
        mine.set_result(value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._done.clear()


_kept = _Kept(CACHED_CURVES)


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
        body = _curve(session_id, t0, t1, points)
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
    return 200, body


def _curve(session_id: int, t0: float | None, t1: float | None, points: int) -> dict[str, Any]:
    """The curve's JSON body; a whole ended session's from :data:`_kept` when it has it."""
    store = resources.get_store()

    def compute() -> dict[str, Any]:
        return session_curve(store, session_id, t0, t1, max_points=points).as_dict(DIGITS)

    if t0 is not None or t1 is not None:
        return compute()
    summary = store.session_summary(session_id)  # NotFoundError for a deleted one
    if summary["status"] == "recording":
        return compute()
    made_of = (summary["n_samples"], summary["ended_at"], summary["limit_n"])
    return _kept.get((str(store.path), session_id, points, made_of), compute)


def warm(session_id: int, points: int = DEFAULT_POINTS) -> None:
    """Compute a session's whole curve in the background, for the request that will follow.

    Never raises: whatever goes wrong is answered when the chart asks.
    """

    def work() -> None:
        try:
            _curve(session_id, None, None, points)
        except Exception as exc:  # the chart's own request reports it
            log.debug("curve: warming session %d failed: %s", session_id, exc)

    threading.Thread(target=work, name=f"warm-curve-{session_id}", daemon=True).start()


async def curve_json(request: Request) -> Response:
    """``GET /api/curve``: see the module docstring."""
    started = time.perf_counter()
    status, body = await anyio.to_thread.run_sync(curve_response, dict(request.query_params))
    elapsed_ms = (time.perf_counter() - started) * 1000
    headers = _NO_STORE | {"Server-Timing": f"curve;dur={elapsed_ms:.1f}"}
    return JSONResponse(body, status_code=status, headers=headers)
