"""Issue 5's review benchmark: a 2-hour session recorded at 1 kHz, opened in real Chromium.

A store gets a realistic 2-hour session (7.2 million samples at 1 kHz, written through the store
API in 50 ms chunks as the bridge writes them, then ended, which compacts the chunks) and a
10-minute one (600,000 samples). Measured, in headless Chromium (Debian's, the e2e tests' flags):

- **PressureGuard's session chart** (:mod:`dashboard.components.session_chart`): time from
  navigation to the first whole-session curve painted (the chart sets
  ``window.__pgChartReady = performance.now()``), on the test page ``tests/e2e/chart_page.py``
  served with the real ``/api/curve`` route; on the History page of the real launcher too (the
  figure users get), with the time the rest of that tab (the session's numbers) appears;
- **the plain page a Streamlit user would write** (:mod:`benchmarks.review_baseline_page`):
  ``store.load_samples`` and ``st.plotly_chart(px.line(...))`` of every sample; time to the
  Plotly chart drawn, or "did not finish" after :data:`TIMEOUT_S`;
- **zooming**: one "+" click from the whole session, and mouse-wheel zooming down to about a
  second (every sample drawn), from the last input to the new curve painted;
- **the route**: ``GET /api/curve`` for the whole session and for 10 s windows, over HTTP;
- **the list**: ``store.list_sessions(limit=1000)`` with 1,000 sessions, and the History page's
  sessions table in Chromium (real launcher), whatever that page draws it with.

Run: ``python -m benchmarks.run review``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from firmware_bridge.store import Store
from firmware_bridge.zones import JudgedSamples, SessionEvent
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, free_port, launch, stop

ROOT = Path(__file__).resolve().parent.parent
CHART_APP = ROOT / "tests" / "e2e" / "chart_app.py"
BASELINE_PAGE = Path(__file__).resolve().with_name("review_baseline_page.py")
HISTORY_VIEW = ROOT / "dashboard" / "views" / "history.py"

#: The session: 2 hours at 1 kHz (7.2 million samples).
DURATION_S = 7200.0
RATE_HZ = 1000.0
#: Samples per append, as the bridge flushes them (50 ms at 1 kHz); a commit every second.
CHUNK_S = 0.05
COMMIT_EVERY = 20
#: The comfort limit: raised once, an hour in (a stepped limit line).
LIMITS = ((0.0, 12.0), (3600.0, 13.0))
#: The lost signal: no samples in this span (s); the session spans this much longer.
GAP_S = (4000.0, 4010.0)
#: The zones' lower edges (× the limit); a zone is left only this far below its edge.
ZONE_EDGES = (0.8, 1.0, 1.2)
HYSTERESIS = 0.05
ZONE_NAMES = {-1: "uncalibrated", 0: "relaxed", 1: "target", 2: "over", 3: "danger"}


@dataclass
class RecordedSession:
    """A session's samples and events, as a bridge would have judged them."""

    t: np.ndarray
    force: np.ndarray
    filtered: np.ndarray
    zone: np.ndarray
    events: list[SessionEvent] = field(default_factory=list)
    spikes: list[float] = field(default_factory=list)

    @property
    def raw(self) -> np.ndarray:
        """ADC counts (4000 counts per newton)."""
        return np.round(self.force * 4000.0)


def _limit_at(t: np.ndarray) -> np.ndarray:
    times = np.array([s for s, _ in LIMITS])
    values = np.array([v for _, v in LIMITS])
    return values[np.searchsorted(times, t, side="right") - 1]


def judge(ratio: np.ndarray) -> np.ndarray:
    """Zones of force/limit ratios with hysteresis, as the bridge judges them: a higher zone is
    entered at its edge and left only below the edge less :data:`HYSTERESIS`."""
    up = np.searchsorted(ZONE_EDGES, ratio, side="right")
    down = np.searchsorted(np.subtract(ZONE_EDGES, HYSTERESIS), ratio, side="right")
    bounds = np.flatnonzero((np.diff(up) != 0) | (np.diff(down) != 0)) + 1
    zone = np.empty(len(ratio), dtype=np.int8)
    current = int(up[0])
    for start, end in zip([0, *bounds.tolist()], [*bounds.tolist(), len(ratio)], strict=True):
        current = min(max(current, int(up[start])), int(down[start]))  # both constant in the run
        zone[start:end] = current
    return zone


