"""A served bridge on a real pty: the tip chosen per session, the Zero button, the drift warning."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_bridge.bridge import Bridge, RecordOptions
from firmware_bridge.readings import DeviceInfo
from firmware_bridge.store import Store, export_csv
from tests.integration.cli import wait_until
from tests.integration.ptytool import PlayedTool, PtyTool
from tests.integration.test_service import command

REGION = "upper-trapezius:left"


class Served:
    """A played tool on a pty, a bridge serving it in a thread, and the dashboard's store."""

    def __init__(self, tmp_path: Path, speed: float) -> None:
        self.pty = PtyTool(tmp_path / "ttyTOOL")
        self.pty.plug()
        info = DeviceInfo(
            device_id="pg-tip",
            firmware="t",
            adc="hx711",
            rate_hz=80.0,
            counts_per_n=1000.0,
            offset_counts=50000.0,
            tip_area_cm2=1.0,  # the tool's own fitted tip: a flat 1 cm² disc
        )
        self.tool = PlayedTool(self.pty, info, speed=speed)
        self.store = Store.open(tmp_path / "data")
        self.dashboard = Store.open(tmp_path / "data")
        options = RecordOptions(source=str(self.pty.link), record_session=False)
        self.bridge = Bridge(self.store, options)
        self.thread = threading.Thread(target=self.bridge.run, name="bridge")

    def start(self) -> Served:
        self.tool.start()
        self.thread.start()
        self.tool.wait_playing()
        wait_until(lambda: self.bridge.live.force_n is not None, timeout=10)
        return self

    def close(self) -> None:
        self.bridge.stop()
        self.thread.join(10)
        self.tool.stop()
        self.pty.close()
        self.dashboard.close()
        self.store.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    s = Served(tmp_path, speed=1.0)
    yield s.start()
    s.close()


def test_each_session_keeps_its_tip_its_limit_and_pressure_only_for_a_flat_tip(
    served: Served, tmp_path: Path
) -> None:
    served.dashboard.set_limit("ann", REGION, 21.0, "manual", tip="knob")
    served.dashboard.set_limit("ann", REGION, 12.0, "manual")  # any other tip

    knob = command(served.dashboard, "start_session", profile="ann", region=REGION, tip="knob")
    assert knob["ok"], knob
    live = served.bridge.live
    assert (live.tip, live.tip_area_cm2, live.limit_n) == ("knob", None, 21.0)
    wait_until(lambda: served.store.session_summary(knob["session_id"])["n_samples"] > 40)
    command(served.dashboard, "stop_session")

    own = command(served.dashboard, "start_session", profile="ann", region=REGION, tip="")
    assert own["ok"], own
    assert (live.tip, live.tip_area_cm2, live.limit_n) == ("tool", 1.0, 12.0)
    wait_until(lambda: served.store.session_summary(own["session_id"])["n_samples"] > 40)
    command(served.dashboard, "stop_session")

    a = served.dashboard.session_summary(knob["session_id"])
    b = served.dashboard.session_summary(own["session_id"])
    assert (a["tip"], a["tip_area_cm2"], a["limit_n"]) == ("knob", None, 21.0)
    assert (b["tip"], b["tip_area_cm2"], b["limit_n"]) == ("tool", 1.0, 12.0)
    for summary, pressure in ((a, False), (b, True)):
        path = tmp_path / f"s{summary['id']}.csv"
        export_csv(served.dashboard, summary["id"], path)
        header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
        assert ("pressure_kpa" in header) is pressure  # never kPa under a rounded knob

    bad = command(served.dashboard, "start_session", region=REGION, tip="spoon")
    assert bad["ok"] is False and "known tips" in bad["error"]


def test_zero_is_refused_under_load_and_taken_when_the_tool_lies_still(served: Served) -> None:
    live = served.bridge.live
    served.tool.ramp(20.0)  # pressed to 10 N and held
    wait_until(lambda: (live.force_n or 0) > 9.0)
    served.tool.ramp(0.0)
    assert command(served.dashboard, "tare")["ok"]
    tare = wait_until(lambda: live.tare, timeout=5)
    assert tare["accepted"] is False and "loaded" in tare["reason"]
    assert (live.force_n or 0) > 9.0  # the press still reads in full

    served.tool.release()
    wait_until(lambda: live.force_n is not None and live.force_n < 0.2)
    served.tool.ramp(10.0)  # the zero wanders to 3 N: the tool lies untouched, reading 3 N
    wait_until(lambda: (live.force_n or 0) > 2.9)
    served.tool.ramp(0.0)
    assert command(served.dashboard, "tare")["ok"]
    tare = wait_until(lambda: live.tare, timeout=5)
    assert tare["accepted"] is True and tare["asked"] is True
    wait_until(lambda: live.force_n is not None and abs(live.force_n) < 0.05)


def test_a_wandering_zero_is_warned_about_and_zeroing_clears_the_warning(
    tmp_path: Path,
) -> None:
    s = Served(tmp_path, speed=4.0)  # the tool's clock runs 4 × faster
    s.store.set_setting("drift_warning_n", 0.1)  # warn early, so the test is short
    s.bridge.pipeline.config.zero.warn_shift_n = 0.1  # as a bridge started now would read it
    try:
        s.start()
        live = s.bridge.live
        s.tool.ramp(0.012)  # a warming cell: 0.012 N/s, unloaded
        wait_until(lambda: live.drift_warning, timeout=30)
        assert live.zero_shift_n >= 0.1
        # what the Live page reads, once the bridge's next flush has written it
        wait_until(lambda: s.dashboard.get_live()["state"]["drift_warning"], timeout=5)
        s.tool.ramp(0.0)
        assert command(s.dashboard, "tare")["ok"]
        wait_until(lambda: live.tare and live.tare["accepted"], timeout=5)
        assert live.drift_warning is None and live.zero_shift_n < 0.05
    finally:
        s.close()
