"""Plain words about a recorded session that the command line, the History page and the
therapist report all say the same way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def prewarning_words(events_by_kind: Mapping[str, int]) -> str | None:
    """``pre-warnings: 5, of which 4 eased off before the limit`` (None when there were none).

    Args:
        events_by_kind: how many of each recorded event (``prewarn``, ``prewarn_eased`` ...).
    """
    fired = events_by_kind.get("prewarn", 0)
    if not fired:
        return None
    eased = events_by_kind.get("prewarn_eased", 0)
    return f"pre-warnings: {fired}, of which {eased} eased off before the limit"


def calibration_words(detail: Mapping[str, Any] | None) -> str:
    """How the session's force was calibrated, from its ``calibration`` record.

    Sessions recorded before the record said so in words are described from their fields.
    """
    if not detail:
        return "not recorded"
    reason = detail.get("reason")
    if isinstance(reason, str) and reason:
        return reason if detail.get("calibrated", True) else f"uncalibrated ({reason})"
    if detail.get("status") == "uncalibrated":
        return "uncalibrated: raw counts, not judged"
    source = detail.get("source")
    if source == "stored":
        return "your calibration"
    if source == "factory":
        return "the tool's factory calibration"
    return "not recorded"
