"""``pressureguard calibrate SOURCE`` (the device calibration wizard in the terminal) and
``pressureguard calibrate show`` (the stored calibrations).

The wizard's logic is pure (:mod:`calibration.wizard`); this module reads the tool, shows a live
reading, reads the user's answers from stdin (a terminal or a pipe) and saves the result.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from calibration.wizard import CalibrationWizard, CheckResult, Fit, Reading, Step, parse_weight
from firmware_bridge.cli.record import add_source_arguments, source_options
from firmware_bridge.errors import SourceLostError, UsageError
from firmware_bridge.protocol.frames import FrameType
from firmware_bridge.readings import DeviceInfo, SampleBatch
from firmware_bridge.readout import chosen_unit, force_readout
from firmware_bridge.sources import open_source
from firmware_bridge.sources.base import Source
from firmware_bridge.sources.identity import fallback_device_id
from firmware_bridge.store import Store

EXIT_NOT_SAVED = 1
TARE_PROMPT = (
    "Step 1 - zero: take everything off the tool, lay it down and leave it still. "
    "Press Enter when the reading is steady."
)
WEIGHT_PROMPT = (
    "Step {n} - known weight: put a known weight on the tool's tip by itself (a kitchen weight, "
    "a bag of sugar), let go, and type its value when the reading is steady "
    "(e.g. 500g, 1kg, 5N, 2lbf), then Enter.{done}"
)
CHECK_PROMPT = (
    "Check: put a different known weight on the tool by itself and type its value to verify "
    "the calibration, or just press Enter to skip."
)
QUIT_WORDS = ("q", "quit", "exit")
#: How long the wizard waits for the tool's INFO (asked for with HELLO) before naming it itself.
ID_WAIT_S = 2.0
HELLO_AGAIN_S = 0.5


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register the ``calibrate`` command."""
    p = sub.add_parser(
        "calibrate",
        parents=[common],
        help="calibrate a tool's load cell with known weights, or `calibrate show`",
        description=(
            "The device calibration wizard: a zero, two or more known weights, a fit and a check "
            "weight. `pressureguard calibrate show` lists the stored calibrations."
        ),
    )
    add_source_arguments(p)
    p.add_argument("--device-id", metavar="ID", help="the tool's id (when it does not say it)")
    p.add_argument("--yes", action="store_true", help="save the calibration without asking")
    p.add_argument(
        "--settle", type=float, default=30.0, metavar="S", help="seconds to wait for steadiness"
    )
    p.add_argument("--json", action="store_true", help="show: as JSON")
    p.add_argument(
        "--history", action="store_true", help="show: every calibration, not just the current"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """``calibrate show`` or the wizard."""
    if args.source == "show":
        return cmd_show(args)
    if args.json or args.history:
        raise UsageError("--json and --history go with `pressureguard calibrate show`")
    if not args.settle > 0:
        raise UsageError("--settle is a number of seconds, more than 0")
    return _Wizard(args).run()


# -- show --------------------------------------------------------------------------------------


def cmd_show(args: argparse.Namespace) -> int:
    """Print the current calibration of every device (``--history``: all of them)."""
    with Store.open(args.data_dir) as store:
        rows = store.current_calibrations()
        if args.device_id:
            rows = [r for r in rows if r["device_id"] == args.device_id]
        if args.history:
            rows = [h for r in rows for h in store.calibration_history(r["device_id"])]
        # the scale stays per newton (what is stored); the noise reads in the user's unit
        noise = force_readout(chosen_unit(store)).finer(3)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("No device calibrations yet: run `pressureguard calibrate SOURCE` with the tool.")
        return 0
    print(
        f"{'device':<20} {'counts/N':>12} {'zero (counts)':>14}  {'linearity':>9}  "
        f"{'noise':>12}  check     date"
    )
    for row in rows:
        fit = row.get("fit") or {}
        lin = fit.get("linearity_pct")
        check = fit.get("check")
        verdict = "-" if not check else "verified" if check.get("verified") else "failed"
        lin_text = f"{lin:.2f} %" if isinstance(lin, int | float) else "-"
        noise_n = fit.get("noise_n")
        noise_text = noise.text(noise_n) if isinstance(noise_n, int | float) else "-"
        print(
            f"{row['device_id']:<20} {row['counts_per_n']:>12.3f} {row['offset_counts']:>14.0f}  "
            f"{lin_text:>9}  {noise_text:>12}  {verdict:<9} {str(row['created_at'])[:19]}"
        )
    return 0


# -- the wizard --------------------------------------------------------------------------------


def _stdin_lines() -> queue.Queue[str | None]:
    """Lines typed on stdin, read by a thread (a terminal or a pipe); None at the end."""
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in sys.stdin:
            lines.put(line.rstrip("\r\n"))
        lines.put(None)

    threading.Thread(target=read, name="calibrate-stdin", daemon=True).start()
    return lines


@dataclass
class _Pending:
    """An answer waiting for a steady reading: tare, weight or check."""

    kind: str
    force_n: float = 0.0
    force_tare: bool = False
    since: float = 0.0
    told: bool = False


class _Wizard:
    """The terminal side of the wizard: the tool, the answers, the live line, the store."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.wizard = CalibrationWizard()
        self.device_id: str | None = args.device_id
        self.tty = sys.stdout.isatty()
        self.pending: _Pending | None = None
        self.fit: Fit | None = None
        self.finished = False
        self.live_shown = False
        self.next_live = 0.0
        self.store: Store

    # -- output ---------------------------------------------------------------------------------

    def clear_live(self) -> None:
        """Wipe the in-place live line on a terminal, so a message starts on a clean line."""
        if self.tty and self.live_shown:
            sys.stdout.write("\r\x1b[K")
            sys.stdout.flush()
            self.live_shown = False

    def say(self, text: str) -> None:
        """A message on its own line (clearing the live line on a terminal)."""
        self.clear_live()
        print(text, flush=True)

    def live(self, reading: Reading) -> None:
        """The live reading: in place on a terminal, else one line a second."""
        now = time.monotonic()
        if now < self.next_live or reading.counts != reading.counts:  # NaN: nothing yet
            return
        self.next_live = now + (0.1 if self.tty else 1.0)
        filled = round(reading.stability * 10)
        bar = "#" * filled + "-" * (10 - filled)
        state = "steady" if reading.steady else "settling"
        force = self._force_text(reading.counts)
        line = f"  reading {reading.counts:12.0f} counts{force}  [{bar}] {state}"
        if self.tty:
            sys.stdout.write("\r" + line + "\x1b[K")
            sys.stdout.flush()
            self.live_shown = True
        else:
            print(line, flush=True)

    def _force_text(self, counts: float) -> str:
        if self.fit is not None:
            return f"  {self.wizard.weight(self.fit.force(counts)):>12}"
        zero = self.wizard.tare_counts
        k = self.wizard.reference_counts_per_n
        if zero is not None and k:
            return f"  ≈{self.wizard.shown.finer(1).text((counts - zero) / k):>11}"
        if zero is not None:
            return f"  {counts - zero:+9.0f} from zero"
        return ""

    # -- the loop -------------------------------------------------------------------------------

    def run(self) -> int:
        """Run the wizard until saved, quit, or the tool stops."""
        answers = _stdin_lines()
        with Store.open(self.args.data_dir) as store:
            self.store = store
            # a load cell measures force: a chosen pressure unit reads in its force unit here
            self.wizard.shown = force_readout(chosen_unit(store))
            if self.device_id:
                self._references(None)
            with open_source(self.args.source, source_options(self.args)) as source:
                source.send(FrameType.HELLO)
                self.say(
                    "Calibrating the tool's load cell. Type q and Enter at any time to quit "
                    "without saving."
                )
                self._identify(source)
                self.say(TARE_PROMPT)
                while not self.finished:
                    try:
                        readings = source.read(0.05)
                    except EOFError as exc:
                        raise SourceLostError(
                            "the tool stopped sending before the calibration was finished; "
                            "nothing was saved"
                        ) from exc
                    self._take(readings)
                    while not answers.empty():
                        answer = answers.get_nowait()
                        if answer is None:
                            self.clear_live()
                            print(
                                "pressureguard: no more answers on stdin; nothing was saved",
                                file=sys.stderr,
                            )
                            return EXIT_NOT_SAVED
                        if answer.strip().lower() in QUIT_WORDS:
                            self.say("Quit: nothing was saved.")
                            return EXIT_NOT_SAVED
                        self._answer(answer.strip())
                    self._resolve()
                    if not self.finished:
                        self.live(self.wizard.reading())
            return self._save(answers)

    def _identify(self, source: Source) -> None:
        """Know whose calibration this is before any work is done: the id the tool says in INFO
        (asked for with HELLO), else a stable one derived from the link, said at the start."""
        deadline = time.monotonic() + ID_WAIT_S
        hello_at = time.monotonic() + HELLO_AGAIN_S
        while self.device_id is None and time.monotonic() < deadline:
            if time.monotonic() >= hello_at:  # a tool that resets as the port opens missed it
                source.send(FrameType.HELLO)
                hello_at += HELLO_AGAIN_S
            try:
                self._take(source.read(0.05))
            except EOFError:
                break
        if self.device_id is None:
            self.device_id = fallback_device_id(self.args.source)
            self._references(None)
            self.say(
                f"The tool did not say its id: this calibration will be kept for "
                f"{self.device_id}, which the bridge uses for this tool too (name it yourself "
                "with --device-id ID)."
            )

    def _take(self, readings: Sequence[object]) -> None:
        """What the tool sent: its INFO (id, previous zero and scale) and its samples."""
        for reading in readings:
            if isinstance(reading, DeviceInfo):
                self._references(reading)
            elif isinstance(reading, SampleBatch):
                self._feed(reading)

    def _references(self, info: DeviceInfo | None) -> None:
        """The tool's previous zero and scale: the stored calibration, else INFO's."""
        if info is not None and not self.args.device_id:
            self.device_id = info.device_id
        stored = self.store.current_calibration(self.device_id) if self.device_id else None
        if stored:
            self.wizard.reference_zero = float(stored["offset_counts"])
            self.wizard.reference_counts_per_n = float(stored["counts_per_n"])
        elif info is not None and info.counts_per_n:
            self.wizard.reference_zero = info.offset_counts or 0.0
            self.wizard.reference_counts_per_n = info.counts_per_n

    def _feed(self, batch: SampleBatch) -> None:
        if batch.force_n is not None and not (batch.raw == batch.raw).any():
            raise UsageError(
                "the tool sends force, not raw counts: calibrate with --text-unit counts"
            )
        self.wizard.feed(batch.t, batch.raw)

    def _answer(self, text: str) -> None:
        """What the user typed, in the current step."""
        step = self.wizard.step
        lower = text.lower()
        if step is Step.TARE:
            if lower in ("", "force"):
                self._wait("tare", force_tare=lower == "force")
            else:
                self.say("Press Enter (nothing else) to take the zero once the tool is empty.")
            return
        if step is Step.WEIGHTS and lower == "done":
            self._finish()
            return
        if step is Step.CHECK and lower in ("", "done", "skip"):
            self.finished = True
            return
        if not text:
            self.say("Type the weight's value, e.g. 500g, then Enter.")
            return
        try:
            force_n = parse_weight(text)
        except UsageError as exc:
            self.say(str(exc))
            return
        self._wait("weight" if step is Step.WEIGHTS else "check", force_n=force_n)

    def _wait(self, kind: str, *, force_n: float = 0.0, force_tare: bool = False) -> None:
        self.pending = _Pending(kind, force_n, force_tare, time.monotonic())
        what = "the zero" if kind == "tare" else self.wizard.weight(force_n)
        self.say(f"Measuring {what}: keep still…")

    def _resolve(self) -> None:
        """Act on a pending answer once a whole steady window came in after it."""
        pending = self.pending
        if pending is None:
            return
        waited = time.monotonic() - pending.since
        reading = self.wizard.reading()
        if waited < self.wizard.config.window_s + 0.1 or not reading.steady:
            if waited > self.args.settle:
                self.pending = None
                self.say(
                    f"The reading did not settle in {self.args.settle:g} s: make sure nothing "
                    "touches the tool or the weight, then answer again."
                )
            return
        self.pending = None
        if pending.kind == "tare":
            result = self.wizard.tare(force=pending.force_tare)
            self.say(("Zero: " if result.accepted else "Not taken: ") + result.message)
            if result.accepted:
                self.say(WEIGHT_PROMPT.format(n=2, done=""))
        elif pending.kind == "weight":
            result = self.wizard.add_weight(pending.force_n)
            self.say(("OK, " if result.accepted else "Not taken: ") + result.message)
            n = self.wizard.n_weights
            enough = n >= self.wizard.config.min_weights
            done = " Or type done to finish." if enough else ""
            if result.accepted:
                self.say(WEIGHT_PROMPT.format(n=n + 2, done=done))
        else:
            outcome = self.wizard.check(pending.force_n)
            if isinstance(outcome, CheckResult):
                self.say(outcome.message[:1].upper() + outcome.message[1:] + ".")
                if outcome.verified:
                    self.finished = True
                else:
                    self.say(
                        "Was the value typed right? Take the weight off and try the check again "
                        "(type its value), press Enter to keep the calibration anyway, or q to "
                        "quit without saving."
                    )
            else:
                self.say("Not taken: " + outcome.message)

    def _finish(self) -> None:
        try:
            self.fit = self.wizard.finish()
        except UsageError as exc:
            self.say(f"Not yet: {exc}.")
            return
        self.pending = None
        self.say("The fit:")
        for line in self.fit.words(self.wizard.shown):
            self.say(f"  {line}")
        self.say(CHECK_PROMPT)

    def _save(self, answers: queue.Queue[str | None]) -> int:
        assert self.device_id is not None  # _identify named the tool before the work began
        fit = self.wizard.result()
        assert self.fit is not None
        check = fit["check"]
        if check is not None and not check["verified"]:
            self.say("Kept although the check weight disagreed: the calibration may be off.")
        if not self.args.yes:
            self.say(f"Save this calibration for {self.device_id}? [y/N]")
            answer = answers.get()
            if (answer or "").strip().lower() not in ("y", "yes"):
                self.say("Not saved.")
                return EXIT_NOT_SAVED
        fit["source"] = self.args.source
        row = self.store.save_calibration(
            self.device_id, self.fit.counts_per_n, self.fit.offset_counts, fit
        )
        self.say(
            f"Saved calibration #{row} for {self.device_id}: {self.fit.counts_per_n:.3f} counts/N, "
            f"zero {self.fit.offset_counts:.0f} counts."
        )
        return 0