def recorded_session_arrays(
    duration_s: float = DURATION_S, rate_hz: float = RATE_HZ, seed: int = 5
) -> RecordedSession:
    """A realistic self-massage session: presses with ramps and holds, rests, a few pushes past
    the limit, single-sample spikes in the unfiltered force, a lost-signal gap, button presses.

    Args:
        duration_s: session length (s).
        rate_hz: sample rate.
        seed: the random generator's seed (the same session every run).
    """
    rng = np.random.default_rng(seed)
    gap = GAP_S[1] < duration_s  # only a long session loses its signal for a while
    span_s = duration_s + (GAP_S[1] - GAP_S[0]) * gap  # the samples fill duration_s
    n = round(span_s * rate_hz)
    t = np.arange(n) / rate_hz
    # The pressure the hand aims at: knots of a piecewise-linear curve, press after press.
    knots_t, knots_f = [0.0], [0.2]
    events: list[SessionEvent] = []
    now = 0.0
    while now < span_s:
        rest, rise = rng.uniform(4, 15), rng.uniform(1.2, 4.0)
        hold, fall = rng.uniform(8, 40), rng.uniform(1.0, 2.5)
        peak = rng.uniform(12.5, 16.5) if rng.random() < 0.12 else rng.uniform(5.0, 11.0)
        top = now + rest + rise
        knots_t += [now + rest, top, top + hold, top + hold + fall]
        knots_f += [0.2, peak, peak * rng.uniform(0.9, 1.05), 0.2]
        if peak / rise > 4.0:
            events.append(
                SessionEvent(now + rest + rise / 2, "ramp", {"rate_n_per_s": peak / rise})
            )
        if hold > 30.0:
            events.append(
                SessionEvent(top + 30.0, "hold", {"reason": "hold_limit", "held_s": 30.0})
            )
        now = top + hold + fall
    force = np.interp(t, knots_t, knots_f)
    force += 0.25 * np.sin(2 * np.pi * 0.4 * t) * (force > 1.0)  # the hand's wobble on a hold
    force += rng.normal(0.0, 0.08, n)
    # The filter: a 20 ms moving average (spikes below are rejected by it, as the bridge's is).
    kernel = np.ones(20) / 20
    filtered = np.convolve(force, kernel, mode="same")
    spikes = np.sort(rng.choice(n, 5, replace=False))
    force[spikes] += rng.uniform(12.0, 20.0, len(spikes))
    zone = judge(filtered / _limit_at(t))
    if gap:
        keep = (t < GAP_S[0]) | (t >= GAP_S[1])
        t, force, filtered, zone = t[keep], force[keep], filtered[keep], zone[keep]
    changes = np.flatnonzero(np.diff(zone)) + 1
    for i in changes.tolist():
        detail = {"from": ZONE_NAMES[int(zone[i - 1])], "to": ZONE_NAMES[int(zone[i])]}
        events.append(SessionEvent(float(t[i]), "zone", detail | {"force_n": float(filtered[i])}))
    events += [
        SessionEvent(s, "limit", {"limit_n": v, "basis": "benchmark"})
        for s, v in LIMITS
        if s < span_s
    ]
    if gap:
        events.append(SessionEvent(GAP_S[0], "gap", {"start_s": GAP_S[0], "end_s": GAP_S[1]}))
    for when in rng.uniform(0, span_s, 6).tolist():
        events.append(SessionEvent(when, "button", {"pressed": True}))
    events.sort(key=lambda e: e.t_s)
    return RecordedSession(t, force, filtered, zone, events, t[spikes[spikes < len(t)]].tolist())


def record_session(store: Store, session: RecordedSession, **begin: object) -> int:
    """Write a session through the store's API the way the bridge does: 50 ms chunks, a commit
    every second, events, then ``end_session`` (which compacts the chunks in the background).

    Returns:
        The session id.
    """
    args = {"source": "sim://", "profile": "bench", "region": "upper-trapezius:left"}
    sid = store.begin_session(**(args | begin), limit_n=LIMITS[0][1])  # type: ignore[arg-type]
    store.update_session(sid, rate_hz=RATE_HZ)
    raw = session.raw
    step = max(1, round(CHUNK_S * RATE_HZ))
    for k, start in enumerate(range(0, len(session.t), step)):
        part = slice(start, start + step)
        store.append_samples(
            sid,
            JudgedSamples(
                session.t[part], raw[part], session.force[part], session.filtered[part],
                session.zone[part],
            ),
        )  # fmt: skip
        if k % COMMIT_EVERY == COMMIT_EVERY - 1:
            store.commit()
    store.add_events(sid, session.events)
    over = float(np.count_nonzero(session.zone >= 2)) / RATE_HZ
    store.set_counters(sid, {"time_over_limit_s": over, "gaps": 1})
    store.commit()
    store.end_session(sid)
    return sid


