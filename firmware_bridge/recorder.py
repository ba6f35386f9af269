"""One session's writes (judged samples, events, counters) and the fault tally they count from."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from firmware_bridge.live import LiveState
from firmware_bridge.pipeline.signal import SessionTotals
from firmware_bridge.readings import DecoderStats
from firmware_bridge.store import Store
from firmware_bridge.zones import JudgedSamples, SessionEvent


class FaultTally:
    """Decoder faults and lost frames across reconnections (each connection starts from zero)."""

    def __init__(self) -> None:
        self._closed: dict[str, int] = {}
        self._closed_lost = 0
        # read on demand: a detecting decoder swaps its stats object once it knows the format
        self._open: Callable[[], DecoderStats] | None = None

    def connected(self, stats: Callable[[], DecoderStats]) -> None:
        """A new connection's decoder counters (read through ``stats()``) start here."""
        self._open = stats

    def disconnected(self) -> None:
        """Fold the closing connection's counters into the totals."""
        if self._open is None:
            return
        stats = self._open()
        for kind, count in stats.faults.items():
            self._closed[kind] = self._closed.get(kind, 0) + count
        self._closed_lost += stats.lost_frames
        self._open = None

    def faults(self) -> dict[str, int]:
        """Bad frames by kind, this session so far."""
        out = dict(self._closed)
        if self._open is not None:
            for kind, count in self._open().faults.items():
                out[kind] = out.get(kind, 0) + count
        return {k: v for k, v in out.items() if v}

    def lost_frames(self) -> int:
        """Frames missing from the sequence, this session so far."""
        return self._closed_lost + (self._open().lost_frames if self._open else 0)


class SessionRecorder:
    """Buffers what the bridge produces for one session and commits it in one short transaction.

    Args:
        store: the open store.
        session_id: the session being recorded.
        tally: the bridge's fault tally; this session counts what it adds from now on.
    """

    def __init__(self, store: Store, session_id: int, tally: FaultTally) -> None:
        self.store = store
        self.session_id = session_id
        self.tally = tally
        self._faults_at_start = tally.faults()
        self._lost_at_start = tally.lost_frames()
        self.gaps = 0
        # The bridge's clock started when it did; a session's starts at its own first sample.
        self.t0: float | None = None
        self._samples: list[JudgedSamples] = []
        self._events: list[SessionEvent] = []

    def samples(self, judged: JudgedSamples) -> None:
        """Queue judged samples (times on the bridge's clock)."""
        if self.t0 is None:
            self.t0 = float(judged.t_s[0])
        if self.t0:
            judged = JudgedSamples(
                judged.t_s - self.t0, judged.raw, judged.force_n, judged.filtered_n, judged.zone
            )
        self._samples.append(judged)

    def event(self, event: SessionEvent) -> None:
        """Queue one event (time on the bridge's clock; before the first sample it counts as 0)."""
        t0 = event.t_s if self.t0 is None else self.t0
        detail = event.detail
        if t0 and ("start_s" in detail or "end_s" in detail):
            detail = {
                k: round(max(0.0, v - t0), 6) if k in ("start_s", "end_s") else v
                for k, v in detail.items()
            }
        self._events.append(SessionEvent(max(0.0, event.t_s - t0), event.kind, detail))

    def update(self, **fields: Any) -> None:
        """Change session fields (device, calibration, limit, tare) at once."""
        self.store.update_session(self.session_id, **fields)

    def counters(self, totals: SessionTotals) -> dict[str, Any]:
        """The session's counters as stored and shown by ``sessions show``."""
        faults = {
            kind: count - self._faults_at_start.get(kind, 0)
            for kind, count in self.tally.faults().items()
            if count > self._faults_at_start.get(kind, 0)
        }
        return {
            "n_samples": totals.n_samples,
            "peak_n": totals.peak_n if np.isfinite(totals.peak_n) else None,
            "time_over_limit_s": round(totals.time_over_limit_s, 6),
            "time_in_zone_s": {k: round(v, 6) for k, v in totals.time_in_zone_s.items()},
            "dropped_frames": self.tally.lost_frames() - self._lost_at_start,
            "bad_frames": sum(faults.values()),
            "bad_frames_by_kind": faults,
            "gaps": self.gaps,
        }

    def flush(self, totals: SessionTotals, live: LiveState) -> None:
        """Write everything queued and the counters; commit (the bridge then publishes live state).

        Raises:
            StoreError: the write failed (e.g. disk full); what was committed before stays.
        """
        sid = self.session_id
        if self._samples:
            parts, self._samples = self._samples, []
            self.store.append_samples(sid, concat_judged(parts))
        if self._events:
            events, self._events = self._events, []
            self.store.add_events(sid, events)
        counters = self.counters(totals)
        live.lost_frames = counters["dropped_frames"]
        live.bad_frames = counters["bad_frames"]
        self.store.set_counters(sid, counters)
        self.store.heartbeat(sid)
        self.store.commit()


