"""Run the real ``pressureguard`` command line in a subprocess, as a user would."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

COMMAND = [sys.executable, "-m", "firmware_bridge.cli"]


def run_cli(
    data_dir: Path, *args: str, check: bool = True, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run one command to completion."""
    proc = subprocess.run(
        [*COMMAND, *args, "--data-dir", str(data_dir)],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"pressureguard {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}"
        )
    return proc


def start_record(data_dir: Path, source: str, *args: str) -> subprocess.Popen[str]:
    """Start ``pressureguard record`` in the background."""
    return subprocess.Popen(
        [*COMMAND, "record", source, "--quiet", "--data-dir", str(data_dir), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def stop_record(proc: subprocess.Popen[str], timeout: float = 30, interrupt: bool = True) -> int:
    """Ctrl-C the recorder (or let it end by itself) and return the session id it prints."""
    if interrupt:
        proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"record exited {proc.returncode}: {err}"
    assert "Traceback" not in err, err
    return int(out.strip().splitlines()[-1])


def show(data_dir: Path, session_id: int) -> dict[str, Any]:
    """``sessions show ID --json``."""
    return json.loads(run_cli(data_dir, "sessions", "show", str(session_id), "--json").stdout)


def export_rows(data_dir: Path, session_id: int) -> list[dict[str, str]]:
    """``sessions export ID`` as CSV rows."""
    text = run_cli(data_dir, "sessions", "export", str(session_id), "--format", "csv").stdout
    return list(csv.DictReader(io.StringIO(text)))


def wait_until(
    predicate: Any, timeout: float = 10.0, interval: float = 0.05, what: str = "the condition"
) -> Any:
    """Poll until ``predicate()`` is true; returns what it returned."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}")
