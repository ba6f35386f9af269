"""The Calibrate page's wizard: the steps of ``pressureguard calibrate`` in the browser.

The wizard itself is :class:`calibration.wizard.CalibrationWizard` (pure, fed with times and raw
counts). This module keeps one per tool in ``st.session_state``, feeds it from the bridge's live
feed (:meth:`Store.live_since`) in a fragment that reruns every half second, and turns the
user's clicks into its steps. Saving stores the fit for the tool's device id and asks the bridge
to reload it (``calibration_reload``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import streamlit as st

from calibration.wizard import CalibrationWizard, CheckResult, Fit, Step, StepResult, parse_weight
from dashboard import resources
from firmware_bridge.errors import PressureGuardError, UsageError
from firmware_bridge.readout import chosen_unit, force_readout
from firmware_bridge.store import Store

#: How often the wizard's fragment pulls new samples (seconds).
REFRESH_S = 0.5
#: Units offered for a known weight (what :func:`parse_weight` understands).
UNITS: tuple[str, ...] = ("g", "kg", "N", "lbf")
#: How much of the live feed the first pull takes (seconds).
FIRST_PULL_S = 2.0
#: The live samples are fed to the wizard in slices of this many seconds.
FEED_SLICE_S = 0.1

_KEY = "pg_calibration_wizard"

TARE_TEXT = (
    "**Step 1 — zero.** Take everything off the tool, lay it down and leave it still. "
    "Press **Set zero** when the reading is steady."
)
WEIGHT_TEXT = (
    "**Step {n} — known weight.** Put a known weight on the tool's tip by itself (a kitchen "
    "weight, a bag of sugar) and let go. Enter its value and press **Record this weight** when "
    "the reading is steady. Take each weight off before the next one."
)
FINISH_TEXT = "Two or more weights are recorded: add another one, or press **Finish**."
CHECK_TEXT = (
    "**Check (optional).** Put a different known weight on the tool by itself, enter its value "
    "and press **Check this weight** to verify the calibration. Or save it straight away."
)


@dataclass
class WizardRun:
    """One calibration in progress for one tool, kept in ``st.session_state``.

    Attributes:
        device_id: the tool being calibrated.
        wizard: the pure state machine.
        last_id: the newest live-feed chunk fed.
        rows_seen: live samples pulled, raw counts or not.
        last_t: the newest sample time fed (after ``t_offset``).
        t_offset: added to the feed's times, so they keep rising when the bridge restarts its clock.
        fit: the fit, once finished.
        messages: what the last action said, as (kind, text) with kind info/success/warning.
        saved_id: the calibration's row id once saved.
        command_id: the ``calibration_reload`` command posted after saving.
    """

    device_id: str
    wizard: CalibrationWizard
    last_id: int = 0
    rows_seen: int = 0
    last_t: float = -math.inf
    t_offset: float = 0.0
    fit: Fit | None = None
    messages: list[tuple[str, str]] = field(default_factory=list)
    saved_id: int | None = None
    command_id: int | None = None


def new_run(store: Store, device_id: str) -> WizardRun:
    """A fresh wizard for ``device_id``, told the tool's stored zero and scale (if any), as the
    terminal wizard is, so a zero taken under load can be spotted."""
    wizard = CalibrationWizard()
    stored = store.current_calibration(device_id)
    if stored:
        wizard.reference_zero = float(stored["offset_counts"])
        wizard.reference_counts_per_n = float(stored["counts_per_n"])
    return WizardRun(device_id, wizard)


def current_run(store: Store, device_id: str) -> WizardRun:
    """The wizard of this browser session for ``device_id`` (a new one for another tool)."""
    runs: dict[str, WizardRun] = st.session_state.setdefault(_KEY, {})
    run = runs.get(device_id)
    if run is None:
        run = runs[device_id] = new_run(store, device_id)
    return run


def reset_run(store: Store, device_id: str) -> None:
    """Start the calibration of ``device_id`` over."""
    runs: dict[str, WizardRun] = st.session_state.setdefault(_KEY, {})
    runs[device_id] = new_run(store, device_id)


def pull(store: Store, run: WizardRun) -> int:
    """Feed the wizard the live samples that came in since the last pull.

    The live feed carries the connected tool's samples only; the caller checks that the tool is
    still ``run.device_id``.

    Returns:
        How many samples were fed.
    """
    last_id, samples = store.live_since(run.last_id, FIRST_PULL_S)
    run.last_id = last_id
    if not len(samples):
        return 0
    run.rows_seen += len(samples)
    t = np.asarray(samples.t_s, dtype=np.float64) + run.t_offset
    raw = np.asarray(samples.raw, dtype=np.float64)
    if math.isfinite(run.last_t) and len(t) and t[0] < run.last_t - 1.0:
        # The bridge restarted its clock (a new session): carry on from the last time.
        shift = run.last_t - t[0] + 1e-3
        run.t_offset += shift
        t = t + shift
    newer = t > run.last_t
    t, raw = t[newer], raw[newer]
    if not len(t):
        return 0
    run.last_t = float(t[-1])
    # Fed in short slices, as the terminal wizard is fed, so a weight taken off and the next one
    # put on between two pulls is still seen as an empty tool in between.
    edges = np.arange(t[0] + FEED_SLICE_S, t[-1], FEED_SLICE_S)
    for part_t, part_raw in zip(
        np.split(t, np.searchsorted(t, edges)),
        np.split(raw, np.searchsorted(t, edges)),
        strict=True,
    ):
        if len(part_t):
            run.wizard.feed(part_t, part_raw)
    return len(t)


def page_words(message: str) -> str:
    """The wizard's message with the terminal's keys turned into the page's buttons."""
    return (
        message.replace("then press Enter", "then press Set zero")
        .replace("type 'force' to take this zero anyway", "press Set zero anyway")
        .replace("the tool empty, then Enter", "the tool empty, then Set zero")
        .replace("then type its value", "then record it")
    )


