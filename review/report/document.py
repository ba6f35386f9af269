"""The therapist report as a document: :func:`build_report` reads the store once and plans the
pages; :class:`Report` renders them to a PDF or to PNG pages with matplotlib's Agg and PDF
backends (no GUI, no network, DejaVu Sans, which matplotlib ships)."""

from __future__ import annotations

import io
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

import matplotlib as mpl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from firmware_bridge import __version__
from firmware_bridge.errors import UsageError
from review.report.content import MAX_DETAILED_SESSIONS, ReportContent, gather
from review.report.layout import FONT
from review.report.page import Page, frame, new_figure
from review.report.pages import plan

if TYPE_CHECKING:
    from firmware_bridge.store import Store

log = logging.getLogger(__name__)

#: PNG resolution: an A4 page at 150 dpi is 1240 × 1753 pixels.
PNG_DPI = 150


#: matplotlib's settings are global to the process: one rendering at a time (the dashboard serves
#: several browser sessions from threads of one process).
_RENDERING = threading.RLock()  # re-entered: a PDF renders its figures inside


@contextmanager
def _style() -> Iterator[None]:
    """matplotlib settings for the report's pages, for the time of one rendering only."""
    with (
        _RENDERING,
        mpl.rc_context(
            {
                "font.family": FONT,
                "text.parse_math": False,  # user notes may hold "$"
                "pdf.fonttype": 42,  # TrueType: the PDF's text can be searched and copied
                "hatch.linewidth": 0.5,
            }
        ),
    ):
        yield


class Report:
    """A planned report, rendered on demand.

    Attributes:
        content: what it shows (:class:`~review.report.content.ReportContent`).
        pages: its pages in order (:class:`~review.report.pages.Page`: kind, title and, on
            session pages, where each session's curve sits).
    """

    def __init__(self, content: ReportContent, pages: list[Page]) -> None:
        self.content = content
        self.pages = pages

    @property
    def page_count(self) -> int:
        """Number of pages."""
        return len(self.pages)

    def figures(self) -> Iterator[Figure]:
        """Each page as a drawn A4 figure, in order (one at a time: memory stays small)."""
        total = len(self.pages)
        with _style():
            for number, page in enumerate(self.pages, start=1):
                fig = new_figure()
                FigureCanvasAgg(fig)
                page.draw(fig)
                frame(fig, self.content, page.title, number, total)
                yield fig

    def _pdf(self, out: IO[bytes]) -> None:
        created = self.content.generated_at
        metadata = {
            "Title": f"PressureGuard therapist report: {self.content.profile}",
            "Author": "PressureGuard",
            "Subject": "Self-massage pressure sessions, limits, thresholds and journal",
            "Creator": f"PressureGuard {__version__}",
            "CreationDate": created,
        }
        with _style(), PdfPages(out, metadata=metadata) as pdf:
            for fig in self.figures():
                pdf.savefig(fig)

    def pdf_bytes(self) -> bytes:
        """The report as PDF bytes (for a download button)."""
        buffer = io.BytesIO()
        self._pdf(buffer)
        return buffer.getvalue()

    def write_pdf(self, path: Path | str) -> Path:
        """Write the report as one PDF, atomically (a failed write leaves no partial file).

        Args:
            path: the file to write (replaced if it exists).

        Returns:
            The path written.

        Raises:
            UsageError: the file cannot be written (missing folder, no permission, disk full).
        """
        target = Path(path).expanduser()
        with _writing(target) as out:
            self._pdf(out)
        log.info("report of %d pages written to %s", self.page_count, target)
        return target

    def png_pages(
        self, directory: Path | str, dpi: int = PNG_DPI, stem: str = "page"
    ) -> list[Path]:
        """Write every page as a PNG image: ``page-01.png``, ``page-02.png`` …

        Args:
            directory: where (created if missing).
            dpi: resolution (150: 1240 × 1753 pixels per A4 page).
            stem: file name before the page number.

        Returns:
            The files, in page order.

        Raises:
            UsageError: the folder or a file cannot be written.
        """
        folder = Path(directory).expanduser()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create the folder {folder}: {exc.strerror}") from exc
        digits = max(2, len(str(self.page_count)))
        paths = []
        with _style():
            for number, fig in enumerate(self.figures(), start=1):
                target = folder / f"{stem}-{number:0{digits}d}.png"
                with _writing(target) as out:
                    fig.savefig(out, format="png", dpi=dpi, facecolor="white")
                paths.append(target)
        return paths


@contextmanager
def _writing(target: Path) -> Iterator[IO[bytes]]:
    """Write a file through a temporary file beside it, renamed into place on success.

    Raises:
        UsageError: the file cannot be written.
    """
    if target.is_dir():
        raise UsageError(f"cannot write to {target}: it is a folder")
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:  # mode 0o666 less the umask, as for any new file (mkstemp would make it private)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise UsageError(f"cannot write to {target}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        os.replace(tmp, target)
    except OSError as exc:
        raise UsageError(f"cannot write to {target}: {exc.strerror or exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def build_report(
    store: Store,
    profile: str,
    day_from: date | str | None = None,
    day_to: date | str | None = None,
    *,
    max_sessions: int = MAX_DETAILED_SESSIONS,
    now: datetime | None = None,
    unit: str | None = None,
) -> Report:
    """Read a profile's data over a date range and plan its therapist report.

    Args:
        store: the open store.
        profile: whose report.
        day_from: first local day (``date`` or ``YYYY-MM-DD``, inclusive); None from the first
            record.
        day_to: last local day (inclusive); None to the last record.
        max_sessions: sessions drawn with their curve, newest first (the rest are counted
            and listed).
        now: the generation time printed on the report (default: now).
        unit: the unit forces are read out in (default: the user's setting).

    Returns:
        The report, ready for :meth:`Report.write_pdf` and :meth:`Report.png_pages`. A period
        without any record gives a one-page report saying so.

    Raises:
        UsageError: a malformed day or unit, or the first day after the last.
        NotFoundError: no such profile.
        StoreError: the store cannot be read.
    """
    if max_sessions < 0:
        raise UsageError(f"max_sessions must not be negative, not {max_sessions}")
    content = gather(
        store, profile, day_from, day_to, max_sessions=max_sessions, now=now, unit=unit
    )
    return Report(content, plan(content))
