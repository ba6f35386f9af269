"""The report's charts, drawn on axes the pages place: one session's pressure curve, and the
per-region trends with the journal beside them.

Honesty rules (issue 5): a gap is drawn as a gap (the line breaks, the stretch is hatched grey);
a stretch without calibrated force is hatched and labelled, never drawn as zero; every push over
the limit is marked, however short, because the curve is min/max decimated
(:func:`review.curve.session_curve`) and a mark is never narrower than a visible width.

The colours are fixed here so a test can find each element in a rendered page: the session curve
(:data:`CURVE`) and the limit line (:data:`LIMIT`) appear nowhere else in the report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from calibration.progress import MDC95_FACTOR
from firmware_bridge.readout import DEFAULT_UNIT, Readout, readout
from firmware_bridge.zones import ZONE_EDGES, Zone
from review.curve import Curve
from review.report.layout import MUTED, style_axes

#: The filtered-force curve of a session (only in session panels).
CURVE = "#1565c0"
#: The comfort-limit line of a session (only in session panels).
LIMIT = "#c62828"
TARGET_BAND = "#e6f2e3"
OVER_BAND = "#fdebd3"
DANGER_BAND = "#f9d9d7"
OVER_MARK = "#e53935"
GAP = "#9e9e9e"
UNCALIBRATED = "#f0c419"
#: Trend colours.
PEAK = "#6a1b9a"
TREND_LIMIT = "#8d6e63"
PPT = "#00796b"
PPT_BAND = "#d2ebe8"
OVER_BAR = "#ef6c00"
PAIN_BEFORE = "#d84315"
PAIN_AFTER = "#2e7d32"
JOURNAL = {"pain": "#e91e63", "stiffness": "#795548", "sleep": "#3949ab", "activity": "#00838f"}

FloatArray = npt.NDArray[np.float64]


def legend_handles() -> list[Any]:
    """The key to the session panels."""
    return [
        Line2D([], [], color=CURVE, linewidth=1.2, label="filtered force"),
        Line2D([], [], color=LIMIT, linewidth=1.2, label="comfort limit"),
        Patch(facecolor=TARGET_BAND, label="target 80–100 %"),
        Patch(facecolor=OVER_BAND, label="over 100–120 %"),
        Patch(facecolor=DANGER_BAND, label="danger ≥ 120 %"),
        Patch(facecolor=OVER_MARK, label="over the limit"),
        Patch(facecolor="white", edgecolor=GAP, hatch="////", label="gap (no signal)"),
        Patch(facecolor="white", edgecolor=UNCALIBRATED, hatch="xxx", label="uncalibrated"),
    ]


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    if not mask.size:
        return []
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _spans(
    t: FloatArray, mask: npt.NDArray[np.bool_], min_width: float
) -> list[tuple[float, float]]:
    """(start, width) of every run of ``mask`` over the point times, at least ``min_width``."""
    out = []
    for a, b in _runs(mask):
        width = max(float(t[b] - t[a]), min_width)
        out.append((float(t[a]) - (width - float(t[b] - t[a])) / 2, width))
    return out


def time_scale(duration_s: float) -> tuple[float, str]:
    """Divisor and unit for a session's time axis: seconds up to 2 min, then minutes."""
    return (1.0, "s") if duration_s <= 120 else (60.0, "min")


