"""End to end in emulation: the real AVR firmware → simulated Nano and HX711 → pty →
``pressureguard record`` → store. The recorded raw counts are the script's, sample for sample,
and their device times are the simulated conversion times."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.firmware.conftest import AvrBuild, HostBuild
from tests.firmware.simboard import Script, SimBoard
from tests.integration.cli import export_rows, show, wait_until

pytestmark = [pytest.mark.component("simavr"), pytest.mark.slow, pytest.mark.timeout(300)]
OFFSET = -84_211  # counts at zero load
COUNTS_PER_N = 2281.5


def _pressureguard() -> list[str]:
    script = Path(sys.executable).with_name("pressureguard")
    return [str(script)] if script.exists() else [sys.executable, "-m", "firmware_bridge.cli"]


def _self_massage_counts(n: int) -> list[int]:
    """A press, a hold with tremor, a release, a harder press: raw counts, all different."""
    t = np.arange(n) / 80.0
    force = 12.0 * np.clip(np.sin(np.pi * t / 2.0), 0, None) + 0.3 * np.sin(2 * np.pi * 7 * t)
    force += np.where(t > 3.0, 20.0 * np.sin(np.pi * (t - 3.0) / 2.0) ** 2, 0.0)
    raw = np.round(OFFSET + force * COUNTS_PER_N).astype(int) + np.arange(n) % 3
    return [int(r) for r in raw]


def test_record_matches_the_script_sample_for_sample(
    avr_build: AvrBuild, host_build: HostBuild, tmp_path: Path
) -> None:
    counts = _self_massage_counts(400)  # 5 s at 80 SPS
    script = Script().sample(*counts).sample(8_388_607, -8_388_608)
    board = SimBoard(
        host_build.pg_sim, avr_build.elf, script.write(tmp_path / "s.txt"), realtime=True
    )
    data = tmp_path / "data"
    rec = subprocess.Popen(
        [*_pressureguard(), "record", board.pty, "--quiet", "--data-dir", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        board.wait_end()  # the board powers up when the bridge opens the port and says HELLO
        n = len(script.samples)
        wait_until(lambda: len(export_rows(data, 1)) >= n, timeout=60, interval=0.5)
    finally:
        rec.send_signal(signal.SIGINT)
        out, err = rec.communicate(timeout=60)
        board.close()
    assert rec.returncode == 0, err
    session = int(out.strip().splitlines()[-1])
    rows = export_rows(data, session)

    raw = [int(float(r["raw"])) for r in rows]
    assert raw == script.samples  # every conversion, in order, nothing lost or repeated

    drdy = board.of("drdy")
    assert [e.num(2) for e in drdy] == script.samples
    assert len(board.of("read")) == len(drdy)
    assert not board.of("missed") and not board.of("powerdown") and not board.of("spurious_sck")

    # device times follow the simulated conversion times (the tool's clock, not the host's)
    t_dev = np.array([float(r["t_s"]) for r in rows])
    t_sim = np.array([e.num(1) for e in drdy]) / 1e9
    np.testing.assert_allclose(t_dev - t_dev[0], t_sim - t_sim[0], atol=0.5e-3)
    assert np.all(np.abs(np.diff(t_dev) - 0.0125) < 1e-3)

    summary = show(data, session)
    assert summary["n_samples"] == n
    assert summary["dropped_frames"] == 0
    assert summary["bad_frames"] == 0
