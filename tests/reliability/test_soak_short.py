"""The load runs of ``make soak``, short, so they cannot rot: ``reliability.load`` records and
reviews 72 s of a 1 kHz session (4 hours in the soak), and ``reliability.tabs`` keeps 2 browser
tabs on the live page for a minute while memory is sampled (8 tabs for 30 minutes in the soak)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reliability.common import ROOT
from reliability.tabs import CHROMIUM
from tests.conftest import require_component

pytestmark = pytest.mark.timeout(600)


def soak_part(results: Path, module: str, *args: str) -> dict[str, object]:
    """Run one soak script with its figures written under ``results``; return the one file."""
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env={**os.environ, "PG_SOAK_RESULTS": str(results)},
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    (written,) = results.glob("*.json")
    figures: dict[str, object] = json.loads(written.read_text())
    return figures


def test_a_long_session_recorded_and_reviewed_short(tmp_path: Path) -> None:
    figures = soak_part(tmp_path / "results", "reliability.load", "--hours", "0.02",
                        "--work", str(tmp_path))  # fmt: skip
    assert figures["samples_expected"] == 72_000
    assert figures["samples_recorded"] == figures["samples_read_back"] == 72_000
    assert figures["gaps"] == figures["bad_frames"] == figures["dropped_frames"] == 0
    assert figures["curve_points_whole"] and figures["recorder_rss_series"]


@pytest.mark.component("browser")
def test_tabs_on_the_live_page_short(tmp_path: Path) -> None:
    require_component(os.path.exists(CHROMIUM), "chromium", "apt-get install chromium")
    png = tmp_path / "rss.png"
    figures = soak_part(tmp_path / "results", "reliability.tabs", "--minutes", "1", "--tabs",
                        "2", "--png", str(png))  # fmt: skip
    assert figures["tabs_live_each_minute"] == [2]  # both tabs updating at the minute's check
    assert figures["session_samples"] and figures["session_gaps"] == 0
    series = figures["series"]
    assert isinstance(series, list) and len(series) == 2  # memory at the start and at 1 min
    assert all(row["bridge"] and row["dashboard"] for row in series)
    assert all(tab["heap_used_after_gc_mib"] for tab in figures["page_per_tab"])
    assert png.stat().st_size > 0
