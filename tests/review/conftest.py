"""Fixtures for the review tests: a real store, and sessions written through its public API the
way the bridge writes them (many small chunks, then end_session)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from firmware_bridge.store import Store
from firmware_bridge.zones import JudgedSamples, SessionEvent

WriteSession = Callable[..., int]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh store in ``tmp_path``, closed after the test."""
    with Store.open(tmp_path) as s:
        yield s


def write_session(
    store: Store,
    t: np.ndarray,
    force: np.ndarray,
    *,
    filtered: np.ndarray | None = None,
    zone: np.ndarray | None = None,
    chunk: int | np.ndarray = 50,
    limit_n: float | None = 20.0,
    events: list[SessionEvent] | None = None,
    counters: dict[str, Any] | None = None,
    end: bool = True,
    **session: Any,
) -> int:
    """Record a session from arrays, ``chunk`` samples per append (or the given chunk sizes).

    Zones default to the zone bands of the filtered force against ``limit_n`` (no hysteresis).
    """
    t = np.asarray(t, dtype=np.float64)
    force = np.asarray(force, dtype=np.float64)
    filtered = force.copy() if filtered is None else np.asarray(filtered, dtype=np.float64)
    if zone is None:
        ratio = filtered / (limit_n or np.inf)
        zone = np.searchsorted([0.8, 1.0, 1.2], ratio, side="right").astype(np.int8)
        zone[np.isnan(filtered)] = -1
    raw = np.round(force * 4000.0)
    args = {"source": "sim://", "profile": "ann", "region": "neck:left", "limit_n": limit_n}
    sid = store.begin_session(**(args | session))
    sizes = [chunk] * (len(t) // chunk + 1) if isinstance(chunk, int) else list(chunk)
    start = 0
    for k, size in enumerate(sizes):
        if start >= len(t):
            break
        part = slice(start, start + int(size))
        store.append_samples(
            sid, JudgedSamples(t[part], raw[part], force[part], filtered[part], zone[part])
        )
        start += int(size)
        if k % 64 == 63:
            store.commit()
    if events:
        store.add_events(sid, events)
    if counters:
        store.set_counters(sid, counters)
    store.commit()
    if end:
        store.end_session(sid)
    return sid


@pytest.fixture
def session_from_arrays(store: Store) -> WriteSession:
    """:func:`write_session` bound to the test's store."""
    return lambda *args, **kwargs: write_session(store, *args, **kwargs)
