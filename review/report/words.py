"""The report's numbers in words: durations, forces, days, and the lines describing the profile's
safety, a site, the range's totals and one session.

Forces read in the user's unit (:mod:`firmware_bridge.readout`): as pressure only for a session
or site on a flat tip of known area, else as force of the same family.
"""

from __future__ import annotations

from datetime import date, datetime

from calibration.precautions import ProfileSafety
from calibration.tips import TIPS, TOOL_TIP
from firmware_bridge.readout import (
    DEFAULT_UNIT,
    DISPLAY_UNITS,
    Readout,
    describe,
    dose,
    force_readout,
    force_unit,
    pressure_unit,
    readout,
)
from firmware_bridge.units import KGF_N, REFERENCE_TIP_CM2
from review.report.content import ReportContent, SessionEntry, SiteRow, Totals
from review.words import calibration_words, prewarning_words

_VERDICTS = {
    "higher": "higher: beyond the noise band",
    "lower": "lower: beyond the noise band",
    "within_noise": "within the noise band",
}


def site(region: str | None) -> str:
    """A body site for people: ``upper-trapezius (left)``; ``no region`` when unknown."""
    if not region:
        return "no region"
    slug, _, side = region.partition(":")
    return f"{slug} ({side})" if side else slug


def duration(seconds: float | None) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    if seconds is None:
        return "–"
    s = round(seconds)
    if s < 60:
        return f"{seconds:.1f} s" if seconds < 10 and seconds % 1 else f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def force(newtons: float | None, area_cm2: float | None = None, unit: str = DEFAULT_UNIT) -> str:
    """``14.7 N`` in the user's unit, with the pressure beside it (or, for a pressure unit, the
    force) when the tip's area makes pressure meaningful: ``14.7 N (147 kPa)``."""
    return "–" if newtons is None else describe(newtons, unit, area_cm2)


def shown(entry: SessionEntry, unit: str) -> Readout:
    """How one session's forces read: as pressure only on its own known flat tip."""
    return readout(unit, entry.summary.get("tip_area_cm2"))


def session_force(entry: SessionEntry, newtons: float | None, unit: str) -> str:
    """One of a session's forces (its limit, its peak) as :func:`shown` reads it; ``–`` if none."""
    return "–" if newtons is None else shown(entry, unit).text(newtons)


def units_line(unit: str) -> str:
    """What the report's numbers are in, for its first page."""
    chosen = DISPLAY_UNITS[unit]
    family = DISPLAY_UNITS[force_unit(unit)]
    if chosen.pressure:
        return (
            f"pressure in {chosen.label.split(',')[0]} for sessions and sites on a flat tip of "
            f"known area, else force in {family.label}"
        )
    return (
        f"force in {family.label}; {pressure_unit(unit)} beside it only for a flat tip of known "
        "area"
    )


def tip_words(summary: dict[str, object]) -> str:
    """A session's tip in words (pressure is only shown on a flat one of known area)."""
    key, area = summary.get("tip"), summary.get("tip_area_cm2")
    tip = TIPS.get(str(key)) if key else None
    if tip is not None:
        return tip.label
    if key in (None, TOOL_TIP) and isinstance(area, int | float):
        return f"the tool's own flat tip ({area:g} cm²)"
    return "not known (force only)"


def day(value: date | None) -> str:
    """``13 Nov 2026``."""
    return "–" if value is None else value.strftime("%d %b %Y").lstrip("0")


def when(value: datetime) -> str:
    """``Fri 13 Nov 2026, 17:46``."""
    return value.strftime("%a %d %b %Y, %H:%M").replace(" 0", " ", 1)


def signed(value: float, fmt: str = "g") -> str:
    """A signed number with a true minus sign: ``+2``, ``−1.5``."""
    text = format(value, "+" + fmt)
    return text.replace("-", "−")


def rating(value: float | None) -> str:
    """A 0–10 rating: ``4``, ``4.5`` or ``–``."""
    return "–" if value is None else f"{value:g}" if value == round(value, 1) else f"{value:.1f}"