def draw_session(ax: Axes, curve: Curve, shown: Readout | None = None) -> None:
    """One session's curve: zone bands, limit line, filtered force, over-limit marks, gaps and
    uncalibrated stretches.

    Args:
        ax: the panel's axes.
        curve: the session's (decimated) curve.
        shown: the unit the force axis reads in (newtons by default).
    """
    shown = shown or readout(DEFAULT_UNIT)
    k = shown.per_newton
    style_axes(ax)
    if curve.t_from is None or curve.t_to is None or not len(curve):
        ax.set_xticks([])
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no samples recorded", transform=ax.transAxes, ha="center",
                va="center", fontsize=8, color=MUTED)  # fmt: skip
        return
    scale, unit = time_scale(curve.t_to - curve.t_from)
    t = curve.t / scale
    lo, hi = curve.t_from / scale, curve.t_to / scale
    if hi <= lo:
        hi = lo + 1.0 / scale
    span = hi - lo
    filtered = curve.filtered_n * k
    finite = filtered[np.isfinite(filtered)]
    steps = [(a / scale, v * k) for a, v in curve.limit_steps]
    top_limit = max((v for _, v in steps), default=0.0)
    peak = float(finite.max()) if finite.size else 0.0
    ymax = max(peak * 1.08, top_limit * 1.35, k)

    # zone bands under the stepped limit
    for k, (a, value) in enumerate(steps):
        b = steps[k + 1][0] if k + 1 < len(steps) else hi
        for y0, y1, color in (
            (ZONE_EDGES[0] * value, ZONE_EDGES[1] * value, TARGET_BAND),
            (ZONE_EDGES[1] * value, ZONE_EDGES[2] * value, OVER_BAND),
            (ZONE_EDGES[2] * value, ymax, DANGER_BAND),
        ):
            ax.fill_between([a, b], y0, min(y1, ymax), color=color, linewidth=0, zorder=0)

    # stretches without data or without calibrated force
    for g0, g1 in curve.gaps:
        ax.axvspan(g0 / scale, g1 / scale, facecolor="white", edgecolor=GAP, hatch="////",
                   linewidth=0, zorder=1)  # fmt: skip
    min_width = span / 400
    for x, w in _spans(t, curve.zone == Zone.NO_SIGNAL, min_width):
        ax.axvspan(x, x + w, facecolor="white", edgecolor=GAP, hatch="////", linewidth=0,
                   zorder=1)  # fmt: skip
    for x, w in _spans(t, curve.zone == Zone.UNCALIBRATED, min_width):
        ax.axvspan(x, x + w, facecolor="white", edgecolor=UNCALIBRATED, hatch="xxx",
                   linewidth=0, zorder=1)  # fmt: skip

    if steps:
        xs = [a for a, _ in steps] + [hi]
        ys = [v for _, v in steps] + [steps[-1][1]]
        ax.plot(xs, ys, drawstyle="steps-post", color=LIMIT, linewidth=1.2, zorder=3)
    ax.plot(t, filtered, color=CURVE, linewidth=1.0, zorder=4, solid_joinstyle="miter")
    over = _spans(t, curve.zone >= Zone.OVER, min_width)
    if over:
        ax.broken_barh(over, (0.93, 0.07), transform=ax.get_xaxis_transform(),
                       facecolor=OVER_MARK, linewidth=0, zorder=5)  # fmt: skip
    if not finite.size:
        ax.text(0.5, 0.5, "no calibrated force in this session", transform=ax.transAxes,
                ha="center", va="center", fontsize=8, color=MUTED)  # fmt: skip
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, ymax)
    ax.set_xlabel(unit, fontsize=6.5, color=MUTED, labelpad=1)
    ax.set_ylabel(shown.unit, fontsize=6.5, color=MUTED, labelpad=1)
    ax.locator_params(axis="y", nbins=4)
    ax.locator_params(axis="x", nbins=8)


def _date_axis(ax: Axes, first: date, last: date, maxticks: int = 4) -> None:
    """Days from ``first`` to ``last`` with half a day to spare at each end (call it last:
    plotting would widen the limits again)."""
    ax.set_xlim(mdates.date2num(first) - 0.6, mdates.date2num(last) + 0.6)
    days = (last - first).days + 1
    # whole days only: an hourly tick would label one day several times
    ax.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, math.ceil(days / maxticks))))
    label = "%d %b %Y" if first.year != last.year else "%d %b"
    ax.xaxis.set_major_formatter(mdates.DateFormatter(label))


def _days(rows: Sequence[dict[str, Any]]) -> FloatArray:
    return np.asarray([mdates.date2num(date.fromisoformat(r["day"])) for r in rows], np.float64)


def _values(rows: Sequence[dict[str, Any]], key: str) -> FloatArray:
    return np.asarray([np.nan if r[key] is None else r[key] for r in rows], np.float64)


def _empty_note(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=6.5,
            color=MUTED)  # fmt: skip


