"""``sessions export`` / ``sessions import`` as a user runs them: the progress bar on a terminal
(a real pty as stderr), a plain line without one, never anything in the exported file."""

from __future__ import annotations

import os
import pty
import select
import subprocess
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.store import Store
from firmware_bridge.store.exchange import export_csv
from firmware_bridge.zones import JudgedSamples
from tests.integration.cli import COMMAND, run_cli

pytestmark = pytest.mark.skipif(os.name != "posix", reason="pty needs a POSIX system")

N = 50_000


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A store with one 50,000-sample session (id 1)."""
    data = tmp_path / "data"
    with Store.open(data) as store:
        sid = store.begin_session(source="sim://", profile="default", region=None, limit_n=20.0)
        t = np.arange(N) / 1000.0
        force = 10 + 5 * np.sin(t)
        zone = np.zeros(N, dtype=np.int8)
        store.append_samples(sid, JudgedSamples(t, np.round(force * 4000), force, force, zone))
        store.end_session(sid)
    return data


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", **extra}


def in_pty(data_dir: Path, *args: str, stdout: int | None = None, **env: str) -> tuple[int, str]:
    """Run a command with its stderr (and its stdout, unless given) on a pty, as in a terminal;
    returns the exit code and everything the terminal showed."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [*COMMAND, *args, "--data-dir", str(data_dir)],
        stdin=subprocess.DEVNULL,
        stdout=slave if stdout is None else stdout,
        stderr=slave,
        env=_env(**env),
    )
    os.close(slave)
    shown = bytearray()
    try:
        while select.select([master], [], [], 60)[0]:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the command ended and closed the terminal
                break
            if not data:
                break
            shown += data
    finally:
        os.close(master)
        code = proc.wait(timeout=60)
    return code, shown.decode("utf-8", "replace")


def _exported(data_dir: Path) -> bytes:
    path = data_dir.parent / "reference.csv"
    with Store.open(data_dir) as store:
        export_csv(store, 1, path)
    return path.read_bytes()


def test_export_draws_a_bar_on_the_terminal_and_nothing_in_the_file(data_dir: Path) -> None:
    out = data_dir.parent / "out.csv"
    code, shown = in_pty(
        data_dir, "sessions", "export", "1", "-o", str(out), PRESSUREGUARD_PROGRESS_AFTER_S="0"
    )
    assert code == 0, shown
    assert "\rexporting [" in shown and "] 100%" in shown and f"{N:,} of {N:,} samples" in shown
    assert f"wrote {out}" in shown and "Traceback" not in shown
    assert out.read_bytes() == _exported(data_dir)


def test_export_to_a_pipe_keeps_the_bar_on_stderr(data_dir: Path) -> None:
    out = data_dir.parent / "piped.csv"
    with out.open("wb") as fh:
        code, shown = in_pty(
            data_dir,
            "sessions",
            "export",
            "1",
            stdout=fh.fileno(),
            PRESSUREGUARD_PROGRESS_AFTER_S="0",
        )
    assert code == 0, shown
    assert "exporting [" in shown and "100%" in shown
    assert out.read_bytes() == _exported(data_dir)  # standard output holds the CSV only


def test_no_bar_before_the_work_has_taken_its_time(data_dir: Path) -> None:
    out = str(data_dir.parent / "q.csv")
    code, shown = in_pty(
        data_dir, "sessions", "export", "1", "-o", out, PRESSUREGUARD_PROGRESS_AFTER_S="3600"
    )
    assert code == 0 and "exporting" not in shown  # work shorter than the threshold: no bar


def test_without_a_terminal_progress_is_a_plain_line(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRESSUREGUARD_PROGRESS_AFTER_S", "0")
    proc = run_cli(data_dir, "sessions", "export", "1")
    assert proc.stdout.encode() == _exported(data_dir)
    lines = proc.stderr.splitlines()
    assert lines and all(line.startswith("pressureguard: exporting [") for line in lines)
    assert "\r" not in proc.stderr


def test_import_draws_a_bar_and_prints_the_new_id(data_dir: Path) -> None:
    path = data_dir.parent / "session.csv"
    path.write_bytes(_exported(data_dir))
    code, shown = in_pty(
        data_dir, "sessions", "import", str(path), PRESSUREGUARD_PROGRESS_AFTER_S="0"
    )
    assert code == 0, shown
    assert "\rimporting session.csv [" in shown and "100%" in shown
    assert shown.rstrip().splitlines()[-1].strip() == "2"


def test_parquet_by_suffix_and_never_onto_a_terminal(data_dir: Path) -> None:
    out = data_dir.parent / "s.parquet"
    run_cli(data_dir, "sessions", "export", "1", "-o", str(out))
    assert out.read_bytes()[:4] == b"PAR1"
    code, shown = in_pty(data_dir, "sessions", "export", "1", "--format", "parquet")
    assert code == 2 and shown.strip() == (
        "pressureguard: Parquet is binary: write it to a file with -o FILE.parquet"
    )
    piped = data_dir.parent / "piped.parquet"
    with piped.open("wb") as fh:
        subprocess.run(
            [
                *COMMAND,
                "sessions",
                "export",
                "1",
                "--format",
                "parquet",
                "--data-dir",
                str(data_dir),
            ],
            stdout=fh,
            check=True,
            env=_env(),
        )
    assert piped.read_bytes()[:4] == b"PAR1"
    assert run_cli(data_dir, "sessions", "import", str(piped)).stdout.strip() == "2"


def test_a_bad_file_is_one_line_with_its_line_number(data_dir: Path) -> None:
    bad = data_dir.parent / "bad.csv"
    bad.write_text("t_s,force_n\n0,1\n1,2\n1,3\n")
    proc = run_cli(data_dir, "sessions", "import", str(bad), check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "pressureguard: bad.csv line 4: t_s is 1.0 again: two samples at the same time"
    )
    shown = run_cli(data_dir, "sessions", "list", "--json").stdout
    assert '"id": 2' not in shown  # nothing was added
