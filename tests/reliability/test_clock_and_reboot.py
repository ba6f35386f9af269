"""The host's clock jumping, and the tool rebooting mid-session, fed to a real bridge in-process.

The bridge times samples by the tool's clock and checks that clock against arrival on the host's
monotonic clock. Arrival times here are the test's own (``Bridge.feed(readings, now)``): they jump
an hour ahead and back while the tool streams steadily. A tool reboot is the real thing on the
wire: silence, then INFO with seq 0 and a clock started again from zero.

Repetitions: ``PG_FAULT_REPEATS`` (``make soak`` sets 10).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.commands import poll_commands
from firmware_bridge.store import Store
from firmware_bridge.store._base import utc_iso
from tests.reliability.figures import report
from tests.reliability.toolstream import FRAME_S, RATE_HZ, Tool, fed_bridge

REPEATS = int(os.environ.get("PG_FAULT_REPEATS", "3"))


@pytest.mark.parametrize("jump_s", [3600.0, -3600.0, -5.0, 30.0])
def test_host_clock_jumps_lose_nothing_and_invent_nothing(tmp_path: Path, jump_s: float) -> None:
    """Arrival times jump by ``jump_s`` (then back) REPEATS times while the tool streams."""
    tool = Tool()
    every = int(2.0 / FRAME_S)  # a jump every 2 s of the tool's clock
    frames = every * (2 * REPEATS + 1)
    with fed_bridge(tmp_path) as fed:
        offset = 1000.0
        fed.feed(b"\x00" + tool.info(), offset)
        for i in range(frames):
            if i and i % every == 0:
                offset += jump_s if (i // every) % 2 else -jump_s
            fed.feed(tool.samples(), offset + tool.t_us / 1e6 + FRAME_S + 0.002)
            if i % 2:
                fed.flush()
        session = fed.close()
    with Store.open(tmp_path) as store:
        summary = store.session_summary(session)
        samples = store.load_samples(session)
    assert summary["n_samples"] == tool.sent_samples == len(samples.t_s)
    assert (np.diff(samples.t_s) > 0).all()
    assert summary["duration_s"] == pytest.approx(frames * FRAME_S, abs=2 * FRAME_S)
    assert summary["gaps"] == 0
    kinds = [e["kind"] for e in summary["events"]]
    assert "fault" not in kinds and "no_signal" not in kinds[kinds.index("signal") :]
    assert set(np.unique(samples.zone)) == {0}  # relaxed throughout: 5 N of a 20 N limit
    report(f"host clock jumps {jump_s:+g} s and back", jumps=2 * REPEATS,
           samples_sent=tool.sent_samples, samples_recorded=len(samples.t_s), gaps=0)  # fmt: skip


def test_tool_reboots_mid_session_one_session_with_a_gap_each_time(tmp_path: Path) -> None:
    """REPEATS reboots: silence (NO SIGNAL meanwhile), then INFO seq 0 and a clock from zero."""
    tool = Tool()
    down_s = 1.5
    with fed_bridge(tmp_path) as fed:
        now = 100.0
        fed.feed(b"\x00" + tool.info(), now)
        zones_while_down = []
        for _ in range(REPEATS):
            for _ in range(int(3.0 / FRAME_S)):
                now += FRAME_S
                fed.feed(tool.samples(), now)
            for _ in range(int(down_s / 0.05)):
                now += 0.05
                fed.bridge._check_signal(now)
            fed.flush()
            zones_while_down.append(fed.bridge.live.as_dict()["zone"])
            fed.feed(tool.reboot(), now)
        for _ in range(int(3.0 / FRAME_S)):
            now += FRAME_S
            fed.feed(tool.samples(), now)
        session = fed.close()
    assert zones_while_down == ["no_signal"] * REPEATS
    with Store.open(tmp_path) as store:
        summary = store.session_summary(session)
        samples = store.load_samples(session)
    assert summary["n_samples"] == tool.sent_samples == len(samples.t_s)
    assert (np.diff(samples.t_s) > 0).all()
    assert summary["gaps"] == REPEATS
    for gap in summary["gap_list"]:
        assert gap["end_s"] - gap["start_s"] == pytest.approx(down_s + FRAME_S, abs=0.1)
    kinds = [e["kind"] for e in summary["events"]]
    assert kinds.count("clock_reset") == REPEATS
    gaps = sum(g["end_s"] - g["start_s"] for g in summary["gap_list"])
    report("tool reboot mid-session (INFO seq 0)", repeats=REPEATS, sessions=1,
           gaps=summary["gaps"], samples_sent=tool.sent_samples,
           samples_recorded=len(samples.t_s))  # fmt: skip
    assert summary["duration_s"] == pytest.approx((REPEATS + 1) * (3.0 - 1 / RATE_HZ) + gaps)


@pytest.mark.parametrize(
    ("posted_ago", "carried_out"),
    [(timedelta(hours=-1), True), (timedelta(seconds=5), True), (timedelta(hours=1), False)],
)
def test_commands_across_a_wall_clock_step(
    tmp_path: Path, posted_ago: timedelta, carried_out: bool
) -> None:
    """The wall clock stepped between posting and taking a command: one stamped in the future
    (the clock went back) is still carried out; one an hour old (it went ahead) is answered
    "expired", never carried out late, and never an error."""
    with fed_bridge(tmp_path) as fed:
        stamp = utc_iso(datetime.now(UTC) - posted_ago)
        with fed.store._write("post a command") as db:
            cur = db.execute(
                "INSERT INTO commands (created_at, kind, args) VALUES (?, 'limit', ?)",
                (stamp, '{"limit_n": 11.5}'),
            )
        command_id = int(cur.lastrowid or 0)
        poll_commands(fed.store, fed.bridge)
        result = fed.store.get_command(command_id)["result"]
        assert result["ok"] is carried_out, result
        assert (fed.bridge.limit_n == 11.5) is carried_out
        if not carried_out:
            assert "expired" in result["error"]
