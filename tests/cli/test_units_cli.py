"""``pressureguard units``: one setting, read out by every command's human output, while the JSON
stays in newtons; pressure only for a session or limit on a flat tip of known area."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.store import Store
from firmware_bridge.units import KGF_N
from firmware_bridge.zones import JudgedSamples
from tests.integration.cli import COMMAND, run_cli


def _record(store: Store, started: datetime, peak: float, **tip: object) -> int:
    sid = store.begin_session(
        source="sim://", profile="ann", region="calf:left", limit_n=20.0, started_at=started
    )
    t = np.arange(200) / 20.0
    force = np.linspace(0.0, peak, 200)
    zone = np.searchsorted([16.0, 20.0, 24.0], force, side="right").astype(np.int8)
    store.append_samples(sid, JudgedSamples(t, np.round(force * 4000), force, force, zone))
    if tip:
        store.update_session(sid, **tip)
    store.end_session(sid)
    return sid


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    with Store.open(tmp_path) as store:
        _record(store, datetime(2024, 5, 1, 9, 0), 2 * KGF_N, tip="disc-2cm2", tip_area_cm2=2.0)
        _record(store, datetime(2024, 5, 2, 9, 0), 1.5 * KGF_N, tip="knob")  # rounded
    return tmp_path


def test_the_unit_is_shown_chosen_and_refused_in_one_line(tmp_path: Path) -> None:
    shown = run_cli(tmp_path, "units").stdout
    assert "Forces are shown in newtons (N)." in shown
    assert "kgf/cm²" in shown and "lbf" in shown  # the choices
    assert "Forces now shown in kilograms-force (kgf)." in run_cli(tmp_path, "units", "KG").stdout
    assert "* kgf" in run_cli(tmp_path, "units").stdout
    bad = run_cli(tmp_path, "units", "stone", check=False)
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        "pressureguard: unknown unit 'stone'; choose one of: N, kgf, lbf, kPa, kgf/cm²"
    )
    assert "kilograms-force" in run_cli(tmp_path, "units").stdout  # the refusal changed nothing
    pressure = run_cli(tmp_path, "units", "kpa").stdout
    assert "kPa needs a flat tip of known area: shown in N when the tip is unknown" in pressure


def test_sessions_read_in_the_chosen_unit_and_json_stays_in_newtons(data_dir: Path) -> None:
    run_cli(data_dir, "units", "kgf")
    listed = run_cli(data_dir, "sessions", "list").stdout
    assert "2.00 kgf" in listed and "1.50 kgf" in listed and " N " not in listed
    show = run_cli(data_dir, "sessions", "show", "1").stdout
    assert "limit: 2.04 kgf" in show and "peak: 2.00 kgf" in show
    assert json.loads(run_cli(data_dir, "sessions", "show", "1", "--json").stdout)[
        "limit_n"
    ] == pytest.approx(20.0)

    run_cli(data_dir, "units", "kPa")
    rows = run_cli(data_dir, "sessions", "list").stdout.splitlines()
    flat, knob = (next(r for r in rows if r.lstrip().startswith(f"{i} ")) for i in (1, 2))
    assert "98 kPa" in flat  # 2 kgf on the flat 2 cm² disc
    assert "14.7 N" in knob and "kPa" not in knob  # a knob's pressure would be a guess
    knob_show = run_cli(data_dir, "sessions", "show", "2").stdout
    assert "limit: 20.0 N" in knob_show and "kPa needs a flat tip" in knob_show


def test_limits_read_and_are_set_in_the_chosen_unit_a_bare_number_still_newtons(
    tmp_path: Path,
) -> None:
    run_cli(tmp_path, "units", "kgf")
    typed = run_cli(tmp_path, "limits", "set", "forearm", "2kgf")
    assert "comfort limit 2.00 kgf, set by hand" in typed.stdout
    bare = run_cli(tmp_path, "limits", "set", "calf", "15")
    assert "comfort limit 1.53 kgf" in bare.stdout  # 15 N, as DESIGN.md says
    assert "a number without a unit is newtons" in bare.stderr
    high = run_cli(tmp_path, "limits", "set", "thigh", "5kgf", check=False)
    assert high.returncode != 0 and "5.00 kgf is above 4.00 kgf on 1 cm²" in high.stderr
    shown = run_cli(tmp_path, "limits", "show").stdout
    forearm = next(line for line in shown.splitlines() if " forearm " in line)
    assert "2.00 kgf" in forearm and "196 kPa*" in forearm
    assert "Shipped defaults (kgf on a 1 cm² tip" in shown
    limits = json.loads(run_cli(tmp_path, "limits", "show", "--json").stdout)["limits"]
    assert sorted(r["limit_n"] for r in limits) == pytest.approx([15.0, 2 * KGF_N])
    profile = run_cli(tmp_path, "limits", "profile", "default").stdout
    assert "Ceiling: 4 kgf/cm² (4.00 kgf on a 1 cm² tip)" in profile


def test_the_data_dir_may_come_before_the_command(data_dir: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    env = {**os.environ, "PRESSUREGUARD_HOME": str(elsewhere)}  # where a lost option would go
    argv = [*COMMAND, "--data-dir", str(data_dir), "units", "kgf"]
    subprocess.run(argv, check=True, capture_output=True, text=True, env=env, timeout=60)
    with Store.open(data_dir) as store:
        assert store.get_setting("display_unit") == "kgf"
    assert not (elsewhere / "pressureguard.db").exists()
