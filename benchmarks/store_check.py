"""Issue 15's store check: what checking a store's integrity costs, on a store of a few GB.

Stores of several sizes are written through the store API the way a long-used one ends up
(2-hour sessions at 1 kHz in compacted chunks of 32,768 samples), then measured:

- **opening** (``Store.open`` + close, which runs the open check: SQLite's ``quick_check`` over
  the whole file up to ``integrity.QUICK_CHECK_MAX_BYTES``, every table but the samples' blob
  pages above it, and the per-session sums), with the file in the page cache (warm) and evicted
  from it first (cold, ``posix_fadvise(DONTNEED)``);
- ``PRAGMA quick_check`` of the whole file alone, warm and cold, whatever the size (what the
  open check would cost without the size limit);
- the sums alone;
- the full check (``store check --full``: ``integrity_check`` plus every chunk's checksums);
- reading a whole 2-hour session (``load_arrays``, four columns) with the checksum check on
  reads and without it, to show what that check adds.

Run: ``python -m benchmarks.run store_check``.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from firmware_bridge.store import DB_NAME, Store, integrity
from firmware_bridge.store.samples import SamplesMixin
from firmware_bridge.zones import JudgedSamples

#: Store sizes measured, in 2-hour sessions at 1 kHz (about 240 MB each).
SIZES_SESSIONS = (1, 8)
SESSION_SAMPLES = 7_200_000
CHUNK = 32_768
REPEATS = 3


def _build(data_dir: Path, sessions: int) -> Path:
    with Store.open(data_dir) as store:
        for k in range(sessions):
            sid = store.begin_session(
                source="sim://", profile="default", region="upper-trapezius", limit_n=12.0
            )
            for start in range(0, SESSION_SAMPLES, CHUNK):
                n = min(CHUNK, SESSION_SAMPLES - start)
                t = np.arange(start, start + n) / 1000.0
                force = 6.0 + 4.0 * np.sin(t / 5.0 + k)
                store.append_samples(
                    sid,
                    JudgedSamples(t, force * 4000, force, force * 0.95, np.zeros(n, np.int8)),
                )
                store.commit()
            store.end_session(sid)
        store.wait_for_compaction()
    return data_dir / DB_NAME


def _evict(path: Path) -> None:
    for p in (path, Path(f"{path}-wal")):
        if p.exists():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def _time(
    action: Callable[[], object], *, cold: Path | None = None, repeats: int = REPEATS
) -> float:
    """Median seconds of ``repeats`` runs (each after evicting ``cold`` from the page cache)."""
    runs = []
    for _ in range(repeats):
        if cold is not None:
            _evict(cold)
        began = time.perf_counter()
        action()
        runs.append(time.perf_counter() - began)
    return statistics.median(runs)


def _pragma(path: Path, sql: str) -> Callable[[], object]:
    def run() -> object:
        db = sqlite3.connect(path)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()

    return run


def _sums(path: Path) -> Callable[[], object]:
    def run() -> object:
        db = sqlite3.connect(path, isolation_level=None)
        try:
            return integrity.sums_problems(db)
        finally:
            db.close()

    return run


def _full(data_dir: Path) -> Callable[[], object]:
    def run() -> object:
        with Store.open(data_dir) as store:
            report = store.check(full=True)
        assert report.ok, report.problems
        return report

    return run


def _read_times(data_dir: Path) -> tuple[float, float]:
    """Seconds to read a whole 2-hour session (one open store, after a first read), with the
    checksum check on reads and without it."""
    with Store.open(data_dir) as store:
        store.load_arrays(1)
        checked = _time(lambda: store.load_arrays(1), repeats=7)
        checks = SamplesMixin._check_chunks
        SamplesMixin._check_chunks = lambda *a, **k: None  # type: ignore[method-assign]
        try:
            unchecked = _time(lambda: store.load_arrays(1), repeats=7)
        finally:
            SamplesMixin._check_chunks = checks  # type: ignore[method-assign]
    return checked, unchecked


def run() -> dict[str, Any]:
    """Build the stores and measure."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="pg-bench-check-") as tmp:
        for sessions in SIZES_SESSIONS:
            data_dir = Path(tmp) / f"s{sessions}"
            path = _build(data_dir, sessions)
            size = path.stat().st_size
            opening = _time(lambda d=data_dir: Store.open(d).close())
            row: dict[str, Any] = {
                "sessions": sessions,
                "samples": sessions * SESSION_SAMPLES,
                "mb": size / 2**20,
                "whole_file_at_open": size <= integrity.QUICK_CHECK_MAX_BYTES,
                "open_warm_s": opening,
                "open_cold_s": _time(lambda d=data_dir: Store.open(d).close(), cold=path),
                "quick_check_warm_s": _time(_pragma(path, "PRAGMA quick_check")),
                "quick_check_cold_s": _time(_pragma(path, "PRAGMA quick_check"), cold=path),
                "sums_s": _time(_sums(path)),
                "full_warm_s": _time(_full(data_dir)),
                "full_cold_s": _time(_full(data_dir), cold=path),
            }
            row["read_session_s"], row["read_session_unchecked_s"] = _read_times(data_dir)
            rows.append(row)
            print(row, flush=True)
            path.unlink()
    return {"limit_mb": integrity.QUICK_CHECK_MAX_BYTES / 2**20, "rows": rows}


def markdown(results: dict[str, Any], machine: str) -> str:
    """The report section."""
    lines = [
        "## Store integrity check (issue 15)",
        "",
        machine,
        "",
        "Stores of 2-hour sessions at 1 kHz (compacted), median of "
        f"{REPEATS} runs. *Cold*: the file evicted from the page cache first. Opening runs "
        "SQLite's `quick_check` over the whole file up to "
        f"{results['limit_mb']:.0f} MB, above that over every table but the samples' blob "
        "pages (checked by their checksums as they are read), plus the per-session sums. "
        "The machine's two cores are shared with other work, so single figures vary by tens "
        "of percent. Run: `python -m benchmarks.run store_check`.",
        "",
        "| store | open warm / cold | quick_check whole file warm / cold | sums | full check "
        "warm / cold | read a 2-h session: checked / unchecked |",
        "|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        how = "whole file" if r["whole_file_at_open"] else "blob pages skipped"
        lines.append(
            f"| {r['mb']:,.0f} MB ({r['samples'] / 1e6:.1f} M samples; open: {how}) "
            f"| {r['open_warm_s'] * 1000:.0f} / {r['open_cold_s'] * 1000:.0f} ms "
            f"| {r['quick_check_warm_s']:.2f} / {r['quick_check_cold_s']:.2f} s "
            f"| {r['sums_s'] * 1000:.1f} ms "
            f"| {r['full_warm_s']:.2f} / {r['full_cold_s']:.2f} s "
            f"| {r['read_session_s']:.2f} / {r['read_session_unchecked_s']:.2f} s |"
        )
    return "\n".join(lines) + "\n"
