// PressureGuard threshold panel (Streamlit components v2): one guided pressure-pain-threshold
// measurement, drawn from the /api/live server-sent events; live data never reruns Streamlit.
// "It starts to hurt" (the big button or the space bar) goes back to Python with setTriggerValue,
// stamped with the session time of the newest sample this panel has received, so the rerun's
// delay does not bias the threshold. The tool's own button is handled by the bridge.
// (Joined after live_sound.js and live_chart.js: Sound, BAND, SteadyZone, chartStyle, niceStep,
// fmt and the readout helpers NEWTONS, numberIn and withUnit come from there.)

const FLOOR_N = 0.5; // below this the tool is off the skin (calibration.ppt.FLOOR_N)
const GAUGE_MAX_KPA_S = 150; // the speed gauge's right end
const COACH = { slower: "Slower, please", good: "Good pace", faster: "A little faster" };
const WINDOW_S = 30;


// What the page was drawn for: no measurement, one running, or one finished.
const major = (phase) => (phase === "none" || phase === "done" ? phase : "running");
const typing = (node) =>
  !!(node && node.closest && node.closest("input, textarea, select, [contenteditable]"));

class PptPanel {
  constructor(root) {
    this.root = root;
    this.el = (id) => root.querySelector(`[data-testid="${id}"]`);
    this.canvas = root.querySelector(".ppt-chart");
    this.sound = new Sound();
    this.config = {
      url: "/api/live",
      phase: "none",
      kpa_area: null,
      stale_ms: 1000,
      readout: NEWTONS,
      companion: null,
    };
    this.trigger = null;
    this.shown = new Map();
    this.t = [];
    this.f = [];
    this.newest = null;
    this.onset = null;
    this.end = null;
    this.ppt = null;
    this.zone = "no_signal";
    this.steadyZone = new SteadyZone(this.zone); // no flashing (live_chart.js)
    this.markedTrial = null;
    this.marks = 0;
    this.seq = 0;
    this.lastMessageAt = 0;
    this.retriedAt = 0;
    this.lost = false;
    this.pending = { phase: null, since: 0 };
    this.triggeredAt = -Infinity;
    this.cancelArmed = -Infinity; // not asked yet (0 would be "just asked" on a new page)
    this.dirty = true;
    this.onKey = (event) => this.key(event);
    this.unlock = () => this.sound.unlock();
    document.addEventListener("keydown", this.onKey, true);
    document.addEventListener("pointerdown", this.unlock, true);
    this.el("ppt-mark").addEventListener("click", () => this.mark("button"));
    this.el("ppt-end").addEventListener("click", () => this.send("action", { kind: "release" }));
    this.el("ppt-cancel").addEventListener("click", () => this.cancel());
    this.resize = new ResizeObserver(() => (this.dirty = true));
    this.resize.observe(this.canvas);
    this.timer = window.setInterval(() => this.watchdog(), 200);
    this.frame = window.requestAnimationFrame(() => this.draw());
    this.show(null, "connecting…");
  }

  configure(data, setTriggerValue) {
    const next = { ...this.config, ...(data || {}) };
    const reconnect = !this.source || next.url !== this.config.url;
    this.config = next;
    this.trigger = setTriggerValue;
    if (reconnect) this.connect();
  }

  connect() {
    if (this.source) this.source.close();
    this.source = new EventSource(this.config.url);
    this.source.onmessage = (event) => this.onMessage(event);
    this.source.addEventListener("bye", () => this.connect());
  }

  send(event, value) {
    if (!this.trigger) return;
    this.seq += 1;
    this.trigger(event, { ...value, seq: this.seq });
  }

  // -- marks and buttons ---------------------------------------------------------------------

  canMark() {
    const p = this.ppt;
    return !!p && p.state === "pressing" && !p.marked && this.markedTrial !== p.trial;
  }

  key(event) {
    if (event.code !== "Space" && event.key !== " ") return;
    const p = this.ppt;
    if (!p || (p.state !== "pressing" && p.state !== "ready")) return;
    if (typing(event.target) || !this.root.isConnected || this.root.offsetParent === null) return;
    event.preventDefault(); // no page scroll, no click on a focused button
    event.stopPropagation();
    this.sound.unlock();
    if (!event.repeat) this.mark("space");
  }

  mark(how) {
    if (!this.canMark()) return;
    this.markedTrial = this.ppt.trial;
    this.marks += 1;
    this.el("ppt-marks").textContent = String(this.marks);
    this.send("mark", { t: this.newest, how });
    this.render();
  }

  cancel() {
    const now = performance.now();
    const button = this.el("ppt-cancel");
    if (now - this.cancelArmed > 5000) {
      this.cancelArmed = now;
      this.setText(button, "Really cancel? Click again");
      window.setTimeout(() => this.render(), 5100);
      return;
    }
    this.cancelArmed = -Infinity;
    this.send("action", { kind: "cancel" });
  }

