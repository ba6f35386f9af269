"""The report stays honest and bounded: a gap is drawn as a gap and a stretch without calibrated
force is marked (no curve through either), lost frames are reported, a one-sample push over the
limit is still marked in a long decimated session, only the newest sessions are drawn (and the
report says so), and the journal and pain thresholds get their pages."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.store import Store
from firmware_bridge.zones import SessionEvent
from review.report import Panel, Report, build_report, words
from review.report import figures as fig
from review.report.content import CURVE_POINTS
from tests.review.conftest import WriteSession
from tests.review.test_report import Image, count, crop, load, pdf_pages

GAP = (100.0, 130.0)
UNCALIBRATED = (200.0, 220.0)


def _panel(report: Report, pngs: list[Path], session_id: int) -> tuple[Image, Panel]:
    for page, path in zip(report.pages, pngs, strict=True):
        for panel in page.panels:
            if panel.session_id == session_id:
                return crop(load(path), panel.rect), panel
    raise AssertionError(f"no panel for session {session_id}")


def _columns(part: Image, t0: float, t1: float, lo: float, hi: float) -> slice:
    """The panel's pixel columns strictly inside session times t0–t1 (3 px kept off each edge)."""
    width = part.shape[1]
    a = round((t0 - lo) / (hi - lo) * width) + 3
    b = round((t1 - lo) / (hi - lo) * width) - 3
    assert b - a > 10
    return slice(a, b)


def test_gap_and_uncalibrated_stretch_are_not_drawn_as_force(
    store: Store, session_from_arrays: WriteSession, tmp_path: Path
) -> None:
    t = np.arange(0.0, 300.0, 0.0125)  # 80 Hz
    t = t[(t < GAP[0]) | (t > GAP[1])]  # the signal was lost
    force = 10 + 4 * np.sin(t / 5.0)
    zone = np.where(force >= 16, 1, 0).astype(np.int8)
    lost = (t >= UNCALIBRATED[0]) & (t <= UNCALIBRATED[1])
    force[lost] = np.nan  # the tool lost its calibration
    zone[lost] = -1
    sid = session_from_arrays(
        t,
        force,
        zone=zone,
        chunk=800,
        counters={"dropped_frames": 12, "bad_frames": 1},
        events=[SessionEvent(GAP[0], "gap", {"start_s": GAP[0], "end_s": GAP[1]})],
    )
    report = build_report(store, "ann")
    (entry,) = report.content.sessions
    assert entry.curve is not None and entry.curve.gaps
    part, _ = _panel(report, report.png_pages(tmp_path), sid)
    lo, hi = float(t[0]), float(t[-1])

    assert count(part, fig.CURVE) > 1000  # the rest of the session is drawn
    gap = part[:-4, _columns(part, *GAP, lo, hi)]  # (the bottom rows hold the x axis)
    assert count(gap, fig.CURVE) == 0  # no line across the gap ...
    assert count(gap, fig.GAP, tolerance=60) > 20  # ... but its grey hatching
    unknown = part[:-4, _columns(part, *UNCALIBRATED, lo, hi)]
    assert count(unknown, fig.CURVE) == 0  # no force where none was known ...
    assert count(unknown, fig.UNCALIBRATED, tolerance=60) > 20  # ... and the yellow hatching

    totals = report.content.totals
    assert (totals.lost_frames, totals.bad_frames, totals.gaps) == (12, 1, 1)
    assert totals.uncalibrated_s == pytest.approx(20.0, abs=0.1)
    data_line = [(text, alert) for text, alert in words.session_lines(entry) if "Data" in text]
    assert data_line == [
        (
            "Data: 12 frames lost; 1 bad frame; 1 gap (30 s without signal); "
            "20 s without calibrated force",
            True,
        )
    ]


def test_long_session_is_decimated_and_keeps_a_one_sample_push(
    store: Store, session_from_arrays: WriteSession, tmp_path: Path
) -> None:
    t = np.arange(0.0, 400.0, 0.001)  # 400,000 samples at 1 kHz
    force = 8 + 2 * np.sin(t / 9.0)
    spike = 250_000
    force[spike] = 30.0  # one sample over the 20 N limit
    sid = session_from_arrays(t, force, chunk=20_000)
    report = build_report(store, "ann")
    (entry,) = report.content.sessions
    curve = entry.curve
    assert curve is not None and curve.decimated
    assert len(curve) <= CURVE_POINTS + 2  # never hundreds of thousands of points to draw
    assert np.nanmax(curve.filtered_n) == 30.0  # the push survives decimation
    assert entry.stats.over_limit_count == 1
    part, _ = _panel(report, report.png_pages(tmp_path), sid)
    assert count(part, fig.CURVE) > 1000
    assert count(part, fig.OVER_MARK) > 20  # a visible mark for a 1 ms push


