"""End to end over a real pty: bytes a tool sends → ``pressureguard record`` → store → export.

Driven through the command line exactly as a user would, with the port at a fixed path.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.protocol.frames import (
    FrameType,
    build_body,
    frame_serial,
    samples_payload,
)
from firmware_bridge.readings import DeviceInfo
from tests.integration.cli import export_rows, show, start_record, stop_record, wait_until
from tests.integration.ptytool import PtyTool

G_N = 0.00980665
LBF_N = 4.4482216152605
pytestmark = pytest.mark.skipif(os.name != "posix", reason="pty needs a POSIX system")


@pytest.fixture
def tool(tmp_path: Path):
    t = PtyTool(tmp_path / "ttyTOOL")
    t.plug()
    yield t
    t.close()


def send_lines(tool: PtyTool, lines: list[str], rate_hz: float = 200.0) -> None:
    for line in lines:
        tool.write(line.encode() + b"\r\n")
        time.sleep(1 / rate_hz)


# (sketch, extra CLI args, banner lines, value → line, value → newtons (None = counts))
SKETCHES = [
    (
        "bogde basic",
        [],
        ["HX711 Demo", "Initializing the scale"],
        lambda v: f"HX711 reading: {v:.0f}",
        None,
    ),
    (
        "bogde full",
        ["--text-unit", "g"],
        ["Readings:"],
        lambda v: f"one reading:\t{v:.1f}\t| average:\t{v + 0.3:.5f}",
        G_N,
    ),
    (
        "sparkfun calibration",
        [],
        ["HX711 calibration sketch", "Remove all weight from scale"],
        lambda v: f"Reading: {v:.2f} lbs calibration_factor: -7050",
        LBF_N,
    ),
    (
        "olkal HX711_ADC",
        ["--text-unit", "g"],
        ["Starting...", "Startup is complete"],
        lambda v: f"Load_cell output val: {v:.2f}",
        G_N,
    ),
    (
        "serial plotter",
        ["--text-label", "raw"],
        ["Serial Plotter demo"],
        lambda v: f"weight:{v / 1000:.3f},raw:{v:.0f}",
        None,
    ),
    (
        "csv millis,raw",
        ["--text-field", "2"],
        ["millis,raw"],
        lambda v: f"{int(v) + 1000},{v:.0f}",
        None,
    ),
    ("units on the line", [], ["scale ready"], lambda v: f"{v:.1f} g", G_N),
]


@pytest.mark.parametrize(
    ("name", "args", "banner", "fmt", "scale"), SKETCHES, ids=[s[0] for s in SKETCHES]
)
def test_hx711_sketch_output_is_recorded_sample_for_sample(
    tool: PtyTool, tmp_path: Path, name: str, args: list[str], banner: list[str], fmt, scale
) -> None:
    data = tmp_path / "data"
    rec = start_record(data, str(tool.link), *args)
    try:
        tool.wait_for_host()
        values = [round(v, 1) for v in np.abs(np.sin(np.arange(120) / 10.0) * 900 + 5)]
        lines = [fmt(v) for v in values]
        # a torn first line, banners (no number: counted), one line of junk, then data
        send_lines(tool, ["ding: 12", *banner, "!!@@##", *lines])
        wait_until(lambda: len(export_rows(data, 1)) >= len(values), timeout=15)
    finally:
        session = stop_record(rec)
    rows = export_rows(data, session)
    assert len(rows) == len(values)
    if scale is None:  # counts: recorded raw, uncalibrated (no force, never "safe")
        got = np.array([float(r["raw"]) for r in rows])
        np.testing.assert_array_equal(got, np.round(values))
        assert {r["zone"] for r in rows} == {"uncalibrated"}
    else:
        got = np.array([float(r["force_n"]) for r in rows])
        # every sketch prints the value with at most two decimals; values have one
        np.testing.assert_allclose(got, np.asarray(values) * scale, rtol=1e-12)
    summary = show(data, session)
    assert summary["n_samples"] == len(values)
    assert summary["bad_frames"] >= len(banner) + 1  # the junk line and the banners are counted


def binary_stream(
    n_frames: int,
    *,
    info: DeviceInfo,
    t0_us: int,
    seq0: int = 0,
    per_frame: int = 8,
    period_us: int = 12500,
    force_fn=None,
):
    """Bodies a tool sends, with the raw counts of every SAMPLES body: (bodies, seqs, raws)."""
    frames = [build_body(FrameType.INFO, seq0, t0_us, info.to_json().encode())]
    forces, seqs = [], []
    for k in range(n_frames):
        seq = seq0 + 1 + k
        t_us = t0_us + k * per_frame * period_us
        idx = k * per_frame + np.arange(per_frame)
        force = force_fn(idx * period_us / 1e6) if force_fn else np.zeros(per_frame)
        raw = np.round(info.offset_counts + force * info.counts_per_n).astype(np.int64)
        forces.append(raw)
        seqs.append(seq)
        frames.append(build_body(FrameType.SAMPLES, seq, t_us, samples_payload(period_us, raw)))
    return frames, seqs, forces


def test_binary_faults_are_counted_and_intact_samples_recorded_exactly(
    tool: PtyTool, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    info = DeviceInfo(
        device_id="pg-test-1",
        firmware="t",
        adc="hx711",
        rate_hz=80.0,
        counts_per_n=1000.0,
        offset_counts=50000.0,
        tip_area_cm2=1.0,
    )
    # the clock starts 3 s before the u32 wrap: the wrap happens mid-session
    t0 = (1 << 32) - 3_000_000
    frames, _seqs, raws = binary_stream(
        120,
        info=info,
        t0_us=t0,
        seq0=65500,
        force_fn=lambda t: np.where(t < 1.0, 0.0, 4.0 + 3.0 * np.sin(t)),
    )
    corrupt = {30, 31, 77}  # CRC errors (one bit flipped in the payload)
    dropped = {50, 51, 52, 90}  # never sent: lost frames
    kept_raw: list[np.ndarray] = []
    out = bytearray(b"\x00")
    for k, body in enumerate(frames):
        if k - 1 in dropped:
            continue
        if k - 1 in corrupt:
            bad = bytearray(body)
            bad[14] ^= 0x10  # a payload bit flipped on the wire: only the CRC can tell
            out += frame_serial(bytes(bad))
            continue
        frame = frame_serial(body)
        if k in (10, 60, 100):
            out += b"\x13\x37 garbage from a noisy cable \xff\xfe\x00"
        out += frame
        if k >= 1:
            kept_raw.append(raws[k - 1])
    rec = start_record(data, str(tool.link))
    try:
        tool.wait_for_host()
        view = bytes(out)
        for i in range(0, len(view), 97):  # torn writes, like a USB stack
            tool.write(view[i : i + 97])
            time.sleep(0.002)
        expected = np.concatenate(kept_raw)
        wait_until(lambda: show(data, 1)["n_samples"] >= expected.size, timeout=20)
    finally:
        session = stop_record(rec)
    rows = export_rows(data, session)
    raw = np.array([float(r["raw"]) for r in rows])
    np.testing.assert_array_equal(raw, expected)
    force = np.array([float(r["force_n"]) for r in rows])
    np.testing.assert_allclose(force, (expected - 50000.0) / 1000.0, atol=1e-12)
    t = np.array([float(r["t_s"]) for r in rows])
    assert np.all(np.diff(t) > 0), "time runs on continuously across the u32 clock wrap"
    assert t[-1] == pytest.approx((119 * 8 + 7) * 0.0125, abs=1e-6)
    assert "pressure_kpa" in rows[0]
    summary = show(data, session)
    assert summary["dropped_frames"] == len(dropped) + len(corrupt)
    assert summary["bad_frames_by_kind"].get("crc") == len(corrupt)
    assert summary["bad_frames"] == len(corrupt) + 3
    assert summary["device_id"] == "pg-test-1"


def test_capture_then_replay_gives_the_same_samples(tmp_path: Path) -> None:
    """``--capture`` keeps the raw bytes; replaying them records the very same session data."""
    from tests.integration.cli import run_cli

    data = tmp_path / "data"
    capture = tmp_path / "sim.bin"
    run_cli(data, "record", "sim://?seed=7&speed=0&duration=30", "--capture", str(capture))
    run_cli(data, "record", f"replay://{capture}?speed=0")
    first, second = export_rows(data, 1), export_rows(data, 2)
    assert len(first) == len(second) == 30 * 80
    assert [r["raw"] for r in first] == [r["raw"] for r in second]
    assert [r["zone"] for r in first] == [r["zone"] for r in second]
