"""Settings, profiles, comfort limits, calibrations, commands and live status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.feed import display_state
from firmware_bridge.errors import NotFoundError, UsageError
from firmware_bridge.store import Store
from tests.store.exchange_helpers import samples


def test_settings_hold_json_values(store: Store) -> None:
    assert store.get_setting("missing") is None
    assert store.get_setting("missing", 5) == 5
    store.set_setting("display", {"units": "kPa", "chart_s": 30, "sounds": [1, 2]})
    store.set_setting("volume", 0.5)
    store.set_setting("volume", 0.75)
    assert store.get_setting("display") == {"units": "kPa", "chart_s": 30, "sounds": [1, 2]}
    assert store.settings() == {"display": store.get_setting("display"), "volume": 0.75}
    store.set_setting("nan", float("nan"))  # not valid JSON: stored as null
    assert store.get_setting("nan", "default") is None


def test_profiles(store: Store) -> None:
    assert store.ensure_profile("default") == 1
    ann = store.ensure_profile("ann")
    assert store.ensure_profile(" ann ") == ann
    assert [p["name"] for p in store.list_profiles()] == ["default", "ann"]
    assert store.update_profile_settings("ann", {"region": "neck"}) == {"region": "neck"}
    assert store.update_profile_settings("ann", {"tip": "ball"}) == {
        "region": "neck",
        "tip": "ball",
    }
    assert store.list_profiles()[1]["settings"] == {"region": "neck", "tip": "ball"}
    with pytest.raises(UsageError, match="profile"):
        store.ensure_profile("  ")


def test_limits_keep_history_and_latest_is_current(store: Store) -> None:
    assert store.current_limit("ann", "neck") is None
    store.set_limit("ann", "neck", 12.0, "default")
    store.set_limit("ann", "neck", 15.5, "measured", note="3 trials")
    store.set_limit("ann", "neck", 30.0, "manual", tip="ball")
    store.set_limit("ann", "lumbar-paraspinals:left", 25.0, "manual")
    store.set_limit("bob", "neck", 10.0, "manual")
    current = store.current_limit("ann", "neck")
    assert current is not None
    assert (current["limit_n"], current["source"], current["note"]) == (
        15.5,
        "measured",
        "3 trials",
    )
    assert current["tip"] is None and current["profile"] == "ann" and current["set_at"]
    ball = store.current_limit("ann", "neck", tip="ball")
    assert ball is not None and ball["limit_n"] == 30.0 and ball["tip"] == "ball"
    history = store.limit_history("ann", "neck")
    assert [h["limit_n"] for h in history] == [15.5, 12.0]
    assert len(store.limit_history("ann")) == 4
    assert [(c["region"], c["tip"], c["limit_n"]) for c in store.current_limits("ann")] == [
        ("lumbar-paraspinals:left", None, 25.0),
        ("neck", None, 15.5),
        ("neck", "ball", 30.0),
    ]
    assert len(store.current_limits()) == 4
    with pytest.raises(UsageError, match="source"):
        store.set_limit("ann", "neck", 10.0, "guess")
    with pytest.raises(UsageError, match="more than 0"):
        store.set_limit("ann", "neck", 0.0, "manual")


def test_calibrations_keep_history(store: Store) -> None:
    assert store.current_calibration("PG-1") is None
    store.save_calibration("PG-1", 4000.0, 81234.0, {"r2": 0.9991, "points": [[0, 81234]]})
    store.save_calibration("PG-1", 4010.5, 81200.0)
    store.save_calibration("PG-2", -3900.0, 100.0, {"method": "factory"})
    current = store.current_calibration("PG-1")
    assert current is not None
    assert (current["counts_per_n"], current["offset_counts"], current["fit"]) == (
        4010.5,
        81200.0,
        {},
    )
    assert current["created_at"]
    history = store.calibration_history("PG-1")
    assert [h["counts_per_n"] for h in history] == [4010.5, 4000.0]
    assert history[1]["fit"]["r2"] == 0.9991
    assert [c["device_id"] for c in store.current_calibrations()] == ["PG-1", "PG-2"]
    with pytest.raises(UsageError, match="not be 0"):
        store.save_calibration("PG-1", 0.0, 1.0)


def test_commands_flow_from_dashboard_to_bridge(store: Store) -> None:
    with Store(store.path) as dashboard:
        first = dashboard.post_command("start", {"region": "neck"})
        second = dashboard.post_command("tare")
        taken = store.take_commands()
        assert [(c["id"], c["kind"], c["args"]) for c in taken] == [
            (first, "start", {"region": "neck"}),
            (second, "tare", {}),
        ]
        assert all(c["taken_at"] for c in taken)
        assert store.take_commands() == []  # taken once only
        store.finish_command(first, {"ok": True, "session_id": 7})
        done = dashboard.get_command(first)
        assert done["result"] == {"ok": True, "session_id": 7} and done["done_at"]
        assert dashboard.get_command(second)["done_at"] is None
    with pytest.raises(NotFoundError, match="no command 99"):
        store.finish_command(99)
    with pytest.raises(NotFoundError, match="no command 99"):
        store.get_command(99)


def test_old_commands_expire_instead_of_running_late(store: Store) -> None:
    old = store.post_command("tare")
    store._conn().execute(  # white-box: posted two minutes ago
        "UPDATE commands SET created_at = '2000-01-01T00:00:00.000+00:00' WHERE id = ?", (old,)
    )
    new = store.post_command("stop")
    assert [c["id"] for c in store.take_commands(max_age_s=60.0)] == [new]
    expired = store.get_command(old)
    assert expired["result"] == {"ok": False, "error": "expired: no bridge took it in time"}


def test_live_status(store: Store) -> None:
    assert store.get_live() is None
    sid = store.begin_session(source="sim://", profile="default", region=None, limit_n=None)
    store.set_live(sid, {"connection": "connected", "battery_mv": 3900, "rate_hz": 79.8})
    store.set_live(sid, {"connection": "reconnecting"})
    live = store.get_live()
    assert live is not None
    assert live["session_id"] == sid and live["state"] == {"connection": "reconnecting"}
    assert 0.0 <= live["age_s"] < 5.0
    store.set_live(None, {"connection": "idle"})
    live = store.get_live()
    assert live is not None and live["session_id"] is None
    store.clear_live()
    assert store.get_live() is None


def test_live_status_stamped_in_the_future_has_no_age_and_never_hides_the_running_bridge(
    store: Store,
) -> None:
    """The host's clock went back an hour after a bridge died: its last row is stamped an hour
    ahead. That row has no knowable age (so it is never fresh), and the next bridge's row, stamped
    earlier by the clock, is still the one read: the table's order, not the stamps, says which
    was written last."""
    ahead = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="milliseconds")
    with store._write("a dead bridge's last row") as db:
        db.execute(
            "INSERT INTO live (recorder_host, recorder_pid, updated_at, state)"
            " VALUES ('h', 1, ?, '{\"zone\": \"relaxed\"}')",
            (ahead,),
        )
    live = store.get_live()
    assert live is not None and live["recorder_pid"] == 1 and live["age_s"] is None
    state = display_state(live)
    assert state["stale"] and state["zone"] == "no_signal" and state["force_n"] is None
    assert "clock set back" in state["message"]

    store.set_live(None, {"connection": "connected"})  # the next bridge, on the stepped clock
    live = store.get_live()
    assert live is not None and live["recorder_pid"] != 1
    assert 0.0 <= live["age_s"] < 5.0
    with store._write("the dead bridge's row again"):  # replaced rows move to the end too
        store._conn().execute("UPDATE live SET state = '{}' WHERE recorder_pid = 1")
    assert store.get_live()["recorder_pid"] != 1  # type: ignore[index]


def test_live_samples_from_before_a_clock_step_back_leave_the_curve(store: Store) -> None:
    """Chunks stamped in the future (written before the clock went back) are not in a new live
    curve and are pruned at the next write, instead of waiting an hour to age out."""
    store.append_live(samples(10), None)
    with store._write("step the stamps an hour ahead") as db:
        db.execute("UPDATE live_samples SET written_at = written_at + 3600")
    store._last_prune += 3600  # its last prune, too, was on the clock's old reading
    assert len(store.live_since(0)[1]) == 0
    store.append_live(samples(5), None)
    with store._read("count") as db:
        assert db.execute("SELECT count(*) FROM live_samples").fetchone()[0] == 1
    assert len(store.live_since(0)[1]) == 5