def test_only_the_newest_sessions_are_drawn(
    store: Store, session_from_arrays: WriteSession, tmp_path: Path
) -> None:
    t = np.arange(0.0, 30.0, 0.0125)
    ids = [session_from_arrays(t, 10 + np.sin(t + k)) for k in range(6)]
    report = build_report(store, "ann", max_sessions=4)
    assert [p.kind for p in report.pages] == ["summary", "trends", "sessions", "index"]
    assert [p.session_id for p in report.pages[2].panels] == ids[::-1][:4]
    assert report.content.detailed == 4
    assert [e.curve is None for e in report.content.sessions] == [False] * 4 + [True] * 2
    assert report.content.totals.sessions == 6
    data = report.write_pdf(tmp_path / "r.pdf").read_bytes()
    assert pdf_pages(data) == 4


def test_journal_thresholds_and_safety_have_their_place(
    store: Store, session_from_arrays: WriteSession, tmp_path: Path
) -> None:
    t = np.arange(0.0, 60.0, 0.0125)
    session_from_arrays(t, 10 + np.sin(t), region="upper-trapezius:left", profile="ann")
    store.update_profile_settings(
        "ann",
        {"precautions": ["bleeding"], "sensitive": True, "precautions_answered_at": "2026-01-05"},
    )
    for value in (14.0, 15.0, 14.5, 21.0):
        trials = [{"accepted": True, "ppt_n": value}] * 3
        store.add_ppt(
            "ann", "upper-trapezius:left", ppt_n=value, trials=trials, tip="disc-1cm2",
            tip_area_cm2=1.0, n=3, attempts=3, fraction=0.8,
        )  # fmt: skip
    today = date.today()
    for k in range(60):  # two months of journal: more than one page of table
        store.save_journal(
            "ann",
            today - timedelta(days=k),
            pain=4 + k % 3,
            sleep=6 - k % 2,
            triggers=["long drive"] if k % 5 == 0 else [],
            note="a longer note about the day, long enough to need a second line " * (k % 7 == 0),
        )
    report = build_report(store, "ann", today - timedelta(days=59), today)
    kinds = [p.kind for p in report.pages]
    assert kinds[:3] == ["summary", "trends", "sessions"]
    assert kinds[3:] == ["journal"] * (len(kinds) - 3) and len(kinds) >= 5
    assert len(report.content.journal) == 60

    (site,) = [s for s in report.content.sites if s.tip == "disc-1cm2"]
    assert site.ppt_n == 21.0 and site.verdict == "higher" and site.pressure_area_cm2 == 1.0
    # the ceiling (1 kgf/cm² for blood thinners) caps every limit
    assert all(s.limit_n <= 9.81 for s in report.content.sites)
    pairs = dict(words.safety_pairs(report.content.safety))
    assert pairs["Precautions"].startswith("yes: Do you take medicine that thins your blood")
    assert (
        "1 kgf/cm²" in pairs["Pressure ceiling"]
        and "cannot be overridden" in pairs["Pressure ceiling"]
    )
    assert pairs["Sensitive mode"].startswith("on")

    pngs = report.png_pages(tmp_path)
    trends = load(pngs[1])
    assert count(trends, fig.PPT_BAND) > 500  # the personal noise band around the baseline
    assert count(trends, fig.PPT, tolerance=30) > 20  # the threshold measurements
    assert count(trends, fig.JOURNAL["pain"], tolerance=30) > 100  # the journal beside them
    assert all(count(load(p), fig.CURVE) == 0 for p in pngs[3:])  # journal pages: a table


def test_numbers_in_words() -> None:
    assert words.duration(42.0) == "42 s"
    assert words.duration(3.5) == "3.5 s"
    assert words.duration(185) == "3 min 05 s"
    assert words.duration(3725) == "1 h 02 min"
    assert words.signed(-1.5) == "−1.5" and words.signed(2) == "+2"
    assert words.force(14.71, 1.0) == "14.7 N (147 kPa)" and words.force(None) == "–"
