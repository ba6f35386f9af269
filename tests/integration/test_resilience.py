"""The port vanishing mid-session, and the recorder being killed: nothing recorded is lost."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.protocol.frames import FrameType, build_body, frame_serial, samples_payload
from firmware_bridge.readings import DeviceInfo
from firmware_bridge.store import Store
from tests.integration.cli import run_cli, show, start_record, stop_record, wait_until
from tests.integration.ptytool import PtyTool

pytestmark = pytest.mark.skipif(os.name != "posix", reason="pty needs a POSIX system")

INFO = DeviceInfo(
    device_id="pg-resume-1",
    firmware="t",
    adc="hx711",
    rate_hz=80.0,
    counts_per_n=1000.0,
    offset_counts=0.0,
)
PERIOD_US = 12500
PER_FRAME = 4


class ToolClock:
    """A tool whose clock and frame counter keep running while the cable is out."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.seq = 0
        self.sent_samples = 0
        self.next_sample_t = 0.0

    def now_us(self) -> int:
        return int((time.monotonic() - self.start) * 1e6)

    def body(self, ftype: int, payload: bytes, t_us: int | None = None) -> bytes:
        body = build_body(ftype, self.seq, self.now_us() if t_us is None else t_us, payload)
        self.seq = (self.seq + 1) & 0xFFFF
        return frame_serial(body)

    def stream(self, tool: PtyTool, seconds: float) -> None:
        """Send samples in real time, with a steady light 2 N press."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            due = (time.monotonic() - self.start) - 0.05
            while self.next_sample_t <= due:
                raw = np.full(PER_FRAME, 2000)
                t_us = int(self.next_sample_t * 1e6)
                tool.write(self.body(FrameType.SAMPLES, samples_payload(PERIOD_US, raw), t_us))
                self.next_sample_t += PER_FRAME * PERIOD_US / 1e6
                self.sent_samples += PER_FRAME
            time.sleep(0.01)

    def skip(self) -> None:
        """Samples taken while unplugged are never sent (the tool's buffer is not replayed)."""
        now = time.monotonic() - self.start
        while self.next_sample_t < now:
            self.next_sample_t += PER_FRAME * PERIOD_US / 1e6
            self.seq = (self.seq + 1) & 0xFFFF  # frames the tool "sent" into the void


def test_unplug_and_replug_resumes_the_same_session_with_a_gap(tmp_path: Path) -> None:
    data = tmp_path / "data"
    tool = PtyTool(tmp_path / "ttyTOOL")
    tool.plug()
    clock = ToolClock()
    rec = start_record(data, str(tool.link))
    try:
        tool.wait_for_host()
        tool.write(b"\x00" + clock.body(FrameType.INFO, INFO.to_json().encode()))
        clock.stream(tool, 1.5)
        before = clock.sent_samples
        tool.unplug()
        unplugged_at = time.monotonic()
        time.sleep(1.0)
        tool.plug()
        plugged_at = time.monotonic()
        clock.skip()  # the tool kept sampling while unplugged; those samples are gone
        tool.wait_for_host(timeout=10)  # the bridge reopened the same path and said HELLO
        tool.write(clock.body(FrameType.INFO, INFO.to_json().encode()))  # answer to HELLO
        clock.stream(tool, 1.5)
        wait_until(lambda: show(data, 1)["n_samples"] >= clock.sent_samples, timeout=10)
    finally:
        session = stop_record(rec)
        tool.close()
    assert session == 1
    summary = show(data, session)
    assert summary["status"] == "ended"
    assert summary["n_samples"] == clock.sent_samples > before
    assert summary["gaps"] == 1
    gap = summary["gap_list"][0]
    # the gap is measured on the tool's own clock: it spans exactly the samples never received
    outage = plugged_at - unplugged_at
    assert gap["end_s"] - gap["start_s"] == pytest.approx(outage, abs=0.25)
    kinds = [e["kind"] for e in summary["events"]]
    assert "source_lost" in kinds and "gap" in kinds and "no_signal" in kinds
    assert run_cli(data, "sessions", "list", "--json").stdout.count('"id"') == 1


def test_sigkill_loses_at_most_one_second_and_next_start_closes_the_session(tmp_path: Path) -> None:
    data = tmp_path / "data"
    rec = start_record(data, "sim://?seed=4&pattern=steady&level=3")
    try:

        def recording() -> bool:
            with Store.open(data) as store:
                rows = store.list_sessions()
                return bool(rows) and (rows[0].get("n_samples") or 0) > 0

        wait_until(recording, timeout=20)
        first_seen = time.monotonic()
        time.sleep(3.0)
        killed_at = time.monotonic()
        rec.send_signal(signal.SIGKILL)
        rec.communicate(timeout=10)  # reaps it and closes its pipes
    finally:
        if rec.poll() is None:
            rec.kill()
            rec.communicate(timeout=10)
    with Store.open(data) as store:
        kept = store.load_samples(1)
    recorded_for = killed_at - first_seen
    assert float(kept.t_s[-1]) >= recorded_for - 1.0, "more than the last second was lost"
    # the next start of the recorder closes the dead session and keeps it readable
    second = start_record(data, "sim://?seed=5&speed=0&duration=1")
    assert stop_record(second, interrupt=False) == 2
    summary = show(data, 1)
    assert summary["status"] == "recovered"
    assert summary["ended_at"] is not None
    assert summary["n_samples"] == len(kept.t_s)
