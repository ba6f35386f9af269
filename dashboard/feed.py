"""The live stream's logic: what ``/api/live`` sends, 20 times a second.

Every :data:`INTERVAL_S` the stream sends one server-sent event ``data: {json}`` with

- ``seq``: message number on this connection (1, 2, …); ``reset``: true on the first message,
  which carries the last :data:`WINDOW_S` seconds, so the browser drops what it had (EventSource
  reconnects by itself and would otherwise draw the same samples twice);
- ``server_time``: Unix time the message was built;
- ``state``: the verdict to display (:func:`display_state`);
- ``samples``: ``{"t": [...], "f": [...], "z": [...]}``, the samples judged since the previous
  message: session time (s), filtered force (N, null where not known) and zone number
  (:class:`firmware_bridge.zones.Zone`); ``decimated`` says whether min/max decimation was applied.

A message goes out even when nothing changed: that is the heartbeat the browser's watchdog waits
for. The stream starts with ``retry: 500`` and may end with ``event: bye`` (server stopping, or
the stream's longest life reached), after which the browser reconnects at once.

The server, not the bridge's row, decides staleness: a live row older than
:data:`~dashboard.resources.STALE_AFTER_S`, or no row at all, is sent as ``no_signal`` with no
force, whatever the row says, because the bridge that wrote it may be dead.
"""

from __future__ import annotations

import json
import logging
import math
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from dashboard import resources
from dashboard.resources import STALE_AFTER_S
from firmware_bridge.decimate import minmax_indices
from firmware_bridge.errors import PressureGuardError
from firmware_bridge.readout import DEFAULT_UNIT, chosen_unit, companion, readout
from firmware_bridge.store import Store
from firmware_bridge.zones import JudgedSamples

log = logging.getLogger(__name__)

#: Seconds between messages: 25 a second, so the screen changes ≥ 20 times a second.
INTERVAL_S = 0.04
#: Seconds of history sent on connect (the curve's width).
WINDOW_S = 30.0
#: More points than this in one message are decimated (min/max per bucket).
MAX_POINTS = 2000
#: The browser's EventSource waits this long before reconnecting after an error (ms).
RETRY_MS = 500
#: A stream ends (with a ``bye`` event; the browser reconnects at once) after this long, so a
#: server shutting down never waits on an open tab for more than this.
MAX_STREAM_S = 300.0

ZONES = ("relaxed", "target", "over", "danger", "no_signal", "uncalibrated")
#: Zones that would read as "fine": never shown without a fresh, calibrated, connected signal.
SAFE_ZONES = frozenset({"relaxed", "target"})

#: Status fields passed through from the bridge's live state as they are.
_STATUS_FIELDS = (
    "connected",
    "recording",
    "session_id",
    "profile",
    "region",
    "source",
    "format",
    "limit_n",
    "hold_limit_s",
    "tip",
    "tip_label",
    "tip_area_cm2",
    "tool_tip_area_cm2",
    "calibrated",
    "calibration_source",
    "calibration_reason",
    "calibration_warning",
    "device_id",
    "battery_mv",
    "rate_hz",
    "nominal_rate_hz",
    "lost_frames",
    "bad_frames",
    "message",
    "device_faults",
    "device_fault",
    "link",
    "zero_shift_n",
    "drift_warning",
    "taring",
    "tare",
)


#: What is shown before anything is known: no signal, no force, no prompts.
_DEFAULTS: dict[str, Any] = {
    "zone": "no_signal",
    "stale": True,
    "age_s": None,
    "force_n": None,
    "pressure_kpa": None,
    "hold_s": 0.0,
    "release_prompt": False,
    "ramp_warning": False,
    "prewarn_s": None,
    "connected": False,
    "recording": False,
    "session_id": None,
    "profile": None,
    "region": None,
    "source": "",
    "format": "unknown",
    "limit_n": None,
    "hold_limit_s": None,
    "tip": None,
    "tip_label": None,
    "tip_area_cm2": None,
    "tool_tip_area_cm2": None,
    "calibrated": False,
    "calibration_source": None,
    "calibration_reason": None,
    "calibration_warning": None,
    "device_id": None,
    "battery_mv": None,
    "rate_hz": None,
    "nominal_rate_hz": None,
    "lost_frames": 0,
    "bad_frames": 0,
    "message": "no bridge is running",
    "device_faults": 0,
    "device_fault": None,
    "link": None,
    "zero_shift_n": 0.0,
    "drift_warning": None,
    "taring": False,
    "tare": None,
    "ppt": None,
    "readout": readout(DEFAULT_UNIT).as_dict(),
    "companion": None,
}
#: How often a stream looks at the user's unit again (a change shows within this long).
UNIT_REREAD_S = 1.0


