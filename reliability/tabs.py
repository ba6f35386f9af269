"""Eight browser tabs on the live page for 30 minutes: ``python -m reliability.tabs --minutes 30``.

``pressureguard run`` serves the simulated tool at 1 kHz while a session records; Debian's Chromium
(driven by Playwright, as the browser tests do) keeps 8 tabs on the live page. Every minute the
resident memory of the bridge, the dashboard server and the browser is sampled, and each tab is
checked to be live (its own update counter moves). The figures go to
``reliability/results/tabs.json`` and the plot to ``docs/reliability-rss.png``.

The browser is measured twice over, because summed RSS counts every page shared between Chromium's
processes (its binary, fonts, shared memory) once per process:

- over its processes, grouped by type (browser, renderer, gpu-process, utility, zygote, other):
  the sums of RSS (as before), USS (memory only that process holds) and PSS (shared pages split
  between their sharers), from ``psutil.Process.memory_full_info()``;
- in each tab, what the page itself holds, through a CDP session per page
  (``Performance.getMetrics``): JS heap used and total, DOM nodes, JS event listeners, documents,
  frames; then the JS heap used, the nodes and the listeners again after a forced garbage
  collection (``HeapProfiler.collectGarbage``), the figures a leak shows in (before it they
  wander with the garbage not yet collected), and the live view's own curve buffer length.

Playwright enables DevTools' Network domain on every page it drives, and with it Chromium keeps a
copy of the ``/api/live`` stream's data in each renderer: the renderers' memory grows by about
2 MiB a minute a tab here while the pages' own JS heap, nodes and listeners stay flat. Tabs opened
without any DevTools session (``--remote-debugging-port`` and ``/json/new``) stay flat: that
growth is the measurement's, not the page's.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil

from firmware_bridge.store import Store
from reliability.common import ROOT, rss_mib, save

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
        "--disable-backgrounding-occluded-windows"]  # fmt: skip
SOURCE = "sim://?seed=9&rate=1000&pattern=massage"
VALUE = "document.querySelector('[data-testid=pg-value]')?.textContent || ''"
#: The live view's own count of the updates it drew.
UPDATES = "Number(document.querySelector('[data-testid=pg-updates]')?.textContent || 0)"


def _free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _child(launcher: int, word: str) -> int | None:
    try:
        for child in psutil.Process(launcher).children():
            if child.status() != psutil.STATUS_ZOMBIE and word in " ".join(child.cmdline()):
                return child.pid
    except psutil.Error:
        return None
    return None


def _browser_rss(browser_pid: int | None) -> float | None:
    rss = rss_mib(browser_pid, tree=True) if browser_pid else None
    return None if rss is None else round(rss, 1)


#: What the live view itself holds: its curve buffer (samples kept, and where the shown 30 s
#: start) and the text cache; null when the view is not on the page.
VIEW_STATE = """(() => {
  const v = document.querySelector('.pg-live')?.__pgView;
  return v ? {points: v.t.length, start: v.start, shown: v.shown.size,
              views: document.querySelectorAll('.pg-live').length} : null;
})()"""
#: ``Performance.getMetrics`` names recorded per tab, and their names in the figures.
METRICS = {
    "JSHeapUsedSize": "heap_used_mib",
    "JSHeapTotalSize": "heap_total_mib",
    "Nodes": "nodes",
    "JSEventListeners": "listeners",
    "Documents": "documents",
    "Frames": "frames",
}
MIB = 2**20


def _kind(proc: psutil.Process) -> str:
    """A Chromium process's type: browser (no --type), renderer, gpu-process, utility, zygote."""
    args = proc.cmdline()
    for arg in args:
        if arg.startswith("--type="):
            return arg.split("=", 1)[1]
    return "browser" if "chrom" in proc.name() and "crashpad" not in proc.name() else "other"


