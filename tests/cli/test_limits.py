"""``pressureguard limits show / set``, and a changed limit reaching a running bridge."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from firmware_bridge.bridge import Bridge, RecordOptions
from firmware_bridge.store import Store
from tests.integration.cli import run_cli, wait_until


def test_set_then_show_in_newtons_and_kpa(tmp_path: Path) -> None:
    run_cli(tmp_path, "limits", "set", "upper-trapezius:left", "120kPa", "--profile", "ana")
    run_cli(tmp_path, "limits", "set", "forearm", "1.5kgf", "--profile", "ana")
    shown = json.loads(run_cli(tmp_path, "limits", "show", "--json").stdout)
    limits = {row["region"]: row for row in shown["limits"]}
    assert limits["upper-trapezius:left"]["limit_n"] == pytest.approx(12.0)
    assert limits["forearm"]["limit_n"] == pytest.approx(1.5 * 9.80665)
    assert {row["source"] for row in shown["limits"]} == {"manual"}
    assert shown["defaults_n"]["upper-trapezius"] == pytest.approx(14.71, abs=0.01)
    # a restart (a new process, the same store) still has them
    assert "upper-trapezius:left" in run_cli(tmp_path, "limits", "show").stdout


def test_refuses_endangerment_sites_and_limits_above_the_ceiling(tmp_path: Path) -> None:
    site = run_cli(tmp_path, "limits", "set", "axilla", "5N", check=False)
    assert site.returncode != 0 and "endangerment site" in site.stderr
    high = run_cli(tmp_path, "limits", "set", "forearm", "50N", check=False)
    assert high.returncode != 0 and "ceiling" in high.stderr
    run_cli(tmp_path, "limits", "set", "forearm", "50N", "--override-ceiling")


def test_a_limit_set_while_serving_reaches_the_live_zone_within_100_ms(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        bridge = Bridge(
            store,
            RecordOptions(
                source="sim://?pattern=steady&level=4",
                region="forearm",
                record_session=False,
            ),
        )
        thread = threading.Thread(target=bridge.run)
        thread.start()
        try:
            wait_until(lambda: bridge.live.zone == "relaxed", timeout=10)
            started = time.monotonic()
            run_cli(tmp_path, "limits", "set", "forearm", "3.5N")
            set_done = time.monotonic()
            wait_until(lambda: bridge.live.zone == "over", timeout=2, interval=0.005)
            reached = time.monotonic()
        finally:
            bridge.stop()
            thread.join(timeout=10)
    assert bridge.limit_n == pytest.approx(3.5)
    # from the limit being saved (end of the CLI process) to the zone judged against it
    assert reached - set_done < 0.1, f"{(reached - set_done) * 1000:.0f} ms"
    assert reached - started < 5
