"""The report's plan, and its pages other than the session panels: the summary, the trends per
site with the journal and the caveats, the journal table, and the one page of an empty period.
Each page is planned first (what goes on it, where the session panels sit) and drawn on demand
on an A4 figure, so a report renders to PDF and PNG alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from firmware_bridge.readout import force_readout
from review.journal import SCALES
from review.report import figures
from review.report import words as w
from review.report.content import ReportContent
from review.report.layout import (
    CONTENT_W,
    MARGIN,
    MUTED,
    PAGE_H,
    PAGE_W,
    Column,
    Flow,
    inches_rect,
)
from review.report.page import Page, new_figure, table_pages
from review.report.panels import index_pages, session_pages

REGIONS_PER_PAGE = 3
REGIONS_PER_MORE_PAGE = 4

# -- summary -------------------------------------------------------------------------------------


SITE_COLUMNS = (
    Column("Site", 1.35),
    Column("Sessions", 0.65, "right"),
    Column("Limit now", 0.9, "right"),
    Column("Basis of the limit", 2.17),
    Column("Latest PPT", 1.05),
    Column("vs baseline", 0.95),
)
_SITE_NOTE = (
    "Limit now: the comfort limit the tool applies today, after the ceiling and site caps. "
    "Noise band: the rise a new threshold must exceed to count as real, from the profile's own "
    "first three measurements."
)


def _summary(content: ReportContent, sites: Sequence[Sequence[str]]) -> Callable[[Figure], int]:
    """Page 1; its drawing returns how many site rows fitted (the rest go on the next page)."""

    def draw(fig: Figure) -> int:
        flow = Flow(fig)
        flow.pairs(
            [
                ("Profile", content.profile),
                ("Period", w.period(content)),
                ("Generated", w.generated(content)),
                ("Units", w.units_line(content.unit)),
            ]
        )
        flow.heading("Safety screening")
        flow.pairs(w.safety_pairs(content.safety, content.unit))
        flow.heading("This period in numbers")
        regions = [r["region"] for r in content.trends["regions"] if r["sessions"]]
        flow.pairs(w.totals_pairs(content.totals, regions, content.unit))
        flow.pairs([("Symptom journal", _journal_words(content.journal))])
        flow.space(0.08)
        flow.text(
            "Single-session changes in pain or threshold are within measurement noise; judge a "
            "program by its trend over at least 5 weeks. The trends page explains the caveats.",
            8,
            weight="bold",
        )
        flow.heading("Sites, comfort limits and pain thresholds (as of today)")
        if not sites:
            flow.text("No site worked on in this period and no limit stored.", 8.5)
            return 0
        drawn = flow.table(SITE_COLUMNS, sites, max_lines=4, reserve=0.45)
        flow.space(0.04)
        more = " The table goes on over the page." if drawn < len(sites) else ""
        flow.text(_SITE_NOTE + more, 7, color=MUTED)
        return drawn

    return draw


def _journal_words(entries: Sequence[dict[str, Any]]) -> str:
    if not entries:
        return "no entries in this period"

    def mean(key: str) -> str:
        known = [float(e[key]) for e in entries if e[key] is not None]
        return "–" if not known else f"{sum(known) / len(known):.1f}"

    n = len(entries)
    return (
        f"{n} day{'s' * (n != 1)}: mean pain {mean('pain')}, stiffness {mean('stiffness')}, "
        f"sleep {mean('sleep')}, activity {mean('activity')} (0–10; the table is at the end)"
    )


# -- trends --------------------------------------------------------------------------------------


def _trend_days(content: ReportContent) -> tuple[date, date]:
    first = content.day_from or content.first_day or content.generated_at.date()
    last = content.day_to or content.last_day or first
    return first, last


def _trends(
    content: ReportContent, regions: list[dict[str, Any]], first: bool
) -> Callable[[Figure], None]:
    days = _trend_days(content)
    trends = content.trends
    # the numbers of the session pages (from the samples), not the bridge's running counters
    stats = {e.session_id: e.stats for e in content.sessions}
    sessions = [
        row
        | {
            "peak_n": stats[row["session_id"]].peak_n,
            "time_over_limit_s": stats[row["session_id"]].time_over_limit_s,
        }
        if row["session_id"] in stats
        else row
        for row in trends["sessions"]
    ]

    def draw(fig: Figure) -> None:
        flow = Flow(fig)
        flow.text(
            "Per site, one point per session or measurement on the same days as the journal "
            "below. Diamonds: pain thresholds; the teal band: the profile's own noise band "
            "around its baseline (dotted).",
            7.5,
            color=MUTED,
        )
        _trend_key(fig, flow)
        for region in regions:
            rows = [s for s in sessions if s["region"] == region["region"]]
            flow.space(0.08)
            head = f"{w.site(region['region'])} · {region['sessions']} session"
            head += "s" * (region["sessions"] != 1)
            flow.text(head, 9, weight="bold")
            progress = region["ppt_progress"]
            ppt_words = " ".join(p["words"] for p in progress) or "No pain threshold measured."
            flow.text(ppt_words, 7, color=MUTED, max_lines=3)
            flow.space(0.16)
            top = flow.y
            height = 1.05
            titles = ("Force: peak, limit, PPT", "Time over the limit", "Pain before → after")
            # one axis across sessions on different tips: force, in the unit's own family
            force = force_readout(content.unit)
            axes = [
                fig.add_axes(inches_rect(MARGIN + 0.38 + k * 2.4, top, 1.95, height))
                for k in range(len(titles))
            ]
            figures.draw_region_force(axes[0], rows, region["ppt"], progress, days, shown=force)
            figures.draw_region_over(axes[1], rows, days)
            figures.draw_region_pain(axes[2], rows, days)
            for ax, title in zip(axes, titles, strict=True):
                ax.set_title(title, fontsize=7, loc="left", pad=4)
            flow.y = top + height + 0.3
        flow.space(0.1)
        flow.text("Symptom journal (daily, 0–10)", 9, weight="bold")
        flow.space(0.05)
        top = flow.y
        ax = fig.add_axes(inches_rect(MARGIN + 0.38, top, 5.7, 1.0))
        figures.draw_journal(ax, content.journal, days)
        flow.y = top + 1.3
        if first:
            flow.heading("Reading these trends", 10)
            for caveat in trends["caveats"]:
                flow.text("• " + caveat, 7.5, after=0.03)

    return draw


def _trend_key(fig: Figure, flow: Flow) -> None:
    handles = [
        Line2D([], [], color=figures.PEAK, marker="o", linestyle="", markersize=3,
               label="peak force"),
        Line2D([], [], color=figures.TREND_LIMIT, marker="_", linestyle="", markersize=7,
               label="limit"),
        Line2D([], [], color=figures.PPT, marker="D", linestyle="", markersize=3,
               label="pain threshold"),
        Line2D([], [], color=figures.OVER_BAR, linewidth=4, label="time over limit"),
        Line2D([], [], color=figures.PAIN_BEFORE, marker="o", linestyle="", markersize=3,
               label="pain before"),
        Line2D([], [], color=figures.PAIN_AFTER, marker="o", linestyle="", markersize=3,
               label="pain after"),
    ]  # fmt: skip
    y = 1 - (flow.y + 0.02) / PAGE_H
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(MARGIN / PAGE_W, y),
               ncols=len(handles), fontsize=6.5, frameon=False, handlelength=1.2,
               columnspacing=1.2, borderaxespad=0, borderpad=0)  # fmt: skip
    flow.space(0.22)


# -- journal -------------------------------------------------------------------------------------


def _journal_pages(content: ReportContent) -> list[Page]:
    columns = [
        Column("Day", 0.85),
        Column("Pain", 0.45, "right"),
        Column("Stiffness", 0.68, "right"),
        Column("Sleep", 0.5, "right"),
        Column("Activity", 0.65, "right"),
        Column("Triggers", 1.9),
        Column("Note", CONTENT_W - 5.03),
    ]
    rows = [
        [
            e["day"],
            w.rating(e["pain"]),
            w.rating(e["stiffness"]),
            w.rating(e["sleep"]),
            w.rating(e["activity"]),
            ", ".join(e["triggers"]) or "–",
            e["note"] or "",
        ]
        for e in content.journal
    ]
    scales = "; ".join(f"{s.key}: 0 = {s.low}, 10 = {s.high}" for s in SCALES)
    note = f"Ratings 0–10 ({scales}). A dash: not rated that day."
    return table_pages(
        "journal", "Symptom journal", columns=columns, rows=rows, max_lines=2, note=note
    )


# -- empty ---------------------------------------------------------------------------------------


def _empty(content: ReportContent) -> Callable[[Figure], None]:
    def draw(fig: Figure) -> None:
        flow = Flow(fig)
        flow.pairs(
            [
                ("Profile", content.profile),
                ("Period", w.period(content)),
                ("Generated", w.generated(content)),
            ]
        )
        flow.space(0.3)
        flow.text("Nothing recorded in this period.", 14, weight="bold", after=0.1)
        flow.text(
            f"There are no sessions, pain-threshold measurements or journal entries for "
            f"{content.profile} in this period, so there is nothing to report.",
            9,
        )
        if content.profile_days is not None:
            a, b = content.profile_days
            flow.space(0.1)
            flow.text(
                f"This profile has records from {w.day(a)} to {w.day(b)}: choose a period "
                "within those days.",
                9,
            )
        flow.heading("Safety screening")
        flow.pairs(w.safety_pairs(content.safety, content.unit))

    return draw


def plan(content: ReportContent) -> list[Page]:
    """The pages of a report, in order.

    Args:
        content: what the report shows.

    Returns:
        The summary (the sites table going on over the page when it must), the trends (three
        sites on the first page, with the caveats; four on each next one), the session panels
        (four a page, newest first, at most ``content.detailed``), the sessions not drawn,
        then the journal; or the single page of an empty period.
    """
    if content.empty:
        return [Page("empty", "Therapist report: nothing in this period", _empty(content))]
    sites = [w.site_cells(r, content.unit) for r in content.sites]
    summary = _summary(content, sites)
    fitted = summary(new_figure())  # a dry run: how many site rows fit on page 1
    pages = [Page("summary", "Therapist report", summary)]
    if fitted < len(sites):
        pages += table_pages(
            "sites", "Sites, comfort limits and pain thresholds (continued)",
            columns=list(SITE_COLUMNS), rows=sites[fitted:], max_lines=4, note=_SITE_NOTE,
        )  # fmt: skip
    regions = list(content.trends["regions"])
    chunks = [regions[:REGIONS_PER_PAGE]]  # the first page also holds the caveats
    for start in range(REGIONS_PER_PAGE, len(regions), REGIONS_PER_MORE_PAGE):
        chunks.append(regions[start : start + REGIONS_PER_MORE_PAGE])
    for k, chunk in enumerate(chunks):
        title = "Trends per site" if k == 0 else "Trends per site (continued)"
        pages.append(Page("trends", title, _trends(content, chunk, k == 0)))
    pages += session_pages(content)
    if len(content.sessions) > content.detailed:
        pages += index_pages(content)
    if content.journal:
        pages += _journal_pages(content)
    return pages
