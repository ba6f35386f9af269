"""The Limits page with AppTest, on a real store in a temporary PRESSUREGUARD_HOME.

The bridge is played by writing its live row (with the ``ppt`` status a real
:class:`~calibration.guided.GuidedMeasurement` produces) and by taking and answering the commands
the page posts. The live threshold panel itself runs in the browser (tests/e2e).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from conftest import MakeLive
from dashboard_helpers import PAGES
from streamlit.testing.v1 import AppTest

from calibration.defaults import ENDANGERMENT_SITES
from calibration.guided import GuidedMeasurement, MeasurementSettings
from calibration.precautions import PRECAUTIONS, ProfileSafety
from dashboard import ppt_guide
from firmware_bridge.readout import UNIT_SETTING, chosen_unit
from firmware_bridge.store import Store
from firmware_bridge.units import KGF_N, LBF_N

REGION = "calf:left"


def page(tab: str | None = None) -> AppTest:
    at = AppTest.from_file(str(PAGES / "limits.py"), default_timeout=30)
    if tab is not None:
        at.session_state["pg_lim_tab"] = tab
    return at


def texts(at: AppTest) -> str:
    """Everything the page says, in one string."""
    parts: list[str] = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "title"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def answered(store: Store, profile: str = "default", *keys: str, sensitive: bool = False) -> None:
    safety = ProfileSafety(frozenset(keys), sensitive, "2026-01-02T03:04:05+00:00")
    store.update_profile_settings(profile, safety.to_settings())


def commands(store: Store) -> list[dict[str, Any]]:
    """The commands posted so far, as the bridge takes them."""
    return store.take_commands()


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """No bridge answers in these tests unless one is played: don't wait for it long."""
    monkeypatch.setattr(ppt_guide, "START_WAIT_S", 0.3)
    monkeypatch.setattr(ppt_guide, "SHOW_WAIT_S", 0.2)


def finished(
    store: Store,
    forces: list[float],
    *,
    fraction: float = 1.0,
    ceiling_n: float = 39.2,
    rates: list[float] | None = None,
) -> dict[str, Any]:
    """A measurement run to its end on synthetic ramps (marked at ``forces``) and stored, as the
    bridge does: its live ``ppt`` status."""
    settings = MeasurementSettings(
        "default", REGION, tip="disc-1cm2", tip_area_cm2=1.0, fraction=fraction
    )
    m = GuidedMeasurement(settings, ceiling_n)
    t0 = 0.0
    for k, force in enumerate(forces):
        rate = (rates or [5.0] * len(forces))[k]
        up = np.arange(0.0, force / rate + 0.6, 0.0125)
        t = t0 + up
        f = np.minimum(rate * up, force + 2.0)
        m.feed(t, f, f)
        m.mark(t0 + force / rate)
        down = t[-1] + np.arange(1, 30) * 0.0125
        m.feed(down, np.zeros_like(down), np.zeros_like(down))
        t0 = down[-1] + 31.0
        m.feed([t0 - 0.5], [0.0], [0.0])  # the rest ends
    m.save(store)
    return m.status()


# -- profile and precautions -------------------------------------------------------------------


def test_unanswered_profile_opens_on_the_questions_and_saving_lowers_the_ceiling(
    store: Store,
) -> None:
    at = page().run()
    assert not at.exception
    assert at.session_state["pg_lim_tab"] == "Profile & precautions"
    assert "Safety questions not answered yet" in texts(at)
    assert at.button(key="pg_lim_save_safety").disabled  # every question needs an answer
    for item in PRECAUTIONS:
        answer = "Yes" if item.key == "bleeding" else "No"
        at.radio(key=f"pg_lim_pre_default_{item.key}").set_value(answer)
    at.toggle(key="pg_lim_sensitive_default").set_value(True)
    at.run()
    assert "Check with your doctor" in texts(at)  # the advice for a yes, before saving
    assert "highest limit allowed is **1 kgf/cm²**" in texts(at)
    at.button(key="pg_lim_save_safety").click().run()
    assert not at.exception
    settings = store.profile_settings("default")
    assert settings["precautions"] == ["bleeding"]
    assert settings["sensitive"] is True
    assert settings["precautions_answered_at"]
    assert "Highest limit allowed: **1 kgf/cm²** (≈ 10 N on a 1 cm² tip)" in texts(at)
    assert "Sensitive (fibromyalgia) mode is **on**" in texts(at)
    assert "diagnos" in texts(at)  # "PressureGuard diagnoses nothing"


