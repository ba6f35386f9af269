"""Safety screening: the profile ceiling the answers set, sensitive mode, and the comfort limit a
session gets once the ceiling and the endangerment sites are applied (``resolve_limit``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from calibration.defaults import ABSOLUTE_CEILING_KGF_CM2, default_limit
from calibration.limits import resolve_limit
from calibration.precautions import PRECAUTIONS, ProfileSafety, get_precaution
from firmware_bridge.errors import UsageError
from firmware_bridge.store import Store
from firmware_bridge.units import KGF_N

# -- the answers -----------------------------------------------------------------------------


def test_a_profile_without_answers_has_the_normal_ceiling_and_may_override_it() -> None:
    safety = ProfileSafety.from_settings({})
    assert not safety.answered and not safety.sensitive
    assert safety.ceiling_kgf_cm2 == ABSOLUTE_CEILING_KGF_CM2 == 4.0
    assert safety.ceiling_n(None) == pytest.approx(4.0 * KGF_N)  # 1 cm² reference disc
    assert safety.ceiling_n(2.0) == pytest.approx(8.0 * KGF_N)
    assert safety.default_fraction == 1.0
    assert safety.override_refused is None and safety.advice() == []


@pytest.mark.parametrize(
    ("answers", "ceiling"),
    [
        (["bleeding"], 1.0),
        (["clot"], 1.0),
        (["bone"], 1.0),
        (["sensation"], 1.5),
        (["pregnancy"], 2.0),
        (["cancer"], 2.0),
        (["skin"], 2.0),
        (["injury"], 2.0),
        (["surgery"], 2.0),
        (["pregnancy", "sensation", "surgery"], 1.5),  # the lowest applies
        (["skin", "bleeding"], 1.0),
        ([], 4.0),
    ],
)
def test_answers_lower_the_ceiling_to_the_lowest_of_them(
    answers: list[str], ceiling: float
) -> None:
    safety = ProfileSafety.from_settings(
        {"precautions": answers, "precautions_answered_at": "2024-05-01T09:00:00.000+00:00"}
    )
    assert safety.answered
    assert safety.ceiling_kgf_cm2 == ceiling
    assert safety.lowered == (ceiling < 4.0)
    assert (safety.override_refused is None) == (ceiling == 4.0)


def test_a_lowered_ceiling_cannot_be_overridden_and_says_why() -> None:
    safety = ProfileSafety(frozenset({"bleeding", "pregnancy"}), False, "2024-05-01")
    refused = safety.override_refused
    assert refused is not None
    assert "1 kgf/cm²" in refused and "bleeding" in refused and "clinician" in refused
    assert safety.ceiling_words == "your 1 kgf/cm² ceiling (precautions)"


def test_sensitive_mode_proposes_80_percent_and_refuses_overrides() -> None:
    safety = ProfileSafety.from_settings({"sensitive": True})
    assert safety.default_fraction == 0.8
    assert safety.ceiling_kgf_cm2 == 4.0  # the ceiling itself stays; it just cannot be lifted
    assert safety.override_refused is not None and "sensitive" in safety.override_refused
    assert "sensitive mode" in safety.ceiling_words


def test_every_yes_gets_advice_to_check_with_a_clinician_first() -> None:
    everything = ProfileSafety(frozenset(p.key for p in PRECAUTIONS), False, "2024-05-01")
    advice = everything.advice()
    assert len(advice) == len(PRECAUTIONS) >= 9
    assert all("before pressing" in line for line in advice)
    clot = get_precaution("clot").advice
    assert "legs" in clot and "swollen" in clot and "medical care" in clot
    assert all(p.question.endswith("?") for p in PRECAUTIONS)  # asked, answered yes or no


def test_the_answers_survive_the_profile_settings_and_unknown_keys_are_ignored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    safety = ProfileSafety(frozenset({"sensation", "clot"}), True, "2024-05-01T09:00:00.000+00:00")
    settings = safety.to_settings()
    assert settings["precautions"] == ["clot", "sensation"]  # question order
    assert ProfileSafety.from_settings(settings | {"region": "neck"}) == safety

    with caplog.at_level(logging.WARNING):
        read = ProfileSafety.from_settings({"precautions": ["clot", "telepathy"]})
    assert read.precautions == {"clot"}
    assert "telepathy" in caplog.text
    # a damaged sensitive flag errs on the safe side
    assert ProfileSafety.from_settings({"sensitive": "yes"}).sensitive


def test_unknown_precautions_are_refused_when_answering() -> None:
    with pytest.raises(UsageError, match="unknown precaution 'telepathy'; known: bleeding"):
        get_precaution("telepathy")
    with pytest.raises(UsageError, match="unknown precaution"):
        ProfileSafety(frozenset({"telepathy"}))


# -- resolve_limit: the limit a session gets -------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path) as opened:
        yield opened


def test_a_measured_limit_above_a_lowered_ceiling_is_capped_and_says_so(store: Store) -> None:
    store.set_limit("ann", "forearm", 20.0, "measured")
    assert resolve_limit(store, "ann", "forearm") == (20.0, "your measured limit")
    store.update_profile_settings("ann", {"precautions": ["bleeding"]})
    # the bridge's call, unchanged: the answers are read from the store
    limit, basis = resolve_limit(store, "ann", "forearm", None)
    assert limit == pytest.approx(1.0 * KGF_N)
    assert basis == "your measured limit, capped at your 1 kgf/cm² ceiling (precautions)"
    # the ceiling scales with the tip area
    safety = ProfileSafety(frozenset({"bleeding"}))
    limit, _ = resolve_limit(store, "ann", "forearm", tip_area_cm2=2.0, safety=safety)
    assert limit == pytest.approx(2.0 * KGF_N)


def test_a_session_limit_is_capped_too_but_an_agreed_manual_override_is_kept(
    store: Store,
) -> None:
    limit, basis = resolve_limit(store, "ann", "forearm", 60.0)
    assert limit == pytest.approx(4.0 * KGF_N) and "capped at the 4 kgf/cm² ceiling" in basis
    store.set_limit("ann", "forearm", 50.0, "manual", note="override agreed")
    limit, basis = resolve_limit(store, "ann", "forearm")
    assert limit == 50.0 and "by override" in basis
    # ... until sensitive mode makes the ceiling binding
    sensitive = ProfileSafety(sensitive=True)
    limit, basis = resolve_limit(store, "ann", "forearm", safety=sensitive)
    assert limit == pytest.approx(4.0 * KGF_N) and "(sensitive mode)" in basis


def test_the_tip_and_the_side_less_region_are_looked_up_before_the_default(store: Store) -> None:
    store.set_limit("ann", "calf", 12.0, "manual")
    store.set_limit("ann", "calf:left", 10.0, "measured")
    store.set_limit("ann", "calf:left", 25.0, "measured", tip="ball-63mm")
    assert resolve_limit(store, "ann", "calf:left", tip="ball-63mm") == (
        25.0,
        "your measured limit for the ball-63mm tip",
    )
    assert resolve_limit(store, "ann", "calf:left", tip="knob")[0] == 10.0  # any tip
    assert resolve_limit(store, "ann", "calf:right") == (
        12.0,
        "your manual limit for calf (either side)",
    )
    # the other side's limit is never used; no limit at all → the shipped default
    assert resolve_limit(store, "ann", "forearm:right") == (
        pytest.approx(default_limit("forearm").limit_n),
        default_limit("forearm").basis,
    )
    assert resolve_limit(store, "ann", "calf:left", 7.0) == (7.0, "set for this session")


def test_an_endangerment_site_gets_the_most_conservative_value_never_a_preset(
    store: Store,
) -> None:
    limit, basis = resolve_limit(store, "ann", "popliteal-fossa:left")
    assert limit == pytest.approx(0.75 * KGF_N)
    assert "endangerment site" in basis and "no point pressure" in basis
    # a limit asked for the session is not allowed above it either
    limit, basis = resolve_limit(store, "ann", "axilla", 30.0)
    assert limit == pytest.approx(0.75 * KGF_N) and basis.startswith("set for this session")
    assert resolve_limit(store, "ann", "axilla", 3.0) == (3.0, "set for this session")
