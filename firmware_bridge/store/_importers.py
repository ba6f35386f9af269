"""The session writer every import uses, and what imports share (see ``import_file``).

An import either completes or leaves nothing behind. The session is created when the first batch
has been read and checked, written in chunks of :data:`~.compact.COMPACT_SAMPLES` samples (a few
per short transaction, so a bridge recording meanwhile is never held up), and deleted again when
anything later fails. Until it is complete its ``meta.imported_from.complete`` is false: a session
left so by an import that was killed outright is removed by the next import
(:func:`remove_unfinished_imports`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from firmware_bridge.errors import NotFoundError, StoreError, UsageError
from firmware_bridge.store._base import from_json, utc_iso
from firmware_bridge.store.compact import COMPACT_SAMPLES
from firmware_bridge.store.formats import pressure_kpa
from firmware_bridge.store.store import Store
from firmware_bridge.zones import JudgedSamples, Zone

log = logging.getLogger(__name__)

_COMMIT_EVERY = 4  # chunks per commit: ~4 MB a transaction, a few ms of write lock
_COLUMNS = ("t_s", "raw", "force_n", "filtered_n", "zone")


@contextlib.contextmanager
def named_errors(name: str) -> Iterator[None]:
    """Prefix the file name to a UsageError raised by the store's own checks."""
    try:
        yield
    except UsageError as exc:
        raise UsageError(f"{name}: {exc}") from exc


def _joined(parts: list[JudgedSamples]) -> JudgedSamples:
    if len(parts) == 1:
        return parts[0]
    return JudgedSamples(*(np.concatenate([getattr(p, c) for p in parts]) for c in _COLUMNS))


def _sliced(samples: JudgedSamples, start: int, stop: int) -> JudgedSamples:
    return JudgedSamples(*(getattr(samples, c)[start:stop] for c in _COLUMNS))


