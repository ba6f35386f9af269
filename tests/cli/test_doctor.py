"""``pressureguard doctor`` on this machine, and on one missing pieces: a user outside the dialout
group with no browser on the PATH is told the exact fix for each."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from firmware_bridge.doctor import Finding
from tests.integration.cli import run_cli

SETPRIV = shutil.which("setpriv")


def test_a_ready_machine_is_all_ticks(tmp_path: Path) -> None:
    out = run_cli(tmp_path, "doctor", "--json")
    findings = {f["check"]: f for f in json.loads(out.stdout)}
    assert set(findings) == {"serial ports", "bluetooth", "web browser", "data directory", "store"}
    assert findings["data directory"]["status"] == "ok"
    assert findings["store"]["status"] == "ok"
    assert out.returncode == 0


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0 or SETPRIV is None,
    reason="needs root and setpriv to become a user outside the dialout group",
)
def test_a_machine_missing_pieces_is_told_how_to_fix_each() -> None:
    # pytest's tmp_path lies under a folder only root may enter: use one the other user can
    home = Path(tempfile.mkdtemp(prefix="pg-doctor-"))
    data = home / "data"
    data.mkdir()
    os.chmod(home, 0o777)
    os.chmod(data, 0o777)
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(home), "LANG": "C.UTF-8"}
    proc = subprocess.run(
        [SETPRIV or "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
         sys.executable, "-m", "firmware_bridge.cli", "doctor", "--data-dir", str(data)],
        capture_output=True, text=True, env=env, timeout=60, check=False, cwd=home,
    )  # fmt: skip
    shutil.rmtree(home, ignore_errors=True)
    lines = proc.stdout.splitlines()
    assert lines, proc.stderr
    serial = next(line for line in lines if "serial ports" in line)
    browser = next(line for line in lines if "web browser" in line)
    assert serial.startswith("✗") and "sudo usermod -aG dialout $USER" in serial
    assert browser.startswith("!") and "apt install chromium" in browser
    assert proc.returncode == 1 and "Traceback" not in proc.stderr


def test_an_unwritable_data_directory_fails_with_its_fix(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        from firmware_bridge.doctor import check_data_dir

        finding = check_data_dir(locked / "data")
    finally:
        locked.chmod(0o700)
    if os.geteuid() == 0:  # root writes anywhere: the check rightly sees no problem
        assert finding.status == "ok"
    else:
        assert finding.status == "fail" and "--data-dir" in finding.fix


def test_a_finding_reads_as_one_line() -> None:
    line = Finding("bluetooth", "warn", "no adapter", "plug in a dongle").line()
    assert line == "! bluetooth: no adapter — plug in a dongle"