def draw_region_force(
    ax: Axes,
    sessions: Sequence[dict[str, Any]],
    ppts: Sequence[dict[str, Any]],
    progress: Sequence[dict[str, Any]],
    days: tuple[date, date],
    *,
    shown: Readout | None = None,
) -> None:
    """Peak force and the limit per session, and the pain thresholds with the personal noise band
    (the MDC95 around the baseline mean), on one force axis.

    Args:
        ax: the axes.
        sessions: the region's trend rows (:func:`review.trends.session_trend_rows`).
        ppts: the region's threshold measurements in the range.
        progress: the region's :func:`calibration.progress.history_progress` rows.
        days: the range's first and last day (shared by every trend chart).
        shown: the force unit the axis reads in (newtons by default; never a pressure: the
            sessions may have used different tips).
    """
    style_axes(ax)
    shown = shown or readout(DEFAULT_UNIT)
    k = shown.per_newton
    for p in progress:
        base, sem = p.get("baseline_mean_n"), p.get("sem")
        if base and sem:
            band = math.exp(MDC95_FACTOR * float(sem))
            ax.axhspan(k * base / band, k * base * band, color=PPT_BAND, linewidth=0, zorder=0)
            ax.axhline(k * base, color=PPT, linewidth=0.6, linestyle=":", zorder=1)
    if sessions:
        x = _days(sessions)
        ax.scatter(x, k * _values(sessions, "limit_n"), marker="_", s=60, color=TREND_LIMIT,
                   linewidths=1.2, zorder=2)  # fmt: skip
        ax.scatter(x, k * _values(sessions, "peak_n"), s=10, color=PEAK, zorder=3)
    if ppts:
        ax.scatter(_days(ppts), k * _values(ppts, "ppt_n"), marker="D", s=14, color=PPT, zorder=4)
    drawn = [r.get(key) for r in sessions for key in ("peak_n", "limit_n")]
    drawn += [p["ppt_n"] for p in ppts]
    drawn += [p["baseline_mean_n"] * math.exp(MDC95_FACTOR * p["sem"]) for p in progress
              if p.get("baseline_mean_n") and p.get("sem")]  # fmt: skip
    top = max((float(v) for v in drawn if v is not None and math.isfinite(v)), default=1.0)
    ax.set_ylim(0, k * top * 1.25)
    ax.locator_params(axis="y", nbins=4)
    ax.set_ylabel(shown.unit, fontsize=6.5, color=MUTED, labelpad=1)
    if not sessions and not ppts:
        _empty_note(ax, "nothing recorded")
    _date_axis(ax, *days)


def draw_region_over(ax: Axes, sessions: Sequence[dict[str, Any]], days: tuple[date, date]) -> None:
    """Time over the limit per session (bars, seconds)."""
    style_axes(ax)
    over = _values(sessions, "time_over_limit_s") if sessions else np.empty(0)
    if sessions:
        ax.bar(_days(sessions), over, width=0.6, color=OVER_BAR, linewidth=0)
    if not sessions:
        _empty_note(ax, "no sessions")
    elif not np.nansum(over):
        _empty_note(ax, "never over the limit")
    ax.set_ylim(0, max(float(np.nanmax(over)) * 1.2 if over.size else 0.0, 1.0))
    ax.locator_params(axis="y", nbins=4)
    ax.set_ylabel("s", fontsize=6.5, color=MUTED, labelpad=1)
    _date_axis(ax, *days)


def draw_region_pain(ax: Axes, sessions: Sequence[dict[str, Any]], days: tuple[date, date]) -> None:
    """Pain before → after per session (0–10), an arrow from the first rating to the second."""
    style_axes(ax)
    rated = [s for s in sessions if s["pain_before"] is not None or s["pain_after"] is not None]
    for s in rated:
        x = mdates.date2num(date.fromisoformat(s["day"]))
        before, after = s["pain_before"], s["pain_after"]
        if before is not None and after is not None and before != after:
            ax.annotate("", (x, after), (x, before), zorder=2,
                        arrowprops={"arrowstyle": "-|>", "color": MUTED, "linewidth": 0.7,
                                    "shrinkA": 2, "shrinkB": 2, "mutation_scale": 6})  # fmt: skip
        if before is not None:
            ax.scatter([x], [before], s=10, color=PAIN_BEFORE, zorder=3)
        if after is not None:
            ax.scatter([x], [after], s=10, color=PAIN_AFTER, zorder=3)
    if not rated:
        _empty_note(ax, "no pain ratings")
    ax.set_ylim(-0.5, 10.5)
    ax.set_yticks([0, 5, 10])
    ax.set_ylabel("pain 0–10", fontsize=6.5, color=MUTED, labelpad=1)
    _date_axis(ax, *days)


def draw_journal(ax: Axes, entries: Sequence[dict[str, Any]], days: tuple[date, date]) -> None:
    """The journal's daily ratings (0–10) on the same days as the trends; ▼ marks a day with a
    named trigger."""
    style_axes(ax)
    if not entries:
        _empty_note(ax, "no journal entries in this period")
    x = _days(entries) if entries else np.empty(0)
    for key, color in JOURNAL.items():
        y = _values(entries, key) if entries else np.empty(0)
        if np.isfinite(y).any():
            ax.plot(x, y, color=color, linewidth=0.9, marker="o", markersize=2.2, label=key)
    flagged = [mdates.date2num(date.fromisoformat(e["day"])) for e in entries if e["triggers"]]
    if flagged:
        ax.scatter(flagged, [10.4] * len(flagged), marker="v", s=12, color=MUTED,
                   label="trigger named", zorder=3)  # fmt: skip
    ax.set_ylim(-0.5, 11)
    ax.set_yticks([0, 5, 10])
    ax.set_ylabel("0–10", fontsize=6.5, color=MUTED, labelpad=1)
    _date_axis(ax, *days, maxticks=8)
    if entries:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=6, frameon=False,
                  borderaxespad=0.3, handlelength=1.5)  # fmt: skip
