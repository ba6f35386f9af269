"""``pressureguard calibrate``: the wizard driven through a real pty by a simulated load cell of
known counts-per-newton and offset, with known weights typed on stdin at the right moments."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from cobs import cobs

from firmware_bridge.protocol.frames import FrameType, build_body, frame_serial, samples_payload
from firmware_bridge.readings import DeviceInfo
from firmware_bridge.store import Store
from tests.integration.cli import COMMAND, run_cli
from tests.integration.ptytool import PtyTool, TextSketch

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs a pty (POSIX)")

COUNTS_PER_N = 4321.0
OFFSET = 84_000.0
NOISE = 15.0
RATE = 80.0
PER_FRAME = 8
G = 9.80665e-3  # newtons per gram


class SimulatedCell:
    """A tool on a pty: INFO on HELLO, then SAMPLES of ``offset + k·load + noise`` in real time."""

    def __init__(
        self, tool: PtyTool, device_id: str = "pg-cal", *, hello_only: bool = False
    ) -> None:
        self.tool = tool
        self.hello_only = hello_only  # INFO only as the answer to HELLO, never on its own
        self.info = DeviceInfo(device_id=device_id, firmware="t", adc="hx711", rate_hz=RATE)
        self.load_n = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sim-cell", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5.0)

    def _run(self) -> None:
        rng = np.random.default_rng(7)
        try:
            self.tool.wait_for_host(60.0)
        except (OSError, TimeoutError):
            return
        seq, period_us = 0, round(1e6 / RATE)
        info = self.info.to_json().encode()
        self.tool.write(b"\x00")  # the tool syncs the host with one delimiter
        if not self.hello_only:
            self.tool.write(frame_serial(build_body(FrameType.INFO, seq, 0, info)))
        t_us, next_at, inbox = 0, time.monotonic(), bytes(self.tool.received)
        while not self._stop.is_set():
            seq += 1
            with contextlib.suppress(OSError, AssertionError):
                inbox += self.tool.read_available(0.0)
            *frames, inbox = inbox.split(b"\x00")
            if self.hello_only and any(_is_hello(f) for f in frames):
                with contextlib.suppress(OSError, TimeoutError):
                    self.tool.write(frame_serial(build_body(FrameType.INFO, seq, t_us, info)))
                seq += 1
            raw = np.round(
                OFFSET + COUNTS_PER_N * self.load_n + rng.normal(0, NOISE, PER_FRAME)
            ).astype(np.int64)
            with contextlib.suppress(OSError, TimeoutError):
                self.tool.write(
                    frame_serial(
                        build_body(
                            FrameType.SAMPLES,
                            seq & 0xFFFF,
                            t_us & 0xFFFFFFFF,
                            samples_payload(period_us, raw),
                        )
                    )
                )
            t_us += PER_FRAME * period_us
            next_at += PER_FRAME / RATE
            time.sleep(max(0.0, next_at - time.monotonic()))


def _is_hello(frame: bytes) -> bool:
    try:
        body = cobs.decode(frame)
    except cobs.DecodeError:
        return False
    return len(body) > 1 and body[1] == FrameType.HELLO


class Wizard:
    """``pressureguard calibrate`` as a subprocess: stdout collected by a thread, stdin typed."""

    def __init__(self, data_dir: Path, source: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            [*COMMAND, "calibrate", source, "--data-dir", str(data_dir), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[str] = []
        self.seen = 0
        self._reader = threading.Thread(target=self._read, name="wizard-out", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def expect(self, text: str, timeout: float = 20.0) -> str:
        """Wait for a line containing ``text`` after the last one matched; return it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i in range(self.seen, len(self.lines)):
                if text in self.lines[i]:
                    self.seen = i + 1
                    return self.lines[i]
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} on stdout:\n" + "\n".join(self.lines))

    def type(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def finish(self, timeout: float = 20.0) -> tuple[int, str]:
        _, err = self.proc.communicate(timeout=timeout)
        self._reader.join(5.0)
        return self.proc.returncode, err


@pytest.fixture
def cell(tmp_path: Path) -> Iterator[tuple[SimulatedCell, Path]]:
    tool = PtyTool(tmp_path / "ttyPG0")
    tool.plug()
    sim = SimulatedCell(tool)
    sim.start()
    yield sim, tool.link
    sim.stop()
    tool.close()


def _settle(cell: SimulatedCell, load_n: float, seconds: float = 0.6) -> None:
    """Place (or remove) a load, then give it a moment, as a person would."""
    cell.load_n = load_n
    time.sleep(seconds)


@pytest.mark.slow
def test_wizard_reproduces_the_constants_and_explains_wrong_steps(
    tmp_path: Path, cell: tuple[SimulatedCell, Path]
) -> None:
    sim, link = cell
    data = tmp_path / "data"
    wiz = Wizard(data, str(link), "--yes")
    try:
        wiz.expect("take everything off the tool")
        _settle(sim, 0.0)
        wiz.type("")
        wiz.expect("Zero: zero taken")
        wiz.expect("put a known weight on")
        # wrong step 1: the weight typed but never put on
        wiz.type("500g")
        assert "nothing on the cell" in wiz.expect("Not taken")
        _settle(sim, 500 * G)
        wiz.type("500g")
        wiz.expect("OK, weight 1")
        # wrong step 2: the second weight put on top of the first
        _settle(sim, 1500 * G)
        wiz.type("1kg")
        assert "not removed" in wiz.expect("Not taken")
        _settle(sim, 0.0, 1.0)
        _settle(sim, 1000 * G)
        wiz.type("1kg")
        wiz.expect("OK, weight 2")
        assert "done" in wiz.expect("Step 4")
        _settle(sim, 0.0, 1.0)
        wiz.type("done")
        wiz.expect("counts per newton")
        wiz.expect("Check:")
        _settle(sim, 2 * 4.4482216152605)
        wiz.type("2lbf")
        wiz.expect("Verified")
        wiz.expect("Saved calibration")
        code, err = wiz.finish()
    finally:
        if wiz.proc.poll() is None:
            wiz.proc.kill()
            wiz.proc.communicate()
    assert code == 0, err
    assert "Traceback" not in err
    (stored,) = json.loads(run_cli(data, "calibrate", "show", "--json").stdout)
    assert stored["device_id"] == "pg-cal"
    assert stored["counts_per_n"] == pytest.approx(COUNTS_PER_N, rel=0.005)
    assert stored["offset_counts"] == pytest.approx(OFFSET, rel=0.005)
    fit = stored["fit"]
    assert fit["linearity_pct"] < 0.5 and fit["check"]["verified"] is True
    assert fit["noise_n"] == pytest.approx(NOISE / COUNTS_PER_N, rel=0.4)
    assert len(fit["points"]) == 3
    assert "pg-cal" in run_cli(data, "calibrate", "show").stdout


@pytest.mark.slow
def test_tare_under_load_is_refused_and_quit_saves_nothing(
    tmp_path: Path, cell: tuple[SimulatedCell, Path]
) -> None:
    sim, link = cell
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.save_calibration("pg-cal", COUNTS_PER_N, OFFSET, {"method": "test"})
    wiz = Wizard(data, str(link))
    try:
        wiz.expect("take everything off the tool")
        _settle(sim, 3.0)
        wiz.type("")
        assert "take everything off the tool" in wiz.expect("Not taken")
        wiz.type("q")
        code, err = wiz.finish()
    finally:
        if wiz.proc.poll() is None:
            wiz.proc.kill()
            wiz.proc.communicate()
    assert code == 1 and "Traceback" not in err
    history = json.loads(run_cli(data, "calibrate", "show", "--json", "--history").stdout)
    assert [h["fit"]["method"] for h in history] == ["test"]


def test_show_is_empty_and_errors_are_one_line(tmp_path: Path) -> None:
    assert json.loads(run_cli(tmp_path, "calibrate", "show", "--json").stdout) == []
    assert "No device calibrations" in run_cli(tmp_path, "calibrate", "show").stdout
    bad = run_cli(tmp_path, "calibrate", str(tmp_path / "no-such-port"), check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_failed_check_is_explained_and_kept_only_when_the_user_says_so(
    tmp_path: Path, cell: tuple[SimulatedCell, Path]
) -> None:
    sim, link = cell
    data = tmp_path / "data"
    wiz = Wizard(data, str(link), "--yes")
    try:
        wiz.expect("take everything off the tool")
        _settle(sim, 0.0)
        wiz.type("")
        wiz.expect("Zero: zero taken")
        for grams in (200, 800):
            _settle(sim, grams * G)
            wiz.type(f"{grams}g")
            wiz.expect("OK, weight")
            _settle(sim, 0.0, 1.0)
        wiz.type("done")
        wiz.expect("Check:")
        _settle(sim, 0.5)
        wiz.type("600g")  # 0.5 N is on the cell, 600 g was typed
        assert "% off" in wiz.expect("Check failed")
        wiz.expect("try the check again")
        wiz.type("")
        wiz.expect("Saved calibration")
        code, err = wiz.finish()
    finally:
        if wiz.proc.poll() is None:
            wiz.proc.kill()
            wiz.proc.communicate()
    assert code == 0, err
    (stored,) = json.loads(run_cli(data, "calibrate", "show", "--json").stdout)
    assert stored["fit"]["check"]["verified"] is False
    assert stored["counts_per_n"] == pytest.approx(COUNTS_PER_N, rel=0.005)
    assert "failed" in run_cli(data, "calibrate", "show").stdout


def _two_weights_and_save(wiz: Wizard, put: Callable[[float], None]) -> tuple[int, str]:
    """Zero, 200 g and 800 g, done, no check, saved (``--yes``)."""
    try:
        wiz.expect("take everything off the tool")
        put(0.0)
        wiz.type("")
        wiz.expect("Zero: zero taken")
        for grams in (200, 800):
            put(grams * G)
            wiz.type(f"{grams}g")
            wiz.expect("OK, weight")
            put(0.0)
        wiz.type("done")
        wiz.expect("Check:")
        wiz.type("")
        wiz.expect("Saved calibration")
        return wiz.finish()
    finally:
        if wiz.proc.poll() is None:
            wiz.proc.kill()
            wiz.proc.communicate()


@pytest.mark.slow
def test_a_tool_that_only_answers_hello_is_named_and_saved(tmp_path: Path) -> None:
    tool = PtyTool(tmp_path / "ttyPG1")
    tool.plug()
    sim = SimulatedCell(tool, device_id="pg-quiet", hello_only=True)
    sim.start()
    data = tmp_path / "data"
    try:
        wiz = Wizard(data, str(tool.link), "--yes")
        code, err = _two_weights_and_save(wiz, lambda load: _settle(sim, load, 1.0))
    finally:
        sim.stop()
        tool.close()
    assert code == 0 and "Traceback" not in err, err
    assert not any("did not say its id" in line for line in wiz.lines)
    (stored,) = json.loads(run_cli(data, "calibrate", "show", "--json").stdout)
    assert stored["device_id"] == "pg-quiet"
    assert stored["counts_per_n"] == pytest.approx(COUNTS_PER_N, rel=0.01)


@pytest.mark.slow
def test_a_text_sketch_with_no_id_is_named_at_the_start_and_the_bridge_uses_it(
    tmp_path: Path,
) -> None:
    tool = PtyTool(tmp_path / "ttyHX1")
    tool.plug()
    sketch = TextSketch(tool, value=OFFSET, rate_hz=RATE, noise=NOISE)
    sketch.start()
    data = tmp_path / "data"

    def put(load_n: float) -> None:
        sketch.value = OFFSET + COUNTS_PER_N * load_n
        time.sleep(1.0)

    try:
        source = ("--format", "text", "--text-unit", "counts")
        wiz = Wizard(data, str(tool.link), "--yes", *source)
        named = wiz.expect("did not say its id")  # said before any work is done
        assert wiz.lines.index(named) < next(
            i for i, line in enumerate(wiz.lines) if "take everything off the tool" in line
        )
        code, err = _two_weights_and_save(wiz, put)
        assert code == 0 and "Traceback" not in err, err
        (stored,) = json.loads(run_cli(data, "calibrate", "show", "--json").stdout)
        assert stored["device_id"] == f"serial:{tool.link}"
        assert stored["counts_per_n"] == pytest.approx(COUNTS_PER_N, rel=0.01)
        assert stored["offset_counts"] == pytest.approx(OFFSET, rel=0.001)

        # the bridge finds that calibration for the same sketch: 5 N is judged, not uncalibrated
        sketch.value = OFFSET + COUNTS_PER_N * 5.0
        rec = run_cli(data, "record", str(tool.link), *source, "--duration", "3", "--json",
                      "--limit", "10N")  # fmt: skip
        summary = json.loads(rec.stdout)
        session = json.loads(run_cli(data, "sessions", "show", str(summary["id"]), "--json").stdout)
        assert session["calibration"]["basis"] == "stored"
        zones = session["stats"]["time_in_zone_s"]
        assert zones["relaxed"] > 1.0 and zones["uncalibrated"] == 0
    finally:
        sketch.stop()
        tool.close()
