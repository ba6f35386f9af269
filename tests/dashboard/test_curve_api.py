"""``GET /api/curve``, called as the server calls it, on a real store (PRESSUREGUARD_HOME)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import anyio
import numpy as np
import pytest
from starlette.requests import Request
from starlette.responses import Response

from dashboard import curve_api, resources
from dashboard.curve_api import curve_json
from firmware_bridge.errors import StoreError
from firmware_bridge.store import Store
from firmware_bridge.zones import JudgedSamples
from tests.review.conftest import write_session

N = 120_000  # two minutes at 1 kHz
SPIKE_AT, SPIKE_N = 61_234, 55.5


def get(query: str) -> tuple[int, dict[str, Any], Response]:
    """One request through the route: (status, JSON body, response)."""
    scope = {"type": "http", "method": "GET", "path": "/api/curve", "headers": []}
    response = anyio.run(curve_json, Request(scope | {"query_string": query.encode()}))
    return response.status_code, json.loads(bytes(response.body)), response


@pytest.fixture
def recorded(store: Store) -> tuple[int, np.ndarray, np.ndarray]:
    """A 2-minute session at 1 kHz with one single-sample spike: (id, t, force)."""
    rng = np.random.default_rng(11)
    t = np.arange(N) / 1000.0
    force = 6.0 + 3.0 * np.sin(t / 4.0) + rng.normal(0, 0.05, N)
    force[SPIKE_AT] = SPIKE_N
    return write_session(store, t, force, limit_n=12.0), t, force


def test_the_whole_session_fits_the_budget_and_keeps_the_spike(recorded: Any) -> None:
    sid, _t, force = recorded
    status, body, response = get(f"session={sid}&points=400")
    assert status == 200
    assert body["decimated"] and body["n_samples"] == N
    assert len(body["t"]) <= 400 and len(body["force_n"]) == len(body["t"])
    assert max(v for v in body["force_n"] if v is not None) == SPIKE_N
    assert min(v for v in body["force_n"] if v is not None) == round(float(force.min()), 4)
    assert body["limit_n"] == 12.0 and body["limit_steps"][0][1] == 12.0
    assert set(body["zone_labels"]) <= {"relaxed", "target", "over", "danger", "no_signal"}
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["server-timing"].startswith("curve;dur=")


def test_a_one_second_window_returns_every_sample(recorded: Any) -> None:
    sid, t, force = recorded
    status, body, _ = get(f"session={sid}&t0=61&t1=62&points=2400")
    inside = (t >= 61.0) & (t <= 62.0)
    assert status == 200 and not body["decimated"]
    assert body["n_samples"] == inside.sum() == 1001
    np.testing.assert_array_equal(body["t"], np.round(t[inside], 4))
    np.testing.assert_array_equal(body["force_n"], np.round(force[inside], 4))
    assert SPIKE_N in body["force_n"]


def test_the_point_budget_is_clamped(recorded: Any) -> None:
    sid, _t, _force = recorded
    assert len(get(f"session={sid}&points=3")[1]["t"]) <= curve_api.MIN_POINTS
    assert get(f"session={sid}&points=1e9")[1]["n_buckets"] == curve_api.MAX_POINTS // 2
    default = get(f"session={sid}")[1]
    assert default["n_buckets"] == curve_api.DEFAULT_POINTS // 2


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("session=999", 404, "no session 999"),
        ("", 400, "missing parameter: session"),
        ("session=abc", 400, "whole number"),
        ("session=0", 400, "between 1 and"),
        ("session=99999999999999999999999", 400, "between 1 and"),
        ("session={sid}&t0=nan", 400, "finite"),
        ("session={sid}&t1=later", 400, "number of seconds"),
        ("session={sid}&t0=5&t1=2", 400, "starts (5 s) after it ends (2 s)"),
        ("session={sid}&points=many", 400, "points must be a number"),
    ],
)
def test_bad_requests_get_a_message_not_a_traceback(
    recorded: Any, query: str, status: int, words: str
) -> None:
    code, body, _ = get(query.format(sid=recorded[0]))
    assert code == status
    assert set(body) == {"error"} and words in body["error"]
    assert "Traceback" not in body["error"]


def test_a_session_being_recorded_grows_between_requests(store: Store) -> None:
    sid = write_session(store, np.arange(1000) / 100.0, np.full(1000, 5.0), end=False)
    assert get(f"session={sid}")[1]["n_samples"] == 1000
    t = 10.0 + np.arange(500) / 100.0
    store.append_samples(sid, JudgedSamples(t, t, t, t, np.zeros(500, dtype=np.int8)))
    store.commit()
    body = get(f"session={sid}")[1]
    assert body["n_samples"] == 1500 and body["t_to"] == pytest.approx(14.99)


def test_an_unreadable_store_answers_503(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> Store:
        raise StoreError("the disk is full")

    monkeypatch.setattr(resources, "get_store", broken)
    code, body, _ = get("session=1")
    assert code == 503 and "the disk is full" in body["error"]


def test_a_bug_answers_500_without_a_traceback(
    recorded: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(*_args: object, **_kwargs: object) -> None:
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(curve_api, "session_curve", bug)
    code, body, _ = get(f"session={recorded[0]}")
    assert code == 500 and body == {"error": "the curve could not be computed (ZeroDivisionError)"}


# -- the kept whole-session curves ---------------------------------------------------------------


def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the passes over a session's samples."""
    calls: list[int] = []
    real = curve_api.session_curve

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(curve_api, "session_curve", counting)
    return calls


def test_an_ended_sessions_whole_curve_is_computed_once_and_never_outlives_it(
    store: Store, recorded: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = recorded[0]
    calls = counted(monkeypatch)
    first = get(f"session={sid}&points=400")[1]
    assert get(f"session={sid}&points=400")[1] == first and len(calls) == 1
    get(f"session={sid}&points=400&t0=1&t1=2")  # a window is always read afresh
    assert len(calls) == 2
    store.delete_session(sid)
    code, body, _ = get(f"session={sid}&points=400")
    assert code == 404 and "error" in body


def test_warming_computes_the_curve_the_chart_then_gets(
    recorded: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = recorded[0]
    calls = counted(monkeypatch)
    curve_api.warm(sid, 400)
    deadline = time.monotonic() + 10
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    status, body, _ = get(f"session={sid}&points=400")  # waits for the warming if still busy
    assert status == 200 and body["n_samples"] == N and len(calls) == 1


def test_two_askers_at_once_share_one_computation_and_its_failure() -> None:
    kept = curve_api._Kept(2)
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []
    got: list[Any] = []

    def slow() -> dict[str, Any]:
        calls.append(1)
        started.set()
        release.wait(5)
        return {"curve": 1}

    first = threading.Thread(target=lambda: got.append(kept.get("k", slow)))
    first.start()
    assert started.wait(5)
    second = threading.Thread(target=lambda: got.append(kept.get("k", slow)))
    second.start()
    release.set()
    first.join(5)
    second.join(5)
    assert calls == [1] and got == [{"curve": 1}, {"curve": 1}]

    def broken() -> dict[str, Any]:
        raise StoreError("the disk is gone")

    with pytest.raises(StoreError):
        kept.get("bad", broken)
    assert kept.get("bad", lambda: {"curve": 2}) == {"curve": 2}  # a failure is not kept