# -- measurements ---------------------------------------------------------------------------------

#: The longest wait for a page to draw its curve (s); beyond it: "did not finish".
TIMEOUT_S = 120.0
GOAL_MS = 2000.0
#: Fresh page loads of PressureGuard's chart per session.
RUNS = 5
#: Requests per route figure.
REQUESTS = 10
#: Sessions in the list figure.
LIST_SESSIONS = 1000
VIEWPORT = {"width": 1280, "height": 900}

# Sets window.__pgBaselineReady when Plotly has drawn its first trace (WebGL or SVG), one
# animation frame later (the frame that shows it).
PLOTLY_READY_JS = """
(() => {
  const tick = () => {
    const gd = document.querySelector(".js-plotly-plot");
    const drawn = gd && gd._fullData && gd._fullData.length &&
      gd.querySelector("canvas.gl-canvas-context, .scatterlayer .trace");
    if (drawn) {
      requestAnimationFrame(() => { window.__pgBaselineReady = performance.now(); });
      return;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""

# Sets window.__pgRestAt when the session tab's numbers (its first metric card) first appear.
REST_READY_JS = """
(() => {
  const seen = () => {
    if (window.__pgRestAt === undefined && document.querySelector("[data-testid=stMetric]")) {
      window.__pgRestAt = performance.now();
    }
  };
  new MutationObserver(seen).observe(document, { childList: true, subtree: true });
})();
"""

# Sets window.__pgListAt when a sessions table (a dataframe or table) first appears.
LIST_READY_JS = """
(() => {
  const sel = "[data-testid=stDataFrame], [data-testid=stTable], [data-testid=pg-sessions]";
  const seen = () => {
    if (window.__pgListAt === undefined && document.querySelector(sel)) {
      window.__pgListAt = performance.now();
    }
  };
  new MutationObserver(seen).observe(document, { childList: true, subtree: true });
})();
"""

CHART_STATE_JS = """
() => {
  const root = document.querySelector("[data-testid=pg-session-chart]");
  const points = root.querySelector("[data-testid=pg-chart-points]");
  return {
    window: root.querySelector("[data-testid=pg-chart-window]").textContent,
    status: root.querySelector("[data-testid=pg-chart-status]").textContent,
    points: Number(points.textContent.replace(/,/g, "")),
    samples: Number(points.dataset.samples),
    decimated: points.dataset.decimated === "true",
    painted_at: Number(root.dataset.paintedAt),
    fetch_ms: Number(root.dataset.fetchMs),
    // the first /api/curve request: when the mounted chart sent it, how long it took
    curve: performance.getEntriesByType("resource")
      .filter((e) => e.name.includes("/api/curve"))
      .slice(0, 1)
      .map((e) => ({
        sent: e.startTime,
        took: e.responseEnd - e.startTime,
        server: e.serverTiming.length ? e.serverTiming[0].duration : null,
      }))[0] || null,
  };
}
"""

PAINTED_AFTER_JS = """
(t) => {
  const root = document.querySelector("[data-testid=pg-session-chart]");
  return Number(root.dataset.paintedAt) > t &&
    root.querySelector("[data-testid=pg-chart-status]").textContent === "ready";
}
"""


def _ms_stats(values: list[float]) -> dict[str, float]:
    return {"p50": statistics.median(values), "max": max(values), "n": len(values)}


@contextlib.contextmanager
def serve(script: Path, data_dir: Path, log: Path) -> Iterator[str]:
    """``streamlit run SCRIPT`` on a free port with PRESSUREGUARD_HOME=data_dir; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PRESSUREGUARD_HOME": str(data_dir)}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script),
             "--server.address", "127.0.0.1", "--server.port", str(port),
             "--server.headless", "true", "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{script.name} exited: {log.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{script.name} never answered") from None
                time.sleep(0.3)
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def chart_load(browser: Any, url: str) -> dict[str, Any]:
    """One fresh visit: ms from navigation to the first whole-session curve painted."""
    page = browser.new_page(viewport=VIEWPORT)
    try:
        page.goto(url)
        page.wait_for_function("window.__pgChartReady !== undefined", timeout=TIMEOUT_S * 1000)
        return {"ms": float(page.evaluate("window.__pgChartReady"))} | page.evaluate(CHART_STATE_JS)
    finally:
        page.close()


