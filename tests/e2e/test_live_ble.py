"""A cordless tool on the Live page: ``pressureguard run ble://`` on the virtual BLE tool, over
bumble's virtual controllers, in real Chromium.

The virtual tool ramps slowly to 13 N and back (limit 11.5 N): the value is live, "Ease off"
shows past the limit; when the tool's power goes (its process killed), NO SIGNAL and
"reconnecting…" show within a second, never the last value; when it comes back, the value does.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.ble.conftest import Air, free_port, hci
from tests.e2e.conftest import SCREENSHOTS, launch, stop

pytestmark = [pytest.mark.component("browser"), pytest.mark.component("ble"), pytest.mark.slow]

NUMBER = "/\\d/.test(document.querySelector('[data-testid=pg-value]')?.textContent || '')"


def banner_has(text: str) -> str:
    return (
        f"(document.querySelector('[data-testid=pg-banner]')?.textContent || '').includes({text!r})"
    )


def status_has(text: str) -> str:
    return (
        f"(document.querySelector('[data-testid=pg-status]')?.textContent || '').includes({text!r})"
    )


def test_a_cordless_tool_live_warned_lost_and_found(browser, tmp_path: Path) -> None:
    air = Air(tmp_path)
    tool_port, host_port = free_port(), free_port()
    try:
        air.controllers([tool_port, host_port])
        sim_args = ("--pattern", "ramp", "--limit", "10", "--seed", "2")
        tool = air.ble_sim(tool_port, tmp_path / "tool.log", *sim_args)
        app = launch(tmp_path, "run", "ble://", "--ble-hci", hci(host_port), "--limit", "11.5N")
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(app.url)
            page.wait_for_function(NUMBER, timeout=60_000)
            page.wait_for_function(status_has("PressureGuard"), timeout=10_000)  # the link's name
            page.wait_for_function(banner_has("Ease off"), polling="raf", timeout=30_000)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "live-ble-ease-off.png"))

            air.kill(tool)  # the tool loses power
            lost = time.monotonic()
            page.wait_for_function(banner_has("NO SIGNAL"), polling="raf", timeout=10_000)
            assert time.monotonic() - lost <= 1.0  # a safety requirement, not a speed goal
            assert not re.search(r"\d", page.get_by_test_id("pg-value").inner_text())
            page.wait_for_function(status_has("reconnecting"), timeout=10_000)

            air.ble_sim(tool_port, tmp_path / "tool.log", *sim_args)  # power back on
            page.wait_for_function(f"!{banner_has('NO SIGNAL')}", polling="raf", timeout=60_000)
            page.wait_for_function(NUMBER, timeout=10_000)
        finally:
            stop(app)
    finally:
        air.close()
