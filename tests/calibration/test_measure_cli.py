"""``pressureguard limits measure``: three ramps with button presses in a binary stream."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.protocol.frames import (
    FrameType,
    build_body,
    button_payload,
    frame_serial,
    samples_payload,
)
from firmware_bridge.readings import DeviceInfo
from tests.integration.cli import run_cli

RATE = 80.0
PER_FRAME = 8
INFO = DeviceInfo(
    device_id="pg-ppt",
    firmware="t",
    adc="hx711",
    rate_hz=RATE,
    counts_per_n=1000.0,
    offset_counts=0.0,
)


def tool_stream(
    trials: list[tuple[float, float]],
    rest_s: float = 35.0,
    *,
    hold_s: float = 3 / RATE,
    buttons: bool = True,
) -> tuple[bytes, list[float], list[float]]:
    """A tool's bytes: each trial ramps at ``rate`` N/s to ``press`` N, where the button is pressed
    (unless ``buttons`` is false), holds for ``hold_s``, then releases. Returns the bytes, the
    true force at each press and the press times on the tool's clock."""
    period = 1 / RATE
    t_press, force = [], [np.zeros(int(RATE))]  # 1 s unloaded: the tare
    clock = 1.0
    for rate, press in trials:
        ramp = np.arange(0, press / rate, period) * rate
        clock += len(ramp) * period
        t_press.append(clock)
        release = np.linspace(press, 0, int(RATE * 0.6))
        rest = np.zeros(int(RATE * rest_s))
        held = max(1, round(hold_s * RATE))
        force.append(np.r_[ramp, np.full(held, press), release, rest])
        clock += (held + len(release) + len(rest)) * period
    f = np.concatenate(force)
    out = bytearray(b"\x00")  # the tool syncs the host with one delimiter
    seq = 0
    out += frame_serial(build_body(FrameType.INFO, seq, 0, INFO.to_json().encode()))
    events = sorted([(tp, True) for tp in t_press] + [(tp + 0.2, False) for tp in t_press])
    if not buttons:
        events = []
    for k in range(0, len(f), PER_FRAME):
        t0 = k * period
        while events and events[0][0] < t0 + PER_FRAME * period:
            te, pressed = events.pop(0)
            seq += 1
            out += frame_serial(
                build_body(FrameType.BUTTON, seq, int(te * 1e6), button_payload(pressed))
            )
        seq += 1
        raw = np.round(f[k : k + PER_FRAME] * INFO.counts_per_n)
        out += frame_serial(
            build_body(
                FrameType.SAMPLES, seq, int(t0 * 1e6), samples_payload(int(period * 1e6), raw)
            )
        )
    presses = [float(np.interp(tp, np.arange(len(f)) * period, f)) for tp in t_press]
    return bytes(out), presses, t_press


def test_measure_stores_the_mean_of_the_presses_and_rejects_a_fast_ramp(tmp_path: Path) -> None:
    # trial 2 is pressed at 15 N/s (150 kPa/s on 1 cm²): rejected, then repeated
    data, presses, _ = tool_stream([(5.0, 10.0), (15.0, 12.0), (5.0, 11.0), (5.0, 12.0)])
    capture = tmp_path / "ppt.bin"
    capture.write_bytes(data)
    out = run_cli(
        tmp_path,
        "limits",
        "measure",
        f"replay://{capture}?speed=0",
        "--region",
        "forearm:left",
        "--yes",
    ).stdout
    assert "pressed too fast" in out and "150 kPa/s" in out
    assert out.count("Trial accepted") == 3
    shown = json.loads(run_cli(tmp_path, "limits", "show", "--json").stdout)
    (limit,) = shown["limits"]
    assert limit["region"] == "forearm:left" and limit["source"] == "measured"
    expected = np.mean([presses[0], presses[2], presses[3]])
    assert limit["limit_n"] == pytest.approx(expected, rel=0.01)
    assert "PPT" in limit["note"]


def test_too_few_trials_save_nothing(tmp_path: Path) -> None:
    data, _, _ = tool_stream([(5.0, 10.0), (15.0, 12.0)])
    capture = tmp_path / "short.bin"
    capture.write_bytes(data)
    proc = run_cli(
        tmp_path,
        "limits",
        "measure",
        f"replay://{capture}?speed=0",
        "--region",
        "forearm",
        "--yes",
        check=False,
    )
    assert proc.returncode == 1 and "nothing was saved" in proc.stderr
    assert json.loads(run_cli(tmp_path, "limits", "show", "--json").stdout)["limits"] == []
