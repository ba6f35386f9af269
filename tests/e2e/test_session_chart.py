"""The session chart in a real browser: the curve draws, zooms in to every sample, moves, resets,
overlays a compare session, and says so when a session does not exist.

The chart is mounted alone on a test page (``chart_page.py``) served with the real
``/api/curve`` route (``chart_app.py``), on a store holding a 10-minute session at 1 kHz and a
1-minute one, written through the store API as the bridge writes them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.review import record_session, recorded_session_arrays, serve
from firmware_bridge.store import Store

pytestmark = [pytest.mark.component("browser"), pytest.mark.slow]

CHART_APP = Path(__file__).resolve().with_name("chart_app.py")
READY = "document.querySelector('[data-testid=pg-chart-status]')?.textContent === 'ready'"


@pytest.fixture(scope="module")
def chart_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, int]]:
    """(URL, the 10-minute session's id, the 1-minute session's id)."""
    work = tmp_path_factory.mktemp("chart")
    with Store.open(work / "data") as store:
        long_id = record_session(store, recorded_session_arrays(600.0, seed=2))
        short_id = record_session(store, recorded_session_arrays(60.0, seed=3))
        store.wait_for_compaction()
    with serve(CHART_APP, work / "data", work / "server.log") as url:
        yield url, long_id, short_id


def state(page: Any) -> dict[str, Any]:
    points = page.get_by_test_id("pg-chart-points")
    return {
        "window": page.get_by_test_id("pg-chart-window").inner_text(),
        "points": int(points.inner_text().replace(",", "")),
        "samples": int(points.get_attribute("data-samples")),
        "decimated": points.get_attribute("data-decimated") == "true",
    }


def seconds(clock: str) -> float:
    """``4:59.93`` or ``1:04:59.93`` → seconds."""
    total = 0.0
    for part in clock.split(":"):
        total = total * 60 + float(part)
    return total


def settle(page: Any) -> dict[str, Any]:
    """Wait for the chart to show fetched data for its window; its state then."""
    page.wait_for_function(READY, timeout=30_000)
    return state(page)


def open_chart(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    page.get_by_test_id("pg-chart").wait_for(timeout=30_000)
    return page


def test_the_curve_draws_zooms_to_every_sample_and_resets(
    browser: Any, chart_server: tuple[str, int, int]
) -> None:
    url, long_id, _ = chart_server
    page = open_chart(browser, f"{url}/?session={long_id}")
    whole = settle(page)
    assert whole["window"] == "0:00–10:00"
    assert whole["decimated"] and whole["samples"] == 600_000
    assert 500 <= whole["points"] <= 8000
    assert page.evaluate("window.__pgChartReady") > 0

    page.get_by_test_id("pg-chart-zoom-in").click()
    half = settle(page)
    assert half["window"] == "2:30–7:30"
    # more detail: each point stands for fewer samples
    assert half["samples"] / half["points"] < whole["samples"] / whole["points"]

    for _ in range(10):  # 600 s / 2¹¹ ≈ 0.3 s
        page.get_by_test_id("pg-chart-zoom-in").click()
    close = settle(page)
    assert not close["decimated"]
    assert close["points"] == close["samples"] > 100  # every sample in the window is drawn
    start, end = (seconds(v) for v in close["window"].split("–"))
    assert 0.2 <= end - start <= 0.4

    page.get_by_test_id("pg-chart-zoom-out").click()
    assert settle(page)["samples"] > close["samples"]

    page.get_by_test_id("pg-chart-reset").click()
    assert settle(page) == whole


def test_wheel_drag_keys_and_hover(browser: Any, chart_server: tuple[str, int, int]) -> None:
    url, long_id, _ = chart_server
    page = open_chart(browser, f"{url}/?session={long_id}")
    settle(page)
    box = page.get_by_test_id("pg-chart").bounding_box()
    x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5
    page.mouse.move(x, y)
    for _ in range(10):
        page.mouse.wheel(0, -100)
    zoomed = settle(page)
    assert zoomed["window"] != "0:00–10:00" and zoomed["samples"] < 600_000

    # hovering the curve tells time, force and zone
    page.mouse.move(x + 5, y)
    tip = page.get_by_test_id("pg-chart-tip")
    tip.wait_for(state="visible", timeout=5_000)
    assert re.search(r"filtered -?\d+\.\d\d N", tip.inner_text())
    assert "zone:" in tip.inner_text()

    # dragging moves the window to earlier times; the span stays
    page.mouse.down()
    page.mouse.move(x + 200, y, steps=5)
    page.mouse.up()
    dragged = settle(page)
    assert dragged["window"] != zoomed["window"]

    # keys on the focused chart: → moves later, 0 shows the whole session
    page.get_by_test_id("pg-chart").focus()
    page.keyboard.press("ArrowRight")
    assert settle(page)["window"] != dragged["window"]
    page.keyboard.press("0")
    assert settle(page)["window"] == "0:00–10:00"

    # Shift + drag over a stretch zooms to it
    page.keyboard.down("Shift")
    page.mouse.move(x - 100, y)
    page.mouse.down()
    page.mouse.move(x + 100, y, steps=5)
    page.mouse.up()
    page.keyboard.up("Shift")
    selected = settle(page)
    assert selected["window"] != "0:00–10:00" and selected["samples"] < 200_000


def test_a_compare_session_is_overlaid(browser: Any, chart_server: tuple[str, int, int]) -> None:
    url, long_id, short_id = chart_server
    page = open_chart(browser, f"{url}/?session={short_id}&compare={long_id}")
    compared = settle(page)
    key = page.locator(".pg-sc-key-compare")
    assert key.is_visible() and key.inner_text() == f"session #{long_id}"
    # the window spans the longer of the two, each aligned at its own start
    assert compared["window"] == "0:00–10:00"
    assert compared["samples"] == 60_000


def test_an_unknown_session_says_so(browser: Any, chart_server: tuple[str, int, int]) -> None:
    url, _, _ = chart_server
    page = open_chart(browser, f"{url}/?session=999")
    status = page.get_by_test_id("pg-chart-status")
    page.wait_for_function(
        "document.querySelector('[data-testid=pg-chart-status]')?.dataset.state === 'error'",
        timeout=30_000,
    )
    assert status.inner_text() == "Cannot load the curve: no session 999"
    assert not page.get_by_test_id("stException").count()
