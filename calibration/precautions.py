"""Safety screening per profile: the precaution questions, the pressure ceiling they set, and the
sensitive (fibromyalgia) mode. Pure: no I/O; the answers live in the profile's settings.

Before anyone measures or sets a comfort limit they are asked the screening questions of
CLINICAL.md §7.1 step 1 (from the contraindication lists of §4.1). A "yes" does not block the
tool and PressureGuard diagnoses nothing: it tells the user to check with a clinician first, says
what to avoid, and lowers the profile's pressure **ceiling**, the highest comfort limit the
profile may have whatever a measurement or a manual entry says.

Ceilings are **[design]** values: no source puts a number on safe pressure for these conditions.

- **4.0 kgf/cm²** with no precaution (:data:`~calibration.defaults.ABSOLUTE_CEILING_KGF_CM2`:
  the ACR tender-point ~4 kg and Fischer's critical pressure).
- **1.0 kgf/cm²** where firm pressure itself can do harm: blood thinners or a bleeding
  disorder (bruising, bleeding), a clot history (dislodging a clot), a healing fracture or severe
  osteoporosis. The sources say "avoid forceful or deep pressure"; 1.0 is the shipped default
  for the hand, lower than every other region's but the neck's (0.75), and well under the
  fibromyalgia mean thresholds (2.5–3.8 kgf/cm²): light pressure in every region.
- **1.5 kgf/cm²** with reduced sensation: every pain-based limit relies on feeling pain, so where
  feeling is reduced a fixed force cap must apply and a measured threshold cannot raise it. 1.5
  is the global shipped default, the cap before any calibration.
- **2.0 kgf/cm²** for pregnancy, cancer at the site, a wound or skin problem, a recent injury,
  inflammation or fever, and recent surgery: the sources say ask first and avoid the place,
  not avoid pressure altogether. 2.0 is half the normal ceiling, mid-range of the region defaults.

With several answers the lowest ceiling applies. Only a profile with no precaution and not in
sensitive mode may go above its ceiling, and only by a deliberate override agreed with a
clinician; a lowered ceiling cannot be overridden from the software.

**Sensitive mode** (fibromyalgia): proposed limits are 80 % of the measured threshold instead of
100 % (CLINICAL.md §4.3 "gentle ≤ 80 % of personal PPT"; §7.2 "for FM mode keep below 100 % by
default", Staud 2003 temporal summation), and the 4 kgf/cm² ceiling cannot be overridden.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from calibration.defaults import ABSOLUTE_CEILING_KGF_CM2, ROUNDED_TIP_CAP_CM2
from firmware_bridge.errors import UsageError
from firmware_bridge.units import KGF_N, REFERENCE_TIP_CM2

log = logging.getLogger(__name__)

#: Share of the measured threshold proposed as the comfort limit in sensitive mode.
SENSITIVE_FRACTION = 0.8
#: ... and otherwise (personal comfort limit = PPT, Hou 2002).
NORMAL_FRACTION = 1.0

_CHECK = "Check with your doctor or another clinician before pressing."


@dataclass(frozen=True, slots=True)
class Precaution:
    """One screening question.

    Attributes:
        key: stored in the profile's settings and typed on the command line.
        question: asked in plain words, answered yes or no.
        ceiling_kgf_cm2: the profile's pressure ceiling when the answer is yes.
        advice: what the user is told after a yes.
    """

    key: str
    question: str
    ceiling_kgf_cm2: float
    advice: str


PRECAUTIONS: tuple[Precaution, ...] = (
    Precaution(
        "bleeding",
        "Do you take medicine that thins your blood, or do you have a bleeding disorder or "
        "low platelets?",
        1.0,
        f"{_CHECK} Firm pressure can cause bruising or bleeding under the skin: keep the "
        "pressure light, and stop and tell your doctor if new bruises appear.",
    ),
    Precaution(
        "clot",
        "Have you ever had a blood clot, for example in a leg vein (deep vein thrombosis) or in "
        "the lungs?",
        1.0,
        f"{_CHECK} Do not massage your legs. If a calf is swollen, red, warm or painful, do not "
        "massage it: get medical care straight away.",
    ),
    Precaution(
        "bone",
        "Do you have a broken bone that is still healing, or severe bone thinning (osteoporosis)?",
        1.0,
        f"{_CHECK} Never press on or near a broken bone, and keep pressure light over bony "
        "places such as the spine, ribs and hips.",
    ),
    Precaution(
        "pregnancy",
        "Are you pregnant?",
        2.0,
        "Check with your midwife or doctor before pressing. Do not press on your belly, and "
        "stop if you feel unwell.",
    ),
    Precaution(
        "cancer",
        "Do you have cancer or a tumour at or near the place you want to massage?",
        2.0,
        "Check with your cancer care team before pressing. Do not press on or near the tumour "
        "unless they agree.",
    ),
    Precaution(
        "skin",
        "Is there a wound, burn, rash or other skin problem where you want to massage?",
        2.0,
        f"{_CHECK} Never press on a wound, a burn or broken or fragile skin; massage somewhere "
        "else until it has healed.",
    ),
    Precaution(
        "injury",
        "Do you have a recent injury, a hot or swollen joint or muscle (inflammation), or a fever?",
        2.0,
        f"{_CHECK} Do not massage a fresh injury or a hot, swollen area, and do not massage "
        "while you have a fever; wait until it has settled.",
    ),
    Precaution(
        "sensation",
        "Is the feeling in your skin reduced where you want to massage, for example numbness "
        "or nerve damage from diabetes (neuropathy)?",
        1.5,
        f"{_CHECK} Where feeling is reduced, pain cannot warn you in time, so PressureGuard "
        "keeps a fixed low cap there. Do not massage places that are numb.",
    ),
    Precaution(
        "surgery",
        "Have you had surgery in the last few months?",
        2.0,
        "Check with your surgeon or doctor before pressing. Do not massage on or near the scar "
        "or the operated area until they agree.",
    ),
)

_BY_KEY = {p.key: p for p in PRECAUTIONS}


def get_precaution(key: str) -> Precaution:
    """The precaution named ``key``.

    Raises:
        UsageError: an unknown key (the message lists the known ones).
    """
    found = _BY_KEY.get(key.strip().lower())
    if found is None:
        raise UsageError(f"unknown precaution {key!r}; known: {', '.join(_BY_KEY)}")
    return found


@dataclass(frozen=True, slots=True)
class ProfileSafety:
    """A profile's screening answers and what follows from them.

    Attributes:
        precautions: keys of the questions answered "yes".
        sensitive: sensitive (fibromyalgia) mode.
        answered_at: when the questions were last answered (ISO UTC), None if never.

    Raises:
        UsageError: an unknown precaution key.
    """

    precautions: frozenset[str] = field(default_factory=frozenset)
    sensitive: bool = False
    answered_at: str | None = None

    def __post_init__(self) -> None:
        for key in self.precautions:
            get_precaution(key)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ProfileSafety:
        """Read the answers from a profile's settings.

        Keys: ``precautions`` (list of keys), ``sensitive`` (bool), ``precautions_answered_at``.
        Unknown precaution keys (from a newer version, or a typo) are ignored with a warning. A
        ``sensitive`` value that is not a boolean is taken as sensitive, the safer reading.
        """
        raw = settings.get("precautions") or []
        if isinstance(raw, str) or not isinstance(raw, Iterable):
            log.warning("profile precautions %r are not a list; ignored", raw)
            raw = []
        keys: set[str] = set()
        for key in raw:
            if isinstance(key, str) and key in _BY_KEY:
                keys.add(key)
            else:
                log.warning("unknown precaution %r in the profile settings; ignored", key)
        sensitive = settings.get("sensitive", False)
        if not isinstance(sensitive, bool):
            log.warning("profile setting sensitive=%r is not true/false; taken as on", sensitive)
            sensitive = True
        answered = settings.get("precautions_answered_at")
        return cls(frozenset(keys), sensitive, answered if isinstance(answered, str) else None)

    def to_settings(self) -> dict[str, Any]:
        """The answers as profile settings (merge them into the profile's settings)."""
        return {
            "precautions": [p.key for p in self.answered_precautions()],
            "sensitive": self.sensitive,
            "precautions_answered_at": self.answered_at,
        }

    def answered_precautions(self) -> list[Precaution]:
        """The precautions answered "yes", in question order."""
        return [p for p in PRECAUTIONS if p.key in self.precautions]

    @property
    def answered(self) -> bool:
        """Whether the screening questions were answered at all."""
        return self.answered_at is not None

    @property
    def ceiling_kgf_cm2(self) -> float:
        """The profile's pressure ceiling: the lowest over the answers, else the normal one."""
        return min(
            [ABSOLUTE_CEILING_KGF_CM2, *(p.ceiling_kgf_cm2 for p in self.answered_precautions())]
        )

    @property
    def lowered(self) -> bool:
        """Whether a precaution lowered the ceiling below the normal one."""
        return self.ceiling_kgf_cm2 < ABSOLUTE_CEILING_KGF_CM2

    @property
    def override_refused(self) -> str | None:
        """Why a limit above the ceiling may not be set from the software, or None if it may."""
        if self.lowered:
            names = ", ".join(p.key for p in self.answered_precautions())
            return (
                f"your ceiling is {self.ceiling_kgf_cm2:g} kgf/cm² because of your answers to "
                f"the safety questions ({names}); it cannot be overridden here. Agree any higher "
                "pressure with your clinician, and use the tool only within this ceiling"
            )
        if self.sensitive:
            return (
                f"in sensitive mode the {self.ceiling_kgf_cm2:g} kgf/cm² ceiling cannot be "
                "overridden here. Agree any higher pressure with your clinician"
            )
        return None

    @property
    def ceiling_words(self) -> str:
        """The ceiling as the user is told about it: "your 1 kgf/cm² ceiling (precautions)"."""
        if self.lowered:
            return f"your {self.ceiling_kgf_cm2:g} kgf/cm² ceiling (precautions)"
        if self.sensitive:
            return f"your {self.ceiling_kgf_cm2:g} kgf/cm² ceiling (sensitive mode)"
        return f"the {self.ceiling_kgf_cm2:g} kgf/cm² ceiling"

    def ceiling_n(self, tip_area_cm2: float | None) -> float:
        """The ceiling as force over the tip's area (the 1 cm² reference disc when unknown).

        Areas above 2 cm² count as 2 cm², as for the shipped defaults: those are balls and knobs
        whose area is an estimate, and a larger contact hurts at a lower mean pressure.
        """
        area = min(tip_area_cm2 or REFERENCE_TIP_CM2, ROUNDED_TIP_CAP_CM2)
        return self.ceiling_kgf_cm2 * KGF_N * area

    @property
    def default_fraction(self) -> float:
        """Share of a measured threshold proposed as the comfort limit."""
        return SENSITIVE_FRACTION if self.sensitive else NORMAL_FRACTION

    def advice(self) -> list[str]:
        """The advice for every precaution answered "yes", in question order."""
        return [p.advice for p in self.answered_precautions()]
