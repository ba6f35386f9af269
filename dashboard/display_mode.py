"""How the dashboard is drawn for eyes and hands that need more: a visible focus everywhere, text
dark enough to read, and a "large text and high contrast" mode the user switches in the sidebar.

The mode is the store setting :data:`SETTING` (true or false), saved the moment it is switched,
like the unit (:mod:`dashboard.unit_picker`): one choice for every page and every tab, and a
change made in another tab shows up on the next run. It is applied as page CSS, which reaches our
components too (they are drawn in the page's own DOM): the live view, the threshold panel and the
session chart read it, including their canvases (the ``--pg-chart-*`` variables below, read by
``live_chart.js``).

:data:`BASE_CSS` is on every page whatever the mode: a strong focus ring on every control (the
people using PressureGuard often steer by keyboard: a shaky hand, one hand holding the tool) and
Streamlit's grey captions and disabled labels darkened to a contrast of at least 4.5:1.
"""

from __future__ import annotations

import logging

import streamlit as st

from firmware_bridge.errors import PressureGuardError
from firmware_bridge.store import Store

log = logging.getLogger(__name__)

#: The store setting: whether large text and high contrast are on.
SETTING = "display_high_contrast"
KEY = "pg_high_contrast"
LABEL = "Large text and high contrast"

#: The focus ring: a dark blue line with a white one inside, visible on every background.
FOCUS_RING = "outline: 3px solid #1a56db !important; outline-offset: 2px !important;"
#: The boxes of Streamlit's text and number fields (the input inside cannot show a ring).
_FIELDS = '[data-testid="stTextInputRootElement"], [data-testid="stNumberInputContainer"]'

BASE_CSS = f"""
.stApp :focus-visible:not([data-rac], [data-baseweb] *),
.stApp [data-rac][data-orientation]:focus-visible {{
  {FOCUS_RING}
  box-shadow: 0 0 0 2px #ffffff !important;
}}
/* Streamlit's react-aria widgets (selects, sliders, switches, checkboxes, radios) hide their real
   input and mark the visible part data-focus-visible (but a tab panel, which has an orientation,
   is marked too whenever anything inside it has the focus); Baseweb text fields hide an outline
   inside their box, and so do text and number fields: ring the part a person sees. */
.stApp [data-rac][data-focus-visible]:not(input, [data-orientation]),
.stApp :is({_FIELDS}):focus-within,
.stApp [data-baseweb="input"]:focus-within,
.stApp [data-baseweb="textarea"]:focus-within {{
  {FOCUS_RING}
  box-shadow: 0 0 0 2px #ffffff !important;
}}
/* Streamlit draws captions at 60 % opacity (2.8:1 on white) and a disabled widget's label at
   40 % (2.3:1): still lighter than the text, but readable (about 7:1 and 5.6:1). */
.stApp [data-testid="stCaptionContainer"] {{
  opacity: 1;
  color: #4d5057;
}}
.stApp [data-testid="stWidgetLabel"][disabled],
.stApp [data-testid="stWidgetLabel"][disabled] * {{
  color: #686663;
}}
"""