  // -- the stream ----------------------------------------------------------------------------

  onMessage(event) {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch (err) {
      return;
    }
    this.lastMessageAt = performance.now();
    this.lost = false;
    if (message.reset) this.clear();
    this.addSamples(message.samples);
    this.show(message.state, null);
  }

  clear() {
    this.t = [];
    this.f = [];
    this.newest = null;
  }

  addSamples(samples) {
    if (!samples || !samples.t) return;
    for (let i = 0; i < samples.t.length; i += 1) {
      const t = samples.t[i];
      if (this.newest !== null && t < this.newest - 1.0) this.clear(); // a new clock
      else if (this.newest !== null && t <= this.newest) continue;
      this.newest = t;
      this.t.push(t);
      this.f.push(samples.f[i]);
    }
    let drop = 0;
    while (drop < this.t.length && this.t[drop] < this.newest - WINDOW_S) drop += 1;
    if (drop > 256) {
      this.t = this.t.slice(drop);
      this.f = this.f.slice(drop);
    }
    if (this.newest !== null) this.el("ppt-last-t").textContent = String(this.newest);
    this.dirty = true;
  }

  watchdog() {
    if (!this.root.isConnected) {
      this.destroy();
      return;
    }
    const now = performance.now();
    if (this.source && this.source.readyState === EventSource.CLOSED && now - this.retriedAt > 2000) {
      this.retriedAt = now;
      this.connect();
    }
    if (now - this.lastMessageAt > this.config.stale_ms && !this.lost) {
      this.lost = true;
      this.show(null, "lost contact with the dashboard server — reconnecting");
    }
  }

  show(state, lostReason) {
    const s = state || { zone: "no_signal", message: lostReason };
    const known = s.zone !== "no_signal" && s.zone !== "uncalibrated";
    this.zone = this.steadyZone.next(known ? s.zone : "no_signal");
    this.force = known && Number.isFinite(s.force_n) ? Math.max(s.force_n, 0) : null;
    this.message = known ? "" : s.message || "no reading from the tool";
    const ppt = s.ppt || null;
    if (ppt && ppt.state === "pressing" && (!this.ppt || this.ppt.state !== "pressing")) {
      this.startCurve();
    } else if (ppt && ppt.state !== "pressing" && this.ppt && this.ppt.state === "pressing") {
      this.end = this.newest;
    }
    this.ppt = ppt;
    if (this.zone === "danger") this.sound.startAlarm();
    else this.sound.stopAlarm();
    if (!lostReason) this.followPhase(ppt ? ppt.state : "none");
    this.render();
  }

  // The page shows different controls for a running and a finished measurement: when the
  // stream's phase differs from the one the page was drawn for, ask Python to draw it again.
  followPhase(phase) {
    const seen = major(phase);
    const now = performance.now();
    if (seen === this.config.phase) {
      this.pending = { phase: null, since: 0 };
      return;
    }
    if (this.pending.phase !== seen) this.pending = { phase: seen, since: now };
    const settle = seen === "none" ? 1500 : 250; // a bridge hiccup is not the end
    if (now - this.pending.since >= settle && now - this.triggeredAt > 2000 && this.trigger) {
      this.triggeredAt = now;
      this.trigger("phase", seen);
    }
  }

  startCurve() {
    // The trial started when the force left zero: draw from the last moment it was near zero.
    let k = this.t.length - 1;
    while (k > 0 && !(this.f[k] !== null && this.f[k] < FLOOR_N)) k -= 1;
    this.onset = k >= 0 ? this.t[k] : this.newest;
    this.end = null;
  }

  setText(node, text) {
    if (this.shown.get(node) !== text) {
      node.textContent = text;
      this.shown.set(node, text);
    }
  }

  // A force in words: the readout, and the companion in brackets ("8.0 N (80 kPa)").
  words(force) {
    const second = this.config.companion;
    const text = withUnit(force, this.config.readout || NEWTONS);
    return second && Number.isFinite(force) ? `${text} (${withUnit(force, second)})` : text;
  }

