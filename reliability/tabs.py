"""Eight browser tabs on the live page for 30 minutes: ``python -m reliability.tabs --minutes 30``.

``pressureguard run`` serves the simulated tool at 1 kHz while a session records; Debian's Chromium
(driven by Playwright, as the browser tests do) keeps 8 tabs on the live page. Every minute the
resident memory of the bridge, the dashboard server and the browser is sampled, and each tab is
checked to be live (its value changes). The figures go to ``reliability/results/tabs.json`` and
the plot to ``docs/reliability-rss.png``.
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
from reliability.common import ROOT, RssSampler, rss_mib, save

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
    return rss_mib(browser_pid, tree=True) if browser_pid else None


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
                if "chrom" in proc.name() and "--type=" not in " ".join(proc.cmdline()):
                    browser_pid = proc.pid
            pages = []
            for _ in range(tabs):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(url)
                page.wait_for_function(f"/\\d/.test({VALUE})", timeout=60_000)
                pages.append(page)
            sampler = RssSampler(
                {
                    "bridge": lambda: _child(launcher.pid, "bridge"),
                    "dashboard": lambda: _child(launcher.pid, "streamlit"),
                },
                every_s=60.0,
            )
            sampler.start()
            end = time.monotonic() + minutes * 60
            while time.monotonic() < end:
                time.sleep(min(60.0, max(0.0, end - time.monotonic())))
                counts = [page.evaluate(UPDATES) for page in pages]
                pages[0].wait_for_timeout(2000)
                rates = [
                    (page.evaluate(UPDATES) - c) / 2.0
                    for page, c in zip(pages, counts, strict=True)
                ]
                checks.append(
                    {"t_min": round(len(checks) + 1, 1), "tabs_live": sum(r > 0 for r in rates),
                     "updates_per_s": rates, "browser_mib": _browser_rss(browser_pid)}
                )  # fmt: skip
            sampler.stop()
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
    series = sampler.samples
    for row, check in zip(series[1:], checks, strict=False):
        row["browser"] = check["browser_mib"]

    def ends(name: str) -> dict[str, float | None]:
        values = [r[name] for r in series if r.get(name) is not None]
        return {"start": values[0], "end": values[-1], "max": max(values)} if values else {}

    return {
        "command": f"python -m reliability.tabs --minutes {minutes:g} --tabs {tabs}",
        "minutes": minutes,
        "tabs": tabs,
        "source": SOURCE,
        "rss_mib": {name: ends(name) for name in ("bridge", "dashboard", "browser")},
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
    """RSS over time: the bridge and the dashboard server above, the browser (8 tabs) below."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    series = figures["series"]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), dpi=100, sharex=True)
    for ax, names in ((top, ("bridge", "dashboard")), (bottom, ("browser",))):
        for name in names:
            points = [(r["t_s"] / 60, r[name]) for r in series if r.get(name) is not None]
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", markersize=3, label=name)
        ax.set_ylabel("RSS (MiB)")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    top.set_title(
        f"{figures['tabs']} live tabs, a 1 kHz tool recording, {figures['minutes']:g} min"
    )
    bottom.set_xlabel("minutes")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--tabs", type=int, default=8)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        figures = run(args.minutes, args.tabs, Path(scratch))
    full = args.minutes >= 30 and args.tabs >= 8
    path = save("tabs" if full else f"tabs-{args.minutes:g}min", figures)
    png = (
        ROOT
        / "docs"
        / ("reliability-rss.png" if full else f"reliability-rss-{args.minutes:g}min.png")
    )
    plot(figures, png)
    print(f"RSS {figures['rss_mib']}; tabs live {figures['tabs_live_each_minute']}; {path}, {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
