"""Faults that hit processes and ports, with the real command line: the tool's port vanishing and
returning, the bridge killed with SIGKILL, the dashboard killed under the launcher, two bridges
on one tool. Each is repeated ``PG_FAULT_REPEATS`` times (``make soak``: 10; here fewer).

With ``PG_FAULT_REPORT=FILE`` each test appends its measurements to FILE (see ``figures``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import psutil
import pytest

from firmware_bridge.errors import NotFoundError
from firmware_bridge.protocol.frames import FrameType
from firmware_bridge.store import Store
from tests.integration.cli import run_cli, show, start_record, stop_record, wait_until
from tests.integration.ptytool import PtyTool
from tests.integration.test_resilience import INFO, PERIOD_US, ToolClock
from tests.reliability.figures import report

pytestmark = [
    pytest.mark.skipif(os.name != "posix", reason="needs ptys and POSIX signals"),
    pytest.mark.slow,
    pytest.mark.timeout(900),
]

REPEATS = int(os.environ.get("PG_FAULT_REPEATS", "0")) or None
RATE = 200
STEADY = f"sim://?seed=4&pattern=steady&level=3&rate={RATE}"


@pytest.mark.component("pty")
def test_port_vanishes_and_returns_repeatedly_in_one_session(tmp_path: Path) -> None:
    """The cable is pulled for 1 s and plugged back, again and again: one session, one gap of
    the outage's length each time, and every sample sent while plugged in is recorded."""
    repeats = REPEATS or 2
    data = tmp_path / "data"
    tool = PtyTool(tmp_path / "ttyTOOL")
    tool.plug()
    clock = ToolClock()
    outages, silences = [], []
    rec = start_record(data, str(tool.link))
    try:
        tool.wait_for_host()
        tool.write(b"\x00" + clock.body(FrameType.INFO, INFO.to_json().encode()))
        clock.stream(tool, 1.0)
        for _ in range(repeats):
            # what is still in the cable when it is pulled is gone (a real unplug does that too,
            # and the tool's frame counter shows it): pull it once the bridge has what was sent
            wait_until(lambda: show(data, 1)["n_samples"] >= clock.sent_samples, timeout=15)
            silent_from = clock.next_sample_t  # the tool clock's next sample, never sent
            tool.unplug()
            pulled = time.monotonic()
            time.sleep(1.0)
            tool.plug()
            outages.append(time.monotonic() - pulled)
            clock.skip()  # what the tool sampled meanwhile was never sent
            silences.append(clock.next_sample_t - silent_from + PERIOD_US / 1e6)
            tool.wait_for_host(timeout=15)
            tool.write(clock.body(FrameType.INFO, INFO.to_json().encode()))
            clock.stream(tool, 1.0)
        with contextlib.suppress(TimeoutError):  # the counts below say what is missing
            wait_until(lambda: show(data, 1)["n_samples"] >= clock.sent_samples, timeout=15)
    finally:
        session = stop_record(rec)
        tool.close()
    summary = show(data, session)
    assert session == 1 and summary["status"] == "ended"
    lost = clock.sent_samples - summary["n_samples"]
    assert lost == 0, f"{lost} samples sent while plugged in were lost: {summary['events']}"
    assert summary["gaps"] == repeats
    measured = [g["end_s"] - g["start_s"] for g in summary["gap_list"]]
    for gap, silence, outage in zip(measured, silences, outages, strict=True):
        # the gap is measured on the tool's clock: exactly the samples never sent (the cable
        # was out for `outage`; the tool fell silent a little earlier, see above)
        assert gap == pytest.approx(silence, abs=0.002)
        assert gap >= outage
    report(
        "port vanishes and returns",
        repeats=repeats,
        outage_s=[round(o, 3) for o in outages],
        silence_s=[round(o, 3) for o in silences],
        gap_recorded_s=[round(g, 3) for g in measured],
        samples_sent=clock.sent_samples,
        samples_recorded=summary["n_samples"],
    )


def _time_range(data: Path, session: int) -> tuple[float, float] | None:
    with Store.open(data) as store:
        try:
            return store.time_range(session)
        except NotFoundError:
            return None  # not started yet


