"""A hostile tool on a real pty, recorded by ``pressureguard record``: each wrong claim gets a
defined verdict and a recorded fault, and none ends the session (issue 15's cases 1, 2 and 4)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.protocol.frames import (
    ADC24_MAX,
    FrameType,
    build_body,
    frame_serial,
    samples_payload,
)
from tests.integration.cli import COMMAND, export_rows, show
from tests.integration.ptytool import PtyTool

pytestmark = [pytest.mark.skipif(os.name != "posix", reason="needs a pty"), pytest.mark.slow]

CPN, OFFSET = 10_000.0, 50_000.0
RATE, PER_FRAME = 80.0, 4
LIMIT = 14.7

#: (frame index) → what the tool sends: (t_us, period_us, force per sample or raw override)
Script = Callable[[int], tuple[int, int, np.ndarray]]


class LyingTool:
    """Sends INFO (as given) when the host says HELLO, then SAMPLES at 80 Hz by a script."""

    def __init__(self, tool: PtyTool, info: dict[str, object], script: Script) -> None:
        self.tool, self.info, self.script = tool, info, script
        self.extra: dict[int, bytes] = {}  # frame index → an extra frame body sent before it
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lying-tool", daemon=True)

    def start(self) -> LyingTool:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5.0)

    def _run(self) -> None:
        while not self._stop.is_set():  # until the host opens the port and says HELLO
            if self.tool.master is None:
                return
            with contextlib.suppress(OSError):
                if self.tool.read_available(0.05):
                    break
        seq = 0

        def send(body_type: int, t_us: int, payload: bytes) -> None:
            nonlocal seq
            with contextlib.suppress(OSError, TimeoutError):
                self.tool.write(frame_serial(build_body(body_type, seq & 0xFFFF,
                                                        t_us & 0xFFFFFFFF, payload)))  # fmt: skip
            seq += 1

        send(FrameType.INFO, 0, json.dumps(self.info).encode())
        k, next_at = 0, time.monotonic()
        while not self._stop.is_set() and self.tool.master is not None:
            t_us, period_us, raw = self.script(k)
            if k in self.extra:
                send(FrameType.INFO, t_us, self.extra[k])
            send(FrameType.SAMPLES, t_us, samples_payload(period_us, raw.astype(np.int64)))
            k += 1
            next_at += PER_FRAME / RATE
            time.sleep(max(0.0, next_at - time.monotonic()))


def counts(force_n: float | np.ndarray) -> np.ndarray:
    return np.round(OFFSET + np.broadcast_to(np.asarray(force_n), (PER_FRAME,)) * CPN)


def honest_t(k: int, start_us: int = 20_000_000) -> int:
    return start_us + round(k * PER_FRAME * 1e6 / RATE)


def record(tmp_path: Path, tool: PtyTool, duration: float) -> dict:
    data = tmp_path / "data"
    proc = subprocess.run(
        [*COMMAND, "record", str(tool.link), "--duration", str(duration), "--limit", f"{LIMIT}N",
         "--data-dir", str(data), "--json"],
        check=False, capture_output=True, text=True, timeout=duration + 60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    session = show(data, json.loads(proc.stdout)["id"])
    session["rows"] = export_rows(data, session["id"])
    return session


def faults_of(session: dict) -> list[dict]:
    return [e["detail"] for e in session["events"] if e["kind"] == "fault"]


@pytest.fixture
def tool(tmp_path: Path):  # type: ignore[no-untyped-def]
    pty = PtyTool(tmp_path / "ttyLIE")
    pty.plug()
    yield pty
    pty.close()


INFO = {"device_id": "pg-liar", "firmware": "x", "adc": "hx711", "rate_hz": RATE,
        "counts_per_n": CPN, "offset_counts": OFFSET}  # fmt: skip


def test_a_claimed_1us_period_cannot_smooth_50n_into_relaxed(tmp_path: Path, tool) -> None:
    def script(k: int) -> tuple[int, int, np.ndarray]:
        force = 0.0 if k < 10 else 50.0  # unloaded for the opening zero, then 50 N
        return honest_t(k), 1, counts(force)

    liar = LyingTool(tool, INFO, script).start()
    try:
        session = record(tmp_path, tool, 6)
    finally:
        liar.stop()
    rows = session["rows"]
    first = next(i for i, r in enumerate(rows) if float(r["force_n"]) >= 1.2 * LIMIT)
    assert rows[first - 1]["zone"] == "relaxed"  # the 0 N before the step
    # the step's first sample may pass the spike filter (median of three) as the 0 N before
    # it; from the next on, every sample at 50 N is danger
    loaded = [r for r in rows[first + 1 :] if float(r["force_n"]) >= 1.2 * LIMIT]
    assert len(loaded) > 200
    assert {r["zone"] for r in loaded} == {"danger"}, "50 N under a 14.7 N limit must be danger"
    assert any(f["kind"] == "timing" for f in faults_of(session))


@pytest.mark.parametrize("start_us", [20_000_000, 1_000_000])
def test_a_clock_stepping_back_10s_is_a_gap_not_the_end(
    tmp_path: Path, tool, start_us: int
) -> None:
    def script(k: int) -> tuple[int, int, np.ndarray]:
        t_us = honest_t(k, start_us) - (10_000_000 if k >= 60 else 0)  # at 3 s
        return t_us, round(1e6 / RATE), counts(5.0 if k > 10 else 0.0)

    liar = LyingTool(tool, INFO, script).start()
    try:
        session = record(tmp_path, tool, 12)
    finally:
        liar.stop()
    assert session["n_samples"] >= 0.85 * 12 * RATE  # the session went on to its 12 s
    kinds = [e["kind"] for e in session["events"]]
    assert "gap" in kinds
    assert "clock_reset" in kinds or any(f["kind"] == "clock_jump" for f in faults_of(session))
    after = [r for r in session["rows"] if float(r["t_s"]) > 4.0]
    assert after and {r["zone"] for r in after} == {"relaxed"}  # still judged, 5 N of 14.7 N


def test_unusable_or_changed_calibration_is_never_judged_safe(tmp_path: Path, tool) -> None:
    def script(k: int) -> tuple[int, int, np.ndarray]:
        force = 0.0 if k < 10 else 5.0
        raw = counts(force)
        if 100 <= k < 120:  # the ADC at its rail, with no saturation flag
            raw = np.full(PER_FRAME, ADC24_MAX, dtype=np.float64)
        return honest_t(k), round(1e6 / RATE), raw

    liar = LyingTool(tool, INFO, script)
    changed = {**INFO, "counts_per_n": CPN * 3}
    liar.extra[160] = json.dumps(changed).encode()  # at 8 s: another factory scale
    liar.start()
    try:
        session = record(tmp_path, tool, 11)
    finally:
        liar.stop()
    rows = session["rows"]
    rail = [r for r in rows if float(r["raw"]) >= ADC24_MAX]
    assert rail and {r["zone"] for r in rail} == {"danger"}
    late = [r for r in rows if float(r["t_s"]) > 8.5]
    assert late and {r["zone"] for r in late} == {"uncalibrated"}
    assert any("changed its factory calibration" in f["message"] for f in faults_of(session))


@pytest.mark.parametrize("scale", ["NaN", 0, -10_000, 1e12])
def test_an_unusable_factory_scale_is_uncalibrated_with_a_fault(
    tmp_path: Path, tool, scale: object
) -> None:
    info = json.dumps({**INFO, "counts_per_n": "@"}).replace('"@"', str(scale))

    def script(k: int) -> tuple[int, int, np.ndarray]:
        return honest_t(k), round(1e6 / RATE), counts(0.0 if k < 10 else 5.0)

    liar = LyingTool(tool, json.loads(info), script).start()  # Python's JSON keeps NaN
    try:
        session = record(tmp_path, tool, 4)
    finally:
        liar.stop()
    assert {r["zone"] for r in session["rows"]} <= {"uncalibrated", "no_signal"}
    assert any(f["kind"] == "info" and "counts_per_n" in f["message"]
               for f in faults_of(session))  # fmt: skip
    assert session["calibration"]["calibrated"] is False