def _number(value: Any) -> float | None:
    """A finite float, or None (JSON has no NaN, and None/text mean "not known")."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def display_state(live: dict[str, Any] | None, unit: str = DEFAULT_UNIT) -> dict[str, Any]:
    """The state the live view shows, judged defensively from the store's live row, with how to
    read force out in the user's unit.

    Args:
        live: ``Store.get_live()``'s dict, or None.
        unit: the user's unit (:mod:`firmware_bridge.readout`); pressure only for a known flat
            tip.

    Returns:
        :func:`verdict`'s dict, plus ``readout`` (the main number's unit, factor from newtons,
        decimals, and the note when a pressure unit fell back to force) and ``companion`` (the
        smaller second readout, or None).
    """
    state = verdict(live)
    area = state.get("tip_area_cm2")
    main = readout(unit, area)
    second = companion(main, area)
    state["readout"] = main.as_dict()
    state["companion"] = second.as_dict() if second is not None else None
    return state


def verdict(live: dict[str, Any] | None) -> dict[str, Any]:
    """The verdict and status the live view shows, judged defensively from the live row.

    Rules, each erring towards "not safe":

    - no row, or a row older than ``STALE_AFTER_S`` → ``no_signal`` (the bridge may be dead);
    - an unknown zone, any zone while disconnected, or a "safe" zone without a force →
      ``no_signal``;
    - a "safe" zone while uncalibrated → ``uncalibrated`` (never green);
    - ``no_signal`` and ``uncalibrated`` carry no force, hold, release or ramp prompt.

    Args:
        live: ``Store.get_live()``'s dict, or None.

    Returns:
        A JSON-ready dict: ``zone``, ``stale``, ``force_n`` (the filtered force the zone was judged
        on), ``pressure_kpa``, ``hold_s``, ``release_prompt``, ``ramp_warning``, ``age_s``, and the
        status fields (``connected``, ``recording``, ``session_id``, ``source``, ``limit_n`` …);
        ``ppt``: a guided threshold measurement's status (None when none runs or the row is stale).
    """
    state: dict[str, Any] = dict(_DEFAULTS)
    if not live:
        return state
    row = live.get("state")
    if not isinstance(row, dict):
        row = {}
    for name in _STATUS_FIELDS:
        if name in row:
            state[name] = row[name]
    for name in (
        "limit_n",
        "hold_limit_s",
        "tip_area_cm2",
        "tool_tip_area_cm2",
        "rate_hz",
        "nominal_rate_hz",
    ):
        state[name] = _number(state.get(name))
    state["zero_shift_n"] = _number(state.get("zero_shift_n")) or 0.0
    state["message"] = str(state.get("message") or "")
    age = _number(live.get("age_s"))
    state["age_s"] = None if age is None else round(age, 3)
    if age is None or age > STALE_AFTER_S:
        state["connected"] = False
        state["recording"] = False  # a dead bridge records nothing, whatever its row says
        if age is not None:
            state["message"] = f"no update for {age:.1f} s"
        elif "age_s" in live and live["age_s"] is None:  # see Store.get_live
            state["message"] = "the bridge's last update is stamped in the future (clock set back)"
        else:
            state["message"] = "the bridge stopped updating"
        return state

    state["stale"] = False
    ppt = row.get("ppt")
    state["ppt"] = dict(ppt) if isinstance(ppt, dict) else None
    zone = row.get("zone")
    force = _number(row.get("filtered_n"))
    if force is None:
        force = _number(row.get("force_n"))
    if zone not in ZONES or not state.get("connected") or (zone in SAFE_ZONES and force is None):
        zone = "no_signal"
    elif zone in SAFE_ZONES and not state.get("calibrated"):
        zone = "uncalibrated"
    state["zone"] = zone
    if zone in ("no_signal", "uncalibrated"):
        if state["ppt"] is not None:  # no live force or coaching without a trusted signal
            state["ppt"].update(force_n=None, rate_kpa_s=None, coach=None)
        return state

    area = state.get("tip_area_cm2")
    state["force_n"] = force
    if force is not None and area:
        state["pressure_kpa"] = round(10.0 * force / area, 2)
    state["hold_s"] = _number(row.get("hold_s")) or 0.0
    state["release_prompt"] = bool(row.get("release_prompt"))
    state["ramp_warning"] = bool(row.get("ramp_warning"))
    if zone in SAFE_ZONES:  # "limit in … s" only while still below the limit
        state["prewarn_s"] = _number(row.get("prewarn_s"))
    return state


def decimate_minmax(
    t: np.ndarray, y: np.ndarray, z: np.ndarray, max_points: int = MAX_POINTS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep at most ``max_points`` samples: each bucket's lowest and highest, in time order.

    Peaks survive, so a brief push past the limit still shows on the curve. NaN (unknown force)
    is kept only where a whole bucket is unknown, so gaps stay gaps.

    Args:
        t: sample times.
        y: values (NaN where unknown).
        z: zone per sample.
        max_points: the budget (≥ 2).

    Returns:
        ``(t, y, z)``, the same arrays when already within the budget.
    """
    if len(t) <= max_points:
        return t, y, z
    keep = minmax_indices(y, max_points)
    return t[keep], y[keep], z[keep]


