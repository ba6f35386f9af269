"""Trends per body region across sessions, with pressure-pain thresholds (PPT) and the symptom
journal beside them, and the caveats that keep them honest (CLINICAL.md §5).

Everything here reads session summaries, PPT history and journal entries; no sample is read,
so a trend over hundreds of sessions is one quick query each. Results are JSON-ready.

Days are local calendar days (the computer's time zone), inclusive at both ends, as
``Store.list_sessions(day_from=, day_to=)`` and ``Store.journal`` use them.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from calibration.progress import history_progress
from firmware_bridge.readout import DEFAULT_UNIT
from firmware_bridge.store._base import clean_json, parse_iso
from firmware_bridge.store.journal import check_day
from review.journal import SCALES

if TYPE_CHECKING:
    from firmware_bridge.store import Store

#: Weeks of a program before its benefit is judged (massage in fibromyalgia: ≥ 5 weeks).
MIN_WEEKS = 5
#: Change on the 0–10 pain scale that people with chronic pain usually find meaningful ...
PAIN_MEANINGFUL_POINTS = 2.0
#: ... or this share of the starting rating.
PAIN_MEANINGFUL_PCT = 30.0

#: What every trend view and the report must say beside the numbers (CLINICAL.md §5).
CAVEATS: tuple[str, ...] = (
    "A pressure-pain threshold (PPT) and a pain rating measure different things. A higher "
    "threshold means a spot takes more pressure before pressing starts to hurt; it does not "
    "mean you have less pain. The two often move independently, so both are shown.",
    "One session's change is within the normal day-to-day variation of these measurements. "
    "Look at the trend over several weeks, never at a single session or a single measurement.",
    f"Give a program at least {MIN_WEEKS} weeks before judging whether it helps; the studies "
    "that found benefits in fibromyalgia ran that long or longer.",
    "Compare like with like: the same spot, posture, time of day, tip and pace of pressing. "
    "A threshold change counts as real only beyond your own noise band (shown from the fourth "
    "measurement on).",
    f"On the 0–10 pain scale, a change of about {PAIN_MEANINGFUL_POINTS:g} points (or "
    f"{PAIN_MEANINGFUL_PCT:g} %) is the size people usually notice as meaningful; smaller "
    "changes from one day to the next are common.",
)


def matches_region(value: str | None, wanted: str | None) -> bool:
    """Whether a stored region is the one asked for: ``neck`` matches ``neck``, ``neck:left``
    and ``neck:right``; ``neck:left`` only itself; None matches every region."""
    if wanted is None:
        return True
    if value is None:
        return False
    return value == wanted or (":" not in wanted and value.startswith(wanted + ":"))


def local_day(stamp: str) -> date:
    """The local calendar day of a stored UTC timestamp."""
    return parse_iso(stamp).astimezone().date()


def week_of(day: date) -> str:
    """The ISO week of a day, ``2024-W07``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _mean(values: Iterable[float | None]) -> float | None:
    known = [float(v) for v in values if v is not None]
    return statistics.fmean(known) if known else None


def _median(values: Iterable[float | None]) -> float | None:
    known = [float(v) for v in values if v is not None]
    return statistics.median(known) if known else None


def _day_range(
    day_from: date | str | None, day_to: date | str | None
) -> tuple[date | None, date | None]:
    first = None if day_from is None else check_day(day_from, "first day")
    last = None if day_to is None else check_day(day_to, "last day")
    return first, last


def _in_range(day: date, first: date | None, last: date | None) -> bool:
    return (first is None or day >= first) and (last is None or day <= last)


def session_trend_rows(
    store: Store,
    profile: str,
    region: str | None = None,
    day_from: date | str | None = None,
    day_to: date | str | None = None,
) -> list[dict[str, Any]]:
    """One row per session, oldest first: what a trend chart plots.

    Args:
        store: the open store.
        profile: whose sessions.
        region: a region (its sides included) or one side; None for all.
        day_from: first local day (inclusive).
        day_to: last local day (inclusive).

    Returns:
        Dicts: ``session_id``, ``day`` (``YYYY-MM-DD``), ``week`` (``2024-W07``),
        ``started_at``, ``region``, ``duration_s``, ``peak_n``, ``limit_n``,
        ``peak_pct_of_limit``, ``time_over_limit_s``, ``pain_before``, ``pain_after``,
        ``pain_change`` (after − before; negative = less pain), ``status``.

    Raises:
        UsageError: a malformed day.
    """
    rows = store.list_sessions(profile=profile, region=region, day_from=day_from, day_to=day_to)
    out = []
    for s in reversed(rows):  # list_sessions is newest first
        day = local_day(s["started_at"])
        before, after = s["pain_before"], s["pain_after"]
        peak, limit = s["peak_n"], s["limit_n"]
        out.append(
            {
                "session_id": s["id"],
                "day": day.isoformat(),
                "week": week_of(day),
                "started_at": s["started_at"],
                "region": s["region"],
                "duration_s": s["duration_s"],
                "peak_n": peak,
                "limit_n": limit,
                "peak_pct_of_limit": None if not peak or not limit else 100 * peak / limit,
                "time_over_limit_s": s["time_over_limit_s"],
                "pain_before": before,
                "pain_after": after,
                "pain_change": None if before is None or after is None else after - before,
                "status": s["status"],
            }
        )
    return out


def _ppt_row(m: Mapping[str, Any]) -> dict[str, Any]:
    area = m.get("tip_area_cm2")
    return {
        "id": m["id"],
        "day": local_day(m["measured_at"]).isoformat(),
        "measured_at": m["measured_at"],
        "region": m["region"],
        "tip": m["tip"],
        "ppt_n": m["ppt_n"],
        "ppt_kpa": 10.0 * m["ppt_n"] / area if area else None,
        "sd_n": m["sd_n"],
        "n": m["n"],
        "limit_id": m["limit_id"],
    }


