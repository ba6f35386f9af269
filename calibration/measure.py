"""Running a guided pressure-pain-threshold measurement against a live tool.

The protocol itself is pure (:mod:`calibration.ppt`); this feeds it calibrated, smoothed force on
the tool's own clock and the tool's button presses as "it starts to hurt" marks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from calibration.device import resolve_calibration
from calibration.ppt import FLOOR_N, PptProtocol, PptSummary, TrialResult
from firmware_bridge.pipeline.signal import PipelineConfig, SignalPipeline
from firmware_bridge.protocol.frames import FrameType
from firmware_bridge.readings import ButtonEvent, DeviceInfo, SampleBatch
from firmware_bridge.sources import SourceOptions, open_source
from firmware_bridge.store import Store

log = logging.getLogger(__name__)

#: No comfort limit is judged while measuring a threshold: the pipeline only calibrates and smooths.
_UNJUDGED_LIMIT_N = 1e9


@dataclass(frozen=True, slots=True)
class MeasureOptions:
    """What ``limits measure`` was asked."""

    source: str
    source_options: SourceOptions
    fraction: float = 1.0
    rest_s: float = 30.0
    tip_area_cm2: float | None = None


def measure_ppt(
    store: Store,
    options: MeasureOptions,
    say: Callable[[str], None],
    keyboard_mark: Callable[[], bool] | None = None,
) -> PptSummary:
    """Guide the user through the trials; returns the summary (maybe incomplete).

    Args:
        store: for a stored device calibration.
        options: source and protocol settings.
        say: how to talk to the user (the CLI prints).
        keyboard_mark: polled for a mark from the keyboard (Enter), besides the tool's button.

    Raises:
        SourceError: the source cannot be opened.
    """
    protocol = PptProtocol(options.tip_area_cm2, fraction=options.fraction, rest_s=options.rest_s)
    pipeline = SignalPipeline(PipelineConfig(limit_n=_UNJUDGED_LIMIT_N))
    announced = 0
    next_status = 0.0
    last_t = 0.0
    with open_source(options.source, options.source_options) as source:
        source.send(FrameType.HELLO)
        say("Press slowly on the spot; press the tool's button (or Enter) when it starts to hurt.")
        while protocol.status(last_t)["state"] != "done":
            try:
                readings = source.read(0.05)
            except EOFError:
                break
            for reading in readings:
                if isinstance(reading, DeviceInfo):
                    stored = store.current_calibration(reading.device_id)
                    pipeline.set_calibration(
                        resolve_calibration(
                            reading.device_id, stored, reading.counts_per_n, reading.offset_counts
                        )
                    )
                elif isinstance(reading, ButtonEvent) and reading.pressed:
                    protocol.mark(reading.t)
                elif isinstance(reading, SampleBatch):
                    last_t = _feed(protocol, pipeline, reading)
            if keyboard_mark is not None and keyboard_mark():
                protocol.mark(last_t)
            for result in protocol.results()[announced:]:
                say(_describe(result, len(protocol.accepted), protocol.trials))
                announced += 1
            now = time.monotonic()
            if now >= next_status:
                next_status = now + 1.0
                _coach(protocol, last_t, say)
    return protocol.summary()


def _feed(protocol: PptProtocol, pipeline: SignalPipeline, batch: SampleBatch) -> float:
    judged, _events = pipeline.process(batch.t, batch.raw, batch.force_n, batch.period_s)
    if judged is None or len(judged) == 0:
        return float(batch.t[-1])
    # A trial may end and the next start inside one block (a replay at full speed), so the
    # state is followed sample by sample. The analysis fits its own line: it gets the unsmoothed
    # force (no filter lag); a trial starts when the smoothed force leaves zero.
    t, force, smooth = judged.t_s, judged.force_n, judged.filtered_n
    for k in range(len(t)):
        state = protocol.state_at(float(t[k]))
        if state == "ready" and smooth[k] > FLOOR_N:
            protocol.start_trial(float(t[k]))
            state = "pressing"
        if state == "pressing":
            protocol.feed(t[k], force[k])
    return float(t[-1])


def _coach(protocol: PptProtocol, now: float, say: Callable[[str], None]) -> None:
    status = protocol.status(now)
    if status["state"] == "rest":
        say(f"Rest: {status['rest_left_s']:.0f} s before trial {status['trial']}.")
    elif status["coach"] and status["rate_kpa_s"] is not None:
        words = {"slower": "slower, please", "faster": "a little faster", "good": "good pace"}
        say(f"{status['rate_kpa_s']:.0f} kPa/s: {words[str(status['coach'])]}")


def _describe(result: TrialResult, accepted: int, needed: int) -> str:
    if result.accepted and result.ppt_n is not None:
        return (
            f"Trial accepted: pain began at {result.ppt_n:.1f} N "
            f"(ramp {result.ramp_kpa_s:.0f} kPa/s). {accepted} of {needed} done."
        )
    return f"Trial not used: {result.reason}. It will be repeated after the rest."
