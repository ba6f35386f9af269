"""The Calibrate page's wizard with AppTest: a simulated load cell written to the live feed as a
bridge would, and the user's clicks."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import MakeLive
from dashboard_helpers import PAGES
from streamlit.testing.v1 import AppTest

from calibration.wizard import STANDARD_GRAVITY
from firmware_bridge.readout import UNIT_SETTING
from firmware_bridge.store import Store
from firmware_bridge.units import LBF_N
from firmware_bridge.zones import JudgedSamples

DEVICE = "PG-0042"
#: The simulated cell.
COUNTS_PER_N = 2150.0
OFFSET = 81234.0
NOISE = 2.0
RATE_HZ = 80.0


class Cell:
    """A load cell's raw counts, published to the live feed in chunks of continuing time."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.t = 100.0
        self.rng = np.random.default_rng(7)

    def hold(self, force_n: float, seconds: float = 1.5) -> None:
        """Publish ``seconds`` of a steady ``force_n``."""
        n = round(seconds * RATE_HZ)
        t = self.t + np.arange(n) / RATE_HZ
        self.t = float(t[-1]) + 1 / RATE_HZ
        raw = OFFSET + COUNTS_PER_N * force_n + self.rng.normal(0.0, NOISE, n)
        force = np.full(n, np.nan)
        self.store.append_live(
            JudgedSamples(t_s=t, raw=raw, force_n=force, filtered_n=force, zone=np.zeros(n)),
            None,
        )


def page() -> AppTest:
    return AppTest.from_file(str(PAGES / "calibrate.py"), default_timeout=20)


def texts(at: AppTest) -> str:
    parts: list[str] = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "subheader"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def warnings(at: AppTest) -> str:
    return "\n".join(str(e.value) for e in at.warning)


@pytest.fixture
def cell(store: Store, set_live: MakeLive, fresh: None) -> Cell:
    set_live(device_id=DEVICE, calibrated=True)
    return Cell(store)


def record(at: AppTest, value: float, unit: str) -> None:
    at.number_input(key="pg_cal_weight_value").set_value(value)
    at.selectbox(key="pg_cal_weight_unit").select(unit)
    at.button(key="pg_cal_record").click().run()


def test_no_bridge_says_how_to_start_one(store: Store) -> None:
    at = page().run()
    assert not at.exception
    assert "pressureguard run SOURCE" in texts(at)
    assert "pressureguard calibrate SOURCE" in texts(at)


def test_zero_under_load_is_refused(store: Store, cell: Cell) -> None:
    store.save_calibration(DEVICE, COUNTS_PER_N, OFFSET)
    cell.hold(3.0)
    at = page().run()
    assert "Calibrate this tool" in texts(at)
    assert "Step 1" in texts(at)
    at.button(key="pg_cal_tare").click().run()
    assert not at.exception
    assert "something is pressing on the cell" in warnings(at)
    assert "press Set zero anyway" in warnings(at)
    assert not [b for b in at.button if b.key == "pg_cal_record"]  # still at step 1
    # Taking the load off: the zero is accepted.
    cell.hold(0.0)
    at.button(key="pg_cal_tare").click().run()
    assert "Zero: zero taken at" in texts(at)


def test_zero_two_weights_finish_and_save(store: Store, cell: Cell) -> None:
    cell.hold(0.0)
    at = page().run()
    at.button(key="pg_cal_tare").click().run()
    assert "Zero: zero taken" in texts(at)
    assert "Step 2" in texts(at)

    # Nothing on the cell: refused.
    cell.hold(0.0, 0.5)
    record(at, 500, "g")
    assert "nothing on the cell" in warnings(at)

    cell.hold(0.5 * STANDARD_GRAVITY)
    record(at, 500, "g")
    assert "OK, weight 1" in texts(at)

    # The first weight left on while the second is entered: refused.
    cell.hold(0.5 * STANDARD_GRAVITY, 0.5)
    record(at, 1, "kg")
    assert "the last weight was not removed" in warnings(at)

    cell.hold(0.0, 0.5)
    cell.hold(1.0 * STANDARD_GRAVITY)
    record(at, 1, "kg")
    assert "OK, weight 2" in texts(at)

    at.button(key="pg_cal_finish").click().run()
    assert not at.exception
    said = texts(at)
    assert "counts per newton" in said
    assert "linearity error" in said
    assert "noise at rest" in said
    assert "resolution" in said

    at.button(key="pg_cal_save").click().run()
    assert not at.exception
    saved = store.current_calibration(DEVICE)
    assert saved is not None
    assert saved["counts_per_n"] == pytest.approx(COUNTS_PER_N, rel=0.005)
    assert saved["offset_counts"] == pytest.approx(OFFSET, abs=0.005 * COUNTS_PER_N)
    assert saved["fit"]["method"] == "least-squares"
    assert len(saved["fit"]["points"]) == 3
    assert f"Saved calibration #{saved['id']} for {DEVICE}" in texts(at)
    (command,) = store.take_commands()
    assert command["kind"] == "calibration_reload"
    assert command["args"] == {"device_id": DEVICE}

    # A bridge that does not know the command yet: nothing alarming.
    store.finish_command(command["id"], {"ok": False, "error": "unknown command"})
    at.run()
    assert "will use it when the tool reconnects" in texts(at)
    assert not at.error


