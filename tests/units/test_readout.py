"""The user's unit: conversions, rounding, and no pressure without a known flat tip."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware_bridge.errors import UsageError
from firmware_bridge.readout import (
    DISPLAY_UNITS,
    UNIT_SETTING,
    chosen_unit,
    companion,
    parse_unit,
    readout,
)
from firmware_bridge.store import Store
from firmware_bridge.units import KGF_N, LBF_N


@pytest.mark.parametrize(
    ("unit", "area", "force_n", "text"),
    [
        ("N", None, 14.71, "14.7 N"),
        ("kgf", None, KGF_N * 1.5, "1.50 kgf"),
        ("lbf", None, LBF_N * 3.25, "3.25 lbf"),
        ("kPa", 1.0, 14.71, "147 kPa"),
        ("kPa", 2.0, 14.71, "74 kPa"),
        ("kgf/cm²", 1.0, KGF_N * 1.5, "1.50 kgf/cm²"),
    ],
)
def test_a_force_reads_out_in_the_chosen_unit(
    unit: str, area: float | None, force_n: float, text: str
) -> None:
    shown = readout(unit, area)
    assert shown.text(force_n) == text
    assert shown.newtons(shown.value(force_n)) == pytest.approx(force_n)


@pytest.mark.parametrize(("unit", "fallback"), [("kPa", "N"), ("kgf/cm²", "kgf")])
@pytest.mark.parametrize("area", [None, 0.0])
def test_pressure_without_a_known_flat_tip_falls_back_to_force_and_says_why(
    unit: str, fallback: str, area: float | None
) -> None:
    shown = readout(unit, area)
    assert shown.unit == fallback and not shown.pressure
    assert shown.note is not None and "flat tip" in shown.note
    assert readout(unit, 1.0).note is None


def test_a_missing_or_broken_force_is_a_dash_never_a_number() -> None:
    for force in (None, float("nan"), float("inf")):
        assert readout("kgf").text(force) == "—"


def test_typed_spellings_are_understood_and_others_refused_with_the_choices() -> None:
    assert parse_unit(" kpa ") == "kPa"
    assert parse_unit("kgf/cm2") == "kgf/cm²"
    assert parse_unit("LBS") == "lbf"
    with pytest.raises(UsageError, match="kgf/cm²"):
        parse_unit("stone")


def test_the_companion_readout_is_the_other_kind_of_quantity() -> None:
    pressure = companion(readout("kPa", 1.0), 1.0)
    assert pressure is not None and pressure.unit == "N"
    force = companion(readout("lbf", 2.0), 2.0)
    assert force is not None and force.unit == "kPa"
    assert companion(readout("N"), None) is None


def test_the_choice_is_one_store_setting_with_newtons_by_default(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        assert chosen_unit(store) == "N"
        store.set_setting(UNIT_SETTING, "kgf/cm²")
        assert chosen_unit(store) == "kgf/cm²"
        store.set_setting(UNIT_SETTING, "furlongs")  # written by something else: not trusted
        assert chosen_unit(store) == "N"
    assert set(DISPLAY_UNITS) == {"N", "kgf", "lbf", "kPa", "kgf/cm²"}
