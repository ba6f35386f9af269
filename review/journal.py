"""The symptom journal's vocabulary: its rating scales and the usual triggers, for the journal
form, the trends and the report. The entries themselves live in the store
(:meth:`firmware_bridge.store.Store.save_journal`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scale:
    """One 0–10 journal rating.

    Attributes:
        key: the keyword of ``Store.save_journal`` and of the entries ``Store.journal`` returns.
        question: what the form asks.
        low: what 0 means.
        high: what 10 means.
        higher_is_better: True for sleep and activity, False for pain and stiffness.
    """

    key: str
    question: str
    low: str
    high: str
    higher_is_better: bool


#: The ratings of a journal entry, in form order.
SCALES: tuple[Scale, ...] = (
    Scale("pain", "Overall pain today", "no pain", "worst pain imaginable", False),
    Scale("stiffness", "Stiffness this morning", "none", "very severe", False),
    Scale("sleep", "Sleep last night", "very poor", "very good", True),
    Scale("activity", "How much of what you wanted to do could you do", "nothing", "all", True),
)

#: Common flare triggers offered as one-tap choices (any other short text is kept as well).
COMMON_TRIGGERS: tuple[str, ...] = (
    "long drive",
    "heavy lifting",
    "high-stress day",
    "poor sleep",
    "cold weather",
    "weather change",
    "long sitting",
    "long standing",
    "computer work",
    "overexertion",
    "new exercise",
    "illness",
    "travel",
    "menstrual period",
)