def test_a_new_profile_is_created_and_chosen(store: Store) -> None:
    store.ensure_profile("anna")
    at = page().run()
    at.selectbox(key="pg_lim_profile").select("➕ New profile…").run()
    at.text_input(key="pg_lim_new_profile").input(" bo ").run()
    at.button(key="pg_lim_create").click().run()
    assert not at.exception
    assert "bo" in [p["name"] for p in store.list_profiles()]
    assert at.selectbox(key="pg_lim_profile").value == "bo"
    assert at.radio(key="pg_lim_pre_bo_bleeding").value is None  # bo answers their own


# -- limits by hand ------------------------------------------------------------------------------


def _manual(at: AppTest, value: float, unit: str = "N", tip: str = "disc-1cm2") -> AppTest:
    at.selectbox(key="pg_lim_s_region").select("calf")
    at.radio(key="pg_lim_s_side").set_value("left")
    at.selectbox(key="pg_lim_s_tip").select(tip)
    at.run()
    at.number_input(key="pg_lim_s_value").set_value(value)
    at.selectbox(key="pg_lim_s_unit").select(unit)
    return at.button(key="pg_lim_s_save").click().run()


def test_a_manual_limit_above_the_ceiling_is_refused(store: Store) -> None:
    answered(store, "default", "bleeding")  # 1 kgf/cm² ≈ 9.8 N on 1 cm²
    at = _manual(page("Set a limit by hand").run(), 12.0)
    assert not at.exception
    assert "Not saved" in texts(at) and "9.8 N" in texts(at)
    assert store.current_limits("default") == []
    at = _manual(at, 1.5, "kgf")
    assert "Not saved" in texts(at)
    at = _manual(at, 90.0, "kPa")
    assert not at.error
    (row,) = store.current_limits("default")
    assert (row["region"], row["tip"], row["source"]) == (REGION, "disc-1cm2", "manual")
    assert row["limit_n"] == pytest.approx(9.0)


def test_kpa_is_offered_for_a_flat_tip_only(store: Store) -> None:
    answered(store)
    at = page("Set a limit by hand").run()
    assert at.selectbox(key="pg_lim_s_unit").options == ["N", "kgf", "kPa"]
    at.selectbox(key="pg_lim_s_tip").select("knob").run()
    assert at.selectbox(key="pg_lim_s_unit").options == ["N", "kgf"]


def test_endangerment_sites_are_not_offered_and_are_named(store: Store) -> None:
    answered(store)
    at = page("Set a limit by hand").run()
    offered = set(at.selectbox(key="pg_lim_s_region").options)
    assert offered and not offered & {s.replace("-", " ").capitalize() for s in ENDANGERMENT_SITES}
    warning = at.warning[0].value
    assert "Never press on" in warning and "popliteal fossa" in warning


def test_a_manual_limit_is_sent_to_the_bridge_serving_that_region(
    store: Store, set_live: MakeLive, fresh: None
) -> None:
    answered(store)
    set_live(profile="default", region=REGION)
    _manual(page("Set a limit by hand").run(), 14.0)
    (command,) = commands(store)
    assert command["kind"] == "limit"
    assert command["args"] == {"limit_n": pytest.approx(14.0), "basis": "your manual limit"}


def test_limits_show_kpa_for_a_flat_tip_only_with_their_history(store: Store) -> None:
    answered(store)
    store.set_limit("default", REGION, 16.0, "manual", tip="disc-2cm2")
    store.set_limit("default", REGION, 18.0, "measured", tip="disc-2cm2", note="PPT 18 N")
    store.set_limit("default", "forearm", 30.0, "manual", tip="knob")
    store.set_limit("bo", "forearm", 5.0, "manual")
    at = page("My limits").run()
    assert not at.exception
    table = at.table[0].value.set_index("Tip")
    flat = table.loc["flat 2 cm² algometer tip"]
    assert (flat["Limit (N)"], flat["Limit (kPa)"]) == ("18.0", "90")
    assert flat["Where it comes from"] == "measured (your pain threshold)"
    knob = table.loc["cane knob (Thera Cane type)"]
    assert (knob["Limit (N)"], knob["Limit (kPa)"]) == ("30.0", "—")
    assert len(table) == 2  # bo's limit is not shown for default
    at.selectbox(key="pg_lim_history").select((REGION, "disc-2cm2")).run()
    history = at.table[1].value
    assert list(history["Limit (N)"]) == ["18.0", "16.0"]  # newest first
    assert list(history["Where it comes from"]) == ["measured (your pain threshold)", "set by hand"]