def concat_judged(parts: list[JudgedSamples]) -> JudgedSamples:
    """One block from consecutive blocks."""
    if len(parts) == 1:
        return parts[0]
    return JudgedSamples(
        t_s=np.concatenate([p.t_s for p in parts]),
        raw=np.concatenate([p.raw for p in parts]),
        force_n=np.concatenate([p.force_n for p in parts]),
        filtered_n=np.concatenate([p.filtered_n for p in parts]),
        zone=np.concatenate([p.zone for p in parts]),
    )


class Sessions:
    """Starts and ends recordings, and remembers what a new session must learn about the tool.

    Args:
        store: the open store.
        tally: the bridge's fault tally.
        started_at: for seeded sessions recorded at full speed: their wall-clock start.
    """

    def __init__(self, store: Store, tally: FaultTally, started_at: datetime | None = None) -> None:
        self.store = store
        self.tally = tally
        self.started_at = started_at
        self.recorder: SessionRecorder | None = None
        self._device_fields: dict[str, Any] = {}
        self._t0 = 0.0  # bridge time at which the current recording started

    @property
    def session_id(self) -> int | None:
        """The session being recorded, if any."""
        return self.recorder.session_id if self.recorder else None

    def begin(
        self,
        *,
        source: str,
        profile: str,
        region: str | None,
        limit_n: float,
        basis: str,
        fmt: str,
        pain_before: int | None,
        now_s: float,
    ) -> int:
        """Create the session and start queueing its data."""
        session_id = self.store.begin_session(
            source=source,
            profile=profile,
            region=region,
            limit_n=limit_n,
            started_at=self.started_at,
            meta={"limit_basis": basis, "format": fmt},
        )
        self.recorder = SessionRecorder(self.store, session_id, self.tally)
        fields = dict(self._device_fields)
        if pain_before is not None:
            fields["pain_before"] = pain_before
        if fields:
            self.recorder.update(**fields)
        self._t0 = now_s
        self.recorder.event(
            SessionEvent(now_s, "limit", {"limit_n": round(limit_n, 4), "basis": basis})
        )
        return session_id

    def end(
        self,
        totals: SessionTotals,
        live: LiveState,
        *,
        now_s: float,
        reason: str,
        pain_after: int | None = None,
        note: str | None = None,
    ) -> int | None:
        """Write what is queued and close the session; returns its id."""
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return None
        recorder.flush(totals, live)
        fields: dict[str, Any] = {}
        if pain_after is not None:
            fields["pain_after"] = pain_after
        if note:
            fields["note"] = note
        if fields:
            recorder.update(**fields)
        ended_at = None
        if self.started_at is not None:  # a seeded session ends in the past
            ended_at = self.started_at + timedelta(seconds=now_s - self._t0)
        self.store.end_session(recorder.session_id, ended_at=ended_at, reason=reason)
        return recorder.session_id

    def device_fields(self, **fields: Any) -> None:
        """Facts about the tool: kept for sessions started later, written to the running one."""
        self._device_fields.update(fields)
        if self.recorder is not None:
            self.recorder.update(**fields)

    def emit(self, event: SessionEvent) -> None:
        """Record an event in the running session (outside a session only the live view shows)."""
        if self.recorder is not None:
            self.recorder.event(event)