def browser_memory(browser_pid: int | None) -> dict[str, Any] | None:
    """The browser's memory (MiB) over its process tree: sums of RSS, USS and PSS, by type.

    Returns:
        ``{"rss", "uss", "pss", "processes", "by_type": {type: {"n", "rss", "uss", "pss"}},
        "renderers": [{"pid", "rss", "uss", "pss"}, ...]}``, or None when the browser is gone.
    """
    if not browser_pid:
        return None
    try:
        root = psutil.Process(browser_pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    total = {"rss": 0.0, "uss": 0.0, "pss": 0.0}
    by_type: dict[str, dict[str, float]] = {}
    renderers = []
    for proc in procs:
        try:
            kind = _kind(proc)
            info = proc.memory_full_info()
        except psutil.Error:
            continue  # a helper that just ended
        row = {"rss": info.rss / MIB, "uss": info.uss / MIB, "pss": info.pss / MIB}
        group = by_type.setdefault(kind, {"n": 0, "rss": 0.0, "uss": 0.0, "pss": 0.0})
        group["n"] += 1
        for name, value in row.items():
            total[name] += value
            group[name] += value
        if kind == "renderer":
            renderers.append({"pid": proc.pid, **{k: round(v, 1) for k, v in row.items()}})
    rounded = {k: round(v, 1) for k, v in total.items()}
    return {
        **rounded,
        "processes": sum(int(g["n"]) for g in by_type.values()),
        "by_type": {
            kind: {k: (int(v) if k == "n" else round(v, 1)) for k, v in group.items()}
            for kind, group in sorted(by_type.items())
        },
        "renderers": sorted(renderers, key=lambda r: r["pid"]),
    }


def _line(row: dict[str, Any]) -> str:
    """One row in a line, printed as the run goes."""
    mem = row["browser_mem"] or {}
    renderer = mem.get("by_type", {}).get("renderer", {})
    pages = row["pages"]
    return (
        f"{row['t_s'] / 60:5.1f} min  bridge {row['bridge']}  dashboard {row['dashboard']}  "
        f"browser RSS {mem.get('rss')} USS {mem.get('uss')} PSS {mem.get('pss')} "
        f"(renderers USS {renderer.get('uss')})  heap after GC "
        f"{[p['heap_used_after_gc_mib'] for p in pages]}  nodes after GC "
        f"{[p['nodes_after_gc'] for p in pages]}  "
        f"listeners {[p['listeners'] for p in pages]}"
    )


def page_memory(page: Any, cdp: Any) -> dict[str, Any]:
    """What one tab's page holds: ``Performance.getMetrics`` (heap in MiB), the JS heap used
    after a forced garbage collection, and the live view's curve buffer."""
    got = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    row: dict[str, Any] = {}
    for metric, name in METRICS.items():
        value = got.get(metric)
        row[name] = None if value is None else (
            round(value / MIB, 2) if name.endswith("_mib") else int(value)
        )  # fmt: skip
    cdp.send("HeapProfiler.collectGarbage")
    after = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    used = after.get("JSHeapUsedSize")
    row["heap_used_after_gc_mib"] = None if used is None else round(used / MIB, 2)
    for metric, name in (("Nodes", "nodes_after_gc"), ("JSEventListeners", "listeners_after_gc")):
        row[name] = None if after.get(metric) is None else int(after[metric])
    row["view"] = page.evaluate(VIEW_STATE)
    return row


def run(minutes: float, tabs: int, work: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    data = work / "data"
    log = (work / "launcher.log").open("w")
    launcher = subprocess.Popen(
        [sys.executable, "-m", "firmware_bridge.cli", "run", SOURCE, "--no-browser", "--port",
         str(port), "--data-dir", str(data), "--limit", "20N"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    checks: list[dict[str, Any]] = []
    series: list[dict[str, Any]] = []
    try:
        deadline = time.monotonic() + 120
        while not _healthy(url):
            if time.monotonic() > deadline or launcher.poll() is not None:
                raise SystemExit(
                    f"the dashboard never answered: {(work / 'launcher.log').read_text()}"
                )
            time.sleep(0.5)
        with Store.open(data) as store:
            command = store.post_command("start_session", {"profile": "default"})
            while not (store.get_command(command)["result"] or {}).get("ok"):
                time.sleep(0.2)
            session = store.get_command(command)["result"]["session_id"]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            browser_pid = None
            for proc in psutil.Process().children(recursive=True):
                if "chrom" in proc.name() and _kind(proc) == "browser":
                    browser_pid = proc.pid
            pages = []
            for _ in range(tabs):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(url)
                page.wait_for_function(f"/\\d/.test({VALUE})", timeout=60_000)
                pages.append(page)
            cdps = []
            for page in pages:
                cdp = page.context.new_cdp_session(page)
                cdp.send("Performance.enable")
                cdp.send("HeapProfiler.enable")
                cdps.append(cdp)
            t0 = time.monotonic()
            minute = 0
            while True:
                # one row a minute, on the minute from t0 (the measuring itself takes seconds)
                row: dict[str, Any] = {"t_s": round(time.monotonic() - t0, 1)}
                for name, word in (("bridge", "bridge"), ("dashboard", "streamlit")):
                    pid = _child(launcher.pid, word)
                    rss = rss_mib(pid) if pid else None
                    row[name] = None if rss is None else round(rss, 1)
                row["browser"] = _browser_rss(browser_pid)
                row["browser_mem"] = browser_memory(browser_pid)
                row["pages"] = [page_memory(p, c) for p, c in zip(pages, cdps, strict=True)]
                if minute > 0:
                    counts = [page.evaluate(UPDATES) for page in pages]
                    pages[0].wait_for_timeout(2000)
                    rates = [
                        (page.evaluate(UPDATES) - c) / 2.0
                        for page, c in zip(pages, counts, strict=True)
                    ]
                    checks.append(
                        {"t_min": minute, "tabs_live": sum(r > 0 for r in rates),
                         "updates_per_s": rates}
                    )  # fmt: skip
                series.append(row)
                print(_line(row), flush=True)
                minute += 1
                if minute > minutes:
                    break
                time.sleep(max(0.0, t0 + minute * 60.0 - time.monotonic()))
            browser.close()
        with Store.open(data) as store:
            command = store.post_command("stop_session", {})
            while store.get_command(command)["done_at"] is None:
                time.sleep(0.2)
            summary = store.session_summary(session)
    finally:
        os.killpg(launcher.pid, signal.SIGINT)
        try:
            launcher.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(launcher.pid, signal.SIGKILL)
        log.close()

    def ends(values: list[Any]) -> dict[str, Any]:
        values = [v for v in values if v is not None]
        return {"start": values[0], "end": values[-1], "max": max(values)} if values else {}

    mem = [r["browser_mem"] or {} for r in series]
    kinds = sorted({k for m in mem for k in m.get("by_type", {})})
    per_tab = [
        {name: ends([r["pages"][i][name] for r in series])
         for name in ("heap_used_mib", "heap_used_after_gc_mib", "heap_total_mib", "nodes",
                      "nodes_after_gc", "listeners", "listeners_after_gc", "documents", "frames")}
        for i in range(tabs)
    ]  # fmt: skip
    page_totals = {
        name: ends([round(sum(p[name] or 0 for p in r["pages"]), 2) for r in series])
        for name in ("heap_used_after_gc_mib", "nodes", "nodes_after_gc", "listeners")
    }

    return {
        "command": f"python -m reliability.tabs --minutes {minutes:g} --tabs {tabs}",
        "minutes": minutes,
        "tabs": tabs,
        "source": SOURCE,
        "rss_mib": {
            name: ends([r.get(name) for r in series]) for name in ("bridge", "dashboard", "browser")
        },
        "browser_mib": {
            measure: {
                "all": ends([m.get(measure) for m in mem]),
                **{
                    kind: ends([m.get("by_type", {}).get(kind, {}).get(measure) for m in mem])
                    for kind in kinds
                },
            }
            for measure in ("rss", "uss", "pss")
        },
        "page_per_tab": per_tab,
        "page_all_tabs": page_totals,
        "tabs_live_each_minute": [c["tabs_live"] for c in checks],
        "updates_per_s_min": min((min(c["updates_per_s"]) for c in checks), default=None),
        "updates_per_s_mean": round(
            sum(sum(c["updates_per_s"]) for c in checks) / max(1, tabs * len(checks)), 1
        ),
        "session_samples": summary["n_samples"],
        "session_gaps": summary["gaps"],
        "session_s": summary["duration_s"],
        "series": series,
    }


def plot(figures: dict[str, Any], out: Path) -> None:
    """Memory over time: the bridge and the dashboard server (RSS); the browser's processes summed
    as RSS, PSS and USS; each tab's JS heap and DOM nodes after a garbage collection."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    series = figures["series"]
    fig, axes = plt.subplots(4, 1, figsize=(8, 11), dpi=100, sharex=True)

    def line(ax: Any, points: list[tuple[float, Any]], **style: Any) -> None:
        points = [(x, y) for x, y in points if y is not None]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", markersize=3, **style)

    for name in ("bridge", "dashboard"):
        line(axes[0], [(r["t_s"] / 60, r.get(name)) for r in series], label=f"{name} RSS")
    axes[0].set_ylabel("MiB")
    mem = [(r["t_s"] / 60, r.get("browser_mem") or {}) for r in series]
    for measure in ("rss", "pss", "uss"):
        line(axes[1], [(t, m.get(measure)) for t, m in mem], label=f"all: {measure.upper()} sum")
    line(
        axes[1],
        [(t, m.get("by_type", {}).get("renderer", {}).get("uss")) for t, m in mem],
        label="renderers: USS sum",
        linestyle="--",
    )
    axes[1].set_ylabel("browser (MiB)")
    for i in range(figures["tabs"]):
        line(axes[2], [(r["t_s"] / 60, r["pages"][i]["heap_used_after_gc_mib"]) for r in series])
        line(axes[3], [(r["t_s"] / 60, r["pages"][i].get("nodes_after_gc")) for r in series])
    axes[2].set_ylabel("JS heap after GC\n(MiB, each tab)")
    axes[3].set_ylabel("DOM nodes after GC\n(each tab)")
    for ax in axes:
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    for ax in axes[:2]:
        ax.legend(loc="lower right", fontsize=8)
    axes[0].set_title(
        f"{figures['tabs']} live tabs, a 1 kHz tool recording, {figures['minutes']:g} min"
    )
    axes[-1].set_xlabel("minutes")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--tabs", type=int, default=8)
    parser.add_argument("--png", type=Path, help="the plot (default: docs/reliability-rss*.png)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        figures = run(args.minutes, args.tabs, Path(scratch))
    full = args.minutes >= 30 and args.tabs >= 8
    path = save("tabs" if full else f"tabs-{args.minutes:g}min", figures)
    png = args.png or (
        ROOT
        / "docs"
        / ("reliability-rss.png" if full else f"reliability-rss-{args.minutes:g}min.png")
    )
    plot(figures, png)
    print(f"RSS {figures['rss_mib']}; browser {figures['browser_mib']}")
    print(f"pages, all tabs {figures['page_all_tabs']}")
    print(f"tabs live {figures['tabs_live_each_minute']}; {path}, {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