def test_a_stored_limit_above_a_lowered_ceiling_is_flagged(store: Store) -> None:
    store.set_limit("default", REGION, 20.0, "manual", tip="disc-1cm2")
    answered(store, "default", "bleeding")
    at = page("My limits").run()
    assert "sessions use 9.8 N there" in texts(at)


# -- the guided measurement ---------------------------------------------------------------------


def test_measuring_needs_the_questions_answered_and_a_bridge(store: Store) -> None:
    at = page("Measure my threshold").run()
    assert "answer the safety questions first" in texts(at)
    assert at.button(key="pg_lim_m_start").disabled
    answered(store)
    at.run()
    assert "No bridge is running" in texts(at)
    assert at.button(key="pg_lim_m_start").disabled


def test_start_posts_ppt_start_with_the_chosen_settings(
    store: Store, set_live: MakeLive, fresh: None, quick: None
) -> None:
    answered(store, "default", sensitive=True)
    set_live()
    at = page("Measure my threshold").run()
    assert at.select_slider(key="pg_lim_m_fraction_default").value == 80  # sensitive mode
    at.selectbox(key="pg_lim_m_region").select("calf")
    at.radio(key="pg_lim_m_side").set_value("left")
    at.selectbox(key="pg_lim_m_tip").select("disc-2cm2")
    at.run()
    at.button(key="pg_lim_m_start").click().run()
    assert not at.exception
    (command,) = commands(store)
    assert command["kind"] == "ppt_start"
    assert command["args"] == {
        "profile": "default",
        "region": REGION,
        "tip": "disc-2cm2",
        "tip_area_cm2": 2.0,
        "fraction": 0.8,
        "rest_s": 30.0,
    }
    assert "has not answered yet" in texts(at)


@pytest.fixture
def refusing_bridge(store: Store) -> Iterator[None]:
    """A bridge that refuses every measurement, as it does while a session records."""
    stop = threading.Event()

    def answer() -> None:
        while not stop.is_set():
            for command in store.take_commands():
                error = "a session is recording: stop it before measuring your threshold"
                store.finish_command(command["id"], {"ok": False, "error": error})
            time.sleep(0.02)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(2)


def test_a_refused_start_shows_the_bridges_reason(
    store: Store, set_live: MakeLive, fresh: None, refusing_bridge: None
) -> None:
    answered(store)
    set_live()
    at = page("Measure my threshold").run()
    at.button(key="pg_lim_m_start").click().run()
    assert "could not start: a session is recording" in texts(at)


def test_a_running_measurement_mounts_the_live_panel(
    store: Store, set_live: MakeLive, fresh: None
) -> None:
    answered(store)
    m = GuidedMeasurement(MeasurementSettings("default", REGION, tip="knob", tip_area_cm2=4.6))
    set_live(profile="default", region=REGION, ppt=m.status())
    at = page().run()
    assert at.session_state["pg_lim_tab"] == "Measure my threshold"
    (panel,) = [e for e in at.main if e.type == "bidi_component"]
    data = json.loads(panel.proto.json)
    assert data["url"] == "/api/live" and data["phase"] == "running"
    assert data["kpa_area"] is None  # a knob is rounded: no kPa
    assert "Measuring default" in texts(at)
    assert not [b for b in at.button if b.key == "pg_lim_m_start"]


def test_marks_and_buttons_post_their_commands(store: Store, quick: None) -> None:
    ppt_guide._on_mark(store, {"t": 12.3456, "seq": 1, "how": "space"})
    ppt_guide._on_mark(store, {"t": None, "seq": 2})
    ppt_guide._on_action(store, {"kind": "release", "seq": 3})
    ppt_guide._on_action(store, {"kind": "cancel", "seq": 4})
    ppt_guide._on_action(store, {"kind": "explode", "seq": 5})
    assert [(c["kind"], c["args"]) for c in commands(store)] == [
        ("ppt_mark", {"t": 12.3456}),
        ("ppt_mark", {}),
        ("ppt_release", {}),
        ("ppt_cancel", {}),
    ]


