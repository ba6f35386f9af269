// PressureGuard session chart (Streamlit components v2): one recorded session's curve, zoomable
// from the whole session down to a fraction of a second. Every zoom or move asks /api/curve for
// the visible window at about two points per pixel (min/max per bucket, so peaks survive; every
// sample once the window holds few enough), the previous request aborted. Zooming never reruns
// Streamlit; when the page asks (`data.report`), the chart tells it once, as the state value
// `drawn`, that its first curve is drawn (or why not). (Joined after live_chart.js: `BAND`,
// `BANDS`, `bandWords`, `chartStyle` and `niceStep` come from there.)

const INK = "#111418";
const MUTED = "#4a5059";
const RAW = "#aab1ba";
const COMPARE = "#1f6fd1";
const ZONE_INK = { 2: "#b86e00", 3: "#c8102e", "-1": "#8a9099", "-2": "#8a9099" };
// Over and danger are drawn thicker as well as in their colour (the legend shows the same).
const ZONE_WEIGHT = { 2: 1.6, 3: 2.3 };
const RANK = { no_signal: -2, uncalibrated: -1, relaxed: 0, target: 1, over: 2, danger: 3 };
// Each marker has its own shape as well as its colour (and its words in the tooltip).
const MARKS = {
  over: { colour: "#b86e00", words: "Over the limit", shape: "triangle" },
  danger: { colour: "#c8102e", words: "Far over the limit (danger)", shape: "diamond" },
  ramp: { colour: "#6f3db8", words: "Ramp warning: pressing too fast", shape: "chevron" },
  hold: { colour: "#1f6fd1", words: "Hold prompt: release this spot", shape: "square" },
  button: { colour: "#2d7a3e", words: "Button pressed", shape: "circle" },
  gap: { colour: "#6b717a", words: "Signal lost", shape: "bar" },
};

/** One event marker's outline, centred on px, in the strip from `top` to `top + 10`. */
function markPath(g, shape, px, top) {
  const mid = top + 5;
  g.beginPath();
  if (shape === "diamond") {
    g.moveTo(px, top - 1);
    g.lineTo(px + 6, mid);
    g.lineTo(px, top + 11);
    g.lineTo(px - 6, mid);
  } else if (shape === "square") {
    g.rect(px - 4.5, top + 0.5, 9, 9);
  } else if (shape === "circle") {
    g.arc(px, mid, 5, 0, 2 * Math.PI);
  } else if (shape === "bar") {
    g.rect(px - 2, top - 1, 4, 12);
  } else if (shape === "chevron") {
    g.moveTo(px, top);
    g.lineTo(px + 6, top + 10);
    g.lineTo(px, top + 6);
    g.lineTo(px - 6, top + 10);
  } else {
    g.moveTo(px - 5, top);
    g.lineTo(px + 5, top);
    g.lineTo(px, top + 10);
  }
  g.closePath();
}
const PAD = { left: 56, right: 14, top: 24, bottom: 28 };
const MIN_SPAN_S = 0.1;
const DEBOUNCE_MS = 120;
const TIME_STEPS = [
  0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600,
  900, 1800, 3600, 7200, 14400,
];

/** Session seconds as h:mm:ss (or m:ss) with `digits` decimals. */
function clock(t, digits, hours) {
  const sign = t < 0 ? "−" : "";
  const scale = 10 ** digits;
  const total = Math.round(Math.abs(t) * scale) / scale;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = (total % 60).toFixed(digits).padStart(digits ? digits + 3 : 2, "0");
  return hours || h ? `${sign}${h}:${String(m).padStart(2, "0")}:${s}` : `${sign}${m}:${s}`;
}
const digitsFor = (step) => Math.max(0, Math.min(3, Math.ceil(-Math.log10(step) - 1e-9)));
// A force in the page's unit (withUnit: live_chart.js), with `extra` more digits.
const shown = (v, r, extra = 0) => withUnit(v, { ...r, decimals: r.decimals + extra });
const count = (n) => n.toLocaleString("en-US");
const round4 = (t) => Math.round(t * 1e4) / 1e4;

