"""The therapist report from the demo data: the PDF is written with the planned pages, and the
rendered PNG pages really hold each session's curve and limit line (found by their colours,
which the report uses nowhere else), newest session first; an empty period gives one page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from matplotlib import colors
from matplotlib import image as mimage

from firmware_bridge.demo import SEEDED, seed_sessions
from firmware_bridge.errors import NotFoundError, UsageError
from firmware_bridge.store import Store
from review.report import Report, build_report
from review.report import figures as fig

Image = npt.NDArray[np.uint8]
Rect = tuple[float, float, float, float]

#: Largest RGB distance still counted as "this colour" (antialiased edges blend away from it).
TOLERANCE = 12.0


# -- finding things in a rendered page -------------------------------------------------------


def load(path: Path) -> Image:
    """A PNG page as an RGB uint8 array (rows top to bottom)."""
    pixels = mimage.imread(path)
    return np.round(pixels[..., :3] * 255).astype(np.uint8)


def crop(img: Image, rect: Rect) -> Image:
    """The part of a page inside a figure-fraction rectangle (x0, y0 from the bottom, w, h)."""
    height, width = img.shape[:2]
    x0, y0, w, h = rect
    top, bottom = round(height * (1 - y0 - h)), round(height * (1 - y0))
    return img[top:bottom, round(width * x0) : round(width * (x0 + w))]


def mask(img: Image, color: str, tolerance: float = TOLERANCE) -> npt.NDArray[np.bool_]:
    """Where the image has this colour."""
    target = np.array(colors.to_rgb(color)) * 255
    return np.linalg.norm(img.astype(np.float64) - target, axis=-1) <= tolerance


def count(img: Image, color: str, tolerance: float = TOLERANCE) -> int:
    """How many pixels have this colour."""
    return int(mask(img, color, tolerance).sum())


def column_share(img: Image, color: str) -> float:
    """Share of the image's columns holding at least one pixel of this colour."""
    return float(mask(img, color).any(axis=0).mean())


def pdf_pages(data: bytes) -> int:
    """Pages in a PDF (page objects, not the page tree)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the demo's seeded sessions."""
    data = tmp_path_factory.mktemp("demo")
    assert len(seed_sessions(data)) == len(SEEDED)
    return data


@pytest.fixture(scope="module")
def demo_report(demo_dir: Path) -> Iterator[Report]:
    with Store.open(demo_dir) as store:
        yield build_report(store, "default")


@pytest.fixture(scope="module")
def demo_pngs(demo_report: Report, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return demo_report.png_pages(tmp_path_factory.mktemp("png"))


# -- the report of the demo data ------------------------------------------------------------


def test_pdf_written_with_the_planned_pages(demo_report: Report, tmp_path: Path) -> None:
    # 5 sessions at 4 sites, no journal: summary, 2 trend pages (3 sites a page), 2 session pages
    kinds = [p.kind for p in demo_report.pages]
    assert kinds == ["summary", "trends", "trends", "sessions", "sessions"]
    out = demo_report.write_pdf(tmp_path / "report.pdf")
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert pdf_pages(data) == demo_report.page_count == 5
    assert b"PressureGuard therapist report" in data  # the document's title
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]  # no temporary file left


def test_every_session_has_a_panel_newest_first(demo_report: Report) -> None:
    shown = [p.session_id for page in demo_report.pages for p in page.panels]
    expected = [e.session_id for e in demo_report.content.sessions]
    assert shown == expected == sorted(expected, reverse=True)
    assert len(shown) == len(SEEDED)
    assert all(e.curve is not None and len(e.curve) > 0 for e in demo_report.content.sessions)