def zooms(browser: Any, url: str) -> dict[str, Any]:
    """From the whole session: one "+" click, then wheel zooming down to about a second, then
    "Whole session"; ms from the last input to the new curve painted (the 120 ms debounce
    included)."""
    page = browser.new_page(viewport=VIEWPORT)
    out: dict[str, Any] = {}
    try:
        page.goto(url)
        page.wait_for_function("window.__pgChartReady !== undefined", timeout=TIMEOUT_S * 1000)
        out["plus"] = _click_and_time(page, "pg-chart-zoom-in")
        page.evaluate(
            "() => document.querySelector('[data-testid=pg-chart]').addEventListener("
            "'wheel', () => { window.__pgLastWheel = performance.now(); }, true)"
        )
        box = page.get_by_test_id("pg-chart").bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
        for _ in range(80):  # a notch zooms by about exp(-0.2): 2 hours → 1 s in ~45
            page.mouse.wheel(0, -100)
            shown = page.get_by_test_id("pg-chart-window").inner_text()
            start, end = (_seconds(part) for part in shown.split("–"))
            if end - start <= 1.0:
                break
        last = page.evaluate("window.__pgLastWheel")
        page.wait_for_function(PAINTED_AFTER_JS, arg=last, timeout=30_000)
        state = page.evaluate(CHART_STATE_JS)
        out["wheel_to_1s"] = state | {"ms": state["painted_at"] - last}
        out["reset"] = _click_and_time(page, "pg-chart-reset")
    finally:
        page.close()
    return out


def _seconds(clock: str) -> float:
    """``0:58:52.548`` → seconds."""
    total = 0.0
    for part in clock.split(":"):
        total = total * 60 + float(part)
    return total


def _click_and_time(page: Any, testid: str) -> dict[str, Any]:
    """Click a chart button; the chart's state and ms from the click to the new paint."""
    clicked = page.evaluate(
        "(id) => { const t = performance.now();"
        " document.querySelector(`[data-testid=${id}]`).click(); return t; }",
        testid,
    )
    page.wait_for_function(PAINTED_AFTER_JS, arg=clicked, timeout=30_000)
    state = page.evaluate(CHART_STATE_JS)
    return dict(state) | {"ms": state["painted_at"] - clicked}


def baseline_load(pw: Any, url: str) -> dict[str, Any]:
    """One visit of the plain Plotly page in a browser of its own: ms to the chart drawn, or
    did-not-finish after :data:`TIMEOUT_S`.

    A page still drawing millions of points keeps its renderer busy for minutes and would not
    close: the browser's processes (started here, found among ours by pid) are then killed.
    """
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    result: dict[str, Any] = {"ms": None, "finished": False}
    started = time.monotonic()
    try:
        page = browser.new_page(viewport=VIEWPORT)
        page.add_init_script(PLOTLY_READY_JS)
        page.goto(url)
        page.wait_for_function(
            "window.__pgBaselineReady !== undefined", timeout=TIMEOUT_S * 1000, polling=500
        )
        result = {"ms": float(page.evaluate("window.__pgBaselineReady")), "finished": True}
    except Exception as exc:  # Playwright's TimeoutError, or the page crashed under the load
        result["waited_s"] = round(time.monotonic() - started, 1)
        result["why"] = type(exc).__name__
        for proc in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if proc.pid not in before and "chrom" in proc.name():
                    proc.kill()
    finally:
        with contextlib.suppress(Exception):
            browser.close()
    return result


def route_times(url: str, session_id: int, span_s: float) -> dict[str, Any]:
    """``GET /api/curve`` over HTTP: the whole session, 10 s windows and 1 s windows."""
    rng = np.random.default_rng(1)

    def get(query: str) -> tuple[float, float, int]:
        started = time.perf_counter()
        with urllib.request.urlopen(f"{url}/api/curve?session={session_id}&{query}") as r:
            body = r.read()
            timing = r.headers.get("Server-Timing", "")
        wall = (time.perf_counter() - started) * 1000
        server = float(timing.split("dur=")[1]) if "dur=" in timing else float("nan")
        return wall, server, len(body)

    out: dict[str, Any] = {}
    for name, width in (("whole", None), ("10 s", 10.0), ("1 s", 1.0)):
        walls, servers, sizes = [], [], []
        for _ in range(REQUESTS):
            query = "points=2400"
            if width is not None:
                t0 = float(rng.uniform(0, span_s - width))
                query += f"&t0={t0:.4f}&t1={t0 + width:.4f}"
            wall, server, size = get(query)
            walls.append(wall)
            servers.append(server)
            sizes.append(size)
        out[name] = {
            "wall": _ms_stats(walls),
            "server": _ms_stats(servers),
            "kb": statistics.median(sizes) / 1024,
        }
    return out


