"""Custom Streamlit components (components v2, drawn in the page itself, not in an iframe)."""

from dashboard.components.live_view import live_view

__all__ = ["live_view"]
