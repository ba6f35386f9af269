"""A session's curve for display: every sample when zoomed in, min/max per time bucket when not.

A screen shows a few thousand points; a 2-hour session at 1 kHz holds 7.2 million samples. The
window is cut into equal time buckets (two points each, so ``max_points // 2`` buckets) and each
bucket keeps its true minimum and maximum of both force and filtered force, in the order they
happened: a push past the limit lasting one sample still reaches the screen at its full height.
Each point carries the bucket's most cautious zone, so the zone colouring never turns a warning
into "safe". A bucket without samples is a gap and is drawn as one point with NaN values, which
breaks the line; unknown force (NaN) stays NaN. When the window holds at most ``max_points``
samples, the curve is the samples themselves, with a NaN point in every gap.

The samples are read and reduced a batch at a time (numpy, no per-sample Python), so memory stays
small and a whole 7.2-million-sample session takes a fraction of a second once the session is
compacted (see ``docs/benchmarks.md``).

:func:`firmware_bridge.decimate.minmax_indices` (the live feed's decimation) picks sample indices
in equal-count buckets of one series held in memory; a review curve needs equal-*time* buckets (so
gaps show), both series, the bucket's zone, and a streaming pass, hence this separate reducer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from firmware_bridge.errors import UsageError
from firmware_bridge.store._base import clean_json
from firmware_bridge.zones import Zone
from review.stats import LimitTimeline, gap_threshold_s, session_period_s

if TYPE_CHECKING:
    from firmware_bridge.store import Store

FloatArray = npt.NDArray[np.float64]
ZoneArray = npt.NDArray[np.int8]

#: Default point budget: about two points per pixel of a wide chart.
MAX_POINTS = 4000
_SERIES = ("force_n", "filtered_n")
_DTYPES = {"t_s": np.float64, "force_n": np.float64, "filtered_n": np.float64, "zone": np.int8}


def bucket_index(t: FloatArray, lo: float, width: float, count: int) -> npt.NDArray[np.int64]:
    """The bucket of each time: floor((t − lo) / width), clipped to [0, count − 1] (the last
    bucket also holds the window's end)."""
    return np.clip(((t - lo) / width).astype(np.int64), 0, count - 1)


@dataclass(frozen=True, slots=True)
class Curve:
    """The points to draw for one window of a session.

    Points are in time order. When ``decimated``, every bucket with samples gives two points,
    at its first and last sample time, holding its minimum and maximum (in the order they
    happened, for each series separately); a run of empty buckets gives one NaN point.

    Attributes:
        session_id: the session.
        t_from: start of the window (s); None when the session has no samples.
        t_to: end of the window (s).
        n_samples: samples in the window.
        decimated: whether points are bucket extremes rather than samples.
        bucket_s: the bucket width when decimated; bucket k covers
            [t_from + k·bucket_s, t_from + (k + 1)·bucket_s), the last one up to t_to inclusive
            (:meth:`bucket_of` applies the rule).
        t: point times (s).
        force_n: calibrated force (NaN: unknown, or a gap).
        filtered_n: filtered force, what the zones were judged on.
        n_buckets: how many buckets (0 at full resolution).
        zone: :class:`~firmware_bridge.zones.Zone` per point: the bucket's highest zone, but a
            bucket with unknown samples (no signal, uncalibrated) and none over the limit shows
            the unknown zone, never relaxed or target; ``NO_SIGNAL`` in gaps.
        limit_n: the session's comfort limit (its last value).
        limit_steps: ``(t_s, limit_n)`` from where each limit applied, for a stepped limit line
            (the one in force at t_from first).
        gaps: ``(start_s, end_s)`` of every gap in the window (no sample for longer than
            max(0.5 s, 5 periods)), also those too short to show at this zoom.
        events: the session's events inside the window, as ``{t_s, kind, detail}``.
    """

    session_id: int
    t_from: float | None
    t_to: float | None
    n_samples: int
    decimated: bool
    bucket_s: float | None
    t: FloatArray
    force_n: FloatArray
    filtered_n: FloatArray
    zone: ZoneArray
    n_buckets: int = 0
    limit_n: float | None = None
    limit_steps: list[tuple[float, float]] = field(default_factory=list)
    gaps: list[tuple[float, float]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.t)

    def bucket_of(self, t: FloatArray) -> npt.NDArray[np.int64]:
        """The bucket each time falls in (the rule the decimation used); only when decimated.

        Raises:
            ValueError: the curve is not decimated.
        """
        if not self.decimated or self.bucket_s is None or self.t_from is None:
            raise ValueError("a curve at full resolution has no buckets")
        return bucket_index(np.asarray(t, dtype=np.float64), self.t_from, self.bucket_s,
                            self.n_buckets)  # fmt: skip

    def as_dict(self, digits: int | None = None) -> dict[str, Any]:
        """JSON-ready: arrays as lists (NaN as None), zones as labels in ``zone_labels``.

        Args:
            digits: round times and forces to this many decimals (smaller JSON); None keeps
                every bit.
        """

        def values(a: FloatArray) -> list[float | None]:
            out = np.round(a, digits) if digits is not None else a
            return [None if math.isnan(v) else v for v in out.tolist()]

        return {
            "session_id": self.session_id,
            "t_from": self.t_from,
            "t_to": self.t_to,
            "n_samples": self.n_samples,
            "decimated": self.decimated,
            "bucket_s": self.bucket_s,
            "n_buckets": self.n_buckets,
            "t": values(self.t),
            "force_n": values(self.force_n),
            "filtered_n": values(self.filtered_n),
            "zone": self.zone.tolist(),
            "zone_labels": [Zone(z).label for z in self.zone.tolist()],
            "limit_n": self.limit_n,
            "limit_steps": [list(s) for s in self.limit_steps],
            "gaps": [list(g) for g in self.gaps],
            "events": clean_json(self.events),
        }


def cautious_zone(highest: ZoneArray, lowest: ZoneArray) -> ZoneArray:
    """The zone shown for a group of samples: over/danger win; otherwise an unknown sample
    (no signal, uncalibrated) wins over relaxed/target; otherwise the highest."""
    return np.where((highest < Zone.OVER) & (lowest < 0), lowest, highest).astype(np.int8)


class _Buckets:
    """Per-bucket extremes of both series, merged batch by batch."""

    def __init__(self, lo: float, width: float, count: int) -> None:
        self.lo, self.width, self.count_b = lo, width, count
        self.n = np.zeros(count, dtype=np.int64)
        self.t_first = np.full(count, np.inf)
        self.t_last = np.full(count, -np.inf)
        self.z_hi = np.full(count, -128, dtype=np.int8)
        self.z_lo = np.full(count, 127, dtype=np.int8)
        # per series: min, max, and when each was first reached
        self.low = {s: np.full(count, np.nan) for s in _SERIES}
        self.high = {s: np.full(count, np.nan) for s in _SERIES}
        self.t_low = {s: np.full(count, np.nan) for s in _SERIES}
        self.t_high = {s: np.full(count, np.nan) for s in _SERIES}

    def add(self, t: FloatArray, series: dict[str, FloatArray], zone: ZoneArray) -> None:
        b = bucket_index(t, self.lo, self.width, self.count_b)
        if np.any(b[1:] < b[:-1]):  # time ran backwards (an imported file): group by bucket
            order = np.argsort(b, kind="stable")
            b, t, zone = b[order], t[order], zone[order]
            series = {k: v[order] for k, v in series.items()}
        starts = np.flatnonzero(np.concatenate(([True], b[1:] != b[:-1])))
        keys = b[starts]
        sizes = np.diff(np.append(starts, len(b)))
        self.n[keys] += sizes
        self.t_first[keys] = np.minimum(self.t_first[keys], np.minimum.reduceat(t, starts))
        self.t_last[keys] = np.maximum(self.t_last[keys], np.maximum.reduceat(t, starts))
        self.z_hi[keys] = np.maximum(self.z_hi[keys], np.maximum.reduceat(zone, starts))
        self.z_lo[keys] = np.minimum(self.z_lo[keys], np.minimum.reduceat(zone, starts))
        position = np.arange(len(b))
        for name, y in series.items():
            for reduce, store_v, store_t, better in (
                (np.fmin, self.low[name], self.t_low[name], np.less),
                (np.fmax, self.high[name], self.t_high[name], np.greater),
            ):
                value = reduce.reduceat(y, starts)  # NaN only where the whole group is NaN
                hit = np.where(y == np.repeat(value, sizes), position, len(b))
                first = np.minimum.reduceat(hit, starts)
                when = np.where(first < len(b), t[np.minimum(first, len(b) - 1)], np.nan)
                old = store_v[keys]
                with np.errstate(invalid="ignore"):
                    take = np.isnan(old) | better(value, old)
                store_v[keys] = np.where(take, value, old)
                store_t[keys] = np.where(take, when, store_t[keys])

    def points(self) -> tuple[FloatArray, dict[str, FloatArray], ZoneArray]:
        """Two points per bucket with samples, one NaN point per run of empty buckets."""
        full = self.n > 0
        empty_run = ~full & np.concatenate(([True], full[:-1]))
        keep = np.stack([full | empty_run, full], axis=1)  # (bucket, first/second point)
        centre = self.lo + self.width * (np.arange(self.count_b) + 0.5)
        t = np.stack([np.where(full, self.t_first, centre), self.t_last], axis=1)
        values: dict[str, FloatArray] = {}
        for name in _SERIES:
            low_first = ~(self.t_high[name] < self.t_low[name])  # ties and NaN: min first
            pair = np.stack(
                [
                    np.where(low_first, self.low[name], self.high[name]),
                    np.where(low_first, self.high[name], self.low[name]),
                ],
                axis=1,
            )
            pair[~full] = np.nan
            values[name] = pair[keep]
        zone = cautious_zone(self.z_hi, self.z_lo)
        zone[~full] = Zone.NO_SIGNAL
        zones = np.repeat(zone[:, None], 2, axis=1)[keep]
        return t[keep], values, zones


class _Gaps:
    """Gaps between consecutive samples, across batches."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.last_t: float | None = None
        self.found: list[tuple[float, float]] = []

    def add(self, t: FloatArray) -> None:
        edges = t if self.last_t is None else np.concatenate(([self.last_t], t))
        i = np.flatnonzero(np.diff(edges) > self.threshold)
        self.found += list(zip(edges[i].tolist(), edges[i + 1].tolist(), strict=True))
        self.last_t = float(t[-1])


def _with_breaks(
    t: FloatArray, series: dict[str, FloatArray], zone: ZoneArray, threshold: float
) -> tuple[FloatArray, dict[str, FloatArray], ZoneArray]:
    """Samples as points, with a NaN point inside every gap so the line breaks there."""
    if len(t) < 2:
        return t, series, zone
    at = np.flatnonzero(np.diff(t) > threshold) + 1
    if not at.size:
        return t, series, zone
    mid = 0.5 * (t[at - 1] + t[at])
    return (
        np.insert(t, at, mid),
        {k: np.insert(v, at, np.nan) for k, v in series.items()},
        np.insert(zone, at, np.int8(Zone.NO_SIGNAL)),
    )


def session_curve(
    store: Store,
    session_id: int,
    t_from: float | None = None,
    t_to: float | None = None,
    max_points: int = MAX_POINTS,
) -> Curve:
    """The curve of a session, or of the window t_from ≤ t ≤ t_to (session seconds).

    Args:
        store: the open store.
        session_id: the session.
        t_from: window start; None for the first sample.
        t_to: window end; None for the last sample.
        max_points: point budget (≥ 4). A window with at most this many samples is returned
            whole, plus a NaN point per gap; a larger one is decimated to ``max_points // 2``
            buckets of two points (plus one NaN point per run of empty buckets).

    Returns:
        See :class:`Curve`.

    Raises:
        UsageError: ``max_points`` below 4, or t_from after t_to.
        NotFoundError: no such session.
        StoreError: the store cannot be read.
    """
    if max_points < 4:
        raise UsageError(f"a curve needs at least 4 points, not {max_points}")
    if t_from is not None and t_to is not None and t_from > t_to:
        raise UsageError(f"the window starts ({t_from:g} s) after it ends ({t_to:g} s)")
    summary = store.session_summary(session_id)
    span = store.time_range(session_id)
    limits = LimitTimeline(summary["events"], summary["limit_n"])
    empty = np.empty(0)
    if span is None:
        return Curve(int(session_id), None, None, 0, False, None, empty, empty, empty,
                     np.empty(0, np.int8), 0, summary["limit_n"], limits.steps())  # fmt: skip
    lo = span[0] if t_from is None else float(t_from)
    hi = span[1] if t_to is None else float(t_to)
    count = max(1, max_points // 2)
    buckets = _Buckets(lo, (hi - lo) / count if hi > lo else 1.0, count)
    gaps = _Gaps(gap_threshold_s(session_period_s(store, session_id, summary["rate_hz"])))
    kept: list[dict[str, np.ndarray]] | None = []  # the samples, while they fit the budget
    n = 0
    for batch in store.iter_arrays(session_id, tuple(_DTYPES), t_from, t_to):
        t = batch["t_s"]
        n += len(t)
        gaps.add(t)
        buckets.add(t, {s: batch[s] for s in _SERIES}, batch["zone"])
        if kept is not None:
            kept = [*kept, batch] if n <= max_points else None
    steps = [(t, v) for t, v in limits.steps() if t > lo]
    if limits.known:
        steps.insert(0, (lo, float(limits.at(np.array([lo]))[0])))
    events = [e for e in summary["events"] if lo <= e["t_s"] <= hi]
    if kept is not None:
        joined = {
            k: np.concatenate([b[k] for b in kept]) if kept else np.empty(0, _DTYPES[k])
            for k in _DTYPES
        }
        pt, series, zone = _with_breaks(
            joined["t_s"], {s: joined[s] for s in _SERIES}, joined["zone"], gaps.threshold
        )
        decimated, width, used = False, None, 0
    else:
        pt, series, zone = buckets.points()
        decimated, width, used = True, buckets.width, count
    return Curve(
        session_id=int(session_id),
        t_from=lo,
        t_to=hi,
        n_samples=n,
        decimated=decimated,
        bucket_s=width,
        n_buckets=used,
        t=pt,
        force_n=series["force_n"],
        filtered_n=series["filtered_n"],
        zone=zone.astype(np.int8),
        limit_n=summary["limit_n"],
        limit_steps=steps,
        gaps=gaps.found,
        events=events,
    )
