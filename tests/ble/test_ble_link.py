"""Our tool over BLE, end to end across processes: virtual controllers, ``pressureguard ble-sim``
and ``pressureguard record ble://… --ble-hci tcp-client:…``, compared with what the tool sent."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from firmware_bridge.protocol.binary import BinaryDecoder
from firmware_bridge.protocol.frames import FrameType
from firmware_bridge.readings import SampleBatch
from tests.ble.conftest import Air, free_port, hci, read_log, wait_for
from tests.integration.cli import export_rows, run_cli, show, start_record, stop_record

pytestmark = [pytest.mark.component("ble"), pytest.mark.slow, pytest.mark.timeout(180)]

COUNTS_PER_N, OFFSET = 10700.0, 84000.0  # the simulator's factory calibration (INFO)


def sent_samples(log: Path) -> tuple[np.ndarray, np.ndarray]:
    """Device times (s) and raw counts of every SAMPLES body the virtual tool notified."""
    decoder = BinaryDecoder()
    t: list[np.ndarray] = []
    raw: list[np.ndarray] = []
    for event in read_log(log):
        if event["ev"] != "tx":
            continue
        for reading in decoder.feed_body(bytes.fromhex(event["data"])):
            if isinstance(reading, SampleBatch):
                t.append(reading.t)
                raw.append(reading.raw)
    assert decoder.stats.bad_frames == 0
    return np.concatenate(t), np.concatenate(raw)


def heard(log: Path) -> list[tuple[int, bytes]]:
    """(frame type, payload) of every valid command the virtual tool received."""
    return [
        (int(e["command"]), bytes.fromhex(e["payload"]))
        for e in read_log(log)
        if e["ev"] == "rx" and e["ok"]
    ]


def csv_columns(rows: list[dict[str, str]]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    return (
        np.array([float(r["t_s"]) for r in rows]),
        np.array([float(r["raw"]) for r in rows]),
        [r["zone"] for r in rows],
    )


def runs_in(sent_raw: np.ndarray, raw: np.ndarray) -> int:
    """Where ``raw`` appears, whole and in order, in what was sent (asserts it does, once)."""
    n = raw.size
    starts = [int(k) for k in np.flatnonzero(sent_raw == raw[0]) if k + n <= sent_raw.size]
    hits = [k for k in starts if np.array_equal(sent_raw[k : k + n], raw)]
    assert len(hits) == 1, f"recorded samples found {len(hits)} times in what was sent"
    return hits[0]


def record(air: Air, port: int, source: str, *args: str) -> Any:
    return air.adopt(start_record(air.tmp_path / "data", source, "--ble-hci", hci(port), *args))


def test_1khz_arrives_in_order_complete_and_commands_reach_the_tool(air: Air) -> None:
    p1, p2 = free_port(), free_port()
    air.controllers([p1, p2])
    log = air.tmp_path / "tool.jsonl"
    air.ble_sim(p1, log, "--rate", "1000", "--seed", "7", "--pattern", "steady", "--level", "20")
    proc = record(air, p2, "ble://PressureGuard-0007", "--duration", "5", "--limit", "10N")
    session = stop_record(proc, timeout=90, interrupt=False)
    data = air.tmp_path / "data"
    summary = show(data, session)
    # --duration 5 ends at 5 s of the tool's clock or of the bridge's, whichever comes first: on
    # a busy machine notifications lag, and the last few ms may not have arrived by then.
    assert 4500 <= summary["n_samples"] <= 5000
    assert summary["dropped_frames"] == 0
    assert summary["bad_frames"] == 0
    assert summary["gaps"] == 0

    t_s, raw, zones = csv_columns(export_rows(data, session))
    sent_t, sent_raw = sent_samples(log)
    k = runs_in(sent_raw, raw)  # every recorded sample was sent, none missing, none reordered
    assert np.allclose(t_s, sent_t[k : k + raw.size] - sent_t[k], atol=1e-6)
    assert np.allclose(np.diff(t_s), 0.001, atol=1e-6)
    assert set(zones) == {"danger"}  # 20 N against a 10 N limit: 2 × the limit

    commands = heard(log)
    kinds = [c for c, _ in commands]
    assert kinds[0] == FrameType.HELLO  # sent once subscribed
    assert (FrameType.HAPTIC, bytes([2])) in commands  # danger: continuous
    limits = [p for c, p in commands if c == FrameType.LOCAL_LIMIT]
    assert limits, "no LOCAL_LIMIT reached the tool"
    threshold = int.from_bytes(limits[-1][:4], "little", signed=True)
    assert limits[-1][4:] == b"\x01"
    assert abs(threshold - (OFFSET + 10 * COUNTS_PER_N)) <= COUNTS_PER_N  # 10 N (± a tare)


def _tx_count(log: Path) -> int:
    return sum(1 for e in read_log(log) if e["ev"] == "tx")


def _subscriptions(log: Path) -> int:
    return sum(1 for e in read_log(log) if e["ev"] == "subscribed")


def test_link_dropped_and_restored_keeps_one_session_with_one_gap_on_the_tools_clock(
    air: Air,
) -> None:
    p1, p2 = free_port(), free_port()
    controllers = air.controllers([p1, p2])
    log = air.tmp_path / "tool.jsonl"
    air.ble_sim(p1, log, "--rate", "1000", "--seed", "11")
    proc = record(air, p2, "ble://")
    wait_for(lambda: _subscriptions(log) == 1 and _tx_count(log) >= 80, 90, "2 s of data")

    air.kill(controllers)  # the link drops: both sides lose their controller
    down_at = time.monotonic()
    time.sleep(1.5)
    air.controllers([p1, p2])
    down_s = time.monotonic() - down_at
    wait_for(lambda: _subscriptions(log) >= 2, 60, "the bridge to find the tool again")
    after = _tx_count(log)
    wait_for(lambda: _tx_count(log) >= after + 80, 30, "2 s of data after the drop")
    session = stop_record(proc, timeout=60)

    data = air.tmp_path / "data"
    summary = show(data, session)
    assert summary["gaps"] == 1
    (gap,) = summary["gap_list"]
    assert summary["bad_frames"] == 0
    t_s, raw, _ = csv_columns(export_rows(data, session))
    sent_t, sent_raw = sent_samples(log)
    cut = int(np.flatnonzero(np.diff(t_s) > 0.0015)[0]) + 1  # the one place time jumps
    assert np.all(np.diff(t_s[cut:]) < 0.0015)
    before, resumed = runs_in(sent_raw, raw[:cut]), runs_in(sent_raw, raw[cut:])
    # One clock for the whole session: the tool's. Both parts map onto it with one offset.
    offset = sent_t[before] - t_s[0]
    assert np.allclose(sent_t[before : before + cut] - offset, t_s[:cut], atol=1e-6)
    assert np.allclose(sent_t[resumed : resumed + raw.size - cut] - offset, t_s[cut:], atol=1e-6)
    gap_s = gap["end_s"] - gap["start_s"]
    assert gap["start_s"] == pytest.approx(t_s[cut - 1], abs=1e-6)
    assert gap["end_s"] == pytest.approx(t_s[cut], abs=1e-6)
    assert gap_s == pytest.approx(sent_t[resumed] - sent_t[before + cut - 1], abs=1e-6)
    assert gap_s >= down_s - 0.1  # it lasted at least as long as the controllers were away


def test_tool_switched_off_and_on_is_found_again_by_name(air: Air) -> None:
    p1, p2 = free_port(), free_port()
    air.controllers([p1, p2])
    log = air.tmp_path / "tool.jsonl"
    tool = air.ble_sim(p1, log, "--seed", "12")
    proc = record(air, p2, "ble://PressureGuard-000C")
    wait_for(lambda: _subscriptions(log) == 1 and _tx_count(log) >= 40, 30, "1 s of data")
    air.kill(tool)  # no goodbye on the air: the bridge notices the silence
    off_at = time.monotonic()
    time.sleep(1.0)
    air.ble_sim(p1, log, "--seed", "12")
    off_s = time.monotonic() - off_at
    wait_for(lambda: _subscriptions(log) >= 2, 60, "the bridge to reconnect")
    after = _tx_count(log)
    wait_for(lambda: _tx_count(log) >= after + 40, 30, "1 s of data after")
    session = stop_record(proc, timeout=60)
    summary = show(air.tmp_path / "data", session)
    assert summary["gaps"] == 1
    (gap,) = summary["gap_list"]
    assert gap["end_s"] - gap["start_s"] >= off_s - 0.1
    kinds = [e["kind"] for e in summary["events"]]
    assert "source_lost" in kinds and "no_signal" in kinds
    assert kinds.index("no_signal") < len(kinds) - 1 - kinds[::-1].index("signal")
    assert run_cli(air.tmp_path / "data", "sessions", "list", "--json").returncode == 0
