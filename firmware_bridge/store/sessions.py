"""Session lifecycle (begin, update, end, recover, delete) and summaries."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from firmware_bridge.errors import NotFoundError, StoreError, UsageError
from firmware_bridge.store._base import (
    check_name,
    check_number,
    from_json,
    parse_iso,
    pid_alive,
    to_json,
    utc_iso,
)
from firmware_bridge.store.compact import CompactionMixin
from firmware_bridge.store.journal import check_day, local_midnight
from firmware_bridge.store.samples import SamplesMixin

log = logging.getLogger(__name__)

STATUSES = ("recording", "ended", "recovered")
#: Longest session note kept (a page of text).
MAX_NOTE_CHARS = 10_000


class _Unset:
    """The type of :data:`UNSET`."""

    def __repr__(self) -> str:
        return "UNSET"


#: "Leave this field as it is" for :meth:`SessionsMixin.update_session_review` (None clears).
UNSET = _Unset()


def _text(value: object, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise UsageError(f"{what} must be text, not {value!r}")


def _positive(what: str) -> Callable[[object], float | None]:
    return lambda v: None if v is None else check_number(v, what, positive=True)


def _pain(what: str) -> Callable[[object], float | None]:
    return lambda v: None if v is None else check_number(v, what, low=0, high=10)


def _calibration(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise UsageError(f"calibration must be a dict, not {value!r}")
    return to_json(value)


#: update_session's fields and how each is checked and stored (meta is merged separately).
_FIELDS: dict[str, Callable[[object], object]] = {
    "device_id": lambda v: _text(v, "device id"),
    "firmware": lambda v: _text(v, "firmware"),
    "region": lambda v: None if v is None else check_name(v, "region"),
    "note": lambda v: _text(v, "note"),
    "calibration": _calibration,
    "tip": lambda v: None if v is None else check_name(v, "tip"),
    # The area pressure is shown with: set only for a known flat tip (kPa means nothing under a
    # rounded knob or ball), so every reader can take "area known" as "pressure may be shown".
    "tip_area_cm2": _positive("tip area"),
    "rate_hz": _positive("sample rate"),
    "limit_n": _positive("comfort limit"),
    "tare_n": lambda v: None if v is None else check_number(v, "tare"),
    "pain_before": _pain("pain before"),
    "pain_after": _pain("pain after"),
}

_SELECT = "SELECT s.*, p.name AS profile FROM sessions s JOIN profiles p ON p.id = s.profile_id"
#: update_session's fields the review statistics are computed from: changing one clears them.
_STATS_INPUTS = frozenset({"limit_n", "rate_hz"})


def _gap_list(rows: list[tuple[float, dict[str, Any]]]) -> list[dict[str, Any]]:
    gaps = []
    for _t, detail in rows:
        if "start_s" in detail and "end_s" in detail:
            gaps.append(
                {
                    "start_s": detail["start_s"],
                    "end_s": detail["end_s"],
                    "reason": str(detail.get("reason", "")),
                }
            )
    return gaps


def _summary(row: sqlite3.Row, gap_events: list[tuple[float, dict[str, Any]]]) -> dict[str, Any]:
    """The summary dict (DESIGN.md's ``sessions show --json`` keys first) from a session row."""
    counters: dict[str, Any] = from_json(row["counters"], {})
    by_kind = counters.get("bad_frames_by_kind") or {}
    bad = counters.get("bad_frames")
    if not isinstance(bad, int):
        bad = sum(int(v) for v in by_kind.values())
    gap_list = _gap_list(gap_events)
    gaps = counters.get("gaps")
    if not isinstance(gaps, int):
        gaps = len(gap_list)
    peak = counters.get("peak_n", row["peak_n"])
    # The recorded signal's span (session time, gaps included): for a replay at full speed the
    # wall-clock span would be a fraction of a second. Wall time only when nothing was recorded.
    if row["t_last"] is not None:
        duration = float(row["t_last"])
    elif row["ended_at"] is not None:
        duration = (parse_iso(row["ended_at"]) - parse_iso(row["started_at"])).total_seconds()
    else:
        duration = 0.0
    return {
        "id": row["id"],
        "started_at": row["started_at"],
        "ended_at": row["ended_at"],
        "source": row["source"],
        "profile": row["profile"],
        "region": row["region"],
        "n_samples": row["n_samples"],
        "duration_s": duration,
        "peak_n": peak,
        "limit_n": row["limit_n"],
        "time_over_limit_s": float(counters.get("time_over_limit_s") or 0.0),
        "dropped_frames": int(counters.get("dropped_frames") or 0),
        "bad_frames": bad,
        "gaps": gaps,
        "status": row["status"],
        "end_reason": row["end_reason"],
        "device_id": row["device_id"],
        "firmware": row["firmware"],
        "tip": row["tip"],
        "tip_area_cm2": row["tip_area_cm2"],
        "rate_hz": row["rate_hz"],
        "tare_n": row["tare_n"],
        "pain_before": row["pain_before"],
        "pain_after": row["pain_after"],
        "note": row["note"],
        "bad_frames_by_kind": dict(by_kind),
        "gap_list": gap_list,
        "calibration": from_json(row["calibration"]),
        "heartbeat_at": row["heartbeat_at"],
        "counters": counters,
        "meta": from_json(row["meta"], {}),
    }


class SessionsMixin(SamplesMixin, CompactionMixin):
    """Sessions: begin, update, end, recover, list, summarise, delete."""

    def begin_session(
        self,
        *,
        source: str,
        profile: str,
        region: str | None,
        limit_n: float | None,
        started_at: datetime | None = None,
        meta: dict[str, Any] | None = None,
    ) -> int:
        """Create a session in status ``recording``, owned by this process, and commit it.

        Args:
            source: the source string (``sim://``, ``/dev/ttyACM0`` …).
            profile: the user profile name (created if new).
            region: body region slug, if known.
            limit_n: the comfort limit in force for the session, if any.
            started_at: wall-clock start; now by default (naive = local time).
            meta: anything else worth keeping with the session.

        Returns:
            The new session id (never reused).

        Raises:
            UsageError: a malformed profile, region or limit.
            StoreError: the store cannot be written.
        """
        region = None if region is None else check_name(region, "region")
        limit = None if limit_n is None else check_number(limit_n, "comfort limit", positive=True)
        start = utc_iso(started_at)
        with self._write("start a session") as db:
            profile_id = self._profile_id(db, profile, create=True)
            cur = db.execute(
                "INSERT INTO sessions (started_at, source, profile_id, region, limit_n, status,"
                " recorder_pid, recorder_host, heartbeat_at, meta)"
                " VALUES (?, ?, ?, ?, ?, 'recording', ?, ?, ?, ?)",
                (
                    start,
                    str(source),
                    profile_id,
                    region,
                    limit,
                    self._pid,
                    self._host,
                    utc_iso(),
                    to_json(meta or {}),
                ),
            )
            session_id = int(cur.lastrowid or 0)
        self._next_chunk[session_id] = 0
        log.info("session %d started (source %s, profile %s)", session_id, source, profile)
        return session_id

    def update_session(self, session_id: int, **fields: Any) -> None:
        """Change session details and commit (with anything buffered).

        Args:
            session_id: the session.
            **fields: any of device_id, firmware, calibration (dict), tip (a tip key),
                tip_area_cm2 (only for a known flat tip: the area pressure is shown with), rate_hz,
                tare_n, limit_n, region, pain_before, pain_after (0–10), note; ``meta`` (dict) is
                merged into the stored meta. None clears a field. A new limit or rate clears
                the kept review statistics (they are computed from both).

        Raises:
            TypeError: an unknown field name.
            UsageError: a malformed value.
            NotFoundError: no such session.
        """
        unknown = set(fields) - set(_FIELDS) - {"meta"}
        if unknown:
            raise TypeError(f"update_session got unknown fields: {', '.join(sorted(unknown))}")
        values = {k: _FIELDS[k](v) for k, v in fields.items() if k != "meta"}
        meta = fields.get("meta")
        if meta is not None and not isinstance(meta, dict):
            raise UsageError(f"meta must be a dict, not {meta!r}")
        with self._write("update the session") as db:
            row = db.execute("SELECT meta FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"no session {session_id}")
            if meta:
                values["meta"] = to_json(from_json(row[0], {}) | meta)
            if values:
                assignments = ", ".join(f"{k} = ?" for k in values)  # keys come from _FIELDS
                if _STATS_INPUTS & values.keys():
                    assignments += ", stats = NULL"
                db.execute(
                    f"UPDATE sessions SET {assignments} WHERE id = ?",
                    (*values.values(), session_id),
                )

    def update_session_review(
        self,
        session_id: int,
        *,
        note: str | _Unset | None = UNSET,
        pain_before: float | _Unset | None = UNSET,
        pain_after: float | _Unset | None = UNSET,
    ) -> dict[str, Any]:
        """Edit what the user says about a session, after the fact (the review page's form).

        Only the arguments given change; None clears one. Works on any session, ended or not.

        Args:
            session_id: the session.
            note: free text; blank text clears it. At most :data:`MAX_NOTE_CHARS` characters.
            pain_before: pain (0–10 NRS) before the session.
            pain_after: pain (0–10 NRS) after the session.

        Returns:
            The session's summary after the change (as :meth:`session_summary`, without events).

        Raises:
            UsageError: a pain rating outside 0–10 or not a number, a note that is not text or
                too long.
            NotFoundError: no such session.
        """
        fields: dict[str, Any] = {}
        if not isinstance(note, _Unset):
            if isinstance(note, str):
                note = note.strip() or None
            if note is not None and len(str(note)) > MAX_NOTE_CHARS:
                raise UsageError(f"a note holds at most {MAX_NOTE_CHARS} characters")
            fields["note"] = note
        if not isinstance(pain_before, _Unset):
            fields["pain_before"] = pain_before
        if not isinstance(pain_after, _Unset):
            fields["pain_after"] = pain_after
        self.update_session(session_id, **fields)
        with self._read("read the session") as db:
            row = db.execute(_SELECT + " WHERE s.id = ?", (session_id,)).fetchone()
            if row is None:  # deleted meanwhile
                raise NotFoundError(f"no session {session_id}")
            gaps = self._gap_events(db, [session_id])
        return _summary(row, gaps[session_id])

    def end_session(
        self, session_id: int, *, ended_at: datetime | None = None, reason: str = "stopped"
    ) -> None:
        """Mark a session ended and commit everything buffered for it.

        Raises:
            NotFoundError: no such session.
            StoreError: the store cannot be written.
        """
        self._finish(session_id, status="ended", ended_at=utc_iso(ended_at), reason=reason)
        log.info("session %d ended (%s)", session_id, reason)

    def _finish(self, session_id: int, *, status: str, ended_at: str, reason: str) -> None:
        """End a session with any final status (import restores 'recovered' sessions)."""
        if status not in STATUSES:
            raise ValueError(f"unknown session status {status!r}")
        with self._write("end the session") as db:
            cur = db.execute(
                "UPDATE sessions SET status = ?, ended_at = ?, end_reason = ?, heartbeat_at = ?"
                " WHERE id = ?",
                (status, ended_at, reason, utc_iso(), session_id),
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"no session {session_id}")
            # Without samples there is nothing to merge.
            empty = db.execute(
                "UPDATE sessions SET compacted_at = ? WHERE id = ? AND n_samples = 0",
                (utc_iso(), session_id),
            ).rowcount
        self._forget_session(session_id)
        if not empty:
            self._compact_later([session_id])  # in the background: see compact_session

    def _recorder_alive(self, row: sqlite3.Row, now: datetime, stale_after_s: float) -> bool:
        """Whether a 'recording' session's recorder may still be running."""
        if row["recorder_pid"] is not None and row["recorder_host"] == self._host:
            return pid_alive(int(row["recorder_pid"]))
        # Another machine, container or boot: the pid means nothing here; trust the heartbeat.
        last = parse_iso(row["heartbeat_at"] or row["started_at"])
        return (now - last).total_seconds() <= stale_after_s

    def recover_orphans(self, stale_after_s: float = 3.0) -> list[int]:
        """Close sessions whose recorder died without ending them.

        A 'recording' session is an orphan when its recorder pid is gone on this machine and
        boot; when it was recorded elsewhere (other host, container or boot), when its heartbeat
        is older than ``stale_after_s``. Orphans become 'recovered' with end_reason
        'recorder died' and ended_at = started_at + the last committed sample time (or the
        last heartbeat). Every committed sample stays readable.

        Recovered sessions, and any ended session not compacted yet (interrupted, or recorded
        before compaction existed), are queued for background compaction
        (:meth:`compact_session`).

        Returns:
            The ids of the sessions recovered now.
        """
        now = datetime.now(UTC)
        with self._read("look for interrupted sessions") as db:
            rows = db.execute(_SELECT + " WHERE s.status = 'recording'").fetchall()
            pending = [
                int(r[0])
                for r in db.execute(
                    "SELECT id FROM sessions WHERE compacted_at IS NULL"
                    " AND status != 'recording' AND n_samples > 0 ORDER BY id"
                )
            ]
        self._compact_later(pending)
        orphans = [r for r in rows if not self._recorder_alive(r, now, stale_after_s)]
        if not orphans:
            return []
        recovered = []
        with self._write("close interrupted sessions") as db:
            for r in orphans:
                # Re-read under the write lock: another process may have ended it meanwhile.
                row = db.execute(
                    "SELECT status, started_at, t_last, heartbeat_at FROM sessions WHERE id = ?",
                    (r["id"],),
                ).fetchone()
                if row is None or row["status"] != "recording":
                    continue
                if row["t_last"] is not None:
                    ended = utc_iso(parse_iso(row["started_at"]) + timedelta(seconds=row["t_last"]))
                else:
                    ended = row["heartbeat_at"] or row["started_at"]
                db.execute(
                    "UPDATE sessions SET status = 'recovered', ended_at = ?,"
                    " end_reason = 'recorder died' WHERE id = ?",
                    (ended, r["id"]),
                )
                db.execute(
                    "DELETE FROM live WHERE recorder_host = ? AND recorder_pid = ?",
                    (r["recorder_host"], r["recorder_pid"]),
                )
                recovered.append(int(r["id"]))
        for sid in recovered:
            log.warning("session %d was left open by a recorder that died; recovered", sid)
        self._compact_later(recovered)
        return recovered

    def _gap_events(
        self, db: sqlite3.Connection, ids: list[int]
    ) -> dict[int, list[tuple[float, dict[str, Any]]]]:
        found: dict[int, list[tuple[float, dict[str, Any]]]] = {i: [] for i in ids}
        if not ids:
            return found
        # One range query instead of one per session (fast with 1,000 sessions).
        for sid, t_s, detail in db.execute(
            "SELECT session_id, t_s, detail FROM events WHERE kind = 'gap'"
            " AND session_id BETWEEN ? AND ? ORDER BY session_id, t_s, id",
            (min(ids), max(ids)),
        ):
            if sid in found:
                found[sid].append((t_s, from_json(detail, {})))
        return found

    def list_sessions(
        self,
        profile: str | None = None,
        region: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        *,
        day_from: date | str | None = None,
        day_to: date | str | None = None,
    ) -> list[dict[str, Any]]:
        """Session summaries (without ``events``), newest first; sample data is not read.

        One query on the sessions table and one on the gap events, both through indexes, so
        the list stays fast with thousands of sessions.

        Args:
            profile: only this profile's sessions.
            region: only this region; ``upper-trapezius`` also matches its sides
                (``upper-trapezius:left``), ``upper-trapezius:left`` only that side.
            since: only sessions started at or after this time (naive = local time).
            until: only sessions started before this time.
            limit: at most this many.
            day_from: only sessions started on or after this calendar day, in the local time
                zone of this computer (a session started 00:30 local time belongs to that day,
                whatever its UTC date). A :class:`~datetime.date` or ``YYYY-MM-DD``.
            day_to: only sessions started on or before this local calendar day (inclusive).

        Raises:
            UsageError: a day that is not a date.
        """
        sql = _SELECT + " WHERE 1 = 1"
        args: list[Any] = []
        if day_from is not None:
            sql += " AND s.started_at >= ?"
            args.append(utc_iso(local_midnight(check_day(day_from, "first day"))))
        if day_to is not None:
            sql += " AND s.started_at < ?"
            args.append(utc_iso(local_midnight(check_day(day_to, "last day") + timedelta(1))))
        if profile is not None:
            sql += " AND p.name = ?"
            args.append(profile)
        if region is not None:
            sql += " AND (s.region = ? OR substr(s.region, 1, ?) = ?)"  # the region or its sides
            args += [region, len(region) + 1, region + ":"]
        if since is not None:
            sql += " AND s.started_at >= ?"
            args.append(utc_iso(since))
        if until is not None:
            sql += " AND s.started_at < ?"
            args.append(utc_iso(until))
        sql += " ORDER BY s.started_at DESC, s.id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        with self._read("list sessions") as db:
            rows = db.execute(sql, args).fetchall()
            gaps = self._gap_events(db, [int(r["id"]) for r in rows])
        return [_summary(r, gaps[int(r["id"])]) for r in rows]

    def session_summary(self, session_id: int) -> dict[str, Any]:
        """The session's summary, including ``events`` ({t_s, kind, detail}) and ``gap_list``.

        Raises:
            NotFoundError: no such session ("no session 42").
        """
        with self._read("read the session") as db:
            row = db.execute(_SELECT + " WHERE s.id = ?", (session_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"no session {session_id}")
            events = [
                (float(t), str(k), from_json(d, {}))
                for t, k, d in db.execute(
                    "SELECT t_s, kind, detail FROM events WHERE session_id = ? ORDER BY t_s, id",
                    (session_id,),
                )
            ]
        summary = _summary(row, [(t, d) for t, k, d in events if k == "gap"])
        summary["events"] = [{"t_s": t, "kind": k, "detail": d} for t, k, d in events]
        return summary

    # -- kept review statistics (sessions.stats, see review.stats_cache) ------------------------

    def stored_stats(self, session_id: int) -> dict[str, Any] | None:
        """The review statistics kept for a session, as stored; None when none are.

        Raises:
            NotFoundError: no such session.
        """
        with self._read("read the session's statistics") as db:
            row = db.execute("SELECT stats FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no session {session_id}")
        try:
            kept = from_json(row[0])
        except ValueError:
            log.warning("session %d: its kept statistics are not JSON; ignored", session_id)
            return None
        return kept if isinstance(kept, dict) else None

    def keep_stats(self, session_id: int, stats: dict[str, Any]) -> bool:
        """Keep the review statistics of a session that is no longer recording.

        A cache: written beside any other writer without committing what it buffered (the
        bridge's samples), and refused for a session still recording (its samples grow).

        Args:
            session_id: the session.
            stats: JSON-ready statistics (:mod:`review.stats_cache` says what they hold).

        Returns:
            Whether they were kept (False: the session is recording or gone).

        Raises:
            StoreError: the store cannot be written.
        """
        with self._bare_write("keep the session's statistics") as db:
            cur = db.execute(
                "UPDATE sessions SET stats = ? WHERE id = ? AND status != 'recording'",
                (to_json(stats), session_id),
            )
        return cur.rowcount > 0

    def delete_session(self, session_id: int) -> None:
        """Delete a session with its samples and events.

        Raises:
            NotFoundError: no such session.
            StoreError: the session is still being recorded by a live recorder.
        """
        with self._write("delete the session") as db:
            row = db.execute(_SELECT + " WHERE s.id = ?", (session_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"no session {session_id}")
            if row["status"] == "recording" and self._recorder_alive(
                row, datetime.now(UTC), stale_after_s=3.0
            ):
                raise StoreError(
                    f"session {session_id} is still recording; stop it before deleting it"
                )
            db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        self._forget_session(session_id)
        log.info("session %d deleted", session_id)
