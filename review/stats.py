"""One session's numbers, computed from its samples in a single streaming pass (constant memory,
whatever the session's length): time in each zone, peak, impulse, entries over the limit, the
longest hold, the measured sample rate, gaps, lost data and the pain ratings.

Time is counted per interval between consecutive samples and given to the earlier sample's zone.
An interval longer than :func:`gap_threshold_s` is a **gap** (the signal was lost): it counts in
no zone, breaks a hold and adds nothing to the impulse, so nothing is invented for time without
data. The zones themselves are the ones judged live (:class:`firmware_bridge.zones.Zone`), so the
review shows what the user was told.

The pass over the samples (:func:`sample_totals`) is the expensive part; everything else comes from
the session's row (:func:`stats_from`), so :mod:`review.stats_cache` can keep the totals of an ended
session and rebuild exactly the same :class:`SessionStats` from them.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from firmware_bridge.store._base import clean_json
from firmware_bridge.zones import HYSTERESIS, Zone

if TYPE_CHECKING:
    from firmware_bridge.store import Store

FloatArray = npt.NDArray[np.float64]

#: A hold is continuous pressure at or above this share of the comfort limit (the bridge's hold
#: timer, DESIGN.md "Safety semantics"); it ends below (share − hysteresis) or at a gap.
HOLD_FRACTION = 0.5
#: No valid sample for max(0.5 s, 5 periods) is "no signal" (DESIGN.md): the same rule makes a gap.
GAP_MIN_S = 0.5
GAP_PERIODS = 5
_ZONE_BASE = min(Zone)  # bincount index = zone - base
_COLUMNS = ("t_s", "force_n", "filtered_n", "zone")
_PERIOD_SAMPLES = 4096


def gap_threshold_s(period_s: float | None) -> float:
    """The shortest interval between samples that counts as a gap (lost signal).

    Args:
        period_s: the sample period (None or 0 when unknown).
    """
    return max(GAP_MIN_S, GAP_PERIODS * (period_s or 0.0))


def session_period_s(store: Store, session_id: int, rate_hz: float | None) -> float | None:
    """A session's sample period: from the rate the tool announced, else the median step
    between its first few thousand samples (None with fewer than 2).

    Raises:
        NotFoundError: no such session.
    """
    if rate_hz:
        return 1.0 / float(rate_hz)
    first = next(store.iter_arrays(session_id, ("t_s",), batch_size=_PERIOD_SAMPLES), None)
    if first is None:
        return None
    steps = np.diff(first["t_s"][:_PERIOD_SAMPLES])
    steps = steps[steps > 0]
    return float(np.median(steps)) if steps.size else None


@dataclass(frozen=True, slots=True)
class SessionStats:
    """What one session amounted to.

    Attributes:
        session_id: the session.
        n_samples: samples recorded.
        duration_s: first to last sample (s), gaps included.
        time_in_zone_s: seconds per zone label (``relaxed``, ``target``, ``over``, ``danger``,
            ``uncalibrated``, ``no_signal``), every label present; gaps excluded.
        time_over_limit_s: ``over`` + ``danger``.
        peak_n: highest force (calibrated, unfiltered), None when never calibrated.
        peak_filtered_n: highest filtered force (what the zones are judged on).
        limit_n: the comfort limit at the end of the session.
        peak_pct_of_limit: ``peak_filtered_n`` as a percentage of the limit in force at that
            moment.
        impulse_ns: ∫ force dt over valid samples (N·s, trapezoid; force below 0 N, tare noise,
            counts as 0; gaps and unknown force excluded): the session's dose of pressure.
        over_limit_count: times the zone went from below the limit into ``over`` or ``danger``
            (a session starting over the limit counts once).
        longest_hold_s: the longest continuous hold (filtered force ≥ 50 % of the limit on one
            spot, the bridge's hold timer), None without a limit.
        sample_rate_hz: measured: intervals per second outside gaps.
        nominal_rate_hz: the rate the tool announced, if it did.
        lost_frames: frames missing from the tool's sequence numbers (counted by the bridge).
        bad_frames: frames that failed to decode (counted by the bridge).
        gaps: intervals without signal (longer than :func:`gap_threshold_s`).
        gap_total_s: their total length.
        events_by_kind: how many of each recorded event (``hold`` prompts, ``ramp`` warnings,
            ``button`` …).
        pain_before: pain rating before (0–10), if given.
        pain_after: pain rating after (0–10), if given.
        pain_change: after − before (negative = less pain), when both were given.
    """

    session_id: int
    n_samples: int
    duration_s: float
    time_in_zone_s: dict[str, float]
    time_over_limit_s: float
    peak_n: float | None
    peak_filtered_n: float | None
    limit_n: float | None
    peak_pct_of_limit: float | None
    impulse_ns: float
    over_limit_count: int
    longest_hold_s: float | None
    sample_rate_hz: float | None
    nominal_rate_hz: float | None
    lost_frames: int
    bad_frames: int
    gaps: int
    gap_total_s: float
    events_by_kind: dict[str, int]
    pain_before: float | None
    pain_after: float | None
    pain_change: float | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (plain floats and ints; unknown values are None)."""
        out: dict[str, Any] = clean_json(dataclasses.asdict(self))
        return out


@dataclass(frozen=True, slots=True)
class SampleTotals:
    """What one pass over a session's samples gives: the :class:`SessionStats` fields that need
    the samples (the others come from the session's row). Same meanings as there.
    """

    n_samples: int
    duration_s: float
    time_in_zone_s: dict[str, float]
    peak_n: float | None
    peak_filtered_n: float | None
    peak_pct_of_limit: float | None
    impulse_ns: float
    over_limit_count: int
    longest_hold_s: float | None
    sample_rate_hz: float | None
    gaps: int
    gap_total_s: float


class LimitTimeline:
    """The comfort limit in force at any session time, from the session's ``limit`` events.

    Before the first event the first event's limit applies (it is recorded as the session
    starts); without events, the session's own limit throughout.
    """

    def __init__(self, events: list[dict[str, Any]], limit_n: float | None) -> None:
        steps = sorted(
            (float(e["t_s"]), float(e["detail"]["limit_n"]))
            for e in events
            if e["kind"] == "limit" and _positive(e["detail"].get("limit_n"))
        )
        self.times = np.array([t for t, _ in steps], dtype=np.float64)
        self.values = np.array([v for _, v in steps], dtype=np.float64)
        self.constant = float(limit_n) if limit_n else None
        if not steps and self.constant is None:
            self.values = np.empty(0)

    @property
    def known(self) -> bool:
        """Whether any limit is known."""
        return bool(self.values.size) or self.constant is not None

    def at(self, t: FloatArray) -> FloatArray:
        """The limit at each time (NaN when no limit is known)."""
        if self.values.size:
            i = np.clip(np.searchsorted(self.times, t, side="right") - 1, 0, None)
            return self.values[i]
        return np.full(len(t), np.nan if self.constant is None else self.constant)

    def steps(self) -> list[tuple[float, float]]:
        """``(t_s, limit_n)`` where the limit took each value."""
        if self.values.size:
            return list(zip(self.times.tolist(), self.values.tolist(), strict=True))
        return [] if self.constant is None else [(0.0, self.constant)]


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


class _Accumulator:
    """The running totals of :func:`session_stats`, fed one batch of samples at a time."""

    def __init__(self, limits: LimitTimeline, gap_s: float) -> None:
        self.limits = limits
        self.gap_s = gap_s
        self.n = 0
        self.t_first: float | None = None
        self.zone_s = np.zeros(len(Zone), dtype=np.float64)
        self.peak = -math.inf
        self.peak_filtered = -math.inf
        self.peak_ratio = -math.inf
        self.impulse = 0.0
        self.entries = 0
        self.steps = 0
        self.stepped_s = 0.0
        self.gaps = 0
        self.gap_total = 0.0
        self.longest_hold = 0.0
        self.hold_start: float | None = None
        self.last: tuple[float, float, int, bool] | None = None  # t, force, zone, holding

    def add(self, t: FloatArray, f: FloatArray, ff: FloatArray, z: npt.NDArray[np.int8]) -> None:
        if self.t_first is None:
            self.t_first = float(t[0])
        self.n += len(t)
        self.peak = max(self.peak, float(np.fmax.reduce(f)))
        self.peak_filtered = max(self.peak_filtered, float(np.fmax.reduce(ff)))
        limit = self.limits.at(t)
        with np.errstate(invalid="ignore"):
            self.peak_ratio = max(self.peak_ratio, float(np.fmax.reduce(ff / limit)))
        over = z >= Zone.OVER
        first = self.last is None
        if self.last is not None:  # the interval across the batch boundary counts too
            t = np.concatenate(([self.last[0]], t))
            f = np.concatenate(([self.last[1]], f))
            z = np.concatenate(([self.last[2]], z)).astype(np.int8)
            over = np.concatenate(([self.last[2] >= Zone.OVER], over))
        dt = np.diff(t)
        gap = dt > self.gap_s
        ok = (dt >= 0) & ~gap
        self.gaps += int(gap.sum())
        self.gap_total += float(dt[gap].sum())
        self.steps += int(ok.sum())
        self.stepped_s += float(dt[ok].sum())
        index = (z[:-1] - _ZONE_BASE)[ok]
        self.zone_s += np.bincount(index, weights=dt[ok], minlength=len(Zone))[: len(Zone)]
        pushed = np.clip(f, 0.0, None)  # NaN stays NaN
        area = 0.5 * (pushed[:-1] + pushed[1:]) * dt
        self.impulse += float(area[ok & np.isfinite(area)].sum())
        self.entries += int((over[1:] & ~over[:-1]).sum()) + int(first and bool(over[0]))
        fresh = t[1:] if not first else t
        breaks = gap if not first else np.concatenate(([True], gap))
        holding = self._holds(fresh, ff, limit, breaks)
        self.last = (float(t[-1]), float(f[-1]), int(z[-1]), holding)

    def totals(self) -> SampleTotals:
        """What the samples added so far amount to."""
        zone_s = {zone.label: float(self.zone_s[zone - _ZONE_BASE]) for zone in Zone}
        duration = 0.0 if self.last is None or self.t_first is None else self.last[0] - self.t_first
        return SampleTotals(
            n_samples=self.n,
            duration_s=duration,
            time_in_zone_s=zone_s,
            peak_n=_finite(self.peak),
            peak_filtered_n=_finite(self.peak_filtered),
            peak_pct_of_limit=_finite(100 * self.peak_ratio),
            impulse_ns=self.impulse,
            over_limit_count=self.entries,
            longest_hold_s=self.longest_hold if self.limits.known else None,
            sample_rate_hz=self.steps / self.stepped_s if self.stepped_s > 0 else None,
            gaps=self.gaps,
            gap_total_s=self.gap_total,
        )

    def _holds(
        self, t: FloatArray, ff: FloatArray, limit: FloatArray, breaks: npt.NDArray[np.bool_]
    ) -> bool:
        """Track hold runs over new samples; returns whether a hold is open at the last one.

        Args:
            t: times of the new samples.
            ff: their filtered force.
            limit: the limit at each.
            breaks: whether a gap (or the session start) comes before each.
        """
        if not self.limits.known:
            return False
        with np.errstate(invalid="ignore"):
            on = ff >= HOLD_FRACTION * limit
            off = ~(ff >= (HOLD_FRACTION - HYSTERESIS) * limit)  # NaN force ends a hold
        code = np.where(on, 1, np.where(off, 0, -1))
        code[breaks & (code == -1)] = 0  # a gap ends a hold; only a push past 50 % starts one
        carried = self.last is not None and self.last[3]
        # between the two thresholds the state stays what it was (hysteresis): forward fill
        decided = np.where(code >= 0, np.arange(len(code)), -1)
        np.maximum.accumulate(decided, out=decided)
        state = np.where(decided >= 0, code[decided] == 1, carried)
        before = np.concatenate(([carried], state[:-1]))
        joined = state & before & ~breaks  # same hold as the previous sample
        starts = np.flatnonzero(state & ~joined)
        ends = np.flatnonzero(state & ~np.concatenate((joined[1:], [False])))
        begin = t[starts]
        if joined.size and joined[0]:  # the hold open at the end of the last batch goes on
            start = t[0] if self.hold_start is None else self.hold_start
            begin = np.concatenate(([start], begin))
        if ends.size:
            self.longest_hold = max(self.longest_hold, float((t[ends] - begin).max()))
        self.hold_start = float(begin[-1]) if state.size and state[-1] else None
        return bool(state[-1]) if state.size else False


def session_stats(
    store: Store,
    session_id: int,
    batch_size: int = 65536,
    *,
    pace: Callable[[float], None] | None = None,
) -> SessionStats:
    """The stats of one session, from one streaming pass over its samples.

    Args:
        store: the open store.
        session_id: the session.
        batch_size: samples read at a time (bounds the memory used; the result is the same).
        pace: called after each batch with the seconds it took (see :func:`sample_totals`).

    Returns:
        See :class:`SessionStats`.

    Raises:
        NotFoundError: no such session.
        StoreError: the store cannot be read.
    """
    summary = store.session_summary(session_id)
    totals = sample_totals(store, summary, batch_size, pace=pace)
    return stats_from(summary, totals)


def sample_totals(
    store: Store,
    summary: dict[str, Any],
    batch_size: int = 65536,
    *,
    pace: Callable[[float], None] | None = None,
) -> SampleTotals:
    """One streaming pass over a session's samples, judged against the limits in ``summary``.

    Args:
        store: the open store.
        summary: the session's :meth:`~firmware_bridge.store.Store.session_summary` (its limit,
            rate and ``limit`` events are used).
        batch_size: samples read at a time (bounds the memory used; the result is the same).
        pace: called after each batch with the seconds it took; a background caller sleeps in
            it (so a bridge in the same process keeps the CPU) or raises to stop.

    Raises:
        NotFoundError: no such session.
        StoreError: the store cannot be read.
    """
    session_id = int(summary["id"])
    limits = LimitTimeline(summary["events"], summary["limit_n"])
    period = session_period_s(store, session_id, summary["rate_hz"])
    acc = _Accumulator(limits, gap_threshold_s(period))
    started = time.perf_counter()
    batches = store.iter_arrays(session_id, _COLUMNS, batch_size=batch_size)
    for batch in _even(batches, batch_size):
        acc.add(batch["t_s"], batch["force_n"], batch["filtered_n"], batch["zone"])
        if pace is not None:
            pace(time.perf_counter() - started)
            started = time.perf_counter()
    return acc.totals()


def _even(batches: Iterable[dict[str, Any]], size: int) -> Iterator[dict[str, Any]]:
    """The same samples in batches of exactly ``size`` (the last one shorter).

    How the store cuts a session into batches depends on its chunks, which compaction merges;
    sums over the same batches give the same result to the last bit, so the stats of a session
    do not change when it is compacted (and a kept copy equals a fresh one exactly).
    """
    held: list[dict[str, Any]] = []
    count = 0
    for batch in batches:
        held.append(batch)
        count += len(batch["t_s"])
        while count >= size:
            joined = {k: np.concatenate([b[k] for b in held]) for k in batch}
            yield {k: v[:size] for k, v in joined.items()}
            count -= size
            held = [{k: v[size:] for k, v in joined.items()}] if count else []
    if held:
        yield {k: np.concatenate([b[k] for b in held]) for k in held[0]}


def stats_from(summary: dict[str, Any], totals: SampleTotals) -> SessionStats:
    """A session's stats: the totals of its samples with what its row says (limit, rate,
    frames, events, pain ratings).

    Args:
        summary: the session's summary, with ``events``.
        totals: :func:`sample_totals` of the same session.
    """
    kinds: dict[str, int] = {}
    for event in summary["events"]:
        kinds[event["kind"]] = kinds.get(event["kind"], 0) + 1
    zone_s = totals.time_in_zone_s
    before, after = summary["pain_before"], summary["pain_after"]
    return SessionStats(
        session_id=int(summary["id"]),
        n_samples=totals.n_samples,
        duration_s=totals.duration_s,
        time_in_zone_s=dict(zone_s),
        time_over_limit_s=zone_s["over"] + zone_s["danger"],
        peak_n=totals.peak_n,
        peak_filtered_n=totals.peak_filtered_n,
        limit_n=summary["limit_n"],
        peak_pct_of_limit=totals.peak_pct_of_limit,
        impulse_ns=totals.impulse_ns,
        over_limit_count=totals.over_limit_count,
        longest_hold_s=totals.longest_hold_s,
        sample_rate_hz=totals.sample_rate_hz,
        nominal_rate_hz=summary["rate_hz"],
        lost_frames=int(summary["dropped_frames"]),
        bad_frames=int(summary["bad_frames"]),
        gaps=totals.gaps,
        gap_total_s=totals.gap_total_s,
        events_by_kind=dict(sorted(kinds.items())),
        pain_before=before,
        pain_after=after,
        pain_change=None if before is None or after is None else float(after) - float(before),
    )


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
