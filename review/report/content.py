"""What goes into a therapist report, read from the store: no drawing here.

:func:`gather` collects a profile's safety answers, the sites worked on with their comfort limits
and pain thresholds, every session in the range with its stats (the newest ones also with their
decimated curve), the trends and the journal, and the totals the summary page shows. The page
code (:mod:`review.report.pages`) only lays these out.

Days are local calendar days, inclusive at both ends, as everywhere in :mod:`review`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from calibration.limits import resolve_limit, stored_safety
from calibration.precautions import ProfileSafety
from calibration.progress import history_progress
from calibration.tips import TIPS, pressure_area
from firmware_bridge.errors import NotFoundError, UsageError
from firmware_bridge.readout import chosen_unit, parse_unit
from firmware_bridge.store._base import parse_iso
from firmware_bridge.store.journal import check_day
from review.curve import Curve, session_curve
from review.stats import SessionStats, session_stats
from review.trends import local_day, region_trends

if TYPE_CHECKING:
    from firmware_bridge.store import Store

log = logging.getLogger(__name__)

#: Sessions drawn with their curve, newest first; older ones count in the summary and trends.
MAX_DETAILED_SESSIONS = 24
#: Points per session curve: about two per pixel of a panel at 150 dpi, min/max decimated so
#: every peak survives (:func:`review.curve.session_curve`).
CURVE_POINTS = 1600


@dataclass(frozen=True, slots=True)
class SessionEntry:
    """One session of the range.

    Attributes:
        summary: ``Store.list_sessions`` summary.
        stats: its :class:`~review.stats.SessionStats`.
        started: local start time.
        curve: the decimated curve, for the sessions drawn in detail; None for the others.
    """

    summary: dict[str, Any]
    stats: SessionStats
    started: datetime
    curve: Curve | None = None

    @property
    def session_id(self) -> int:
        """The session's id."""
        return int(self.summary["id"])


@dataclass(frozen=True, slots=True)
class SiteRow:
    """One body site (region and tip): its limit now and its latest pain threshold.

    Attributes:
        region: region slug with optional side.
        tip: tip key, None for "any tip".
        sessions: sessions at this region in the range.
        limit_n: the comfort limit that applies now (after the ceiling and site caps).
        limit_basis: where it comes from, in words.
        limit_set_at: when the stored limit was set (local), None for a shipped default.
        ppt_n: the latest pain-threshold measurement (N), None if never measured.
        ppt_day: its local day.
        ppt_trials: accepted trials in it.
        pressure_area_cm2: area to show kPa with (flat tip of known area), else None.
        verdict: the threshold against the baseline (``baseline``, ``within_noise``, ``higher``,
            ``lower``), None without measurements.
        progress_n: measurements behind the verdict.
        mdc95_pct: the personal noise band (rise in % that counts as real), when known.
    """

    region: str
    tip: str | None
    sessions: int
    limit_n: float
    limit_basis: str
    limit_set_at: datetime | None
    ppt_n: float | None = None
    ppt_day: str | None = None
    ppt_trials: int | None = None
    pressure_area_cm2: float | None = None
    verdict: str | None = None
    progress_n: int = 0
    mdc95_pct: float | None = None


@dataclass(frozen=True, slots=True)
class Totals:
    """The range in numbers (every session of the range, not only those drawn).

    Attributes:
        sessions: sessions in the range.
        session_time_s: their recorded time, gaps included.
        working_time_s: time at ≥ 80 % of the limit (target, over and danger zones).
        over_s: time over the limit (over + danger).
        danger_s: time at ≥ 120 % of the limit.
        over_entries: times pressure went over the limit.
        impulse_ns: summed pressure dose (N·s).
        pain_rated: sessions with both a before and an after rating.
        pain_before: mean rating before, over those.
        pain_after: mean rating after, over those.
        lost_frames: frames missing from the tool's sequence numbers.
        bad_frames: frames that failed to decode.
        gaps: stretches without signal.
        gap_s: their total length.
        uncalibrated_s: time with no calibrated force.
        no_signal_s: time judged "no signal".
    """

    sessions: int = 0
    session_time_s: float = 0.0
    working_time_s: float = 0.0
    over_s: float = 0.0
    danger_s: float = 0.0
    over_entries: int = 0
    impulse_ns: float = 0.0
    pain_rated: int = 0
    pain_before: float | None = None
    pain_after: float | None = None
    lost_frames: int = 0
    bad_frames: int = 0
    gaps: int = 0
    gap_s: float = 0.0
    uncalibrated_s: float = 0.0
    no_signal_s: float = 0.0

    @property
    def pain_change(self) -> float | None:
        """Mean after − mean before (negative: less pain after), over sessions rated both."""
        if self.pain_before is None or self.pain_after is None:
            return None
        return self.pain_after - self.pain_before