def test_confirming_a_finished_measurement_stores_a_measured_limit_linked_to_it(
    store: Store, set_live: MakeLive, fresh: None, quick: None
) -> None:
    answered(store)
    status = finished(store, [9.0, 10.0, 11.0], fraction=0.9)
    set_live(profile="default", region=REGION, ppt=status)
    at = page().run()
    assert not at.exception
    (panel,) = [e for e in at.main if e.type == "bidi_component"]
    assert json.loads(panel.proto.json)["phase"] == "done"
    assert json.loads(panel.proto.json)["kpa_area"] == 1.0
    assert "90 % of your threshold of 10.0 N (100 kPa), **9.0 N**" in texts(at)
    confirm = at.button(key="pg_lim_confirm")
    assert confirm.label == "Use 9.0 N as my comfort limit for Calf (left)"
    confirm.click().run()
    assert not at.exception
    limit = store.current_limit("default", REGION, "disc-1cm2")
    assert limit is not None
    assert (limit["source"], limit["limit_n"]) == ("measured", pytest.approx(9.0))
    assert "PPT 10.00 N, mean of 3 trials" in limit["note"]
    (stored,) = store.ppt_history("default", REGION, "disc-1cm2")
    assert stored["id"] == status["ppt_id"] and stored["limit_id"] == limit["id"]
    posted = commands(store)
    assert [c["kind"] for c in posted] == ["limit", "ppt_cancel"]
    assert posted[0]["args"] == {"limit_n": pytest.approx(9.0), "basis": "your measured limit"}
    assert "is now your comfort limit for Calf (left)" in texts(at)


def test_the_proposal_is_capped_at_the_profile_ceiling(
    store: Store, set_live: MakeLive, fresh: None, quick: None
) -> None:
    answered(store, "default", "sensation")  # 1.5 kgf/cm² ≈ 14.7 N on 1 cm²
    status = finished(store, [18.0, 20.0, 22.0], ceiling_n=1.5 * KGF_N)
    set_live(profile="default", region="forearm", ppt=status)
    at = page().run()
    assert "so the proposed comfort limit is the ceiling: **14.7 N**" in texts(at)
    at.button(key="pg_lim_confirm").click().run()
    limit = store.current_limit("default", REGION, "disc-1cm2")
    assert limit is not None and limit["limit_n"] == pytest.approx(14.71, abs=0.02)
    assert "capped at" in limit["note"]
    assert [c["kind"] for c in commands(store)] == ["ppt_cancel"]  # the bridge serves forearm


def test_a_measurement_can_be_left_unused(
    store: Store, set_live: MakeLive, fresh: None, quick: None
) -> None:
    answered(store)
    set_live(ppt=finished(store, [9.0, 10.0, 11.0]))
    at = page().run()
    at.button(key="pg_lim_discard").click().run()
    assert store.current_limits("default") == []
    assert [c["kind"] for c in commands(store)] == ["ppt_cancel"]
    assert "stays in your progress history" in texts(at)


def test_a_measurement_without_enough_trials_saves_nothing(
    store: Store, set_live: MakeLive, fresh: None, quick: None
) -> None:
    answered(store)
    status = finished(store, [9.0, 9.0, 9.0, 9.0, 9.0, 9.0], rates=[20.0] * 6)
    assert status["summary"]["complete"] is False
    set_live(ppt=status)
    at = page().run()
    assert "Only 0 of 3 trials could be used" in texts(at)
    assert not [b for b in at.button if b.key == "pg_lim_confirm"]
    at.button(key="pg_lim_close").click().run()
    assert [c["kind"] for c in commands(store)] == ["ppt_cancel"]


# -- progress and defaults -----------------------------------------------------------------------


def _add(store: Store, ppt_n: float, region: str = REGION) -> int:
    trial = {"accepted": True, "reason": "ok", "ppt_n": ppt_n, "ppt_kpa": 10 * ppt_n,
             "ramp_kpa_s": 50.0, "duration_s": 2.0, "mark_t": 2.0}  # fmt: skip
    return store.add_ppt(
        "default", region, ppt_n=ppt_n, trials=[trial] * 3, tip="disc-1cm2", tip_area_cm2=1.0,
        n=3, attempts=3, fraction=1.0,
    )  # fmt: skip


