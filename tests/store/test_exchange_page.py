"""The History page's files with AppTest: Parquet, and every format of a long session, prepared
with ``st.progress`` into a temporary file, then offered; an upload imported with a progress bar."""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from exchange_helpers import recorded, samples
from streamlit.testing.v1 import AppTest

from dashboard import downloads, history_exchange, history_list, history_session, resources
from firmware_bridge.store import Store

PAGES = Path(__file__).resolve().parents[2] / "dashboard" / "views"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """The store the dashboard opens (PRESSUREGUARD_HOME = a temp dir)."""
    monkeypatch.setenv("PRESSUREGUARD_HOME", str(tmp_path / "home"))
    resources.close_stores()
    before = set(_prepared_files())
    yield resources.get_store()
    resources.close_stores()
    for path in set(_prepared_files()) - before:  # what the tests prepared
        path.unlink(missing_ok=True)


def _prepared_files() -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob(history_exchange.DOWNLOAD_PREFIX + "*"))


def session_page() -> AppTest:
    at = AppTest.from_file(str(PAGES / "history.py"), default_timeout=60)
    at.session_state[history_list.TAB_KEY] = history_list.SESSION_TAB
    at.session_state[history_session.CHART_DRAWN] = True
    at.run()
    assert not at.exception, at.exception
    return at


def progress_bars(at: AppTest) -> list[Any]:
    """The page's ``st.progress`` elements (value 0–100 and text)."""
    return [e.proto for e in at.get("progress")]


def download_labels(at: AppTest) -> list[str]:
    """The page's one-click download buttons, then its links to prepared files."""
    buttons = [b.proto.label for b in at.get("download_button")]
    return buttons + [re.findall(r"⤓ (.*?)</a>", link)[0] for link in prepared_links(at)]


def prepared_links(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if "pg-download-link" in m.value]


def offered_path(at: AppTest) -> Path:
    """The file the page's prepared link streams (through the download route's table)."""
    (link,) = prepared_links(at)
    token = re.findall(r'href="/api/download/([^"]+)"', link)[0]
    offer = downloads.offered(token)
    assert offer is not None
    return offer.path


def test_parquet_is_prepared_with_a_progress_bar(store: Store) -> None:
    sid = recorded(store, samples(800))
    at = session_page()
    assert download_labels(at) == ["Download CSV", "Download JSON"]  # one click, as before
    assert progress_bars(at) == []
    at.button(key=history_exchange.PREPARE_KEY).click().run()
    assert not at.exception, at.exception
    (bar,) = progress_bars(at)
    assert bar.value == 100 and bar.text.startswith("The Parquet file is ready: 800 readings")
    assert download_labels(at) == ["Download CSV", "Download JSON", "Download Parquet"]
    prepared = Path(at.session_state["pg_hist_prepared"]["path"])
    assert offered_path(at) == prepared  # the link streams the prepared file from disk
    table = pq.read_table(prepared)
    assert table.num_rows == 800 and table.column_names[:2] == ["t_s", "force_n"]
    assert prepared.name.startswith(history_exchange.DOWNLOAD_PREFIX)
    assert prepared.stat().st_mode & 0o077 == 0  # this user's alone
    assert f"pressureguard-session-{sid}.parquet" in " ".join(c.value for c in at.caption)


def test_a_long_sessions_files_are_all_prepared_with_progress(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = samples(3000)
    sid = recorded(store, data)
    monkeypatch.setattr(history_exchange, "LARGE_SAMPLES", 1000)
    seen: list[tuple[int, int]] = []
    original = history_exchange.PageProgress.__call__

    def record(self: Any, done: int, total: int) -> None:
        seen.append((done, total))
        original(self, done, total)

    monkeypatch.setattr(history_exchange.PageProgress, "__call__", record)
    at = session_page()
    assert download_labels(at) == []  # nothing is built without a progress bar
    assert f"`pressureguard sessions export {sid} -o FILE`" in " ".join(c.value for c in at.caption)
    at.radio(key=history_exchange.PREPARE_FORMAT_KEY).set_value("csv").run()
    at.button(key=history_exchange.PREPARE_KEY).click().run()
    assert not at.exception, at.exception
    (bar,) = progress_bars(at)
    assert bar.value == 100 and "CSV file is ready: 3,000 readings" in bar.text
    assert seen and seen[-1] == (3000, 3000)
    assert download_labels(at) == ["Download CSV"]
    text = offered_path(at).read_text()
    force = np.genfromtxt(io.StringIO(text), delimiter=",", skip_header=1, usecols=1)
    np.testing.assert_array_equal(force, data.force_n)


def test_an_upload_is_imported_with_a_progress_bar(
    store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sid = recorded(store, samples(2000))
    path = tmp_path / "s.parquet"
    data = history_exchange.export_to(store, sid, "parquet", path)
    assert data == 2000
    seen: list[tuple[int, int]] = []
    original = history_exchange.PageProgress.__call__

    def record(self: Any, done: int, total: int) -> None:
        seen.append((done, total))
        original(self, done, total)

    monkeypatch.setattr(history_exchange.PageProgress, "__call__", record)
    at = AppTest.from_file(str(PAGES / "history.py"), default_timeout=60).run()
    upload = at.file_uploader(key=history_exchange.IMPORT_KEY)
    upload.upload("s.parquet", path.read_bytes(), "application/vnd.apache.parquet").run()
    at.button(key="pg_hist_import_button").click().run()
    assert not at.exception, at.exception
    new = max(s["id"] for s in store.list_sessions())
    assert new != sid and store.session_summary(new)["n_samples"] == 2000
    size = path.stat().st_size
    assert seen[0] == (0, size) and seen[-1] == (size, size)
    shown = [str(e.value) for kind in ("markdown", "info", "success") for e in getattr(at, kind)]
    assert any(f"as session #{new}" in text for text in shown), shown
