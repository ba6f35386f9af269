"""Accessibility in a real browser, checked by a machine: axe-core on every page, the zones told
by words and shapes as well as colour, no flashing, and the large-text / high-contrast mode.

axe-core (from the ``axe-playwright-python`` package: nothing is downloaded) runs on every page of
``pressureguard demo`` and on each tab of the pages that have tabs, first as shipped, then with
large text and high contrast switched on; no serious or critical violation may remain, except the
exact (rule, element) pairs listed with their reason in :data:`tests.e2e.a11y.EXCLUDED`.

The zone and flashing checks mount the live view on a scripted feed (``zones_app.py``) that can
show any zone, or switch zones ten times a second, faster than any hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.review import serve
from dashboard.display_mode import SETTING
from firmware_bridge.store import Store
from tests.e2e.a11y import SPEECH_RECORDER, failing, run_axe, shoot, tab_to, walk_focus
from tests.e2e.conftest import SCREENSHOTS, launch, stop

pytestmark = [pytest.mark.component("browser"), pytest.mark.slow, pytest.mark.timeout(600)]

VIEWPORT = {"width": 1280, "height": 900}
ZONES_APP = Path(__file__).resolve().with_name("zones_app.py")
#: Every page, and the tabs of those that have them (None: the page as it opens).
PAGES: tuple[tuple[str, str | None], ...] = (
    ("", None),
    ("limits", "Measure my threshold"),
    ("limits", "My limits"),
    ("limits", "Set a limit by hand"),
    ("limits", "Progress"),
    ("limits", "Profile & precautions"),
    ("limits", "Shipped defaults"),
    ("history", "Sessions"),
    ("history", "One session"),
    ("history", "Compare"),
    ("history", "Trends"),
    ("journal", None),
    ("calibrate", None),
    ("device", None),
)
ZONE_WORDS = {
    "relaxed": "Relaxed",
    "target": "In your range",
    "over": "Ease off",
    "danger": "STOP — too much pressure",
    "no_signal": "NO SIGNAL",
    "uncalibrated": "Uncalibrated — not judged",
}
#: Done with a rerun: nothing greyed out as stale, Streamlit's "running" sign gone.
SETTLED = (
    "() => !document.querySelector('[data-stale=true]') && "
    "!document.querySelector('[data-testid=stStatusWidgetRunningIcon]')"
)


def settle(page: Any) -> None:
    page.wait_for_selector("[data-testid=stMainBlockContainer]", timeout=30_000)
    page.wait_for_function(SETTLED, timeout=30_000)
    page.wait_for_timeout(1500)  # let the components draw (live feed, charts)
    page.wait_for_function(SETTLED, timeout=30_000)


def open_page(page: Any, url: str, path: str, tab: str | None) -> None:
    page.goto(f"{url}/{path}")
    settle(page)
    if tab is None:
        return
    button = page.get_by_role("tab", name=tab, exact=True)
    button.click()
    page.wait_for_function(
        f"() => [...document.querySelectorAll('[role=tab][aria-selected=true]')]"
        f".some((t) => t.textContent.trim().endsWith({tab!r}))",
        timeout=15_000,
    )
    settle(page)
    if tab == "One session":
        page.wait_for_function(
            "document.querySelector('[data-testid=pg-chart-status]')?.textContent === 'ready'",
            timeout=30_000,
        )


def axe_every_page(page: Any, url: str) -> dict[str, list[str]]:
    """Each page's (and tab's) serious and critical violations, as text."""
    report = {}
    for path, tab in PAGES:
        open_page(page, url, path, tab)
        name = f"/{path}" + (f" → {tab}" if tab else "")
        report[name] = [str(f) for f in failing(run_axe(page))]
    return report


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    app = launch(tmp_path_factory.mktemp("a11y-demo"), "demo")
    try:
        yield app
    finally:
        stop(app)


def demo_store(app: Any) -> Store:
    return Store.open(app.data_dir / "demo")


def test_axe_finds_no_serious_violation_on_any_page(browser: Any, demo: Any) -> None:
    page = browser.new_page(viewport=VIEWPORT)
    with demo_store(demo) as store:
        store.set_setting(SETTING, False)
    report = axe_every_page(page, demo.url)
    bad = {name: found for name, found in report.items() if found}
    assert not bad, "\n".join(f"{name}:\n  " + "\n  ".join(f) for name, f in bad.items())
    page.close()


def test_large_text_and_high_contrast_on_every_page(browser: Any, demo: Any) -> None:
    page = browser.new_page(viewport=VIEWPORT)
    try:
        page.goto(demo.url)
        settle(page)
        root_px = "() => parseFloat(getComputedStyle(document.documentElement).fontSize)"
        normal = page.evaluate(root_px)
        # Switched on in the sidebar by keyboard: the store keeps it, every page shows it.
        tab_to(page, "(a) => a.getAttribute('role') === 'switch'")
        page.keyboard.press("Space")
        page.wait_for_function(f"({root_px})() > {normal} * 1.2", timeout=15_000)
        with demo_store(demo) as store:
            assert store.get_setting(SETTING) is True
        settle(page)
        ink = page.evaluate(
            "getComputedStyle(document.querySelector('[data-testid=pg-value]')).color"
        )
        assert ink == "rgb(0, 0, 0)"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shoot(page, SCREENSHOTS / "high-contrast-live.png")

        report = axe_every_page(page, demo.url)
        bad = {name: found for name, found in report.items() if found}
        assert not bad, "\n".join(f"{name}:\n  " + "\n  ".join(f) for name, f in bad.items())
        for path, tab, shot in (
            ("limits", "Measure my threshold", "high-contrast-limits.png"),
            ("history", "One session", "high-contrast-history.png"),
        ):
            open_page(page, demo.url, path, tab)
            assert page.evaluate(root_px) > normal * 1.2, f"/{path} is not in large text"
            shoot(page, SCREENSHOTS / shot)
    finally:
        with demo_store(demo) as store:
            store.set_setting(SETTING, False)
        page.close()


def test_every_focus_stop_on_every_page_shows_a_ring(browser: Any, demo: Any) -> None:
    """Tab round every page: each control the focus lands on is visibly ringed, and the main
    actions are among the stops (so they can be reached without a mouse)."""
    page = browser.new_page(viewport=VIEWPORT)
    unringed = {}
    reached = set()
    for path, tab in PAGES:
        open_page(page, demo.url, path, tab)
        stops = walk_focus(page)
        assert len(stops) >= 5, f"/{path}: only {stops} take the focus"
        bad = [s for s in stops if s["visible"] and not s["ring"]]
        if bad:
            unringed[f"/{path} {tab or ''}"] = bad
        reached |= {s["key"] for s in stops} | {s["testid"] for s in stops}
    assert not unringed, unringed
    for needed in ("pg_start", "pg_zero", "pg-mute", "pg-speech", "pg_high_contrast", "pg_unit"):
        assert needed in reached, f"{needed} is never reached by Tab"
    page.close()


@pytest.fixture(scope="module")
def zones_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("zones")
    with serve(ZONES_APP, work / "data", work / "server.log") as url:
        yield url


def show_zone(page: Any, url: str, zone: str, large: bool = False) -> None:
    page.goto(f"{url}/?script={zone}:60" + ("&large=1" if large else ""))
    page.wait_for_function(
        f"document.querySelector('[data-testid=pg-live]')?.dataset.zone === {zone!r}",
        timeout=30_000,
    )
    page.wait_for_timeout(300)


def visible_shape(page: Any) -> list[str]:
    return page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=pg-zone-icon] .pg-shape')]"
        ".filter((g) => getComputedStyle(g).display !== 'none').map((g) => g.dataset.shape)"
    )


def test_every_zone_has_its_words_and_its_own_shape(browser: Any, zones_url: str) -> None:
    page = browser.new_page(viewport=VIEWPORT)
    shapes = {}
    for zone, words in ZONE_WORDS.items():
        show_zone(page, zones_url, zone)
        assert page.get_by_test_id("pg-zone").inner_text() == words
        shown = visible_shape(page)
        assert shown == [zone], f"{zone}: shapes shown {shown}"
        icon = page.get_by_test_id("pg-zone-icon").bounding_box()
        assert icon is not None and icon["width"] >= 30 and icon["height"] >= 30
        # the shape itself differs, not only its colour: compare the drawn outlines
        shapes[zone] = page.evaluate(
            "() => [...document.querySelector(`[data-testid=pg-zone-icon] "
            f".pg-shape[data-shape={zone}]`).children].map((c) => c.outerHTML"
            ".replace(/ (fill|stroke)=\"[^\"]*\"/g, '')).join('')"
        )
        assert not [f for f in failing(run_axe(page))], f"axe on the {zone} zone"
    assert len(set(shapes.values())) == len(ZONE_WORDS), "two zones share a shape"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for zone in ("over", "danger", "no_signal"):
        show_zone(page, zones_url, zone, large=True)
        assert visible_shape(page) == [zone]
        assert not [f for f in failing(run_axe(page))], f"axe on the {zone} zone, high contrast"
        page.get_by_test_id("pg-live").screenshot(
            path=str(SCREENSHOTS / f"high-contrast-zone-{zone.replace('_', '-')}.png")
        )
    page.close()


def test_spoken_cues_name_the_zone_and_the_number_in_the_users_unit(
    browser: Any, zones_url: str
) -> None:
    page = browser.new_page(viewport=VIEWPORT)
    page.add_init_script(SPEECH_RECORDER)
    page.add_init_script("localStorage.setItem('pressureguard.speech', '1')")  # cues on
    page.goto(f"{zones_url}/?script=relaxed:1,over:1,danger:1&unit=kgf")
    page.wait_for_function(
        "window.__pgSaid.some((t) => t.startsWith('Stop'))", polling=100, timeout=30_000
    )
    said = page.evaluate("window.__pgSaid")
    # 12.3 N and 15.0 N in kilograms-force, as the screen rounds them (2 decimals)
    assert "Ease off, 1.25 kilograms-force" in said, said
    assert "Stop, too much pressure, 1.53 kilograms-force" in said, said
    assert page.get_by_test_id("pg-speech").is_checked()
    page.close()


#: Records, for the live view and the threshold panel, every change of the zone shown (the
#: colours) with its time; and on every frame the live view's zone judged (the newest
#: message's) beside the zone it shows.
WATCH_ZONE = """() => {
  window.__pgZoneChanges = { live: [], ppt: [] };
  window.__pgShownVsJudged = [];
  const live = document.querySelector('[data-testid=pg-live]');
  const roots = { live, ppt: document.querySelector('[data-testid=ppt-panel]') };
  for (const [name, root] of Object.entries(roots)) {
    let last = root.dataset.zone;
    new MutationObserver(() => {
      if (root.dataset.zone === last) return; // set again, unchanged
      last = root.dataset.zone;
      window.__pgZoneChanges[name].push([performance.now(), last]);
    }).observe(root, { attributes: true, attributeFilter: ['data-zone'] });
  }
  const frame = () => {
    const judged = live.__pgView?.state?.zone;
    if (judged) window.__pgShownVsJudged.push([judged, live.dataset.zone]);
    requestAnimationFrame(frame);
  };
  frame();
}"""
RANK = {"relaxed": 0, "target": 1, "over": 2, "danger": 3}


@pytest.mark.parametrize("pair", [("target", "over"), ("over", "danger"), ("relaxed", "danger")])
def test_no_flashing_when_the_zone_flips_ten_times_a_second(
    browser: Any, zones_url: str, pair: tuple[str, str]
) -> None:
    low, high = pair
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(f"{zones_url}/?script={low}:0.05,{high}:0.05&ppt=1")
    page.get_by_test_id("ppt-panel").wait_for(timeout=30_000)
    page.wait_for_function(
        f"document.querySelector('[data-testid=pg-live]')?.dataset.zone === {high!r}",
        timeout=30_000,
    )
    page.evaluate(WATCH_ZONE)
    page.wait_for_timeout(4000)
    for view in ("live", "ppt"):
        changes = page.evaluate(f"window.__pgZoneChanges.{view}")
        times = [t for t, zone in changes if zone in (low, high)]
        assert len(times) >= 4, f"{view}: stopped following the feed: {changes}"
        # at most 3 flashes (6 changes of colour) in any one second (WCAG 2.3.1)
        busiest = max(sum(1 for u in times if t <= u < t + 1000) for t in times)
        assert busiest <= 6, f"{view}: {busiest} colour changes in one second: {changes}"
    # ... and never by showing less than the judgement: a higher zone shows at once
    pairs = page.evaluate("window.__pgShownVsJudged")
    assert len(pairs) > 20
    late = [(judged, shown) for judged, shown in pairs if RANK[shown] < RANK[judged]]
    assert not late, f"a warning shown late: {late[:5]}"
    # nothing on the live view or the panel is animated (no blinking by CSS either)
    animated = page.evaluate(
        "document.getAnimations()"
        ".filter((a) => a.effect?.target?.closest?.('.pg-live, .ppt-panel')).length"
    )
    assert animated == 0
    page.close()
