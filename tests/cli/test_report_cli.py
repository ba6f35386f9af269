"""``pressureguard report``: the therapist report from the demo data as a user runs it, and one
clear line with a non-zero exit for every mistake."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from firmware_bridge.demo import seed_sessions
from tests.integration.cli import run_cli


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the demo's seeded sessions."""
    data = tmp_path_factory.mktemp("demo")
    assert seed_sessions(data)
    return data


def fails_cleanly(data: Path, *args: str) -> str:
    proc = run_cli(data, "report", *args, check=False, timeout=60)
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_report_of_the_demo_data(demo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "therapist.pdf"
    pngs = tmp_path / "pages"
    proc = run_cli(demo_dir, "report", "--profile", "default", "-o", str(out), "--png", str(pngs))
    assert f"{out}: 5 pages" in proc.stdout
    assert f"{pngs}: 5 PNG pages" in proc.stdout
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data)) == 5
    images = sorted(pngs.glob("page-*.png"))
    assert [p.name for p in images] == [f"page-0{k}.png" for k in range(1, 6)]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in images)


def test_empty_period(demo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "empty.pdf"
    proc = run_cli(demo_dir, "report", "--from", "2001-01-01", "--to", "2001-12-31", "-o", str(out))
    assert f"{out}: 1 page" in proc.stdout
    assert out.read_bytes().startswith(b"%PDF-")


def test_mistakes_give_one_line(demo_dir: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "r.pdf")
    assert "YYYY-MM-DD" in fails_cleanly(demo_dir, "--from", "13/11/2026", "-o", out)
    assert "YYYY-MM-DD" in fails_cleanly(demo_dir, "--to", "2026-02-30", "-o", out)
    line = fails_cleanly(demo_dir, "--from", "2026-03-02", "--to", "2026-03-01", "-o", out)
    assert "after the last day" in line
    line = fails_cleanly(demo_dir, "--profile", "nobody", "-o", out)
    assert "no profile 'nobody'" in line and "default" in line
    line = fails_cleanly(demo_dir, "-o", str(tmp_path / "missing" / "r.pdf"))
    assert "does not exist" in line
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert "not a folder" in fails_cleanly(demo_dir, "-o", str(blocker / "r.pdf"))
    assert "is a folder" in fails_cleanly(demo_dir, "-o", str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # nothing half-written
