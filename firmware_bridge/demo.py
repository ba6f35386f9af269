"""Demo data: a few realistic past sessions from the simulated tool, so every page has history."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from firmware_bridge.bridge import Bridge, RecordOptions
from firmware_bridge.store import Store

log = logging.getLogger(__name__)

#: (days ago, region, tip (None: the tool's own flat tip), simulator seed, minutes, pain before,
#: pain after)
SEEDED = (
    (9, "upper-trapezius:left", None, 11, 6, 6, 4),
    (7, "upper-trapezius:right", None, 12, 5, 5, 4),
    (4, "lumbar-paraspinals:left", "knob", 13, 8, 6, 3),
    (2, "upper-trapezius:left", None, 14, 6, 5, 3),
    (1, "gluteal:right", "ball-63mm", 15, 4, 4, 4),
)


def demo_data_dir(base: Path) -> Path:
    """The demo's own data dir, beside (never inside) the user's sessions."""
    return base / "demo"


def seed_sessions(data_dir: Path) -> list[int]:
    """Record the seeded past sessions once (at full speed); returns the new session ids."""
    with Store.open(data_dir) as store:
        if store.list_sessions(limit=1):
            return []
        ids = []
        now = datetime.now(UTC).replace(microsecond=0)
        for days, region, tip, seed, minutes, before, after in SEEDED:
            started = now - timedelta(days=days, hours=2)
            options = RecordOptions(
                source=f"sim://?seed={seed}&speed=0&duration={minutes * 60}",
                region=region,
                tip=tip,
                started_at=started,
            )
            session_id = Bridge(store, options).run()
            if session_id is None:  # pragma: no cover - a seeded recording always has a session
                continue
            store.update_session(
                session_id,
                pain_before=before,
                pain_after=after,
                note="seeded demo session",
            )
            ids.append(session_id)
            log.info("seeded demo session %d (%s)", session_id, region)
        return ids