class ImportWriter:
    """Creates the imported session, appends in whole chunks, and removes it again on failure."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.session_id: int | None = None
        self.started = datetime.now(UTC)
        self.origin: dict[str, Any] = {}
        self.samples = 0
        self.t_last: float | None = None
        self.time_over_s = 0.0
        self._over_last = False
        self._held: list[JudgedSamples] = []
        self._held_n = 0
        self._chunks = 0

    def begin(self, *, origin: dict[str, Any], meta: dict[str, Any], **kwargs: Any) -> int:
        """Create the session (``Store.begin_session``'s arguments), marked incomplete.

        Args:
            origin: where it came from (``file``, ``format`` …), kept as ``meta.imported_from``.
            meta: the session's other meta.
            **kwargs: ``begin_session``'s other arguments.
        """
        self.started = kwargs.get("started_at") or self.started
        self.origin = dict(origin)
        marked = meta | {"imported_from": self.origin | {"complete": False}}
        kwargs |= {"started_at": self.started, "meta": marked}
        self.session_id = self.store.begin_session(**kwargs)
        return self.session_id

    def add(self, samples: JudgedSamples) -> None:
        """Append checked samples (after the ones before); written a whole chunk at a time."""
        if self.session_id is None or len(samples) == 0:
            return
        t = np.asarray(samples.t_s, dtype=np.float64)
        over = np.asarray(samples.zone) >= int(Zone.OVER)
        if self.t_last is not None:  # the interval across the batch boundary counts too
            t = np.concatenate([[self.t_last], t])
            over = np.concatenate([[self._over_last], over])
        self.time_over_s += float(np.sum(np.diff(t)[over[:-1]]))
        self.t_last, self._over_last = float(t[-1]), bool(over[-1])
        self.samples += len(samples)
        self._held.append(samples)
        self._held_n += len(samples)
        if self._held_n >= COMPACT_SAMPLES:
            self._write(final=False)

    def _write(self, *, final: bool) -> None:
        if self.session_id is None or not self._held_n:
            return
        held = _joined(self._held)
        whole = len(held) if final else len(held) - len(held) % COMPACT_SAMPLES
        for start in range(0, whole, COMPACT_SAMPLES):
            part = _sliced(held, start, min(start + COMPACT_SAMPLES, whole))
            self.store.append_samples(self.session_id, part)
            self._chunks += 1
            if self._chunks % _COMMIT_EVERY == 0:
                self.store.commit()
        rest = _sliced(held, whole, len(held))
        self._held, self._held_n = ([rest] if len(rest) else []), len(rest)

    def finish(self, *, status: str, ended_at: datetime | None, reason: str) -> int:
        """Write what is held, end the session and mark it complete; returns its id."""
        if self.session_id is None:
            raise ValueError("no session was started")
        self._write(final=True)
        if ended_at is None:
            ended_at = self.started + timedelta(seconds=max(0.0, self.t_last or 0.0))
        sid = self.session_id
        self.store.update_session(sid, meta={"imported_from": self.origin | {"complete": True}})
        self.store._finish(sid, status=status, ended_at=utc_iso(ended_at), reason=reason)
        if self.samples:
            self.store._compact_later([sid])  # review statistics, as for a recorded session
        return sid

    def finish_samples(self, area: AreaFinder, name: str, empty: str) -> int:
        """End a file that held samples only (no session record): its tip from the pressure
        column, its time over the limit, then :meth:`finish`.

        Raises:
            UsageError: ``empty`` when no sample was read.
        """
        if self.session_id is None:
            raise UsageError(empty)
        tip = area.result(name)
        if tip is not None:
            self.store.update_session(self.session_id, tip_area_cm2=tip)
        self.store.set_counters(self.session_id, {"time_over_limit_s": self.time_over_s})
        return self.finish(status="ended", ended_at=None, reason="imported")

    def abandon(self) -> None:
        """Remove the half-written session (after any failure, even Ctrl-C)."""
        if self.session_id is None:
            return
        sid = self.session_id
        self._held.clear()
        self.store._discard_pending(sid)
        try:
            self.store._finish(sid, status="ended", ended_at=utc_iso(), reason="import failed")
            self.store.delete_session(sid)
        except StoreError:
            log.exception("could not remove the half-imported session %d", sid)
        log.info("the half-imported session %d was removed", sid)


def remove_unfinished_imports(store: Store) -> list[int]:
    """Delete sessions left incomplete by an import that was killed before it could clean up.

    An import still running in another process keeps its session (the store refuses to delete
    a session whose recorder is alive).

    Returns:
        The ids removed.
    """
    with store._read("look for unfinished imports") as db:
        rows = db.execute(
            "SELECT id, meta FROM sessions WHERE meta LIKE '%\"complete\":false%'"
        ).fetchall()
    removed = []
    for sid, meta in rows:
        origin = from_json(meta, {}).get("imported_from")
        if not isinstance(origin, dict) or origin.get("complete") is not False:
            continue
        try:
            store.delete_session(int(sid))
        except (StoreError, NotFoundError):
            continue  # still being imported by a live process, or gone meanwhile
        log.warning("session %d, left half-imported by an import that was killed, removed", sid)
        removed.append(int(sid))
    return removed


class AreaFinder:
    """Finds the tip area that reproduces a file's pressure column exactly (identical re-export)."""

    def __init__(self) -> None:
        self.candidates: list[float] | None = None
        self.guess: float | None = None

    def feed(self, force: np.ndarray, pressure: np.ndarray) -> None:
        """Narrow the candidates with one batch of forces and their pressures."""
        ok = np.isfinite(force) & np.isfinite(pressure) & (force != 0) & (pressure != 0)
        if not ok.any():
            return
        f, p = force[ok], pressure[ok]
        if self.candidates is None:
            i = int(np.argmax(np.abs(f)))
            guess = float(10.0 * f[i] / p[i])
            # Tip areas are short decimals typed by people; try those before the raw quotient.
            near = [float(f"{guess:.{d}g}") for d in (4, 6, 9, 12, 15)]
            near += [guess, float(np.nextafter(guess, np.inf)), float(np.nextafter(guess, 0.0))]
            self.guess = guess
            self.candidates = [c for c in dict.fromkeys(near) if c > 0]
        self.candidates = [c for c in self.candidates if np.array_equal(pressure_kpa(f, c), p)]

    def result(self, name: str) -> float | None:
        """The area (cm²), or None when the pressures give none."""
        if self.guess is None or self.guess <= 0:
            return None
        if self.candidates:
            return self.candidates[0]
        log.warning("%s: pressure_kpa fits no single tip area; using %.6g cm²", name, self.guess)
        return self.guess
