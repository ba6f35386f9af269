"""The live feed: the last minute of judged samples, for the live view, session or not."""

from __future__ import annotations

import os
import time

import numpy as np

from firmware_bridge.store._base import CLOCK_SLACK_S, StoreBase
from firmware_bridge.store.samples import FLOAT_COLUMNS, _decode
from firmware_bridge.zones import JudgedSamples

#: How much live history is kept (the live curve shows 30 s).
LIVE_KEEP_S = 60.0
_PRUNE_EVERY_S = 1.0


class LiveFeedMixin(StoreBase):
    """Append-and-prune chunks of live samples; readers follow them by id."""

    _last_prune = 0.0

    def append_live(self, samples: JudgedSamples, session_id: int | None) -> None:
        """Publish judged samples to the live feed (its own short transaction).

        Args:
            samples: what was just judged.
            session_id: the session they are recorded in, or None when not recording.
        """
        n = len(samples)
        if n == 0:
            return
        columns = [np.ascontiguousarray(getattr(samples, c), dtype="<f8") for c in FLOAT_COLUMNS]
        zone = np.ascontiguousarray(samples.zone, dtype="<i1")
        now = time.time()
        with self._write("publish live samples") as db:
            db.execute(
                "INSERT INTO live_samples (recorder_pid, session_id, written_at, t0, t1, n,"
                " t_s, raw, force_n, filtered_n, zone) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    os.getpid(),
                    session_id,
                    now,
                    float(columns[0][0]),
                    float(columns[0][-1]),
                    n,
                    *(c.tobytes() for c in columns),
                    zone.tobytes(),
                ),
            )
            if not 0 <= now - self._last_prune < _PRUNE_EVERY_S:
                # Chunks stamped in the future were written before the clock stepped back;
                # left, they would never age out and would join every new live curve.
                db.execute(
                    "DELETE FROM live_samples WHERE written_at < ? OR written_at > ?",
                    (now - LIVE_KEEP_S, now + CLOCK_SLACK_S),
                )
                self._last_prune = now

    def live_since(self, after_id: int, seconds: float = 30.0) -> tuple[int, JudgedSamples]:
        """Live samples newer than chunk ``after_id`` (the last ``seconds`` when starting at 0).

        Returns:
            The newest chunk id (pass it back next time) and the samples, oldest first.
        """
        with self._read("read live samples") as db:
            if after_id <= 0:
                now = time.time()
                rows = db.execute(
                    "SELECT * FROM live_samples WHERE written_at BETWEEN ? AND ? ORDER BY id",
                    (now - seconds, now + CLOCK_SLACK_S),
                ).fetchall()
            else:
                rows = db.execute(
                    "SELECT * FROM live_samples WHERE id > ? ORDER BY id", (after_id,)
                ).fetchall()
        if not rows:
            return after_id, _decode([])
        return int(rows[-1]["id"]), _decode(rows)
