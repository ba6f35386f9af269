"""Issue 11's benchmark: a cordless tool over BLE, beside the serial figures.

Two virtual controllers on one link (bumble), the virtual tool (``pressureguard ble-sim``) on one
and the real bridge (``ble://`` over the bumble backend) on the other, each in its own process
as they would be with a radio. Measured:

- notification → zone decision: the virtual tool logs the host clock when it hands each
  notification to its controller; the bridge's ``on_judged`` observer stamps each sample's
  verdict. At 1 kHz with one sample per notification, the worst case for overhead.
- sustained rate: samples judged per second against the nominal rate, at 1 kHz with the tool's
  default packing (25 samples per notification) and with one sample per notification.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import percentiles
from firmware_bridge.bridge import Bridge, RecordOptions
from firmware_bridge.live import LiveState
from firmware_bridge.protocol.frames import HEADER
from firmware_bridge.sources import SourceOptions
from firmware_bridge.store import Store
from firmware_bridge.zones import JudgedSamples
from tests.ble.conftest import free_port, listening, wait_for

RATE_HZ = 1000.0
DURATION_S = 20.0
WARMUP_S = 2.0  # connection, the opening tare window: not a steady-state delay


def _run(workdir: Path, per_packet: int) -> dict[str, Any]:
    """One recording; latencies and the sustained rate."""
    tool_port, host_port = free_port(), free_port()
    log = workdir / f"tool-{per_packet}.log"
    procs = [subprocess.Popen(
        [sys.executable, "-m", "bumble.apps.controllers", f"tcp-server:127.0.0.1:{tool_port}",
         f"tcp-server:127.0.0.1:{host_port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )]  # fmt: skip
    try:
        for port in (tool_port, host_port):  # never probed by connecting: see listening()
            wait_for(lambda p=port: listening(p), 15, f"controller port {port}")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "firmware_bridge.cli", "ble-sim", "--ble-hci",
             f"tcp-client:127.0.0.1:{tool_port}", "--rate", str(RATE_HZ), "--per-packet",
             str(per_packet), "--pattern", "steady", "--level", "3", "--log", str(log),
             "--data-dir", str(workdir / "sim")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))  # fmt: skip
        judged_at: list[tuple[float, float]] = []  # (device seconds of a sample, verdict time)
        counted = 0
        first: float | None = None
        with Store.open(workdir / f"data-{per_packet}") as store:
            bridge: Bridge

            def on_judged(judged: JudgedSamples, live: LiveState) -> None:
                nonlocal counted, first
                now = time.monotonic()
                first = now if first is None else first
                offset = bridge.timebase.offset_s or 0.0
                if now - first > WARMUP_S:
                    counted += len(judged)
                    judged_at.extend((float(t) - offset, now) for t in judged.t_s)
                if now - first > WARMUP_S + DURATION_S:
                    bridge.stop()

            options = RecordOptions(
                source="ble://",
                source_options=SourceOptions(ble_hci=f"tcp-client:127.0.0.1:{host_port}"),
            )
            bridge = Bridge(store, options, on_judged=on_judged)
            bridge.run()
    finally:
        for proc in reversed(procs):
            proc.kill()
            proc.wait(10)
    sent: dict[int, float] = {}
    for line in log.read_text().splitlines():
        event = json.loads(line)
        if event.get("ev") == "tx" and "mono" in event:
            _, _, _, t_us = HEADER.unpack_from(bytes.fromhex(event["data"]))
            sent[t_us] = float(event["mono"])
    latencies = [
        verdict - sent[key]
        for device_s, verdict in judged_at
        if (key := round(device_s * 1e6) & 0xFFFFFFFF) in sent
    ]
    return {
        "per_packet": per_packet,
        "samples": counted,
        "rate_hz": counted / DURATION_S,
        "latency": {**percentiles(latencies), "n": len(latencies)} if latencies else None,
    }


def run() -> dict[str, Any]:
    """Both packings."""
    with tempfile.TemporaryDirectory() as tmp:
        return {"runs": [_run(Path(tmp), 1), _run(Path(tmp), 25)]}


def markdown(results: dict[str, Any], machine: str) -> str:
    """The report section."""
    lines = [
        "## Bluetooth LE: latency and sustained rate (issue 11)",
        "",
        f"Machine: {machine}. Command: `python -m benchmarks.run ble`.",
        "",
        f"The virtual tool (`pressureguard ble-sim`, {RATE_HZ:g} Hz) and the real bridge "
        "(`ble://` over the bundled bumble backend) in separate processes, on two bumble virtual "
        "controllers sharing one link. Latency: from the tool handing a notification to its "
        "controller to the bridge's zone decision for that sample (one sample per notification; "
        f"first {WARMUP_S:g} s left out). Rate: samples judged per second over {DURATION_S:g} s "
        "against the nominal rate. The serial figures are in the pipeline section above.",
        "",
        "| samples per notification | samples/s (nominal 1000) | p50 ms | p95 ms | p99 ms "
        "| max ms |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["runs"]:
        lat = r["latency"]
        cells = (
            f"{lat['p50']:.2f} | {lat['p95']:.2f} | {lat['p99']:.2f} | {lat['max']:.1f}"
            if lat and r["per_packet"] == 1
            else "– | – | – | –"
        )
        lines.append(f"| {r['per_packet']} | {r['rate_hz']:,.0f} | {cells} |")
    lines += [
        "",
        "With 25 samples per notification the latency of a sample depends on its place in the "
        "packet (up to 25 ms of batching on the tool), so only the one-sample figures are shown. "
        "Four processes share the machine's two cores here (load average over 2 during the run "
        "is typical of this workplace), which is what the tail (p95 and above) mostly measures.",
    ]
    return "\n".join(lines)
