"""``pressureguard limits show / set``, and a changed limit reaching a running bridge."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from firmware_bridge.bridge import Bridge, RecordOptions
from firmware_bridge.store import Store
from tests.calibration.test_measure_cli import tool_stream
from tests.integration.cli import run_cli, wait_until


def test_set_then_show_in_newtons_and_kpa(tmp_path: Path) -> None:
    run_cli(tmp_path, "limits", "set", "upper-trapezius:left", "120kPa", "--profile", "ana")
    run_cli(tmp_path, "limits", "set", "forearm", "1.5kgf", "--profile", "ana")
    shown = json.loads(run_cli(tmp_path, "limits", "show", "--json").stdout)
    limits = {row["region"]: row for row in shown["limits"]}
    assert limits["upper-trapezius:left"]["limit_n"] == pytest.approx(12.0)
    assert limits["forearm"]["limit_n"] == pytest.approx(1.5 * 9.80665)
    assert {row["source"] for row in shown["limits"]} == {"manual"}
    assert shown["defaults_n"]["upper-trapezius"] == pytest.approx(14.71, abs=0.01)
    # a restart (a new process, the same store) still has them
    assert "upper-trapezius:left" in run_cli(tmp_path, "limits", "show").stdout


def test_refuses_endangerment_sites_and_limits_above_the_ceiling(tmp_path: Path) -> None:
    site = run_cli(tmp_path, "limits", "set", "axilla", "5N", check=False)
    assert site.returncode != 0 and "endangerment site" in site.stderr
    high = run_cli(tmp_path, "limits", "set", "forearm", "50N", check=False)
    assert high.returncode != 0 and "ceiling" in high.stderr
    run_cli(tmp_path, "limits", "set", "forearm", "50N", "--override-ceiling")


def test_a_limit_set_while_serving_reaches_the_live_zone(tmp_path: Path) -> None:
    # How fast it arrives is measured by `make bench` (limit_change), not asserted here.
    with Store.open(tmp_path) as store:
        bridge = Bridge(
            store,
            RecordOptions(
                source="sim://?pattern=steady&level=4",
                region="forearm",
                record_session=False,
            ),
        )
        thread = threading.Thread(target=bridge.run)
        thread.start()
        try:
            wait_until(lambda: bridge.live.zone == "relaxed", timeout=10)
            run_cli(tmp_path, "limits", "set", "forearm", "3.5N")
            wait_until(lambda: bridge.live.zone == "over", timeout=5, interval=0.005)
        finally:
            bridge.stop()
            thread.join(timeout=10)
    assert bridge.limit_n == pytest.approx(3.5)
    assert bridge.live.limit_n == pytest.approx(3.5)


def test_answering_a_precaution_caps_the_running_session_at_once(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        bridge = Bridge(
            store,
            RecordOptions(
                source="sim://?pattern=steady&level=4", region="forearm", record_session=False
            ),
        )
        thread = threading.Thread(target=bridge.run)
        thread.start()
        try:
            wait_until(lambda: bridge.live.zone == "relaxed", timeout=10)
            assert bridge.limit_n == pytest.approx(2.0 * 9.80665)  # the forearm default
            out = run_cli(tmp_path, "limits", "profile", "default", "--precaution", "bleeding")
            wait_until(lambda: bridge.limit_n < 10, timeout=2, interval=0.005)
        finally:
            bridge.stop()
            thread.join(timeout=10)
    assert bridge.limit_n == pytest.approx(9.80665)
    assert "running session is capped at 9.8 N" in out.stderr


def show_json(tmp_path: Path, *args: str) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(run_cli(tmp_path, "limits", "show", "--json", *args).stdout)
    return shown


def test_precautions_lower_the_ceiling_and_it_cannot_be_overridden(tmp_path: Path) -> None:
    answered = run_cli(tmp_path, "limits", "profile", "ana", "--precaution", "bleeding").stdout
    assert "[yes] bleeding" in answered and "[no ] clot" in answered
    assert "Ceiling: 1 kgf/cm² (9.8 N on a 1 cm² tip), lowered by your answers" in answered
    assert "Check with your doctor" in answered  # the advice is printed with the answers

    high = run_cli(tmp_path, "limits", "set", "forearm", "15N", "--profile", "ana", check=False)
    assert high.returncode != 0
    assert "15.0 N is above 9.8 N on 1 cm²: your ceiling is 1 kgf/cm²" in high.stderr
    assert "(bleeding)" in high.stderr  # the answer that set it
    forced = run_cli(
        tmp_path,
        "limits",
        "set",
        "forearm",
        "15N",
        "--profile",
        "ana",
        "--override-ceiling",
        check=False,
    )
    assert forced.returncode != 0 and "cannot be overridden" in forced.stderr
    run_cli(tmp_path, "limits", "set", "forearm", "9N", "--profile", "ana")
    # another profile keeps the normal ceiling
    run_cli(tmp_path, "limits", "set", "forearm", "30N", "--profile", "ben")

    shown = show_json(tmp_path)
    profiles = {p["name"]: p for p in shown["profiles"]}
    assert profiles["ana"] == {
        "name": "ana",
        "sensitive": False,
        "precautions": ["bleeding"],
        "ceiling_kgf_cm2": 1.0,
    }
    assert profiles["ben"]["ceiling_kgf_cm2"] == 4.0
    assert sorted(r["limit_n"] for r in shown["limits"]) == [9.0, 30.0]


def test_sensitive_mode_refuses_overrides_and_answers_can_be_reviewed(tmp_path: Path) -> None:
    run_cli(tmp_path, "limits", "profile", "ana", "--sensitive")
    refused = run_cli(
        tmp_path,
        "limits",
        "set",
        "forearm",
        "50N",
        "--profile",
        "ana",
        "--override-ceiling",
        check=False,
    )
    assert refused.returncode != 0 and "sensitive mode" in refused.stderr
    run_cli(tmp_path, "limits", "set", "forearm", "35N", "--profile", "ana")  # under 39 N

    review = run_cli(tmp_path, "limits", "profile", "ana").stdout  # no options: shown only
    assert "Sensitive mode: on" in review and "not answered yet" in review
    answered = run_cli(tmp_path, "limits", "profile", "ana", "--no-precautions").stdout
    assert "[no ] bleeding" in answered and "Sensitive mode: on" in answered  # kept
    off = run_cli(tmp_path, "limits", "profile", "ana", "--no-sensitive").stdout
    assert "Sensitive mode: off" in off and "answered" in off
    assert show_json(tmp_path, "--profile", "ana")["profiles"][0]["sensitive"] is False


def test_profile_answers_are_checked_and_looking_creates_nothing(tmp_path: Path) -> None:
    run_cli(tmp_path, "limits", "profile", "ghost")
    assert [p["name"] for p in show_json(tmp_path)["profiles"]] == ["default"]
    bad = run_cli(tmp_path, "limits", "profile", "ana", "--precaution", "telepathy", check=False)
    assert bad.returncode == 2 and "known: bleeding" in bad.stderr
    both = run_cli(
        tmp_path,
        "limits",
        "profile",
        "ana",
        "--precaution",
        "clot",
        "--no-precautions",
        check=False,
    )
    assert both.returncode == 2 and "not both" in both.stderr


def test_kpa_is_shown_only_for_a_known_flat_tip(tmp_path: Path) -> None:
    run_cli(tmp_path, "limits", "set", "forearm", "100kPa", "--tip", "disc-2cm2")
    run_cli(tmp_path, "limits", "set", "calf", "20N", "--tip", "knob")
    run_cli(tmp_path, "limits", "set", "thigh", "15N")
    rows = {r["region"]: r for r in show_json(tmp_path)["limits"]}
    assert rows["forearm"]["limit_n"] == pytest.approx(20.0)  # 100 kPa over 2 cm²
    assert (rows["forearm"]["tip"], rows["calf"]["tip"], rows["thigh"]["tip"]) == (
        "disc-2cm2",
        "knob",
        None,
    )
    lines = {
        line.split()[1]: line
        for line in run_cli(tmp_path, "limits", "show").stdout.splitlines()
        if line.startswith("default ")
    }
    assert "100 kPa" in lines["forearm"] and "*" not in lines["forearm"]
    assert "kPa" not in lines["calf"]  # rounded knob: pressure would be a guess
    assert "150 kPa*" in lines["thigh"]  # any tip: marked as valid on a flat 1 cm² tip only
    unknown = run_cli(tmp_path, "limits", "set", "calf", "20N", "--tip", "golf", check=False)
    assert unknown.returncode == 2 and "known tips: disc-1cm2" in unknown.stderr


# trial 2 is pressed at 15 N/s (150 kPa/s on 1 cm²): rejected, then repeated
TRIALS = [(5.0, 10.0), (15.0, 12.0), (5.0, 11.0), (5.0, 12.0)]


def measure(tmp_path: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    data, _, _ = tool_stream(TRIALS)
    capture = tmp_path / "ppt.bin"
    capture.write_bytes(data)
    return run_cli(
        tmp_path,
        "limits",
        "measure",
        f"replay://{capture}?speed=0",
        "--region",
        "forearm:left",
        *args,
        check=check,
    )


def test_a_measurement_is_kept_with_every_trial_and_linked_to_its_limit(tmp_path: Path) -> None:
    measure(tmp_path, "--tip", "disc-1cm2", "--yes")
    shown = show_json(tmp_path)
    (ppt,) = shown["ppt"]
    (limit,) = shown["limits"]
    assert (ppt["region"], ppt["tip"], ppt["tip_area_cm2"]) == ("forearm:left", "disc-1cm2", 1.0)
    assert ppt["n"] == 3 and ppt["attempts"] == 4 and len(ppt["trials"]) == 4
    assert [t["accepted"] for t in ppt["trials"]] == [True, False, True, True]
    assert ppt["limit_id"] == limit["id"] and limit["tip"] == "disc-1cm2"
    assert limit["limit_n"] == pytest.approx(ppt["ppt_n"], abs=0.005)  # normal profile: 100 %
    (progress,) = shown["progress"]
    assert progress["verdict"] == "baseline" and progress["n"] == 1
    assert progress["words"].startswith("1 of 3 baseline measurements")
    assert "1 of 3 baseline" in run_cli(tmp_path, "limits", "show").stdout


def test_sensitive_mode_proposes_80_percent_and_a_precaution_caps_the_limit(
    tmp_path: Path,
) -> None:
    run_cli(tmp_path, "limits", "profile", "default", "--sensitive")
    measure(tmp_path, "--yes")
    (ppt,) = show_json(tmp_path)["ppt"]
    (limit,) = show_json(tmp_path)["limits"]
    assert ppt["fraction"] == 0.8
    assert limit["limit_n"] == pytest.approx(0.8 * ppt["ppt_n"], abs=0.005)

    # out of sensitive mode the limit would be the whole ~11 N: above the bleeding ceiling (9.8 N)
    run_cli(tmp_path, "limits", "profile", "default", "--no-sensitive", "--precaution", "bleeding")
    out = measure(tmp_path, "--yes").stdout
    assert "Before you press: Check with your doctor" in out
    assert "capped at your 1 kgf/cm² ceiling (precautions)" in out
    assert "2 of 3 baseline measurements" in out
    current = show_json(tmp_path)["limits"][0]
    assert current["limit_n"] == pytest.approx(9.80665, abs=0.01)
    assert "capped" in current["note"]


def test_an_unconfirmed_measurement_is_kept_but_sets_no_limit(tmp_path: Path) -> None:
    out = measure(tmp_path).stdout  # no terminal and no --yes: not asked, not saved
    assert "measurement is kept" in out
    shown = show_json(tmp_path)
    assert shown["limits"] == [] and len(shown["ppt"]) == 1
    assert shown["ppt"][0]["limit_id"] is None
