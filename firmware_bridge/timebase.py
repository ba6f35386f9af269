"""Session time: one continuous clock for a session, across reconnects and tool restarts.

Samples carry the tool's own clock (or the host's, for text). The first sample of a session is
``t_s = 0``. After a reconnect or a tool restart the old mapping is kept when it still fits (the
tool's clock ran on; the gap is then measured exactly), otherwise the new segment is anchored just
after the last sample plus the wall-clock time that passed.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Slack when checking that a kept mapping agrees with the wall clock.
AGREEMENT_S = 2.0


class TimeBase:
    """Maps source times to session seconds."""

    def __init__(self) -> None:
        self._offset: float | None = None
        self._new_segment = False
        self.last_t_s: float | None = None
        self._last_host: float | None = None
        self.period_s = 0.0125

    @property
    def offset_s(self) -> float | None:
        """Session time minus source time in the current segment (None before the first batch)."""
        return self._offset

    def new_segment(self) -> None:
        """The next batch may be on a different clock (reconnect, tool restart)."""
        self._new_segment = True

    def peek(self, t: float) -> float:
        """Session time of a single source time (an event), without moving the sample clock."""
        if self._offset is None or self._new_segment:
            return self.last_t_s or 0.0
        return max(0.0, t + self._offset)

    def map(self, t: FloatArray, host_now: float, period_s: float | None = None) -> FloatArray:
        """Session times for a batch of source times that arrived at ``host_now``."""
        if period_s:
            self.period_s = period_s
        if self._offset is None:
            self._offset = -float(t[0])
        elif self._new_segment and self.last_t_s is not None:
            wall_gap = 0.0 if self._last_host is None else max(0.0, host_now - self._last_host)
            first = float(t[0]) + self._offset
            if not self.last_t_s < first <= self.last_t_s + wall_gap + AGREEMENT_S:
                self._offset = self.last_t_s + max(self.period_s, wall_gap) - float(t[0])
        self._new_segment = False
        mapped = t + self._offset
        if self.last_t_s is not None and mapped[0] <= self.last_t_s:
            # a source's clock must not run backwards inside a segment: nudge, never reorder
            mapped = np.maximum(mapped, self.last_t_s + 1e-6)
        self.last_t_s = float(mapped[-1])
        self._last_host = host_now
        return mapped
