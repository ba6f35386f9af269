"""Files in and out of the History page: a session's CSV and JSON downloads, importing an
exported file, and the therapist report (PDF).

Downloads are built when the button is clicked (Streamlit's deferred ``data`` callable), not on
every run of the page: a long session's CSV is tens of megabytes. The writers are the command
line's own (:mod:`firmware_bridge.store.exchange`), so a file saved here is the file
``pressureguard sessions export`` writes, and imports back the same way.
"""

from __future__ import annotations

import io
import logging
import re
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import streamlit as st

from dashboard.views import common
from firmware_bridge.errors import PressureGuardError
from firmware_bridge.store import Store
from firmware_bridge.store.exchange import export_csv, export_json, import_file

log = logging.getLogger(__name__)

#: Export formats: format → (writer, MIME type).
FORMATS: dict[str, tuple[Callable[[Store, int, Any], int], str]] = {
    "csv": (export_csv, "text/csv"),
    "json": (export_json, "application/json"),
}
IMPORT_KEY = "pg_hist_import"
#: From this many samples on, the page mentions the download's size and the command line.
LARGE_SAMPLES = 1_000_000
#: About how many bytes one sample takes in the CSV (measured on recorded sessions).
CSV_BYTES_PER_SAMPLE = 80


def export_name(session_id: int, fmt: str) -> str:
    """The download's file name: ``pressureguard-session-12.csv``."""
    return f"pressureguard-session-{session_id}.{fmt}"


def export_bytes(store: Store, session_id: int, fmt: str) -> bytes:
    """A session exported as the command line exports it (``csv`` or ``json``), as UTF-8 bytes.

    Raises:
        KeyError: an unknown format.
        NotFoundError: no such session.
        StoreError: the store cannot be read.
    """
    writer, _mime = FORMATS[fmt]
    out = io.StringIO()
    rows = writer(store, session_id, out)
    log.info("session %d: %d samples prepared for download as %s", session_id, rows, fmt)
    return out.getvalue().encode("utf-8")


def _deferred(store: Store, session_id: int, fmt: str) -> Callable[[], bytes]:
    return lambda: export_bytes(store, session_id, fmt)


def download_buttons(store: Store, session_id: int, n_samples: int = 0) -> None:
    """CSV and JSON download buttons for one session (files built on click).

    Args:
        store: the open store.
        session_id: the session.
        n_samples: its sample count (a long session gets a word about its file size).
    """
    for fmt in FORMATS:
        st.download_button(
            f"Download {fmt.upper()}",
            data=_deferred(store, session_id, fmt),
            file_name=export_name(session_id, fmt),
            mime=FORMATS[fmt][1],
            icon=":material/download:",
            key=f"pg_hist_download_{fmt}",
            on_click="ignore",
            width="stretch",
        )
    st.caption(
        f"`{export_name(session_id, 'csv')}`: one row per reading (time, force, smoothed force, "
        f"zone, raw counts). `{export_name(session_id, 'json')}`: everything, including events "
        "and settings, for importing elsewhere."
    )
    if n_samples >= LARGE_SAMPLES:
        size = n_samples * CSV_BYTES_PER_SAMPLE / 1e6
        st.caption(
            f"This session holds {n_samples:,} readings: the CSV is about {size:,.0f} MB and takes "
            f"a while to prepare. `pressureguard sessions export {session_id} -o FILE` writes it "
            "straight to a file."
        )


def _safe_name(name: str) -> str:
    """An uploaded file's name, reduced to a harmless file name (its suffix kept)."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name).strip("._") or "upload"
    return base[:120]


def import_upload(store: Store, name: str, data: bytes) -> int:
    """Import an uploaded export as a new session (a file that is not a valid export adds
    nothing).

    Args:
        store: the store to import into.
        name: the uploaded file's name (``.json`` or ``.csv``; JSON is also recognised by
            content).
        data: the file's bytes.

    Returns:
        The new session's id.

    Raises:
        UsageError: the file is not a valid export (the message says where).
        StoreError: the store cannot be written.
    """
    with tempfile.TemporaryDirectory(prefix="pg-import-") as tmp:
        path = Path(tmp) / _safe_name(name)
        path.write_bytes(data)
        return import_file(store, path)


def import_section(store: Store, on_imported: Callable[[int], None]) -> None:
    """A file picker and an import button; the outcome on the page.

    Args:
        store: the store to import into.
        on_imported: called with the new session's id after a successful import; the page
            then runs again, showing the outcome (:func:`dashboard.views.common.show_flash`).
    """
    upload = st.file_uploader(
        "A session exported by PressureGuard (CSV or JSON)",
        type=["csv", "json"],
        key=IMPORT_KEY,
    )
    clicked = st.button(
        "Import this file",
        key="pg_hist_import_button",
        disabled=upload is None,
        icon=":material/upload_file:",
    )
    if not clicked or upload is None:
        return
    try:
        with st.spinner(f"Importing {upload.name}…"):
            session_id = import_upload(store, upload.name, upload.getvalue())
    # ValueError: undecodable text; RecursionError: absurdly nested JSON (json's own limit).
    except (PressureGuardError, ValueError, RecursionError, OSError) as exc:
        log.info("import of %s refused: %s", upload.name, exc)
        st.error(
            f"Could not import **{upload.name}**: {exc}. Nothing was added.",
            icon=":material/error:",
        )
        return
    common.flash("info", f"Imported {upload.name} as session #{session_id}.")
    on_imported(session_id)
    st.rerun()


# -- therapist report -------------------------------------------------------------------------


def report_name(profile: str, day_from: date | None, day_to: date | None) -> str:
    """``pressureguard-report-anna-2024-01-01-to-2024-03-31.pdf``."""
    span = f"{day_from or 'start'}-to-{day_to or date.today()}"
    return f"pressureguard-report-{_safe_name(profile)}-{span}.pdf"


def report_pdf(store: Store, profile: str, day_from: date | None, day_to: date | None) -> bytes:
    """The therapist report for a profile and date range, as PDF bytes.

    Raises:
        PressureGuardError: the data cannot be read.
        OSError: the temporary file cannot be written.
    """
    # matplotlib (the report's renderer) is loaded only when a report is asked for.
    from review.report import build_report  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="pg-report-") as tmp:
        path = Path(tmp) / "report.pdf"
        build_report(store, profile, day_from, day_to).write_pdf(path)
        data = path.read_bytes()
    log.info("therapist report for %s built (%d bytes)", profile, len(data))
    return data


def report_button(store: Store, profile: str, day_from: date | None, day_to: date | None) -> None:
    """The "Therapist report (PDF)" download for a profile and date range (built on click)."""
    span = (
        f"from {day_from or 'the first session'} to {day_to or 'today'}"
        if day_from or day_to
        else "over all its data"
    )
    st.download_button(
        "Therapist report (PDF)",
        data=lambda: report_pdf(store, profile, day_from, day_to),
        file_name=report_name(profile, day_from, day_to),
        mime="application/pdf",
        icon=":material/picture_as_pdf:",
        key="pg_hist_report",
        on_click="ignore",
    )
    st.caption(
        f"One document for your therapist: {profile}'s sites, limits and thresholds, session "
        f"curves, time over limit, pain ratings, journal and trends, {span}. It takes a few "
        "seconds to prepare."
    )
