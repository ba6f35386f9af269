"""``pressureguard store check/repair/reset`` and what every command says about a damaged store:
one line naming the problem, where the file was kept and how to consent; never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from firmware_bridge.store import DB_NAME
from tests.integration.cli import run_cli
from tests.store.damage_helpers import (
    SESSIONS,
    build_store,
    damage_header,
    damage_page,
    truncate,
)

DAMAGES = {"truncated": truncate, "header": damage_header, "middle page": damage_page}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One realistic store, written once."""
    data_dir = tmp_path_factory.mktemp("built")
    build_store(data_dir)
    return data_dir


@pytest.fixture
def data_dir(built: Path, tmp_path: Path) -> Path:
    """A copy of the built store for one test."""
    target = tmp_path / "data"
    target.mkdir()
    shutil.copyfile(built / DB_NAME, target / DB_NAME)
    return target


def one_line_failure(data_dir: Path, *args: str) -> str:
    proc = run_cli(data_dir, *args, check=False, timeout=60)
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def sessions(data_dir: Path) -> dict[int, int]:
    listed = json.loads(run_cli(data_dir, "sessions", "list", "--json").stdout)
    return {int(s["id"]): int(s["n_samples"]) for s in listed}


def test_an_intact_store_checks_clean(data_dir: Path) -> None:
    proc = run_cli(data_dir, "store", "check")
    assert proc.stdout.startswith(f"store intact: {data_dir / DB_NAME} (")
    assert f"{len(SESSIONS)} session(s)" in proc.stdout
    full = json.loads(run_cli(data_dir, "store", "check", "--full", "--json").stdout)
    assert full["ok"] is True and full["full"] is True and full["problems"] == []
    assert full["samples"] == sum(n for n, _, _ in SESSIONS)
    assert "store intact: nothing to repair" in run_cli(data_dir, "store", "repair").stdout
    line = one_line_failure(data_dir, "store", "reset")
    assert "not known to be damaged" in line
    assert sorted(p.name for p in data_dir.iterdir() if p.suffix == ".sqlite") == []


@pytest.mark.parametrize("kind", DAMAGES)
def test_a_damaged_store_is_reported_kept_and_repaired_on_request(
    data_dir: Path, kind: str
) -> None:
    before = sessions(data_dir)
    DAMAGES[kind](data_dir / DB_NAME)

    line = one_line_failure(data_dir, "sessions", "list")
    assert line.startswith(f"pressureguard: store damaged: {data_dir / DB_NAME} ")
    kept = [p for p in data_dir.iterdir() if p.name.endswith(".damaged.sqlite")]
    assert len(kept) == 1 and f"kept as {kept[0]}" in line
    assert "`pressureguard store repair`" in line and "`pressureguard store reset`" in line
    assert not (data_dir / DB_NAME).exists()  # no empty store started in its place
    # every other command says the same, including the check itself
    assert one_line_failure(data_dir, "limits", "show") == line
    assert one_line_failure(data_dir, "store", "check") == line

    proc = run_cli(data_dir, "store", "repair")
    assert proc.stdout.startswith(f"repaired: a new store {data_dir / DB_NAME}")
    assert f"the damaged file stays at {kept[0]}" in proc.stdout
    after = sessions(data_dir)
    whole = [sid for sid, n in after.items() if before.get(sid) == n]
    if kind == "header":
        assert after == before
    else:  # every session not whole is named in the report, with what was lost
        for sid in set(before) - set(whole):
            assert f"session {sid}" in proc.stdout, proc.stdout
    assert run_cli(data_dir, "store", "check", "--full").stdout.startswith("store intact")
    assert kept[0].exists()


def test_repair_json_says_what_was_saved_and_lost(data_dir: Path) -> None:
    damage_page(data_dir / DB_NAME)
    one_line_failure(data_dir, "sessions", "list")
    report = json.loads(run_cli(data_dir, "store", "repair", "--json").stdout)
    assert report["repaired"] is True and report["readable"] is True
    hurt = [s for s in report["sessions"] if not s["whole"]]
    assert len(hurt) == 1
    assert hurt[0]["samples_lost"] == hurt[0]["samples_recorded"] - hurt[0]["samples_saved"] > 0
    assert report["samples_lost"] == hurt[0]["samples_lost"]
    assert report["samples_saved"] == sum(n for n in sessions(data_dir).values())


def test_reset_starts_an_empty_store_and_keeps_the_damaged_file(data_dir: Path) -> None:
    truncate(data_dir / DB_NAME)
    line = one_line_failure(data_dir, "sessions", "list")
    proc = run_cli(data_dir, "store", "reset")
    kept = next(p for p in data_dir.iterdir() if p.name.endswith(".damaged.sqlite"))
    assert f"the damaged file stays at {kept}" in proc.stdout and str(kept) in line
    assert sessions(data_dir) == {}


def test_damaged_samples_met_while_reading_are_one_line(data_dir: Path) -> None:
    from tests.store.damage_helpers import page_size, pages_of

    path = data_dir / DB_NAME
    page = pages_of(path, "sample_chunks", "overflow")[5]
    with path.open("r+b") as fh:  # junk that leaves SQLite's structure whole
        fh.seek((page - 1) * page_size(path) + 1000)
        fh.write(b"\x7f" * 64)
    lines = []
    for sid in sessions(data_dir):
        proc = run_cli(data_dir, "sessions", "export", str(sid), check=False, timeout=60)
        if proc.returncode:
            assert "Traceback" not in proc.stderr
            lines.append(proc.stderr.strip())
    assert len(lines) == 1 and "\n" not in lines[0]
    assert "store damaged" in lines[0] and "pressureguard store check --full" in lines[0]
    line = one_line_failure(data_dir, "store", "check", "--full")
    assert "kept as" in line and "store repair" in line
