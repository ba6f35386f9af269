"""Registering a components-v2 element from the HTML, CSS and JavaScript files beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

_HERE = Path(__file__).resolve().parent


def register(name: str, stem: str, js_files: tuple[str, ...]) -> Any:
    """Register a component drawn in the page's own DOM (not a shadow root or an iframe).

    Tests and tools then find its elements with a plain ``document.querySelector``; every CSS
    rule of our components is scoped under its own class prefix instead.

    Args:
        name: the registered name (also the element's type in the page).
        stem: ``STEM.html`` and ``STEM.css`` beside this file.
        js_files: the files that together make one ES module, joined in order; the shared
            helpers (``live_sound.js``, ``live_chart.js``) first, the default export last.

    Returns:
        Streamlit's component callable.
    """
    return st.components.v2.component(
        name,
        html=(_HERE / f"{stem}.html").read_text("utf-8"),
        css=(_HERE / f"{stem}.css").read_text("utf-8"),
        js="\n".join((_HERE / f).read_text("utf-8") for f in js_files),
        isolate_styles=False,
    )
