"""The tip library: which tips exist, their areas, and when pressure may be shown."""

from __future__ import annotations

import pytest

from calibration.tips import TIPS, TOOL_TIP, get_tip, pressure_area, pressure_shown, tip_in_use
from firmware_bridge.errors import UsageError


def test_the_reference_disc_and_the_algometer_tip_show_pressure() -> None:
    for key, area in (("disc-1cm2", 1.0), ("disc-2cm2", 2.0)):
        tip = get_tip(key)
        assert tip.flat and tip.area_cm2 == area
        assert pressure_shown(tip) and pressure_area(tip) == area


def test_rounded_tips_keep_an_area_estimate_but_never_show_pressure() -> None:
    knob, ball = get_tip("knob"), get_tip("ball-63mm")
    assert knob.area_cm2 == pytest.approx(4.6, abs=0.05)  # a US quarter
    assert ball.area_cm2 == pytest.approx(5.7, abs=0.05)  # 63.5 mm ball, 3 mm deep
    for tip in (knob, ball):
        assert not tip.flat and not pressure_shown(tip) and pressure_area(tip) is None


def test_a_tip_of_unknown_area_or_no_tip_shows_force_only() -> None:
    thumb = get_tip("thumb")
    assert thumb.area_cm2 is None and not pressure_shown(thumb)
    assert not pressure_shown(None)


def test_an_unknown_tip_is_refused_with_the_known_ones_listed() -> None:
    assert get_tip(" Knob ") is TIPS["knob"]
    with pytest.raises(UsageError, match="unknown tip 'golf'") as err:
        get_tip("golf")
    assert all(key in str(err.value) for key in TIPS)


def test_a_chosen_tip_wins_over_the_area_the_tool_reports() -> None:
    assert tip_in_use("knob", 1.0) == get_tip("knob")
    assert pressure_area(tip_in_use("knob", 1.0)) is None  # rounded: force only
    assert pressure_area(tip_in_use("thumb", 1.0)) is None


def test_the_tools_own_tip_is_flat_and_unknown_without_a_reported_area() -> None:
    own = tip_in_use(None, 2.0)
    assert own is not None and own.key == TOOL_TIP and pressure_area(own) == 2.0
    assert pressure_area(tip_in_use(TOOL_TIP, 1.5)) == 1.5
    assert tip_in_use(None, None) is None and tip_in_use(None, 0.0) is None
    with pytest.raises(UsageError, match="known tips"):
        tip_in_use("spoon", 1.0)
