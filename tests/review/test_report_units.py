"""The therapist report reads forces in the user's unit: each session as pressure only on its own
flat tip of known area (else as force of the same family), the trends as force (the sessions may
have used different tips), while everything it computes stays in newtons."""

from __future__ import annotations

import re

import numpy as np
import pytest
from matplotlib.text import Text

from firmware_bridge.errors import UsageError
from firmware_bridge.readout import UNIT_SETTING
from firmware_bridge.store import Store
from review.report import Report, build_report
from review.report import words as w
from tests.review.conftest import WriteSession


def drawn(report: Report) -> tuple[list[str], list[str]]:
    """Every text drawn on the report's pages, and the charts' y-axis titles."""
    texts: list[str] = []
    ylabels: list[str] = []
    for fig in report.figures():
        texts += [t.get_text() for t in fig.findobj(Text)]
        ylabels += [ax.get_ylabel() for ax in fig.axes]
    return texts, ylabels


@pytest.fixture
def two_tips(store: Store, session_from_arrays: WriteSession) -> tuple[int, int]:
    """A session on the flat 1 cm² disc and one on a cane knob (rounded), both limited at 20 N."""
    t = np.arange(0.0, 60.0, 0.0125)
    flat = session_from_arrays(t, 10 + np.sin(t), region="upper-trapezius:left", profile="ann")
    store.update_session(flat, tip="disc-1cm2", tip_area_cm2=1.0)
    knob = session_from_arrays(t, 12 + np.sin(t), region="calf:left", profile="ann")
    store.update_session(knob, tip="knob")
    return flat, knob


def test_sessions_read_as_pressure_only_on_a_known_flat_tip(
    store: Store, two_tips: tuple[int, int]
) -> None:
    flat, knob = two_tips
    store.set_setting(UNIT_SETTING, "kPa")
    report = build_report(store, "ann")
    assert report.content.unit == "kPa"
    entries = {e.session_id: e for e in report.content.sessions}
    assert entries[flat].stats.limit_n == 20.0  # computed in newtons, as stored
    flat_lines = [line for line, _ in w.session_lines(entries[flat], "kPa")]
    knob_lines = [line for line, _ in w.session_lines(entries[knob], "kPa")]
    assert "Limit 200 kPa" in flat_lines and "Tip: flat 1 cm² disc (algometer reference)" in (
        flat_lines
    )
    assert "Limit 20.0 N" in knob_lines and "Tip: cane knob (Thera Cane type)" in knob_lines

    texts, ylabels = drawn(report)
    assert "Limit 200 kPa" in texts and "Limit 20.0 N" in texts
    assert re.search(r"^Peak 1\d\d kPa ", "\n".join(texts), re.MULTILINE)  # ≈ 110 kPa
    assert any("pressure in kilopascals (kPa)" in t for t in texts)  # the units line
    assert ylabels.count("kPa") == 1  # the flat tip's curve; the knob's stays in newtons
    assert ylabels.count("N") == 1 + 2  # the knob's curve and the two trend charts of force


def test_a_force_unit_reads_everywhere_with_pressure_beside_it_for_a_flat_tip(
    store: Store, two_tips: tuple[int, int]
) -> None:
    store.set_setting(UNIT_SETTING, "kgf")
    store.set_limit("ann", "upper-trapezius:left", 9.80665, "manual", tip="disc-1cm2")
    report = build_report(store, "ann")
    texts, ylabels = drawn(report)
    assert texts.count("Limit 2.04 kgf") == 2  # both sessions: 20 N
    (site,) = [r for r in report.content.sites if r.tip == "disc-1cm2"]
    assert w.site_cells(site, "kgf")[2] == "1.00 kgf (98 kPa)"  # pressure beside it: flat tip
    assert "Pressure dose" in texts and not re.search(r"\d N\b", "\n".join(texts))
    assert ylabels.count("kgf") == 2 + 2 and "N" not in ylabels
    # a unit asked for wins over the setting (and a bad one is refused like everywhere)
    assert build_report(store, "ann", unit="lbf").content.unit == "lbf"
    with pytest.raises(UsageError, match="unknown unit"):
        build_report(store, "ann", unit="stone")