def baseline_server_side(store: Store, session_id: int) -> dict[str, Any]:
    """What the plain page's script does before the browser gets anything, timed in-process:
    load the samples, build the figure, serialise it (as ``st.plotly_chart`` does)."""
    import pandas as pd  # noqa: PLC0415 - heavy, only here
    import plotly.express as px  # noqa: PLC0415 - a dev-only dependency
    import plotly.io as pio  # noqa: PLC0415

    started = time.perf_counter()
    samples = store.load_samples(session_id)
    loaded = time.perf_counter()
    frame = pd.DataFrame({"t_s": samples.t_s, "force_n": samples.filtered_n})
    figure = px.line(frame, x="t_s", y="force_n")
    built = time.perf_counter()
    size = len(pio.to_json(figure, validate=False))
    done = time.perf_counter()
    return {
        "load_s": loaded - started,
        "figure_s": built - loaded,
        "json_s": done - built,
        "json_mb": size / 1e6,
        "trace": str(figure.data[0].type),
    }


def write_many(store: Store, count: int) -> None:
    """``count`` short sessions (30 s at 80 Hz, a few events), one every 8 hours back from now."""
    rng = np.random.default_rng(3)
    now = datetime.now(UTC)
    regions = ("upper-trapezius:left", "upper-trapezius:right", "calf:left", "forearm")
    for k in range(count):
        t = np.arange(2400) / 80.0
        force = np.clip(6 + 4 * np.sin(t / 3) + rng.normal(0, 0.2, len(t)), 0, None)
        zone = np.searchsorted(ZONE_EDGES, force / 12.0, side="right").astype(np.int8)
        sid = store.begin_session(
            source="sim://",
            profile=("ann", "ben")[k % 2],
            region=regions[k % len(regions)],
            limit_n=12.0,
            started_at=now - timedelta(hours=8 * (count - k)),
        )
        store.append_samples(sid, JudgedSamples(t, np.round(force * 4000), force, force, zone))
        store.add_events(sid, [SessionEvent(5.0, "button", {"pressed": True})])
        store.set_counters(sid, {"time_over_limit_s": float(np.count_nonzero(zone >= 2)) / 80})
        store.update_session(sid, pain_before=float(k % 7), pain_after=float(k % 5))
        store.end_session(sid)


def list_figures(browser: Any, work: Path) -> dict[str, Any]:
    """The sessions list with :data:`LIST_SESSIONS` sessions: the store call, and the History
    page of the real launcher in Chromium (to its sessions table shown)."""
    data = work / "data"
    with Store.open(data) as store:
        write_many(store, LIST_SESSIONS)
        store.wait_for_compaction()
        times = []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            listed = store.list_sessions(limit=LIST_SESSIONS)
            times.append((time.perf_counter() - started) * 1000)
    out: dict[str, Any] = {"store_ms": _ms_stats(times), "listed": len(listed)}
    app = launch(work, "dashboard")
    try:
        visits = []
        for _ in range(3):
            page = browser.new_page(viewport=VIEWPORT)
            page.add_init_script(LIST_READY_JS)
            try:
                page.goto(f"{app.url}/history")
                page.wait_for_function("window.__pgListAt !== undefined", timeout=60_000)
                visits.append(float(page.evaluate("window.__pgListAt")))
                if page.get_by_test_id("stException").count():
                    out["page_error"] = "the History page raised an exception"
            except Exception as exc:  # the page is being rewritten: report, don't fail
                out["page_error"] = f"no sessions table appeared ({type(exc).__name__})"
                break
            finally:
                page.close()
        if visits:
            out["page_ms"] = _ms_stats(visits)
    finally:
        stop(app)
    return out


