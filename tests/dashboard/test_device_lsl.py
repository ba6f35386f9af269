"""The Device page's LSL switch asks the bridge to stream (AppTest, real store)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import resources
from dashboard.views import common
from firmware_bridge.live import LiveState
from firmware_bridge.store import Store

PAGE = Path(__file__).resolve().parents[2] / "dashboard" / "views" / "device.py"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("PRESSUREGUARD_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(resources, "STALE_AFTER_S", 60.0)
    monkeypatch.setattr(common, "WAIT_S", 0.2)
    monkeypatch.setattr("firmware_bridge.sources.serial.list_serial_ports", list)
    resources.close_stores()
    opened = resources.get_store()
    opened.set_live(None, LiveState(connected=True, source="sim://").as_dict())
    yield opened
    resources.close_stores()


def test_the_switch_asks_the_bridge_to_stream(store: Store) -> None:
    at = AppTest.from_file(str(PAGE), default_timeout=20).run()
    assert not at.exception
    assert at.toggle(key="pg_lsl").value is False
    at.toggle(key="pg_lsl").set_value(True).run()
    (command,) = store.take_commands()
    assert command["kind"] == "lsl" and command["args"] == {"on": True}
