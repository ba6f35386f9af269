"""The symptom journal: one short entry per profile and calendar day, kept beside the sessions so
a user can see which doses help and which flare them.

An entry holds 0–10 ratings and a list of triggers. Pain and stiffness run from 0 = none to
10 = worst; sleep quality and activity tolerance from 0 = worst to 10 = best (each question asks
about the day in the way people answer it). Stiffness is the severity of morning stiffness on
that 0–10 scale, as the FIQR asks it, rather than its duration in minutes: one scale for every
rating keeps the form quick and the trend chart on one axis, and people estimate "how bad" more
reliably than "how long". A rating left out (None) was not recorded that day.

Days are calendar dates as the user lives them (local time), stored as ``YYYY-MM-DD`` text.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

from firmware_bridge.errors import NotFoundError, UsageError
from firmware_bridge.store._base import StoreBase, check_number, from_json, to_json, utc_iso

log = logging.getLogger(__name__)

#: The 0–10 ratings of an entry: keyword (as :meth:`JournalMixin.save_journal` takes it and
#: :meth:`JournalMixin.journal` returns it) → column.
RATINGS = {
    "pain": "pain",
    "stiffness": "stiffness",
    "sleep": "sleep_quality",
    "activity": "activity_tolerance",
}
#: At most this many triggers per day, each at most :data:`MAX_TRIGGER_CHARS` characters.
MAX_TRIGGERS = 20
MAX_TRIGGER_CHARS = 60
#: Longest journal note kept.
MAX_NOTE_CHARS = 10_000

_SELECT = "SELECT j.*, p.name AS profile FROM journal j JOIN profiles p ON p.id = j.profile_id"


#: The days a date may name (journal, lists, reports): far from the calendar's ends.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


def check_day(value: object, what: str = "day") -> date:
    """A calendar day from a :class:`~datetime.date` or ``YYYY-MM-DD`` text.

    A :class:`~datetime.datetime` gives its own (local) date.

    Raises:
        UsageError: anything else, an impossible date, or one outside 1900–9998 (the day after,
            or its local midnight in UTC, must exist).
    """
    day: date | None = None
    if isinstance(value, datetime):
        day = (value.astimezone() if value.tzinfo else value).date()
    elif isinstance(value, date):
        day = value
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            day = date.fromisoformat(value.strip())
    if day is None:
        raise UsageError(f"{what} must be a date written YYYY-MM-DD, not {value!r}")
    if not FIRST_DAY <= day <= LAST_DAY:
        raise UsageError(f"{what} must be between {FIRST_DAY} and {LAST_DAY}, not {day}")
    return day


def local_midnight(day: date) -> datetime:
    """The start of ``day`` in this computer's time zone (naive: local time)."""
    return datetime.combine(day, time.min)


def _triggers(values: Iterable[str]) -> list[str]:
    if isinstance(values, str | bytes):
        raise UsageError("triggers must be a list of texts, not one text")
    out: list[str] = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise UsageError(f"a trigger must be a non-empty text, not {value!r}")
        text = " ".join(value.split())
        if len(text) > MAX_TRIGGER_CHARS:
            raise UsageError(f"a trigger holds at most {MAX_TRIGGER_CHARS} characters: {text!r}")
        if text.casefold() not in (t.casefold() for t in out):
            out.append(text)
    if len(out) > MAX_TRIGGERS:
        raise UsageError(f"at most {MAX_TRIGGERS} triggers a day")
    return out


def _entry(row: sqlite3.Row) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row["id"], "profile": row["profile"], "day": row["day"]}
    out |= {key: row[column] for key, column in RATINGS.items()}
    out["triggers"] = from_json(row["triggers"], [])
    out["note"] = row["note"]
    out["updated_at"] = row["updated_at"]
    return out


