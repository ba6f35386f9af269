// PressureGuard live view (Streamlit components v2): draws the /api/live server-sent events.
// Live data never reruns Streamlit. The server decides staleness; this view also has its own
// watchdog, so a dead server or network shows NO SIGNAL instead of the last value.

const ZONES = {
  relaxed: { words: "Relaxed", banner: "" },
  target: { words: "In your range", banner: "" },
  over: { words: "Ease off", banner: "Ease off" },
  danger: { words: "STOP — too much pressure", banner: "STOP" },
  no_signal: { words: "NO SIGNAL", banner: "NO SIGNAL" },
  uncalibrated: { words: "Uncalibrated — not judged", banner: "" },
};

// A few tenths below zero is the tare's noise, not a reading: shown as 0.
const shownForce = (f) => (Number.isFinite(f) && f < 0 && f > -0.5 ? 0 : f);

// A message's readout, or newtons when it has none (fmt, NEWTONS, numberIn, withUnit: live_chart.js).
const readoutOf = (r) => (r && Number.isFinite(r.per_newton) && r.unit ? r : NEWTONS);
// An asked-for Zero's outcome stays in view this long (ms).
const TARE_SHOWN_MS = 10000;
// Units as a voice says them ("Ease off, 12.3 newtons").
const SPOKEN_UNITS = {
  N: "newtons",
  kgf: "kilograms-force",
  lbf: "pounds-force",
  kPa: "kilopascals",
  "kgf/cm²": "kilograms-force per square centimetre",
};
// What each cue says before the number.
const CUE_WORDS = { Stop: "Stop, too much pressure" };

class LiveView {
  constructor(root) {
    this.root = root;
    this.el = (id) => root.querySelector(`[data-testid="${id}"]`);
    this.canvas = root.querySelector(".pg-chart");
    this.sound = new Sound();
    this.speech = loadPref(PREF_SPEECH);
    this.said = new Map();
    this.shown = new Map();
    this.state = null;
    this.readout = NEWTONS;
    this.tareKey = null;
    this.tareSeenAt = 0;
    this.zone = "no_signal";
    this.steadyZone = new SteadyZone(this.zone); // no flashing (live_chart.js)
    this.prev = { zone: "no_signal", ramp: false, release: false, prewarn: false };
    this.updates = 0;
    this.lastMessageAt = 0;
    this.retriedAt = 0;
    this.lost = false;
    this.t = [];
    this.f = [];
    this.start = 0;
    this.offset = null;
    this.dirty = true;
    this.config = { url: "/api/live", window_s: 30, stale_ms: 1000 };
    this.bindControls();
    // The hero panel never shrinks while the width stays: a longer message (STOP, Release) must
    // not push the curve and the buttons down and up again as zones change.
    this.hero = root.querySelector(".pg-hero");
    this.heroTall = 0;
    this.width = "";
    this.resize = new ResizeObserver(() => {
      // (a change of text size, such as the large-text mode, counts as a new width)
      const width = `${root.clientWidth} ${window.getComputedStyle(root).fontSize}`;
      if (width !== this.width) {
        this.width = width;
        this.heroTall = 0;
        this.hero.style.minHeight = "";
      }
      this.dirty = true;
    });
    this.resize.observe(this.canvas);
    this.resize.observe(root);
    this.timer = window.setInterval(() => this.watchdog(), 200);
    this.frame = window.requestAnimationFrame(() => this.draw());
    this.showState(null, "connecting…");
  }

  configure(data) {
    const next = { ...this.config, ...(data || {}) };
    const reconnect = !this.source || next.url !== this.config.url;
    this.config = next;
    if (reconnect) this.connect();
  }

  connect() {
    if (this.source) this.source.close();
    this.source = new EventSource(this.config.url);
    this.source.onmessage = (event) => this.onMessage(event);
    // The server ends a stream now and then (and when it stops): reconnect at once. A server
    // that is really gone then fails to answer, and the watchdog shows NO SIGNAL.
    this.source.addEventListener("bye", () => this.connect());
  }

  bindControls() {
    const soundButton = this.el("pg-sound");
    const mute = this.el("pg-mute");
    const speech = this.el("pg-speech");
    this.unlock = () => {
      this.sound.unlock();
      window.setTimeout(() => this.showSound(), 300);
    };
    // Any click on the page (the Start session button too) may unlock sound.
    document.addEventListener("pointerdown", this.unlock, true);
    document.addEventListener("keydown", this.unlock, true);
    soundButton.addEventListener("click", () => {
      this.sound.unlock();
      if (this.sound.muted) this.setMuted(false);
      window.setTimeout(() => this.showSound(), 300);
    });
    mute.addEventListener("click", () => this.setMuted(!this.sound.muted));
    speech.checked = this.speech;
    speech.addEventListener("change", () => {
      this.speech = speech.checked;
      savePref(PREF_SPEECH, this.speech);
      if (!this.speech && window.speechSynthesis) window.speechSynthesis.cancel();
    });
    this.showSound();
  }

