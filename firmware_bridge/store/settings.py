"""Everything in the store besides sessions: settings, profiles, comfort limits, device
calibrations, dashboard → bridge commands and the recorder's live status."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from typing import Any

from firmware_bridge.errors import NotFoundError, UsageError
from firmware_bridge.store._base import (
    CLOCK_SLACK_S,
    StoreBase,
    check_name,
    check_number,
    from_json,
    parse_iso,
    to_json,
    utc_iso,
)

log = logging.getLogger(__name__)

LIMIT_SOURCES = ("default", "manual", "measured")

_LIMIT_SELECT = (
    "SELECT l.id, p.name AS profile, l.region, l.tip, l.limit_n, l.source, l.set_at, l.note"
    " FROM limits l JOIN profiles p ON p.id = l.profile_id"
)


def _limit(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out["tip"] = out["tip"] or None  # '' in the table means "any tip"
    return out


def _calibration(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out["fit"] = from_json(out["fit"], {})
    return out


def _command(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out["args"] = _lenient_json(out["args"], {})
    out["result"] = _lenient_json(out["result"], None)
    return out


def _lenient_json(text: str | None, default: Any) -> Any:
    """A command column as written by anyone: JSON, else the text itself (the bridge refuses
    it), never an exception (it would end the bridge reading its commands)."""
    try:
        return from_json(text, default)
    except (ValueError, TypeError, RecursionError):
        return text


class SettingsMixin(StoreBase):
    """Settings, profiles, limits, calibrations, commands and live status."""

    # -- settings ------------------------------------------------------------------------------

    def get_setting(self, key: str, default: Any = None) -> Any:
        """A setting's value (any JSON value), or ``default`` when unset."""
        with self._read("read settings") as db:
            row = db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else from_json(row[0])

    def set_setting(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable setting and commit."""
        with self._write("save a setting") as db:
            db.execute(
                "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
                " updated_at = excluded.updated_at",
                (key, to_json(value), utc_iso()),
            )

    def settings(self) -> dict[str, Any]:
        """All settings as a dict."""
        with self._read("read settings") as db:
            return {k: from_json(v) for k, v in db.execute("SELECT key, value FROM settings")}

    # -- profiles ------------------------------------------------------------------------------

    def ensure_profile(self, name: str) -> int:
        """The id of profile ``name``, creating it if needed.

        Raises:
            UsageError: an empty name.
        """
        with self._write("create a profile") as db:
            return int(self._profile_id(db, name, create=True) or 0)

    def list_profiles(self) -> list[dict[str, Any]]:
        """Profiles as {id, name, created_at, settings}, oldest first."""
        with self._read("read profiles") as db:
            rows = db.execute("SELECT * FROM profiles ORDER BY id").fetchall()
        return [dict(r) | {"settings": from_json(r["settings"], {})} for r in rows]

    def profile_settings(self, name: str) -> dict[str, Any]:
        """One profile's settings; ``{}`` when there is no such profile (it is not created).

        Raises:
            UsageError: an empty name.
        """
        with self._read("read profile settings") as db:
            pid = self._profile_id(db, name, create=False)
            if pid is None:
                return {}
            row = db.execute("SELECT settings FROM profiles WHERE id = ?", (pid,)).fetchone()
        settings: dict[str, Any] = from_json(row[0], {})
        return settings

    def update_profile_settings(self, name: str, settings: dict[str, Any]) -> dict[str, Any]:
        """Merge ``settings`` into a profile's settings (creating the profile) and commit.

        Returns:
            The profile's settings after the merge.
        """
        with self._write("save profile settings") as db:
            pid = self._profile_id(db, name, create=True)
            row = db.execute("SELECT settings FROM profiles WHERE id = ?", (pid,)).fetchone()
            merged: dict[str, Any] = from_json(row[0], {}) | settings
            db.execute("UPDATE profiles SET settings = ? WHERE id = ?", (to_json(merged), pid))
        return merged

    # -- comfort limits --------------------------------------------------------------------------

    def set_limit(  # noqa: PLR0917 - the signature the project brief fixes
        self,
        profile: str,
        region: str,
        limit_n: float,
        source: str,
        tip: str | None = None,
        note: str | None = None,
    ) -> int:
        """Record a new current comfort limit (older ones stay in the history) and commit.

        Args:
            profile: profile name (created if new).
            region: body region slug, with an optional side.
            limit_n: the limit in newtons, > 0.
            source: 'default', 'manual' or 'measured'.
            tip: the tool tip it applies to; None for any tip.
            note: free text (e.g. the measurement's trials).

        Returns:
            The id of the new history row.

        Raises:
            UsageError: a malformed name, limit or source.
        """
        region = check_name(region, "region")
        limit = check_number(limit_n, "comfort limit", positive=True)
        if source not in LIMIT_SOURCES:
            raise UsageError(f"limit source must be one of {', '.join(LIMIT_SOURCES)}")
        with self._write("save a comfort limit") as db:
            pid = self._profile_id(db, profile, create=True)
            cur = db.execute(
                "INSERT INTO limits (profile_id, region, tip, limit_n, source, set_at, note)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (pid, region, tip or "", limit, source, utc_iso(), note),
            )
        log.info("comfort limit %s/%s = %.3g N (%s)", profile, region, limit, source)
        return int(cur.lastrowid or 0)

    def current_limit(
        self, profile: str, region: str, tip: str | None = None
    ) -> dict[str, Any] | None:
        """The current limit for exactly this profile, region and tip, or None.

        Returns:
            {id, profile, region, tip, limit_n, source, set_at, note} or None.
        """
        with self._read("read comfort limits") as db:
            row = db.execute(
                _LIMIT_SELECT + " WHERE p.name = ? AND l.region = ? AND l.tip = ?"
                " ORDER BY l.id DESC LIMIT 1",
                (profile, region, tip or ""),
            ).fetchone()
        return None if row is None else _limit(row)

    def current_limits(self, profile: str | None = None) -> list[dict[str, Any]]:
        """The current limit of every (profile, region, tip), sorted by profile and region."""
        sql = _LIMIT_SELECT + (
            " WHERE l.id IN (SELECT MAX(id) FROM limits GROUP BY profile_id, region, tip)"
        )
        args: tuple[str, ...] = ()
        if profile is not None:
            sql += " AND p.name = ?"
            args = (profile,)
        with self._read("read comfort limits") as db:
            rows = db.execute(sql + " ORDER BY p.name, l.region, l.tip", args).fetchall()
        return [_limit(r) for r in rows]

    def limit_history(
        self, profile: str, region: str | None = None, tip: str | None = None
    ) -> list[dict[str, Any]]:
        """Every limit ever set for a profile (optionally one region and tip), newest first."""
        sql = _LIMIT_SELECT + " WHERE p.name = ?"
        args: list[Any] = [profile]
        if region is not None:
            sql += " AND l.region = ? AND l.tip = ?"
            args += [region, tip or ""]
        with self._read("read comfort limits") as db:
            rows = db.execute(sql + " ORDER BY l.id DESC", args).fetchall()
        return [_limit(r) for r in rows]

    # -- device calibrations -------------------------------------------------------------------

    def save_calibration(
        self,
        device_id: str,
        counts_per_n: float,
        offset_counts: float,
        fit: dict[str, Any] | None = None,
    ) -> int:
        """Record a device calibration (it becomes current) and commit.

        Args:
            device_id: the tool's id from its INFO frame.
            counts_per_n: ADC counts per newton (non-zero).
            offset_counts: counts at zero force.
            fit: how it was obtained (points, residuals, r², method …).

        Returns:
            The id of the new history row.
        """
        device_id = check_name(device_id, "device id")
        scale = check_number(counts_per_n, "counts per newton")
        if scale == 0:
            raise UsageError("counts per newton must not be 0")
        offset = check_number(offset_counts, "offset counts")
        with self._write("save a calibration") as db:
            cur = db.execute(
                "INSERT INTO calibrations (device_id, counts_per_n, offset_counts, created_at, fit)"
                " VALUES (?, ?, ?, ?, ?)",
                (device_id, scale, offset, utc_iso(), to_json(fit or {})),
            )
        return int(cur.lastrowid or 0)

    def current_calibration(self, device_id: str) -> dict[str, Any] | None:
        """The newest calibration of a device as {id, device_id, counts_per_n, offset_counts,
        created_at, fit}, or None."""
        with self._read("read calibrations") as db:
            row = db.execute(
                "SELECT * FROM calibrations WHERE device_id = ? ORDER BY id DESC LIMIT 1",
                (device_id,),
            ).fetchone()
        return None if row is None else _calibration(row)

    def current_calibrations(self) -> list[dict[str, Any]]:
        """The current calibration of every device, by device id."""
        with self._read("read calibrations") as db:
            rows = db.execute(
                "SELECT * FROM calibrations WHERE id IN"
                " (SELECT MAX(id) FROM calibrations GROUP BY device_id) ORDER BY device_id"
            ).fetchall()
        return [_calibration(r) for r in rows]

    def calibration_history(self, device_id: str) -> list[dict[str, Any]]:
        """Every calibration of a device, newest first."""
        with self._read("read calibrations") as db:
            rows = db.execute(
                "SELECT * FROM calibrations WHERE device_id = ? ORDER BY id DESC", (device_id,)
            ).fetchall()
        return [_calibration(r) for r in rows]

    # -- commands (dashboard → bridge) -----------------------------------------------------------

    def post_command(self, kind: str, args: dict[str, Any] | None = None) -> int:
        """Queue a request for the bridge and commit.

        Returns:
            The command id, to follow it with :meth:`get_command`.
        """
        with self._write("send a command") as db:
            cur = db.execute(
                "INSERT INTO commands (created_at, kind, args) VALUES (?, ?, ?)",
                (utc_iso(), check_name(kind, "command"), to_json(args or {})),
            )
        return int(cur.lastrowid or 0)

    def take_commands(self, max_age_s: float | None = 60.0) -> list[dict[str, Any]]:
        """Claim the waiting commands (oldest first), marking them taken, and commit.

        Commands older than ``max_age_s`` are not handed out but finished with an "expired"
        result: a tare or start asked for long ago, when no bridge ran, must not happen now.

        Returns:
            Dicts {id, created_at, kind, args, taken_at, done_at, result}.
        """
        now = utc_iso()
        with self._write("read commands") as db:
            rows = db.execute(
                "SELECT * FROM commands WHERE taken_at IS NULL ORDER BY id"
            ).fetchall()
            fresh: list[sqlite3.Row] = []
            expired: list[sqlite3.Row] = []
            for row in rows:
                age = (datetime.now(UTC) - parse_iso(row["created_at"])).total_seconds()
                (expired if max_age_s is not None and age > max_age_s else fresh).append(row)
            db.executemany(
                "UPDATE commands SET taken_at = ? WHERE id = ?", [(now, r["id"]) for r in fresh]
            )
            result = to_json({"ok": False, "error": "expired: no bridge took it in time"})
            db.executemany(
                "UPDATE commands SET taken_at = ?, done_at = ?, result = ? WHERE id = ?",
                [(now, now, result, r["id"]) for r in expired],
            )
        for row in expired:
            log.warning("command %d (%s) expired unanswered", row["id"], row["kind"])
        return [_command(r) | {"taken_at": now} for r in fresh]

    def finish_command(self, command_id: int, result: dict[str, Any] | None = None) -> None:
        """Record a command's outcome and commit.

        Raises:
            NotFoundError: no such command.
        """
        with self._write("finish a command") as db:
            cur = db.execute(
                "UPDATE commands SET done_at = ?, result = ? WHERE id = ?",
                (utc_iso(), to_json(result or {}), command_id),
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"no command {command_id}")

    def get_command(self, command_id: int) -> dict[str, Any]:
        """One command with its state ({id, created_at, kind, args, taken_at, done_at, result}).

        Raises:
            NotFoundError: no such command.
        """
        with self._read("read commands") as db:
            row = db.execute("SELECT * FROM commands WHERE id = ?", (command_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no command {command_id}")
        return _command(row)

    # -- live status ---------------------------------------------------------------------------

    def set_live(self, session_id: int | None, state: dict[str, Any]) -> None:
        """Publish this recorder's status (connection, battery, measured rate …) and commit.

        Args:
            session_id: the session being recorded, or None when idle.
            state: JSON-ready status; replaces the previous one.
        """
        with self._write("publish live status") as db:
            db.execute(
                "INSERT OR REPLACE INTO live (recorder_host, recorder_pid, session_id,"
                " updated_at, state) VALUES (?, ?, ?, ?, ?)",
                (self._host, self._pid, session_id, utc_iso(), to_json(state)),
            )

    def get_live(self) -> dict[str, Any] | None:
        """The most recently written recorder status, or None.

        "Most recently written" is the row's place in the table, not its time stamp: after the
        host's clock stepped back, a dead bridge's last row carries a later stamp than the
        running bridge's rows for as long as the step.

        Returns:
            {recorder_pid, session_id, updated_at, age_s, state}; the reader judges staleness
            from ``age_s``, which is None when the row's age cannot be known (it is stamped in
            the future: the clock stepped back since it was written). A row of unknown age is
            never fresh; a running bridge replaces it within one update.
        """
        with self._read("read live status") as db:
            # INSERT OR REPLACE gives the replaced row the table's highest rowid.
            row = db.execute("SELECT * FROM live ORDER BY rowid DESC LIMIT 1").fetchone()
        if row is None:
            return None
        age = (datetime.now(UTC) - parse_iso(row["updated_at"])).total_seconds()
        return {
            "recorder_pid": row["recorder_pid"],
            "session_id": row["session_id"],
            "updated_at": row["updated_at"],
            "age_s": None if age < -CLOCK_SLACK_S else age,
            "state": from_json(row["state"], {}),
        }

    def clear_live(self) -> None:
        """Remove this recorder's status (the bridge calls it when it stops) and commit."""
        with self._write("clear live status") as db:
            db.execute(
                "DELETE FROM live WHERE recorder_host = ? AND recorder_pid = ?",
                (self._host, self._pid),
            )
