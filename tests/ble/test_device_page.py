"""The Device page's Bluetooth choice (AppTest): scan, then connect with one click; or, when the
bridge holds the HCI controller, the first tool found."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import resources
from dashboard.views import common
from firmware_bridge.ble import HCI_ENV
from firmware_bridge.errors import SourceOpenError
from firmware_bridge.live import LiveState
from firmware_bridge.store import Store

PAGE = Path(__file__).resolve().parents[2] / "dashboard" / "views" / "device.py"
TOOLS = [
    {"name": "PressureGuard-3F2A", "address": "F0:01:00:00:00:01", "rssi": -55,
     "kind": "pressureguard"},
    {"name": "", "address": "F0:02:00:00:00:05", "rssi": None, "kind": "progressor"},
]  # fmt: skip


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A store with a fresh live row, as a running bridge on the simulator leaves it."""
    monkeypatch.setenv("PRESSUREGUARD_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(HCI_ENV, raising=False)
    monkeypatch.setattr(resources, "STALE_AFTER_S", 60.0)
    monkeypatch.setattr(common, "WAIT_S", 0.2)
    monkeypatch.setattr("firmware_bridge.sources.serial.list_serial_ports", list)
    resources.close_stores()
    opened = resources.get_store()
    opened.set_live(None, LiveState(connected=True, source="sim://").as_dict())
    yield opened
    resources.close_stores()


def bluetooth(monkeypatch: pytest.MonkeyPatch, found: Any) -> AppTest:
    def scan(*_args: Any) -> list[dict[str, Any]]:
        if isinstance(found, Exception):
            raise found
        return found

    monkeypatch.setattr("firmware_bridge.ble.discovery.list_tools", scan)
    at = AppTest.from_file(str(PAGE), default_timeout=20).run()
    at.radio(key="pg_source_kind").set_value("A Bluetooth tool").run()
    return at


def test_scan_then_connect_with_one_click(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    at = bluetooth(monkeypatch, TOOLS)
    assert not at.exception
    at.button(key="pg_ble_scan").click().run()
    shown = "\n".join(str(m.value) for m in at.markdown)
    assert "**PressureGuard-3F2A** — PressureGuard tool, signal -55 dBm" in shown
    assert "**F0:02:00:00:00:05** — Progressor-protocol load cell" in shown
    at.button(key="pg_ble_connect_1").click().run()
    (command,) = store.take_commands()
    assert (command["kind"], command["args"]) == (
        "source",
        {"source": "progressor://F0:02:00:00:00:05"},
    )


def test_a_stack_that_cannot_scan_says_why(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    at = bluetooth(monkeypatch, SourceOpenError("cannot scan for Bluetooth tools: no adapter"))
    at.button(key="pg_ble_scan").click().run()
    assert "Cannot scan: cannot scan for Bluetooth tools: no adapter" in [
        w.value for w in at.warning
    ]
    assert not store.take_commands()


def test_bridge_on_an_hci_transport_offers_the_first_tool_found(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HCI_ENV, "usb:0")
    at = bluetooth(monkeypatch, AssertionError("the page must not scan"))
    assert not [b for b in at.button if b.key == "pg_ble_scan"]
    at.radio(key="pg_ble_first").set_value("progressor://").run()
    at.text_input(key="pg_ble_name").input("Progressor_0005").run()
    at.button(key="pg_source_switch").click().run()
    (command,) = store.take_commands()
    assert command["args"] == {"source": "progressor://Progressor_0005"}


def test_the_switch_asks_the_bridge_to_stream(store: Store) -> None:
    at = AppTest.from_file(str(PAGE), default_timeout=20).run()
    assert not at.exception
    assert at.toggle(key="pg_lsl").value is False
    at.toggle(key="pg_lsl").set_value(True).run()
    (command,) = store.take_commands()
    assert command["kind"] == "lsl" and command["args"] == {"on": True}
