"""``--lsl``: an LSL inlet in this test receives the bridge's stream, and its values and times
are the recorded session's (force, filtered force, zone; device-clock spacing on LSL's clock)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.zones import Zone
from tests.integration.cli import COMMAND, run_cli

pylsl = pytest.importorskip("pylsl")
pytestmark = pytest.mark.slow

#: LSL's discovery kept on this machine (its default also announces on the local network).
LSL_CONFIG = """[ports]
IPv6 = disable
[multicast]
ResolveScope = machine
[lab]
KnownPeers = {127.0.0.1}
[log]
level = -2
"""


def test_an_inlet_receives_the_session_as_recorded(tmp_path: Path) -> None:
    config = tmp_path / "lsl_api.cfg"
    config.write_text(LSL_CONFIG)
    os.environ["LSLAPICFG"] = str(config)  # this process's inlet reads it too
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [*COMMAND, "record", "sim://?rate=200&seed=5", "--duration", "8", "--lsl",
         "--data-dir", str(data), "--json", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "LSLAPICFG": str(config)},
    )  # fmt: skip
    try:
        (info,) = pylsl.resolve_byprop("name", "PressureGuard", minimum=1, timeout=20)
        assert info.type() == "Force" and info.channel_count() == 3
        inlet = pylsl.StreamInlet(info, max_buflen=60)
        inlet.open_stream(timeout=10)
        values: list[list[float]] = []
        stamps: list[float] = []
        while proc.poll() is None or inlet.samples_available():
            chunk, times = inlet.pull_chunk(timeout=0.5)
            values += chunk
            stamps += times
            received_at = pylsl.local_clock()
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        os.environ.pop("LSLAPICFG", None)
    assert proc.returncode == 0, err
    session_id = json.loads(out)["id"]
    exported = run_cli(data, "sessions", "export", str(session_id)).stdout.splitlines()
    rows = list(csv.DictReader(exported))
    got = np.asarray(values, dtype=np.float64)
    assert len(got) >= 0.8 * len(rows), (len(got), len(rows))
    # the inlet joined a moment after the first samples: its samples are the session's last ones
    tail = rows[-len(got) :]
    force = np.array([float(r["force_n"]) for r in tail])
    filtered = np.array([float(r["filtered_n"]) for r in tail])
    zone = np.array([Zone.from_label(r["zone"]).value for r in tail])
    np.testing.assert_allclose(got[:, 0], force, rtol=1e-6, atol=1e-4)  # float32 on the wire
    np.testing.assert_allclose(got[:, 1], filtered, rtol=1e-6, atol=1e-4)
    assert np.array_equal(got[:, 2].astype(int), zone)
    t_s = np.array([float(r["t_s"]) for r in tail])
    lsl_t = np.asarray(stamps)
    # device-clock spacing kept; the mapping's offset only settles by the link's jitter
    assert np.abs(np.diff(lsl_t) - np.diff(t_s)).max() < 0.02
    assert abs((lsl_t - t_s).std()) < 0.02
    assert 0 <= received_at - lsl_t[-1] < 2.0  # on LSL's clock, stamped when sampled
