"""The live stream's logic: staleness, never-safe rules, new samples only, decimation, pacing."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

import numpy as np
import pytest
from dashboard_helpers import judged, live_state

from dashboard import feed
from firmware_bridge.errors import StoreError
from firmware_bridge.store import Store
from firmware_bridge.zones import Zone


def row(age_s: float = 0.05, **fields: Any) -> dict[str, Any]:
    """A ``Store.get_live()`` result."""
    return {
        "recorder_pid": 1,
        "session_id": None,
        "updated_at": "",
        "age_s": age_s,
        "state": live_state(**fields),
    }


# -- display_state --------------------------------------------------------------------------------


def test_fresh_row_is_shown_as_the_bridge_judged_it() -> None:
    state = feed.display_state(row(zone="target", filtered_n=17.0, tip_area_cm2=0.5))
    assert state["zone"] == "target"
    assert state["stale"] is False
    assert state["force_n"] == 17.0
    assert state["pressure_kpa"] == pytest.approx(340.0)  # 10·F/A
    assert state["limit_n"] == 20.0
    assert state["connected"] is True


@pytest.mark.parametrize(
    ("unit", "area", "main", "second"),
    [
        ("N", 0.5, ("N", 1.0), ("kPa", 20.0)),
        ("kgf", None, ("kgf", 1 / 9.80665), None),
        ("kPa", 2.0, ("kPa", 5.0), ("N", 1.0)),
        ("kPa", None, ("N", 1.0), None),  # a rounded or unknown tip: never a pressure
    ],
)
def test_the_state_says_how_to_read_force_in_the_users_unit(
    unit: str, area: float | None, main: tuple, second: tuple | None
) -> None:
    state = feed.display_state(row(zone="target", filtered_n=10.0, tip_area_cm2=area), unit)
    assert (state["readout"]["unit"], state["readout"]["per_newton"]) == pytest.approx(main)
    if second is None:
        assert state["companion"] is None
    else:
        got = state["companion"]
        assert (got["unit"], got["per_newton"]) == pytest.approx(second)
    if unit == "kPa" and area is None:
        assert "flat tip" in state["readout"]["note"]
    json.dumps(state, allow_nan=False)


def test_zero_drift_and_tare_outcomes_reach_the_page() -> None:
    tare = {"accepted": False, "asked": True, "reason": "tool loaded (4.00 N)", "t_s": 3.0}
    state = feed.display_state(
        row(zero_shift_n=2.3, drift_warning="zero moved while unloaded", tare=tare)
    )
    assert state["zero_shift_n"] == 2.3 and state["drift_warning"] and state["tare"] == tare
    assert feed.display_state(row(zero_shift_n=float("nan")))["zero_shift_n"] == 0.0


@pytest.mark.parametrize("zone", ["relaxed", "target", "over", "danger"])
def test_a_stale_row_is_no_signal_with_no_force_whatever_it_says(zone: str) -> None:
    state = feed.display_state(row(age_s=0.6, zone=zone, hold_s=30.0, release_prompt=True))
    assert state["zone"] == "no_signal"
    assert state["stale"] is True
    assert state["force_n"] is None
    assert state["pressure_kpa"] is None
    assert state["release_prompt"] is False
    assert state["hold_s"] == 0.0
    assert state["connected"] is False
    assert state["recording"] is False
    assert "0.6 s" in state["message"]


def test_no_recorder_is_no_signal() -> None:
    state = feed.display_state(None)
    assert state["zone"] == "no_signal"
    assert state["force_n"] is None
    assert state["message"] == "no bridge is running"


def test_a_row_just_under_the_limit_age_is_still_shown() -> None:
    assert feed.display_state(row(age_s=0.49))["zone"] == "target"


@pytest.mark.parametrize("zone", ["relaxed", "target"])
def test_uncalibrated_is_never_shown_as_safe(zone: str) -> None:
    state = feed.display_state(row(zone=zone, calibrated=False))
    assert state["zone"] == "uncalibrated"
    assert state["force_n"] is None


@pytest.mark.parametrize(
    "fields",
    [
        {"connected": False},
        {"zone": "bogus"},
        {"zone": "relaxed", "filtered_n": None, "force_n": None},
        {"zone": "target", "filtered_n": float("nan"), "force_n": float("nan")},
    ],
)
def test_doubtful_rows_are_no_signal(fields: dict[str, Any]) -> None:
    state = feed.display_state(row(**fields))
    assert state["zone"] == "no_signal"
    assert state["force_n"] is None


def test_danger_stays_danger_even_without_a_force() -> None:
    # a saturated ADC is danger with no trustworthy number
    state = feed.display_state(row(zone="danger", filtered_n=None, force_n=None))
    assert state["zone"] == "danger"
    assert state["force_n"] is None


def test_prompts_pass_through_on_a_fresh_row() -> None:
    state = feed.display_state(row(zone="over", release_prompt=True, ramp_warning=True))
    assert state["release_prompt"] is True
    assert state["ramp_warning"] is True


def test_state_is_json_without_nan() -> None:
    state = feed.display_state(row(limit_n=float("nan"), rate_hz=float("inf")))
    assert state["limit_n"] is None
    json.dumps(state, allow_nan=False)


# -- decimation -----------------------------------------------------------------------------------


def test_small_blocks_are_not_decimated() -> None:
    t = np.arange(100.0)
    out = feed.decimate_minmax(t, t * 2, np.zeros(100, np.int8), 2000)
    assert out[0] is t


def test_decimation_keeps_peaks_and_order_within_budget() -> None:
    n = 30_000
    t = np.arange(n) / 1000.0
    y = np.sin(t) * 5 + 10
    y[12_345] = 99.0  # one brief push past the limit
    y[23_456] = -7.0
    z = np.zeros(n, np.int8)
    z[12_345] = int(Zone.DANGER)
    dt, dy, dz = feed.decimate_minmax(t, y, z, 2000)
    assert len(dt) <= 2000
    assert np.all(np.diff(dt) > 0)
    assert dy.max() == 99.0
    assert dy.min() == -7.0
    assert int(dz[np.argmax(dy)]) == int(Zone.DANGER)
    assert dt[0] == t[0]


def test_decimation_keeps_unknown_only_where_a_whole_bucket_is_unknown() -> None:
    n = 10_000
    y = np.full(n, 5.0)
    y[:5000] = np.nan
    y[7000] = np.nan  # one NaN among known values: dropped
    dt, dy, _ = feed.decimate_minmax(np.arange(n, dtype=float), y, np.zeros(n, np.int8), 100)
    assert np.isnan(dy[dt < 5000]).all()
    assert not np.isnan(dy[dt >= 5000]).any()


def test_samples_payload_has_null_for_unknown_force() -> None:
    samples = judged(np.array([0.0, 0.1]), np.array([1.0, np.nan]))
    payload = feed.samples_payload(samples)
    assert payload["t"] == [0.0, 0.1]
    assert payload["f"] == [1.0, None]
    assert payload["decimated"] is False


# -- messages from a real store -------------------------------------------------------------------


def test_messages_carry_only_new_samples(store: Store) -> None:
    store.append_live(judged(np.arange(5) / 80, np.full(5, 3.0)), None)
    cursor = feed.FeedCursor()
    first = feed.next_message(store, cursor)
    assert first["reset"] is True
    assert first["samples"]["t"] == pytest.approx(list(np.arange(5) / 80))
    assert feed.next_message(store, cursor)["samples"]["t"] == []  # nothing new: a heartbeat
    store.append_live(judged(np.arange(5, 8) / 80, np.full(3, 4.0)), None)
    third = feed.next_message(store, cursor)
    assert third["reset"] is False
    assert third["seq"] == 3
    assert third["samples"]["t"] == pytest.approx(list(np.arange(5, 8) / 80))
    assert third["samples"]["f"] == [4.0, 4.0, 4.0]


def test_first_message_decimates_a_long_backlog(store: Store) -> None:
    n = 30 * 1000  # 30 s at 1 kHz
    force = np.full(n, 5.0)
    force[n // 2] = 40.0
    store.append_live(judged(np.arange(n) / 1000, force), None)
    message = feed.next_message(store, feed.FeedCursor())
    assert len(message["samples"]["t"]) <= feed.MAX_POINTS
    assert message["samples"]["decimated"] is True
    assert max(message["samples"]["f"]) == 40.0


def test_message_uses_the_live_row(store: Store) -> None:
    sid = store.begin_session(source="sim://", profile="default", region=None, limit_n=20.0)
    store.set_live(sid, live_state(zone="over", filtered_n=21.0, recording=True, session_id=sid))
    message = feed.next_message(store, feed.FeedCursor())
    assert message["state"]["zone"] == "over"
    assert message["state"]["session_id"] == sid
    assert message["state"]["recording"] is True


class BrokenStore:
    def get_live(self) -> None:
        raise StoreError("store busy: test")


def test_an_unreadable_store_gives_no_signal_not_an_exception() -> None:
    message = feed.next_message(BrokenStore(), feed.FeedCursor())  # type: ignore[arg-type]
    assert message["state"]["zone"] == "no_signal"
    assert "store busy" in message["state"]["message"]


def test_encode_is_one_sse_event() -> None:
    text = feed.encode({"a": 1, "b": None})
    assert text == 'data: {"a":1,"b":null}\n\n'
    with pytest.raises(ValueError):
        feed.encode({"x": math.nan})


# -- the stream -----------------------------------------------------------------------------------


def _collect(store: Store, messages: int, **kwargs: Any) -> list[str]:
    async def run() -> list[str]:
        sent: list[str] = []

        async def disconnected() -> bool:
            return sum(1 for s in sent if s.startswith("data:")) >= messages

        async for chunk in feed.event_stream(lambda: store, disconnected, **kwargs):
            sent.append(chunk)
        return sent

    return asyncio.run(run())


def test_stream_paces_messages_and_stops_on_disconnect(store: Store) -> None:
    loop = asyncio.new_event_loop()
    start = loop.time()
    chunks = _collect(store, 6, interval_s=0.05)
    elapsed = loop.time() - start
    loop.close()
    assert chunks[0] == f"retry: {feed.RETRY_MS}\n\n"
    data = [json.loads(c.removeprefix("data: ")) for c in chunks[1:]]
    assert [d["seq"] for d in data] == [1, 2, 3, 4, 5, 6]
    assert [d["reset"] for d in data] == [True, False, False, False, False, False]
    assert all(d["state"]["zone"] == "no_signal" for d in data)  # no bridge: heartbeats only
    assert 0.2 <= elapsed < 2.0


def test_stream_says_bye_when_the_server_stops(store: Store) -> None:
    chunks = _collect(store, 100, interval_s=0.01, is_exiting=lambda: True)
    assert chunks[-1] == feed.BYE
    assert not any(c.startswith("data: {") for c in chunks)


def test_stream_says_bye_after_its_longest_life(store: Store) -> None:
    chunks = _collect(store, 1000, interval_s=0.01, max_stream_s=0.1)
    assert chunks[-1] == feed.BYE
    assert 3 <= len(chunks) < 100