def period(content: ReportContent) -> str:
    """The period covered, as asked and as found."""
    if content.day_from is None and content.day_to is None:
        asked = "all records"
    elif content.day_to is None:
        asked = f"from {day(content.day_from)}"
    elif content.day_from is None:
        asked = f"up to {day(content.day_to)}"
    else:
        asked = f"{day(content.day_from)} – {day(content.day_to)}"
    if content.first_day is None:
        return asked
    found = f"{day(content.first_day)} – {day(content.last_day)}"
    if asked in ("all records", found):
        return found
    return f"{asked} (records {found})"


def generated(content: ReportContent) -> str:
    """Generation time with its UTC offset."""
    at = content.generated_at
    return f"{when(at)} (local time, UTC{at.strftime('%z')[:3]}:{at.strftime('%z')[3:]})"


def safety_pairs(safety: ProfileSafety, unit: str = DEFAULT_UNIT) -> list[tuple[str, str]]:
    """Screening, precautions (one line each), ceiling and sensitive mode as label–value pairs."""
    answered = "not answered yet"
    if safety.answered_at:
        answered = f"answered {safety.answered_at[:10]}"
    yes = [("", f"yes: {p.question}") for p in safety.answered_precautions()]
    if not yes:
        yes = [("", "none answered yes" if safety.answered else "–")]
    ceiling_n = force_readout(unit).text(safety.ceiling_n(REFERENCE_TIP_CM2))
    ceiling = (
        f"{safety.ceiling_kgf_cm2:g} kgf/cm² (≈ {safety.ceiling_kgf_cm2 * KGF_N * 10:.0f} kPa; "
        f"{ceiling_n} on a 1 cm² tip)"
    )
    if safety.lowered:
        ceiling += ", lowered by the precautions"
    refused = safety.override_refused
    ceiling += "; cannot be overridden" if refused else "; may be overridden after calibration"
    sensitive = "off"
    if safety.sensitive:
        sensitive = (
            "on (fibromyalgia): limits proposed at 80 % of the measured threshold, ceiling fixed"
        )
    precautions = [("Precautions", yes[0][1]), *yes[1:]]
    return [
        ("Questions", answered),
        *precautions,
        ("Pressure ceiling", ceiling),
        ("Sensitive mode", sensitive),
    ]


def site_cells(row: SiteRow, unit: str = DEFAULT_UNIT) -> list[str]:
    """A row of the sites table."""
    where = site(row.region) if row.tip is None else f"{site(row.region)}, {row.tip} tip"
    basis = row.limit_basis
    if row.limit_set_at is not None:
        basis += f"; set {row.limit_set_at.date().isoformat()}"
    ppt = "never measured"
    if row.ppt_n is not None:
        ppt = (
            f"{force(row.ppt_n, row.pressure_area_cm2, unit)} on {row.ppt_day}, "
            f"{row.ppt_trials} trials"
        )
    if row.verdict is None:
        versus = "–"
    elif row.verdict == "baseline":
        versus = f"baseline {min(row.progress_n, 3)} of 3"
    else:
        versus = _VERDICTS.get(row.verdict, row.verdict)
        if row.mdc95_pct is not None:
            versus += f" (+{row.mdc95_pct:.0f} %)"
    return [
        where,
        str(row.sessions) if row.tip is None else "",
        force(row.limit_n, row.pressure_area_cm2, unit),
        basis,
        ppt,
        versus,
    ]