def _floats(values: np.ndarray, digits: int) -> list[float | None]:
    rounded = np.round(np.asarray(values, dtype=float), digits).tolist()
    return [v if math.isfinite(v) else None for v in rounded]


def samples_payload(samples: JudgedSamples, max_points: int = MAX_POINTS) -> dict[str, Any]:
    """The ``samples`` part of a message: times, filtered force and zones, decimated if large."""
    t = np.asarray(samples.t_s, dtype=float)
    y = np.asarray(samples.filtered_n, dtype=float)
    z = np.asarray(samples.zone, dtype=np.int8)
    dt, dy, dz = decimate_minmax(t, y, z, max_points)
    return {
        "t": _floats(dt, 4),
        "f": _floats(dy, 3),
        "z": [int(v) for v in dz.tolist()],
        "decimated": len(dt) < len(t),
    }


@dataclass
class FeedCursor:
    """Where one connection is in the live feed, and the user's unit as last read."""

    after_id: int = 0
    seq: int = 0
    failing: str = ""
    unit: str = DEFAULT_UNIT
    unit_read_at: float = -math.inf

    def unit_of(self, store: Store) -> str:
        """The user's unit, read from the store at most every :data:`UNIT_REREAD_S`."""
        now = time.monotonic()
        if now - self.unit_read_at >= UNIT_REREAD_S:
            self.unit, self.unit_read_at = chosen_unit(store), now
        return self.unit


def failed_message(cursor: FeedCursor, what: str, exc: Exception) -> dict[str, Any]:
    """A ``no_signal`` message saying why the store could not be used (logged once per cause)."""
    reason = f"{what}: {exc}"
    if reason != cursor.failing:
        log.warning("live feed: %s", reason)
        cursor.failing = reason
    cursor.seq += 1
    state = display_state(None)
    state["message"] = reason
    return {
        "seq": cursor.seq,
        "reset": cursor.seq == 1,
        "server_time": round(time.time(), 3),
        "state": state,
        "samples": {"t": [], "f": [], "z": [], "decimated": False},
    }


