// PressureGuard live view: the 30-second curve, drawn on a canvas (no chart library).
// Zone bands at 0.8, 1.0 and 1.2 × the comfort limit, the limit as a dashed line, gaps where the
// force is unknown or samples are missing, and the whole plot greyed out when there is no signal.
// Also the zone shown without flashing (SteadyZone: the live view and the threshold panel) and
// the number formatting all three canvases share (joined first into each component's module
// with live_sound.js and live_view.js, ppt_panel.js or session_chart.js).

const BAND = { target: "#d9efdf", over: "#ffe2a6", danger: "#f6c9cf" };
// The bands' words: colour is never the only sign of a zone.
const BAND_WORDS = { target: "in your range", over: "over", danger: "danger" };
const BANDS = [
  ["target", 0.8, 1.0],
  ["over", 1.0, 1.2],
  ["danger", 1.2, Infinity],
];

// No flashing: a lower judged zone is shown only after the higher one has been on screen this
// long (ms), so the colours cannot change back and forth more than 1000 / ZONE_HOLD_MS = 2.5
// times a second (WCAG 2.3.1: at most 3 flashes a second). A higher zone, NO SIGNAL and
// Uncalibrated show at once: the screen only ever warns longer, never later.
const ZONE_HOLD_MS = 400;
const JUDGED = { relaxed: 0, target: 1, over: 2, danger: 3 };

/** The zone a view shows (its colours), fed the judged zone of every message. */
class SteadyZone {
  constructor(zone) {
    this.shown = zone;
    this.since = -Infinity;
  }

  /** The zone to show now: the judged one, except that a step down between judged zones waits
   * until the higher zone has been shown for ZONE_HOLD_MS. */
  next(zone, now = performance.now()) {
    const shown = this.shown;
    const down = zone in JUDGED && shown in JUDGED && JUDGED[zone] < JUDGED[shown];
    if (down && now - this.since < ZONE_HOLD_MS) return shown;
    if (zone !== shown) {
      this.shown = zone;
      this.since = now;
    }
    return zone;
  }
}

/** A band's words at (x, y), dark on a pale halo so they stay legible on any band colour. */
function bandWords(g, name, x, y) {
  g.textAlign = "left";
  g.textBaseline = "middle";
  g.lineWidth = 3;
  g.lineJoin = "round";
  g.strokeStyle = "rgba(255, 255, 255, 0.8)";
  g.strokeText(BAND_WORDS[name], x, y);
  g.fillStyle = "#1f2328";
  g.fillText(BAND_WORDS[name], x, y);
}

/** The canvas's text size (px), font and line width (0: the chart's own): the page's large-text
 * mode sets --pg-chart-font and --pg-chart-line on our components (dashboard/display_mode.py). */
function chartStyle(canvas) {
  const css = window.getComputedStyle(canvas);
  const px = parseFloat(css.getPropertyValue("--pg-chart-font")) || 13;
  const line = parseFloat(css.getPropertyValue("--pg-chart-line")) || 0;
  return { px, font: `${px}px sans-serif`, line };
}

/** A number with `digits` decimals, "—" when not known, never "-0.0". */
function fmt(value, digits) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const text = value.toFixed(digits);
  return /^-0\.?0*$/.test(text) ? text.slice(1) : text;
}

// How the server says to read a force out (firmware_bridge/readout.py): the unit, the factor from
// newtons and the digits. Newtons until it says otherwise.
const NEWTONS = { unit: "N", per_newton: 1, decimals: 1, note: null };
const inUnit = (force, r) => (Number.isFinite(force) ? force * r.per_newton : null);
const numberIn = (force, r) => fmt(inUnit(force, r), r.decimals);
const withUnit = (force, r) => (Number.isFinite(force) ? `${numberIn(force, r)} ${r.unit}` : "—");

/** Size a canvas's backing store to its CSS size at the screen's pixel ratio and clear it.
 * Returns the 2-D context (in CSS pixels) with the width and height, or null when hidden. */
function prepareCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (width === 0 || height === 0) return null;
  if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
  if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
  const g = canvas.getContext("2d");
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  return { g, width, height };
}

/** Draw the curve.
 * @param {HTMLCanvasElement} canvas
 * @param {{t: number[], f: (number|null)[], start: number, now: number, windowS: number,
 *          limit: number|null, live: boolean, scale: number, unit: string, digits: number}} curve
 *   samples (N) from index `start`; `now` is the session time at the right edge; forces are
 *   drawn in `unit`, `scale` of them to the newton, the limit with `digits` decimals.
 */
