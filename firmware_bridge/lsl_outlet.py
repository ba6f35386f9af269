"""A Lab Streaming Layer outlet: calibrated force, filtered force and zone, on LSL's clock.

Research labs record force beside EEG or EMG with LSL: LabRecorder or any inlet picks this
stream up by its name (``PressureGuard``) or type (``Force``). Three float32 channels per sample:
``force`` and ``filtered`` in newtons and ``zone`` (-2 no signal, -1 uncalibrated, 0 relaxed,
1 target, 2 over, 3 danger, as :class:`~firmware_bridge.zones.Zone`).

**Time.** Each sample carries the tool's own clock, mapped onto LSL's clock
(:func:`pylsl.local_clock`). The mapping is the smallest (arrival − device time) seen over the
last :data:`SYNC_WINDOW` batches: transmission only ever adds delay, so the smallest is the
closest to the truth, and device-clock spacing between samples is kept exactly. A new clock
segment (a reconnect, a tool restart) starts the estimate afresh.

pylsl is optional (``pip install pressureguard[lsl]``); it ships liblsl in its wheel. Discovery
stays on this machine only when ``LSLAPICFG`` points at a config with ``ResolveScope = machine``
(LSL's default also announces the stream on the local network).
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

import numpy as np

from firmware_bridge.errors import SourceUnavailableError
from firmware_bridge.zones import JudgedSamples

log = logging.getLogger(__name__)

STREAM_NAME = "PressureGuard"
STREAM_TYPE = "Force"
CHANNELS = (("force", "newtons"), ("filtered", "newtons"), ("zone", "level"))
SYNC_WINDOW = 200


class LslOutlet:
    """Pushes judged samples to an LSL outlet.

    Args:
        source_id: a stable id for the stream (the tool's id), so an inlet can resume after a
            restart of the bridge.
        rate_hz: the nominal sample rate (0 for irregular).

    Raises:
        SourceUnavailableError: pylsl is not installed.
    """

    def __init__(self, source_id: str, rate_hz: float = 0.0) -> None:
        try:
            import pylsl  # noqa: PLC0415 - optional: only when the user asks for LSL
        except ImportError as exc:
            raise SourceUnavailableError(
                "the LSL outlet needs pylsl: pip install 'pressureguard[lsl]'"
            ) from exc
        self._pylsl: Any = pylsl
        info = pylsl.StreamInfo(
            STREAM_NAME, STREAM_TYPE, len(CHANNELS), rate_hz, "float32", source_id
        )
        channels = info.desc().append_child("channels")
        for label, unit in CHANNELS:
            channel = channels.append_child("channel")
            channel.append_child_value("label", label)
            channel.append_child_value("unit", unit)
        info.desc().append_child_value("manufacturer", "PressureGuard")
        self.name = STREAM_NAME
        self._outlet: Any = pylsl.StreamOutlet(info)
        self._offsets: deque[float] = deque(maxlen=SYNC_WINDOW)
        self.pushed = 0

    def new_segment(self) -> None:
        """The samples' clock may have changed (reconnect, restart): map it afresh."""
        self._offsets.clear()

    def push(self, judged: JudgedSamples) -> None:
        """Send a block of judged samples, stamped on LSL's clock."""
        if len(judged) == 0:
            return
        t = np.asarray(judged.t_s, dtype=np.float64)
        self._offsets.append(float(self._pylsl.local_clock()) - float(t[-1]))
        offset = min(self._offsets)
        data = np.column_stack(
            (judged.force_n, judged.filtered_n, np.asarray(judged.zone, dtype=np.float64))
        ).astype(np.float32)
        self._outlet.push_chunk(data, (t + offset).tolist())
        self.pushed += len(judged)

    def close(self) -> None:
        """Withdraw the stream."""
        self._outlet = None