def next_message(store: Store, cursor: FeedCursor) -> dict[str, Any]:
    """Read the store and build the next message, advancing ``cursor`` (blocking: run it in a
    worker thread).

    A store that cannot be read gives a ``no_signal`` message instead of an exception, so the
    stream, and the browser's display, keep going.
    """
    try:
        live = store.get_live()
        after_id, samples = store.live_since(cursor.after_id, seconds=WINDOW_S)
        unit = cursor.unit_of(store)
    except PressureGuardError as exc:
        return failed_message(cursor, "cannot read the store", exc)
    cursor.after_id = after_id
    cursor.failing = ""
    cursor.seq += 1
    return {
        "seq": cursor.seq,
        "reset": cursor.seq == 1,
        "server_time": round(time.time(), 3),
        "state": display_state(live, unit),
        "samples": samples_payload(samples),
    }


def encode(message: dict[str, Any]) -> str:
    """One server-sent event (NaN is never written: JSON.parse would reject it)."""
    return f"data: {json.dumps(message, separators=(',', ':'), allow_nan=False)}\n\n"


def server_exiting() -> bool:
    """Whether the uvicorn server running us was told to stop (Ctrl-C, SIGTERM).

    Uvicorn waits for open responses before it stops, and an event stream never ends by itself;
    uvicorn's signal handler is a method of its ``Server``, whose ``should_exit`` says it all.
    False when that cannot be told (another server): :data:`MAX_STREAM_S` still bounds the wait.
    """
    owner = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    return bool(getattr(owner, "should_exit", False))


BYE = "event: bye\ndata: {}\n\n"


async def event_stream(
    get_store: Callable[[], Store],
    is_disconnected: Callable[[], Awaitable[bool]],
    interval_s: float = INTERVAL_S,
    max_stream_s: float = MAX_STREAM_S,
    is_exiting: Callable[[], bool] = server_exiting,
) -> AsyncIterator[str]:
    """Server-sent events for one client until it disconnects.

    Store reads run in a worker thread, so a slow disk never blocks the event loop; sends are
    paced to a deadline (not ``sleep(interval)`` after the work), so the rate holds at 1/interval.
    The stream ends with a ``bye`` event when the server is stopping or after ``max_stream_s``;
    the browser then reconnects at once.

    Args:
        get_store: returns the process's Store (called in the worker thread).
        is_disconnected: the request's ``is_disconnected``.
        interval_s: seconds between messages.
        max_stream_s: the longest a stream lasts.
        is_exiting: whether the server is shutting down.
    """
    cursor = FeedCursor()
    yield f"retry: {RETRY_MS}\n\n"

    def step() -> dict[str, Any]:
        try:
            store = get_store()
        except PressureGuardError as exc:
            return failed_message(cursor, "cannot open the store", exc)
        return next_message(store, cursor)

    started = deadline = time.monotonic()
    while not await is_disconnected():
        if is_exiting() or time.monotonic() - started > max_stream_s:
            yield BYE
            return
        message = await anyio.to_thread.run_sync(step)
        yield encode(message)
        deadline += interval_s
        delay = deadline - time.monotonic()
        if delay < -interval_s:  # fell far behind (suspended laptop): don't burst to catch up
            deadline = time.monotonic()
            delay = 0.0
        await anyio.sleep(max(delay, 0.0))


# -- routes (server.py mounts them beside the Streamlit app) --------------------------------------


async def live_sse(request: Request) -> Response:
    """``GET /api/live``: the live stream as server-sent events (see the module docstring)."""
    return StreamingResponse(
        event_stream(resources.get_store, request.is_disconnected),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def state_json(request: Request) -> Response:
    """``GET /api/state``: the current :func:`display_state` as JSON (scripts, health checks).

    503 when the store cannot be read; the body is then a ``no_signal`` state saying why.
    """

    def read() -> tuple[int, dict[str, Any]]:
        try:
            store = resources.get_store()
            return 200, display_state(store.get_live(), chosen_unit(store))
        except PressureGuardError as exc:
            state = display_state(None)
            state["message"] = f"cannot read the store: {exc}"
            return 503, state

    status, state = await anyio.to_thread.run_sync(read)
    return JSONResponse(state, status_code=status, headers={"Cache-Control": "no-store"})