  setMuted(muted) {
    this.sound.muted = muted;
    savePref(PREF_MUTE, muted);
    if (muted) this.sound.stopAlarm();
    else if (this.zone === "danger") this.sound.startAlarm();
    this.showSound();
  }

  showSound() {
    const mute = this.el("pg-mute");
    mute.setAttribute("aria-pressed", String(this.sound.muted));
    this.setText(mute, this.sound.muted ? "Muted — click for sound" : "Mute");
    this.el("pg-sound").hidden = this.sound.ready && !this.sound.muted;
  }

  setText(node, text) {
    if (this.shown.get(node) !== text) {
      node.textContent = text;
      this.shown.set(node, text);
    }
  }

  onMessage(event) {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch (err) {
      return;
    }
    this.updates += 1;
    this.lastMessageAt = performance.now();
    this.lost = false;
    this.el("pg-updates").textContent = String(this.updates);
    if (message.reset) this.clearCurve();
    this.addSamples(message.samples);
    this.showState(message.state, null);
  }

  clearCurve() {
    this.t = [];
    this.f = [];
    this.start = 0;
    this.offset = null;
    this.dirty = true;
  }

  addSamples(samples) {
    if (!samples || !samples.t || samples.t.length === 0) return;
    let last = this.t.length > this.start ? this.t[this.t.length - 1] : -Infinity;
    for (let i = 0; i < samples.t.length; i += 1) {
      const t = samples.t[i];
      if (t < last - 1.0) {
        this.clearCurve(); // a new session or a restarted tool: a new clock
        last = -Infinity;
      } else if (t <= last) {
        continue; // the curve only moves forward
      }
      this.t.push(t);
      this.f.push(samples.f[i]);
      last = t;
    }
    if (this.t.length === 0) return;
    const newest = this.t[this.t.length - 1];
    // Map session time to this clock, so the curve's right edge is "now" and a stalled feed
    // shows as an empty stretch, never as a curve ending at the right edge.
    const offset = performance.now() / 1000 - newest;
    if (this.offset === null || Math.abs(offset - this.offset) > 1.0) this.offset = offset;
    else this.offset += 0.05 * (offset - this.offset);
    const oldest = newest - this.config.window_s - 1;
    while (this.start < this.t.length && this.t[this.start] < oldest) this.start += 1;
    if (this.start > 4096) {
      this.t = this.t.slice(this.start);
      this.f = this.f.slice(this.start);
      this.start = 0;
    }
    this.el("pg-last-sample-t").textContent = String(newest);
    this.dirty = true;
  }

  watchdog() {
    if (!this.root.isConnected) {
      this.destroy();
      return;
    }
    const silent = performance.now() - this.lastMessageAt > this.config.stale_ms;
    if (silent) this.dirty = true; // keep the time axis moving while nothing arrives
    // EventSource gives up for good after an HTTP error (a server starting up): retry slowly.
    const now = performance.now();
    if (this.source && this.source.readyState === EventSource.CLOSED && now - this.retriedAt > 2000) {
      this.retriedAt = now;
      this.connect();
    }
    if (silent && !this.lost) {
      this.lost = true;
      this.showState(null, "lost contact with the dashboard server — reconnecting");
    }
  }

