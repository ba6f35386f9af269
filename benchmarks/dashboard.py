"""Issue 3's live-view benchmark: what a user sees change, how late, and at what CPU cost.

Two variants, each driven in real headless Chromium (Debian's, the e2e tests' flags) for
:data:`WINDOW_S` seconds, at 80 Hz and at 1 kHz simulated input:

- **PressureGuard**: the real launcher (``pressureguard run sim://… --no-browser``): bridge +
  ``streamlit run dashboard/server.py``, whose live view is a components-v2 canvas fed by the
  ``/api/live`` server-sent events; no Streamlit reruns.
- **plain Streamlit**: the bridge alone plus :mod:`benchmarks.baseline_page`, an
  ``@st.fragment(run_every=0.1)`` with ``st.metric`` and an ``st.line_chart`` of the last 30 s,
  reading the same store.

Measured per variant:

- **updates/s**: a ``MutationObserver`` injected into the page watches the element showing the
  newest drawn sample's session time (``pg-last-sample-t``; the baseline's keyed caption) and
  counts the changes of its value in the window.
- **sample-to-screen latency**: the wall-clock offset of the session clock is estimated from the
  bridge's live row (``updated_at − state.t_s``, minimum over ~2 s of polling, i.e. the flush
  that followed a sample most closely); at each change the page records ``Date.now()``, and
  latency = ``Date.now()/1000 − (offset + t)``. p50/p95 over the window.
- **CPU**: psutil ``user + system`` time deltas over the window divided by its length (100 % =
  one core), for the Streamlit server, the bridge and every Chromium process of the browser.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from benchmarks.harness import percentiles
from firmware_bridge.store import Store
from firmware_bridge.store._base import parse_iso
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, free_port, launch, stop

ROOT = Path(__file__).resolve().parent.parent
BASELINE_PAGE = Path(__file__).resolve().with_name("baseline_page.py")

RATES_HZ = (80, 1000)
#: Seconds measured per variant and rate.
WINDOW_S = 60.0
#: Seconds between the first value on screen and the window: by then the curve holds its full
#: 30 s (the bridge started a few seconds before), so the window sees the steady state.
WARMUP_S = 30.0
#: How long, and how often, the bridge's live row is polled to estimate the clock offset.
OFFSET_POLL_S = 2.0
OFFSET_EVERY_S = 0.01
#: How often the CPU times are sampled (so processes that end in the window still count).
CPU_EVERY_S = 0.5

GOAL_UPDATES_PER_S = 20.0
GOAL_P95_MS = 250.0
GOAL_SERVER_CPU = 5.0

OURS = "PressureGuard (SSE + canvas)"
BASELINE = "plain Streamlit (fragment + line_chart)"
#: The element showing the newest sample time, per variant.
SELECTORS = {
    OURS: "[data-testid='pg-last-sample-t']",
    BASELINE: ".st-key-pg-baseline-t",
}

# Injected after load: counts changes of the newest-sample time shown by `selector`. Each change
# records the value, Date.now() (the DOM change) and Date.now() in the next animation frame (the
# frame that paints it). `mutations` counts every observer batch, changed value or not.
OBSERVER_JS = """
(selector) => {
  const target = document.querySelector(selector);
  const rec = { values: [], wall: [], frame: [], mutations: 0, last: null };
  const read = () => {
    const m = /(-?\\d+(?:\\.\\d+)?)\\s*$/.exec((target.textContent || "").trim());
    return m ? parseFloat(m[1]) : null;
  };
  rec.last = read();
  new MutationObserver(() => {
    const now = Date.now();
    rec.mutations += 1;
    const value = read();
    if (value === null || value === rec.last) return;
    rec.last = value;
    rec.values.push(value);
    rec.wall.push(now);
    const i = rec.frame.length;
    rec.frame.push(null);
    window.requestAnimationFrame(() => { rec.frame[i] = Date.now(); });
  }).observe(target, { childList: true, characterData: true, subtree: true });
  window.__pgBench = rec;
  window.__pgTarget = target;
}
"""

HAS_NUMBER_JS = """
(selector) => /\\d\\s*$/.test(
  (document.querySelector(selector)?.textContent || "").trim())
"""


# -- processes ----------------------------------------------------------------------------------


@dataclass
class Variant:
    """One running variant: its URL, data directory, and server and bridge processes."""

    name: str
    url: str
    data_dir: Path
    server: psutil.Process
    bridge: psutil.Process


def _wait_healthy(url: str, procs: list[subprocess.Popen[bytes]], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} never answered")


def _child(parent: psutil.Process, word: str) -> psutil.Process:
    """The launcher's child whose command line mentions ``word``."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for child in parent.children():
            with contextlib.suppress(psutil.Error):
                if any(word in part for part in child.cmdline()):
                    return child
        time.sleep(0.2)
    raise RuntimeError(f"no {word} process under the launcher {parent.pid}")


