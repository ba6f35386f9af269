"""What every import checks in each batch of samples before any of it is stored.

The rules (``docs/exchange.md``, "What import refuses"): every sample has a finite time, at least
0 and at most :data:`~.formats.MAX_T_S`, later than the sample before it (no time twice); forces,
raw counts and pressures are empty (unknown) or finite, forces within a hand-held tool's range,
raw counts within 32 bits. The first problem in file order is reported in one line that says
where it is (a CSV line, a JSON item, a Parquet row).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from firmware_bridge.errors import UsageError
from firmware_bridge.store.formats import MAX_ABS_RAW, MAX_FORCE_N, MAX_T_S, MIN_FORCE_N
from firmware_bridge.zones import JudgedSamples, Zone

#: ``locate(i, column)``: where sample ``i`` of the batch is, with the column, for a message:
#: ``"f.csv line 3: force_n"``, ``"f.json: samples.force_n[1]"``, ``"f.parquet row 2: force_n"``.
Locate = Callable[[int, str], str]


def _number(value: float) -> str:
    return repr(float(value))


def _not_finite(values: np.ndarray, i: int) -> str:
    return f"{{at}} is {_number(values[i])}: not a finite number"


def _no_force(values: np.ndarray, i: int) -> str:
    return (
        f"{{at}} is {_number(values[i])} N: outside what a hand-held tool reports "
        f"({MIN_FORCE_N:g} to {MAX_FORCE_N:g} N)"
    )


def _first(mask: np.ndarray) -> int | None:
    return int(np.argmax(mask)) if mask.any() else None


class SampleChecks:
    """Checks consecutive batches of one file; keeps the last time across batches."""

    def __init__(self) -> None:
        self.t_last: float | None = None

    def check(
        self,
        samples: JudgedSamples,
        locate: Locate,
        missing: dict[str, np.ndarray] | None = None,
        extra: dict[str, np.ndarray] | None = None,
    ) -> None:
        """Raise a UsageError naming the first problem in the batch, if any.

        Args:
            samples: the batch, as parsed (empty fields as NaN).
            locate: where sample ``i`` is (see :data:`Locate`).
            missing: for a column, which of its NaN were empty fields (the others were written
                as ``nan``); a column not given has no written NaN.
            extra: other numeric columns to check for non-finite values (``pressure_kpa``).

        Raises:
            UsageError: one line naming the problem and where it is.
        """
        # (index, column, message with {at} for where it is): the smallest index is reported.
        problems: list[tuple[int, str, str]] = []

        def note(mask: np.ndarray, column: str, words: Callable[[int], str]) -> None:
            i = _first(mask)
            if i is not None:
                problems.append((i, column, words(i)))

        t = np.asarray(samples.t_s, dtype=np.float64)
        holes = missing or {}
        empty_t = np.isnan(t) & holes.get("t_s", np.zeros(len(t), dtype=bool))
        note(empty_t, "t_s", lambda _i: "{at} must be a number, found ''")
        columns = {c: np.asarray(getattr(samples, c)) for c in ("t_s", "force_n", "filtered_n")}
        columns |= {"raw": np.asarray(samples.raw)} | (extra or {})
        for column, values in columns.items():
            written = ~np.isfinite(values)
            if column in holes:
                written &= ~holes[column]
            if column == "t_s":
                written &= ~empty_t
            note(written, column, functools.partial(_not_finite, values))
        with np.errstate(invalid="ignore"):
            note(t < 0, "t_s", lambda i: f"{{at}} is {_number(t[i])}: before the session's start")
            note(
                t > MAX_T_S,
                "t_s",
                lambda i: (
                    f"{{at}} is {_number(t[i])}: more than {MAX_T_S / 86400:.0f} days "
                    "into the session"
                ),
            )
            before = np.concatenate([[-np.inf if self.t_last is None else self.t_last], t[:-1]])
            note(t <= before, "t_s", lambda i: self._order_words(t[i], before[i]))
            for column in ("force_n", "filtered_n"):
                f = columns[column]
                note((f < MIN_FORCE_N) | (f > MAX_FORCE_N), column, functools.partial(_no_force, f))
            # relaxed, target and over say the force was known: without one they would be a
            # "safe" no tool ever measured. (The bridge writes a sample without a force as
            # uncalibrated or no-signal, or as danger when the tool said it was saturated.)
            zone = np.asarray(samples.zone)
            judged = (zone >= int(Zone.RELAXED)) & (zone <= int(Zone.OVER))
            note(
                judged & np.isnan(columns["force_n"]),
                "force_n",
                lambda i: (
                    f"{{at}} is empty while the sample's zone is {Zone(int(zone[i])).label}: "
                    "a sample without a force is uncalibrated, no_signal or danger"
                ),
            )
            raw = columns["raw"]
            note(
                np.abs(raw) > MAX_ABS_RAW,
                "raw",
                lambda i: f"{{at}} is {_number(raw[i])}: more than a 32-bit count",
            )
        if problems:
            index, column, words = min(problems, key=lambda p: p[0])  # the first in the file
            raise UsageError(words.replace("{at}", locate(index, column)))
        if len(t):
            self.t_last = float(t[-1])

    @staticmethod
    def _order_words(t: float, before: float) -> str:
        if t == before:
            return f"{{at}} is {_number(t)} again: two samples at the same time"
        return (
            f"{{at}} is {_number(t)}, before the sample above it ({_number(before)}): "
            "times must increase"
        )
