"""Pressure-pain-threshold measurements in the store: every complete measurement is kept, with all
of its trials, so progress can be judged against the user's own baseline later."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from firmware_bridge.errors import NotFoundError, UsageError
from firmware_bridge.store._base import (
    StoreBase,
    check_name,
    check_number,
    from_json,
    to_json,
    utc_iso,
)

log = logging.getLogger(__name__)

_PPT_SELECT = (
    "SELECT m.*, p.name AS profile FROM ppt_measurements m JOIN profiles p ON p.id = m.profile_id"
)


def _measurement(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out["tip"] = out["tip"] or None  # '' in the table means "any tip"
    out["trials"] = from_json(out["trials"], [])
    return out


def _count(value: object, what: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise UsageError(f"{what} must be a whole number of at least {low}, not {value!r}")
    return value


def _optional(value: float | None, what: str, *, positive: bool = False) -> float | None:
    if value is None:
        return None
    number = check_number(value, what, positive=positive)
    if number < 0:
        raise UsageError(f"{what} must not be negative, not {number:g}")
    return number


def _trials(trials: Sequence[Mapping[str, Any]], attempts: int) -> list[dict[str, Any]]:
    if isinstance(trials, str | bytes) or not all(isinstance(t, Mapping) for t in trials):
        raise UsageError("trials must be a list of trial records")
    if len(trials) != attempts:
        # the history promises every trial made, accepted or not
        raise UsageError(f"{len(trials)} trial records for {attempts} attempts: store every trial")
    return [dict(t) for t in trials]


class PptMixin(StoreBase):
    """Pressure-pain-threshold measurements and the limits accepted from them."""

    def add_ppt(
        self,
        profile: str,
        region: str,
        *,
        ppt_n: float,
        trials: Sequence[Mapping[str, Any]],
        tip: str | None = None,
        tip_area_cm2: float | None = None,
        mean_2_3_n: float | None = None,
        sd_n: float | None = None,
        n: int,
        attempts: int,
        fraction: float,
        note: str | None = None,
    ) -> int:
        """Record a complete PPT measurement and commit.

        Args:
            profile: profile name (created if new).
            region: body region slug, with an optional side.
            ppt_n: the threshold (mean of the accepted trials), N, > 0.
            trials: every trial made, accepted or not, as plain dicts (``accepted``, ``reason``,
                ``ppt_n``, ``ppt_kpa``, ``ramp_kpa_s``, ``duration_s``, ``mark_t``); one per
                attempt.
            tip: the tip key it was measured with; None for any/unknown tip.
            tip_area_cm2: the tip's contact area, when known.
            mean_2_3_n: mean of accepted trials 2 and 3.
            sd_n: sample standard deviation of the accepted trials.
            n: accepted trials (≥ 1).
            attempts: trials made (≥ n).
            fraction: share of the PPT proposed as the comfort limit, in (0, 1].
            note: free text.

        Returns:
            The measurement's id.

        Raises:
            UsageError: a malformed value.
        """
        region = check_name(region, "region")
        tip_key = check_name(tip, "tip") if tip else ""
        ppt = check_number(ppt_n, "pressure-pain threshold", positive=True)
        accepted = _count(n, "accepted trials", 1)
        made = _count(attempts, "attempts", accepted)
        share = check_number(fraction, "fraction", positive=True)
        if share > 1:
            raise UsageError(f"fraction must be at most 1 (limit ≤ threshold), not {share:g}")
        values = (
            _optional(tip_area_cm2, "tip area", positive=True),
            _optional(mean_2_3_n, "mean of trials 2–3", positive=True),
            _optional(sd_n, "standard deviation"),
        )
        records = _trials(trials, made)
        with self._write("save a pain-threshold measurement") as db:
            pid = self._profile_id(db, profile, create=True)
            cur = db.execute(
                "INSERT INTO ppt_measurements (profile_id, region, tip, tip_area_cm2, measured_at,"
                " ppt_n, mean_2_3_n, sd_n, n, attempts, fraction, trials, note)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    pid,
                    region,
                    tip_key,
                    values[0],
                    utc_iso(),
                    ppt,
                    values[1],
                    values[2],
                    accepted,
                    made,
                    share,
                    to_json(records),
                    note,
                ),
            )
        ppt_id = int(cur.lastrowid or 0)
        log.info("PPT %s/%s = %.3g N stored (#%d)", profile, region, ppt, ppt_id)
        return ppt_id

    def link_ppt_limit(self, ppt_id: int, limit_id: int) -> None:
        """Record that the comfort limit ``limit_id`` was accepted from measurement ``ppt_id``.

        Raises:
            NotFoundError: no such measurement or limit.
            UsageError: the limit belongs to another profile or region.
        """
        with self._write("link a limit to its measurement") as db:
            ppt = db.execute(
                "SELECT profile_id, region FROM ppt_measurements WHERE id = ?", (ppt_id,)
            ).fetchone()
            if ppt is None:
                raise NotFoundError(f"no pain-threshold measurement {ppt_id}")
            limit = db.execute(
                "SELECT profile_id, region FROM limits WHERE id = ?", (limit_id,)
            ).fetchone()
            if limit is None:
                raise NotFoundError(f"no comfort limit {limit_id}")
            if tuple(limit) != tuple(ppt):
                raise UsageError(
                    f"comfort limit {limit_id} is for another profile or region than "
                    f"measurement {ppt_id}"
                )
            db.execute("UPDATE ppt_measurements SET limit_id = ? WHERE id = ?", (limit_id, ppt_id))

    def ppt_history(
        self, profile: str, region: str | None = None, tip: str | None = None
    ) -> list[dict[str, Any]]:
        """A profile's PPT measurements, oldest first.

        Args:
            profile: profile name (an unknown profile has no history).
            region: one region (exact string, side included); None for all regions.
            tip: with a region: that tip's measurements (None: those made with no tip named,
                as :meth:`limit_history` does). Ignored without a region.

        Returns:
            Dicts with every column (``tip`` None for "any tip", ``trials`` decoded) and
            ``profile``, the profile's name.
        """
        sql = _PPT_SELECT + " WHERE p.name = ?"
        args: list[Any] = [profile]
        if region is not None:
            sql += " AND m.region = ? AND m.tip = ?"
            args += [region, tip or ""]
        with self._read("read pain-threshold measurements") as db:
            rows = db.execute(sql + " ORDER BY m.id", args).fetchall()
        return [_measurement(r) for r in rows]
