"""The bridge and the stored calibration: an old one is pointed out, a new one is used at once."""

from __future__ import annotations

from pathlib import Path

from firmware_bridge.commands import poll_commands
from firmware_bridge.store import Store
from tests.calibration.test_measure_cli import tool_stream
from tests.integration.test_ppt_bridge import TRIALS, serving_bridge


def test_an_old_calibration_is_pointed_out_and_a_saved_one_is_used_at_once(
    tmp_path: Path,
) -> None:
    data, _, _ = tool_stream(TRIALS[:1])
    with Store.open(tmp_path / "data") as store:
        store.save_calibration("pg-ppt", 1000.0, 0.0)
        store.set_setting("calibration_max_age_days", 0)  # any stored calibration is "old"
        bridge = serving_bridge(tmp_path, store, data)
        bridge.run()
        warning = bridge.live.calibration_warning
        assert warning is not None and "days old" in warning and "known weight" in warning
        assert bridge.pipeline.calibration is not None
        assert bridge.pipeline.calibration.counts_per_n == 1000.0

        # the Calibrate page saves a new calibration and tells the bridge
        store.save_calibration("pg-ppt", 2000.0, 10.0)
        store.set_setting("calibration_max_age_days", 90)
        command = store.post_command("calibration_reload", {"device_id": "pg-ppt"})
        poll_commands(store, bridge)
        assert store.get_command(command)["result"]["ok"] is True
        assert bridge.pipeline.calibration is not None
        assert bridge.pipeline.calibration.counts_per_n == 2000.0
        assert bridge.live.calibration_warning is None
