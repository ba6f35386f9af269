"""A session's stats kept in the store, so a 2-hour session is not passed over on every visit.

Only the pass over the samples (:class:`~review.stats.SampleTotals`) costs anything; an ended
session's samples never change, so its stats are computed once (in the background after the
session is compacted, see :mod:`firmware_bridge.store.compact`, or on first need) and kept in the
session's ``stats`` column with the **basis** they were computed on: the sample count and span,
the comfort limit and its steps, the sample rate, and the rules and version of the computation.

A kept copy is used only while its basis still matches the session, so it can never be stale:
appended samples, a changed limit or rate, or a new version of the computation each make it
unused (and it is computed afresh and kept again). What the session's row says (pain ratings,
lost frames, events) is always read fresh. The result equals :func:`review.stats.session_stats`
exactly.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from firmware_bridge.store._base import to_json
from firmware_bridge.zones import HYSTERESIS
from review.stats import (
    GAP_MIN_S,
    GAP_PERIODS,
    HOLD_FRACTION,
    LimitTimeline,
    SampleTotals,
    SessionStats,
    sample_totals,
    stats_from,
)

if TYPE_CHECKING:
    from firmware_bridge.store import Store

log = logging.getLogger(__name__)

#: The version of the computation in :mod:`review.stats`: raise it whenever that computation
#: changes, and every kept copy is computed afresh on its next use.
STATS_VERSION = 1
_TOTALS = tuple(f.name for f in dataclasses.fields(SampleTotals))


def basis(summary: dict[str, Any]) -> dict[str, Any]:
    """What a session's sample totals depend on, as plain JSON values.

    Samples are only ever appended (compaction keeps every one bit-identical), so their count
    and span stand for them.

    Args:
        summary: the session's summary, with ``events``.
    """
    steps = LimitTimeline(summary["events"], summary["limit_n"]).steps()
    value = {
        "version": STATS_VERSION,
        "rules": [HOLD_FRACTION, HYSTERESIS, GAP_MIN_S, GAP_PERIODS],
        "n_samples": summary["n_samples"],
        "duration_s": summary["duration_s"],
        "limit_n": summary["limit_n"],
        "limit_steps": steps,
        "rate_hz": summary["rate_hz"],
    }
    result: dict[str, Any] = json.loads(to_json(value))  # as it reads back from the store
    return result


def kept_stats(store: Store, summary: dict[str, Any]) -> SessionStats | None:
    """The session's kept stats, when a copy is kept and its basis still matches.

    Args:
        store: the open store.
        summary: the session's summary, with ``events``, as just read.

    Returns:
        The stats (equal to :func:`~review.stats.session_stats`), or None: compute them.

    Raises:
        NotFoundError: no such session.
        StoreError: the store cannot be read.
    """
    kept = store.stored_stats(int(summary["id"]))
    if not isinstance(kept, dict) or kept.get("basis") != basis(summary):
        return None
    try:
        totals = SampleTotals(**{name: kept["stats"][name] for name in _TOTALS})
    except (KeyError, TypeError):
        log.warning("session %s: unreadable kept stats, computing them again", summary["id"])
        return None
    return stats_from(summary, totals)


def cached_session_stats(
    store: Store, session_id: int, *, summary: dict[str, Any] | None = None
) -> SessionStats:
    """The stats of a session: the kept copy when it is valid, else computed (one pass over
    the samples) and, for a session that has ended, kept for next time.

    Args:
        store: the open store.
        session_id: the session.
        summary: its summary with ``events``, when the caller has just read it.

    Raises:
        NotFoundError: no such session.
        StoreError: the store cannot be read.
    """
    if summary is None:
        summary = store.session_summary(session_id)
    stats = kept_stats(store, summary)
    if stats is None:
        stats = _compute_and_keep(store, summary)
    return stats


def keep_session_stats(
    store: Store, session_id: int, *, pace: Callable[[float], None] | None = None
) -> bool:
    """Compute an ended session's stats and keep them, unless a valid copy is kept already
    (the background work after a session is compacted).

    Args:
        store: the open store.
        session_id: the session.
        pace: called between batches of samples (see :func:`review.stats.sample_totals`).

    Returns:
        Whether stats were computed now.

    Raises:
        NotFoundError: no such session.
        StoreError: the store cannot be read.
    """
    summary = store.session_summary(session_id)
    if summary["status"] == "recording" or kept_stats(store, summary) is not None:
        return False
    _compute_and_keep(store, summary, pace=pace)
    return True


def _compute_and_keep(
    store: Store, summary: dict[str, Any], *, pace: Callable[[float], None] | None = None
) -> SessionStats:
    totals = sample_totals(store, summary, pace=pace)
    stats = stats_from(summary, totals)
    # A session still recording grows; samples committed after the summary was read would
    # make the totals disagree with the basis: keep only what matches it.
    if summary["status"] != "recording" and totals.n_samples == summary["n_samples"]:
        payload = {"basis": basis(summary), "stats": stats.as_dict()}
        if store.keep_stats(int(summary["id"]), payload):
            log.info("session %s: stats kept", summary["id"])
    return stats