def test_bridge_sigkill_mid_session_loses_at_most_a_second(tmp_path: Path) -> None:
    """``record`` killed with SIGKILL, again and again on one store: each time at most 1 s of
    samples is lost, what was committed stays readable, and the next start recovers the session."""
    repeats = REPEATS or 1
    data = tmp_path / "data"
    lost = []
    for round_no in range(1, repeats + 1):
        session = 2 * round_no - 1
        rec = start_record(data, STEADY)
        try:
            first = wait_until(lambda s=session: _time_range(data, s), timeout=30)
            seen_at = time.monotonic()
            time.sleep(2.0)
            killed_at = time.monotonic()
            rec.send_signal(signal.SIGKILL)
            rec.communicate(timeout=10)
        finally:
            if rec.poll() is None:
                rec.kill()
                rec.communicate(timeout=10)
        last = _time_range(data, session)
        assert last is not None
        # wall time recorded after the first look, less session time committed after it
        lost_s = (killed_at - seen_at) - (last[1] - first[1])
        lost.append(round(lost_s, 3))
        assert lost_s <= 1.0, f"round {round_no}: {lost_s:.3f} s of samples lost"
        # the next start closes the killed session; it keeps every committed sample
        proc = run_cli(data, "record", "sim://?speed=0&duration=1")
        assert int(proc.stdout.strip().splitlines()[-1]) == session + 1
        summary = show(data, session)
        assert summary["status"] == "recovered"
        with Store.open(data) as store:
            assert len(store.load_samples(session).t_s) == summary["n_samples"] > 0
    check = run_cli(data, "store", "check")
    assert "intact" in check.stdout
    report("bridge SIGKILL mid-session", repeats=repeats, lost_s=lost, rate_hz=RATE)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _dashboard(launcher: subprocess.Popen[str]) -> psutil.Process | None:
    for child in psutil.Process(launcher.pid).children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "streamlit" in " ".join(child.cmdline()):
                return child
        except psutil.Error:
            continue  # gone, or not reaped yet
    return None


def test_dashboard_killed_and_restarted_while_recording(tmp_path: Path) -> None:
    """Under ``run``, the dashboard is killed (SIGKILL) mid-session and restarted by the launcher:
    the recording goes on untouched (no gap, every sample), and the new dashboard answers."""
    repeats = REPEATS or 1
    data = tmp_path / "data"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "launcher.log").open("w")
    launcher = subprocess.Popen(
        [sys.executable, "-m", "firmware_bridge.cli", "run", STEADY, "--no-browser",
         "--port", str(port), "--data-dir", str(data)],
        stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    downtimes = []
    try:
        wait_until(lambda: _healthy(url), timeout=120, interval=0.3)
        with Store.open(data) as store:
            command = store.post_command("start_session", {"profile": "default"})
            wait_until(lambda: (store.get_command(command)["result"] or {}).get("ok"), timeout=20)
            session = store.get_command(command)["result"]["session_id"]
        time.sleep(1.0)
        for _ in range(repeats):
            old = _dashboard(launcher)
            assert old is not None
            old.kill()
            killed = time.monotonic()
            wait_until(lambda o=old: (d := _dashboard(launcher)) is not None and d.pid != o.pid,
                       timeout=30)  # fmt: skip
            wait_until(lambda: _healthy(url), timeout=120, interval=0.3)
            downtimes.append(round(time.monotonic() - killed, 2))
            time.sleep(1.0)
        with Store.open(data) as store:
            command = store.post_command("stop_session", {})
            wait_until(lambda: store.get_command(command)["done_at"] is not None, timeout=20)
            summary = store.session_summary(session)
            t = store.load_samples(session).t_s
    finally:
        os.killpg(launcher.pid, signal.SIGINT)
        try:
            launcher.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
        log.close()
    assert summary["status"] == "ended" and summary["gaps"] == 0
    assert len(t) == summary["n_samples"]
    assert np.diff(t).max() < 5 / RATE, "the recording has a hole"
    assert len(t) == pytest.approx(RATE * (t[-1] - t[0]), abs=3)
    report(
        "dashboard killed while recording",
        repeats=repeats,
        dashboard_back_after_s=downtimes,
        session_s=round(float(t[-1] - t[0]), 2),
        samples=len(t),
        largest_step_s=round(float(np.diff(t).max()), 4),
    )


@pytest.mark.component("pty")
def test_two_bridges_on_one_tool(tmp_path: Path) -> None:
    """A second bridge opening the port the first one holds (another data directory, so only
    the port is shared) is refused in one line; the first records on, unharmed."""
    tool = PtyTool(tmp_path / "ttyTOOL")
    tool.plug()
    clock = ToolClock()
    first = start_record(tmp_path / "one", str(tool.link))
    try:
        tool.wait_for_host()
        tool.write(b"\x00" + clock.body(FrameType.INFO, INFO.to_json().encode()))
        clock.stream(tool, 0.5)
        second = run_cli(tmp_path / "two", "record", str(tool.link), check=False, timeout=30)
        clock.stream(tool, 0.5)
        wait_until(lambda: show(tmp_path / "one", 1)["n_samples"] >= clock.sent_samples, 10)
    finally:
        session = stop_record(first)
        tool.close()
    assert second.returncode == 1 and "Traceback" not in second.stderr
    lines = [line for line in second.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "busy" in lines[0], second.stderr
    assert show(tmp_path / "one", session)["n_samples"] == clock.sent_samples
    report("two bridges on one tool", message=lines[0], first_bridge_samples_lost=0)
