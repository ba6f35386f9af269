"""Loaded by the dashboard server that ``python -m reliability.reconnects`` starts (its folder is
put first on ``PYTHONPATH``), never by PressureGuard itself.

- ``PG_STREAM_S``: live streams end after this many seconds instead of 300, so a few minutes hold
  hundreds of reconnects;
- ``PG_TRACE_DIR``: tracemalloc on, one snapshot a minute into that folder (``snap-NNN.bin``);
- ``PG_TRIM_REPORT``: on SIGUSR1, glibc's ``malloc_trim(0)``, and the resident memory before and
  after it appended to that file as one JSON line.
"""

from __future__ import annotations

import os

if os.environ.get("PG_STREAM_S"):
    import dashboard.feed as _feed

    _defaults = list(_feed.event_stream.__defaults__ or ())
    _defaults[1] = float(os.environ["PG_STREAM_S"])  # (interval_s, max_stream_s, is_exiting)
    _feed.event_stream.__defaults__ = tuple(_defaults)

if os.environ.get("PG_TRACE_DIR"):
    import threading
    import time
    import tracemalloc

    tracemalloc.start(12)

    def _snapshots(folder: str) -> None:
        for n in range(10_000):
            time.sleep(60)
            tracemalloc.take_snapshot().dump(os.path.join(folder, f"snap-{n:03d}.bin"))

    threading.Thread(target=_snapshots, args=(os.environ["PG_TRACE_DIR"],), daemon=True).start()

if os.environ.get("PG_TRIM_REPORT"):
    import ctypes
    import json
    import signal

    def _rss_mib() -> float:
        with open("/proc/self/status", encoding="ascii") as fh:
            kib = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS"))
        return round(kib / 1024, 1)

    def _trim(_signum: int, _frame: object) -> None:
        before = _rss_mib()
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        with open(os.environ["PG_TRIM_REPORT"], "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"rss_before_trim_mib": before, "rss_after_mib": _rss_mib()}))
            fh.write("\n")

    signal.signal(signal.SIGUSR1, _trim)