/** First index with ts[i] >= v (ts sorted). */
function lowerBound(ts, v) {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ts[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The marker an event gets, or null (only rises into over/danger count as entries). */
function markOf(e) {
  if (e.kind === "zone") {
    const to = RANK[e.detail?.to];
    if (to >= 2 && to > (RANK[e.detail?.from] ?? -3)) return e.detail.to;
    return null;
  }
  return MARKS[e.kind] ? e.kind : null;
}

function markWords(e, kind, hours, r) {
  const d = e.detail || {};
  let text = `${MARKS[kind].words} · ${clock(e.t_s, 1, hours)}`;
  if (Number.isFinite(d.force_n)) text += ` · ${shown(d.force_n, r)}`;
  if (kind === "ramp" && Number.isFinite(d.rate_n_per_s)) {
    text += ` · ${numberIn(d.rate_n_per_s, r)} ${r.unit}/s`;
  }
  if (kind === "hold" && Number.isFinite(d.held_s)) text += ` · held ${d.held_s.toFixed(0)} s`;
  if (kind === "gap" && Number.isFinite(d.start_s) && Number.isFinite(d.end_s)) {
    text += ` · ${(d.end_s - d.start_s).toFixed(1)} s without samples`;
  }
  return text;
}

function hatch(g) {
  const tile = document.createElement("canvas");
  tile.width = 8;
  tile.height = 8;
  const t = tile.getContext("2d");
  t.fillStyle = "#eef0f3";
  t.fillRect(0, 0, 8, 8);
  t.strokeStyle = "#c3c8cf";
  t.beginPath();
  t.moveTo(0, 8);
  t.lineTo(8, 0);
  t.stroke();
  return g.createPattern(tile, "repeat");
}

class SessionChart {
  constructor(root) {
    this.root = root;
    this.el = (id) => root.querySelector(`[data-testid="${id}"]`);
    this.canvas = this.el("pg-chart");
    this.tip = this.el("pg-chart-tip");
    this.config = {
      url: "/api/curve",
      session: null,
      compare: null,
      height: 380,
      readout: NEWTONS,
    };
    this.pointers = new Map();
    this.dirty = true;
    this.bind();
    this.resize = new ResizeObserver(() => this.onResize());
    this.resize.observe(this.canvas);
    this.frame = window.requestAnimationFrame(() => this.draw());
  }

  configure(data) {
    const next = { ...this.config, ...(data || {}) };
    next.readout = next.readout || NEWTONS;
    const changed = next.session !== this.config.session || next.compare !== this.config.compare;
    this.config = next;
    this.dirty = true; // the unit may have changed
    this.canvas.style.height = `${next.height}px`;
    if (changed || !this.main) this.open();
  }

  // -- loading -------------------------------------------------------------------------------

  open() {
    this.main = { whole: null, detail: null, shift: 0 };
    this.cmp = this.config.compare ? { whole: null, detail: null, shift: 0 } : null;
    this.extent = null;
    this.view = null;
    this.ready = false;
    const key = this.root.querySelector(".pg-sc-key-compare");
    key.hidden = !this.cmp;
    key.textContent = this.cmp ? `session #${this.config.compare}` : "";
    this.load(true);
  }

  /** The point budget: two per pixel of plot width. */
  points() {
    return Math.round(Math.max(100, this.canvas.clientWidth - PAD.left - PAD.right) * 2);
  }

  schedule() {
    this.setStatus("loading");
    // a request still on its way is for a window no longer shown: its answer must not be drawn
    // and reported "ready" while the one for the new window waits
    if (this.abort) this.abort.abort();
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.load(false), DEBOUNCE_MS);
  }

  async fetchCurve(session, from, to, signal) {
    // A whole session is asked at the server's usual budget (or more on a wide chart): the
    // server keeps that curve, and may have it ready before the chart asks.
    const whole = from === null && to === null;
    const points = whole ? Math.max(this.config.whole_points || 0, this.points()) : this.points();
    const q = new URLSearchParams({ session: String(session), points: String(points) });
    if (from !== null) q.set("t0", from.toFixed(4));
    if (to !== null) q.set("t1", to.toFixed(4));
    const response = await fetch(`${this.config.url}?${q}`, { signal, cache: "no-store" });
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (!response.ok || !body || body.error) {
      throw new Error(body?.error || `the server answered ${response.status}`);
    }
    return body;
  }

  /** Fetch the visible window (the whole session when `whole`), replacing any request pending. */
  async load(whole) {
    window.clearTimeout(this.timer);
    if (this.abort) this.abort.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.setStatus("loading");
    const [a, b] = whole || !this.view ? [null, null] : this.view;
    const { session } = this.config;
    const started = performance.now();
    try {
      const jobs = [this.fetchCurve(session, a, b, abort.signal)];
      if (this.cmp) {
        const c = this.cmp;
        const [p, q] = a === null || !c.whole ? [null, null] : [a - c.shift, b - c.shift];
        jobs.push(this.fetchCurve(this.config.compare, p, q, abort.signal));
      }
      const [main, other] = await Promise.all(jobs);
      if (abort.signal.aborted) return;
      this.take(this.main, main, a === null);
      if (this.cmp) this.take(this.cmp, other, a === null || !this.cmp.whole);
      if (a === null) this.setExtent();
      this.fetchMs = performance.now() - started;
      this.dirty = true;
      this.pending = true; // draw() reports the paint
    } catch (err) {
      if (abort.signal.aborted) return;
      this.setStatus(`Cannot load the curve: ${err.message}`, "error");
      this.reportDrawn();
    }
  }

  take(side, curve, whole) {
    if (whole) side.whole = curve;
    side.detail = curve;
  }

  setExtent() {
    const w = this.main.whole;
    if (w.t_from === null) {
      this.extent = null;
      return;
    }
    let lo = w.t_from;
    let hi = w.t_to;
    const c = this.cmp?.whole;
    if (c && c.t_from !== null) {
      this.cmp.shift = lo - c.t_from; // the compare session aligned at its own start
      hi = Math.max(hi, c.t_to + this.cmp.shift);
    }
    if (hi - lo < MIN_SPAN_S) hi = lo + MIN_SPAN_S;
    this.extent = [lo, hi];
    this.view = [lo, hi];
  }

  // -- zoom and move ---------------------------------------------------------------------------

  setView(a, b) {
    if (!this.extent) return;
    const [lo, hi] = this.extent;
    let span = Math.min(Math.max(b - a, MIN_SPAN_S), hi - lo);
    if (!Number.isFinite(span) || span <= 0) span = hi - lo;
    let start = Math.min(Math.max(a, lo), hi - span);
    if (!Number.isFinite(start)) start = lo;
    // to 0.1 ms, as the request sends it: the fetched window is then exactly the one shown
    const next = [round4(start), round4(start + span)];
    if (this.view && next[0] === this.view[0] && next[1] === this.view[1]) return;
    this.view = next;
    this.dirty = true;
    this.showWindow();
    this.schedule();
  }

  zoom(factor, centre) {
    if (!this.view) return;
    const [a, b] = this.view;
    const c = centre ?? (a + b) / 2;
    this.setView(c - (c - a) * factor, c + (b - c) * factor);
  }

  pan(fraction) {
    if (!this.view) return;
    const [a, b] = this.view;
    const d = (b - a) * fraction;
    this.setView(a + d, b + d);
  }

  reset() {
    if (!this.extent) return this.load(true);
    this.view = [...this.extent];
    this.dirty = true;
    this.showWindow();
    return this.load(true);
  }

  timeAt(px) {
    const [a, b] = this.view;
    const w = Math.max(1, this.canvas.clientWidth - PAD.left - PAD.right);
    return a + ((px - PAD.left) / w) * (b - a);
  }

  bind() {
    const on = (id, fn) => this.el(id).addEventListener("click", fn);
    on("pg-chart-zoom-in", () => this.zoom(0.5));
    on("pg-chart-zoom-out", () => this.zoom(2));
    on("pg-chart-earlier", () => this.pan(-0.25));
    on("pg-chart-later", () => this.pan(0.25));
    on("pg-chart-reset", () => this.reset());
    const c = this.canvas;
    c.addEventListener("dblclick", () => this.reset());
    c.addEventListener(
      "wheel",
      (e) => {
        if (!this.view) return;
        e.preventDefault();
        const lines = e.deltaMode === 1 ? 33 : e.deltaMode === 2 ? 400 : 1;
        const dy = Math.max(-600, Math.min(600, e.deltaY * lines));
        this.zoom(Math.exp(dy * 0.002), this.timeAt(e.offsetX));
      },
      { passive: false },
    );
    c.addEventListener("keydown", (e) => {
      const keys = {
        "+": () => this.zoom(0.5),
        "=": () => this.zoom(0.5),
        "-": () => this.zoom(2),
        ArrowLeft: () => this.pan(-0.25),
        ArrowRight: () => this.pan(0.25),
        0: () => this.reset(),
        Home: () => this.reset(),
      };
      if (!keys[e.key]) return;
      e.preventDefault();
      keys[e.key]();
    });
    c.addEventListener("pointerdown", (e) => this.onDown(e));
    c.addEventListener("pointermove", (e) => this.onMove(e));
    c.addEventListener("pointerup", (e) => this.onUp(e));
    c.addEventListener("pointercancel", (e) => this.onUp(e));
    c.addEventListener("pointerleave", () => {
      this.hover = null;
      this.dirty = true;
    });
  }

  onDown(e) {
    if (!this.view || e.button !== 0) return;
    this.canvas.setPointerCapture(e.pointerId);
    this.pointers.set(e.pointerId, e.offsetX);
    if (this.pointers.size === 1) {
      this.drag = { x: e.offsetX, view: [...this.view], select: e.shiftKey, to: e.offsetX };
      this.canvas.classList.add("pg-sc-dragging");
    } else if (this.pointers.size === 2) {
      const [x1, x2] = [...this.pointers.values()];
      this.drag = { pinch: Math.abs(x2 - x1) || 1, centre: this.timeAt((x1 + x2) / 2) };
      this.drag.view = [...this.view];
    }
  }

  onMove(e) {
    if (!this.drag || !this.pointers.has(e.pointerId)) {
      this.hover = { x: e.offsetX, y: e.offsetY };
      this.dirty = true;
      return;
    }
    this.pointers.set(e.pointerId, e.offsetX);
    const d = this.drag;
    const [a, b] = d.view;
    if (d.pinch && this.pointers.size === 2) {
      const [x1, x2] = [...this.pointers.values()];
      const f = d.pinch / (Math.abs(x2 - x1) || 1);
      this.setView(d.centre - (d.centre - a) * f, d.centre + (b - d.centre) * f);
    } else if (d.select) {
      d.to = e.offsetX;
      this.dirty = true;
    } else if (!d.pinch && (d.moved || Math.abs(e.offsetX - d.x) > 2)) {
      d.moved = true;
      const w = Math.max(1, this.canvas.clientWidth - PAD.left - PAD.right);
      const dt = ((e.offsetX - d.x) / w) * (b - a);
      this.setView(a - dt, b - dt);
    }
  }

  onUp(e) {
    this.pointers.delete(e.pointerId);
    const d = this.drag;
    if (d?.select && Math.abs(d.to - d.x) > 4) {
      const [t1, t2] = [this.timeAt(d.x), this.timeAt(d.to)].sort((p, q) => p - q);
      this.setView(t1, t2);
    }
    if (this.pointers.size === 0) {
      this.drag = null;
      this.canvas.classList.remove("pg-sc-dragging");
      this.dirty = true;
    }
  }

  onResize() {
    this.dirty = true;
    const budget = this.points();
    if (this.budget && this.view && Math.abs(budget - this.budget) > 0.25 * this.budget) {
      this.schedule();
    }
    this.budget = budget;
  }

  // -- text ------------------------------------------------------------------------------------

  hours() {
    return Boolean(this.extent && this.extent[1] >= 3600);
  }

  showWindow() {
    const el = this.el("pg-chart-window");
    if (!this.view) {
      el.textContent = "—";
      return;
    }
    const [a, b] = this.view;
    const span = b - a;
    const digits = span >= 60 ? 0 : span >= 6 ? 1 : span >= 0.6 ? 2 : 3;
    el.textContent = `${clock(a, digits, this.hours())}–${clock(b, digits, this.hours())}`;
  }

  setStatus(text, state = text) {
    const el = this.el("pg-chart-status");
    el.textContent = text;
    el.dataset.state = state;
  }

  // -- drawing ---------------------------------------------------------------------------------

  /** The curve to draw for `side` in [a, b]: the detail where it covers, the whole elsewhere. */
  pieces(side, a, b) {
    const { whole, detail } = side;
    const s = side.shift;
    if (!detail || detail.t_from === null) return whole ? [[whole, a, b]] : [];
    const lo = detail.t_from + s;
    const hi = detail.t_to + s;
    if (!whole || whole === detail || (lo <= a && hi >= b)) return [[detail, a, b]];
    const out = [];
    if (a < lo) out.push([whole, a, Math.min(lo, b)]);
    out.push([detail, Math.max(lo, a), Math.min(hi, b)]);
    if (b > hi) out.push([whole, Math.max(hi, a), b]);
    return out.filter(([, p, q]) => q > p);
  }

  draw() {
    this.frame = window.requestAnimationFrame(() => this.draw());
    if (!this.dirty) return;
    this.dirty = false;
    const canvas = this.canvas;
    const prepared = prepareCanvas(canvas);
    if (!prepared) return;
    const { g, width, height } = prepared;
    const style = chartStyle(canvas);
    g.font = style.px === 13 ? "12px sans-serif" : style.font;
    this.pattern = this.pattern || hatch(g);
    const whole = this.main?.whole;
    if (!whole) return;
    if (whole.t_from === null || !this.view) {
      g.fillStyle = MUTED;
      g.textAlign = "center";
      g.fillText("No samples were recorded in this session.", width / 2, height / 2);
      this.finish(0, 0);
      return;
    }
    const [a, b] = this.view;
    const plotW = Math.max(10, width - PAD.left - PAD.right);
    const plotH = Math.max(10, height - PAD.top - PAD.bottom);
    const x = (t) => PAD.left + ((t - a) / (b - a)) * plotW;
    const mainPieces = this.pieces(this.main, a, b);
    const cmpPieces = this.cmp ? this.pieces(this.cmp, a, b) : [];
    const steps = whole.limit_steps.length
      ? whole.limit_steps
      : whole.limit_n
        ? [[a, whole.limit_n]]
        : [];
    // vertical scale: the limit's danger band and every value in view
    let top = 0;
    let bottom = 0;
    for (const [, v] of steps) top = Math.max(top, v * 1.3);
    const extend = (pieces, keys, shift) => {
      for (const [curve, p, q] of pieces) {
        const end = lowerBound(curve.t, q - shift + 1e-9);
        for (let i = lowerBound(curve.t, p - shift); i < end; i += 1) {
          for (const k of keys) {
            const v = curve[k][i];
            if (v === null) continue;
            if (v > top) top = v;
            if (v < bottom) bottom = v;
          }
        }
      }
    };
    extend(mainPieces, ["filtered_n", "force_n"], 0);
    extend(cmpPieces, ["filtered_n"], this.cmp?.shift || 0);
    top = top > 0 ? top * 1.05 : 10;
    bottom = bottom < -0.5 ? bottom * 1.05 : 0;
    const y = (f) => PAD.top + plotH - ((f - bottom) / (top - bottom)) * plotH;

    this.drawBands(g, steps, a, b, x, y, plotW);
    this.drawAxes(g, a, b, x, y, top, bottom, plotW, plotH);
    g.save();
    g.beginPath();
    g.rect(PAD.left, PAD.top, plotW, plotH);
    g.clip();
    this.drawGaps(g, [whole, this.main.detail], a, b, x, plotH);
    this.drawLimit(g, steps, a, b, x, y);
    g.lineJoin = "round";
    g.lineCap = "round";
    for (const piece of mainPieces) this.trace(g, piece, "force_n", x, y, 0, () => RAW, 1);
    for (const piece of cmpPieces) {
      this.trace(g, piece, "filtered_n", x, y, this.cmp.shift, () => COMPARE, 1.75);
    }
    let shown = 0;
    for (const piece of mainPieces) {
      const colourOf = (z) => ZONE_INK[z] || INK;
      const weightOf = (z) => ZONE_WEIGHT[z] || 1;
      shown += this.trace(g, piece, "filtered_n", x, y, 0, colourOf, 2.25, weightOf);
    }
    this.drawSelection(g, plotH);
    g.restore();
    const marks = this.drawMarks(g, a, b, x);
    this.drawHover(g, marks, mainPieces, x, y, plotH);
    this.finish(shown);
  }

  /** Report a finished paint: points shown, status, the first-paint marker for benchmarks. */
  finish(shown) {
    const pts = this.el("pg-chart-points");
    const detail = this.main.detail;
    pts.textContent = count(shown);
    pts.dataset.samples = String(detail?.n_samples ?? 0);
    pts.dataset.decimated = String(Boolean(detail?.decimated));
    const words = this.root.querySelector(".pg-sc-points-words");
    words.textContent = detail?.decimated
      ? `points: lowest and highest of every ${bucketWords(detail.bucket_s)} ` +
        `(${count(detail.n_samples)} samples)`
      : "points: every sample";
    if (!this.pending) return;
    this.pending = false;
    const now = performance.now();
    this.root.dataset.paintedAt = now.toFixed(1);
    this.root.dataset.fetchMs = (this.fetchMs || 0).toFixed(1);
    this.showWindow();
    this.setStatus(this.main.whole.t_from === null ? "no samples" : "ready", "ready");
    if (!this.ready) {
      this.ready = true;
      this.root.dataset.readyAt = now.toFixed(1);
      if (window.__pgChartReady === undefined) window.__pgChartReady = now;
      this.reportDrawn();
    }
  }

  /** Tell the page, once, that the first load is over: the curve drawn, or the error shown. */
  reportDrawn() {
    if (!this.report || this.reported) return;
    this.reported = true;
    this.report(this.config.session);
  }

  drawBands(g, steps, a, b, x, y, plotW) {
    steps.forEach(([t, limit], k) => {
      const from = Math.max(a, k === 0 ? a : t);
      const to = Math.min(b, k + 1 < steps.length ? steps[k + 1][0] : b);
      if (to <= from) return;
      const x0 = k === 0 ? PAD.left : x(from);
      const x1 = k + 1 < steps.length ? x(to) : PAD.left + plotW;
      const tall = parseFloat(g.font) + 2;
      for (const [name, lo, hi] of BANDS) {
        const yTop = Math.max(PAD.top, y(Math.min(hi * limit, 1e9)));
        const yBottom = y(lo * limit);
        g.fillStyle = BAND[name];
        g.fillRect(x0, yTop, x1 - x0, yBottom - yTop);
        // the band's words (live_chart.js), where there is room for them
        if (yBottom - yTop >= tall && x1 - x0 >= 110) {
          bandWords(g, name, x0 + 6, (yTop + yBottom) / 2);
        }
      }
    });
  }

  drawAxes(g, a, b, x, y, top, bottom, plotW, plotH) {
    g.strokeStyle = "#e3e6ea";
    g.fillStyle = MUTED;
    g.lineWidth = 1;
    // ticks at round numbers of the page's unit; the curve itself stays in newtons
    const r = this.config.readout;
    const k = r.per_newton;
    const step = niceStep(((top - bottom) * k) / 5);
    g.textAlign = "right";
    g.textBaseline = "middle";
    for (let v = Math.ceil((bottom * k) / step) * step; v <= top * k; v += step) {
      g.beginPath();
      g.moveTo(PAD.left, y(v / k));
      g.lineTo(PAD.left + plotW, y(v / k));
      g.stroke();
      g.fillText(`${Math.round(v * 100) / 100}`, PAD.left - 6, y(v / k));
    }
    const span = b - a;
    const tStep = TIME_STEPS.find((s) => (s / span) * plotW >= 95) || TIME_STEPS.at(-1);
    const digits = digitsFor(tStep);
    g.textAlign = "center";
    g.textBaseline = "top";
    for (let t = Math.ceil(a / tStep) * tStep; t <= b + 1e-9; t += tStep) {
      const px = x(t);
      g.beginPath();
      g.moveTo(px, PAD.top);
      g.lineTo(px, PAD.top + plotH);
      g.stroke();
      g.fillText(clock(t, digits, this.hours()), px, PAD.top + plotH + 7);
    }
    g.save();
    g.translate(14, PAD.top + plotH / 2);
    g.rotate(-Math.PI / 2);
    g.textAlign = "center";
    g.fillText(`${r.pressure ? "pressure" : "force"} (${r.unit})`, 0, 0);
    g.restore();
  }

  drawGaps(g, curves, a, b, x, plotH) {
    g.fillStyle = this.pattern || "#eef0f3";
    for (const curve of curves) {
      for (const [s, e] of curve?.gaps || []) {
        if (e < a || s > b) continue;
        const x0 = x(Math.max(s, a));
        g.fillRect(x0, PAD.top, Math.max(2, x(Math.min(e, b)) - x0), plotH);
      }
    }
  }

  drawLimit(g, steps, a, b, x, y) {
    if (!steps.length) return;
    g.strokeStyle = "#1f2328";
    g.lineWidth = 2;
    g.setLineDash([8, 5]);
    g.beginPath();
    steps.forEach(([t, limit], k) => {
      const px = x(Math.max(t, a));
      if (k === 0) g.moveTo(x(a), y(limit));
      else g.lineTo(px, y(limit));
      const next = k + 1 < steps.length ? steps[k + 1][0] : b;
      g.lineTo(x(Math.min(Math.max(next, a), b)), y(limit));
    });
    g.stroke();
    g.setLineDash([]);
    const last = steps.filter(([t]) => t <= b).at(-1) || steps[0];
    g.fillStyle = "#1f2328";
    g.textAlign = "right";
    g.textBaseline = "bottom";
    g.fillText(`limit ${shown(last[1], this.config.readout)}`, x(b) - 4, y(last[1]) - 3);
  }

  /** Stroke one series over one piece; colourOf(zone) picks each segment's colour. Returns
   * how many points lie in the piece. */
  trace(g, [curve, p, q], key, x, y, shift, colourOf, width, weightOf = () => 1) {
    const ts = curve.t;
    const vs = curve[key];
    const zs = curve.zone;
    const first = Math.max(0, lowerBound(ts, p - shift) - 1);
    const end = Math.min(ts.length, lowerBound(ts, q - shift + 1e-9) + 1);
    const paths = new Map();
    const weights = new Map();
    let shown = 0;
    let prev = -1;
    let colour = null;
    for (let i = first; i < end; i += 1) {
      const v = vs[i];
      if (v === null) {
        prev = -1;
        continue;
      }
      const t = ts[i] + shift;
      if (t >= p && t <= q) shown += 1;
      if (prev >= 0) {
        const z = Math.max(zs[prev], zs[i]);
        const c = colourOf(z);
        let path = paths.get(c);
        if (!path) paths.set(c, (path = new Path2D()));
        weights.set(c, weightOf(z));
        if (c !== colour) path.moveTo(x(ts[prev] + shift), y(vs[prev]));
        path.lineTo(x(t), y(v));
        colour = c;
      } else colour = null;
      prev = i;
    }
    for (const [c, path] of paths) {
      g.lineWidth = width * (weights.get(c) || 1);
      g.strokeStyle = c;
      g.stroke(path);
    }
    // dots for single samples once they are far enough apart to tell
    if (key === "filtered_n" && !curve.decimated && shown > 1 && (x(q) - x(p)) / shown >= 6) {
      for (let i = first; i < end; i += 1) {
        if (vs[i] === null) continue;
        g.fillStyle = colourOf(zs[i]);
        g.beginPath();
        g.arc(x(ts[i] + shift), y(vs[i]), 2.5, 0, 2 * Math.PI);
        g.fill();
      }
    }
    return shown;
  }

  drawSelection(g, plotH) {
    const d = this.drag;
    if (!d?.select) return;
    g.fillStyle = "rgba(26, 86, 219, 0.15)";
    g.fillRect(Math.min(d.x, d.to), PAD.top, Math.abs(d.to - d.x), plotH);
  }

  /** Event markers in the strip above the plot; returns them with their x for hovering. */
  drawMarks(g, a, b, x) {
    const marks = [];
    const { whole, detail } = this.main;
    const inDetail = (t) => detail && detail !== whole && t >= detail.t_from && t <= detail.t_to;
    const events = whole.events.filter((e) => !inDetail(e.t_s));
    if (detail && detail !== whole) events.push(...detail.events);
    for (const e of events) {
      if (e.t_s < a || e.t_s > b) continue;
      const kind = markOf(e);
      if (!kind) continue;
      const px = x(e.t_s);
      marks.push({ px, e, kind });
      g.fillStyle = MARKS[kind].colour;
      markPath(g, MARKS[kind].shape, px, PAD.top - 14);
      g.fill();
    }
    return marks;
  }

  drawHover(g, marks, pieces, x, y, plotH) {
    const h = this.hover;
    if (!h || this.drag || h.x < PAD.left || h.x > this.canvas.clientWidth - PAD.right) {
      this.tip.hidden = true;
      return;
    }
    const hours = this.hours();
    const lines = [];
    let near = null;
    for (const m of marks) {
      if (Math.abs(m.px - h.x) <= 6 && (!near || Math.abs(m.px - h.x) < Math.abs(near.px - h.x))) {
        near = m;
      }
    }
    if (near) lines.push(markWords(near.e, near.kind, hours, this.config.readout));
    if (h.y >= PAD.top) {
      const t = this.timeAt(h.x);
      const piece = pieces.find(([, p, q]) => t >= p && t <= q);
      if (piece) {
        const ts = piece[0].t;
        let i = lowerBound(ts, t);
        if (i > 0 && (i === ts.length || t - ts[i - 1] < ts[i] - t)) i -= 1;
        const f = piece[0].filtered_n[i];
        if (i < ts.length && f !== null) {
          const span = this.view[1] - this.view[0];
          lines.push(clock(ts[i], span < 10 ? 3 : span < 600 ? 1 : 0, hours));
          const r = this.config.readout;
          lines.push(`filtered ${shown(f, r, 1)} · force ${shown(piece[0].force_n[i], r, 1)}`);
          lines.push(`zone: ${piece[0].zone_labels[i].replace("_", " ")}`);
          g.strokeStyle = "rgba(17, 20, 24, 0.45)";
          g.lineWidth = 1;
          g.beginPath();
          g.moveTo(x(ts[i]), PAD.top);
          g.lineTo(x(ts[i]), PAD.top + plotH);
          g.stroke();
          g.fillStyle = INK;
          g.beginPath();
          g.arc(x(ts[i]), y(f), 3.5, 0, 2 * Math.PI);
          g.fill();
        }
      }
    }
    if (!lines.length) {
      this.tip.hidden = true;
      return;
    }
    this.tip.textContent = lines.join("\n");
    this.tip.hidden = false;
    const left = h.x + 14 + this.tip.offsetWidth > this.canvas.clientWidth;
    this.tip.style.left = `${left ? h.x - 14 - this.tip.offsetWidth : h.x + 14}px`;
    this.tip.style.top = `${Math.max(0, h.y - 10)}px`;
  }

  destroy() {
    window.cancelAnimationFrame(this.frame);
    window.clearTimeout(this.timer);
    if (this.abort) this.abort.abort();
    this.resize.disconnect();
    this.root.__pgSessionChart = undefined;
  }
}

function bucketWords(seconds) {
  if (!Number.isFinite(seconds)) return "stretch";
  if (seconds >= 1) return `${seconds.toFixed(seconds >= 10 ? 0 : 1)} s`;
  return `${(seconds * 1000).toFixed(seconds >= 0.01 ? 0 : 1)} ms`;
}

// Streamlit calls this on mount and whenever the mount data change; the chart lives on its root
// element, so a second call reconfigures it (a new session reloads, anything else keeps the zoom).
export default function (component) {
  const { data, parentElement } = component;
  const root = parentElement.querySelector(".pg-sc");
  if (!root) return undefined;
  let chart = root.__pgSessionChart;
  if (!chart) {
    chart = new SessionChart(root);
    root.__pgSessionChart = chart;
  }
  chart.report = data?.report ? (session) => component.setStateValue("drawn", session) : null;
  chart.configure(data);
  return () => {
    window.setTimeout(() => {
      if (!root.isConnected && root.__pgSessionChart) root.__pgSessionChart.destroy();
    }, 0);
  };
}
