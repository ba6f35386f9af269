"""Running a guided pressure-pain-threshold measurement against a live tool.

The protocol itself is pure (:mod:`calibration.ppt`); this feeds it calibrated, smoothed force on
the tool's own clock and the tool's button presses as "it starts to hurt" marks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from calibration.device import resolve_calibration
from calibration.guided import GuidedMeasurement, MeasurementSettings
from calibration.ppt import PptProtocol, PptSummary, TrialResult
from firmware_bridge.pipeline.signal import PipelineConfig, SignalPipeline
from firmware_bridge.protocol.frames import FrameType
from firmware_bridge.readings import ButtonEvent, DeviceInfo, SampleBatch
from firmware_bridge.readout import DEFAULT_UNIT, Readout, readout
from firmware_bridge.sources import SourceOptions, open_source
from firmware_bridge.store import Store

log = logging.getLogger(__name__)

#: No comfort limit is judged while measuring a threshold: the pipeline only calibrates and smooths.
_UNJUDGED_LIMIT_N = 1e9


@dataclass(frozen=True, slots=True)
class MeasureOptions:
    """Where ``limits measure`` reads the tool, what it measures, and how it shows force (the
    user's unit; pressure only on a known flat tip)."""

    source: str
    source_options: SourceOptions
    settings: MeasurementSettings
    shown: Readout = field(default_factory=lambda: readout(DEFAULT_UNIT))


@dataclass(frozen=True, slots=True)
class MeasureOutcome:
    """How a measurement ended: the summary and every trial made, accepted or not."""

    summary: PptSummary
    trials: list[TrialResult]
    measurement: GuidedMeasurement


def measure_ppt(
    store: Store,
    options: MeasureOptions,
    say: Callable[[str], None],
    keyboard_mark: Callable[[], bool] | None = None,
) -> MeasureOutcome:
    """Guide the user through the trials; returns the outcome (maybe incomplete).

    Args:
        store: for a stored device calibration.
        options: source and protocol settings.
        say: how to talk to the user (the CLI prints).
        keyboard_mark: polled for a mark from the keyboard (Enter), besides the tool's button.

    Raises:
        SourceError: the source cannot be opened.
    """
    measurement = GuidedMeasurement(options.settings)
    protocol = measurement.protocol
    pipeline = SignalPipeline(PipelineConfig(limit_n=_UNJUDGED_LIMIT_N))
    next_status = 0.0
    with open_source(options.source, options.source_options) as source:
        source.send(FrameType.HELLO)
        say("Press slowly on the spot; press the tool's button (or Enter) when it starts to hurt.")
        while not measurement.done:
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
                    measurement.mark(reading.t)
                elif isinstance(reading, SampleBatch):
                    _feed(measurement, pipeline, reading)
            if keyboard_mark is not None and keyboard_mark():
                measurement.mark()
            for result in measurement.new_results():  # the trials that ended in this read
                say(_describe(result, len(protocol.accepted), protocol.trials, options.shown))
            now = time.monotonic()
            if now >= next_status:
                next_status = now + 1.0
                _coach(protocol, measurement.now, say, options.shown)
    return MeasureOutcome(measurement.summary(), protocol.results(), measurement)


def _feed(measurement: GuidedMeasurement, pipeline: SignalPipeline, batch: SampleBatch) -> None:
    judged, _events = pipeline.process(batch.t, batch.raw, batch.force_n, batch.period_s)
    if judged is not None and len(judged):
        measurement.feed(judged.t_s, judged.force_n, judged.filtered_n)  # announced by the caller


def _coach(protocol: PptProtocol, now: float, say: Callable[[str], None], shown: Readout) -> None:
    status = protocol.status(now)
    if status["state"] == "rest":
        say(f"Rest: {status['rest_left_s']:.0f} s before trial {status['trial']}.")
    elif status["coach"] and status["rate_kpa_s"] is not None:
        words = {"slower": "slower, please", "faster": "a little faster", "good": "good pace"}
        force = status["force_n"]
        now_at = f"{shown.text(force)}, " if isinstance(force, int | float) else ""
        say(f"{now_at}{status['rate_kpa_s']:.0f} kPa/s: {words[str(status['coach'])]}")


def _describe(result: TrialResult, accepted: int, needed: int, shown: Readout) -> str:
    if result.accepted and result.ppt_n is not None:
        return (
            f"Trial accepted: pain began at {shown.text(result.ppt_n)} "
            f"(ramp {result.ramp_kpa_s:.0f} kPa/s). {accepted} of {needed} done."
        )
    return f"Trial not used: {result.reason}. It will be repeated after the rest."
