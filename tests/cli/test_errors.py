"""A user mistake or a broken device: one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import serial

from tests.integration.cli import COMMAND, run_cli
from tests.integration.ptytool import PtyTool


def fails_cleanly(data: Path, *args: str) -> str:
    proc = run_cli(data, *args, check=False, timeout=30)
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_missing_port(tmp_path: Path) -> None:
    line = fails_cleanly(tmp_path, "record", "/dev/ttyNOPE0")
    assert "no serial port /dev/ttyNOPE0" in line and "plugged in" in line


@pytest.mark.skipif(os.name != "posix", reason="pty needs a POSIX system")
def test_busy_port(tmp_path: Path) -> None:
    tool = PtyTool(tmp_path / "ttyBUSY")
    tool.plug()
    try:
        with serial.Serial(str(tool.link), exclusive=True):  # another program has it open
            line = fails_cleanly(tmp_path, "record", str(tool.link))
    finally:
        tool.close()
    assert "busy" in line


def test_bad_source_string(tmp_path: Path) -> None:
    assert "unknown source" in fails_cleanly(tmp_path, "record", "foo://bar")
    assert "unknown pattern" in fails_cleanly(tmp_path, "record", "sim://?pattern=nope")


def test_unreadable_replay_file(tmp_path: Path) -> None:
    assert "cannot open" in fails_cleanly(tmp_path, "record", f"replay://{tmp_path}/none.bin")
    bad = tmp_path / "bad.csv"
    bad.write_text("t_s,force_n\n0.0,1.0\nabc,2.0\n")
    assert "line 3" in fails_cleanly(tmp_path, "record", f"replay://{bad}?speed=0")


def test_bad_values(tmp_path: Path) -> None:
    assert "unit" in fails_cleanly(tmp_path, "record", "sim://", "--limit", "15 parsecs")
    assert "body region" in fails_cleanly(tmp_path, "record", "sim://", "--region", "Neck Left")


def test_unknown_session_and_bad_import(tmp_path: Path) -> None:
    assert "no session 42" in fails_cleanly(tmp_path, "sessions", "show", "42")
    assert "no session 42" in fails_cleanly(tmp_path, "sessions", "export", "42")
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x00\x01 not a session")
    fails_cleanly(tmp_path, "sessions", "import", str(junk))


def test_names_too_long_for_the_system_are_said_plainly(tmp_path: Path) -> None:
    """A file or folder name longer than the system takes (255 bytes a name): one line naming
    it and the system's reason, never "unexpected error" (found by the command-line fuzzer)."""
    long = tmp_path / ("é" * 200)  # 400 bytes
    run_cli(tmp_path, "record", "sim://?speed=0&duration=0.2")
    for args, words in [
        (("sessions", "import", f"{long}.csv"), "cannot read"),
        (("sessions", "import", f"{long}/import.csv"), "cannot read"),
        (("sessions", "export", "1", "-o", f"{long}.csv"), "cannot write"),
        (("report", "-o", f"{long}.pdf"), "cannot write the report"),
    ]:
        line = fails_cleanly(tmp_path, *args)
        assert words in line and line.endswith("File name too long"), line
    line = fails_cleanly(long, "store", "check")  # the data folder itself
    assert "unexpected" not in line and "File name too long" in line, line
    assert run_cli(tmp_path, "sessions", "show", "1").returncode == 0


@pytest.mark.parametrize(
    "args",
    [
        ("sessions", "export", "1", "-o--"),
        ("sessions", "export", "1", "--output=--"),
        ("limits", "profile", "ann", "--precaution=--"),
        ("record", "sim://?speed=0&duration=0.1", "--limit=--"),
    ],
)
def test_an_option_whose_value_is_two_dashes_is_refused_as_a_missing_value(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """argparse hands a command an empty list for ``-o--`` or ``--output=--`` (found by the
    command-line fuzzer: "unexpected error: 'list' object has no attribute 'suffix'")."""
    proc = run_cli(tmp_path, *args, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines()[-1].endswith("expected a value, not '--'"), proc.stderr
    assert "Traceback" not in proc.stderr and "unexpected" not in proc.stderr


def test_the_home_folder_of_no_such_user(tmp_path: Path) -> None:
    """``~name`` of no user on this machine (found by the command-line fuzzer: "unexpected
    error: Could not determine home directory", and a traceback for --data-dir)."""
    line = fails_cleanly(tmp_path, "report", "-o", "~nosuchuser-pg/r.pdf")
    assert line.endswith("no such user's home folder"), line
    proc = run_cli(tmp_path, "sessions", "list", check=False, timeout=30)
    assert proc.returncode == 0
    bad = subprocess.run(
        [*COMMAND, "sessions", "list", "--data-dir", "~nosuchuser-pg"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "Traceback" not in bad.stderr, bad.stderr
    assert "no such user's home folder" in bad.stderr.splitlines()[-1]
    from_env = subprocess.run(
        [*COMMAND, "sessions", "list"], capture_output=True, text=True, timeout=30, check=False,
        env={**os.environ, "PRESSUREGUARD_HOME": "~nosuchuser-pg/data"},
    )  # fmt: skip
    assert from_env.returncode == 2 and "Traceback" not in from_env.stderr, from_env.stderr
    assert from_env.stderr.splitlines()[-1].endswith(
        "PRESSUREGUARD_HOME: no such user's home folder: ~nosuchuser-pg/data"
    ), from_env.stderr


def test_export_to_an_unwritable_place(tmp_path: Path) -> None:
    run_cli(tmp_path, "record", "sim://?speed=0&duration=2")
    fails_cleanly(tmp_path, "sessions", "export", "1", "-o", "/proc/pressureguard.csv")
    # the session is still there, whole
    assert run_cli(tmp_path, "sessions", "show", "1").returncode == 0


def test_full_disk_keeps_what_was_recorded(tmp_path: Path) -> None:
    """A disk that fills up mid-session: one line, and every committed sample is still there."""
    import subprocess

    disk = tmp_path / "tiny"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        data = disk / "pg"
        line = fails_cleanly(data, "record", "sim://?speed=0&duration=3000")
        assert "disk full" in line and "kept" in line
        shown = run_cli(data, "sessions", "show", "1", "--json")
        assert '"n_samples"' in shown.stdout
        from firmware_bridge.store import Store

        with Store.open(data) as store:
            kept = store.load_samples(1)
            assert len(kept.t_s) == store.session_summary(1)["n_samples"] > 0
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_an_error_naming_control_characters_stays_one_line() -> None:
    """Found by the atheris command-line fuzzer: profile names holding NEL, a line separator or
    a vertical tab, listed in "no profile …; known profiles: …", split the one error line."""
    from firmware_bridge.cli import _line

    text = _line(
        ValueError("no profile 'Ada'; known profiles: a\x85b, c\u2028d, e\x0bf, \té, x\ny")
    )
    assert len(text.splitlines()) == 1
    assert "a\\x85b" in text and "c\\u2028d" in text and "x\\ny" in text and "é" in text