def _say(run: WizardRun, result: StepResult, accepted_prefix: str) -> None:
    """Keep a step's outcome to show, worded as the terminal wizard words it."""
    text = page_words(result.message)
    if not text.endswith("."):
        text += "."
    if result.accepted:
        if not accepted_prefix:
            text = text[:1].upper() + text[1:]
        run.messages = [("success", accepted_prefix + text)]
    else:
        run.messages = [("warning", "Not taken: " + text)]


def _weight_n(value: float | None, unit: str) -> float | None:
    """The entered weight in newtons, or None (with a warning on the page)."""
    if value is None:
        st.warning("Enter the weight's value first.")
        return None
    try:
        return parse_weight(f"{value:g}{unit}")
    except UsageError as exc:
        st.warning(str(exc))
        return None


def _reading(run: WizardRun) -> None:
    """The live reading and its steadiness."""
    reading = run.wizard.reading()
    if math.isnan(reading.counts):
        if run.rows_seen:
            st.warning(
                "The tool sends force, not raw counts: start the bridge with "
                "`--text-unit counts` to calibrate it."
            )
        else:
            st.info("Waiting for the tool's readings…")
        return
    state = "Steady" if reading.steady else "Settling… keep still"
    extra = ""
    zero = run.wizard.tare_counts
    if run.fit is not None:
        extra = f" · {run.wizard.weight(run.fit.force(reading.counts))}"
    elif zero is not None:
        extra = f" · {reading.counts - zero:+.0f} from zero"
    st.progress(
        min(max(reading.stability, 0.0), 1.0),
        text=f"**{state}** — reading {reading.counts:.0f} counts{extra}",
    )


def _weight_inputs(prefix: str) -> tuple[float | None, str]:
    left, right = st.columns([3, 1])
    value = left.number_input(
        "Known weight", min_value=0.0, value=None, step=1.0, key=f"{prefix}_value"
    )
    unit = right.selectbox("Unit", UNITS, key=f"{prefix}_unit")
    return value, str(unit)


def _tare_step(run: WizardRun) -> None:
    st.markdown(TARE_TEXT)
    force = any("something is pressing" in text for _, text in run.messages)
    if st.button("Set zero", key="pg_cal_tare", type="primary"):
        _say(run, run.wizard.tare(), "Zero: ")
    elif force and st.button("Set zero anyway (it really is empty)", key="pg_cal_tare_force"):
        _say(run, run.wizard.tare(force=True), "Zero: ")


def _weights_step(run: WizardRun) -> None:
    wizard = run.wizard
    st.markdown(WEIGHT_TEXT.format(n=wizard.n_weights + 2))
    value, unit = _weight_inputs("pg_cal_weight")
    if st.button("Record this weight", key="pg_cal_record", type="primary"):
        force_n = _weight_n(value, unit)
        if force_n is not None:
            _say(run, wizard.add_weight(force_n), "OK, ")
    if wizard.n_weights >= wizard.config.min_weights:
        st.markdown(FINISH_TEXT)
    if st.button("Finish", key="pg_cal_finish"):
        try:
            run.fit = wizard.finish()
            run.messages = []
        except UsageError as exc:
            run.messages = [("warning", f"Not yet: {exc}.")]


