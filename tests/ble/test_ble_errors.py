"""Every BLE failure a user can meet is one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason, BleakError

from firmware_bridge.ble.stack import BleStack
from tests.ble.conftest import Air, free_port, hci, read_log, wait_for
from tests.integration.cli import run_cli, start_record, stop_record


def one_line_failure(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_bad_transport_string(tmp_path: Path) -> None:
    proc = run_cli(tmp_path, "record", "ble://", "--ble-hci", "bogus:1", check=False)
    one_line_failure(proc, "bad --ble-hci transport 'bogus:1'", "usb:0")
    assert proc.returncode == 2
    listed = run_cli(tmp_path, "devices", "--ble-hci", "bogus:1", check=False)
    one_line_failure(listed, "bad --ble-hci transport")


def test_controller_not_there(tmp_path: Path) -> None:
    port = free_port()
    proc = run_cli(tmp_path, "record", "progressor://", "--ble-hci", hci(port), check=False)
    one_line_failure(proc, "cannot open the Bluetooth controller", "connection refused")
    assert proc.returncode == 1


def test_system_stack_missing_or_without_tool_is_one_line(tmp_path: Path) -> None:
    # On a machine without BlueZ (CI) this says so; with one but no tool, "no … found".
    proc = run_cli(tmp_path, "record", "ble://", check=False, timeout=90)
    one_line_failure(proc)


def test_ble_sim_needs_a_transport(tmp_path: Path) -> None:
    proc = run_cli(tmp_path, "ble-sim", check=False)
    one_line_failure(proc, "--ble-hci")
    assert proc.returncode == 2


@pytest.mark.component("ble")
@pytest.mark.slow
@pytest.mark.timeout(180)
def test_tool_not_found_and_tool_busy(air: Air) -> None:
    tool_port, first, second = free_port(), free_port(), free_port()
    air.controllers([tool_port, first, second])
    data = air.tmp_path / "data"
    nobody = run_cli(data, "record", "ble://Nobody-1", "--ble-hci", hci(first), check=False)
    one_line_failure(nobody, "no PressureGuard tool 'Nobody-1' found", "switched on")

    log = air.tmp_path / "tool.jsonl"
    air.ble_sim(tool_port, log, "--seed", "31")
    holder = air.adopt(start_record(data, "ble://PressureGuard-001F", "--ble-hci", hci(first)))
    wait_for(lambda: any(e["ev"] == "subscribed" for e in read_log(log)), 30, "a connection")
    busy = run_cli(  # another store: one store takes one recording bridge at a time
        air.tmp_path / "other",
        "record",
        "ble://PressureGuard-001F",
        "--ble-hci",
        hci(second),
        check=False,
    )
    one_line_failure(busy, "no PressureGuard tool 'PressureGuard-001F' found")
    assert stop_record(holder, timeout=60) >= 1


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (
            BleakBluetoothNotAvailableError("off", BleakBluetoothNotAvailableReason.POWERED_OFF),
            "Bluetooth is switched off",
        ),
        (
            BleakBluetoothNotAvailableError("none", BleakBluetoothNotAvailableReason.NO_BLUETOOTH),
            "no Bluetooth adapter found",
        ),
        (
            BleakBluetoothNotAvailableError("no", BleakBluetoothNotAvailableReason.DENIED_BY_USER),
            "access was denied",
        ),
        (FileNotFoundError(2, "No such file or directory"), "BlueZ"),
        (BleakError("org.bluez.Error.NotReady"), "switched off"),
        (BleakError("No Bluetooth adapters found."), "no Bluetooth adapter found"),
    ],
)
def test_system_stack_failures_are_explained(exc: BaseException, words: str) -> None:
    error = BleStack().explain(exc, "scan for Bluetooth tools")
    assert str(error).startswith("cannot scan for Bluetooth tools: ")
    assert words in str(error)
    assert "\n" not in str(error)
