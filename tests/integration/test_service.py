"""The bridge serving a tool under the launcher: sessions start and stop by command."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.bridge import Bridge, RecordOptions
from firmware_bridge.store import Store
from tests.integration.cli import wait_until


@pytest.fixture
def served(tmp_path: Path):
    """A bridge serving the simulated tool in real time, in a thread."""
    store = Store.open(tmp_path)
    bridge = Bridge(
        store, RecordOptions(source="sim://?seed=3&pattern=steady&level=4", record_session=False)
    )
    thread = threading.Thread(target=bridge.run, name="bridge")
    thread.start()
    dashboard = Store.open(tmp_path)  # the dashboard's own connection, as another process has
    yield bridge, dashboard
    bridge.stop()
    thread.join(timeout=10)
    dashboard.close()
    store.close()


def command(store: Store, kind: str, **args: object) -> dict:
    command_id = store.post_command(kind, args)
    wait_until(lambda: (store.get_command(command_id) or {}).get("done_at") is not None, timeout=5)
    result = store.get_command(command_id)
    assert result is not None
    return result["result"]


def test_live_feed_flows_without_a_session_and_sessions_start_and_stop(served) -> None:
    bridge, dashboard = served
    wait_until(lambda: len(dashboard.live_since(0)[1]) > 40, timeout=10)
    live = dashboard.get_live()
    assert live is not None and live["state"]["connected"] and not live["state"]["recording"]
    assert dashboard.list_sessions() == []

    started = command(
        dashboard, "start_session", profile="ana", region="upper-trapezius:left", pain_before=6
    )
    assert started["ok"], started
    session_id = started["session_id"]
    time.sleep(1.0)
    stopped = command(dashboard, "stop_session", pain_after=3, note="felt better")
    assert stopped["ok"] and stopped["session_id"] == session_id
    summary = dashboard.session_summary(session_id)
    assert summary["profile"] == "ana" and summary["region"] == "upper-trapezius:left"
    assert summary["pain_before"] == 6 and summary["pain_after"] == 3
    assert summary["note"] == "felt better" and summary["status"] == "ended"
    samples = dashboard.load_samples(session_id)
    assert samples.t_s[0] < 0.05, "a session's time starts at its own first sample"
    assert 0.6 < samples.t_s[-1] < 1.6
    assert np.all(np.isfinite(samples.force_n))
    # the live row follows at the bridge's next flush (≤ 25 ms)
    wait_until(lambda: dashboard.get_live()["state"]["recording"] is False, timeout=2)
    assert bridge.live.connected


def test_a_changed_limit_changes_the_live_zone(served) -> None:
    # How fast: `make bench` (limit_change) measures it; a test only checks that it happens.
    _bridge, dashboard = served
    wait_until(
        lambda: (dashboard.get_live() or {}).get("state", {}).get("zone") == "relaxed", timeout=10
    )
    # 4 N steady: relaxed under the default ~14.7 N limit; over a 3.5 N limit
    assert command(dashboard, "limit", limit_n=3.5, basis="test")["ok"]
    wait_until(lambda: dashboard.get_live()["state"]["zone"] == "over", timeout=5, interval=0.01)


def test_bad_commands_are_answered_not_fatal(served) -> None:
    bridge, dashboard = served
    assert command(dashboard, "limit", limit_n=-2)["ok"] is False
    assert "unknown source" in command(dashboard, "source", source="nope://x")["error"]
    assert command(dashboard, "start_session", region="Not A Region")["ok"] is False
    assert command(dashboard, "dance")["ok"] is False
    assert bridge.live.connected