def test_progress_needs_a_baseline_before_calling_a_change_real(store: Store) -> None:
    answered(store)
    for value in (10.0, 11.0):
        _add(store, value)
    at = page("Progress").run()
    assert not at.exception
    assert "2 of 3 baseline measurements" in texts(at)
    assert "not the same as having less pain" in texts(at)
    for value in (10.5, 20.0):
        _add(store, value)
    _add(store, 8.0, "calf:right")
    at.selectbox(key="pg_lim_p_place").select((REGION, "disc-1cm2")).run()
    table = at.dataframe[0].value
    assert list(table["Threshold (N)"]) == [10.0, 11.0, 10.5, 20.0]
    assert list(table["Threshold (kPa)"]) == [100, 110, 105, 200]
    assert "a real change" in texts(at)
    assert "Notably more tender on the right" in texts(at)
    assert any(e.type == "arrow_vega_lite_chart" or "chart" in e.type for e in at.main)


def test_defaults_keep_their_basis_and_say_what_sensitive_mode_changes(store: Store) -> None:
    at = page("Shipped defaults").run()
    defaults = at.dataframe[0].value
    assert len(defaults) == 18
    row = defaults[defaults["Body region"] == "Posterior neck"].iloc[0]
    assert row["kgf/cm²"] == 0.75 and "0.75 kgf/cm²" in row["Basis"]
    assert "**80 %** of it as your limit instead of **100 %**" in texts(at)
    assert len(at.dataframe[1].value) == len(PRECAUTIONS)


# -- the user's unit ------------------------------------------------------------------------------


def limit_cells(at: AppTest) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    """The limits table's two limit columns: their titles, and each tip's row of them."""
    table = at.table[0].value.set_index("Tip")
    columns = [c for c in table.columns if c.startswith("Limit (")]
    return columns, {tip: tuple(row) for tip, row in table[columns].iterrows()}


def test_limits_read_in_the_chosen_unit_and_pressure_only_on_a_flat_tip(store: Store) -> None:
    answered(store, "default", "bleeding")  # 1 kgf/cm²: 9.8 N on 1 cm²
    store.set_setting(UNIT_SETTING, "kgf")
    store.set_limit("default", REGION, 18.0, "measured", tip="disc-2cm2")
    store.set_limit("default", "forearm", 2 * KGF_N, "manual", tip="knob")
    store.set_limit("default", "thigh", 12.0, "manual", tip="disc-1cm2")  # over the ceiling
    at = page("My limits").run()
    assert not at.exception
    assert "Highest limit allowed: **1 kgf/cm²** (≈ 1.0 kgf on a 1 cm² tip)" in texts(at)
    columns, rows = limit_cells(at)
    assert columns == ["Limit (kgf)", "Limit (kPa)"]
    assert rows["flat 2 cm² algometer tip"] == ("1.84", "90")
    assert rows["cane knob (Thera Cane type)"] == ("2.00", "—")
    assert "Thigh: 1.22 kgf is above" in texts(at) and "sessions use 1.00 kgf there" in texts(at)

    store.set_setting(UNIT_SETTING, "kPa")
    at.run()
    columns, rows = limit_cells(at)
    assert columns == ["Limit (kPa)", "Limit (N)"]
    assert rows["flat 2 cm² algometer tip"] == ("90", "18.0")
    # a knob's pressure would be a guess: the force, in the unit's own family
    assert rows["cane knob (Thera Cane type)"] == ("—", "19.6")
    assert "sessions use 98 kPa there" in texts(at)  # on the flat 1 cm² disc