function drawChart(canvas, curve) {
  const prepared = prepareCanvas(canvas);
  if (!prepared) return;
  const { g, width, height } = prepared;

  const { t: ts, start, windowS } = curve;
  const k = Number.isFinite(curve.scale) && curve.scale > 0 ? curve.scale : 1;
  const unit = curve.unit || "N";
  const fs = curve.f;
  const limit = curve.limit ? curve.limit * k : null;
  const n = ts.length;
  const newest = curve.now;
  const from = newest - windowS;
  let top = limit ? limit * 1.4 : 10 * k;
  for (let i = start; i < n; i += 1) {
    if (ts[i] >= from && fs[i] !== null && fs[i] * k * 1.1 > top) top = fs[i] * k * 1.1;
  }
  const style = chartStyle(canvas);
  const grow = style.px / 13;
  const left = Math.round(48 * grow);
  const right = Math.round(84 * grow);
  const pad = 10;
  const plotW = Math.max(10, width - left - right);
  const plotH = Math.max(10, height - 2 * pad - 9 - style.px);
  const x = (t) => left + ((t - from) / windowS) * plotW;
  const y = (f) => pad + plotH - (Math.max(0, f) / top) * plotH;

  g.font = style.font;
  if (limit) {
    for (const [name, lo, hi] of BANDS) {
      const yTop = y(Math.min(hi * limit, top));
      g.fillStyle = BAND[name];
      g.fillRect(left, yTop, plotW, y(lo * limit) - yTop);
    }
  }
  // grid and axis labels
  g.strokeStyle = "#e3e6ea";
  g.fillStyle = "#4a5059";
  g.lineWidth = 1;
  const step = niceStep(top / 4);
  g.textAlign = "right";
  g.textBaseline = "middle";
  for (let v = 0; v <= top; v += step) {
    g.beginPath();
    g.moveTo(left, y(v));
    g.lineTo(left + plotW, y(v));
    g.stroke();
    g.fillText(`${Math.round(v * 100) / 100}`, left - 6, y(v));
  }
  g.textAlign = "center";
  g.textBaseline = "top";
  for (let k = 0; k <= 3; k += 1) {
    const t = newest - k * 10;
    g.fillText(k === 0 ? "now" : `−${k * 10} s`, x(t), pad + plotH + 6);
  }
  g.save();
  g.translate(12, pad + plotH / 2);
  g.rotate(-Math.PI / 2);
  g.fillText(unit, 0, -6);
  g.restore();

  if (limit) {
    // each band's words at its left end, where they are only under the oldest part of the curve
    for (const [name, lo, hi] of BANDS) {
      const yTop = y(Math.min(hi * limit, top));
      const yBottom = y(lo * limit);
      if (yBottom - yTop >= style.px + 2) bandWords(g, name, left + 6, (yTop + yBottom) / 2);
    }
  }

  if (limit) {
    g.strokeStyle = "#1f2328";
    g.lineWidth = 2;
    g.setLineDash([8, 5]);
    g.beginPath();
    g.moveTo(left, y(limit));
    g.lineTo(left + plotW, y(limit));
    g.stroke();
    g.setLineDash([]);
    g.fillStyle = "#1f2328";
    g.textAlign = "left";
    g.textBaseline = "middle";
    g.fillText(`limit ${fmt(limit, curve.digits ?? 1)} ${unit}`, left + plotW + 6, y(limit));
  }

  // the curve, clipped to the plot: gaps where force is unknown or samples are missing
  g.save();
  g.beginPath();
  g.rect(left, pad, plotW, plotH);
  g.clip();
  const live = curve.live;
  g.strokeStyle = live ? "#111418" : "#8a9099";
  g.lineWidth = style.line || 2.5;
  g.lineJoin = "round";
  g.beginPath();
  let pen = false;
  let prevT = null;
  for (let i = start; i < n; i += 1) {
    const t = ts[i];
    const f = fs[i];
    if (t < from || f === null) {
      pen = false;
      continue;
    }
    if (!pen || (prevT !== null && t - prevT > 0.5)) g.moveTo(x(t), y(f * k));
    else g.lineTo(x(t), y(f * k));
    pen = true;
    prevT = t;
  }
  g.stroke();
  if (!live) {
    g.fillStyle = "rgba(228, 230, 233, 0.55)";
    g.fillRect(left, pad, plotW, plotH);
  }
  g.restore();
}

function niceStep(raw) {
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-6)));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}
