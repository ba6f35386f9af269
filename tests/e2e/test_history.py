"""The History and Journal pages in a real browser: the list, one session's curve, two sessions
overlaid, a CSV download, and a journal entry, on the demo's seeded sessions.

``pressureguard dashboard`` serves a data dir seeded as ``pressureguard demo`` seeds its own
(:func:`firmware_bridge.demo.seed_sessions`: five sessions of the simulated tool, 4–8 minutes
each). Screenshots go to ``docs/screenshots/``.
"""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from playwright.sync_api import expect

from firmware_bridge.demo import SEEDED, seed_sessions
from firmware_bridge.store import Store
from tests.e2e.conftest import SCREENSHOTS, launch, stop

pytestmark = [pytest.mark.component("browser"), pytest.mark.slow, pytest.mark.timeout(300)]

VIEWPORT = {"width": 1280, "height": 900}
#: Journal days seeded beside the sessions: (days ago, pain, sleep, triggers).
JOURNAL: tuple[tuple[int, int, int, list[str]], ...] = (
    (9, 6, 4, []),
    (8, 7, 3, ["long drive"]),
    (6, 5, 6, []),
    (4, 6, 5, ["heavy lifting", "high-stress day"]),
    (2, 4, 7, []),
    (1, 4, 6, []),
)


def shoot(page: Any, name: str) -> None:
    """Save a screenshot of the whole page: Streamlit scrolls inside its main area, so the
    viewport is made as tall as the content for the shot."""
    height = page.evaluate(
        """() => {
            const main = document.querySelector('[data-testid=stMain]');
            if (main) main.scrollTop = 0;
            const block = document.querySelector('[data-testid=stMainBlockContainer]');
            return block.getBoundingClientRect().top + block.scrollHeight + 40;
        }"""
    )
    page.set_viewport_size({"width": VIEWPORT["width"], "height": int(min(max(height, 900), 4000))})
    page.wait_for_timeout(400)  # let the layout and canvases settle at the new size
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))
    page.set_viewport_size(VIEWPORT)


def visible(page: Any, test_id: str) -> Any:
    """The element with this data-testid in the open tab (hidden tabs keep stale copies)."""
    return page.locator(f"[data-testid={test_id}]:visible")


def wait_chart_ready(page: Any) -> None:
    """Until the session chart has fetched and painted its curve."""
    status = visible(page, "pg-chart-status")
    expect(status).to_have_text("ready", timeout=30_000)


def open_tab(page: Any, name: str) -> None:
    tab = page.get_by_role("tab", name=name)
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true", timeout=10_000)


def pick_many(page: Any, key: str, option: str) -> None:
    """Add an option to a Streamlit multiselect by its words."""
    widget = page.locator(f".st-key-{key}")
    widget.get_by_role("combobox").click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")
    expect(widget.get_by_text(option, exact=True)).to_be_visible(timeout=10_000)


