"""``python -m reliability.reconnects``: the dashboard server's memory over hundreds of live-stream
reconnects, and what of it Python holds.

In the 8-tab soak (:mod:`reliability.tabs`) the server's resident memory stepped up at each
5-minute stream reconnect. Here the same server (``streamlit run dashboard/server.py``) serves a
recording bridge (the simulated tool at 1 kHz) to ``--clients`` EventSource-like readers of
``/api/live`` whose streams end every ``--stream-s`` seconds instead of 300 (set through
``reliability/stream_site/sitecustomize.py``, which only this script puts on the server's path),
so minutes hold hundreds of reconnects. Every 10 s the server's RSS is sampled; at the end glibc's
``malloc_trim(0)`` is called in the server (SIGUSR1) to tell freed-but-kept memory from memory in
use. ``--trace`` runs the server under tracemalloc and reports the memory Python itself holds each
minute, and any allocation site that grows minute after minute.

    python -m reliability.reconnects [--minutes 7] [--clients 8] [--stream-s 5] [--trace]
"""

from __future__ import annotations

import argparse
import collections
import http.client
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from reliability.common import ROOT, rss_mib, save

SITE = Path(__file__).resolve().with_name("stream_site")
SOURCE = "sim://?rate=1000"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(port: int, path: str, timeout: float = 5.0) -> int | None:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request("GET", path)
        status = conn.getresponse().status
        conn.close()
        return status
    except OSError:
        return None


def _reader(port: int, until: float, counts: collections.Counter[str]) -> None:
    """One EventSource-like client: read the stream, reconnect when it ends."""
    while time.monotonic() < until:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/api/live", headers={"Accept": "text/event-stream"})
            response = conn.getresponse()
            if response.status != 200:
                counts[f"status {response.status}"] += 1
                time.sleep(0.5)
                continue
            while time.monotonic() < until:
                line = response.readline()
                if not line:
                    counts["streams"] += 1
                    break
                counts["messages"] += line.startswith(b"data:")
            conn.close()
        except OSError as exc:
            counts[type(exc).__name__] += 1
            time.sleep(0.5)


def traced(folder: Path) -> dict[str, Any]:
    """The memory Python held at each snapshot (MiB), and the allocation sites that grew at
    every snapshot after the first by more than 8 KiB in all."""
    import tracemalloc  # noqa: PLC0415

    snaps = [tracemalloc.Snapshot.load(str(p)) for p in sorted(folder.glob("snap-*.bin"))]
    sizes: dict[Any, list[int]] = collections.defaultdict(lambda: [0] * len(snaps))
    for i, snap in enumerate(snaps):
        for stat in snap.statistics("traceback"):
            sizes[stat.traceback][i] += stat.size
    growing = []
    for where, series in sizes.items():
        later = series[1:]
        steady = all(b >= a for a, b in itertools.pairwise(later))
        if len(later) > 1 and steady and later[-1] - later[0] > 8192:
            growing.append({"kib": round((later[-1] - later[0]) / 1024), "at": where.format()[-4:]})
    return {
        "python_mib_each_minute": [
            round(sum(s.size for s in snap.statistics("filename")) / 2**20, 2) for snap in snaps
        ],
        "growing_sites": sorted(growing, key=lambda g: -g["kib"])[:5],
    }


def run(minutes: float, clients: int, stream_s: float, trace: bool) -> dict[str, Any]:
    """One measured run (see the module docstring); returns its figures."""
    work = Path(tempfile.mkdtemp(prefix="pg-reconnects-"))
    data, port = work / "data", _free_port()
    command = [sys.executable, "-m", "firmware_bridge.cli"]
    bridge = subprocess.Popen([*command, "record", SOURCE, "--quiet", "--data-dir", str(data)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SITE), str(ROOT)]),
           "PRESSUREGUARD_HOME": str(data), "PG_STREAM_S": str(stream_s),
           "PG_TRIM_REPORT": str(work / "trim.jsonl")}  # fmt: skip
    if trace:
        (work / "trace").mkdir()
        env["PG_TRACE_DIR"] = str(work / "trace")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "server.py"),
         "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless",
         "true", "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while _get(port, "/api/state") != 200:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("reconnects: the dashboard server never answered")
            time.sleep(0.5)
        series = [{"t_s": 0.0, "rss_mib": round(rss_mib(server.pid) or 0.0, 1)}]
        counts: collections.Counter[str] = collections.Counter()
        t0 = time.monotonic()
        until = t0 + minutes * 60
        readers = [threading.Thread(target=_reader, args=(port, until, counts), daemon=True)
                   for _ in range(clients)]  # fmt: skip
        for reader in readers:
            reader.start()
        while time.monotonic() < until:
            time.sleep(10)
            rss = rss_mib(server.pid)
            series.append({"t_s": round(time.monotonic() - t0, 1), "rss_mib": round(rss or 0, 1)})
        for reader in readers:
            reader.join(15)
        server.send_signal(signal.SIGUSR1)
        time.sleep(1.0)
        trim = json.loads((work / "trim.jsonl").read_text().splitlines()[-1])
    finally:
        server.terminate()
        bridge.send_signal(signal.SIGINT)
        for proc in (server, bridge):
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
    options = f"--minutes {minutes:g} --clients {clients} --stream-s {stream_s:g}"
    figures: dict[str, Any] = {
        "command": f"python -m reliability.reconnects {options}{' --trace' * trace}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "counts": dict(counts),
        "rss_series": series,
        **trim,
    }
    if trace:
        figures.update(traced(work / "trace"))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability.reconnects", description=__doc__)
    parser.add_argument("--minutes", type=float, default=7.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--stream-s", type=float, default=5.0, help="each stream's length")
    parser.add_argument("--trace", action="store_true", help="tracemalloc in the server")
    args = parser.parse_args(argv)
    figures = run(args.minutes, args.clients, args.stream_s, args.trace)
    path = save("reconnects-traced" if args.trace else "reconnects", figures)
    rss = [row["rss_mib"] for row in figures["rss_series"]]
    print(f"reconnects: {figures['counts']}; server RSS {rss[0]} → {rss[-1]} MiB "
          f"(at 1 min {rss[min(6, len(rss) - 1)]}); malloc_trim: "
          f"{figures['rss_before_trim_mib']} → {figures['rss_after_mib']} MiB; {path}")  # fmt: skip
    if args.trace:
        print(f"reconnects: Python holds {figures['python_mib_each_minute']} MiB each minute; "
              f"sites growing every minute: {figures['growing_sites'] or 'none'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