@dataclass(frozen=True, slots=True)
class ReportContent:
    """Everything a report shows.

    Attributes:
        profile: whose report.
        day_from: first day asked for (None: from the first record).
        day_to: last day asked for (None: to the last record).
        first_day: first day with data in the range (None when empty).
        last_day: last day with data in the range.
        generated_at: when the report was made (local, aware).
        safety: the profile's screening answers.
        sites: sites worked on in the range and sites with a stored limit.
        sessions: every session in the range, newest first.
        detailed: how many of them (the newest) carry a curve.
        trends: :func:`review.trends.region_trends` over the range.
        journal: the journal entries in the range, oldest first.
        totals: the range in numbers.
        profile_days: first and last day of anything recorded for the profile (any range).
        unit: the unit forces are read out in (:mod:`firmware_bridge.readout`); pressure only
            for a session or site on a flat tip of known area.
    """

    profile: str
    day_from: date | None
    day_to: date | None
    first_day: date | None
    last_day: date | None
    generated_at: datetime
    safety: ProfileSafety
    sites: list[SiteRow]
    sessions: list[SessionEntry]
    detailed: int
    trends: dict[str, Any]
    journal: list[dict[str, Any]]
    totals: Totals
    profile_days: tuple[date, date] | None = None
    unit: str = "N"

    @property
    def empty(self) -> bool:
        """Nothing in the range: no session, no threshold measurement, no journal entry."""
        measured = any(r["ppt"] for r in self.trends.get("regions", []))
        return not self.sessions and not self.journal and not measured


def check_range(
    day_from: date | str | None, day_to: date | str | None
) -> tuple[date | None, date | None]:
    """The report's days, checked.

    Raises:
        UsageError: a malformed day, or the first day after the last.
    """
    first = None if day_from is None else check_day(day_from, "first day")
    last = None if day_to is None else check_day(day_to, "last day")
    if first is not None and last is not None and first > last:
        raise UsageError(f"the first day ({first}) is after the last day ({last})")
    return first, last


def check_profile(store: Store, profile: str) -> None:
    """Make sure the profile exists.

    Raises:
        NotFoundError: no such profile (the message names the known ones).
    """
    names = [p["name"] for p in store.list_profiles()]
    if profile not in names:
        known = ", ".join(names) if names else "none yet"
        raise NotFoundError(f"no profile {profile!r}; known profiles: {known}")


def _totals(entries: list[SessionEntry]) -> Totals:
    zones = ("target", "over", "danger")
    rated = [e.stats for e in entries if e.stats.pain_change is not None]
    before = [float(s.pain_before) for s in rated if s.pain_before is not None]
    after = [float(s.pain_after) for s in rated if s.pain_after is not None]
    stats = [e.stats for e in entries]
    return Totals(
        sessions=len(entries),
        session_time_s=sum(s.duration_s for s in stats),
        working_time_s=sum(s.time_in_zone_s[z] for s in stats for z in zones),
        over_s=sum(s.time_over_limit_s for s in stats),
        danger_s=sum(s.time_in_zone_s["danger"] for s in stats),
        over_entries=sum(s.over_limit_count for s in stats),
        impulse_ns=sum(s.impulse_ns for s in stats),
        pain_rated=len(rated),
        pain_before=sum(before) / len(before) if before else None,
        pain_after=sum(after) / len(after) if after else None,
        lost_frames=sum(s.lost_frames for s in stats),
        bad_frames=sum(s.bad_frames for s in stats),
        gaps=sum(s.gaps for s in stats),
        gap_s=sum(s.gap_total_s for s in stats),
        uncalibrated_s=sum(s.time_in_zone_s["uncalibrated"] for s in stats),
        no_signal_s=sum(s.time_in_zone_s["no_signal"] for s in stats),
    )