  showState(state, lostReason) {
    const s = state || { zone: "no_signal", message: lostReason };
    const zone = this.steadyZone.next(ZONES[s.zone] ? s.zone : "no_signal");
    const known = zone !== "no_signal" && zone !== "uncalibrated";
    const force = known ? shownForce(s.force_n) : null;
    const r = readoutOf(s.readout);
    const second = s.companion ? readoutOf(s.companion) : null;
    this.state = s;
    this.readout = r;
    this.root.dataset.zone = zone;
    this.setText(this.el("pg-value"), numberIn(force, r));
    this.setText(this.el("pg-unit"), r.unit);
    this.el("pg-unit").hidden = !Number.isFinite(force);
    this.setText(this.el("pg-pressure"), second && Number.isFinite(force) ? withUnit(force, second) : "");
    this.setText(this.el("pg-zone"), ZONES[zone].words);

    const limit = Number.isFinite(s.limit_n) ? s.limit_n : null;
    let banner = ZONES[zone].banner;
    let detail = "";
    if (zone === "no_signal") detail = s.message || "no reading from the tool";
    else if (zone === "danger") detail = "far over your limit: lift the tool now";
    else if (zone === "over") detail = `over your comfort limit of ${withUnit(limit, r)}`;
    else if (zone === "uncalibrated") detail = "the tool is not calibrated: nothing is judged";
    if (known && zone !== "danger") {
      const prewarn = Number.isFinite(s.prewarn_s) && !banner;
      if (s.release_prompt) {
        banner = "Release";
        detail = "long enough on this spot: lift the tool and move on";
      } else if (prewarn) {
        banner = `Slow down — limit in ${fmt(Math.max(0.1, s.prewarn_s), 1)} s`;
        detail = "you are nearing your comfort limit";
      } else if (s.ramp_warning && !banner) {
        banner = "Slow down";
        detail = "pressure is rising fast";
      }
    }
    const bannerEl = this.el("pg-banner");
    this.setText(bannerEl, banner);
    // "Ease off", "STOP", "NO SIGNAL" repeat the zone headline: kept for screen readers and
    // tests, not drawn twice. "Release" and "Slow down" add something and are drawn.
    bannerEl.classList.toggle("pg-repeat", banner !== "" && banner === ZONES[zone].banner);
    this.setText(this.el("pg-detail"), detail);

    let limitText = "—";
    if (limit !== null) limitText = withUnit(limit, r) + (second ? ` (${withUnit(limit, second)})` : "");
    this.setText(this.el("pg-limit"), limitText);
    this.setText(this.el("pg-tip"), s.stale || lostReason ? "—" : s.tip_label || "not known: force only");
    this.setText(this.el("pg-notice"), this.noticeText(s, lostReason, r));
    let hold = "—";
    if (known) {
      hold = `${Math.floor(s.hold_s || 0)} s`;
      if (Number.isFinite(s.hold_limit_s)) hold += ` of ${fmt(s.hold_limit_s, 0)} s`;
      if (s.release_prompt) hold += " · Release";
    }
    this.setText(this.el("pg-hold"), hold);
    let session = "not recording";
    if (s.stale || lostReason) session = "";
    else if (s.recording && s.session_id) session = `Recording session ${s.session_id}`;
    this.setText(this.el("pg-session"), session);
    this.setText(this.el("pg-status"), this.statusText(s, lostReason));
    this.cue(zone, known && !!s.ramp_warning, known && !!s.release_prompt, known && Number.isFinite(s.prewarn_s));
    const tall = this.hero.offsetHeight;
    if (tall > this.heroTall) {
      this.heroTall = tall;
      this.hero.style.minHeight = `${tall}px`;
    }
    this.zone = zone;
    this.dirty = true;
  }

  /** The zero's state: a Zero being taken, its outcome for a while, or a drift warning. */
  noticeText(s, lostReason, r) {
    if (lostReason || s.stale) return "";
    if (s.taring) return "Zeroing… keep the tool still, off your body.";
    const tare = s.tare;
    const key = tare ? `${tare.t_s}:${tare.accepted}` : null;
    if (key !== this.tareKey) {
      this.tareKey = key;
      this.tareSeenAt = performance.now();
    }
    if (tare && performance.now() - this.tareSeenAt < TARE_SHOWN_MS) {
      return tare.accepted ? "Zeroed: the tool now reads 0 with nothing on it." : `Not zeroed: ${tare.reason}.`;
    }
    if (s.drift_warning) {
      const moved = withUnit(Math.abs(s.zero_shift_n || 0), r);
      return (
        `The tool's zero has moved ${moved} since it was set (${s.drift_warning}). ` +
        "Lay the tool down untouched and press Zero; if it keeps moving, calibrate it again."
      );
    }
    return "";
  }

