"""The dashboard by keyboard alone, in a real browser: no mouse call anywhere in this file (only
``keyboard.press``/``keyboard.type``, and Tab to move the focus), and a visible focus ring on
every element the focus stops on (checked at each Tab by :func:`tests.e2e.a11y.tab_to`).

A whole session: spoken cues on, a pain rating before, Start session, the simulated tool presses
past the comfort limit ("Ease off", spoken with the number), Mute then Enable sound, a pain
rating after and a note, Stop session (the store must hold exactly that), then Zero. And the
guided threshold measurement: started from the keyboard, the threshold marked with the focused
"It starts to hurt" button (Enter), then cancelled.

The simulated tool ramps slowly (5 N/s) to 13 N and back; the comfort limit is 11.5 N, so every
ramp crosses into "over".
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from firmware_bridge.store import Store
from tests.e2e.a11y import (
    SPEECH_RECORDER,
    failing,
    focused,
    has_testid,
    in_key,
    run_axe,
    tab_to,
)
from tests.e2e.conftest import SCREENSHOTS, launch, stop

pytestmark = [pytest.mark.component("browser"), pytest.mark.slow, pytest.mark.timeout(420)]

RAMP = ("run", "sim://?pattern=ramp&limit=10&seed=2", "--limit", "11.5N", "--region", "forearm")
VIEWPORT = {"width": 1280, "height": 900}


def wait_until(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def live_row(data: Path) -> dict[str, Any]:
    """The bridge's live state (``recording``, ``session_id`` …)."""
    with Store.open(data) as store:
        return dict((store.get_live() or {}).get("state") or {})


def slider_text(page: Any, key: str) -> str:
    return str(
        page.evaluate(
            f"document.querySelector('.st-key-{key} input[type=range]')"
            ".getAttribute('aria-valuetext')"
        )
    )


def rate(page: Any, key: str, value: int) -> None:
    """Set a pain slider (not rated, 0 … 10) with the arrow keys; the focus is on it."""
    page.keyboard.press("Home")
    for _ in range(value + 1):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        f"document.querySelector('.st-key-{key} input[type=range]')"
        f"?.getAttribute('aria-valuetext') === '{value}'",
        timeout=5_000,
    )


def test_a_whole_session_by_keyboard_alone(browser: Any, tmp_path: Path) -> None:
    app = launch(tmp_path, *RAMP)
    try:
        page = browser.new_page(viewport=VIEWPORT)
        page.add_init_script(SPEECH_RECORDER)
        page.goto(app.url)
        page.wait_for_function(
            "/\\d/.test(document.querySelector('[data-testid=pg-value]')?.textContent || '')",
            timeout=30_000,
        )
        page.get_by_role("button", name="Start session").wait_for(timeout=30_000)

        # Spoken cues on: a checkbox, toggled with the space bar.
        tab_to(page, has_testid("pg-speech"))
        page.keyboard.press("Space")
        assert page.get_by_test_id("pg-speech").is_checked()

        # Pain before, with the arrow keys; then Start session with Enter.
        tab_to(page, in_key("pg_pain_before"))
        rate(page, "pg_pain_before", 3)
        tab_to(page, in_key("pg_start"))
        page.keyboard.press("Enter")
        wait_until("the session to start", lambda: live_row(app.data_dir).get("recording"))
        session_id = int(live_row(app.data_dir)["session_id"])
        page.get_by_role("button", name="Stop session").wait_for(timeout=20_000)

        # The tool presses past the limit: "Ease off" on screen, and said with the number.
        page.wait_for_function(
            "(document.querySelector('[data-testid=pg-banner]')?.textContent || '')"
            ".includes('Ease off')",
            polling="raf",
            timeout=30_000,
        )
        said = wait_until(
            "the spoken cue",
            lambda: [t for t in page.evaluate("window.__pgSaid") if t.startswith("Ease off")],
            10,
        )
        spoken = re.fullmatch(r"Ease off, (\d+\.\d) newtons", said[0])
        assert spoken, said
        assert 11.5 <= float(spoken.group(1)) <= 14.0
        assert not failing(run_axe(page)), "axe while recording, over the limit"

        # Mute and unmute with Enter: the button says which it is.
        here = tab_to(page, has_testid("pg-mute"))
        assert here["name"] == "Mute"
        page.keyboard.press("Enter")
        mute = page.get_by_test_id("pg-mute")
        assert mute.get_attribute("aria-pressed") == "true"
        assert mute.inner_text().startswith("Muted")
        # Muted, "Enable sound" is back just before it: Shift+Tab to it, Enter turns sound on.
        page.keyboard.press("Shift+Tab")
        here = focused(page)
        assert here and here["testid"] == "pg-sound" and here["ring"], here
        page.keyboard.press("Enter")
        assert mute.get_attribute("aria-pressed") == "false"

        # Pain after, a note, then Stop session.
        tab_to(page, in_key("pg_pain_after"))
        rate(page, "pg_pain_after", 2)
        tab_to(page, in_key("pg_note"))
        page.keyboard.type("by keyboard alone")
        tab_to(page, in_key("pg_stop"))
        assert (focused(page) or {}).get("ring")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "keyboard-stop-focused.png"))
        page.keyboard.press("Enter")
        wait_until("the session to end", lambda: not live_row(app.data_dir).get("recording"))

        with Store.open(app.data_dir) as store:
            summary = store.session_summary(session_id)
        assert summary["ended_at"]
        assert summary["pain_before"] == 3 and summary["pain_after"] == 2
        assert summary["note"] == "by keyboard alone"
        assert summary["peak_n"] > 11.5 and summary["time_over_limit_s"] > 0

        # Zero, by keyboard too: the bridge answers (zeroed, or not while the tool is loaded).
        page.get_by_role("button", name="Start session").wait_for(timeout=20_000)
        tab_to(page, in_key("pg_zero"))
        page.keyboard.press("Enter")
        page.wait_for_function(
            "/^(Zeroing|Zeroed|Not zeroed)/"
            ".test(document.querySelector('[data-testid=pg-notice]')?.textContent || '')",
            timeout=20_000,
        )
    finally:
        stop(app)
    assert app.proc.returncode == 0, app.log.read_text()