def _sites(store: Store, profile: str, trends: dict[str, Any], unit: str) -> list[SiteRow]:
    """Sites worked on in the range (any tip), and every site and tip with a stored limit or a
    pain-threshold measurement (whenever made: the limits and thresholds as they are now)."""
    counts = {r["region"]: r["sessions"] for r in trends["regions"]}
    keys: dict[tuple[str, str | None], None] = {}
    for region in counts:
        keys[region, None] = None
    stored = {(lim["region"], lim["tip"]): lim for lim in store.current_limits(profile)}
    for key in stored:
        keys[key] = None
    history = store.ppt_history(profile)
    latest: dict[tuple[str, str | None], dict[str, Any]] = {}
    for m in history:  # oldest first: the newest wins
        latest[m["region"], m["tip"]] = m
        keys[m["region"], m["tip"]] = None
    progress = {(p["region"], p["tip"]): p for p in history_progress(history, unit)}
    safety = stored_safety(store, profile)
    rows = []
    for region, tip in sorted(keys, key=lambda k: (k[0], k[1] or "")):
        known = TIPS.get(tip or "")
        area = known.area_cm2 if known is not None else None
        limit_n, basis = resolve_limit(
            store, profile, region, tip=tip, tip_area_cm2=area, safety=safety
        )
        own = stored.get((region, tip))
        ppt = latest.get((region, tip))
        prog = progress.get((region, tip))
        rows.append(
            SiteRow(
                region=region,
                tip=tip,
                sessions=int(counts.get(region, 0)) if tip is None else 0,
                limit_n=limit_n,
                limit_basis=basis,
                limit_set_at=None if own is None else parse_iso(own["set_at"]).astimezone(),
                ppt_n=None if ppt is None else float(ppt["ppt_n"]),
                ppt_day=None if ppt is None else local_day(ppt["measured_at"]).isoformat(),
                ppt_trials=None if ppt is None else int(ppt["n"]),
                pressure_area_cm2=pressure_area(known),
                verdict=None if prog is None else str(prog["verdict"]),
                progress_n=0 if prog is None else int(prog["n"]),
                mdc95_pct=None if prog is None else prog["mdc95_pct"],
            )
        )
    return rows


def _profile_days(store: Store, profile: str) -> tuple[date, date] | None:
    """First and last day of anything recorded for the profile."""
    days = [local_day(s["started_at"]) for s in store.list_sessions(profile=profile)]
    days += [local_day(m["measured_at"]) for m in store.ppt_history(profile)]
    days += [date.fromisoformat(e["day"]) for e in store.journal(profile)]
    return (min(days), max(days)) if days else None


def gather(
    store: Store,
    profile: str,
    day_from: date | str | None = None,
    day_to: date | str | None = None,
    *,
    max_sessions: int = MAX_DETAILED_SESSIONS,
    now: datetime | None = None,
    unit: str | None = None,
) -> ReportContent:
    """Read everything a report over a profile and date range shows.

    Args:
        store: the open store.
        profile: whose report.
        day_from: first local day (inclusive); None from the first record.
        day_to: last local day (inclusive); None to the last record.
        max_sessions: sessions drawn with their curve (the newest).
        now: the generation time (default: now), for reproducible reports.
        unit: the unit forces are read out in; None: the user's setting.

    Returns:
        See :class:`ReportContent`.

    Raises:
        UsageError: a malformed day or unit, or the first day after the last.
        NotFoundError: no such profile.
        StoreError: the store cannot be read.
    """
    first, last = check_range(day_from, day_to)
    check_profile(store, profile)
    generated = (now or datetime.now()).astimezone()
    unit = chosen_unit(store) if unit is None else parse_unit(unit)
    trends = region_trends(store, profile, None, first, last, unit=unit)
    summaries = store.list_sessions(profile=profile, day_from=first, day_to=last)
    entries = []
    for k, summary in enumerate(summaries):  # newest first
        sid = int(summary["id"])
        curve = session_curve(store, sid, max_points=CURVE_POINTS) if k < max_sessions else None
        started = parse_iso(summary["started_at"]).astimezone()
        entries.append(SessionEntry(summary, session_stats(store, sid), started, curve))
    days = [s["day"] for s in trends["sessions"]]
    days += [p["day"] for r in trends["regions"] for p in r["ppt"]]
    days += [e["day"] for e in trends["journal"]]
    log.info(
        "report for %s: %d sessions (%d drawn), %d journal days",
        profile,
        len(entries),
        min(len(entries), max_sessions),
        len(trends["journal"]),
    )
    return ReportContent(
        profile=profile,
        day_from=first,
        day_to=last,
        first_day=date.fromisoformat(min(days)) if days else None,
        last_day=date.fromisoformat(max(days)) if days else None,
        generated_at=generated,
        safety=stored_safety(store, profile),
        sites=_sites(store, profile, trends, unit),
        sessions=entries,
        detailed=min(len(entries), max_sessions),
        trends=trends,
        journal=list(trends["journal"]),
        totals=_totals(entries),
        profile_days=_profile_days(store, profile),
        unit=unit,
    )
