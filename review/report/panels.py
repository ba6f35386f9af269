"""The session pages: one panel per session (its curve with the limit and zones, and its key
numbers beside it), four a page, newest first; and the table of the sessions not drawn."""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.figure import Figure

from review.report import figures
from review.report import words as w
from review.report.content import ReportContent, SessionEntry
from review.report.layout import (
    ALERT,
    BODY_TOP,
    MARGIN,
    PAGE_H,
    PAGE_W,
    TEXT,
    Column,
    Flow,
    inches_rect,
)
from review.report.page import Page, Panel, Rect, table_pages

SESSIONS_PER_PAGE = 4
_PANEL_H = 2.42
_AXES_LEFT = MARGIN + 0.32
_AXES_W = 4.35
_STATS_LEFT = _AXES_LEFT + _AXES_W + 0.22


def session_pages(content: ReportContent) -> list[Page]:
    """The pages of session panels: the ``content.detailed`` newest sessions, four a page.

    Each page records where its curves sit (:class:`~review.report.page.Panel`), so a test can
    find them in the rendered image.
    """
    shown = content.sessions[: content.detailed]
    pages = []
    for start in range(0, len(shown), SESSIONS_PER_PAGE):
        group = shown[start : start + SESSIONS_PER_PAGE]
        top = BODY_TOP + 0.32
        if start == 0 and len(content.sessions) > content.detailed:
            top += 0.2
        panels, places = [], []
        for k, entry in enumerate(group):
            y = top + k * _PANEL_H
            rect = inches_rect(_AXES_LEFT, y + 0.24, _AXES_W, _PANEL_H - 0.62)
            panels.append(Panel(entry.session_id, rect))
            places.append((entry, y, rect))
        first, last = start + 1, start + len(group)
        which = f"Session {first}" if first == last else f"Sessions {first}–{last}"
        pages.append(
            Page(
                "sessions",
                f"{which} of {len(content.sessions)}, newest first",
                _sessions(content, places, start == 0),
                panels,
            )
        )
    return pages


def _sessions(
    content: ReportContent, places: list[tuple[SessionEntry, float, Rect]], first: bool
) -> Callable[[Figure], None]:
    def draw(fig: Figure) -> None:
        flow = Flow(fig)
        fig.legend(handles=figures.legend_handles(), loc="upper left", ncols=4, fontsize=6.5,
                   bbox_to_anchor=(MARGIN / PAGE_W, 1 - (BODY_TOP - 0.02) / PAGE_H),
                   frameon=False, handlelength=1.6, columnspacing=1.0, borderaxespad=0,
                   borderpad=0)  # fmt: skip
        flow.space(0.32)
        if first and len(content.sessions) > content.detailed:
            flow.text(
                f"The {content.detailed} newest of {len(content.sessions)} sessions are drawn; "
                "the summary and the trends count them all, and the table after the panels "
                "lists the others.",
                7.5,
                color=ALERT,
            )
        for entry, y, rect in places:
            title = f"{w.when(entry.started)} · {w.site(entry.summary['region'])}"
            title += f" · session {entry.session_id}"
            if entry.summary["status"] != "ended":
                title += f" ({entry.summary['status']})"
            flow.put(MARGIN, y, title, 8.5, weight="bold")
            ax = fig.add_axes(rect)
            if entry.curve is not None:
                figures.draw_session(ax, entry.curve, w.shown(entry, content.unit))
            stats = Flow(fig, top=y + 0.26, left=_STATS_LEFT, width=PAGE_W - MARGIN - _STATS_LEFT)
            for line, alert in w.session_lines(entry, content.unit):
                stats.text(line, 7, color=ALERT if alert else TEXT, max_lines=3)

    return draw


def index_pages(content: ReportContent) -> list[Page]:
    """The sessions not drawn, as a table (when the cap was reached)."""
    rest = content.sessions[content.detailed :]
    columns = [
        Column("Started", 1.55),
        Column("Site", 1.6),
        Column("Duration", 0.85, "right"),
        Column("Peak", 0.7, "right"),
        Column("Limit", 0.7, "right"),
        Column("Over limit", 0.8, "right"),
        Column("Pain", 0.87, "right"),
    ]
    rows = []
    for e in rest:
        s = e.stats
        rows.append(
            [
                w.when(e.started),
                w.site(e.summary["region"]),
                w.duration(s.duration_s),
                w.session_force(e, s.peak_n, content.unit),
                w.session_force(e, s.limit_n, content.unit),
                w.duration(s.time_over_limit_s),
                f"{w.rating(s.pain_before)} → {w.rating(s.pain_after)}",
            ]
        )
    note = "Numbers from each session's samples, as on the session pages."
    return table_pages(
        "index", "Sessions not drawn", columns=columns, rows=rows, max_lines=1, note=note
    )
