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
    describe,
    force_unit,
    paired_units,
    parse_unit,
    pressure_note,
    pressure_unit,
    readout,
    save_unit,
    table_cells,
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
    same_family = companion(readout("kgf/cm²", 1.0), 1.0)  # kgf under kgf/cm², not newtons
    assert same_family is not None and same_family.unit == "kgf"


def test_the_choice_is_one_store_setting_with_newtons_by_default(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        assert chosen_unit(store) == "N"
        store.set_setting(UNIT_SETTING, "kgf/cm²")
        assert chosen_unit(store) == "kgf/cm²"
        store.set_setting(UNIT_SETTING, "furlongs")  # written by something else: not trusted
        assert chosen_unit(store) == "N"
    assert set(DISPLAY_UNITS) == {"N", "kgf", "lbf", "kPa", "kgf/cm²"}


def test_a_force_in_words_has_its_companion_only_where_the_tip_allows() -> None:
    assert describe(14.71, "N", 1.0) == "14.7 N (147 kPa)"
    assert describe(14.71, "kPa", 1.0) == "147 kPa (14.7 N)"
    assert describe(KGF_N * 1.5, "kgf/cm²", 1.0) == "1.50 kgf/cm² (1.50 kgf)"
    assert describe(KGF_N * 1.5, "kgf/cm²", None) == "1.50 kgf"  # unknown tip: force only
    assert describe(14.71, "lbf") == "3.31 lbf"
    assert describe(None, "kPa", 1.0) == "—"


def test_tables_pair_the_chosen_unit_with_its_companion_and_dash_a_guessed_pressure() -> None:
    assert paired_units("N") == ("N", "kPa")
    assert paired_units("kgf") == ("kgf", "kPa")
    assert paired_units("kPa") == ("kPa", "N")
    assert paired_units("kgf/cm2") == ("kgf/cm²", "kgf")
    assert table_cells(18.0, "N", 2.0) == ("18.0", "90")
    assert table_cells(30.0, "N", None) == ("30.0", "—")
    assert table_cells(30.0, "kPa", None) == ("—", "30.0")
    assert table_cells(KGF_N, "kgf/cm²", 2.0) == ("0.50", "1.00")
    assert [force_unit(u) for u in DISPLAY_UNITS] == ["N", "kgf", "lbf", "N", "kgf"]
    assert [pressure_unit(u) for u in DISPLAY_UNITS] == ["kPa", "kPa", "kPa", "kPa", "kgf/cm²"]


def test_signed_and_finer_readouts_for_offsets_and_instrument_precision() -> None:
    assert readout("N").signed(-1.25) == "-1.2 N"
    assert readout("kgf").signed(KGF_N) == "+1.00 kgf"
    assert readout("N").finer(2).text(4.90333) == "4.903 N"
    assert readout("kgf").finer(2).text(4.90333) == "0.5000 kgf"
    assert readout("N").signed(None) == "—"
    assert readout("N").finer(-1).text(9.80665) == "10 N"  # an approximate figure
    assert readout("kPa", 1.0).finer(-1).text(9.80665) == "98 kPa"


def test_the_unit_is_saved_in_any_spelling_and_pressure_says_what_it_needs(
    tmp_path: Path,
) -> None:
    with Store.open(tmp_path) as store:
        assert save_unit(store, "kg/cm2") == "kgf/cm²"
        assert chosen_unit(store) == "kgf/cm²"
        with pytest.raises(UsageError):
            save_unit(store, "stone")
        assert chosen_unit(store) == "kgf/cm²"  # a refused spelling changes nothing
    assert pressure_note("kPa") == (
        "kPa needs a flat tip of known area: shown in N when the tip is unknown or rounded"
    )
    assert pressure_note("lbf") is None
