"""A long session at 1 kHz, recorded and reviewed: ``python -m reliability.load --hours 4``.

Recording 4 hours in real time takes 4 hours, so the session is a capture of the simulated tool at
1 kHz (generated here, as ``record --capture`` writes it) replayed at full speed
(``replay://FILE.bin?speed=0``): the same decoder, bridge, judging and store as a live tool,
only without waiting. Then it is reviewed as the History page does: the summary, the statistics,
the whole-session curve and a zoomed window. The recorder's RSS is sampled every second; the
figures go to ``reliability/results/load.json``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from firmware_bridge.sources.capture import CaptureWriter
from firmware_bridge.sources.sim import SimTransport
from firmware_bridge.store import Store
from reliability.common import RssSampler, save
from review.curve import session_curve
from review.stats_cache import cached_session_stats


def make_capture(path: Path, hours: float, rate_hz: int) -> int:
    """Write a capture of the simulated tool (massage pattern); returns its size in bytes."""
    url = f"sim://?seed=7&rate={rate_hz}&speed=0&duration={hours * 3600:g}"
    writer = CaptureWriter(path, url, "stream")
    sim = SimTransport(url)
    try:
        while True:
            try:
                chunk = sim.read(0.0)
            except EOFError:
                break
            if chunk is not None:
                writer.write(chunk)
    finally:
        sim.close()
        writer.close()
    return path.stat().st_size


def run(hours: float, rate_hz: int, work: Path) -> dict[str, object]:
    capture = work / "session.bin"
    t0 = time.monotonic()
    size = make_capture(capture, hours, rate_hz)
    made_s = time.monotonic() - t0
    data = work / "data"
    command = [sys.executable, "-m", "firmware_bridge.cli", "record",
               f"replay://{capture}?speed=0", "--quiet", "--data-dir", str(data)]  # fmt: skip
    t0 = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = RssSampler({"recorder": proc.pid}, every_s=1.0)
    sampler.start()
    out, err = proc.communicate()
    sampler.stop()
    recorded_s = time.monotonic() - t0
    if proc.returncode != 0:
        raise SystemExit(f"record failed ({proc.returncode}): {err}")
    session = int(out.strip().splitlines()[-1])
    review: dict[str, float] = {}
    with Store.open(data) as store:
        t = time.monotonic()
        summary = store.session_summary(session)
        review["summary_s"] = time.monotonic() - t
        t = time.monotonic()
        stats = cached_session_stats(store, session, summary=summary)
        review["stats_first_s"] = time.monotonic() - t
        t = time.monotonic()
        cached_session_stats(store, session)
        review["stats_kept_s"] = time.monotonic() - t
        t = time.monotonic()
        whole = session_curve(store, session)
        review["curve_whole_s"] = time.monotonic() - t
        t = time.monotonic()
        zoom = session_curve(store, session, 3600.0, 3660.0)
        review["curve_minute_s"] = time.monotonic() - t
        t = time.monotonic()
        n_loaded = sum(len(b) for b in store.iter_samples(session))
        review["read_all_samples_s"] = time.monotonic() - t
    rss = [s["recorder"] for s in sampler.samples if s["recorder"] is not None]
    expected = round(hours * 3600 * rate_hz)
    return {
        "command": f"python -m reliability.load --hours {hours:g} --rate {rate_hz}",
        "hours": hours,
        "rate_hz": rate_hz,
        "capture_mb": round(size / 1e6, 1),
        "capture_made_s": round(made_s, 1),
        "recorded_in_s": round(recorded_s, 1),
        "samples_expected": expected,
        "samples_recorded": summary["n_samples"],
        "samples_read_back": n_loaded,
        "duration_s": summary["duration_s"],
        "gaps": summary["gaps"],
        "bad_frames": summary["bad_frames"],
        "dropped_frames": summary["dropped_frames"],
        "store_mb": round((data / "pressureguard.db").stat().st_size / 1e6, 1),
        "recorder_rss_mib": {"first": rss[0], "last": rss[-1], "max": max(rss), "n": len(rss)},
        "recorder_rss_series": sampler.samples,
        "peak_n": stats.peak_n,
        "time_over_limit_s": stats.time_over_limit_s,
        "curve_points_whole": len(whole.t),
        "curve_points_minute": len(zoom.t),
        "review_s": {k: round(v, 3) for k, v in review.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=4.0)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.work) as scratch:
        figures = run(args.hours, args.rate, Path(scratch))
    name = "load" if args.hours >= 4 else f"load-{args.hours:g}h"
    path = save(name, figures)
    print(f"{figures['samples_recorded']:,} samples in {figures['recorded_in_s']} s; {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