def test_png_pages_hold_the_curves(demo_report: Report, demo_pngs: list[Path]) -> None:
    assert len(demo_pngs) == demo_report.page_count
    panels = 0
    for page, path in zip(demo_report.pages, demo_pngs, strict=True):
        img = load(path)
        assert img.shape[:2] == (1753, 1240)  # A4 at 150 dpi
        if page.kind != "sessions":
            # the curve and limit colours belong to the session panels alone
            assert count(img, fig.CURVE) == 0, page.kind
            assert count(img, fig.LIMIT) == 0, page.kind
            continue
        inside = 0
        for panel in page.panels:
            part = crop(img, panel.rect)
            curve = count(part, fig.CURVE)
            inside += curve
            assert curve > 1000, f"session {panel.session_id}: {curve} curve pixels"
            assert column_share(part, fig.CURVE) > 0.9, panel.session_id  # the whole session
            assert count(part, fig.LIMIT) > 300, panel.session_id  # the limit line ...
            assert column_share(part, fig.LIMIT) > 0.8, panel.session_id  # ... across the panel
            panels += 1
        # outside the panels, only the legend's short sample of the curve colour
        assert count(img, fig.CURVE) - inside < 200
    assert panels == len(SEEDED)


def test_over_limit_marks_where_the_pressure_went_over(
    demo_report: Report, demo_pngs: list[Path]
) -> None:
    entries = {e.session_id: e for e in demo_report.content.sessions}
    over = [e for e in entries.values() if e.stats.time_over_limit_s > 0]
    assert over and len(over) < len(entries)  # the demo has both kinds
    for page, path in zip(demo_report.pages, demo_pngs, strict=True):
        img = load(path)
        for panel in page.panels:
            marks = count(crop(img, panel.rect), fig.OVER_MARK)
            if entries[panel.session_id].stats.time_over_limit_s > 0:
                assert marks > 50, panel.session_id
            else:
                assert marks == 0, panel.session_id


def test_totals_add_up_the_sessions(demo_report: Report) -> None:
    totals = demo_report.content.totals
    stats = [e.stats for e in demo_report.content.sessions]
    assert totals.sessions == len(SEEDED)
    assert totals.over_s == pytest.approx(sum(s.time_over_limit_s for s in stats))
    assert totals.session_time_s == pytest.approx(sum(s.duration_s for s in stats))
    before = [p for *_, p, _ in SEEDED]
    after = [a for *_, a in SEEDED]
    assert totals.pain_rated == len(SEEDED)
    assert totals.pain_before == pytest.approx(sum(before) / len(before))
    assert totals.pain_after == pytest.approx(sum(after) / len(after))
    sites = {r.region for r in demo_report.content.sites}
    assert sites == {region for _, region, *_ in SEEDED}


# -- an empty period, bad input ---------------------------------------------------------------


def test_empty_period_gives_one_page(demo_dir: Path, tmp_path: Path) -> None:
    with Store.open(demo_dir) as store:
        report = build_report(store, "default", "2001-01-01", "2001-01-31")
    assert report.content.empty
    assert [p.kind for p in report.pages] == ["empty"]
    assert "nothing" in report.pages[0].title
    data = report.write_pdf(tmp_path / "empty.pdf").read_bytes()
    assert data.startswith(b"%PDF-") and pdf_pages(data) == 1
    (png,) = report.png_pages(tmp_path / "png")
    img = load(png)
    assert count(img, fig.CURVE) == 0
    assert (img < 128).any()  # it does say something


def test_bad_input_is_refused(demo_dir: Path) -> None:
    with Store.open(demo_dir) as store:
        with pytest.raises(UsageError, match="YYYY-MM-DD"):
            build_report(store, "default", "2026-02-30")
        with pytest.raises(UsageError, match="after the last day"):
            build_report(store, "default", "2026-03-02", "2026-03-01")
        with pytest.raises(NotFoundError, match="no profile 'bob'"):
            build_report(store, "bob")


def test_unwritable_file(demo_report: Report, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot write"):
        demo_report.write_pdf(tmp_path / "missing" / "r.pdf")
    with pytest.raises(UsageError, match="folder"):
        demo_report.write_pdf(tmp_path)
    assert list(tmp_path.iterdir()) == []
