"""Helpers for the dashboard tests (a module, not conftest: test folders here are not packages,
so a unique module name is the safe way to share code between test files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from firmware_bridge.live import LiveState
from firmware_bridge.zones import JudgedSamples, Zone

PAGES = Path(__file__).resolve().parents[2] / "dashboard" / "views"


def live_state(**fields: Any) -> dict[str, Any]:
    """A bridge's live state (LiveState.as_dict()), connected and calibrated unless told."""
    state = LiveState(
        connected=True,
        source="sim://",
        format="binary",
        zone="target",
        force_n=17.0,
        filtered_n=17.0,
        limit_n=20.0,
        t_s=12.5,
        hold_s=8.0,
        tip_area_cm2=1.0,
        calibrated=True,
        device_id="PG-0042",
        battery_mv=3870,
        rate_hz=79.9,
        nominal_rate_hz=80.0,
    ).as_dict()
    state.update(fields)
    return state


def judged(t: np.ndarray, force: np.ndarray, limit: float = 20.0) -> JudgedSamples:
    """Judged samples with zones from the plain bands (no hysteresis)."""
    ratio = force / limit
    zone = np.select(
        [ratio >= 1.2, ratio >= 1.0, ratio >= 0.8],
        [int(Zone.DANGER), int(Zone.OVER), int(Zone.TARGET)],
        int(Zone.RELAXED),
    ).astype(np.int8)
    return JudgedSamples(t_s=t, raw=force * 4000 + 8e4, force_n=force, filtered_n=force, zone=zone)