#: Large text and high contrast: everything one and a quarter times larger, text black, borders
#: and lines dark and thicker, the zones' colours deeper.
LARGE_CSS = f"""
html {{ font-size: 125%; }}
html body .stApp,
.stApp [data-testid="stCaptionContainer"],
.stApp [data-testid="stWidgetLabel"]:not([disabled]) p {{
  color: #000000;
}}
.stApp [data-testid="stCaptionContainer"] {{ font-size: 1rem; }}
.stApp [data-testid="stAlertContainer"] [data-testid="stMarkdownContainer"] {{ color: #000000; }}
.stApp [data-testid="stAlertContainer"] {{ border: 2px solid #000000; }}
.stApp [data-testid="stMarkdownContainer"] :is(p, li) {{ font-size: 1.1rem; }}
.stApp :focus-visible:not([data-rac], [data-baseweb] *),
.stApp [data-rac][data-orientation]:focus-visible,
.stApp [data-rac][data-focus-visible]:not(input, [data-orientation]),
.stApp :is({_FIELDS}):focus-within,
.stApp [data-baseweb="input"]:focus-within,
.stApp [data-baseweb="textarea"]:focus-within {{
  outline: 4px solid #000000 !important;
  outline-offset: 2px !important;
  box-shadow: 0 0 0 7px #ffd60a !important;
}}
.stApp [data-baseweb="input"], .stApp [data-baseweb="textarea"],
.stApp [data-baseweb="select"] > div, .stApp [data-testid="stBaseButton-secondary"] {{
  border: 2px solid #000000 !important;
}}
.stApp hr {{ border-color: #000000; }}

.pg-live, .ppt-panel, .pg-sc {{
  --pg-ink: #000000;
  --pg-muted: #000000;
  --pg-line: #000000;
  --ppt-ink: #000000;
  --ppt-muted: #000000;
  --ppt-line: #000000;
  --pg-chart-font: 17px;
  --pg-chart-line: 4;
  --pg-chart-ink: #000000;
}}
.pg-live .pg-hero, .ppt-panel .ppt-top {{ border-width: 5px; }}
.pg-live[data-zone="relaxed"] .pg-hero, .pg-live[data-zone="target"] .pg-hero,
.pg-live[data-zone="over"] .pg-hero, .pg-live[data-zone="no_signal"] .pg-hero,
.pg-live[data-zone="uncalibrated"] .pg-hero {{
  color: #000000;
  border-color: #000000;
}}
.pg-live[data-zone="relaxed"] .pg-hero {{ background: #d6e6f7; }}
.pg-live[data-zone="target"] .pg-hero {{ background: #cdebd5; }}
.pg-live[data-zone="danger"] .pg-hero {{ background: #8c0015; border-color: #000000; }}
.ppt-panel[data-zone="danger"] .ppt-top {{ background: #8c0015; border-color: #000000; }}
.pg-live .pg-value {{ font-size: 7rem; }}
.pg-live .pg-fact-value:not(.pg-tip) {{ font-size: 1.8rem; }}
.pg-live .pg-button, .ppt-panel .ppt-button, .pg-sc .pg-sc-btn {{
  border: 3px solid #000000;
  color: #000000;
}}
.pg-live .pg-mute[aria-pressed="true"] {{ background: #000000; color: #ffffff; }}
.pg-live .pg-notice {{ background: #ffffff; border: 2px solid #000000; border-left-width: 6px; }}
.pg-sc .pg-sc-foot, .pg-sc .pg-sc-hint {{ font-size: 1rem; color: #000000; }}
"""


def _save(store: Store) -> None:
    """Store the switched mode at once (a widget callback: runs before the pages do)."""
    try:
        store.set_setting(SETTING, bool(st.session_state[KEY]))
    except PressureGuardError as exc:
        st.session_state["pg_contrast_error"] = f"The display setting could not be saved: {exc}"


def high_contrast(store: Store) -> bool:
    """Whether large text and high contrast are on (off when the setting cannot be read)."""
    try:
        return store.get_setting(SETTING, False) is True
    except PressureGuardError as exc:
        log.warning("cannot read the display setting: %s", exc)
        return False


def css(large: bool) -> str:
    """The page CSS for the mode."""
    return BASE_CSS + (LARGE_CSS if large else "")


def apply(large: bool) -> None:
    """Put the mode's CSS on the page (an element that takes no room)."""
    st.html(f"<style>{css(large)}</style>")


def display_toggle(store: Store | None) -> bool:
    """The switch, in the sidebar, and the CSS for the mode in force; returns whether it is on.

    Without a store (it cannot be opened) the base CSS alone is applied and no switch is shown.
    """
    if store is None:
        apply(False)
        return False
    on = high_contrast(store)
    st.session_state[KEY] = on  # the store is the truth (another tab may change it)
    st.sidebar.toggle(
        LABEL,
        key=KEY,
        on_change=_save,
        args=(store,),
        help="Bigger words and numbers, black text, thicker lines and a stronger focus ring, "
        "on every page and the live view. Saved for next time.",
    )
    error = st.session_state.pop("pg_contrast_error", None)
    if error:
        st.sidebar.error(error)
    apply(on)
    return on
