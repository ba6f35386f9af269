"""PressureGuard installs like a Python application: a wheel carries the dashboard's assets, and
``pipx install`` of a fresh clone gives a ``pressureguard`` whose demo serves the dashboard."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from firmware_bridge import __version__

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

#: What the installed dashboard needs at run time besides Python modules.
ASSETS = (
    "dashboard/server.py",
    "dashboard/app.py",
    "dashboard/components/live_view.js",
    "dashboard/components/live_view.css",
    "dashboard/components/live_view.html",
    "dashboard/components/session_chart.js",
    "dashboard/components/ppt_panel.js",
    "firmware_bridge/py.typed",
)


def _clone(tmp_path: Path) -> Path:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    return clone


@pytest.mark.timeout(900)
def test_the_wheel_carries_the_dashboards_assets(tmp_path: Path) -> None:
    clone = _clone(tmp_path)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"),
         str(clone)],
        check=True, timeout=600,
    )  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("pressureguard-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [a for a in ASSETS if a not in names]
    assert not missing, missing
    assert any(n.endswith("entry_points.txt") for n in names)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.timeout(1500)  # pipx installs every dependency into its own environment
def test_pipx_install_of_a_fresh_clone_runs_the_demo(tmp_path: Path) -> None:
    clone = _clone(tmp_path)
    env = {
        **os.environ,
        "PIPX_HOME": str(tmp_path / "pipx"),
        "PIPX_BIN_DIR": str(tmp_path / "bin"),
        "PIPX_MAN_DIR": str(tmp_path / "man"),
    }
    subprocess.run(
        [sys.executable, "-m", "pipx", "install", "--python", sys.executable, str(clone)],
        check=True, env=env, timeout=1200, capture_output=True,
    )  # fmt: skip
    command = tmp_path / "bin" / "pressureguard"
    version = subprocess.run([str(command), "--version"], capture_output=True, text=True,
                             check=True, timeout=60)  # fmt: skip
    assert version.stdout.strip() == f"pressureguard {__version__}"
    port = _free_port()
    demo = subprocess.Popen(
        [str(command), "demo", "--no-browser", "--port", str(port), "--data-dir",
         str(tmp_path / "demo")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        cwd=tmp_path,  # not the source tree: what runs is what pipx installed
    )  # fmt: skip
    try:
        deadline, answered = time.monotonic() + 120, None
        while time.monotonic() < deadline and demo.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state", timeout=2) as r:
                    answered = json.loads(r.read())
                    if answered.get("connected"):
                        break
            except OSError:
                pass
            time.sleep(0.5)
        assert answered and answered["connected"] and answered["calibrated"], answered
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        try:
            demo.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