def _history_visit(browser: Any, url: str) -> dict[str, Any]:
    """One fresh visit: ms to the curve painted (``ms``), and to the tab's numbers shown."""
    page = browser.new_page(viewport=VIEWPORT)
    page.add_init_script(REST_READY_JS)
    try:
        page.goto(url)
        page.wait_for_function("window.__pgChartReady !== undefined", timeout=60_000)
        out = {"ms": float(page.evaluate("window.__pgChartReady"))} | page.evaluate(CHART_STATE_JS)
        page.wait_for_function("window.__pgRestAt !== undefined", timeout=60_000)
        return out | {"rest_ms": float(page.evaluate("window.__pgRestAt"))}
    finally:
        page.close()


def history_chart(browser: Any, work: Path, session_id: int) -> dict[str, Any] | None:
    """The History page of the real launcher on the review store (``work/data``), when it
    mounts the chart: ms from navigating to ``/history?session=ID`` (the page's link to one
    session) to the chart's first whole-session paint. None when the page has no chart yet.

    Two launches: the first page load after the server started ("cold"); then, as a user's
    browser does (the launcher opens the Live page), the Live page first and then three visits
    of the session (the first of them imports the History page's modules). Each visit is a
    fresh browser context: nothing is cached in the browser, and its first chart in a browser
    session has the tab to itself until the curve is drawn.
    """
    sources = [HISTORY_VIEW, *HISTORY_VIEW.parent.parent.glob("history_*.py")]
    if not any("session_chart" in path.read_text("utf-8") for path in sources):
        return None
    out: dict[str, Any] = {"visits": []}
    try:
        app = launch(work, "dashboard")
        try:
            out["cold"] = _history_visit(browser, f"{app.url}/history?session={session_id}")
        finally:
            stop(app)
        app = launch(work, "dashboard")
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(app.url)
            page.get_by_test_id("pg-value").wait_for(timeout=60_000)
            page.close()
            for _ in range(3):
                out["visits"].append(
                    _history_visit(browser, f"{app.url}/history?session={session_id}")
                )
        finally:
            stop(app)
    except Exception as exc:  # the page is being rewritten: report, don't fail
        out["error"] = type(exc).__name__
    return out


