"""Force that arrives calibrated by the tool is judged and shown; raw counts never are.

A plain HX711 sketch on a real pty prints force in N, g or kg (``--format text --text-unit``):
the Live page shows the number and "Relaxed" / "In your range" under the limit and "Ease off"
past it, and says why the force counts as calibrated. The same sketch printing raw counts, with
no calibration stored, shows "Uncalibrated" and no number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_bridge.units import KGF_N
from tests.e2e.conftest import SCREENSHOTS, RunningApp, launch, stop
from tests.integration.ptytool import PtyTool, TextSketch

pytestmark = [pytest.mark.component("browser"), pytest.mark.slow]

LIMIT_N = 10.0
#: newtons → what the sketch prints, per unit
PRINTED = {"N": 1.0, "g": 1000.0 / KGF_N, "kg": 1.0 / KGF_N}


def zone_is(words: str) -> str:
    return f"(document.querySelector('[data-testid=pg-zone]')?.textContent || '') === {words!r}"


def banner_has(text: str) -> str:
    return (
        f"(document.querySelector('[data-testid=pg-banner]')?.textContent || '').includes({text!r})"
    )


@pytest.fixture
def sketch(tmp_path: Path) -> Iterator[TextSketch]:
    tool = PtyTool(tmp_path / "ttyHX0")
    tool.plug()
    played = TextSketch(tool, rate_hz=80.0)
    played.start()
    yield played
    played.stop()
    tool.close()


def _launch(tmp_path: Path, sketch: TextSketch, unit: str) -> RunningApp:
    return launch(
        tmp_path, "run", str(sketch.tool.link), "--format", "text", "--text-unit", unit,
        "--limit", f"{LIMIT_N:g}N", "--region", "forearm",
    )  # fmt: skip


def _shown_number(page) -> float:  # type: ignore[no-untyped-def]
    return float(re.findall(r"-?\d+(?:\.\d+)?", page.get_by_test_id("pg-value").inner_text())[0])


def _settles_at(page, newtons: float) -> None:  # type: ignore[no-untyped-def]
    """The number on screen reaches ``newtons`` (the step is smoothed over 50 ms)."""
    page.wait_for_function(
        "Math.abs(parseFloat(document.querySelector('[data-testid=pg-value]')?.textContent)"
        f" - {newtons}) <= 0.2",
        timeout=10_000,
    )


@pytest.mark.parametrize("unit", ["N", "g", "kg"])
def test_force_in_units_is_judged_and_shown(
    browser, tmp_path: Path, sketch: TextSketch, unit: str
) -> None:
    scale = PRINTED[unit]
    sketch.value = 5.0 * scale
    app = _launch(tmp_path, sketch, unit)
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(app.url)
        page.wait_for_function(zone_is("Relaxed"), timeout=30_000)
        _settles_at(page, 5.0)
        assert "sends force" in page.get_by_test_id("pg-status").inner_text()

        sketch.value = 9.0 * scale
        page.wait_for_function(zone_is("In your range"), timeout=10_000)
        _settles_at(page, 9.0)

        sketch.value = 11.0 * scale
        page.wait_for_function(banner_has("Ease off"), timeout=10_000)
        _settles_at(page, 11.0)
        assert _shown_number(page) == pytest.approx(11.0, abs=0.2)
        if unit == "g":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "live-text-grams-ease-off.png"))
    finally:
        stop(app)


def test_raw_counts_without_a_calibration_are_never_judged(
    browser, tmp_path: Path, sketch: TextSketch
) -> None:
    sketch.value = 84_000.0
    app = _launch(tmp_path, sketch, "counts")
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(app.url)
        page.wait_for_function(zone_is("Uncalibrated — not judged"), timeout=30_000)
        page.wait_for_timeout(1000)
        assert page.get_by_test_id("pg-zone").inner_text() == "Uncalibrated — not judged"
        assert not re.search(r"\d", page.get_by_test_id("pg-value").inner_text())
        assert "no calibration" in page.get_by_test_id("pg-status").inner_text()
    finally:
        stop(app)
