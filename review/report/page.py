"""A report page as planned (its kind, title, drawing and session panels), the frame every page
shares, and long tables spread over as many pages as they need."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from matplotlib.figure import Figure

from review.report import words as w
from review.report.content import ReportContent
from review.report.layout import (
    BODY_TOP,
    CONTENT_W,
    MARGIN,
    MUTED,
    PAGE_H,
    PAGE_W,
    Column,
    Flow,
    fit,
    line_height_in,
    row_height,
    text_width_in,
)

TITLE = "PressureGuard · therapist report"
DISCLAIMER = "Self-recorded at home with a load-cell massage tool; not a diagnosis."

Rect = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class Panel:
    """Where a session's curve sits on its page.

    Attributes:
        session_id: the session.
        rect: the curve's axes as figure fractions (x0, y0, width, height), y from the bottom.
    """

    session_id: int
    rect: Rect


@dataclass(slots=True)
class Page:
    """One planned page.

    Attributes:
        kind: ``summary``, ``sites`` (the sites table, continued), ``trends``, ``sessions``,
            ``index`` (the sessions not drawn), ``journal`` or ``empty``.
        title: the page's heading.
        draw: draws the page's body on an A4 figure.
        panels: the session panels on it (session pages only).
    """

    kind: str
    title: str
    draw: Callable[[Figure], object]
    panels: list[Panel] = field(default_factory=list)


def frame(fig: Figure, content: ReportContent, title: str, number: int, total: int) -> None:
    """Header and footer of every page."""
    flow = Flow(fig, top=MARGIN - 0.12)
    flow.put(MARGIN, flow.y, TITLE, 8, color=MUTED)
    flow.put(PAGE_W - MARGIN, flow.y, f"profile {content.profile}", 8, color=MUTED, ha="right")
    flow.y += line_height_in(8) + 0.02
    flow.put(MARGIN, flow.y, title, 13, weight="bold")
    flow.y += line_height_in(13)
    flow.rule()
    bottom = PAGE_H - MARGIN + 0.1
    page = f"page {number} of {total}"
    room = CONTENT_W - text_width_in(page, 6.5) - 0.2
    footer = fit(f"{DISCLAIMER}  Period: {w.period(content)}.", room, 6.5)
    flow.put(MARGIN, bottom, footer, 6.5, color=MUTED)
    flow.put(PAGE_W - MARGIN, bottom, page, 6.5, color=MUTED, ha="right")


def new_figure() -> Figure:
    """A blank A4 page (no pyplot: nothing global, no GUI)."""
    return Figure(figsize=(PAGE_W, PAGE_H), facecolor="white")


def table_pages(
    kind: str,
    title: str,
    *,
    columns: list[Column],
    rows: list[list[str]],
    max_lines: int,
    note: str,
) -> list[Page]:
    """A long table over as many pages as it needs, with a note under its last row.

    Args:
        kind: the pages' kind.
        title: their title (numbered "(1 of 3)" when the table takes several pages).
        columns: the table's columns.
        rows: its rows' cell texts.
        max_lines: lines per cell at most.
        note: the text under the last row.
    """
    size = 7.5
    line = line_height_in(size)
    room = PAGE_H - BODY_TOP - 0.5 - (line + 0.1) - 0.6
    chunks: list[list[list[str]]] = [[]]
    used = 0.0
    for row in rows:
        height = row_height(columns, row, size, max_lines)
        if used + height > room and chunks[-1]:
            chunks.append([])
            used = 0.0
        chunks[-1].append(row)
        used += height

    def drawer(chunk: list[list[str]], last: bool) -> Callable[[Figure], None]:
        def draw(fig: Figure) -> None:
            flow = Flow(fig)
            flow.table(columns, chunk, size, max_lines=max_lines)
            if last:
                flow.space(0.05)
                flow.text(note, 7, color=MUTED)

        return draw

    n = len(chunks)
    return [
        Page(kind, title if n == 1 else f"{title} ({k + 1} of {n})", drawer(chunk, k == n - 1))
        for k, chunk in enumerate(chunks)
    ]