def ppt_state(data: Path) -> dict[str, Any]:
    """The guided measurement's status (empty when none runs)."""
    return dict(live_row(data).get("ppt") or {})


def test_mark_the_threshold_by_keyboard(browser: Any, tmp_path: Path) -> None:
    # a slower climb than RAMP's (to 32.5 N at 5 N/s): time to Tab to the button while pressing
    app = launch(tmp_path, "run", "sim://?pattern=ramp&limit=25&seed=2")
    try:
        with Store.open(app.data_dir) as store:  # the safety questions, answered earlier
            store.update_profile_settings(
                "default",
                {"precautions": [], "sensitive": False, "precautions_answered_at": "2026-01-01"},
            )
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{app.url}/limits")
        page.get_by_role("button", name="Start measuring").wait_for(timeout=30_000)
        page.wait_for_function(
            "!document.querySelector('.st-key-pg_lim_m_start button')?.disabled", timeout=30_000
        )
        tab_to(page, in_key("pg_lim_m_start"))
        page.keyboard.press("Enter")
        page.get_by_test_id("ppt-panel").wait_for(timeout=20_000)
        wait_until("the measurement to start", lambda: ppt_state(app.data_dir).get("state"))

        # The tool presses (the simulated ramp): "It starts to hurt" is enabled; Tab to it and
        # press Enter. The focus starts from the top of the page each time it is tried.
        page.wait_for_function(
            "document.querySelector('[data-testid=ppt-state]')?.textContent === 'pressing'",
            polling="raf",
            timeout=30_000,
        )
        here = tab_to(page, "(a) => a.dataset.testid === 'ppt-mark' && !a.disabled")
        assert here["ring"]
        page.screenshot(path=str(SCREENSHOTS / "keyboard-mark-focused.png"))
        page.keyboard.press("Enter")
        page.wait_for_function(
            "document.querySelector('[data-testid=ppt-marks]')?.textContent === '1'",
            timeout=5_000,
        )
        marked = wait_until(
            "the bridge to take the mark",
            lambda: ppt_state(app.data_dir).get("marked") or ppt_state(app.data_dir).get("trials"),
            10,
        )
        assert marked
        assert not failing(run_axe(page)), "axe on the threshold panel"

        # Cancel the measurement: two presses of Enter on "Cancel measurement" (it asks first).
        tab_to(page, has_testid("ppt-cancel"))
        page.keyboard.press("Enter")
        assert page.get_by_test_id("ppt-cancel").inner_text().startswith("Really cancel")
        page.keyboard.press("Enter")
        wait_until("the measurement to end", lambda: not ppt_state(app.data_dir), 20)
    finally:
        stop(app)
    assert app.proc.returncode == 0, app.log.read_text()