def run() -> dict[str, Any]:
    """Write the sessions, then measure both pages, the zoom, the route and the list."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - a dev-only dependency

    results: dict[str, Any] = {"timeout_s": TIMEOUT_S, "goal_ms": GOAL_MS}
    with tempfile.TemporaryDirectory(prefix="pg-review-") as tmp:
        work = Path(tmp)
        data = work / "review" / "data"  # where launch(work / "review") looks
        sessions: dict[str, int] = {}
        with Store.open(data) as store:
            for name, seconds in (("10 min", 600.0), ("2 h", DURATION_S)):
                print(f"  recording the {name} session …", flush=True)
                recorded = recorded_session_arrays(seconds, RATE_HZ)
                started = time.perf_counter()
                sessions[name] = record_session(store, recorded)
                results.setdefault("write_s", {})[name] = time.perf_counter() - started
                results.setdefault("samples", {})[name] = len(recorded.t)
            started = time.perf_counter()
            store.wait_for_compaction()
            results["compaction_s"] = time.perf_counter() - started
            print("  the plain page's work, in-process …", flush=True)
            results["baseline_server"] = baseline_server_side(store, sessions["2 h"])
        results["sessions"] = sessions
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                         headless=True)  # fmt: skip
            try:
                with serve(CHART_APP, data, work / "chart.log") as url:
                    for name, sid in sessions.items():
                        print(f"  PressureGuard chart, {name} …", flush=True)
                        results.setdefault("ours", {})[name] = [
                            chart_load(browser, f"{url}/?session={sid}") for _ in range(RUNS)
                        ]
                    print("  zooming …", flush=True)
                    results["zoom"] = zooms(browser, f"{url}/?session={sessions['2 h']}")
                    results["route"] = route_times(url, sessions["2 h"], DURATION_S)
                print("  the History page …", flush=True)
                results["history_chart"] = history_chart(browser, work / "review", sessions["2 h"])
                results["list"] = list_figures(browser, work / "list")
            finally:
                browser.close()
            # The plain page last, each size in a browser of its own.
            for name, sid in sessions.items():
                with serve(BASELINE_PAGE, data, work / "baseline.log") as url:
                    print(f"  plain Plotly page, {name} …", flush=True)
                    results.setdefault("baseline", {})[name] = baseline_load(
                        pw, f"{url}/?session={sid}"
                    )
    return results


# -- report -------------------------------------------------------------------------------------


def _median_visit(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(rows, key=lambda r: r["ms"])[len(rows) // 2]


def _history_loads(hist: dict[str, Any] | None) -> list[float]:
    """ms to the curve painted, every History page visit (the first load after start too)."""
    if not hist:
        return []
    return [v["ms"] for v in ([hist["cold"]] if hist.get("cold") else []) + hist["visits"]]


def _loads(rows: list[dict[str, Any]]) -> str:
    ms = [r["ms"] for r in rows]
    return f"{ms[0]:,.0f} | {statistics.median(ms[1:] or ms):,.0f} | {max(ms):,.0f}"


def markdown(results: dict[str, Any], machine: str) -> str:
    """The report section."""
    s = results["samples"]
    b = results["baseline_server"]
    lines = [
        "## Session review: a 2-hour session in the browser (issue 5)",
        "",
        machine,
        "",
        f"A store holds a 2-hour session recorded at 1 kHz ({s['2 h']:,} samples; presses, "
        "holds, pushes past a limit that steps up an hour in, single-sample spikes, a 10 s gap) "
        f"and a 10-minute one ({s['10 min']:,} samples), written through the store API in 50 ms "
        "chunks as the bridge writes them and ended (which compacts the chunks and keeps the "
        f"session's review stats: {results['compaction_s']:.1f} s in the background). Headless "
        "Chromium (Debian's) "
        "opens each session afresh. Run: `python -m benchmarks.run review`.",
        "",
        "- **PressureGuard**: the session chart (`dashboard/components/session_chart.py`, a",
        "  components-v2 canvas) fetches `/api/curve` (min/max per bucket, about two points per",
        "  pixel) itself. Time from navigation to the first whole-session curve painted",
        "  (`window.__pgChartReady`), on a page holding just the chart (`tests/e2e/chart_page.py`,",
        "  served with the real route), Streamlit's page load included.",
        "- **plain Plotly**: what a Streamlit user would write first",
        "  (`benchmarks/review_baseline_page.py`): `store.load_samples(id)` into a DataFrame and",
        '  `st.plotly_chart(px.line(df, x="t_s", y="force_n"))` of every sample (Plotly',
        f"  Express picks `{b['trace']}` for this many points). Time to Plotly's trace drawn, or",
        f"  *did not finish* after {results['timeout_s']:.0f} s.",
        "",
        "| session | page | first visit ms | median of the next ms | max ms |",
        "|---|---|---:|---:|---:|",
    ]
    for name, rows in results["ours"].items():
        lines.append(f"| {name} | PressureGuard chart | {_loads(rows)} |")
    hist = results.get("history_chart") or {}
    if hist.get("cold"):
        lines.append(
            f"| 2 h | *History page*, first load after the server started | "
            f"{hist['cold']['ms']:,.0f} | – | – |"
        )
    if hist.get("visits"):
        lines.append(f"| 2 h | *History page*, after the Live page | {_loads(hist['visits'])} |")
    for name, r in results["baseline"].items():
        cell = (
            f"{r['ms']:,.0f} | – | {r['ms']:,.0f}"
            if r["finished"]
            else f"did not finish in {results['timeout_s']:.0f} s (gave up after "
            f"{r['waited_s']:.0f} s) | – | –"
        )
        lines.append(f"| {name} | plain Plotly | {cell} |")
    worst = max(r["ms"] for rows in results["ours"].values() for r in rows)
    history = _history_loads(results.get("history_chart"))
    goal = results["goal_ms"]
    within = sum(ms <= goal for ms in history)
    verdict = "met" if history and within == len(history) and worst <= goal else "NOT met"
    where = (
        f"on the History page, where users open sessions ({within} of {len(history)} visits "
        f"within {goal / 1000:.0f} s, worst {max(history):,.0f} ms), and "
        if history
        else "(the History page not measured) "
    )
    ours = results["ours"]["2 h"][0]
    lines += [
        "",
        f"Goal: the curve on screen in ≤ {goal / 1000:.0f} s: **{verdict}** {where}by the "
        f"session chart on its own page (worst {worst:,.0f} ms). "
        f"The whole 2-hour curve is {ours['points']:,} points "
        f"({ours['samples']:,} samples), window `{ours['window']}`. The plain page's script "
        f"alone spends {b['load_s']:.1f} s loading the samples, {b['figure_s']:.1f} s building "
        f"the figure and {b['json_s']:.1f} s serialising it ({b['json_mb']:.0f} MB sent to the "
        "browser) before Plotly starts drawing.",
        "",
    ]
    hist = results.get("history_chart")
    if hist is None:
        lines.append("The History page does not mount the session chart yet: not measured there.")
    elif not hist["visits"]:
        lines.append(f"History page (real launcher): the chart never drew ({hist.get('error')}).")
    else:
        lines += [
            "*History page*: the same 2-hour session opened in the real launcher (`pressureguard "
            f"dashboard`) at `/history?session={results['sessions']['2 h']}`, the page's link to "
            "one session: the first load after the server started; then, on a second launch, "
            "the Live page first (where the launcher opens the browser) and three visits. The "
            "chart comes first; the rest of that tab (the session's numbers, read from the stats "
            "kept when the session ended, the pain ratings and note, the files) follows once the "
            "curve is drawn (*numbers shown*). Within 2 s there: "
            f"{within} of {len(history)} visits.",
            "",
            "Where the time goes (the chart's first `/api/curve` request, from the browser's "
            "resource timing):",
            "",
            "| visit | chart mounted, request sent ms | request ms | of it server ms "
            "| curve painted ms | numbers shown ms |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        rows = [("chart page, 2 h, median visit", _median_visit(results["ours"]["2 h"]))]
        if hist.get("cold"):
            rows.append(("History page, first load after start", hist["cold"]))
        rows += [(f"History page, visit {k + 1}", v) for k, v in enumerate(hist["visits"])]
        for label, v in rows:
            c = v.get("curve") or {}
            server = c.get("server")
            rest = v.get("rest_ms")
            lines.append(
                f"| {label} | {c.get('sent', float('nan')):,.0f} "
                f"| {c.get('took', float('nan')):,.0f} "
                f"| {'–' if server is None else f'{server:,.0f}'} | {v['ms']:,.0f} "
                f"| {'–' if rest is None else f'{rest:,.0f}'} |"
            )
        lines += [
            "",
            "The chart's own part (request, drawing) is the same on both pages; what differs is "
            "when the page mounts it, after the page's own work: its script (the sessions list, "
            "the filters; its modules imported on the first visit) and, in the browser, the code "
            "of the filters, the tabs and the session picker above the chart.",
        ]
    z = results["zoom"]
    lines += [
        "",
        "Zooming the 2-hour session (from the last input to the new curve painted, the chart's "
        "120 ms debounce included):",
        "",
        "| action | ms | window | points drawn | samples in window |",
        "|---|---:|---|---:|---:|",
    ]
    words = {
        "plus": "“+” from the whole session",
        "wheel_to_1s": "mouse wheel, notch by notch, down to ≤ 1 s",
        "reset": "“Whole session”",
    }
    for key, label in words.items():
        r = z[key]
        every = "" if r["decimated"] else " (every sample)"
        lines.append(
            f"| {label} | {r['ms']:,.0f} | `{r['window']}` | {r['points']:,}{every} "
            f"| {r['samples']:,} |"
        )
    lines += [
        "",
        "`GET /api/curve` on the 2-hour session over HTTP, 2,400 points asked "
        f"({REQUESTS} requests each; server = the route's `Server-Timing`):",
        "",
        "| window | wall ms p50 / max | server ms p50 / max | JSON KB |",
        "|---|---:|---:|---:|",
    ]
    for name, r in results["route"].items():
        lines.append(
            f"| {name} | {r['wall']['p50']:.0f} / {r['wall']['max']:.0f} "
            f"| {r['server']['p50']:.0f} / {r['server']['max']:.0f} | {r['kb']:.0f} |"
        )
    li = results["list"]
    page = (
        f"{li['page_ms']['p50']:,.0f} ms median, {li['page_ms']['max']:,.0f} ms max over "
        f"{li['page_ms']['n']} visits from navigation to its sessions table shown"
        if "page_ms" in li
        else "not measured"
    )
    if "page_error" in li:
        page += f" ({li['page_error']})"
    lines += [
        "",
        f"The list with {LIST_SESSIONS:,} sessions: `store.list_sessions(limit={LIST_SESSIONS})` "
        f"takes {li['store_ms']['p50']:.0f} ms (median, max {li['store_ms']['max']:.0f} ms, "
        f"{li['listed']:,} listed); the History page of the real launcher: {page}.",
        "",
    ]
    return "\n".join(lines)
