"""The store under faults, with ``pressureguard record`` run as a user would: another process
locking the database, a full disk, a read-only data directory, a second bridge on one store.

Each fault ends in one line a person can act on, nothing committed is lost, and the next start is
clean. Repetitions: ``PG_FAULT_REPEATS`` (``make soak`` sets 10).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.errors import BridgeBusyError
from firmware_bridge.store import Store
from tests.conftest import IN_CI
from tests.integration.cli import run_cli, show, start_record, stop_record, wait_until
from tests.reliability.figures import report

pytestmark = [pytest.mark.skipif(os.name != "posix", reason="POSIX processes and mounts")]

REPEATS = int(os.environ.get("PG_FAULT_REPEATS", "1"))
RATE = 200
STEADY = f"sim://?seed=4&pattern=steady&level=3&rate={RATE}"

HOLD_LOCK = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
"""


def recording(data: Path) -> bool:
    with Store.open(data) as store:
        rows = store.list_sessions()
        return bool(rows) and (rows[0].get("n_samples") or 0) > 0


def test_database_locked_by_another_process(tmp_path: Path) -> None:
    """Another program holds the write lock for 7 s (longer than SQLite's 5 s wait) REPEATS
    times: the recording says so once per spell, keeps judging, and saves every sample after."""
    data = tmp_path / "data"
    rec = start_record(data, STEADY)
    try:
        wait_until(lambda: recording(data), timeout=20)
        for _ in range(REPEATS):
            holder = subprocess.Popen(
                [sys.executable, "-c", HOLD_LOCK, str(data / "pressureguard.db"), "7"],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
            holder.communicate(timeout=30)
            assert holder.returncode == 0
            time.sleep(1.0)
        rec.send_signal(2)
        out, err = rec.communicate(timeout=60)
    finally:
        if rec.poll() is None:
            rec.kill()
            rec.communicate()
    assert rec.returncode == 0, err
    assert "Traceback" not in err
    assert err.count("store busy") == REPEATS, err
    assert err.count("store free again") == REPEATS, err
    session = int(out.strip().splitlines()[-1])
    summary = show(data, session)
    with Store.open(data) as store:
        t = store.load_samples(session).t_s
    assert summary["gaps"] == 0 and summary["status"] == "ended"
    assert len(t) == summary["n_samples"]
    assert np.diff(t).max() < 5 / RATE, "a hole in the recording"
    assert len(t) == pytest.approx(RATE * (t[-1] - t[0]), abs=3)
    report(
        "database locked by another process (7 s each)",
        repeats=REPEATS,
        samples_expected=round(RATE * (t[-1] - t[0])) + 1,
        samples_recorded=len(t),
        largest_step_s=round(float(np.diff(t).max()), 4),
        messages=err.count("store busy"),
    )


@contextlib.contextmanager
def small_disk(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` at ``where`` (needs root); skipped off-CI where it cannot be made."""
    where.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        if IN_CI:
            pytest.fail(f"cannot mount a tmpfs in CI: {made.stderr.decode().strip()}")
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines and all(line.startswith("pressureguard: ") for line in lines), proc.stderr
    return lines[-1]


def fill(disk: Path, leave: int) -> Path:
    """A file taking all of ``disk``'s free space but ``leave`` bytes."""
    filler = disk / "filler"
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with filler.open("wb") as fh:
        fh.write(b"\0" * max(0, free - leave))
    return filler


def test_disk_full_says_so_keeps_what_it_has_and_the_next_start_is_clean(tmp_path: Path) -> None:
    """The disk fills up mid-session (REPEATS times): one line saying so, every committed sample
    kept; once space is freed the next start closes the cut session and records cleanly."""
    with small_disk(tmp_path / "disk", "16m") as disk:
        data = disk / "pg"
        run_cli(data, "units", "N")  # the store exists before the disk is filled
        kept_each = []
        for _ in range(REPEATS):
            filler = fill(disk, 1_500_000)
            proc = run_cli(data, "record", "sim://?speed=0&rate=1000", check=False, timeout=120)
            line = one_error_line(proc)
            assert "disk full" in line and "kept" in line, line
            with Store.open(data) as store:
                cut = store.list_sessions(limit=1)[0]["id"]
                summary = store.session_summary(cut)
                kept = store.load_samples(cut)
            assert summary["n_samples"] == len(kept.t_s) > 0
            kept_each.append(len(kept.t_s))
            filler.unlink()  # space is freed
            proc = run_cli(data, "record", "sim://?speed=0&duration=2", check=False, timeout=120)
            assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
            second = int(proc.stdout.strip().splitlines()[-1])
            assert show(data, second)["n_samples"] == 160
            after = show(data, cut)
            assert after["status"] in ("recovered", "ended")
            assert after["n_samples"] == len(kept.t_s)
            with Store.open(data) as store:  # keep the disk for the next round
                store.delete_session(cut)
                store.delete_session(second)
        check = run_cli(data, "store", "check", check=False)
        assert check.returncode == 0 and "intact" in check.stdout, check.stdout + check.stderr
    report("disk full mid-session", repeats=REPEATS, samples_kept_each=kept_each,
           committed_samples_lost=0, message=line)  # fmt: skip


def test_read_only_data_directory(tmp_path: Path) -> None:
    """Recording into a read-only data directory (a read-only mount: root ignores file modes)
    fails with one clear line; reading what is there still works."""
    with small_disk(tmp_path / "ro", "8m") as disk:
        data = disk / "pg"
        run_cli(data, "record", "sim://?speed=0&duration=1")
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        for args in (("record", "sim://?speed=0&duration=1"), ("units", "kgf")):
            line = one_error_line(run_cli(data, *args, check=False))
            assert "read-only" in line, line
        report("read-only data directory", message=line)
        listed = run_cli(data, "sessions", "list", "--json", check=False)
        assert listed.returncode == 0 or "read-only" in one_error_line(listed)


def test_two_bridges_on_one_store(tmp_path: Path) -> None:
    """The defined behaviour: one bridge per data directory. A second one is refused with one
    line naming the first; once the first has stopped (or died), the next one starts."""
    data = tmp_path / "data"
    first = start_record(data, STEADY)
    try:
        wait_until(lambda: recording(data), timeout=20)
        for source in ("sim://?speed=0&duration=1", STEADY):
            refused = run_cli(data, "record", source, check=False)
            line = one_error_line(refused)
            assert "another bridge" in line and str(first.pid) in line, line
            assert refused.returncode == BridgeBusyError.exit_code
        report("two bridges on one store", message=line)
    finally:
        session = stop_record(first)
    assert show(data, session)["status"] == "ended"
    assert run_cli(data, "record", "sim://?speed=0&duration=1").returncode == 0


def test_run_beside_a_recording_bridge_stops_once_with_the_reason(tmp_path: Path) -> None:
    """``pressureguard run`` on a data directory another bridge is recording into: its own
    bridge is refused, and the run ends by itself (exit 1) saying why once, instead of starting
    the refused bridge again and again; the first bridge records on."""
    data = tmp_path / "data"
    first = start_record(data, STEADY)
    try:
        wait_until(lambda: recording(data), timeout=20)
        began = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-m", "firmware_bridge.cli", "run", STEADY, "--no-browser",
             "--port", "0", "--data-dir", str(data)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        took = time.monotonic() - began
        still_recording = recording(data)
    finally:
        session = stop_record(first)
    said = run.stdout + run.stderr
    assert run.returncode == 1, said
    assert said.count("another bridge") == 1, said
    assert "Traceback" not in said and "restarting" not in said, said
    # (on a busy machine the dashboard may be up, and say so, before the refusal arrives)
    assert said.count("could not start its bridge") == 1, said
    assert still_recording and show(data, session)["status"] == "ended"
    report("run beside a recording bridge", ended_after_s=round(took, 1), output=said.strip())


def test_database_locked_when_the_bridge_starts(tmp_path: Path) -> None:
    """A lock held while the bridge starts: it waits it out (never calls the file damaged)."""
    data = tmp_path / "data"
    run_cli(data, "record", "sim://?speed=0&duration=1")
    db = sqlite3.connect(data / "pressureguard.db", isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "firmware_bridge.cli", "record", "sim://?speed=0&duration=1",
             "--data-dir", str(data)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(2.0)
    finally:
        db.execute("COMMIT")
        db.close()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "damaged" not in err
    assert show(data, int(out.strip().splitlines()[-1]))["n_samples"] == 80
