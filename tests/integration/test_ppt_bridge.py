"""The guided threshold measurement run by the bridge for the dashboard's Limits page.

A binary tool stream (three slow ramps and one too fast) is replayed into a serving bridge; the
measurement is started and marked through the same commands the page posts, or by the tool's
button. The stored PPT must be the mean of the forces at the marks; during the measurement the
profile's ceiling is DANGER; afterwards the comfort limit applies again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from calibration.precautions import ProfileSafety
from firmware_bridge.bridge import Bridge, RecordOptions
from firmware_bridge.commands import obey, poll_commands
from firmware_bridge.errors import UsageError
from firmware_bridge.live import LiveState
from firmware_bridge.store import Store
from firmware_bridge.zones import JudgedSamples, Zone
from tests.calibration.test_measure_cli import tool_stream

REGION = "upper-trapezius:left"
# trial 2 is pressed at 15 N/s (150 kPa/s on 1 cm²): rejected, then repeated
TRIALS = [(5.0, 10.0), (15.0, 12.0), (5.0, 11.0), (5.0, 12.0)]


def serving_bridge(tmp_path: Path, store: Store, data: bytes, speed: float = 0) -> Bridge:
    """A bridge serving a replay of ``data`` (``speed`` 0: as fast as it is read)."""
    capture = tmp_path / "tool.bin"
    capture.write_bytes(data)
    options = RecordOptions(
        source=f"replay://{capture}?speed={speed}", record_session=False, reconnect=False
    )
    return Bridge(store, options)


def test_button_marks_give_the_stored_ppt_and_the_fast_ramp_is_rejected(tmp_path: Path) -> None:
    data, presses, _ = tool_stream(TRIALS)
    with Store.open(tmp_path / "data") as store:
        bridge = serving_bridge(tmp_path, store, data)
        limit_before = bridge.limit_n
        store.post_command("ppt_start", {"profile": "ann", "region": REGION, "fraction": 0.8})
        poll_commands(store, bridge)
        assert bridge.measurement is not None
        bridge.run()
        history = store.ppt_history("ann", REGION)
        live = bridge.live.as_dict()["ppt"]

    assert len(history) == 1
    stored = history[0]
    accepted = [presses[0], presses[2], presses[3]]
    assert stored["ppt_n"] == pytest.approx(sum(accepted) / 3, abs=0.3)
    assert stored["n"] == 3 and stored["attempts"] == 4
    rejected = [t for t in stored["trials"] if not t["accepted"]]
    assert len(rejected) == 1 and "too fast" in rejected[0]["reason"]
    assert live["state"] == "done" and live["ppt_id"] == stored["id"]
    assert live["summary"]["proposed_limit_n"] == pytest.approx(0.8 * stored["ppt_n"], rel=1e-3)
    # the measurement is over: the comfort limit is judged again, not the ceiling
    assert bridge.pipeline.config.limit_n == pytest.approx(limit_before)


def test_screen_marks_at_the_sample_time_seen_give_the_same_ppt(tmp_path: Path) -> None:
    # the user holds a moment after marking, as people do: the mark reaches the bridge (from the
    # page) before the trial ends, even though a fast replay judges big blocks at once
    data, presses, marks = tool_stream(TRIALS, hold_s=2.0, buttons=False)
    with Store.open(tmp_path / "data") as store:
        bridge = serving_bridge(tmp_path, store, data, speed=1)  # raw bytes at 115200 baud
        obey(bridge, "ppt_start", {"profile": "ann", "region": REGION})

        def mark_when_seen(judged: JudgedSamples, _live: LiveState) -> None:
            # the page sends the newest sample time it has drawn when the space bar goes down
            while marks and judged.t_s[-1] >= marks[0]:
                obey(bridge, "ppt_mark", {"t": marks.pop(0)})

        bridge.on_judged = mark_when_seen
        bridge.run()
        (stored,) = store.ppt_history("ann", REGION)
    assert stored["ppt_n"] == pytest.approx((presses[0] + presses[2] + presses[3]) / 3, abs=0.3)


def test_during_a_measurement_the_profile_ceiling_is_danger(tmp_path: Path) -> None:
    # bleeding → a 1 kgf/cm² ceiling (9.8 N on 1 cm²): the 10–12 N presses cross it
    data, _, _ = tool_stream(TRIALS)
    zones: list[int] = []
    with Store.open(tmp_path / "data") as store:
        safety = ProfileSafety(frozenset({"bleeding"}), False, None)
        store.update_profile_settings("ann", safety.to_settings())
        bridge = serving_bridge(tmp_path, store, data)
        obey(bridge, "ppt_start", {"profile": "ann", "region": REGION})
        bridge.on_judged = lambda judged, _live: zones.extend(judged.zone.tolist())
        bridge.run()
        status = bridge.live.as_dict()["ppt"]
    assert status["ceiling_n"] == pytest.approx(safety.ceiling_n(None), abs=1e-3)
    assert Zone.DANGER in zones


def test_no_measurement_while_a_session_records(tmp_path: Path) -> None:
    data, _, _ = tool_stream(TRIALS[:1])
    with Store.open(tmp_path / "data") as store:
        bridge = serving_bridge(tmp_path, store, data)
        bridge.start_session("ann", REGION)
        with pytest.raises(UsageError, match="session is recording"):
            obey(bridge, "ppt_start", {"profile": "ann", "region": REGION})
        command = store.post_command("ppt_start", {"profile": "ann", "region": "axilla"})
        bridge.stop_session()
        poll_commands(store, bridge)
        result: dict[str, Any] = store.get_command(command)["result"]
    assert result["ok"] is False and "endangerment" in result["error"]


def test_the_ceiling_is_danger_unless_a_clinician_agreed_to_a_higher_limit(
    tmp_path: Path,
) -> None:
    data, _, _ = tool_stream(TRIALS[:1])
    with Store.open(tmp_path / "data") as store:
        bridge = serving_bridge(tmp_path, store, data)
        ceiling = ProfileSafety().ceiling_n(None)
        bridge.start_session("ann", REGION)
        assert bridge.pipeline.judge.ceiling_n == pytest.approx(ceiling)
        bridge.stop_session()
        # a manual limit above the ceiling, set with --override-ceiling (no precautions)
        store.set_limit("bob", REGION, ceiling * 1.25, "manual", note="override")
        bridge.start_session("bob", REGION)
        assert bridge.limit_n == pytest.approx(ceiling * 1.25)
        assert bridge.pipeline.judge.ceiling_n == float("inf")  # 1.2 × the limit is DANGER