@contextlib.contextmanager
def run_ours(work: Path, source: str) -> Iterator[Variant]:
    """The real launcher: ``pressureguard run SOURCE --no-browser``."""
    app = launch(work, "run", source)
    try:
        launcher = psutil.Process(app.proc.pid)
        yield Variant(
            OURS,
            app.url,
            app.data_dir,
            _child(launcher, "streamlit"),
            _child(launcher, "bridge"),
        )
    finally:
        stop(app)


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextlib.contextmanager
def run_baseline(work: Path, source: str) -> Iterator[Variant]:
    """The bridge alone plus ``streamlit run benchmarks/baseline_page.py`` on the same store."""
    data = work / "data"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PRESSUREGUARD_HOME": str(data)}
    log = (work / "baseline.log").open("wb")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "firmware_bridge.cli", "bridge",
                 source, "--data-dir", str(data)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        )  # fmt: skip
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", str(BASELINE_PAGE),
                 "--server.address", "127.0.0.1", "--server.port", str(port),
                 "--server.headless", "true", "--server.fileWatcherType", "none",
                 "--browser.gatherUsageStats", "false"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        )  # fmt: skip
        _wait_healthy(url, procs)
        bridge, server = (psutil.Process(p.pid) for p in procs)
        yield Variant(BASELINE, url, data, server, bridge)
    finally:
        for proc in reversed(procs):
            _terminate(proc)
        log.close()


# -- measurements -------------------------------------------------------------------------------


@dataclass
class CpuMeter:
    """Sums ``user + system`` CPU seconds of groups of processes between :meth:`start` and now.

    A process seen for the first time after the start counts from zero (it was born in the
    window); one that ends counts up to its last sample.
    """

    groups: dict[str, Callable[[], list[psutil.Process]]]
    _base: dict[str, dict[int, float]] = field(default_factory=dict)
    _last: dict[str, dict[int, float]] = field(default_factory=dict)
    _t0: float = 0.0

    def _read(self, first: bool) -> None:
        for name, find in self.groups.items():
            base = self._base.setdefault(name, {})
            last = self._last.setdefault(name, {})
            for proc in find():
                try:
                    times = proc.cpu_times()
                except psutil.Error:
                    continue
                used = times.user + times.system
                base.setdefault(proc.pid, used if first else 0.0)
                last[proc.pid] = used

    def start(self) -> None:
        """Take the starting point."""
        self._base.clear()
        self._last.clear()
        self._t0 = time.monotonic()
        self._read(first=True)

    def sample(self) -> None:
        """Take an intermediate sample."""
        self._read(first=False)

    def percent(self) -> dict[str, float]:
        """CPU % of one core per group since :meth:`start`."""
        self._read(first=False)
        elapsed = time.monotonic() - self._t0
        return {
            name: 100.0
            * sum(used - self._base[name].get(pid, 0.0) for pid, used in last.items())
            / elapsed
            for name, last in self._last.items()
        }


def chromium_processes() -> list[psutil.Process]:
    """The Playwright-launched browser process and all its descendants (renderers, GPU …)."""
    found: list[psutil.Process] = []
    for proc in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            parent = proc.parent()
            if "chrom" in proc.name() and (parent is None or "chrom" not in parent.name()):
                found += [proc, *proc.children(recursive=True)]
    return found


def newest_chunk(data_dir: Path) -> int:
    """The id of the newest live chunk the bridge published (ids grow by one per flush)."""
    with Store.open(data_dir) as store:
        return store.live_since(0, seconds=5.0)[0]


def clock_offset(data_dir: Path) -> dict[str, float]:
    """Wall time minus session time, from the bridge's live row.

    Polls ``Store.get_live()`` every :data:`OFFSET_EVERY_S` for :data:`OFFSET_POLL_S`; each
    distinct row gives ``updated_at − state.t_s`` = offset + the delay from the newest sample to
    that flush. The minimum is the flush that followed a sample most closely.

    Returns:
        ``offset`` (s), ``spread_ms`` (median minus minimum of the delays: how late flushes
        usually are after their newest sample) and ``rows`` (distinct rows seen).
    """
    seen: dict[str, float] = {}
    with Store.open(data_dir) as store:
        end = time.monotonic() + OFFSET_POLL_S
        while time.monotonic() < end:
            live = store.get_live()
            t_s = ((live or {}).get("state") or {}).get("t_s")
            if live is not None and t_s is not None:
                seen[live["updated_at"]] = parse_iso(live["updated_at"]).timestamp() - float(t_s)
            time.sleep(OFFSET_EVERY_S)
    if not seen:
        raise RuntimeError("the bridge published no sample time")
    values = np.array(list(seen.values()))
    return {
        "offset": float(values.min()),
        "spread_ms": float((np.median(values) - values.min()) * 1000),
        "rows": len(values),
    }


