// PressureGuard live view: warning sounds (WebAudio) and the user's sound preferences.

const PREF_MUTE = "pressureguard.mute";
const PREF_SPEECH = "pressureguard.speech";
const SAY_AGAIN_MS = 4000;

function loadPref(name) {
  try {
    return window.localStorage.getItem(name) === "1";
  } catch (err) {
    return false;
  }
}

function savePref(name, on) {
  try {
    window.localStorage.setItem(name, on ? "1" : "0");
  } catch (err) {
    // private mode: the preference lasts for this page only
  }
}

/** WebAudio cues: a short pulse on entering "over", a steady beeping alarm while in "danger".
 * Browsers allow sound only after a user gesture, so the context is created on the first click
 * or key press anywhere on the page (e.g. "Start session") or on "Enable sound". */
class Sound {
  constructor() {
    this.ctx = null;
    this.alarm = null;
    this.muted = loadPref(PREF_MUTE);
  }

  unlock() {
    const AudioCtx = window.AudioContext || window.webkitAudioContext;
    if (!AudioCtx) return;
    if (!this.ctx) this.ctx = new AudioCtx();
    if (this.ctx.state === "suspended") this.ctx.resume().catch(() => {});
  }

  get ready() {
    return this.ctx !== null && this.ctx.state === "running";
  }

  pulse() {
    if (this.muted || !this.ready) return;
    const now = this.ctx.currentTime;
    const osc = this.ctx.createOscillator();
    const amp = this.ctx.createGain();
    osc.frequency.value = 660;
    amp.gain.setValueAtTime(0, now);
    amp.gain.linearRampToValueAtTime(0.25, now + 0.02);
    amp.gain.setValueAtTime(0.25, now + 0.22);
    amp.gain.linearRampToValueAtTime(0, now + 0.3);
    osc.connect(amp).connect(this.ctx.destination);
    osc.start(now);
    osc.stop(now + 0.32);
  }

  /** The pre-warning: a short tone gliding upwards, softer than the "over" pulse. */
  rise() {
    if (this.muted || !this.ready) return;
    const now = this.ctx.currentTime;
    const osc = this.ctx.createOscillator();
    const amp = this.ctx.createGain();
    osc.frequency.setValueAtTime(440, now);
    osc.frequency.exponentialRampToValueAtTime(620, now + 0.25);
    amp.gain.setValueAtTime(0, now);
    amp.gain.linearRampToValueAtTime(0.15, now + 0.03);
    amp.gain.linearRampToValueAtTime(0, now + 0.28);
    osc.connect(amp).connect(this.ctx.destination);
    osc.start(now);
    osc.stop(now + 0.3);
  }

  // The alarm's on/off rhythm comes from a low-frequency oscillator in the audio graph, so it
  // keeps going in a background tab where timers are throttled.
  startAlarm() {
    if (this.alarm || this.muted || !this.ready) return;
    const ctx = this.ctx;
    const tone = ctx.createOscillator();
    const amp = ctx.createGain();
    const lfo = ctx.createOscillator();
    const depth = ctx.createGain();
    const out = ctx.createGain();
    tone.frequency.value = 880;
    lfo.type = "square";
    lfo.frequency.value = 2.5;
    depth.gain.value = 0.5;
    amp.gain.value = 0.5;
    out.gain.value = 0.3;
    lfo.connect(depth).connect(amp.gain);
    tone.connect(amp).connect(out).connect(ctx.destination);
    tone.start();
    lfo.start();
    this.alarm = { tone, lfo, out };
  }

  stopAlarm() {
    if (!this.alarm) return;
    const { tone, lfo, out } = this.alarm;
    this.alarm = null;
    try {
      tone.stop();
      lfo.stop();
      out.disconnect();
    } catch (err) {
      // already stopped
    }
  }

  close() {
    this.stopAlarm();
    if (this.ctx) this.ctx.close().catch(() => {});
    this.ctx = null;
  }
}
