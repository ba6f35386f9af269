"""What the accessibility tests share: axe-core in the page, the focus ring, keyboard-only moves.

axe-core's own JavaScript comes from the ``axe-playwright-python`` package (pinned in the dev
extra), which ships ``axe.min.js``: nothing is downloaded when the tests run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Replaces the browser's speech with a recorder: what would be said is kept in
#: ``window.__pgSaid``.
SPEECH_RECORDER = """
window.__pgSaid = [];
const recorder = {
  speak: (u) => window.__pgSaid.push(u.text),
  cancel: () => {},
  getVoices: () => [],
  speaking: false,
  pending: false,
  paused: false,
};
Object.defineProperty(window, 'speechSynthesis', { get: () => recorder, configurable: true });
"""

#: The impacts that fail a page.
FAILING = ("serious", "critical")

#: Violations in Streamlit's own markup that the app cannot change, each as (axe rule id, the
#: exact CSS selector axe reports, why it stays). Only these exact pairs are let through.
EXCLUDED: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class Finding:
    """One element that breaks one axe rule."""

    rule: str
    impact: str
    target: str
    html: str
    why: str

    def __str__(self) -> str:
        return f"{self.rule} ({self.impact}) at {self.target}: {self.why}\n    {self.html}"


def axe_script() -> str:
    """axe-core's JavaScript, from the installed package."""
    from axe_playwright_python.base import AXE_SCRIPT

    return str(AXE_SCRIPT)


def run_axe(page: Any) -> list[Finding]:
    """Run axe-core on the whole page; every element of every violation, any impact."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_script())
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    found = []
    for rule in result["violations"]:
        for node in rule["nodes"]:
            found.append(
                Finding(
                    rule=rule["id"],
                    impact=str(node.get("impact") or rule.get("impact")),
                    target=" ".join(str(t) for t in node["target"]),
                    html=str(node.get("html", ""))[:300],
                    why=str(node.get("failureSummary") or rule["help"]).replace("\n", " "),
                )
            )
    return found


def failing(found: list[Finding]) -> list[Finding]:
    """The serious and critical findings that no :data:`EXCLUDED` pair lets through."""
    allowed = {(rule, target) for rule, target, _ in EXCLUDED}
    return [f for f in found if f.impact in FAILING and (f.rule, f.target) not in allowed]


#: The focused element (or, for widgets that hide their real input, the part a person sees) and
#: whether a focus ring is drawn around it: an outline of at least 2 px, or a box shadow.
FOCUS_JS = """() => {
  const a = document.activeElement;
  if (!a || a === document.body) return null;
  const seen = a.closest('[data-rac][data-focus-visible]:not(input, [data-orientation])')
    || a.closest('[data-testid=stTextInputRootElement], [data-testid=stNumberInputContainer]')
    || a.closest('[data-baseweb="input"], [data-baseweb="textarea"]') || a;
  const ringed = (el) => {
    const s = getComputedStyle(el);
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
    return outline || (s.boxShadow && s.boxShadow !== 'none');
  };
  const box = seen.getBoundingClientRect();
  const key = a.closest('[class*="st-key-"]');
  return {
    tag: a.tagName.toLowerCase(),
    role: a.getAttribute('role') || '',
    testid: a.dataset.testid || '',
    key: key ? [...key.classList].find((c) => c.startsWith('st-key-')).slice(7) : '',
    name: (a.getAttribute('aria-label') || a.textContent || '').trim().slice(0, 60),
    ring: ringed(seen) || (seen !== a && ringed(a)),
    visible: box.width > 0 && box.height > 0,
  };
}"""


def focused(page: Any) -> dict[str, Any] | None:
    """The focused element as :data:`FOCUS_JS` describes it (None: nothing is focused)."""
    value = page.evaluate(FOCUS_JS)
    return value if isinstance(value, dict) else None


def tab_to(page: Any, match: str, limit: int = 80) -> dict[str, Any]:
    """Press Tab until the focused element matches the JavaScript predicate ``match`` (a
    function of the focused element), checking the focus ring of every stop on the way.

    Raises:
        AssertionError: a stop without a visible focus ring, or no match within ``limit``
            presses.
    """
    for _ in range(limit):
        page.keyboard.press("Tab")
        here = focused(page)
        if here is None:
            continue
        assert here["ring"], f"no visible focus ring on {here}"
        if page.evaluate(f"() => ({match})(document.activeElement)"):
            return here
    raise AssertionError(f"{match} never got the focus in {limit} presses of Tab")


def in_key(key: str) -> str:
    """A :func:`tab_to` predicate: the focus is inside the Streamlit element with this key."""
    return f"(a) => !!a.closest('.st-key-{key}')"


def has_testid(testid: str) -> str:
    """A :func:`tab_to` predicate: the focused element has this data-testid."""
    return f"(a) => a.dataset.testid === '{testid}'"


def shoot(page: Any, path: Any, width: int = 1280) -> None:
    """Save a screenshot of the whole page: Streamlit scrolls inside its main area, so the
    viewport is made as tall as the content for the shot, then put back."""
    before = page.viewport_size
    height = page.evaluate(
        """() => {
            const main = document.querySelector('[data-testid=stMain]');
            if (main) main.scrollTop = 0;
            const block = document.querySelector('[data-testid=stMainBlockContainer]');
            return block.getBoundingClientRect().top + block.scrollHeight + 40;
        }"""
    )
    page.set_viewport_size({"width": width, "height": int(min(max(height, 900), 4000))})
    page.wait_for_timeout(400)  # let the layout and canvases settle at the new size
    page.screenshot(path=str(path))
    if before:
        page.set_viewport_size(before)


def walk_focus(page: Any, limit: int = 200) -> list[dict[str, Any]]:
    """Every stop of the Tab key on the page, once round (until the first stop comes back or
    ``limit`` presses), as :data:`FOCUS_JS` describes them."""
    page.evaluate("() => document.activeElement?.blur()")
    stops: list[dict[str, Any]] = []
    first = None
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement === document.body"):
            continue
        mark = page.evaluate(
            "() => { const a = document.activeElement; a.__pgStop = a.__pgStop || Math.random();"
            " return a.__pgStop; }"
        )
        if first is None:
            first = mark
        elif mark == first:
            break
        here = focused(page)
        if here is not None:
            stops.append(here)
    return stops
