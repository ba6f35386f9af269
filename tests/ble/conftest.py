"""BLE without a radio: bumble's virtual controllers, each process on its own TCP port.

``Air`` starts the processes a test needs (the controllers, ``pressureguard ble-sim``), on ports
picked at run time, and kills every one of them at teardown. Waits are bounded; nothing is timed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_component

HERE = Path(__file__).resolve().parent
COMMAND = [sys.executable, "-m", "firmware_bridge.cli"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
ENV.pop("PRESSUREGUARD_BLE_HCI", None)


def free_port() -> int:
    """A TCP port free right now on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def hci(port: int) -> str:
    """The bumble transport string of a controller's port."""
    return f"tcp-client:127.0.0.1:{port}"


def read_log(path: Path) -> list[dict[str, Any]]:
    """A ble-sim log's events (a torn last line, still being written, is left out)."""
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events


def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    """Poll ``predicate`` until it is truthy (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Air:
    """The processes of one test: virtual controllers and virtual tools."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.procs: list[subprocess.Popen[Any]] = []

    def adopt(self, proc: subprocess.Popen[str]) -> subprocess.Popen[str]:
        """Stop a process started elsewhere (a recorder) with the rest, even if the test fails."""
        self.procs.append(proc)
        return proc

    def spawn(self, argv: list[str], name: str) -> subprocess.Popen[bytes]:
        """Start a process whose output goes to a file in the test's directory."""
        out = (self.tmp_path / f"{name}.out").open("ab")
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=ENV)
        out.close()
        self.procs.append(proc)
        return proc

    def controllers(self, ports: list[int]) -> subprocess.Popen[bytes]:
        """Virtual controllers on one link, one per port (bumble's app for two, ours for more)."""
        specs = [f"tcp-server:127.0.0.1:{p}" for p in ports]
        if len(ports) == 2:
            argv = [sys.executable, "-m", "bumble.apps.controllers", *specs]
        else:
            argv = [sys.executable, str(HERE / "controllers.py"), *specs]
        proc = self.spawn(argv, "controllers")
        for port in ports:
            wait_for(lambda p=port: listening(p), 15, f"controller port {port}")
        return proc

    def ble_sim(self, port: int, log: Path, *args: str) -> subprocess.Popen[bytes]:
        """``pressureguard ble-sim`` on a controller's port, once it advertises."""
        start = len([e for e in read_log(log) if e["ev"] == "advertising"])
        argv = [*COMMAND, "ble-sim", "--ble-hci", hci(port), "--log", str(log), *args]
        argv += ["--data-dir", str(self.tmp_path / "sim-home")]
        proc = self.spawn(argv, f"ble-sim-{log.stem}")
        wait_for(
            lambda: (
                len([e for e in read_log(log) if e["ev"] == "advertising"]) > start
                or proc.poll() is not None
            ),
            20,
            "the virtual tool to advertise",
        )
        assert proc.poll() is None, (self.tmp_path / f"ble-sim-{log.stem}.out").read_text()
        return proc

    @staticmethod
    def kill(proc: subprocess.Popen[bytes]) -> None:
        """Kill a process at once (a tool losing power, a controller crashing)."""
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)

    def close(self) -> None:
        """Stop everything still running (SIGTERM, then SIGKILL) and print what each said.

        pytest shows a teardown's output only when the test failed: then it says which side
        (controller, virtual tool, bridge) stopped where.
        """
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in reversed(self.procs):
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            if proc.stdout is not None:  # an adopted recorder's pipes
                out, err = proc.communicate()
                print(f"--- {proc.args!r} exited {proc.returncode}\n{out}\n{err}")
        for out_file in sorted(self.tmp_path.glob("*.out")):
            print(f"--- {out_file.name}\n{out_file.read_text(errors='replace')[-4000:]}")
        for log in sorted(self.tmp_path.glob("*.jsonl")):
            events = [e for e in read_log(log) if e["ev"] != "tx"]
            print(f"--- {log.name}: {len(read_log(log))} events; all but tx:")
            print("\n".join(json.dumps(e) for e in events[-60:]))


def listening(port: int) -> bool:
    """Whether a socket listens on ``port``, found without connecting to it.

    A probe connection would break the link: bumble's TCP-server transport sends every reply to
    the newest client and drops them all once any client leaves, so a probe that lands after a
    virtual tool reconnected leaves the tool deaf, and no central ever finds it again.
    """
    listen = "0A"  # TCP_LISTEN in /proc/net/tcp
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == listen and int(fields[1].rsplit(":", 1)[1], 16) == port:
            return True
    return False


@pytest.fixture
def air(tmp_path: Path) -> Iterator[Air]:
    """Processes for a BLE test without a radio; all killed afterwards."""
    available = all(importlib.util.find_spec(m) is not None for m in ("bumble", "bleak"))
    require_component(available, "bumble and bleak", "pip install -e . (they are dependencies)")
    world = Air(tmp_path)
    try:
        yield world
    finally:
        world.close()