  render() {
    const p = this.ppt;
    const phase = p ? p.state : "none";
    const r = this.config.readout || NEWTONS;
    const second = this.config.companion;
    this.root.dataset.state = phase;
    this.root.dataset.zone = this.zone;
    this.el("ppt-state").textContent = phase;
    this.setText(this.el("ppt-force"), numberIn(this.force, r));
    this.setText(this.root.querySelector(".ppt-unit"), r.unit);
    const beside = second && this.force !== null ? withUnit(this.force, second) : "";
    this.setText(this.el("ppt-kpa"), beside);
    const marked = p && (p.marked || this.markedTrial === p.trial) && phase === "pressing";
    this.setText(this.el("ppt-step"), this.stepText(p, marked));
    this.setText(this.el("ppt-coach"), this.coachText(p, marked));
    const rest = p && phase === "rest" ? `${Math.ceil(p.rest_left_s || 0)} s` : "";
    this.setText(this.el("ppt-rest"), rest);
    const rate = p && Number.isFinite(p.rate_kpa_s) && !marked ? p.rate_kpa_s : null;
    this.setText(this.el("ppt-rate"), `Speed ${rate === null ? "—" : `${fmt(rate, 0)} kPa/s`}`);
    this.gauge(p, rate);
    const markButton = this.el("ppt-mark");
    markButton.disabled = !this.canMark();
    markButton.classList.toggle("ppt-marked", !!marked);
    this.el("ppt-end").disabled = phase !== "pressing";
    this.el("ppt-cancel").disabled = !p;
    if (performance.now() - this.cancelArmed > 5000) {
      this.setText(this.el("ppt-cancel"), "Cancel measurement");
    }
    this.setText(this.el("ppt-summary"), this.summaryText(p));
    this.trials(p);
    this.dirty = true;
  }

  stepText(p, marked) {
    if (this.zone === "no_signal") return `NO SIGNAL — ${this.message}`;
    if (!p) return "No measurement is running.";
    const trial = `Trial ${Math.min(p.accepted + 1, p.needed)} of ${p.needed}`;
    const extra = p.trial > p.accepted + 1 ? ` (attempt ${p.trial})` : "";
    if (p.state === "ready") return `${trial}${extra}: press the tool slowly onto the spot`;
    if (p.state === "pressing") {
      return marked ? "Marked — now lift the tool" : `${trial}${extra}: keep pressing slowly`;
    }
    if (p.state === "rest") return `Rest — then ${trial.toLowerCase()}`;
    const s = p.summary;
    return s && s.complete ? "Finished" : "Finished — not enough usable trials";
  }

  coachText(p, marked) {
    if (this.zone === "danger") return "STOP — lift the tool: this is past your ceiling";
    if (this.zone === "over") return "Ease off — you are at your ceiling";
    if (!p || p.state !== "pressing" || marked) return "";
    return COACH[p.coach] || "";
  }

  gauge(p, rate) {
    const lo = p ? p.min_kpa_s : 30;
    const hi = p ? p.max_kpa_s : 100;
    const target = p ? p.target_kpa_s : 50;
    const pct = (v) => `${(100 * Math.min(Math.max(v, 0), GAUGE_MAX_KPA_S)) / GAUGE_MAX_KPA_S}%`;
    const band = this.root.querySelector(".ppt-gauge-band");
    band.style.left = pct(lo);
    band.style.width = `calc(${pct(hi)} - ${pct(lo)})`;
    this.root.querySelector(".ppt-gauge-target").style.left = pct(target);
    const needle = this.el("ppt-needle");
    needle.hidden = rate === null;
    if (rate !== null) needle.style.left = pct(rate);
  }

  summaryText(p) {
    if (!p) return "";
    if (p.error) return p.error;
    const s = p.summary;
    if (p.state !== "done" || !s) return "";
    if (!s.complete || !Number.isFinite(s.ppt_n)) {
      return `Only ${s.n} of ${p.needed} trials could be used, so there is no threshold to save.`;
    }
    return `Your pressure-pain threshold: ${this.words(s.ppt_n)}, the mean of ${s.n} trials.`;
  }

  trials(p) {
    const list = this.el("ppt-trials");
    const rows = (p && p.trials) || [];
    const key = JSON.stringify([rows, this.config.readout, this.config.companion]);
    if (this.shown.get(list) === key) return;
    this.shown.set(list, key);
    list.replaceChildren(
      ...rows.map((r, i) => {
        const item = document.createElement("li");
        item.className = r.accepted ? "ppt-ok" : "ppt-rejected";
        item.textContent = r.accepted
          ? `Trial ${i + 1}: pain began at ${this.words(r.ppt_n)}, ` +
            `rising ${fmt(r.ramp_kpa_s, 0)} kPa/s — used`
          : `Trial ${i + 1}: not used — ${r.reason}`;
        return item;
      }),
    );
  }

  // -- the ramp guide ------------------------------------------------------------------------

  draw() {
    this.frame = window.requestAnimationFrame(() => this.draw());
    if (!this.dirty) return;
    this.dirty = false;
    const p = this.ppt;
    const area = (p && p.tip_area_cm2) || 1; // rates on the 1 cm² reference when unknown
    const perN = (kpaS) => (kpaS * area) / 10;
    const r = this.config.readout || NEWTONS;
    drawRamp(this.canvas, {
      t: this.t,
      f: this.f,
      onset: this.onset,
      end: p && p.state === "pressing" ? this.newest : this.end,
      target: perN(p ? p.target_kpa_s : 50),
      lo: perN(p ? p.min_kpa_s : 30),
      hi: perN(p ? p.max_kpa_s : 100),
      live: this.zone !== "no_signal",
      scale: r.per_newton,
      unit: r.unit,
    });
  }

