"""The therapist report: one document (PDF, and PNG pages) per profile and date range, for the
clinician who supervises the self-massage.

Page 1 sums up the profile (safety screening, ceiling, sensitive mode), the sites worked on
with their comfort limits and pain thresholds, and the period in numbers; then come the trends
per site with the symptom journal beside them and the clinical caveats, one panel per session
(newest first, curve with limit and zones, key stats), and the journal table. A period without
records gives one page saying so.

- :mod:`review.report.content` — :func:`~review.report.content.gather`: everything the report
  shows, read from the store.
- :mod:`review.report.document` — :func:`build_report` and :class:`Report` (PDF and PNG).
- :mod:`review.report.pages` — the page plan; the summary, trends, journal and empty pages.
- :mod:`review.report.panels` — the session pages (one panel per session).
- :mod:`review.report.page` — a planned page, the frame of every page, long tables.
- :mod:`review.report.figures` — the charts: a session's curve, the trends, the journal.
- :mod:`review.report.words` — numbers in words.
- :mod:`review.report.layout` — A4 geometry, measured text, tables.

Example::

    with Store.open(data_dir) as store:
        report = build_report(store, "default", "2026-11-01", "2026-11-30")
    report.write_pdf("report.pdf")
"""

from review.report.document import PNG_DPI, Report, build_report
from review.report.page import Page, Panel

__all__ = ["PNG_DPI", "Page", "Panel", "Report", "build_report"]