class JournalMixin(StoreBase):
    """Daily symptom entries per profile."""

    def save_journal(
        self,
        profile: str,
        day: date | str,
        *,
        pain: float | None = None,
        stiffness: float | None = None,
        sleep: float | None = None,
        activity: float | None = None,
        triggers: Iterable[str] = (),
        note: str | None = None,
    ) -> int:
        """Save the entry of one day, replacing any entry already saved for that day.

        The entry becomes exactly what is given (a rating left out is "not recorded"), as a
        form that shows the day's entry and saves it whole would expect.

        Args:
            profile: profile name (created if new).
            day: the local calendar day (``date`` or ``YYYY-MM-DD``).
            pain: pain that day, 0 (none) – 10 (worst imaginable).
            stiffness: morning stiffness, 0 (none) – 10 (worst).
            sleep: sleep quality of the night before, 0 (very poor) – 10 (very good).
            activity: activity tolerance, 0 (could do nothing) – 10 (everything wanted).
            triggers: what may have set symptoms off (see ``review.journal.COMMON_TRIGGERS``
                for the usual ones; any short text is kept); duplicates are dropped.
            note: free text; blank clears it.

        Returns:
            The entry's id (the same id when a day is saved again).

        Raises:
            UsageError: a rating outside 0–10, a malformed day or trigger, a note too long, or
                an entry with nothing in it (use :meth:`delete_journal` to remove a day).
        """
        day_text = check_day(day).isoformat()
        values = {
            column: None
            if value is None
            else check_number(value, key.replace("_", " "), low=0, high=10)
            for (key, column), value in zip(
                RATINGS.items(), (pain, stiffness, sleep, activity), strict=True
            )
        }
        chosen = _triggers(triggers)
        if note is not None and not isinstance(note, str):
            raise UsageError(f"a note must be text, not {note!r}")
        note = (note or "").strip() or None
        if note is not None and len(note) > MAX_NOTE_CHARS:
            raise UsageError(f"a note holds at most {MAX_NOTE_CHARS} characters")
        if note is None and not chosen and all(v is None for v in values.values()):
            raise UsageError(
                f"the entry for {day_text} is empty: give a rating, a trigger or a note"
            )
        with self._write("save the journal entry") as db:
            profile_id = self._profile_id(db, profile, create=True)
            db.execute(
                "INSERT INTO journal (profile_id, day, pain, stiffness, sleep_quality,"
                " activity_tolerance, triggers, note, updated_at)"
                " VALUES (:p, :day, :pain, :stiffness, :sleep_quality, :activity_tolerance,"
                " :triggers, :note, :now)"
                " ON CONFLICT (profile_id, day) DO UPDATE SET pain = excluded.pain,"
                " stiffness = excluded.stiffness, sleep_quality = excluded.sleep_quality,"
                " activity_tolerance = excluded.activity_tolerance,"
                " triggers = excluded.triggers, note = excluded.note,"
                " updated_at = excluded.updated_at",
                values
                | {
                    "p": profile_id,
                    "day": day_text,
                    "triggers": to_json(chosen),
                    "note": note,
                    "now": utc_iso(),
                },
            )
            row = db.execute(  # not RETURNING: older SQLite builds lack it
                "SELECT id FROM journal WHERE profile_id = ? AND day = ?", (profile_id, day_text)
            ).fetchone()
        log.info("journal entry of %s for %s saved", profile, day_text)
        return int(row[0])

    def journal(
        self,
        profile: str,
        day_from: date | str | None = None,
        day_to: date | str | None = None,
    ) -> list[dict[str, Any]]:
        """A profile's journal entries, oldest day first.

        Args:
            profile: profile name (an unknown profile has no entries).
            day_from: first local day to include (inclusive); None for the first entry.
            day_to: last local day to include (inclusive); None for the last entry.

        Returns:
            Dicts with ``id``, ``profile``, ``day`` (``YYYY-MM-DD``), ``pain``, ``stiffness``,
            ``sleep``, ``activity`` (0–10 or None), ``triggers`` (list of texts), ``note`` and
            ``updated_at`` (UTC ISO time); the same keywords :meth:`save_journal` takes.

        Raises:
            UsageError: a malformed day.
        """
        sql = _SELECT + " WHERE p.name = ?"
        args: list[Any] = [profile]
        if day_from is not None:
            sql += " AND j.day >= ?"
            args.append(check_day(day_from, "first day").isoformat())
        if day_to is not None:
            sql += " AND j.day <= ?"
            args.append(check_day(day_to, "last day").isoformat())
        with self._read("read the journal") as db:
            rows = db.execute(sql + " ORDER BY j.day", args).fetchall()
        return [_entry(r) for r in rows]

    def delete_journal(self, profile: str, day: date | str) -> None:
        """Delete the entry of one day.

        Raises:
            UsageError: a malformed day.
            NotFoundError: that profile has no entry for that day.
        """
        day_text = check_day(day).isoformat()
        with self._write("delete the journal entry") as db:
            profile_id = self._profile_id(db, profile, create=False)
            cur = db.execute(
                "DELETE FROM journal WHERE profile_id = ? AND day = ?", (profile_id, day_text)
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"no journal entry of {profile} for {day_text}")
        log.info("journal entry of %s for %s deleted", profile, day_text)