  destroy() {
    window.clearInterval(this.timer);
    window.cancelAnimationFrame(this.frame);
    this.resize.disconnect();
    document.removeEventListener("keydown", this.onKey, true);
    document.removeEventListener("pointerdown", this.unlock, true);
    if (this.source) this.source.close();
    this.sound.close();
    this.root.__pptPanel = undefined;
  }
}

/** The trial's force since it left zero against the steady rise to aim for: the accepted band
 * of rates (shaded), the target rate (dashed), and a dot where the target is now. Forces come
 * in newtons; the axis reads in `unit`, `scale` of them to the newton. */
function drawRamp(canvas, c) {
  const prepared = prepareCanvas(canvas);
  if (!prepared) return;
  const { g, width, height } = prepared;
  const onset = c.onset;
  const until = onset === null || c.end === null ? 0 : Math.max(0, c.end - onset);
  const span = Math.max(10, Math.ceil(until + 2));
  const xs = [];
  const ys = [];
  let peak = 0;
  if (onset !== null) {
    for (let i = 0; i < c.t.length; i += 1) {
      if (c.t[i] < onset || (c.end !== null && c.t[i] > c.end) || c.f[i] === null) continue;
      xs.push(c.t[i] - onset);
      ys.push(c.f[i]);
      peak = Math.max(peak, c.f[i]);
    }
  }
  const top = Math.max(peak * 1.2, c.target * Math.max(4, until + 1), 2);
  const style = chartStyle(canvas); // the page's large-text mode (live_chart.js)
  const left = Math.round(48 * (style.px / 13));
  const pad = 12;
  const plotW = Math.max(10, width - left - 2 * pad);
  const plotH = Math.max(10, height - 2 * pad - 20);
  const x = (s) => left + (s / span) * plotW;
  const y = (f) => pad + plotH - (Math.max(f, 0) / top) * plotH; // clipped to the plot
  g.font = style.font;
  g.save();
  g.beginPath();
  g.rect(left, pad, plotW, plotH);
  g.clip();
  g.fillStyle = BAND.target;
  g.beginPath();
  g.moveTo(x(0), y(0));
  g.lineTo(x(span), y(c.lo * span));
  g.lineTo(x(span), y(c.hi * span));
  g.closePath();
  g.fill();
  g.strokeStyle = "#1f6f3a";
  g.lineWidth = 2;
  g.setLineDash([8, 5]);
  g.beginPath();
  g.moveTo(x(0), y(0));
  g.lineTo(x(span), y(c.target * span));
  g.stroke();
  g.setLineDash([]);
  if (c.end !== null && onset !== null) {
    g.fillStyle = "#1f6f3a";
    g.beginPath();
    g.arc(x(until), y(c.target * until), 6, 0, 2 * Math.PI);
    g.fill();
  }
  g.strokeStyle = c.live ? "#111418" : "#8a9099";
  g.lineWidth = style.line || 3;
  g.lineJoin = "round";
  g.beginPath();
  xs.forEach((s, i) => (i === 0 ? g.moveTo(x(s), y(ys[i])) : g.lineTo(x(s), y(ys[i]))));
  g.stroke();
  g.restore();
  g.strokeStyle = "#e3e6ea";
  g.fillStyle = "#4a5059";
  g.lineWidth = 1;
  g.textAlign = "right";
  g.textBaseline = "middle";
  // ticks at round numbers of the user's unit
  const k = Number.isFinite(c.scale) && c.scale > 0 ? c.scale : 1;
  const step = niceStep((top * k) / 4);
  for (let v = 0; v <= top * k; v += step) {
    g.fillText(`${Math.round(v * 100) / 100} ${c.unit || "N"}`, left - 6, y(v / k));
  }
  g.textAlign = "center";
  g.textBaseline = "top";
  const every = span > 20 ? 10 : 2;
  for (let s = 0; s <= span; s += every) g.fillText(`${s} s`, x(s), pad + plotH + 5);
}

// Streamlit calls this on mount and whenever the data changes; the panel lives on its root
// element so a second call reconfigures it instead of opening a second stream.
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector(".ppt-panel");
  if (!root) return undefined;
  let panel = root.__pptPanel;
  if (!panel) {
    panel = new PptPanel(root);
    root.__pptPanel = panel;
  }
  panel.configure(data, setTriggerValue);
  return () => {
    window.setTimeout(() => {
      if (!root.isConnected && root.__pptPanel) root.__pptPanel.destroy();
    }, 0);
  };
}