def test_finish_needs_two_weights(store: Store, cell: Cell) -> None:
    cell.hold(0.0)
    at = page().run()
    at.button(key="pg_cal_tare").click().run()
    at.button(key="pg_cal_finish").click().run()
    assert "at least 2 known weights are needed" in warnings(at)


def test_check_weight_verifies(store: Store, cell: Cell) -> None:
    cell.hold(0.0)
    at = page().run()
    at.button(key="pg_cal_tare").click().run()
    for kg in (0.5, 1.0):
        cell.hold(0.0, 0.5)
        cell.hold(kg * STANDARD_GRAVITY)
        record(at, kg, "kg")
    at.button(key="pg_cal_finish").click().run()
    cell.hold(0.0, 0.5)
    cell.hold(2.0)
    at.number_input(key="pg_cal_check_value").set_value(2.0)
    at.selectbox(key="pg_cal_check_unit").select("N")
    at.button(key="pg_cal_check").click().run()
    assert "Verified: the calibration reads" in texts(at)


def test_zero_anyway_and_start_over(store: Store, cell: Cell) -> None:
    store.save_calibration(DEVICE, COUNTS_PER_N, OFFSET - 20 * COUNTS_PER_N)  # a rebuilt tool
    cell.hold(0.0)
    at = page().run()
    at.button(key="pg_cal_tare").click().run()
    assert "something is pressing on the cell" in warnings(at)
    at.run()
    at.button(key="pg_cal_tare_force").click().run()
    assert "Zero: zero taken" in texts(at)
    assert "Step 2" in texts(at)
    at.button(key="pg_cal_reset").click().run()
    assert "Step 1" in texts(at)


def test_a_tool_sending_force_only_is_told(store: Store, cell: Cell) -> None:
    n = 80
    t = np.arange(n) / RATE_HZ
    force = np.full(n, 1.0)
    store.append_live(
        JudgedSamples(t_s=t, raw=np.full(n, np.nan), force_n=force, filtered_n=force, zone=t * 0),
        None,
    )
    at = page().run()
    assert "--text-unit counts" in warnings(at)


def test_forces_read_in_the_chosen_unit_the_scale_stays_per_newton(
    store: Store, cell: Cell
) -> None:
    store.set_setting(UNIT_SETTING, "kPa")  # a load cell measures force: kPa reads as N here
    store.save_calibration(DEVICE, COUNTS_PER_N, OFFSET)
    cell.hold(3.0)
    at = page().run()
    at.button(key="pg_cal_tare").click().run()
    assert "(+3.0 N from its last zero)" in warnings(at)

    store.set_setting(UNIT_SETTING, "lbf")
    cell.hold(0.0)
    at.run()
    at.button(key="pg_cal_tare").click().run()
    for kg in (0.5, 1.0):
        cell.hold(0.0, 0.5)
        cell.hold(kg * STANDARD_GRAVITY)
        record(at, kg, "kg")
    assert "weight 2: 2.2046 lbf at" in texts(at)  # 1 kg weighs 2.2046 lbf
    at.button(key="pg_cal_finish").click().run()
    said = texts(at)
    assert "counts per newton" in said  # the stored scale, as the tool uses it
    assert "noise at rest 0.000" in said and " lbf (" in said
    assert "resolution 0.000105 lbf (one count)" in said
    cell.hold(0.0, 0.5)
    cell.hold(LBF_N)
    at.number_input(key="pg_cal_check_value").set_value(1.0)
    at.selectbox(key="pg_cal_check_unit").select("lbf")
    at.button(key="pg_cal_check").click().run()
    assert "reads 1.00" in texts(at) and "lbf for 1.0000 lbf" in texts(at)
    assert at.get("progress")[0].proto.text.endswith("lbf")  # the live reading
    at.button(key="pg_cal_save").click().run()
    at.run()  # the stored calibrations are read as the page opens
    table = at.dataframe[0].value
    assert table["Counts per N"][0] == pytest.approx(COUNTS_PER_N, rel=0.005)
    assert table["Noise at rest"][0].endswith(" lbf")
