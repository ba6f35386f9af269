"""Each page's logic with AppTest, on a real store in a temporary PRESSUREGUARD_HOME.

AppTest runs one page file at a time (it does not follow ``st.navigation``), and shows the
components-v2 live view as an unknown ``bidi_component`` element whose mount data can be read.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from conftest import MakeLive
from dashboard_helpers import PAGES, judged
from streamlit.testing.v1 import AppTest

from dashboard import resources
from dashboard.views import common
from firmware_bridge.store import Store


def page(name: str) -> AppTest:
    return AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=20)


def texts(at: AppTest) -> str:
    """Everything the page says, in one string."""
    parts: list[str] = []
    for kind in ("markdown", "caption", "info", "warning", "error", "title", "subheader"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def taken(store: Store) -> list[dict[str, Any]]:
    """The commands posted so far, as the bridge would take them."""
    return store.take_commands()


# -- Live -----------------------------------------------------------------------------------------


def test_live_mounts_the_view_on_the_sse_route(store: Store) -> None:
    at = page("live").run()
    assert not at.exception
    view = [e for e in at.main if e.type == "bidi_component"]
    assert len(view) == 1
    assert json.loads(view[0].proto.json)["url"] == "/api/live"


def test_live_without_a_bridge_says_so_and_offers_no_start(store: Store) -> None:
    at = page("live").run()
    assert "No bridge is running" in texts(at)
    assert not [b for b in at.button if b.key == "pg_start"]


def test_live_start_session_posts_the_command(
    store: Store, set_live: MakeLive, fresh: None
) -> None:
    store.ensure_profile("anna")
    set_live()
    at = page("live").run()
    assert "Not recording" in texts(at)
    at.selectbox(key="pg_profile").select("anna")
    at.selectbox(key="pg_region").select("upper-trapezius")
    at.run()
    at.radio(key="pg_side").set_value("left")
    at.select_slider(key="pg_pain_before").set_value(6)
    at.selectbox(key="pg_tip").select("knob")
    at.run()
    assert "shipped conservative default" in texts(at)
    at.button(key="pg_start").click().run()
    assert not at.exception
    commands = taken(store)
    assert [c["kind"] for c in commands] == ["start_session"]
    assert commands[0]["args"] == {
        "profile": "anna",
        "region": "upper-trapezius:left",
        "tip": "knob",
        "pain_before": 6,
    }
    assert "Waiting for the bridge to start session" in texts(at)


def test_live_new_profile_and_no_region(store: Store, set_live: MakeLive, fresh: None) -> None:
    set_live()
    at = page("live").run()
    at.selectbox(key="pg_profile").select("➕ New profile…").run()
    at.text_input(key="pg_new_profile").input("  bo ").run()
    at.button(key="pg_start").click().run()
    (command,) = taken(store)
    assert command["args"] == {"profile": "bo", "region": None, "tip": "", "pain_before": None}


def test_live_the_tips_own_limit_and_kpa_only_for_a_flat_tip(
    store: Store, set_live: MakeLive, fresh: None
) -> None:
    store.set_limit("default", "calf:right", 11.5, "measured")
    store.set_limit("default", "calf:right", 25.0, "manual", tip="knob")
    set_live(tool_tip_area_cm2=1.0)  # the tool reports a flat 1 cm² tip of its own
    at = page("live").run()
    at.selectbox(key="pg_region").select("calf")
    at.run()
    at.radio(key="pg_side").set_value("right").run()
    assert "Your comfort limit here: **11.5 N (115 kPa)** (your measured limit)" in texts(at)
    at.selectbox(key="pg_tip").select("knob").run()
    assert "**25.0 N** (your manual limit for the knob tip)" in texts(at)  # no kPa: rounded
    store.set_setting("display_unit", "kgf")
    at.run()
    assert "**2.55 kgf** (your manual limit for the knob tip)" in texts(at)


def test_live_zero_button_posts_a_tare(store: Store, set_live: MakeLive, fresh: None) -> None:
    set_live()
    at = page("live").run()
    at.button(key="pg_zero").click().run()
    assert [c["kind"] for c in taken(store)] == ["tare"]


def test_live_shows_the_users_own_limit(store: Store, set_live: MakeLive, fresh: None) -> None:
    store.set_limit("default", "calf:right", 11.5, "measured")
    set_live()
    at = page("live").run()
    at.selectbox(key="pg_region").select("calf")
    at.run()
    at.radio(key="pg_side").set_value("right").run()
    assert "Your comfort limit here: **11.5 N** (your measured limit)" in texts(at)


def test_live_says_a_limit_preset_at_start_wins(
    store: Store, set_live: MakeLive, fresh: None
) -> None:
    store.set_limit("default", "calf:right", 11.5, "measured")
    set_live(preset_limit_n=9.0)
    at = page("live").run()
    at.selectbox(key="pg_region").select("calf")
    at.run()
    at.radio(key="pg_side").set_value("right").run()
    assert "This session will use **9.0 N**, set when PressureGuard was started." in texts(at)


def test_live_recording_shows_the_session_and_stops_it(
    store: Store, set_live: MakeLive, fresh: None
) -> None:
    sid = store.begin_session(source="sim://", profile="default", region="calf", limit_n=20.0)
    set_live(sid, profile="default", region="calf:left")
    at = page("live").run()
    assert f"Recording session {sid}" in texts(at)
    assert "Calf (left)" in texts(at)
    at.select_slider(key="pg_pain_after").set_value(3)
    at.text_area(key="pg_note").input("felt looser")
    at.button(key="pg_stop").click().run()
    (command,) = taken(store)
    assert command["kind"] == "stop_session"
    assert command["args"] == {"pain_after": 3, "note": "felt looser"}


def test_live_reports_the_bridges_answer(store: Store, set_live: MakeLive, fresh: None) -> None:
    set_live()
    at = page("live").run()
    at.button(key="pg_start").click().run()
    (command,) = taken(store)
    store.finish_command(command["id"], {"ok": False, "error": "the tool is not connected"})
    at.run()
    assert "could not start session: the tool is not connected" in texts(at)
    assert at.button(key="pg_start").disabled is False  # nothing pending any more


def test_a_stale_live_row_means_no_bridge(
    store: Store, set_live: MakeLive, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_live()
    monkeypatch.setattr(resources, "STALE_AFTER_S", -1.0)  # every row is too old
    at = page("live").run()
    assert "No bridge is running" in texts(at)


# The Limits page has its own tests (tests/dashboard/test_limits_page.py).


# -- History --------------------------------------------------------------------------------------


def _session(store: Store, **fields: Any) -> int:
    sid = store.begin_session(
        source="sim://", profile=fields.pop("profile", "default"), region="calf:left", limit_n=20.0
    )
    t = np.arange(0, 95, 0.0125)
    force = 10 + 12 * np.sin(t / 5) ** 2
    store.append_samples(sid, judged(t, force))
    store.update_session(sid, **fields)
    store.set_counters(sid, {"time_over_limit_s": 12.25})
    store.end_session(sid)
    return sid


# The History page's list, session, compare and trends views have their own tests
# (tests/dashboard/test_history_page.py); the Journal page too (test_journal_page.py).


def test_history_empty(store: Store) -> None:
    at = page("history").run()
    assert not at.exception
    assert "No sessions yet" in texts(at)


def test_history_lists_a_session(store: Store) -> None:
    sid = _session(store, pain_before=6, pain_after=3)
    at = page("history").run()
    assert not at.exception
    assert list(at.dataframe[0].value["Session"]) == [sid]


# -- Calibrate ------------------------------------------------------------------------------------


def test_calibrate_lists_calibrations_and_the_tools_source(
    store: Store, set_live: MakeLive, fresh: None
) -> None:
    store.save_calibration("PG-0042", 4012.5, 80123.0, fit={"r2": 0.99991})
    store.save_calibration("PG-0007", 3000.0, 100.0)
    set_live(device_id="PG-0042", calibrated=True)
    at = page("calibrate").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["Device"]) == ["PG-0007", "PG-0042"]
    assert list(table["Counts per N"]) == [3000.0, 4012.5]
    assert table.iloc[1]["Fit"] == "r² 0.9999"
    assert "uses the **stored calibration**" in texts(at)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"device_id": "PG-9", "calibrated": True}, "**factory calibration**"),
        ({"device_id": "PG-9", "calibrated": False}, "has **no calibration**"),
        ({"connected": False}, "no tool is connected"),
    ],
)
def test_calibrate_says_which_calibration_the_tool_uses(
    store: Store, set_live: MakeLive, fresh: None, fields: dict[str, Any], expected: str
) -> None:
    set_live(**fields)
    at = page("calibrate").run()
    assert expected in texts(at)


def test_calibrate_without_a_bridge(store: Store) -> None:
    at = page("calibrate").run()
    assert "No bridge is running" in texts(at)
    assert "No device calibrations" in texts(at)


# -- Device ---------------------------------------------------------------------------------------


@pytest.fixture
def ports(monkeypatch: pytest.MonkeyPatch) -> None:
    found = [
        {"device": "/dev/ttyACM7", "description": "Nano", "hwid": "", "likely_tool": True},
        {"device": "/dev/ttyS0", "description": "", "hwid": "", "likely_tool": False},
    ]
    monkeypatch.setattr("firmware_bridge.sources.serial.list_serial_ports", lambda: found)
    monkeypatch.setattr(common, "WAIT_S", 0.2)


def test_device_shows_the_connection(
    store: Store, set_live: MakeLive, fresh: None, ports: None
) -> None:
    sid = _session(store)
    store.update_session(sid, firmware="pg-avr 1.2.0", device_id="PG-0042")
    set_live(format="binary", battery_mv=3870, rate_hz=79.94, nominal_rate_hz=80.0, lost_frames=4)
    at = page("device").run()
    assert not at.exception
    shown = at.table[0].value
    values = {label: str(value) for label, value in zip(shown.index, shown.iloc[:, 0], strict=True)}
    assert values["Connection"] == "connected"
    assert values["Device id"] == "PG-0042"
    assert values["Firmware"] == "pg-avr 1.2.0"
    assert values["Sample rate"] == "79.9 of 80 Hz"
    assert values["Battery"] == "3.87 V"
    assert values["Lost frames"] == "4"


def test_device_switches_to_a_serial_port(
    store: Store, set_live: MakeLive, fresh: None, ports: None
) -> None:
    set_live(source="/dev/ttyS0")
    at = page("device").run()
    port = at.selectbox(key="pg_source_port")
    assert port.options[0] == "/dev/ttyACM7 (Nano) — looks like a PressureGuard tool"
    at.button(key="pg_source_switch").click().run()
    (command,) = taken(store)
    assert (command["kind"], command["args"]) == ("source", {"source": "/dev/ttyACM7"})


@pytest.mark.parametrize(
    ("kind", "typed", "expected"),
    [
        ("The built-in simulated tool", None, "sim://"),
        ("Another source (type it)", " loop:// ", "loop://"),
    ],
)
def test_device_switches_to_the_simulator_or_typed_text(
    store: Store,
    set_live: MakeLive,
    fresh: None,
    ports: None,
    kind: str,
    typed: str | None,
    expected: str,
) -> None:
    set_live(source="/dev/ttyACM7")
    at = page("device").run()
    at.radio(key="pg_source_kind").set_value(kind).run()
    if typed is not None:
        at.text_input(key="pg_source_text").input(typed).run()
    at.button(key="pg_source_switch").click().run()
    (command,) = taken(store)
    assert command["args"] == {"source": expected}


def test_device_without_a_bridge_cannot_switch(store: Store, ports: None) -> None:
    at = page("device").run()
    assert at.button(key="pg_source_switch").disabled
    shown = at.table[0].value
    assert (shown.index[0], shown.iloc[0, 0]) == ("Bridge", "not running")


def test_device_preselects_the_simulator_when_it_runs(
    store: Store, set_live: MakeLive, fresh: None, ports: None
) -> None:
    set_live(source="sim://?seed=3")
    at = page("device").run()
    assert at.radio(key="pg_source_kind").value == "The built-in simulated tool"


def test_live_allows_one_request_at_a_time(store: Store, set_live: MakeLive, fresh: None) -> None:
    set_live()
    at = page("live").run()
    at.button(key="pg_start").click().run()
    assert at.button(key="pg_start").disabled
    assert len(taken(store)) == 1
