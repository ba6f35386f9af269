"""The live page in a real browser, driven as a user's eyes would see it.

The simulated tool ramps slowly (5 N/s) to 13 N and back; the comfort limit is 11.5 N, so every
ramp crosses into "over" (never "danger") and comes back.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import time
from pathlib import Path

import psutil
import pytest

from firmware_bridge.store import Store
from tests.e2e.conftest import SCREENSHOTS, launch, stop

pytestmark = [pytest.mark.component("browser"), pytest.mark.slow]

RAMP = ("run", "sim://?pattern=ramp&limit=10&seed=2", "--limit", "11.5N", "--region", "forearm")
PAGES = {
    "live": "",
    "limits": "limits",
    "history": "history",
    "calibrate": "calibrate",
    "device": "device",
}


def banner_has(text: str) -> str:
    return (
        f"(document.querySelector('[data-testid=pg-banner]')?.textContent || '').includes({text!r})"
    )


def bridge_pid(data: Path) -> int:
    with Store.open(data) as store:
        live = store.get_live()
    assert live is not None
    return int(live["recorder_pid"])


def test_live_value_warning_no_signal_and_bridge_restart(browser, tmp_path: Path) -> None:
    app = launch(tmp_path, *RAMP)
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(app.url)
        value = page.get_by_test_id("pg-value")
        value.wait_for(timeout=30_000)
        page.wait_for_function(
            "/\\d/.test(document.querySelector('[data-testid=pg-value]')?.textContent || '')",
            timeout=30_000,
        )
        first = float(re.findall(r"-?\d+(?:\.\d+)?", value.inner_text())[0])
        assert 0.0 <= first <= 14.0

        # Nearing the limit: the pre-warning comes first, then "Ease off" on crossing it, which
        # goes away once the tool eases back.
        page.wait_for_function(f"!{banner_has('Ease off')}", polling="raf", timeout=20_000)
        page.wait_for_function(banner_has("Slow down — limit in"), polling="raf", timeout=20_000)
        assert page.get_by_test_id("pg-zone").inner_text() in ("Relaxed", "In your range")
        page.screenshot(path=str(SCREENSHOTS / "live-prewarning.png"))
        page.wait_for_function(banner_has("Ease off"), polling="raf", timeout=20_000)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "live-ease-off.png"))
        page.wait_for_function(f"!{banner_has('Ease off')}", polling="raf", timeout=10_000)

        # The bridge dies: NO SIGNAL within 1 s, never the last value.
        pid = bridge_pid(app.data_dir)
        killed = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        page.wait_for_function(banner_has("NO SIGNAL"), polling="raf", timeout=5_000)
        assert time.monotonic() - killed <= 1.0
        assert not re.search(r"\d", value.inner_text()), "no number may stay on screen"
        page.screenshot(path=str(SCREENSHOTS / "live-no-signal.png"))

        # The launcher brings it back, and the value is live again.
        page.wait_for_function(f"!{banner_has('NO SIGNAL')}", polling="raf", timeout=20_000)
        assert bridge_pid(app.data_dir) != pid
        page.wait_for_function(
            "/\\d/.test(document.querySelector('[data-testid=pg-value]')?.textContent || '')",
            timeout=10_000,
        )
    finally:
        stop(app)
    assert app.proc.returncode == 0, app.log.read_text()


def test_the_users_unit_the_tip_and_the_zero_button(browser, tmp_path: Path) -> None:
    app = launch(tmp_path, "run", "sim://?pattern=zero&seed=4", "--tip", "knob", "--limit", "20N")
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(app.url)
        tip = page.get_by_test_id("pg-tip")
        page.wait_for_function(
            "(document.querySelector('[data-testid=pg-tip]')?.textContent || '').includes('knob')",
            timeout=30_000,
        )
        assert "knob" in tip.inner_text()
        assert page.get_by_test_id("pg-pressure").inner_text() == ""  # no kPa under a knob
        assert page.get_by_test_id("pg-limit").inner_text() == "20.0 N"

        with Store.open(app.data_dir) as store:  # the sidebar's unit picker saves this setting
            store.set_setting("display_unit", "kgf")
        page.wait_for_function(
            "document.querySelector('[data-testid=pg-unit]')?.textContent === 'kgf'",
            timeout=10_000,
        )
        assert page.get_by_test_id("pg-limit").inner_text() == "2.04 kgf"

        page.get_by_role("button", name="Zero the tool").click()
        notice = page.get_by_test_id("pg-notice")
        page.wait_for_function(
            "(document.querySelector('[data-testid=pg-notice]')?.textContent || '')"
            ".startsWith('Zeroed')",
            timeout=15_000,
        )
        assert "reads 0" in notice.inner_text()
        page.screenshot(path=str(SCREENSHOTS / "live-kgf-zeroed.png"))
    finally:
        stop(app)


def test_every_page_renders_and_is_saved_as_a_screenshot(browser, tmp_path: Path) -> None:
    app = launch(tmp_path, "demo")
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for name, path in PAGES.items():
            page.goto(f"{app.url}/{path}")
            page.wait_for_selector("[data-testid=stMainBlockContainer]", timeout=30_000)
            page.wait_for_timeout(2500)  # let the page settle (data, live feed)
            assert not page.get_by_test_id("stException").count(), f"{name} page raised"
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    finally:
        stop(app)


def test_the_server_listens_on_loopback_only(tmp_path: Path) -> None:
    app = launch(tmp_path, "dashboard")
    try:
        port = int(app.url.rsplit(":", 1)[1])
        listening = [
            c.laddr
            for c in psutil.net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN and c.laddr.port == port
        ]
        assert listening and {a.ip for a in listening} == {"127.0.0.1"}
        for ip in {a.address for nic in psutil.net_if_addrs().values() for a in nic}:
            if ip.startswith("127.") or ":" in ip or not re.match(r"\d+\.\d+\.\d+\.\d+$", ip):
                continue
            with socket.socket() as sock, pytest.raises(OSError):
                sock.settimeout(1)
                sock.connect((ip, port))
    finally:
        stop(app)