def _check_step(run: WizardRun) -> None:
    wizard = run.wizard
    assert run.fit is not None
    st.markdown("**The fit**")
    st.markdown("\n".join(f"- {line}" for line in run.fit.words(wizard.shown)))
    if run.saved_id is not None:
        return
    st.markdown(CHECK_TEXT)
    value, unit = _weight_inputs("pg_cal_check")
    if st.button("Check this weight", key="pg_cal_check"):
        force_n = _weight_n(value, unit)
        if force_n is not None:
            outcome = wizard.check(force_n)
            if isinstance(outcome, CheckResult):
                text = outcome.message[:1].upper() + outcome.message[1:] + "."
                if outcome.verified:
                    run.messages = [("success", text)]
                else:
                    run.messages = [
                        ("warning", text),
                        (
                            "info",
                            "Was the value entered right? Take the weight off and check again, "
                            "or save the calibration anyway.",
                        ),
                    ]
            else:
                _say(run, outcome, "")


def _save(store: Store, run: WizardRun) -> None:
    """Store the fit for the tool and ask the bridge to use it."""
    assert run.fit is not None
    fit = run.wizard.result()
    fit["source"] = "dashboard"
    try:
        run.saved_id = store.save_calibration(
            run.device_id, run.fit.counts_per_n, run.fit.offset_counts, fit
        )
    except PressureGuardError as exc:
        run.messages = [("warning", f"Could not save the calibration: {exc}")]
        return
    check = fit.get("check")
    run.messages = [
        (
            "success",
            f"Saved calibration #{run.saved_id} for {run.device_id}: "
            f"{run.fit.counts_per_n:.3f} counts/N, zero {run.fit.offset_counts:.0f} counts.",
        )
    ]
    if check is not None and not check.get("verified"):
        run.messages.append(
            ("info", "Kept although the check weight disagreed: the calibration may be off.")
        )
    try:
        run.command_id = store.post_command("calibration_reload", {"device_id": run.device_id})
    except PressureGuardError:
        run.command_id = None


def _bridge_answer(store: Store, run: WizardRun) -> None:
    """Whether the bridge took the new calibration (quietly: it uses it on reconnect anyway)."""
    later = "The bridge will use it when the tool reconnects."
    if run.command_id is None:
        st.caption(later)
        return
    try:
        command = store.get_command(run.command_id)
    except PressureGuardError:
        st.caption(later)
        return
    result: dict[str, Any] = command.get("result") or {}
    if command.get("done_at") and result.get("ok", True):
        st.caption("The bridge uses the new calibration now.")
    elif command.get("done_at"):
        st.caption(later)
    else:
        st.caption("Telling the bridge to use it… " + later)


def wizard_panel(store: Store) -> None:
    """The "Calibrate this tool" steps, fed from the live feed (run as a fragment)."""
    try:
        state = resources.fresh_state(store.get_live())
    except PressureGuardError as exc:
        st.warning(f"Cannot read the tool's state: {exc}")
        return
    device_id = (state or {}).get("device_id")
    if not state or not state.get("connected") or not device_id:
        st.info("The tool is no longer connected: reconnect it to go on calibrating.")
        return
    device_id = str(device_id)
    run = current_run(store, device_id)
    try:
        # a load cell measures force: a chosen pressure unit reads in its force unit here
        run.wizard.shown = force_readout(chosen_unit(store))
        pull(store, run)
    except PressureGuardError as exc:
        st.warning(f"Cannot read the tool's readings: {exc}")
        return
    st.caption(f"Tool **{device_id}**")
    _reading(run)
    if run.wizard.step is Step.TARE:
        _tare_step(run)
    if run.wizard.step is Step.WEIGHTS and run.fit is None:
        _weights_step(run)
    if run.fit is not None:
        _check_step(run)
        if run.saved_id is None and st.button(
            "Save this calibration", key="pg_cal_save", type="primary"
        ):
            _save(store, run)
    for kind, text in run.messages:
        {"success": st.success, "warning": st.warning}.get(kind, st.info)(text)
    if run.saved_id is not None:
        _bridge_answer(store, run)
    if run.wizard.tare_counts is not None:
        st.button("Start over", key="pg_cal_reset", on_click=reset_run, args=(store, device_id))


def show(store: Store, state: dict[str, Any] | None) -> None:
    """The "Calibrate this tool" section: the wizard when a bridge serves a tool, else how to
    start one."""
    st.subheader("Calibrate this tool")
    if state is None:
        st.info(
            "No bridge is running. Start one with the tool connected: `pressureguard run SOURCE` "
            "(e.g. `pressureguard run /dev/ttyACM0`), then open this page again. Or calibrate in "
            "the terminal: `pressureguard calibrate SOURCE`."
        )
        return
    if not state.get("connected") or not state.get("device_id"):
        st.info(
            "Connect the tool to calibrate it. Or calibrate in the terminal: "
            "`pressureguard calibrate SOURCE`."
        )
        return
    st.fragment(run_every=REFRESH_S)(wizard_panel)(store)
