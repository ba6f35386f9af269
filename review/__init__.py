"""Looking back: one session's stats and curve, and trends across sessions, PPTs and the symptom
journal. Pure functions over :class:`firmware_bridge.store.Store` reads, with JSON-ready results,
for the dashboard's review pages, the therapist report and the command line.

- :mod:`review.stats` — :func:`~review.stats.session_stats`: time in zones, peak, impulse,
  holds, sample rate, gaps, lost data, pain change.
- :mod:`review.curve` — :func:`~review.curve.session_curve`: a session's curve for display,
  min/max decimated per time bucket so no peak is lost; full resolution when zoomed in.
- :mod:`review.trends` — :func:`~review.trends.region_trends`: sessions, PPTs and journal days
  per region over weeks, with the clinical caveats.
- :mod:`review.journal` — the symptom journal's scales and common triggers.
"""

from review.curve import Curve, session_curve
from review.stats import SessionStats, session_stats
from review.trends import CAVEATS, region_trends

__all__ = ["CAVEATS", "Curve", "SessionStats", "region_trends", "session_curve", "session_stats"]