def journal_weekly(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Journal entries summed up per ISO week: mean of each rating and the triggers named.

    Returns:
        Dicts, oldest week first: ``week``, ``days`` (entries that week), ``pain``,
        ``stiffness``, ``sleep``, ``activity`` (means, None when never rated) and ``triggers``
        (``{trigger: days}``, most frequent first).
    """
    weeks: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        weeks[week_of(date.fromisoformat(entry["day"]))].append(entry)
    out = []
    for week in sorted(weeks):
        days = weeks[week]
        triggers = Counter(t for e in days for t in e["triggers"])
        row: dict[str, Any] = {"week": week, "days": len(days)}
        row |= {s.key: _mean(e[s.key] for e in days) for s in SCALES}
        row["triggers"] = dict(triggers.most_common())
        out.append(row)
    return out


def _weekly(sessions: list[dict[str, Any]], ppts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per region and ISO week: sessions, median peak, time over limit, pain change, PPT."""
    groups: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: {"sessions": [], "ppt": []}
    )
    for s in sessions:
        groups[s["region"] or "", s["week"]]["sessions"].append(s)
    for p in ppts:
        groups[p["region"], week_of(date.fromisoformat(p["day"]))]["ppt"].append(p)
    out = []
    for (region, week), group in sorted(groups.items()):
        done = group["sessions"]
        out.append(
            {
                "region": region or None,
                "week": week,
                "sessions": len(done),
                "peak_n_median": _median(s["peak_n"] for s in done),
                "time_over_limit_s": sum(s["time_over_limit_s"] for s in done),
                "pain_change_mean": _mean(s["pain_change"] for s in done),
                "ppt_n_mean": _mean(p["ppt_n"] for p in group["ppt"]),
            }
        )
    return out


def region_trends(
    store: Store,
    profile: str,
    region: str | None = None,
    day_from: date | str | None = None,
    day_to: date | str | None = None,
    *,
    unit: str = DEFAULT_UNIT,
) -> dict[str, Any]:
    """Sessions, PPTs and journal days of a profile over a date range, per region and week.

    Args:
        store: the open store.
        profile: whose data.
        region: a region (its sides included) or one side; None for every region.
        day_from: first local day (inclusive); None from the beginning.
        day_to: last local day (inclusive); None to the end.
        unit: the user's unit for the progress words (the numbers stay in newtons).

    Returns:
        A JSON-ready dict:

        - ``profile``, ``region``, ``day_from``, ``day_to``: what was asked.
        - ``sessions``: :func:`session_trend_rows`, oldest first.
        - ``regions``: per stored region (each side apart): ``region``, ``sessions``,
          ``first_day``, ``last_day``, ``ppt`` (the PPT measurements in the range, oldest
          first: ``day``, ``ppt_n``, ``ppt_kpa``, ``tip`` …) and ``ppt_progress`` (per tip,
          :func:`calibration.progress.history_progress` over the region's *whole* history, so
          the baseline stays the first three measurements whatever the range).
        - ``weekly``: per region and ISO week: ``sessions``, ``peak_n_median``,
          ``time_over_limit_s``, ``pain_change_mean``, ``ppt_n_mean``.
        - ``journal``: the journal entries in the range (``Store.journal``), and
          ``journal_weekly`` (:func:`journal_weekly`), to show beside the sessions.
        - ``weeks_covered``: from the first to the last session or measurement (weeks), and
          ``enough_weeks``: whether that reaches :data:`MIN_WEEKS`.
        - ``caveats``: :data:`CAVEATS`, plus a line when it is too early to judge.

    Raises:
        UsageError: a malformed day.
    """
    first, last = _day_range(day_from, day_to)
    sessions = session_trend_rows(store, profile, region, first, last)
    history = [m for m in store.ppt_history(profile) if matches_region(m["region"], region)]
    ppts = [
        row
        for row in map(_ppt_row, history)
        if _in_range(date.fromisoformat(row["day"]), first, last)
    ]
    progress = history_progress(history, unit)
    names = sorted({s["region"] for s in sessions if s["region"]} | {p["region"] for p in ppts})
    regions = []
    for name in names:
        own = [s for s in sessions if s["region"] == name]
        regions.append(
            {
                "region": name,
                "sessions": len(own),
                "first_day": own[0]["day"] if own else None,
                "last_day": own[-1]["day"] if own else None,
                "ppt": [p for p in ppts if p["region"] == name],
                "ppt_progress": [p for p in progress if p["region"] == name],
            }
        )
    days = sorted({s["day"] for s in sessions} | {p["day"] for p in ppts})
    weeks = 0.0
    if days:
        weeks = (date.fromisoformat(days[-1]) - date.fromisoformat(days[0])) / timedelta(weeks=1)
    caveats = list(CAVEATS)
    if weeks < MIN_WEEKS:
        caveats.append(
            f"These data cover {weeks:.1f} weeks: too early to judge whether the program helps."
        )
    entries = store.journal(profile, first, last)
    result = {
        "profile": profile,
        "region": region,
        "day_from": None if first is None else first.isoformat(),
        "day_to": None if last is None else last.isoformat(),
        "sessions": sessions,
        "regions": regions,
        "weekly": _weekly(sessions, ppts),
        "journal": entries,
        "journal_weekly": journal_weekly(entries),
        "weeks_covered": weeks,
        "enough_weeks": weeks >= MIN_WEEKS,
        "caveats": caveats,
    }
    cleaned: dict[str, Any] = clean_json(result)
    return cleaned
