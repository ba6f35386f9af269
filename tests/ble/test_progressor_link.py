"""A Progressor-protocol load cell over BLE, and discovery of both kinds, across processes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.protocol import progressor
from firmware_bridge.protocol.progressor import Command
from tests.ble.conftest import Air, free_port, hci, read_log
from tests.integration.cli import export_rows, run_cli, show, start_record, stop_record

pytestmark = [pytest.mark.component("ble"), pytest.mark.slow, pytest.mark.timeout(180)]

U32 = 1 << 32


def sent_weights(log: Path) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """kg and u32 µs of every weight sample the virtual Progressor notified, and the samples per
    notification."""
    kg: list[float] = []
    stamps: list[int] = []
    sizes: list[int] = []
    for event in read_log(log):
        data = bytes.fromhex(event.get("data", "")) if event["ev"] == "tx" else b""
        if data[:1] != bytes([progressor.Code.WEIGHT]):
            continue
        pairs = [progressor.SAMPLE.unpack_from(data, 2 + 8 * i) for i in range(data[1] // 8)]
        sizes.append(len(pairs))
        kg += [p[0] for p in pairs]
        stamps += [p[1] for p in pairs]
    return np.array(kg, dtype=np.float64), np.array(stamps, dtype=np.int64), sizes


def test_devices_lists_both_kinds_and_a_progressor_session_is_judged_in_newtons(
    air: Air,
) -> None:
    ours, central, theirs = free_port(), free_port(), free_port()
    air.controllers([ours, central, theirs])
    air.ble_sim(ours, air.tmp_path / "ours.jsonl", "--seed", "21")
    log = air.tmp_path / "progressor.jsonl"
    start_us = U32 - 1_500_000  # the u32 clock wraps 1.5 s into measuring
    air.ble_sim(
        theirs, log, "--kind", "progressor", "--seed", "5", "--pattern", "steady",
        "--level", "20", "--per-packet", "2", "--clock-start-us", str(start_us),
    )  # fmt: skip
    data = air.tmp_path / "data"

    listed = run_cli(data, "devices", "--json", "--ble-hci", hci(central), timeout=60)
    ble = {t["name"]: t for t in json.loads(listed.stdout)["ble"]}
    assert ble["PressureGuard-0015"]["kind"] == "pressureguard"
    assert ble["Progressor_0005"]["kind"] == "progressor"
    assert all(t["address"] and isinstance(t["rssi"], int) for t in ble.values())

    proc = air.adopt(start_record(
        data, "progressor://Progressor_0005", "--ble-hci", hci(central),
        "--duration", "4", "--limit", "15N",
    ))  # fmt: skip
    session = stop_record(proc, timeout=90, interrupt=False)
    summary = show(data, session)
    assert summary["bad_frames"] == 0 and summary["dropped_frames"] == 0
    assert summary["gaps"] == 0
    rows = export_rows(data, session)
    t_s = np.array([float(r["t_s"]) for r in rows])
    force = np.array([float(r["force_n"]) for r in rows])
    zones = {r["zone"] for r in rows}
    assert zones == {"danger"}  # 20 N against 15 N: judged at once, never "uncalibrated"
    assert summary["time_over_limit_s"] == pytest.approx(summary["duration_s"], abs=0.05)

    kg, stamps, sizes = sent_weights(log)
    assert set(sizes) == {2}
    assert (np.diff(stamps) < 0).any(), "the device clock did not wrap during the test"
    # The samples recorded are those sent, in order, kg → N, on the unwrapped device clock.
    sent_force = kg * progressor.KG_N
    first = int(np.flatnonzero(np.isclose(sent_force, force[0], atol=1e-9))[0])
    n = force.size
    assert np.allclose(force, sent_force[first : first + n], atol=1e-9)
    unwrapped = np.concatenate([[0], np.cumsum(np.diff(stamps) % U32)])
    assert np.allclose(t_s, (unwrapped[first : first + n] - unwrapped[first]) / 1e6, atol=1e-6)
    assert np.allclose(np.diff(t_s), 0.0125, atol=1e-6)

    opcodes = [e["command"] for e in read_log(log) if e["ev"] == "rx"]
    assert opcodes[:4] == [
        Command.GET_PROGRESSOR_ID,
        Command.GET_APP_VERSION,
        Command.GET_BATTERY_VOLTAGE,
        Command.START_WEIGHT_MEAS,
    ]
    assert opcodes[-1] == Command.STOP_WEIGHT_MEAS
    assert all(e["ok"] for e in read_log(log) if e["ev"] == "rx")
