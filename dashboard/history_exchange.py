"""Files in and out of the History page: a session's CSV, JSON and Parquet downloads,
importing an exported file, and the therapist report (PDF).

The writers are the command line's own (:mod:`firmware_bridge.store.exchange`), so a file saved
here is the file ``pressureguard sessions export`` writes, and imports back the same way. No file
is built in memory by PressureGuard: an export is written to a temporary file (this user's
alone) a batch at a time. A short session's CSV and JSON are written when the button is clicked
(Streamlit's deferred ``data`` callable; Streamlit keeps those few MB while it serves them).
Parquet, and every format of a long session, are prepared first with a progress bar
(``st.progress``), then offered as a link that streams the file from disk
(:mod:`dashboard.downloads`), so not even Streamlit holds a long session's file in memory. An
upload is copied to a temporary file in pieces and imported from there, with a progress bar too.
"""

from __future__ import annotations

import contextlib
import html
import io
import logging
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import IO

import streamlit as st

from dashboard import downloads
from dashboard.views import common
from firmware_bridge.errors import PressureGuardError
from firmware_bridge.store import Store
from firmware_bridge.store.exchange import EXPORTERS, import_file

log = logging.getLogger(__name__)

#: Export formats: format → MIME type.
MIME = {
    "csv": "text/csv",
    "json": "application/json",
    "parquet": "application/vnd.apache.parquet",
}
#: Formats as the page names them.
LABELS = {"csv": "CSV", "json": "JSON", "parquet": "Parquet"}
#: Formats of a short session's one-click downloads.
INSTANT = ("csv", "json")
IMPORT_KEY = "pg_hist_import"
PREPARE_KEY = "pg_hist_prepare"
PREPARE_FORMAT_KEY = "pg_hist_prepare_format"
#: From this many samples on, the page mentions the download's size and the command line, and
#: prepares every format with a progress bar first.
LARGE_SAMPLES = 1_000_000
#: About how many bytes one sample takes in the CSV (measured on recorded sessions).
CSV_BYTES_PER_SAMPLE = 80
#: Prepared downloads older than this are removed when another is prepared.
KEEP_PREPARED_S = 3600.0
_PREPARED = "pg_hist_prepared"  # session state: the prepared file of this browser session
#: Prepared downloads are temporary files named so (readable by this user only).
DOWNLOAD_PREFIX = "pressureguard-download-"


def _new_file(fmt: str) -> Path:
    with tempfile.NamedTemporaryFile(prefix=DOWNLOAD_PREFIX, suffix=f".{fmt}", delete=False) as tmp:
        return Path(tmp.name)


def export_name(session_id: int, fmt: str) -> str:
    """The download's file name: ``pressureguard-session-12.csv``."""
    return f"pressureguard-session-{session_id}.{fmt}"


