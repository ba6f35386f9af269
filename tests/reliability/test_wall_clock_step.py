"""The host's wall clock really stepped (``clock_settime``, as NTP or a person setting the time
does) while real bridges record and the live view reads their rows.

The bridge times samples on the monotonic clock and the tool's; the wall clock stamps the live
rows the dashboard judges staleness from. A dead bridge's last row, stamped before the clock went
back an hour, is an hour "in the future": it must never pass for fresh (a frozen "safe" on the
screen), and must not hide the next bridge's rows.

Needs permission to set the clock (root; CI runs as root). The machine's true time is put back
at the end from the monotonic clock, which no step moves.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from dashboard.feed import display_state
from firmware_bridge.store import Store
from tests.conftest import require_component
from tests.integration.cli import show, start_record, stop_record, wait_until
from tests.reliability.figures import report

pytestmark = [pytest.mark.component("clock"), pytest.mark.timeout(120)]

HOUR_S = 3600.0
RATE_HZ = 1000
SIM = f"sim://?rate={RATE_HZ}&pattern=steady&level=5"  # 5 N against 20 N: "relaxed", a safe zone


def _can_set_clock() -> bool:
    try:
        time.clock_settime(time.CLOCK_REALTIME, time.clock_gettime(time.CLOCK_REALTIME))
    except PermissionError:
        return False
    return True


@contextmanager
def wall_clock() -> Iterator[Callable[[float], None]]:
    """A function that steps the machine's wall clock by some seconds; true time comes back at
    the end (however the test ends), carried over the steps by the monotonic clock."""
    require_component(_can_set_clock(), "permission to set the clock", "run the tests as root")
    wall0, mono0 = time.clock_gettime(time.CLOCK_REALTIME), time.monotonic()

    def step(seconds: float) -> None:
        time.clock_settime(time.CLOCK_REALTIME, time.clock_gettime(time.CLOCK_REALTIME) + seconds)

    try:
        yield step
    finally:
        time.clock_settime(time.CLOCK_REALTIME, wall0 + (time.monotonic() - mono0))


def live_state(data: Path) -> dict[str, Any]:
    """What ``/api/live`` would show now (the route's own judgement of the store's live row)."""
    with Store.open(data) as store:
        return display_state(store.get_live())


def shown_live(data: Path, zone: str | None = None) -> dict[str, Any] | None:
    """The live state when a running bridge's reading is shown (in ``zone``, if given)."""
    state = live_state(data)
    shown = not state["stale"] and state["connected"] and zone in (None, state["zone"])
    return state if shown else None


def test_wall_clock_steps_never_make_a_dead_bridge_look_live(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with wall_clock() as step:
        first = start_record(data, SIM, "--limit", "20N")
        try:
            state = wait_until(lambda: shown_live(data, "relaxed"), 30, what="the first 'relaxed'")
            assert state["force_n"] == pytest.approx(5, abs=1)
        finally:
            first.send_signal(signal.SIGKILL)  # dies without clearing its row
            first.communicate(timeout=10)

        step(-HOUR_S)  # its last row is now stamped an hour ahead of the clock
        for _ in range(3):  # not shown as live, now or later (before the fix: for an hour)
            state = live_state(data)
            assert state["stale"] and state["zone"] == "no_signal", state
            assert state["force_n"] is None and not state["connected"]
            assert "clock set back" in state["message"]
            time.sleep(0.5)

        second = start_record(data, SIM, "--limit", "20N")
        try:
            began = time.monotonic()
            wait_until(lambda: shown_live(data, "relaxed"), 30, what="the next bridge's reading")
            shown_after_s = time.monotonic() - began
            with Store.open(data) as store:  # the curve holds no chunk from the future
                _, curve = store.live_since(0, seconds=30.0)
            assert len(curve) <= (time.monotonic() - began + 1) * RATE_HZ

            time.sleep(1.0)
            step(+HOUR_S)  # the clock goes right again while it records
            stepped = time.monotonic()
            wait_until(lambda: shown_live(data, "relaxed"), 5, what="the reading after the step")
            back_after_s = time.monotonic() - stepped
            time.sleep(1.0)
        finally:
            session = stop_record(second, timeout=30)

    summary = show(data, session)
    kinds = [e["kind"] for e in summary["events"]]
    assert summary["gaps"] == 0 and summary["bad_frames"] == 0
    assert kinds.count("signal") == 1 and "no_signal" not in kinds, kinds
    assert "fault" not in kinds and "source_lost" not in kinds
    # Every sample the tool sent while recording: duration × rate, one tool period apart.
    assert summary["n_samples"] == pytest.approx(summary["duration_s"] * RATE_HZ, abs=2)
    report(
        "wall clock stepped back 1 h and ahead 1 h (clock_settime)",
        dead_bridge_shown_live=False,
        next_bridge_shown_after_s=round(shown_after_s, 2),
        live_again_after_forward_step_s=round(back_after_s, 3),
        samples=summary["n_samples"],
        gaps=summary["gaps"],
    )