def test_list_session_compare_export_and_journal(browser: Any, tmp_path: Path) -> None:
    ids = seed_sessions(tmp_path / "data")
    assert len(ids) == len(SEEDED)
    today = date.today()
    with Store.open(tmp_path / "data") as store:
        summaries = {s["id"]: s for s in store.list_sessions()}
        for days, pain, sleep, triggers in JOURNAL:
            store.save_journal(
                "default", today - timedelta(days=days), pain=pain, sleep=sleep, triggers=triggers
            )
    # The second newest: upper trapezius (left), seeded 2 days ago; an older one on the same side.
    chosen = ids[3]
    earlier = ids[0]
    assert summaries[chosen]["region"] == summaries[earlier]["region"] == "upper-trapezius:left"

    app = launch(tmp_path, "dashboard")
    try:
        page = browser.new_page(viewport=VIEWPORT, accept_downloads=True)
        page.goto(f"{app.url}/history")

        # The list: every seeded session, newest first.
        grid = page.get_by_test_id("stDataFrame")
        expect(grid).to_be_visible(timeout=30_000)
        expect(page.get_by_text(f"{len(ids)} sessions", exact=False)).to_be_visible()
        page.wait_for_timeout(500)  # let the grid paint its rows
        shoot(page, "history-list.png")

        # Open one: click its row in the list (row 2 of the newest-first list).
        box = grid.bounding_box()
        assert box is not None
        header, row = 35, 35  # Streamlit's default grid geometry (px)
        page.mouse.click(box["x"] + 14, box["y"] + header + row * 1.5)
        session_tab = page.get_by_role("tab", name="One session")
        expect(session_tab).to_have_attribute("aria-selected", "true", timeout=15_000)
        picker = page.locator(".st-key-pg_hist_session").get_by_role("combobox")
        expect(picker).to_have_value(re.compile(rf"^#{chosen} · "), timeout=15_000)

        # The chart draws the whole session.
        wait_chart_ready(page)
        points = visible(page, "pg-chart-points")
        assert int(points.get_attribute("data-samples") or 0) == summaries[chosen]["n_samples"]
        expect(page.get_by_text("This session lasted")).to_be_visible()
        shoot(page, "history-session.png")
        wait_chart_ready(page)

        # Download the CSV: one row per sample under the header.
        with page.expect_download(timeout=30_000) as info:
            page.locator(".st-key-pg_hist_download_csv button").click()
        download = info.value
        assert download.suggested_filename == f"pressureguard-session-{chosen}.csv"
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        with saved.open(newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows[0][:5] == ["t_s", "force_n", "filtered_n", "zone", "raw"]
        assert len(rows) - 1 == summaries[chosen]["n_samples"]

        # Parquet: prepared with a progress bar, then streamed from disk through a link.
        page.locator(".st-key-pg_hist_prepare button").click()
        link = page.get_by_role("link", name=re.compile("Download Parquet"))
        expect(link).to_be_visible(timeout=30_000)
        with page.expect_download(timeout=30_000) as info:
            link.click()
        download = info.value
        assert download.suggested_filename == f"pressureguard-session-{chosen}.parquet"
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        assert pq.read_table(saved).num_rows == summaries[chosen]["n_samples"]

        # Compare: the earlier session on the same side is overlaid.
        with page.expect_response(
            lambda r: "/api/curve" in r.url and f"session={earlier}" in r.url, timeout=30_000
        ) as overlay:
            page.locator(".st-key-pg_hist_to_compare button").click()
        assert overlay.value.ok
        compare_tab = page.get_by_role("tab", name="Compare")
        expect(compare_tab).to_have_attribute("aria-selected", "true", timeout=15_000)
        expect(page.locator(".st-key-pg_hist_compare").get_by_role("combobox")).to_have_value(
            re.compile(rf"^#{earlier} · ")
        )
        wait_chart_ready(page)
        expect(page.locator(".pg-sc-key-compare:visible")).to_have_text(f"session #{earlier}")
        expect(page.get_by_text("One session's change is within the normal")).to_be_visible()
        shoot(page, "history-compare.png")

        # Trends: the caveats are there.
        open_tab(page, "Trends")
        expect(page.get_by_text("Read these trends with care")).to_be_visible(timeout=15_000)
        expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible(timeout=15_000)
        page.wait_for_timeout(1000)  # the charts render asynchronously
        assert not page.get_by_test_id("stException").count()
        shoot(page, "history-trends.png")

        # The journal: today's entry saved and listed.
        page.goto(f"{app.url}/journal")
        expect(page.get_by_text("New entry for today")).to_be_visible(timeout=30_000)
        slider = page.locator(".st-key-pg_journal_pain input[type=range]")
        slider.focus()
        for _ in range(7):  # "not rated", 0, 1 … 6
            slider.press("ArrowRight")
        expect(slider).to_have_attribute("aria-valuetext", "6")
        pick_many(page, "pg_journal_triggers", "long drive")
        page.locator(".st-key-pg_journal_note textarea").fill("Stiff after the drive home")
        page.locator(".st-key-pg_journal_save button").click()
        expect(page.get_by_text("Saved default's journal entry")).to_be_visible(timeout=15_000)
        expect(page.get_by_text("Your entry for today")).to_be_visible()
        expect(page.get_by_test_id("stDataFrame")).to_be_visible()
        page.wait_for_timeout(500)
        shoot(page, "journal.png")
        assert not page.get_by_test_id("stException").count()
    finally:
        stop(app)
    with Store.open(tmp_path / "data") as store:
        entry = store.journal("default", today, today)[0]
    assert entry["pain"] == 6
    assert entry["triggers"] == ["long drive"]
    assert entry["note"] == "Stiff after the drive home"