def export_to(
    store: Store,
    session_id: int,
    fmt: str,
    path: Path,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write a session's export into the file at ``path`` (an existing file keeps its
    permissions: a temporary file stays this user's alone), a batch at a time; returns the
    samples written.

    Raises:
        KeyError: an unknown format.
        NotFoundError: no such session.
        StoreError: the store cannot be read.
        OSError: the file cannot be written.
    """
    with path.open("r+b" if path.exists() else "wb") as fh:
        fh.truncate()
        rows = EXPORTERS[fmt](store, session_id, fh, progress=progress)
    log.info("session %d: %d samples prepared for download as %s", session_id, rows, fmt)
    return rows


def _readable(path: Path) -> IO[bytes]:
    """The file open for reading, its name removed at once where the system allows it (the
    open file stays readable), so nothing is left behind."""
    fh = path.open("rb")
    with contextlib.suppress(OSError):
        path.unlink()
    return fh


def export_file(store: Store, session_id: int, fmt: str) -> IO[bytes]:
    """A session's export in a temporary file, open for reading from the start."""
    path = _new_file(fmt)
    try:
        export_to(store, session_id, fmt, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return _readable(path)


def export_bytes(store: Store, session_id: int, fmt: str) -> bytes:
    """A session exported as the command line exports it, as bytes read back from the
    temporary file it was written to (what a one-click download hands Streamlit)."""
    with export_file(store, session_id, fmt) as fh:
        return fh.read()


def _deferred(store: Store, session_id: int, fmt: str) -> Callable[[], bytes]:
    # Streamlit keeps a download's bytes in memory whatever it is given; handing it bytes
    # read from the finished file (not an open file) leaves no file handle to it.
    return lambda: export_bytes(store, session_id, fmt)


def download_buttons(store: Store, session_id: int, n_samples: int = 0) -> None:
    """The session's downloads: one click for a short session's CSV and JSON; Parquet, and
    every format of a long session, prepared first with a progress bar.

    Args:
        store: the open store.
        session_id: the session.
        n_samples: its sample count (a long session gets a word about its file size).
    """
    large = n_samples >= LARGE_SAMPLES
    if not large:
        for fmt in INSTANT:
            st.download_button(
                f"Download {fmt.upper()}",
                data=_deferred(store, session_id, fmt),
                file_name=export_name(session_id, fmt),
                mime=MIME[fmt],
                icon=":material/download:",
                key=f"pg_hist_download_{fmt}",
                on_click="ignore",
                width="stretch",
            )
    prepare_section(store, session_id, list(MIME) if large else ["parquet"], n_samples)
    st.caption(
        f"`{export_name(session_id, 'csv')}`: one row per reading (time, force, smoothed force, "
        f"zone, raw counts). `{export_name(session_id, 'json')}`: everything, including events "
        f"and settings, for importing elsewhere. `{export_name(session_id, 'parquet')}`: the "
        "same columns, typed and compressed, for pandas, R or DuckDB."
    )
    if large:
        size = n_samples * CSV_BYTES_PER_SAMPLE / 1e6
        st.caption(
            f"This session holds {n_samples:,} readings: the CSV is about {size:,.0f} MB and takes "
            f"a while to prepare (Parquet is a quarter of that). `pressureguard sessions export "
            f"{session_id} -o FILE` writes it straight to a file."
        )


def _clean_prepared(keep: Path | None = None) -> None:
    """Remove this browser session's previous prepared file, and stale ones (older than
    :data:`KEEP_PREPARED_S`, left by a dashboard that was stopped) of this user."""
    old = st.session_state.get(_PREPARED)
    if old and Path(old["path"]) != keep:
        downloads.withdraw(Path(old["path"]))
        Path(old["path"]).unlink(missing_ok=True)
    uid = getattr(os, "getuid", lambda: None)()
    temp = Path(tempfile.gettempdir())
    # ".pressureguard-download-…part": an export's own temporary file, left by a killed export
    for path in [*temp.glob(DOWNLOAD_PREFIX + "*"), *temp.glob("." + DOWNLOAD_PREFIX + "*")]:
        with contextlib.suppress(OSError):
            info = path.lstat()
            mine = uid is None or info.st_uid == uid
            stale = time.time() - info.st_mtime > KEEP_PREPARED_S
            if path != keep and mine and stale and stat.S_ISREG(info.st_mode):
                path.unlink()


class PageProgress:
    """A ``progress(done, total)`` callback drawing an ``st.progress`` bar (at most once per
    percent, so a long export does not flood the browser with updates)."""

    def __init__(self, label: str, unit: str) -> None:
        self.label, self.unit = label, unit
        self.bar = st.progress(0.0, text=f"{label}…")
        self._shown = -1

    def _amount(self, value: int) -> str:
        return f"{value / 1e6:,.0f} MB" if self.unit == "MB" else f"{value:,} {self.unit}"

    def __call__(self, done: int, total: int) -> None:
        share = min(1.0, done / total) if total else 1.0
        percent = int(share * 100)
        if percent != self._shown:
            self._shown = percent
            text = f"{self.label}: {self._amount(done)} of {self._amount(total)}"
            self.bar.progress(share, text=text)

    def done(self, text: str) -> None:
        """Show the bar full, with the outcome."""
        self.bar.progress(1.0, text=text)

    def clear(self) -> None:
        """Remove the bar (the work failed; an error says why)."""
        self.bar.empty()


def prepare_section(store: Store, session_id: int, formats: list[str], n_samples: int) -> None:
    """Choose a format, prepare its file with a progress bar, then offer it.

    Args:
        store: the open store.
        session_id: the session.
        formats: the formats offered here.
        n_samples: the session's sample count (for the progress bar's total).
    """
    fmt = formats[0]
    if len(formats) > 1:
        fmt = st.radio(
            "File format",
            formats,
            format_func=LABELS.__getitem__,
            horizontal=True,
            key=PREPARE_FORMAT_KEY,
        )
    if st.button(
        f"Prepare the {LABELS[fmt]} file",
        key=PREPARE_KEY,
        icon=":material/hourglass_top:",
        width="stretch",
    ):
        _prepare(store, session_id, fmt)
    ready = st.session_state.get(_PREPARED)
    if ready and ready["sid"] == session_id and Path(ready["path"]).is_file():
        if "url" not in ready:
            name = export_name(session_id, ready["fmt"])
            ready["url"] = downloads.offer(Path(ready["path"]), name, MIME[ready["fmt"]])
        download_link(ready["url"], f"Download {LABELS[ready['fmt']]}")


def download_link(url: str, label: str) -> None:
    """A button-like link to a prepared file: the browser saves it as the route names it."""
    st.markdown(
        f'<a class="pg-download-link" href="{url}" download data-testid="pg-download-prepared" '
        'style="display:block;text-align:center;padding:0.45rem 0.75rem;border-radius:0.5rem;'
        'border:1px solid #1a56db;color:#1a56db;font-weight:600;text-decoration:none">'
        f"⤓ {html.escape(label)}</a>",
        unsafe_allow_html=True,
    )


def _prepare(store: Store, session_id: int, fmt: str) -> None:
    bar = PageProgress(f"Preparing the {LABELS[fmt]} file", "readings")
    path: Path | None = None
    try:
        path = _new_file(fmt)
        _clean_prepared(keep=path)
        rows = export_to(store, session_id, fmt, path, progress=bar)
    except (PressureGuardError, OSError) as exc:
        if path is not None:
            path.unlink(missing_ok=True)
        st.session_state.pop(_PREPARED, None)
        bar.clear()
        st.error(f"Could not prepare the file: {exc}", icon=":material/error:")
        return
    size = path.stat().st_size / 1e6
    bar.done(f"The {LABELS[fmt]} file is ready: {rows:,} readings, {size:,.1f} MB.")
    st.session_state[_PREPARED] = {"sid": session_id, "fmt": fmt, "path": str(path)}


def _safe_name(name: str) -> str:
    """An uploaded file's name, reduced to a harmless file name (its suffix kept)."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name).strip("._") or "upload"
    return base[:120]


def import_stream(
    store: Store,
    name: str,
    stream: IO[bytes],
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Import an uploaded export as a new session (a file that is not a valid export adds
    nothing). The upload is copied to a temporary file in pieces and imported from there.

    Args:
        store: the store to import into.
        name: the uploaded file's name (only its harmless part is used, see ``_safe_name``).
        stream: the file's bytes.
        progress: called with (bytes imported, size).

    Returns:
        The new session's id.

    Raises:
        UsageError: the file is not a valid export (the message says where).
        StoreError: the store cannot be written.
    """
    with tempfile.TemporaryDirectory(prefix="pg-import-") as tmp:
        path = Path(tmp) / _safe_name(name)
        with path.open("wb") as fh:
            shutil.copyfileobj(stream, fh, 1 << 20)
        return import_file(store, path, progress=progress)


def import_upload(store: Store, name: str, data: bytes) -> int:
    """:func:`import_stream` for bytes in memory."""
    return import_stream(store, name, io.BytesIO(data))


def import_section(store: Store, on_imported: Callable[[int], None]) -> None:
    """A file picker and an import button; the progress and the outcome on the page.

    Args:
        store: the store to import into.
        on_imported: called with the new session's id after a successful import; the page
            then runs again, showing the outcome (:func:`dashboard.views.common.show_flash`).
    """
    upload = st.file_uploader(
        "A session exported by PressureGuard (CSV, JSON or Parquet)",
        type=["csv", "json", "parquet"],
        key=IMPORT_KEY,
    )
    st.caption(
        "Files up to 200 MB here (the browser sends the whole file). A bigger one, such as a "
        "long session's CSV, imports with `pressureguard sessions import FILE`, which reads it "
        "a block at a time; its Parquet export is a third of the size."
    )
    clicked = st.button(
        "Import this file",
        key="pg_hist_import_button",
        disabled=upload is None,
        icon=":material/upload_file:",
    )
    if not clicked or upload is None:
        return
    bar = PageProgress(f"Importing {upload.name}", "MB")
    try:
        upload.seek(0)
        session_id = import_stream(store, upload.name, upload, progress=bar)
    # ValueError: undecodable text; RecursionError: absurdly nested JSON (json's own limit).
    except (PressureGuardError, ValueError, RecursionError, OSError) as exc:
        log.info("import of %s refused: %s", upload.name, exc)
        bar.clear()
        st.error(
            f"Could not import **{upload.name}**: {exc}. Nothing was added.",
            icon=":material/error:",
        )
        return
    bar.done(f"Imported {upload.name} as session #{session_id}.")
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