def test_a_manual_limit_is_typed_in_the_chosen_unit_and_still_refused_above_the_ceiling(
    store: Store,
) -> None:
    answered(store, "default", "bleeding")  # 1 kgf/cm² ≈ 9.8 N on 1 cm²
    store.set_setting(UNIT_SETTING, "lbf")
    at = page("Set a limit by hand").run()
    assert at.selectbox(key="pg_lim_s_unit").options == ["N", "kgf", "lbf", "kPa"]
    assert at.selectbox(key="pg_lim_s_unit").value == "lbf"
    assert "may set with this tip is **2.20 lbf**" in texts(at)
    at.selectbox(key="pg_lim_s_region").select("calf")
    at.radio(key="pg_lim_s_side").set_value("left")
    at.number_input(key="pg_lim_s_value").set_value(2.5)
    at.button(key="pg_lim_s_save").click().run()
    assert "**Not saved:** 2.50 lbf is above" in texts(at) and "Choose 2.20 lbf or less" in texts(
        at
    )
    assert store.current_limits("default") == []
    at.number_input(key="pg_lim_s_value").set_value(2.0)
    at.button(key="pg_lim_s_save").click().run()
    assert not at.exception
    (row,) = store.current_limits("default")
    assert row["limit_n"] == pytest.approx(2.0 * LBF_N)
    assert "Saved: Calf (left), 2.00 lbf, set by hand." in texts(at)

    store.set_setting(UNIT_SETTING, "kgf/cm²")  # offered first on a flat tip, its force on a knob
    at.run()
    assert at.selectbox(key="pg_lim_s_unit").value == "kgf/cm²"
    at.number_input(key="pg_lim_s_value").set_value(0.5)
    at.button(key="pg_lim_s_save").click().run()
    saved = store.current_limit("default", REGION, "disc-1cm2")
    assert saved is not None and saved["limit_n"] == pytest.approx(0.5 * KGF_N)
    at.selectbox(key="pg_lim_s_tip").select("knob").run()
    assert at.selectbox(key="pg_lim_s_unit").options == ["N", "kgf"]
    assert at.selectbox(key="pg_lim_s_unit").value == "kgf"


def test_a_measurement_is_proposed_and_confirmed_in_the_chosen_unit(
    store: Store, set_live: MakeLive, fresh: None, quick: None
) -> None:
    answered(store)
    store.set_setting(UNIT_SETTING, "kgf")
    status = finished(store, [9.0, 10.0, 11.0], fraction=0.9)
    set_live(profile="default", region=REGION, ppt=status)
    at = page().run()
    (panel,) = [e for e in at.main if e.type == "bidi_component"]
    data = json.loads(panel.proto.json)
    assert data["readout"]["unit"] == "kgf" and data["companion"]["unit"] == "kPa"
    assert "90 % of your threshold of 1.02 kgf (100 kPa), **0.92 kgf**" in texts(at)
    confirm = at.button(key="pg_lim_confirm")
    assert confirm.label == "Use 0.92 kgf as my comfort limit for Calf (left)"
    confirm.click().run()
    limit = store.current_limit("default", REGION, "disc-1cm2")
    assert limit is not None and limit["limit_n"] == pytest.approx(9.0)  # stored in newtons
    assert "Saved: 0.92 kgf is now your comfort limit" in texts(at)


def test_progress_reads_in_the_chosen_unit(store: Store) -> None:
    answered(store)
    store.set_setting(UNIT_SETTING, "kPa")
    for value in (10.0, 11.0):
        _add(store, value)
    at = page("Progress").run()
    assert not at.exception
    assert "the latest 110 kPa (11.0 N)" in texts(at)
    table = at.dataframe[0].value
    assert list(table["Threshold (kPa)"]) == [100, 110]
    assert list(table["Threshold (N)"]) == [10.0, 11.0]


def test_the_sidebar_picker_sets_the_unit_for_every_page(store: Store) -> None:
    at = AppTest.from_file(str(PAGES.parent / "app.py"), default_timeout=30).run()
    assert not at.exception
    picker = at.sidebar.selectbox(key="pg_unit")
    assert picker.value == "N"
    picker.select("kPa").run()
    assert chosen_unit(store) == "kPa"  # saved at once
    assert "kPa needs a flat tip of known area: shown in N when the tip is unknown or rounded" in (
        " ".join(str(c.value) for c in at.sidebar.caption)
    )
    store.set_limit("default", REGION, 18.0, "manual", tip="disc-2cm2")
    at.switch_page("views/limits.py")
    at.session_state["pg_lim_tab"] = "My limits"
    at.run()
    assert at.sidebar.selectbox(key="pg_unit").value == "kPa"  # the same picker on every page
    assert at.table[0].value["Limit (kPa)"][0] == "90"
    store.set_setting(UNIT_SETTING, "lbf")  # chosen elsewhere (the command line, another tab)
    at.run()
    assert at.sidebar.selectbox(key="pg_unit").value == "lbf"
    assert not at.sidebar.caption