def totals_pairs(t: Totals, regions: list[str], unit: str = DEFAULT_UNIT) -> list[tuple[str, str]]:
    """The range's totals as label–value pairs."""
    sessions = f"{t.sessions}"
    if regions:
        names = ", ".join(site(r) for r in regions)
        sessions += f" at {len(regions)} site{'s' * (len(regions) != 1)}: {names}"
    over = "never"
    if t.over_s > 0 or t.over_entries:
        over = f"{duration(t.over_s)} in {t.over_entries} push{'es' * (t.over_entries != 1)}"
        over += f", of which {duration(t.danger_s)} at ≥ 120 % of the limit (danger)"
    pain = "no session rated before and after"
    if t.pain_rated and t.pain_before is not None and t.pain_after is not None:
        change = t.pain_after - t.pain_before
        pct = f", {signed(100 * change / t.pain_before, '.0f')} %" if t.pain_before else ""
        points = signed(change, ".1f")
        pain = (
            f"mean {t.pain_before:.1f} → {t.pain_after:.1f} ({points} points{pct}) over "
            f"{t.pain_rated} of {t.sessions} sessions rated both"
        )
    return [
        ("Sessions", sessions),
        ("Recorded time", duration(t.session_time_s)),
        ("Working pressure", f"{duration(t.working_time_s)} at ≥ 80 % of the comfort limit"),
        ("Over the limit", over),
        ("Pressure dose", f"{dose(t.impulse_ns, unit)} (force × time)"),
        ("Pain before → after", pain),
        ("Data quality", quality(t.lost_frames, t.bad_frames, t.gaps, t.gap_s, t.uncalibrated_s)),
    ]


def quality(lost: int, bad: int, gaps: int, gap_s: float, uncalibrated_s: float) -> str:
    """Lost data in words: ``complete`` or what is missing."""
    parts = []
    if lost:
        parts.append(f"{lost:,} frame{'s' * (lost != 1)} lost")
    if bad:
        parts.append(f"{bad:,} bad frame{'s' * (bad != 1)}")
    if gaps:
        parts.append(f"{gaps} gap{'s' * (gaps != 1)} ({duration(gap_s)} without signal)")
    if uncalibrated_s > 0:
        parts.append(f"{duration(uncalibrated_s)} without calibrated force")
    return "; ".join(parts) if parts else "complete: no frames lost, no gaps, all calibrated"


def session_lines(entry: SessionEntry, unit: str = DEFAULT_UNIT) -> list[tuple[str, bool]]:
    """The stats beside a session's curve: (line, needs attention)."""
    s = entry.stats
    summary = entry.summary
    rate = f" · {s.sample_rate_hz:.0f} Hz" if s.sample_rate_hz else ""
    zones = s.time_in_zone_s
    lines = [
        (f"Duration {duration(s.duration_s)}{rate}", False),
        (f"Tip: {tip_words(summary)}", False),
        (f"Limit {session_force(entry, s.limit_n, unit)}", False),
    ]
    basis = summary.get("meta", {}).get("limit_basis")
    if basis:
        lines.append((f"  ({basis})", False))
    peak = f"Peak {session_force(entry, s.peak_n, unit)}"
    if s.peak_pct_of_limit is not None:
        peak += f" · filtered {s.peak_pct_of_limit:.0f} % of limit"
    lines.append((peak, False))
    over = s.time_over_limit_s > 0
    times = f", {s.over_limit_count} time{'s' * (s.over_limit_count != 1)}" if over else ""
    lines.append((f"Over the limit {duration(s.time_over_limit_s)}{times}", over))
    if zones["danger"] > 0:
        lines.append((f"  of which danger (≥ 120 %) {duration(zones['danger'])}", True))
    lines.append((f"Target range {duration(zones['target'])}", False))
    hold = "–" if s.longest_hold_s is None else duration(s.longest_hold_s)
    lines.append((f"Longest hold {hold} · dose {dose(s.impulse_ns, unit)}", False))
    ramps, holds = s.events_by_kind.get("ramp", 0), s.events_by_kind.get("hold", 0)
    warnings = f"Warnings: {ramps} slow down, {holds} release"
    prewarnings = prewarning_words(s.events_by_kind)
    lines.append((warnings + (f"; {prewarnings}" if prewarnings else ""), False))
    pain = f"Pain {rating(s.pain_before)} → {rating(s.pain_after)}"
    if s.pain_change:
        pain += f" ({signed(s.pain_change)})"
    elif s.pain_change is not None:
        pain += " (no change)"
    lines.append((pain, False))
    lines.append((f"Calibration: {calibration_words(summary.get('calibration'))}", False))
    data = quality(s.lost_frames, s.bad_frames, s.gaps, s.gap_total_s, zones["uncalibrated"])
    lines.append((f"Data: {data}", data[:8] != "complete"))
    note = summary.get("note")
    if note:
        lines.append((f"Note: {note}", False))
    return lines
