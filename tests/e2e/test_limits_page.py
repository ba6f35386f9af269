"""The Limits page in a real browser: a guided pressure-pain-threshold measurement end to end.

``pressureguard run`` reads a fake tool on a real pty (binary INFO + SAMPLES frames). The tool
idles at 0 N and, when the test says so, ramps at 5 N/s (50 kPa/s on its 1 cm² tip) until it is
released. Its clock runs 4× faster than the wall clock, so the bridge's 30 s rests between
trials last 7.5 s here. The person is played by Playwright: the space bar marks "it starts to
hurt". The first trial is pressed too fast and must be rejected with its reason; the threshold
must be the mean of the ramp's force at the three stored mark times; the confirmed limit must
still be there after the app restarts.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from calibration.precautions import PRECAUTIONS
from firmware_bridge.readings import DeviceInfo
from firmware_bridge.readout import chosen_unit
from firmware_bridge.store import Store
from firmware_bridge.units import KGF_N
from tests.e2e.conftest import SCREENSHOTS, launch, stop
from tests.integration.ptytool import PlayedTool, PtyTool

pytestmark = [
    pytest.mark.component("browser"),
    pytest.mark.slow,
    pytest.mark.timeout(420),
    pytest.mark.skipif(os.name != "posix", reason="the fake tool needs a pty (POSIX)"),
]

SPEED = 4.0
REGION = "upper-trapezius:left"
TIP = "disc-1cm2"
#: Trials as ramp rates (N/s on the tool's clock): one too fast (150 kPa/s), then three good.
RAMPS = (15.0, 5.0, 5.0, 5.0)
MARK_AT_N = 8.0


@pytest.fixture
def played(tmp_path: Path) -> Iterator[PlayedTool]:
    pty = PtyTool(tmp_path / "ttyTOOL")
    pty.plug()
    info = DeviceInfo(
        device_id="pg-e2e-ppt",
        firmware="e2e",
        adc="hx711",
        rate_hz=80.0,
        counts_per_n=1000.0,
        offset_counts=50000.0,
        tip_area_cm2=1.0,
    )
    tool = PlayedTool(pty, info, speed=SPEED)
    tool.start()
    yield tool
    tool.stop()
    pty.close()


def wait_until(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def measurement(store: Store) -> dict[str, Any]:
    live = store.get_live() or {}
    return (live.get("state") or {}).get("ppt") or {}


def panel_state(page: Any) -> str:
    return str(page.get_by_test_id("ppt-state").text_content())


def force_at_least(newtons: float) -> str:
    return (
        "parseFloat(document.querySelector('[data-testid=ppt-force]')?.textContent || 'x') "
        f">= {newtons}"
    )


def answer_safety_questions(page: Any) -> None:
    page.get_by_role("tab", name="Profile & precautions").click()
    for item in PRECAUTIONS:
        page.locator(f".st-key-pg_lim_pre_default_{item.key}").get_by_text("No", exact=True).click()
    page.locator(".st-key-pg_lim_save_safety button").click()
    page.get_by_text("Safety questions answered on").wait_for(timeout=15_000)


def choose(page: Any, key: str, option: str) -> None:
    """Pick an option of a Streamlit selectbox by its words."""
    box = page.locator(f".st-key-{key}").get_by_role("combobox")
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(box).to_have_value(option, timeout=10_000)


def run_trial(page: Any, store: Store, tool: PlayedTool, rate_n_s: float, shot: bool) -> None:
    """One trial as a person does it: press, mark with the space bar, lift the tool."""
    page.wait_for_function(
        "document.querySelector('[data-testid=ppt-state]')?.textContent === 'ready'",
        timeout=30_000,
    )
    attempts = len(measurement(store).get("trials") or [])
    tool.ramp(rate_n_s)
    page.wait_for_function(force_at_least(MARK_AT_N), polling="raf", timeout=20_000)
    if shot:
        page.get_by_test_id("ppt-panel").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "limits-measure.png"))
    page.keyboard.press("Space")
    wait_until("the bridge to take the mark", lambda: measurement(store).get("marked"), 10)
    tool.release()
    wait_until(
        "the trial to end",
        lambda: len(measurement(store).get("trials") or []) > attempts,
        15,
    )


def test_measure_a_threshold_with_the_space_bar_and_keep_the_limit(
    browser: Any, tmp_path: Path, played: PlayedTool
) -> None:
    app = launch(tmp_path, "run", str(played.tool.link))
    restarted = None
    try:
        played.wait_playing()
        store = Store.open(app.data_dir)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(f"{app.url}/limits")
        page.get_by_text("Comfort limits").first.wait_for(timeout=30_000)
        answer_safety_questions(page)

        page.get_by_role("tab", name="Measure my threshold").click()
        choose(page, "pg_lim_m_region", "Upper trapezius")
        page.locator(".st-key-pg_lim_m_side").get_by_text("left", exact=True).click()
        page.locator(".st-key-pg_lim_m_start button").click()
        page.get_by_test_id("ppt-panel").wait_for(timeout=20_000)
        assert measurement(store)["region"] == REGION and measurement(store)["tip"] == TIP

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for k, rate in enumerate(RAMPS):
            run_trial(page, store, played, rate, shot=k == 1)
            if k == 0:  # the fast one is rejected, with its reason on the screen
                page.get_by_test_id("ppt-trials").get_by_text("pressed too fast").wait_for(
                    timeout=10_000
                )
            if k < len(RAMPS) - 1:  # the rest countdown runs before the next trial
                page.wait_for_function(
                    "/\\d+ s/.test(document.querySelector('[data-testid=ppt-rest]')?.textContent)",
                    timeout=10_000,
                )
        page.wait_for_function(
            "document.querySelector('[data-testid=ppt-state]')?.textContent === 'done'",
            timeout=20_000,
        )

        (stored,) = store.ppt_history("default", REGION, TIP)
        assert stored["n"] == 3 and stored["attempts"] == len(RAMPS)
        rejected, *accepted = stored["trials"]
        assert not rejected["accepted"] and "too fast" in rejected["reason"]
        assert all(t["accepted"] for t in accepted)
        expected = sum(played.session_force(t["mark_t"]) for t in accepted) / 3
        assert stored["ppt_n"] == pytest.approx(expected, abs=0.3)
        assert all(t["ppt_n"] >= MARK_AT_N - 0.3 for t in accepted)
        expect(page.get_by_test_id("ppt-summary")).to_contain_text(
            f"Your pressure-pain threshold: {stored['ppt_n']:.1f} N", timeout=10_000
        )

        confirm = page.get_by_role("button", name=re.compile(r"^Use .* as my comfort limit"))
        label = confirm.inner_text()
        confirm.click()
        page.get_by_text("is now your comfort limit for Upper trapezius (left)").wait_for(
            timeout=15_000
        )
        limit = store.current_limit("default", REGION, TIP)
        assert limit is not None and limit["source"] == "measured"
        assert limit["limit_n"] == pytest.approx(stored["ppt_n"], abs=0.01)
        assert f"{limit['limit_n']:.1f} N" in label
        assert store.ppt_history("default", REGION, TIP)[0]["limit_id"] == limit["id"]
        store.close()
        page.close()

        stop(app)
        assert app.proc.returncode == 0, app.log.read_text()
        restarted = launch(tmp_path, "run", str(played.tool.link))
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(f"{restarted.url}/limits")
        page.get_by_role("tab", name="My limits").click()
        table = page.get_by_test_id("stTable")
        row = table.locator("tr", has_text="Upper trapezius (left)")
        row.wait_for(timeout=20_000)
        assert f"{limit['limit_n']:.1f}" in row.inner_text()
        assert "measured" in row.inner_text()

        # one unit for everything, picked in the sidebar: the limit now reads in kgf
        choose(page, "pg_unit", "kilograms-force (kgf)")
        expect(table.first).to_contain_text("Limit (kgf)", timeout=15_000)
        expect(row).to_contain_text(f"{limit['limit_n'] / KGF_N:.2f}", timeout=15_000)
        with Store.open(restarted.data_dir) as saved:
            assert chosen_unit(saved) == "kgf"
    finally:
        stop(app)
        if restarted is not None:
            stop(restarted)