def measure(variant: Variant, browser: Any) -> dict[str, Any]:
    """Open the page, wait for live values, then measure for :data:`WINDOW_S` seconds."""
    selector = SELECTORS[variant.name]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(variant.url)
        page.wait_for_function(HAS_NUMBER_JS, arg=selector, timeout=60_000)
        time.sleep(WARMUP_S)
        before = clock_offset(variant.data_dir)
        page.evaluate(OBSERVER_JS, selector)
        meter = CpuMeter(
            {
                "server": lambda: [variant.server],
                "bridge": lambda: [variant.bridge],
                "browser": chromium_processes,
            }
        )
        messages_js = (
            "Number(document.querySelector(\"[data-testid='pg-updates']\")?.textContent || 'NaN')"
        )
        t_start = page.evaluate("Date.now()")
        messages0 = page.evaluate(messages_js)
        meter.start()
        chunk0 = newest_chunk(variant.data_dir)
        end = time.monotonic() + WINDOW_S
        while (left := end - time.monotonic()) > 0:
            time.sleep(min(CPU_EVERY_S, left))
            meter.sample()
        cpu = meter.percent()
        chunk1 = newest_chunk(variant.data_dir)
        t_end = page.evaluate("Date.now()")
        messages1 = page.evaluate(messages_js)
        time.sleep(0.1)  # let the last animation frame stamp land
        rec = page.evaluate("window.__pgBench")
        target_connected = page.evaluate("window.__pgTarget.isConnected")
        after = clock_offset(variant.data_dir)
    finally:
        page.close()

    wall = np.array(rec["wall"], dtype=float)
    frame = np.array([np.nan if v is None else v for v in rec["frame"]], dtype=float)
    values = np.array(rec["values"], dtype=float)
    keep = (wall >= t_start) & (wall < t_end)
    seconds = (t_end - t_start) / 1000
    shown_at = (before["offset"] + values[keep]) * 1000
    latency = (wall[keep] - shown_at) / 1000
    latency_frame = (frame[keep] - shown_at) / 1000
    gaps = np.diff(wall[keep]) / 1000
    result: dict[str, Any] = {
        "variant": variant.name,
        "seconds": seconds,
        "changes": int(keep.sum()),
        "updates_per_s": float(keep.sum() / seconds),
        "latency": percentiles(latency) if latency.size else None,
        "latency_min_ms": float(latency.min() * 1000) if latency.size else None,
        "latency_next_frame": (
            percentiles(latency_frame[np.isfinite(latency_frame)]) if latency.size else None
        ),
        "gap": percentiles(gaps) if gaps.size else None,
        "cpu": cpu,
        "bridge_chunks_per_s": (chunk1 - chunk0) / seconds,
        "offset_before": before,
        "offset_drift_ms": (after["offset"] - before["offset"]) * 1000,
        "observer_batches": rec["mutations"],
        "observer_target_still_in_page": target_connected,
    }
    if np.isfinite(messages0) and np.isfinite(messages1):
        result["sse_messages_per_s"] = (messages1 - messages0) / seconds
    return result


