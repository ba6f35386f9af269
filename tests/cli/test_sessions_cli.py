"""``pressureguard sessions show --json`` with stats, and ``sessions list`` filters."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.store import Store
from firmware_bridge.zones import JudgedSamples
from tests.integration.cli import run_cli

CONTRACT_KEYS = {
    "id", "started_at", "ended_at", "source", "profile", "region", "n_samples", "duration_s",
    "peak_n", "limit_n", "time_over_limit_s", "dropped_frames", "bad_frames", "gaps", "events",
}  # fmt: skip


def _record(store: Store, profile: str, region: str, started: datetime, peak: float) -> int:
    sid = store.begin_session(
        source="sim://", profile=profile, region=region, limit_n=20.0, started_at=started
    )
    t = np.arange(200) / 20.0
    force = np.linspace(0.0, peak, 200)
    zone = np.searchsorted([16.0, 20.0, 24.0], force, side="right").astype(np.int8)
    store.append_samples(sid, JudgedSamples(t, np.round(force * 4000), force, force, zone))
    store.end_session(sid)
    return sid


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    with Store.open(tmp_path) as store:
        _record(store, "ann", "neck:left", datetime(2024, 5, 1, 9, 0), 22.0)
        _record(store, "ann", "neck:right", datetime(2024, 5, 2, 23, 30), 10.0)
        _record(store, "bob", "neck:left", datetime(2024, 5, 3, 0, 30), 12.0)
        _record(store, "ann", "lumbar-paraspinals", datetime(2024, 5, 9, 8, 0), 15.0)
        store.update_session_review(1, pain_before=6, pain_after=4)
    return tmp_path


def test_show_json_keeps_its_keys_and_adds_stats(data_dir: Path) -> None:
    shown = json.loads(run_cli(data_dir, "sessions", "show", "1", "--json").stdout)
    assert shown.keys() >= CONTRACT_KEYS | {"stats"}
    assert shown["id"] == 1 and shown["n_samples"] == 200 and shown["limit_n"] == 20.0
    stats = shown["stats"]
    assert stats["n_samples"] == 200 and stats["peak_n"] == pytest.approx(22.0)
    assert stats["over_limit_count"] == 1 and stats["time_in_zone_s"]["danger"] == 0.0
    assert stats["pain_change"] == -2.0 and stats["sample_rate_hz"] == pytest.approx(20.0)
    text = run_cli(data_dir, "sessions", "show", "1").stdout
    assert "impulse" in text and "longest hold" in text and "over-limit count: 1" in text


def test_list_filters_by_profile_region_and_local_days(data_dir: Path) -> None:
    def ids(*args: str) -> list[int]:
        out = run_cli(data_dir, "sessions", "list", "--json", *args).stdout
        return [row["id"] for row in json.loads(out)]

    assert ids() == [4, 3, 2, 1]
    assert ids("--profile", "ann") == [4, 2, 1]
    assert ids("--region", "neck") == [3, 2, 1]
    assert ids("--region", "neck:left", "--profile", "ann") == [1]
    assert ids("--from", "2024-05-02", "--to", "2024-05-02") == [2]  # 23:30 local that day
    assert ids("--from", "2024-05-03") == [4, 3]
    assert ids("--to", "2024-05-03") == [3, 2, 1]
    bad = run_cli(data_dir, "sessions", "list", "--from", "May", check=False)
    assert bad.returncode != 0 and "YYYY-MM-DD" in bad.stderr
