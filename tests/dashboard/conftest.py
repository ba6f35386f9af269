"""Fixtures for the dashboard tests: a real store in a temporary PRESSUREGUARD_HOME, shared with
the pages through ``dashboard.resources``; writing what a bridge would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dashboard_helpers import live_state

from dashboard import resources
from firmware_bridge.store import Store


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """The store the dashboard opens (PRESSUREGUARD_HOME = a temp dir); closed afterwards."""
    monkeypatch.setenv("PRESSUREGUARD_HOME", str(tmp_path / "home"))
    resources.close_stores()
    yield resources.get_store()
    resources.close_stores()


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Live rows count as fresh for a minute: a page run may take longer than 0.5 s."""
    monkeypatch.setattr(resources, "STALE_AFTER_S", 60.0)


MakeLive = Callable[..., None]


@pytest.fixture
def set_live(store: Store) -> MakeLive:
    """Write a live row as the bridge would: ``set_live(session_id=None, **state fields)``."""

    def write(session_id: int | None = None, **fields: Any) -> None:
        if session_id is not None:
            fields.setdefault("recording", True)
            fields.setdefault("session_id", session_id)
        store.set_live(session_id, live_state(**fields))

    return write