  statusText(s, lostReason) {
    if (lostReason) return "no contact with the dashboard server";
    const parts = [`Source ${s.source || "—"}`];
    if (s.stale) parts.push(s.age_s === null ? "no bridge running" : "bridge not responding");
    else parts.push(s.connected ? "connected" : "reconnecting to the tool…");
    if (Number.isFinite(s.rate_hz) || Number.isFinite(s.nominal_rate_hz)) {
      const measured = Number.isFinite(s.rate_hz) ? fmt(s.rate_hz, 1) : "—";
      const nominal = Number.isFinite(s.nominal_rate_hz) ? ` of ${s.nominal_rate_hz} Hz` : " Hz";
      parts.push(`${measured}${nominal}`);
    }
    parts.push(`${s.lost_frames || 0} lost frames`);
    if (s.bad_frames) parts.push(`${s.bad_frames} bad frames`);
    if (s.device_faults && !s.stale) parts.push(`${s.device_faults} tool claims not believed (last: ${s.device_fault})`);
    const link = s.link && !s.stale ? s.link : null;
    if (link) {
      let words = link.name || link.transport;
      if (Number.isFinite(link.rssi_dbm)) words += ` · signal ${link.rssi_dbm} dBm`;
      parts.push(words);
    }
    if (s.battery_mv) parts.push(`battery ${(s.battery_mv / 1000).toFixed(2)} V`);
    if (link && !link.haptics) parts.push("this tool cannot vibrate: the screen and the sound are your only warning");
    if (s.device_id) parts.push(`tool ${s.device_id}`);
    if (s.calibration_reason && !s.stale) parts.push(`calibration: ${s.calibration_reason}`);
    if (s.calibration_warning && !s.stale) parts.push(s.calibration_warning);
    if (s.message && !s.stale && s.zone !== "no_signal") parts.push(s.message);
    return parts.join(" · ");
  }

  cue(zone, ramp, release, prewarn) {
    const before = this.prev;
    if (prewarn && !before.prewarn && zone !== "over" && zone !== "danger") this.sound.rise();
    if (zone === "danger") this.sound.startAlarm();
    else this.sound.stopAlarm();
    if (zone === "over" && before.zone !== "over" && before.zone !== "danger") this.sound.pulse();
    if (zone === "danger" && before.zone !== "danger") this.say("Stop");
    else if (zone === "over" && before.zone !== "over" && before.zone !== "danger") {
      this.say("Ease off");
    } else if (release && !before.release) this.say("Release");
    else if ((ramp && !before.ramp) || (prewarn && !before.prewarn)) this.say("Slow down");
    this.prev = { zone, ramp, release, prewarn };
  }

  say(cue) {
    if (!this.speech || this.sound.muted || !window.speechSynthesis) return;
    const now = performance.now();
    if (now - (this.said.get(cue) || -Infinity) < SAY_AGAIN_MS) return;
    this.said.set(cue, now);
    window.speechSynthesis.cancel();
    window.speechSynthesis.speak(new SpeechSynthesisUtterance(this.spoken(cue)));
  }

  /** A cue in words with the number in the user's unit: "Ease off, 12.3 newtons". */
  spoken(cue) {
    const words = CUE_WORDS[cue] || cue;
    const force = shownForce((this.state || {}).force_n);
    if (!Number.isFinite(force)) return words;
    const r = this.readout;
    return `${words}, ${numberIn(force, r)} ${SPOKEN_UNITS[r.unit] || r.unit}`;
  }
  draw() {
    this.frame = window.requestAnimationFrame(() => this.draw());
    if (!this.dirty) return;
    this.dirty = false;
    const s = this.state || {};
    drawChart(this.canvas, {
      t: this.t,
      f: this.f,
      start: this.start,
      now: this.offset === null ? 0 : performance.now() / 1000 - this.offset,
      windowS: this.config.window_s,
      limit: Number.isFinite(s.limit_n) ? s.limit_n : null,
      live: this.zone !== "no_signal",
      scale: this.readout.per_newton,
      unit: this.readout.unit,
      digits: this.readout.decimals,
    });
  }

  destroy() {
    window.clearInterval(this.timer);
    window.cancelAnimationFrame(this.frame);
    this.resize.disconnect();
    document.removeEventListener("pointerdown", this.unlock, true);
    document.removeEventListener("keydown", this.unlock, true);
    if (this.source) this.source.close();
    this.sound.close();
    if (window.speechSynthesis) window.speechSynthesis.cancel();
    this.root.__pgView = undefined;
  }
}

// Streamlit calls this on mount and again whenever the mount data changes; the view lives on the
// component's root element so a second call reconfigures it instead of opening a second stream.
export default function (component) {
  const { data, parentElement } = component;
  const root = parentElement.querySelector(".pg-live");
  if (!root) return undefined;
  let view = root.__pgView;
  if (!view) {
    view = new LiveView(root);
    root.__pgView = view;
  }
  view.configure(data);
  // Streamlit may call a superseded render's cleanup while the element stays mounted; only an
  // element really gone from the page is torn down (the watchdog also checks this).
  return () => {
    window.setTimeout(() => {
      if (!root.isConnected && root.__pgView) root.__pgView.destroy();
    }, 0);
  };
}
