"""Page layout for the report: A4 pages in inches, measured text that wraps and truncates to fit,
simple tables, and a top-down writing cursor.

Text is measured as vector outlines of matplotlib's bundled DejaVu Sans, so wrapping is the same
on every machine: nothing runs off a page or over a neighbouring column.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle
from matplotlib.textpath import TextToPath

#: A4 portrait, inches.
PAGE_W = 8.27
PAGE_H = 11.69
MARGIN = 0.6
CONTENT_W = PAGE_W - 2 * MARGIN
#: Where content starts below the page header, and the space kept for the footer (inches).
BODY_TOP = 0.95
FOOTER_H = 0.45
FONT = "DejaVu Sans"
#: Line spacing as a multiple of the font size.
LEADING = 1.32

TEXT = "#212121"
MUTED = "#616161"
RULE = "#9e9e9e"
ALERT = "#b00020"
TABLE_HEAD = "#eceff1"
TABLE_STRIPE = "#f7f9fa"

Weight = Literal["normal", "bold"]


#: Raster output hints glyphs to whole pixels, which widens small text by up to ~4 % over its
#: vector width (measured at 100–300 dpi): text is measured this much wider, to fit everywhere.
RASTER_SLACK = 1.05


@functools.lru_cache(maxsize=1)
def _text_path() -> TextToPath:
    return TextToPath()


@functools.lru_cache(maxsize=8192)
def text_width_in(text: str, size: float, weight: Weight = "normal") -> float:
    """Width of one line of text in inches, as drawn (with :data:`RASTER_SLACK`)."""
    prop = FontProperties(family=FONT, size=size, weight=weight)
    width, _, _ = _text_path().get_text_width_height_descent(text, prop, ismath=False)
    return float(width) / 72.0 * RASTER_SLACK


def line_height_in(size: float) -> float:
    """Distance between two lines of text of this size (inches)."""
    return size * LEADING / 72.0


def fit(text: str, width_in: float, size: float, weight: Weight = "normal") -> str:
    """The text cut to fit one line, ending in "…" when cut."""
    text = " ".join(text.split())
    if text_width_in(text, size, weight) <= width_in:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if text_width_in(text[:mid].rstrip() + "…", size, weight) <= width_in:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…"


def wrap(
    text: str, width_in: float, size: float, weight: Weight = "normal", max_lines: int = 0
) -> list[str]:
    """Greedy word wrap to a width; a word longer than the width is cut.

    Args:
        text: the text (runs of white space become one space).
        width_in: the width to fill (inches).
        size: font size (points).
        weight: font weight.
        max_lines: at most this many lines, the last ending in "…" when cut (0: no limit).
    """
    # a line's width is the sum of its words' widths and spaces (measuring words, which repeat,
    # instead of every trial line keeps this fast; kerning across a space is negligible)
    space = text_width_in("a a", size, weight) - text_width_in("aa", size, weight)
    lines: list[str] = []
    line, used = "", 0.0
    for word in text.split():
        need = text_width_in(word, size, weight)
        if line and used + space + need <= width_in:
            line, used = f"{line} {word}", used + space + need
            continue
        if line:
            lines.append(line)
        line, used = (
            (word, need) if need <= width_in else (fit(word, width_in, size, weight), width_in)
        )
    if line:
        lines.append(line)
    if max_lines and len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1 :])
        lines = [*lines[: max_lines - 1], fit(rest + " …", width_in, size, weight)]
    return lines or [""]


@dataclass(frozen=True, slots=True)
class Column:
    """A table column.

    Attributes:
        title: the header.
        width_in: its width (inches).
        align: ``left`` or ``right``.
    """

    title: str
    width_in: float
    align: Literal["left", "right"] = "left"


#: Space around the text of a table cell (inches).
CELL_PAD = 0.05


def cell_lines(
    columns: Sequence[Column], row: Sequence[str], size: float, max_lines: int
) -> list[list[str]]:
    """The wrapped lines of each cell of a table row."""
    return [
        wrap(cell, col.width_in - 2 * CELL_PAD, size, max_lines=max_lines)
        for col, cell in zip(columns, row, strict=True)
    ]


def row_height(columns: Sequence[Column], row: Sequence[str], size: float, max_lines: int) -> float:
    """Height of a table row as :meth:`Flow.table` draws it (inches)."""
    lines = max(len(c) for c in cell_lines(columns, row, size, max_lines))
    return lines * line_height_in(size) + 2 * CELL_PAD


class Flow:
    """A writing cursor on one page: text, tables and axes placed top-down, in inches from the
    page's top-left corner.

    Attributes:
        fig: the page.
        y: the current distance from the top of the page (inches).
        left: the left edge of the content (inches).
        width: the content width (inches).
    """

    def __init__(
        self, fig: Figure, top: float = BODY_TOP, left: float = MARGIN, width: float = CONTENT_W
    ) -> None:
        self.fig = fig
        self.y = top
        self.left = left
        self.width = width

    @property
    def bottom(self) -> float:
        """The lowest point content may reach (inches from the top)."""
        return PAGE_H - FOOTER_H

    def remaining(self) -> float:
        """Height left above the footer (inches)."""
        return self.bottom - self.y

    def space(self, inches: float) -> None:
        """Move down."""
        self.y += inches

    def put(
        self,
        x_in: float,
        y_in: float,
        text: str,
        size: float,
        *,
        weight: Weight = "normal",
        color: str = TEXT,
        ha: Literal["left", "right", "center"] = "left",
    ) -> None:
        """One line of text with its top at (x, y) inches from the page's top-left."""
        self.fig.text(
            x_in / PAGE_W,
            1 - y_in / PAGE_H,
            text,
            fontsize=size,
            fontweight=weight,
            color=color,
            ha=ha,
            va="top",
            family=FONT,
        )

    def text(
        self,
        text: str,
        size: float = 8.5,
        *,
        weight: Weight = "normal",
        color: str = TEXT,
        indent: float = 0.0,
        width: float | None = None,
        max_lines: int = 0,
        after: float = 0.0,
    ) -> int:
        """Wrapped text at the cursor; returns the lines written."""
        lines = wrap(text, (width or self.width) - indent, size, weight, max_lines)
        for line in lines:
            self.put(self.left + indent, self.y, line, size, weight=weight, color=color)
            self.y += line_height_in(size)
        self.y += after
        return len(lines)

    def heading(self, text: str, size: float = 11.0) -> None:
        """A section heading with a thin rule under it."""
        self.space(0.08)
        self.put(self.left, self.y, text, size, weight="bold")
        self.y += line_height_in(size) + 0.02
        self.rule()
        self.space(0.06)

    def rule(self, color: str = RULE) -> None:
        """A thin horizontal line across the content width."""
        y = 1 - self.y / PAGE_H
        self.fig.add_artist(
            Rectangle(
                (self.left / PAGE_W, y),
                self.width / PAGE_W,
                0.6 / 72 / PAGE_H,
                transform=self.fig.transFigure,
                color=color,
                linewidth=0,
            )
        )

    def pairs(self, rows: Sequence[tuple[str, str]], size: float = 8.5, key_w: float = 2.0) -> None:
        """Label–value lines: the label in grey, the value wrapped beside it."""
        for key, value in rows:
            self.put(self.left, self.y, key, size, color=MUTED)
            lines = wrap(value, self.width - key_w, size)
            for line in lines:
                self.put(self.left + key_w, self.y, line, size)
                self.y += line_height_in(size)

    def table(
        self,
        columns: Sequence[Column],
        rows: Sequence[Sequence[str]],
        size: float = 7.5,
        *,
        max_lines: int = 3,
        reserve: float | None = None,
    ) -> int:
        """A table: bold header on grey, striped rows; cells wrap up to ``max_lines``.

        Args:
            columns: the columns (their widths should add up to the content width).
            rows: cell texts per row.
            size: font size.
            max_lines: lines per cell at most (the last cut with "…").
            reserve: with a value, stop before a row that would come closer than this to the
                bottom of the page (inches); None draws every row.

        Returns:
            The rows drawn.
        """
        pad = CELL_PAD
        line = line_height_in(size)
        head = line + 2 * pad
        self._band(self.y, head, TABLE_HEAD)
        x = self.left
        for col in columns:
            ha: Literal["left", "right"] = col.align
            at = x + pad if ha == "left" else x + col.width_in - pad
            title = fit(col.title, col.width_in - 2 * pad, size, "bold")
            self.put(at, self.y + pad, title, size, weight="bold", ha=ha)
            x += col.width_in
        self.y += head
        drawn = 0
        for k, row in enumerate(rows):
            cells = cell_lines(columns, row, size, max_lines)
            height = max(len(c) for c in cells) * line + 2 * pad
            if reserve is not None and self.y + height > self.bottom - reserve:
                break
            if k % 2:
                self._band(self.y, height, TABLE_STRIPE)
            x = self.left
            for col, lines in zip(columns, cells, strict=True):
                at = x + pad if col.align == "left" else x + col.width_in - pad
                for i, text in enumerate(lines):
                    self.put(at, self.y + pad + i * line, text, size, ha=col.align)
                x += col.width_in
            self.y += height
            drawn += 1
        self.rule()
        return drawn

    def _band(self, top: float, height: float, color: str) -> None:
        self.fig.add_artist(
            Rectangle(
                (self.left / PAGE_W, 1 - (top + height) / PAGE_H),
                self.width / PAGE_W,
                height / PAGE_H,
                transform=self.fig.transFigure,
                color=color,
                linewidth=0,
                zorder=-1,
            )
        )

    def axes_rect(
        self, height: float, left: float | None = None, width: float | None = None
    ) -> tuple[float, float, float, float]:
        """Figure-fraction rectangle (x0, y0, w, h) of axes at the cursor; the cursor moves on."""
        x = self.left if left is None else left
        w = self.width if width is None else width
        rect = (x / PAGE_W, 1 - (self.y + height) / PAGE_H, w / PAGE_W, height / PAGE_H)
        self.y += height
        return rect


def inches_rect(
    x: float, top: float, width: float, height: float
) -> tuple[float, float, float, float]:
    """Figure-fraction rectangle (x0, y0, w, h) of a box given in inches from the top-left."""
    return (x / PAGE_W, 1 - (top + height) / PAGE_H, width / PAGE_W, height / PAGE_H)


def style_axes(ax: Axes, size: float = 6.5) -> None:
    """Small, quiet axes: light grid, thin spines, small tick labels."""
    ax.tick_params(labelsize=size, length=2, width=0.5, pad=1.5, colors=MUTED)
    for spine in ax.spines.values():
        spine.set_linewidth(0.5)
        spine.set_color(RULE)
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.grid(True, color="#e0e0e0", linewidth=0.4)
    ax.set_axisbelow(True)