def run() -> dict[str, Any]:
    """Every measurement of this benchmark (both variants at both rates, one after another)."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - a dev-only dependency

    results: dict[str, Any] = {"rates": {}}
    with sync_playwright() as pw:
        for rate in RATES_HZ:
            rows = []
            for starter in (run_ours, run_baseline):
                with (
                    tempfile.TemporaryDirectory(prefix="pg-dash-") as tmp,
                    starter(Path(tmp), f"sim://?seed=1&rate={rate}") as variant,
                ):
                    browser = pw.chromium.launch(
                        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
                    )
                    try:
                        print(f"  {variant.name} at {rate} Hz …", flush=True)
                        rows.append(measure(variant, browser))
                    finally:
                        browser.close()
            results["rates"][str(rate)] = rows
    return results


# -- report -------------------------------------------------------------------------------------


def _ms(r: dict[str, Any], key: str, which: str) -> str:
    return "–" if r.get(key) is None else f"{r[key][which]:.0f}"


def _goals(r: dict[str, Any]) -> str:
    lat = r.get("latency") or {}
    checks = [
        (f"{r['updates_per_s']:.1f} updates/s", r["updates_per_s"] >= GOAL_UPDATES_PER_S),
        (f"p95 {lat.get('p95', float('nan')):.0f} ms", lat.get("p95", 1e9) <= GOAL_P95_MS),
        (f"server {r['cpu']['server']:.1f} %", r["cpu"]["server"] <= GOAL_SERVER_CPU),
    ]
    return ", ".join(f"{text} {'✅' if ok else '❌'}" for text, ok in checks)


def markdown(results: dict[str, Any], machine: str) -> str:
    """The report section."""
    lines = [
        "## Live dashboard (issue 3)",
        "",
        f"Machine: {machine}. Command: `make bench` (`python -m benchmarks.run dashboard`).",
        "",
        f"Goals for the live view: ≥ {GOAL_UPDATES_PER_S:.0f} updates/s on screen, p95",
        f"sample-to-screen latency ≤ {GOAL_P95_MS:.0f} ms, server ≤ {GOAL_SERVER_CPU:.0f} % of",
        "one core.",
        "",
        f"Each variant runs alone: {WINDOW_S:.0f} s measured, after {WARMUP_S:.0f} s of warm-up",
        "from the first value on screen, so the curve already holds its full 30 s. Headless",
        "Debian Chromium with the e2e tests' flags, a fresh browser per variant, one tab at",
        "1280×900. The simulated tool (`sim://?seed=1&rate=R`, one frame every 25 ms) feeds",
        "both variants:",
        "",
        "- **PressureGuard**: the real launcher, `pressureguard run sim://… --no-browser`. The",
        "  live view is a components-v2 canvas fed by server-sent events from `/api/live`, one",
        "  message every 50 ms. Live data causes no Streamlit reruns.",
        "- **plain Streamlit**: the bridge alone, plus `benchmarks/baseline_page.py`. That page",
        "  is `@st.fragment(run_every=0.1)` with `st.metric` of the newest force and",
        "  `st.line_chart` of the last 30 s (`store.live_since(0, 30)`), on the same store.",
        "",
    ]
    for rate, rows in results["rates"].items():
        lines += [
            f"### {int(rate):,} Hz input",
            "",
            "| variant | updates/s | latency p50 ms | p95 ms | server CPU % | browser CPU % "
            "| bridge CPU % |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            cpu = r["cpu"]
            lines.append(
                f"| {r['variant']} | {r['updates_per_s']:.1f} | {_ms(r, 'latency', 'p50')} "
                f"| {_ms(r, 'latency', 'p95')} | {cpu['server']:.1f} | {cpu['browser']:.1f} "
                f"| {cpu['bridge']:.1f} |"
            )
        lines.append("")
        for r in rows:
            lines.append(f"- {r['variant']}: {_goals(r)}.")
        ours = next((r for r in rows if "sse_messages_per_s" in r), None)
        if ours is not None:
            lines.append(
                f"- The live view got {ours['sse_messages_per_s']:.1f} messages/s. The bridge "
                f"published {ours['bridge_chunks_per_s']:.1f} new live chunks/s, and the screen "
                "can change at most once per chunk."
            )
        lines.append("")
    drift = ", ".join(
        f"{r['offset_drift_ms']:+.0f}" for rows in results["rates"].values() for r in rows
    )
    lines += [
        "Method:",
        "",
        "- **updates/s**: a `MutationObserver`, injected after load, watches the element that",
        "  shows the newest drawn sample's session time. In the live view that is the hidden",
        "  `pg-last-sample-t`, set when a message's samples join the curve. In the baseline it is",
        "  a caption in a container keyed `pg-baseline-t`, drawn in the same fragment run as the",
        "  chart. The observer counts changes of that value in the window: what a user sees move,",
        "  not messages or reruns.",
        "- **latency**: first, the offset between the session clock and the wall clock is taken",
        "  from the bridge. `Store.get_live()` is polled every 10 ms for 2 s before the window,",
        "  and offset = min(`updated_at` − `state.t_s`): the flush that came closest after its",
        "  newest sample. At each change the page records `Date.now()`, and latency =",
        "  `Date.now()/1000 − (offset + t)`, where `t` is the newly shown newest sample.",
        "  Reported: p50 and p95 over the window.",
        "- **Error of the latency**:",
        "  - The minimum still holds the bridge's own delay from a sample to its flush (decode,",
        "    judge, commit), about 1–3 ms at best. Latencies therefore read low by that much.",
        "  - `updated_at` and `Date.now()` have 1 ms resolution.",
        "  - The DOM changes up to one frame (~17 ms) before the paint. The JSON output also gives",
        "    the latency at the next animation frame.",
        f"  - Measured again after the window, the offset had moved by {drift} ms.",
        "  - The figure is the age of the newest sample when it first appears. It is not the age",
        "    of what stays on screen between updates; the updates/s figure covers that.",
        "- **CPU**: psutil `user + system` seconds over the window, divided by the window's length",
        "  (100 % = one core). Sampled every 0.5 s, so processes that start or end in the window",
        "  still count.",
        "  - Server: the Streamlit process (the launcher's `streamlit` child).",
        "  - Bridge: the bridge process.",
        "  - Browser: the Playwright-launched Chromium and all its descendants.",
        "  - All of them share the machine's cores.",
    ]
    return "\n".join(lines)
